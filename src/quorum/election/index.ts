// index.ts — ZooKeeper's leader election for a zkts ensemble member: the election port
// (QuorumCnxManager, cnx-manager.ts) driven by the pure FastLeaderElection (fast-leader-election.ts).
//
//   const election = new ElectionService({ myId: 4, electionAddress: { host: '127.0.0.1', port: 3888 },
//     peers, learnerType: 'observer', log });
//   await election.start();                                   // listen; answer peers from now on
//   for (;;) {
//     const r = await election.lookForLeader({ lastZxid, currentEpoch }, signal);
//     // connect to r.leader.host:r.leader.quorumPort, sync, observe ...
//     election.setPeerState('OBSERVING');                     // (already so after lookForLeader)
//     // ... the leader is lost:
//     election.setPeerState('LOOKING');                       // then lookForLeader again
//   }
//   await election.stop();
//
// - start(): binds the election port. From then on the service answers every notification as
//   ZooKeeper does, also between elections: a LOOKING voter gets our current vote, a non-voter
//   always gets it. Keep it running for the whole life of the server.
// - lookForLeader(): one election round (ZooKeeper's QuorumPeer calls it whenever it is LOOKING).
//   Resolves with the leader once decided; our state is then OBSERVING (observer), FOLLOWING or
//   LEADING. A running ensemble is joined in about one round trip (§1.4 of ZAB.md); a fresh
//   election takes at least finalizeWait (200 ms). Rejects with the signal's reason if aborted.
//   One at a time.
// - setPeerState(): QuorumPeer.setPeerState, e.g. 'LOOKING' as soon as the learner loses its
//   leader (notifications that arrive before the next lookForLeader are queued for it; ZooKeeper's
//   observer also waits a random 0..zookeeper.observer.election.DelayMs (200 ms) before it looks).
// - updateElectionVote(newEpoch): Learner's call once synced (NEWLEADER) at a new epoch; the
//   peerEpoch we answer with.
// - stop(): closes the election port and every connection.

import { decodeNotification, encodeNotification, type HostPort, type ServerState } from './codec.js';
import { QuorumCnxManager, type LogLevel } from './cnx-manager.js';
import { formatConfigText, type QuorumConfig, type QuorumServer } from './config.js';
import { FastLeaderElection, type ElectionOutput, type LearnerType, type Vote } from './fast-leader-election.js';

export * from './codec.js';
export * from './config.js';
export { FastLeaderElection, votesEqual, type ElectionOutput, type LearnerType, type Vote } from './fast-leader-election.js';
export { QuorumCnxManager, type CnxManagerOptions, type LogLevel } from './cnx-manager.js';

export interface ElectionPeer {
  id: number;
  host: string;
  electionPort: number;
  quorumPort: number;
  type: 'participant' | 'observer';
}

export interface ElectionServiceOptions {
  myId: number;
  /** Our election address (port 0: a free port, see electionAddress after start). */
  electionAddress: HostPort;
  /** Every server.N of the config (ourselves included when we are listed). */
  peers: ReadonlyArray<ElectionPeer>;
  learnerType: LearnerType;
  log: (level: LogLevel, msg: string) => void;
  /** The config version we know (default 0; the hex `version=` of a dynamic config). */
  configVersion?: bigint;
  finalizeWaitMs?: number;
  maxNotificationIntervalMs?: number;
}

export interface ElectionResult {
  leaderId: number;
  electionEpoch: bigint;
  /** The leader's epoch as voted (a running ensemble: its current epoch). */
  peerEpoch: bigint;
  zxid: bigint;
  /** Our state now: OBSERVING, FOLLOWING or LEADING. */
  state: ServerState;
  /** The config text the leader sent during this election, null if it sent none. */
  configText: string | null;
  /** The leader's server.N line in our (possibly updated) config: connect to host:quorumPort. */
  leader: QuorumServer | null;
}

export class ElectionService {
  private readonly opts: ElectionServiceOptions;
  private readonly fle: FastLeaderElection;
  private readonly cnx: QuorumCnxManager;
  private timer: NodeJS.Timeout | null = null;
  private waiter: { resolve: (r: ElectionResult) => void; reject: (e: unknown) => void } | null = null;
  private started = false;
  private stopped = false;

