// queue.ts — distributed queues (ZooKeeper's recipe; Curator's queues). Items are
// persistent-sequential nodes under the queue's path. Three kinds:
//   - DistributedQueue: FIFO; put(data, priority) orders by a priority put in the node name before
//     the sequence number (Curator's DistributedPriorityQueue; lower first).
//   - DistributedDelayQueue: each item carries the epoch ms before which it is not handed out
//     (Curator's DistributedDelayQueue); ready items come out in the order of their times.
//   - Either with `lockPath` (Curator's lockPath semantics): a consumer first creates an ephemeral
//     lock node named after the item, processes the item, and only then deletes item and lock in
//     one multi.
//
// Guarantees. Without lockPath, at most once: each item is taken by at most one consumer (only one
// delete of a node succeeds), but a consumer that takes an item and dies before processing it has
// lost it. With lockPath, at least once: an item leaves the queue only after a handler returned
// for it; a consumer that dies (or throws) mid-way leaves it for another (its ephemeral lock goes
// with its session), so a handler may see an item twice after a session loss — make it
// idempotent. FIFO among items of one priority (one due time). The delay queue compares due times
// with this machine's clock: skew between producers and consumers shifts delivery by the skew.
import type { Data, ZooKeeper } from '../client/index.js';
import { isZkError } from '../client/index.js';
import { ensurePath, joinPath, sequenceOf } from './paths.js';

export interface QueueOptions {
  /** Where consumers put their lock nodes (a path outside the queue's); see the header. */
  lockPath?: string;
  /** The clock the delay queue compares due times with; default Date.now. */
  now?: () => number;
}

export interface TakeOptions {
  /** Give up after this long (null / false is returned); default: wait until an item comes. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

type Handler = (data: Buffer, item: string) => unknown;

/** An item name and its ordering key; `dueMs` is when it may be handed out (0: now). */
interface Entry {
  name: string;
  key: number;
  seq: number;
  dueMs: number;
}

abstract class QueueCore {
  protected readonly lockPath: string | undefined;
  protected readonly now: () => number;
  private pathsMade = false;

  constructor(readonly zk: ZooKeeper, readonly path: string, opts: QueueOptions = {}) {
    this.lockPath = opts.lockPath;
    this.now = opts.now ?? Date.now;
    if (this.lockPath !== undefined && (this.lockPath === path || this.lockPath.startsWith(`${path}/`))) {
      throw new RangeError(`lockPath ${this.lockPath} must not be inside the queue's path ${path}`);
    }
  }

  /** The entry for a node name of this queue, or undefined for a name that is not an item. */
  protected abstract parse(name: string): Entry | undefined;

  protected async putNamed(prefix: string, data: Data): Promise<string> {
    const p = joinPath(this.path, prefix);
    try {
      return await this.zk.create(p, data, { mode: 'persistentSequential' });
    } catch (e) {
      if (!isZkError(e, 'ZNONODE')) throw e;
      await ensurePath(this.zk, this.path);
      return this.zk.create(p, data, { mode: 'persistentSequential' });
    }
  }

  private async children(path: string, watch?: () => void): Promise<string[]> {
    try {
      return await this.zk.getChildren(path, watch === undefined ? {} : { watch });
    } catch (e) {
      if (isZkError(e, 'ZNONODE')) return [];
      throw e;
    }
  }

  /**
   * The items in queue order: the ready ones (due, and not locked by a consumer) and the time
   * the first item not yet due becomes due (Infinity: none).
   */
  private async ordered(watch?: () => void): Promise<{ ready: string[]; nextDueMs: number }> {
    const names = await this.children(this.path, watch);
    const locked = this.lockPath === undefined ? new Set<string>() : new Set(await this.children(this.lockPath, watch));
    const now = this.now();
    let nextDueMs = Infinity;
    const ready: Entry[] = [];
    for (const n of names) {
      const e = this.parse(n);
      if (e === undefined) continue;
      if (e.dueMs > now) nextDueMs = Math.min(nextDueMs, e.dueMs);
      else if (!locked.has(n)) ready.push(e);
    }
    ready.sort((a, b) => a.key - b.key || a.seq - b.seq);
    return { ready: ready.map((e) => e.name), nextDueMs };
  }

  /** The head item's data without removing it, or null when no item is ready. */
  async peek(): Promise<Buffer | null> {
    for (const n of (await this.ordered()).ready) {
      try {
        return (await this.zk.getData(joinPath(this.path, n))).data;
      } catch (e) {
        if (!isZkError(e, 'ZNONODE')) throw e;
      }
    }
    return null;
  }

  /**
   * Removes and returns the head item, or null when no item is ready. With lockPath the item is
   * locked, read and removed with its lock (a consumer that wants processing to be part of the
   * removal uses processNext).
   */
  async poll(): Promise<Buffer | null> {
    let out: Buffer | null = null;
    const taken = await this.processReady((data) => (out = data));
    return taken ? out : null;
  }

  /** Removes and returns the head item, waiting for one (null on timeout). */
  async take(opts: TakeOptions = {}): Promise<Buffer | null> {
    let out: Buffer | null = null;
    return (await this.processNext((data) => (out = data), opts)) ? out : null;
  }

