// Request stages (beforePrep refusals answered in order and without a txn; afterApply refusing
// reads but never changing a committed write's reply) and plugin auth providers (addauth, ACL
// matching, isValid at create, whoAmI, faults fail closed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, definePlugin, OpCode, Perm } from '../../src/plugin/index.js';
import { create, dataOf, getData, setData, startWithPlugins } from './helpers.js';

test('beforePrep: a refusal answers in the session order with the code, makes no txn, and leaves other requests alone', async () => {
  const p = definePlugin({
    name: 'no-tmp',
    setup: (ctx) => ctx.requestStage('beforePrep', (req) => ('path' in req && req.path.startsWith('/tmp') ? { error: Code.NoAuth } : undefined)),
  });
  const f = await startWithPlugins([p]);
  try {
    const c = await f.connect();
    await create(c, '/a', '1');
    const zxid = f.server.zxid;
    // pipelined: write, refused write, refused read, read — replies come back in request order
    const replies = await Promise.all([
      setData(c, '/a', '2'),
      create(c, '/tmp', 'x'),
      getData(c, '/tmp'),
      getData(c, '/a'),
    ]);
    assert.deepEqual(replies.map((r) => r.err), [Code.OK, Code.NoAuth, Code.NoAuth, Code.OK]);
    assert.deepEqual(replies.map((r) => r.seq), [...replies.map((r) => r.seq)].sort((x, y) => x - y));
    assert.equal(dataOf(replies[3]!), '2');
    assert.equal(f.server.zxid, zxid + 1n, 'only the setData made a txn');
    // pings and closeSession are never staged
    assert.equal((await c.request({ type: OpCode.ping })).err, Code.OK);
  } finally {
    await f.stop();
  }
});

test('afterApply: a read can be refused after it ran; a committed write keeps its reply and the refusal is a logged fault', async () => {
  const outcomes: Array<[number, number, boolean]> = [];
  const p = definePlugin({
    name: 'after',
    setup: (ctx) =>
      ctx.requestStage('afterApply', (req, outcome) => {
        outcomes.push([req.type, outcome.err, outcome.txn !== undefined]);
        if ('path' in req && req.path === '/hidden') return { error: Code.NoNode };
        return undefined;
      }),
  });
  const f = await startWithPlugins([p]);
  try {
    const c = await f.connect();
    assert.equal((await create(c, '/hidden', 'x')).err, Code.OK, 'the write is committed: its reply stands');
    assert.equal((await getData(c, '/hidden')).err, Code.NoNode, 'the read is refused');
    assert.equal((await getData(c, '/nothing')).err, Code.NoNode);
    assert.deepEqual(outcomes, [
      [OpCode.create, Code.OK, true],
      [OpCode.getData, Code.OK, false],
      [OpCode.getData, Code.NoNode, false],
    ]);
    assert.ok(f.logs.some((l) => l.includes("refused write") && l.includes("a committed write's reply is not changed")));
  } finally {
    await f.stop();
  }
});

const team = definePlugin({
  name: 'team',
  setup: (ctx) =>
    ctx.authProvider({
      scheme: 'team',
      // credential "name:team-password"
      authenticate(credential) {
        const [name, password] = credential.toString('utf8').split(':');
        if (password !== 'team-password' || !name) return null;
        return [{ scheme: 'team', id: name }];
      },
      matches: (id, aclExpr) => aclExpr === '*' || aclExpr === id,
      isValid: (aclExpr) => /^(\*|[a-z]+)$/.test(aclExpr),
      userName: (id) => `team member ${id}`,
    }),
});

test('a plugin auth provider: addauth, ACL matching, isValid at create, whoAmI', async () => {
  const f = await startWithPlugins([team]);
  try {
    const alice = await f.connect();
    assert.equal((await alice.request({ type: OpCode.auth, authType: 0, scheme: 'team', auth: Buffer.from('alice:team-password') })).err, Code.OK);
    const acl = [{ perms: Perm.ALL, id: { scheme: 'team', id: 'alice' } }];
    assert.equal((await create(alice, '/t', 'x', 0, acl)).err, Code.OK);
    assert.equal((await create(alice, '/bad', 'x', 0, [{ perms: Perm.ALL, id: { scheme: 'team', id: 'Not Valid' } }])).err, Code.InvalidACL);
    const who = await alice.request({ type: OpCode.whoAmI });
    assert.ok((who.body as { clientInfo: Array<{ authScheme: string; user: string }> }).clientInfo.some((i) => i.user === 'team member alice'));
    const bob = await f.connect();
    await bob.request({ type: OpCode.auth, authType: 0, scheme: 'team', auth: Buffer.from('bob:team-password') });
    assert.equal((await getData(bob, '/t')).err, Code.NoAuth);
    assert.equal(dataOf(await getData(alice, '/t')), 'x');
    // "auth" expands to the team id, since isAuthenticated defaults to true
    assert.equal((await create(bob, '/mine', 'b', 0, [{ perms: Perm.ALL, id: { scheme: 'auth', id: '' } }])).err, Code.OK);
    const mine = await bob.request({ type: OpCode.getACL, path: '/mine' });
    assert.ok((mine.body as { acl: Array<{ id: { scheme: string; id: string } }> }).acl.some((a) => a.id.scheme === 'team' && a.id.id === 'bob'));
    // a wrong credential: AuthFailed and the connection closes, as ZooKeeper does
    const eve = await f.connect();
    assert.equal((await eve.request({ type: OpCode.auth, authType: 0, scheme: 'team', auth: Buffer.from('eve:guess') })).err, Code.AuthFailed);
    await eve.waitClosed();
  } finally {
    await f.stop();
  }
});

test('an auth provider that throws fails closed: no ids, no matches, a logged fault', async () => {
  const broken = definePlugin({
    name: 'broken-auth',
    setup: (ctx) =>
      ctx.authProvider({
        scheme: 'broken',
        authenticate: (credential) => {
          if (credential.toString() === 'ok') return [{ scheme: 'broken', id: 'dan' }];
          throw new Error('idp down');
        },
        matches: () => {
          throw new Error('matcher down');
        },
        isValid: () => true,
      }),
  });
  const f = await startWithPlugins([broken, team]);
  try {
    const c = await f.connect();
    assert.equal((await c.request({ type: OpCode.auth, authType: 0, scheme: 'broken', auth: Buffer.from('x') })).err, Code.AuthFailed);
    const d = await f.connect();
    assert.equal((await d.request({ type: OpCode.auth, authType: 0, scheme: 'broken', auth: Buffer.from('ok') })).err, Code.OK);
    await d.request({ type: OpCode.auth, authType: 0, scheme: 'team', auth: Buffer.from('dan:team-password') });
    const onlyBroken = [{ perms: Perm.ALL, id: { scheme: 'broken', id: 'dan' } }];
    const both = [...onlyBroken, { perms: Perm.ALL, id: { scheme: 'team', id: 'dan' } }];
    assert.equal((await create(d, '/broken', 'x', 0, onlyBroken)).err, Code.OK);
    assert.equal((await getData(d, '/broken')).err, Code.NoAuth, 'a throwing matcher does not match');
    assert.equal((await create(d, '/both', 'x', 0, both)).err, Code.OK);
    assert.equal((await setData(d, '/both', 'y')).err, Code.OK, 'the team entry still matches');
    assert.ok(f.logs.some((l) => l.includes('authProvider(broken).authenticate') && l.includes('idp down')));
    assert.ok(f.logs.some((l) => l.includes('authProvider(broken).matches') && l.includes('matcher down')));
  } finally {
    await f.stop();
  }
});
