// Limits: a client that never reads cannot grow the server's memory; connection caps hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Code } from '../../src/protocol/codes.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { encodeConnectRequest, encodeRequest } from '../../src/protocol/client-codec.js';
import { pollUntil, TestClient } from '../conformance/differential.js';
import { startServer } from './start-server.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

test('a client that never reads its watch events is disconnected once its backlog passes the bound', async () => {
  const { server, port } = await startServer({ outputLimits: { highWaterBytes: 64 * 1024, maxBytes: 2 * 1024 * 1024 } });
  const writer = await TestClient.connect('127.0.0.1', port);
  const path = '/w-' + 'x'.repeat(900);
  await writer.request({ type: OpCode.create, path, data: null, acl: OPEN, flags: 0, ttl: -1n });
  // The silent client: handshake, a persistent watch, then it stops reading.
  const silent = net.connect(port, '127.0.0.1');
  silent.on('error', () => {});
  // A paused socket never sees its own close, so watch the server's side.
  const silentDropped = (): boolean => server.connections.size === 1;
  await new Promise<void>((resolve) => silent.once('connect', () => resolve()));
  silent.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false }));
  silent.write(encodeRequest(1, { type: OpCode.addWatch, path, mode: 0 }));
  await pollUntil('the silent client is connected and watching', 5000, async () =>
    server.tree.dataWatches.pathCount > 0 ? true : undefined,
  );
  silent.pause();
  const rssBefore = process.memoryUsage().rss;
  const deadline = Date.now() + 20_000;
  let writes = 0;
  while (!silentDropped() && writes < 40_000 && Date.now() < deadline) {
    const batch = [];
    for (let i = 0; i < 200; i++) batch.push(writer.request({ type: OpCode.setData, path, data: null, version: -1 }));
    const replies = await Promise.all(batch);
    assert.ok(replies.every((r) => r.err === Code.OK), 'the writer is served all along');
    writes += batch.length;
  }
  await pollUntil('the server drops the silent client', 5000, async () => (silentDropped() ? true : undefined));
  assert.equal(server.tree.dataWatches.pathCount, 0, 'its watch went with it');
  const grown = process.memoryUsage().rss - rssBefore;
  assert.ok(grown < 200 * 1024 * 1024, `server memory stayed bounded (grew ${grown} bytes over ${writes} events)`);
  assert.equal((await writer.request({ type: OpCode.exists, path, watch: false })).err, Code.OK);
  writer.destroy();
  silent.destroy();
  await server.stop();
});

for (const [name, limits] of [
  ['maxClientCnxns', { maxClientCnxns: 2, maxCnxns: 0 }],
  ['maxCnxns', { maxClientCnxns: 0, maxCnxns: 2 }],
] as const) {
  test(`${name} refuses connections past the limit`, async () => {
    const { server, port } = await startServer(limits);
    try {
      const a = await TestClient.connect('127.0.0.1', port);
      const b = await TestClient.connect('127.0.0.1', port);
      await assert.rejects(TestClient.connect('127.0.0.1', port, { timeoutMs: 3000 }), 'a third connection');
      a.destroy();
      await pollUntil('a slot frees up', 5000, async () => (server.connections.size < 2 ? true : undefined));
      const c = await TestClient.connect('127.0.0.1', port);
      c.destroy();
      b.destroy();
    } finally {
      await server.stop();
    }
  });
}
