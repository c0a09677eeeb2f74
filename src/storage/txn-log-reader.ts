// txn-log-reader.ts — reads ZooKeeper's txn log files (FileTxnLog.FileTxnIterator). Each entry is
// {long Adler32(txnBytes); int length; txnBytes; byte 'B'}. The end of a log is where an entry
// stops being whole: end of file inside an entry, a zero length (the zero fill of preallocation)
// or a missing 'B'. A whole entry whose checksum does not match is corruption and stops recovery
// (ZKTS_ERR_DISK naming the file and offset), as ZooKeeper refuses to start on "CRC check failed".
// Reads are synchronous: this runs once, at startup, before the server takes clients.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ZktsError } from '../errors.js';
import { JuteDecodeError } from '../protocol/jute.js';
import { adler32 } from './adler32.js';
import {
  END_OF_RECORD,
  FILE_HEADER_BYTES,
  FORMAT_VERSION,
  LOG_PREFIX,
  TXNLOG_MAGIC,
  listDataFiles,
  logFilesFrom,
} from './data-files.js';
import { decodeTxnEntry, type TxnEntry } from './txn-codec.js';

/** jute.maxbuffer (0xfffff) plus ZooKeeper's default extra of the same size. */
export const DEFAULT_MAX_TXN_BYTES = 2 * 0xfffff;
const ENTRY_OVERHEAD = 13; // checksum long, length int, 'B'

export interface LogRecord extends TxnEntry {
  file: string;
  offset: number;
  /** The whole entry, checksum to 'B'. */
  entryBytes: number;
}

export interface ReadLogOptions {
  maxTxnBytes?: number;
}

function diskError(file: string, offset: number, what: string): ZktsError {
  return new ZktsError(
    'ZKTS_ERR_DISK',
    `txn log ${file} is corrupt at offset ${offset}: ${what}. Restore the data directory from a ` +
      `backup or a healthy ensemble member; do not delete the file unless you accept losing its txns`,
  );
}

const SECTOR_BYTES = 512;

