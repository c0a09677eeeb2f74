// load.ts — a closed-loop load generator for any ZooKeeper-protocol server: N sessions, each a
// raw socket keeping K pipelined requests in flight, for a bounded time; reports throughput and
// latency percentiles (from histogram.ts). `zkts bench` (src/cli/bench-command.ts) and
// bench/load.ts are its command lines; the watch fan-out workload is in watch.ts.
//
// Every session first connects; then the load runs `--warmup` seconds unmeasured and `--seconds`
// measured. Throughput counts every reply received in the measured window; latencies are those
// of requests sent inside it. Latency is closed-loop: a slot sends its next request when its
// reply arrives, so it includes queueing behind the session's other K-1 requests.
//
// `--procs P` spreads the sessions over P generator processes. The generator competes with the
// server for this machine's cores; `--server-pid` samples the server's CPU time
// (/proc/PID/stat) over the measured window so that both figures can be reported.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { codeName } from '../protocol/codes.js';
import { OpCode, opName } from '../protocol/opcodes.js';
import { Histogram, type HistogramJSON, type LatencySummary } from './histogram.js';
import { LoadSession, type Phase, type Workload } from './session.js';
import { openWatchRun } from './watch.js';
import {
  makeWorkload,
  populateParentFrames,
  populateWorkload,
  scriptWorkload,
  setupFrames,
  WORKLOADS,
  type WorkloadName,
} from './workloads.js';

export type LoadWorkload = WorkloadName | 'populate' | 'watch';

export interface LoadOptions {
  host: string;
  port: number;
  sessions: number;
  outstanding: number;
  workload: LoadWorkload;
  seconds: number;
  warmupSeconds: number;
  procs: number;
  seed: number;
  /** populate: how many znodes to create (under /zkts-bench/rss). */
  count: number;
  serverPid: number | null;
}

export interface LoadResult {
  workload: LoadWorkload;
  sessions: number;
  outstanding: number;
  procs: number;
  seconds: number;
  warmupSeconds: number;
  ops: number;
  windowSeconds: number;
  opsPerSec: number;
  latency: LatencySummary;
  byOp: Record<string, LatencySummary>;
  errors: Record<string, number>;
  toleratedErrors: number;
  /** Replies per socket read on the generator side: how many replies the server sends per write. */
  repliesPerRead: number;
  failures: string[];
  /** CPU seconds the server used in the window; null without --server-pid. */
  serverCpu: CpuFigure | null;
  generatorCpu: CpuFigure;
  /**
   * The rest of the machine's busy CPU time in the window (kernel softirq work for loopback
   * TCP, and any other process): a check that nothing else competed with the run.
   */
  otherCpu: CpuFigure | null;
  machine: string;
}

export interface CpuFigure {
  seconds: number;
  /** Percent of one core over the window. */
  pctOfCore: number;
  usPerOp: number;
}

/** What one process measured over its share of the sessions; summed by the parent. */
interface Partial {
  completed: number;
  all: HistogramJSON;
  byType: Array<[number, HistogramJSON]>;
  errors: Array<[string, number]>;
  tolerated: number;
  reads: number;
  failures: string[];
  windowMs: number;
  cpuUs: number;
  serverCpuTicks: number | null;
  machineBusyTicks: number | null;
}

export const POPULATE_BASE = '/zkts-bench/rss';
const CONNECT_TIMEOUT_MS = 10_000;
const DRAIN_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 2_000;
const SESSION_TIMEOUT_MS = 30_000;

export function machineNote(): string {
  const cpus = os.cpus();
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown cpu'}), loopback TCP; the load generator and the server share these cores`;
}

/** CPU time of a process in clock ticks (utime + stime of all its threads), or null. */
export function processCpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  } catch {
    return null;
  }
}
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Busy CPU time of the whole machine in clock ticks (all but idle and iowait), or null. */
export function machineBusyTicks(): number | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = cpu as [number, number, number, number, number, number, number, number];
    return user + nice + system + irq + softirq + steal;
  } catch {
    return null;
  }
}

