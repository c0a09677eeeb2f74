// retry.test.ts — retry policies are bounded and back off; withRetry retries transient errors
// only; MultiLock takes all or none.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ZkError, ZooKeeper } from '../../src/client/index.js';
import { ExponentialBackoffRetry, MultiLock, Mutex, RetryNTimes, RetryUntilElapsed, withRetry } from '../../src/recipes/index.js';
import { TestingServer } from '../../src/testing/index.js';

test('exponential backoff: base × [1, 2^(n+1) − 1] as in Curator, capped, bounded in count', () => {
  const lo = new ExponentialBackoffRetry(10, 5, 100, () => 0);
  const hi = new ExponentialBackoffRetry(10, 5, 100, () => 0.999999);
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => lo.delayMs(n)), [10, 10, 10, 10, 10]);
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => hi.delayMs(n)), [10, 30, 70, 100, 100]);
  assert.equal(hi.delayMs(5), null);
  assert.equal(new ExponentialBackoffRetry(1, 1000, 1e9, () => 0.5).delayMs(29), null, 'at most 29 retries');
  assert.equal(new RetryNTimes(2, 5).delayMs(2), null);
  assert.equal(new RetryUntilElapsed(100, 30).delayMs(0, 80), null);
  assert.equal(new RetryUntilElapsed(100, 30).delayMs(0, 10), 30);
});

test('withRetry retries connection loss, not ZNONODE, and gives up when the policy does', async () => {
  let calls = 0;
  assert.equal(await withRetry(new RetryNTimes(3, 1), async () => (++calls < 3 ? Promise.reject(new ZkError(-4)) : 'ok')), 'ok');
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(withRetry(new RetryNTimes(3, 1), async () => (++calls, Promise.reject(new ZkError(-101)))), { code: 'ZNONODE' });
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(withRetry(new RetryNTimes(2, 1), async () => (++calls, Promise.reject(new ZkError(-4)))), { code: 'ZCONNECTIONLOSS' });
  assert.equal(calls, 3);
});

let server: TestingServer;
before(async () => {
  server = await TestingServer.start();
});
after(async () => {
  await server.close();
});

test('multi-lock: all or none', async () => {
  await using a = await ZooKeeper.connect(server.connectString);
  await using b = await ZooKeeper.connect(server.connectString);
  const other = new Mutex(b, '/ml/2');
  await other.acquire();
  const ml = new MultiLock([new Mutex(a, '/ml/1'), new Mutex(a, '/ml/2')]);
  assert.equal(await ml.acquire({ timeoutMs: 100 }), false);
  assert.deepEqual(await a.getChildren('/ml/1'), [], 'the first lock was given back');
  await other.release();
  assert.equal(await ml.acquire({ timeoutMs: 2000 }), true);
  assert.ok(ml.tokens.every((t) => t !== null));
  await ml.release();
});
