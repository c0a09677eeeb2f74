// change-listeners.ts — delivers the stream of applied txns to each change listener, off the
// request path. Apply only appends to a listener's bounded queue (events and bytes); a pump
// started with setImmediate hands them to onTxn one at a time, in zxid order, each within the
// listener's deadline. A full queue never blocks apply:
//   - a best-effort listener loses the event, counted in `dropped`;
//   - a listener with a cursor (at-least-once) switches to catch-up: once its queue is empty it
//     reads the missed txns back from the txn log, then rejoins the live stream at the exact zxid
//     where the log reaches what the server has applied (both happen on this one thread, so no
//     txn falls between them). The same path replays everything after the cursor at start.
// A failed or timed-out onTxn is counted; an at-least-once listener gets the same txn again after
// a backoff, a best-effort one moves on.
import { OpCode } from '../protocol/opcodes.js';
import type { ACL } from '../protocol/records.js';
import type { TxnResult } from '../tree/data-tree.js';
import type { Txn, TxnHeader } from '../tree/txn.js';
import { type Boundary, describe } from './boundary.js';
import type { ChangeListener, HookStatus, ListenerStats, TxnInfo } from './types.js';

/** Txns read back from the txn log. */
export interface TxnSource {
  /** Up to `max` txns with zxid >= from, oldest first ([] when the log holds none from there). */
  read(from: bigint, max: number): Array<{ hdr: TxnHeader; txn: Txn }>;
}

interface Event {
  hdr: TxnHeader;
  txn: Txn;
  result: TxnResult | null;
  info: TxnInfo;
  bytes: number;
}

const DEFAULT_QUEUE = 10_000;
const DEFAULT_QUEUE_BYTES = 64 * 1024 * 1024;
const EVENT_OVERHEAD_BYTES = 256;
const CATCH_UP_BATCH = 512;
const YIELD_EVERY = 64;
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 5000;

export class ListenerRunner {
  readonly stats: ListenerStats = {
    delivered: 0,
    dropped: 0,
    failed: 0,
    timedOut: 0,
    retried: 0,
    queued: 0,
    queuedBytes: 0,
    lastZxid: 0n,
    mode: 'live',
  };
  private queue: Event[] = [];
  private head = 0;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly deadlineMs: number;
  /** catch-up: the next zxid to read from the txn log. */
  private nextZxid = 0n;
  private pumping = false;
  private scheduled = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  /** The deadline of the onTxn call in progress. */
  private deadlineTimer: NodeJS.Timeout | null = null;
  private retryDelayMs = RETRY_MIN_MS;
  private idleWaiters: Array<() => void> = [];
  private readonly status: HookStatus;

  constructor(
    private readonly listener: ChangeListener,
    private readonly boundary: Boundary,
    private readonly source: TxnSource | null,
    /** The zxid the server has applied up to. */
    private readonly appliedZxid: () => bigint,
    index: number,
  ) {
    this.maxEvents = Math.max(1, listener.queue ?? DEFAULT_QUEUE);
    this.maxBytes = Math.max(1, listener.queueBytes ?? DEFAULT_QUEUE_BYTES);
    this.deadlineMs = listener.deadlineMs ?? boundary.asyncDeadlineMs;
    this.status = boundary.status(`changeListener#${index}.onTxn`);
  }

  private get atLeastOnce(): boolean {
    return this.listener.cursor !== undefined;
  }

  /** Reads the cursor and replays what the listener missed (at start). */
  async start(): Promise<void> {
    if (this.listener.cursor === undefined) return;
    const cursor = await this.boundary.async('changeListener.cursor', this.boundary.status('changeListener.cursor'), this.listener.cursor);
    this.stats.lastZxid = cursor;
    if (cursor >= this.appliedZxid()) return;
    if (this.source === null) {
      this.boundary.fault('changeListener', `no txn log to replay from zxid 0x${cursor.toString(16)}; delivering from the live stream`);
      return;
    }
    this.enterCatchUp(cursor + 1n);
  }

