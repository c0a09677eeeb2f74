// power-rounds.ts — generations of work on a SimDisk, each ended by a failure, each followed by a
// recovery that must hold every acknowledged write. One generation:
//   1. recover the directory as the last failure left it (through the model: recovery's own
//      cuts and unlinks are unsynced changes too) and check it: the last zxid is at least every
//      acknowledged one and at most the last one issued, and the tree, the ephemeral indexes and
//      the session table equal a replay of the committed history up to that zxid (so writes in
//      flight at the failure are there or not, in order, and nothing else is);
//   2. open a DataDir on it (recovery, a startup snapshot) and run a seeded workload of every txn
//      type through it, several txns in flight at once as pipelined clients send them, applying
//      each to the live tree once acknowledged, with snapshots every few dozen txns, small
//      preallocation steps and, when asked, autopurge every few ms and large setData values;
//   3. the kill plan fires at its operation (or, if the run ends first, at the end) and the
//      disk's image becomes the next generation's directory.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OpCode } from '../../src/protocol/opcodes.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { recover } from '../../src/storage/recovery.js';
import { DataTree } from '../../src/tree/data-tree.js';
import { assertSameNodes, indexView, nodeView, OPEN, seeded, Workload, type Step } from './helpers.js';
import type { LogFs } from '../../src/storage/txn-log.js';
import { SimDisk, type Failure, type KillPlan, type OpKind } from './power-sim-disk.js';

/** The committed history: the steps every later recovery must hold, and the tree they make. */
export class History {
  readonly tree = new DataTree({ extendedTypesEnabled: true });
  readonly sessions = new Map<bigint, number>();
  lastZxid = 0n;
  /** Issued in the last generation and not yet known to be committed or lost, zxid order. */
  pending: Step[] = [];
  /** The highest zxid acknowledged in the last generation. */
  maxAcked = 0n;

  commit(s: Step): void {
    assert.equal(s.hdr.zxid, this.lastZxid + 1n, 'the history has no gaps');
    if (s.txn.type === OpCode.createSession) this.sessions.set(s.hdr.clientId, s.txn.timeOut);
    if (s.txn.type === OpCode.closeSession) this.sessions.delete(s.hdr.clientId);
    this.tree.processTxn(s.hdr, s.txn);
    this.lastZxid = s.hdr.zxid;
  }
}

export interface GenerationOptions {
  seed: number;
  plan: KillPlan;
  maxSteps: number;
  maxMs: number;
  /** Writes in flight at once, at most. */
  inflightMax: number;
  snapCount: number;
  preAllocBytes: number;
  /** setData of 1-6 KiB now and then, so log records span several sectors. */
  bigWrites?: boolean;
  autopurge?: boolean;
  /** Stands between the writer and the disk's LogFs (the self-tests break it on purpose). */
  wrapLogFs?: (fs: LogFs) => LogFs;
}

export interface GenerationReport {
  seed: number;
  failure: Failure;
  /** Failed during DataDir.open (recovery or the startup snapshot). */
  duringOpen: boolean;
  issued: number;
  acked: number;
  /** Snapshots DataDir completed (the startup one included). */
  snapshots: number;
  seen: Map<OpKind, number>;
}

export interface CheckReport {
  recoveredZxid: bigint;
  /** Txns that were in flight (not acknowledged) at the failure and survived it. */
  inFlightKept: number;
  /** Txns in flight at the failure that did not survive. */
  inFlightLost: number;
}

const quiet = (): void => {};

/**
 * Step 1: the directory as left, recovered, against the history; commits what survived. The
 * recovery runs on a copy, so that the directory stays as the failure left it for the next
 * generation, whose DataDir.open recovers it again, through the simulated disk.
 */
