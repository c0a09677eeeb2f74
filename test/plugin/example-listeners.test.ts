// Example 2, custom watchers: the audit log (JSON lines, resuming after a restart without loss or
// repeats) and the webhook sink (HTTP POST with retries, to a local test server on 127.0.0.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import auditLog, { lastAuditedZxid } from '../../examples/plugins/audit-log.js';
import webhook from '../../examples/plugins/webhook.js';
import { Code, OpCode } from '../../src/plugin/index.js';
import type { PluginSpec } from '../../src/plugin/index.js';
import { txnLogSource } from '../../src/plugin/txn-log-source.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { testOptions } from '../server/start-server.js';
import { create, OPEN_ACL, pollUntil, setData, startWithPlugins, TestClient } from './helpers.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'zkts-example-listeners-'));
}

const readLines = (file: string): Array<Record<string, unknown>> =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function startDurable(dir: string, plugins: PluginSpec[]) {
  const data = await DataDir.open({ dataDir: join(dir, 'data'), forceSync: false, log: () => {} });
  const server = new ZkServer(testOptions({ plugins, pluginTxnSource: txnLogSource(join(dir, 'data')), log: () => {} }), data, data.initial);
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

test('audit log: who did what, one JSON line per change, refused writes included', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'audit.jsonl');
    const f = await startWithPlugins([{ plugin: auditLog, options: { file } }]);
    try {
      const c = await f.connect();
      await c.request({ type: OpCode.auth, authType: 0, scheme: 'digest', auth: Buffer.from('alice:pw') });
      await create(c, '/app', 'v1');
      await setData(c, '/app', 'v2');
      assert.equal((await create(c, '/app', 'dup')).err, Code.NodeExists);
      await c.request({
        type: OpCode.multi,
        ops: [
          { type: OpCode.create, path: '/app/a', data: null, acl: OPEN_ACL, flags: 0, ttl: -1n },
          { type: OpCode.delete, path: '/app/a', version: -1 },
        ],
      });
      await pollUntil('the audit lines', 5000, async () => (readLines(file).length >= 6 ? true : undefined));
      const lines = readLines(file);
      assert.deepEqual(
        lines.map((l) => [l.op, l.path ?? null, l.result]),
        [
          ['createSession', null, 'OK'],
          ['create', '/app', 'OK'],
          ['setData', '/app', 'OK'],
          ['create', '/app', 'NodeExists'],
          ['create', '/app/a', 'OK'],
          ['delete', '/app/a', 'OK'],
        ],
      );
      const createLine = lines[1]!;
      assert.equal(createLine.session, `0x${BigInt.asUintN(64, c.sessionId).toString(16)}`);
      assert.ok((createLine.ids as string[]).some((id) => id.startsWith('digest:alice:')));
      assert.ok((createLine.ids as string[]).includes('ip:127.0.0.1'));
      assert.equal(createLine.dataLength, 2);
      assert.equal(lines[2]!.version, 1);
      assert.equal(lines[4]!.zxid, lines[5]!.zxid, 'one multi, one zxid');
    } finally {
      await f.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audit log: after a restart it resumes after its last line, replaying what it missed from the txn log', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'audit.jsonl');
    const first = await startDurable(dir, [{ plugin: auditLog, options: { file } }]);
    const c = await TestClient.connect('127.0.0.1', first.port);
    for (let i = 0; i < 3; i++) await create(c, `/a${i}`);
    c.destroy();
    await pollUntil('3 creates audited', 5000, async () => (readLines(file).length === 4 ? true : undefined));
    await first.stop();
    // Meanwhile the server ran without the plugin: these changes are only in the txn log.
    const bare = await startDurable(dir, []);
    const c2 = await TestClient.connect('127.0.0.1', bare.port);
    await create(c2, '/missed1');
    await create(c2, '/missed2');
    c2.destroy();
    await bare.stop();
    // And a crash left half a line at the end of the file.
    writeFileSync(file, readFileSync(file, 'utf8') + '{"zxid":"0xff","op":"cre');
    assert.equal(await lastAuditedZxid(file), 4n);
    const third = await startDurable(dir, [{ plugin: auditLog, options: { file } }]);
    try {
      const c3 = await TestClient.connect('127.0.0.1', third.port);
      await create(c3, '/after');
      // whole lines only: the crash's partial line stays where it was, on its own line
      const parse = () =>
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('{') && l.endsWith('}'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      await pollUntil('the live create', 5000, async () => (parse().some((l) => l.path === '/after') ? true : undefined));
      const lines = parse();
      assert.deepEqual(
        lines.map((l) => BigInt(l.zxid as string)),
        [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n],
        'every zxid once, in order',
      );
      assert.deepEqual(
        lines.filter((l) => l.replayed === true).map((l) => l.path ?? l.op),
        ['createSession', '/missed1', '/missed2'],
      );
      assert.equal(lines.at(-1)!.path, '/after');
      assert.ok(Array.isArray(lines.at(-1)!.ids), 'live lines know who');
      c3.destroy();
    } finally {
      await third.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

interface Hook {
  server: Server;
  url: string;
  received: Array<{ zxid: string; body: { changes: Array<Record<string, unknown>> } }>;
  attempts: number;
  close(): Promise<void>;
}

/** A local endpoint; `fail(n)` decides, per attempt number, to answer 500 (or to hang). */
async function hookServer(fail: (attempt: number) => 'ok' | 'error' | 'hang'): Promise<Hook> {
  const hook = { received: [], attempts: 0 } as unknown as Hook;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const verdict = fail(++hook.attempts);
      if (verdict === 'hang') return;
      if (verdict === 'error') {
        res.writeHead(500).end();
        return;
      }
      hook.received.push({ zxid: String(req.headers['x-zkts-zxid']), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return Object.assign(hook, {
    server,
    url: `http://127.0.0.1:${port}/hook`,
    close: () => new Promise<void>((r) => server.close(() => r())).then(() => server.closeAllConnections()),
  });
}

test('webhook: changes under the chosen paths are POSTed in zxid order; 500s and timeouts are retried', async () => {
  // attempts 2 and 3 fail (500, then no answer within timeoutMs); the 4th succeeds
  const hook = await hookServer((n) => (n === 2 ? 'error' : n === 3 ? 'hang' : 'ok'));
  const f = await startWithPlugins([{ plugin: webhook, options: { url: hook.url, paths: '/svc', timeoutMs: 200, backoffMs: 10 } }]);
  try {
    const c = await f.connect();
    await create(c, '/svc');
    await create(c, '/other', 'ignored');
    await create(c, '/svc/a', 'x');
    await setData(c, '/svc/a', 'y');
    await pollUntil('3 deliveries', 10_000, async () => (hook.received.length >= 3 ? true : undefined));
    assert.deepEqual(
      hook.received.map((r) => r.body.changes.map((ch) => `${ch.op} ${ch.path}`)),
      [['create /svc'], ['create /svc/a'], ['setData /svc/a']],
    );
    const zxids = hook.received.map((r) => BigInt(r.zxid));
    assert.ok(zxids[0]! < zxids[1]! && zxids[1]! < zxids[2]!);
    assert.equal(hook.attempts, 5, 'one delivery took three attempts');
    assert.equal(f.server.plugins!.status()[0]!.listeners[0]!.failed, 0);
  } finally {
    await f.stop();
    await hook.close();
  }
});

test('webhook: with a state file, a txn the endpoint keeps refusing is retried until it is taken (at-least-once)', async () => {
  const dir = tempDir();
  let down = true;
  const hook = await hookServer(() => (down ? 'error' : 'ok'));
  const stateFile = join(dir, 'webhook.zxid');
  const f = await startWithPlugins([{ plugin: webhook, options: { url: hook.url, retries: 1, backoffMs: 1, timeoutMs: 200, stateFile } }]);
  try {
    const c = await f.connect();
    await create(c, '/x', '1');
    await pollUntil('a few failed rounds', 5000, async () => ((f.server.plugins!.status()[0]!.listeners[0]!.retried ?? 0) >= 2 ? true : undefined));
    down = false;
    await pollUntil('the delivery', 10_000, async () => (hook.received.some((r) => r.body.changes.some((ch) => ch.path === '/x')) ? true : undefined));
    const delivered = hook.received.map((r) => r.body.changes[0]!.op);
    assert.deepEqual(delivered, ['createSession', 'create'], 'in order, nothing skipped');
    await pollUntil('the state file', 5000, async () => (readFileSync(stateFile, 'utf8').trim() === String(f.server.zxid) ? true : undefined));
  } finally {
    await f.stop();
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('webhook: without a state file, a txn that exhausts its retries is counted as failed and skipped', async () => {
  const hook = await hookServer((n) => (n <= 2 ? 'error' : 'ok'));
  const f = await startWithPlugins([{ plugin: webhook, options: { url: hook.url, retries: 1, backoffMs: 1, paths: '/p' } }]);
  try {
    const c = await f.connect();
    await create(c, '/p', 'lost');
    await create(c, '/p/next', 'kept');
    await pollUntil('the second delivery', 5000, async () => (hook.received.length >= 1 ? true : undefined));
    assert.deepEqual(hook.received.map((r) => r.body.changes[0]!.path), ['/p/next']);
    assert.equal(f.server.plugins!.status()[0]!.listeners[0]!.failed, 1);
  } finally {
    await f.stop();
    await hook.close();
  }
});
