// leader.ts — leader election: LeaderLatch (Curator's LeaderLatch: leader until closed) and
// LeaderSelector (Curator's LeaderSelector: leadership is a callback; when it returns, the next
// contender leads).
//
// Guarantee: both run on the lock queue, so while sessions live at most one contender leads at a
// time, and contenders lead in the order they joined. Leadership is tied to the session: on
// 'suspended' (connection lost, session maybe still alive) a leader stops being leader at once —
// the conservative choice Curator makes — and regains it on 'reconnected' only if its node is
// still first. `token` (the czxid of the leader's node) fences a stale leader as the Mutex's does.
import { EventEmitter } from 'node:events';
import type { ZooKeeper } from '../client/index.js';
import { LockInternals, type LockNode, standardDriver } from './lock-internals.js';
import { Mutex } from './mutex.js';
import { basename } from './paths.js';
import type { RetryPolicy } from './retry.js';

export interface LeaderLatchEvents {
  isLeader: [token: bigint];
  notLeader: [];
  error: [err: unknown];
}

export class LeaderLatch extends EventEmitter<LeaderLatchEvents> implements AsyncDisposable {
  private readonly internals: LockInternals;
  private node: LockNode | null = null;
  private leader = false;
  private abort: AbortController | null = null;
  private readonly onState = (s: string): void => {
    if (s === 'suspended') this.setLeader(false);
    else if (s === 'connected' && this.node !== null) void this.recheck();
    else if (s === 'expired' || s === 'closed') {
      this.node = null;
      this.setLeader(false);
    }
  };

  constructor(readonly zk: ZooKeeper, readonly path: string, readonly id = '', opts: { retry?: RetryPolicy } = {}) {
    super();
    this.internals = new LockInternals(zk, path, 'latch-', standardDriver(1), opts.retry, Buffer.from(id));
  }

  /** Joins the election; leadership comes later, as an 'isLeader' event (or await()). */
  start(): void {
    if (this.abort !== null) throw new Error('LeaderLatch already started');
    this.abort = new AbortController();
    this.zk.on('state', this.onState);
    const signal = this.abort.signal;
    this.internals.attempt(undefined, signal).then(
      (node) => {
        if (node === null || signal.aborted) return;
        this.node = node;
        if (this.zk.state === 'connected') this.setLeader(true);
      },
      (e: unknown) => {
        if (!signal.aborted) this.emit('error', e);
      },
    );
  }

  get hasLeadership(): boolean {
    return this.leader;
  }
  /** The leader's fencing token (czxid of its node) while leader, else null. */
  get token(): bigint | null {
    return this.leader ? this.node!.czxid : null;
  }

  /** Resolves when this latch leads (false when timeoutMs passed first). */
  await(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    if (this.leader) return Promise.resolve(true);
    return new Promise((resolve, reject) => {
      const done = (v: boolean | Error): void => {
        clearTimeout(t);
        this.off('isLeader', onLeader);
        opts.signal?.removeEventListener('abort', onAbort);
        if (v instanceof Error) reject(v);
        else resolve(v);
      };
      const onLeader = (): void => done(true);
      const onAbort = (): void => done(opts.signal!.reason as Error);
      const t = opts.timeoutMs === undefined ? undefined : setTimeout(() => done(false), opts.timeoutMs);
      this.on('isLeader', onLeader);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The ids (node data) of the contenders, leader first. */
  async participants(): Promise<string[]> {
    return this.internals.participants();
  }

  /** Leaves the election (deleting the node) and stops leading. */
  async close(): Promise<void> {
    this.abort?.abort();
    this.zk.off('state', this.onState);
    this.setLeader(false);
    const node = this.node;
    this.node = null;
    if (node !== null && this.zk.state !== 'closed' && this.zk.state !== 'expired') await this.internals.deleteNode(node.path);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async recheck(): Promise<void> {
    const node = this.node;
    if (node === null) return;
    try {
      const sorted = await this.internals.participants();
      if (this.node === node && sorted[0] === basename(node.path) && this.zk.state === 'connected') this.setLeader(true);
    } catch (e) {
      this.emit('error', e);
    }
  }

  private setLeader(v: boolean): void {
    if (v === this.leader) return;
    this.leader = v;
    if (v) this.emit('isLeader', this.node!.czxid);
    else this.emit('notLeader');
  }
}

export interface LeaderSelectorOptions {
  /** Join the election again after leading (default true). */
  autoRequeue?: boolean;
  retry?: RetryPolicy;
  id?: string;
  onError?: (err: unknown) => void;
}

/**
 * Calls takeLeadership while this contender leads; leadership ends when it returns. The signal
 * it gets aborts when the connection is lost (the session may be expiring): stop then.
 */
export class LeaderSelector implements AsyncDisposable {
  private readonly mutex: Mutex;
  private running: Promise<void> | null = null;
  private closed = new AbortController();

  constructor(
    readonly zk: ZooKeeper,
    readonly path: string,
    private readonly takeLeadership: (signal: AbortSignal, token: bigint) => Promise<void>,
    private readonly opts: LeaderSelectorOptions = {},
  ) {
    this.mutex = new Mutex(zk, path, { retry: opts.retry, data: opts.id ?? '' });
  }

  start(): void {
    if (this.running !== null) throw new Error('LeaderSelector already started');
    this.running = this.loop();
  }

  get hasLeadership(): boolean {
    return this.mutex.isHeld;
  }

  private async loop(): Promise<void> {
    const stop = this.closed.signal;
    do {
      try {
        await this.mutex.acquire({ signal: stop });
      } catch (e) {
        if (stop.aborted) return;
        this.opts.onError?.(e);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const lost = new AbortController();
      const onState = (s: string): void => {
        if (s !== 'connected') lost.abort(new Error(`connection ${s}: leadership may be lost`));
      };
      const onClose = (): void => lost.abort(stop.reason);
      this.zk.on('state', onState);
      stop.addEventListener('abort', onClose, { once: true });
      try {
        await this.takeLeadership(lost.signal, this.mutex.token!);
      } catch (e) {
        if (!lost.signal.aborted) this.opts.onError?.(e);
      } finally {
        this.zk.off('state', onState);
        stop.removeEventListener('abort', onClose);
        await this.mutex.release().catch((e: unknown) => this.opts.onError?.(e));
      }
    } while ((this.opts.autoRequeue ?? true) && !stop.aborted);
  }

  async close(): Promise<void> {
    this.closed.abort(new Error('LeaderSelector closed'));
    await this.running;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
