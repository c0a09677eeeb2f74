// session-loss.test.ts — what the recipes do when the connection or the session goes: a leader
// stops leading while suspended and leads again when its session resumes with its node; a cache
// reloads after a restart and reports what changed meanwhile; a lock holder whose session expires
// loses the lock to the next contender, whose fencing token is larger — the case tokens exist for.
// Against zkts and Apache ZooKeeper 3.8, each a process killed (-9) and started again on the same
// port and data directory (test/client/restartable.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { LeaderLatch, Mutex, TreeCache } from '../../src/recipes/index.js';
import { RestartableServer } from '../client/restartable.js';
import { SERVER_KINDS } from '../client/servers.js';

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const kind of SERVER_KINDS) {
  describe(`recipes across session loss on ${kind.name}`, { skip: kind.skip }, () => {
    let server: RestartableServer;
    before(async () => {
      server = await RestartableServer.create(kind.name);
      await server.start();
    });
    after(async () => {
      await server?.dispose();
    });

    test('leader latch: not leader while suspended, leader again after the session resumes', async () => {
      await using zk = await ZooKeeper.connect(server.connectString, { sessionTimeoutMs: 15_000, reconnectDelayMs: 50 });
      const latch = new LeaderLatch(zk, '/sl/latch', 'me');
      const seen: string[] = [];
      latch.on('isLeader', () => seen.push('leader'));
      latch.on('notLeader', () => seen.push('not'));
      latch.start();
      assert.equal(await latch.await({ timeoutMs: 5000 }), true);
      await server.stop();
      await until('suspension', () => zk.state === 'suspended');
      assert.equal(latch.hasLeadership, false);
      await server.start();
      await until('leadership back', () => latch.hasLeadership, 30_000);
      assert.deepEqual(seen, ['leader', 'not', 'leader']);
      await latch.close();
    });

    test('tree cache: after a reconnect it reloads and reports changes made while it was away', async () => {
      // the longest reconnect pause (8 s), every time: the changes below happen while this client is
      // away, even when a loaded machine takes seconds to restart the server
      await using zk = await ZooKeeper.connect(server.connectString, { sessionTimeoutMs: 30_000, reconnectDelayMs: 8000, random: () => 0.999 });
      await zk.create('/sc');
      await zk.create('/sc/x', '1');
      const cache = new TreeCache(zk, '/sc');
      await cache.start();
      const events: string[] = [];
      cache.on('added', (n) => events.push(`+${n.path}`));
      cache.on('removed', (n) => events.push(`-${n.path}`));
      await server.stop();
      await server.start();
      {
        await using other = await ZooKeeper.connect(server.connectString);
        await other.delete('/sc/x');
        await other.create('/sc/y', '2');
      }
      assert.notEqual(zk.state, 'connected', 'the changes were made while the cache was disconnected');
      await until('the cache to follow', () => cache.get('/sc/x') === undefined && cache.get('/sc/y') !== undefined, 30_000);
      assert.deepEqual(events.sort(), ['+/sc/y', '-/sc/x']);
      await cache.close();
    });

    test('mutex: a holder whose session ends loses the lock; the next holder has a larger token', async () => {
      const a = await ZooKeeper.connect(server.connectString, { reconnectDelayMs: 50 });
      await using b = await ZooKeeper.connect(server.connectString);
      const ma = new Mutex(a, '/sl/lock');
      const mb = new Mutex(b, '/sl/lock');
      await ma.acquire();
      const tokenA = ma.token!;
      const waiting = mb.acquire({ timeoutMs: 10_000 });
      // a's session ends without a noticing first (as after a long GC pause): closed from elsewhere
      const expired = new Promise<void>((r) => a.once('expired', () => r()));
      const hijack = await ZooKeeper.connect(server.connectString, { sessionId: a.sessionId, sessionPassword: a.sessionPassword });
      await hijack.close();
      assert.equal(await waiting, true, 'the next contender takes the lock');
      assert.equal(ma.isHeld, true, 'while the old holder may still believe it holds it');
      assert.ok(mb.token! > tokenA, `the new token ${mb.token} is above the stale one ${tokenA}: a fenced resource refuses the old holder`);
      await expired;
      await mb.release();
      await a.close();
    });
  });
}
