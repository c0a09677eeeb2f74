// interactive.test.ts — the parts of `zkts shell` a terminal sees: zkCli's prompt
// ("[zk: host:port(STATE) N] "), tab completion of command words and znode paths, printwatches,
// connect and close. Driven in-process through the Shell class against an in-process server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ZkServer } from '../../src/server/zk-server.js';
import { Shell } from '../../src/shell/shell.js';
import { pollUntil } from '../conformance/test-client.js';
import { startServer } from '../server/start-server.js';

describe('zkts shell, interactively', () => {
  let server: ZkServer;
  let hostPort: string;
  let shell: Shell;
  let stdout = '';
  let stderr = '';

  before(async () => {
    const s = await startServer();
    server = s.server;
    hostPort = `127.0.0.1:${s.port}`;
    shell = new Shell(
      { server: hostPort, timeoutMs: 10_000, readOnly: false, waitForConnection: true, json: false, compat: '3.9', command: [] },
      { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
    );
    await shell.connect(hostPort, true);
  });
  after(async () => {
    await shell.zk?.close();
    await server.stop();
  });

  const complete = (line: string): Promise<[string[], string]> =>
    new Promise((resolve) => shell.complete(line, (_, r) => resolve(r)));

  it('prompts as zkCli does and counts commands', async () => {
    assert.equal(shell.prompt, `[zk: ${hostPort}(CONNECTED) 0] `);
    await shell.executeLine('create /one 1');
    await shell.executeLine('');
    assert.equal(shell.prompt, `[zk: ${hostPort}(CONNECTED) 1] `);
  });

  it('completes command words, then znode paths', async () => {
    assert.deepEqual(await complete('getA'), [['getAcl', 'getAllChildrenNumber'], 'getA']);
    assert.deepEqual(await complete('pri'), [['printwatches'], 'pri']);
    await shell.executeLine('create /one/two 2');
    await shell.executeLine('create /one/three 3');
    assert.deepEqual(await complete('ls /o'), [['/one'], '/o']);
    assert.deepEqual(await complete('get -s /one/t'), [['/one/three', '/one/two'], '/one/t']);
    assert.deepEqual(await complete('ls /nothing/x'), [[], '/nothing/x']);
  });

  it('printwatches off silences watch events; on brings them back', async () => {
    await shell.executeLine('printwatches off');
    await shell.executeLine('get -w /one');
    stdout = '';
    await shell.executeLine('set /one x');
    await shell.executeLine('get -w /one');
    await shell.executeLine('printwatches');
    assert.equal(stdout, 'x\nprintwatches is off\n');
    await shell.executeLine('printwatches on');
    stdout = '';
    await shell.executeLine('set /one y');
    await pollUntil('the watch event', 5_000, async () => (stdout.includes('WatchedEvent') ? true : undefined));
    // -compat 3.9: WatchedEvent.toString ends with the zxid of the change (3.9.3's WatchedEvent)
    const mzxid = (await shell.zk!.exists('/one'))!.mzxid;
    assert.equal(stdout, `\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/one zxid: ${mzxid}\n`);
  });

  it('history lists the last commands; redo runs one again', async () => {
    stdout = '';
    await shell.executeLine('history');
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines.at(-1), `${shell.commandCount - 1} - history`);
    assert.equal(lines[0], `${shell.commandCount - 11} - ${shell.history.get(shell.commandCount - 11)}`);
    stderr = '';
    await shell.executeLine('redo 0'); // create /one 1
    assert.equal(stderr, 'Node already exists: /one\n');
  });

  it('close leaves the shell without a session; connect makes a new one', async () => {
    stdout = '';
    await shell.executeLine('close');
    await pollUntil('the Closed event', 5_000, async () => (stdout.includes('state:Closed') ? true : undefined));
    assert.equal(shell.prompt.includes('(CLOSED)'), true);
    stdout = '';
    await shell.executeLine('ls /');
    assert.equal(stdout, 'Not connected\n');
    stdout = '';
    await shell.executeLine(`connect ${hostPort}`);
    await pollUntil('the new session', 5_000, async () => (shell.zk?.state === 'connected' ? true : undefined));
    await pollUntil('its event', 5_000, async () => (stdout.includes('state:SyncConnected') ? true : undefined));
    stdout = '';
    await shell.executeLine('get /one');
    assert.equal(stdout, 'y\n');
  });
});
