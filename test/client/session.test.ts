// session.test.ts — the session across connections, against zkts and Apache ZooKeeper 3.8, with a
// TCP proxy the test can cut: resume after a cut (same session, ephemerals kept, calls in flight
// fail with ZCONNECTIONLOSS), watch replay with setWatches/setWatches2 (missed changes fire
// one-time watches; persistent ones are set again; several frames for many watches), auth re-sent,
// a silent server detected by the read timeout, pings keeping an idle session, expiry (told by the
// server, or decided by the client when no server answers), auth failure, close and `await
// using`, connect failures, several hosts, and local watch removal while disconnected.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { Ids, type SessionState, type WatchedEvent, ZooKeeper, isZkError } from '../../src/client/index.js';
import { freePort } from '../conformance/server-process.js';
import { CutProxy } from './cut-proxy.js';
import { SERVER_KINDS, type TestServer, clientOptions, connect, nextEvent, recorder, uniquePath, until } from './servers.js';

const brief = (e: WatchedEvent): string => (e.type === 'None' ? `None ${e.state}` : `${e.type} ${e.path}`);

function trackStates(zk: ZooKeeper): SessionState[] {
  const states: SessionState[] = [];
  zk.on('state', (s) => states.push(s));
  return states;
}

for (const kind of SERVER_KINDS) {
  describe(`session against ${kind.name}`, { skip: kind.skip, timeout: 120_000 }, () => {
    let server: TestServer;
    let direct: ZooKeeper;
    let proxy: CutProxy;
    const opened: ZooKeeper[] = [];

    /** A client through a fresh proxy. */
    async function viaProxy(extra: Parameters<typeof connect>[1] = {}): Promise<ZooKeeper> {
      await proxy?.stop();
      proxy = await CutProxy.start(server.host, server.port);
      const zk = await connect(proxy.connectString, extra);
      opened.push(zk);
      return zk;
    }

    before(async () => {
      server = await kind.start();
      direct = await connect(server.connectString);
    });
    afterEach(async () => {
      for (const zk of opened.splice(0)) await zk.close();
      await proxy?.stop();
    });
    after(async () => {
      await direct?.close();
      await server?.stop();
    });

    test('a cut connection suspends and resumes the same session; calls in flight fail with ZCONNECTIONLOSS', async () => {
      const zk = await viaProxy();
      const states = trackStates(zk);
      const id = zk.sessionId;
      const eph = await zk.create(uniquePath('eph'), 'e', { mode: 'ephemeral' });
      proxy.hold();
      const inflight = zk.getData(eph);
      await until('the request to reach the proxy', () => (proxy.heldBytes > 0 ? true : undefined));
      const back = nextEvent(zk, 'reconnected');
      proxy.cut();
      proxy.heal();
      await assert.rejects(inflight, (e) => isZkError(e, 'ZCONNECTIONLOSS') && e.path === eph);
      await back;
      assert.deepEqual(states, ['suspended', 'connected']);
      assert.equal(zk.sessionId, id);
      assert.equal((await zk.getData(eph)).data.toString(), 'e');
      assert.equal((await direct.exists(eph))!.ephemeralOwner, id);
    });

    test('watches are replayed after a reconnect: missed changes fire one-time watches, persistent ones stay', async () => {
      const zk = await viaProxy();
      const base = uniquePath('replay');
      await direct.create(base);
      for (const n of ['data', 'kids', 'same', 'p', 'r']) await direct.create(`${base}/${n}`);
      const r = recorder<WatchedEvent>();
      await zk.getData(`${base}/data`, { watch: r.fn });
      await zk.exists(`${base}/new`, { watch: r.fn });
      await zk.getChildren(`${base}/kids`, { watch: r.fn });
      await zk.getData(`${base}/same`, { watch: r.fn });
      await zk.addWatch(`${base}/p`, r.fn, { mode: 'persistent' });
      await zk.addWatch(`${base}/r`, r.fn, { mode: 'recursive' });
      proxy.refuse();
      proxy.cut();
      await nextEvent(zk, 'suspended');
      await direct.setData(`${base}/data`, 'changed');
      await direct.create(`${base}/new`);
      await direct.create(`${base}/kids/k`);
      const back = nextEvent(zk, 'reconnected');
      proxy.heal();
      await back;
      await until('the missed changes', () => (r.events.filter((e) => e.type !== 'None').length >= 3 ? true : undefined));
      await direct.setData(`${base}/p`, 'x');
      await direct.create(`${base}/r/deep`);
      await until('persistent events after the reconnect', () => (r.events.filter((e) => e.type !== 'None').length >= 5 ? true : undefined));
      await zk.sync('/');
      assert.deepEqual(r.events.map(brief), [
        'None Disconnected',
        'None SyncConnected',
        `NodeDataChanged ${base}/data`,
        `NodeCreated ${base}/new`,
        `NodeChildrenChanged ${base}/kids`,
        `NodeDataChanged ${base}/p`,
        `NodeCreated ${base}/r/deep`,
      ]);
    });

    test('thousands of watches are replayed in several setWatches frames', async () => {
      const zk = await viaProxy();
      const base = uniquePath('many');
      const n = 1500;
      const path = (i: number): string => `${base}/${'x'.repeat(80)}-${i}`;
      const r = recorder<WatchedEvent>();
      await Promise.all(Array.from({ length: n }, (_, i) => zk.exists(path(i), { watch: r.fn })));
      const back = nextEvent(zk, 'reconnected');
      proxy.cut();
      await back;
      await direct.create(base);
      for (const i of [0, 700, n - 1]) await direct.create(path(i));
      await until('events for watches of the first and last frames', () => (r.events.filter((e) => e.type !== 'None').length >= 3 ? true : undefined));
      assert.deepEqual(r.events.filter((e) => e.type !== 'None').map(brief), [0, 700, n - 1].map((i) => `NodeCreated ${path(i)}`));
    });

    test('credentials are sent again after a reconnect', async () => {
      const zk = await viaProxy();
      await zk.addAuth('digest', 'carol:pw');
      const p = await zk.create(uniquePath('auth'), 'secret', { acl: Ids.CREATOR_ALL_ACL });
      await assert.rejects(direct.getData(p), (e) => isZkError(e, 'ZNOAUTH'));
      const back = nextEvent(zk, 'reconnected');
      proxy.cut();
      await back;
      assert.equal((await zk.getData(p)).data.toString(), 'secret');
      assert.ok((await zk.whoAmI()).some((i) => i.authScheme === 'digest' && i.user === 'carol'));
    });

    test('a silent server is noticed within the read timeout and the session resumes elsewhere', async () => {
      const zk = await viaProxy({ sessionTimeoutMs: 6000 });
      assert.equal(zk.sessionTimeoutMs, 6000);
      const id = zk.sessionId;
      const started = Date.now();
      proxy.blackhole();
      await nextEvent(zk, 'suspended', 8000);
      const silentMs = Date.now() - started;
      assert.ok(silentMs >= 3500 && silentMs < 5500, `suspended after ${silentMs} ms (read timeout 4000)`);
      const back = nextEvent(zk, 'reconnected');
      proxy.cut();
      proxy.heal();
      await back;
      assert.equal(zk.sessionId, id);
    });

    test('pings keep an idle session alive', async () => {
      const zk = await viaProxy({ sessionTimeoutMs: 1200 });
      const states = trackStates(zk);
      const p = await zk.create(uniquePath('idle'), null, { mode: 'ephemeral' });
      await new Promise((r) => setTimeout(r, 3000));
      assert.deepEqual(states, []);
      assert.notEqual(await direct.exists(p), null);
    });

    test('expiry told by the server: calls, watchers and iterators end with ZSESSIONEXPIRED', async () => {
      const zk = await viaProxy();
      const p = await zk.create(uniquePath('expire'), null, { mode: 'ephemeral' });
      const r = recorder<WatchedEvent>();
      await zk.getData(p, { watch: r.fn });
      const stream = zk.watch(p);
      await stream.ready;
      const iterated = (async () => {
        for await (const _ of stream) void _;
      })();
      proxy.refuse();
      proxy.cut();
      await nextEvent(zk, 'suspended');
      const thief = await ZooKeeper.connect(server.connectString, clientOptions({ sessionId: zk.sessionId, sessionPassword: zk.sessionPassword }));
      assert.equal(thief.sessionId, zk.sessionId);
      await thief.close();
      assert.equal(await direct.exists(p), null, 'closing the session removed its ephemeral');
      const expired = nextEvent(zk, 'expired');
      proxy.heal();
      await expired;
      assert.equal(zk.state, 'expired');
      await assert.rejects(iterated, (e) => isZkError(e, 'ZSESSIONEXPIRED'));
      await assert.rejects(zk.getData('/'), (e) => isZkError(e, 'ZSESSIONEXPIRED'));
      assert.deepEqual(r.events.map(brief), ['None Disconnected', 'None Expired']);
      await zk.close();
      assert.equal(zk.state, 'expired');
    });

    test('no server heard from for 4/3 of the timeout: the client declares the session expired', async () => {
      const zk = await viaProxy({ sessionTimeoutMs: 1500 });
      proxy.refuse();
      proxy.cut();
      const started = Date.now();
      await nextEvent(zk, 'expired', 5000);
      const ms = Date.now() - started;
      assert.ok(ms >= 1900 && ms < 3500, `expired after ${ms} ms (4/3 of 1500)`);
      await assert.rejects(zk.exists('/'), (e) => isZkError(e, 'ZSESSIONEXPIRED'));
    });

    test('an unknown auth scheme fails the session with authFailed', async () => {
      const zk = await viaProxy();
      const states = trackStates(zk);
      await assert.rejects(zk.addAuth('no-such-scheme', 'x'), (e) => isZkError(e, 'ZAUTHFAILED'));
      await until('authFailed', () => (zk.state === 'authFailed' ? true : undefined));
      assert.deepEqual(states, ['authFailed']);
      await assert.rejects(zk.exists('/'), (e) => isZkError(e, 'ZAUTHFAILED'));
    });

    test('close: ephemerals go, later calls fail with ZCLOSING; `await using` closes too', async () => {
      const zk = await connect(server.connectString);
      const p = await zk.create(uniquePath('close'), null, { mode: 'ephemeral' });
      const pending = zk.exists(p);
      const closed = nextEvent(zk, 'closed');
      await zk.close();
      await closed;
      assert.notEqual(await pending, null, 'a call made before close() is answered');
      assert.equal(zk.state, 'closed');
      assert.equal(await direct.exists(p), null);
      await assert.rejects(zk.exists('/'), (e) => isZkError(e, 'ZCLOSING'));
      let q: string;
      let inner: ZooKeeper;
      {
        await using c = await connect(server.connectString);
        inner = c;
        q = await c.create(uniquePath('using'), null, { mode: 'ephemeral' });
      }
      assert.equal(inner.state, 'closed');
      assert.equal(await direct.exists(q), null);
    });

    test('several hosts: a dead one is skipped, in either order, with the chroot applied', async () => {
      const root = uniquePath('hosts');
      await direct.create(root);
      const dead = `127.0.0.1:${await freePort()}`;
      for (const random of [() => 0, () => 0.99]) {
        const zk = await connect(`${dead},${server.connectString}${root}`, { random });
        opened.push(zk);
        assert.equal(zk.connectedServer, server.connectString);
        await zk.create('/x', null, { mode: 'ephemeral' });
        assert.notEqual(await direct.exists(`${root}/x`), null);
        await zk.close();
      }
    });

    test('connect gives up when no server answers, and when its signal aborts', async () => {
      const dead = `127.0.0.1:${await freePort()}`;
      const started = Date.now();
      await assert.rejects(ZooKeeper.connect(dead, clientOptions({ sessionTimeoutMs: 900 })), (e) => isZkError(e, 'ZCONNECTIONLOSS'));
      assert.ok(Date.now() - started < 3000);
      proxy = await CutProxy.start(server.host, server.port);
      proxy.blackhole();
      await assert.rejects(ZooKeeper.connect(proxy.connectString, clientOptions({ signal: AbortSignal.timeout(200) })), (e: Error) => e.name === 'TimeoutError');
    });

    test('removeWatches with local removes a watch while disconnected; without it fails', async () => {
      const zk = await viaProxy();
      const p = await direct.create(uniquePath('local'));
      const r = recorder<WatchedEvent>();
      await zk.getData(p, { watch: r.fn });
      proxy.refuse();
      proxy.cut();
      await nextEvent(zk, 'suspended');
      await assert.rejects(zk.removeWatches(p, r.fn, 'data'), (e) => isZkError(e, 'ZCONNECTIONLOSS'));
      await zk.removeWatches(p, r.fn, 'data', { local: true });
      const back = nextEvent(zk, 'reconnected');
      proxy.heal();
      await back;
      await direct.setData(p, 'x');
      await zk.sync(p);
      assert.deepEqual(r.events.map(brief), ['None Disconnected', `DataWatchRemoved ${p}`]);
    });

    if (kind.name === 'zkts') {
      test('a connection closed by the server resumes the session', async () => {
        const zk = await connect(server.connectString);
        opened.push(zk);
        const id = zk.sessionId;
        const back = nextEvent(zk, 'reconnected');
        assert.ok(server.dropConnections!() >= 1);
        await back;
        assert.equal(zk.sessionId, id);
        await zk.sync('/');
      });
    }
  });
}
