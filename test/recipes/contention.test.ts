// contention.test.ts — recipe safety under contention, with the server killed midway. A real zkts
// server process (`node dist/cli/main.js server zoo.cfg`), and then Apache ZooKeeper 3.8 (Debian's,
// test/client/restartable.ts; skipped with the reason when it cannot run), serves eleven worker
// processes: four
// take a Mutex, four a Semaphore of 2 leases, three run a LeaderSelector, each a bounded number of
// times. Once every recipe has been taken a few times the server is killed with SIGKILL and
// started again on the same port and dataDir; the sessions resume with their ephemerals (lock
// nodes) and the workers carry on. Each worker logs acquire/release with the machine's monotonic
// clock and the fencing token; the checker then proves, from the merged logs:
//   - at most N holders at any instant (mutex and election 1, semaphore 2);
//   - fencing tokens strictly increase from one holder to the next (mutex, election), and every
//     lease's token is unique (semaphore);
//   - every acquire is released by its own worker, every worker finished, and some acquisitions
//     happened after the restart (the restart really was midway).
import assert from 'node:assert/strict';
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ZooKeeper } from '../../src/client/index.js';
import { RestartableServer } from '../client/restartable.js';
import { javaZooKeeperMissing } from '../conformance/server-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORKER = path.join(ROOT, 'test/recipes/contention-worker.ts');
const MAIN = path.join(ROOT, 'dist/cli/main.js');

interface Event {
  ev: string;
  t: string;
  token: string | null;
  worker: string;
  state?: string;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const addr = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return addr.port;
}

