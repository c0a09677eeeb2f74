// purge.ts — autopurge (ZooKeeper's PurgeTxnLog): keep the newest snapRetainCount snapshots
// (at least 3) and the logs needed to replay from the oldest of them; delete older snapshots
// and logs. A log named below the oldest kept snapshot stays when it is the one that holds the
// txns just after it (no other log starts between them).
import { readFileSync, unlinkSync } from 'node:fs';
import { LOG_PREFIX, SNAPSHOT_PREFIX, listDataFiles, logFilesFrom, versionDir } from './data-files.js';
import { looksSealed } from './snapshot.js';

export interface PurgeResult {
  removed: string[];
  /** The zxid of the oldest snapshot kept; nothing older than what it needs is left. */
  oldestKeptZxid: bigint | null;
}

/** Whether a snapshot file ends with its seal (SnapStream.isValidSnapshot, uncompressed). */
function sealed(path: string): boolean {
  if (path.endsWith('.gz') || path.endsWith('.snappy')) return true;
  try {
    return looksSealed(readFileSync(path));
  } catch {
    return false;
  }
}

/** Deletes what the newest `snapRetainCount` valid snapshots do not need. */
export function purgeOldFiles(dataDir: string, dataLogDir: string, snapRetainCount: number): PurgeResult {
  const keep = Math.max(3, snapRetainCount);
  const snapDir = versionDir(dataDir);
  const logDir = versionDir(dataLogDir);
  const snaps = listDataFiles(snapDir, SNAPSHOT_PREFIX).reverse();
  const valid: bigint[] = [];
  for (const s of snaps) {
    if (valid.length === keep) break;
    if (sealed(s.path)) valid.push(s.zxid);
  }
  if (valid.length === 0) return { removed: [], oldestKeptZxid: null };
  const least = valid[valid.length - 1]!;
  const logs = listDataFiles(logDir, LOG_PREFIX);
  const needed = new Set(logFilesFrom(logs, least).map((f) => f.path));
  const removed: string[] = [];
  for (const f of [...logs, ...listDataFiles(snapDir, SNAPSHOT_PREFIX)]) {
    if (f.zxid >= least || needed.has(f.path)) continue;
    unlinkSync(f.path);
    removed.push(f.path);
  }
  return { removed, oldestKeptZxid: least };
}
