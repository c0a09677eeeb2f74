// txn-codec.test.ts — txn bytes against logs written by Apache ZooKeeper 3.8 itself
// (fixtures/zk38, made by tools/capture-zk38-datadir.sh): every entry decodes, re-encodes to the
// very same bytes, and agrees with ZooKeeper's own dump tool (TxnLogToolkit); plus round trips of
// arbitrary txns and the lenient cases (CreateTxnV0, body-less closeSession).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { JuteDecodeError, JuteWriter } from '../../src/protocol/jute.js';
import { OpCode, opName } from '../../src/protocol/opcodes.js';
import type { Txn, TxnHeader } from '../../src/tree/txn.js';
import { adler32 } from '../../src/storage/adler32.js';
import { decodeTxnEntry, encodeTxnEntry, writeTxnHeader, type TxnEntry } from '../../src/storage/txn-codec.js';
import { readTxnLog, type LogRecord } from '../../src/storage/txn-log-reader.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'zk38');
const LOGS = join(FIXTURE, 'version-2');
const records: LogRecord[] = [...readTxnLog(LOGS, 0n)];

test('adler32 matches known values and runs across chunks', () => {
  assert.equal(adler32(Buffer.from('Wikipedia')), 0x11e60398);
  assert.equal(adler32(Buffer.alloc(0)), 1);
  const big = Buffer.alloc(100_000, 0xff);
  assert.equal(adler32(big.subarray(50_000), adler32(big.subarray(0, 50_000))), adler32(big));
});

test('adler32 equals the definition (sums mod 65521 after every byte) on all-0xff runs from any state', () => {
  // The worst case for the deferred reduction: every byte 0xff, sums starting at their maximum.
  const naive = (buf: Uint8Array, start: number): number => {
    let a = start & 0xffff;
    let b = start >>> 16;
    for (const x of buf) {
      a = (a + x) % 65521;
      b = (b + a) % 65521;
    }
    return ((b << 16) | a) >>> 0;
  };
  const ff = Buffer.alloc(20_000, 0xff);
  for (const start of [1, 0xfff0fff0 >>> 0, ((65520 << 16) | 65520) >>> 0]) {
    for (const n of [1, 15, 16, 3799, 3800, 3801, 5552, 7600, 20_000]) {
      assert.equal(adler32(ff.subarray(0, n), start), naive(ff.subarray(0, n), start), `start ${start.toString(16)}, ${n} bytes`);
    }
  }
  const mixed = Buffer.alloc(50_000);
  for (let i = 0; i < mixed.length; i++) mixed[i] = (i * 2654435761) >>> 24;
  assert.equal(adler32(mixed, 7, 123, 45_678), naive(mixed.subarray(123, 45_678), 7));
});

test('the ZooKeeper 3.8 fixture logs hold every txn type', () => {
  const types = new Set<number>();
  for (const r of records) {
    types.add(r.hdr.type);
    if (r.txn.type === OpCode.multi) for (const t of r.txn.txns) types.add(t.type);
  }
  for (const t of [
    OpCode.createSession, OpCode.closeSession, OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL,
    OpCode.delete, OpCode.deleteContainer, OpCode.setData, OpCode.setACL, OpCode.check, OpCode.multi, OpCode.error,
  ]) {
    assert.ok(types.has(t), `fixture lacks ${opName(t)}`);
  }
  assert.equal(records.length, 44);
});

test('every entry ZooKeeper wrote re-encodes to the same bytes, digest included', () => {
  for (const r of records) {
    const file = readFileSync(r.file);
    const original = file.subarray(r.offset + 12, r.offset + r.entryBytes - 1);
    const again = encodeTxnEntry(r.hdr, r.txn, r.digest);
    assert.ok(again.equals(original), `entry at ${r.file}@${r.offset} (zxid ${r.hdr.zxid}) differs`);
    assert.equal(r.digest === null, r.hdr.type === OpCode.error, 'ZooKeeper writes a digest on every non-error txn');
  }
});

/** Java's DateFormat SHORT date, LONG time in UTC, as TxnLogToolkit prints it. */
function javaTime(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${two(d.getUTCFullYear() % 100)}, ${h % 12 === 0 ? 12 : h % 12}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'} UTC`;
}

function zkOpName(type: number): string {
  return type === OpCode.createTTL ? 'createTtl' : opName(type);
}

