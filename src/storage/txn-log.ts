// txn-log.ts — the txn log writer: ZooKeeper's log.<hex zxid> files (FileTxnLog) with group
// commit. Every txn appended while a write+fsync is in flight goes into the next one, so one
// fsync covers as many txns as arrived during the previous one; `done` is called only once the
// txn's bytes are on disk (or with the error that stopped them). Files are preallocated in
// preAllocSize steps, as ZooKeeper does (the file is extended, leaving zeros that read as the
// end of the log). After a failed batch (ENOSPC, EIO) every txn of that batch hears the error and
// none is acknowledged, nor is any txn appended while it was being written (those fail with it,
// unwritten); the file is cut back to the last good offset and made durable, so the
// writer can go on once the disk recovers and a reader never meets a half-written batch.
// With forceSync a batch is written through a second descriptor opened O_DSYNC: the write returns
// once its bytes are on disk, as write + fdatasync would (ZooKeeper's force(false)), in one job
// on libuv's threadpool instead of two, so a lone write waits for one thread hop, not two.
// Preallocating by extending the file leaves a hole, and a durable write into a hole allocates a
// block, which costs a journal commit (about every 22nd write of 184 bytes, 1.7× the sync time:
// the p95-p99 of single-session writes). So a durable write that reaches past the zeros written
// so far also writes the next ZERO_AHEAD_BYTES of zeros after its txns, in the same write: only
// about one write in 1,400 allocates. The zeros read as the end of the log, as the hole did.
// Entries are framed straight into the batch buffer being filled (two buffers, reused: one
// filling, one being written): no allocation per txn. Small per-txn Buffers would come from
// Node's shared 8 KiB pool, in the same slabs as the znode data decoded from requests, and every
// slab holding one live znode's data would stay allocated (about 50 MiB for 100k znodes).
import { constants } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { JuteWriter } from '../protocol/jute.js';
import type { TxnDigest } from '../tree/digest.js';
import type { Txn, TxnHeader } from '../tree/txn.js';
import { ZktsError } from '../errors.js';
import { adler32 } from './adler32.js';
import { END_OF_RECORD, FILE_HEADER_BYTES, FORMAT_VERSION, TXNLOG_MAGIC, fsyncDirAsync, logName } from './data-files.js';
import { writeTxnHeader, writeTxnRecord } from './txn-codec.js';

/** zookeeper.preAllocSize default: 64 MiB. */
export const DEFAULT_PREALLOC_BYTES = 64 * 1024 * 1024;

/** The file operations the writer needs (DataDir syncs the snapshot directory with syncDir too); tests substitute failing ones. */
export interface LogFileHandle {
  write(buf: Buffer, position: number): Promise<void>;
  /** Writes the buffers one after the other and returns once they are durable, as write then datasync would, in one operation. */
  writeDurable(bufs: readonly Buffer[], position: number): Promise<void>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
  truncate(len: number): Promise<void>;
  close(): Promise<void>;
}

export interface LogFs {
  /** Creates (or empties) a file for writing. */
  create(path: string): Promise<LogFileHandle>;
  remove(path: string): Promise<void>;
  syncDir(dir: string): Promise<void>;
}

class NodeLogFile implements LogFileHandle {
  private dsync: FileHandle | null = null;
  constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
  ) {}
  write(buf: Buffer, position: number): Promise<void> {
    return writeAll(this.fh, buf, position);
  }
  async writeDurable(bufs: readonly Buffer[], position: number): Promise<void> {
    this.dsync ??= await open(this.path, constants.O_WRONLY | constants.O_DSYNC);
    const fh = this.dsync;
    const total = bufs.reduce((n, b) => n + b.length, 0);
    const { bytesWritten } = await fh.writev(bufs as Buffer[], position);
    if (bytesWritten < total) await writeAll(fh, Buffer.concat(bufs).subarray(bytesWritten), position + bytesWritten);
  }
  datasync(): Promise<void> {
    return this.fh.datasync();
  }
  sync(): Promise<void> {
    return this.fh.sync();
  }
  truncate(len: number): Promise<void> {
    return this.fh.truncate(len);
  }
  async close(): Promise<void> {
    const d = this.dsync;
    this.dsync = null;
    try {
      if (d !== null) await d.close();
    } finally {
      await this.fh.close();
    }
  }
}

