// api.test.ts — every call of the client's API against zkts and Apache ZooKeeper 3.8: results,
// stats, create modes (sequential, ephemeral, container, TTL), ACLs and auth, multi and multiRead,
// the errors each call gives, chroot, AbortSignal, pipelining and the client's own limits.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type ZooKeeper, Ids, Perm, ZkError, digestId, isZkError } from '../../src/client/index.js';
import { SERVER_KINDS, type TestServer, connect, uniquePath, until } from './servers.js';

function rejectsWith(p: Promise<unknown>, code: string, path?: string): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ZkError, `expected a ZkError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (path !== undefined) assert.equal(e.path, path);
    return true;
  });
}

for (const kind of SERVER_KINDS) {
  describe(`client API against ${kind.name}`, { skip: kind.skip }, () => {
    let server: TestServer;
    let zk: ZooKeeper;

    before(async () => {
      server = await kind.start();
      zk = await connect(server.connectString);
    });
    after(async () => {
      await zk?.close();
      await server?.stop();
    });

    test('create, getData, setData, exists, delete with their stats', async () => {
      const p = uniquePath('crud');
      assert.equal(await zk.create(p, 'v0'), p);
      const { data, stat } = await zk.getData(p);
      assert.equal(data.toString(), 'v0');
      assert.equal(stat.version, 0);
      assert.equal(stat.dataLength, 2);
      assert.equal(stat.ephemeralOwner, 0n);
      assert.ok(stat.czxid > 0n && stat.czxid === stat.mzxid);
      const st1 = await zk.setData(p, Buffer.from('v1'));
      assert.equal(st1.version, 1);
      assert.ok(st1.mzxid > stat.mzxid);
      assert.deepEqual(await zk.exists(p), st1);
      await rejectsWith(zk.setData(p, 'v2', { version: 0 }), 'ZBADVERSION', p);
      await rejectsWith(zk.delete(p, { version: 0 }), 'ZBADVERSION', p);
      await zk.delete(p, { version: 1 });
      assert.equal(await zk.exists(p), null);
      await rejectsWith(zk.getData(p), 'ZNONODE', p);
      await rejectsWith(zk.delete(p), 'ZNONODE', p);
      await rejectsWith(zk.setData(p, 'x'), 'ZNONODE', p);
    });

    test('create2 returns the stat; null and empty data; NodeExists, NoNode parent, NotEmpty', async () => {
      const p = uniquePath('create2');
      const { path, stat } = await zk.create2(p, null);
      assert.equal(path, p);
      assert.equal(stat.dataLength, 0);
      assert.deepEqual((await zk.getData(p)).data, Buffer.alloc(0));
      await rejectsWith(zk.create(p), 'ZNODEEXISTS', p);
      await rejectsWith(zk.create(`${p}/no/such`), 'ZNONODE', `${p}/no/such`);
      await zk.create(`${p}/child`);
      await rejectsWith(zk.delete(p), 'ZNOTEMPTY', p);
      const st = await zk.exists(p);
      assert.equal(st?.numChildren, 1);
      assert.equal(st?.cversion, 1);
    });

    test('sequential and ephemeral modes', async () => {
      const p = uniquePath('seq');
      await zk.create(p);
      const a = await zk.create(`${p}/n-`, 'a', { mode: 'persistentSequential' });
      const b = await zk.create(`${p}/n-`, 'b', { mode: 'ephemeralSequential' });
      assert.match(a, new RegExp(`^${p}/n-\\d{10}$`));
      assert.equal(Number(b.slice(-10)), Number(a.slice(-10)) + 1);
      const eph = await zk.create(`${p}/e`, null, { mode: 'ephemeral' });
      assert.equal((await zk.exists(eph))!.ephemeralOwner, zk.sessionId);
      await rejectsWith(zk.create(`${eph}/x`), 'ZNOCHILDRENFOREPHEMERALS');
      assert.deepEqual((await zk.getEphemerals(p)).sort(), [b, eph].sort());
    });

    test('container nodes are reaped once their last child goes; TTL nodes after their TTL', async () => {
      const c = uniquePath('container');
      await zk.create(c, null, { mode: 'container' });
      await zk.create(`${c}/child`);
      await zk.delete(`${c}/child`);
      await until('the container to be reaped', async () => ((await zk.exists(c)) === null ? true : undefined), 10_000);
      const t = uniquePath('ttl');
      const { stat } = await zk.create2(t, 'x', { mode: 'persistentWithTTL', ttlMs: 200 });
      assert.equal(stat.ephemeralOwner, 0n, 'a client sees 0 as the owner of a TTL node');
      const ts = await zk.create(`${uniquePath('ttlseq')}`, null, { mode: 'persistentSequentialWithTTL', ttlMs: 100 });
      assert.match(ts, /\d{10}$/);
      await until('the TTL node to be reaped', async () => ((await zk.exists(t)) === null ? true : undefined), 10_000);
      await rejectsWith(zk.create(uniquePath('ttl-bad'), null, { mode: 'persistentWithTTL' }), 'ZBADARGUMENTS');
    });

    test('getChildren, getChildrenWithStat, getAllChildrenNumber', async () => {
      const p = uniquePath('children');
      await zk.create(p);
      for (const c of ['a', 'b', 'c']) await zk.create(`${p}/${c}`);
      await zk.create(`${p}/a/deep`);
      assert.deepEqual((await zk.getChildren(p)).sort(), ['a', 'b', 'c']);
      const { children, stat } = await zk.getChildrenWithStat(p);
      assert.deepEqual(children.sort(), ['a', 'b', 'c']);
      assert.equal(stat.numChildren, 3);
      assert.equal(await zk.getAllChildrenNumber(p), 4);
      await rejectsWith(zk.getChildren(`${p}/none`), 'ZNONODE');
    });

    test('ACLs: getACL, setACL, digest auth, NoAuth, InvalidACL', async () => {
      const p = uniquePath('acl');
      await zk.create(p);
      const { acl, stat } = await zk.getACL(p);
      assert.deepEqual(acl, Ids.OPEN_ACL_UNSAFE);
      assert.equal(stat.aversion, 0);
      const other = await connect(server.connectString);
      try {
        const id = digestId('alice', 'secret');
        await rejectsWith(zk.setACL(p, Ids.OPEN_ACL_UNSAFE, { version: 3 }), 'ZBADVERSION', p);
        const st = await zk.setACL(p, [{ perms: Perm.ALL, id }, { perms: Perm.READ, id: Ids.ANYONE_ID_UNSAFE }]);
        assert.equal(st.aversion, 1);
        await rejectsWith(zk.setACL(p, Ids.OPEN_ACL_UNSAFE), 'ZNOAUTH', p);
        await rejectsWith(other.setData(p, 'x'), 'ZNOAUTH', p);
        assert.equal((await other.getData(p)).stat.aversion, 1);
        await other.addAuth('digest', 'alice:secret');
        await other.setData(p, 'x');
        await rejectsWith(zk.create(uniquePath('acl-creator'), null, { acl: Ids.CREATOR_ALL_ACL }), 'ZINVALIDACL');
        const mine = await other.create(uniquePath('acl-mine'), 'm', { acl: Ids.CREATOR_ALL_ACL });
        assert.deepEqual((await other.getACL(mine)).acl, [{ perms: Perm.ALL, id }]);
        await rejectsWith(zk.getData(mine), 'ZNOAUTH');
        await rejectsWith(zk.setACL(p, []), 'ZINVALIDACL');
      } finally {
        await other.close();
      }
    });

    test('sync, getConfig and reconfig (disabled)', async () => {
      await zk.sync('/');
      const cfg = await zk.getConfig();
      assert.ok(Buffer.isBuffer(cfg.data));
      await rejectsWith(zk.reconfig({ joining: 'server.5=127.0.0.1:1234:1235;1236' }), 'ZRECONFIGDISABLED');
    });

    test('whoAmI lists the session’s identities', async () => {
      const c = await connect(server.connectString);
      try {
        assert.deepEqual(await c.whoAmI(), [{ authScheme: 'ip', user: '127.0.0.1' }]);
        await c.addAuth('digest', 'bob:pw');
        assert.deepEqual((await c.whoAmI()).map((i) => i.authScheme).sort(), ['digest', 'ip']);
        // a user outside the BMP: the server writes it as CESU-8 (two 3-byte surrogates), the client pairs them
        const smile = String.fromCodePoint(0x1f600);
        await c.addAuth('digest', `u${smile}:pw`);
        assert.ok((await c.whoAmI()).some((i) => i.authScheme === 'digest' && i.user === `u${smile}`), 'the character comes back whole');
      } finally {
        await c.close();
      }
    });

    test('multi: typed results, all or nothing, and the builder', async () => {
      const p = uniquePath('multi');
      await zk.create(p);
      await zk.create(`${p}/b`);
      const missing = `${p}/not-there`;
      const ops = (last: string) => [
        { type: 'create', path: `${p}/a`, data: 'a', mode: 'persistentSequential' },
        { type: 'setData', path: p, data: 'root' },
        { type: 'check', path: p, version: 1 },
        { type: 'delete', path: last },
      ] as const;
      await assert.rejects(zk.multi(ops(missing)), (e: unknown) => {
        assert.ok(isZkError(e, 'ZNONODE'));
        assert.equal(e.path, missing);
        assert.deepEqual(e.results!.map((r) => (r as { rc: number }).rc), [0, 0, 0, -101]);
        return true;
      });
      assert.deepEqual(await zk.getChildren(p), ['b'], 'nothing of a failed multi is applied');
      assert.equal((await zk.exists(p))!.version, 0);
      const [created, set, checked, deleted] = await zk.multi(ops(`${p}/b`));
      assert.match(created.path, new RegExp(`^${p}/a\\d{10}$`));
      assert.equal(created.stat, null, 'ZooKeeper answers a create in a multi with its path only');
      assert.equal(set.stat.version, 1);
      assert.equal(checked.type, 'check');
      assert.equal(deleted.type, 'delete');
      await zk.create(`${p}/b`);
      const [c2, d2, s2] = await zk.transaction().create(`${p}/t`, 'x').delete(`${p}/b`).setData(`${p}/t`, 'y', 0).commit();
      assert.equal(c2.path, `${p}/t`);
      assert.equal(d2.type, 'delete');
      assert.equal(s2.stat.version, 1);
      await rejectsWith(zk.transaction().check(p, 99).create(`${p}/never`).commit(), 'ZBADVERSION', p);
      assert.equal(await zk.exists(`${p}/never`), null);
      assert.deepEqual(await zk.multi([]), []);
    });

    test('multiRead answers each read on its own', async () => {
      const p = uniquePath('mread');
      await zk.create(p, 'd');
      await zk.create(`${p}/k`);
      const [data, kids, missing] = await zk.multiRead([
        { type: 'getData', path: p },
        { type: 'getChildren', path: p },
        { type: 'getData', path: `${p}/none` },
      ] as const);
      assert.equal(data.type === 'getData' && data.data.toString(), 'd');
      assert.deepEqual(kids.type === 'getChildren' && kids.children, ['k']);
      assert.deepEqual(missing, { type: 'error', rc: -101 });
    });

    test('chroot: paths in, created paths, children, ephemerals and events out', async () => {
      const root = uniquePath('chroot');
      await zk.create(root);
      const c = await connect(`${server.connectString}${root}`);
      try {
        assert.equal(c.chroot, root);
        assert.equal(await c.create('/x', 'in'), '/x');
        assert.equal((await zk.getData(`${root}/x`)).data.toString(), 'in');
        const seq = await c.create('/s-', null, { mode: 'ephemeralSequential' });
        assert.match(seq, /^\/s-\d{10}$/);
        assert.deepEqual((await c.getChildren('/')).sort(), [seq.slice(1), 'x'].sort());
        assert.deepEqual(await c.getEphemerals('/'), [seq]);
        assert.equal((await c.exists('/'))!.numChildren, 2);
        const [r] = await c.multi([{ type: 'create', path: '/m' }] as const);
        assert.equal(r.path, '/m');
        const events: string[] = [];
        await c.getData('/x', { watch: (ev) => events.push(`${ev.type} ${ev.path}`) });
        await c.addWatch('/', (ev) => events.push(`R ${ev.type} ${ev.path}`), { mode: 'recursive' });
        await zk.setData(`${root}/x`, 'changed');
        await zk.create(`${root}/m/deep`);
        await until('events through the chroot', () => (events.length >= 3 ? true : undefined));
        assert.deepEqual(events.sort(), ['NodeDataChanged /x', 'R NodeCreated /m/deep', 'R NodeDataChanged /x']);
        await rejectsWith(c.getData('/none'), 'ZNONODE', '/none');
      } finally {
        await c.close();
      }
    });

    test('bad paths and versions are refused before anything is sent', async () => {
      for (const bad of ['', 'a', '/a/', '/a//b', '/a/./b', '/a/../b', '/a\u0000']) {
        await rejectsWith(zk.getData(bad), 'ZBADARGUMENTS');
      }
      await rejectsWith(zk.setData('/a', 'x', { version: -2 }), 'ZBADARGUMENTS');
      assert.equal(zk.state, 'connected');
    });

    test('AbortSignal: an aborted call rejects with the reason, the others go on', async () => {
      const p = uniquePath('abort');
      await zk.create(p, 'x');
      const pre = AbortSignal.abort(new Error('pre-aborted'));
      await assert.rejects(zk.getData(p, { signal: pre }), /pre-aborted/);
      const ac = new AbortController();
      const queued = zk.getData(p, { signal: ac.signal });
      const other = zk.getData(p);
      ac.abort();
      await assert.rejects(queued, (e: Error) => e.name === 'AbortError');
      assert.equal((await other).data.toString(), 'x');
      // Aborting calls already written: their replies are still read and matched in order.
      const many = Array.from({ length: 50 }, (_, i) => {
        const c = new AbortController();
        const r = zk.create(`${p}/c${i}`, null, { signal: c.signal });
        setImmediate(() => setImmediate(() => (i % 2 === 0 ? c.abort() : undefined)));
        return r.then(() => 'ok', (e: Error) => e.name);
      });
      const outcomes = await Promise.all(many);
      assert.ok(outcomes.every((o) => o === 'ok' || o === 'AbortError'));
      assert.equal((await zk.getChildren(p)).length, 50, 'an aborted call that was sent still happens');
      assert.equal((await zk.getData(p)).data.toString(), 'x');
    });

    test('pipelining: many calls in flight, one socket write per tick, bounded queues', async () => {
      const p = uniquePath('pipe');
      await zk.create(p);
      const writes = countSocketWrites();
      const paths = await Promise.all(Array.from({ length: 500 }, (_, i) => zk.create(`${p}/n${i}`)));
      const n = writes.stop();
      assert.equal(paths.length, 500);
      assert.ok(n <= 3, `${n} socket writes for 500 requests`);
      assert.equal((await zk.getChildren(p)).length, 500);

      const small = await connect(server.connectString, { maxInFlight: 4, maxQueued: 20 });
      try {
        const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => small.exists(`${p}/n${i}`)));
        const throttled = results.filter((r) => r.status === 'rejected' && isZkError(r.reason, 'ZTHROTTLEDOP')).length;
        assert.equal(throttled, 10);
        assert.equal(results.filter((r) => r.status === 'fulfilled' && r.value !== null).length, 20);
      } finally {
        await small.close();
      }
      await rejectsWith(zk.setData(p, Buffer.alloc(0x100000)), 'ZMARSHALLINGERROR');
      assert.equal(zk.state, 'connected');
      assert.equal((await zk.exists(p))!.numChildren, 500);
    });
  });
}

/** Counts net.Socket writes until stop(). */
function countSocketWrites(): { stop(): number } {
  const proto = net.Socket.prototype as unknown as { write: (...a: unknown[]) => boolean };
  const original = proto.write;
  let n = 0;
  proto.write = function (this: net.Socket, ...args: unknown[]) {
    n++;
    return original.apply(this, args);
  };
  return {
    stop() {
      proto.write = original;
      return n;
    },
  };
}
