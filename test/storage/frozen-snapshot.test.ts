// frozen-snapshot.test.ts — snapshots written in slices while the tree keeps changing are exact:
// a snapshot named for zxid Z holds the tree as it was at Z, node for node (data, stat, ACL,
// children), with the digest of that tree sealed in, however the writes between slices
// interleave with the walk (random workloads, and the awkward cases one by one). Then the whole
// server path: DataDir takes sliced snapshots while a workload writes, each file equals the state
// that replaying the log up to its zxid gives, and recovery rebuilds the live tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpCode, Perm } from '../../src/protocol/opcodes.js';
import type { ACL } from '../../src/protocol/records.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { listDataFiles } from '../../src/storage/data-files.js';
import { FrozenTree, type TreeView } from '../../src/storage/frozen-tree.js';
import { recover } from '../../src/storage/recovery.js';
import { replayTxn } from '../../src/storage/replay.js';
import { readSnapshotFile, parseSnapshot } from '../../src/storage/snapshot.js';
import { SnapshotSerializer } from '../../src/storage/snapshot-writer.js';
import { treeDigest } from '../../src/tree/digest.js';
import { readTxnLog } from '../../src/storage/txn-log-reader.js';
import { DataTree } from '../../src/tree/data-tree.js';
import type { Txn } from '../../src/tree/txn.js';
import { assertSameNodes, committed, indexView, nodeView, OPEN, seeded, tempDir, Workload, type Step } from './helpers.js';

interface Expected {
  zxid: bigint;
  nodes: ReturnType<typeof nodeView>;
  index: ReturnType<typeof indexView>;
  digest: bigint;
  sessions: Map<bigint, number>;
}

function expectedOf(tree: DataTree, sessions: ReadonlyMap<bigint, number>): Expected {
  return { zxid: tree.lastProcessedZxid, nodes: nodeView(tree), index: indexView(tree), digest: treeDigest(tree), sessions: new Map(sessions) };
}

/** The parsed snapshot must be exactly `e`: nodes, indexes, sessions, digest and zxids. */
function assertSnapshotIs(buf: Buffer, e: Expected, what: string): void {
  const back = parseSnapshot(buf, what, { extendedTypesEnabled: true });
  assertSameNodes(nodeView(back.tree), e.nodes, what);
  assert.deepEqual(indexView(back.tree), e.index, `${what}: ephemeral, container and TTL indexes`);
  assert.deepEqual(back.sessions, e.sessions, `${what}: sessions`);
  // A digest for zxid 0 reads as none, as in ZooKeeper (DataTree.deserializeZxidDigest).
  assert.deepEqual(back.digest, e.zxid === 0n ? null : { zxid: e.zxid, version: 2, digest: e.digest }, `${what}: sealed digest`);
  assert.equal(back.lastProcessedZxid, e.zxid, `${what}: lastProcessedZxid`);
}

test('a snapshot serialized a few nodes at a time while random writes go on holds the tree at its zxid', () => {
  let totalWrites = 0;
  let totalCopied = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = seeded(seed * 7919);
    const w = new Workload(seed);
    const warm = 200 + Math.floor(rnd() * 1200);
    for (let i = 0; i < warm; i++) w.apply(w.randomStep());
    const e = expectedOf(w.tree, w.sessions);
    const view = new FrozenTree(w.tree);
    const s = new SnapshotSerializer(view, e.sessions, { digest: 'computed', lastProcessedZxid: e.zxid, chunkBytes: 4096 + Math.floor(rnd() * 4096) });
    const chunks: Buffer[] = [];
    let writes = 0;
    for (;;) {
      const done = s.step(Infinity, 1 + Math.floor(rnd() * 4));
      chunks.push(...s.takeChunks());
      if (done) break;
      const k = Math.floor(rnd() * 4);
      for (let i = 0; i < k; i++, writes++) w.apply(w.randomStep());
    }
    const preserved = view.preserved;
    view.close();
    assert.equal(w.tree.changeObserver, null, 'closing the view stops the copying');
    totalWrites += writes;
    totalCopied += preserved;
    assert.equal(s.nodeCount, e.nodes.size, `seed ${seed}: each node written once`);
    assertSnapshotIs(Buffer.concat(chunks), e, `seed ${seed}`);
  }
  assert.ok(totalWrites > 5000 && totalCopied > 1000, `${totalWrites} writes during the snapshots, ${totalCopied} nodes copied`);
});

