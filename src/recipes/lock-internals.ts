// lock-internals.ts — the queue of ephemeral-sequential nodes under one folder that the mutex,
// semaphore and read-write lock share (Curator's LockInternals). A contender creates its node,
// lists the folder sorted by sequence number and asks its driver whether it holds the lock; if
// not, it waits on what the driver names — its predecessor's node (one watch per waiter, so a
// release wakes exactly one waiter: no herd) or the folder's children (a semaphore, where any
// release may let it in). Node names carry a random id (`_c_<uuid>-`, Curator's "protected"
// mode), so a create whose reply was lost with the connection is found again rather than left
// behind holding a place in the queue.
//
// Fencing token: the czxid of the contender's node. ZooKeeper assigns czxids in commit order, so
// of two nodes in the same folder the later-created one has the larger czxid: for a mutex,
// whoever holds the lock holds a larger token than every earlier holder. A resource guarded by
// the lock rejects requests carrying a token smaller than the largest it has seen, which fences
// off a holder that lost its session (and so its lock) without knowing yet.
import { randomUUID } from 'node:crypto';
import type { ZooKeeper } from '../client/index.js';
import { isZkError, ZkError } from '../client/index.js';
import { basename, bySequence, ensurePath, joinPath } from './paths.js';
import { DEFAULT_RETRY, type RetryPolicy, isTransient, withRetry } from './retry.js';

/** What a contender waits on: a node's deletion, or any change of the folder's children. */
export type Decision = { acquired: true } | { acquired: false; watchNode: string | null };

/** Decides from the sorted contenders and our index whether we hold the lock. */
export type LockDriver = (sorted: readonly string[], ourIndex: number) => Decision;

/** The first maxLeases contenders hold; the others watch the node maxLeases before them (mutex: 1). */
export function standardDriver(maxLeases: number): LockDriver {
  return (sorted, i) => {
    if (i < maxLeases) return { acquired: true };
    return { acquired: false, watchNode: maxLeases === 1 ? sorted[i - 1]! : null };
  };
}

export interface LockNode {
  /** The contender's znode. */
  path: string;
  /** Its creation zxid: the fencing token. */
  czxid: bigint;
}

export class LockInternals {
  private readonly retry: RetryPolicy;
  constructor(
    readonly zk: ZooKeeper,
    readonly basePath: string,
    readonly lockName: string,
    private readonly driver: LockDriver,
    retry?: RetryPolicy,
    private readonly data: Buffer | null = null,
    /** The names of the nodes that queue together (the read-write lock puts two in one queue). */
    private readonly queueNames: readonly string[] = [lockName],
  ) {
    this.retry = retry ?? DEFAULT_RETRY;
  }

  /**
   * Joins the queue and waits until the driver says we hold the lock: the node, or null when
   * timeoutMs passed first (the node is then removed). Throws on abort (node removed) and when the
   * session ends.
   */
  async attempt(timeoutMs: number | undefined, signal?: AbortSignal): Promise<LockNode | null> {
    signal?.throwIfAborted();
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    const node = await this.createNode(signal);
    try {
      const ok = await this.waitForLock(node, deadline, signal);
      if (!ok) {
        await this.deleteNode(node.path);
        return null;
      }
      return node;
    } catch (e) {
      await this.deleteNode(node.path).catch(() => {});
      throw e;
    }
  }

  /** Leaves the queue (releases the lock). ZNONODE is not an error: the node is gone either way. */
  async deleteNode(path: string): Promise<void> {
    await withRetry(this.retry, async () => {
      try {
        await this.zk.delete(path);
      } catch (e) {
        if (!(isZkError(e) && e.code === 'ZNONODE')) throw e;
      }
    });
  }

