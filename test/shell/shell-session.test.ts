// shell-session.test.ts — the scripted zkCli.sh session of test/conformance/cli-sessions.test.ts,
// run through `zkts shell` and through zkCli.sh, each against its own zkts server (same config);
// the normalised transcripts (same normaliser: zxids, session ids, times, ports, banners) must be
// identical. The zkCli half is skipped when java or zkCli.sh is missing; the zkts shell half then
// still runs and is checked against zkCli's messages taken from its source (CliWrapperException,
// StatPrinter, ZooKeeperMain's WATCHER:: lines). With java and Apache ZooKeeper, both sessions
// are also run against two real ZooKeeper servers.
// Transcripts are written to test-artifacts/cli-sessions/shell.*.txt.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type Dialect,
  type Step,
  type Transcript,
  runSession,
  serverOptions,
  unifiedDiff,
  zkCli,
  zkCliSteps,
} from '../conformance/cli-sessions.test.js';
import { type ServerProcess, javaZooKeeperMissing, startCommandServer, startJavaZooKeeper } from '../conformance/differential.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const zktsMain = path.join(root, 'dist', 'cli', 'main.js');
const artifacts = path.join(root, 'test-artifacts', 'cli-sessions');
const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';

const zktsShell: Dialect = {
  ...zkCli,
  name: 'zkts shell',
  exe: process.execPath,
  args: (hostPort) => [zktsMain, 'shell', '-server', hostPort],
};

function zkCliMissing(): string | null {
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) return 'java is not installed';
  if (!existsSync(ZKCLI)) return `${ZKCLI} is missing (apt-get install zookeeper)`;
  return null;
}

function save(side: string, t: Transcript): void {
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(path.join(artifacts, `shell.${side}.raw.txt`), t.raw);
  writeFileSync(path.join(artifacts, `shell.${side}.txt`), t.normalised);
}

/** Commands the conformance script leaves out: quotas, history and redo, -w on ls and stat, setAcl -R, usage errors. */
const extraSteps: Step[] = [
  { line: 'create /q a' },
  { line: 'create /q/b bb' },
  { line: 'setquota -n 5 /q' },
  { line: 'listquota /q' },
  { line: 'setquota -b 100 /q' },
  { line: 'listquota /q' },
  { line: 'get /zookeeper/quota/q/zookeeper_limits' },
  { line: 'get /zookeeper/quota/q/zookeeper_stats' },
  { line: 'delquota -n /q' },
  { line: 'listquota /q' },
  { line: 'delquota /q' },
  { line: 'listquota /q' },
  { line: 'ls /zookeeper/quota' },
  { line: 'setquota -n 1 /q' }, // less than the existing count: a warning
  { line: 'setquota -n 1 /zookeeper/quota/q' },
  { line: 'history' },
  { line: 'redo 1' }, // create /q/b bb again
  { line: 'redo 99' },
  // Commands that trigger watches print nothing themselves, so nothing interleaves with the events.
  { line: 'create /q/c c' },
  { line: 'ls -w /q' },
  { line: 'stat -w /q/b' },
  { line: 'set /q/b b2', events: 1 },
  { line: 'delete /q/c', events: 1 },
  { line: 'setAcl -R /q world:anyone:cdrw' },
  { line: 'getAcl -s /q/b' },
  { line: 'ls -s /q' },
  { line: 'ls' }, // usage
  { line: 'create -c -e /q/x' },
  { line: 'create -t 100 -e /q/x' },
  { line: 'create /q/x x world:anyone' },
  { line: 'addWatch /q' }, // default mode PERSISTENT_RECURSIVE
  { line: 'set /q/b new', events: 1 },
  { line: 'removewatches /q -a', events: 1 },
  { line: 'removewatches /q' },
  { line: 'getEphemerals /nothing' },
  { line: 'reconfig -remove 3' }, // standalone: reconfig is disabled
  { line: 'reconfig -add server.4=127.0.0.1:1:2;3 -members server.1=127.0.0.1:1:2;3' },
  { line: 'config -s' },
  { line: 'whoami' },
  { line: 'quit', last: true },
];

const serverCommand = `${process.execPath} ${zktsMain} server`;

