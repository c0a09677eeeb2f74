// Change listeners: every applied txn in zxid order with who made it; a private copy; at-least-once
// delivery from a cursor, replayed from the txn log across a restart; catch-up from the log after
// an overflow; retries; gaps counted when the log no longer holds a zxid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, definePlugin, OpCode } from '../../src/plugin/index.js';
import type { ChangeListener, PluginSpec, Txn, TxnHeader, TxnInfo } from '../../src/plugin/index.js';
import type { TxnSource } from '../../src/plugin/change-listeners.js';
import { txnLogSource } from '../../src/plugin/txn-log-source.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { testOptions } from '../server/start-server.js';
import { create, dataOf, getData, pollUntil, setData, startWithPlugins, TestClient } from './helpers.js';

interface Seen {
  zxid: bigint;
  type: number;
  path: string | null;
  info: TxnInfo;
  ok: boolean | null;
}

function recorder(seen: Seen[], extra: Partial<ChangeListener> = {}): PluginSpec {
  return definePlugin({
    name: 'recorder',
    setup: (ctx) =>
      ctx.changeListener({
        ...extra,
        onTxn(hdr, txn, result, info) {
          seen.push({ zxid: hdr.zxid, type: hdr.type, path: 'path' in txn ? txn.path : null, info, ok: result === null ? null : result.err === 0 });
          return extra.onTxn?.(hdr, txn, result, info);
        },
      }),
  });
}

test('listeners hear every applied txn in zxid order, with the session, auth ids and request that made it', async () => {
  const seen: Seen[] = [];
  const f = await startWithPlugins([recorder(seen)], { tickTime: 100, minSessionTimeout: 200, maxSessionTimeout: 400 });
  try {
    const c = await TestClient.connect('127.0.0.1', f.port, { timeOutMs: 200 });
    await c.request({ type: OpCode.auth, authType: 0, scheme: 'digest', auth: Buffer.from('alice:secret') });
    await create(c, '/a', 'x', 1);
    await create(c, '/a', 'again'); // NodeExists: an error txn
    await setData(c, '/a', 'y');
    c.destroy(); // the session expires: a closeSession txn the server makes itself
    await pollUntil('the expiry', 5000, async () => (seen.some((s) => s.type === OpCode.closeSession) ? true : undefined));
    assert.deepEqual(
      seen.map((s) => s.type),
      [OpCode.createSession, OpCode.create, OpCode.error, OpCode.setData, OpCode.closeSession],
    );
    for (let i = 1; i < seen.length; i++) assert.equal(seen[i]!.zxid, seen[i - 1]!.zxid + 1n);
    const create1 = seen[1]!;
    assert.equal(create1.info.replayed, false);
    assert.equal(create1.info.origin?.session.sessionId, c.sessionId);
    assert.ok(create1.info.origin?.session.authIds.some((id) => id.scheme === 'digest' && id.id.startsWith('alice:')));
    assert.equal(create1.info.origin?.request?.type, OpCode.create);
    assert.equal(seen[2]!.ok, false, 'the error txn is delivered with its result');
    assert.equal(seen[4]!.info.origin, null, 'expiry is made by the server');
  } finally {
    await f.stop();
  }
});

test("a listener gets its own copy: scribbling on it does not touch the tree", async () => {
  const p = definePlugin({
    name: 'scribbler',
    setup: (ctx) =>
      ctx.changeListener({
        onTxn(_hdr, txn) {
          const t = txn as Txn;
          if (t.type === OpCode.create && t.data !== null) t.data.fill(0x21);
          if (t.type === OpCode.create) t.acl.length = 0;
        },
      }),
  });
  const f = await startWithPlugins([p]);
  try {
    const c = await f.connect();
    await create(c, '/s', 'original');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(dataOf(await getData(c, '/s')), 'original');
    const acl = await c.request({ type: OpCode.getACL, path: '/s' });
    assert.equal((acl.body as { acl: unknown[] }).acl.length, 1);
  } finally {
    await f.stop();
  }
});

async function withDataDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'zkts-listeners-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startDurable(dir: string, plugins: PluginSpec[]) {
  const data = await DataDir.open({ dataDir: dir, forceSync: false, log: () => {} });
  const server = new ZkServer(testOptions({ plugins, pluginTxnSource: txnLogSource(dir), log: () => {} }), data, data.initial);
  data.attach(server);
  const { port } = await server.start();
  return {
    server,
    port,
    async stop() {
      await server.stop();
      await data.close();
    },
  };
}

test('at-least-once: after a restart, a listener resumes from its cursor with the txns it missed read back from the txn log', async () => {
  await withDataDir(async (dir) => {
    const first = await startDurable(dir, []);
    const c = await TestClient.connect('127.0.0.1', first.port);
    for (let i = 0; i < 6; i++) await create(c, `/n${i}`, `v${i}`);
    c.destroy();
    const last = first.server.zxid; // createSession + 6 creates
    await first.stop();

    const seen: Seen[] = [];
    const cursor = last - 3n; // handled up to /n2
    const second = await startDurable(dir, [recorder(seen, { cursor: () => cursor })]);
    try {
      const c2 = await TestClient.connect('127.0.0.1', second.port);
      await create(c2, '/live', 'x');
      await pollUntil('the live txn', 5000, async () => (seen.some((s) => s.path === '/live') ? true : undefined));
      const zxids = seen.map((s) => s.zxid);
      assert.deepEqual(zxids, [...Array(zxids.length).keys()].map((i) => cursor + 1n + BigInt(i)), 'no gap, no repeat');
      assert.deepEqual(
        seen.slice(0, 3).map((s) => [s.path, s.info.replayed, s.ok]),
        [
          ['/n3', true, null],
          ['/n4', true, null],
          ['/n5', true, null],
        ],
      );
      assert.equal(seen.at(-1)!.info.replayed, false);
      c2.destroy();
    } finally {
      await second.stop();
    }
  });
});

