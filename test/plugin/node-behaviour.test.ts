// Node behaviours: writes validated, rewritten or refused at prep (the txn carries the result),
// deletes refused, virtual nodes answered instead of the tree; ZooKeeper's own checks first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, definePlugin, OpCode, Perm } from '../../src/plugin/index.js';
import type { Txn } from '../../src/plugin/index.js';
import { create, dataOf, del, getData, OPEN_ACL, pollUntil, setData, startWithPlugins } from './helpers.js';

const upper = definePlugin({
  name: 'upper',
  setup(ctx) {
    ctx.nodeBehaviour('/up', {
      validateWrite(w) {
        if (w.data === null) return undefined;
        const text = w.data.toString('utf8');
        if (text.includes('bad')) return { error: Code.BadArguments };
        return { data: Buffer.from(text.toUpperCase()) };
      },
      refuseDelete: (d) => (d.path.endsWith('keep') ? { error: Code.NoAuth } : undefined),
    });
    ctx.nodeBehaviour('/up/raw', {}); // nested mount with no say: the longest prefix decides alone
  },
});

test('a node behaviour rewrites writes at prep, so the txn and the tree hold the rewritten data', async () => {
  const txns: Txn[] = [];
  const tap = definePlugin({ name: 'tap', setup: (ctx) => ctx.changeListener({ onTxn: (_h, txn) => void txns.push(txn) }) });
  const f = await startWithPlugins([upper, tap]);
  try {
    const c = await f.connect();
    assert.equal((await create(c, '/up')).err, Code.OK);
    assert.equal((await create(c, '/up/a', 'hello')).err, Code.OK);
    assert.equal(dataOf(await getData(c, '/up/a')), 'HELLO');
    assert.equal((await setData(c, '/up/a', 'again')).err, Code.OK);
    assert.equal(dataOf(await getData(c, '/up/a')), 'AGAIN');
    // outside the prefix, and under a nested mount without validateWrite: untouched
    assert.equal((await create(c, '/upper', 'x')).err, Code.OK);
    assert.equal(dataOf(await getData(c, '/upper')), 'x');
    assert.equal((await create(c, '/up/raw', 'lower')).err, Code.OK);
    assert.equal(dataOf(await getData(c, '/up/raw')), 'lower');
    await pollUntil('txns at the listener', 5000, async () => (txns.length >= 6 ? true : undefined));
    const a = txns.find((t) => t.type === OpCode.create && t.path === '/up/a');
    assert.ok(a !== undefined && a.type === OpCode.create);
    assert.equal(a.data?.toString(), 'HELLO', 'the txn carries the rewritten data');
  } finally {
    await f.stop();
  }
});

test('a refused write fails with the plugin code, uses a zxid as an error txn, and a multi fails whole', async () => {
  const f = await startWithPlugins([upper]);
  try {
    const c = await f.connect();
    await create(c, '/up');
    const before = f.server.zxid;
    assert.equal((await create(c, '/up/b', 'bad')).err, Code.BadArguments);
    assert.equal(f.server.zxid, before + 1n, 'an error txn, as ZooKeeper prep failures are');
    assert.equal((await getData(c, '/up/b')).err, Code.NoNode);
    const multi = await c.request({
      type: OpCode.multi,
      ops: [
        { type: OpCode.create, path: '/up/m1', data: Buffer.from('ok'), acl: OPEN_ACL, flags: 0, ttl: -1n },
        { type: OpCode.create, path: '/up/m2', data: Buffer.from('bad'), acl: OPEN_ACL, flags: 0, ttl: -1n },
      ],
    });
    assert.equal(multi.err, Code.OK);
    const results = (multi.body as { results: Array<{ type: number; err?: number }> }).results;
    assert.deepEqual(
      results.map((r) => r.err),
      [Code.OK, Code.BadArguments],
    );
    assert.equal((await getData(c, '/up/m1')).err, Code.NoNode, 'the multi applied nothing');
  } finally {
    await f.stop();
  }
});

