// node-store.test.ts — the columnar node store against a plain Map model: random creates,
// deletes, data and stat changes, lookups and child listings, with ids reused and the arena
// compacted; data views handed out must never change.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NONE, NodeStore, ROOT } from '../../src/tree/node-store.js';

interface ModelNode {
  data: Buffer | null;
  acl: number;
  czxid: bigint;
  mzxid: bigint;
  pzxid: bigint;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  owner: bigint;
  children: string[];
}

const NAMES = ['a', 'b', 'n-000001', 'n-000002', 'é', '日本', '🙂x', 'p-001', 'x'.repeat(130), 'a b', 'ab'];
const OWNERS = [0n, 0x01000a3b2c0001n, -0x8000000000000000n, -1n, 0x7fffffffffffffffn];

const childPath = (p: string, name: string): string => (p === '/' ? `/${name}` : `${p}/${name}`);

function dataOf(kind: number, seed: number): Buffer | null {
  switch (kind % 6) {
    case 0:
      return null;
    case 1:
      return Buffer.alloc(0);
    case 2:
      return Buffer.from([seed & 0xff, 1, 2]);
    case 3:
      return Buffer.alloc(100, seed & 0xff);
    case 4:
      return Buffer.alloc(200, (seed * 7) & 0xff); // a two-byte length
    default:
      return Buffer.alloc(1500, (seed * 3) & 0xff); // over a quarter of a small chunk: a chunk of its own
  }
}

function expectNode(s: NodeStore, path: string, m: ModelNode): void {
  const id = s.lookup(path);
  assert.notEqual(id, NONE, `${path} missing`);
  assert.equal(s.path(id), path);
  assert.deepEqual(s.data(id), m.data, `${path} data`);
  assert.equal(s.dataLength(id), m.data === null ? 0 : m.data.length);
  assert.equal(s.acl(id), m.acl);
  assert.equal(s.czxid(id), m.czxid);
  assert.equal(s.mzxid(id), m.mzxid);
  assert.equal(s.pzxid(id), m.pzxid);
  assert.equal(s.ctime(id), m.ctime);
  assert.equal(s.mtime(id), m.mtime);
  assert.equal(s.version(id), m.version);
  assert.equal(s.cversion(id), m.cversion);
  assert.equal(s.aversion(id), m.aversion);
  assert.equal(s.ephemeralOwner(id), m.owner);
  assert.deepEqual(s.childNames(id), m.children, `${path} children`);
  assert.equal(s.numChildren(id), m.children.length);
}

type Op = [kind: number, a: number, b: number, c: number];