test('at-least-once: an overflowing queue catches up from the txn log instead of dropping', async () => {
  await withDataDir(async (dir) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: Seen[] = [];
    const s = await startDurable(dir, [recorder(seen, { cursor: () => 0n, queue: 5, onTxn: () => gate })]);
    try {
      const c = await TestClient.connect('127.0.0.1', s.port);
      await create(c, '/q');
      const writes = [];
      for (let i = 0; i < 50; i++) writes.push(setData(c, '/q', `v${i}`));
      await Promise.all(writes);
      assert.equal(s.server.plugins!.status()[0]!.listeners[0]!.mode, 'catch-up');
      release();
      const target = s.server.zxid;
      await pollUntil('the listener to catch up', 10_000, async () => (seen.at(-1)?.zxid === target ? true : undefined));
      const stats = s.server.plugins!.status()[0]!.listeners[0]!;
      assert.equal(stats.dropped, 0);
      assert.equal(stats.mode, 'live');
      assert.deepEqual(
        seen.map((x) => x.zxid),
        [...Array(seen.length).keys()].map((i) => 1n + BigInt(i)),
      );
      assert.ok(seen.some((x) => x.info.replayed), 'some came from the log');
      // and it is live again
      await setData(c, '/q', 'after');
      await pollUntil('a live txn', 5000, async () => (seen.at(-1)?.zxid === target + 1n ? true : undefined));
      assert.equal(seen.at(-1)!.info.replayed, false);
      c.destroy();
    } finally {
      await s.stop();
    }
  });
});

test('at-least-once: a failing onTxn gets the same txn again; a best-effort listener moves on', async () => {
  const strict: bigint[] = [];
  const loose: bigint[] = [];
  let strictFailures = 0;
  let looseFailures = 0;
  const p = definePlugin({
    name: 'flaky',
    setup(ctx) {
      ctx.changeListener({
        cursor: () => 0n,
        onTxn(hdr) {
          if (hdr.type === OpCode.create && strictFailures < 2) {
            strictFailures++;
            throw new Error('webhook down');
          }
          strict.push(hdr.zxid);
        },
      });
      ctx.changeListener({
        onTxn(hdr) {
          if (hdr.type === OpCode.create && looseFailures < 2) {
            looseFailures++;
            throw new Error('webhook down');
          }
          loose.push(hdr.zxid);
        },
      });
    },
  });
  const f = await startWithPlugins([p]);
  try {
    const c = await f.connect();
    await create(c, '/r');
    await setData(c, '/r', 'x');
    await pollUntil('both listeners', 5000, async () => (strict.length === 3 && loose.length === 2 ? true : undefined));
    assert.deepEqual(strict, [1n, 2n, 3n]);
    assert.deepEqual(loose, [1n, 3n]);
    const [a, b] = f.server.plugins!.status()[0]!.listeners;
    assert.equal(a!.retried, 2);
    assert.equal(a!.failed, 2);
    assert.equal(b!.failed, 1);
    assert.equal(b!.retried, 0);
  } finally {
    await f.stop();
  }
});

test('a cursor older than the txn log: the missing txns are counted as dropped and delivery goes on', async () => {
  // A source whose log starts at zxid 4 (earlier logs purged), and holds what the server applies.
  const log: Array<{ hdr: TxnHeader; txn: Txn }> = [];
  const source: TxnSource = { read: (from, max) => log.filter((r) => r.hdr.zxid >= from && r.hdr.zxid >= 4n).slice(0, max) };
  const tap = definePlugin({ name: 'tap', setup: (ctx) => ctx.changeListener({ onTxn: (hdr, txn) => void log.push({ hdr, txn }) }) });
  const f = await startWithPlugins([tap], { pluginTxnSource: source });
  const c = await f.connect();
  for (let i = 0; i < 6; i++) await create(c, `/g${i}`);
  await pollUntil('the tap', 5000, async () => (log.length === 7 ? true : undefined));
  await f.stop();
  // A second server that pretends to have applied the same 7 txns (only the zxid matters here).
  const seen: Seen[] = [];
  const server = new ZkServer(testOptions({ plugins: [recorder(seen, { cursor: () => 1n })], pluginTxnSource: source, log: () => {} }));
  Object.defineProperty(server, 'zxid', { get: () => 7n });
  await server.start();
  try {
    await pollUntil('the replay', 5000, async () => (seen.length === 4 ? true : undefined));
    assert.deepEqual(seen.map((s) => s.zxid), [4n, 5n, 6n, 7n]);
    assert.equal(server.plugins!.status()[0]!.listeners[0]!.dropped, 2, 'zxids 2 and 3');
  } finally {
    await server.stop();
  }
});

test('without a txn log, an at-least-once listener that overflows counts what it lost', async () => {
  const p = definePlugin({
    name: 'no-log',
    asyncDeadlineMs: 100,
    setup: (ctx) => ctx.changeListener({ cursor: () => 0n, queue: 3, onTxn: () => new Promise<void>(() => {}), deadlineMs: 60_000 }),
  });
  const f = await startWithPlugins([p]);
  try {
    const c = await f.connect();
    for (let i = 0; i < 10; i++) assert.equal((await create(c, `/x${i}`)).err, Code.OK);
    const stats = f.server.plugins!.status()[0]!.listeners[0]!;
    assert.equal(stats.dropped, 11 - stats.queued);
  } finally {
    await f.stop();
  }
});
