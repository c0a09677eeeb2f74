// The tree digest (ZAB.md §3.3): DataTree keeps it on every apply, PendingDigests works it out
// before apply for the log; both must equal the digest computed from scratch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../src/protocol/codes.js';
import { CreateFlag, OpCode } from '../../src/protocol/opcodes.js';
import type { Request } from '../../src/protocol/requests.js';
import { DataTree } from '../../src/tree/data-tree.js';
import { DIGEST_VERSION, nodeDigest, treeDigest, type TxnDigest } from '../../src/tree/digest.js';
import { PendingDigests } from '../../src/tree/pending-digest.js';
import type { Txn, TxnHeader } from '../../src/tree/txn.js';
import { Harness, OPEN } from './helpers.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['a', 'b', 'c', 'seq-', 'd'];
const SESSIONS = [0x101n, 0x202n, 0x303n];

/** A random write request over a small set of paths (many fail: they become error txns). */
function randomRequest(rnd: () => number, h: Harness): Request {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const existing = [...h.tree.paths()].filter((p) => !p.startsWith('/zookeeper'));
  const base = pick(existing);
  const child = (base === '/' ? '' : base) + '/' + pick(NAMES);
  const data = rnd() < 0.1 ? null : Buffer.from('x'.repeat(Math.floor(rnd() * 40)));
  const r = rnd();
  if (r < 0.4) {
    const flags = pick([CreateFlag.PERSISTENT, CreateFlag.EPHEMERAL, CreateFlag.PERSISTENT_SEQUENTIAL, CreateFlag.EPHEMERAL_SEQUENTIAL, CreateFlag.CONTAINER, CreateFlag.PERSISTENT_WITH_TTL]);
    const type = flags === CreateFlag.CONTAINER ? OpCode.createContainer : flags === CreateFlag.PERSISTENT_WITH_TTL ? OpCode.createTTL : pick([OpCode.create, OpCode.create2]);
    return { type, path: child, data, acl: OPEN, flags, ttl: type === OpCode.createTTL ? 5000n : -1n } as Request;
  }
  if (r < 0.55) return { type: OpCode.delete, path: pick(existing), version: -1 };
  if (r < 0.75) return { type: OpCode.setData, path: pick(existing), data, version: -1 };
  if (r < 0.82) return { type: OpCode.setACL, path: pick(existing), acl: OPEN, version: -1 };
  if (r < 0.95) {
    const ops: Request[] = [];
    for (let i = 1 + Math.floor(rnd() * 3); i > 0; i--) {
      const op = randomRequest(rnd, h);
      if (op.type !== OpCode.multi && op.type !== OpCode.setACL && op.type !== OpCode.closeSession) ops.push(op);
    }
    if (rnd() < 0.3) ops.push({ type: OpCode.check, path: pick(existing), version: rnd() < 0.5 ? -1 : 7 });
    return { type: OpCode.multi, ops };
  }
  return { type: OpCode.closeSession } as Request;
}

interface Prepped {
  hdr: TxnHeader;
  txn: Txn;
  digest: TxnDigest | null;
}

/**
 * Preps random writes as the server does, `window` of them ahead of apply, each with the digest
 * PendingDigests gives it before it is applied; applies them in order, comparing.
 */
function run(seed: number, steps: number, window: number, extendedTypesEnabled: boolean): Harness {
  const rnd = rng(seed);
  const h = new Harness({ extendedTypesEnabled });
  const pending = new PendingDigests(h.tree);
  const queue: Prepped[] = [];
  const applyOne = (): void => {
    const p = queue.shift()!;
    h.tree.processTxn(p.hdr, p.txn, p.digest);
    h.changes.applied(p.hdr.zxid);
    assert.equal(h.tree.digest, treeDigest(h.tree), `seed ${seed}: incremental digest after zxid ${p.hdr.zxid}`);
  };
  for (let i = 0; i < steps; i++) {
    const req = randomRequest(rnd, h);
    const sessionId = SESSIONS[Math.floor(rnd() * SESSIONS.length)]!;
    const zxid = ++h.zxid;
    const txn = h.prep.prep(req, { sessionId, authIds: [], zxid });
    const type = txn.type === OpCode.error ? OpCode.error : req.type;
    const hdr = { clientId: sessionId, cxid: i, zxid, time: 1_700_000_000_000 + i, type };
    queue.push({ hdr, txn, digest: pending.next(hdr, txn) });
    while (queue.length > window || (queue.length > 0 && rnd() < 0.3)) applyOne();
  }
  while (queue.length > 0) applyOne();
  assert.equal(h.tree.digestMismatches, 0, `seed ${seed}: every precalculated digest matched the tree's`);
  return h;
}

test('after random txns the incremental digest equals the one from scratch, and so does the digest worked out before apply', () => {
  let nodes = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const h = run(seed, 300, 1 + (seed % 8), seed % 2 === 0);
    nodes += h.tree.nodeCount;
  }
  assert.ok(nodes > 40 * 10, `the random trees grew (${nodes} nodes in all)`);
});

