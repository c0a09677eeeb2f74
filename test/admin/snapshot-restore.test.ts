// snapshot-restore.test.ts — the AdminServer's snapshot and restore commands (ZooKeeper 3.9's
// SnapshotCommand / RestoreCommand) on zkts servers with data directories: auth, the streamed file
// (read back by zkts's snapshot reader, the `zkts snapshot dump` reader and ZooKeeper 3.8's
// SnapshotFormatter), the non-streaming answer, a restore into another server (same tree and
// digest, serving on, surviving a restart), corrupt bodies refused with nothing lost, the rate
// limiter's 429 and the feature flags' 503.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startAdmin, type OpsEndpoint } from '../../src/admin/index.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { loadConfig } from '../../src/server/config.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { parseSnapshot } from '../../src/storage/snapshot.js';
import { readSnapshotImage } from '../../src/storage-tools/snapshot-file.js';
import { TestClient, pollUntil } from '../conformance/test-client.js';
import { testOptions } from '../server/start-server.js';
import { formatterViewOf, javaMissing, parseFormatterOutput, runSnapshotFormatter } from '../storage/zk-tools.js';
import { writeZooCfg } from './scenario.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const AUTH = { Authorization: 'digest admin:secret' };
// zoo.cfg keys become zookeeper.<key> properties, as in ZooKeeper (zookeeper.admin.rateLimiterIntervalInMS)
/** The limiters out of the way: snapshot and restore each allowed whenever any time has passed. */
const NO_LIMIT = 'admin.rateLimiterIntervalInMS=0';

interface Stored {
  server: ZkServer;
  data: DataDir;
  admin: OpsEndpoint;
  base: string;
  port: number;
  dir: string;
  /** Stops the server and reopens its data directory: the state a restart recovers. */
  recovered(): Promise<DataDir>;
  stop(): Promise<void>;
}

const started: Stored[] = [];

async function startStored(extraCfg: readonly string[]): Promise<Stored> {
  const dir = mkdtempSync(join(tmpdir(), 'zkts-adminsnap-'));
  const dataDir = join(dir, 'data');
  const data = await DataDir.open({ dataDir, forceSync: false, preAllocBytes: 64 * 1024, extendedTypesEnabled: true });
  const server = new ZkServer(testOptions(), data, data.initial);
  data.attach(server);
  const { port } = await server.start();
  const cfg = loadConfig(writeZooCfg(dir, port, extraCfg));
  const admin = await startAdmin(server, cfg, { zktsVersion: '0.0.0-test', storage: data });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await admin.close();
    await server.stop();
    await data.close();
  };
  const s: Stored = {
    server, data, admin, port, dir,
    base: `http://127.0.0.1:${admin.address!.port}/commands`,
    async recovered() {
      await stop();
      return DataDir.open({ dataDir, forceSync: false, preAllocBytes: 64 * 1024, extendedTypesEnabled: true });
    },
    async stop() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  started.push(s);
  return s;
}

after(async () => {
  for (const s of started) await s.stop();
});

async function ok(c: TestClient, req: Parameters<TestClient['request']>[0]): Promise<void> {
  const r = await c.request(req);
  assert.equal(r.err, 0, `op ${req.type}: error ${r.err}`);
}

