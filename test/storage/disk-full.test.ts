// disk-full.test.ts — a running server whose disk fills up (ENOSPC on every write to the txn log
// and to snapshot files) and then frees: writes fail with an error to their clients and none is
// acknowledged, reads go on being served, no empty or partial snapshot is left behind, writes
// succeed again once there is space, and a restart recovers exactly the acknowledged writes
// (with every logged digest matching).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Code } from '../../src/protocol/codes.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import type { Request } from '../../src/protocol/requests.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { readSnapshotFile } from '../../src/storage/snapshot.js';
import type { SnapshotFileHandle } from '../../src/storage/snapshot-writer.js';
import { nodeLogFs, type LogFileHandle, type LogFs } from '../../src/storage/txn-log.js';
import { TestClient, type ResponseReply } from '../conformance/test-client.js';
import { testOptions } from '../server/start-server.js';
import { OPEN, tempDir } from './helpers.js';

const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

/** Real files; while `full`, every write lands half its bytes, then fails with ENOSPC. */
class FillingDisk implements LogFs {
  full = false;
  failedWrites = 0;

  private guard(h: { write(buf: Buffer, pos: number): Promise<void> }) {
    return async (buf: Buffer, pos: number): Promise<void> => {
      if (!this.full) return h.write(buf, pos);
      this.failedWrites++;
      await h.write(buf.subarray(0, buf.length >> 1), pos);
      throw enospc();
    };
  }

  async create(path: string): Promise<LogFileHandle> {
    const h = await nodeLogFs.create(path);
    const durable = this.guard({ write: (b, p) => h.writeDurable([b], p) });
    return { ...bind(h), write: this.guard(h), writeDurable: (bufs, p) => durable(Buffer.concat(bufs), p) };
  }

  readonly createSnapshot = async (path: string): Promise<SnapshotFileHandle> => {
    const h = await nodeLogFs.create(path);
    return { sync: () => h.sync(), close: () => h.close(), write: this.guard(h) };
  };

  remove(path: string): Promise<void> {
    return nodeLogFs.remove(path);
  }

  syncDir(dir: string): Promise<void> {
    return nodeLogFs.syncDir(dir);
  }
}

function bind(h: LogFileHandle): LogFileHandle {
  return { write: (b, p) => h.write(b, p), writeDurable: (b, p) => h.writeDurable(b, p), datasync: () => h.datasync(), sync: () => h.sync(), truncate: (l) => h.truncate(l), close: () => h.close() };
}

const create = (path: string, data: string): Request => ({ type: OpCode.create, path, data: Buffer.from(data), acl: OPEN, flags: 0, ttl: -1n });
const setData = (path: string, data: string): Request => ({ type: OpCode.setData, path, data: Buffer.from(data), version: -1 });
const getData = (path: string): Request => ({ type: OpCode.getData, path, watch: false });
const dataOf = (r: ResponseReply): string | undefined => (r.body !== null && 'data' in r.body ? r.body.data?.toString() : undefined);

async function open(dir: string, disk: FillingDisk, logs: string[]): Promise<{ server: ZkServer; data: DataDir; client: TestClient }> {
  const log = (level: string, msg: string): void => void logs.push(`${level}: ${msg}`);
  const data = await DataDir.open({ dataDir: dir, snapCount: 16, preAllocBytes: 16 * 1024, logFs: disk, snapshotCreate: disk.createSnapshot, log });
  const server = new ZkServer(testOptions({ log }), data, data.initial);
  data.attach(server);
  const { port } = await server.start();
  const client = await TestClient.connect('127.0.0.1', port, { timeoutMs: 30000 });
  return { server, data, client };
}

async function close(s: { server: ZkServer; data: DataDir; client: TestClient }): Promise<void> {
  await s.client.close().catch(() => undefined);
  await s.server.stop();
  await s.data.close();
}