async function until(what: string, timeoutMs: number, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

class ServerProcess {
  child: ChildProcess | null = null;
  out = '';
  constructor(readonly cfgFile: string, readonly port: number) {}
  async start(): Promise<void> {
    const child = spawn(process.execPath, [MAIN, 'server', this.cfgFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (b: Buffer) => (this.out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (this.out += b.toString()));
    await until('the server to accept sessions', 20_000, async () => {
      if (child.exitCode !== null) throw new Error(`server exited:\n${this.out}`);
      try {
        const zk = await ZooKeeper.connect(`127.0.0.1:${this.port}`, { signal: AbortSignal.timeout(1_000) });
        await zk.close({ timeoutMs: 500 });
        return true;
      } catch {
        return false;
      }
    });
  }
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

function readLog(file: string): Event[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Event);
}

/** The checker: N holders at most, tokens as the recipe promises, every acquire released. */
function check(kind: string, events: Event[], maxHolders: number, monotonic: boolean): { acquires: number; maxSeen: number } {
  const timeline = events.filter((e) => e.ev === 'acquire' || e.ev === 'release').sort((a, b) => (BigInt(a.t) < BigInt(b.t) ? -1 : BigInt(a.t) > BigInt(b.t) ? 1 : 0));
  const holders = new Map<string, string>(); // token -> worker
  let maxSeen = 0;
  let lastToken = -1n;
  const seen = new Set<string>();
  let acquires = 0;
  for (const e of timeline) {
    assert.ok(e.token !== null);
    if (e.ev === 'acquire') {
      acquires++;
      assert.ok(!seen.has(e.token), `${kind}: token ${e.token} handed out twice`);
      seen.add(e.token);
      if (monotonic) {
        assert.ok(BigInt(e.token) > lastToken, `${kind}: fencing token ${e.token} (worker ${e.worker}) not above the previous holder's ${lastToken}`);
        lastToken = BigInt(e.token);
      }
      holders.set(e.token, e.worker);
      maxSeen = Math.max(maxSeen, holders.size);
      assert.ok(holders.size <= maxHolders, `${kind}: ${holders.size} holders at t=${e.t}: ${[...holders.values()].join(', ')}`);
    } else {
      assert.equal(holders.get(e.token), e.worker, `${kind}: release of ${e.token} by a worker that does not hold it`);
      holders.delete(e.token);
    }
  }
  assert.equal(holders.size, 0, `${kind}: acquired and never released: ${[...holders.keys()].join(', ')}`);
  return { acquires, maxSeen };
}

interface KillableServer {
  readonly port: number;
  start(): Promise<void>;
  kill(): Promise<void>;
  dispose(): Promise<void>;
}

async function zktsProcess(): Promise<KillableServer> {
  assert.ok(existsSync(MAIN), 'dist/cli/main.js: run `npm run build` first (npm test does)');
  const dir = mkdtempSync(path.join(tmpdir(), 'zkts-contention-'));
  const port = await freePort();
  const cfgFile = path.join(dir, 'zoo.cfg');
  writeFileSync(
    cfgFile,
    [
      'tickTime=200',
      'minSessionTimeout=1000',
      'maxSessionTimeout=30000',
      `dataDir=${path.join(dir, 'data')}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      'metricsProvider.httpPort=0',
    ].join('\n') + '\n',
  );
  const server = new ServerProcess(cfgFile, port);
  return {
    port,
    start: () => server.start(),
    kill: () => server.kill(),
    async dispose() {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function zookeeperProcess(): Promise<KillableServer> {
  const server = await RestartableServer.create('zookeeper', { maxSessionTimeout: '30000' });
  return { port: server.port, start: () => server.start(), kill: () => server.stop('SIGKILL'), dispose: () => server.dispose() };
}

const zkMissing = javaZooKeeperMissing();
const KINDS: { name: string; skip: string | false; make: () => Promise<KillableServer> }[] = [
  { name: 'zkts', skip: false, make: zktsProcess },
  { name: 'zookeeper', skip: zkMissing === null ? false : `Apache ZooKeeper 3.8 cannot run here: ${zkMissing}`, make: zookeeperProcess },
];

for (const kind of KINDS) {
  test(`${kind.name}: mutex, semaphore (2) and election stay safe across a server kill -9 and restart`, { timeout: 90_000, skip: kind.skip }, async () => {
    const server = await kind.make();
    const port = server.port;
    const dir = mkdtempSync(path.join(tmpdir(), 'zkts-contention-logs-'));
    const workers: ChildProcess[] = [];
    try {
      await server.start();
      const plan = [
        { kind: 'mutex', n: 4, rounds: 15, max: 1, monotonic: true },
        { kind: 'semaphore', n: 4, rounds: 15, max: 2, monotonic: false },
        { kind: 'leader', n: 3, rounds: 8, max: 1, monotonic: true },
      ];
      const logs = new Map<string, string[]>();
      const exits: Promise<number | null>[] = [];
      for (const p of plan) {
        const files: string[] = [];
        for (let i = 0; i < p.n; i++) {
          const log = path.join(dir, `${p.kind}-${i}.jsonl`);
          files.push(log);
          const w = fork(WORKER, [p.kind, `127.0.0.1:${port}`, `/contention/${p.kind}`, String(p.rounds), log, `${p.kind}-${i}`], {
            execArgv: ['--import', 'tsx'],
            cwd: ROOT,
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          });
          workers.push(w);
          exits.push(new Promise((r) => w.once('exit', (code) => r(code))));
        }
        logs.set(p.kind, files);
      }
      const acquiresOf = (kind: string): number => logs.get(kind)!.flatMap(readLog).filter((e) => e.ev === 'acquire').length;
      await until('every recipe to be taken a few times', 30_000, () => plan.every((p) => acquiresOf(p.kind) >= 4));

      await server.kill();
      const restartT = process.hrtime.bigint();
      await new Promise((r) => setTimeout(r, 300));
      await server.start();

      let timer: NodeJS.Timeout | undefined;
      const codes = await Promise.race([
        Promise.all(exits),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('workers did not finish within 40 s')), 40_000))),
      ]).finally(() => clearTimeout(timer));
      assert.deepEqual(codes, workers.map(() => 0), 'every worker finished');

      for (const p of plan) {
        const events = logs.get(p.kind)!.flatMap(readLog);
        const errors = events.filter((e) => e.ev === 'error');
        const { acquires, maxSeen } = check(p.kind, events, p.max, p.monotonic);
        assert.equal(acquires, p.n * p.rounds, `${p.kind}: every round acquired (errors: ${JSON.stringify(errors)})`);
        assert.equal(events.filter((e) => e.ev === 'done').length, p.n);
        assert.ok(events.some((e) => e.ev === 'acquire' && BigInt(e.t) > restartT), `${p.kind}: acquisitions after the restart`);
        assert.ok(events.some((e) => e.ev === 'state' && e.state === 'suspended'), `${p.kind}: workers saw the server go away`);
        assert.equal(maxSeen, p.max, `${p.kind}: the limit was reached (contention really happened)`);
      }
    } finally {
      for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
      await server.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
