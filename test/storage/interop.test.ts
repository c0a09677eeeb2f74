// interop.test.ts — zkts and Apache ZooKeeper 3.8 share data directories both ways:
// - a dataDir ZooKeeper 3.8 wrote (fixtures/zk38) recovers to exactly the tree ZooKeeper served,
//   as kazoo read it from ZooKeeper before the server was killed, with its sessions and digest;
// - ZooKeeper 3.8 starts on a dataDir zkts wrote (its snapshots written in slices while writes went
//   on) and serves the same tree, with no digest mismatch;
// - the zkts server keeps its tree across a restart and ZooKeeper serves it too.
// The last two run the real ZooKeeper (java) and kazoo; they skip with the reason when missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZkServer } from '../../src/server/zk-server.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { recover } from '../../src/storage/recovery.js';
import { testOptions } from '../server/start-server.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { PendingDigests } from '../../src/tree/pending-digest.js';
import type { Txn, TxnHeader } from '../../src/tree/txn.js';
import { committed, OPEN, runWorkload, tempDir } from './helpers.js';
import { javaMissing } from './zk-tools.js';
import { dumpOf, kazooDump, kazooMissing, parseDump, runKazoo, startZooKeeper } from './zk-process.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'zk38');
const skipReal = javaMissing() ?? kazooMissing() ?? undefined;

function assertSameDump(actual: Map<string, string>, expected: Map<string, string>, what: string): void {
  const diffs: string[] = [];
  for (const p of new Set([...actual.keys(), ...expected.keys()])) {
    if (actual.get(p) !== expected.get(p)) diffs.push(`${p}\n    actual   ${actual.get(p)}\n    expected ${expected.get(p)}`);
  }
  if (diffs.length > 0) assert.fail(`${what}: ${diffs.length} of ${expected.size} nodes differ:\n  ${diffs.slice(0, 5).join('\n  ')}`);
}

test('a dataDir written by ZooKeeper 3.8 recovers to the tree it served, sessions and digest included', (t) => {
  const dir = tempDir(t);
  cpSync(join(FIXTURE, 'version-2'), join(dir, 'version-2'), { recursive: true });
  const r = recover(dir, dir, { extendedTypesEnabled: true, log: () => {} });
  assert.equal(r.snapshotFile, join(dir, 'version-2', 'snapshot.23'));
  assert.equal(r.txnsReplayed, 9);
  assert.equal(r.lastZxid, 0x2cn);
  assert.equal(r.digest, 'match', 'the tree digest equals the ones ZooKeeper logged with its txns');
  assert.equal(r.digestMismatches, 0);
  assert.equal(r.tree.digestMismatches, 0);
  assertSameDump(dumpOf(r.tree), parseDump(readFileSync(join(FIXTURE, 'tree.json'), 'utf8')), 'recovered vs ZooKeeper');
  const sessions = JSON.parse(readFileSync(join(FIXTURE, 'sessions.json'), 'utf8')) as Record<string, number>;
  assert.deepEqual(r.sessions, new Map(Object.entries(sessions).map(([id, to]) => [BigInt(id), to])));
});

test('ZooKeeper 3.8 starts on a dataDir zkts wrote and serves the same tree', { skip: skipReal }, async (t) => {
  const dir = tempDir(t);
  // Long session timeouts: ZooKeeper restores the sessions and would expire them mid-dump. Every
  // snapshot is written a few nodes at a time while the workload goes on writing.
  const w = await runWorkload(dir, 31, 1500, { snapCount: 400, sessionTimeoutMs: 120000, interleaveSnapshots: 3 });
  assert.equal(w.tree.digestMismatches, 0, 'every digest logged matched the tree once applied');
  // zkts reads its own digests back: every txn's (and the snapshot's) matches.
  const back = recover(dir, dir, { extendedTypesEnabled: true, log: () => {} });
  assert.equal(back.digest, 'match');
  assert.equal(back.digestMismatches, 0);
  assert.ok(back.txnsReplayed > 0, 'txns with digests were replayed');
  const zk = await startZooKeeper(dir, dir);
  try {
    assertSameDump(await kazooDump(zk.port, join(dir, 'zk.json')), dumpOf(w.tree), 'ZooKeeper vs zkts');
    assert.equal((await zk.mntr()).get('zk_digest_mismatches_count'), '0');
  } finally {
    await zk.kill();
  }
});