/** The part of a TxnLogToolkit line that identifies the txn's content unambiguously. */
function expectedDetail(e: TxnEntry): string | null {
  const t = e.txn;
  switch (t.type) {
    case OpCode.createSession:
      return String(t.timeOut);
    case OpCode.error:
      return String(t.err);
    case OpCode.closeSession:
      return t.paths2Delete === null ? null : `v{${t.paths2Delete.map((p) => `'${p}`).join(',')}}`;
    case OpCode.delete:
    case OpCode.deleteContainer:
      return `'${t.path}`;
    case OpCode.setACL:
      return `'${t.path},v{${t.acl.map((a) => `s{${a.perms},s{'${a.id.scheme},'${a.id.id}}}`).join(',')}},${t.version}`;
    case OpCode.setData:
      return `${t.path},${t.data?.toString('latin1') ?? ''},${t.version}`;
    case OpCode.create:
    case OpCode.create2:
      return `${t.path},${t.data?.toString('utf8') ?? ''},`;
    case OpCode.createContainer:
    case OpCode.createTTL:
      return `${t.path},${t.data?.toString('utf8') ?? ''},`;
    case OpCode.multi:
      return null;
    default:
      return null;
  }
}

test('decoded entries agree with ZooKeeper\'s TxnLogToolkit dump', () => {
  const entry = /^(\d+\/\d+\/\d+, \d+:\d\d:\d\d [AP]M UTC) session (0x[0-9a-f]+) cxid (0x[0-9a-f]+) zxid (0x[0-9a-f]+) (\w+)(?: (.*))?$/s;
  const dumped: RegExpExecArray[] = [];
  for (const name of ['log.1', 'log.24']) {
    const text = readFileSync(join(FIXTURE, `${name}.TxnLogToolkit.txt`), 'latin1').replace(/\u202f/g, ' ');
    // An entry runs on until the next line that starts with a date (ACLs print with newlines).
    for (const chunk of text.split(/\n(?=\d+\/\d+\/\d+, )/)) {
      const m = entry.exec(chunk.replace(/\nEOF reached.*$/s, ''));
      if (m) dumped.push(m);
    }
  }
  assert.equal(dumped.length, records.length);
  records.forEach((r, i) => {
    const m = dumped[i]!;
    const where = `zxid 0x${r.hdr.zxid.toString(16)}`;
    assert.equal(m[1], javaTime(r.hdr.time), where);
    assert.equal(m[2], '0x' + r.hdr.clientId.toString(16), where);
    assert.equal(m[3], '0x' + r.hdr.cxid.toString(16), where);
    assert.equal(m[4], '0x' + r.hdr.zxid.toString(16), where);
    assert.equal(m[5], zkOpName(r.hdr.type), where);
    const detail = expectedDetail(r);
    if (detail !== null) assert.ok((m[6] ?? '').startsWith(detail), `${where}: "${m[6]}" does not start with "${detail}"`);
    if (r.txn.type === OpCode.multi) {
      const ops = [...(m[6] ?? '').matchAll(/(?:^|;)(\w+):/g)].map((x) => x[1]);
      assert.deepEqual(ops, r.txn.txns.map((t) => zkOpName(t.type)), where);
    }
  });
});

// fast-check builds null-prototype objects by default; decoded txns are plain ones.
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as unknown as fc.Arbitrary<T>;
}
const hdrArb = rec({
  clientId: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  cxid: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  zxid: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
  time: fc.integer({ min: 0, max: 2 ** 47 }),
  type: fc.constant(0),
});
// BMP only: jute writes other characters as CESU-8, which neither ZooKeeper nor zkts reads back.
const path = fc.stringMatching(/^\/[a-z0-9\u00e9\u4e2d]{1,12}$/);
const data = fc.option(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), { nil: null });
const acl = fc.array(rec({ perms: fc.integer({ min: 0, max: 31 }), id: rec({ scheme: fc.constantFrom('world', 'digest', 'ip'), id: fc.string({ maxLength: 20 }) }) }), { maxLength: 3 });
const int = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const leaf: fc.Arbitrary<Txn> = fc.oneof(
  rec({ type: fc.constantFrom(OpCode.create, OpCode.create2), path, data, acl, ephemeral: fc.boolean(), parentCVersion: int }),
  rec({ type: fc.constant(OpCode.createContainer), path, data, acl, parentCVersion: int }),
  rec({ type: fc.constant(OpCode.createTTL), path, data, acl, parentCVersion: int, ttl: fc.bigInt({ min: 1n, max: 2n ** 40n - 1n }) }),
  rec({ type: fc.constantFrom(OpCode.delete, OpCode.deleteContainer), path }),
  rec({ type: fc.constant(OpCode.setData), path, data, version: int }),
  rec({ type: fc.constant(OpCode.setACL), path, acl, version: int }),
  rec({ type: fc.constant(OpCode.check), path, version: int }),
  rec({ type: fc.constant(OpCode.createSession), timeOut: int }),
  rec({ type: fc.constant(OpCode.closeSession), paths2Delete: fc.array(path, { maxLength: 4 }) }),
  rec({ type: fc.constant(OpCode.error), err: int }),
) as fc.Arbitrary<Txn>;
const txnArb: fc.Arbitrary<Txn> = fc.oneof(leaf, rec({ type: fc.constant(OpCode.multi), txns: fc.array(leaf, { maxLength: 4 }) }) as fc.Arbitrary<Txn>);
const digestArb = fc.option(rec({ version: fc.constant(2), treeDigest: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) }), { nil: null });

