// four-letter.ts — ZooKeeper's four-letter words on the client port (ruok, srvr, stat, mntr, ...),
// answered byte for byte as a ZooKeeper 3.8 standalone server answers them, because operators'
// scripts and monitoring tools parse these answers (zkServer.sh greps "Mode:", kazoo reads
// "zookeeper.version=" from envi, exporters read mntr).
//
// Pure formatting: the server hands in a FourLetterView (plain data read from its state) and gets
// back the text to write; the connection is then closed. Only a connection's first 4 bytes can be
// a word: ZooKeeper reads them as the frame length of the ConnectRequest and, when they spell a
// known word, answers it instead (isFourLetterWord). After the handshake they are a length again.

import { OpCode } from '../protocol/opcodes.js';
import {
  formatJavaDate, formatJavaDouble, formatJavaHex, formatJavaLong as long, formatJavaSocketAddress,
} from './four-letter-format.js';
import { formatMonitor, summaryAverage, type MonitorView, type Summary } from './four-letter-mntr.js';

export type { MonitorView, PercentileSummary, QuotaView, Summary } from './four-letter-mntr.js';
export { MNTR_COUNTERS, MNTR_PERCENTILE_SUMMARIES, MNTR_SUMMARIES } from './four-letter-mntr.js';

/** The words ZooKeeper 3.8 knows (FourLetterCommands), besides the telnet close sequence. */
export const FOUR_LETTER_WORDS: ReadonlySet<string> = new Set([
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'ruok', 'stmk', 'srst', 'srvr', 'stat',
  'wchc', 'wchp', 'wchs', 'mntr', 'isro', 'hash',
]);

/**
 * ff f4 ff fd (IAC IP, IAC DO), which telnet sends when it is interrupted or closes. ZooKeeper
 * knows it as the command "telnet close": when whitelisted it answers nothing and closes;
 * otherwise it answers the not-whitelisted line like any other word.
 */
export const TELNET_CLOSE = 'telnet close';
const TELNET_CLOSE_WORD = 0xfff4fffd | 0;

/** Bytes that follow `stmk` on the wire: the new trace mask, a big-endian int64. */
export const STMK_ARG_BYTES = 8;

/** ZooKeeper's answer when the server is not serving (e.g. an ensemble member electing a leader). */
export const ZK_NOT_SERVING = 'This ZooKeeper instance is not currently serving requests';

/**
 * The 4 first bytes of a connection, read as the big-endian int32 frame length (signed or
 * unsigned), → the word they spell if ZooKeeper knows it, else null (then it is a frame length).
 */
export function isFourLetterWord(lengthWord: number): string | null {
  const word = lengthWord | 0;
  if (word === TELNET_CLOSE_WORD) return TELNET_CLOSE;
  const text = String.fromCharCode((word >>> 24) & 0xff, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff);
  return FOUR_LETTER_WORDS.has(text) ? text : null;
}

/**
 * The enabled words from `4lw.commands.whitelist` (zoo.cfg key, or the
 * zookeeper.4lw.commands.whitelist property): comma-separated names, `*` for all. As in
 * ZooKeeper, `srvr` is always enabled (zkServer.sh needs it), and `isro` when read-only mode is
 * enabled (clients probe with it). Unset means only those.
 */
export function parseFourLetterWhitelist(
  value: string | undefined,
  options: { readOnlyModeEnabled?: boolean } = {},
): ReadonlySet<string> {
  const enabled = new Set<string>();
  for (const raw of (value ?? '').split(',')) {
    const name = raw.trim();
    if (name === '*') {
      for (const w of FOUR_LETTER_WORDS) enabled.add(w);
      enabled.add(TELNET_CLOSE);
      break;
    }
    if (name !== '') enabled.add(name);
  }
  if (options.readOnlyModeEnabled === true) enabled.add('isro');
  enabled.add('srvr');
  return enabled;
}

