// testing-server.test.ts — TestingServer: a free port, a working session, restart() on the same
// port keeping the tree and the session (with its ephemerals) when there is a dataDir, and an
// empty tree without one.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { TestingServer } from '../../src/testing/index.js';

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('start on a free port, serve a session, stop', async () => {
  const server = await TestingServer.start();
  assert.ok(server.port > 0);
  assert.equal(server.connectString, `127.0.0.1:${server.port}`);
  const zk = await ZooKeeper.connect(server.connectString);
  await zk.create('/a', 'x');
  assert.equal((await zk.getData('/a')).data.toString(), 'x');
  await zk.close();
  await server.close();
  assert.equal(server.running, false);
});

test('restart with a dataDir keeps the port, the tree and the session with its ephemerals', async () => {
  await using server = await TestingServer.start({ dataDir: true, tickTime: 200 });
  const port = server.port;
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeoutMs: 4000, reconnectDelayMs: 50 });
  try {
    await zk.create('/kept', 'v');
    await zk.create('/eph', null, { mode: 'ephemeral' });
    const sessionId = zk.sessionId;
    const states: string[] = [];
    zk.on('state', (s) => states.push(s));
    await server.restart();
    assert.equal(server.port, port);
    await until('the session to resume', () => states.includes('connected') || (states.includes('suspended') && zk.state === 'connected'));
    assert.equal(zk.sessionId, sessionId);
    assert.equal((await zk.getData('/kept')).data.toString(), 'v');
    assert.notEqual(await zk.exists('/eph'), null);
  } finally {
    await zk.close();
  }
  const dir = server.dataDir;
  assert.ok(dir !== null && existsSync(dir));
  await server.close();
  assert.equal(existsSync(dir), false, 'a temporary dataDir is removed by close()');
});

test('restart without a dataDir starts empty', async () => {
  await using server = await TestingServer.start();
  const zk = await ZooKeeper.connect(server.connectString, { reconnectDelayMs: 50 });
  try {
    await zk.create('/gone', 'v');
    await server.restart();
    const other = await ZooKeeper.connect(server.connectString);
    assert.equal(await other.exists('/gone'), null);
    await other.close();
  } finally {
    await zk.close({ timeoutMs: 200 });
  }
});
