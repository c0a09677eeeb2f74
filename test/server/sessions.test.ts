// Sessions, expiry and the reaper, through real sockets against an in-process server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../src/protocol/codes.js';
import { EventType, OpCode } from '../../src/protocol/opcodes.js';
import { pollUntil, TestClient } from '../conformance/differential.js';
import { startServer } from './start-server.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const create = (c: TestClient, path: string, flags = 0, type: number = OpCode.create, ttl = -1n) =>
  c.request({ type: type as typeof OpCode.create, path, data: null, acl: OPEN, flags, ttl });

test('timeouts are negotiated into [minSessionTimeout, maxSessionTimeout]', async () => {
  const { server, port } = await startServer({ minSessionTimeout: 4000, maxSessionTimeout: 10000 });
  try {
    for (const [asked, got] of [[100, 4000], [6000, 6000], [60000, 10000]] as const) {
      const c = await TestClient.connect('127.0.0.1', port, { timeOutMs: asked });
      assert.equal(c.connectResponse.timeOut, got);
      c.destroy();
    }
  } finally {
    await server.stop();
  }
});

test('a session resumes on a new connection with its id and password; a wrong password is refused', async () => {
  const { server, port } = await startServer();
  try {
    const a = await TestClient.connect('127.0.0.1', port);
    await create(a, '/eph', 1);
    const { sessionId, passwd } = a.connectResponse;
    const b = await TestClient.connect('127.0.0.1', port, { sessionId, passwd, lastZxidSeen: a.lastZxid });
    assert.equal(b.connectResponse.sessionId, sessionId);
    await pollUntil('the old connection closes', 5000, async () => (a.closed ? true : undefined));
    assert.equal((await b.request({ type: OpCode.exists, path: '/eph', watch: false })).err, Code.OK);
    const wrong = Buffer.from(passwd);
    wrong[0] ^= 0xff;
    const c = await TestClient.connect('127.0.0.1', port, { sessionId, passwd: wrong });
    assert.equal(c.connectResponse.sessionId, 0n, 'ZooKeeper answers an invalid session with id 0');
    assert.equal(c.connectResponse.timeOut, 0);
    b.destroy();
  } finally {
    await server.stop();
  }
});

test('a client that has seen a newer zxid than the server is turned away', async () => {
  const { server, port } = await startServer();
  try {
    await assert.rejects(TestClient.connect('127.0.0.1', port, { lastZxidSeen: 1000n, timeoutMs: 3000 }));
  } finally {
    await server.stop();
  }
});

test('an expired session loses its ephemerals and watchers hear of it', async () => {
  const { server, port } = await startServer({ tickTime: 100, minSessionTimeout: 200, maxSessionTimeout: 400 });
  try {
    const watcher = await TestClient.connect('127.0.0.1', port, { timeOutMs: 60000 });
    const doomed = await TestClient.connect('127.0.0.1', port, { timeOutMs: 200 });
    await create(doomed, '/gone', 1);
    await watcher.request({ type: OpCode.exists, path: '/gone', watch: true });
    doomed.destroy(); // no more pings: the session expires after ~200 ms
    const [ev] = await watcher.waitForNotifications(1, 5000);
    assert.equal(ev!.type, EventType.NodeDeleted);
    assert.equal(ev!.path, '/gone');
    watcher.destroy();
  } finally {
    await server.stop();
  }
});

test('containers go once their last child goes; TTL nodes go after their TTL', async () => {
  const { server, port } = await startServer({ containerCheckIntervalMs: 50 });
  try {
    const c = await TestClient.connect('127.0.0.1', port);
    assert.equal((await create(c, '/box', 4, OpCode.createContainer)).err, Code.OK);
    await create(c, '/box/item');
    await create(c, '/unused', 4, OpCode.createContainer);
    assert.equal((await create(c, '/ttl', 5, OpCode.createTTL, 100n)).err, Code.OK);
    await c.request({ type: OpCode.delete, path: '/box/item', version: -1 });
    const gone = async (p: string) => ((await c.request({ type: OpCode.exists, path: p, watch: false })).err === Code.NoNode ? true : undefined);
    await pollUntil('the empty container is reaped', 5000, () => gone('/box'));
    await pollUntil('the TTL node is reaped', 5000, () => gone('/ttl'));
    assert.equal((await c.request({ type: OpCode.exists, path: '/unused', watch: false })).err, Code.OK, 'a never-used container stays');
    c.destroy();
  } finally {
    await server.stop();
  }
});