/** Server-wide statistics shared by srvr, stat and mntr (ZooKeeper's ServerStats). */
export interface ServerStatsView {
  /** Request latency in ms (request arrival → reply), since start or srst. */
  readonly latencyMs: Summary;
  /**
   * Frames received from / sent to clients since start or srst, ConnectRequest/Response and watch
   * notifications included; a four-letter word counts 1 in, its answer 1 out per 8192 characters.
   */
  readonly packetsReceived: number;
  readonly packetsSent: number;
  /** Open client connections, including the one asking. */
  readonly aliveConnections: number;
  /** Requests received and not yet answered, all connections. */
  readonly outstandingRequests: number;
  /** zxid of the last txn applied to the tree. */
  readonly lastProcessedZxid: bigint;
  /** "standalone", "leader", "follower", "observer" or "read-only". */
  readonly serverState: string;
  /** znodes as ZooKeeper counts them: the root twice ("" and "/"), so 5 on a fresh server. */
  readonly nodeCount: number;
  /** Leader only: sizes in bytes of the last/smallest/largest proposal (-1 when none). */
  readonly proposalSizes?: { readonly last: number; readonly min: number; readonly max: number };
}

/** One client connection, as cons/stat/dump print it (ZooKeeper's ServerCnxn). */
export interface ConnectionView {
  /** Peer address as Node gives it (socket.remoteAddress); undefined once closed. */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number;
  /**
   * ZooKeeper's selector interest, printed as "[1]", "[5]"...: readInterest while the server reads
   * requests from this socket (false while throttled or closing), writeInterest while replies are
   * queued for it. Both false for the connection asking the word.
   */
  readonly readInterest: boolean;
  readonly writeInterest: boolean;
  /** Requests from this connection not yet answered. */
  readonly outstandingRequests: number;
  /** Packets in/out on this connection since it opened or crst (the asking one: 1 in, 0 out). */
  readonly packetsReceived: number;
  readonly packetsSent: number;
  /** The connection's session; 0n before the session is established (cons then prints less). */
  readonly sessionId: bigint;
  /** Abbreviation of the last request answered ("GETD", "PING", ... see lastOperationName); "NA" after crst. */
  readonly lastOperation: string;
  /** Wall-clock epoch ms when the connection was accepted. */
  readonly establishedMs: number;
  /** The negotiated session timeout in ms. */
  readonly sessionTimeoutMs: number;
  /** cxid of the last request answered with cxid ≥ 0; -1 if none since open or crst (not printed). */
  readonly lastCxid: number;
  /** The tree's last processed zxid when the last reply was sent; -1n after crst. */
  readonly lastZxid: bigint;
  /** Monotonic ms (the server's clock, as ZooKeeper's Time.currentElapsedTime) of the last reply; 0 after crst. */
  readonly lastResponseMs: number;
  /** Latency in ms of the last request answered; 0 after crst. */
  readonly lastLatencyMs: number;
  /** Latencies in ms of the requests answered since open or crst (cons prints the avg truncated). */
  readonly latencyMs: Summary;
  /** Wall-clock epoch ms at which the connection's idle-expiry bucket ends (dump's "Connections"). */
  readonly expiresAtMs: number;
}

/** A session in the session tracker's expiry queue. */
export interface SessionExpiryView {
  readonly sessionId: bigint;
  /** Wall-clock epoch ms of the tick bucket in which the session expires unless it is touched. */
  readonly expiresAtMs: number;
}

/** Paths per session or per watching connection. */
export interface SessionPathsView {
  readonly sessionId: bigint;
  readonly paths: readonly string[];
}

/** The settings conf prints (standalone ZooKeeperServer.dumpConf). */
export interface ConfView {
  readonly clientPort: number;
  /** -1 when no secureClientPort. */
  readonly secureClientPort: number;
  /** Absolute path of the snapshot directory, version-2 included (dataDir + "/version-2"). */
  readonly snapDir: string;
  /** Absolute path of the txn-log directory, version-2 included (dataLogDir, or dataDir, + "/version-2"). */
  readonly txnLogDir: string;
  readonly tickTimeMs: number;
  /** maxClientCnxns: connections allowed per client address (0 = unlimited). */
  readonly maxClientCnxns: number;
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  /** clientPortListenBacklog; -1 when unset. */
  readonly clientPortListenBacklog: number;
  /** myid; 0 for a standalone server. */
  readonly serverId: number;
}

