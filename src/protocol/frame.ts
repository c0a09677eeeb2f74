// frame.ts — splits a byte stream into ZooKeeper frames (4-byte big-endian length + body).
// A push parser: feed it chunks as they arrive, it hands back whole frames. Frames that lie
// wholly inside one chunk are handed out as views of that chunk (no copy); only a frame split
// across chunks is assembled, into a buffer of exactly its declared length, and only after the
// length has been checked against the limit.

export const DEFAULT_MAX_BUFFER = 0xfffff;

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

export class FrameParser {
  private readonly maxFrameBytes: number;
  private header = Buffer.alloc(4);
  private headerHave = 0;
  private body: Buffer | null = null;
  private bodyHave = 0;

  constructor(maxFrameBytes = DEFAULT_MAX_BUFFER) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** True when no partial frame is buffered. */
  get idle(): boolean {
    return this.headerHave === 0 && this.body === null;
  }

  /**
   * Feeds a chunk; calls `onFrame` for each whole frame, in order. Throws FrameError on a bad
   * length; the caller closes the connection.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let off = 0;
    const n = chunk.length;
    while (off < n) {
      if (this.body === null) {
        if (this.headerHave === 0 && n - off >= 4) {
          const len = this.checkLength(chunk.readInt32BE(off));
          if (n - off - 4 >= len) {
            onFrame(chunk.subarray(off + 4, off + 4 + len));
            off += 4 + len;
            continue;
          }
          this.body = Buffer.allocUnsafe(len);
          this.bodyHave = 0;
          off += 4;
        } else {
          const take = Math.min(4 - this.headerHave, n - off);
          chunk.copy(this.header, this.headerHave, off, off + take);
          this.headerHave += take;
          off += take;
          if (this.headerHave < 4) return;
          this.headerHave = 0;
          const len = this.checkLength(this.header.readInt32BE(0));
          this.body = Buffer.allocUnsafe(len);
          this.bodyHave = 0;
        }
      }
      const body = this.body;
      const take = Math.min(body.length - this.bodyHave, n - off);
      chunk.copy(body, this.bodyHave, off, off + take);
      this.bodyHave += take;
      off += take;
      if (this.bodyHave === body.length) {
        this.body = null;
        onFrame(body);
      }
    }
  }

  private checkLength(len: number): number {
    if (len < 0 || len > this.maxFrameBytes) {
      throw new FrameError(`Len error ${len}: a frame must be 0..${this.maxFrameBytes} bytes (jute.maxbuffer)`);
    }
    return len;
  }
}
