// enforce-auth.test.ts — enforce.auth.enabled / enforce.auth.schemes (ZooKeeper 3.8/3.9's
// AuthenticationHelper), the same script against Apache ZooKeeper (Debian's 3.8) and zkts (its CLI
// from dist/): the session is created without authentication; any request but auth and sasl on a
// connection without an id of an enforced scheme (ping and closeSession too) is answered
// SessionClosedRequireSaslAuth and the connection closes, the session living on; after addauth
// with an enforced scheme everything works; an ip id (which every connection holds) does not
// count unless ip is enforced. Config errors are checked in-process.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/server/config.js';
import { parseEnforceAuthSchemes } from '../../src/server/auth/enforce-auth.js';
import { Code, codeName } from '../../src/protocol/codes.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import type { Request } from '../../src/protocol/requests.js';
import { type ServerProcess, javaZooKeeperMissing, startCommandServer, startJavaZooKeeper } from '../conformance/server-process.js';
import { TestClient, pollUntil } from '../conformance/test-client.js';
import { startServer } from '../server/start-server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const zktsCmd = `${process.execPath} ${path.join(root, 'dist', 'cli', 'main.js')} server`;
const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const auth = (scheme: string, a: string): Request => ({ type: OpCode.auth, authType: 0, scheme, auth: Buffer.from(a) });

/** The scenario; returns one line per observation. */
async function scenario(host: string, port: number): Promise<string[]> {
  const out: string[] = [];
  const a = await TestClient.connect(host, port, { timeOutMs: 30_000 });
  out.push(`session created: ${a.sessionId !== 0n && a.connectResponse.timeOut > 0}`);
  out.push(`getData unauthenticated: ${codeName((await a.request({ type: OpCode.getData, path: '/', watch: false })).err)}`);
  await pollUntil('the refused connection to close', 10_000, async () => (a.closed ? true : undefined));
  out.push(`then closed: ${a.closed}`);
  const resumed = await TestClient.connect(host, port, { sessionId: a.sessionId, passwd: a.connectResponse.passwd, lastZxidSeen: a.lastZxid, timeOutMs: 30_000 });
  out.push(`the session lives on: ${resumed.sessionId === a.sessionId}`);
  out.push(`ping unauthenticated: ${codeName((await resumed.request({ type: OpCode.ping })).err)}`);
  await pollUntil('the refused connection to close', 10_000, async () => (resumed.closed ? true : undefined));

  const b = await TestClient.connect(host, port, { timeOutMs: 30_000 });
  out.push(`addauth ip: ${codeName((await b.request(auth('ip', '127.0.0.1'))).err)}`);
  out.push(`create after an ip id only: ${codeName((await b.request({ type: OpCode.create, path: '/ea', data: null, acl: OPEN, flags: 0, ttl: -1n })).err)}`);
  await pollUntil('the refused connection to close', 10_000, async () => (b.closed ? true : undefined));

  const c = await TestClient.connect(host, port, { timeOutMs: 30_000 });
  out.push(`addauth digest: ${codeName((await c.request(auth('digest', 'u:p'))).err)}`);
  out.push(`create after digest: ${codeName((await c.request({ type: OpCode.create, path: '/ea', data: null, acl: OPEN, flags: 0, ttl: -1n })).err)}`);
  out.push(`ping after digest: ${codeName((await c.request({ type: OpCode.ping })).err)}`);
  out.push(`delete after digest: ${codeName((await c.request({ type: OpCode.delete, path: '/ea', version: -1 })).err)}`);
  out.push(`closeSession after digest: ${codeName((await c.request({ type: OpCode.closeSession })).err)}`);

  const d = await TestClient.connect(host, port, { timeOutMs: 30_000 });
  out.push(`closeSession unauthenticated: ${codeName((await d.request({ type: OpCode.closeSession })).err)}`);
  await pollUntil('the refused connection to close', 10_000, async () => (d.closed ? true : undefined));
  for (const x of [a, resumed, b, c, d]) x.destroy();
  return out;
}

const EXPECTED = [
  'session created: true',
  `getData unauthenticated: ${codeName(Code.SessionClosedRequireSaslAuth)}`,
  'then closed: true',
  'the session lives on: true',
  `ping unauthenticated: ${codeName(Code.SessionClosedRequireSaslAuth)}`,
  'addauth ip: OK',
  `create after an ip id only: ${codeName(Code.SessionClosedRequireSaslAuth)}`,
  'addauth digest: OK',
  'create after digest: OK',
  'ping after digest: OK',
  'delete after digest: OK',
  'closeSession after digest: OK',
  `closeSession unauthenticated: ${codeName(Code.SessionClosedRequireSaslAuth)}`,
];

const CFG = { 'enforce.auth.enabled': 'true', 'enforce.auth.schemes': 'digest' };

const missing = javaZooKeeperMissing();
describe('enforce.auth against Apache ZooKeeper 3.8 and zkts', { timeout: 180_000 }, () => {
  const servers: ServerProcess[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });
  test('zkts', async () => {
    const s = await startCommandServer(zktsCmd, { cfg: CFG });
    servers.push(s);
    assert.deepEqual(await scenario(s.host, s.port), EXPECTED);
  });
  test('Apache ZooKeeper', { skip: missing ?? false }, async () => {
    const s = await startJavaZooKeeper({ cfg: CFG, startTimeoutMs: 60_000 });
    servers.push(s);
    assert.deepEqual(await scenario(s.host, s.port), EXPECTED);
  });
});

describe('enforce.auth configuration', () => {
  test('schemes are split as ZooKeeper splits them; enabled without schemes, or sasl required, read as 3.9', () => {
    assert.deepEqual(parseEnforceAuthSchemes('digest, x509'), ['digest', 'x509']);
    assert.deepEqual(parseEnforceAuthSchemes('digest,,'), ['digest']);
    assert.deepEqual(parseEnforceAuthSchemes(undefined), []);
    const parse = (lines: string) => parseConfig(`dataDir=/tmp/x\nclientPort=2181\n${lines}`, { baseDir: '/tmp' });
    assert.deepEqual(parse('enforce.auth.enabled=true\nenforce.auth.schemes=digest,ip').enforceAuthSchemes, ['digest', 'ip']);
    assert.equal(parse('enforce.auth.schemes=digest').enforceAuthSchemes, undefined, 'schemes alone enforce nothing');
    assert.deepEqual(parse('sessionRequireClientSASLAuth=true\nenforce.auth.schemes=digest').enforceAuthSchemes, ['sasl']);
    assert.throws(() => parse('enforce.auth.enabled=true'), /enforce.auth.schemes/);
    assert.deepEqual(parse('enforce.auth.enabled=true\nenforce.auth.schemes=digest').unsupported, []);
  });
  test('a scheme without a provider stops the server at start', async () => {
    await assert.rejects(startServer({ enforceAuthSchemes: ['digest', 'x509'] }), /authentication scheme x509 is not available/);
  });
});