test('any txn survives encode then decode, with or without a digest', () => {
  fc.assert(
    fc.property(hdrArb, txnArb, digestArb, (h, txn, digest) => {
      const hdr: TxnHeader = { ...h, type: txn.type };
      const got = decodeTxnEntry(encodeTxnEntry(hdr, txn, digest));
      assert.deepEqual(got, { hdr, txn, digest });
    }),
    { numRuns: 500 },
  );
});

test('a header\'s time reads as Number() of the long written, negative and beyond 2^53 too', () => {
  const readTime = (t: bigint): number => {
    const w = new JuteWriter();
    w.long(1n).int(1).long(2n).long(t).int(OpCode.createSession).int(30000);
    return decodeTxnEntry(w.toBuffer()).hdr.time;
  };
  for (const t of [0n, -1n, 1n, 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n), 2n ** 53n + 1n, 2n ** 53n + 3n, 2n ** 63n - 1n, -(2n ** 63n), 0x7fffffff_ffffffffn - 1024n]) {
    assert.equal(readTime(t), Number(t), String(t));
  }
  fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (t) => readTime(t) === Number(t)), { numRuns: 2000 });
});

test('a reconfig header carries a SetDataTxn', () => {
  const hdr: TxnHeader = { clientId: 1n, cxid: 1, zxid: 5n, time: 9, type: OpCode.reconfig };
  const bytes = encodeTxnEntry(hdr, { type: OpCode.setData, path: '/zookeeper/config', data: Buffer.from('server.1=a'), version: 3 });
  assert.deepEqual(decodeTxnEntry(bytes).txn, { type: OpCode.setData, path: '/zookeeper/config', data: Buffer.from('server.1=a'), version: 3 });
});

test('CreateTxnV0 (no parentCVersion) reads as parentCVersion -1', () => {
  const w = new JuteWriter();
  writeTxnHeader(w, { clientId: 7n, cxid: 1, zxid: 2n, time: 3, type: OpCode.create });
  w.string('/old').buffer(Buffer.from('x')).int(1).int(31).string('world').string('anyone').bool(true);
  const e = decodeTxnEntry(w.toBuffer());
  assert.deepEqual(e.txn, { type: OpCode.create, path: '/old', data: Buffer.from('x'), acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], ephemeral: true, parentCVersion: -1 });
});

test('a closeSession without a body reads as body-less, with or without a digest', () => {
  const hdr: TxnHeader = { clientId: 7n, cxid: 0, zxid: 2n, time: 3, type: OpCode.closeSession };
  const bare = encodeTxnEntry(hdr, { type: OpCode.closeSession, paths2Delete: null });
  assert.equal(bare.length, 32);
  assert.deepEqual(decodeTxnEntry(bare), { hdr, txn: { type: OpCode.closeSession, paths2Delete: null }, digest: null });
  const withDigest = encodeTxnEntry(hdr, { type: OpCode.closeSession, paths2Delete: null }, { version: 2, treeDigest: 5n });
  assert.deepEqual(decodeTxnEntry(withDigest).txn, { type: OpCode.closeSession, paths2Delete: null });
  assert.deepEqual(decodeTxnEntry(withDigest).digest, { version: 2, treeDigest: 5n });
  const empty = encodeTxnEntry(hdr, { type: OpCode.closeSession, paths2Delete: [] }, { version: 2, treeDigest: 5n });
  assert.deepEqual(decodeTxnEntry(empty).txn, { type: OpCode.closeSession, paths2Delete: [] });
});

test('truncated txn bytes and unknown types are refused, never misread', () => {
  const full = records.find((r) => r.txn.type === OpCode.multi)!;
  const bytes = encodeTxnEntry(full.hdr, full.txn, null);
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.throws(() => decodeTxnEntry(bytes.subarray(0, cut)), JuteDecodeError, `cut at ${cut}`);
  }
  const w = new JuteWriter();
  writeTxnHeader(w, { clientId: 1n, cxid: 1, zxid: 1n, time: 1, type: OpCode.getData });
  assert.throws(() => decodeTxnEntry(w.toBuffer()), /unsupported txn type getData/);
});