test("ZooKeeper's own checks come first: no node, no permission, bad version are answered before the plugin", async () => {
  let asked = 0;
  const counting = definePlugin({
    name: 'counting',
    setup: (ctx) => ctx.nodeBehaviour('/c', { validateWrite: () => void asked++, refuseDelete: () => void asked++ }),
  });
  const f = await startWithPlugins([counting]);
  try {
    const c = await f.connect();
    assert.equal((await create(c, '/c/x/y', 'v')).err, Code.NoNode);
    await create(c, '/c', null, 0, [{ perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }]);
    assert.equal(asked, 1, 'the mount point itself is covered');
    assert.equal((await create(c, '/c/x', 'v')).err, Code.NoAuth);
    assert.equal((await del(c, '/c/none')).err, Code.NoAuth);
    assert.equal((await setData(c, '/c/none', 'v')).err, Code.NoNode);
    assert.equal((await setData(c, '/c', 'v')).err, Code.NoAuth);
    assert.equal(asked, 1);
  } finally {
    await f.stop();
  }
});

test('refuseDelete: true, or per delete', async () => {
  const sealed = definePlugin({ name: 'sealed', setup: (ctx) => ctx.nodeBehaviour('/sealed', { refuseDelete: true }) });
  const f = await startWithPlugins([upper, sealed]);
  try {
    const c = await f.connect();
    await create(c, '/sealed');
    assert.equal((await del(c, '/sealed')).err, Code.NoAuth);
    await create(c, '/up');
    await create(c, '/up/keep', 'k');
    await create(c, '/up/gone', 'g');
    assert.equal((await del(c, '/up/keep')).err, Code.NoAuth);
    assert.equal((await del(c, '/up/gone')).err, Code.OK);
  } finally {
    await f.stop();
  }
});

test('a virtual node answers getData, exists, getChildren and getACL; its ACL is checked; other paths read the tree', async () => {
  let reads = 0;
  const virtual = definePlugin({
    name: 'virtual',
    setup(ctx) {
      ctx.nodeBehaviour('/v', {
        read(path) {
          reads++;
          if (path === '/v') return { data: 'root', children: ['a', 'secret'] };
          if (path === '/v/a') return { data: Buffer.from([1, 2, 3]) };
          if (path === '/v/secret') return { data: 'x', acl: [{ perms: Perm.READ, id: { scheme: 'digest', id: 'u:p' } }] };
          return undefined;
        },
      });
    },
  });
  const f = await startWithPlugins([virtual]);
  try {
    const c = await f.connect();
    const root = await getData(c, '/v');
    assert.equal(root.err, Code.OK);
    assert.equal(dataOf(root), 'root');
    const stat = (root.body as { stat: { numChildren: number; dataLength: number } }).stat;
    assert.equal(stat.numChildren, 2);
    assert.equal(stat.dataLength, 4);
    const kids = await c.request({ type: OpCode.getChildren2, path: '/v', watch: false });
    assert.deepEqual((kids.body as { children: string[] }).children, ['a', 'secret']);
    assert.equal((await c.request({ type: OpCode.exists, path: '/v/a', watch: false })).err, Code.OK);
    assert.deepEqual([...((await getData(c, '/v/a')).body as { data: Buffer }).data], [1, 2, 3]);
    assert.equal((await getData(c, '/v/secret')).err, Code.NoAuth);
    const acl = await c.request({ type: OpCode.getACL, path: '/v/a' });
    assert.equal(acl.err, Code.OK);
    assert.deepEqual((acl.body as { acl: unknown }).acl, [{ perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }], 'read-only for everyone by default');
    // a path under the mount that the hook leaves alone reads the tree
    assert.equal((await getData(c, '/v/other')).err, Code.NoNode);
    // multiRead goes through the same hook
    const mr = await c.request({ type: OpCode.multiRead, ops: [{ type: OpCode.getData, path: '/v/a', watch: false }] });
    assert.equal((mr.body as { results: Array<{ type: number }> }).results[0]!.type, OpCode.getData);
    assert.ok(reads >= 7);
  } finally {
    await f.stop();
  }
});
