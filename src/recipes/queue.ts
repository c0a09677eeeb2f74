// queue.ts — DistributedQueue (ZooKeeper's recipe; Curator's SimpleDistributedQueue): items are
// persistent-sequential nodes; take() deletes the lowest and returns its data. A priority queue
// orders by a priority put in the node name before the sequence number.
//
// Guarantee: every item is taken by at most one consumer (the delete decides: only one delete of
// a node succeeds), and at most once. It is not "exactly once": a consumer that takes an item
// and crashes before processing it has lost it — for that, process first and delete after
// (peek + remove), as ZooKeeper's docs note. FIFO among items of the same priority.
import type { Data, ZooKeeper } from '../client/index.js';
import { isZkError } from '../client/index.js';
import { ensurePath, joinPath, sequenceOf } from './paths.js';

export class DistributedQueue {
  constructor(readonly zk: ZooKeeper, readonly path: string) {}

  /** Adds an item; priority 0..999999 (lower first), default 0. The item's node path is returned. */
  async put(data: Data, priority = 0): Promise<string> {
    if (!Number.isInteger(priority) || priority < 0 || priority > 999_999) throw new RangeError('priority must be an integer in 0..999999');
    const name = `qn-${String(priority).padStart(6, '0')}-`;
    try {
      return await this.zk.create(joinPath(this.path, name), data, { mode: 'persistentSequential' });
    } catch (e) {
      if (!(isZkError(e) && e.code === 'ZNONODE')) throw e;
      await ensurePath(this.zk, this.path);
      return this.zk.create(joinPath(this.path, name), data, { mode: 'persistentSequential' });
    }
  }

  private async ordered(watch?: () => void): Promise<string[]> {
    try {
      const names = await this.zk.getChildren(this.path, watch === undefined ? {} : { watch });
      const key = (n: string): [number, number] => [Number(/^qn-(\d{6})-/.exec(n)?.[1] ?? 0), sequenceOf(n)];
      return names.filter((n) => n.startsWith('qn-')).sort((a, b) => {
        const [pa, sa] = key(a);
        const [pb, sb] = key(b);
        return pa - pb || sa - sb;
      });
    } catch (e) {
      if (isZkError(e) && e.code === 'ZNONODE') return [];
      throw e;
    }
  }

  /** The head item's data without removing it, or null when empty. */
  async peek(): Promise<Buffer | null> {
    for (const n of await this.ordered()) {
      try {
        return (await this.zk.getData(joinPath(this.path, n))).data;
      } catch (e) {
        if (!(isZkError(e) && e.code === 'ZNONODE')) throw e;
      }
    }
    return null;
  }

  /** Removes and returns the head item, or null when empty. */
  async poll(): Promise<Buffer | null> {
    for (const n of await this.ordered()) {
      const p = joinPath(this.path, n);
      try {
        const { data, stat } = await this.zk.getData(p);
        await this.zk.delete(p, { version: stat.version });
        return data;
      } catch (e) {
        if (!(isZkError(e) && (e.code === 'ZNONODE' || e.code === 'ZBADVERSION'))) throw e; // taken by another consumer
      }
    }
    return null;
  }

  /** Removes and returns the head item, waiting for one (null on timeout). */
  async take(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Buffer | null> {
    const deadline = Date.now() + (opts.timeoutMs ?? Infinity);
    for (;;) {
      opts.signal?.throwIfAborted();
      const item = await this.poll();
      if (item !== null) return item;
      if (Date.now() >= deadline) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(deadline - Date.now(), 2 ** 31 - 1));
        const wake = (): void => (clearTimeout(t), resolve());
        opts.signal?.addEventListener('abort', wake, { once: true });
        void this.ordered(wake).then((names) => names.length > 0 && wake(), wake);
      });
    }
  }
}
