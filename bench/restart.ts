// restart.ts — times zkts restarting on a saved dataDir, several rounds, each on a fresh copy of
// it (a start writes a snapshot into its dataDir, so the next round would load another state).
// Per round: ms from spawning `node dist/cli/main.js server` until exists(--ready-path) answers on
// a new session, the server's CPU ms by then (all threads), the CPU ms and wall ms until its
// startup snapshot is written (the "Snapshotting:" log line), and its RSS then. The machine's
// load average is printed with each round: on a shared machine the CPU figures are the ones to read.
//
//   node --import tsx bench/restart.ts --data DIR [--rounds 3] [--ready-path /zkts-bench/rss/p-999/n-999999]
//        [--node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"]
//
// DIR is a dataDir (holding version-2/) left by a stopped server, e.g. by
// `bench/compare.ts --only recovery --server zkts` or by `zkts bench --workload populate`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { POPULATE_BASE } from '../src/bench/load.js';
import { populatePath } from '../src/bench/workloads.js';
import { cpuMs, rssKiB, startServer } from './servers.js';

function parse(argv: string[]): { data: string; rounds: number; readyPath: string; nodeArgs: string[] } {
  const o = { data: '', rounds: 3, readyPath: populatePath(POPULATE_BASE, 999_999), nodeArgs: [] as string[] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--data') o.data = path.resolve(v());
    else if (a === '--rounds') o.rounds = Math.max(1, Math.min(20, Number(v())));
    else if (a === '--ready-path') o.readyPath = v();
    else if (a === '--node-args') o.nodeArgs = v().split(' ').filter((s) => s !== '');
    else throw new Error(`unknown option ${a}`);
  }
  if (o.data === '') throw new Error('--data DIR is required');
  return o;
}

const loadAvg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const opts = parse(process.argv.slice(2));
for (let round = 1; round <= opts.rounds; round++) {
  const dir = mkdtempSync(path.join(tmpdir(), 'zkts-restart-'));
  try {
    execFileSync('cp', ['-a', '--sparse=always', opts.data, path.join(dir, 'data')]);
    const before = loadAvg();
    const server = await startServer('zkts', {
      cfg: { dataDir: path.join(dir, 'data'), 'admin.enableServer': 'false' },
      readyPath: opts.readyPath,
      startTimeoutMs: 300_000,
      nodeArgs: opts.nodeArgs,
    });
    const spawned = performance.now() - server.startMs;
    // then the startup snapshot, wherever it happens (before or after serving)
    const deadline = performance.now() + 300_000;
    while (!server.output().includes('Snapshotting:') && performance.now() < deadline) await sleep(20);
    const snapMs = performance.now() - spawned;
    const snapCpuMs = cpuMs(server.pid);
    const rss = rssKiB(server.pid).rss;
    await server.stop();
    process.stdout.write(
      `round ${round}: serving after ${Math.round(server.startMs)} ms, ${Math.round(server.startCpuMs)} ms CPU; ` +
        `startup snapshot written after ${Math.round(snapMs)} ms, ${Math.round(snapCpuMs)} ms CPU; RSS then ${Math.round(rss / 1024)} MiB ` +
        `(load average before ${before}, after ${loadAvg()})\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
