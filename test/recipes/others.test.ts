// others.test.ts — ReadWriteLock, the caches, barriers, the queue, PersistentNode and GroupMember
// against zkts and Apache ZooKeeper 3.8 (test/client/servers.ts), so the recipes rest only on
// behaviour both servers share.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import {
  Barrier,
  DistributedDelayQueue,
  DistributedQueue,
  DoubleBarrier,
  GroupMember,
  NodeCache,
  PathChildrenCache,
  PersistentNode,
  ReadWriteLock,
  TreeCache,
} from '../../src/recipes/index.js';
import { SERVER_KINDS, type TestServer } from '../client/servers.js';

for (const kind of SERVER_KINDS) {
  describe(`rw-lock, caches, barriers, queues, persistent nodes against ${kind.name}`, { skip: kind.skip }, () => {
    let server: TestServer;
    const clients: ZooKeeper[] = [];
    async function client(): Promise<ZooKeeper> {
      const zk = await ZooKeeper.connect(server.connectString);
      clients.push(zk);
      return zk;
    }
    async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!(await cond())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    before(async () => {
      server = await kind.start();
    });
    after(async () => {
      for (const zk of clients) await zk.close();
      await server?.stop();
    });

    test('read-write lock: readers share, a writer excludes, a reader behind a writer waits', async () => {
      const [a, b, c] = [await client(), await client(), await client()];
      const ra = new ReadWriteLock(a, '/rw/1');
      const rb = new ReadWriteLock(b, '/rw/1');
      const rc = new ReadWriteLock(c, '/rw/1');
      assert.equal(await ra.readLock.acquire(), true);
      assert.equal(await rb.readLock.acquire({ timeoutMs: 1000 }), true, 'two readers at once');
      assert.equal(await rc.writeLock.acquire({ timeoutMs: 100 }), false, 'no writer while read');
      const w = rc.writeLock.acquire();
      await new Promise((r) => setTimeout(r, 50));
      const lateReader = new ReadWriteLock(await client(), '/rw/1');
      assert.equal(await lateReader.readLock.acquire({ timeoutMs: 100 }), false, 'a reader queued behind a writer waits');
      await ra.readLock.release();
      await rb.readLock.release();
      assert.equal(await w, true);
      assert.ok(rc.writeLock.token !== null);
      await rc.writeLock.release();
    });

    test('tree cache, path-children cache and node cache follow changes', async () => {
      const zk = await client();
      await zk.create('/tc');
      await zk.create('/tc/a', '1');
      const tree = new TreeCache(zk, '/tc');
      const kids = new PathChildrenCache(zk, '/tc');
      const one = new NodeCache(zk, '/tc/a');
      const events: string[] = [];
      tree.on('added', (n) => events.push(`+${n.path}`));
      tree.on('updated', (n) => events.push(`~${n.path}`));
      tree.on('removed', (n) => events.push(`-${n.path}`));
      await tree.start();
      await kids.start();
      await one.start();
      assert.deepEqual(events, ['+/tc', '+/tc/a']);
      assert.equal(one.current()?.data.toString(), '1');
      await zk.create('/tc/a/deep', 'd');
      await zk.setData('/tc/a', '2');
      await zk.create('/tc/b', 'b');
      await until('the tree cache', () => tree.get('/tc/b') !== undefined && tree.get('/tc/a/deep') !== undefined && tree.get('/tc/a')?.data.toString() === '2');
      await until('the node cache', () => one.current()?.data.toString() === '2');
      await until('the children cache', () => kids.current().length === 2);
      assert.deepEqual(kids.current().map((c) => c.path), ['/tc/a', '/tc/b']);
      assert.equal(kids.get('/tc/a/deep'), undefined, 'grandchildren are not in a children cache');
      await zk.delete('/tc/a/deep');
      await zk.delete('/tc/a');
      await until('removal', () => tree.get('/tc/a') === undefined && one.current() === undefined && kids.current().length === 1);
      assert.ok(events.includes('~/tc/a') && events.includes('-/tc/a/deep') && events.includes('-/tc/a'));
      await tree.close();
      await kids.close();
      await one.close();
    });

    test('barrier: waiters go on when it is removed; double barrier enters and leaves together', async () => {
      const [a, b, c] = [await client(), await client(), await client()];
      const bar = new Barrier(a, '/barrier/1');
      await bar.setBarrier();
      assert.equal(await new Barrier(b, '/barrier/1').waitOnBarrier({ timeoutMs: 100 }), false);
      const waiting = new Barrier(c, '/barrier/1').waitOnBarrier();
      await bar.removeBarrier();
      assert.equal(await waiting, true);

      const members = [a, b, c].map((zk, i) => new DoubleBarrier(zk, '/barrier/double', 3, `m${i}`));
      const entered: number[] = [];
      const p01 = [0, 1].map((i) => members[i]!.enter({ timeoutMs: 5000 }).then((ok) => (entered.push(i), ok)));
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(entered, [], 'nobody enters before three members are there');
      assert.equal(await members[2]!.enter({ timeoutMs: 5000 }), true);
      assert.deepEqual(await Promise.all(p01), [true, true]);
      const left = await Promise.all(members.map((m) => m.leave({ timeoutMs: 5000 })));
      assert.deepEqual(left, [true, true, true]);
      assert.deepEqual(await a.getChildren('/barrier/double'), []);
    });

    test('queue: FIFO, priority, each item taken once, take waits', async () => {
      const zks = [await client(), await client(), await client()];
      const q = new DistributedQueue(zks[0]!, '/queue/1');
      assert.equal(await q.poll(), null);
      for (let i = 0; i < 30; i++) await q.put(`item-${i}`);
      await q.put('urgent', 0);
      const low = new DistributedQueue(zks[0]!, '/queue/2');
      await low.put('later', 5);
      await low.put('first', 1);
      assert.equal((await low.poll())?.toString(), 'first');
      const taken = (await Promise.all(zks.map(async (zk) => {
        const mine: string[] = [];
        const cq = new DistributedQueue(zk, '/queue/1');
        for (let item = await cq.poll(); item !== null; item = await cq.poll()) mine.push(item.toString());
        return mine;
      }))).flat();
      assert.equal(taken.length, 31);
      assert.equal(new Set(taken).size, 31, 'no item taken twice');
      const waiter = q.take({ timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 50));
      await new DistributedQueue(zks[1]!, '/queue/1').put('late');
      assert.equal((await waiter)?.toString(), 'late');
      assert.equal(await q.take({ timeoutMs: 50 }), null);
    });

    test('locking queue: an item leaves only after its handler returned; a throw or a lost session gives it back', async () => {
      const [a, b, c] = [await client(), await client(), await client()];
      const opts = { lockPath: '/queue-locks/3' };
      const qa = new DistributedQueue(a, '/queue/3', opts);
      const qb = new DistributedQueue(b, '/queue/3', opts);
      await qa.put('one');
      await qa.put('two');
      // a holds "one" while b polls: b gets "two", "one" is still in the queue, locked
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let started!: () => void;
      const inHandler = new Promise<void>((r) => (started = r));
      const seenByA: string[] = [];
      const aDone = qa.processNext(async (data) => {
        seenByA.push(data.toString());
        started();
        await held;
      });
      await inHandler;
      assert.deepEqual(seenByA, ['one']);
      assert.equal((await qb.poll())?.toString(), 'two');
      assert.equal(await qb.poll(), null, 'the locked item is not handed out');
      assert.equal((await a.getChildren('/queue/3')).length, 1, '"one" stays until its handler returns');
      assert.equal((await a.getChildren('/queue-locks/3')).length, 1);
      release();
      assert.equal(await aDone, true);
      assert.deepEqual(await a.getChildren('/queue/3'), []);
      assert.deepEqual(await a.getChildren('/queue-locks/3'), [], 'item and lock went together');

      // a handler that throws unlocks the item, which stays for the next consumer
      await qa.put('three');
      await assert.rejects(qa.processNext(() => { throw new Error('handler failed'); }), /handler failed/);
      assert.deepEqual(await a.getChildren('/queue-locks/3'), []);
      assert.equal((await qb.take({ timeoutMs: 5000 }))?.toString(), 'three');

      // a consumer whose session ends while processing: its lock goes with it, another gets the item
      await qa.put('four');
      const qc = new DistributedQueue(c, '/queue/3', opts);
      let cStarted!: () => void;
      const cIn = new Promise<void>((r) => (cStarted = r));
      const cDone = qc.processNext(async () => {
        cStarted();
        await new Promise(() => {}); // never returns: the process dies here
      });
      await cIn;
      const waiting = qb.take({ timeoutMs: 10_000 });
      await c.close();
      assert.equal((await waiting)?.toString(), 'four');
      void cDone.catch(() => {});
      assert.deepEqual(await b.getChildren('/queue/3'), []);
    });

    test('delay queue: an item is handed out from its due time on, earliest first', async () => {
      const [a, b] = [await client(), await client()];
      let nowMs = 1_000_000;
      const now = (): number => nowMs;
      const qa = new DistributedDelayQueue(a, '/queue/4', { now });
      const qb = new DistributedDelayQueue(b, '/queue/4', { now });
      await qa.put('late', nowMs + 2000);
      await qa.put('soon', nowMs + 1000);
      await qa.put('now', nowMs);
      assert.equal((await qb.poll())?.toString(), 'now');
      assert.equal(await qb.poll(), null, 'nothing else is due');
      assert.equal(await qb.peek(), null);
      nowMs += 2000;
      assert.equal((await qb.poll())?.toString(), 'soon');
      assert.equal((await qb.poll())?.toString(), 'late');
      // with the real clock, take() waits for the due time rather than a change of the queue
      const real = new DistributedDelayQueue(b, '/queue/5');
      const due = Date.now() + 300;
      await new DistributedDelayQueue(a, '/queue/5').put('wait for me', due);
      assert.equal((await real.take({ timeoutMs: 10_000 }))?.toString(), 'wait for me');
      assert.ok(Date.now() >= due, 'not handed out before its due time');
      assert.throws(() => qa.put('x', -1), RangeError);
    });

    test('persistent node heals after deletion; group member sees the group', async () => {
      const [a, b] = [await client(), await client()];
      const node = new PersistentNode(a, '/pn/here', 'ephemeral', 'x');
      await node.start();
      assert.equal((await b.getData('/pn/here')).data.toString(), 'x');
      await b.delete('/pn/here');
      await until('re-creation', async () => (await b.exists('/pn/here')) !== null);
      await node.setData('y');
      assert.equal((await b.getData('/pn/here')).data.toString(), 'y');
      await node.close();
      assert.equal(await b.exists('/pn/here'), null);

      const ga = new GroupMember(a, '/group/g', 'a', 'A');
      const gb = new GroupMember(b, '/group/g', 'b', 'B');
      await ga.start();
      await gb.start();
      await until('both members', () => ga.currentMembers().size === 2);
      assert.equal(ga.currentMembers().get('b')?.toString(), 'B');
      await gb.close();
      await until('b to leave', () => !ga.currentMembers().has('b'));
      await ga.close();
    });
  });
}
