// request-queue.ts — the requests of a session, in order: those waiting to be written, those
// written and waiting for their reply (matched in order, as ZooKeeper answers them), and auth
// packets, whose replies come out of that order. `encodeBatch` writes what may be written now
// (up to `maxInFlight` unanswered, up to a batch size) into one buffer for one socket write.
// Memory is bounded: at most `maxQueued` requests wait (more fail with ZTHROTTLEDOP), and a
// request larger than `maxFrameBytes` fails on its own instead of making the server drop the
// connection.
import type { Response } from '../protocol/client-codec.js';
import { writeRequest } from '../protocol/client-codec.js';
import { Code } from '../protocol/codes.js';
import { JuteWriter } from '../protocol/jute.js';
import { Xid } from '../protocol/opcodes.js';
import type { Request } from '../protocol/requests.js';
import { ZkError } from './errors.js';
import { Fifo } from './fifo.js';

/** Turns a reply's code and body into the call's result; throws the call's error. */
export type OnReply<T> = (rc: number, body: Response | null) => T;

export interface Packet {
  /** Fixed for ping, auth and setWatches; given when written otherwise. */
  xid: number | null;
  request: Request;
  onReply: OnReply<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  settled: boolean;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const BATCH_BYTES = 256 * 1024;

export class RequestQueue {
  private readonly outgoing = new Fifo<Packet>();
  private readonly inflight = new Fifo<Packet>();
  private readonly authWaiting = new Fifo<Packet>();
  private readonly writer = new JuteWriter(4096);
  private nextXid = 1;
  /** While set, only packets it accepts are written (the rest wait in order): SASL in progress. */
  gate: ((p: Packet) => boolean) | null = null;

  constructor(private readonly limits: { maxInFlight: number; maxQueued: number; maxFrameBytes: number }) {}

  get full(): boolean {
    return this.outgoing.length >= this.limits.maxQueued;
  }

  /** True when something waits and may be written now. */
  get writable(): boolean {
    if (this.outgoing.length === 0 || this.inflight.length >= this.limits.maxInFlight) return false;
    const head = this.outgoing.peek()!;
    return this.gate === null || head.settled || this.gate(head);
  }

  /** A packet for `request` and the promise it settles; aborting `signal` rejects at once. */
  static packet<T>(request: Request, onReply: OnReply<T>, signal?: AbortSignal, xid: number | null = null): { packet: Packet; promise: Promise<T> } {
    let packet!: Packet;
    const promise = new Promise<T>((resolve, reject) => {
      packet = { xid, request, onReply, resolve: resolve as (v: unknown) => void, reject, settled: false, signal, onAbort: undefined };
    });
    if (signal !== undefined) {
      packet.onAbort = () => {
        if (packet.settled) return;
        packet.settled = true;
        packet.reject(signal.reason);
      };
      signal.addEventListener('abort', packet.onAbort, { once: true });
    }
    return { packet, promise };
  }

  push(p: Packet): void {
    this.outgoing.push(p);
  }

  /** Puts `ps` ahead of everything waiting (auth and watch replay after a handshake). */
  pushFront(ps: readonly Packet[]): void {
    this.outgoing.unshiftAll(ps);
  }

  /** Encodes what may be written now; null when nothing. */
  encodeBatch(): Buffer | null {
    const w = this.writer;
    while (this.writable && w.offset < BATCH_BYTES) {
      const p = this.outgoing.shift()!;
      if (p.settled) continue; // aborted before it was written
      const start = w.offset;
      const xid = p.xid ?? this.takeXid();
      const at = w.beginFrame();
      writeRequest(w, xid, p.request);
      w.endFrame(at);
      const bytes = w.offset - start - 4;
      if (bytes > this.limits.maxFrameBytes) {
        w.offset = start;
        this.fail(p, new ZkError(Code.MarshallingError, { message: `a request of ${bytes} bytes exceeds maxFrameBytes (${this.limits.maxFrameBytes})` }));
        continue;
      }
      p.xid = xid;
      if (xid === Xid.auth) this.authWaiting.push(p);
      else if (xid !== Xid.ping) this.inflight.push(p);
    }
    return w.offset > 0 ? w.take() : null;
  }

  /** The opcode of the request a reply with `xid` answers, if it is the one expected next. */
  expectedType(xid: number): number | undefined {
    const head = this.inflight.peek();
    return head !== undefined && head.xid === xid ? head.request.type : undefined;
  }

  /** Settles the request the next reply answers. */
  completeNext(rc: number, body: Response | null): void {
    const p = this.inflight.shift();
    if (p !== undefined) this.complete(p, rc, body);
  }

  completeAuth(rc: number): void {
    const p = this.authWaiting.shift();
    if (p !== undefined) this.complete(p, rc, null);
  }

  /** Fails everything, written or not, with `rc` (the connection is gone). */
  failAll(rc: number): void {
    for (const p of this.inflight.drain()) this.complete(p, rc, null);
    for (const p of this.authWaiting.drain()) this.complete(p, rc, null);
    for (const p of this.outgoing.drain()) this.complete(p, rc, null);
    this.writer.reset();
  }

  complete(p: Packet, rc: number, body: Response | null): void {
    if (p.onAbort !== undefined) p.signal!.removeEventListener('abort', p.onAbort);
    if (p.settled) return;
    p.settled = true;
    let v: unknown;
    try {
      v = p.onReply(rc, body);
    } catch (e) {
      p.reject(e);
      return;
    }
    p.resolve(v);
  }

  private fail(p: Packet, e: unknown): void {
    if (p.onAbort !== undefined) p.signal!.removeEventListener('abort', p.onAbort);
    if (p.settled) return;
    p.settled = true;
    p.reject(e);
  }

  private takeXid(): number {
    const xid = this.nextXid;
    this.nextXid = xid >= 0x7fffffff ? 1 : xid + 1;
    return xid;
  }
}

/** What a call gets when it cannot be sent at all: onReply's answer to `rc`. */
export function settleNow<T>(onReply: OnReply<T>, rc: number): Promise<T> {
  try {
    return Promise.resolve(onReply(rc, null));
  } catch (e) {
    return Promise.reject(e);
  }
}
