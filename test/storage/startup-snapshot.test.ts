// startup-snapshot.test.ts — the snapshot of the recovered state that every start takes
// (ZooKeeperServer.loadData). On a restart from a snapshot and logs it is written while the
// server already serves, from a frozen view: the file holds the state recovered, not the writes
// made meanwhile; nothing is purged until it is in place; a stop before then leaves the files
// as they were, and they still recover every write. When the files alone would not give the
// recovered state back (a fresh dataDir, ephemerals of dead sessions deleted), it is in place
// before DataDir.open returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataDir } from '../../src/storage/data-dir.js';
import { listDataFiles, snapshotName } from '../../src/storage/data-files.js';
import { recover, writeSnapshot } from '../../src/storage/recovery.js';
import { readSnapshotFile } from '../../src/storage/snapshot.js';
import { assertSameNodes, committed, nodeView, runWorkload, seeded, tempDir, Workload, type Step } from './helpers.js';

const quiet = (): void => {};

/** A snapshotYield that holds every slice until release(); after it, slices go on at once. */
function gate(): { yieldTurn: () => Promise<void>; release: () => void } {
  let open = false;
  let waiting: (() => void)[] = [];
  return {
    yieldTurn: () => (open ? Promise.resolve() : new Promise((r) => waiting.push(r))),
    release: () => {
      open = true;
      for (const f of waiting) f();
      waiting = [];
    },
  };
}

async function write(d: DataDir, w: Workload, steps: number, seed: number): Promise<void> {
  const rnd = seeded(seed);
  for (let done = 0; done < steps; ) {
    const batch: Step[] = [];
    const n = 1 + Math.floor(rnd() * 6);
    for (let i = 0; i < n && done < steps; i++, done++) batch.push(w.randomStep());
    await Promise.all(batch.map((s) => committed(d, s)));
    for (const s of batch) w.apply(s);
  }
}

function assertRecovers(dir: string, w: Workload): void {
  const r = recover(dir, dir, { extendedTypesEnabled: true, log: quiet });
  assertSameNodes(nodeView(r.tree), nodeView(w.tree));
  assert.deepEqual(r.sessions, w.sessions);
  assert.equal(r.lastZxid, w.tree.lastProcessedZxid);
}

test('a restart serves before its startup snapshot is written; the file holds the recovered state, and purging waits for it', async (t) => {
  const dir = tempDir(t);
  await runWorkload(dir, 21, 600, { snapCount: 80 });
  const v2 = join(dir, 'version-2');
  const filesBefore = readdirSync(v2).sort();
  assert.ok(listDataFiles(v2, 'snapshot').length > 3, 'more snapshots than autopurge keeps');
  const g = gate();
  const d = await DataDir.open({
    dataDir: dir,
    preAllocBytes: 64 * 1024,
    extendedTypesEnabled: true,
    snapshotSliceUnits: 5,
    snapshotYield: g.yieldTurn,
    autopurge: { snapRetainCount: 3, purgeIntervalMs: 3_600_000 },
    log: quiet,
  });
  const w = new Workload(22, d.initial);
  try {
    const z = d.initial.lastZxid;
    assert.ok(d.snapshotRunning, 'the startup snapshot is still being written when open returns');
    const recovered = nodeView(d.initial.tree);
    const sessions = new Map(d.initial.sessions);
    d.attach(w.live);
    await write(d, w, 200, 23); // served meanwhile: logged and applied to the tree being written
    assert.ok(w.tree.lastProcessedZxid > z);
    assert.ok(!existsSync(join(v2, snapshotName(z))), 'not in place yet');
    assert.deepEqual(readdirSync(v2).filter((f) => !f.startsWith('tmp.') && !filesBefore.includes(f)).every((f) => f.startsWith('log.')), true, 'only new logs so far');
    for (const f of filesBefore) assert.ok(existsSync(join(v2, f)), `${f} is not purged while the startup snapshot runs`);

    g.release();
    await d.snapshotsDone();
    assert.equal(d.stats.snapshots, 1);
    const snap = readSnapshotFile(join(v2, snapshotName(z)), { extendedTypesEnabled: true });
    assertSameNodes(nodeView(snap.tree), recovered, 'startup snapshot');
    assert.deepEqual(snap.sessions, sessions);
    assert.equal(snap.lastProcessedZxid, z);
    // purging started once it was in place: the 3 newest snapshots are kept, the startup one among them
    const snaps = listDataFiles(v2, 'snapshot').map((s) => s.zxid);
    assert.equal(snaps.length, 3);
    assert.equal(snaps[2], z);
  } finally {
    g.release();
    await d.close();
  }
  assertRecovers(dir, w);
});

