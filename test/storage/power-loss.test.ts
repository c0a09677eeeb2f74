// power-loss.test.ts — after a power loss zkts restarts with every acknowledged write. A
// simulated disk (power-sim-disk.ts) keeps what was written apart from what was fsynced; at a
// random operation the power goes: unsynced bytes are dropped (or, per round, the first few
// unsynced sectors survive, as written back in order), and of the directory operations since the
// last directory fsync (new logs, snapshot renames, purges, recovery's own cuts) only a random
// prefix survives. Recovery of what is left must hold every acknowledged txn, and the tree must
// equal a replay of the history up to the recovered zxid. Each round is a chain of generations
// on one directory: power loss, recovery, more work, power loss again.
//
// Seeds: ZKTS_POWER_SEED (default: from the clock, printed); rounds: ZKTS_POWER_ROUNDS (default
// 8, bounded to about 20 s per test); ZKTS_POWER_SCATTER=1 also runs the out-of-order writeback rounds
// that are a known problem (see the last test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { ZktsError } from '../../src/errors.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { listDataFiles } from '../../src/storage/data-files.js';
import { recover } from '../../src/storage/recovery.js';
import { encodeTxnEntry } from '../../src/storage/txn-codec.js';
import { readTxnLog } from '../../src/storage/txn-log-reader.js';
import type { LogFs } from '../../src/storage/txn-log.js';
import { adler32 } from '../../src/storage/adler32.js';
import { runWorkload, seeded, tempDir } from './helpers.js';
import { checkRecovery, History, imagePath, runGeneration, type GenerationReport } from './power-rounds.js';
import { installFaultLayer, type OpKind, type TearMode } from './power-sim-disk.js';

const ALL_OPS: OpKind[] = ['log-create', 'log-write', 'log-sync', 'log-truncate', 'log-remove', 'snap-open', 'snap-write', 'snap-sync', 'rename', 'unlink', 'truncate', 'dir-sync'];
const BASE_SEED = Number(process.env.ZKTS_POWER_SEED ?? (Date.now() % 1_000_000_000));
const ROUNDS = Number(process.env.ZKTS_POWER_ROUNDS ?? 8);
const GENERATIONS = 4;
const BUDGET_MS = Number(process.env.ZKTS_POWER_BUDGET_MS ?? (process.env.ZKTS_POWER_ROUNDS ? 3_600_000 : 20_000));

interface RoundsSummary {
  generations: number;
  acked: number;
  snapshots: number;
  snapshotOps: number;
  inFlightKept: number;
  inFlightLost: number;
  failedAt: Map<string, number>;
}

/** `rounds` chains of generations from `seed`, each ended by a power loss with `tear`. */
async function powerRounds(t: { after(fn: () => void): void; diagnostic(s: string): void }, seed: number, rounds: number, tear: TearMode, bigWrites: boolean): Promise<RoundsSummary> {
  const sum: RoundsSummary = { generations: 0, acked: 0, snapshots: 0, snapshotOps: 0, inFlightKept: 0, inFlightLost: 0, failedAt: new Map() };
  const started = Date.now();
  for (let round = 0; round < rounds && Date.now() - started < BUDGET_MS; round++) {
    const roundSeed = seed + round * 1000;
    const rnd = seeded(roundSeed);
    const base = tempDir(t, 'zkts-power-');
    const history = new History();
    let dir = imagePath(base, 0);
    for (let g = 1; g <= GENERATIONS; g++) {
      const genSeed = roundSeed + g;
      const what = `seed ${genSeed} (round ${round}, generation ${g}, tear ${tear})`;
      checkRecovery(dir, history, what);
      const next = imagePath(base, g);
      let report: GenerationReport;
      try {
        report = await runGeneration(dir, next, history, {
          seed: genSeed,
          plan: { mode: 'power', tear, kinds: ALL_OPS, nth: 1 + Math.floor(rnd() * 260) },
          maxSteps: 150 + Math.floor(rnd() * 200),
          maxMs: 4_000,
          inflightMax: 1 + Math.floor(rnd() * 8),
          snapCount: 10 + Math.floor(rnd() * 50),
          preAllocBytes: 1024 * (1 + Math.floor(rnd() * 16)),
          bigWrites,
          autopurge: rnd() < 0.5,
        });
      } catch (e) {
        throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
      }
      const at = report.failure.at.split(' ')[0]!;
      sum.failedAt.set(at, (sum.failedAt.get(at) ?? 0) + 1);
      sum.generations++;
      sum.acked += report.acked;
      sum.snapshots += report.snapshots;
      for (const k of ['snap-open', 'snap-write', 'snap-sync', 'rename'] as const) sum.snapshotOps += report.seen.get(k) ?? 0;
      const c = checkRecovery(next, history, `${what}, after power loss at ${report.failure.at}`);
      sum.inFlightKept += c.inFlightKept;
      sum.inFlightLost += c.inFlightLost;
      dir = next;
    }
  }
  return sum;
}

