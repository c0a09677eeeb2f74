// fuzzy-replay.test.ts — recovery over fuzzy snapshots, ZooKeeper's bug class. ZooKeeper writes
// snapshots while txns keep applying, names them for the zxid at the start, and seals the digest
// of the last txn applied when writing ended; some later changes are in the file, some not, and
// replaying the log from the named zxid must still end in exactly the live state. Each test
// builds such a file by hand, the way ZooKeeper's walk would have caught the tree, with the log
// of every txn, and checks that recovery rebuilds the live tree node for node and that the
// sealed digest matches once replay reaches its zxid:
// - ZOOKEEPER-1046: a sequential child already in the file, its parent's cversion not yet;
// - ZOOKEEPER-3125: a deleted child already gone, its parent's pzxid not yet moved (and a later
//   pzxid already there, which the replayed delete must not lower);
// - ZOOKEEPER-3145: the same for the ephemerals a closeSession deletes;
// - ZOOKEEPER-3127: part of a multi in the file, which must be named before the multi; zkts's
//   tree raises lastProcessedZxid only once a whole multi is applied;
// - ZOOKEEPER-3144: the session table must hold every session whose createSession is before
//   the snapshot's zxid, or recovery drops the session's ephemerals; DataDir reads both at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateFlag, OpCode } from '../../src/protocol/opcodes.js';
import type { Request } from '../../src/protocol/requests.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { listDataFiles } from '../../src/storage/data-files.js';
import { recover, type RecoveredState } from '../../src/storage/recovery.js';
import { parseSnapshot, readSnapshotFile, serializeSnapshot } from '../../src/storage/snapshot.js';
import { treeDigest } from '../../src/tree/digest.js';
import { TxnLogWriter } from '../../src/storage/txn-log.js';
import { DataTree } from '../../src/tree/data-tree.js';
import { assertSameNodes, committed, indexView, nodeView, OPEN, tempDir, Workload, type Step } from './helpers.js';

type Req = Parameters<Workload['step']>[0];

/** A live tree built by logged txns, and the state at a chosen zxid to make the fuzzy file from. */
class FuzzyCase {
  readonly w: Workload;
  readonly steps: Step[] = [];

  constructor(seed: number) {
    this.w = new Workload(seed);
  }

  run(req: Req, sid: bigint): Step {
    const s = this.w.step(req, sid);
    this.w.apply(s);
    this.steps.push(s);
    return s;
  }

  /** A deep copy of the live tree and sessions, as the file's starting point. */
  copy(): { tree: DataTree; sessions: Map<bigint, number> } {
    const back = parseSnapshot(Buffer.concat(serializeSnapshot(this.w.tree, this.w.sessions)), 'copy', { extendedTypesEnabled: true });
    return { tree: back.tree, sessions: back.sessions };
  }

  /** Writes snapshot.<zxid> of `fuzzy` (sealed with the live digest at the last txn) and the whole log; recovers. */
  async recover(t: { after(fn: () => void): void }, fuzzy: { tree: DataTree; sessions: Map<bigint, number> }, zxid: bigint): Promise<RecoveredState> {
    const dir = tempDir(t);
    const v2 = join(dir, 'version-2');
    mkdirSync(v2, { recursive: true });
    const digest = { zxid: this.w.tree.lastProcessedZxid, version: 2, digest: treeDigest(this.w.tree) };
    writeFileSync(join(v2, `snapshot.${zxid.toString(16)}`), Buffer.concat(serializeSnapshot(fuzzy.tree, fuzzy.sessions, { digest })));
    const log = new TxnLogWriter({ dir: v2 });
    await Promise.all(this.steps.map((s) => committed(log, s)));
    await log.close();
    return recover(dir, dir, { extendedTypesEnabled: true, log: () => {} });
  }

  assertRecovered(r: RecoveredState): void {
    assertSameNodes(nodeView(r.tree), nodeView(this.w.tree), 'recovered vs live');
    assert.deepEqual(indexView(r.tree), indexView(this.w.tree));
    assert.deepEqual(r.sessions, this.w.sessions);
    assert.equal(r.lastZxid, this.w.tree.lastProcessedZxid);
    assert.equal(r.digest, 'match', 'the digest ZooKeeper sealed in matches once replay reaches its zxid');
  }
}

const create = (path: string, flags: number = CreateFlag.PERSISTENT, data = 'd'): Req => ({ type: OpCode.create, path, data: Buffer.from(data), acl: OPEN, flags, ttl: -1n });
const session: Req = { type: OpCode.createSession, timeOut: 30000 };

/** Puts a copy of the live node at `path` into `tree`, leaving its parent's stat as it is. */
function carryOver(tree: DataTree, live: DataTree, path: string): void {
  const n = live.get(path)!;
  assert.equal(tree.loadNode(path, { ...n, acl: tree.acls.intern(n.acl) }), null);
}

