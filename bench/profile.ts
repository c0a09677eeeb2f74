// profile.ts — CPU profiles of zkts under load: for each workload, start a fresh zkts (dist/)
// under `node --cpu-prof`, run bench/load.ts against it in a separate process, stop the server
// (SIGTERM; the profile is written at exit) and print its hot spots, mapped to src/*.ts.
//
//   node --import tsx bench/profile.ts [--workloads read,write] [--seconds 8] [--top 15] [--out DIR]
//
// Profiles are kept in DIR (default: a temp dir) for Chrome DevTools or speedscope.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatSummary, summarise } from './cpuprofile-summary.js';
import { machineNote } from '../src/bench/load.js';
import { REPO, startServer } from './servers.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function runLoad(port: number, pid: number, workload: string, seconds: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(REPO, 'bench/load.ts'), '--port', String(port), '--server-pid', String(pid),
        '--workload', workload, '--seconds', String(seconds), '--warmup', '1'],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else reject(new Error(`load.ts exited with ${code}\n${out}`));
    });
  });
}

async function main(): Promise<void> {
  const workloads = arg('--workloads', 'read,write').split(',');
  const seconds = Number(arg('--seconds', '8'));
  const top = Number(arg('--top', '15'));
  const out = path.resolve(arg('--out', mkdtempSync(path.join(tmpdir(), 'zkts-profile-'))));
  if (!existsSync(out)) mkdirSync(out, { recursive: true });
  process.stdout.write(`machine: ${machineNote()}\n`);
  for (const w of workloads) {
    const name = `zkts-${w}-${Date.now()}.cpuprofile`;
    const server = await startServer('zkts', { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', out, '--cpu-prof-name', name] });
    let report: string;
    try {
      report = await runLoad(server.port, server.pid, w, seconds);
    } finally {
      await server.stop();
    }
    const file = path.join(out, name);
    if (!existsSync(file)) throw new Error(`no profile written (${readdirSync(out).join(', ')}); server output:\n${server.output()}`);
    process.stdout.write(`\n${report}\n\n${formatSummary(summarise(file, top))}\n`);
  }
  process.stdout.write(`\nprofiles in ${out}\n`);
}

const hard = setTimeout(() => {
  process.stderr.write('profile: still running after 5 minutes; giving up\n');
  process.exit(3);
}, 300_000);
hard.unref();
main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`profile: ${e.stack ?? e.message}\n`);
    process.exit(2);
  },
);
