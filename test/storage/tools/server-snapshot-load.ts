// server-snapshot-load.ts — the storage layer seen from clients (not a test):
//   npm run build && node --import tsx test/storage/tools/server-snapshot-load.ts [--runs 2] [--seconds 10] [--cfg k=v ...]
// Starts dist/cli/main.js on a temporary dataDir (fsync on, snapCount as configured), creates
// 100,000 znodes with bench/load.ts populate and reads the server's RSS, then runs the write
// workload (16 sessions × 32 outstanding setData) a few times and prints throughput and latency
// percentiles: with the default snapCount every run crosses one or more snapshots of the 100k-node
// tree, so their pauses show up in p999 and max. Ends with the snapshot count and the RSS.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, rssKiB, startServer, type BenchServer } from '../../../bench/servers.js';
import type { LoadResult } from '../../../src/bench/load.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const runs = Number(opt('runs', '2'));
const seconds = Number(opt('seconds', '10'));
const znodes = Number(opt('znodes', '100000'));
const cfg: Record<string, string> = {};
argv.forEach((a, i) => {
  if (argv[i - 1] === '--cfg') cfg[a.split('=')[0]!] = a.split('=').slice(1).join('=');
});

function load(server: BenchServer, args: string[]): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'bench/load.ts'), '--port', String(server.port), '--server-pid', String(server.pid), '--json', ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as LoadResult);
      } catch {
        reject(new Error(`load.ts exited with ${code}: ${err}${out}`));
      }
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (kib: number): string => (kib / 1024).toFixed(0);
const snapshots = (s: BenchServer): number => {
  const v2 = join(s.dataDir, 'version-2');
  return existsSync(v2) ? readdirSync(v2).filter((f) => f.startsWith('snapshot.')).length : 0;
};

const server = await startServer('zkts', { cfg });
try {
  await sleep(1000);
  console.log(`idle RSS ${mib(rssKiB(server.pid).rss)} MiB`);
  const pop = await load(server, ['--workload', 'populate', '--count', String(znodes), '--seconds', '120']);
  await sleep(2000);
  const after = rssKiB(server.pid);
  console.log(`populate ${pop.ops} creates at ${pop.opsPerSec}/s; RSS ${mib(after.rss)} MiB (peak ${mib(after.hwm)}); ${snapshots(server)} snapshots`);
  for (let i = 0; i < runs; i++) {
    const r = await load(server, ['--workload', 'write', '--sessions', '16', '--outstanding', '32', '--seconds', String(seconds), '--warmup', '1']);
    const l = r.latency;
    console.log(
      `write run ${i + 1}: ${r.opsPerSec} ops/s  p50 ${l.p50Ms.toFixed(2)}  p99 ${l.p99Ms.toFixed(2)}  p999 ${l.p999Ms.toFixed(2)}  max ${l.maxMs.toFixed(2)} ms; ` +
        `${snapshots(server)} snapshots so far; RSS ${mib(rssKiB(server.pid).rss)} MiB`,
    );
  }
  await sleep(2000);
  const end = rssKiB(server.pid);
  console.log(`end RSS ${mib(end.rss)} MiB (peak ${mib(end.hwm)})`);
} finally {
  await server.stop();
}