  /** Called at apply, on the request path: O(1), never blocks, never throws. */
  push(hdr: TxnHeader, txn: Txn, result: TxnResult, info: TxnInfo): void {
    if (this.stopped || this.stats.mode === 'catch-up') return;
    const bytes = EVENT_OVERHEAD_BYTES + txnDataBytes(txn);
    if (this.stats.queued >= this.maxEvents || this.stats.queuedBytes + bytes > this.maxBytes) {
      if (this.atLeastOnce && this.source !== null) {
        this.enterCatchUp(hdr.zxid);
      } else {
        this.stats.dropped++;
        this.boundary.fault('changeListener', `queue full (${this.stats.queued} events, ${this.stats.queuedBytes} bytes): txn 0x${hdr.zxid.toString(16)} dropped`);
      }
      return;
    }
    this.queue.push({ hdr: { ...hdr }, txn: copyTxn(txn), result, info, bytes });
    this.stats.queued++;
    this.stats.queuedBytes += bytes;
    this.schedule();
  }

  /** Resolves when nothing is queued or being delivered (or at `deadlineMs`). */
  idle(deadlineMs: number): Promise<void> {
    if (!this.pumping && this.stats.queued === 0 && this.stats.mode === 'live') return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, deadlineMs);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.queue = [];
    this.head = 0;
    this.stats.queued = 0;
    this.stats.queuedBytes = 0;
    this.wakeIdle();
  }

  private enterCatchUp(from: bigint): void {
    this.stats.mode = 'catch-up';
    this.nextZxid = from;
    this.schedule();
  }

  private schedule(): void {
    if (this.pumping || this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.pump();
    });
  }

  private wakeIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  /** The next event: the queue first, then (catch-up) the txn log; null when there is none. */
  private next(): Event | null {
    if (this.head < this.queue.length) return this.queue[this.head]!;
    if (this.stats.mode !== 'catch-up') return null;
    const applied = this.appliedZxid();
    if (this.nextZxid > applied) {
      this.stats.mode = 'live'; // the log has reached the server: rejoin the live stream here
      return null;
    }
    let records: Array<{ hdr: TxnHeader; txn: Txn }>;
    try {
      records = this.source!.read(this.nextZxid, CATCH_UP_BATCH);
    } catch (e) {
      this.boundary.fault('changeListener', `cannot read the txn log from 0x${this.nextZxid.toString(16)}: ${describe(e)}; delivering from the live stream`);
      this.stats.mode = 'live';
      return null;
    }
    const first = records[0];
    if (first === undefined || first.hdr.zxid > this.nextZxid) {
      const to = first === undefined ? applied : first.hdr.zxid - 1n;
      const lost = sameEpoch(this.nextZxid, to) ? Number(to - this.nextZxid + 1n) : 1;
      if (first === undefined || sameEpoch(this.nextZxid, first.hdr.zxid)) {
        this.stats.dropped += Math.max(lost, 1);
        this.boundary.fault('changeListener', `txns 0x${this.nextZxid.toString(16)}..0x${to.toString(16)} are no longer in the txn log; counted as dropped`);
      }
      if (first === undefined) {
        this.nextZxid = applied + 1n;
        this.stats.mode = 'live';
        return null;
      }
    }
    for (const r of records) {
      if (r.hdr.zxid > applied) break;
      const bytes = EVENT_OVERHEAD_BYTES + txnDataBytes(r.txn);
      this.queue.push({ hdr: r.hdr, txn: r.txn, result: null, info: REPLAYED, bytes });
      this.stats.queued++;
      this.stats.queuedBytes += bytes;
      this.nextZxid = r.hdr.zxid + 1n;
    }
    if (this.head < this.queue.length) return this.queue[this.head]!;
    this.nextZxid = applied + 1n;
    this.stats.mode = 'live';
    return null;
  }

  private take(): void {
    const ev = this.queue[this.head]!;
    this.head++;
    this.stats.queued--;
    this.stats.queuedBytes -= ev.bytes;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      let n = 0;
      for (let ev = this.next(); ev !== null && !this.stopped; ev = this.next()) {
        const r = this.deliver(ev);
        const ok = r === true || r === false ? r : await r;
        if (this.stopped) return;
        if (!ok && this.atLeastOnce) {
          this.stats.retried++;
          this.retryLater();
          return;
        }
        this.take();
        this.retryDelayMs = RETRY_MIN_MS;
        if (++n % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.pumping = false;
      if (!this.stopped && this.retryTimer === null && (this.head < this.queue.length || this.stats.mode === 'catch-up')) this.schedule();
      else if (this.retryTimer === null) this.wakeIdle();
    }
  }

  private retryLater(): void {
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, RETRY_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.schedule();
    }, delay);
    this.retryTimer.unref();
  }

  /** Hands one event to onTxn: true when handled, false when it failed (already counted). */
  private deliver(ev: Event): boolean | Promise<boolean> {
    const status = this.status;
    status.calls++;
    let r: void | Promise<void>;
    try {
      r = this.listener.onTxn(ev.hdr, ev.txn, ev.result, ev.info);
    } catch (e) {
      return this.failed(ev, `threw ${describe(e)}`, false);
    }
    if (r === undefined || typeof (r as { then?: unknown }).then !== 'function') return this.handled(ev);
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const settle = (ok: () => boolean): void => {
        if (settled) return;
        settled = true;
        if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
        this.deadlineTimer = null;
        resolve(ok());
      };
      this.deadlineTimer = setTimeout(() => settle(() => this.failed(ev, `did not finish within its ${this.deadlineMs} ms deadline`, true)), this.deadlineMs);
      (r as Promise<void>).then(
        () => settle(() => this.handled(ev)),
        (e: unknown) => settle(() => this.failed(ev, `failed: ${describe(e)}`, false)),
      );
    });
  }

  private handled(ev: Event): true {
    this.stats.delivered++;
    this.stats.lastZxid = ev.hdr.zxid;
    return true;
  }

  private failed(ev: Event, what: string, timedOut: boolean): false {
    this.status.faults++;
    if (timedOut) {
      this.status.overruns++;
      this.stats.timedOut++;
    } else {
      this.stats.failed++;
    }
    const then = this.atLeastOnce ? 'it will be retried' : 'skipped';
    this.boundary.fault('changeListener.onTxn', `txn 0x${ev.hdr.zxid.toString(16)}: ${what}; ${then}`);
    return false;
  }
}

