// command-data.ts — the values of the AdminServer's JSON answers, built from the same
// FourLetterView the four-letter words print, with ZooKeeper's keys, key order and Java types
// (ServerCnxn.getConnectionInfo, ServerStats as Jackson writes the bean, the mntr dump, ...).
import { readdir, stat } from 'node:fs/promises';
import { sep, delimiter } from 'node:path';
import { EOL } from 'node:os';
import { formatJavaHex, formatJavaSocketAddress } from '../server/four-letter-format.js';
import { summaryAverage } from '../server/four-letter-mntr.js';
import { runFourLetterWord, watchSummaryCounts, type ConnectionView, type FourLetterView } from '../server/four-letter.js';
import type { SessionTracker } from '../server/session-tracker.js';
import { JsonNumber, javaDouble, type Json } from './json.js';

/**
 * Jackson's InetSocketAddress: "127.0.0.1:5000", "[0:0:0:0:0:0:0:1]:5000" (Java's spelling,
 * IPv4-mapped addresses as IPv4), null once the socket is closed.
 */
export function jsonSocketAddress(address: string | undefined, port: number): string | null {
  const text = formatJavaSocketAddress(address, port);
  return text === 'null' ? null : text.replace(/^\//, '');
}

/** ServerCnxn.getConnectionInfo(brief): stat lists the brief form, cons the full one. */
export function connectionInfo(c: ConnectionView, brief: boolean): Map<string, Json> {
  const info = new Map<string, Json>([
    ['remote_socket_address', jsonSocketAddress(c.remoteAddress, c.remotePort)],
    ['interest_ops', (c.readInterest ? 1 : 0) | (c.writeInterest ? 4 : 0)],
    ['outstanding_requests', c.outstandingRequests],
    ['packets_received', c.packetsReceived],
    ['packets_sent', c.packetsSent],
  ]);
  if (brief) return info;
  const lat = c.latencyMs;
  const empty = lat.count <= 0;
  info.set('session_id', c.sessionId);
  info.set('last_operation', c.lastOperation);
  info.set('established', Math.trunc(c.establishedMs)); // a java.util.Date: epoch ms
  info.set('session_timeout', c.sessionTimeoutMs);
  info.set('last_cxid', c.lastCxid);
  info.set('last_zxid', c.lastZxid);
  info.set('last_response_time', Math.trunc(c.lastResponseMs));
  info.set('last_latency', Math.trunc(c.lastLatencyMs));
  info.set('min_latency', empty ? 0 : Math.trunc(lat.min));
  info.set('avg_latency', empty ? 0 : Math.trunc(lat.sum / lat.count)); // long division, as ZooKeeper
  info.set('max_latency', empty ? 0 : Math.trunc(lat.max));
  return info;
}

/** srvr/stat's "server_stats" (the ServerStats bean) and "client_response". */
export function serverStats(view: FourLetterView): { serverStats: Json; clientResponse: Json } {
  const s = view.stats();
  const m = view.monitor();
  const d = view.dirSizes();
  const lat = s.latencyMs;
  const empty = lat.count <= 0;
  const clientResponse = {
    last_buffer_size: m.clientResponseBytes.last,
    min_buffer_size: m.clientResponseBytes.min,
    max_buffer_size: m.clientResponseBytes.max,
  };
  const serverStats = {
    packets_sent: s.packetsSent,
    packets_received: s.packetsReceived,
    fsync_threshold_exceed_count: 0,
    client_response_stats: clientResponse,
    // ZooKeeper 3.8 reports the txn-log directory as its data dir, as conf and dirs do
    data_dir_size: d.txnLogDirBytes,
    log_dir_size: d.snapDirBytes,
    provider_null: false,
    server_state: s.serverState,
    last_processed_zxid: s.lastProcessedZxid,
    outstanding_requests: s.outstandingRequests,
    avg_latency: javaDouble(summaryAverage(lat)),
    max_latency: empty ? 0 : Math.trunc(lat.max),
    min_latency: empty ? 0 : Math.trunc(lat.min),
    num_alive_client_connections: s.aliveConnections,
    uptime: Math.floor(m.uptimeMs),
    auth_failed_count: m.authFailedCount,
    non_mtlsremote_conn_count: m.nonMtlsRemoteConnCount,
    non_mtlslocal_conn_count: m.nonMtlsLocalConnCount,
  };
  return { serverStats, clientResponse };
}

const MNTR_STRINGS = new Set(['version', 'server_state']);

/**
 * The monitor command's entries: the mntr word's lines ("zk_<key>\t<value>") as key → value, in
 * the same order, as ZooKeeper fills both from the same dump. Numbers keep mntr's text, so longs
 * stay longs and doubles keep their fraction.
 */
export function monitorValues(view: FourLetterView): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const line of runFourLetterWord('mntr', view, '*').split('\n')) {
    const tab = line.indexOf('\t');
    if (!line.startsWith('zk_') || tab < 0) continue;
    const key = line.slice(3, tab);
    const value = line.slice(tab + 1);
    const numeric = /^-?\d+(\.\d+)?(E-?\d+)?$/.test(value);
    out.set(key, MNTR_STRINGS.has(key) || !numeric ? value : new JsonNumber(value));
  }
  return out;
}

