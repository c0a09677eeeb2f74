// Bad input gets ZooKeeper's answer or a closed connection, and never touches another session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Code } from '../../src/protocol/codes.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import { TestClient } from '../conformance/differential.js';
import { startServer } from './start-server.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** Sends raw bytes on a fresh socket; resolves with what came back once the server closes it. */
function rawExchange(port: number, bytes: Buffer, timeoutMs = 5000): Promise<{ closed: boolean; data: Buffer }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ closed: false, data: Buffer.concat(chunks) });
    }, timeoutMs);
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, data: Buffer.concat(chunks) });
    });
    s.on('connect', () => s.write(bytes));
  });
}

async function withBystander(fn: (port: number) => Promise<void>): Promise<void> {
  const { server, port } = await startServer();
  const bystander = await TestClient.connect('127.0.0.1', port);
  try {
    await bystander.request({ type: OpCode.create, path: '/keep', data: Buffer.from('v'), acl: OPEN, flags: 0, ttl: -1n });
    await fn(port);
    const r = await bystander.request({ type: OpCode.getData, path: '/keep', watch: false });
    assert.equal(r.err, Code.OK, 'the other session still works');
  } finally {
    bystander.destroy();
    await server.stop();
  }
}

test('garbage, oversize and negative lengths close that connection only', async () => {
  await withBystander(async (port) => {
    for (const bytes of [
      Buffer.from('ffffffff00000000', 'hex'), // length -1
      Buffer.from('7fffffff', 'hex'), // 2 GiB declared: refused before allocating
      Buffer.from('00100000', 'hex'), // jute.maxbuffer + 1
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), // HTTP on the client port
    ]) {
      const r = await rawExchange(port, bytes);
      assert.ok(r.closed, `closed after ${bytes.subarray(0, 8).toString('hex')}`);
      assert.equal(r.data.length, 0);
    }
  });
});

test('a truncated ConnectRequest inside a whole frame closes the connection', async () => {
  await withBystander(async (port) => {
    const r = await rawExchange(port, Buffer.from('000000080000000000000000', 'hex'));
    assert.ok(r.closed);
  });
});

test('a body that does not decode gets MarshallingError and the connection stays, as in ZooKeeper', async () => {
  await withBystander(async (port) => {
    const c = await TestClient.connect('127.0.0.1', port);
    try {
      // getChildren body claiming a 0x7fffffff-byte path inside a 12-byte frame: refused, not allocated
      const read = await c.raw(OpCode.getChildren, new JuteWriter().int(0x7fffffff).toBuffer());
      assert.equal(read.err, Code.MarshallingError);
      // a truncated setData: a write, so its error txn uses up a zxid
      const before = (await c.request({ type: OpCode.exists, path: '/keep', watch: false })).zxid;
      const write = await c.raw(OpCode.setData, new JuteWriter().string('/keep').toBuffer());
      assert.equal(write.err, Code.MarshallingError);
      assert.equal(write.zxid, before + 1n);
      // a read op inside multi, a write inside multiRead
      const multi = await c.request({ type: OpCode.multi, ops: [{ type: OpCode.getData, path: '/keep', watch: false }] });
      assert.equal(multi.err, Code.MarshallingError);
      const multiRead = await c.request({ type: OpCode.multiRead, ops: [{ type: OpCode.delete, path: '/keep', version: -1 }] });
      assert.equal(multiRead.err, Code.MarshallingError);
      assert.equal((await c.request({ type: OpCode.addWatch, path: '/keep', mode: 7 })).err, Code.MarshallingError);
      assert.equal((await c.raw(OpCode.deleteContainer, new JuteWriter().string('/keep').toBuffer())).err, Code.BadArguments);
      assert.equal((await c.request({ type: OpCode.exists, path: '/keep', watch: false })).err, Code.OK);
    } finally {
      c.destroy();
    }
  });
});

test('an unknown opcode, 0 (a notification) included, is Unimplemented and closes the connection', async () => {
  await withBystander(async (port) => {
    const c = await TestClient.connect('127.0.0.1', port);
    const closed = c.waitClosed(5000);
    const r = await c.raw(OpCode.notification, Buffer.alloc(0));
    assert.equal(r.err, Code.Unimplemented);
    await closed;
  });
});

test('bad paths and ACLs get ZooKeeper error codes and the connection stays', async () => {
  await withBystander(async (port) => {
    const c = await TestClient.connect('127.0.0.1', port);
    try {
      const create = (path: string, acl = OPEN, flags = 0) =>
        c.request({ type: OpCode.create, path, data: null, acl, flags, ttl: -1n });
      assert.equal((await create('relative')).err, Code.BadArguments);
      assert.equal((await create('/a/../b')).err, Code.NoNode);
      assert.equal((await create('/keep/')).err, Code.BadArguments);
      assert.equal((await create('/x\u0001')).err, Code.BadArguments);
      assert.equal((await create('/x', [])).err, Code.InvalidACL);
      assert.equal((await create('/x', [{ perms: 31, id: { scheme: 'digest', id: 'nocolon' } }])).err, Code.InvalidACL);
      assert.equal((await create('/x', [{ perms: 31, id: { scheme: 'ip', id: '300.1.1.1' } }])).err, Code.InvalidACL);
      assert.equal((await create('/x', OPEN, 42)).err, Code.BadArguments);
      const u = await TestClient.connect("127.0.0.1", port);
      const unknown = await u.raw(9999, Buffer.alloc(0));
      u.destroy();
      assert.equal(unknown.err, Code.Unimplemented);
      assert.equal((await c.request({ type: OpCode.exists, path: '/keep', watch: false })).err, Code.OK);
    } finally {
      c.destroy();
    }
  });
});
