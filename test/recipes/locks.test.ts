// locks.test.ts — Mutex, SemaphoreMutex, Semaphore, LeaderLatch, LeaderSelector and the counters
// against zkts and Apache ZooKeeper 3.8 (test/client/servers.ts): exclusion, reentrancy, queue order, no herd (each waiter
// watches only its predecessor), fencing tokens increasing, timeouts, leases, optimistic updates.
import assert from 'node:assert/strict';
import { inspect, isDeepStrictEqual } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { DistributedAtomicLong, LeaderLatch, LeaderSelector, Mutex, Semaphore, SemaphoreMutex, SharedCount } from '../../src/recipes/index.js';
import { SERVER_KINDS, type TestServer, until, watchesBySession } from '../client/servers.js';

for (const kind of SERVER_KINDS) {
  describe(`locks, leaders and counters against ${kind.name}`, { skip: kind.skip }, () => {
    let server: TestServer;
    const clients: ZooKeeper[] = [];
    async function client(): Promise<ZooKeeper> {
      const zk = await ZooKeeper.connect(server.connectString);
      clients.push(zk);
      return zk;
    }
    before(async () => {
      server = await kind.start();
    });
    after(async () => {
      for (const zk of clients) await zk.close();
      await server?.stop();
    });

    test('mutex: one holder, reentrant, FIFO, tokens increase', async () => {
      const [a, b, c] = [await client(), await client(), await client()];
      const ma = new Mutex(a, '/locks/m1');
      const mb = new Mutex(b, '/locks/m1');
      const mc = new Mutex(c, '/locks/m1');
      assert.equal(await ma.acquire(), true);
      assert.equal(await ma.acquire(), true, 'reentrant');
      const ta = ma.token!;
      const order: string[] = [];
      const pb = mb.acquire().then(() => order.push('b'));
      await new Promise((r) => setTimeout(r, 50));
      const pc = mc.acquire().then(() => order.push('c'));
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(order, []);
      assert.equal((await ma.participants()).length, 3);
      await ma.release();
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(order, [], 'one release of two acquires keeps the lock');
      await ma.release();
      await pb;
      assert.deepEqual(order, ['b']);
      assert.ok(mb.token! > ta);
      await mb.release();
      await pc;
      assert.ok(mc.token! > ta);
      assert.deepEqual(order, ['b', 'c']);
      await mc.release();
      assert.deepEqual(await a.getChildren('/locks/m1'), []);
    });

    test('mutex: timeout gives false and leaves no node; abort rejects', async () => {
      const [a, b] = [await client(), await client()];
      const ma = new Mutex(a, '/locks/m2');
      const mb = new Mutex(b, '/locks/m2');
      await ma.acquire();
      assert.equal(await mb.acquire({ timeoutMs: 100 }), false);
      const ac = new AbortController();
      const p = mb.acquire({ signal: ac.signal });
      setTimeout(() => ac.abort(new Error('stop')), 50);
      await assert.rejects(p, /stop/);
      assert.equal((await a.getChildren('/locks/m2')).length, 1);
      await ma.release();
    });

    test('mutex: waiters watch their predecessor only (no herd)', async () => {
      const zks = await Promise.all([1, 2, 3, 4].map(() => client()));
      const ms = zks.map((zk) => new Mutex(zk, '/locks/m3'));
      await ms[0]!.acquire();
      const waits = ms.slice(1).map((m) => m.acquire());
      // "wchc" lists the watches of each session (checkWatches cannot tell sessions apart on 3.8).
      // Waiters queue in the order of their nodes; each must watch its predecessor's node and
      // nothing else, the holder nothing.
      const expected = async (): Promise<Map<bigint, string[]>> => {
        const names = await ms[0]!.participants();
        const owners = await Promise.all(names.map(async (n) => (await zks[0]!.exists(`/locks/m3/${n}`))?.ephemeralOwner));
        return new Map(owners.map((o, i) => [o ?? -1n, i === 0 ? [] : [`/locks/m3/${names[i - 1]}`]]));
      };
      const watched = async (): Promise<Map<bigint, string[]>> => {
        const all = await watchesBySession(server);
        return new Map(zks.map((zk) => [zk.sessionId, (all.get(zk.sessionId) ?? []).filter((p) => p.startsWith('/locks/m3'))]));
      };
      let last: [Map<bigint, string[]>, Map<bigint, string[]>] | undefined;
      await until('each waiter to watch its predecessor', async () => {
        last = [await expected(), await watched()];
        return last[0].size === 4 && isDeepStrictEqual(last[0], last[1]) ? true : undefined;
      }).catch((e: Error) => assert.fail(`${e.message}: expected ${inspect(last?.[0])}, watched ${inspect(last?.[1])}`));
      // the waiters then hold in the order of their nodes (not of ms: their creates raced)
      const queue = [...last![0].keys()];
      const order: bigint[] = [zks[0]!.sessionId];
      await ms[0]!.release();
      const pending = new Map(waits.map((p, i) => [i + 1, p.then(() => i + 1)]));
      while (pending.size > 0) {
        const i = await Promise.race(pending.values());
        pending.delete(i);
        order.push(zks[i]!.sessionId);
        await ms[i]!.release();
      }
      assert.deepEqual(order, queue);
    });

    test('semaphore mutex is not reentrant', async () => {
      const a = await client();
      const m = new SemaphoreMutex(a, '/locks/sm');
      await m.acquire();
      assert.equal(await new SemaphoreMutex(a, '/locks/sm').acquire({ timeoutMs: 100 }), false);
      await m.release();
    });

    test('semaphore: at most N leases, a release admits a waiter', async () => {
      const zks = await Promise.all([1, 2, 3].map(() => client()));
      const sems = zks.map((zk) => new Semaphore(zk, '/sem/s1', 2));
      const l0 = await sems[0]!.acquire();
      const l1 = await sems[1]!.acquire();
      assert.ok(l0 && l1);
      assert.equal(await sems[2]!.acquire({ timeoutMs: 100 }), null);
      const p = sems[2]!.acquire();
      await new Promise((r) => setTimeout(r, 50));
      await l0.release();
      const l2 = await p;
      assert.ok(l2 !== null && l2.token > l1.token);
      await l1.release();
      await l2.release();
      const many = await sems[0]!.acquireMany(2);
      assert.equal(many?.length, 2);
      assert.equal(await sems[1]!.acquireMany(1, { timeoutMs: 50 }), null);
      for (const l of many!) await l.release();
    });

    test('leader latch: one leader, the next takes over on close', async () => {
      const [a, b] = [await client(), await client()];
      const la = new LeaderLatch(a, '/election/l1', 'a');
      const lb = new LeaderLatch(b, '/election/l1', 'b');
      la.start();
      assert.equal(await la.await({ timeoutMs: 5000 }), true);
      lb.start();
      assert.equal(await lb.await({ timeoutMs: 200 }), false);
      assert.equal(la.hasLeadership, true);
      const ta = la.token!;
      await la.close();
      assert.equal(await lb.await({ timeoutMs: 5000 }), true);
      assert.ok(lb.token! > ta);
      await lb.close();
    });

    test('leader selector: leaders take turns, one at a time', async () => {
      const zks = await Promise.all([1, 2, 3].map(() => client()));
      let leading = 0;
      let maxLeading = 0;
      const turns: string[] = [];
      const sels = zks.map(
        (zk, i) =>
          new LeaderSelector(zk, '/election/s1', async () => {
            leading++;
            maxLeading = Math.max(maxLeading, leading);
            turns.push(String(i));
            await new Promise((r) => setTimeout(r, 20));
            leading--;
          }, { autoRequeue: true }),
      );
      for (const s of sels) s.start();
      const deadline = Date.now() + 10_000;
      while (turns.length < 9 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const s of sels) await s.close();
      assert.ok(turns.length >= 9, `turns: ${turns.join()}`);
      assert.equal(maxLeading, 1);
      assert.deepEqual(new Set(turns), new Set(['0', '1', '2']));
    });

    test('atomic long: optimistic tries, then promoted to a lock (Curator\'s PromotedToLock)', async () => {
      const [a, b] = [await client(), await client()];
      const path = '/counters/promoted';
      const lockPath = '/counters/promoted-lock';
      // `a` as the counter sees it: for its first `beaten` reads another writer (b) changes the node
      // right after the read, so that attempt's compare-and-set loses; reads record whether the
      // promoted lock was held at the time
      let beaten = 0;
      const lockedAtRead: boolean[] = [];
      const contended = new Proxy(a, {
        get(target, prop, receiver) {
          if (prop !== 'getData') return Reflect.get(target, prop, receiver);
          return async (p: string, opts?: object) => {
            const got = await target.getData(p, opts);
            if (p === path) {
              lockedAtRead.push((await b.getChildren(lockPath).catch(() => [])).length === 1);
              if (beaten-- > 0) await b.setData(path, got.data);
            }
            return got;
          };
        },
      });
      const plain = new DistributedAtomicLong(contended, path, { maxAttempts: 2 });
      await plain.forceSet(5n);
      lockedAtRead.length = 0;
      beaten = 2;
      assert.deepEqual(await plain.increment(), { succeeded: false, preValue: 5n, postValue: 5n, optimisticTries: 2, promotedTries: 0 });

      const promoted = new DistributedAtomicLong(contended, path, { maxAttempts: 2, promotedToLock: { lockPath } });
      lockedAtRead.length = 0;
      beaten = 3;
      assert.deepEqual(await promoted.increment(), { succeeded: true, preValue: 5n, postValue: 6n, optimisticTries: 2, promotedTries: 2 });
      // reads: the two optimistic ones, the final get() is not made, two under the lock
      assert.deepEqual(lockedAtRead, [false, false, true, true]);
      assert.deepEqual(await b.getChildren(lockPath), [], 'the lock was released');
      beaten = 0;
      assert.deepEqual(await promoted.increment(), { succeeded: true, preValue: 6n, postValue: 7n, optimisticTries: 1, promotedTries: 0 });
      // the lock taken by someone else and a short timeout: the update gives up, unchanged
      const other = new Mutex(b, lockPath);
      await other.acquire();
      beaten = 2;
      const timed = new DistributedAtomicLong(contended, path, { maxAttempts: 2, promotedToLock: { lockPath, timeoutMs: 100 } });
      assert.deepEqual(await timed.increment(), { succeeded: false, preValue: 7n, postValue: 7n, optimisticTries: 2, promotedTries: 0 });
      await other.release();
    });

    test('atomic long and shared count: concurrent increments are never lost', async () => {
      const zks = await Promise.all([1, 2, 3, 4].map(() => client()));
      const counters = zks.map((zk) => new DistributedAtomicLong(zk, '/counters/c1'));
      await Promise.all(counters.map(async (c) => {
        for (let i = 0; i < 25; i++) assert.equal((await c.increment()).succeeded, true);
      }));
      assert.equal(await counters[0]!.get(), 100n);
      assert.deepEqual(await counters[1]!.compareAndSet(99n, 5n), { succeeded: false, preValue: 100n, postValue: 100n });
      assert.equal((await counters[1]!.compareAndSet(100n, 5n)).succeeded, true);
      const raw = (await zks[0]!.getData('/counters/c1')).data;
      assert.equal(raw.toString('hex'), '0000000000000005', 'big-endian 64-bit, as Curator stores it');
      const sc = new SharedCount(zks[0]!, '/counters/shared', 7);
      await sc.start();
      const v = await sc.getVersioned();
      assert.equal(v.value, 7);
      assert.equal(await sc.trySetCount(v, 8), true);
      assert.equal(await sc.trySetCount(v, 9), false, 'stale version');
      assert.equal(await sc.getCount(), 8);
    });
  });
}
