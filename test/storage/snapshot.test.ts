// snapshot.test.ts — snapshots against ZooKeeper 3.8: its own snapshot file reads back exactly as
// its SnapshotFormatter prints it (and its sealed digest equals ours of the loaded tree), a zkts
// snapshot of a tree with every node type reads back whole, and ZooKeeper's SnapshotFormatter
// reads a zkts snapshot as the same tree. Damage anywhere is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ZktsError } from '../../src/errors.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import { parseSnapshot, readSnapshotFile, serializeSnapshot, writeSnapshotChunks } from '../../src/storage/snapshot.js';
import { treeDigest } from '../../src/tree/digest.js';
import { recover, writeSnapshot } from '../../src/storage/recovery.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { readTxnLog } from '../../src/storage/txn-log-reader.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { PendingDigests } from '../../src/tree/pending-digest.js';
import type { Txn } from '../../src/tree/txn.js';
import { committed, indexView, nodeView, OPEN, tempDir, Workload } from './helpers.js';
import { formatterViewOf, javaMissing, parseFormatterOutput, runSnapshotFormatter } from './zk-tools.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'zk38');
const ZK_SNAPSHOT = join(FIXTURE, 'version-2', 'snapshot.23');

function builtTree(seed: number, steps: number): Workload {
  const w = new Workload(seed);
  for (let i = 0; i < steps; i++) w.apply(w.randomStep());
  return w;
}

test('ZooKeeper\'s snapshot reads back as its SnapshotFormatter printed it, digest included', () => {
  const snap = readSnapshotFile(ZK_SNAPSHOT, { extendedTypesEnabled: true });
  const printed = parseFormatterOutput(readFileSync(join(FIXTURE, 'snapshot.23.SnapshotFormatter.txt'), 'utf8'));
  const ours = formatterViewOf(snap.tree, snap.sessions);
  // ZooKeeper's count holds the root twice (under "" and "/").
  assert.equal(printed.nodes.size + 1, Number(/count=(\d+)/.exec(readFileSync(join(FIXTURE, 'snapshot.23.SnapshotFormatter.txt'), 'utf8'))![1]));
  assert.deepEqual(ours, printed);
  assert.deepEqual(snap.digest, { zxid: 0x23n, version: 2, digest: treeDigest(snap.tree) });
  assert.equal(snap.lastProcessedZxid, null, '3.8 has no lastProcessedZxid section');
  assert.deepEqual(indexView(snap.tree), {
    ephemerals: [['100001b9e020000', ['/keeper-eph']]],
    containers: [],
    ttls: ['/ttl', '/ttl-seq-0000000005'],
  });
  assert.deepEqual(JSON.stringify(snap.tree.get('/secure')!.acl), JSON.stringify([
    { perms: 31, id: { scheme: 'digest', id: 'user:2Om+GBbT2q/tS6pdvACZbbm7/1A=' } },
    { perms: 1, id: { scheme: 'world', id: 'anyone' } },
  ]));
});

test('a snapshot of every node type, ACL and session reads back whole', () => {
  const w = builtTree(7, 3000);
  const kinds = indexView(w.tree);
  assert.ok(kinds.ephemerals.length > 0 && kinds.containers.length > 0 && kinds.ttls.length > 0, 'the workload made every kind of node');
  const zxid = w.tree.lastProcessedZxid;
  const digest = { zxid, version: 2, digest: treeDigest(w.tree) };
  const buf = Buffer.concat(serializeSnapshot(w.tree, w.sessions, { digest, lastProcessedZxid: zxid, chunkBytes: 4096 }));
  const back = parseSnapshot(buf, 'mem', { extendedTypesEnabled: true });
  assert.deepEqual(nodeView(back.tree), nodeView(w.tree));
  assert.deepEqual(indexView(back.tree), kinds);
  assert.deepEqual(back.sessions, w.sessions);
  assert.deepEqual(back.digest, digest);
  assert.equal(back.lastProcessedZxid, zxid);
  assert.equal(treeDigest(back.tree), digest.digest);
});

test('ACL lists are numbered from 1 with OPEN_ACL_UNSAFE as -1, shared between nodes', () => {
  const w = builtTree(3, 400);
  const buf = Buffer.concat(serializeSnapshot(w.tree, new Map()));
  const distinct = new Set([...w.tree.entries()].map(([, n]) => JSON.stringify(n.acl)));
  const listed = buf.readInt32BE(16 + 4); // after the header and an empty session table
  assert.equal(listed, distinct.size - 1, 'every distinct list but the open one is listed once');
  assert.equal(buf.readBigInt64BE(24), 1n);
});