function describe(s: RoundsSummary): string {
  const at = [...s.failedAt].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  return `${s.generations} power losses, ${s.acked} acknowledged txns all recovered, ${s.snapshots} snapshots; in flight at the loss: ${s.inFlightKept} kept, ${s.inFlightLost} lost; lost power at: ${at}`;
}

test('power loss drops every unsynced byte: every acknowledged write survives', async (t) => {
  t.after(installFaultLayer());
  console.log(`power-loss: ZKTS_POWER_SEED=${BASE_SEED} ZKTS_POWER_ROUNDS=${ROUNDS}`);
  const s = await powerRounds(t, BASE_SEED, ROUNDS, 'none', false);
  t.diagnostic(describe(s));
  console.log(`power-loss (tear none, seed ${BASE_SEED}): ${describe(s)}`);
  assert.ok(s.generations >= Math.min(ROUNDS, 3) * GENERATIONS, `only ${s.generations} generations ran`);
  assert.ok(s.failedAt.size >= 4, 'power went at operations of several kinds');
  assert.ok(s.snapshots > s.generations && s.snapshotOps > 0, 'snapshots were written, through the fault layer');
});

test('power loss with torn writes (unsynced sectors written back in order) and large records', async (t) => {
  t.after(installFaultLayer());
  const seed = BASE_SEED + 500_000;
  const s = await powerRounds(t, seed, ROUNDS, 'prefix', true);
  t.diagnostic(describe(s));
  console.log(`power-loss (tear prefix, seed ${seed}): ${describe(s)}`);
  assert.ok(s.generations >= Math.min(ROUNDS, 3) * GENERATIONS, `only ${s.generations} generations ran`);
});

test('self-check: the fault layer catches a txn log that acknowledges before fsync', async (t) => {
  t.after(installFaultLayer());
  // The writer's fsyncs are swallowed before they reach the disk: acknowledged txns are not durable.
  const noSync = (fs: LogFs): LogFs => ({
    ...fs,
    create: async (path) => {
      const h = await fs.create(path);
      return { ...h, writeDurable: (bufs, p) => h.write(Buffer.concat(bufs), p), datasync: async () => {}, sync: async () => {} };
    },
  });
  const base = tempDir(t, 'zkts-power-');
  const history = new History();
  let dir = imagePath(base, 0);
  let caught: Error | null = null;
  for (let g = 1; g <= 6 && caught === null; g++) {
    checkRecovery(dir, history, `generation ${g}`);
    const next = imagePath(base, g);
    await runGeneration(dir, next, history, {
      seed: 4242 + g,
      plan: { mode: 'power', tear: 'none', kinds: ['log-write'], nth: 20 },
      maxSteps: 200,
      maxMs: 4_000,
      inflightMax: 4,
      snapCount: 100_000,
      preAllocBytes: 4096,
      wrapLogFs: noSync,
    });
    try {
      checkRecovery(next, history, `generation ${g}`);
    } catch (e) {
      caught = e as Error;
    }
    dir = next;
  }
  assert.ok(caught !== null, 'a log without fsync lost no acknowledged txn: the power-loss model is not dropping unsynced bytes');
  assert.match(caught.message, /was acknowledged|recovery refused/);
});