/** Sizes of the data directories, in bytes, counting every file below them. */
export interface DirSizesView {
  readonly snapDirBytes: number;
  readonly txnLogDirBytes: number;
}

/**
 * Everything the words print, read from the server's state when a word arrives. Methods, so that
 * only what a word needs is computed; each returns plain data.
 */
export interface FourLetterView {
  /**
   * ZooKeeper's full version string (Version.getFullVersion), printed by srvr, stat, mntr
   * (zk_version) and envi (zookeeper.version): "<x.y.z>-<revision>, built on <yyyy-MM-dd HH:mm> UTC".
   * Tools read the leading x.y.z (kazoo gates features on it): see zookeeperFullVersion().
   */
  readonly version: string;
  /** False while the server cannot serve requests; most words then answer ZK_NOT_SERVING. */
  serving(): boolean;
  /** True for a read-only server (srvr/stat say so, isro answers "ro"). */
  readOnly(): boolean;
  stats(): ServerStatsView;
  monitor(): MonitorView;
  /** Every client connection, the asking one included, in the order to print. */
  connections(): readonly ConnectionView[];
  /** Every live session; dump groups them by expiresAtMs. */
  sessions(): readonly SessionExpiryView[];
  /** Sessions owning ephemeral znodes, with their paths, in the order to print. */
  ephemerals(): readonly SessionPathsView[];
  /**
   * The data-watch table (getData/exists watches and persistent watches; child watches are not
   * listed, as in ZooKeeper): one entry per watching connection, with its session id.
   */
  dataWatches(): readonly SessionPathsView[];
  config(): ConfView;
  dirSizes(): DirSizesView;
  /** envi's key=value lines after "Environment:", in order (see nodeEnvironment()). */
  environment(): ReadonlyArray<readonly [key: string, value: string]>;
  /** ZooTrace's text trace mask (gtmk); ZooKeeper's default is 306. */
  traceMask(): bigint;
  /** stmk: set the trace mask. */
  setTraceMask(mask: bigint): void;
  /** srst: zero request latency, packet counts, client response sizes and every mntr counter and summary. */
  resetServerStats(): void;
  /** crst: on every connection zero packets and latencies, lastOperation "NA", lastCxid -1, lastZxid -1n, lastResponseMs 0. */
  resetConnectionStats(): void;
  /** hash: the tree digests kept by the digest log, oldest first (none when digests are off). */
  digestLog?(): ReadonlyArray<{ readonly zxid: bigint; readonly digest: bigint }>;
}

/** Version.getFullVersion's shape: zookeeperFullVersion('3.9.4', 'zkts-0.1.0', buildDate). */
export function zookeeperFullVersion(zookeeperVersion: string, revision: string, builtOn: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const date = `${builtOn.getUTCFullYear()}-${p(builtOn.getUTCMonth() + 1)}-${p(builtOn.getUTCDate())}` +
    ` ${p(builtOn.getUTCHours())}:${p(builtOn.getUTCMinutes())}`;
  return `${zookeeperVersion}-${revision}, built on ${date} UTC`;
}