async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

export const nodeLogFs: LogFs = {
  async create(path) {
    return new NodeLogFile(await open(path, 'w'), path);
  },
  remove(path) {
    return unlink(path);
  },
  syncDir(dir) {
    return fsyncDirAsync(dir);
  },
};

export interface TxnLogOptions {
  /** The version-2 directory under dataLogDir. */
  dir: string;
  preAllocBytes?: number;
  /** zookeeper.forceSync: false skips fsync (and durability with it). */
  forceSync?: boolean;
  fsyncWarningThresholdMs?: number;
  fs?: LogFs;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** Each durable write's duration (write and sync in one) and the txns it made durable (fsynctime, sync_processor_batch_size). */
  onFsync?: (ms: number, txns: number) => void;
}

interface Pending {
  zxid: bigint;
  done: (err: Error | null) => void;
}

/** A batch buffer that outgrew this after a burst is replaced by a fresh one once written. */
const BATCH_BUFFER_KEEP_BYTES = 4 * 1024 * 1024;
const BATCH_BUFFER_BYTES = 64 * 1024;
/** A durable write that reaches past the zeroed part of the file writes this many zero bytes after its txns. */
export const ZERO_AHEAD_BYTES = 256 * 1024;
const ZEROS = Buffer.alloc(ZERO_AHEAD_BYTES);

export interface TxnLogStats {
  batches: number;
  txns: number;
  bytes: number;
  failedBatches: number;
  maxBatchTxns: number;
  lastFsyncMs: number;
}

/** ZooKeeper's FilePadding.calculateFileSizeWithPadding. */
export function paddedFileSize(position: number, fileSize: number, preAlloc: number): number {
  if (preAlloc <= 0 || position + 4096 < fileSize) return fileSize;
  if (position > fileSize) return position + preAlloc - ((position + preAlloc) % preAlloc);
  return fileSize + preAlloc;
}

/**
 * Appends one log entry for the txn to `w` in place: {long Adler32; int length; txn bytes; 'B'},
 * the txn bytes ending with its TxnDigest when it has one. Returns its size.
 */
export function appendEntry(w: JuteWriter, hdr: TxnHeader, txn: Txn, digest: TxnDigest | null = null): number {
  const start = w.offset;
  try {
    w.long(0n).int(0); // checksum and length, filled in below
    writeTxnHeader(w, hdr);
    writeTxnRecord(w, txn);
    if (digest !== null) w.int(digest.version).long(digest.treeDigest);
  } catch (e) {
    w.offset = start; // nothing of a txn that cannot be encoded stays in the batch
    throw e;
  }
  const end = w.offset;
  w.bool(false);
  const buf = w.buf; // only now: writing may have moved it
  buf[end] = END_OF_RECORD;
  buf.writeUInt32BE(0, start);
  buf.writeUInt32BE(adler32(buf, 1, start + 12, end), start + 4);
  buf.writeInt32BE(end - start - 12, start + 8);
  return w.offset - start;
}

export class TxnLogWriter {
  private readonly onFsync: ((ms: number, txns: number) => void) | undefined;
  readonly stats: TxnLogStats = { batches: 0, txns: 0, bytes: 0, failedBatches: 0, maxBatchTxns: 0, lastFsyncMs: 0 };
  private readonly fs: LogFs;
  private readonly preAlloc: number;
  private readonly forceSync: boolean;
  private readonly warnMs: number;
  /** The batch being filled, and the one written last (reused next). */
  private fill = new JuteWriter(BATCH_BUFFER_BYTES);
  private spare = new JuteWriter(BATCH_BUFFER_BYTES);
  private pending: Pending[] = [];
  private running = false;
  private scheduled = false;
  private idle: (() => void)[] = [];
  private file: LogFileHandle | null = null;
  private fileName: string | null = null;
  private position = 0;
  private fileSize = 0;
  /** Bytes before this offset have been written (txns or zeros), not left as a hole by the preallocation. */
  private zeroedTo = 0;
  /** The file may hold bytes past `position` from a failed batch. */
  private dirty = false;
  private rollPending = false;
  private closed = false;

