// observer-node.ts — an observer from its zoo.cfg: the election port (ElectionService, started for
// the whole life of the server, as ZooKeeper's QuorumCnxManager listener) and the observer peer
// that elects, syncs with the leader and feeds the client-facing server.
import type { ServerConfig } from '../server/config.js';
import type { ZkServer } from '../server/zk-server.js';
import { ElectionService } from './election/index.js';
import { ObserverPeer, type TruncatableStorage, type TxnLogSink } from './observer-peer.js';

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface RunningObserver {
  readonly peer: ObserverPeer;
  readonly election: ElectionService;
  stop(): Promise<void>;
}

/**
 * Starts observing the ensemble of `cfg` (an observer's config: distributed, peerType observer).
 * `data` logs the txns it applies (unless syncEnabled=false) and is truncated on TRUNC.
 */
export async function startObserver(
  cfg: ServerConfig,
  server: ZkServer,
  data: TxnLogSink & TruncatableStorage & { snapshotsDone(): Promise<void> },
  log: Log,
): Promise<RunningObserver> {
  const me = cfg.servers.find((s) => s.id === cfg.myid);
  if (!cfg.distributed || cfg.peerType !== 'observer' || me === undefined) {
    throw new Error(`startObserver: server.${cfg.myid} is not an observer of an ensemble`);
  }
  // A sync snapshots the tree (one frozen view of it at a time): the data directory's startup
  // snapshot, written while a standalone server already serves, is finished first.
  await data.snapshotsDone();
  const election = new ElectionService({
    myId: me.id,
    electionAddress: { host: cfg.quorumListenOnAllIPs ? '0.0.0.0' : me.host, port: me.electionPort },
    peers: cfg.servers.map((s) => ({ id: s.id, host: s.host, electionPort: s.electionPort, quorumPort: s.quorumPort, type: s.type })),
    learnerType: 'observer',
    configVersion: cfg.quorumVersion ?? 0n,
    log: (level, msg) => {
      if (level !== 'debug') log(level, `election: ${msg}`);
    },
  });
  await election.start();
  const peer = new ObserverPeer({
    myid: me.id,
    servers: cfg.servers,
    tickTime: cfg.tickTime,
    initLimit: cfg.initLimit,
    syncLimit: cfg.syncLimit,
    dataDir: cfg.dataDir,
    server,
    election,
    txnLog: cfg.syncEnabled ? data : null,
    storage: data,
    configVersion: cfg.quorumVersion ?? 0n,
    readOnlyMode: cfg.readOnlyModeEnabled,
    log,
  });
  peer.start();
  return {
    peer,
    election,
    async stop() {
      await peer.stop();
      await election.stop();
    },
  };
}
