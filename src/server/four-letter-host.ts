// four-letter-host.ts — wires the four-letter words (four-letter.ts formats them) to the live
// server: a FourLetterView built from the tree, the sessions and the connections when a word
// arrives on a fresh connection.
import { resolve } from 'node:path';
import type { Connection } from './connection.js';
import { fileDescriptorCounts, nodeEnvironment } from './four-letter-env.js';
import type { Summary } from './four-letter-mntr.js';
import {
  type ConnectionView,
  type FourLetterView,
  isFourLetterWord,
  runFourLetterWord,
  zookeeperFullVersion,
} from './four-letter.js';
import type { ZkServer } from './zk-server.js';

/** The ZooKeeper version zkts speaks, as tools read it (kazoo gates features on it). */
export const ZOOKEEPER_COMPAT_VERSION = '3.9.3';

export interface FourLetterOptions {
  whitelist: ReadonlySet<string> | '*';
  dataDir: string;
  dataLogDir: string;
  zktsVersion: string;
}

function summary(count: number, sum: number, min: number, max: number): Summary {
  return { count, sum, min: count === 0 ? 0 : min, max };
}

let traceMask = 306n;

function connectionView(c: Connection, asking: Connection): ConnectionView {
  return {
    remoteAddress: c.closed ? undefined : c.remoteAddress,
    remotePort: c.remotePort,
    readInterest: c !== asking && !c.closing && !c.readPaused,
    writeInterest: false,
    outstandingRequests: c.outstanding,
    packetsReceived: c.packetsReceived,
    packetsSent: c.packetsSent,
    sessionId: c.connected ? c.sessionId : 0n,
    lastOperation: c.lastOp,
    establishedMs: c.established,
    sessionTimeoutMs: c.session?.timeoutMs ?? 0,
    lastCxid: c.lastCxid,
    lastZxid: c.lastZxid,
    lastResponseMs: c.lastResponseTime,
    lastLatencyMs: Math.round(c.lastLatencyMs),
    latencyMs: summary(c.latencyCount, Math.round(c.totalLatencyMs), Math.round(c.minLatencyMs), Math.round(c.maxLatencyMs)),
    expiresAtMs: Date.now() + (c.session?.timeoutMs ?? 0),
  };
}

export function fourLetterView(server: ZkServer, asking: Connection, opts: FourLetterOptions): FourLetterView {
  const tree = server.tree;
  const st = server.stats;
  const version = zookeeperFullVersion(ZOOKEEPER_COMPAT_VERSION, `zkts-${opts.zktsVersion}`, new Date(server.startedAt));
  const snapDir = resolve(opts.dataDir, 'version-2');
  const logDir = resolve(opts.dataLogDir, 'version-2');
  const watchTable = (table: typeof tree.dataWatches) =>
    [...table.watchers()].map((w) => ({ sessionId: (w as Connection).sessionId, paths: [...table.pathsOf(w)] }));
  return {
    version,
    serving: () => server.serving,
    readOnly: () => server.readOnly,
    stats: () => ({
      latencyMs: summary(st.latencyCount, Math.round(st.totalLatencyMs), Math.round(st.minLatency), Math.round(st.maxLatencyMs)),
      packetsReceived: st.packetsReceived,
      packetsSent: st.packetsSent,
      aliveConnections: server.connections.size,
      outstandingRequests: [...server.connections].reduce((n, c) => n + c.outstanding, 0),
      lastProcessedZxid: tree.lastProcessedZxid,
      serverState: server.serverState,
      nodeCount: tree.nodeCount + 1, // ZooKeeper counts the root twice ("" and "/")
    }),
    monitor: () => {
      const fds = fileDescriptorCounts();
      let ephemerals = 0;
      for (const s of tree.ephemerals.values()) ephemerals += s.size;
      return {
        ephemeralsCount: ephemerals,
        watchCount: tree.dataWatches.size + tree.childWatches.size,
        approximateDataSize: tree.approximateDataSize(),
        globalSessions: server.sessions.size,
        localSessions: 0,
        uptimeMs: Date.now() - server.startedAt,
        openFileDescriptorCount: fds.open,
        maxFileDescriptorCount: fds.max,
        connectionDropProbability: 0,
        clientResponseBytes: { last: st.lastResponseBytes, min: st.minResponseBytes, max: st.maxResponseBytes },
        outstandingTlsHandshakes: 0,
        authFailedCount: st.metrics.authFailedCount,
        nonMtlsRemoteConnCount: 0,
        nonMtlsLocalConnCount: 0,
        percentileSummaries: { ...st.metrics.percentileSummaryViews(), readlatency: st.readLatency.view(), updatelatency: st.updateLatency.view() },
        summaries: st.metrics.summaryViews(),
        counters: st.metrics.counterViews(),
        ...(server.learner === null ? {} : { peerState: server.learner.peerState, quorumSize: server.learner.quorumSize }),
      };
    },
    connections: () => [...server.connections].map((c) => connectionView(c, asking)),
    sessions: () =>
      [...server.sessions.sessions.values()].map((s) => ({
        sessionId: s.sessionId,
        expiresAtMs: Date.now() + Math.max(0, s.expiresAt - performance.now()),
      })),
    digestLog: () => (tree.digestEnabled ? tree.digestLog : []),
    ephemerals: () => [...tree.ephemerals].map(([sessionId, paths]) => ({ sessionId, paths: [...paths] })),
    dataWatches: () => watchTable(tree.dataWatches),
    config: () => ({
      clientPort: server.opts.port,
      secureClientPort: -1,
      snapDir,
      txnLogDir: logDir,
      tickTimeMs: server.opts.tickTime,
      maxClientCnxns: server.opts.maxClientCnxns,
      minSessionTimeoutMs: server.opts.minSessionTimeout,
      maxSessionTimeoutMs: server.opts.maxSessionTimeout,
      clientPortListenBacklog: -1,
      serverId: 0,
    }),
    dirSizes: () => ({ snapDirBytes: 0, txnLogDirBytes: 0 }),
    environment: () => nodeEnvironment(version),
    traceMask: () => traceMask,
    setTraceMask: (m) => {
      traceMask = m;
    },
    resetServerStats: () => st.reset(),
    resetConnectionStats: () => {
      for (const c of server.connections) c.resetStats();
    },
  };
}

/** The server's four-letter-word hook: null when the first 4 bytes are a frame length. */
export function fourLetterWordHandler(opts: FourLetterOptions) {
  return (server: ZkServer, conn: Connection, word: number, extra?: Uint8Array): string | null => {
    const cmd = isFourLetterWord(word);
    if (cmd === null) return null;
    return runFourLetterWord(cmd, fourLetterView(server, conn, opts), opts.whitelist, extra);
  };
}
