// server-metrics.test.ts — the ZooKeeper metrics a standalone zkts server measures move in mntr
// and /metrics when what they measure happens: fsynctime and sync_processor_batch_size with each
// group commit, snapshottime with each snapshot, dbinittime and startup_* when a data directory
// is loaded (startup_txns_loaded counts the txns replayed), connection_request_count per
// ConnectRequest, connection_rejected per connection over maxClientCnxns, auth_failed_count per
// refused TLS client; srst zeroes them as ZooKeeper's ServerStats.reset does (all but
// auth_failed_count, which it leaves: test/server/mntr-metrics.test.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { metricsText } from '../../src/admin/metrics.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { fourLetterView } from '../../src/server/four-letter-host.js';
import type { Connection } from '../../src/server/connection.js';
import { ServerMetrics } from '../../src/server/server-metrics.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { TestClient, pollUntil } from '../conformance/test-client.js';
import { testOptions } from '../server/start-server.js';
import { parsePrometheusText } from './prometheus-parser.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

interface Running {
  server: ZkServer;
  data: DataDir;
  port: number;
  stop(): Promise<void>;
}

async function start(dir: string, overrides: Parameters<typeof testOptions>[0] = {}): Promise<Running> {
  const metrics = new ServerMetrics();
  const data = await DataDir.open({ dataDir: dir, forceSync: true, preAllocBytes: 64 * 1024, metrics, log: () => {} });
  const server = new ZkServer(testOptions({ metrics, ...overrides }), data, data.initial);
  data.attach(server);
  const { port } = await server.start();
  return { server, data, port, stop: async () => { await server.stop(); await data.close(); } };
}

const view = (r: Running) =>
  fourLetterView(r.server, null as unknown as Connection, { whitelist: new Set(['mntr']), dataDir: '/d', dataLogDir: '/d', zktsVersion: '0' });

/** mntr's values by key (zk_ prefix dropped). */
function mntr(r: Running): Map<string, string> {
  const v = view(r);
  const m = v.monitor();
  const out = new Map<string, string>();
  // the same numbers /metrics serves, read through the Prometheus text
  const families = parsePrometheusText(metricsText(v, null));
  for (const [name, f] of families) {
    for (const s of f.samples) {
      if (s.labels.size === 0) out.set(s.name, String(s.value));
      else if (s.labels.get('quantile') === '0.5') out.set(`${s.name}{0.5}`, String(s.value));
    }
    out.set(`${name}#type`, f.type);
  }
  out.set('auth_failed_count#view', String(m.authFailedCount));
  return out;
}

const num = (m: Map<string, string>, k: string): number => {
  const v = m.get(k);
  assert.ok(v !== undefined, `no ${k}`);
  return Number(v);
};

async function create(c: TestClient, p: string): Promise<void> {
  const r = await c.request({ type: OpCode.create, path: p, data: Buffer.from('x'), acl: OPEN, flags: 0, ttl: -1n });
  assert.equal(r.err, 0, p);
}

describe('ZooKeeper metrics a standalone server measures', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'zkts-metrics-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('fsynctime and sync_processor_batch_size move with each group commit', async () => {
    const r = await start(tmp());
    try {
      const before = mntr(r);
      assert.equal(before.get('fsynctime#type'), 'summary');
      const c = await TestClient.connect('127.0.0.1', r.port, { timeOutMs: 10_000 });
      for (let i = 0; i < 5; i++) await create(c, `/n${i}`);
      await c.close();
      const m = mntr(r);
      // createSession, 5 creates, closeSession: each fsynced in some batch
      assert.ok(num(m, 'fsynctime_count') >= num(before, 'fsynctime_count') + 1, 'fsyncs were counted');
      assert.equal(num(m, 'sync_processor_batch_size_sum') - num(before, 'sync_processor_batch_size_sum'), 7, 'every txn in one batch or another');
      assert.ok(num(m, 'fsynctime_sum') >= 0);
      assert.ok(Number.isFinite(num(m, 'fsynctime{0.5}')), 'the median is a number once there are samples');
      assert.ok(Number.isFinite(num(before, 'dbinittime{0.5}')), 'dbinittime has its one sample');
    } finally {
      await r.stop();
    }
  });

  it('snapshottime moves with each snapshot (the one at start included)', async () => {
    const r = await start(tmp());
    try {
      const at0 = num(mntr(r), 'snapshottime_count');
      assert.equal(at0, 1, 'the snapshot of the recovered state at start');
      assert.notEqual(await r.data.snapshot(), null);
      assert.equal(num(mntr(r), 'snapshottime_count'), 2);
    } finally {
      await r.stop();
    }
  });

  it('dbinittime and startup_* describe loading the data directory', async () => {
    const dir = tmp();
    const first = await start(dir);
    const c = await TestClient.connect('127.0.0.1', first.port, { timeOutMs: 10_000 });
    for (let i = 0; i < 10; i++) await create(c, `/p${i}`);
    await c.close();
    const m0 = mntr(first);
    assert.equal(num(m0, 'dbinittime_count'), 1);
    assert.equal(num(m0, 'startup_txns_loaded_sum'), 0, 'a fresh directory has nothing to replay');
    await first.stop();
    const second = await start(dir);
    try {
      const m = mntr(second);
      assert.equal(num(m, 'dbinittime_count'), 1);
      assert.equal(num(m, 'startup_snap_load_time_count'), 1);
      assert.equal(num(m, 'startup_txns_load_time_count'), 1);
      // createSession, 10 creates, closeSession, all logged after the snapshot taken at the first start
      assert.equal(num(m, 'startup_txns_loaded_sum'), 12);
    } finally {
      await second.stop();
    }
  });

  it('connection_request_count counts ConnectRequests, connection_rejected the connections over maxClientCnxns', async () => {
    const r = await start(tmp(), { maxClientCnxns: 1 });
    try {
      const c = await TestClient.connect('127.0.0.1', r.port, { timeOutMs: 10_000 });
      assert.equal(num(mntr(r), 'connection_request_count'), 1);
      const refused = net.connect(r.port, '127.0.0.1');
      await new Promise<void>((resolve) => refused.once('close', () => resolve()).once('error', () => undefined));
      assert.equal(num(mntr(r), 'connection_rejected'), 1);
      await c.close();
      const c2 = await pollUntil('a second connection to be accepted', 10_000, () => TestClient.connect('127.0.0.1', r.port, { timeOutMs: 10_000 }).catch(() => undefined));
      assert.equal(num(mntr(r), 'connection_request_count'), 2);
      await c2.close();
    } finally {
      await r.stop();
    }
  });

  it('srst zeroes them', async () => {
    const r = await start(tmp());
    try {
      const c = await TestClient.connect('127.0.0.1', r.port, { timeOutMs: 10_000 });
      await create(c, '/x');
      await c.close();
      assert.ok(num(mntr(r), 'fsynctime_count') > 0);
      view(r).resetServerStats();
      const m = mntr(r);
      assert.equal(num(m, 'fsynctime_count'), 0);
      assert.equal(num(m, 'connection_request_count'), 0);
      assert.equal(num(m, 'snapshottime_count'), 0);
    } finally {
      await r.stop();
    }
  });
});