  constructor(opts: ElectionServiceOptions) {
    this.opts = opts;
    const config: QuorumConfig = {
      servers: opts.peers.map((p) => ({
        id: p.id,
        host: p.host,
        quorumPort: p.quorumPort,
        electionPort: p.electionPort,
        addresses: [{ host: p.host, quorumPort: p.quorumPort, electionPort: p.electionPort }],
        type: p.type,
      })),
      version: opts.configVersion ?? 0n,
    };
    this.fle = new FastLeaderElection({
      myId: opts.myId,
      config,
      learnerType: opts.learnerType,
      finalizeWaitMs: opts.finalizeWaitMs,
      maxNotificationIntervalMs: opts.maxNotificationIntervalMs,
    });
    this.cnx = new QuorumCnxManager({
      myId: opts.myId,
      listen: opts.electionAddress,
      addressesOf: (sid) => {
        const s = this.fle.quorumConfig.servers.find((x) => x.id === sid);
        return s?.addresses.map((a) => ({ host: a.host, port: a.electionPort }));
      },
      onMessage: (sid, payload) => this.onMessage(sid, payload),
      log: opts.log,
    });
  }

  /** The bound election address. */
  get electionAddress(): HostPort {
    return this.cnx.address;
  }

  get state(): ServerState {
    return this.fle.state;
  }

  get currentVote(): Vote | null {
    return this.fle.currentVote;
  }

  /** The config we elect with (updated when a LOOKING server sees a newer version). */
  get configText(): string {
    return formatConfigText(this.fle.quorumConfig);
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('ElectionService already started');
    this.started = true;
    await this.cnx.start();
  }

  lookForLeader(state: { lastZxid: bigint; currentEpoch: bigint }, signal?: AbortSignal): Promise<ElectionResult> {
    if (!this.started || this.stopped) return Promise.reject(new Error('ElectionService is not running'));
    if (this.waiter) return Promise.reject(new Error('lookForLeader is already running'));
    signal?.throwIfAborted();
    const p = new Promise<ElectionResult>((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
    if (signal) {
      const onAbort = (): void => this.finish(null, signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      void p.then(
        () => signal.removeEventListener('abort', onAbort),
        () => signal.removeEventListener('abort', onAbort),
      );
    }
    this.opts.log('info', `new election: my id ${this.opts.myId} (${this.opts.learnerType}), lastZxid 0x${state.lastZxid.toString(16)}, epoch ${state.currentEpoch}`);
    this.apply(this.fle.lookForLeader(state));
    return p;
  }

  setPeerState(state: ServerState): void {
    this.fle.setPeerState(state);
  }

  updateElectionVote(newEpoch: bigint): void {
    this.fle.updateElectionVote(newEpoch);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.finish(null, new Error('ElectionService stopped'));
    await this.cnx.stop();
  }

  private finish(result: ElectionResult | null, error?: unknown): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    if (result) return w.resolve(result);
    this.apply(this.fle.cancel());
    w.reject(error);
  }

  private onMessage(sid: number, payload: Buffer): void {
    let n;
    try {
      n = decodeNotification(payload);
    } catch (e) {
      this.opts.log('warn', `election message from sid ${sid} skipped: ${(e as Error).message}`);
      return;
    }
    this.apply(this.fle.receive(sid, n));
  }

  private apply(outputs: ElectionOutput[]): void {
    for (const o of outputs) {
      switch (o.type) {
        case 'send':
          this.cnx.toSend(o.to, encodeNotification(o.notification));
          break;
        case 'connectAll':
          this.cnx.connectAll();
          break;
        case 'timer':
          if (this.timer) clearTimeout(this.timer);
          this.timer = null;
          if (o.ms !== null && !this.stopped) {
            this.timer = setTimeout(() => {
              this.timer = null;
              this.apply(this.fle.timeout(this.cnx.haveDelivered()));
            }, o.ms);
          }
          break;
        case 'config':
          this.opts.log('info', `adopted a newer config (version 0x${o.config.version.toString(16)}) from a notification; election restarted`);
          break;
        case 'ignored':
          this.opts.log('debug', `notification from sid ${o.from} ignored: ${o.why}`);
          break;
        case 'decided': {
          const leaderId = Number(o.vote.leader);
          this.opts.log('info', `election decided: leader ${leaderId}, electionEpoch ${o.vote.electionEpoch}, peerEpoch ${o.vote.peerEpoch}; ${o.state}`);
          this.finish({
            leaderId,
            electionEpoch: o.vote.electionEpoch,
            peerEpoch: o.vote.peerEpoch,
            zxid: o.vote.zxid,
            state: o.state,
            configText: o.configText,
            leader: this.fle.quorumConfig.servers.find((s) => s.id === leaderId) ?? null,
          });
          break;
        }
      }
    }
  }
}