/**
 * The newest log with a txn appended but not yet fsynced (never acknowledged), as a power loss
 * leaves it when the disk wrote that txn's sectors back out of order: its first sector (checksum,
 * length) and its last (the 'B') reached the disk, a sector in between did not (it reads as the
 * zeros of preallocation). In the simulated runs (ZKTS_POWER_SCATTER=1) the refused record is
 * always the one after the last acknowledged txn, and more pieces of its unsynced batch may
 * follow it, so a fix cannot ask for zeros after it: etcd's WAL asks whether the record holds an
 * all-zero 512-byte-aligned sector (isTornEntry), in the newest file only.
 */
async function tornUnackedRecord(t: { after(fn: () => void): void }): Promise<{ dir: string; lastAcked: bigint }> {
  const dir = tempDir(t, 'zkts-power-');
  const w = await runWorkload(dir, 31, 60, { snapCount: 100_000 });
  const v2 = join(dir, 'version-2');
  const recs = [...readTxnLog(v2, 0n)];
  const last = recs[recs.length - 1]!;
  const end = last.offset + last.entryBytes;
  const zxid = last.hdr.zxid + 1n;
  const hdr = { clientId: last.hdr.clientId, cxid: 9999, zxid, time: last.hdr.time + 1, type: OpCode.setData };
  const txn = encodeTxnEntry(hdr, { type: OpCode.setData, path: '/', data: Buffer.alloc(3000, 0x61), version: -1 });
  const entry = Buffer.alloc(txn.length + 13); // {long Adler32; int length; txn; 'B'}
  entry.writeBigInt64BE(BigInt(adler32(txn)), 0);
  entry.writeInt32BE(txn.length, 8);
  txn.copy(entry, 12);
  entry[entry.length - 1] = 0x42;
  const firstWhole = Math.ceil((end + 1) / 512) * 512; // the first sector that starts inside the entry
  assert.ok(firstWhole + 512 < end + entry.length - 1, 'the entry spans a whole sector that is neither its first nor its last');
  entry.fill(0, firstWhole - end, firstWhole - end + 512);
  const file = listDataFiles(v2, 'log').pop()!.path;
  const fd = openSync(file, 'r+');
  writeSync(fd, entry, 0, entry.length, end);
  closeSync(fd);
  return { dir, lastAcked: w.tree.lastProcessedZxid };
}

test('a torn unacknowledged txn at the end of the newest log is the end of the log, not corruption', async (t) => {
  const { dir, lastAcked } = await tornUnackedRecord(t);
  let r: ReturnType<typeof recover> | null = null;
  try {
    r = recover(dir, dir, { extendedTypesEnabled: true, log: () => {} });
  } catch (e) {
    assert.ok(e instanceof ZktsError && /checksum mismatch/.test(e.message), String(e));
    assert.fail(`recovery refused to start: ${e.message}`);
  }
  assert.equal(r.lastZxid, lastAcked, 'every acknowledged txn, and the torn one dropped');
});

test('power loss with out-of-order writeback of unsynced sectors (ZKTS_POWER_SCATTER=1)', {
  skip: process.env.ZKTS_POWER_SCATTER === '1' ? false : 'the known torn-record problem above; set ZKTS_POWER_SCATTER=1 to run',
  todo: 'fails while recovery treats a torn last record as corruption',
}, async (t) => {
  t.after(installFaultLayer());
  const seed = BASE_SEED + 900_000;
  const s = await powerRounds(t, seed, ROUNDS, 'scatter', true);
  console.log(`power-loss (tear scatter, seed ${seed}): ${describe(s)}`);
});
