// watch-stream.ts — `for await (const ev of zk.watch(path, { mode }))`: node events as an async
// iterator. 'persistent' and 'recursive' set one addWatch that the server keeps (and the client
// replays after a reconnect); 'data' and 'children' re-arm a one-time watch (exists, or
// getChildren falling back to exists while the node is missing) after each event, so changes made
// between an event and the re-arm show up as one event, as with any one-time watch. Leaving the
// loop (break, return, throw), close(), `await using` or the signal removes the watch with
// removeWatches. Events wait in a bounded queue; a consumer that falls `maxQueuedEvents` behind
// gets WatchOverflowError rather than silently missing events. The stream ends when the client
// closes and throws ZSESSIONEXPIRED / ZAUTHFAILED when the session ends otherwise.
import { Code } from '../protocol/codes.js';
import type { ZooKeeper } from './client.js';
import { WatchOverflowError, ZkError, isZkError } from './errors.js';
import type { NodeEvent, SessionState, WatchedEvent, WatchTarget } from './types.js';

export type WatchMode = 'persistent' | 'recursive' | 'data' | 'children';

export interface WatchStreamOptions {
  mode?: WatchMode;
  signal?: AbortSignal;
  /** Events held for a slow consumer before the stream fails. Default 10,000. */
  maxQueuedEvents?: number;
}

const REMOVED = new Set(['DataWatchRemoved', 'ChildWatchRemoved', 'PersistentWatchRemoved']);
const MAX_ARM_ATTEMPTS = 100;

export class WatchStream implements AsyncIterableIterator<NodeEvent>, AsyncDisposable {
  readonly path: string;
  readonly mode: WatchMode;
  /** Settles when the first watch is set on the server (rejects when it cannot be). */
  readonly ready: Promise<void>;

  private readonly queue: NodeEvent[] = [];
  private readonly maxQueued: number;
  private waiter: { resolve: (r: IteratorResult<NodeEvent>) => void; reject: (e: unknown) => void } | null = null;
  private ended = false;
  private error: unknown = null;
  private target: WatchTarget | null = null;
  private gen = 0;
  private arming: Promise<void> = Promise.resolve();
  private cancelWait: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = (): void => void this.close();

  constructor(private readonly zk: ZooKeeper, path: string, opts: WatchStreamOptions, private readonly onEnd: (s: WatchStream) => void) {
    this.path = path;
    this.mode = opts.mode ?? 'persistent';
    this.maxQueued = opts.maxQueuedEvents ?? 10_000;
    this.signal = opts.signal;
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.ready = this.rearm();
    this.ready.catch(() => {});
    if (this.signal?.aborted) void this.close();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<NodeEvent>> {
    const ev = this.queue.shift();
    if (ev !== undefined) return Promise.resolve({ value: ev, done: false });
    if (this.error !== null) {
      const e = this.error;
      this.error = null;
      this.ended = true;
      return Promise.reject(e);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  async return(): Promise<IteratorResult<NodeEvent>> {
    await this.close();
    return { value: undefined, done: true };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Ends the stream and removes its watch (locally at least, when the server cannot be told). */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.end();
    this.closing = (async () => {
      this.cancelWait?.();
      await this.arming.catch(() => {});
      const target = this.target;
      this.target = null;
      if (target !== null) await this.zk.removeWatches(this.path, target, 'any', { local: true }).catch(() => {});
    })();
    return this.closing;
  }

  /** The session ended: closed ends the stream, expiry and auth failure fail it. */
  terminate(state: SessionState): void {
    this.target = null;
    if (state === 'closed') this.end();
    else this.fail(new ZkError(state === 'expired' ? Code.SessionExpired : Code.AuthFailed, { path: this.path }));
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.onEnd(this);
    const w = this.waiter;
    this.waiter = null;
    w?.resolve({ value: undefined, done: true });
  }

  private fail(e: unknown): void {
    if (this.ended) return;
    const w = this.waiter;
    this.waiter = null;
    if (w !== null) {
      this.end();
      w.reject(e);
      return;
    }
    this.error = e;
    this.ended = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.onEnd(this);
  }

  private push(ev: NodeEvent): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w.resolve({ value: ev, done: false });
      return;
    }
    if (this.queue.length >= this.maxQueued) {
      this.fail(new WatchOverflowError(this.path, this.maxQueued));
      return;
    }
    this.queue.push(ev);
  }

  private onEvent(gen: number, ev: WatchedEvent): void {
    if (this.ended || gen !== this.gen || ev.type === 'None') return;
    this.push(ev);
    if (REMOVED.has(ev.type)) {
      this.target = null;
      this.end();
      return;
    }
    if (this.mode === 'data' || this.mode === 'children') this.arming = this.rearm().catch(() => {});
  }

  /** Sets the watch, retrying after each reconnect while the connection is down. */
  private async rearm(): Promise<void> {
    for (let attempt = 0; attempt < MAX_ARM_ATTEMPTS && !this.ended; attempt++) {
      try {
        await this.armOnce();
        return;
      } catch (e) {
        if (this.ended) return;
        if (isZkError(e, 'ZCONNECTIONLOSS')) {
          await this.untilConnected();
          continue;
        }
        this.fail(e);
        throw e;
      }
    }
  }

  private async armOnce(): Promise<void> {
    for (let attempt = 0; attempt < MAX_ARM_ATTEMPTS; attempt++) {
      const gen = ++this.gen;
      const target: WatchTarget = (ev) => this.onEvent(gen, ev);
      this.target = target;
      switch (this.mode) {
        case 'persistent':
        case 'recursive':
          await this.zk.addWatch(this.path, target, { mode: this.mode });
          return;
        case 'data':
          await this.zk.exists(this.path, { watch: target });
          return;
        case 'children':
          try {
            await this.zk.getChildren(this.path, { watch: target });
            return;
          } catch (e) {
            if (!isZkError(e, 'ZNONODE')) throw e;
          }
          // Missing: wait for it to be created. If it appeared meanwhile, exists set a data
          // watch instead; drop it and try getChildren again.
          if ((await this.zk.exists(this.path, { watch: target })) === null) return;
          await this.zk.removeWatches(this.path, target, 'data', { local: true }).catch(() => {});
      }
    }
    throw new ZkError(Code.RuntimeInconsistency, { path: this.path, message: `could not set a children watch on ${this.path}` });
  }

  private untilConnected(): Promise<void> {
    return new Promise<void>((resolve) => {
      const onState = (state: SessionState): void => {
        if (state === 'connected' || state === 'readOnly' || state === 'closed' || state === 'expired' || state === 'authFailed') done();
      };
      const done = (): void => {
        this.zk.off('state', onState);
        this.cancelWait = null;
        resolve();
      };
      this.cancelWait = done;
      this.zk.on('state', onState);
    });
  }
}
