// recovery.ts — rebuilding the tree from a data directory at startup (FileTxnSnapLog.restore and
// ZooKeeperServer.loadData): the newest snapshot that reads back whole (older ones are tried when
// it does not), then every logged txn after it. The rules are ZooKeeper's:
// - the newest log is removed when it has no header (a crash right after creating it,
//   ZOOKEEPER-2332), and a partial last txn is cut off (it was never acknowledged);
// - logs without any snapshot are refused unless zookeeper.snapshot.trust.empty=true (they may
//   be the tail of a history whose start was lost); a directory with neither starts empty;
// - createSession/closeSession txns keep the session table; ephemerals whose session is not in
//   it are deleted after replay, as loadData does;
// - the tree's digest is checked against the snapshot's and against each txn's TxnDigest, as
//   DataTree.compareSnapshotDigests and compareDigest do: a mismatch is logged and counted in
//   tree.digestMismatches (digest_mismatches_count) and does not stop the start.
// Loading a large snapshot and replaying a long log log their progress every few seconds.
// Files live in `<dataDir>/version-2` and `<dataLogDir>/version-2`, as ZooKeeper keeps them.
import { mkdirSync, readdirSync, truncateSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ZktsError } from '../errors.js';
import { OpCode } from '../protocol/opcodes.js';
import { DataTree } from '../tree/data-tree.js';
import { LOG_PREFIX, SNAPSHOT_PREFIX, fsyncDir, listDataFiles, versionDir } from './data-files.js';
import { replayTxn } from './replay.js';
import { FrozenTree } from './frozen-tree.js';
import { readSnapshotFile, type SnapshotData } from './snapshot.js';
import { writeSnapshotFile } from './snapshot-writer.js';
import { DIGEST_VERSION, digestMismatchLogger } from '../tree/digest.js';
import { LogFileReader, readTxnLog, type LogTail } from './txn-log-reader.js';

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface RecoverOptions {
  extendedTypesEnabled?: boolean;
  /** zookeeper.snapshot.trust.empty: accept logs with no snapshot. */
  snapshotTrustEmpty?: boolean;
  /** zookeeper.digest.enabled (default true). */
  digestEnabled?: boolean;
  /** How often long work logs its progress (default 5 s). */
  progressIntervalMs?: number;
  maxTxnBytes?: number;
  log?: Log;
}

export interface RecoveredState {
  tree: DataTree;
  /** Session id → timeout in ms. */
  sessions: Map<bigint, number>;
  lastZxid: bigint;
  snapshotFile: string | null;
  snapshotZxid: bigint | null;
  txnsReplayed: number;
  /** Time to read the newest snapshot, and to replay the log after it (startup_*_load_time). */
  snapLoadMs: number;
  txnsLoadMs: number;
  /** The tree against the digests recorded (the snapshot's and each txn's): all matched, some did not, none was checked. */
  digest: 'match' | 'mismatch' | 'none';
  /** How many recorded digests the tree did not match (also in tree.digestMismatches). */
  digestMismatches: number;
  /** Ephemerals of sessions not in the session table, deleted after replay (no txn records it). */
  deadSessionsDeleted: number;
}

const hex = (z: bigint): string => '0x' + BigInt.asUintN(64, z).toString(16);

