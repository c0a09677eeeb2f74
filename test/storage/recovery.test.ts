// recovery.test.ts — what recovery rebuilds equals the tree that was built live: a seeded
// workload of every txn type runs through DataDir (group-committed log, snapshots every few dozen
// txns taken while txns are still in flight), and the recovered tree matches node for node (data,
// stat, ACL), with the same sessions and last zxid. Then ZooKeeper's recovery rules: fallback
// to an older snapshot, empty or header-less newest logs, no snapshot, torn tails, fuzzy
// snapshots, dead sessions, separate dataLogDir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZktsError } from '../../src/errors.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { listDataFiles } from '../../src/storage/data-files.js';
import { purgeOldFiles } from '../../src/storage/purge.js';
import { recover, writeSnapshot } from '../../src/storage/recovery.js';
import { serializeSnapshot } from '../../src/storage/snapshot.js';
import { readTxnLog } from '../../src/storage/txn-log-reader.js';
import { TxnLogWriter } from '../../src/storage/txn-log.js';
import { DataTree } from '../../src/tree/data-tree.js';
import { assertSameNodes, committed, indexView, nodeView, OPEN, runWorkload, tempDir, Workload, type Step } from './helpers.js';

const quiet = { log: () => {} };

function assertSameState(dir: string, w: Workload, dataLogDir?: string): ReturnType<typeof recover> {
  const r = recover(dir, dataLogDir ?? dir, { extendedTypesEnabled: true, ...quiet });
  assertSameNodes(nodeView(r.tree), nodeView(w.tree));
  assert.deepEqual(indexView(r.tree), indexView(w.tree));
  assert.deepEqual(r.sessions, w.sessions);
  assert.equal(r.lastZxid, w.tree.lastProcessedZxid);
  return r;
}

test('snapshots plus log replay rebuild exactly the tree built live', async (t) => {
  const dir = tempDir(t);
  const w = await runWorkload(dir, 1, 2000);
  const v2 = join(dir, 'version-2');
  assert.ok(listDataFiles(v2, 'snapshot').length > 10, 'snapshots were taken along the way');
  assert.ok(listDataFiles(v2, 'log').length > 10, 'the log rolled at each snapshot');
  const r = assertSameState(dir, w);
  assert.ok(r.txnsReplayed > 0 && r.txnsReplayed < 200, `replayed ${r.txnsReplayed} txns after the newest snapshot`);
});

test('a restart continues where it stopped, more than once', async (t) => {
  const dir = tempDir(t);
  let w = await runWorkload(dir, 2, 400);
  for (const seed of [3, 4]) {
    const r = assertSameState(dir, w);
    w = await runWorkload(dir, seed, 300, { w: new Workload(seed, r) });
  }
  assertSameState(dir, w);
});

test('a newest snapshot that fails its checksum is passed over for the one before', async (t) => {
  const dir = tempDir(t);
  const w = await runWorkload(dir, 5, 600);
  const snaps = listDataFiles(join(dir, 'version-2'), 'snapshot');
  const newest = snaps[snaps.length - 1]!;
  const bytes = readFileSync(newest.path);
  bytes[bytes.length >> 1]! ^= 0xff;
  writeFileSync(newest.path, bytes);
  const r = assertSameState(dir, w);
  assert.equal(r.snapshotFile, snaps[snaps.length - 2]!.path);
  for (const s of snaps) writeFileSync(s.path, Buffer.from('junk'));
  assert.throws(() => recover(dir, dir, quiet), (e: unknown) => e instanceof ZktsError && /Not able to find valid snapshots/.test(e.message));
});

test('an empty or header-less newest log is removed (ZOOKEEPER-2332)', async (t) => {
  const dir = tempDir(t);
  const w = await runWorkload(dir, 6, 300);
  const v2 = join(dir, 'version-2');
  const next = w.tree.lastProcessedZxid + 1n;
  for (const content of [Buffer.alloc(0), Buffer.alloc(7, 0x5a), Buffer.alloc(4096)]) {
    const f = join(v2, `log.${next.toString(16)}`);
    writeFileSync(f, content);
    assertSameState(dir, w);
    assert.ok(!readdirSync(v2).includes(`log.${next.toString(16)}`));
  }
});