function runModel(ops: Op[], chunkBytes: number): void {
  const s = new NodeStore({ chunkBytes });
  const model = new Map<string, ModelNode>();
  model.set('/', { data: Buffer.alloc(0), acl: 0, czxid: 0n, mzxid: 0n, pzxid: 0n, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, owner: 0n, children: [] });
  const views: { view: Buffer; copy: Buffer }[] = [];
  let maxSize = 1;
  let zxid = 1n;
  const pick = (k: number): string => {
    const paths = [...model.keys()];
    return paths[k % paths.length]!;
  };
  for (const [kind, a, b, c] of ops) {
    zxid++;
    switch (kind % 7) {
      case 0:
      case 1: {
        // create (twice as likely: trees grow)
        const parent = pick(a);
        const name = NAMES[b % NAMES.length]!;
        const path = childPath(parent, name);
        const data = dataOf(c, b);
        const owner = OWNERS[c % OWNERS.length]!;
        const id = s.create(s.lookup(parent), name, data, b % 3, zxid, 1000 + Number(zxid), owner);
        if (model.has(path)) {
          assert.equal(id, NONE, `create of existing ${path}`);
          break;
        }
        assert.notEqual(id, NONE);
        model.get(parent)!.children.push(name);
        model.set(path, { data, acl: b % 3, czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: 1000 + Number(zxid), mtime: 1000 + Number(zxid), version: 0, cversion: 0, aversion: 0, owner, children: [] });
        maxSize = Math.max(maxSize, model.size);
        break;
      }
      case 2: {
        // delete a leaf
        const path = pick(a);
        const m = model.get(path)!;
        if (path === '/' || m.children.length > 0) break;
        s.remove(s.lookup(path));
        model.delete(path);
        const parent = model.get(path.substring(0, path.lastIndexOf('/')) || '/')!;
        parent.children.splice(parent.children.indexOf(path.substring(path.lastIndexOf('/') + 1)), 1);
        assert.equal(s.lookup(path), NONE);
        break;
      }
      case 3: {
        const path = pick(a);
        const id = s.lookup(path);
        const old = s.data(id);
        if (old !== null) views.push({ view: old, copy: Buffer.from(old) });
        const data = dataOf(b, c);
        s.setData(id, data);
        const m = model.get(path)!;
        m.data = data;
        s.setMzxid(id, zxid);
        m.mzxid = zxid;
        s.setMtime(id, c);
        m.mtime = c;
        s.setVersion(id, m.version + 1);
        m.version++;
        break;
      }
      case 4: {
        const path = pick(a);
        const id = s.lookup(path);
        const m = model.get(path)!;
        const v = (c % 5) - 1;
        switch (b % 4) {
          case 0:
            s.setCversion(id, v);
            m.cversion = v;
            s.setPzxid(id, zxid);
            m.pzxid = zxid;
            break;
          case 1:
            s.setAversion(id, v);
            m.aversion = v;
            break;
          case 2:
            s.setAcl(id, c % 4);
            m.acl = c % 4;
            break;
          default:
            assert.equal(s.child(s.lookup(path === '/' ? '/' : path.substring(0, path.lastIndexOf('/')) || '/'), path.substring(path.lastIndexOf('/') + 1) || 'none'), path === '/' ? NONE : id);
        }
        break;
      }
      case 5:
        s.compact();
        break;
      default: {
        // lookups of paths that are not there
        const p = pick(a);
        assert.equal(s.lookup(childPath(p, `missing-${b}`)), NONE);
        assert.equal(s.lookup(p + '/'), NONE);
      }
    }
    s.check();
  }
  assert.equal(s.size, model.size);
  for (const [path, m] of model) expectNode(s, path, m);
  for (const { view, copy } of views) assert.deepEqual(view, copy, 'a data view changed');
  const walked: string[] = [];
  s.walk((id, path) => {
    assert.equal(s.lookup(path), id);
    walked.push(path);
  });
  assert.deepEqual(walked.sort(), [...model.keys()].sort());
  // Ids are reused: never more ids than the most nodes there were at once.
  let maxId = 0;
  s.walk((id) => (maxId = Math.max(maxId, id)));
  assert.ok(maxId < maxSize, `id ${maxId} with at most ${maxSize} nodes`);
}

const op = fc.tuple(fc.nat(40), fc.nat(1000), fc.nat(1000), fc.nat(1000));

