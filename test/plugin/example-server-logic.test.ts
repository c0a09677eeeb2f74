// Example 4, custom server logic: the per-session rate limiter (Throttled, -127) and the HMAC
// token auth provider.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import hmacAuth, { mintToken, verifyToken } from '../../examples/plugins/hmac-auth.js';
import rateLimit from '../../examples/plugins/rate-limit.js';
import { Code, OpCode, Perm } from '../../src/plugin/index.js';
import { generateDigest } from '../../src/server/auth/digest.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { testOptions } from '../server/start-server.js';
import { create, dataOf, getData, startWithPlugins } from './helpers.js';

test('rate limit: a session past its burst gets Throttled (-127) in order, refills at its rate; other sessions are not affected', async (t) => {
  const f = await startWithPlugins([{ plugin: rateLimit, options: { rate: '20', burst: '5' } }]);
  // The buckets read performance.now(): the test holds that clock still, so a slow machine
  // cannot refill a bucket between two requests, and then moves it on by 120 ms.
  const realNow = performance.now.bind(performance);
  let frozenAt = -1;
  t.mock.method(performance, 'now', () => (frozenAt < 0 ? realNow() : frozenAt));
  try {
    const a = await f.connect();
    const b = await f.connect();
    const zxid = f.server.zxid;
    frozenAt = realNow();
    const burst = await Promise.all(Array.from({ length: 12 }, () => getData(a, '/')));
    assert.deepEqual(burst.map((r) => r.err), [...Array(5).fill(Code.OK), ...Array(7).fill(Code.Throttled)]);
    assert.equal(Code.Throttled, -127);
    assert.equal((await getData(b, '/')).err, Code.OK, 'another session has its own bucket');
    assert.equal((await a.request({ type: OpCode.ping })).err, Code.OK, 'pings are never limited');
    assert.equal((await create(a, '/refused')).err, Code.Throttled);
    assert.equal(f.server.zxid, zxid, 'refused writes make no txn');
    frozenAt += 120; // 20/s: 2.4 tokens back
    const after = await Promise.all(Array.from({ length: 12 }, () => getData(a, '/')));
    const ok = after.filter((r) => r.err === Code.OK).length;
    assert.equal(ok, 2, `${ok} allowed after 120 ms`);
    frozenAt = -1;
    const hooks = f.server.plugins!.status()[0]!.hooks['requestStage(beforePrep)']!;
    assert.equal(hooks.refusals, 7 + 1 + (12 - ok));
  } finally {
    await f.stop();
  }
});

test('rate limit: writesOnly leaves reads alone; exempt ids are never limited', async () => {
  const admin = `digest:${generateDigest('admin:pw')}`;
  const f = await startWithPlugins([{ plugin: rateLimit, options: { rate: 0.001, burst: 1, writesOnly: true, exempt: [admin] } }]);
  try {
    const a = await f.connect();
    assert.equal((await create(a, '/w1')).err, Code.OK);
    assert.equal((await create(a, '/w2')).err, Code.Throttled);
    const reads = await Promise.all(Array.from({ length: 10 }, () => getData(a, '/')));
    assert.ok(reads.every((r) => r.err === Code.OK));
    const b = await f.connect();
    await b.request({ type: OpCode.auth, authType: 0, scheme: 'digest', auth: Buffer.from('admin:pw') });
    const writes = await Promise.all(Array.from({ length: 5 }, (_, i) => create(b, `/admin${i}`)));
    assert.ok(writes.every((r) => r.err === Code.OK));
  } finally {
    await f.stop();
  }
});

const SECRET = 'a-long-enough-secret-for-tests';

test('hmac tokens: minted tokens verify; tampered, expired and too-long-lived ones do not', () => {
  const now = 1_700_000_000;
  const secret = Buffer.from(SECRET);
  const t = mintToken(SECRET, 'alice', now + 60);
  assert.deepEqual(verifyToken(secret, t, now, 3600, 30), { user: 'alice' });
  assert.deepEqual(verifyToken(secret, t.replace('alice', 'mallory'), now, 3600, 30), { error: 'bad signature' });
  assert.deepEqual(verifyToken(Buffer.from('another-secret-of-16+'), t, now, 3600, 30), { error: 'bad signature' });
  assert.deepEqual(verifyToken(secret, t, now + 120, 3600, 30), { error: 'expired' });
  assert.deepEqual(verifyToken(secret, t, now + 80, 3600, 30), { user: 'alice' }, 'within the clock skew');
  assert.deepEqual(verifyToken(secret, mintToken(SECRET, 'alice', now + 10_000), now, 3600, 30), { error: 'expires too far in the future' });
  assert.deepEqual(verifyToken(secret, 'garbage', now, 3600, 30), { error: 'not a token' });
  assert.throws(() => mintToken(SECRET, 'a.b', now), /not a token user name/);
});

test('hmac auth: addauth with a token gives token:<user>; ACLs on token:<user> and token:* are enforced', async () => {
  const f = await startWithPlugins([{ plugin: hmacAuth, options: { secret: SECRET, maxTtlSeconds: 3600 } }]);
  try {
    const soon = new Date(Date.now() + 600_000);
    const alice = await f.connect();
    assert.equal((await alice.request({ type: OpCode.auth, authType: 0, scheme: 'token', auth: Buffer.from(mintToken(SECRET, 'alice', soon)) })).err, Code.OK);
    assert.equal((await create(alice, '/alice', 'private', 0, [{ perms: Perm.ALL, id: { scheme: 'token', id: 'alice' } }])).err, Code.OK);
    assert.equal((await create(alice, '/members', 'shared', 0, [{ perms: Perm.READ, id: { scheme: 'token', id: '*' } }])).err, Code.OK);
    assert.equal((await create(alice, '/bad', 'x', 0, [{ perms: Perm.READ, id: { scheme: 'token', id: 'a.b' } }])).err, Code.InvalidACL);
    const bob = await f.connect();
    await bob.request({ type: OpCode.auth, authType: 0, scheme: 'token', auth: Buffer.from(mintToken(SECRET, 'bob', soon)) });
    assert.equal((await getData(bob, '/alice')).err, Code.NoAuth);
    assert.equal(dataOf(await getData(bob, '/members')), 'shared');
    const anon = await f.connect();
    assert.equal((await getData(anon, '/members')).err, Code.NoAuth);
    const forged = await f.connect();
    const fake = mintToken('not-the-server-secret!', 'alice', soon);
    assert.equal((await forged.request({ type: OpCode.auth, authType: 0, scheme: 'token', auth: Buffer.from(fake) })).err, Code.AuthFailed);
    await forged.waitClosed();
  } finally {
    await f.stop();
  }
});

test('hmac auth: a missing or short secret stops the start, naming the plugin', async () => {
  await assert.rejects(new ZkServer(testOptions({ plugins: [hmacAuth] })).start(), /plugin\.1 \(hmac-auth\): setup .*exactly one of the options secret and secretFile/);
  await assert.rejects(
    new ZkServer(testOptions({ plugins: [{ plugin: hmacAuth, options: { secret: 'short' } }] })).start(),
    /at least 16 bytes/,
  );
});
