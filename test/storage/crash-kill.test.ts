// crash-kill.test.ts — zkts keeps every acknowledged write through crashes.
//
// 1. A real `zkts server` process under load is killed with SIGKILL at random moments, round
//    after round on the same dataDir (sometimes while it is still starting: recovering, writing
//    its startup snapshot). Recording clients, one session per slot (crash-recorder.ts), pipeline
//    creates, deletes, setData with increasing values and multis; after each restart every slot
//    must read back as the effect of a prefix of what its session issued, holding every
//    acknowledged request (writes in flight at the kill may be there or not, in order, and
//    nothing else may be), with the stat zxids the replies reported; and the server must be past
//    every acknowledged zxid. Snapshots every few dozen txns, small preallocation steps and
//    autopurge every 50 ms put snapshot writes, renames, log rolls and purges under the kills.
// 2. Kill points injected exactly: at the txn log's append (a random prefix of the write lands),
//    its fsync, the creation of a new log, the snapshot's write, fsync and rename, the directory
//    fsync, and recovery's own cuts. The log goes through TxnLogWriter's LogFs seam; snapshot and
//    recovery file operations through a wrapper of node:fs (power-sim-disk.ts), since src/storage
//    has no seam for them. At the kill the directory is captured as a process crash leaves it
//    (every byte written, synced or not), and recovery of it must equal a replay of the history.
//
// Seeds: ZKTS_CRASH_SEED (default from the clock, printed). Rounds: ZKTS_CRASH_ROUNDS (default 15
// SIGKILL rounds within about 35 s, and 4 rounds of 3 kills per kill point); set it for a long run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OpCode } from '../../src/protocol/opcodes.js';
import { readTxnLog } from '../../src/storage/txn-log-reader.js';
import { TestClient, ConnectionClosedError } from '../conformance/test-client.js';
import { killDuringStart, startZkts, type ZktsProcess } from './crash-server.js';
import { readSlot, Slot } from './crash-recorder.js';
import { OPEN, seeded, tempDir } from './helpers.js';
import { checkRecovery, History, imagePath, runGeneration } from './power-rounds.js';
import { installFaultLayer, type OpKind } from './power-sim-disk.js';

const SEED = Number(process.env.ZKTS_CRASH_SEED ?? (Date.now() % 1_000_000_000));
const LONG = process.env.ZKTS_CRASH_ROUNDS !== undefined;
const KILL_ROUNDS = LONG ? Number(process.env.ZKTS_CRASH_ROUNDS) : 15;
const KILL_BUDGET_MS = LONG ? 24 * 3_600_000 : 35_000;
const POINT_ROUNDS = LONG ? Math.max(4, Math.ceil(Number(process.env.ZKTS_CRASH_ROUNDS) / 2)) : 4;
const SLOTS = 4;

console.log(`crash-kill: ZKTS_CRASH_SEED=${SEED} ZKTS_CRASH_ROUNDS=${KILL_ROUNDS}`);

interface LoadResult {
  issued: number;
  acked: number;
}

/** One client per slot pipelining writes until the connection dies or `stop` is set. */
async function drive(slot: Slot, c: TestClient, rnd: () => number, depth: number, stop: { now: boolean }): Promise<LoadResult> {
  const inflight = new Set<Promise<void>>();
  const start = slot.acked;
  let issued = 0;
  for (let i = 0; i < 1_000_000 && !c.closed && !stop.now; i++) {
    while (inflight.size < depth && !c.closed && !stop.now) {
      const req = slot.next(rnd);
      const index = slot.issuedCount - 1;
      issued++;
      const p: Promise<void> = c.request(req, 20_000).then(
        (r) => slot.reply(index, r),
        (e: unknown) => {
          if (!(e instanceof ConnectionClosedError)) slot.errors.push(`${slot.root}: request ${index}: ${(e as Error).message}`);
        },
      );
      const tracked = p.finally(() => inflight.delete(tracked));
      inflight.add(tracked);
    }
    if (inflight.size > 0) await Promise.race(inflight);
  }
  await Promise.allSettled([...inflight]);
  return { issued, acked: slot.acked - start };
}

interface Totals {
  rounds: number;
  startupKills: number;
  issued: number;
  acked: number;
  kept: number;
  lost: number;
  tmpSnapshots: number;
  tornTails: number;
}