test('the zkts server keeps its tree across a restart, and ZooKeeper 3.8 serves it too', { skip: skipReal }, async (t) => {
  const dir = tempDir(t);
  const opts = testOptions({ containerCheckIntervalMs: 100, minSessionTimeout: 2000 });
  const start = async (): Promise<{ server: ZkServer; data: DataDir; port: number }> => {
    const data = await DataDir.open({ dataDir: dir, extendedTypesEnabled: true, snapCount: 20, log: () => {} });
    const server = new ZkServer(opts, data, data.initial);
    data.attach(server);
    const { port } = await server.start();
    return { server, data, port };
  };
  const stop = async (s: { server: ZkServer; data: DataDir }): Promise<void> => {
    await s.server.stop();
    await s.data.close();
  };
  const first = await start();
  let before: Map<string, string>;
  try {
    await runKazoo(first.port, 'phase1');
    before = await kazooDump(first.port, join(dir, 'before.json'));
  } finally {
    await stop(first);
  }
  assert.ok(before.has('/app/cfg') && before.has('/ttl') && !before.has('/ctr'), 'the writes happened');
  const second = await start();
  try {
    assert.equal(second.data.initial.digest, 'match', 'the digests the server logged match on recovery');
    assert.equal(second.server.tree.digestMismatches, 0);
    assertSameDump(await kazooDump(second.port, join(dir, 'after.json')), before, 'zkts after restart');
  } finally {
    await stop(second);
  }
  const zk = await startZooKeeper(dir, dir);
  try {
    assertSameDump(await kazooDump(zk.port, join(dir, 'zk.json')), before, 'ZooKeeper on the zkts dataDir');
    assert.equal((await zk.mntr()).get('zk_digest_mismatches_count'), '0');
  } finally {
    await zk.kill();
  }
});

test('ZooKeeper 3.8 checks the digests zkts logs: one made wrong on purpose is counted, by both', { skip: skipReal }, async (t) => {
  const dir = tempDir(t);
  const d = await DataDir.open({ dataDir: dir, log: () => {} });
  const pending = new PendingDigests(d.initial.tree);
  const create = (zxid: bigint, path: string): [TxnHeader, Txn] => [
    { clientId: 0n, cxid: Number(zxid), zxid, time: 1_700_000_000_000, type: OpCode.create },
    { type: OpCode.create, path, data: Buffer.from('x'), acl: OPEN, ephemeral: false, parentCVersion: -1 },
  ];
  const [h1, t1] = create(1n, '/good');
  const [h2, t2] = create(2n, '/bad');
  const d1 = pending.next(h1, t1);
  const d2 = pending.next(h2, t2)!;
  await committed(d, { hdr: h1, txn: t1, digest: d1 });
  await committed(d, { hdr: h2, txn: t2, digest: { version: d2.version, treeDigest: d2.treeDigest + 1n } });
  await d.close();
  assert.equal(recover(dir, dir, { log: () => {} }).digestMismatches, 1);
  const zk = await startZooKeeper(dir, dir);
  try {
    // ruok answers before the data is loaded; mntr only once it serves.
    let m = await zk.mntr();
    for (let i = 0; i < 100 && !m.has('zk_digest_mismatches_count'); i++) {
      await new Promise((r) => setTimeout(r, 200));
      m = await zk.mntr();
    }
    assert.equal(m.get('zk_digest_mismatches_count'), '1');
  } finally {
    await zk.kill();
  }
});
