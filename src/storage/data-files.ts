// data-files.ts — the files of ZooKeeper's data directories (FileTxnSnapLog, Util): everything
// lives in `<dataDir>/version-2` and `<dataLogDir>/version-2`; logs are `log.<hex zxid of their
// first txn>`, snapshots `snapshot.<hex zxid>` (plus .gz/.snappy when compressed); every file
// starts with FileHeader {int magic; int version = 2; long dbid}.
import { closeSync, fsyncSync, openSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

export const VERSION_DIR = 'version-2';
export const LOG_PREFIX = 'log';
export const SNAPSHOT_PREFIX = 'snapshot';
export const FILE_HEADER_BYTES = 16;
export const TXNLOG_MAGIC = 0x5a4b4c47; // "ZKLG"
export const SNAP_MAGIC = 0x5a4b534e; // "ZKSN"
export const FORMAT_VERSION = 2;
/** The end-of-record byte after every log entry ('B'). */
export const END_OF_RECORD = 0x42;

/** `<dir>/version-2`, where ZooKeeper keeps its files. */
export function versionDir(dir: string): string {
  return join(dir, VERSION_DIR);
}

/** Util.getZxidFromName: the hex zxid after `<prefix>.`, or null. */
export function zxidFromName(name: string, prefix: string): bigint | null {
  const parts = name.split('.');
  if (parts.length < 2 || parts[0] !== prefix || !/^[0-9a-fA-F]{1,16}$/.test(parts[1]!)) return null;
  return BigInt.asIntN(64, BigInt('0x' + parts[1]));
}

export function logName(zxid: bigint): string {
  return `${LOG_PREFIX}.${BigInt.asUintN(64, zxid).toString(16)}`;
}

export function snapshotName(zxid: bigint): string {
  return `${SNAPSHOT_PREFIX}.${BigInt.asUintN(64, zxid).toString(16)}`;
}

export interface DataFile {
  name: string;
  path: string;
  zxid: bigint;
}

/** Files `<prefix>.<hex>` in `dir`, by zxid ascending; a missing dir has none. */
export function listDataFiles(dir: string, prefix: string): DataFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: DataFile[] = [];
  for (const name of names) {
    const zxid = zxidFromName(name, prefix);
    if (zxid !== null) out.push({ name, path: join(dir, name), zxid });
  }
  return out.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
}

/**
 * FileTxnLog.getLogFiles: the logs that can hold txns after `snapshotZxid` — the newest log
 * starting at or before it, and every later one.
 */
export function logFilesFrom(logs: DataFile[], snapshotZxid: bigint): DataFile[] {
  let start = 0n;
  for (const f of logs) {
    if (f.zxid > snapshotZxid) break;
    if (f.zxid > start) start = f.zxid;
  }
  return logs.filter((f) => f.zxid >= start);
}

/**
 * fsync a directory so that a create, rename or unlink in it is durable. Blocks the thread (it
 * can take 100 ms when the disk is busy): for recovery, before the server serves.
 */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncDir off the event loop, for a server that is serving. */
export async function fsyncDirAsync(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
