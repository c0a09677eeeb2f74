// barrier.ts — Barrier (Curator's DistributedBarrier): processes wait while a node exists and go
// on when it is removed. DoubleBarrier (DistributedDoubleBarrier): `memberQty` processes enter
// together and leave together.
//
// Guarantees: waitOnBarrier returns only after the barrier node was seen absent. DoubleBarrier:
// no member returns from enter() before memberQty members have entered (a `ready` node marks it),
// and none returns from leave() while another member's node remains. Members are ephemeral, so a
// member whose session ends leaves the barrier.
import { randomUUID } from 'node:crypto';
import type { ZooKeeper } from '../client/index.js';
import { isZkError } from '../client/index.js';
import { ensurePath, joinPath } from './paths.js';

/** Resolves when the watch fires, the timeout passes or the signal aborts (then rejects). */
function waitFor(set: (wake: () => void) => Promise<boolean>, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (v: boolean | Error): void => {
      if (done) return;
      done = true;
      clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      if (v instanceof Error) reject(v);
      else resolve(v);
    };
    const onAbort = (): void => finish(signal!.reason as Error);
    const t = setTimeout(() => finish(false), Math.min(timeoutMs, 2 ** 31 - 1));
    signal?.addEventListener('abort', onAbort, { once: true });
    set(() => finish(true)).then(
      (again) => again && finish(true),
      (e: unknown) => finish(e as Error),
    );
  });
}

export interface WaitOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class Barrier {
  constructor(readonly zk: ZooKeeper, readonly path: string) {}

  /** Puts the barrier up (idempotent). */
  async setBarrier(): Promise<void> {
    await ensurePath(this.zk, this.path);
  }
  /** Takes it down: every waiter goes on. */
  async removeBarrier(): Promise<void> {
    try {
      await this.zk.delete(this.path);
    } catch (e) {
      if (!(isZkError(e) && e.code === 'ZNONODE')) throw e;
    }
  }
  /** Waits while the barrier is up: true when it is down, false on timeout. */
  async waitOnBarrier(opts: WaitOptions = {}): Promise<boolean> {
    const deadline = Date.now() + (opts.timeoutMs ?? Infinity);
    for (;;) {
      if (Date.now() > deadline) return false;
      let gone = false;
      await waitFor(async (wake) => {
        gone = (await this.zk.exists(this.path, { watch: wake })) === null;
        return gone;
      }, deadline - Date.now(), opts.signal);
      if (gone || (await this.zk.exists(this.path)) === null) return true;
    }
  }
}

export class DoubleBarrier {
  private readonly ourPath: string;
  private readonly readyPath: string;
  constructor(readonly zk: ZooKeeper, readonly path: string, readonly memberQty: number, id: string = randomUUID()) {
    this.ourPath = joinPath(path, id);
    this.readyPath = joinPath(path, 'ready');
  }

  private async members(): Promise<string[]> {
    try {
      return (await this.zk.getChildren(this.path)).filter((n) => n !== 'ready');
    } catch (e) {
      if (isZkError(e) && e.code === 'ZNONODE') return [];
      throw e;
    }
  }

  /** Enters; resolves true once memberQty members have entered (false on timeout). */
  async enter(opts: WaitOptions = {}): Promise<boolean> {
    const deadline = Date.now() + (opts.timeoutMs ?? Infinity);
    await ensurePath(this.zk, this.path);
    let readyFired = false;
    const ready = await this.zk.exists(this.readyPath, { watch: () => (readyFired = true) });
    await this.zk.create(this.ourPath, null, { mode: 'ephemeral' });
    if (ready !== null) return true;
    if ((await this.members()).length >= this.memberQty) {
      try {
        await this.zk.create(this.readyPath);
      } catch (e) {
        if (!(isZkError(e) && e.code === 'ZNODEEXISTS')) throw e;
      }
      return true;
    }
    while (!readyFired) {
      if (Date.now() > deadline) {
        await this.zk.delete(this.ourPath).catch(() => {});
        return false;
      }
      const ok = await waitFor(async (wake) => (await this.zk.exists(this.readyPath, { watch: wake })) !== null, deadline - Date.now(), opts.signal);
      if (ok && (await this.zk.exists(this.readyPath)) !== null) return true;
    }
    return true;
  }

  /** Leaves; resolves true once every member has left (false on timeout). */
  async leave(opts: WaitOptions = {}): Promise<boolean> {
    const deadline = Date.now() + (opts.timeoutMs ?? Infinity);
    const ours = this.ourPath.slice(this.path.length + 1);
    for (;;) {
      const members = (await this.members()).sort();
      if (members.length === 0) {
        await this.zk.delete(this.readyPath).catch(() => {});
        return true;
      }
      if (Date.now() > deadline) return false;
      // ZooKeeper's recipe: the lowest waits for the highest; the others delete themselves and wait for the lowest
      const onlyUs = members.length === 1 && members[0] === ours;
      if (onlyUs) {
        await this.zk.delete(this.ourPath).catch(() => {});
        continue;
      }
      const lowest = members[0]!;
      let target: string;
      if (ours === lowest) target = members[members.length - 1]!;
      else {
        if (members.includes(ours)) await this.zk.delete(this.ourPath).catch(() => {});
        target = lowest;
      }
      await waitFor(async (wake) => (await this.zk.exists(joinPath(this.path, target), { watch: wake })) === null, deadline - Date.now(), opts.signal);
    }
  }
}
