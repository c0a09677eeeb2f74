// dump-tools.test.ts — `zkts snapshot dump` and `zkts txnlog dump` print what ZooKeeper's own
// SnapshotFormatter and TxnLogToolkit print, byte for byte: on the dataDir ZooKeeper 3.8 wrote
// (test/storage/fixtures/zk38, whose tool outputs were captured from the real tools), and, when
// java and Debian's ZooKeeper jars are here, against the real tools run now on files zkts wrote
// from a seeded workload of every txn type, on crafted files (binary and non-UTF-8 data, many
// children and sessions so Java's HashSet/HashMap resize, control characters in names), and on
// damaged files (a flipped bit: "CRC ERROR - "; a cut log: "EOF reached"). Plus the JSON output
// and the command's usage and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { OpCode, Perm } from '../../src/protocol/opcodes.js';
import { listDataFiles } from '../../src/storage/data-files.js';
import { writeSnapshot } from '../../src/storage/recovery.js';
import { readTxnLog } from '../../src/storage/txn-log-reader.js';
import { TxnLogWriter } from '../../src/storage/txn-log.js';
import { DataTree } from '../../src/tree/data-tree.js';
import type { Txn, TxnHeader } from '../../src/tree/txn.js';
import { runWorkload, seeded, tempDir, OPEN } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'cli', 'main.js');
const FIXTURES = join(import.meta.dirname, 'fixtures', 'zk38');
const JAVA_CP = ['zookeeper.jar', 'zookeeper-jute.jar', 'slf4j-api.jar', 'slf4j-nop.jar', 'commons-cli.jar', 'metrics-core.jar', 'snappy-java.jar']
  .map((j) => `/usr/share/java/${j}`)
  .join(':');
const SNAPSHOT_FORMATTER = 'org.apache.zookeeper.server.SnapshotFormatter';
const TXN_LOG_TOOLKIT = 'org.apache.zookeeper.server.persistence.TxnLogToolkit';
const ENV = { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' };

function javaMissing(): string | false {
  const r = spawnSync('java', ['-cp', JAVA_CP, SNAPSHOT_FORMATTER], { encoding: 'utf8' });
  if (r.error) return `java is not installed (${r.error.message})`;
  if (/ClassNotFound|Could not find or load/.test(r.stderr)) return 'ZooKeeper 3.8 jars are not in /usr/share/java';
  return false;
}
const NO_JAVA = javaMissing();

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with a deadline; output as text (binary-safe through latin1 is not needed: both sides print UTF-8). */
function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: ENV });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

const zkts = (...args: string[]): Promise<Run> => run(process.execPath, [MAIN, ...args]);
const java = (cls: string, ...args: string[]): Promise<Run> => run('java', ['-cp', JAVA_CP, cls, ...args]);

/** Runs `jobs` at most `n` at a time. */
async function pool<T>(jobs: (() => Promise<T>)[], n = 4): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
  return out;
}

/** The first differing line of two outputs, for a readable failure. */
function assertSameText(actual: string, expected: string, what: string): void {
  if (actual === expected) return;
  const a = actual.split('\n');
  const e = expected.split('\n');
  let i = 0;
  while (i < a.length && i < e.length && a[i] === e[i]) i++;
  assert.fail(`${what}: first difference at line ${i + 1}:\n  zkts: ${JSON.stringify(a[i])}\n  java: ${JSON.stringify(e[i])}`);
}

/** Compares zkts's dump of each file with the Java tool's, in every text mode both have. */
async function compareWithJava(snapshots: string[], logs: string[]): Promise<void> {
  const jobs: (() => Promise<void>)[] = [];
  for (const f of snapshots) {
    for (const mode of [['-d'], []]) {
      jobs.push(async () => {
        const [z, j] = await Promise.all([zkts('snapshot', 'dump', ...mode, f), java(SNAPSHOT_FORMATTER, ...mode, f)]);
        assert.equal(j.status, 0, `SnapshotFormatter ${mode.join(' ')} ${f}: ${j.stderr}`);
        assert.equal(z.status, 0, `zkts snapshot dump ${f}: ${z.stderr}`);
        assertSameText(z.stdout, j.stdout, `snapshot dump ${mode.join(' ')} ${basename(f)}`);
      });
    }
    jobs.push(async () => {
      const [z, j] = await Promise.all([zkts('snapshot', 'dump', '--ncdu', f), java(SNAPSHOT_FORMATTER, '-json', f)]);
      const mask = (s: string): string => s.replace(/"timestamp":\d+/, '"timestamp":T');
      assertSameText(mask(z.stdout), mask(j.stdout), `snapshot dump --ncdu ${basename(f)}`);
    });
  }
  for (const f of logs) {
    jobs.push(async () => {
      const [z, j] = await Promise.all([zkts('txnlog', 'dump', f), java(TXN_LOG_TOOLKIT, '-d', f)]);
      assertSameText(z.stdout, j.stdout, `txnlog dump ${basename(f)}`);
    });
  }
  await pool(jobs);
}