const LAST_OPERATION = new Map<number, string>([
  [OpCode.ping, 'PING'], [OpCode.createSession, 'SESS'], [OpCode.multi, 'MULT'],
  [OpCode.multiRead, 'MLTR'], [OpCode.create, 'CREA'], [OpCode.create2, 'CREA'],
  [OpCode.createTTL, 'CREA'], [OpCode.createContainer, 'CREA'], [OpCode.delete, 'DELE'],
  [OpCode.deleteContainer, 'DELE'], [OpCode.setData, 'SETD'], [OpCode.reconfig, 'RECO'],
  [OpCode.setACL, 'SETA'], [OpCode.closeSession, 'CLOS'], [OpCode.sync, 'SYNC'],
  [OpCode.check, 'CHEC'], [OpCode.exists, 'EXIS'], [OpCode.getData, 'GETD'],
  [OpCode.setWatches, 'SETW'], [OpCode.setWatches2, 'STW2'], [OpCode.addWatch, 'ADDW'],
  [OpCode.getACL, 'GETA'], [OpCode.getChildren, 'GETC'], [OpCode.getAllChildrenNumber, 'GETACN'],
  [OpCode.getChildren2, 'GETC'], [OpCode.checkWatches, 'CHKW'], [OpCode.removeWatches, 'REMW'],
  [OpCode.whoAmI, 'HOMI'], [OpCode.getEphemerals, 'GETE'],
]);

/**
 * The abbreviation ZooKeeper records as a connection's last operation when it answers a request
 * of this type ("NA" for others). A write refused at prep (an ErrorTxn) also records "NA".
 */
export function lastOperationName(opcode: number): string {
  return LAST_OPERATION.get(opcode) ?? 'NA';
}

function isEnabled(cmd: string, whitelist: ReadonlySet<string> | '*'): boolean {
  return whitelist === '*' || cmd === 'srvr' || whitelist.has(cmd);
}

/**
 * The answer to `cmd` (a name from isFourLetterWord). The caller writes it and closes the
 * connection; an empty answer means close without writing (as ZooKeeper does for a whitelisted
 * telnet close, or an stmk without its 8 bytes). `extra` is what followed the word in the same
 * read: stmk takes its mask from its first STMK_ARG_BYTES bytes.
 */
export function runFourLetterWord(
  cmd: string,
  view: FourLetterView,
  whitelist: ReadonlySet<string> | '*',
  extra?: Uint8Array,
): string {
  if (!isEnabled(cmd, whitelist)) return `${cmd} is not executed because it is not in the whitelist.\n`;
  switch (cmd) {
    case 'ruok': return 'imok';
    case 'gtmk': return String(view.traceMask());
    case 'stmk': return setTraceMask(view, extra);
    case 'envi': return formatEnvironment(view);
    case 'isro': return !view.serving() ? 'null' : view.readOnly() ? 'ro' : 'rw';
    case 'hash': return view.serving() ? formatDigestLog(view) : ZK_NOT_SERVING;
    default:
  }
  if (!view.serving()) return FOUR_LETTER_WORDS.has(cmd) ? `${ZK_NOT_SERVING}\n` : '';
  switch (cmd) {
    case 'srvr': return formatStat(view, false);
    case 'stat': return formatStat(view, true);
    case 'cons': return formatCons(view);
    case 'dump': return formatDump(view);
    case 'conf': return formatConf(view);
    case 'dirs': return formatDirs(view);
    case 'wchs': return formatWatchSummary(view);
    case 'wchc': return formatWatchesByConnection(view);
    case 'wchp': return formatWatchesByPath(view);
    case 'mntr': return formatMntr(view);
    case 'crst':
      view.resetConnectionStats();
      return 'Connection stats reset.\n';
    case 'srst':
      view.resetServerStats();
      return 'Server stats reset.\n';
    default: return ''; // telnet close: nothing to say, the connection closes
  }
}

function setTraceMask(view: FourLetterView, extra: Uint8Array | undefined): string {
  if (extra === undefined || extra.length < STMK_ARG_BYTES) return '';
  const mask = new DataView(extra.buffer, extra.byteOffset, STMK_ARG_BYTES).getBigInt64(0);
  view.setTraceMask(mask);
  return String(mask);
}

function formatEnvironment(view: FourLetterView): string {
  let out = 'Environment:\n';
  for (const [key, value] of view.environment()) out += `${key}=${value}\n`;
  return out;
}

