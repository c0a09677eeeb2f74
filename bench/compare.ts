// compare.ts — zkts against Apache ZooKeeper 3.8 on this machine, one server at a time (so the
// two never compete for CPU), with the same zoo.cfg and the same loads from bench/load.ts run in
// a separate process:
//
//   1. RSS of the idle server, then after creating 100,000 znodes of 100 bytes (VmRSS of the
//      server process from /proc; for ZooKeeper the java process);
//   2. read, write, mixed (90/10) and create-delete at 16 sessions × 32 outstanding;
//   3. single-session latency, 1 × 1, for read and write;
//
// and prints a table with the ratio zkts/ZooKeeper for each figure.
//
//   node --import tsx bench/compare.ts [--seconds 6] [--warmup 2] [--only zkts|zookeeper]
//        [--zk-force-sync auto|yes|no] [--zk-heap-mb 1000] [--znodes 100000] [--quiet-wait 10] [--json FILE]
//
// The machine may be shared: before each load it waits (up to --quiet-wait seconds) for the
// rest of the machine to go quiet, and every load reports the CPU the rest of the machine used
// during it (kernel loopback work included), so interference shows in the table.
// Durability: with --zk-force-sync auto (the default) zkts runs first; if it wrote a txn log
// (version-2/log.*) it is taken to fsync and ZooKeeper runs with its default forceSync=yes,
// otherwise ZooKeeper runs with forceSync=no so that neither server waits for the disk. The
// table says which. ZooKeeper gets -Xmx1000m, the heap its own zkServer.sh gives it.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { machineBusyTicks, machineNote, type LoadResult } from './load.js';
import { type BenchServer, REPO, rssKiB, type ServerKind, startServer, wroteTxnLog } from './servers.js';

interface CompareOptions {
  seconds: number;
  warmup: number;
  only: ServerKind | null;
  zkForceSync: 'auto' | 'yes' | 'no';
  zkHeapMb: number;
  znodes: number;
  jsonFile: string | null;
  quietWaitSeconds: number;
}

interface LoadSpec {
  name: string;
  workload: string;
  sessions: number;
  outstanding: number;
}

const LOADS: LoadSpec[] = [
  { name: 'read 16×32', workload: 'read', sessions: 16, outstanding: 32 },
  { name: 'write 16×32', workload: 'write', sessions: 16, outstanding: 32 },
  { name: 'mixed 16×32', workload: 'mixed', sessions: 16, outstanding: 32 },
  { name: 'create-delete 16×32', workload: 'create-delete', sessions: 16, outstanding: 32 },
  { name: 'read 1×1', workload: 'read', sessions: 1, outstanding: 1 },
  { name: 'write 1×1', workload: 'write', sessions: 1, outstanding: 1 },
];

interface ServerRun {
  kind: ServerKind;
  config: Record<string, string>;
  jvmFlags: string | null;
  durable: boolean;
  rssIdleKiB: number;
  rssAfterKiB: number;
  hwmAfterKiB: number;
  populate: LoadResult;
  loads: Record<string, LoadResult>;
}

const LOAD_TS = path.join(REPO, 'bench/load.ts');

/** Runs bench/load.ts in its own process and parses its JSON line. */
function runLoadProcess(server: BenchServer, args: string[], timeoutMs: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', LOAD_TS, '--port', String(server.port), '--server-pid', String(server.pid), '--json', ...args],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as LoadResult;
        if (r.failures.length > 0) process.stderr.write(`  warning: ${r.failures.join('; ')}\n`);
        resolve(r);
      } catch {
        reject(new Error(`load.ts ${args.join(' ')} exited with ${code}:\n${err}${out}`));
      }
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Other work on this machine (other people's tests) skews a 2-core benchmark. Waits, at most
 * `maxWaitMs`, for a second in which the machine is busy for less than `quietPct` of one core;
 * returns the last busy figure seen.
 */
async function waitForQuiet(maxWaitMs: number, quietPct = 15): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let pct = NaN;
  for (let i = 0; i < 600; i++) {
    const b0 = machineBusyTicks();
    await sleep(1_000);
    const b1 = machineBusyTicks();
    if (b0 === null || b1 === null) return NaN;
    pct = b1 - b0; // ticks are 1/100 s, so ticks per second = percent of one core
    if (pct < quietPct || Date.now() >= deadline) return pct;
  }
  return pct;
}