test('the dumps of ZooKeeper 3.8 files equal the captured outputs of its own tools', async () => {
  assert.ok(existsSync(MAIN), `${MAIN} is missing: run npm run build`);
  for (const name of ['snapshot.0', 'snapshot.23']) {
    const r = await zkts('snapshot', 'dump', '-d', join(FIXTURES, 'version-2', name));
    assert.equal(r.status, 0, r.stderr);
    assertSameText(r.stdout, readFileSync(join(FIXTURES, `${name}.SnapshotFormatter.txt`), 'utf8'), name);
  }
  for (const name of ['log.1', 'log.24']) {
    const r = await zkts('txnlog', 'dump', join(FIXTURES, 'version-2', name));
    assert.equal(r.status, 0, r.stderr);
    assertSameText(r.stdout, readFileSync(join(FIXTURES, `${name}.TxnLogToolkit.txt`), 'utf8'), name);
  }
});

test('against the real tools: the ZooKeeper 3.8 fixture files', { skip: NO_JAVA }, async () => {
  const v2 = join(FIXTURES, 'version-2');
  await compareWithJava(['snapshot.0', 'snapshot.23'].map((f) => join(v2, f)), ['log.1', 'log.24'].map((f) => join(v2, f)));
});

test('against the real tools: files zkts wrote from a seeded workload of every txn type', { skip: NO_JAVA }, async (t) => {
  const dir = tempDir(t, 'zkts-dump-');
  await runWorkload(dir, 11, 700, { snapCount: 300 });
  const v2 = join(dir, 'version-2');
  const snaps = listDataFiles(v2, 'snapshot').map((f) => f.path);
  const logs = listDataFiles(v2, 'log').map((f) => f.path);
  assert.ok(snaps.length >= 2 && logs.length >= 2, `${snaps.length} snapshots, ${logs.length} logs`);
  await compareWithJava(snaps.slice(-3), logs.slice(-3));
});

const hdr = (zxid: bigint, type: number, clientId = 0x1234n, cxid = Number(zxid)): TxnHeader => ({ clientId, cxid, zxid, time: 1_700_000_000_000 + Number(zxid) * 60_000, type });

/**
 * A log of crafted txns: non-UTF-8 and binary data, escapes in paths, negative cxid, multis with
 * errors. (No top-level check: ZooKeeper logs none, and its SerializeUtils cannot read one.)
 */
