// The error boundary: a plugin that throws, one that hangs past its deadline and one whose
// listener leaks a backlog fail their own requests (or lose their own events), logged and
// counted; the server and every other session carry on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, definePlugin, OpCode } from '../../src/plugin/index.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { testOptions } from '../server/start-server.js';
import { create, dataOf, getData, pollUntil, setData, spin, startWithPlugins } from './helpers.js';

test('a throwing node behaviour fails only the requests it covers, with SystemError, logged once a second', async () => {
  const thrower = definePlugin({
    name: 'thrower',
    setup: (ctx) =>
      ctx.nodeBehaviour('/boom', {
        validateWrite: () => {
          throw new Error('kaboom');
        },
        read: () => {
          throw new TypeError('read kaboom');
        },
      }),
  });
  const f = await startWithPlugins([thrower]);
  try {
    const a = await f.connect();
    const b = await f.connect();
    for (let i = 0; i < 5; i++) assert.equal((await create(a, `/boom`, 'x')).err, Code.SystemError);
    assert.equal((await getData(a, '/boom')).err, Code.SystemError);
    // the same session and another one go on elsewhere
    assert.equal((await create(a, '/fine', 'x')).err, Code.OK);
    assert.equal(dataOf(await getData(b, '/fine')), 'x');
    const faults = f.logs.filter((l) => l.includes('plugin.1 (thrower)') && l.includes('kaboom'));
    assert.equal(faults.filter((l) => l.includes('validateWrite')).length, 1, 'rate-limited: one line a second per hook');
    assert.ok(faults.some((l) => l.includes('read') && l.includes('TypeError')));
    const hooks = f.server.plugins!.status()[0]!.hooks;
    assert.equal(hooks['nodeBehaviour(/boom).validateWrite']!.faults, 5);
  } finally {
    await f.stop();
  }
});

test('a synchronous hook past its deadline fails its request; the server keeps serving', async () => {
  const slow = definePlugin({
    name: 'slow',
    syncDeadlineMs: 20,
    setup: (ctx) =>
      ctx.requestStage('beforePrep', (req) => {
        if ('path' in req && req.path === '/slow') spin(60);
      }),
  });
  const f = await startWithPlugins([slow]);
  try {
    const a = await f.connect();
    const b = await f.connect();
    assert.equal((await create(a, '/slow', 'x')).err, Code.SystemError);
    assert.equal((await getData(b, '/slow')).err, Code.SystemError);
    assert.equal((await create(b, '/quick', 'x')).err, Code.OK);
    assert.ok(f.logs.some((l) => /plugin\.1 \(slow\): requestStage\(beforePrep\): took \d+\.\d ms, past its 20 ms deadline/.test(l)));
    const s = f.server.plugins!.status()[0]!.hooks['requestStage(beforePrep)']!;
    assert.equal(s.overruns, 2);
  } finally {
    await f.stop();
  }
});

test("a plugin's faultCode replaces SystemError; a hook that returns a promise on the request path is a fault", async () => {
  const p = definePlugin({
    name: 'async-by-mistake',
    faultCode: Code.OperationTimeout,
    setup: (ctx) =>
      ctx.nodeBehaviour('/a', {
        validateWrite: (async () => undefined) as never,
      }),
  });
  const f = await startWithPlugins([p]);
  try {
    const c = await f.connect();
    assert.equal((await create(c, '/a', 'x')).err, Code.OperationTimeout);
    assert.ok(f.logs.some((l) => l.includes('returned a promise')));
  } finally {
    await f.stop();
  }
});

test('a verdict of the wrong shape is a fault, not a silent pass', async () => {
  const p = definePlugin({
    name: 'sloppy',
    setup: (ctx) => {
      ctx.nodeBehaviour('/s', { validateWrite: () => ({ data: 'not a buffer' }) as never, refuseDelete: () => 'no' as never });
      ctx.requestStage('beforePrep', (req) => ('path' in req && req.path === '/t' ? ({ error: 'no' } as never) : undefined));
    },
  });
  const f = await startWithPlugins([p]);
  try {
    const c = await f.connect();
    assert.equal((await create(c, '/s', 'x')).err, Code.SystemError);
    assert.equal((await create(c, '/t', 'x')).err, Code.SystemError);
  } finally {
    await f.stop();
  }
});

test('a change listener that hangs times out per txn and the next txns still arrive; one that throws is counted', async () => {
  const seen: bigint[] = [];
  let calls = 0;
  const p = definePlugin({
    name: 'hanging-listener',
    setup: (ctx) =>
      ctx.changeListener({
        deadlineMs: 100,
        onTxn: (hdr) => {
          calls++;
          if (calls === 1) return new Promise<void>(() => {}); // never settles
          if (calls === 2) throw new Error('listener bug');
          seen.push(hdr.zxid);
          return undefined;
        },
      }),
  });
  const f = await startWithPlugins([p]);
  try {
    const c = await f.connect(); // createSession: call 1 hangs
    await create(c, '/x1'); // call 2 throws
    await create(c, '/x2');
    await create(c, '/x3');
    await pollUntil('the listener to move past the hung call', 5000, async () => (seen.length >= 2 ? true : undefined));
    const stats = f.server.plugins!.status()[0]!.listeners[0]!;
    assert.equal(stats.timedOut, 1);
    assert.equal(stats.failed, 1);
    assert.equal(stats.delivered, 2);
    assert.equal(stats.dropped, 0);
    assert.ok(f.logs.some((l) => l.includes('did not finish within its 100 ms deadline')));
  } finally {
    await f.stop();
  }
});

