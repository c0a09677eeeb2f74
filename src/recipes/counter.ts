// counter.ts — shared counters by optimistic concurrency: read the value and its version, write
// the new value with setData(version); a ZBADVERSION means someone else wrote in between, so read
// again and retry (bounded). SharedCount holds a 32-bit int, DistributedAtomicLong a 64-bit one,
// both big-endian as Curator stores them, so Curator clients read the same nodes. Like Curator's,
// a DistributedAtomicLong may be "promoted to a lock": when its optimistic tries run out it takes a
// Mutex on `promotedToLock.lockPath` and tries again while holding it, so under heavy contention
// the counters that share the lock path take turns instead of starving each other.
//
// Guarantee: every successful update is applied to the value the caller read (linearizable
// compare-and-set on the node's version); no update is lost. An update that ran out of retries
// (or did not get the lock within its time) reports `succeeded: false` and changed nothing. The
// lock only orders the writers that use it; each write is still a compare-and-set.
import type { ZooKeeper } from '../client/index.js';
import { isZkError } from '../client/index.js';
import { Mutex } from './mutex.js';
import { ensurePath } from './paths.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from './retry.js';

export interface AtomicResult {
  succeeded: boolean;
  preValue: bigint;
  postValue: bigint;
}

/** An update's result with how it got there (Curator's AtomicStats). */
export interface AtomicUpdateResult extends AtomicResult {
  /** Compare-and-set attempts made without the lock. */
  optimisticTries: number;
  /** Attempts made holding the promoted lock (0: it was not needed or not configured). */
  promotedTries: number;
}

export interface AtomicLongOptions {
  /** For the reads and writes (connection loss and the like). */
  retry?: RetryPolicy;
  /** Optimistic compare-and-set attempts per update; default 1000, or 10 with promotedToLock. */
  maxAttempts?: number;
  /** Take a Mutex here when the optimistic attempts run out, then try maxAttempts times more. */
  promotedToLock?: { lockPath: string; timeoutMs?: number };
}

export class DistributedAtomicLong {
  private readonly retry: RetryPolicy;
  private readonly maxAttempts: number;
  private readonly lock: { mutex: Mutex; timeoutMs?: number } | undefined;

