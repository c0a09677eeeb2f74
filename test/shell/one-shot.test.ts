// one-shot.test.ts — `zkts shell -server X cmd args` runs one command and exits with zkCli's code:
// 0 when it worked, 1 when ZooKeeper refused it (message on stderr), 127 for an unknown command,
// 2 for bad flags (ours; zkCli prints its usage); `-w json` prints one JSON object. When java
// and zkCli.sh are here, zkCli.sh's one-shot mode is run on the same commands and must exit with
// the same codes and print the same error line.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ZkServer } from '../../src/server/zk-server.js';
import { startServer } from '../server/start-server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const zktsMain = path.join(root, 'dist', 'cli', 'main.js');
const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(exe: string, args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${exe} ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const zkCliMissing = ((): string | false => {
  if (!existsSync(ZKCLI)) return `${ZKCLI} is missing`;
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) return 'java is not installed';
  return false;
})();

describe('zkts shell one-shot mode', () => {
  let server: ZkServer;
  let hostPort: string;
  const shell = (...args: string[]): Promise<Run> => run(process.execPath, [zktsMain, 'shell', '-server', hostPort, ...args]);

  before(async () => {
    if (!existsSync(zktsMain)) throw new Error(`${path.relative(root, zktsMain)} is missing: build zkts first (npx tsc -p .)`);
    const s = await startServer();
    server = s.server;
    hostPort = `127.0.0.1:${s.port}`;
  });
  after(async () => {
    await server.stop();
  });

  it('exits 0 and prints the answer when the command works', async () => {
    const c = await shell('create', '/one', 'hello world');
    assert.deepEqual(c, { code: 0, stdout: 'Created /one\n', stderr: '' });
    const g = await shell('get', '/one');
    assert.deepEqual(g, { code: 0, stdout: 'hello world\n', stderr: '' });
    const l = await shell('ls', '/');
    assert.equal(l.code, 0);
    assert.equal(l.stdout, '[one, zookeeper]\n');
  });

  it('works inside a chroot given in -server', async () => {
    await shell('create', '/app');
    const c = await run(process.execPath, [zktsMain, 'shell', '-server', `${hostPort}/app`, 'create', '-e', '/in', 'x']);
    assert.deepEqual(c, { code: 0, stdout: 'Created /in\n', stderr: '' });
    const l = await run(process.execPath, [zktsMain, 'shell', '-server', `${hostPort}/app`, 'ls', '/']);
    assert.deepEqual(l, { code: 0, stdout: '[]\n', stderr: '' }); // the ephemeral went with its session
    await run(process.execPath, [zktsMain, 'shell', '-server', `${hostPort}/app`, 'create', '/kept', 'k']);
    assert.deepEqual(await shell('get', '/app/kept'), { code: 0, stdout: 'k\n', stderr: '' });
  });

  it('exits 1 with zkCli\'s message on stderr when ZooKeeper refuses', async () => {
    assert.deepEqual(await shell('get', '/missing'), { code: 1, stdout: '', stderr: 'Node does not exist: /missing\n' });
    await shell('create', '/dup');
    assert.deepEqual(await shell('create', '/dup'), { code: 1, stdout: '', stderr: 'Node already exists: /dup\n' });
    assert.deepEqual(await shell('set', '-v', '9', '/dup', 'x'), { code: 1, stdout: '', stderr: 'version No is not valid : /dup\n' });
  });

  it('exits 127 for an unknown command, after the usage', async () => {
    const r = await shell('frobnicate');
    assert.equal(r.code, 127);
    assert.match(r.stderr, /^ZooKeeper -server host:port -client-configuration properties-file cmd args\n/);
    assert.match(r.stderr, /\tls \[-s\] \[-w\] \[-R\] path\n/);
    assert.match(r.stderr, /Command not found: Command not found frobnicate\n$/);
  });

  it('exits 2 on bad flags, and 1 when no server answers', async () => {
    const bad = await run(process.execPath, [zktsMain, 'shell', '-timeout', 'soon', 'ls', '/']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-timeout/);
    const none = await run(process.execPath, [zktsMain, 'shell', '-server', '127.0.0.1:1', '-timeout', '1500', 'ls', '/']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /could not connect to 127\.0\.0\.1:1/);
  });

  it('-w json prints one JSON object per command, errors included', async () => {
    await shell('create', '/j', 'data');
    const ok = await run(process.execPath, [zktsMain, 'shell', '-server', hostPort, '-w', 'json', 'get', '-s', '/j']);
    assert.equal(ok.code, 0);
    const v = JSON.parse(ok.stdout) as { command: string; ok: boolean; result: { data: string; stat: { dataLength: number } } };
    assert.equal(v.ok, true);
    assert.equal(v.command, 'get -s /j');
    assert.equal(v.result.data, 'data');
    assert.equal(v.result.stat.dataLength, 4);
    const bad = await run(process.execPath, [zktsMain, 'shell', '-server', hostPort, '-w', 'json', 'delete', '/missing']);
    assert.equal(bad.code, 1);
    assert.deepEqual(JSON.parse(bad.stdout), { command: 'delete /missing', ok: false, error: 'Node does not exist: /missing' });
    assert.equal(bad.stderr, '');
  });

  it('exits with the codes zkCli.sh exits with, printing the same error', { skip: zkCliMissing, timeout: 120_000 }, async () => {
    await shell('create', '/same', 's');
    const cases = [['get', '/same'], ['get', '/nothing'], ['create', '/same'], ['delete', '/same/x'], ['frobnicate']];
    for (const args of cases) {
      const [ours, theirs] = await Promise.all([shell(...args), run(ZKCLI, ['-server', hostPort, ...args], 60_000)]);
      assert.equal(ours.code, theirs.code, `exit code of "${args.join(' ')}" (zkCli.sh: ${theirs.stdout}${theirs.stderr})`);
      const lastError = (s: string): string | undefined => s.trimEnd().split('\n').filter((l) => !/^(SLF4J|log4j|\d{4}-)/.test(l)).at(-1);
      if (ours.code !== 0) assert.equal(lastError(ours.stderr), lastError(theirs.stderr), `stderr of "${args.join(' ')}"`);
    }
  });
});
