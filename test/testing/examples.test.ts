// examples.test.ts — the runnable examples the README points to (examples/client/basic.ts,
// examples/recipes/lock.ts and election.ts) run as the README says, as child processes, against a
// TestingServer started here, so they cannot rot: each must exit 0 and print what it claims to
// show. basic.ts also runs with no argument (its own in-process server) and lock.ts with
// --in-process, the other two ways the README gives.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ZooKeeper } from '../../src/client/index.js';
import { TestingServer } from '../../src/testing/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function runExample(file: string, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, file), ...args], {
    cwd: ROOT,
    timeout: 60_000,
  });
  return stdout;
}

let server: TestingServer;
before(async () => {
  server = await TestingServer.start();
});
after(async () => {
  await server.close();
});

function checkBasic(out: string): void {
  assert.match(out, /^session 0x[0-9a-f]+, timeout \d+ ms, on 127\.0\.0\.1:\d+$/m);
  assert.match(out, /^joined as \/member-0000000001$/m); // the sequence is the parent's cversion: /config came first
  assert.match(out, /^stale write refused: ZBADVERSION \(-103\) on \/config$/m);
  assert.match(out, /^queued \/jobs\/job-\d{10} config now at version 2$/m);
  assert.deepEqual(out.match(/^watch: .*$/gm), ['watch: NodeCreated /jobs/job-0000000000', 'watch: NodeDeleted /jobs/job-0000000000']);
  assert.match(out, /^children of \/: \[ 'config', 'jobs', 'member-0000000001' \]$/m);
}

test('examples/client/basic.ts against a TestingServer leaves only its root behind', async () => {
  checkBasic(await runExample('examples/client/basic.ts', server.connectString));
  await using zk = await ZooKeeper.connect(server.connectString);
  const [root] = (await zk.getChildren('/')).filter((c) => c.startsWith('zkts-example-'));
  assert.ok(root !== undefined);
  // the ephemeral member went with the example's session
  assert.deepEqual((await zk.getChildren(`/${root}`)).sort(), ['config', 'jobs']);
});

test('examples/client/basic.ts with its own in-process server', async () => {
  checkBasic(await runExample('examples/client/basic.ts'));
});

function checkLock(out: string): void {
  const holds = [...out.matchAll(/^(alice|bob|carol) holds the lock, fencing token (\d+)$/gm)];
  assert.equal(holds.length, 6, out);
  const tokens = holds.map((m) => BigInt(m[2]!));
  for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, `tokens increase: ${tokens.join(' ')}`);
  const writes = /^writes, in order: (.*)$/m.exec(out)?.[1]?.split(' ');
  assert.deepEqual(writes, holds.map((m, i) => `${m[1]}#${holds.slice(0, i).filter((h) => h[1] === m[1]).length}`));
  assert.match(out, /^stale token 1 < \d+: write refused$/m);
}

test('examples/recipes/lock.ts against a TestingServer and with --in-process', async () => {
  checkLock(await runExample('examples/recipes/lock.ts', server.connectString));
  checkLock(await runExample('examples/recipes/lock.ts', '--in-process'));
});

test('examples/recipes/election.ts against a TestingServer', async () => {
  const out = await runExample('examples/recipes/election.ts', server.connectString);
  const rounds = [...out.matchAll(/^round (\d): (n\d) leads; it crashes$/gm)];
  assert.deepEqual(rounds.map((m) => m[1]), ['0', '1', '2']);
  assert.deepEqual(new Set(rounds.map((m) => m[2])), new Set(['n1', 'n2', 'n3']), 'each candidate led once');
  const turns = [...out.matchAll(/^selector (\d) leads \(token \d+\); turn (\d)$/gm)];
  assert.deepEqual(turns.map((m) => m[2]), ['1', '2', '3', '4', '5', '6']);
  assert.equal(new Set(turns.map((m) => m[1])).size, 3, 'leadership went round all three selectors');
});
