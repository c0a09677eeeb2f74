// mutex.ts — a reentrant distributed lock (Curator's InterProcessMutex) and a non-reentrant one
// (InterProcessSemaphoreMutex).
//
// Guarantee: while a session is alive, at most one Mutex over the same path holds the lock;
// waiters are served in the order they asked (sequence order), each watching only its
// predecessor, so a release wakes one waiter. The lock is tied to the session: if the session
// expires the lock node is deleted and another contender may take the lock while this process
// still believes it holds it. Hence the fencing token (`token`, the czxid of the lock node):
// every holder's token is larger than all earlier holders', and a guarded resource that refuses
// tokens smaller than the largest it has seen is safe even then. Listen for the client's
// 'suspended' / 'expired' events to stop work early.
//
// Reentrancy is per Mutex object (JavaScript has no threads to own a lock): every acquire on an
// object that holds the lock succeeds at once. Give each task that needs exclusion from the others
// in the same process its own Mutex (or use SemaphoreMutex, which is not reentrant).
import type { ZooKeeper } from '../client/index.js';
import { LockInternals, standardDriver } from './lock-internals.js';
import type { RetryPolicy } from './retry.js';

export interface LockOptions {
  /** Give up after this long: acquire resolves false. Default: wait forever. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface MutexOptions {
  retry?: RetryPolicy;
  /** Data stored in the lock node (e.g. the holder's name, for operators). */
  data?: Buffer | string;
}

export class Mutex {
  private readonly internals: LockInternals;
  private holding: { path: string; czxid: bigint; count: number } | null = null;
  private pending: Promise<unknown> = Promise.resolve();

  constructor(readonly zk: ZooKeeper, readonly path: string, opts: MutexOptions = {}) {
    const data = opts.data === undefined ? null : Buffer.from(opts.data);
    this.internals = new LockInternals(zk, path, 'lock-', standardDriver(1), opts.retry, data);
  }

  /**
   * Takes the lock (again, if this Mutex holds it: each acquire needs a release). Resolves true
   * when held, false when timeoutMs passed.
   */
  async acquire(opts: LockOptions = {}): Promise<boolean> {
    if (this.holding !== null) {
      this.holding.count++;
      return true;
    }
    // concurrent acquires on one Mutex queue up locally rather than both joining the znode queue
    const prev = this.pending;
    let release!: () => void;
    this.pending = new Promise<void>((r) => (release = r));
    try {
      await prev;
      if (this.holding !== null) {
        (this.holding as { count: number }).count++;
        return true;
      }
      const node = await this.internals.attempt(opts.timeoutMs, opts.signal);
      if (node === null) return false;
      this.holding = { ...node, count: 1 };
      return true;
    } finally {
      release();
    }
  }

  /** Undoes one acquire; the last one deletes the lock node. */
  async release(): Promise<void> {
    const h = this.holding;
    if (h === null) throw new Error(`Mutex ${this.path}: release without acquire`);
    if (--h.count > 0) return;
    this.holding = null;
    await this.internals.deleteNode(h.path);
  }

  /** Runs fn holding the lock; fn gets the fencing token. */
  async withLock<T>(fn: (token: bigint) => Promise<T> | T, opts: LockOptions = {}): Promise<T> {
    if (!(await this.acquire(opts))) throw new Error(`Mutex ${this.path}: not acquired within ${opts.timeoutMs} ms`);
    try {
      return await fn(this.token!);
    } finally {
      await this.release();
    }
  }

  get isHeld(): boolean {
    return this.holding !== null;
  }
  /** The fencing token of the held lock (czxid of its node), null when not held. */
  get token(): bigint | null {
    return this.holding?.czxid ?? null;
  }
  /** The lock node of the held lock, null when not held. */
  get lockPath(): string | null {
    return this.holding?.path ?? null;
  }
  /** Lock nodes in queue order (the holder first). */
  participants(): Promise<string[]> {
    return this.internals.participants();
  }
}

/**
 * A non-reentrant lock: a second acquire on the same instance waits like any other contender
 * would (Curator's InterProcessSemaphoreMutex). Same guarantee and fencing token as Mutex.
 */
export class SemaphoreMutex {
  private readonly internals: LockInternals;
  private holding: { path: string; czxid: bigint } | null = null;

  constructor(readonly zk: ZooKeeper, readonly path: string, opts: MutexOptions = {}) {
    const data = opts.data === undefined ? null : Buffer.from(opts.data);
    this.internals = new LockInternals(zk, path, 'lock-', standardDriver(1), opts.retry, data);
  }

  async acquire(opts: LockOptions = {}): Promise<boolean> {
    for (;;) {
      if (this.holding === null) break;
      await new Promise((r) => setTimeout(r, 10)); // held by this instance: wait for its release
    }
    const node = await this.internals.attempt(opts.timeoutMs, opts.signal);
    if (node === null) return false;
    this.holding = node;
    return true;
  }

  async release(): Promise<void> {
    const h = this.holding;
    if (h === null) throw new Error(`SemaphoreMutex ${this.path}: release without acquire`);
    this.holding = null;
    await this.internals.deleteNode(h.path);
  }

  get isHeld(): boolean {
    return this.holding !== null;
  }
  get token(): bigint | null {
    return this.holding?.czxid ?? null;
  }
}
