// bench.test.ts — `zkts bench` from the built package (dist/cli/main.js, which `npm test` builds
// first) against an in-process server: every workload, small and short, prints one JSON object
// with ops counted, percentiles in order and no errors; --procs forks its generator processes
// from dist and, under tsx, from src (bench/load.ts). And every command answers --help with its
// usage (exit 0) and an unknown option with its name (exit 2). No timing is asserted.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ZooKeeper } from '../../src/client/index.js';
import { TestingServer } from '../../src/testing/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'dist/cli/main.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs node with args; asynchronous, so that the in-process server keeps serving. */
function run(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

interface Summary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

function checkResult(r: Run, workload: string): Record<string, unknown> {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'one JSON object on one line');
  const j = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(j.workload, workload);
  assert.ok(typeof j.ops === 'number' && j.ops > 0, `ops: ${j.ops}`);
  assert.ok(typeof j.opsPerSec === 'number' && j.opsPerSec > 0);
  assert.deepEqual(j.errors, {});
  assert.deepEqual(j.failures, []);
  const l = j.latency as Summary;
  assert.ok(l.count > 0);
  assert.ok(l.p50Ms <= l.p90Ms && l.p90Ms <= l.p99Ms && l.p99Ms <= l.p999Ms && l.p999Ms <= l.maxMs, JSON.stringify(l));
  assert.ok(Object.keys(j.byOp as object).length > 0);
  return j;
}

describe('zkts bench', () => {
  let server: TestingServer;
  before(async () => {
    assert.ok(existsSync(path.join(ROOT, 'dist/cli/bench-command.js')), 'dist/cli/bench-command.js: run `npm run build` first (npm test does)');
    server = await TestingServer.start();
  });
  after(async () => {
    await server.close();
  });
  const bench = (...args: string[]): Promise<Run> =>
    run([MAIN, 'bench', '--server', `127.0.0.1:${server.port}`, '--seconds', '1', '--warmup', '0', '--sessions', '2', '--outstanding', '2', '--json', ...args]);

  for (const w of ['read', 'write', 'mixed', 'create-delete']) {
    it(`${w}: one JSON object, ops counted, no errors`, async () => {
      const j = checkResult(await bench('--workload', w), w);
      assert.equal(j.sessions, 2);
      assert.equal(j.outstanding, 2);
    });
  }

  it('watch: events counted, one latency per set (set → both watchers notified)', async () => {
    const j = checkResult(await bench('--workload', 'watch'), 'watch');
    const byOp = j.byOp as Record<string, Summary>;
    // every counted event belongs to a set; each recorded set had both of its events counted
    assert.ok(byOp.notification!.count >= 2 * (j.latency as Summary).count);
    assert.ok(byOp.setData!.count > 0);
  });

  it('populate: creates exactly --count znodes and ends with the last create, not at the --seconds cap', async () => {
    // the cap is an hour and the child is killed after 60 s: a run that waited for the cap fails
    const r = await run([MAIN, 'bench', '--server', `127.0.0.1:${server.port}`, '--workload', 'populate', '--count', '2000',
      '--seconds', '3600', '--sessions', '4', '--outstanding', '8', '--json']);
    const j = checkResult(r, 'populate');
    assert.equal(j.ops, 2000);
    assert.equal(j.toleratedErrors, 0);
    assert.equal((j.latency as Summary).count, 2000);
    assert.ok(typeof j.windowSeconds === 'number' && j.windowSeconds > 0);
    const rate = 2000 / (j.windowSeconds as number); // ops/s is over the window it reports (rounded to 1 ms)
    assert.ok(Math.abs((j.opsPerSec as number) - rate) <= rate * 0.01, `${j.opsPerSec} ops/s over ${j.windowSeconds} s`);
    await using zk = await ZooKeeper.connect(server.connectString);
    const parents = (await zk.getChildren('/zkts-bench/rss')).sort();
    assert.deepEqual(parents, ['p-000', 'p-001']);
    const leaves = [...(await zk.getChildren('/zkts-bench/rss/p-000')), ...(await zk.getChildren('/zkts-bench/rss/p-001'))];
    assert.equal(new Set(leaves).size, 2000);
  });

  it('--procs 2 forks generator processes from dist, and from src under tsx (bench/load.ts)', async () => {
    const j = checkResult(await bench('--procs', '2'), 'read');
    assert.equal(j.procs, 2);
    const t = await run(['--import', 'tsx', path.join(ROOT, 'bench/load.ts'), '--port', String(server.port), '--seconds', '1', '--warmup', '0',
      '--sessions', '2', '--outstanding', '2', '--procs', '2', '--workload', 'write', '--json']);
    assert.equal(checkResult(t, 'write').procs, 2);
  });

  it('text output names throughput and p50/p99/p999', async () => {
    const r = await run([MAIN, 'bench', '--server', `127.0.0.1:${server.port}`, '--seconds', '1', '--warmup', '0', '--sessions', '1', '--outstanding', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /throughput +[\d,]+ ops\/s/);
    assert.match(r.stdout, /p50 [\d.]+ .*p99 [\d.]+ .*p999 [\d.]+/);
  });

  it('a bad value or a server that is not there is a clear error', async () => {
    const bad = await run([MAIN, 'bench', '--workload', 'nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--workload: unknown workload 'nope'/);
    const badServer = await run([MAIN, 'bench', '--server', 'localhost']);
    assert.equal(badServer.code, 2);
    assert.match(badServer.stderr, /--server: expected host:port/);
    const watchProcs = await run([MAIN, 'bench', '--workload', 'watch', '--procs', '2']);
    assert.equal(watchProcs.code, 2);
    const refused = await run([MAIN, 'bench', '--server', '127.0.0.1:1', '--seconds', '1']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /ECONNREFUSED 127\.0\.0\.1:1/);
  });
});

describe('zkts <command> --help', () => {
  before(() => assert.ok(existsSync(MAIN), 'dist/cli/main.js: run `npm run build` first (npm test does)'));
  for (const [cmd, usage] of [
    ['server', 'usage: zkts server'],
    ['shell', 'usage: zkts shell'],
    ['bench', 'usage: zkts bench'],
    ['snapshot', 'usage: zkts snapshot dump'],
    ['txnlog', 'usage: zkts txnlog dump'],
    ['version', 'usage: zkts version'],
  ] as const) {
    it(`${cmd}: --help prints its usage and exits 0; an unknown option is named, exit 2`, async () => {
      for (const h of ['--help', '-h']) {
        const r = await run([MAIN, cmd, h]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.startsWith(usage), r.stdout);
      }
      const bad = await run([MAIN, cmd, '--no-such-flag']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--no-such-flag/);
    });
  }

  it('the top-level usage lists bench', async () => {
    const r = await run([MAIN, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ {2}bench /m);
  });
});