async function runServer(kind: ServerKind, opts: CompareOptions, zkForceSyncNo: boolean): Promise<ServerRun> {
  const cfg: Record<string, string> = kind === 'zookeeper' && zkForceSyncNo ? { forceSync: 'no' } : {};
  const jvmFlags = kind === 'zookeeper' ? `-Xmx${opts.zkHeapMb}m` : null;
  const log = (s: string): void => void process.stderr.write(`[${kind}] ${s}\n`);
  log(`starting${Object.keys(cfg).length > 0 ? ` with ${JSON.stringify(cfg)}` : ''}${jvmFlags !== null ? ` ${jvmFlags}` : ''}`);
  const server = await startServer(kind, { cfg, jvmFlags: jvmFlags ?? undefined });
  try {
    await sleep(2_000);
    const idle = rssKiB(server.pid);
    log(`idle RSS ${mib(idle.rss)} MiB; creating ${opts.znodes} znodes`);
    await waitForQuiet(opts.quietWaitSeconds * 1000);
    const populate = await runLoadProcess(server, ['--workload', 'populate', '--count', String(opts.znodes), '--seconds', '120'], 180_000);
    await sleep(2_000);
    const after = rssKiB(server.pid);
    log(`${populate.opsPerSec} creates/s; RSS ${mib(after.rss)} MiB (peak ${mib(after.hwm)} MiB)`);
    const loads: Record<string, LoadResult> = {};
    for (const l of LOADS) {
      const before = await waitForQuiet(opts.quietWaitSeconds * 1000);
      if (before >= 15) log(`machine still ${before}% busy before ${l.name} (other work); running anyway`);
      const r = await runLoadProcess(
        server,
        ['--workload', l.workload, '--sessions', String(l.sessions), '--outstanding', String(l.outstanding),
          '--seconds', String(opts.seconds), '--warmup', String(opts.warmup)],
        (opts.seconds + opts.warmup) * 1000 + 60_000,
      );
      loads[l.name] = r;
      log(`${l.name}: ${r.opsPerSec} ops/s, p50 ${r.latency.p50Ms} p99 ${r.latency.p99Ms} ms, server ${r.serverCpu?.pctOfCore}% cpu, generator ${r.generatorCpu.pctOfCore}%, rest of machine ${r.otherCpu?.pctOfCore}%`);
    }
    const durable = kind === 'zookeeper' ? !zkForceSyncNo : wroteTxnLog(server.dataDir);
    return { kind, config: cfg, jvmFlags, durable, rssIdleKiB: idle.rss, rssAfterKiB: after.rss, hwmAfterKiB: after.hwm, populate, loads };
  } finally {
    await server.stop();
  }
}

const mib = (kib: number): string => (kib / 1024).toFixed(1);

interface Row {
  metric: string;
  better: 'higher' | 'lower' | 'info';
  zkts: number | null;
  zk: number | null;
}

function rows(z: ServerRun | undefined, j: ServerRun | undefined): Row[] {
  const out: Row[] = [];
  const pick = (f: (r: ServerRun) => number): [number | null, number | null] => [z ? f(z) : null, j ? f(j) : null];
  for (const l of LOADS) {
    const get = (r: ServerRun): LoadResult => r.loads[l.name]!;
    if (l.outstanding > 1) out.push({ metric: `${l.name} ops/s`, better: 'higher', ...two(pick((r) => get(r).opsPerSec)) });
    out.push({ metric: `${l.name} p50 ms`, better: 'lower', ...two(pick((r) => get(r).latency.p50Ms)) });
    out.push({ metric: `${l.name} p99 ms`, better: 'lower', ...two(pick((r) => get(r).latency.p99Ms)) });
    out.push({ metric: `${l.name} p999 ms`, better: 'lower', ...two(pick((r) => get(r).latency.p999Ms)) });
    out.push({ metric: `${l.name} server CPU µs/op`, better: 'lower', ...two(pick((r) => get(r).serverCpu?.usPerOp ?? NaN)) });
  }
  out.push({ metric: 'max rest-of-machine CPU % in a load', better: 'info', ...two(pick((r) => Math.max(...Object.values(r.loads).map((l) => l.otherCpu?.pctOfCore ?? NaN)))) });
  out.push({ metric: `create ${znodesOf(z ?? j)} znodes ops/s`, better: 'higher', ...two(pick((r) => r.populate.opsPerSec)) });
  out.push({ metric: 'RSS idle MiB', better: 'lower', ...two(pick((r) => r.rssIdleKiB / 1024)) });
  out.push({ metric: `RSS with ${znodesOf(z ?? j)} znodes MiB`, better: 'lower', ...two(pick((r) => r.rssAfterKiB / 1024)) });
  out.push({ metric: 'RSS growth for them MiB', better: 'lower', ...two(pick((r) => (r.rssAfterKiB - r.rssIdleKiB) / 1024)) });
  return out;
}

