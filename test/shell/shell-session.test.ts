// shell-session.test.ts — the scripted zkCli.sh session of test/conformance/cli-sessions.test.ts,
// run through `zkts shell` and through zkCli.sh, each against its own zkts server (same config);
// the normalised transcripts (same normaliser: zxids, session ids, times, ports, banners) must be
// identical. The zkCli half is skipped when java or zkCli.sh is missing; the zkts shell half then
// still runs and is checked against zkCli's messages taken from its source (CliWrapperException,
// StatPrinter, ZooKeeperMain's WATCHER:: lines).
// Transcripts are written to test-artifacts/cli-sessions/shell.*.txt.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type Dialect,
  type Transcript,
  runSession,
  serverOptions,
  unifiedDiff,
  zkCli,
  zkCliSteps,
} from '../conformance/cli-sessions.test.js';
import { type ServerProcess, startCommandServer } from '../conformance/differential.js';

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