/** dump: sessions by expiry bucket (ZooKeeper's elapsed-time clock, here the tracker's), ephemerals by session. */
export function dumpValues(view: FourLetterView, sessions: SessionTracker): Map<string, Json> {
  const byTime = new Map<string, bigint[]>();
  for (const s of sessions.sessions.values()) {
    const key = String(Math.trunc(s.expiresAt));
    const ids = byTime.get(key);
    if (ids === undefined) byTime.set(key, [s.sessionId]);
    else ids.push(s.sessionId);
  }
  const ephemerals = new Map<string, Json>();
  for (const e of view.ephemerals()) ephemerals.set(String(e.sessionId), [...e.paths]);
  return new Map<string, Json>([
    ['expiry_time_to_session_ids', byTime],
    ['session_id_to_ephemeral_paths', ephemerals],
  ]);
}

/** wchc: paths watched per session (data watches, as ZooKeeper's getWatches). */
export function watchesBySession(view: FourLetterView): Map<string, Json> {
  const out = new Map<string, string[]>();
  for (const w of view.dataWatches()) {
    const key = String(w.sessionId);
    const paths = out.get(key) ?? [];
    for (const p of w.paths) if (!paths.includes(p)) paths.push(p);
    out.set(key, paths);
  }
  return out;
}

/** wchp: sessions watching each path. */
export function watchesByPath(view: FourLetterView): Map<string, Json> {
  const out = new Map<string, bigint[]>();
  for (const w of view.dataWatches()) {
    for (const p of w.paths) {
      const ids = out.get(p) ?? [];
      if (!ids.includes(w.sessionId)) ids.push(w.sessionId);
      out.set(p, ids);
    }
  }
  return out;
}

/** wchs: WatchesSummary.toMap. */
export function watchSummary(view: FourLetterView): Map<string, Json> {
  const s = watchSummaryCounts(view);
  return new Map<string, Json>([
    ['num_connections', s.connections],
    ['num_paths', s.paths],
    ['num_total_watches', s.total],
  ]);
}

/** envi's entries that are Java system properties; the rest (host.name, os.memory.*) are not. */
const ENVIRONMENT_PROPERTIES = new Set([
  'java.version', 'java.vendor', 'java.home', 'java.class.path', 'java.library.path', 'java.io.tmpdir',
  'os.name', 'os.arch', 'os.version', 'user.name', 'user.home', 'user.dir',
]);

/**
 * system_properties: what a JVM running ZooKeeper would hold, sorted by name: the standard
 * properties with this process's values (as envi reports them), then zoo.cfg's zookeeper.* keys
 * and -D properties (ServerConfig.properties).
 */
export function systemProperties(view: FourLetterView, configProperties: ReadonlyMap<string, string>): Map<string, Json> {
  const props = new Map<string, string>([
    ['file.encoding', 'UTF-8'],
    ['file.separator', sep],
    ['line.separator', EOL],
    ['path.separator', delimiter],
  ]);
  for (const [key, value] of view.environment()) if (ENVIRONMENT_PROPERTIES.has(key)) props.set(key, value);
  for (const [key, value] of configProperties) props.set(key, value);
  const sorted = [...props.keys()].sort();
  return new Map<string, Json>(sorted.map((k) => [k, props.get(k) ?? '']));
}

/**
 * last_snapshot: the newest snapshot.<zxid> in the snapshot directory, as ZooKeeper's
 * SnapshotInfo (zxid in hex without 0x, file time in seconds); "ffffffffffffffff" and -1 when
 * there is none.
 */
export async function lastSnapshot(snapDir: string): Promise<Map<string, Json>> {
  let best: { zxid: bigint; name: string } | null = null;
  try {
    for (const name of await readdir(snapDir)) {
      const m = /^snapshot\.([0-9a-fA-F]{1,16})$/.exec(name);
      if (m === null) continue;
      const zxid = BigInt(`0x${m[1]}`);
      if (best === null || zxid > best.zxid) best = { zxid, name };
    }
  } catch {
    // no snapshot directory yet
  }
  let timestamp = -1;
  if (best !== null) {
    try {
      timestamp = Math.floor((await stat(`${snapDir}${sep}${best.name}`)).mtimeMs / 1000);
    } catch {
      best = null;
    }
  }
  return new Map<string, Json>([
    ['zxid', formatJavaHex(best?.zxid ?? -1n)],
    ['timestamp', best === null ? -1 : timestamp],
  ]);
}