/** The snapshot files: each must read back whole (no empty or partial one), and no temp file may be left. */
function checkSnapshots(dir: string): string[] {
  const names = readdirSync(join(dir, 'version-2'));
  assert.deepEqual(names.filter((n) => n.startsWith('tmp.')), [], 'no temp snapshot left behind');
  const snaps = names.filter((n) => n.startsWith('snapshot.'));
  for (const n of snaps) readSnapshotFile(join(dir, 'version-2', n));
  return snaps;
}

test('disk full under a running server: writes fail unacknowledged, reads go on, writes resume with space, a restart has every acknowledged write', async (t) => {
  const dir = tempDir(t);
  const disk = new FillingDisk();
  const logs: string[] = [];
  const acked = new Map<string, string>(); // path → data, as acknowledged
  let s = await open(dir, disk, logs);
  try {
    assert.equal((await s.client.request(create('/a', 'v0'))).err, Code.OK);
    acked.set('/a', 'v0');
    for (let i = 0; i < 20; i++) {
      assert.equal((await s.client.request(create(`/a/n${i}`, `d${i}`))).err, Code.OK);
      acked.set(`/a/n${i}`, `d${i}`);
    }
    const snapsBefore = checkSnapshots(dir);

    disk.full = true;
    // Pipelined writes, some depending on others: every one fails, none is acknowledged.
    const failing = await Promise.all([
      s.client.request(create('/b', 'x')),
      s.client.request(create('/b/c', 'x')),
      s.client.request(setData('/a', 'lost')),
      s.client.request({ type: OpCode.delete, path: '/a/n0', version: -1 }),
      s.client.request({ type: OpCode.multi, ops: [create('/m', 'x'), setData('/a/n1', 'lost')] }),
      ...Array.from({ length: 20 }, (_, i) => s.client.request(create(`/full${i}`, 'x'))),
    ]);
    for (const r of failing) assert.notEqual(r.err, Code.OK, `a write while the disk is full is refused (type ${r.type})`);
    assert.ok(disk.failedWrites > 0);
    // Reads are served meanwhile, from the acknowledged state.
    const read = await s.client.request(getData('/a'));
    assert.equal(read.err, Code.OK);
    assert.equal(dataOf(read), 'v0');
    assert.equal((await s.client.request(getData('/b'))).err, Code.NoNode);
    // A snapshot taken now fails and leaves nothing behind.
    assert.equal(await s.data.snapshot(), null);
    assert.deepEqual(checkSnapshots(dir), snapsBefore, 'no new snapshot while the disk is full');
    assert.ok(logs.some((l) => l.includes('disk is full')), 'the log says the disk is full');

    disk.full = false;
    // Space is back: writes succeed again, on top of the acknowledged state only.
    assert.equal((await s.client.request(create('/b', 'y'))).err, Code.OK);
    acked.set('/b', 'y');
    assert.equal((await s.client.request(setData('/a', 'v1'))).err, Code.OK);
    acked.set('/a', 'v1');
    for (let i = 0; i < 30; i++) {
      assert.equal((await s.client.request(create(`/after${i}`, `e${i}`))).err, Code.OK);
      acked.set(`/after${i}`, `e${i}`);
    }
    assert.notEqual(await s.data.snapshot(), null, 'snapshots work again');
    assert.equal(s.server.tree.digestMismatches, 0, 'every digest logged matched the tree once applied');
  } finally {
    await close(s);
  }
  checkSnapshots(dir);

  // A restart has every acknowledged write and nothing that was refused.
  s = await open(dir, disk, logs);
  try {
    assert.equal(s.data.initial.digest, 'match');
    assert.equal(s.data.initial.digestMismatches, 0);
    for (const [path, data] of acked) {
      const r = await s.client.request(getData(path));
      assert.equal(r.err, Code.OK, path);
      assert.equal(dataOf(r), data, path);
    }
    for (const path of ['/b/c', '/m', '/full0', '/full19']) assert.equal((await s.client.request(getData(path))).err, Code.NoNode, path);
    const user = [...s.server.tree.paths()].filter((p) => !p.startsWith('/zookeeper') && p !== '/');
    assert.deepEqual(user.sort(), [...acked.keys()].sort());
  } finally {
    await close(s);
  }
});