/** `fuzzy` without the node at `path` (a leaf), its parent's stat as it is: a copy, loaded from the root down. */
function takeOut(fuzzy: { tree: DataTree }, path: string): void {
  const from = fuzzy.tree;
  assert.ok(from.has(path) && from.childNames(path).length === 0);
  const to = new DataTree({ extendedTypesEnabled: true });
  to.clear();
  const copy = (p: string): void => {
    if (p === path) return;
    const n = from.get(p)!;
    assert.equal(to.loadNode(p, { ...n, acl: to.acls.intern(n.acl) }), null);
    for (const c of from.childNames(p)) copy(p === '/' ? `/${c}` : `${p}/${c}`);
  };
  copy('/');
  to.resetDigest();
  to.lastProcessedZxid = from.lastProcessedZxid;
  fuzzy.tree = to;
}

test('ZOOKEEPER-1046: a sequential child in the file before its parent\'s cversion; the next name is still new', async (t) => {
  const c = new FuzzyCase(1);
  const sid = 0x1046n;
  c.run(session, sid);
  c.run(create('/q'), sid);
  const zxid = c.w.tree.lastProcessedZxid;
  const fuzzy = c.copy();
  c.run(create('/q/other'), sid);
  const first = c.run(create('/q/s-', CreateFlag.PERSISTENT_SEQUENTIAL), sid);
  assert.equal(first.txn.type === OpCode.create && first.txn.path, '/q/s-0000000001');
  carryOver(fuzzy.tree, c.w.tree, '/q/other');
  carryOver(fuzzy.tree, c.w.tree, '/q/s-0000000001'); // the walk found the child, /q was written before it
  const r = await c.recover(t, fuzzy, zxid);
  c.assertRecovered(r);
  const next = (w: Workload): string => {
    const s = w.step(create('/q/s-', CreateFlag.PERSISTENT_SEQUENTIAL), sid);
    return s.txn.type === OpCode.create ? s.txn.path : `error ${JSON.stringify(s.txn)}`;
  };
  assert.equal(next(new Workload(2, r)), next(c.w));
});

test('ZOOKEEPER-3125: a child the file no longer has is deleted again, and the parent\'s pzxid still moves up', async (t) => {
  const c = new FuzzyCase(3);
  const sid = 0x3125n;
  c.run(session, sid);
  c.run(create('/d'), sid);
  c.run(create('/d/x'), sid);
  const zxid = c.w.tree.lastProcessedZxid;
  const fuzzy = c.copy();
  c.run({ type: OpCode.delete, path: '/d/x', version: -1 }, sid);
  takeOut(fuzzy, '/d/x'); // gone before the walk reached it; /d was written before the delete
  c.assertRecovered(await c.recover(t, fuzzy, zxid));
});

test('ZOOKEEPER-3125: a replayed delete never lowers a pzxid that a later create already set', async (t) => {
  const c = new FuzzyCase(4);
  const sid = 0x3125n;
  c.run(session, sid);
  c.run(create('/d'), sid);
  c.run(create('/d/x'), sid);
  const zxid = c.w.tree.lastProcessedZxid;
  c.run({ type: OpCode.delete, path: '/d/x', version: -1 }, sid);
  c.run(create('/d/y'), sid);
  const fuzzy = c.copy(); // the walk wrote /d after both
  c.assertRecovered(await c.recover(t, fuzzy, zxid));
});

test('ZOOKEEPER-3145: a closeSession whose ephemerals the file no longer has still moves their parents\' pzxid', async (t) => {
  const c = new FuzzyCase(5);
  const sid = 0x3145n;
  c.run(session, sid);
  c.run(create('/p'), sid);
  c.run(create('/p/e', CreateFlag.EPHEMERAL), sid);
  c.run(create('/p2'), sid);
  c.run(create('/p2/e', CreateFlag.EPHEMERAL), sid);
  const zxid = c.w.tree.lastProcessedZxid;
  const fuzzy = c.copy();
  c.run({ type: OpCode.closeSession }, sid);
  takeOut(fuzzy, '/p/e'); // gone before the walk reached it; /p2/e was written before the close
  c.assertRecovered(await c.recover(t, fuzzy, zxid));
});

test('ZOOKEEPER-3127: part of a multi in a file named before it replays to the whole multi', async (t) => {
  const c = new FuzzyCase(6);
  const sid = 0x3127n;
  c.run(session, sid);
  c.run(create('/m'), sid);
  c.run(create('/m/a'), sid);
  const zxid = c.w.tree.lastProcessedZxid;
  const ops: Request[] = [create('/m/b') as Request, create('/m/c') as Request, { type: OpCode.setData, path: '/m/a', data: Buffer.from('new'), version: -1 }];
  const fuzzy = c.copy();
  const multi = c.run({ type: OpCode.multi, ops }, sid);
  // The walk caught the multi's first op: the child, and its parent after it.
  carryOver(fuzzy.tree, c.w.tree, '/m/b');
  assert.ok(fuzzy.tree.setCversionPzxid('/m', -1, multi.hdr.zxid)); // cversion + 1
  c.assertRecovered(await c.recover(t, fuzzy, zxid));
});

