// session-passwords.test.ts — unguessable session passwords ('secret', the default) against
// ZooKeeper's derivable ones ('java', kept for mixed ensembles): a session resumes across a
// restart of the zkts CLI with its password; a wrong password and the Java-derived password are
// refused as ZooKeeper refuses a wrong one (ConnectResponse with session id 0 and timeout 0, then
// the connection closes).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Code } from '../../src/protocol/codes.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { sessionPassword as javaPassword } from '../../src/server/java-random.js';
import { SessionPasswords } from '../../src/server/session-passwords.js';
import { SESSION_SECRET_FILE, loadSessionSecret } from '../../src/storage/session-secret.js';
import { RestartableServer } from '../client/restartable.js';
import { TestClient, pollUntil } from '../conformance/test-client.js';
import { startServer } from '../server/start-server.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

async function assertRefused(port: number, sessionId: bigint, passwd: Buffer): Promise<void> {
  const c = await TestClient.connect('127.0.0.1', port, { sessionId, passwd });
  assert.equal(c.connectResponse.sessionId, 0n, 'ZooKeeper answers an invalid session with id 0');
  assert.equal(c.connectResponse.timeOut, 0);
  assert.ok(c.connectResponse.passwd.every((b) => b === 0), 'and a zero password');
  await pollUntil('the refused connection to close', 10_000, async () => (c.closed ? true : undefined));
}

test('secret passwords: keyed by the secret, 16 bytes, not the Java derivation', () => {
  const secret = Buffer.alloc(32, 7);
  const a = new SessionPasswords('secret', secret);
  const id = 0x100000000f10000n;
  assert.equal(a.password(id).length, 16);
  assert.deepEqual(a.password(id), new SessionPasswords('secret', Buffer.from(secret)).password(id), 'the same secret gives the same password');
  assert.notDeepEqual(a.password(id), new SessionPasswords('secret', Buffer.alloc(32, 8)).password(id));
  assert.notDeepEqual(a.password(id), a.password(id + 1n));
  assert.notDeepEqual(a.password(id), javaPassword(id));
  assert.equal(a.verify(id, a.password(id)), true);
  assert.equal(a.verify(id, javaPassword(id)), false);
  assert.equal(a.verify(id, a.password(id).subarray(0, 15)), false, 'a short password is refused, not compared');
  assert.deepEqual(new SessionPasswords('java').password(id), javaPassword(id));
  assert.notDeepEqual(new SessionPasswords('secret').password(id), new SessionPasswords('secret').password(id), 'without a stored secret, each server draws its own');
  assert.throws(() => new SessionPasswords('secret', Buffer.alloc(8)), /at least 16/);
});

test('the secret file: created 0600 on first use, read back after, refused when others can read it', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'zkts-secret-'));
  try {
    const first = loadSessionSecret(dir);
    const file = path.join(dir, SESSION_SECRET_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(first.length, 32);
    assert.deepEqual(loadSessionSecret(dir), first);
    chmodSync(file, 0o644);
    assert.throws(() => loadSessionSecret(dir), (e: Error & { code?: string }) => e.code === 'ZKTS_ERR_CONFIG' && /chmod 600/.test(e.message));
    writeFileSync(file, 'short', { mode: 0o600 });
    chmodSync(file, 0o600);
    assert.throws(() => loadSessionSecret(dir), /holds 5 bytes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("'secret' mode (the default) refuses the Java-derived password and a wrong one", async () => {
  const { server, port } = await startServer();
  try {
    const a = await TestClient.connect('127.0.0.1', port);
    const { sessionId, passwd } = a.connectResponse;
    assert.notDeepEqual(passwd, javaPassword(sessionId), 'the handshake hands out the secret password');
    await assertRefused(port, sessionId, javaPassword(sessionId));
    const wrong = Buffer.from(passwd);
    wrong[15] ^= 1;
    await assertRefused(port, sessionId, wrong);
    const b = await TestClient.connect('127.0.0.1', port, { sessionId, passwd, lastZxidSeen: a.lastZxid });
    assert.equal(b.connectResponse.sessionId, sessionId, 'the right password still resumes the session');
    b.destroy();
    a.destroy();
  } finally {
    await server.stop();
  }
});

test("'java' mode hands out and accepts ZooKeeper's derived password, for mixed ensembles", async () => {
  const { server, port } = await startServer({ sessionPasswords: 'java' });
  try {
    const a = await TestClient.connect('127.0.0.1', port);
    const { sessionId } = a.connectResponse;
    assert.deepEqual(a.connectResponse.passwd, javaPassword(sessionId));
    const b = await TestClient.connect('127.0.0.1', port, { sessionId, passwd: javaPassword(sessionId) });
    assert.equal(b.connectResponse.sessionId, sessionId);
    b.destroy();
    a.destroy();
  } finally {
    await server.stop();
  }
});

test('a session resumes with its password after the zkts process is killed and started again', { timeout: 120_000 }, async () => {
  const server = await RestartableServer.create('zkts', { maxSessionTimeout: '60000' });
  try {
    await server.start();
    const a = await TestClient.connect(server.host, server.port, { timeOutMs: 40_000 });
    const { sessionId, passwd } = a.connectResponse;
    assert.equal((await a.request({ type: OpCode.create, path: '/eph', data: null, acl: OPEN, flags: 1, ttl: -1n })).err, Code.OK);
    const seen = a.lastZxid;
    a.destroy();
    await server.stop('SIGKILL');
    await server.start(60_000);
    const b = await TestClient.connect(server.host, server.port, { sessionId, passwd, lastZxidSeen: seen, timeOutMs: 40_000 });
    assert.equal(b.connectResponse.sessionId, sessionId, `resumed after the restart\n${server.output()}`);
    assert.deepEqual(b.connectResponse.passwd, passwd, 'the stored secret gives the same password');
    const r = await b.request({ type: OpCode.exists, path: '/eph', watch: false });
    assert.equal(r.err, Code.OK, 'the ephemeral is still there');
    b.destroy();
    await assertRefused(server.port, sessionId, javaPassword(sessionId));
  } finally {
    await server.dispose();
  }
});
