// recovery.ts — rebuilding the tree from a data directory at startup (FileTxnSnapLog.restore and
// ZooKeeperServer.loadData): the newest snapshot that reads back whole (older ones are tried when
// it does not), then every logged txn after it. The rules are ZooKeeper's:
// - the newest log is removed when it has no header (a crash right after creating it,
//   ZOOKEEPER-2332), and a partial last txn is cut off (it was never acknowledged);
// - logs without any snapshot are refused unless zookeeper.snapshot.trust.empty=true (they may
//   be the tail of a history whose start was lost); a directory with neither starts empty;
// - createSession/closeSession txns keep the session table; ephemerals whose session is not in
//   it are deleted after replay, as loadData does.
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
import { DIGEST_VERSION, treeDigest } from './tree-digest.js';
import { LogFileReader, readTxnLog, type LogTail } from './txn-log-reader.js';

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface RecoverOptions {
  extendedTypesEnabled?: boolean;
  /** zookeeper.snapshot.trust.empty: accept logs with no snapshot. */
  snapshotTrustEmpty?: boolean;
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
  /** The tree against the digests recorded: the snapshot's where it holds, the last txn's at the end. */
  digest: 'match' | 'mismatch' | 'none';
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

/** FileSnap.deserialize: the newest snapshot that reads back whole, of the newest 100. */
function loadNewestSnapshot(snapDir: string, opts: RecoverOptions): LoadedSnapshot | null {
  const snaps = listDataFiles(snapDir, SNAPSHOT_PREFIX).reverse().slice(0, 100);
  if (snaps.length === 0) return null;
  const problems: string[] = [];
  for (const s of snaps) {
    try {
      const data = readSnapshotFile(s.path, opts);
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
  const snap = loadNewestSnapshot(snapDir, opts);
  if (snap === null && listDataFiles(logDir, LOG_PREFIX).length > 0 && !opts.snapshotTrustEmpty) {
    throw new ZktsError(
      'ZKTS_ERR_DISK',
      `No snapshot found, but there are log entries in ${logDir}. Something is broken! Restore the snapshot, ` +
        `or set zookeeper.snapshot.trust.empty=true if the logs hold the whole history (upgrades from 3.4)`,
    );
  }
  const tree = snap?.tree ?? new DataTree({ extendedTypesEnabled: opts.extendedTypesEnabled });
  const sessions = snap?.sessions ?? new Map<bigint, number>();
  const snapZxid = snap?.zxid ?? 0n;
  let highest = snapZxid;
  let replayed = 0;
  const digests = new DigestChecks(log);
  // The snapshot's digest is checked where it holds, as ZooKeeper does (FileSnap.deserialize,
  // DataTree.compareSnapshotDigests): at once when it is for the snapshot's own zxid (an exact
  // snapshot, as zkts writes), else once replay reaches its zxid (a fuzzy one, as ZooKeeper
  // writes, sealed with the digest of the last txn applied when serializing ended).
  let snapDigest = snap?.digest && snap.digest.version === DIGEST_VERSION && snap.digest.zxid >= snapZxid ? snap.digest : null;
  if (snapDigest !== null && snapDigest.zxid === snapZxid) {
    digests.check(tree, snapDigest.digest, snapZxid, 'snapshot');
    snapDigest = null;
  }
  let lastDigest: bigint | null = null;
  let tail: LogTail | null = null;
  for (const rec of readTxnLog(logDir, snapZxid + 1n, { maxTxnBytes: opts.maxTxnBytes, onTail: (t) => (tail = t) })) {
    if (rec.hdr.zxid < highest) {
      log?.('error', `${hex(highest)}(highestZxid) > ${hex(rec.hdr.zxid)}(next log) for type ${rec.hdr.type}`);
    } else {
      highest = rec.hdr.zxid;
    }
    replayTxn(tree, sessions, rec.hdr, rec.txn);
    replayed++;
    if (snapDigest !== null && rec.hdr.zxid === snapDigest.zxid) {
      digests.check(tree, snapDigest.digest, rec.hdr.zxid, 'snapshot');
      snapDigest = null;
    }
    if (rec.digest !== null && rec.digest.version === DIGEST_VERSION) lastDigest = rec.digest.treeDigest;
    else if (rec.hdr.type !== OpCode.error) lastDigest = null;
  }
  cutTornTail(tail, log);
  if (highest > tree.lastProcessedZxid) tree.lastProcessedZxid = highest;
  if (snapDigest !== null) {
    log?.('warn', `Highest txn zxid ${hex(highest)} is not covering the snapshot digest zxid ${hex(snapDigest.zxid)}, which might lead to inconsistent state`);
  }
  if (lastDigest !== null) digests.check(tree, lastDigest, tree.lastProcessedZxid, 'log');
  killDeadSessions(tree, sessions);
  log?.('info', `${replayed} txns loaded; last zxid ${hex(tree.lastProcessedZxid)}`);
  return {
    tree,
    sessions,
    lastZxid: tree.lastProcessedZxid,
    snapshotFile: snap?.file ?? null,
    snapshotZxid: snap?.zxid ?? null,
    txnsReplayed: replayed,
    digest: digests.outcome,
  };
}

/** The tree's digest against those ZooKeeper recorded: any mismatch is a mismatch. */
class DigestChecks {
  private matched = 0;
  private mismatched = 0;

  constructor(private readonly log: Log | undefined) {}

  check(tree: DataTree, expected: bigint, zxid: bigint, where: 'snapshot' | 'log'): void {
    if (treeDigest(tree) === expected) {
      this.matched++;
      return;
    }
    this.mismatched++;
    this.log?.('error', `Digests are not matching at zxid ${hex(zxid)} (the ${where} digest)`);
  }

  get outcome(): RecoveredState['digest'] {
    return this.mismatched > 0 ? 'mismatch' : this.matched > 0 ? 'match' : 'none';
  }
}

/** ZooKeeperServer.loadData: ephemerals of sessions that no longer exist are deleted. */
function killDeadSessions(tree: DataTree, sessions: Map<bigint, number>): void {
  const zxid = tree.lastProcessedZxid;
  for (const owner of [...tree.ephemerals.keys()]) {
    if (sessions.has(owner)) continue;
    const paths = [...tree.ephemeralsOf(owner)];
    tree.processTxn({ clientId: owner, cxid: 0, zxid, time: 0, type: OpCode.closeSession }, { type: OpCode.closeSession, paths2Delete: paths });
  }
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
