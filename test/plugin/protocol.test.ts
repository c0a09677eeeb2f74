// Protocols: sessions a protocol opens are ordinary ZooKeeper sessions (seen by TCP clients,
// same ACLs, watches, expiry, resume), and a byte stream speaking ZooKeeper's binary protocol can
// be handed to the server — which is all the built-in client port does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Code, CreateFlag, definePlugin, EventType, OpCode, Perm, SessionError } from '../../src/plugin/index.js';
import type { PluginSession, ProtocolContext } from '../../src/plugin/index.js';
import { create, getData, OPEN_ACL, pollUntil, startWithPlugins, TestClient } from './helpers.js';

/** A protocol that hands its context to the test. */
function capture(): { plugin: ReturnType<typeof definePlugin>; ctx: Promise<ProtocolContext> } {
  let resolve!: (c: ProtocolContext) => void;
  const ctx = new Promise<ProtocolContext>((r) => (resolve = r));
  const plugin = definePlugin({ name: 'capture', setup: (c) => c.protocol({ name: 'test', listen: (pctx) => resolve(pctx) }) });
  return { plugin, ctx };
}

const createReq = (path: string, data: string, flags = 0, acl = OPEN_ACL) =>
  ({ type: OpCode.create, path, data: Buffer.from(data), acl, flags, ttl: -1n }) as const;

test('a protocol session is an ordinary session: its writes, ephemerals and ACL checks are those of any client', async () => {
  const cap = capture();
  const f = await startWithPlugins([cap.plugin]);
  try {
    const pctx = await cap.ctx;
    const s = await pctx.openSession({ remoteAddress: '10.1.2.3', remotePort: 4242 });
    assert.ok(s.sessionId !== 0n);
    const r = await s.submit(createReq('/e', 'from-plugin', CreateFlag.EPHEMERAL));
    assert.equal(r.err, Code.OK);
    assert.deepEqual(r.response, { type: OpCode.create, path: '/e' });
    const tcp = await f.connect();
    const seen = await tcp.request({ type: OpCode.exists, path: '/e', watch: false });
    assert.equal((seen.body as { stat: { ephemeralOwner: bigint } }).stat.ephemeralOwner, s.sessionId);
    // the ip scheme sees the address the protocol gave
    const who = await s.submit({ type: OpCode.whoAmI });
    assert.deepEqual((who.response as { clientInfo: unknown[] }).clientInfo, [{ authScheme: 'ip', user: '10.1.2.3' }]);
    // ACLs apply: digest-protected node, then addauth
    await create(tcp, '/locked', 'x', 0, [{ perms: Perm.ALL, id: { scheme: 'digest', id: 'bob:j7ZGIvWbIQ1LANfL4BJ8Ibdfqsk=' } }]);
    assert.equal((await s.submit({ type: OpCode.getData, path: '/locked', watch: false })).err, Code.NoAuth);
    assert.equal(await s.addAuth('digest', 'bob:bob-secret'), Code.OK);
    const got = await s.submit({ type: OpCode.getData, path: '/locked', watch: false });
    assert.equal(got.err, Code.OK, 'bob:bob-secret is the digest in the ACL');
    // close ends the session: its ephemeral goes
    await s.close();
    assert.equal(s.closed, true);
    assert.equal((await tcp.request({ type: OpCode.exists, path: '/e', watch: false })).err, Code.NoNode);
    await assert.rejects(s.submit({ type: OpCode.exists, path: '/', watch: false }), (e: unknown) => e instanceof SessionError && e.code === Code.ConnectionLoss);
  } finally {
    await f.stop();
  }
});

