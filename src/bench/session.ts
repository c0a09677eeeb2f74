// session.ts — one ZooKeeper session on a raw socket that keeps K requests in flight. Built to
// cost the load generator as little CPU as possible: request frames are prebuilt templates
// copied into one buffer per socket read (their xid patched in place), replies are matched by
// xid and never decoded beyond the ReplyHeader, one timestamp is taken per socket read and per
// write, and there is no promise or closure per request.
//
// xids: slot s of K sends xids s+1, s+1+K, s+1+2K, …, so a reply's slot is (xid-1) % K and the
// slot's expected xid confirms the match. ZooKeeper answers one session's requests in order, but
// nothing here relies on it.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { decodeConnectResponse, encodeConnectRequest } from '../protocol/client-codec.js';
import { FrameParser } from '../protocol/frame.js';
import { JuteReader } from '../protocol/jute.js';
import { OpCode } from '../protocol/opcodes.js';
import { Histogram } from './histogram.js';

/** Decides what each slot sends next. */
export interface Workload {
  /**
   * The next request frame for `slot` (length prefix included; bytes 4..8, the xid, are
   * overwritten in the copy that is sent), or null when the slot has nothing more to send.
   * `lastType` and `reply` describe the reply the slot just received (reply = ReplyHeader and
   * body, without the length prefix); both are -1/null on the slot's first request.
   */
  next(slot: number, lastType: number, reply: Buffer | null): Buffer | null;
  /** Error codes that are expected for an opcode (e.g. NodeExists while populating). */
  tolerated?(type: number, err: number): boolean;
}

/** Shared by every session of a process; the runner flips it on timers. */
export interface Phase {
  /** Slots are refilled while this is true. */
  sending: boolean;
  /** Completions are counted while this is true. */
  counting: boolean;
  /** Latencies are recorded for requests sent at or after this performance.now() time. */
  recordFrom: number;
}

export class SessionStats {
  /** Replies received while phase.counting. */
  completed = 0;
  /** Latency of every counted request whose send time is ≥ phase.recordFrom. */
  readonly all = new Histogram();
  /** The same, per opcode. */
  readonly byType = new Map<number, Histogram>();
  /** "opcode:err" → count, for replies with err != 0 that the workload did not tolerate. */
  readonly errors = new Map<string, number>();
  /** Replies with err != 0 that the workload tolerated. */
  tolerated = 0;
  /** Socket reads ('data' events) while phase.counting: completed / reads shows how the server batches replies. */
  reads = 0;

  histFor(type: number): Histogram {
    let h = this.byType.get(type);
    if (h === undefined) this.byType.set(type, (h = new Histogram()));
    return h;
  }
}

export interface SessionOptions {
  host: string;
  port: number;
  outstanding: number;
  sessionTimeoutMs: number;
  connectTimeoutMs: number;
}

const CLOSE_XID = 0x7ffffff0;

export class LoadSession {
  readonly stats = new SessionStats();
  sessionId = 0n;
  /** Why the session ended early, if it did. */
  failure: string | null = null;

  private readonly k: number;
  private readonly socket: net.Socket;
  private readonly parser = new FrameParser(16 * 1024 * 1024);
  private readonly slotXid: Int32Array;
  private readonly slotType: Int32Array;
  private readonly slotSentAt: Float64Array;
  private readonly pending: Int32Array; // slots to send at the next flush
  private readonly pendingFrames: Array<Buffer | null>;
  private pendingCount = 0;
  private inFlight = 0;
  private connected = false;
  private closing = false;
  private closed = false;
  private readonly onFrameBound = (f: Buffer): void => this.onFrame(f);
  private receivedAt = 0;
  private workload: Workload | null = null;
  private phase: Phase | null = null;
  private onConnect: ((err: Error | null) => void) | null = null;
  private onDrained: (() => void) | null = null;
  private onClosed: (() => void) | null = null;

