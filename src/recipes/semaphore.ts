// semaphore.ts — a counting semaphore with leases (Curator's InterProcessSemaphoreV2, on the
// shared lock queue): at most maxLeases leases are held at once across every Semaphore over the
// same path with the same maxLeases. A lease is an ephemeral-sequential node; the first maxLeases
// nodes in sequence order hold. Waiters watch the folder's children (with more than one lease a
// release may admit any of several waiters, so one predecessor watch cannot do).
//
// Guarantee: while sessions live, at most maxLeases holders. A lease dies with its session; its
// `token` (the czxid of its node) is unique per lease, so a resource can tell lease holders apart
// and refuse a lease it has seen released.
import type { ZooKeeper } from '../client/index.js';
import { LockInternals, standardDriver } from './lock-internals.js';
import type { LockOptions } from './mutex.js';
import type { RetryPolicy } from './retry.js';

export interface Lease extends AsyncDisposable {
  readonly path: string;
  /** Fencing token: the czxid of the lease node. */
  readonly token: bigint;
  release(): Promise<void>;
}

export class Semaphore {
  private readonly internals: LockInternals;

  constructor(readonly zk: ZooKeeper, readonly path: string, readonly maxLeases: number, opts: { retry?: RetryPolicy } = {}) {
    if (!Number.isInteger(maxLeases) || maxLeases < 1) throw new RangeError(`maxLeases must be a positive integer, got ${maxLeases}`);
    this.internals = new LockInternals(zk, path, 'lease-', standardDriver(maxLeases), opts.retry);
  }

  /** One lease, or null when timeoutMs passed first. */
  async acquire(opts: LockOptions = {}): Promise<Lease | null> {
    const node = await this.internals.attempt(opts.timeoutMs, opts.signal);
    if (node === null) return null;
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      await this.internals.deleteNode(node.path);
    };
    return { path: node.path, token: node.czxid, release, [Symbol.asyncDispose]: release };
  }

  /** qty leases (all or none), or null when timeoutMs passed first. */
  async acquireMany(qty: number, opts: LockOptions = {}): Promise<Lease[] | null> {
    const deadline = opts.timeoutMs === undefined ? undefined : Date.now() + opts.timeoutMs;
    const leases: Lease[] = [];
    try {
      for (let i = 0; i < qty; i++) {
        const l = await this.acquire({ signal: opts.signal, timeoutMs: deadline === undefined ? undefined : Math.max(0, deadline - Date.now()) });
        if (l === null) {
          await Promise.all(leases.map((x) => x.release()));
          return null;
        }
        leases.push(l);
      }
      return leases;
    } catch (e) {
      await Promise.all(leases.map((x) => x.release().catch(() => {})));
      throw e;
    }
  }

  /** Lease nodes in sequence order (holders first). */
  participants(): Promise<string[]> {
    return this.internals.participants();
  }
}