describe('zkts shell runs zkCli.sh\'s scripted session', () => {
  const servers: ServerProcess[] = [];
  before(() => {
    if (!existsSync(zktsMain)) throw new Error(`${path.relative(root, zktsMain)} is missing: build zkts first (npx tsc -p .)`);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  const start = async (): Promise<ServerProcess> => {
    const s = await startCommandServer(serverCommand, serverOptions);
    servers.push(s);
    return s;
  };

  it('prints what zkCli.sh prints, against zkts servers', {
    skip: zkCliMissing() ?? false,
    timeout: 90_000,
  }, async () => {
    const [forCli, forShell] = await Promise.all([start(), start()]);
    const [reference, subject] = await Promise.all([
      runSession(zkCli, forCli, zkCliSteps),
      runSession(zktsShell, forShell, zkCliSteps),
    ]);
    save('zkcli', reference);
    save('zkts-shell', subject);
    if (reference.normalised === subject.normalised) return;
    assert.fail(`zkts shell prints something else than zkCli.sh (normalised; raw in ${path.relative(root, artifacts)}/shell.*):\n` +
      unifiedDiff(reference.normalised, subject.normalised, ['zkCli.sh', 'zkts shell']));
  });

  it('prints what zkCli.sh prints for quotas, history, redo, watches and usage errors', {
    skip: zkCliMissing() ?? false,
    timeout: 90_000,
  }, async () => {
    const [forCli, forShell] = await Promise.all([start(), start()]);
    const [reference, subject] = await Promise.all([
      runSession(zkCli, forCli, extraSteps),
      runSession(zktsShell, forShell, extraSteps),
    ]);
    save('extra.zkcli', reference);
    save('extra.zkts-shell', subject);
    if (reference.normalised === subject.normalised) return;
    assert.fail(`zkts shell prints something else than zkCli.sh (normalised; raw in ${path.relative(root, artifacts)}/shell.extra.*):\n` +
      unifiedDiff(reference.normalised, subject.normalised, ['zkCli.sh', 'zkts shell']));
  });

  it('prints what zkCli.sh prints against Apache ZooKeeper too', {
    skip: zkCliMissing() ?? javaZooKeeperMissing() ?? false,
    timeout: 120_000,
  }, async () => {
    const [forCli, forShell] = await Promise.all([startJavaZooKeeper(serverOptions), startJavaZooKeeper(serverOptions)]);
    servers.push(forCli, forShell);
    for (const [name, steps] of [['zookeeper', zkCliSteps], ['extra.zookeeper', extraSteps]] as const) {
      const [reference, subject] = await Promise.all([runSession(zkCli, forCli, steps), runSession(zktsShell, forShell, steps)]);
      save(`${name}.zkcli`, reference);
      save(`${name}.zkts-shell`, subject);
      if (reference.normalised === subject.normalised) continue;
      assert.fail(`against ZooKeeper, zkts shell prints something else than zkCli.sh (${name}):\n` +
        unifiedDiff(reference.normalised, subject.normalised, ['zkCli.sh', 'zkts shell']));
    }
  });

  it('prints zkCli\'s messages and watch events (zkCli.sh not needed)', { timeout: 60_000 }, async () => {
    const server = await start();
    const t = await runSession(zktsShell, server, zkCliSteps);
    save('zkts-shell-alone', t);
    const n = t.normalised;
    assert.doesNotMatch(n, /\[test: \d+ watch event\(s\) missing/);
    const expected = [
      '> create /zc again\nNode already exists: /zc\n',
      '> create /zc/no/such x\nNode does not exist: /zc/no/such\n',
      '> create -e /zc/eph/child x\nEphemerals cannot have children: /zc/eph/child\n',
      '> set -v 7 /zc bad\nversion No is not valid : /zc\n',
      '> delete /zc\nNode not empty: /zc\n',
      '> get /zc/secret\nInsufficient permission : /zc/secret\n',
      '> getAcl /zc\n\'world,\'anyone\n: cdrwa\n',
      '> sync /zc\nSync is OK\n',
      '> set /zc/cont changed\n\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/zc/cont\n> set /zc/cont again\n> ',
      '> close\n\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n',
    ];
    for (const e of expected) assert.ok(n.includes(e), `missing from the transcript: ${JSON.stringify(e)}\n${n}`);
    assert.match(n, /^cZxid = Z\d+\nctime = <time>\nmZxid = Z\d+\nmtime = <time>\npZxid = Z\d+\ncversion = \d+\ndataVersion = \d+\naclVersion = \d+\nephemeralOwner = 0x0\ndataLength = \d+\nnumChildren = \d+$/m);
  });
});