test('logs without any snapshot are refused unless zookeeper.snapshot.trust.empty', async (t) => {
  const dir = tempDir(t);
  const w = await runWorkload(dir, 7, 200, { snapCount: 100000 });
  for (const s of listDataFiles(join(dir, 'version-2'), 'snapshot')) unlinkSync(s.path);
  assert.throws(() => recover(dir, dir, quiet), (e: unknown) => e instanceof ZktsError && /No snapshot found.*trust\.empty/s.test(e.message));
  const r = recover(dir, dir, { snapshotTrustEmpty: true, extendedTypesEnabled: true, ...quiet });
  assert.deepEqual(nodeView(r.tree), nodeView(w.tree));
});

test('a fresh directory starts empty and gets snapshot.0', async (t) => {
  const dir = tempDir(t);
  const d = await DataDir.open({ dataDir: dir, ...quiet });
  await d.close();
  assert.equal(d.initial.lastZxid, 0n);
  assert.deepEqual([...d.initial.tree.paths()].sort(), ['/', '/zookeeper', '/zookeeper/config', '/zookeeper/quota']);
  assert.deepEqual(readdirSync(join(dir, 'version-2')), ['snapshot.0']);
});

test('a torn last txn is cut off; txns appended after it are read on the next recovery', async (t) => {
  const dir = tempDir(t);
  await runWorkload(dir, 8, 300, { snapCount: 100000 });
  const logs = listDataFiles(join(dir, 'version-2'), 'log');
  const last = logs[logs.length - 1]!;
  const recs = [...readTxnLog(join(dir, 'version-2'), 0n)];
  const victim = recs[recs.length - 1]!;
  truncateSync(last.path, victim.offset + (victim.entryBytes >> 1));
  const r1 = recover(dir, dir, { extendedTypesEnabled: true, ...quiet });
  assert.equal(r1.lastZxid, victim.hdr.zxid - 1n);
  assert.equal(statSync(last.path).size, victim.offset, 'the partial txn is gone from the file');
  const w = await runWorkload(dir, 9, 200, { w: new Workload(9, r1) });
  assertSameState(dir, w);
});

test('replay over a fuzzy snapshot (one already holding later changes) tolerates the misfits', async (t) => {
  const dir = tempDir(t);
  const w = new Workload(10);
  const steps: Step[] = [];
  const sid = 0x77n;
  const run = (req: Parameters<Workload['step']>[0]): void => {
    const s = w.step(req, sid);
    w.apply(s);
    steps.push(s);
  };
  run({ type: OpCode.createSession, timeOut: 5000 });
  run({ type: OpCode.create, path: '/a', data: Buffer.from('1'), acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0, ttl: -1n });
  run({ type: OpCode.setData, path: '/a', data: Buffer.from('2'), version: -1 });
  run({ type: OpCode.create, path: '/a/b', data: null, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 1, ttl: -1n });
  run({ type: OpCode.create, path: '/c', data: null, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 2, ttl: -1n });
  run({ type: OpCode.delete, path: '/a/b', version: -1 });
  const v2 = join(dir, 'version-2');
  mkdirSync(v2, { recursive: true });
  // The snapshot is named for zxid 2 but holds the tree as of the last txn.
  writeFileSync(join(v2, 'snapshot.2'), Buffer.concat(serializeSnapshot(w.tree, w.sessions)));
  const log = new TxnLogWriter({ dir: v2 });
  await Promise.all(steps.map((s) => committed(log, s)));
  await log.close();
  const r = assertSameState(dir, w);
  assert.equal(r.txnsReplayed, steps.length - 2);
});

test('ephemerals of sessions that no longer exist are deleted after replay', async (t) => {
  const dir = tempDir(t);
  const w = new Workload(11);
  for (let i = 0; i < 1500; i++) w.apply(w.randomStep());
  const owners = [...w.tree.ephemerals.keys()];
  assert.ok(owners.length > 1);
  const sessions = new Map(w.sessions);
  sessions.delete(owners[0]!);
  await writeSnapshot(w.tree, sessions, w.tree.lastProcessedZxid, dir);
  const r = recover(dir, dir, { extendedTypesEnabled: true, ...quiet });
  assert.equal(r.tree.ephemerals.has(owners[0]!), false);
  for (const p of w.tree.ephemeralsOf(owners[0]!)) assert.equal(r.tree.get(p), undefined);
  assert.deepEqual([...r.tree.ephemeralsOf(owners[1]!)].sort(), [...w.tree.ephemeralsOf(owners[1]!)].sort());
});

