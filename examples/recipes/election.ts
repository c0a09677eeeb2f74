// election.ts — leader election with fail-over. Three candidates join a LeaderLatch; one leads.
// When the leader's session ends (here: it closes; a crash or a network partition would end it
// after the session timeout) the next candidate in line becomes leader — only that one is woken,
// since each candidate watches just its predecessor. Then a LeaderSelector: leadership as a
// callback, handed round the candidates in turn.
//
//   $ npm start                                       (a zkts server on 127.0.0.1:2181, in another shell)
//   $ node --import tsx examples/recipes/election.ts  [connectString, default 127.0.0.1:2181]
//   $ node --import tsx examples/recipes/election.ts --in-process   (starts its own TestingServer)
//
// In your own code: import { LeaderLatch, LeaderSelector } from 'zkts/recipes'.
import { ZooKeeper } from '../../src/client/index.js';
import { LeaderLatch, LeaderSelector } from '../../src/recipes/index.js';
import { TestingServer } from '../../src/testing/index.js';

async function latches(servers: string): Promise<void> {
  const names = ['n1', 'n2', 'n3'];
  const sessions = await Promise.all(names.map(() => ZooKeeper.connect(servers)));
  const candidates = names.map((name, i) => {
    const latch = new LeaderLatch(sessions[i]!, '/examples/election/latch', name);
    latch.on('isLeader', (token) => console.log(`${name} is leader (fencing token ${token})`));
    latch.on('notLeader', () => console.log(`${name} is no longer leader`));
    latch.start();
    return latch;
  });
  for (let round = 0; round < names.length; round++) {
    const i = await Promise.race(candidates.map((c, j) => c.await().then(() => j)));
    console.log(`round ${round}: ${names[i]} leads; it crashes`);
    await candidates[i]!.close(); // a crash: its session would end, its node would go
    await sessions[i]!.close();
    candidates[i] = new LeaderLatch(sessions[i]!, '/examples/election/latch'); // never started: out of the race
  }
}

async function selector(servers: string): Promise<void> {
  const sessions = await Promise.all([1, 2, 3].map(() => ZooKeeper.connect(servers)));
  let turns = 0;
  await new Promise<void>((finish) => {
    const selectors = sessions.map(
      (zk, i) =>
        new LeaderSelector(zk, '/examples/election/selector', async (signal, token) => {
          console.log(`selector ${i} leads (token ${token}); turn ${++turns}`);
          await new Promise((r) => setTimeout(r, 100)); // lead for a while, or until signal aborts
          if (signal.aborted) console.log(`selector ${i} lost its connection while leading`);
          if (turns === 6) void Promise.all(selectors.map((s) => s.close())).then(() => finish());
        }),
    );
    for (const s of selectors) s.start();
  });
  await Promise.all(sessions.map((zk) => zk.close()));
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  await using server = arg === '--in-process' ? await TestingServer.start() : null;
  const servers = server?.connectString ?? arg ?? '127.0.0.1:2181';
  await latches(servers);
  await selector(servers);
}

await main();
