// differential.test.ts — runs every script in differential-scripts.ts against the real Apache
// ZooKeeper (Debian's 3.8, standalone, temp dataDir, free port on 127.0.0.1) and against zkts,
// and fails on any difference in what they answer (zxids, times, session ids normalised; see
// differential.ts).
//
// Environment:
//   ZKTS_CMD                 command that starts the server under test, given a zoo.cfg path
//                            (default: node dist/cli/main.js server); "zookeeper" runs a second
//                            real ZooKeeper instead, which validates the harness and the scripts.
//                            Without ZKTS_CMD and without dist/cli/main.js, that is what happens.
//   ZKTS_DIFF_STRICT_ORDER=1 also compare the order of children, ephemerals and whoAmI entries
//                            (ZooKeeper returns Java hash-set order).
//   ZKTS_DIFF_ONLY=text      run only the scripts whose name contains text.
//   ZKTS_DIFF_VERSION_STRICT=1  also fail on steps where ZooKeeper 3.9 differs from the 3.8
//                            reference (steps with a versionNote); by default they are reported.
// Skipped, with the reason, when java or ZooKeeper's jar is missing.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { OpCode } from '../../src/protocol/opcodes.js';
import {
  type ServerOptions,
  type ServerProcess,
  assertSameBehaviour,
  compareRuns,
  runScript,
  javaZooKeeperMissing,
  startCommandServer,
  startJavaZooKeeper,
} from './differential.js';
import { scripts } from './differential-scripts.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const zktsMain = path.join(root, 'dist', 'cli', 'main.js');

/** Both servers: TTL nodes on, containers checked every 100 ms. */
const serverOptions: ServerOptions = {
  cfg: { extendedTypesEnabled: 'true', 'znode.container.checkIntervalMs': '100' },
  systemProperties: { 'zookeeper.extendedTypesEnabled': 'true', 'znode.container.checkIntervalMs': '100' },
};

function subjectCommand(): { command: string | null; note: string } {
  const env = process.env.ZKTS_CMD;
  if (env === 'zookeeper') return { command: null, note: 'ZKTS_CMD=zookeeper: comparing two real ZooKeepers' };
  if (env !== undefined && env !== '') return { command: env, note: `server under test: ${env}` };
  if (!existsSync(zktsMain)) {
    return { command: null, note: `${path.relative(root, zktsMain)} is not built: comparing two real ZooKeepers (npm run build, or set ZKTS_CMD)` };
  }
  return { command: `node ${zktsMain} server`, note: 'server under test: zkts (dist/cli/main.js)' };
}

const missing = javaZooKeeperMissing();
const { command, note } = subjectCommand();
const only = process.env.ZKTS_DIFF_ONLY ?? '';
const strictOrder = process.env.ZKTS_DIFF_STRICT_ORDER === '1';
const versionStrict = process.env.ZKTS_DIFF_VERSION_STRICT === '1';

describe('differential: Apache ZooKeeper vs the server under test', { skip: missing === null ? false : `no real ZooKeeper: ${missing}` }, () => {
  let reference: ServerProcess | undefined;
  let subject: ServerProcess | undefined;

  before(async () => {
    process.stderr.write(`# differential: ${note}\n`);
    [reference, subject] = await Promise.all([
      startJavaZooKeeper(serverOptions),
      command === null ? startJavaZooKeeper(serverOptions) : startCommandServer(command, serverOptions),
    ]);
  });

  after(async () => {
    await Promise.all([reference?.stop(), subject?.stop()]);
  });

  test('the harness notices a difference', async () => {
    const script = {
      name: 'self-test',
      steps: [
        { name: 'connect', connect: {} },
        { name: 'children', req: { type: OpCode.getChildren2, path: '/zookeeper', watch: false } },
        { name: 'stat', req: { type: OpCode.exists, path: '/zookeeper/quota', watch: false } },
      ],
    };
    const run = await runScript(reference!, script); // reads only: the reference's tree stays as it was
    assert.deepEqual(compareRuns(run, structuredClone(run), script), []);
    const changed = structuredClone(run);
    const stat = (changed.observations[2]!.result as { body: { stat: Record<string, unknown> } }).body.stat;
    stat.cversion = 1;
    stat.ephemeralOwner = 'S2';
    (changed.observations[1]!.result as { body: { children: string[] } }).body.children.push('extra');
    const ms = compareRuns(run, changed, script);
    assert.deepEqual(ms.map((m) => [m.step, m.field]), [
      [1, 'result.body.children[2]'],
      [2, 'result.body.stat.cversion'],
      [2, 'result.body.stat.ephemeralOwner'],
    ]);
  });

  for (const script of scripts) {
    if (!script.name.includes(only)) continue;
    test(script.name, async (t) => {
      const left = { name: 'zookeeper', host: reference!.host, port: reference!.port };
      const right = { name: command === null ? 'zookeeper#2' : 'zkts', host: subject!.host, port: subject!.port };
      try {
        await assertSameBehaviour(script, left, right, {
          strictOrder,
          versionStrict,
          onTolerated: (report) => t.diagnostic(`tolerated (ZooKeeper 3.8 vs 3.9):\n${report}`),
        });
      } catch (e) {
        if (command !== null) {
          const out = subject!.output().split('\n').slice(-20).join('\n');
          (e as Error).message += `\n--- last lines of ${right.name}'s output ---\n${out}`;
        }
        throw e;
      }
    });
  }
});