const two = ([zkts, zk]: [number | null, number | null]): { zkts: number | null; zk: number | null } => ({ zkts, zk });
const znodesOf = (r: ServerRun | undefined): string => (r?.populate.ops ?? 0).toLocaleString('en-US');

function formatTable(rs: Row[]): string {
  const fmt = (v: number | null): string =>
    v === null || Number.isNaN(v) ? '—' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(v >= 10 ? 1 : 3);
  const ratio = (r: Row): string => {
    if (r.better === 'info' || r.zkts === null || r.zk === null || !(r.zk > 0)) return '—';
    const q = r.zkts / r.zk;
    const good = r.better === 'higher' ? q >= 1 : q <= 1;
    return `${q.toFixed(2)}${good ? '' : ' ✗'}`;
  };
  const head = ['metric', 'zkts', 'ZooKeeper', 'zkts/ZK', 'better'];
  const body = rs.map((r) => [r.metric, fmt(r.zkts), fmt(r.zk), ratio(r), r.better]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? '-' : '') + '-'.repeat(w + 1) + (i === 0 ? '' : ':')).join('|')}|`, ...body.map(line)].join('\n');
}

function parseArgs(argv: string[]): CompareOptions {
  const o: CompareOptions = { seconds: 6, warmup: 2, only: null, zkForceSync: 'auto', zkHeapMb: 1000, znodes: 100_000, jsonFile: null, quietWaitSeconds: 10 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[++i];
    const num = (min: number, max: number): number => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${a}: expected an integer in ${min}..${max}`);
      return n;
    };
    if (a === '--seconds') o.seconds = num(1, 60);
    else if (a === '--warmup') o.warmup = num(0, 30);
    else if (a === '--znodes') o.znodes = num(1, 1_000_000);
    else if (a === '--zk-heap-mb') o.zkHeapMb = num(64, 65_536);
    else if (a === '--quiet-wait') o.quietWaitSeconds = num(0, 120);
    else if (a === '--json') o.jsonFile = v ?? null;
    else if (a === '--only' && (v === 'zkts' || v === 'zookeeper')) o.only = v;
    else if (a === '--zk-force-sync' && (v === 'auto' || v === 'yes' || v === 'no')) o.zkForceSync = v;
    else throw new Error(`unknown argument ${a} ${v ?? ''}`);
  }
  return o;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  let zkts: ServerRun | undefined;
  let zk: ServerRun | undefined;
  if (opts.only !== 'zookeeper') zkts = await runServer('zkts', opts, false);
  const zkNoSync = opts.zkForceSync === 'no' || (opts.zkForceSync === 'auto' && zkts !== undefined && !zkts.durable);
  if (opts.only !== 'zkts') zk = await runServer('zookeeper', opts, zkNoSync);

  const durability = [
    zkts ? `zkts ${zkts.durable ? 'wrote a txn log (fsync as configured)' : 'kept the tree in memory only (no txn log, no fsync)'}` : null,
    zk ? `ZooKeeper forceSync=${zkNoSync ? 'no (no fsync, for a like-for-like comparison)' : 'yes (fsync per group commit)'}, ${zk.jvmFlags}` : null,
  ].filter((s) => s !== null);
  const table = formatTable(rows(zkts, zk));
  process.stdout.write(
    [
      '',
      table,
      '',
      `machine: ${machineNote()}; one server at a time; loads from bench/load.ts in a separate process (${opts.warmup} s warmup + ${opts.seconds} s measured each)`,
      `durability: ${durability.join('; ')}`,
      `${Date.now() - started > 0 ? `total ${((Date.now() - started) / 1000).toFixed(0)} s` : ''}; ratio = zkts/ZooKeeper, ✗ marks where zkts is worse`,
      '',
    ].join('\n'),
  );
  if (opts.jsonFile !== null) {
    writeFileSync(opts.jsonFile, JSON.stringify({ machine: machineNote(), options: opts, zkts, zookeeper: zk, durability }, null, 2));
  }
}

const hard = setTimeout(() => {
  process.stderr.write('compare: still running after 10 minutes; giving up\n');
  process.exit(3);
}, 600_000);
hard.unref();
main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`compare: ${e.stack ?? e.message}\n`);
    process.exit(2);
  },
);