const REPLAYED: TxnInfo = Object.freeze({ origin: null, replayed: true });

function sameEpoch(a: bigint, b: bigint): boolean {
  return a >> 32n === b >> 32n;
}

function txnDataBytes(txn: Txn): number {
  switch (txn.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
    case OpCode.setData:
      return (txn.data?.length ?? 0) + txn.path.length;
    case OpCode.multi: {
      let n = 0;
      for (const t of txn.txns) n += txnDataBytes(t);
      return n;
    }
    default:
      return 0;
  }
}

/** A copy a listener may keep or scribble on without touching the tree's buffers or ACL cache. */
function copyTxn(txn: Txn): Txn {
  switch (txn.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return { ...txn, data: txn.data === null ? null : Buffer.from(txn.data), acl: copyAcl(txn.acl) } as Txn;
    case OpCode.setData:
      return { ...txn, data: txn.data === null ? null : Buffer.from(txn.data) };
    case OpCode.setACL:
      return { ...txn, acl: copyAcl(txn.acl) };
    case OpCode.closeSession:
      return { ...txn, paths2Delete: [...txn.paths2Delete] };
    case OpCode.multi:
      return { type: OpCode.multi, txns: txn.txns.map(copyTxn) };
    default:
      return { ...txn };
  }
}

function copyAcl(acl: readonly ACL[]): ACL[] {
  return acl.map((a) => ({ perms: a.perms, id: { scheme: a.id.scheme, id: a.id.id } }));
}
