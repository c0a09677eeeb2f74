// contention-worker.ts — one contender process of contention.test.ts. It takes a recipe (mutex,
// semaphore or leader election) `rounds` times, holding it a few random ms each time, and appends
// an event per acquire and release to its own log (JSON lines): the monotonic clock of the machine
// (shared by every process), the fencing token, the worker. Release is recorded before the lock
// node is deleted and acquire after the recipe says it is held, so if the recipe is safe the
// intervals of the log never overlap more than the recipe allows.
import { appendFileSync } from 'node:fs';
import { ZooKeeper } from '../../src/client/index.js';
import { ExponentialBackoffRetry, LeaderSelector, Mutex, Semaphore } from '../../src/recipes/index.js';

const [kind, connectString, path, roundsArg, logFile, worker] = process.argv.slice(2) as [string, string, string, string, string, string];
const rounds = Number(roundsArg);
const retry = new ExponentialBackoffRetry(50, 40, 1_000);
const now = (): string => process.hrtime.bigint().toString();
const record = (ev: string, token: bigint | null, extra: Record<string, unknown> = {}): void =>
  appendFileSync(logFile, JSON.stringify({ ev, t: now(), token: token?.toString() ?? null, worker, ...extra }) + '\n');
const hold = (signal?: AbortSignal): Promise<void> =>
  new Promise((r) => {
    const t = setTimeout(r, 5 + Math.floor(Math.random() * 25));
    signal?.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
  });

const zk = await ZooKeeper.connect(connectString, { sessionTimeoutMs: 30_000, reconnectDelayMs: 100 });
zk.on('state', (s) => record('state', null, { state: s }));

async function runMutex(): Promise<void> {
  const m = new Mutex(zk, path, { retry, data: worker });
  for (let i = 0; i < rounds; i++) {
    try {
      await m.acquire();
    } catch (e) {
      record('error', null, { message: String(e) });
      continue;
    }
    record('acquire', m.token);
    await hold();
    record('release', m.token);
    await m.release();
  }
}

async function runSemaphore(): Promise<void> {
  const s = new Semaphore(zk, path, 2, { retry });
  for (let i = 0; i < rounds; i++) {
    let lease;
    try {
      lease = await s.acquire();
    } catch (e) {
      record('error', null, { message: String(e) });
      continue;
    }
    if (lease === null) continue;
    record('acquire', lease.token);
    await hold();
    record('release', lease.token);
    await lease.release();
  }
}

async function runLeader(): Promise<void> {
  let turns = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const sel = new LeaderSelector(
    zk,
    path,
    async (signal, token) => {
      record('acquire', token);
      await hold(signal);
      record('release', token, signal.aborted ? { lost: true } : {});
      if (++turns >= rounds) resolveDone();
    },
    { retry, id: worker, onError: (e) => record('error', null, { message: String(e) }) },
  );
  sel.start();
  await done;
  await sel.close();
}

if (kind === 'mutex') await runMutex();
else if (kind === 'semaphore') await runSemaphore();
else await runLeader();
record('done', null);
await zk.close();
process.exit(0);