async function craftedLog(dir: string): Promise<string> {
  const v2 = join(dir, 'version-2');
  mkdirSync(v2, { recursive: true });
  const w = new TxnLogWriter({ dir: v2, preAllocBytes: 4096 });
  const bin = Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xed, 0xbf, 0xbf, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0x0a]);
  const acl2 = [
    { perms: Perm.READ | Perm.WRITE, id: { scheme: 'digest', id: 'u,s}e%r:x' } },
    { perms: Perm.ALL, id: { scheme: 'ip', id: '10.0.0.0/8' } },
  ];
  const txns: [TxnHeader, Txn][] = [
    [hdr(1n, OpCode.createSession, 0x1234n, 0), { type: OpCode.createSession, timeOut: 30000 }],
    [hdr(2n, OpCode.create), { type: OpCode.create, path: '/bin', data: bin, acl: OPEN, ephemeral: false, parentCVersion: 1 }],
    [hdr(3n, OpCode.create2, 0x1234n, -2), { type: OpCode.create2, path: '/ünïcödé,%}', data: Buffer.from('héllo\nwörld'), acl: acl2, ephemeral: true, parentCVersion: 2 }],
    [hdr(4n, OpCode.setData), { type: OpCode.setData, path: '/bin', data: null, version: 1 }],
    [hdr(5n, OpCode.setACL), { type: OpCode.setACL, path: '/a,b}c%d\ne', acl: acl2, version: 3 }],
    [hdr(6n, OpCode.delete), { type: OpCode.delete, path: '/x\0y\rz' }],
    [hdr(7n, OpCode.setData), { type: OpCode.setData, path: '/bin', data: Buffer.from([0xc0, 0x80, 0xe0, 0x80]), version: -1 }],
    [hdr(8n, OpCode.createContainer), { type: OpCode.createContainer, path: '/ctr', data: Buffer.alloc(0), acl: [], parentCVersion: 3 }],
    [hdr(9n, OpCode.createTTL), { type: OpCode.createTTL, path: '/ttl', data: bin.subarray(0, 6), acl: OPEN, parentCVersion: 4, ttl: 0x7fffffffffn }],
    [hdr(10n, OpCode.deleteContainer, 0n, 0), { type: OpCode.deleteContainer, path: '/ctr' }],
    [hdr(11n, OpCode.error), { type: OpCode.error, err: -110 }],
    [
      hdr(12n, OpCode.multi),
      {
        type: OpCode.multi,
        txns: [
          { type: OpCode.create, path: '/m', data: bin, acl: acl2, ephemeral: false, parentCVersion: 5 },
          { type: OpCode.setData, path: '/m', data: Buffer.from('\u00ff\u0100'), version: 1 },
          { type: OpCode.check, path: '/m', version: 1 },
          { type: OpCode.delete, path: '/m' },
        ],
      },
    ],
    [hdr(13n, OpCode.multi), { type: OpCode.multi, txns: [{ type: OpCode.error, err: 0 }, { type: OpCode.error, err: -2 }] }],
    [hdr(14n, OpCode.closeSession, BigInt.asIntN(64, 0xfedcba9876543210n), 0), { type: OpCode.closeSession, paths2Delete: ['/ünïcödé,%}', '/b'] }],
    [hdr(15n, OpCode.closeSession, 0x1234n, 0), { type: OpCode.closeSession, paths2Delete: [] }],
  ];
  await Promise.all(txns.map(([h, t]) => new Promise<void>((resolve, reject) => w.append(h, t, (e) => (e ? reject(e) : resolve())))));
  await w.close();
  return listDataFiles(v2, 'log')[0]!.path;
}

/** A snapshot whose nodes have many children (HashSet resizes) and a large session table (HashMap resizes). */
async function craftedSnapshot(dir: string): Promise<string> {
  const tree = new DataTree({ extendedTypesEnabled: true });
  const rnd = seeded(77);
  const sessions = new Map<bigint, number>();
  for (let i = 0; i < 70; i++) sessions.set(BigInt.asIntN(64, (0x100000000000000n * BigInt(i % 5)) + BigInt(Math.floor(rnd() * 2 ** 40))), 4000 + i);
  let zxid = 0n;
  const create = (path: string, data: Buffer | null, ephemeralOwner = 0n): void => {
    zxid++;
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    tree.processTxn(
      { clientId: ephemeralOwner, cxid: 0, zxid, time: 1_700_000_000_000 + Number(zxid), type: OpCode.create },
      { type: OpCode.create, path, data, acl: OPEN, ephemeral: ephemeralOwner !== 0n, parentCVersion: (tree.get(parent)?.cversion ?? 0) + 1 },
    );
  };
  const ids = [...sessions.keys()];
  create('/wide', Buffer.from([0xed, 0xa0, 0x80]));
  for (let i = 0; i < 300; i++) {
    const name = i % 7 === 0 ? `n${i}-${'é'.repeat(i % 3)}` : i % 11 === 0 ? `c"t\\r\u0001l${i}` : `child-${Math.floor(rnd() * 1e9).toString(36)}`;
    create(`/wide/${name}`, rnd() < 0.3 ? null : Buffer.from(`v${i}`), i % 4 === 0 ? ids[i % ids.length]! : 0n);
  }
  for (let i = 0; i < 9; i++) create(`/few${i}`, Buffer.alloc(i * 100, i));
  const file = await writeSnapshot(tree, sessions, zxid, dir);
  return file;
}

test('against the real tools: crafted files (binary data, escapes, resizing hash tables)', { skip: NO_JAVA }, async (t) => {
  const dir = tempDir(t, 'zkts-dump-');
  const log = await craftedLog(join(dir, 'a'));
  const snap = await craftedSnapshot(join(dir, 'b'));
  await compareWithJava([snap], [log]);
});