/** A view that runs `on(event)` after each read the walk makes, so a test can write at chosen points. */
class Probe implements TreeView {
  constructor(
    private readonly inner: FrozenTree,
    private readonly on: (event: string) => void,
  ) {}
  get zxid(): bigint {
    return this.inner.zxid;
  }
  get digest(): bigint | null {
    return this.inner.digest;
  }
  get preserved(): number {
    return this.inner.preserved;
  }
  get(path: string): ReturnType<TreeView['get']> {
    const n = this.inner.get(path);
    this.on(`get ${path}`);
    return n;
  }
  childNames(path: string): string[] {
    const names = this.inner.childNames(path);
    this.on(`children ${path}`);
    return names;
  }
  allNodes(): ReturnType<TreeView['allNodes']> {
    return this.inner.allNodes();
  }
  close(): void {
    this.inner.close();
  }
}

function writer(tree: DataTree): Record<'create' | 'set' | 'del' | 'setAcl' | 'eph', (path: string, arg?: string | readonly ACL[]) => void> {
  const apply = (txn: Txn, clientId = 0x51n): void => {
    const zxid = tree.lastProcessedZxid + 1n;
    tree.processTxn({ clientId, cxid: 1, zxid, time: 1_700_000_000_000 + Number(zxid), type: txn.type }, txn);
  };
  return {
    create: (path, data) => apply({ type: OpCode.create, path, data: Buffer.from((data as string | undefined) ?? path), acl: OPEN, ephemeral: false, parentCVersion: -1 }),
    eph: (path) => apply({ type: OpCode.create, path, data: null, acl: OPEN, ephemeral: true, parentCVersion: -1 }),
    set: (path, data) => apply({ type: OpCode.setData, path, data: Buffer.from(data as string), version: (tree.get(path)?.version ?? 0) + 1 }),
    del: (path) => apply({ type: OpCode.delete, path }),
    setAcl: (path, acl) => apply({ type: OpCode.setACL, path, acl: acl as ACL[], version: (tree.get(path)?.aversion ?? 0) + 1 }),
  };
}

test('the awkward cases: children changed before and after the walk reaches them, deletes, re-creates, quotas', () => {
  const tree = new DataTree({ extendedTypesEnabled: true });
  const op = writer(tree);
  for (const p of ['/a', '/b', '/q', '/zookeeper/quota/q']) op.create(p);
  op.create('/zookeeper/quota/q/zookeeper_limits', 'count=100,bytes=-1');
  op.create('/zookeeper/quota/q/zookeeper_stats', 'count=1,bytes=2');
  for (let i = 0; i < 6; i++) op.create(`/a/c${i}`);
  op.create('/a/c2/x');
  op.create('/q/n0');
  op.eph('/b/e');
  const e = expectedOf(tree, new Map([[0x51n, 4000]]));
  const locked: ACL[] = [{ perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }];
  const seen: string[] = [];
  const view = new Probe(new FrozenTree(tree), (ev) => {
    seen.push(ev);
    // Writes happen where a slice could end: after a node is written and its child names read.
    switch (ev) {
      case 'children /': // only the root written
        op.set('/zookeeper/quota/q/zookeeper_limits', 'count=5,bytes=-1');
        op.create('/q/n1'); // moves the quota usage, not yet written
        op.del('/q/n0');
        op.create('/q/n0', 'again');
        break;
      case 'children /a': // /a written, none of its children yet
        op.set('/a/c1', 'changed before written');
        op.del('/a/c3');
        op.del('/a/c2/x');
        op.del('/a/c2'); // a child and its parent, both deleted before the walk reaches them
        op.del('/a/c4');
        op.create('/a/c4', 'born again after the snapshot started');
        op.create('/a/new');
        op.setAcl('/a', locked); // already written
        op.create('/q/n2'); // moves the quota usage again, now written
        break;
      case 'children /a/c0': // written: changes from here on must not show, nor write it twice
        op.del('/a/c0');
        op.create('/a/c0', 'again');
        op.del('/a/c0');
        break;
      case 'children /a/c5':
        op.create('/a/c5/late');
        op.del('/b/e');
        op.create('/b/e2');
        break;
      case 'children /b':
        op.del('/b/e2');
        op.del('/b');
        op.create('/b', 'replaced');
        break;
    }
  });
  const s = new SnapshotSerializer(view, e.sessions, { digest: 'computed', lastProcessedZxid: e.zxid });
  assert.equal(s.step(), true);
  view.close();
  for (const ev of ['children /', 'children /a', 'children /a/c0', 'children /a/c5', 'children /b']) assert.ok(seen.includes(ev), `the walk got to "${ev}"`);
  assert.ok(tree.get('/a/c3') === undefined && tree.get('/b')!.data!.toString() === 'replaced', 'the live tree did change');
  assert.equal(s.nodeCount, e.nodes.size);
  assertSnapshotIs(Buffer.concat(s.takeChunks()), e, 'snapshot');
});

