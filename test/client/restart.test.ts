// restart.test.ts — the server is killed (SIGKILL) and started again on the same port and data
// directory, against Apache ZooKeeper 3.8 and zkts: the client waits, suspended, then resumes the
// same session; its ephemeral node is still there and its watches, replayed, fire. Sessions of
// 40 s leave a slow JVM start on a loaded machine plenty of time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type WatchedEvent, ZooKeeper } from '../../src/client/index.js';
import { RestartableServer } from './restartable.js';
import { SERVER_KINDS, connect, nextEvent, recorder, until } from './servers.js';

const brief = (e: WatchedEvent): string => (e.type === 'None' ? `None ${e.state}` : `${e.type} ${e.path}`);

for (const kind of SERVER_KINDS) {
  describe(`server restart: ${kind.name}`, { skip: kind.skip, timeout: 180_000 }, () => {
    let server: RestartableServer;
    before(async () => {
      server = await RestartableServer.create(kind.name, { maxSessionTimeout: '60000' });
      await server.start();
    });
    after(async () => {
      await server?.dispose();
    });

    test('after kill -9 and a restart, the session resumes with its ephemerals and watches', async () => {
      const zk = await connect(server.connectString, { sessionTimeoutMs: 40_000 });
      try {
        const id = zk.sessionId;
        const eph = await zk.create('/restart-eph', 'e', { mode: 'ephemeral' });
        await zk.create('/restart-data', '0');
        await zk.create('/restart-p');
        const r = recorder<WatchedEvent>();
        await zk.getData('/restart-data', { watch: r.fn });
        await zk.addWatch('/restart-p', r.fn, { mode: 'persistent' });
        const down = nextEvent(zk, 'suspended');
        await server.stop('SIGKILL');
        await down;
        const back = nextEvent(zk, 'reconnected', 60_000);
        await server.start(60_000);
        await back;
        assert.equal(zk.sessionId, id);
        assert.equal((await zk.exists(eph))?.ephemeralOwner, id, `the ephemeral survived the restart\n${server.output()}`);
        const other = await ZooKeeper.connect(server.connectString, { reconnectDelayMs: 50 });
        try {
          await other.setData('/restart-data', '1');
          await other.create('/restart-p/child');
        } finally {
          await other.close();
        }
        await until('the replayed watches to fire', () => (r.events.filter((e) => e.type !== 'None').length >= 2 ? true : undefined));
        assert.deepEqual(r.events.map(brief), [
          'None Disconnected',
          'None SyncConnected',
          'NodeDataChanged /restart-data',
          'NodeChildrenChanged /restart-p',
        ]);
      } finally {
        await zk.close();
      }
    });
  });
}
