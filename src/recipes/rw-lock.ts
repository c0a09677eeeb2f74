// rw-lock.ts — a read-write lock (Curator's InterProcessReadWriteLock): many readers or one
// writer. Readers and writers queue in one folder, in sequence order. A writer holds when it is
// first; a reader holds when no writer is ahead of it and watches the last writer ahead of it
// otherwise. Both are reentrant Mutex-like objects with the same session caveat; the write lock's
// `token` (czxid of its node) fences writers as the Mutex's does.
import type { ZooKeeper } from '../client/index.js';
import { type LockDriver, LockInternals } from './lock-internals.js';
import type { LockOptions } from './mutex.js';
import type { RetryPolicy } from './retry.js';

const READ = '__READ__';
const WRITE = '__WRIT__';

const writeDriver: LockDriver = (sorted, i) => (i === 0 ? { acquired: true } : { acquired: false, watchNode: sorted[i - 1]! });
const readDriver: LockDriver = (sorted, i) => {
  for (let j = i - 1; j >= 0; j--) if (sorted[j]!.includes(WRITE)) return { acquired: false, watchNode: sorted[j]! };
  return { acquired: true };
};

class ReentrantPart {
  private holding: { path: string; czxid: bigint; count: number } | null = null;
  constructor(private readonly internals: LockInternals, readonly name: string) {}
  async acquire(opts: LockOptions = {}): Promise<boolean> {
    if (this.holding !== null) {
      this.holding.count++;
      return true;
    }
    const node = await this.internals.attempt(opts.timeoutMs, opts.signal);
    if (node === null) return false;
    this.holding = { ...node, count: 1 };
    return true;
  }
  async release(): Promise<void> {
    const h = this.holding;
    if (h === null) throw new Error(`${this.name}: release without acquire`);
    if (--h.count > 0) return;
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

export class ReadWriteLock {
  readonly readLock: ReentrantPart;
  readonly writeLock: ReentrantPart;
  constructor(readonly zk: ZooKeeper, readonly path: string, opts: { retry?: RetryPolicy } = {}) {
    this.writeLock = new ReentrantPart(new LockInternals(zk, path, WRITE, writeDriver, opts.retry, null, [READ, WRITE]), `write lock ${path}`);
    this.readLock = new ReentrantPart(new LockInternals(zk, path, READ, readDriver, opts.retry, null, [READ, WRITE]), `read lock ${path}`);
  }
}