test('the trailer variants of 3.5, 3.8 and 3.9.5 all read', () => {
  const w = builtTree(11, 200);
  const zxid = w.tree.lastProcessedZxid;
  const digest = { zxid, version: 2, digest: treeDigest(w.tree) };
  for (const opts of [{}, { digest }, { digest, lastProcessedZxid: zxid }, { lastProcessedZxid: zxid }]) {
    const back = parseSnapshot(Buffer.concat(serializeSnapshot(w.tree, w.sessions, opts)), 'mem', { extendedTypesEnabled: true });
    assert.deepEqual(nodeView(back.tree), nodeView(w.tree));
    assert.deepEqual(back.digest, opts.digest ?? null);
    assert.equal(back.lastProcessedZxid, opts.lastProcessedZxid ?? null);
  }
});

test('damage anywhere in a snapshot is refused', () => {
  const w = builtTree(5, 300);
  const good = Buffer.concat(serializeSnapshot(w.tree, w.sessions, { digest: { zxid: 1n, version: 2, digest: 3n } }));
  for (let at = 0; at < good.length; at += 3) {
    const bad = Buffer.from(good);
    bad[at]! ^= 0x10;
    assert.throws(() => parseSnapshot(bad, 'snap', { extendedTypesEnabled: true }), (e: unknown) => e instanceof ZktsError && e.code === 'ZKTS_ERR_DISK', `byte ${at}`);
  }
});

test('a node whose parent or ACL is missing is refused', () => {
  const w = new JuteWriter();
  w.int(0x5a4b534e).int(2).long(-1n).int(0).int(0);
  const node = (path: string, acl: bigint): void => {
    w.string(path).buffer(null).long(acl).long(0n).long(0n).long(0n).long(0n).int(0).int(0).int(0).long(0n).long(0n);
  };
  node('', -1n);
  node('/a/b', -1n);
  w.string('/');
  assert.throws(() => parseSnapshot(w.toBuffer(), 's'), /unable to find parent \/a of path \/a\/b/);
  w.reset();
  w.int(0x5a4b534e).int(2).long(-1n).int(0).int(0);
  node('', 4n);
  w.string('/');
  assert.throws(() => parseSnapshot(w.toBuffer(), 's'), /refers to ACL 4/);
});

test('files: truncated ones are refused, gzip ones read, writes are atomic', async (t) => {
  const dir = tempDir(t);
  const w = builtTree(9, 200);
  const file = await writeSnapshot(w.tree, w.sessions, w.tree.lastProcessedZxid, dir);
  assert.equal(file, join(dir, 'version-2', `snapshot.${w.tree.lastProcessedZxid.toString(16)}`));
  assert.deepEqual(nodeView(readSnapshotFile(file, { extendedTypesEnabled: true }).tree), nodeView(w.tree));
  const whole = readFileSync(file);
  writeFileSync(file + '.gz', gzipSync(whole));
  assert.deepEqual(nodeView(readSnapshotFile(file + '.gz', { extendedTypesEnabled: true }).tree), nodeView(w.tree));
  writeFileSync(file, whole.subarray(0, whole.length - 1));
  assert.throws(() => readSnapshotFile(file), /truncated/);
  const again = await writeSnapshotChunks(join(dir, 'version-2'), 5n, [whole.subarray(0, 10), whole.subarray(10)]);
  assert.ok(readFileSync(again).equals(whole));
});

test('ZooKeeper\'s SnapshotFormatter reads a zkts snapshot as the same tree', { skip: javaMissing() ?? undefined }, async (t) => {
  const dir = tempDir(t);
  const w = builtTree(21, 1500);
  const file = await writeSnapshot(w.tree, w.sessions, w.tree.lastProcessedZxid, dir);
  const printed = parseFormatterOutput(runSnapshotFormatter(file));
  assert.deepEqual(printed, formatterViewOf(w.tree, w.sessions));
});

test('with zookeeper.digest.enabled=false a snapshot is sealed without a digest, and the log without any', async (t) => {
  const dir = tempDir(t);
  const data = await DataDir.open({ dataDir: dir, digestEnabled: false, log: () => {} });
  const tree = data.initial.tree;
  assert.equal(tree.digestEnabled, false);
  const pending = new PendingDigests(tree);
  const hdr = { clientId: 0n, cxid: 1, zxid: 1n, time: 1_700_000_000_000, type: OpCode.create };
  const txn: Txn = { type: OpCode.create, path: '/a', data: Buffer.from('x'), acl: OPEN, ephemeral: false, parentCVersion: -1 };
  const digest = pending.next(hdr, txn);
  assert.equal(digest, null);
  await committed(data, { hdr, txn, digest });
  tree.processTxn(hdr, txn);
  data.attach({ tree, sessions: { sessions: new Map() } });
  const file = await data.snapshot();
  await data.close();
  assert.ok(file !== null);
  const snap = readSnapshotFile(file);
  assert.equal(snap.digest, null, 'no ZxidDigest sealed in');
  assert.equal(snap.lastProcessedZxid, 1n);
  assert.deepEqual([...readTxnLog(join(dir, 'version-2'), 0n)].map((r) => r.digest), [null]);
  // Read back with digests on, the tree has its digest again; nothing was there to compare.
  const r = recover(dir, dir, { log: () => {} });
  assert.equal(r.tree.digest, treeDigest(r.tree));
  assert.equal(r.digest, 'none');
});