/** What a kill left behind, for the summary: a snapshot being written, a txn cut in half. */
function inspectAfterKill(dataDir: string, totals: Totals): void {
  const v2 = join(dataDir, 'version-2');
  if (readdirSync(v2).some((n) => n.startsWith('tmp.snapshot.'))) totals.tmpSnapshots++;
  let torn = false;
  for (const _ of readTxnLog(v2, 0n, { onTail: (t) => (torn = t.tornTail) })) void _;
  if (torn) totals.tornTails++;
}

/** Reads every slot back through a fresh session and checks it against its history. */
async function verifyAll(server: ZktsProcess, slots: Slot[], what: string): Promise<{ kept: number; lost: number }> {
  const c = await TestClient.connect('127.0.0.1', server.port, { timeOutMs: 4_000 });
  try {
    const maxAcked = slots.reduce((m, s) => (s.maxAckedZxid > m ? s.maxAckedZxid : m), 0n);
    const probe = await c.request({ type: OpCode.exists, path: '/', watch: false });
    assert.ok(probe.zxid >= maxAcked, `${what}: the server restarted at zxid 0x${probe.zxid.toString(16)}, before the acknowledged 0x${maxAcked.toString(16)}`);
    const top = await c.request({ type: OpCode.getChildren, path: '/', watch: false });
    assert.ok(top.body?.type === OpCode.getChildren);
    assert.deepEqual(top.body.children.sort(), [...slots.map((s) => s.root.slice(1)), 'zookeeper'].sort(), `${what}: the top-level znodes`);
    let kept = 0;
    let lost = 0;
    for (const s of slots) {
      assert.deepEqual(s.errors, [], `${what}: replies`);
      const v = s.verify(await readSlot(c, s.root), what);
      kept += v.keptInFlight;
      lost += v.lostInFlight;
    }
    return { kept, lost };
  } finally {
    await c.close(5_000).catch(() => undefined);
  }
}

test(`SIGKILL under load: every acknowledged write survives each restart (seed ${SEED})`, async (t) => {
  const work = tempDir(t, 'zkts-crash-');
  const dataDir = join(work, 'data');
  const rnd = seeded(SEED);
  const slots = Array.from({ length: SLOTS }, (_, i) => new Slot(`/s${i}`));
  const cfg = (): Record<string, string> => ({
    snapCount: String(10 + Math.floor(rnd() * 70)),
    preAllocSize: String(4 + Math.floor(rnd() * 60)), // KiB
    'autopurge.snapRetainCount': '3',
    'autopurge.purgeInterval': '50ms',
  });
  let server = await startZkts(work, dataDir, cfg());
  t.after(() => server.kill().catch(() => undefined));
  {
    const c = await TestClient.connect('127.0.0.1', server.port, { timeOutMs: 4_000 });
    for (const s of slots) {
      const r = await c.request({ type: OpCode.create, path: s.root, data: Buffer.from('v0'), acl: OPEN, flags: 0, ttl: -1n });
      assert.equal(r.err, 0);
      s.adoptRoot(r.zxid);
    }
    await c.close();
  }
  const started = Date.now();
  const totals: Totals = { rounds: 0, startupKills: 0, issued: 0, acked: 0, kept: 0, lost: 0, tmpSnapshots: 0, tornTails: 0 };
  for (let round = 0; round < KILL_ROUNDS && Date.now() - started < KILL_BUDGET_MS; round++) {
    const what = `seed ${SEED}, round ${round}`;
    const stop = { now: false };
    const clients = await Promise.all(slots.map(() => TestClient.connect('127.0.0.1', server.port, { timeOutMs: 4_000 })));
    const loads = slots.map((s, i) => drive(s, clients[i]!, seeded(SEED + round * 100 + i), 1 + Math.floor(rnd() * 8), stop));
    const killAfterMs = rnd() < 0.3 ? Math.floor(rnd() * 60) : 60 + Math.floor(rnd() * 700);
    await new Promise((r) => setTimeout(r, killAfterMs));
    await server.kill();
    stop.now = true;
    inspectAfterKill(dataDir, totals);
    for (const c of clients) c.destroy();
    for (const l of await Promise.all(loads)) {
      totals.issued += l.issued;
      totals.acked += l.acked;
    }
    // Now and then the restarted server is killed again while it recovers and writes its startup snapshot.
    if (rnd() < 0.25) {
      totals.startupKills++;
      await killDuringStart(work, dataDir, cfg(), 20 + Math.floor(rnd() * 400));
    }
    server = await startZkts(work, dataDir, cfg());
    const v = await verifyAll(server, slots, what);
    totals.kept += v.kept;
    totals.lost += v.lost;
    totals.rounds++;
  }
  await server.stop();
  const summary =
    `${totals.rounds} SIGKILL rounds, ${totals.startupKills} more kills during startup (seed ${SEED}): ${totals.acked} acknowledged writes ` +
    `of ${totals.issued} issued all present after restarts; in flight at the kill: ${totals.kept} applied, ${totals.lost} not; ` +
    `kills that left a half-written snapshot: ${totals.tmpSnapshots}, a torn log tail: ${totals.tornTails}`;
  t.diagnostic(summary);
  console.log(`crash-kill: ${summary}`);
  assert.ok(totals.rounds >= Math.min(KILL_ROUNDS, 5), `only ${totals.rounds} rounds ran in the time budget`);
  assert.ok(totals.acked > totals.rounds * 10, 'the clients got writes acknowledged between kills');
});