test('nodes under /zookeeper/ count 0, /zookeeper itself counts, the root hashes as ""', () => {
  const t = new DataTree();
  assert.equal(nodeDigest('/zookeeper/quota', t.get('/zookeeper/quota')!), 0);
  assert.notEqual(nodeDigest('/zookeeper', t.get('/zookeeper')!), 0);
  const root = t.get('/')!;
  assert.equal(t.digest, BigInt(nodeDigest('/', root) + nodeDigest('/zookeeper', t.get('/zookeeper')!)));
  // A change under /zookeeper/ leaves the digest as it was.
  const before = t.digest;
  t.processTxn({ clientId: 0n, cxid: 0, zxid: 1n, time: 1, type: OpCode.setData }, { type: OpCode.setData, path: '/zookeeper/config', data: Buffer.from('x'), version: 1 });
  assert.equal(t.digest, before);
});

test('replay repairs over a fuzzy snapshot keep the digest: a create that finds its node, a delete of a node gone', () => {
  const t = new DataTree();
  const hdr = (zxid: bigint, type: number): TxnHeader => ({ clientId: 0n, cxid: 0, zxid, time: Number(zxid), type });
  t.processTxn(hdr(1n, OpCode.create), { type: OpCode.create, path: '/p', data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 });
  t.processTxn(hdr(2n, OpCode.create), { type: OpCode.create, path: '/p/c', data: Buffer.from('d'), acl: OPEN, ephemeral: false, parentCVersion: 1 });
  // The create again, with a higher parentCVersion: NodeExists, but the parent moves up (ZOOKEEPER-1046).
  const rc = t.processTxn(hdr(5n, OpCode.create), { type: OpCode.create, path: '/p/c', data: null, acl: OPEN, ephemeral: false, parentCVersion: 4 });
  assert.equal(rc.err, Code.NodeExists);
  assert.equal(t.get('/p')!.cversion, 4);
  assert.equal(t.get('/p')!.pzxid, 5n);
  assert.equal(t.digest, treeDigest(t));
  // A delete of a node already gone: NoNode, and the parent's pzxid still moves up (ZOOKEEPER-3125).
  const del = t.processTxn(hdr(7n, OpCode.delete), { type: OpCode.delete, path: '/p/gone' });
  assert.equal(del.err, Code.NoNode);
  assert.equal(t.get('/p')!.pzxid, 7n);
  assert.equal(t.digest, treeDigest(t));
});

test('a txn digest the tree does not match is counted and reported with its zxid and both values', () => {
  const t = new DataTree();
  const seen: string[] = [];
  t.onDigestMismatch = (zxid, expected, actual, count) => seen.push(`${zxid} ${expected} ${actual} ${count}`);
  const create = (zxid: bigint, path: string, digest: TxnDigest): void => {
    t.processTxn({ clientId: 0n, cxid: 0, zxid, time: 1, type: OpCode.create }, { type: OpCode.create, path, data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 }, digest);
  };
  const pending = new PendingDigests(t);
  const h1 = { clientId: 0n, cxid: 0, zxid: 1n, time: 1, type: OpCode.create };
  const good = pending.next(h1, { type: OpCode.create, path: '/a', data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 })!;
  create(1n, '/a', good);
  assert.equal(t.digestMismatches, 0);
  create(2n, '/b', { version: DIGEST_VERSION, treeDigest: 42n });
  assert.equal(t.digestMismatches, 1);
  assert.deepEqual(seen, [`2 42 ${t.digest} 1`]);
  // Another digest version is not compared (DataTree.compareDigest).
  create(3n, '/c', { version: 1, treeDigest: 42n });
  assert.equal(t.digestMismatches, 1);
});

test('with zookeeper.digest.enabled=false no digest is kept or given', () => {
  const t = new DataTree({ digestEnabled: false });
  const pending = new PendingDigests(t);
  const hdr = { clientId: 0n, cxid: 0, zxid: 1n, time: 1, type: OpCode.create };
  const txn: Txn = { type: OpCode.create, path: '/a', data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 };
  assert.equal(pending.next(hdr, txn), null);
  t.processTxn(hdr, txn, { version: DIGEST_VERSION, treeDigest: 42n });
  assert.equal(t.digest, 0n);
  assert.equal(t.digestMismatches, 0);
  assert.deepEqual(t.digestLog, []);
});

test('error txns carry no digest; the digest log keeps every 128th zxid', () => {
  const t = new DataTree();
  const pending = new PendingDigests(t);
  assert.equal(pending.next({ clientId: 0n, cxid: 0, zxid: 1n, time: 1, type: OpCode.error }, { type: OpCode.error, err: Code.NoNode }), null);
  for (let z = 1n; z <= 300n; z++) {
    t.processTxn({ clientId: 0n, cxid: 0, zxid: z, time: 1, type: OpCode.create }, { type: OpCode.create, path: `/n${z}`, data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 });
  }
  assert.deepEqual(t.digestLog.map((d) => d.zxid), [128n, 256n]);
});

test('the JS CRC32 equals zlib for buffers and strings of every short length, ASCII or not', async () => {
  const { crc32: zlibCrc32 } = await import('node:zlib');
  const { crc32, digestCrcOf } = await import('../../src/tree/digest.js');
  const rnd = rng(7);
  for (let len = 0; len <= 300; len++) {
    const b = Buffer.alloc(len);
    for (let i = 0; i < len; i++) b[i] = Math.floor(rnd() * 256);
    const seed = Math.floor(rnd() * 2 ** 32);
    assert.equal(crc32(b, seed), zlibCrc32(b, seed), `buffer of ${len}`);
  }
  for (const path of ['/a', '/zookeeper', '/é/日本', '/' + 'x'.repeat(200), '/' + 'y'.repeat(127) + 'é']) {
    assert.equal(digestCrcOf(path, null), zlibCrc32(path), path);
  }
});