  constructor(private readonly opts: TxnLogOptions) {
    this.fs = opts.fs ?? nodeLogFs;
    this.preAlloc = opts.preAllocBytes ?? DEFAULT_PREALLOC_BYTES;
    this.forceSync = opts.forceSync ?? true;
    this.onFsync = opts.onFsync;
    this.warnMs = opts.fsyncWarningThresholdMs ?? 1000;
    if (!this.forceSync) this.log('warn', 'zookeeper.forceSync=no: txns are acknowledged before they are on disk; a crash can lose them');
  }

  private log(level: 'info' | 'warn' | 'error', msg: string): void {
    this.opts.log?.(level, msg);
  }

  /**
   * The CommitStage: durable, then `done(null)`; or `done(err)` and never acknowledged.
   * Returns the size of the log entry.
   */
  append(hdr: TxnHeader, txn: Txn, done: (err: Error | null) => void, digest: TxnDigest | null = null): number {
    if (this.closed) {
      done(new ZktsError('ZKTS_ERR_DISK', 'the txn log is closed'));
      return 0;
    }
    const size = appendEntry(this.fill, hdr, txn, digest);
    this.pending.push({ zxid: hdr.zxid, done });
    this.kick();
    return size;
  }

  /** The next txn starts a new log file (after a snapshot, as ZooKeeper's rollLog). */
  roll(): void {
    this.rollPending = true;
  }

  /** The file being written, if any. */
  get currentFile(): string | null {
    return this.fileName;
  }

