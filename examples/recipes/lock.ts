// lock.ts — a distributed lock guarding a resource, with fencing tokens. Three workers (three
// sessions, as three processes would have) take the same Mutex in turn; the resource remembers
// the largest token it has seen and refuses smaller ones, which is what keeps it safe even from a
// holder whose session expired while it was paused (its lock was already someone else's).
//
//   $ npm start                                   (a zkts server on 127.0.0.1:2181, in another shell)
//   $ node --import tsx examples/recipes/lock.ts  [connectString, default 127.0.0.1:2181]
//   $ node --import tsx examples/recipes/lock.ts --in-process   (starts its own TestingServer)
//
// In your own code: import { Mutex } from 'zkts/recipes'.
import { ZooKeeper } from '../../src/client/index.js';
import { Mutex } from '../../src/recipes/index.js';
import { TestingServer } from '../../src/testing/index.js';

/** A store that accepts a write only with a token at least as large as any it has seen. */
class FencedStore {
  private highest = -1n;
  readonly log: string[] = [];
  write(token: bigint, entry: string): void {
    if (token < this.highest) throw new Error(`stale token ${token} < ${this.highest}: write refused`);
    this.highest = token;
    this.log.push(entry);
  }
}

async function worker(servers: string, name: string, store: FencedStore): Promise<void> {
  await using zk = await ZooKeeper.connect(servers);
  const lock = new Mutex(zk, '/examples/locks/report', { data: name });
  for (let i = 0; i < 2; i++) {
    await lock.withLock(async (token) => {
      console.log(`${name} holds the lock, fencing token ${token}`);
      await new Promise((r) => setTimeout(r, 100)); // the critical section
      store.write(token, `${name}#${i}`);
    });
  }
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  await using server = arg === '--in-process' ? await TestingServer.start() : null;
  const servers = server?.connectString ?? arg ?? '127.0.0.1:2181';
  const store = new FencedStore();
  await Promise.all(['alice', 'bob', 'carol'].map((n) => worker(servers, n, store)));
  console.log('writes, in order:', store.log.join(' '));

  // A holder whose session ended while it was paused comes back with its old token: refused.
  try {
    store.write(1n, 'zombie');
  } catch (e) {
    console.log((e as Error).message);
  }
}

await main();