  /** The sorted names of the current contenders. */
  async participants(): Promise<string[]> {
    try {
      const names = await withRetry(this.retry, () => this.zk.getChildren(this.basePath));
      return bySequence(names.filter((n) => this.queueNames.some((q) => n.includes(q))));
    } catch (e) {
      if (isZkError(e) && e.code === 'ZNONODE') return [];
      throw e;
    }
  }

  private async createNode(signal?: AbortSignal): Promise<LockNode> {
    const prefix = `_c_${randomUUID()}-${this.lockName}`;
    const path = joinPath(this.basePath, prefix);
    return withRetry(
      this.retry,
      async (attempt) => {
        if (attempt > 0) {
          // the earlier create may have happened: look for our id before creating again
          const found = await this.findOwn(prefix);
          if (found !== null) return found;
        }
        try {
          const r = await this.zk.create2(path, this.data, { mode: 'ephemeralSequential' });
          return { path: r.path, czxid: r.stat.czxid };
        } catch (e) {
          if (!(isZkError(e) && e.code === 'ZNONODE')) throw e;
          await ensurePath(this.zk, this.basePath);
          const r = await this.zk.create2(path, this.data, { mode: 'ephemeralSequential' });
          return { path: r.path, czxid: r.stat.czxid };
        }
      },
      signal,
    );
  }

  private async findOwn(prefix: string): Promise<LockNode | null> {
    let names: string[];
    try {
      names = await this.zk.getChildren(this.basePath);
    } catch (e) {
      if (isZkError(e) && e.code === 'ZNONODE') return null;
      throw e;
    }
    const name = names.find((n) => n.startsWith(prefix));
    if (name === undefined) return null;
    const p = joinPath(this.basePath, name);
    const stat = await this.zk.exists(p);
    return stat === null ? null : { path: p, czxid: stat.czxid };
  }

  private async waitForLock(node: LockNode, deadline: number, signal?: AbortSignal): Promise<boolean> {
    const ours = basename(node.path);
    for (;;) {
      signal?.throwIfAborted();
      if (Date.now() >= deadline) return false;
      const sorted = await this.participants();
      const i = sorted.indexOf(ours);
      if (i < 0) throw new ZkError(-101, { path: node.path, message: `lock node ${node.path} is gone (session expired or node deleted)` });
      const d = this.driver(sorted, i);
      if (d.acquired) return true;
      await this.waitForChange(d.watchNode, deadline, signal, sorted);
    }
  }

  /**
   * Sets the watch and waits for it (or a session transition, the deadline, the signal). A
   * children watch is set by a new read of the children: if they changed since `seen` was read
   * (a release in between), the change it would wait for has already happened, so it returns.
   */
  private waitForChange(watchNode: string | null, deadline: number, signal: AbortSignal | undefined, seen: readonly string[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: unknown): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.zk.off('state', onState);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onAbort = (): void => finish(signal?.reason);
      const onState = (s: string): void => {
        if (s === 'expired' || s === 'closed' || s === 'authFailed') finish(new ZkError(s === 'closed' ? -116 : -112, { message: `session ${s} while waiting for ${this.basePath}` }));
        else if (s === 'connected') finish();
      };
      const wait = deadline === Infinity ? 2 ** 31 - 1 : Math.max(0, Math.min(2 ** 31 - 1, deadline - Date.now()));
      const timer = setTimeout(() => finish(), wait);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.zk.on('state', onState);
      const wake = (): void => finish();
      const set =
        watchNode === null
          ? this.zk.getChildren(this.basePath, { watch: wake }).then((names) => {
              const now = bySequence(names.filter((n) => this.queueNames.some((q) => n.includes(q))));
              if (now.length !== seen.length || now.some((n, k) => n !== seen[k])) finish();
            })
          : this.zk.exists(joinPath(this.basePath, watchNode), { watch: wake }).then((stat) => {
              if (stat === null) finish(); // gone already: look again
            });
      set.catch((e: unknown) => (isTransient(e) ? setTimeout(() => finish(), 50) : finish(e)));
    });
  }
}