interface KillPoint {
  name: string;
  /** The kinds to kill at, per generation (cycled). */
  plans: readonly (readonly OpKind[])[];
  maxNth: number;
}

const KILL_POINTS: KillPoint[] = [
  { name: 'log append (a partial write)', plans: [['log-write']], maxNth: 60 },
  { name: 'log fsync', plans: [['log-sync']], maxNth: 60 },
  { name: 'new log file', plans: [['log-create']], maxNth: 5 },
  { name: 'snapshot write (a partial write)', plans: [['snap-write']], maxNth: 30 }, // several writes per snapshot
  { name: 'snapshot fsync', plans: [['snap-sync']], maxNth: 6 },
  { name: 'snapshot rename', plans: [['rename']], maxNth: 6 },
  { name: 'directory fsync', plans: [['dir-sync']], maxNth: 10 },
  // A torn tail first, then a kill while recovery cuts it off (or removes a header-less log).
  { name: "recovery's cut of a torn tail", plans: [['log-write'], ['truncate', 'unlink']], maxNth: 1 },
];

for (const kp of KILL_POINTS) {
  test(`kill at ${kp.name}: recovery holds every acknowledged txn (seed ${SEED})`, async (t) => {
    t.after(installFaultLayer());
    const rnd = seeded(SEED ^ kp.name.length * 7919);
    const hits = kp.plans.map(() => 0);
    let gens = 0;
    let acked = 0;
    for (let round = 0; round < POINT_ROUNDS; round++) {
      const base = tempDir(t, 'zkts-crash-');
      const history = new History();
      let dir = imagePath(base, 0);
      for (let g = 1; g <= 3; g++) {
        const genSeed = SEED + round * 100 + g;
        const kinds = kp.plans[(g - 1) % kp.plans.length]!;
        const what = `kill at ${kp.name}, seed ${genSeed} (round ${round}, generation ${g})`;
        checkRecovery(dir, history, what);
        const next = imagePath(base, g);
        const nth = kinds[0] === 'log-write' && kp.plans.length > 1 ? 5 + Math.floor(rnd() * 40) : 1 + Math.floor(rnd() * kp.maxNth);
        const report = await runGeneration(dir, next, history, {
          seed: genSeed,
          plan: { mode: 'crash', tear: 'none', kinds, nth },
          maxSteps: 120 + Math.floor(rnd() * 200),
          maxMs: 4_000,
          inflightMax: 1 + Math.floor(rnd() * 8),
          snapCount: 10 + Math.floor(rnd() * 30),
          preAllocBytes: 1024 * (1 + Math.floor(rnd() * 8)),
          bigWrites: rnd() < 0.5,
          autopurge: rnd() < 0.5,
        });
        if (kinds.some((k) => report.failure.at.startsWith(k + ' '))) hits[(g - 1) % kp.plans.length]!++;
        gens++;
        acked += report.acked;
        checkRecovery(next, history, `${what}, killed at ${report.failure.at}`);
        dir = next;
      }
    }
    const landed = kp.plans.map((p, i) => `${hits[i]} at ${p.join('/')}`).join(', ');
    t.diagnostic(`${gens} kills (${landed}), ${acked} acknowledged txns all recovered`);
    console.log(`crash-kill: kill at ${kp.name} (seed ${SEED}): ${gens} kills (${landed}), ${acked} acknowledged txns all recovered`);
    kp.plans.forEach((p, i) => assert.ok(hits[i]! >= 1, `no kill landed at ${p.join('/')} in ${gens} generations: the kill point is not reached`));
  });
}