test('a separate dataLogDir holds the logs; mixed-up directories are refused', async (t) => {
  const dir = tempDir(t);
  const logDir = tempDir(t);
  const w = await runWorkload(dir, 12, 300, { dataLogDir: logDir });
  assert.equal(listDataFiles(join(dir, 'version-2'), 'log').length, 0);
  assert.ok(listDataFiles(join(logDir, 'version-2'), 'log').length > 0);
  assertSameState(dir, w, logDir);
  writeFileSync(join(logDir, 'version-2', 'snapshot.1'), 'x');
  assert.throws(() => recover(dir, logDir, quiet), /holds snapshot files/);
});

test('DataDir snapshots every snapCount/2 + random(snapCount/2) txns and rolls the log each time', async (t) => {
  const dir = tempDir(t);
  await runWorkload(dir, 13, 1000, { snapCount: 100 });
  const v2 = join(dir, 'version-2');
  const snaps = listDataFiles(v2, 'snapshot').map((s) => Number(s.zxid));
  const gaps = snaps.slice(2).map((z, i) => z - snaps[i + 1]!);
  // snapCount/2 + random(snapCount/2), plus the txns applied while a sliced snapshot was still
  // being written (a trigger during one is skipped, as ZooKeeper skips it when busy).
  for (const g of gaps) assert.ok(g >= 40 && g <= 230, `snapshot gap ${g}`);
  // One log per snapshot taken while running (the startup snapshot precedes the first log).
  const logs = listDataFiles(v2, 'log').length;
  assert.ok(logs === snaps.length - 1 || logs === snaps.length, `${logs} logs for ${snaps.length} snapshots`);
});

test('autopurge keeps the newest snapRetainCount snapshots and the logs they need, and still recovers', async (t) => {
  const dir = tempDir(t);
  const w = await runWorkload(dir, 14, 800, { snapCount: 100 });
  const v2 = join(dir, 'version-2');
  const snapsBefore = listDataFiles(v2, 'snapshot');
  const logsBefore = listDataFiles(v2, 'log');
  const r = purgeOldFiles(dir, dir, 3);
  const snaps = listDataFiles(v2, 'snapshot');
  assert.deepEqual(snaps.map((s) => s.name), snapsBefore.slice(-3).map((s) => s.name));
  const oldest = snaps[0]!.zxid;
  const logs = listDataFiles(v2, 'log');
  assert.ok(logs[0]!.zxid <= oldest + 1n, 'the log holding the txns right after the oldest snapshot is kept');
  assert.equal(logs.length + snaps.length + r.removed.length, logsBefore.length + snapsBefore.length);
  assertSameState(dir, w);
  // The oldest kept snapshot must still be enough on its own: drop the two newer ones.
  for (const s of snaps.slice(1)) unlinkSync(s.path);
  assertSameState(dir, w);
});

test('loading a large snapshot and replaying a long log log their progress', async (t) => {
  // A snapshot of 12k nodes.
  const big = tempDir(t);
  const tree = new DataTree();
  for (let i = 1; i <= 12_000; i++) {
    tree.processTxn({ clientId: 0n, cxid: 0, zxid: BigInt(i), time: i, type: OpCode.create }, { type: OpCode.create, path: `/n${i}`, data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 });
  }
  await writeSnapshot(tree, new Map(), tree.lastProcessedZxid, big);
  const snapLines: string[] = [];
  const r1 = recover(big, big, { progressIntervalMs: 0, log: (_l, m) => snapLines.push(m) });
  assert.equal(r1.tree.nodeCount, tree.nodeCount);
  assert.equal(r1.tree.digest, tree.digest);
  assert.ok(snapLines.some((m) => /Reading snapshot .*: 10000 nodes so far/.test(m)), snapLines.join('\n'));
  // A log of 2k txns.
  const long = tempDir(t);
  await runWorkload(long, 5, 2100, { snapCount: 1_000_000 });
  const logLines: string[] = [];
  const r2 = recover(long, long, { extendedTypesEnabled: true, progressIntervalMs: 0, log: (_l, m) => logLines.push(m) });
  assert.ok(r2.txnsReplayed >= 2048);
  assert.ok(logLines.some((m) => /Replaying the txn log: 2048 txns so far/.test(m)), logLines.join('\n'));
});