  /** Resolves once everything appended so far has been written (or has failed). */
  flushed(): Promise<void> {
    if (!this.running && !this.scheduled && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Waits for what was appended, then closes the current file: the next txn starts a new one
   * (before the directory is truncated under the writer, see truncate.ts).
   */
  async closeFile(): Promise<void> {
    while (this.running || this.scheduled || this.pending.length > 0) await this.flushed();
    const f = this.file;
    this.file = null;
    this.fileName = null;
    this.position = 0;
    this.fileSize = 0;
    this.zeroedTo = 0;
    this.dirty = false;
    this.rollPending = false;
    if (f) await f.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flushed();
    const f = this.file;
    this.file = null;
    if (f) await f.close();
  }

  private kick(): void {
    if (this.running || this.scheduled || this.pending.length === 0) return;
    this.scheduled = true;
    // Wait one turn so that everything arriving in this turn shares the first write.
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.pending.length > 0) {
      const batch = this.pending;
      const filled = this.fill;
      this.pending = [];
      this.fill = this.spare.buf.length > BATCH_BUFFER_KEEP_BYTES ? new JuteWriter(BATCH_BUFFER_BYTES) : this.spare;
      this.fill.reset();
      let err: Error | null = null;
      try {
        await this.writeBatch(batch, filled.buf.subarray(0, filled.offset));
      } catch (e) {
        err = this.failed(e, batch);
        await this.cutBack();
      }
      this.spare = filled;
      if (err !== null && this.pending.length > 0) {
        // Txns appended while the failed batch was being written were prepped on top of its txns
        // (which will now never apply): they fail with it, unwritten, so that the log never holds
        // a txn that counted on one it lacks, nor a digest worked out over one.
        batch.push(...this.pending);
        this.pending = [];
        this.fill.reset();
      }
      for (const p of batch) p.done(err);
    }
    this.running = false;
    const idle = this.idle;
    this.idle = [];
    for (const f of idle) f();
  }

  private failed(e: unknown, batch: Pending[]): Error {
    this.stats.failedBatches++;
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const first = batch[0]!.zxid.toString(16);
    const last = batch[batch.length - 1]!.zxid.toString(16);
    const msg =
      `cannot write txns 0x${first}..0x${last} to ${this.fileName ?? this.opts.dir}: ${(e as Error).message}` +
      (code === 'ENOSPC' ? ' (the disk is full: free space in dataLogDir)' : '');
    this.log('error', msg);
    return new ZktsError('ZKTS_ERR_DISK', msg, { cause: e });
  }

  /** After a failed batch: drop whatever it left past the last good offset, durably. */
  private async cutBack(): Promise<void> {
    if (this.file === null) return;
    this.zeroedTo = this.position; // a hole again past it, once cut
    try {
      await this.file.truncate(this.position);
      await this.file.sync();
      this.fileSize = this.position;
      this.dirty = false;
    } catch (e) {
      this.dirty = true;
      this.log('error', `cannot cut ${this.fileName} back to offset ${this.position}: ${(e as Error).message}`);
    }
  }

  private async writeBatch(batch: Pending[], buf: Buffer): Promise<void> {
    if (this.dirty) await this.cutBack();
    if (this.dirty) throw new Error(`${this.fileName} still holds a failed batch`);
    if (this.file === null || this.rollPending || this.position < FILE_HEADER_BYTES) await this.openNew(batch[0]!.zxid);
    const size = buf.length;
    const file = this.file!;
    const want = paddedFileSize(this.position + size, this.fileSize, this.preAlloc);
    this.dirty = true;
    if (want > this.fileSize) {
      await file.truncate(want); // extend: the new bytes read as zeros
      this.fileSize = want;
    }
    if (this.forceSync) {
      const t0 = performance.now();
      const end = this.position + size;
      if (end <= this.zeroedTo) {
        await file.writeDurable([buf], this.position);
      } else {
        const zeros = Math.max(0, Math.min(ZERO_AHEAD_BYTES, this.fileSize - end));
        await file.writeDurable(zeros > 0 ? [buf, ZEROS.subarray(0, zeros)] : [buf], this.position);
        this.zeroedTo = end + zeros;
      }
      const ms = performance.now() - t0;
      this.stats.lastFsyncMs = ms;
      this.onFsync?.(ms, batch.length);
      if (ms > this.warnMs) {
        this.log('warn', `fsync-ing the write ahead log took ${Math.round(ms)}ms which will adversely affect operation latency`);
      }
    } else {
      await file.write(buf, this.position);
    }
    this.dirty = false;
    this.position += size;
    if (this.position > this.fileSize) this.fileSize = this.position;
    this.stats.batches++;
    this.stats.txns += batch.length;
    this.stats.bytes += size;
    if (batch.length > this.stats.maxBatchTxns) this.stats.maxBatchTxns = batch.length;
  }

  private async openNew(firstZxid: bigint): Promise<void> {
    const old = this.file;
    const oldName = this.fileName;
    this.file = null;
    this.fileName = null;
    if (old) await old.close();
    // A file whose header never made it to disk would read as a broken log once newer ones follow.
    if (old && oldName && this.position < FILE_HEADER_BYTES) await this.fs.remove(oldName);
    this.rollPending = false;
    const name = join(this.opts.dir, logName(firstZxid));
    this.log('info', `Creating new log file: ${logName(firstZxid)}`);
    const f = await this.fs.create(name);
    this.file = f;
    this.fileName = name;
    this.position = 0;
    this.fileSize = 0;
    this.zeroedTo = 0;
    this.dirty = true;
    const header = Buffer.alloc(FILE_HEADER_BYTES);
    header.writeInt32BE(TXNLOG_MAGIC, 0);
    header.writeInt32BE(FORMAT_VERSION, 4);
    header.writeBigInt64BE(0n, 8); // dbid
    await f.write(header, 0);
    await f.sync();
    await this.fs.syncDir(this.opts.dir);
    this.position = FILE_HEADER_BYTES;
    this.fileSize = FILE_HEADER_BYTES;
    this.zeroedTo = FILE_HEADER_BYTES;
    this.dirty = false;
  }
}
