// Example 3, custom protocol: HTTP+JSON access to the tree with ZooKeeper's sessions and ACLs,
// and the watch stream over WebSocket and Server-Sent Events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { get as httpGet } from 'node:http';
import net from 'node:net';
import httpApi, { listening } from '../../examples/plugins/http-api.js';
import { Code, OpCode, Perm } from '../../src/plugin/index.js';
import { create, dataOf, getData, pollUntil, startWithPlugins } from './helpers.js';

async function startHttp(overrides = {}) {
  const f = await startWithPlugins([{ plugin: httpApi, options: { port: 0 } }], overrides);
  const base = `http://127.0.0.1:${listening.get('plugin.1 (http-api)')}`;
  return { ...f, base };
}

async function call(base: string, method: string, path: string, opts: { body?: string | object; token?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.authorization = `ZkSession ${opts.token}`;
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : (JSON.parse(text) as Record<string, any>) };
}

test('HTTP: create, get, set, list and delete, with versions, modes and ZooKeeper errors as HTTP statuses', async () => {
  const f = await startHttp();
  try {
    assert.equal((await call(f.base, 'POST', '/v1/znodes/app', { body: 'v1' })).status, 201);
    const got = await call(f.base, 'GET', '/v1/znodes/app');
    assert.equal(got.status, 200);
    assert.equal(got.json!.data, 'v1');
    assert.equal(got.json!.stat.version, 0);
    assert.equal((await call(f.base, 'PUT', '/v1/znodes/app?version=0', { body: 'v2' })).json!.stat.version, 1);
    const stale = await call(f.base, 'PUT', '/v1/znodes/app?version=0', { body: 'v3' });
    assert.deepEqual([stale.status, stale.json!.error, stale.json!.code], [409, 'BadVersion', Code.BadVersion]);
    const seq = await call(f.base, 'POST', '/v1/znodes/app/item-?mode=sequential', { body: '' });
    assert.equal(seq.json!.path, '/app/item-0000000000');
    await call(f.base, 'POST', '/v1/znodes/app/b');
    const list = await call(f.base, 'GET', '/v1/znodes/app?children');
    assert.deepEqual(list.json!.children, ['b', 'item-0000000000']);
    assert.equal((await call(f.base, 'GET', '/v1/znodes/app?stat')).json!.stat.numChildren, 2);
    assert.equal((await call(f.base, 'GET', '/v1/znodes/app?encoding=base64')).json!.data, Buffer.from('v2').toString('base64'));
    assert.equal((await call(f.base, 'DELETE', '/v1/znodes/app')).status, 409, 'NotEmpty');
    assert.equal((await call(f.base, 'GET', '/v1/znodes/none')).status, 404);
    assert.equal((await call(f.base, 'POST', '/v1/znodes/app/b')).status, 409, 'NodeExists');
    assert.equal((await call(f.base, 'DELETE', '/v1/znodes/app/b')).status, 204);
    assert.equal((await call(f.base, 'POST', '/v1/znodes/app/x?mode=bogus')).status, 400);
    // the same tree a ZooKeeper client sees
    const c = await f.connect();
    assert.equal(dataOf(await getData(c, '/app')), 'v2');
  } finally {
    await f.stop();
  }
});

test('HTTP: sessions with auth; ACLs apply as for any client; ephemerals live and die with the session', async () => {
  const f = await startHttp();
  try {
    const alice = await call(f.base, 'POST', '/v1/sessions', { body: { auth: [{ scheme: 'digest', credential: 'alice:pw' }] } });
    assert.equal(alice.status, 201);
    const token = alice.json!.token as string;
    assert.equal((await call(f.base, 'POST', '/v1/znodes/private?acl=creator', { body: 'secret', token })).status, 201);
    assert.equal((await call(f.base, 'GET', '/v1/znodes/private', { token })).json!.data, 'secret');
    const anon = await call(f.base, 'GET', '/v1/znodes/private');
    assert.deepEqual([anon.status, anon.json!.error], [403, 'NoAuth']);
    // a ZooKeeper client with the same credentials reads it; one without does not
    const c = await f.connect();
    assert.equal((await getData(c, '/private')).err, Code.NoAuth);
    await c.request({ type: OpCode.auth, authType: 0, scheme: 'digest', auth: Buffer.from('alice:pw') });
    assert.equal(dataOf(await getData(c, '/private')), 'secret');
    // ephemeral owned by the HTTP session
    await call(f.base, 'POST', '/v1/znodes/here?mode=ephemeral', { token });
    const owner = (await call(f.base, 'GET', '/v1/znodes/here?stat')).json!.stat.ephemeralOwner;
    assert.equal(owner, alice.json!.session);
    assert.equal((await call(f.base, 'DELETE', '/v1/sessions/current', { token })).status, 204);
    assert.equal((await getData(c, '/here')).err, Code.NoNode);
    assert.equal((await call(f.base, 'GET', '/v1/znodes/private', { token })).status, 410, 'SessionExpired');
    assert.equal((await call(f.base, 'GET', '/', { token: 'nonsense' })).status, 404);
    assert.equal((await call(f.base, 'GET', '/v1/znodes/', { token: 'x' })).status, 401);
    const bad = await call(f.base, 'POST', '/v1/sessions', { body: { auth: [{ scheme: 'nope', credential: 'x' }] } });
    assert.equal(bad.status, 401);
  } finally {
    await f.stop();
  }
});

