// watches.test.ts — watches against zkts and Apache ZooKeeper 3.8: one-time data, exist and child
// watches (which events fire them, once), listeners, Watcher objects and the default watcher,
// persistent and recursive watches, removeWatches / removeAllWatches / checkWatches, the async
// iterators (each mode; leaving the loop, the signal and `await using` remove the watch), and the
// order of events and replies.
//
// ZooKeeper 3.8 keeps one watch mode per session and path (a recursive addWatch replaces a
// persistent one on the same path; ZOOKEEPER-4466, fixed in 3.9) and sends watch events with
// zxid -1: the tests put persistent and recursive watches on one path on different sessions, and
// expect the zxid ZooKeeper 3.9 sends only from zkts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type NodeEvent, type WatchedEvent, type ZooKeeper, isZkError } from '../../src/client/index.js';
import { SERVER_KINDS, type TestServer, connect, recorder, uniquePath, until } from './servers.js';

const brief = (e: WatchedEvent): string => `${e.type} ${e.path}`;

for (const kind of SERVER_KINDS) {
  describe(`watches against ${kind.name}`, { skip: kind.skip, timeout: 60_000 }, () => {
    let server: TestServer;
    let zk: ZooKeeper;
    let other: ZooKeeper;
    let third: ZooKeeper;

    before(async () => {
      server = await kind.start();
      zk = await connect(server.connectString);
      other = await connect(server.connectString);
      third = await connect(server.connectString);
    });
    after(async () => {
      await zk?.close();
      await other?.close();
      await third?.close();
      await server?.stop();
    });

    /** Waits until `events` has `n` entries, then a little longer to see that no more come. */
    async function settle<T>(events: T[], n: number): Promise<T[]> {
      await until(`${n} event(s)`, () => (events.length >= n ? true : undefined));
      await zk.sync('/');
      await other.sync('/');
      assert.equal(events.length, n, `expected ${n} event(s): ${JSON.stringify(events, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
      return events;
    }

    test('a data watch fires once, on change or deletion; its event carries the zxid', async () => {
      const p = uniquePath('data');
      await zk.create(p, 'a');
      const r = recorder<WatchedEvent>();
      await zk.getData(p, { watch: r.fn });
      const st = await other.setData(p, 'b');
      await other.setData(p, 'c');
      const [ev] = await settle(r.events, 1);
      const zxid = kind.name === 'zookeeper' ? -1n : st.mzxid;
      assert.deepEqual(ev, { type: 'NodeDataChanged', state: 'SyncConnected', path: p, zxid });
      await zk.getData(p, { watch: r.fn });
      await other.delete(p);
      assert.deepEqual((await settle(r.events, 2)).map(brief), [`NodeDataChanged ${p}`, `NodeDeleted ${p}`]);
    });

    test('exists watches creation of a missing node and deletion of an existing one', async () => {
      const p = uniquePath('exists');
      const r = recorder<WatchedEvent>();
      assert.equal(await zk.exists(p, { watch: r.fn }), null);
      await other.create(p);
      await settle(r.events, 1);
      assert.notEqual(await zk.exists(p, { watch: r.fn }), null);
      await other.delete(p);
      assert.deepEqual((await settle(r.events, 2)).map(brief), [`NodeCreated ${p}`, `NodeDeleted ${p}`]);
    });

    test('a child watch fires on a child created or deleted, not on data; and on the node’s deletion', async () => {
      const p = uniquePath('child');
      await zk.create(p);
      const r = recorder<WatchedEvent>();
      await zk.getChildren(p, { watch: r.fn });
      await other.setData(p, 'x');
      await other.create(`${p}/c`);
      await settle(r.events, 1);
      await zk.getChildrenWithStat(p, { watch: r.fn });
      await other.delete(`${p}/c`);
      await settle(r.events, 2);
      await zk.getChildren(p, { watch: r.fn });
      await other.delete(p);
      assert.deepEqual((await settle(r.events, 3)).map(brief), [`NodeChildrenChanged ${p}`, `NodeChildrenChanged ${p}`, `NodeDeleted ${p}`]);
    });

    test('Watcher objects, the default watcher, and one call per watcher per event', async () => {
      const p = uniquePath('objects');
      await zk.create(p);
      const seen: string[] = [];
      const watcher = { process: (e: WatchedEvent) => seen.push(`obj ${brief(e)}`) };
      const onDefault = (e: WatchedEvent) => {
        if (e.type !== 'None') seen.push(`default ${brief(e)}`);
      };
      zk.on('watch', onDefault);
      try {
        await zk.getData(p, { watch: watcher });
        await zk.exists(p, { watch: watcher });
        await zk.getData(p, { watch: true });
        await other.setData(p, 'x');
        await settle(seen, 2);
        assert.deepEqual(seen.sort(), [`default NodeDataChanged ${p}`, `obj NodeDataChanged ${p}`]);
      } finally {
        zk.off('watch', onDefault);
      }
    });

    test('persistent watches fire on every change of the node and its children; recursive ones below it', async () => {
      const p = uniquePath('persistent');
      await zk.create(p);
      const flat = recorder<WatchedEvent>();
      const deep = recorder<WatchedEvent>();
      await zk.addWatch(p, flat.fn, { mode: 'persistent' });
      await third.addWatch(p, deep.fn, { mode: 'recursive' });
      await other.setData(p, '1');
      await other.setData(p, '2');
      await other.create(`${p}/a`);
      await other.create(`${p}/a/b`);
      await other.setData(`${p}/a/b`, 'x');
      await other.delete(`${p}/a/b`);
      await until('recursive events', () => (deep.events.length >= 6 ? true : undefined));
      assert.deepEqual(flat.events.map(brief), [`NodeDataChanged ${p}`, `NodeDataChanged ${p}`, `NodeChildrenChanged ${p}`]);
      assert.deepEqual(deep.events.map(brief), [
        `NodeDataChanged ${p}`, `NodeDataChanged ${p}`, `NodeCreated ${p}/a`, `NodeCreated ${p}/a/b`,
        `NodeDataChanged ${p}/a/b`, `NodeDeleted ${p}/a/b`,
      ]);
      assert.ok(await zk.checkWatches(p, 'persistent'));
      await zk.removeAllWatches(p, 'any');
      await third.removeWatches(p, deep.fn, 'recursive');
      assert.equal(await zk.checkWatches(p), false);
      assert.equal(await third.checkWatches(p), false);
      assert.deepEqual(flat.events.slice(3).map(brief), [`PersistentWatchRemoved ${p}`]);
      assert.deepEqual(deep.events.slice(6).map(brief), [`PersistentWatchRemoved ${p}`]);
      await other.setData(p, '3');
      await settle(deep.events, 7);
      await settle(flat.events, 4);
    });

    test('removeWatches: one watcher, the others stay; NoWatcher when it was not watching', async () => {
      const p = uniquePath('remove');
      await zk.create(p);
      const a = recorder<WatchedEvent>();
      const b = recorder<WatchedEvent>();
      await zk.getData(p, { watch: a.fn });
      await zk.getData(p, { watch: b.fn });
      await zk.getChildren(p, { watch: a.fn });
      await zk.removeWatches(p, a.fn, 'data');
      assert.deepEqual(a.events.map(brief), [`DataWatchRemoved ${p}`]);
      assert.ok(await zk.checkWatches(p, 'data'), 'b still needs the server’s data watch');
      await assert.rejects(zk.removeWatches(p, a.fn, 'data'), (e) => isZkError(e, 'ZNOWATCHER') && e.path === p);
      await zk.removeWatches(p, a.fn, 'children');
      assert.equal(await zk.checkWatches(p, 'children'), false, 'no one needed the child watch: removed on the server');
      await other.setData(p, 'x');
      await other.create(`${p}/c`);
      await settle(b.events, 1);
      assert.deepEqual(a.events.map(brief), [`DataWatchRemoved ${p}`, `ChildWatchRemoved ${p}`]);
      await assert.rejects(zk.removeAllWatches(p, 'any'), (e) => isZkError(e, 'ZNOWATCHER'));
    });

    test('a watch event arrives before the reply of a read that shows its change', async () => {
      const p = uniquePath('order');
      await zk.create(p, '0');
      for (let round = 1; round <= 20; round++) {
        const r = recorder<WatchedEvent>();
        await zk.getData(p, { watch: r.fn });
        const write = other.setData(p, String(round));
        let shown = false;
        for (let i = 0; i < 1000 && !shown; i++) {
          const { data } = await zk.getData(p);
          shown = data.toString() === String(round);
          if (shown) assert.equal(r.events.length, 1, `round ${round}: the reply showed the change before its event`);
        }
        await write;
        assert.ok(shown);
      }
    });

    test('iterators: persistent, recursive, data and children modes', async () => {
      const p = uniquePath('iter');
      await zk.create(p);
      const take = async (it: AsyncIterable<NodeEvent>, n: number): Promise<string[]> => {
        const out: string[] = [];
        for await (const ev of it) {
          out.push(brief(ev));
          if (out.length === n) break;
        }
        return out;
      };
      const persistent = zk.watch(p, { mode: 'persistent' });
      const recursive = third.watch(p, { mode: 'recursive' });
      const data = zk.watch(`${p}/d`, { mode: 'data' });
      const children = zk.watch(`${p}/kids`, { mode: 'children' });
      await Promise.all([persistent.ready, recursive.ready, data.ready, children.ready]);
      await other.create(`${p}/d`, '0');
      await until('the data stream to re-arm', async () => ((await zk.checkWatches(`${p}/d`, 'data')) ? true : undefined));
      await other.setData(`${p}/d`, '1');
      await other.create(`${p}/kids`);
      await until('the children stream to re-arm', async () => ((await zk.checkWatches(`${p}/kids`, 'children')) ? true : undefined));
      await other.create(`${p}/kids/x`);
      assert.deepEqual(await take(persistent, 2), [`NodeChildrenChanged ${p}`, `NodeChildrenChanged ${p}`]);
      assert.deepEqual(await take(recursive, 4), [`NodeCreated ${p}/d`, `NodeDataChanged ${p}/d`, `NodeCreated ${p}/kids`, `NodeCreated ${p}/kids/x`]);
      assert.deepEqual(await take(data, 2), [`NodeCreated ${p}/d`, `NodeDataChanged ${p}/d`]);
      assert.deepEqual(await take(children, 2), [`NodeCreated ${p}/kids`, `NodeChildrenChanged ${p}/kids`]);
      for (const path of [p, `${p}/d`, `${p}/kids`]) {
        assert.equal(await zk.checkWatches(path), false, `leaving the loop removed the watch on ${path}`);
      }
      assert.equal(await third.checkWatches(p), false);
    });

    test('iterators end with the signal and with `await using`, and keep other watchers', async () => {
      const p = uniquePath('iter-end');
      await zk.create(p);
      const keep = recorder<WatchedEvent>();
      await zk.addWatch(p, keep.fn, { mode: 'persistent' });
      const ac = new AbortController();
      const stream = zk.watch(p, { signal: ac.signal });
      await stream.ready;
      const got: string[] = [];
      const loop = (async () => {
        for await (const ev of stream) {
          got.push(brief(ev));
          ac.abort();
        }
      })();
      await other.setData(p, 'x');
      await loop;
      assert.deepEqual(got, [`NodeDataChanged ${p}`]);
      await stream.close();
      assert.ok(await zk.checkWatches(p), 'the other persistent watcher still needs the server’s watch');
      {
        await using s = zk.watch(`${p}/u`, { mode: 'data' });
        await s.ready;
        assert.ok(await zk.checkWatches(`${p}/u`, 'data'));
      }
      await until('disposal to remove the watch', async () => ((await zk.checkWatches(`${p}/u`)) ? undefined : true));
      await other.setData(p, 'y');
      await settle(keep.events, 2);
    });

    test('a slow iterator consumer gets WatchOverflowError, not silently lost events', async () => {
      const p = uniquePath('overflow');
      await zk.create(p);
      const stream = zk.watch(p, { maxQueuedEvents: 3 });
      await stream.ready;
      for (let i = 0; i < 5; i++) await other.setData(p, String(i));
      await zk.sync(p);
      await until('the overflow', async () => {
        try {
          for (let i = 0; i < 4; i++) await stream.next();
          return undefined;
        } catch (e) {
          return (e as Error).name === 'WatchOverflowError' ? true : undefined;
        }
      });
      await stream.close();
    });
  });
}