describe('NodeStore', () => {
  it('matches a Map model under random operations (small chunks: compaction all the time)', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => runModel(ops, 4096)), { numRuns: 150 });
  });

  it('matches a Map model with the default chunk size', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => runModel(ops, 1 << 20)), { numRuns: 40 });
  });

  it('a stat setter that allocates the ext row (growing the ext columns) keeps its value', () => {
    const s = new NodeStore();
    const ids: number[] = [];
    for (let i = 0; i < 100; i++) ids.push(s.create(ROOT, `n${i}`, null, 0, BigInt(i), i, 0n));
    const setters = [
      (id: number, i: number) => s.setMtime(id, 1000 + i),
      (id: number, i: number) => s.setMzxid(id, BigInt(1000 + i)),
      (id: number, i: number) => s.setPzxid(id, BigInt(1000 + i)),
      (id: number, i: number) => s.setVersion(id, 1000 + i),
      (id: number, i: number) => s.setCversion(id, 1000 + i),
      (id: number, i: number) => s.setAversion(id, 1000 + i),
    ];
    const getters = [s.mtime, s.mzxid, s.pzxid, s.version, s.cversion, s.aversion].map((g) => g.bind(s));
    for (let k = 0; k < setters.length; k++) {
      const t = new NodeStore();
      const tids: number[] = [];
      for (let i = 0; i < 100; i++) tids.push(t.create(ROOT, `n${i}`, null, 0, BigInt(i), i, 0n));
      const set = [
        (id: number, v: number) => t.setMtime(id, v),
        (id: number, v: number) => t.setMzxid(id, BigInt(v)),
        (id: number, v: number) => t.setPzxid(id, BigInt(v)),
        (id: number, v: number) => t.setVersion(id, v),
        (id: number, v: number) => t.setCversion(id, v),
        (id: number, v: number) => t.setAversion(id, v),
      ][k]!;
      const get = [t.mtime, t.mzxid, t.pzxid, t.version, t.cversion, t.aversion][k]!.bind(t);
      tids.forEach((id, i) => set(id, 1000 + i));
      tids.forEach((id, i) => assert.equal(Number(get(id)), 1000 + i, `setter ${k} on node ${i}`));
    }
    ids.forEach((id, i) => setters[i % 6]!(id, i));
    ids.forEach((id, i) => assert.equal(Number(getters[i % 6]!(id)), 1000 + i));
  });

  it('keeps null and empty data apart', () => {
    const s = new NodeStore();
    const a = s.create(ROOT, 'a', null, 0, 1n, 1, 0n);
    const b = s.create(ROOT, 'b', Buffer.alloc(0), 0, 1n, 1, 0n);
    assert.equal(s.data(a), null);
    assert.deepEqual(s.data(b), Buffer.alloc(0));
    s.setData(a, Buffer.alloc(0));
    s.setData(b, null);
    assert.deepEqual(s.data(a), Buffer.alloc(0));
    assert.equal(s.data(b), null);
  });

  it('keeps full 64-bit zxids and owners', () => {
    const s = new NodeStore();
    const id = s.create(ROOT, 'e', null, 0, 0x7fffffff00000001n, 1_700_000_000_123, -0x100000000000000n);
    assert.equal(s.czxid(id), 0x7fffffff00000001n);
    assert.equal(s.mzxid(id), 0x7fffffff00000001n);
    assert.equal(s.ephemeralOwner(id), -0x100000000000000n);
    assert.equal(s.mtime(id), 1_700_000_000_123);
  });

  it('unlinks from the middle of a long child list and keeps creation order', () => {
    const s = new NodeStore({ chunkBytes: 1024 });
    const q = s.create(ROOT, 'q', null, 0, 1n, 1, 0n);
    const ids: number[] = [];
    for (let i = 0; i < 5000; i++) ids.push(s.create(q, `item-${String(i).padStart(10, '0')}`, Buffer.from([i & 0xff]), 0, BigInt(i + 2), 1, 0n));
    for (let i = 0; i < 5000; i += 2) s.remove(ids[i]!);
    s.check();
    const names = s.childNames(q);
    assert.equal(names.length, 2500);
    assert.equal(names[0], 'item-0000000001');
    assert.equal(names[2499], 'item-0000004999');
    const again = s.create(q, 'item-0000000000', null, 0, 9999n, 1, 0n);
    assert.ok(ids.includes(again), 'a freed id is reused');
    assert.equal(s.childNames(q).at(-1), 'item-0000000000', 'a re-created name goes to the end');
    for (let i = 1; i < 5000; i += 4) s.remove(ids[i]!);
    s.check();
    assert.equal(s.childNames(q)[0], 'item-0000000003');
    const m = s.memory();
    assert.ok(m.arenaBytes < 2 * m.liveRecordBytes + 2048, `arena ${m.arenaBytes} B for ${m.liveRecordBytes} live: compacted`);
  });

  it('load replaces a node listed twice and stores ext fields only when not defaults', () => {
    const s = new NodeStore();
    const f = { data: Buffer.from('x'), czxid: 5n, mzxid: 5n, pzxid: 5n, ctime: 7, mtime: 7, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n };
    const id = s.load(ROOT, 'a', f, 1);
    assert.equal(s.memory().extRows, 1, 'only the root got an ext row (it has a child)');
    const again = s.load(ROOT, 'a', { ...f, data: null, mzxid: 9n, version: 3 }, 1);
    assert.equal(again, id);
    assert.equal(s.size, 2);
    assert.equal(s.data(id), null);
    assert.equal(s.mzxid(id), 9n);
    assert.equal(s.version(id), 3);
    assert.equal(s.load(NONE, '', f, 2), ROOT);
    assert.equal(s.acl(ROOT), 2);
    s.check();
  });

  it('clear leaves a bare root', () => {
    const s = new NodeStore();
    s.create(s.create(ROOT, 'a', null, 0, 1n, 1, 0n), 'b', null, 0, 2n, 1, 0n);
    s.clear();
    assert.equal(s.size, 1);
    assert.equal(s.lookup('/a'), NONE);
    assert.deepEqual(s.childNames(ROOT), []);
    s.check();
  });
});