test('HTTP: a token resumes its session after the front end lost it; addauth later on', async () => {
  const f = await startHttp();
  try {
    const s = await call(f.base, 'POST', '/v1/sessions', {});
    const token = s.json!.token as string;
    const c = await f.connect();
    await create(c, '/bob', 'b', 0, [{ perms: Perm.ALL, id: { scheme: 'digest', id: 'bob:' + createHash('sha1').update('bob:pw').digest('base64') } }]);
    assert.equal((await call(f.base, 'GET', '/v1/znodes/bob', { token })).status, 403);
    assert.equal((await call(f.base, 'POST', '/v1/auth', { body: { scheme: 'digest', credential: 'bob:pw' }, token })).status, 204);
    assert.equal((await call(f.base, 'GET', '/v1/znodes/bob', { token })).json!.data, 'b');
    // the in-memory connection goes away (the session does not): the next call resumes it
    for (const conn of f.server.connections) if (conn.remoteAddress === '127.0.0.1' && conn.sessionId === BigInt.asIntN(64, BigInt(s.json!.session))) conn.close();
    assert.equal((await call(f.base, 'GET', '/v1/znodes/', { token })).status, 200);
  } finally {
    await f.stop();
  }
});

/** A minimal WebSocket client: handshake, then unmasked text frames from the server. */
async function wsConnect(port: number, path: string): Promise<{ messages: string[]; close(): void; closed: () => boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  const key = randomBytes(16).toString('base64');
  const messages: string[] = [];
  let buf = Buffer.alloc(0);
  let upgraded = false;
  let closed = false;
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('close', () => {
      closed = true;
      reject(new Error('closed during the handshake'));
    });
    socket.on('connect', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
        if (!head.startsWith('HTTP/1.1 101') || !head.includes(`Sec-WebSocket-Accept: ${accept}`)) {
          reject(new Error(head));
          return;
        }
        upgraded = true;
        buf = buf.subarray(end + 4);
        resolve();
      }
      while (buf.length >= 2) {
        let len = buf[1]! & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        }
        if (buf.length < off + len) return;
        if ((buf[0]! & 0x0f) === 0x1) messages.push(buf.subarray(off, off + len).toString('utf8'));
        buf = buf.subarray(off + len);
      }
    });
  });
  return {
    messages,
    closed: () => closed,
    close() {
      // a masked close frame, code 1000
      const mask = randomBytes(4);
      const payload = Buffer.from([0x03, 0xe8]).map((b, i) => b ^ mask[i % 4]!);
      socket.write(Buffer.concat([Buffer.from([0x88, 0x80 | 2]), mask, payload]));
    },
  };
}

test('WebSocket watch stream: a persistent recursive watch as JSON messages; the stream session goes at close', async () => {
  const f = await startHttp();
  try {
    const port = listening.get('plugin.1 (http-api)')!;
    const ws = await wsConnect(port, '/v1/watch?path=/w');
    await call(f.base, 'POST', '/v1/znodes/w');
    await call(f.base, 'POST', '/v1/znodes/w/a', { body: '1' });
    await call(f.base, 'PUT', '/v1/znodes/w/a', { body: '2' });
    await call(f.base, 'POST', '/v1/znodes/elsewhere');
    await pollUntil('three events', 5000, async () => (ws.messages.length >= 3 ? true : undefined));
    const events = ws.messages.map((m) => JSON.parse(m) as { type: string; path: string; zxid: string });
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.path}`),
      ['NodeCreated /w', 'NodeCreated /w/a', 'NodeDataChanged /w/a'],
    );
    assert.match(events[0]!.zxid, /^0x[0-9a-f]+$/);
    const sessionsBefore = f.server.sessions.sessions.size;
    ws.close();
    await pollUntil('the stream session to close', 5000, async () => (f.server.sessions.sessions.size < sessionsBefore ? true : undefined));
    await pollUntil('the socket to close', 5000, async () => (ws.closed() ? true : undefined));
  } finally {
    await f.stop();
  }
});

test('SSE watch stream: the same events as text/event-stream, for curl -N', async () => {
  const f = await startHttp();
  try {
    const port = listening.get('plugin.1 (http-api)')!;
    const lines: string[] = [];
    const req = httpGet({ host: '127.0.0.1', port, path: '/v1/watch?path=/s&recursive=false', headers: { accept: 'text/event-stream' } }, (res) => {
      assert.equal(res.headers['content-type'], 'text/event-stream');
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => lines.push(...chunk.split('\n').filter((l) => l.startsWith('data: '))));
    });
    await pollUntil('the watch to be set', 5000, async () => (f.server.tree.dataWatches.size >= 1 ? true : undefined));
    await call(f.base, 'POST', '/v1/znodes/s');
    await call(f.base, 'POST', '/v1/znodes/s/child');
    await pollUntil('two events', 5000, async () => (lines.length >= 2 ? true : undefined));
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l.slice(6)) as { type: string; path: string }).type),
      ['NodeCreated', 'NodeChildrenChanged'],
    );
    req.destroy();
  } finally {
    await f.stop();
  }
});