  constructor(private readonly opts: SessionOptions) {
    this.k = opts.outstanding;
    this.slotXid = new Int32Array(this.k);
    this.slotType = new Int32Array(this.k).fill(-1);
    this.slotSentAt = new Float64Array(this.k);
    this.pending = new Int32Array(this.k);
    this.pendingFrames = new Array<Buffer | null>(this.k).fill(null);
    for (let s = 0; s < this.k; s++) this.slotXid[s] = s + 1 - this.k;
    this.socket = new net.Socket();
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (e) => this.fail(`socket error: ${e.message}`));
    this.socket.on('close', () => {
      this.closed = true;
      if (!this.closing) this.fail('server closed the connection');
      this.onClosed?.();
      this.onDrained?.();
    });
  }

  /** Connects and completes the ZooKeeper handshake (a new session). */
  connect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(`no session within ${this.opts.connectTimeoutMs} ms`), this.opts.connectTimeoutMs);
      this.onConnect = (err) => {
        clearTimeout(timer);
        this.onConnect = null;
        if (err === null) resolve();
        else reject(err);
      };
      this.socket.connect(this.opts.port, this.opts.host, () => {
        this.socket.write(
          encodeConnectRequest({
            protocolVersion: 0,
            lastZxidSeen: 0n,
            timeOut: this.opts.sessionTimeoutMs,
            sessionId: 0n,
            passwd: Buffer.alloc(16),
            readOnly: false,
          }),
        );
      });
    });
  }

  /** Fills every slot and keeps refilling while phase.sending; resolves when nothing is in flight. */
  run(workload: Workload, phase: Phase): Promise<void> {
    this.workload = workload;
    this.phase = phase;
    return new Promise<void>((resolve) => {
      this.onDrained = () => {
        this.onDrained = null;
        resolve();
      };
      if (this.failure !== null) return this.onDrained();
      for (let s = 0; s < this.k; s++) this.enqueue(s, -1, null);
      this.flush();
      if (this.inFlight === 0) this.onDrained?.();
    });
  }

  /** Sends closeSession, waits (bounded) for its reply or the close, then drops the socket. */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    const done = new Promise<void>((r) => (this.onClosed = r));
    if (this.connected && this.failure === null) {
      const f = Buffer.alloc(12);
      f.writeInt32BE(8, 0);
      f.writeInt32BE(CLOSE_XID, 4);
      f.writeInt32BE(OpCode.closeSession, 8);
      this.socket.write(f);
    } else {
      this.socket.destroy();
    }
    const timer = setTimeout(() => this.socket.destroy(), timeoutMs);
    await done;
    clearTimeout(timer);
  }

  private fail(why: string): void {
    if (this.failure === null && !this.closing) this.failure = why;
    this.onConnect?.(new Error(why));
    if (!this.closed) this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.receivedAt = performance.now();
    if (this.phase?.counting === true) this.stats.reads++;
    try {
      this.parser.push(chunk, this.onFrameBound);
    } catch (e) {
      this.fail(`bad reply: ${(e as Error).message}`);
      return;
    }
    if (this.pendingCount > 0) this.flush();
    if (this.inFlight === 0 && this.pendingCount === 0) this.onDrained?.();
  }

  private onFrame(frame: Buffer): void {
    if (!this.connected) {
      const resp = decodeConnectResponse(new JuteReader(frame));
      if (resp.timeOut <= 0 || resp.sessionId === 0n) return this.fail('session refused (timeOut 0)');
      this.sessionId = resp.sessionId;
      this.connected = true;
      this.onConnect?.(null);
      return;
    }
    const xid = frame.readInt32BE(0);
    if (xid === CLOSE_XID) {
      this.socket.destroy();
      return;
    }
    if (xid < 0) return; // a notification or ping reply: this generator sets no watches
    const slot = (xid - 1) % this.k;
    if (this.slotXid[slot] !== xid) return this.fail(`reply for xid ${xid}, which no request is waiting on`);
    const err = frame.readInt32BE(12);
    const type = this.slotType[slot]!;
    const st = this.stats;
    const phase = this.phase!;
    if (phase.counting) {
      st.completed++;
      const sentAt = this.slotSentAt[slot]!;
      if (sentAt >= phase.recordFrom) {
        const us = (this.receivedAt - sentAt) * 1000;
        st.all.record(us);
        st.histFor(type).record(us);
      }
    }
    if (err !== 0) {
      if (this.workload!.tolerated?.(type, err) === true) st.tolerated++;
      else {
        const key = `${type}:${err}`;
        st.errors.set(key, (st.errors.get(key) ?? 0) + 1);
      }
    }
    this.inFlight--;
    if (phase.sending) this.enqueue(slot, type, frame);
  }

  private enqueue(slot: number, lastType: number, reply: Buffer | null): void {
    const f = this.workload!.next(slot, lastType, reply);
    if (f === null) return;
    this.pending[this.pendingCount] = slot;
    this.pendingFrames[this.pendingCount] = f;
    this.pendingCount++;
  }

  private flush(): void {
    if (this.closed) return;
    const n = this.pendingCount;
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += this.pendingFrames[i]!.length;
    const out = Buffer.allocUnsafe(bytes);
    const now = performance.now();
    let off = 0;
    for (let i = 0; i < n; i++) {
      const f = this.pendingFrames[i]!;
      this.pendingFrames[i] = null;
      const slot = this.pending[i]!;
      const xid = this.slotXid[slot]! + this.k;
      if (xid >= CLOSE_XID) return this.fail('xid space exhausted');
      this.slotXid[slot] = xid;
      this.slotType[slot] = f.readInt32BE(8);
      this.slotSentAt[slot] = now;
      f.copy(out, off);
      out.writeInt32BE(xid, off + 4);
      off += f.length;
    }
    this.pendingCount = 0;
    this.inFlight += n;
    this.socket.write(out);
  }
}