  /**
   * Hands the head item to `handler`, waiting for one, and removes it once the handler has
   * returned (or its promise resolved). With lockPath the item stays locked meanwhile and, if the
   * handler throws, is unlocked and stays in the queue (the error is rethrown); without lockPath
   * the item is removed before the handler runs (at most once). False when timeoutMs passed first.
   */
  async processNext(handler: Handler, opts: TakeOptions = {}): Promise<boolean> {
    const deadline = this.now() + (opts.timeoutMs ?? Infinity);
    for (;;) {
      opts.signal?.throwIfAborted();
      if (await this.processReady(handler)) return true;
      if (this.now() >= deadline) return false;
      if (!this.pathsMade) {
        // a watch on the children of a missing node is not set: make the folders to wait on
        await ensurePath(this.zk, this.path);
        if (this.lockPath !== undefined) await ensurePath(this.zk, this.lockPath);
        this.pathsMade = true;
      }
      await this.waitForChange(deadline, opts.signal);
    }
  }

  /** Waits until the queue (or its locks) change, the next delayed item is due, or the deadline. */
  private waitForChange(deadline: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      const arm = (untilMs: number): void => {
        clearTimeout(timer);
        timer = setTimeout(wake, Math.max(0, Math.min(untilMs - this.now(), 2 ** 31 - 1)));
      };
      arm(deadline);
      signal?.addEventListener('abort', wake, { once: true });
      // set the watches and look again: something that came between the last look and the watch
      this.ordered(wake).then(({ ready, nextDueMs }) => (ready.length > 0 ? wake() : arm(Math.min(deadline, nextDueMs))), wake);
    });
  }

  /** One pass over the ready items: the first one this consumer gets is handled; false if none. */
  private async processReady(handler: Handler): Promise<boolean> {
    for (const n of (await this.ordered()).ready) {
      if (this.lockPath === undefined ? await this.takeUnlocked(n, handler) : await this.takeLocked(n, this.lockPath, handler)) return true;
    }
    return false;
  }

  private async takeUnlocked(name: string, handler: Handler): Promise<boolean> {
    const p = joinPath(this.path, name);
    let data: Buffer;
    try {
      const got = await this.zk.getData(p);
      await this.zk.delete(p, { version: got.stat.version });
      data = got.data;
    } catch (e) {
      if (isZkError(e, 'ZNONODE', 'ZBADVERSION')) return false; // taken by another consumer
      throw e;
    }
    await handler(data, name);
    return true;
  }

  private async takeLocked(name: string, lockPath: string, handler: Handler): Promise<boolean> {
    const item = joinPath(this.path, name);
    const lock = joinPath(lockPath, name);
    try {
      await this.zk.create(lock, null, { mode: 'ephemeral' });
    } catch (e) {
      if (isZkError(e, 'ZNODEEXISTS')) return false; // another consumer has it
      if (!isZkError(e, 'ZNONODE')) throw e;
      await ensurePath(this.zk, lockPath);
      return this.takeLocked(name, lockPath, handler);
    }
    let got: { data: Buffer; stat: { version: number } };
    try {
      got = await this.zk.getData(item);
    } catch (e) {
      await this.unlock(lock);
      if (isZkError(e, 'ZNONODE')) return false; // processed and removed since we listed it
      throw e;
    }
    try {
      await handler(got.data, name);
    } catch (e) {
      await this.unlock(lock);
      throw e;
    }
    try {
      await this.zk.transaction().delete(item, got.stat.version).delete(lock).commit();
    } catch (e) {
      // the lock is gone (our session ended while processing: another consumer may have the item
      // now) or the item changed: it stays in the queue; this handler's work was at least once
      if (!isZkError(e, 'ZNONODE', 'ZBADVERSION')) throw e;
      await this.unlock(lock);
    }
    return true;
  }

  private async unlock(lock: string): Promise<void> {
    try {
      await this.zk.delete(lock);
    } catch (e) {
      if (!isZkError(e, 'ZNONODE')) throw e;
    }
  }
}

const PRIORITY_NAME = /^qn-(\d{6})-\d{10}$/;

/** FIFO queue with priorities (lower first); see the header for its guarantee. */
export class DistributedQueue extends QueueCore {
  /** Adds an item; priority 0..999999 (lower first), default 0. The item's node path is returned. */
  put(data: Data, priority = 0): Promise<string> {
    if (!Number.isInteger(priority) || priority < 0 || priority > 999_999) throw new RangeError('priority must be an integer in 0..999999');
    return this.putNamed(`qn-${String(priority).padStart(6, '0')}-`, data);
  }

  protected parse(name: string): Entry | undefined {
    const m = PRIORITY_NAME.exec(name);
    return m === null ? undefined : { name, key: Number(m[1]), seq: sequenceOf(name), dueMs: 0 };
  }
}

const DELAY_NAME = /^qd-([0-9a-f]{16})-\d{10}$/;

/** Queue whose items are handed out from a given time on, earliest first; see the header. */
export class DistributedDelayQueue extends QueueCore {
  /** Adds an item not handed out before `dueEpochMs` (ms since the epoch; now or earlier: at once). */
  put(data: Data, dueEpochMs: number): Promise<string> {
    if (!Number.isSafeInteger(dueEpochMs) || dueEpochMs < 0) throw new RangeError('dueEpochMs must be a non-negative integer (ms since the epoch)');
    return this.putNamed(`qd-${dueEpochMs.toString(16).padStart(16, '0')}-`, data);
  }

  protected parse(name: string): Entry | undefined {
    const m = DELAY_NAME.exec(name);
    if (m === null) return undefined;
    const dueMs = parseInt(m[1]!, 16);
    return { name, key: dueMs, seq: sequenceOf(name), dueMs };
  }
}