test('one frozen view of a tree at a time; closing it twice is harmless', () => {
  const tree = new DataTree();
  const v = new FrozenTree(tree);
  assert.throws(() => new FrozenTree(tree), /one frozen view/);
  v.close();
  v.close();
  assert.equal(tree.changeObserver, null);
  new FrozenTree(tree).close();
});

/** Replays the whole log from an empty tree; calls `at(zxid, tree, sessions)` once each zxid in `marks` is reached. */
function replayLogTo(logDir: string, marks: bigint[], at: (zxid: bigint, tree: DataTree, sessions: Map<bigint, number>) => void): void {
  const tree = new DataTree({ extendedTypesEnabled: true });
  const sessions = new Map<bigint, number>();
  const todo = [...marks].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const flush = (upTo: bigint): void => {
    while (todo.length > 0 && todo[0]! <= upTo) at(todo.shift()!, tree, sessions);
  };
  flush(0n);
  for (const rec of readTxnLog(logDir, 1n)) {
    flush(rec.hdr.zxid - 1n);
    replayTxn(tree, sessions, rec.hdr, rec.txn);
  }
  flush(tree.lastProcessedZxid);
  assert.deepEqual(todo, [], 'every snapshot zxid is within the log');
}

test('DataDir: sliced snapshots taken while writes go on are each the state at their zxid, and recovery rebuilds the live tree', async (t) => {
  const dir = tempDir(t);
  const notes: string[] = [];
  // Each slice of a running snapshot waits for the next batch of writes to be applied.
  let slicesWaiting: (() => void)[] = [];
  let writing = true;
  const nextBatch = (): Promise<void> => (writing ? new Promise((resolve) => slicesWaiting.push(resolve)) : Promise.resolve());
  const batchApplied = (): void => {
    const waiting = slicesWaiting;
    slicesWaiting = [];
    for (const f of waiting) f();
  };
  const d = await DataDir.open({
    dataDir: dir,
    snapCount: 300,
    snapshotSliceUnits: 4,
    snapshotYield: nextBatch,
    preAllocBytes: 64 * 1024,
    extendedTypesEnabled: true,
    random: seeded(99),
    log: (_level, msg) => notes.push(msg),
  });
  const w = new Workload(99, d.initial);
  d.attach(w.live);
  const rnd = seeded(100);
  let writesDuringSnapshots = 0;
  for (let done = 0; done < 4000; ) {
    const batch: Step[] = [];
    const n = 1 + Math.floor(rnd() * 8);
    for (let i = 0; i < n; i++, done++) batch.push(w.randomStep());
    await Promise.all(batch.map((s) => committed(d, s)));
    for (const s of batch) w.apply(s);
    if (d.snapshotRunning) writesDuringSnapshots += batch.length;
    batchApplied();
  }
  writing = false;
  batchApplied();
  await d.close();
  const taken = notes.filter((m) => m.startsWith('Snapshotting'));
  assert.ok(taken.length >= 6, `${taken.length} snapshots taken`);
  const copied = taken.map((m) => Number(/(\d+) nodes copied on write/.exec(m)?.[1] ?? 0)).reduce((a, b) => a + b, 0);
  assert.ok(writesDuringSnapshots > 2000 && copied > 200, `${writesDuringSnapshots} writes applied while snapshots were written, ${copied} nodes copied`);
  const v2 = join(dir, 'version-2');
  const snaps = listDataFiles(v2, 'snapshot');
  replayLogTo(v2, snaps.map((s) => s.zxid), (zxid, tree, sessions) => {
    const file = snaps.find((s) => s.zxid === zxid)!;
    const e = expectedOf(tree, sessions);
    e.zxid = zxid;
    assertSnapshotIs(readFileSync(file.path), e, file.name);
  });
  const r = recover(dir, dir, { extendedTypesEnabled: true, log: () => {} });
  assertSameNodes(nodeView(r.tree), nodeView(w.tree), 'recovered vs live');
  assert.deepEqual(indexView(r.tree), indexView(w.tree));
  assert.deepEqual(r.sessions, w.sessions);
  assert.equal(r.lastZxid, w.tree.lastProcessedZxid);
  assert.equal(r.digest, 'match', 'the newest snapshot\'s digest is checked as it loads');
  assert.ok(readSnapshotFile(snaps[snaps.length - 1]!.path).digest !== null);
});