  constructor(readonly zk: ZooKeeper, readonly path: string, opts: AtomicLongOptions = {}) {
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.maxAttempts = opts.maxAttempts ?? (opts.promotedToLock === undefined ? 1000 : 10);
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) throw new RangeError(`maxAttempts must be a positive integer, got ${this.maxAttempts}`);
    const p = opts.promotedToLock;
    this.lock = p === undefined ? undefined : { mutex: new Mutex(zk, p.lockPath, { retry: this.retry }), timeoutMs: p.timeoutMs };
  }

  private static encode(v: bigint): Buffer {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt.asIntN(64, v));
    return b;
  }
  private static decode(b: Buffer): bigint {
    return b.length >= 8 ? b.readBigInt64BE(0) : 0n;
  }

  /** The value and the version of the node; a missing node reads as 0 at version -1. */
  private async read(): Promise<{ value: bigint; version: number }> {
    try {
      const { data, stat } = await withRetry(this.retry, () => this.zk.getData(this.path));
      return { value: DistributedAtomicLong.decode(data), version: stat.version };
    } catch (e) {
      if (isZkError(e) && e.code === 'ZNONODE') return { value: 0n, version: -1 };
      throw e;
    }
  }

  /** Writes value if the node is still at version (-1: absent); false when someone else won. */
  private async write(value: bigint, version: number): Promise<boolean> {
    const data = DistributedAtomicLong.encode(value);
    try {
      if (version === -1) {
        await ensurePath(this.zk, this.path.slice(0, this.path.lastIndexOf('/')) || '/');
        await this.zk.create(this.path, data);
      } else {
        await this.zk.setData(this.path, data, { version });
      }
      return true;
    } catch (e) {
      if (isZkError(e) && (e.code === 'ZBADVERSION' || e.code === 'ZNODEEXISTS')) return false;
      throw e;
    }
  }

  async get(): Promise<bigint> {
    return (await this.read()).value;
  }

  /** Up to maxAttempts compare-and-sets of fn(value); the result, or null when all lost. */
  private async attempts(fn: (v: bigint) => bigint, count: (n: number) => void): Promise<AtomicResult | null> {
    for (let i = 0; i < this.maxAttempts; i++) {
      count(i + 1);
      const { value, version } = await this.read();
      const next = BigInt.asIntN(64, fn(value));
      if (await this.write(next, version)) return { succeeded: true, preValue: value, postValue: next };
    }
    return null;
  }

  /** Applies fn to the current value, retrying on conflict (then under the lock, if promoted). */
  async update(fn: (v: bigint) => bigint): Promise<AtomicUpdateResult> {
    let optimisticTries = 0;
    let promotedTries = 0;
    let done = await this.attempts(fn, (n) => (optimisticTries = n));
    if (done === null && this.lock !== undefined) {
      const { mutex, timeoutMs } = this.lock;
      if (await mutex.acquire({ timeoutMs })) {
        try {
          done = await this.attempts(fn, (n) => (promotedTries = n));
        } finally {
          await mutex.release();
        }
      }
    }
    if (done !== null) return { ...done, optimisticTries, promotedTries };
    const v = await this.get();
    return { succeeded: false, preValue: v, postValue: v, optimisticTries, promotedTries };
  }

  add(delta: bigint | number): Promise<AtomicUpdateResult> {
    return this.update((v) => v + BigInt(delta));
  }
  increment(): Promise<AtomicUpdateResult> {
    return this.add(1n);
  }
  decrement(): Promise<AtomicUpdateResult> {
    return this.add(-1n);
  }
  /** Sets newValue only if the current value is expected (one attempt). */
  async compareAndSet(expected: bigint, newValue: bigint): Promise<AtomicResult> {
    const { value, version } = await this.read();
    if (value !== expected) return { succeeded: false, preValue: value, postValue: value };
    const ok = await this.write(newValue, version);
    return ok ? { succeeded: true, preValue: value, postValue: newValue } : { succeeded: false, preValue: value, postValue: await this.get() };
  }
  /** Sets the node to value unconditionally. */
  async forceSet(value: bigint): Promise<void> {
    for (;;) {
      const { version } = await this.read();
      if (version === -1) {
        if (await this.write(value, -1)) return;
      } else {
        await this.zk.setData(this.path, DistributedAtomicLong.encode(value));
        return;
      }
    }
  }
}

/** Curator's SharedCount: a 32-bit counter with a versioned compare-and-set. */
export class SharedCount {
  constructor(readonly zk: ZooKeeper, readonly path: string, readonly seed = 0) {}

  /** Creates the node with the seed when it is absent. */
  async start(): Promise<void> {
    await ensurePath(this.zk, this.path.slice(0, this.path.lastIndexOf('/')) || '/');
    const b = Buffer.alloc(4);
    b.writeInt32BE(this.seed);
    try {
      await this.zk.create(this.path, b);
    } catch (e) {
      if (!(isZkError(e) && e.code === 'ZNODEEXISTS')) throw e;
    }
  }

  async getVersioned(): Promise<{ value: number; version: number }> {
    const { data, stat } = await this.zk.getData(this.path);
    return { value: data.length >= 4 ? data.readInt32BE(0) : 0, version: stat.version };
  }

  async getCount(): Promise<number> {
    return (await this.getVersioned()).value;
  }

  /** Sets the count if the node is still at `previous.version`; false when it changed. */
  async trySetCount(previous: { version: number }, value: number): Promise<boolean> {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value);
    try {
      await this.zk.setData(this.path, b, { version: previous.version });
      return true;
    } catch (e) {
      if (isZkError(e) && e.code === 'ZBADVERSION') return false;
      throw e;
    }
  }

  async setCount(value: number): Promise<void> {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value);
    await this.zk.setData(this.path, b);
  }
}