test('a listener that never keeps up holds at most its queue bound; the rest is dropped and counted', async () => {
  const p = definePlugin({
    name: 'leaky',
    asyncDeadlineMs: 200,
    setup: (ctx) => ctx.changeListener({ queue: 10, deadlineMs: 60_000, onTxn: () => new Promise<void>(() => {}) }),
  });
  const f = await startWithPlugins([p]);
  try {
    const c = await f.connect();
    await create(c, '/n');
    const writes = [];
    for (let i = 0; i < 200; i++) writes.push(setData(c, '/n', `v${i}`));
    assert.ok((await Promise.all(writes)).every((r) => r.err === Code.OK), 'writes are not held up by the listener');
    const stats = f.server.plugins!.status()[0]!.listeners[0]!;
    assert.ok(stats.queued <= 10, `queued ${stats.queued}`);
    // 202 txns (createSession, create, 200 setData): the one in the listener's hands counts as queued
    assert.equal(stats.dropped, 202 - stats.queued);
  } finally {
    await f.stop();
  }
});

test('the byte bound holds too: big txns are dropped before the event count is reached', async () => {
  const p = definePlugin({
    name: 'bytes',
    asyncDeadlineMs: 200,
    setup: (ctx) => ctx.changeListener({ queue: 1000, queueBytes: 64 * 1024, onTxn: () => new Promise<void>(() => {}) }),
  });
  const f = await startWithPlugins([p]);
  try {
    const c = await f.connect();
    const big = Buffer.alloc(20_000, 1);
    for (let i = 0; i < 10; i++) await create(c, `/big${i}`, big);
    const stats = f.server.plugins!.status()[0]!.listeners[0]!;
    assert.ok(stats.queuedBytes <= 64 * 1024);
    assert.ok(stats.dropped >= 6, `dropped ${stats.dropped}`);
  } finally {
    await f.stop();
  }
});

test('a setup that throws or hangs fails the start with a ZktsError naming the plugin; earlier plugins are stopped', async () => {
  const stopped: string[] = [];
  const good = definePlugin({ name: 'good', setup: (ctx) => ctx.onStop(() => void stopped.push('good')) });
  const throws = definePlugin({
    name: 'throws',
    setup: () => {
      throw new Error('no config file');
    },
  });
  const hangs = definePlugin({ name: 'hangs', asyncDeadlineMs: 100, setup: () => new Promise<void>(() => {}) });
  for (const [bad, message] of [
    [throws, /plugin\.2 \(throws\): setup threw Error: no config file/],
    [hangs, /plugin\.2 \(hangs\): setup did not finish within its 100 ms deadline/],
  ] as const) {
    stopped.length = 0;
    const server = new ZkServer(testOptions({ plugins: [good, bad] }));
    await assert.rejects(server.start(), (e: Error & { code?: string }) => e.code === 'ZKTS_ERR_CONFIG' && message.test(e.message));
    assert.deepEqual(stopped, ['good']);
    await server.stop();
  }
});

test('a protocol whose listen fails fails the start and the server stops again', async () => {
  const p = definePlugin({
    name: 'bad-proto',
    setup: (ctx) =>
      ctx.protocol({
        name: 'nope',
        listen: async () => {
          throw new Error('EADDRINUSE');
        },
      }),
  });
  const server = new ZkServer(testOptions({ plugins: [p] }));
  await assert.rejects(server.start(), /plugin\.1 \(bad-proto\): protocol nope: listen failed: Error: EADDRINUSE/);
});

test('hooks can only be registered during setup', async () => {
  let later: (() => void) | null = null;
  const p = definePlugin({
    name: 'late',
    setup: (ctx) => {
      later = () => ctx.nodeBehaviour('/late', {});
    },
  });
  const f = await startWithPlugins([p]);
  try {
    assert.throws(() => later!(), /must be called during setup/);
  } finally {
    await f.stop();
  }
});

test('no plugins: no host, and the server works as before', async () => {
  const server = new ZkServer(testOptions());
  assert.equal(server.plugins, null);
  const { port } = await server.start();
  try {
    const { TestClient } = await import('../conformance/test-client.js');
    const c = await TestClient.connect('127.0.0.1', port);
    assert.equal((await c.request({ type: OpCode.exists, path: '/', watch: false })).err, Code.OK);
    c.destroy();
  } finally {
    await server.stop();
  }
});