function formatDigestLog(view: FourLetterView): string {
  let out = '';
  for (const d of view.digestLog?.() ?? []) out += `${formatJavaHex(d.zxid)}: ${BigInt.asIntN(64, d.digest)}\n`;
  return out;
}

/** ServerCnxn.dumpConnectionInfo: brief for stat, with the session's figures for cons. */
function formatConnection(c: ConnectionView, brief: boolean): string {
  const interest = (c.readInterest ? 1 : 0) | (c.writeInterest ? 4 : 0);
  let out = ` ${formatJavaSocketAddress(c.remoteAddress, c.remotePort)}[${interest.toString(16)}]` +
    `(queued=${c.outstandingRequests},recved=${c.packetsReceived},sent=${c.packetsSent}`;
  if (!brief && c.sessionId !== 0n) {
    const lat = c.latencyMs;
    const empty = lat.count <= 0;
    out += `,sid=0x${formatJavaHex(c.sessionId)},lop=${c.lastOperation},est=${long(c.establishedMs)}` +
      `,to=${c.sessionTimeoutMs}`;
    if (c.lastCxid >= 0) out += `,lcxid=0x${formatJavaHex(c.lastCxid)}`;
    out += `,lzxid=0x${formatJavaHex(c.lastZxid)},lresp=${long(c.lastResponseMs)}` +
      `,llat=${long(c.lastLatencyMs)},minlat=${empty ? 0 : long(lat.min)}` +
      `,avglat=${empty ? 0 : long(lat.sum / lat.count)},maxlat=${empty ? 0 : long(lat.max)}`;
  }
  return `${out})`;
}

function formatStat(view: FourLetterView, withClients: boolean): string {
  const s = view.stats();
  let out = `Zookeeper version: ${view.version}\n`;
  if (view.readOnly()) out += 'READ-ONLY mode; serving only read-only clients\n';
  if (withClients) {
    out += 'Clients:\n';
    for (const c of view.connections()) out += `${formatConnection(c, true)}\n`;
    out += '\n';
  }
  const lat = s.latencyMs;
  const empty = lat.count <= 0;
  out += `Latency min/avg/max: ${empty ? 0 : long(lat.min)}/${formatJavaDouble(summaryAverage(lat))}/${empty ? 0 : long(lat.max)}\n` +
    `Received: ${s.packetsReceived}\nSent: ${s.packetsSent}\nConnections: ${s.aliveConnections}\n` +
    `Outstanding: ${s.outstandingRequests}\nZxid: 0x${formatJavaHex(s.lastProcessedZxid)}\n` +
    `Mode: ${s.serverState}\nNode count: ${s.nodeCount}\n`;
  if (s.serverState === 'leader' && s.proposalSizes !== undefined) {
    const p = s.proposalSizes;
    out += `Proposal sizes last/min/max: ${p.last}/${p.min}/${p.max}\n`;
  }
  return out;
}

function formatCons(view: FourLetterView): string {
  let out = '';
  for (const c of view.connections()) out += `${formatConnection(c, false)}\n`;
  return `${out}\n`;
}

/** ExpiryQueue.dump: "Sets (buckets)/(elements):", then each bucket by time with its elements. */
function formatExpiryQueue<T extends { expiresAtMs: number }>(items: readonly T[], element: (x: T) => string): string {
  const buckets = new Map<number, T[]>();
  for (const item of items) {
    const bucket = buckets.get(item.expiresAtMs);
    if (bucket === undefined) buckets.set(item.expiresAtMs, [item]);
    else bucket.push(item);
  }
  let out = `Sets (${buckets.size})/(${items.length}):\n`;
  for (const time of [...buckets.keys()].sort((a, b) => a - b)) {
    const bucket = buckets.get(time) ?? [];
    out += `${bucket.length} expire at ${formatJavaDate(time)}:\n`;
    for (const item of bucket) out += `\t${element(item)}\n`;
  }
  return out;
}

