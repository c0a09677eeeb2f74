// cnx-manager.test.ts — QuorumCnxManager on real sockets (127.0.0.1, free ports) against raw
// peers that speak the bytes by hand: the higher-sid rule both ways, the dial back to the address
// in the header, one queued message per peer (newest wins) re-sent on a new connection, redial
// with backoff, bad headers and frames closing only that connection, and shutdown.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { QuorumCnxManager, type LogLevel } from '../../../src/quorum/election/cnx-manager.js';
import { decodeConnectionHeader, encodeConnectionHeader, encodeFrame, type HostPort } from '../../../src/quorum/election/codec.js';
import { freePort, waitFor } from '../java-ensemble.js';

/** A socket's incoming bytes, read by count. */
class Wire {
  private buf = Buffer.alloc(0);
  closed = false;
  private wake: (() => void) | null = null;
  constructor(readonly sock: Socket) {
    sock.on('data', (d) => ((this.buf = Buffer.concat([this.buf, d])), this.wake?.()));
    sock.on('close', () => ((this.closed = true), this.wake?.()));
    sock.on('error', () => {});
  }
  async read(n: number): Promise<Buffer> {
    await waitFor(`${n} bytes`, 10_000, async () => {
      if (this.buf.length >= n) return true;
      if (this.closed) throw new Error(`closed with ${this.buf.length} of ${n} bytes`);
      await new Promise<void>((r) => ((this.wake = r), setTimeout(r, 50)));
      return false;
    });
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  async frame(): Promise<string> {
    const len = (await this.read(4)).readInt32BE(0);
    return (await this.read(len)).toString();
  }
  async header(): Promise<{ protocolVersion: bigint | null; sid: bigint; addresses: HostPort[] }> {
    const head = await this.read(20);
    const rest = await this.read(head.readInt32BE(16));
    return decodeConnectionHeader(Buffer.concat([head, rest]))!.header;
  }
  async waitClosed(): Promise<void> {
    await waitFor('the connection to close', 10_000, async () => this.closed);
  }
  get pending(): number {
    return this.buf.length;
  }
}

/** A raw peer's election port: every accepted connection as a Wire. */
async function rawListener(t: { after(fn: () => Promise<void>): void }, port = 0): Promise<{ server: Server; port: number; next(): Promise<Wire> }> {
  const accepted: Wire[] = [];
  const all: Socket[] = [];
  const server = createServer((s) => (all.push(s), accepted.push(new Wire(s))));
  t.after(() => new Promise<void>((r) => (all.forEach((s) => s.destroy()), server.close(() => r()))));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const a = server.address();
  return {
    server,
    port: typeof a === 'object' && a ? a.port : 0,
    async next() {
      await waitFor('a connection', 10_000, async () => accepted.length > 0);
      return accepted.shift()!;
    },
  };
}

const dialled: Socket[] = [];
async function dial(port: number): Promise<Wire> {
  const s = createConnection({ host: '127.0.0.1', port });
  dialled.push(s);
  await new Promise<void>((r, j) => (s.once('connect', r), s.once('error', j)));
  return new Wire(s);
}

after(() => dialled.forEach((s) => s.destroy()));

function manager(myId: number, addresses: Map<number, HostPort>, t: { after(fn: () => Promise<void>): void }) {
  const got: string[] = [];
  const logs: string[] = [];
  const m = new QuorumCnxManager({
    myId,
    listen: { host: '127.0.0.1', port: 0 },
    addressesOf: (sid) => (addresses.has(sid) ? [addresses.get(sid)!] : undefined),
    onMessage: (sid, payload) => got.push(`${sid}:${payload.toString()}`),
    log: (level: LogLevel, msg: string) => logs.push(`${level} ${msg}`),
  });
  t.after(() => m.stop());
  return { m, got, logs };
}

test('a lower sid that dials us is closed and dialled back at the address in its header', { timeout: 30_000 }, async (t) => {
  const { m } = manager(2, new Map(), t);
  await m.start();
  const peer = await rawListener(t);
  const w = await dial(m.address.port);
  w.sock.write(encodeConnectionHeader(1, [{ host: '127.0.0.1', port: peer.port }]));
  await w.waitClosed();
  const back = await peer.next();
  assert.deepEqual(await back.header(), { protocolVersion: -65536n, sid: 2n, addresses: [m.address] });
  assert.deepEqual(m.connectedSids(), [1]);
});

test('a higher sid that dials us stays; messages flow both ways; the newest queued message wins', { timeout: 30_000 }, async (t) => {
  const { m, got } = manager(2, new Map([[3, { host: '127.0.0.1', port: 1 }]]), t);
  await m.start();
  // Queued while sid 3 is not connected (its configured port refuses): the newer replaces the older.
  m.toSend(3, Buffer.from('old'));
  m.toSend(3, Buffer.from('new'));
  assert.equal(m.haveDelivered(), false);
  const w = await dial(m.address.port);
  w.sock.write(encodeConnectionHeader(3, [{ host: '127.0.0.1', port: 1 }]));
  assert.equal(await w.frame(), 'new');
  await waitFor('delivery', 5000, async () => m.haveDelivered());
  w.sock.write(Buffer.concat([encodeFrame(Buffer.from('a')), encodeFrame(Buffer.from('bc'))]));
  await waitFor('two messages', 5000, async () => got.length === 2);
  assert.deepEqual(got, ['3:a', '3:bc']);
  m.toSend(3, Buffer.from('next'));
  assert.equal(await w.frame(), 'next');
  // A new connection from 3 replaces the old one and gets the last message again.
  const w2 = await dial(m.address.port);
  w2.sock.write(encodeConnectionHeader(3, [{ host: '127.0.0.1', port: 1 }]));
  assert.equal(await w2.frame(), 'next');
  await w.waitClosed();
});

test('dialling a higher sid: our header, then we close and it calls back; a lower sid keeps our connection', { timeout: 30_000 }, async (t) => {
  const high = await rawListener(t);
  const low = await rawListener(t);
  const { m } = manager(2, new Map([[3, { host: '127.0.0.1', port: high.port }], [1, { host: '127.0.0.1', port: low.port }]]), t);
  await m.start();

  m.toSend(3, Buffer.from('to-3'));
  const w3 = await high.next();
  assert.deepEqual(await w3.header(), { protocolVersion: -65536n, sid: 2n, addresses: [m.address] });
  await w3.waitClosed();
  assert.equal(w3.pending, 0, 'nothing but the header before closing');
  const back = await dial(m.address.port);
  back.sock.write(encodeConnectionHeader(3, [{ host: '127.0.0.1', port: high.port }]));
  assert.equal(await back.frame(), 'to-3');

  m.toSend(1, Buffer.from('to-1'));
  const w1 = await low.next();
  assert.deepEqual(await w1.header(), { protocolVersion: -65536n, sid: 2n, addresses: [m.address] });
  assert.equal(await w1.frame(), 'to-1');
  // The connection to 1 breaks: the next message redials and goes out on the new connection.
  w1.sock.destroy();
  await waitFor('the manager to notice', 5000, async () => !m.connectedSids().includes(1));
  m.toSend(1, Buffer.from('again'));
  const w1b = await low.next();
  await w1b.header();
  assert.equal(await w1b.frame(), 'again');
});

test('an unreachable peer is dialled again with backoff until it listens', { timeout: 30_000 }, async (t) => {
  const port = await freePort();
  const { m, logs } = manager(2, new Map([[1, { host: '127.0.0.1', port }]]), t);
  await m.start();
  m.toSend(1, Buffer.from('hello'));
  await waitFor('two refused dials', 10_000, async () => logs.filter((l) => l.includes('cannot open channel to sid 1')).length >= 2);
  const peer = await rawListener(t, port);
  const w = await peer.next();
  await w.header();
  assert.equal(await w.frame(), 'hello');
});

test('a bad header or frame closes only that connection, with a log line', { timeout: 30_000 }, async (t) => {
  const { m, got, logs } = manager(2, new Map(), t);
  await m.start();
  const good = await dial(m.address.port);
  good.sock.write(encodeConnectionHeader(4, [{ host: '127.0.0.1', port: 1 }]));

  const badHeader = await dial(m.address.port);
  const h = encodeConnectionHeader(5, [{ host: '127.0.0.1', port: 1 }]);
  h.writeInt32BE(5000, 16);
  badHeader.sock.write(h);
  await badHeader.waitClosed();
  assert.ok(logs.some((l) => l.startsWith('warn') && l.includes('address length 5000')), logs.join('\n'));

  const badFrame = await dial(m.address.port);
  badFrame.sock.write(encodeConnectionHeader(3, [{ host: '127.0.0.1', port: 1 }]));
  const big = Buffer.alloc(4);
  big.writeInt32BE(524289);
  badFrame.sock.write(big);
  await badFrame.waitClosed();
  assert.ok(logs.some((l) => l.startsWith('warn') && l.includes('with sid 3: frame length 524289')), logs.join('\n'));

  good.sock.write(encodeFrame(Buffer.from('still here')));
  await waitFor('the message', 5000, async () => got.length === 1);
  assert.deepEqual(got, ['4:still here']);
  assert.equal(good.closed, false);
});

test('stop closes the listener and every connection; sending afterwards does nothing', { timeout: 30_000 }, async (t) => {
  const { m } = manager(2, new Map([[1, { host: '127.0.0.1', port: 1 }]]), t);
  await m.start();
  const port = m.address.port;
  const w = await dial(port);
  w.sock.write(encodeConnectionHeader(3, [{ host: '127.0.0.1', port: 1 }]));
  await waitFor('connected', 5000, async () => m.connectedSids().includes(3));
  await m.stop();
  await w.waitClosed();
  await assert.rejects(dial(port));
  m.toSend(1, Buffer.from('x'));
  await m.stop();
});