/** A tree with data, nested nodes, an ephemeral, a sequential node and an ACL. */
async function populate(c: TestClient, prefix: string): Promise<void> {
  const create = (path: string, data: string, flags = 0, acl = OPEN) =>
    ok(c, { type: OpCode.create, path, data: Buffer.from(data), acl, flags, ttl: -1n });
  await create(`/${prefix}`, 'root of it');
  for (let i = 0; i < 20; i++) await create(`/${prefix}/n${i}`, `value ${i}`.repeat(i));
  await create(`/${prefix}/n3/deep`, 'deeper');
  await create(`/${prefix}/eph`, 'mine', 1);
  await create(`/${prefix}/seq-`, '', 2);
  await create(`/${prefix}/locked`, 'x', 0, [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
  await ok(c, { type: OpCode.setData, path: `/${prefix}/n1`, data: Buffer.from('changed'), version: -1 });
  await ok(c, { type: OpCode.delete, path: `/${prefix}/n2`, version: -1 });
}

/** Path → data, for comparing trees. */
function contents(tree: ZkServer['tree']): Map<string, string> {
  return new Map([...tree.entries()].map(([p, n]) => [p, Buffer.from(n.data ?? []).toString('hex')] as const).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function sessionsOf(server: ZkServer): Map<bigint, number> {
  return new Map([...server.sessions.sessions].map(([id, s]) => [id, s.timeoutMs]));
}

async function json(res: Response): Promise<Record<string, unknown>> {
  return JSON.parse(await res.text()) as Record<string, unknown>;
}

async function snapshotBytes(base: string): Promise<{ res: Response; bytes: Buffer }> {
  const res = await fetch(`${base}/snapshot`, { headers: AUTH });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('AdminServer snapshot and restore, as ZooKeeper 3.9', () => {
  it('wants auth: 401 without it, 403 without ALL on "/"', async () => {
    const s = await startStored([NO_LIMIT]);
    const missing = await fetch(`${s.base}/snapshot`);
    assert.equal(missing.status, 401);
    assert.deepEqual(await json(missing), { command: 'snapshot', error: 'Auth info is missing for the command' });
    const rest = await fetch(`${s.base}/restore`, { method: 'POST', body: 'whatever' });
    assert.equal(rest.status, 401);
    assert.deepEqual(await json(rest), { command: 'restore', error: 'Auth info is missing for the command' });
    const c = await TestClient.connect('127.0.0.1', s.port);
    try {
      // the ip scheme: 127.0.0.1 has ALL once "/" says so
      await ok(c, { type: OpCode.setACL, path: '/', acl: [{ perms: 31, id: { scheme: 'ip', id: '127.0.0.1' } }], version: -1 });
      const byIp = await fetch(`${s.base}/snapshot?streaming=false`, { headers: { Authorization: 'ip' } });
      assert.equal(byIp.status, 200);
      await ok(c, { type: OpCode.setACL, path: '/', acl: [{ perms: 31, id: { scheme: 'ip', id: '10.9.8.7' } }], version: -1 });
      const refused = await fetch(`${s.base}/snapshot`, { headers: AUTH });
      assert.equal(refused.status, 403);
      assert.deepEqual(await json(refused), { command: 'snapshot', error: 'Not authorized' });
      const restRefused = await fetch(`${s.base}/restore`, { method: 'POST', headers: AUTH, body: 'whatever' });
      assert.equal(restRefused.status, 403);
    } finally {
      await c.close();
    }
  });

  it('streams the snapshot it takes: last_zxid and snapshot_size headers, the file its reader, dump and SnapshotFormatter read', async (t) => {
    const s = await startStored([NO_LIMIT]);
    const c = await TestClient.connect('127.0.0.1', s.port);
    try {
      await populate(c, 'a');
      const { res, bytes } = await snapshotBytes(s.base);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/octet-stream');
      const zxid = s.server.zxid;
      assert.equal(res.headers.get('last_zxid'), `0x${zxid.toString(16)}`);
      assert.equal(res.headers.get('snapshot_size'), String(bytes.length));
      assert.deepEqual(bytes, readFileSync(join(s.dir, 'data', 'version-2', `snapshot.${zxid.toString(16)}`)), 'the file the server wrote');
      const snap = parseSnapshot(bytes, 'streamed');
      assert.deepEqual(contents(snap.tree), contents(s.server.tree));
      assert.equal(snap.tree.digest, s.server.tree.digest);
      assert.equal(snap.lastProcessedZxid, zxid);
      assert.deepEqual(snap.sessions, sessionsOf(s.server));
      // what `zkts snapshot dump` reads: every seal good, every node there
      const img = readSnapshotImage(bytes);
      assert.equal(img.problem, null);
      assert.ok(img.seals.length >= 2 && img.seals.every((x) => x.ok));
      assert.deepEqual(new Set(img.nodes.map((n) => n.path || '/')), new Set(s.server.tree.paths()));
      const missing = javaMissing();
      if (missing === null) {
        const file = join(s.dir, 'streamed.snapshot');
        writeFileSync(file, bytes);
        assert.deepEqual(parseFormatterOutput(runSnapshotFormatter(file)), formatterViewOf(s.server.tree, sessionsOf(s.server)));
      } else {
        t.diagnostic(`SnapshotFormatter not run: ${missing}`);
      }
      // streaming=false: the same headers, ZooKeeper's JSON
      await ok(c, { type: OpCode.setData, path: '/a', data: Buffer.from('later'), version: -1 });
      const plain = await fetch(`${s.base}/snap?streaming=false`, { headers: AUTH });
      assert.equal(plain.status, 200);
      assert.equal(plain.headers.get('content-type'), 'application/json');
      assert.equal(plain.headers.get('last_zxid'), `0x${s.server.zxid.toString(16)}`);
      assert.ok(Number(plain.headers.get('snapshot_size')) > 0);
      assert.deepEqual(await json(plain), { command: 'snapshot', error: null });
    } finally {
      await c.close();
    }
  });

  it('restores a streamed snapshot into another server: same tree and digest, serving on, and after a restart', async () => {
    const a = await startStored([NO_LIMIT]);
    const b = await startStored([NO_LIMIT]);
    const ca = await TestClient.connect('127.0.0.1', a.port);
    const cb = await TestClient.connect('127.0.0.1', b.port);
    try {
      await populate(ca, 'a');
      await populate(cb, 'b'); // b's own tree, replaced by a's
      const { res, bytes } = await snapshotBytes(a.base);
      assert.equal(res.status, 200);
      const restored = await fetch(`${b.base}/restore`, { method: 'POST', headers: AUTH, body: bytes });
      assert.equal(restored.status, 200);
      const body = await restored.text();
      const zxid = b.server.zxid;
      assert.equal(body, `{\n  "last_zxid" : ${zxid},\n  "command" : "restore",\n  "error" : null\n}`);
      assert.ok(zxid >= a.server.zxid, 'zxids go on from the higher of the two');
      assert.deepEqual(contents(b.server.tree), contents(a.server.tree));
      assert.equal(b.server.tree.digest, a.server.tree.digest);
      assert.deepEqual(sessionsOf(b.server), sessionsOf(a.server), "the snapshot's sessions, and only them");
      // b's client's session is not in a's snapshot: its connection is closed
      await pollUntil("b's old connection closed", 10_000, async () => (b.server.connections.size === 0 ? true : undefined));
      await assert.rejects(cb.request({ type: OpCode.exists, path: '/a', watch: false }));
      // b serves the restored tree, and writes go on from there
      const c2 = await TestClient.connect('127.0.0.1', b.port);
      try {
        const got = await c2.request({ type: OpCode.getData, path: '/a/n1', watch: false });
        assert.equal(got.err, 0);
        await ok(c2, { type: OpCode.create, path: '/after-restore', data: Buffer.from('x'), acl: OPEN, flags: 0, ttl: -1n });
        assert.ok(b.server.zxid > zxid);
      } finally {
        await c2.close();
      }
      const expected = contents(b.server.tree);
      const digest = b.server.tree.digest;
      const data = await b.recovered();
      try {
        assert.deepEqual(contents(data.initial.tree), expected, 'a restart comes back to the restored tree and the writes after it');
        assert.equal(data.initial.tree.digest, digest);
        assert.equal(data.initial.digestMismatches, 0, 'the txns logged after the restore replay onto its snapshot');
      } finally {
        await data.close();
      }
    } finally {
      await ca.close();
      await cb.close().catch(() => null);
    }
  });

  it("restores its own earlier snapshot: back to it, zxids go on, a session in it keeps its connection", async () => {
    const s = await startStored([NO_LIMIT]);
    const c = await TestClient.connect('127.0.0.1', s.port);
    try {
      await populate(c, 'a');
      const { bytes } = await snapshotBytes(s.base);
      const earlier = contents(parseSnapshot(bytes, 'earlier').tree);
      await ok(c, { type: OpCode.create, path: '/later', data: Buffer.from('gone again'), acl: OPEN, flags: 0, ttl: -1n });
      await ok(c, { type: OpCode.delete, path: '/a/n5', version: -1 });
      const before = s.server.zxid;
      const r = await fetch(`${s.base}/rest`, { method: 'POST', headers: AUTH, body: bytes });
      assert.equal(r.status, 200);
      assert.equal((await json(r))['last_zxid'], Number(before), 'the tree is marked at the highest zxid allocated');
      assert.deepEqual(contents(s.server.tree), earlier);
      // c's session is in the snapshot: its connection serves on, tracked by the new session table
      const [conn] = [...s.server.connections];
      assert.ok(conn?.session !== null && conn?.session !== undefined);
      assert.equal(conn.session, s.server.sessions.get(conn.session.sessionId));
      await ok(c, { type: OpCode.create, path: '/after', data: Buffer.from('y'), acl: OPEN, flags: 0, ttl: -1n });
      assert.equal(s.server.zxid, before + 1n);
      const expected = contents(s.server.tree);
      const data = await s.recovered();
      try {
        assert.deepEqual(contents(data.initial.tree), expected);
        assert.equal(data.initial.digestMismatches, 0);
      } finally {
        await data.close();
      }
    } finally {
      await c.close().catch(() => null);
    }
  });

  it('restores while writes stream in: it waits for a gap, and a restart recovers exactly what was served', async () => {
    const a = await startStored([NO_LIMIT]);
    const b = await startStored([NO_LIMIT]);
    const ca = await TestClient.connect('127.0.0.1', a.port);
    const cb = await TestClient.connect('127.0.0.1', b.port);
    try {
      await populate(ca, 'a');
      await ok(ca, { type: OpCode.create, path: '/w', data: Buffer.alloc(0), acl: OPEN, flags: 0, ttl: -1n });
      const { bytes } = await snapshotBytes(a.base);
      await ca.close();
      // cb's session is not in a's snapshot: its writes stop with its connection during the restore
      const writer = (async () => {
        let done = 0;
        for (let round = 0; round < 40; round++) {
          const batch = Array.from({ length: 10 }, (_, i) =>
            cb.request({ type: OpCode.create, path: `/w${round}-${i}`, data: Buffer.from('z'), acl: OPEN, flags: 0, ttl: -1n }));
          const rs = await Promise.allSettled(batch);
          done += rs.filter((r) => r.status === 'fulfilled').length;
          if (rs.some((r) => r.status === 'rejected')) break;
        }
        return done;
      })();
      const r = await fetch(`${b.base}/restore`, { method: 'POST', headers: AUTH, body: bytes });
      assert.equal(r.status, 200);
      await writer;
      const c2 = await TestClient.connect('127.0.0.1', b.port);
      try {
        for (let i = 0; i < 50; i++) await ok(c2, { type: OpCode.create, path: `/w/${i}`, data: Buffer.from('after'), acl: OPEN, flags: 0, ttl: -1n });
      } finally {
        await c2.close();
      }
      assert.ok(b.server.tree.has('/a/n1') && b.server.tree.has('/w/49'));
      const expected = contents(b.server.tree);
      const data = await b.recovered();
      try {
        assert.deepEqual(contents(data.initial.tree), expected);
        assert.equal(data.initial.digestMismatches, 0);
      } finally {
        await data.close();
      }
    } finally {
      await cb.close().catch(() => null);
    }
  });

  it('refuses a corrupt or foreign body with 500 and loses nothing', async () => {
    const a = await startStored([NO_LIMIT]);
    const ca = await TestClient.connect('127.0.0.1', a.port);
    try {
      await populate(ca, 'a');
      const { bytes } = await snapshotBytes(a.base);
      const before = contents(a.server.tree);
      const digest = a.server.tree.digest;
      const zxid = a.server.zxid;
      const flipped = Buffer.from(bytes);
      flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
      for (const [what, body] of [
        ['a flipped byte', flipped],
        ['a truncated file', bytes.subarray(0, bytes.length - 30)],
        ['not a snapshot', Buffer.from('hello, not a snapshot')],
        ['an empty body', Buffer.alloc(0)],
      ] as const) {
        const r = await fetch(`${a.base}/restore`, { method: 'POST', headers: AUTH, body });
        assert.equal(r.status, 500, what);
        const j = await json(r);
        assert.equal(j['command'], 'restore');
        assert.match(String(j['error']), /restore refused, nothing changed/, what);
        assert.equal(j['last_zxid'], undefined);
        assert.deepEqual(contents(a.server.tree), before, what);
        assert.equal(a.server.tree.digest, digest);
        assert.equal(a.server.zxid, zxid);
      }
      // the session and its connection are untouched
      await ok(ca, { type: OpCode.exists, path: '/a/eph', watch: false });
    } finally {
      await ca.close();
    }
  });

  it('rate-limits as ZooKeeper: 429 and no body error; snapshot and restore disabled answer 503', async () => {
    // Integer.MAX_VALUE ms: ZooKeeper's restore limiter allows one in 24 days, its snapshot limiter
    // (built in microseconds) one in 35 minutes
    const s = await startStored(['admin.rateLimiterIntervalInMS=2147483647']);
    const first = await snapshotBytes(s.base);
    assert.equal(first.res.status, 200);
    const second = await fetch(`${s.base}/snapshot`, { headers: AUTH });
    assert.equal(second.status, 429);
    assert.deepEqual(await json(second), { command: 'snapshot', error: null });
    const garbage = await fetch(`${s.base}/restore`, { method: 'POST', headers: AUTH, body: 'garbage' });
    assert.equal(garbage.status, 500); // refused, and the one restore of the hour is used up
    const again = await fetch(`${s.base}/restore`, { method: 'POST', headers: AUTH, body: first.bytes });
    assert.equal(again.status, 429);
    assert.deepEqual(await json(again), { command: 'restore', error: null });

    const off = await startStored([NO_LIMIT, 'admin.snapshot.enabled=false', 'admin.restore.enabled=false']);
    const snap = await fetch(`${off.base}/snapshot`, { headers: AUTH });
    assert.equal(snap.status, 503);
    assert.deepEqual(await json(snap), { command: 'snapshot', error: null });
    const rest = await fetch(`${off.base}/restore`, { method: 'POST', headers: AUTH, body: first.bytes });
    assert.equal(rest.status, 503);
  });
});
