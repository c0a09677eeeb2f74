// jute.ts — ZooKeeper's jute binary encoding: big-endian ints and longs, length-prefixed buffers
// and strings (-1 = null), booleans as one byte. The reader never trusts a declared length: every
// length is checked against the bytes left before anything is allocated or sliced. Longs are
// bigint so 64-bit ids and zxids stay exact. Strings are written as Java's jute writes them:
// each UTF-16 code unit on its own (CESU-8 for characters outside the BMP).

export class JuteDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JuteDecodeError';
  }
}

export class JuteReader {
  readonly buf: Buffer;
  offset: number;
  readonly end: number;
  /**
   * How string() reads CESU-8 surrogates when not told: false (a server reads as Java does), true
   * for a client, which wants back the characters the other side wrote.
   */
  pairSurrogates = false;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.offset) {
      throw new JuteDecodeError(`truncated record: ${what} needs ${n} bytes, ${this.end - this.offset} left`);
    }
  }

  int(): number {
    this.need(4, 'int');
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  long(): bigint {
    this.need(8, 'long');
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }

  bool(): boolean {
    this.need(1, 'boolean');
    return this.buf[this.offset++] !== 0;
  }

  /** A boolean that old clients leave off the end of a record (ConnectRequest.readOnly). */
  optionalBool(): boolean {
    return this.offset < this.end ? this.bool() : false;
  }

  /** Length-prefixed bytes; -1 reads as null. The slice shares memory with the frame. */
  buffer(): Buffer | null {
    const len = this.int();
    if (len === -1) return null;
    if (len < 0) throw new JuteDecodeError(`negative buffer length ${len}`);
    this.need(len, 'buffer');
    const b = this.buf.subarray(this.offset, this.offset + len);
    this.offset += len;
    return b;
  }

  /** Length-prefixed bytes copied out of the frame, for data the server keeps. */
  bufferCopy(): Buffer | null {
    const b = this.buffer();
    return b === null ? null : Buffer.from(b);
  }

  /**
   * A string as a Java peer reads it (`new String(bytes, UTF_8)`): an encoded surrogate (CESU-8,
   * as jute writes characters outside the BMP) becomes one U+FFFD per 3-byte half. With
   * `pairSurrogates` the halves are joined back into the character instead, for a client that
   * wants what the other side meant. The default is the reader's `pairSurrogates`.
   */
  string(pairSurrogates = this.pairSurrogates): string | null {
    const len = this.int();
    if (len === -1) return null;
    if (len < 0) throw new JuteDecodeError(`negative string length ${len}`);
    this.need(len, 'string');
    const s = decodeJavaUtf8(this.buf, this.offset, this.offset + len, pairSurrogates);
    this.offset += len;
    return s;
  }

  /** A string that must be present; null reads as ''. */
  ustring(): string {
    return this.string() ?? '';
  }

  /**
   * A vector count; -1 reads as null. Each element takes at least `minElementBytes`, so a count
   * larger than the bytes left is refused before any array is built.
   */
  vectorCount(minElementBytes: number): number | null {
    const n = this.int();
    if (n === -1) return null;
    if (n < 0) throw new JuteDecodeError(`negative vector count ${n}`);
    if (n * minElementBytes > this.end - this.offset) {
      throw new JuteDecodeError(`vector count ${n} exceeds the ${this.end - this.offset} bytes left`);
    }
    return n;
  }

  stringVector(): string[] | null {
    const n = this.vectorCount(4);
    if (n === null) return null;
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = this.ustring();
    return out;
  }
}

/** Whether bytes at i are a 3-byte encoding of a UTF-16 surrogate (ED A0..BF 80..BF). */
function encodedSurrogateAt(b: Buffer, i: number, end: number): boolean {
  return i + 2 < end && b[i] === 0xed && b[i + 1]! >= 0xa0 && b[i + 1]! <= 0xbf && (b[i + 2]! & 0xc0) === 0x80;
}

/**
 * UTF-8 as Java decodes it. It differs from Node's decoder only on encoded surrogates, which Java
 * replaces by one U+FFFD each (Node by three); other malformed input decodes alike.
 */
