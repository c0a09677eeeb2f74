// truncate.ts — a data directory cut back to a zxid, durably: what a learner does when the leader
// sends TRUNC (ZKDatabase.truncateLog → FileTxnSnapLog.truncateLog → FileTxnLog.truncate). Every
// logged txn after `zxid` goes: later log files are deleted and the log holding `zxid` is cut
// right after its entry. Unlike ZooKeeper, snapshots after `zxid` are deleted too (ZooKeeper
// keeps them, and its next load starts from a state the ensemble never had). Recovery then
// rebuilds the tree from the newest snapshot at or before `zxid` and the log after it.
//
// The order keeps the directory a prefix of its history at every instant, so a crash at any
// step recovers to the old state or a shorter prefix of it, never losing a txn at or before
// `zxid` and never replaying a later log over a gap:
//   1. snapshots after `zxid`, newest first, then fsync the snapshot directory (recovery then
//      starts from an older snapshot and replays the whole log);
//   2. log files that start after `zxid`, newest first, then fsync the log directory;
//   3. the log holding `zxid` truncated before its first entry after `zxid`, then fsync it.
// The cut file simply ends there: the log reader takes the end of the file as the end of the log,
// and the writer starts a new file for the next txn. Synchronous, as recovery: it runs while
// the learner syncs, before it serves.
import { closeSync, fsyncSync, openSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { ZktsError } from '../errors.js';
import { LOG_PREFIX, SNAPSHOT_PREFIX, fsyncDir, listDataFiles, versionDir, type DataFile } from './data-files.js';
import { LogFileReader, readTxnLog } from './txn-log-reader.js';

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface TruncateOptions {
  maxTxnBytes?: number;
  log?: Log;
}

export interface TruncateResult {
  removedSnapshots: string[];
  removedLogs: string[];
  /** The log cut after `zxid`: its length before and after (null when no log held a txn after it). */
  cut: { file: string; fromBytes: number; toBytes: number } | null;
}

const hex = (z: bigint): string => '0x' + BigInt.asUintN(64, z).toString(16);

/** Deletes `files` newest first, then makes the deletions durable. */
function removeNewestFirst(files: DataFile[], dir: string, log: Log | undefined): string[] {
  const removed: string[] = [];
  for (const f of [...files].reverse()) {
    log?.('info', `Truncating: removing ${f.name} (after the truncation zxid)`);
    unlinkSync(f.path);
    removed.push(f.path);
  }
  if (removed.length > 0) fsyncDir(dir);
  return removed;
}

/** The offset of the first entry after `zxid` in a log, or null when it has none. */
function firstEntryAfter(file: DataFile, zxid: bigint, opts: TruncateOptions): number | null {
  const r = LogFileReader.open(file.path, { maxTxnBytes: opts.maxTxnBytes });
  if (r === 'headerless') return null;
  r.tolerateTornSectors = true; // it is the newest log now
  try {
    for (let rec = r.next(); rec !== null; rec = r.next()) {
      if (rec.hdr.zxid > zxid) return rec.offset;
    }
    return null;
  } finally {
    r.close();
  }
}

/** The zxid of the last logged txn after `from` and at or before `zxid` (`from` when none). */
function lastLoggedUpTo(logDir: string, from: bigint, zxid: bigint, opts: TruncateOptions): bigint {
  let last = from;
  for (const rec of readTxnLog(logDir, from + 1n, { maxTxnBytes: opts.maxTxnBytes })) {
    if (rec.hdr.zxid > zxid) break;
    last = rec.hdr.zxid;
  }
  return last;
}

/** fsync a file whose length changed (through a read-only descriptor, as fsync(2) allows). */
function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Cuts the data directory back to `zxid` (see the header). Refuses, changing nothing, when what
 * would be left cannot rebuild the tree at `zxid`: no snapshot at or before it, or a log that
 * does not reach it from the newest such snapshot.
 */
export function truncateDataDir(dataDir: string, dataLogDir: string, zxid: bigint, opts: TruncateOptions = {}): TruncateResult {
  const snapDir = versionDir(dataDir);
  const logDir = versionDir(dataLogDir);
  const log = opts.log;
  const snaps = listDataFiles(snapDir, SNAPSHOT_PREFIX);
  const logs = listDataFiles(logDir, LOG_PREFIX);
  const base = snaps.filter((s) => s.zxid <= zxid).pop();
  if ((snaps.length > 0 || logs.length > 0) && base === undefined) {
    throw new ZktsError(
      'ZKTS_ERR_DISK',
      `cannot truncate ${snapDir} to ${hex(zxid)}: no snapshot at or before it to rebuild the tree from ` +
        `(oldest: ${snaps[0] === undefined ? 'none' : snaps[0].name}); move the data directory away to resync by snapshot`,
    );
  }
  // What is left must rebuild the tree at `zxid` itself: the snapshot, then the log up to `zxid`
  // with no txn missing (a directory synced by a SNAP after `zxid` has no log before it).
  const reached = lastLoggedUpTo(logDir, base?.zxid ?? 0n, zxid, opts);
  if (reached !== zxid) {
    throw new ZktsError(
      'ZKTS_ERR_DISK',
      `cannot truncate ${snapDir} to ${hex(zxid)}: after ${base?.name ?? 'an empty start'} the txn log reaches only ${hex(reached)}, ` +
        `so the tree at ${hex(zxid)} cannot be rebuilt; move the data directory away to resync by snapshot`,
    );
  }
  const removedSnapshots = removeNewestFirst(
    snaps.filter((s) => s.zxid > zxid),
    snapDir,
    log,
  );
  const removedLogs = removeNewestFirst(
    logs.filter((f) => f.zxid > zxid),
    logDir,
    log,
  );
  const holding = logs.filter((f) => f.zxid <= zxid).pop();
  let cut: TruncateResult['cut'] = null;
  if (holding !== undefined) {
    const end = firstEntryAfter(holding, zxid, opts);
    if (end !== null) {
      const size = statSync(holding.path).size;
      log?.('info', `Truncating ${holding.name} after ${hex(zxid)}: ${size} → ${end} bytes`);
      truncateSync(holding.path, end);
      fsyncFile(holding.path);
      cut = { file: holding.path, fromBytes: size, toBytes: end };
    }
  }
  return { removedSnapshots, removedLogs, cut };
}