test('a restart stopped before its startup snapshot is in place leaves the files as they were, and they recover every write', async (t) => {
  const dir = tempDir(t);
  await runWorkload(dir, 31, 400, { snapCount: 80 });
  const v2 = join(dir, 'version-2');
  const snapsBefore = listDataFiles(v2, 'snapshot').map((s) => s.name);
  const g = gate();
  const logs: string[] = [];
  const d = await DataDir.open({
    dataDir: dir,
    preAllocBytes: 64 * 1024,
    extendedTypesEnabled: true,
    snapshotSliceUnits: 5,
    snapshotYield: g.yieldTurn,
    log: (_level, msg) => void logs.push(msg),
  });
  const w = new Workload(32, d.initial);
  d.attach(w.live);
  await write(d, w, 150, 33);
  const closing = d.close();
  g.release();
  await closing;
  assert.equal(d.stats.abandonedSnapshots, 1);
  assert.ok(logs.some((m) => /startup snapshot at 0x[0-9a-f]+ abandoned/.test(m)), logs.join('\n'));
  assert.deepEqual(listDataFiles(v2, 'snapshot').map((s) => s.name), snapsBefore);
  assert.deepEqual(readdirSync(v2).filter((f) => f.startsWith('tmp.')), [], 'no temp snapshot left behind');
  assertRecovers(dir, w);
});

test('a fresh dataDir has snapshot.0 when open returns', async (t) => {
  const dir = tempDir(t);
  const d = await DataDir.open({ dataDir: dir, preAllocBytes: 64 * 1024, log: quiet });
  try {
    assert.equal(d.snapshotRunning, false);
    assert.equal(d.stats.snapshots, 1);
    assert.ok(existsSync(join(dir, 'version-2', 'snapshot.0')));
  } finally {
    await d.close();
  }
});

test('when ephemerals of dead sessions were deleted, the startup snapshot is in place when open returns', async (t) => {
  const dir = tempDir(t);
  const w = new Workload(41);
  for (let i = 0; i < 1500; i++) w.apply(w.randomStep());
  const owners = [...w.tree.ephemerals.keys()];
  assert.ok(owners.length > 1);
  const sessions = new Map(w.sessions);
  sessions.delete(owners[0]!);
  const deadPaths = [...w.tree.ephemeralsOf(owners[0]!)];
  await writeSnapshot(w.tree, sessions, w.tree.lastProcessedZxid, dir);
  const d = await DataDir.open({ dataDir: dir, preAllocBytes: 64 * 1024, extendedTypesEnabled: true, log: quiet });
  try {
    assert.ok(d.initial.deadSessionsDeleted >= deadPaths.length && deadPaths.length > 0);
    assert.equal(d.snapshotRunning, false);
    assert.equal(d.stats.snapshots, 1);
    const snap = readSnapshotFile(join(dir, 'version-2', snapshotName(w.tree.lastProcessedZxid)), { extendedTypesEnabled: true });
    for (const p of deadPaths) assert.equal(snap.tree.get(p), undefined, `${p} is gone from the startup snapshot`);
  } finally {
    await d.close();
  }
});

test('a startup snapshot that cannot be written (disk full) is logged; the server goes on and the files still recover every write', async (t) => {
  const dir = tempDir(t);
  await runWorkload(dir, 51, 300, { snapCount: 80 });
  const v2 = join(dir, 'version-2');
  const snapsBefore = listDataFiles(v2, 'snapshot').map((s) => s.name);
  const logs: string[] = [];
  const d = await DataDir.open({
    dataDir: dir,
    preAllocBytes: 64 * 1024,
    extendedTypesEnabled: true,
    snapshotCreate: async () => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    },
    log: (level, msg) => void logs.push(`${level}: ${msg}`),
  });
  const w = new Workload(52, d.initial);
  try {
    d.attach(w.live);
    await d.snapshotsDone();
    assert.equal(d.stats.snapshots, 0);
    assert.ok(logs.some((m) => /^error: startup snapshot at 0x[0-9a-f]+ failed: .*ENOSPC/.test(m)), logs.join('\n'));
    await write(d, w, 100, 53); // writes go on: the log is on its own file system calls
  } finally {
    await d.close();
  }
  assert.deepEqual(listDataFiles(v2, 'snapshot').map((s) => s.name), snapsBefore);
  assert.deepEqual(readdirSync(v2).filter((f) => f.startsWith('tmp.')), []);
  assertRecovers(dir, w);
});