export function decodeJavaUtf8(b: Buffer, start: number, end: number, pairSurrogates: boolean): string {
  let i = start;
  for (; i < end; i++) if (b[i] === 0xed && encodedSurrogateAt(b, i, end)) break;
  if (i === end) return b.toString('utf8', start, end);
  let out = b.toString('utf8', start, i);
  let from = i;
  while (i < end) {
    if (!encodedSurrogateAt(b, i, end)) {
      i++;
      continue;
    }
    out += b.toString('utf8', from, i);
    const unit = ((b[i]! & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
    const isHigh = unit < 0xdc00;
    if (pairSurrogates && isHigh && encodedSurrogateAt(b, i + 3, end)) {
      const low = ((b[i + 3]! & 0x0f) << 12) | ((b[i + 4]! & 0x3f) << 6) | (b[i + 5]! & 0x3f);
      if (low >= 0xdc00) {
        out += String.fromCharCode(unit, low);
        i += 6;
        from = i;
        continue;
      }
    }
    out += '\ufffd';
    i += 3;
    from = i;
  }
  return out + b.toString('utf8', from, end);
}

/** Bytes of `s` as jute writes them (UTF-16 code units encoded one by one). */
export function juteStringBytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  return n;
}

function hasSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return true;
  }
  return false;
}

const EMPTY = Buffer.alloc(0);

/**
 * A growable output buffer. Writers reserve the 4-byte frame length up front and patch it at
 * the end, so a reply is encoded once, in place, with no intermediate copies.
 */
export class JuteWriter {
  buf: Buffer;
  offset: number;
  /** What the buffer take() drops is replaced with, once something is written again. */
  private nextBytes = 256;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.offset = 0;
  }

  reset(): void {
    this.offset = 0;
  }

  private ensure(n: number): void {
    const want = this.offset + n;
    if (want <= this.buf.length) return;
    let size = this.buf.length === 0 ? this.nextBytes : this.buf.length * 2;
    while (size < want) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.offset);
    this.buf = next;
  }

  int(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.offset);
    this.offset += 4;
    return this;
  }

  long(v: bigint): this {
    this.ensure(8);
    if (v >= 0n && v <= 0x1fffffffffffffn) {
      // Most longs (zxids, times, lengths) fit in a double: two int32 writes beat BigInt's.
      const n = Number(v);
      this.buf.writeUInt32BE(Math.floor(n / 4294967296), this.offset);
      this.buf.writeUInt32BE(n >>> 0, this.offset + 4);
    } else {
      this.buf.writeBigInt64BE(v, this.offset);
    }
    this.offset += 8;
    return this;
  }

  bool(v: boolean): this {
    this.ensure(1);
    this.buf[this.offset++] = v ? 1 : 0;
    return this;
  }

  buffer(b: Uint8Array | null): this {
    if (b === null) return this.int(-1);
    this.int(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.offset);
    this.offset += b.length;
    return this;
  }

  string(s: string | null): this {
    if (s === null) return this.int(-1);
    if (!hasSurrogate(s)) {
      const len = Buffer.byteLength(s, 'utf8');
      this.int(len);
      this.ensure(len);
      this.buf.write(s, this.offset, len, 'utf8');
      this.offset += len;
      return this;
    }
    const len = juteStringBytes(s);
    this.int(len);
    this.ensure(len);
    const b = this.buf;
    let o = this.offset;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) b[o++] = c;
      else if (c < 0x800) {
        b[o++] = 0xc0 | (c >> 6);
        b[o++] = 0x80 | (c & 0x3f);
      } else {
        b[o++] = 0xe0 | (c >> 12);
        b[o++] = 0x80 | ((c >> 6) & 0x3f);
        b[o++] = 0x80 | (c & 0x3f);
      }
    }
    this.offset = o;
    return this;
  }

  stringVector(v: readonly string[] | null): this {
    if (v === null) return this.int(-1);
    this.int(v.length);
    for (const s of v) this.string(s);
    return this;
  }

  /** Reserves a 4-byte length; returns its position for `endFrame`. */
  beginFrame(): number {
    const at = this.offset;
    this.int(0);
    return at;
  }

  endFrame(at: number): void {
    this.buf.writeInt32BE(this.offset - at - 4, at);
  }

  /**
   * Hands out what was written so far (no copy). The next write starts a fresh buffer the size
   * of this one (256 B to 64 KiB); until then the writer holds none, so an idle connection keeps
   * no buffer (10,000 idle sessions held 4 KiB each).
   */
  take(): Buffer {
    const out = this.buf.subarray(0, this.offset);
    this.nextBytes = Math.max(256, Math.min(this.buf.length, 65536));
    this.buf = EMPTY;
    this.offset = 0;
    return out;
  }

  /** A copy of what was written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.offset));
  }
}
