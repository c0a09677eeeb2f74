// basic.ts — the zkts client on one page: connect with a chroot, session events, create in
// several modes, read and update with versions, typed errors, a transaction, a watch as an async
// iterator, and `await using` to close the session.
//
//   $ node --import tsx examples/client/basic.ts                  (an in-process zkts server)
//   $ node --import tsx examples/client/basic.ts 127.0.0.1:2181   (any ZooKeeper or zkts server)
//
// In your own code: import { ZooKeeper } from 'zkts/client'.
import { ZooKeeper, isZkError } from '../../src/client/index.js';
import { ZkServer } from '../../src/server/zk-server.js';

async function main(servers: string): Promise<void> {
  // Make a home for the example, then work inside it through a chroot.
  const root = `/zkts-example-${process.pid}`;
  {
    await using admin = await ZooKeeper.connect(servers);
    await admin.create(root).catch((e) => (isZkError(e, 'ZNODEEXISTS') ? root : Promise.reject(e)));
  }

  await using zk = await ZooKeeper.connect(`${servers}${root}`, { sessionTimeoutMs: 10_000 });
  console.log(`session 0x${zk.sessionId.toString(16)}, timeout ${zk.sessionTimeoutMs} ms, on ${zk.connectedServer}`);
  zk.on('state', (state, previous) => console.log(`session: ${previous} → ${state}`));

  // Nodes: persistent with data, ephemeral-sequential members (gone when the session ends).
  await zk.create('/config', JSON.stringify({ color: 'blue' }));
  const me = await zk.create('/member-', 'me', { mode: 'ephemeralSequential' });
  console.log('joined as', me);

  // Read, then update only if nobody changed it since (optimistic concurrency with versions).
  const { data, stat } = await zk.getData('/config');
  console.log('config', data.toString(), 'version', stat.version);
  await zk.setData('/config', JSON.stringify({ color: 'green' }), { version: stat.version });
  try {
    await zk.setData('/config', 'stale', { version: stat.version });
  } catch (e) {
    if (!isZkError(e, 'ZBADVERSION')) throw e;
    console.log(`stale write refused: ${e.code} (${e.rc}) on ${e.path}`);
  }

  // A watch as an async iterator: every change below /jobs, until we leave the loop.
  await zk.create('/jobs');
  const changes = zk.watch('/jobs', { mode: 'recursive' });
  await changes.ready;

  // A transaction: all or nothing, results typed op by op.
  const [job, , cfg] = await zk
    .transaction()
    .create('/jobs/job-', 'payload', { mode: 'persistentSequential' })
    .check('/config', 1)
    .setData('/config', JSON.stringify({ color: 'red' }), 1)
    .commit();
  console.log('queued', job.path, 'config now at version', cfg.stat.version);
  await zk.delete(job.path);

  let seen = 0;
  for await (const ev of changes) {
    console.log('watch:', ev.type, ev.path);
    if (++seen === 2) break; // leaving the loop removes the watch on the server
  }

  console.log('children of /:', (await zk.getChildren('/')).sort());
  // Leaving the block closes the session (`await using`); its ephemeral member node goes with it.
}

async function withServer(run: (servers: string) => Promise<void>): Promise<void> {
  const given = process.argv[2];
  if (given !== undefined) return run(given);
  const server = new ZkServer({
    host: '127.0.0.1', port: 0, tickTime: 2000, minSessionTimeout: 4000, maxSessionTimeout: 40000,
    maxClientCnxns: 0, maxFrameBytes: 0xfffff, extendedTypesEnabled: false, reconfigEnabled: false,
    containerCheckIntervalMs: 60000, containerMaxNeverUsedIntervalMs: 0, serverId: 1,
  });
  const { host, port } = await server.start();
  try {
    await run(`${host}:${port}`);
  } finally {
    await server.stop();
  }
}

await withServer(main);