function ensureDirs(snapDir: string, logDir: string): void {
  mkdirSync(snapDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  if (snapDir === logDir) return;
  // FileTxnSnapLog.checkLogDir/checkSnapDir (ZOOKEEPER-2967)
  if (listDataFiles(logDir, SNAPSHOT_PREFIX).length > 0) {
    throw new ZktsError('ZKTS_ERR_DISK', `${logDir} (dataLogDir) holds snapshot files: check that dataLogDir and dataDir are configured correctly`);
  }
  if (listDataFiles(snapDir, LOG_PREFIX).length > 0) {
    throw new ZktsError('ZKTS_ERR_DISK', `${snapDir} (dataDir) holds txn log files: check that dataLogDir and dataDir are configured correctly`);
  }
}

/** ZOOKEEPER-2332: a newest log without a header is the trace of a crash at its creation. */
function dropHeaderlessNewestLog(logDir: string, log: Log | undefined): void {
  const logs = listDataFiles(logDir, LOG_PREFIX);
  const newest = logs[logs.length - 1];
  if (newest === undefined) return;
  const r = LogFileReader.open(newest.path);
  if (r !== 'headerless') {
    r.close();
    return;
  }
  log?.('warn', `Delete empty tail log file to recover from corruption file: ${newest.name}`);
  unlinkSync(newest.path);
  fsyncDir(logDir);
}

function removeTempSnapshots(snapDir: string): void {
  for (const name of readdirSync(snapDir)) if (name.startsWith(`tmp.${SNAPSHOT_PREFIX}.`)) unlinkSync(join(snapDir, name));
}

interface LoadedSnapshot extends SnapshotData {
  file: string;
  zxid: bigint;
}

/** Logs "what so far" at most once per interval, for work that runs synchronously for long. */
class Progress {
  private last = performance.now();

  constructor(
    private readonly log: Log | undefined,
    private readonly intervalMs: number,
  ) {}

  /** True when it is time for another line. */
  due(): boolean {
    const now = performance.now();
    if (now - this.last < this.intervalMs) return false;
    this.last = now;
    return this.log !== undefined;
  }

  say(msg: string): void {
    this.log?.('info', msg);
  }
}

/** FileSnap.deserialize: the newest snapshot that reads back whole, of the newest 100. */
function loadNewestSnapshot(snapDir: string, opts: RecoverOptions): LoadedSnapshot | null {
  const snaps = listDataFiles(snapDir, SNAPSHOT_PREFIX).reverse().slice(0, 100);
  if (snaps.length === 0) return null;
  const problems: string[] = [];
  for (const s of snaps) {
    try {
      const progress = new Progress(opts.log, opts.progressIntervalMs ?? 5000);
      const t0 = performance.now();
      const data = readSnapshotFile(s.path, {
        extendedTypesEnabled: opts.extendedTypesEnabled,
        digestEnabled: opts.digestEnabled,
        progressEvery: 10_000,
        onProgress: (n) => {
          if (progress.due()) progress.say(`Reading snapshot ${s.path}: ${n} nodes so far (${Math.round((performance.now() - t0) / 1000)} s)`);
        },
      });
      data.tree.lastProcessedZxid = s.zxid;
      opts.log?.('info', `Reading snapshot ${s.path}`);
      return { ...data, file: s.path, zxid: s.zxid };
    } catch (e) {
      if (!(e instanceof ZktsError) || e.code !== 'ZKTS_ERR_DISK') throw e;
      opts.log?.('warn', `problem reading snap file ${s.path}: ${e.message}; trying an older one`);
      problems.push(e.message);
    }
  }
  throw new ZktsError('ZKTS_ERR_DISK', `Not able to find valid snapshots in ${snapDir}: ${problems.join('; ')}`);
}

/** Cuts a partial last txn off the newest log, so that appends after it never hide behind it. */
function cutTornTail(tail: LogTail | null, log: Log | undefined): void {
  if (tail === null || !tail.tornTail || tail.headerless) return;
  log?.('warn', `${basename(tail.file)} ends with a partial txn at offset ${tail.validEnd} (never acknowledged); cutting it off`);
  truncateSync(tail.file, tail.validEnd);
}

/** Loads the newest state of a data directory. Synchronous: it runs before the server starts. */
export function recover(dataDir: string, dataLogDir: string = dataDir, opts: RecoverOptions = {}): RecoveredState {
  const snapDir = versionDir(dataDir);
  const logDir = versionDir(dataLogDir);
  const log = opts.log;
  ensureDirs(snapDir, logDir);
  removeTempSnapshots(snapDir);
  dropHeaderlessNewestLog(logDir, log);
  const snapStart = performance.now();
  const snap = loadNewestSnapshot(snapDir, opts);
  const snapLoadMs = performance.now() - snapStart;
  if (snap === null && listDataFiles(logDir, LOG_PREFIX).length > 0 && !opts.snapshotTrustEmpty) {
    throw new ZktsError(
      'ZKTS_ERR_DISK',
      `No snapshot found, but there are log entries in ${logDir}. Something is broken! Restore the snapshot, ` +
        `or set zookeeper.snapshot.trust.empty=true if the logs hold the whole history (upgrades from 3.4)`,
    );
  }
  const tree = snap?.tree ?? new DataTree({ extendedTypesEnabled: opts.extendedTypesEnabled, digestEnabled: opts.digestEnabled });
  const sessions = snap?.sessions ?? new Map<bigint, number>();
  const snapZxid = snap?.zxid ?? 0n;
  let highest = snapZxid;
  let replayed = 0;
  let checked = 0;
  if (log !== undefined) tree.onDigestMismatch = digestMismatchLogger(log, 'recorded');
  // The snapshot's digest is checked where it holds, as ZooKeeper does (FileSnap.deserialize,
  // DataTree.compareSnapshotDigests): at once when it is for the snapshot's own zxid (an exact
  // snapshot, as zkts writes), else once replay reaches its zxid (a fuzzy one, as ZooKeeper
  // writes, sealed with the digest of the last txn applied when serializing ended). Until then
  // the tree is in a fuzzy state and the txns' digests are not compared (compareDigest).
  let snapDigest = tree.digestEnabled && snap?.digest && snap.digest.version === DIGEST_VERSION && snap.digest.zxid >= snapZxid ? snap.digest : null;
  const checkSnapshotDigest = (zxid: bigint, d: bigint): void => {
    checked++;
    if (tree.digest !== d) tree.reportDigestMismatch(zxid, d, tree.digest);
  };
  if (snapDigest !== null && snapDigest.zxid === snapZxid) {
    checkSnapshotDigest(snapZxid, snapDigest.digest);
    snapDigest = null;
  }
  let tail: LogTail | null = null;
  const progress = new Progress(log, opts.progressIntervalMs ?? 5000);
  const t0 = performance.now();
  const txnsStart = t0;
  for (const rec of readTxnLog(logDir, snapZxid + 1n, { maxTxnBytes: opts.maxTxnBytes, onTail: (t) => (tail = t) })) {
    if (rec.hdr.zxid < highest) {
      log?.('error', `${hex(highest)}(highestZxid) > ${hex(rec.hdr.zxid)}(next log) for type ${rec.hdr.type}`);
    } else {
      highest = rec.hdr.zxid;
    }
    const compare = tree.digestEnabled && snapDigest === null && rec.digest !== null && rec.digest.version === DIGEST_VERSION;
    replayTxn(tree, sessions, rec.hdr, rec.txn, compare ? rec.digest : null);
    if (compare) checked++;
    replayed++;
    if (snapDigest !== null && rec.hdr.zxid === snapDigest.zxid) {
      checkSnapshotDigest(rec.hdr.zxid, snapDigest.digest);
      snapDigest = null;
    }
    if ((replayed & 1023) === 0 && progress.due()) {
      progress.say(`Replaying the txn log: ${replayed} txns so far, at zxid ${hex(rec.hdr.zxid)} (${Math.round((performance.now() - t0) / 1000)} s)`);
    }
  }
  const txnsLoadMs = performance.now() - txnsStart;
  cutTornTail(tail, log);
  if (highest > tree.lastProcessedZxid) tree.lastProcessedZxid = highest;
  if (snapDigest !== null) {
    log?.('warn', `Highest txn zxid ${hex(highest)} is not covering the snapshot digest zxid ${hex(snapDigest.zxid)}, which might lead to inconsistent state`);
  }
  const deadSessionsDeleted = killDeadSessions(tree, sessions);
  tree.onDigestMismatch = null;
  const mismatches = tree.digestMismatches;
  log?.('info', `${replayed} txns loaded; last zxid ${hex(tree.lastProcessedZxid)}; ${checked} digests checked, ${mismatches} mismatched`);
  return {
    tree,
    sessions,
    lastZxid: tree.lastProcessedZxid,
    snapshotFile: snap?.file ?? null,
    snapshotZxid: snap?.zxid ?? null,
    txnsReplayed: replayed,
    digest: mismatches > 0 ? 'mismatch' : checked > 0 ? 'match' : 'none',
    digestMismatches: mismatches,
    deadSessionsDeleted,
    snapLoadMs,
    txnsLoadMs,
  };
}

/** ZooKeeperServer.loadData: ephemerals of sessions that no longer exist are deleted; returns how many. */
export function killDeadSessions(tree: DataTree, sessions: Map<bigint, number>): number {
  const zxid = tree.lastProcessedZxid;
  let deleted = 0;
  for (const owner of [...tree.ephemerals.keys()]) {
    if (sessions.has(owner)) continue;
    const paths = [...tree.ephemeralsOf(owner)];
    tree.processTxn({ clientId: owner, cxid: 0, zxid, time: 0, type: OpCode.closeSession }, { type: OpCode.closeSession, paths2Delete: paths });
    deleted += paths.length;
  }
  return deleted;
}

/**
 * Writes `snapshot.<hex zxid>` of the tree as it is now into `<dataDir>/version-2`, sealed with
 * its digest (see snapshot-writer.ts; the tree may change while the file is written).
 */
export async function writeSnapshot(tree: DataTree, sessions: ReadonlyMap<bigint, number>, zxid: bigint, dataDir: string): Promise<string> {
  const dir = versionDir(dataDir);
  mkdirSync(dir, { recursive: true });
  return (await writeSnapshotFile(new FrozenTree(tree), sessions, dir, { zxid })).file;
}