test('against the real tools: damaged files (a flipped bit, a cut log)', { skip: NO_JAVA }, async (t) => {
  const dir = tempDir(t, 'zkts-dump-');
  await runWorkload(dir, 12, 120, { snapCount: 100000 });
  const v2 = join(dir, 'version-2');
  const log = listDataFiles(v2, 'log')[0]!.path;
  const recs = [...readTxnLog(v2, 0n)];
  const flipped = join(dir, 'flipped.log');
  const bytes = readFileSync(log);
  const victim = recs[Math.floor(recs.length / 2)]!;
  bytes[victim.offset + 12 + 20]! ^= 0x10; // inside the txn bytes: the checksum no longer matches
  writeFileSync(flipped, bytes);
  const cut = join(dir, 'cut.log');
  copyFileSync(log, cut);
  truncateSync(cut, recs[recs.length - 3]!.offset + 20);
  const z = await zkts('txnlog', 'dump', flipped);
  assert.match(z.stdout, /^CRC ERROR - /m);
  assert.match(z.stdout, /EOF reached after \d+ txns\.\n$/);
  await compareWithJava([], [flipped, cut]);
});

test('the JSON dumps hold every field and parse', async () => {
  const log = await zkts('txnlog', 'dump', '--json', join(FIXTURES, 'version-2', 'log.24'));
  assert.equal(log.status, 0, log.stderr);
  const l = JSON.parse(log.stdout) as { header: { magic: string }; txns: { zxid: string; type: string; txn: Record<string, unknown>; digest: unknown }[]; end: { kind: string; txns: number } };
  assert.equal(l.header.magic, '0x5a4b4c47');
  assert.equal(l.txns.length, 9);
  assert.deepEqual(l.end.kind, 'eof');
  assert.equal(l.txns[1]!.zxid, '0x25');
  assert.deepEqual(l.txns[1]!.txn.path, '/after');
  assert.equal(Buffer.from(l.txns[1]!.txn.data as string, 'base64').toString(), 'after restart');
  assert.ok(l.txns.every((x) => x.digest !== null), 'ZooKeeper 3.8 logs carry a TxnDigest on every txn');
  const snap = await zkts('snapshot', 'dump', '--json', join(FIXTURES, 'version-2', 'snapshot.23'));
  assert.equal(snap.status, 0, snap.stderr);
  const s = JSON.parse(snap.stdout) as { nodes: { path: string; data: string | null; ephemeralOwner: string }[]; sessions: { id: string; ephemerals: number }[]; seals: { ok: boolean }[]; lastZxid: string; problem: null };
  assert.ok(s.nodes.some((n) => n.path === '/keeper-eph' && n.ephemeralOwner === '0x100001b9e020000'));
  assert.deepEqual(s.sessions, [{ id: '0x100001b9e020000', timeoutMs: 10000, ephemerals: 1 }]);
  assert.ok(s.seals.length >= 2 && s.seals.every((x) => x.ok));
  assert.equal(s.lastZxid, '0x23');
  assert.equal(s.problem, null);
});

test('usage: --help, bad arguments, a missing file and a damaged snapshot', async (t) => {
  for (const args of [['snapshot', 'dump', '--help'], ['txnlog', 'dump', '-h'], ['snapshot', '--help']]) {
    const r = await zkts(...args);
    assert.equal(r.status, 0, args.join(' '));
    assert.match(r.stdout, /^usage: zkts (snapshot|txnlog) dump/);
  }
  for (const args of [['snapshot'], ['snapshot', 'dump'], ['txnlog', 'dump', '--bogus', 'x'], ['snapshot', 'dump', '-d', '--json', 'x'], ['txnlog', 'list']]) {
    const r = await zkts(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage: zkts/);
  }
  const missing = await zkts('txnlog', 'dump', '/nonexistent/log.1');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read \/nonexistent\/log\.1/);
  const top = await zkts('--help');
  assert.match(top.stdout, /snapshot dump/);
  assert.match(top.stdout, /txnlog dump/);
  const dir = tempDir(t, 'zkts-dump-');
  const broken = join(dir, 'snapshot.23');
  const bytes = readFileSync(join(FIXTURES, 'version-2', 'snapshot.23'));
  writeFileSync(broken, bytes.subarray(0, bytes.length - 40));
  const r = await zkts('snapshot', 'dump', broken);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /is damaged/);
  assert.match(r.stdout, /^ZNode Details/);
});
