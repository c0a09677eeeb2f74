// multi-lock.ts — MultiLock (Curator's InterProcessMultiLock): several locks taken as one. They
// are acquired in the order given; if one cannot be had in time, those already taken are
// released. Every MultiLock over overlapping locks must list them in the same order (sort the
// paths), or two of them can deadlock each waiting for the other's second lock.
//
// Guarantee: while held, each underlying lock is held with its own guarantee and fencing token
// (`tokens`, in the order given).
import type { LockOptions, Mutex, SemaphoreMutex } from './mutex.js';

type Lock = Mutex | SemaphoreMutex;

export class MultiLock {
  private held: Lock[] = [];
  constructor(readonly locks: readonly Lock[]) {}

  /** true when every lock is held, false (and none held) when timeoutMs passed first. */
  async acquire(opts: LockOptions = {}): Promise<boolean> {
    const deadline = opts.timeoutMs === undefined ? undefined : Date.now() + opts.timeoutMs;
    const got: Lock[] = [];
    try {
      for (const l of this.locks) {
        const ok = await l.acquire({ signal: opts.signal, timeoutMs: deadline === undefined ? undefined : Math.max(0, deadline - Date.now()) });
        if (!ok) {
          await this.releaseAll(got);
          return false;
        }
        got.push(l);
      }
    } catch (e) {
      await this.releaseAll(got).catch(() => {});
      throw e;
    }
    this.held = got;
    return true;
  }

  async release(): Promise<void> {
    const held = this.held;
    this.held = [];
    await this.releaseAll(held);
  }

  get tokens(): (bigint | null)[] {
    return this.locks.map((l) => l.token);
  }

  private async releaseAll(locks: Lock[]): Promise<void> {
    for (const l of [...locks].reverse()) await l.release();
  }
}