test('ZOOKEEPER-3127: while a multi applies, lastProcessedZxid (what a snapshot is named for) stays before it', () => {
  const w = new Workload(7);
  const sid = 0x3127n;
  for (const req of [session, create('/m'), create('/m/a')]) w.apply(w.step(req, sid));
  const before = w.tree.lastProcessedZxid;
  const seen: bigint[] = [];
  w.tree.changeObserver = { beforeChange: () => void seen.push(w.tree.lastProcessedZxid) };
  const s = w.step({ type: OpCode.multi, ops: [create('/m/b') as Request, { type: OpCode.setData, path: '/m/a', data: null, version: -1 }, { type: OpCode.delete, path: '/m/b', version: -1 }] }, sid);
  w.apply(s);
  w.tree.changeObserver = null;
  assert.ok(seen.length >= 4, `${seen.length} changes seen`);
  assert.deepEqual(new Set(seen), new Set([before]));
  assert.equal(w.tree.lastProcessedZxid, s.hdr.zxid);
});

test('ZOOKEEPER-3144: sessions created and closed while DataDir writes a snapshot keep their ephemerals right', async (t) => {
  const dir = tempDir(t);
  let release: (() => void)[] = [];
  let writing = true;
  const d = await DataDir.open({
    dataDir: dir,
    snapCount: 1_000_000,
    snapshotSliceUnits: 2,
    snapshotYield: () => (writing ? new Promise((r) => release.push(r)) : Promise.resolve()),
    extendedTypesEnabled: true,
    log: () => {},
  });
  const w = new Workload(8, d.initial);
  d.attach(w.live);
  const run = async (req: Req, sid: bigint): Promise<void> => {
    const s = w.step(req, sid);
    await committed(d, s);
    w.apply(s);
    const r = release;
    release = [];
    for (const f of r) f();
  };
  const [s0, s1, s2] = [0x100n, 0x101n, 0x102n];
  await run(session, s0);
  await run(create('/e0', CreateFlag.EPHEMERAL), s0);
  for (let i = 0; i < 20; i++) await run(create(`/n${i}`), s0);
  await run(session, s1); // created just before the snapshot: must be in its session table
  const snapshot = d.snapshot();
  const zxid = w.tree.lastProcessedZxid;
  await run(create('/e1', CreateFlag.EPHEMERAL), s1);
  await run(session, s2);
  await run(create('/e2', CreateFlag.EPHEMERAL), s2);
  await run({ type: OpCode.closeSession }, s0);
  assert.ok(d.snapshotRunning, 'the writes above happened while the snapshot was being written');
  writing = false;
  for (const f of release) f();
  const file = await snapshot;
  await d.close();
  assert.equal(file, join(dir, 'version-2', `snapshot.${zxid.toString(16)}`));
  assert.deepEqual([...readSnapshotFile(file!).sessions.keys()].sort(), [s0, s1], 'the sessions as at the snapshot\'s zxid');
  // Recover from that snapshot (the newest) plus the log.
  assert.equal(listDataFiles(join(dir, 'version-2'), 'snapshot').pop()!.path, file);
  const r = recover(dir, dir, { extendedTypesEnabled: true, log: () => {} });
  assertSameNodes(nodeView(r.tree), nodeView(w.tree));
  assert.deepEqual(r.sessions, w.sessions);
  assert.ok(r.tree.get('/e1') && r.tree.get('/e2') && !r.tree.get('/e0'));
});

test('ZOOKEEPER-3144, the hazard itself: a session missing from the table loses its ephemerals on recovery', async (t) => {
  const c = new FuzzyCase(9);
  const sid = 0x3144n;
  c.run(session, sid);
  c.run(create('/e', CreateFlag.EPHEMERAL), sid);
  const fuzzy = c.copy();
  fuzzy.sessions.delete(sid); // read before the session was added, named after its createSession
  const r = await c.recover(t, fuzzy, c.w.tree.lastProcessedZxid);
  assert.equal(r.tree.get('/e'), undefined);
  assert.ok(c.w.tree.get('/e'));
});

test('the digest a fuzzy snapshot seals is checked when replay reaches its zxid: a wrong one is a mismatch', async (t) => {
  const c = new FuzzyCase(10);
  const sid = 0x10n;
  c.run(session, sid);
  c.run(create('/a'), sid);
  const fuzzy = c.copy();
  const zxid = c.w.tree.lastProcessedZxid;
  c.run(create('/b'), sid);
  const r = await c.recover(t, fuzzy, zxid);
  c.assertRecovered(r);
  // Tamper: a digest for the last zxid that is not the tree's.
  const dir = tempDir(t);
  const v2 = join(dir, 'version-2');
  mkdirSync(v2, { recursive: true });
  writeFileSync(join(v2, `snapshot.${zxid.toString(16)}`), Buffer.concat(serializeSnapshot(fuzzy.tree, fuzzy.sessions, { digest: { zxid: c.w.tree.lastProcessedZxid, version: 2, digest: 12345n } })));
  const log = new TxnLogWriter({ dir: v2 });
  await Promise.all(c.steps.map((s) => committed(log, s)));
  await log.close();
  assert.equal(recover(dir, dir, { extendedTypesEnabled: true, log: () => {} }).digest, 'mismatch');
});