test('watch events reach a protocol session, in order before the reply that shows the change', async () => {
  const cap = capture();
  const f = await startWithPlugins([cap.plugin]);
  try {
    const pctx = await cap.ctx;
    const s = await pctx.openSession();
    const events: string[] = [];
    s.onWatchEvent((ev) => events.push(`${ev.type} ${ev.path}`));
    await s.submit({ type: OpCode.addWatch, path: '/w', mode: 1 });
    const tcp = await f.connect();
    await create(tcp, '/w', 'a');
    await create(tcp, '/w/child', 'b');
    await pollUntil('two events', 5000, async () => (events.length >= 2 ? true : undefined));
    assert.deepEqual(events, [`${EventType.NodeCreated} /w`, `${EventType.NodeCreated} /w/child`]);
    // a one-time data watch, set and fired; the event arrives before the reply to a later read
    await s.submit({ type: OpCode.getData, path: '/w', watch: true });
    await tcp.request({ type: OpCode.setData, path: '/w', data: Buffer.from('c'), version: -1 });
    const r = await s.submit({ type: OpCode.getData, path: '/w', watch: false });
    assert.equal(r.err, Code.OK);
    assert.ok(events.includes(`${EventType.NodeDataChanged} /w`));
    await s.close();
  } finally {
    await f.stop();
  }
});

test('detach keeps the session; it resumes with id and password, and expires unless kept alive', async () => {
  const cap = capture();
  const f = await startWithPlugins([cap.plugin], { tickTime: 100, minSessionTimeout: 300, maxSessionTimeout: 600 });
  try {
    const pctx = await cap.ctx;
    const a = await pctx.openSession({ timeoutMs: 300 });
    await a.submit(createReq('/eph', 'x', CreateFlag.EPHEMERAL));
    a.detach();
    const b = await pctx.openSession({ sessionId: a.sessionId, passwd: a.passwd, timeoutMs: 300 });
    assert.equal(b.sessionId, a.sessionId);
    assert.equal((await b.submit({ type: OpCode.exists, path: '/eph', watch: false })).err, Code.OK);
    b.detach();
    const tcp = await f.connect();
    await pollUntil('the session to expire', 5000, async () =>
      (await tcp.request({ type: OpCode.exists, path: '/eph', watch: false })).err === Code.NoNode ? true : undefined,
    );
    await assert.rejects(
      pctx.openSession({ sessionId: a.sessionId, passwd: a.passwd }),
      (e: unknown) => e instanceof SessionError && e.code === Code.SessionExpired,
    );
    // keepAlive pings an idle session so that it outlives its timeout
    const kept: PluginSession = await pctx.openSession({ timeoutMs: 300, keepAlive: true });
    await kept.submit(createReq('/kept', 'x', CreateFlag.EPHEMERAL));
    await new Promise((r) => setTimeout(r, 1200));
    const later = await f.connect();
    assert.equal((await later.request({ type: OpCode.exists, path: '/kept', watch: false })).err, Code.OK);
    await kept.close();
  } finally {
    await f.stop();
  }
});

test("ZooKeeper's binary protocol through the protocol API: a second port whose sockets go to acceptZooKeeperStream", async () => {
  let port2 = 0;
  const second = definePlugin({
    name: 'second-port',
    setup: (ctx) =>
      ctx.protocol({
        name: 'zookeeper-binary',
        async listen(pctx) {
          const srv = net.createServer((socket) =>
            pctx.acceptZooKeeperStream(socket, { remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0 }),
          );
          await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
          port2 = (srv.address() as net.AddressInfo).port;
          return () => new Promise<void>((r) => srv.close(() => r()));
        },
      }),
  });
  const f = await startWithPlugins([second]);
  try {
    const c = await TestClient.connect('127.0.0.1', port2);
    assert.equal((await create(c, '/via-plugin-port', 'x')).err, Code.OK);
    const d = await f.connect();
    assert.equal((await getData(d, '/via-plugin-port')).err, Code.OK);
    assert.equal(f.server.connections.size, 2);
    c.destroy();
  } finally {
    await f.stop();
  }
  await assert.rejects(TestClient.connect('127.0.0.1', port2, { timeoutMs: 1000 }), 'the protocol stopped with the server');
});