/** Whether `entry` (at file offset `at`) holds a whole 512-byte file sector of zeros. */
function hasZeroSector(entry: Buffer, at: number): boolean {
  for (let s = Math.ceil(at / SECTOR_BYTES) * SECTOR_BYTES; s + SECTOR_BYTES <= at + entry.length; s += SECTOR_BYTES) {
    let zero = true;
    for (let i = s - at; i < s - at + SECTOR_BYTES; i++) {
      if (entry[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) return true;
  }
  return false;
}

/** One log file read front to back through a window, without loading it whole. */
export class LogFileReader {
  /** Offset just past the last whole entry. */
  validEnd = FILE_HEADER_BYTES;
  /** The log ended on a partial entry (not on zero fill or the end of the file). */
  tornTail = false;
  private readonly fd: number;
  private readonly size: number;
  private win = Buffer.alloc(0);
  private winStart = 0;
  private pos = FILE_HEADER_BYTES;
  private done = false;

  /** Set on the newest log: an entry with a whole zero sector is a torn write, not corruption. */
  tolerateTornSectors = false;

  private constructor(
    readonly path: string,
    private readonly maxTxnBytes: number,
  ) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
  }

  /** Opens a log; 'headerless' when the file is shorter than its header or the header is zeros. */
  static open(path: string, opts: ReadLogOptions = {}): LogFileReader | 'headerless' {
    const r = new LogFileReader(path, opts.maxTxnBytes ?? DEFAULT_MAX_TXN_BYTES);
    const h = r.bytes(0, FILE_HEADER_BYTES);
    if (h === null || h.every((b) => b === 0)) {
      r.close();
      return 'headerless';
    }
    const magic = h.readInt32BE(0);
    const version = h.readInt32BE(4);
    if (magic !== TXNLOG_MAGIC || version !== FORMAT_VERSION) {
      r.close();
      throw diskError(path, 0, `bad file header (magic 0x${(magic >>> 0).toString(16)}, version ${version}): not a ZooKeeper txn log`);
    }
    return r;
  }

  /** `n` bytes at `at`, or null past the end of the file. The slice is valid until the next call. */
  private bytes(at: number, n: number): Buffer | null {
    if (at + n > this.size) return null;
    if (at < this.winStart || at + n > this.winStart + this.win.length) {
      const len = Math.min(Math.max(n, 1 << 20), this.size - at);
      if (this.win.length < len) this.win = Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        const k = readSync(this.fd, this.win, got, len - got, at + got);
        if (k === 0) break;
        got += k;
      }
      this.winStart = at;
      if (got < n) return null;
      return this.win.subarray(0, n);
    }
    return this.win.subarray(at - this.winStart, at - this.winStart + n);
  }

  /** The next whole entry, or null at the end of the log. */
  next(): LogRecord | null {
    if (this.done) return null;
    const at = this.pos;
    const head = this.bytes(at, 12);
    if (head === null) return this.end(this.size > at);
    // The checksum is a long holding an unsigned 32-bit Adler-32: compared as two ints, no bigint.
    const checksumHigh = head.readInt32BE(0);
    const checksumLow = head.readUInt32BE(4);
    const len = head.readInt32BE(8);
    if (len === 0) return this.end(checksumHigh !== 0 || checksumLow !== 0);
    if (len < 0 || len > this.maxTxnBytes) throw diskError(this.path, at, `unreasonable entry length ${len}`);
    const body = this.bytes(at + 12, len + 1);
    if (body === null) return this.end(true);
    if (body[len] !== END_OF_RECORD) return this.end(true);
    const txnBytes = body.subarray(0, len);
    const computed = adler32(txnBytes);
    if (checksumHigh !== 0 || checksumLow !== computed) {
      // In the newest log, an entry past the last fsync can reach the disk with a sector missing
      // (sectors written back out of order before a power loss). It was never acknowledged, so
      // it ends the log, as etcd's WAL treats it; a flipped bit elsewhere is still corruption.
      if (this.tolerateTornSectors && hasZeroSector(this.bytes(at, 12 + len + 1)!, at)) return this.end(true);
      const stored = (BigInt(checksumHigh) << 32n) | BigInt(checksumLow);
      throw diskError(this.path, at, `checksum mismatch (stored ${stored}, computed ${computed})`);
    }
    let entry: TxnEntry;
    try {
      // Straight from the read window: the decoded txn copies what it keeps (strings, data).
      entry = decodeTxnEntry(txnBytes);
    } catch (e) {
      if (e instanceof JuteDecodeError) throw diskError(this.path, at, `undecodable txn: ${e.message}`);
      throw e;
    }
    this.pos = at + ENTRY_OVERHEAD + len;
    this.validEnd = this.pos;
    // A literal, not a spread of `entry`: the spread took most of the reader's time.
    return { hdr: entry.hdr, txn: entry.txn, digest: entry.digest, file: this.path, offset: at, entryBytes: ENTRY_OVERHEAD + len };
  }

  private end(torn: boolean): null {
    this.done = true;
    this.tornTail = torn;
    return null;
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface LogTail {
  /** The newest log file read, where the log ends. */
  file: string;
  validEnd: number;
  tornTail: boolean;
  headerless: boolean;
}

/**
 * Every whole entry with zxid >= `fromZxid`, across the logs of `dir` (a version-2 directory),
 * oldest first. A log that ends early is followed by the next file, as in ZooKeeper. A
 * header-less file is tolerated only as the newest; `onTail` hears where the newest log ends.
 */
export function* readTxnLog(
  dir: string,
  fromZxid: bigint,
  opts: ReadLogOptions & { onTail?: (tail: LogTail) => void } = {},
): Generator<LogRecord> {
  const files = logFilesFrom(listDataFiles(dir, LOG_PREFIX), fromZxid - 1n);
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const newest = i === files.length - 1;
    const r = LogFileReader.open(f.path, opts);
    if (r === 'headerless') {
      if (!newest) throw diskError(f.path, 0, 'missing file header, yet newer logs follow');
      opts.onTail?.({ file: f.path, validEnd: 0, tornTail: false, headerless: true });
      return;
    }
    r.tolerateTornSectors = newest;
    try {
      for (let rec = r.next(); rec !== null; rec = r.next()) {
        if (rec.hdr.zxid >= fromZxid) yield rec;
      }
    } finally {
      r.close();
    }
    if (newest) opts.onTail?.({ file: f.path, validEnd: r.validEnd, tornTail: r.tornTail, headerless: false });
  }
}

/** The zxid of the last whole entry in the logs of `dir`, or null when there is none. */
export function lastLoggedZxid(dir: string, opts: ReadLogOptions = {}): bigint | null {
  const logs = listDataFiles(dir, LOG_PREFIX);
  if (logs.length === 0) return null;
  let last: bigint | null = null;
  for (const rec of readTxnLog(dir, logs[logs.length - 1]!.zxid, opts)) last = rec.hdr.zxid;
  return last;
}