export function checkRecovery(dir: string, history: History, what: string): CheckReport {
  const copy = `${dir}.check`;
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  cpSync(dir, copy, { recursive: true });
  let r: ReturnType<typeof recover>;
  try {
    r = recover(copy, copy, { extendedTypesEnabled: true, log: quiet });
  } catch (e) {
    assert.fail(`${what}: recovery refused the directory: ${(e as Error).message}`);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  const L = r.lastZxid;
  const maxIssued = history.pending.length > 0 ? history.pending[history.pending.length - 1]!.hdr.zxid : history.lastZxid;
  assert.ok(L >= history.maxAcked, `${what}: recovered up to zxid 0x${L.toString(16)}, but 0x${history.maxAcked.toString(16)} was acknowledged`);
  assert.ok(L >= history.lastZxid, `${what}: recovered up to zxid 0x${L.toString(16)}, below the committed 0x${history.lastZxid.toString(16)}`);
  assert.ok(L <= maxIssued, `${what}: recovered zxid 0x${L.toString(16)} was never issued (last 0x${maxIssued.toString(16)})`);
  let kept = 0;
  for (const s of history.pending) {
    if (s.hdr.zxid > L) break;
    history.commit(s);
    if (s.hdr.zxid > history.maxAcked) kept++;
  }
  const lost = history.pending.filter((s) => s.hdr.zxid > L).length;
  history.pending = [];
  history.maxAcked = 0n;
  assertSameNodes(nodeView(r.tree), nodeView(history.tree), `${what}: the recovered tree against a replay of the history to 0x${L.toString(16)}`);
  assert.deepEqual(indexView(r.tree), indexView(history.tree), `${what}: ephemeral, container and TTL indexes`);
  assert.deepEqual(r.sessions, history.sessions, `${what}: sessions`);
  assert.notEqual(r.digest, 'mismatch', `${what}: the recovered tree does not match its recorded digest`);
  return { recoveredZxid: L, inFlightKept: kept, inFlightLost: lost };
}

/** Steps 2 and 3 on `dir`; the failure's image is the next directory. */
export async function runGeneration(dir: string, imageDir: string, history: History, o: GenerationOptions): Promise<GenerationReport> {
  const rnd = seeded(o.seed);
  const disk = new SimDisk(dir, o.plan, seeded(o.seed + 7), imageDir);
  disk.activate();
  // A snapshot that fails is only logged by DataDir: a failure that is not the machine's is a defect here.
  const errors: string[] = [];
  const log = (level: string, msg: string): void => {
    if (level === 'error' && !/simulated machine is down/.test(msg)) errors.push(msg);
  };
  let d: DataDir;
  try {
    d = await DataDir.open({
      dataDir: dir,
      logFs: o.wrapLogFs ? o.wrapLogFs(disk.logFs) : disk.logFs,
      snapCount: o.snapCount,
      preAllocBytes: o.preAllocBytes,
      extendedTypesEnabled: true,
      random: seeded(o.seed + 1),
      autopurge: o.autopurge ? { snapRetainCount: 3, purgeIntervalMs: 15 } : undefined,
      log,
    });
  } catch (e) {
    if (!disk.dead) throw e;
    assert.deepEqual(disk.defects, [], `seed ${o.seed}: the fault layer's model`);
    return { seed: o.seed, failure: disk.failure!, duringOpen: true, issued: 0, acked: 0, snapshots: 0, seen: disk.seen };
  }
  assertSameNodes(nodeView(d.initial.tree), nodeView(history.tree), `seed ${o.seed}: DataDir.open recovered the history`);
  const w = new Workload(o.seed, d.initial);
  d.attach(w.live);
  const bigSession = 0x7e00000000000000n + BigInt(o.seed & 0xffffff);
  const bigPath = `/big-${o.seed}`;
  let bigStage = 0;
  const nextStep = (): Step => {
    if (o.bigWrites === true && bigStage < 2) {
      bigStage++;
      if (bigStage === 1) return w.step({ type: OpCode.createSession, timeOut: 30_000 }, bigSession);
      return w.step({ type: OpCode.create, path: bigPath, data: null, acl: OPEN, flags: 0, ttl: -1n }, bigSession);
    }
    if (o.bigWrites === true && rnd() < 0.15) {
      const data = Buffer.alloc(1024 + Math.floor(rnd() * 5 * 1024), Math.floor(rnd() * 256));
      return w.step({ type: OpCode.setData, path: bigPath, data, version: -1 }, bigSession);
    }
    return w.randomStep();
  };
  const queue: { step: Step; state: 'pending' | 'acked' | 'failed' }[] = [];
  let inflight = 0;
  let issued = 0;
  let acked = 0;
  let stopped = false;
  let wake: (() => void) | null = null;
  const drain = (): void => {
    while (queue.length > 0 && queue[0]!.state === 'acked') {
      const { step } = queue.shift()!;
      w.apply(step);
      acked++;
      if (step.hdr.zxid > history.maxAcked) history.maxAcked = step.hdr.zxid;
    }
    d.attach(w.live);
  };
  const deadline = Date.now() + o.maxMs;
  while (!stopped && !disk.dead && issued < o.maxSteps && Date.now() < deadline) {
    while (inflight < o.inflightMax && issued < o.maxSteps && !stopped && !disk.dead) {
      const step = nextStep();
      const entry = { step, state: 'pending' as 'pending' | 'acked' | 'failed' };
      queue.push(entry);
      history.pending.push(step);
      issued++;
      inflight++;
      d.append(step.hdr, step.txn, (err) => {
        inflight--;
        entry.state = err === null ? 'acked' : 'failed';
        if (err !== null) stopped = true;
        drain();
        wake?.();
      });
    }
    await waitFor(() => inflight < o.inflightMax || stopped || disk.dead, (f) => (wake = f), 10_000, `seed ${o.seed}: the txn log to make progress`);
  }
  await waitFor(() => inflight === 0, (f) => (wake = f), 10_000, `seed ${o.seed}: the writes in flight to finish`);
  if (!disk.dead) disk.fail('end-of-run');
  await Promise.race([d.close().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
  assert.deepEqual(disk.defects, [], `seed ${o.seed}: the fault layer's model`);
  assert.deepEqual(errors, [], `seed ${o.seed}: errors that were not the simulated failure`);
  return { seed: o.seed, failure: disk.failure!, duringOpen: false, issued, acked, snapshots: d.stats.snapshots, seen: disk.seen };
}

/** Waits until `ready()`, woken by callbacks through `arm`, with a deadline. */
async function waitFor(ready: () => boolean, arm: (wake: () => void) => void, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1_000_000 && !ready(); i++) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 50);
      arm(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/** A plan for one generation from the seeded source: which operation fails, and how. */
export function randomPlan(rnd: () => number, mode: 'crash' | 'power', kinds: readonly OpKind[], maxNth: number, tear: KillPlan['tear']): KillPlan {
  return { mode, tear, kinds, nth: 1 + Math.floor(rnd() * maxNth) };
}

/** `<base>/g<n>`: where generation n's failure writes its image. */
export function imagePath(base: string, n: number): string {
  return join(base, `g${n}`);
}