function openSession(opts: LoadOptions, outstanding: number): LoadSession {
  return new LoadSession({
    host: opts.host,
    port: opts.port,
    outstanding,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
  });
}

/** Runs frames in order on one session (creating the znodes the workloads use). */
async function runScript(opts: LoadOptions, frames: Buffer[]): Promise<void> {
  const s = openSession(opts, 1);
  await s.connect();
  const phase: Phase = { sending: true, counting: false, recordFrom: 0 };
  await withDeadline(s.run(scriptWorkload(frames), phase), 30_000, 'setup requests');
  await s.close(CLOSE_TIMEOUT_MS);
  const errs = [...s.stats.errors].map(([k, n]) => `${k} ×${n}`);
  if (s.failure !== null || errs.length > 0) throw new Error(`setup failed: ${s.failure ?? errs.join(', ')}`);
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The share of sessions [from, to) that one process runs; `go` resolves when all may start. */
async function runShare(opts: LoadOptions, from: number, to: number, ready: () => Promise<void>, sampleServer: boolean): Promise<Partial> {
  if (opts.workload === 'watch') throw new Error('the watch workload runs in one process (runWatchShare)');
  const sessions: LoadSession[] = [];
  for (let i = from; i < to; i++) sessions.push(openSession(opts, opts.outstanding));
  await Promise.all(sessions.map((s) => s.connect()));
  const workloads: Workload[] = [];
  if (opts.workload === 'populate') {
    const lo = Math.round((from / opts.sessions) * opts.count);
    const hi = Math.round((to / opts.sessions) * opts.count);
    const w = populateWorkload(POPULATE_BASE, lo, hi);
    for (let i = from; i < to; i++) workloads.push(w);
  } else {
    for (let i = from; i < to; i++) workloads.push(makeWorkload(opts.workload, i, opts.seed));
  }
  await ready();

  const populate = opts.workload === 'populate';
  const phase: Phase = { sending: true, counting: populate, recordFrom: populate ? performance.now() : Infinity };
  let t0 = performance.now();
  let cpu0 = process.cpuUsage();
  let srv0 = sampleServer && opts.serverPid !== null ? processCpuTicks(opts.serverPid) : null;
  let busy0 = sampleServer ? machineBusyTicks() : null;
  const running = Promise.all(sessions.map((s, i) => s.run(workloads[i]!, phase)));
  let capped = false;
  if (!populate) {
    await sleep(opts.warmupSeconds * 1000);
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    if (srv0 !== null) srv0 = processCpuTicks(opts.serverPid!);
    if (busy0 !== null) busy0 = machineBusyTicks();
    phase.counting = true;
    phase.recordFrom = t0;
    await sleep(opts.seconds * 1000);
  } else {
    // populate ends when the last create is answered; --seconds bounds it. The cap's timer is
    // cleared when the creates end first: left pending, it kept the process alive until the cap.
    await withDeadline(running, opts.seconds * 1000, 'the creates').catch(() => (capped = true));
  }
  phase.counting = populate; // a populate run counts its tail too: the window ends when all are made
  phase.sending = false;
  let t1 = performance.now();
  let cpu = process.cpuUsage(cpu0);
  let srv1 = srv0 !== null ? processCpuTicks(opts.serverPid!) : null;
  let busy1 = busy0 !== null ? machineBusyTicks() : null;
  const failures: string[] = [];
  if (capped) failures.push(`populate: --seconds ${opts.seconds} ran out before the last create was answered`);
  await withDeadline(running, DRAIN_TIMEOUT_MS, 'replies to the last requests').catch((e: Error) => failures.push(e.message));
  if (populate) {
    t1 = performance.now();
    cpu = process.cpuUsage(cpu0);
    srv1 = srv0 !== null ? processCpuTicks(opts.serverPid!) : null;
    busy1 = busy0 !== null ? machineBusyTicks() : null;
  }
  await Promise.all(sessions.map((s) => s.close(CLOSE_TIMEOUT_MS)));

  const all = new Histogram();
  const byType = new Map<number, Histogram>();
  const errors = new Map<string, number>();
  let completed = 0;
  let tolerated = 0;
  let reads = 0;
  for (const s of sessions) {
    if (s.failure !== null) failures.push(`session 0x${s.sessionId.toString(16)}: ${s.failure}`);
    completed += s.stats.completed;
    tolerated += s.stats.tolerated;
    reads += s.stats.reads;
    all.merge(s.stats.all);
    for (const [t, h] of s.stats.byType) {
      if (!byType.has(t)) byType.set(t, new Histogram());
      byType.get(t)!.merge(h);
    }
    for (const [k, n] of s.stats.errors) errors.set(k, (errors.get(k) ?? 0) + n);
  }
  return {
    completed,
    all: all.toJSON(),
    byType: [...byType].map(([t, h]) => [t, h.toJSON()]),
    errors: [...errors],
    tolerated,
    reads,
    failures,
    windowMs: t1 - t0,
    cpuUs: cpu.user + cpu.system,
    serverCpuTicks: srv0 !== null && srv1 !== null ? srv1 - srv0 : null,
    machineBusyTicks: busy0 !== null && busy1 !== null ? busy1 - busy0 : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Generator processes

type ToWorker = { kind: 'start'; opts: LoadOptions; from: number; to: number; sampleServer: boolean } | { kind: 'go' };
type FromWorker = { kind: 'ready' } | { kind: 'result'; partial: Partial } | { kind: 'error'; message: string };

/** The body of a generator process (load-worker.ts): runs the share its parent sends. */
export function runWorker(): void {
  let go: (() => void) | null = null;
  const goSignal = new Promise<void>((r) => (go = r));
  process.on('message', (m: ToWorker) => {
    if (m.kind === 'go') return go?.();
    const ready = async (): Promise<void> => {
      process.send!({ kind: 'ready' } satisfies FromWorker);
      await goSignal;
    };
    runShare(m.opts, m.from, m.to, ready, m.sampleServer).then(
      (partial) => process.send!({ kind: 'result', partial } satisfies FromWorker, () => process.exit(0)),
      (e: Error) => process.send!({ kind: 'error', message: e.message } satisfies FromWorker, () => process.exit(1)),
    );
  });
}

// load-worker.js next to dist/bench/load.js, load-worker.ts next to src/bench/load.ts (under tsx)
const SELF = fileURLToPath(import.meta.url);
const WORKER = path.join(path.dirname(SELF), `load-worker${path.extname(SELF)}`);

/** A .ts worker needs tsx's loader: inherited from a `node --import tsx` parent, else added. */
function workerExecArgv(): string[] {
  const argv = process.execArgv.filter((a) => !a.startsWith('--inspect') && !a.startsWith('--cpu-prof'));
  return WORKER.endsWith('.ts') && !argv.some((a) => a.includes('tsx')) ? [...argv, '--import', 'tsx'] : argv;
}

async function runProcs(opts: LoadOptions): Promise<Partial[]> {
  const deadlineMs = (opts.warmupSeconds + opts.seconds) * 1000 + CONNECT_TIMEOUT_MS + DRAIN_TIMEOUT_MS + 10_000;
  const workers = Array.from({ length: opts.procs }, () =>
    fork(WORKER, [], { execArgv: workerExecArgv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  try {
    const readies: Promise<void>[] = [];
    const results = workers.map((w, i) => {
      let readyResolve: () => void = () => {};
      readies.push(new Promise<void>((r) => (readyResolve = r)));
      const result = new Promise<Partial>((resolve, reject) => {
        w.on('message', (m: FromWorker) => {
          if (m.kind === 'ready') readyResolve();
          else if (m.kind === 'result') resolve(m.partial);
          else reject(new Error(`generator ${i}: ${m.message}`));
        });
        w.on('exit', (code) => reject(new Error(`generator ${i} exited with ${code}`)));
      });
      const from = Math.floor((i * opts.sessions) / opts.procs);
      const to = Math.floor(((i + 1) * opts.sessions) / opts.procs);
      w.send({ kind: 'start', opts, from, to, sampleServer: i === 0 } satisfies ToWorker);
      return result;
    });
    const all = Promise.all(results);
    all.catch(() => {}); // observed below
    await withDeadline(Promise.race([Promise.all(readies), all.then(() => {})]), CONNECT_TIMEOUT_MS + 5_000, 'generators to connect');
    for (const w of workers) w.send({ kind: 'go' } satisfies ToWorker);
    return await withDeadline(all, deadlineMs, 'generators to finish');
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  }
}

/** The watch fan-out workload (watch.ts), timed as runShare times the others; one process. */
async function runWatchShare(opts: LoadOptions): Promise<Partial> {
  const run = await openWatchRun({ ...opts, connectTimeoutMs: CONNECT_TIMEOUT_MS, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  try {
    const phase: Phase = { sending: true, counting: false, recordFrom: Infinity };
    const running = run.start(phase);
    await sleep(opts.warmupSeconds * 1000);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const srv0 = opts.serverPid !== null ? processCpuTicks(opts.serverPid) : null;
    const busy0 = machineBusyTicks();
    phase.counting = true;
    phase.recordFrom = t0;
    await sleep(opts.seconds * 1000);
    phase.counting = false;
    phase.sending = false;
    const t1 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const srv1 = srv0 !== null ? processCpuTicks(opts.serverPid!) : null;
    const busy1 = busy0 !== null ? machineBusyTicks() : null;
    const failures: string[] = [];
    await withDeadline(running, DRAIN_TIMEOUT_MS, 'the last rounds\' events').catch((e: Error) => {
      const open = run.open();
      failures.push(`${e.message} (${open.rounds} round(s) missing ${open.events} event(s))`);
    });
    const s = run.share;
    return {
      completed: s.events,
      all: s.rounds.toJSON(),
      byType: [[OpCode.notification, s.perEvent.toJSON()], [OpCode.setData, s.setReply.toJSON()]],
      errors: [...s.errors],
      tolerated: 0,
      reads: 0,
      failures,
      windowMs: t1 - t0,
      cpuUs: cpu.user + cpu.system,
      serverCpuTicks: srv0 !== null && srv1 !== null ? srv1 - srv0 : null,
      machineBusyTicks: busy0 !== null && busy1 !== null ? busy1 - busy0 : null,
    };
  } finally {
    await run.close();
  }
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  if (opts.workload === 'watch') return combine(opts, [await runWatchShare(opts)]);
  if (opts.workload === 'populate') await runScript(opts, populateParentFrames(POPULATE_BASE, opts.count));
  else await runScript(opts, setupFrames(opts.sessions));
  const partials =
    opts.procs > 1 ? await runProcs(opts) : [await runShare(opts, 0, opts.sessions, async () => {}, true)];
  return combine(opts, partials);
}

function combine(opts: LoadOptions, partials: Partial[]): LoadResult {
  const all = new Histogram();
  const byType = new Map<number, Histogram>();
  const errors: Record<string, number> = {};
  let ops = 0;
  let tolerated = 0;
  let cpuUs = 0;
  let reads = 0;
  let windowMs = 0;
  const failures: string[] = [];
  for (const p of partials) {
    ops += p.completed;
    tolerated += p.tolerated;
    cpuUs += p.cpuUs;
    reads += p.reads;
    windowMs = Math.max(windowMs, p.windowMs);
    failures.push(...p.failures);
    all.merge(Histogram.fromJSON(p.all));
    for (const [t, j] of p.byType) {
      if (!byType.has(t)) byType.set(t, new Histogram());
      byType.get(t)!.merge(Histogram.fromJSON(j));
    }
    for (const [k, n] of p.errors) {
      const [type, err] = k.split(':').map(Number) as [number, number];
      const name = `${opName(type)}:${codeName(err)}`;
      errors[name] = (errors[name] ?? 0) + n;
    }
  }
  const windowSeconds = windowMs / 1000;
  const cpuFigure = (seconds: number): CpuFigure => ({
    seconds: round(seconds, 3),
    pctOfCore: round((100 * seconds) / windowSeconds, 1),
    usPerOp: ops === 0 ? 0 : round((seconds * 1e6) / ops, 2),
  });
  const srvTicks = partials[0]?.serverCpuTicks ?? null;
  const busyTicks = partials[0]?.machineBusyTicks ?? null;
  const otherSeconds = busyTicks === null ? null : Math.max(0, busyTicks / TICKS_PER_SECOND - (srvTicks ?? 0) / TICKS_PER_SECOND - cpuUs / 1e6);
  return {
    workload: opts.workload,
    sessions: opts.sessions,
    outstanding: opts.outstanding,
    procs: opts.procs,
    seconds: opts.seconds,
    warmupSeconds: opts.warmupSeconds,
    ops,
    windowSeconds: round(windowSeconds, 3),
    opsPerSec: Math.round(ops / windowSeconds),
    latency: all.summary(),
    byOp: Object.fromEntries([...byType].map(([t, h]) => [opName(t), h.summary()])),
    errors,
    toleratedErrors: tolerated,
    repliesPerRead: reads === 0 ? 0 : round(ops / reads, 1),
    failures,
    serverCpu: srvTicks === null ? null : cpuFigure(srvTicks / TICKS_PER_SECOND),
    generatorCpu: cpuFigure(cpuUs / 1e6),
    otherCpu: otherSeconds === null ? null : cpuFigure(otherSeconds),
    machine: machineNote(),
  };
}

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

export function formatResult(r: LoadResult): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  const lat = (s: LatencySummary): string =>
    `p50 ${s.p50Ms.toFixed(3)}  p90 ${s.p90Ms.toFixed(3)}  p99 ${s.p99Ms.toFixed(3)}  p999 ${s.p999Ms.toFixed(3)}  max ${s.maxMs.toFixed(3)}  mean ${s.meanMs.toFixed(3)}`;
  const head =
    r.workload === 'populate'
      ? `populate: ${n(r.ops)} znodes created by ${r.sessions} sessions × ${r.outstanding} outstanding in ${r.windowSeconds} s, ${r.procs} generator process(es)`
      : r.workload === 'watch'
        ? `watch: ${r.sessions} watcher sessions × ${r.outstanding} watched znodes (one writer, a set per znode in flight), ${r.windowSeconds} s measured after ${r.warmupSeconds} s warmup`
        : `${r.workload}: ${r.sessions} sessions × ${r.outstanding} outstanding, ${r.windowSeconds} s measured after ${r.warmupSeconds} s warmup, ${r.procs} generator process(es)`;
  const lines = [
    head,
    r.workload === 'watch'
      ? `  throughput  ${n(r.opsPerSec)} events/s (${n(r.ops)} events, ${n(r.latency.count)} sets)`
      : `  throughput  ${n(r.opsPerSec)} ops/s (${n(r.ops)} ops; ${r.repliesPerRead} replies per socket read)`,
    `  latency ms  ${lat(r.latency)}${r.workload === 'watch' ? '  (set → all events delivered)' : ''}`,
    ...Object.entries(r.byOp).map(([op, s]) => `  ${op.padEnd(10)}  ${lat(s)}  (${n(s.count)})`),
    `  errors      ${Object.keys(r.errors).length === 0 ? 'none' : JSON.stringify(r.errors)}${r.toleratedErrors > 0 ? ` (tolerated: ${r.toleratedErrors})` : ''}`,
    `  cpu         server ${r.serverCpu === null ? 'n/a (no --server-pid)' : `${r.serverCpu.pctOfCore}% of a core, ${r.serverCpu.usPerOp} µs/op`}; generator ${r.generatorCpu.pctOfCore}% of a core, ${r.generatorCpu.usPerOp} µs/op; rest of machine ${r.otherCpu === null ? 'n/a' : `${r.otherCpu.pctOfCore}%`}`,
    `  machine     ${r.machine}`,
  ];
  if (r.failures.length > 0) lines.push(`  FAILURES    ${r.failures.join('; ')}`);
  return lines.join('\n');
}
