// chunked-writer.ts — a jute writer for files too big to build in one buffer (snapshots): the
// output is cut into chunks of a fixed size, each checksummed (Adler32, running) as it is cut, and
// chunk buffers given back once written are reused, so memory stays flat however big the file.
import { JuteWriter } from '../protocol/jute.js';
import type { ACL } from '../protocol/records.js';
import { Adler32 } from './adler32.js';

const SURROGATE = /[\ud800-\udfff]/;

/**
 * A jute writer that cuts its output into chunks and keeps a running Adler32 of them. Longs go
 * through a DataView: Buffer.writeBigInt64BE is several times slower, and a snapshot writes six
 * per node. Chunk buffers given back with `recycle` are reused.
 */
export class ChunkedWriter {
  private readonly done: Buffer[] = [];
  private readonly free: Buffer[] = [];
  private readonly sum = new Adler32();
  private buf: Buffer = Buffer.alloc(0);
  private dv = new DataView(this.buf.buffer);
  private off = 0;

  constructor(private readonly chunkBytes: number) {
    this.fresh(chunkBytes);
  }

  private fresh(n: number): void {
    this.buf = n === this.chunkBytes && this.free.length > 0 ? this.free.pop()! : Buffer.allocUnsafeSlow(n);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.off = 0;
  }

  /** The chunks finished since the last call, in order. */
  take(): Buffer[] {
    return this.done.splice(0, this.done.length);
  }

  /** Gives a written chunk's buffer back for reuse. */
  recycle(chunk: Buffer): void {
    const whole = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.buffer.byteLength - chunk.byteOffset);
    if (whole.length === this.chunkBytes && this.free.length < 4) this.free.push(whole);
  }

  /** Ends the current chunk (when it is full enough, or always). */
  cut(force = false): void {
    if (this.off === 0 || (!force && this.off < this.chunkBytes - 4096)) return;
    const c = this.buf.subarray(0, this.off);
    this.sum.update(c);
    this.done.push(c);
    this.fresh(this.chunkBytes);
  }

  private need(n: number): void {
    if (this.off + n <= this.buf.length) return;
    this.cut(true);
    if (n > this.buf.length) this.fresh(n);
  }

  int(v: number): this {
    this.need(4);
    this.dv.setInt32(this.off, v);
    this.off += 4;
    return this;
  }

  long(v: bigint): this {
    this.need(8);
    this.dv.setBigInt64(this.off, v);
    this.off += 8;
    return this;
  }

  /** A long held as a JS number (times in ms): two halves, no BigInt. */
  longOfNumber(v: number): this {
    this.need(8);
    this.dv.setInt32(this.off, Math.floor(v / 4294967296));
    this.dv.setUint32(this.off + 4, v >>> 0);
    this.off += 8;
    return this;
  }

  buffer(b: Buffer | null): this {
    if (b === null) return this.int(-1);
    this.int(b.length);
    this.need(b.length);
    this.off += b.copy(this.buf, this.off);
    return this;
  }

  string(s: string): this {
    if (SURROGATE.test(s)) return this.buffer(new JuteWriter(s.length * 3 + 4).string(s).toBuffer().subarray(4));
    const len = Buffer.byteLength(s, 'utf8');
    this.int(len);
    this.need(len);
    this.off += this.buf.write(s, this.off, len, 'utf8');
    return this;
  }

  acl(list: readonly ACL[]): void {
    this.int(list.length);
    for (const a of list) this.int(a.perms).string(a.id.scheme).string(a.id.id);
  }

  /** SnapStream.sealStream: the checksum of everything so far, then "/". */
  seal(): void {
    this.cut(true);
    this.long(BigInt(this.sum.value)).string('/');
  }
}