function formatDump(view: FourLetterView): string {
  let out = 'SessionTracker dump:\nSession ';
  out += formatExpiryQueue(view.sessions(), (s) => `0x${formatJavaHex(s.sessionId)}`);
  const ephemerals = view.ephemerals();
  out += `ephemeral nodes dump:\nSessions with Ephemerals (${ephemerals.length}):\n`;
  for (const e of ephemerals) {
    out += `0x${formatJavaHex(e.sessionId)}:\n`;
    for (const path of e.paths) out += `\t${path}\n`;
  }
  out += 'Connections dump:\nConnections ';
  out += formatExpiryQueue(view.connections(), (c) =>
    `ip: ${formatJavaSocketAddress(c.remoteAddress, c.remotePort)} sessionId: 0x${formatJavaHex(c.sessionId)}`);
  return out;
}

function formatConf(view: FourLetterView): string {
  const c = view.config();
  const d = view.dirSizes();
  // ZooKeeper prints the txn-log directory's size as dataDirSize and the snapshot directory's as
  // dataLogSize (its FileTxnSnapLog calls the log directory "dataDir"); kept for compatibility.
  return `clientPort=${c.clientPort}\nsecureClientPort=${c.secureClientPort}\n` +
    `dataDir=${c.snapDir}\ndataDirSize=${d.txnLogDirBytes}\n` +
    `dataLogDir=${c.txnLogDir}\ndataLogSize=${d.snapDirBytes}\n` +
    `tickTime=${c.tickTimeMs}\nmaxClientCnxns=${c.maxClientCnxns}\n` +
    `minSessionTimeout=${c.minSessionTimeoutMs}\nmaxSessionTimeout=${c.maxSessionTimeoutMs}\n` +
    `clientPortListenBacklog=${c.clientPortListenBacklog}\nserverId=${c.serverId}\n`;
}

function formatDirs(view: FourLetterView): string {
  const d = view.dirSizes();
  return `datadir_size: ${d.txnLogDirBytes}\nlogdir_size: ${d.snapDirBytes}\n`; // same swap as conf
}

/** The data-watch table summed up, as wchs and the watch_summary command report it. */
export function watchSummaryCounts(view: FourLetterView): { connections: number; paths: number; total: number } {
  const watches = view.dataWatches();
  const paths = new Set<string>();
  let total = 0;
  for (const w of watches) {
    for (const p of w.paths) paths.add(p);
    total += w.paths.length;
  }
  return { connections: watches.length, paths: paths.size, total };
}

function formatWatchSummary(view: FourLetterView): string {
  const s = watchSummaryCounts(view);
  return `${s.connections} connections watching ${s.paths} paths\nTotal watches:${s.total}\n`;
}

function formatWatchesByConnection(view: FourLetterView): string {
  let out = '';
  for (const w of view.dataWatches()) {
    out += `0x${formatJavaHex(w.sessionId)}\n`;
    for (const p of w.paths) out += `\t${p}\n`;
  }
  return `${out}\n`;
}

function formatWatchesByPath(view: FourLetterView): string {
  const byPath = new Map<string, bigint[]>();
  for (const w of view.dataWatches()) {
    for (const p of w.paths) {
      const ids = byPath.get(p);
      if (ids === undefined) byPath.set(p, [w.sessionId]);
      else ids.push(w.sessionId);
    }
  }
  let out = '';
  for (const [path, ids] of byPath) {
    out += `${path}\n`;
    for (const id of ids) out += `\t0x${formatJavaHex(id)}\n`;
  }
  return `${out}\n`;
}

function formatMntr(view: FourLetterView): string {
  const s = view.stats();
  return formatMonitor({
    version: view.version,
    serverState: s.serverState,
    latencyMs: s.latencyMs,
    packetsReceived: s.packetsReceived,
    packetsSent: s.packetsSent,
    aliveConnections: s.aliveConnections,
    outstandingRequests: s.outstandingRequests,
    nodeCount: s.nodeCount,
  }, view.monitor());
}
