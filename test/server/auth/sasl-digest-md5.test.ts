// sasl-digest-md5.test.ts — the DIGEST-MD5 server against (1) exchanges captured from Java 17's
// DigestMD5Server as ZooKeeper 3.9.5 creates it (protocol "zookeeper", server "zk-sasl-md5", no
// properties, ZooKeeper's SaslServerCallbackHandler) talking to Java's DIGEST-MD5 client with
// authzid = user as ZooKeeper's client sends it, (2) the examples of RFC 2831 section 4, and
// (3) live clients: puresasl driven the way kazoo drives it, and Java's SaslClient.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import {
  DigestMd5Server, parseDirectives, responseValue, saslIds, saslProvider, type SaslStep,
} from '../../../src/server/auth/sasl-digest-md5.js';

/** A server whose nonce is the one Java sent: its 40 base64 characters are 30 random bytes. */
function serverWithNonce(nonce: string, credentials: Record<string, string>, superPassword?: string): DigestMd5Server {
  const raw = Buffer.from(nonce, 'base64');
  return new DigestMd5Server({ credentials: new Map(Object.entries(credentials)), randomBytes: () => raw, superPassword });
}

interface JavaExchange {
  name: string;
  credentials: Record<string, string>;
  superPassword?: string;
  nonce: string;
  response: string;
  rspauth: string;
  authorized: string;
}

const JAVA_EXCHANGES: JavaExchange[] = [
  {
    name: 'bob, authzid bob (as ZooKeeper clients send)',
    credentials: { bob: 'secret', alice: 'pw' },
    nonce: 'XG2hiEJbdbc0yRl2EKWvsY9DNyDkftGzFQTr0xzw',
    response: 'charset=utf-8,username="bob",realm="zk-sasl-md5",nonce="XG2hiEJbdbc0yRl2EKWvsY9DNyDkftGzFQTr0xzw",nc=00000001,cnonce="SMEXAOQv8xNWJmuYW3flZHhChHJFBMcvFD1sJ4Oz",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=7ee92e48d7e530fad19435b8cd162bc1,qop=auth,authzid="bob"',
    rspauth: 'rspauth=96b81b736f6a8ab81951f6d3abf5c4d3',
    authorized: 'bob',
  },
  {
    name: 'alice, no authzid',
    credentials: { bob: 'secret', alice: 'pw' },
    nonce: 'jHk6TttN+g2HeAWKNGD1M7gCLvbRrWvq9zxXo98i',
    response: 'charset=utf-8,username="alice",realm="zk-sasl-md5",nonce="jHk6TttN+g2HeAWKNGD1M7gCLvbRrWvq9zxXo98i",nc=00000001,cnonce="RYfuf2nDlJiiSVfXVNjm5wMTyQMLIRmaszea9+/T",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=8dacf22b983f0c31417971330c536c2c,qop=auth',
    rspauth: 'rspauth=189b1dd583286e6846fb1f812a890e88',
    authorized: 'alice',
  },
  {
    name: 'Latin-1 user and password, hashed as ISO-8859-1',
    credentials: { jörg: 'pässwörd' },
    nonce: 'UiCqvb8JRFQCCIQ7pOTMBxUJTKYAFbXPcyoHMGui',
    response: 'charset=utf-8,username="jörg",realm="zk-sasl-md5",nonce="UiCqvb8JRFQCCIQ7pOTMBxUJTKYAFbXPcyoHMGui",nc=00000001,cnonce="IsqACVsZ+eZ9wMgCOWaad+QiUMlNIrbjSPNp791L",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=ec11ac6ac90d8a2da2e9293e81282116,qop=auth',
    rspauth: 'rspauth=6f9d7227ab433796064f9a008994a81d',
    authorized: 'jörg',
  },
  {
    name: 'a password beyond Latin-1, hashed as UTF-8',
    credentials: { bob: '密码' },
    nonce: 'jd5Pe9W77vvww2mNAqSTQn6GMq2W/OQx+wGMIaaz',
    response: 'charset=utf-8,username="bob",realm="zk-sasl-md5",nonce="jd5Pe9W77vvww2mNAqSTQn6GMq2W/OQx+wGMIaaz",nc=00000001,cnonce="5Evxxs/UmLyom22i8hJXZr5MCglLNgi5rLAnYCnu",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=c39eaea5244dd744eec7fe970ef6e00e,qop=auth',
    rspauth: 'rspauth=4f7f77a23dabbc17009cb9e25b69d18d',
    authorized: 'bob',
  },
  {
    name: 'authzid admin: hashed in, but the authorized id stays the user',
    credentials: { bob: 'secret' },
    nonce: 'sRYgMu6GbwOwZ8CZKyBKKFuLRukKEs6ZKMTN3PoF',
    response: 'charset=utf-8,username="bob",realm="zk-sasl-md5",nonce="sRYgMu6GbwOwZ8CZKyBKKFuLRukKEs6ZKMTN3PoF",nc=00000001,cnonce="laD68Mvq1UwF5GaTwkPWSKJ2aWOs3bxf1fOil+Wh",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=4070755cd46d76276f49b3c26c012d2f,qop=auth,authzid="admin"',
    rspauth: 'rspauth=5e830c8701a21a0ae52fce69583814e5',
    authorized: 'bob',
  },
  {
    name: 'super with zookeeper.SASLAuthenticationProvider.superPassword',
    credentials: { super: 'xx' },
    superPassword: 'superpw',
    nonce: 'Mt0s+mPUrj6OblMt4xE/7Rn4N3P9bzKnTqMoA/VF',
    response: 'charset=utf-8,username="super",realm="zk-sasl-md5",nonce="Mt0s+mPUrj6OblMt4xE/7Rn4N3P9bzKnTqMoA/VF",nc=00000001,cnonce="2MWAHYdObWEyUKtNkhe5oYT/MRtt8frKMmEs55BU",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=2514d424ba359b212cc46642849dff65,qop=auth',
    rspauth: 'rspauth=6784d2a8546abbb0318ef84c2b071187',
    authorized: 'super',
  },
];

describe('DIGEST-MD5 against exchanges captured from Java', () => {
  for (const x of JAVA_EXCHANGES) {
    it(x.name, () => {
      const server = serverWithNonce(x.nonce, x.credentials, x.superPassword);
      const challenge = server.evaluate(Buffer.alloc(0));
      assert.equal(challenge.kind, 'challenge');
      assert.equal(
        challenge.kind === 'challenge' && challenge.token.toString('latin1'),
        `realm="zk-sasl-md5",nonce="${x.nonce}",charset=utf-8,algorithm=md5-sess`,
      );
      assert.deepEqual(server.evaluate(Buffer.from(x.response, 'utf8')), {
        kind: 'complete', token: Buffer.from(x.rspauth), authorizedId: x.authorized,
      });
    });
  }
  it('the super password replaces the JAAS one only for an existing user super', () => {
    const x = JAVA_EXCHANGES[5];
    const withoutOverride = serverWithNonce(x.nonce, x.credentials);
    withoutOverride.evaluate(Buffer.alloc(0));
    assert.equal(withoutOverride.evaluate(Buffer.from(x.response)).kind, 'error');
    const noSuperUser = serverWithNonce(x.nonce, {}, 'superpw');
    noSuperUser.evaluate(Buffer.alloc(0));
    assert.equal(noSuperUser.evaluate(Buffer.from(x.response)).kind, 'error');
  });
});

describe('responseValue against RFC 2831 section 4', () => {
  const common = { qop: 'auth', username: 'chris', realm: 'elwood.innosoft.com', password: 'secret', nonceCount: 1 };
  it('the IMAP example', () => {
    const v = { ...common, digestUri: 'imap/elwood.innosoft.com', nonce: Buffer.from('OA6MG9tEQGm2hh'), cnonce: Buffer.from('OA6MHXh6VqTrRk') };
    assert.equal(responseValue({ ...v, method: 'AUTHENTICATE' }), 'd388dad90d4bbd760a152321f2143af7');
    assert.equal(responseValue({ ...v, method: '' }), 'ea40f60335c427b5527b84dbabcdfffd');
  });
  it('the ACAP example', () => {
    const v = { ...common, digestUri: 'acap/elwood.innosoft.com', nonce: Buffer.from('OA9BSXrbuRhWay'), cnonce: Buffer.from('OA9BSuZWMSpW8m') };
    assert.equal(responseValue({ ...v, method: 'AUTHENTICATE' }), '6084c6db3fede7352c551284490fd0fc');
    assert.equal(responseValue({ ...v, method: '' }), '2f0b3d7c3c2e486600ef710726aa2eae');
  });
});

describe('DIGEST-MD5 state machine', () => {
  const nonce = Buffer.alloc(30, 0xab).toString('base64');
  const good = {
    username: '"bob"', realm: '"zk-sasl-md5"', nonce: `"${nonce}"`, cnonce: '"c1"', nc: '00000001',
    'digest-uri': '"zookeeper/zk-sasl-md5"', qop: 'auth',
  };
  const hash = (uri = 'zookeeper/zk-sasl-md5'): string => responseValue({
    method: 'AUTHENTICATE', digestUri: uri, qop: 'auth', username: 'bob', realm: 'zk-sasl-md5',
    password: 'secret', nonce: Buffer.from(nonce), cnonce: Buffer.from('c1'), nonceCount: 1,
  });
  const token = (d: Record<string, string>): Buffer => Buffer.from(Object.entries(d).map(([k, v]) => `${k}=${v}`).join(','));
  const run = (second: Buffer): SaslStep => {
    const server = serverWithNonce(nonce, { bob: 'secret' });
    server.evaluate(Buffer.alloc(0));
    return server.evaluate(second);
  };
  const errorOf = (step: SaslStep): string => (step.kind === 'error' ? step.message : `no error: ${step.kind}`);

  it('the challenge carries the realm, a 40-character nonce from 30 random bytes, and no qop', () => {
    const asked: number[] = [];
    const server = new DigestMd5Server({ credentials: new Map(), randomBytes: (n) => (asked.push(n), Buffer.alloc(n, 0xab)) });
    const step = server.evaluate(Buffer.from('ignored initial response'));
    assert.deepEqual(asked, [30]);
    assert.equal(step.kind === 'challenge' && step.token.toString(), `realm="zk-sasl-md5",nonce="${nonce}",charset=utf-8,algorithm=md5-sess`);
  });
  it('a correct response completes with rspauth over the client digest-uri, whatever its case', () => {
    const uri = 'ZooKeeper/ZK-SASL-MD5';
    const step = run(token({ ...good, 'digest-uri': `"${uri}"`, response: hash(uri) }));
    const rspauth = responseValue({
      method: '', digestUri: uri, qop: 'auth', username: 'bob', realm: 'zk-sasl-md5', password: 'secret',
      nonce: Buffer.from(nonce), cnonce: Buffer.from('c1'), nonceCount: 1,
    });
    assert.deepEqual(step, { kind: 'complete', token: Buffer.from(`rspauth=${rspauth}`), authorizedId: 'bob' });
  });
  it('LWS, empty elements, escapes and unknown directives are accepted', () => {
    const text = `  username = "b\\ob" ,, realm="zk-sasl-md5", nonce="${nonce}",cnonce="c1",\r\n digest-uri="zookeeper/zk-sasl-md5", foo=bar, response=${hash()}`;
    assert.equal(run(Buffer.from(text)).kind, 'complete');
  });
  const failures: [string, Record<string, string>, RegExp][] = [
    ['a wrong password', { ...good, response: hash().replace(/^./, (c) => (c === '0' ? '1' : '0')) }, /mismatched response/],
    ['an upper-case response hash', { ...good, response: hash().toUpperCase() }, /mismatched response/],
    ['an unknown user', { ...good, username: '"eve"', response: hash() }, /cannot acquire password for eve/],
    ['a missing realm', { ...good, realm: '""', response: hash() }, /nonexistent realm/],
    ['another realm', { ...good, realm: '"elsewhere"', response: hash() }, /nonexistent realm: elsewhere/],
    ['another nonce', { ...good, nonce: '"abc"', response: hash() }, /mismatched nonce/],
    ['another digest-uri', { ...good, 'digest-uri': '"zookeeper/localhost"', response: hash() }, /mismatched URI/],
    ['qop auth-int', { ...good, qop: 'auth-int', response: hash() }, /does not support qop: auth-int/],
    ['an unknown qop', { ...good, qop: 'none', response: hash() }, /invalid qop/],
    ['nonce-count 2', { ...good, 'nonce-count': '00000002', response: hash() }, /nonce count does not match/],
    ['charset latin1', { ...good, charset: 'iso-8859-1', response: hash() }, /incompatible charset/],
    ['a repeated directive', { ...good, response: hash(), Username: '"bob"' }, /more than one Username/],
    ['no response', { ...good }, /missing response/],
    ['no cnonce', { username: good.username, realm: good.realm, nonce: good.nonce, response: hash() }, /missing cnonce/],
  ];
  for (const [name, directives, message] of failures) {
    it(`fails on ${name}`, () => assert.match(errorOf(run(token(directives))), message));
  }
  it('fails on malformed directives', () => {
    assert.match(errorOf(run(Buffer.from('username="bob'))), /unmatched quote/);
    assert.match(errorOf(run(Buffer.from('username="bob"x'))), /expecting comma/);
    assert.match(errorOf(run(Buffer.from('=x'))), /empty directive key/);
    assert.match(errorOf(run(Buffer.from('username='))), /valueless/);
    assert.equal(typeof parseDirectives(Buffer.from('a b=c')), 'string');
  });
  it('refuses tokens over 4096 bytes, and anything after completion or failure', () => {
    assert.match(errorOf(run(Buffer.alloc(4097, 0x61))), /exceeds 4096/);
    const server = serverWithNonce(nonce, { bob: 'secret' });
    server.evaluate(Buffer.alloc(0));
    assert.equal(server.evaluate(token({ ...good, response: hash() })).kind, 'complete');
    assert.match(errorOf(server.evaluate(Buffer.alloc(0))), /already over/);
  });
});

describe('sasl ids and the sasl ACL scheme', () => {
  it('adds super for zookeeper.superUser values', () => {
    assert.deepEqual(saslIds('bob'), [{ scheme: 'sasl', id: 'bob' }]);
    assert.deepEqual(saslIds('admin', ['admin']), [{ scheme: 'sasl', id: 'admin' }, { scheme: 'super', id: '' }]);
    assert.deepEqual(saslIds('', ['']), [{ scheme: 'sasl', id: '' }]);
  });
  it('matches equal ids, the id "super", and letAnySaslUserDoX', () => {
    const p = saslProvider({ letAnySaslUserDoX: 'anyone-sasl' });
    assert.equal(p.matches('bob', 'bob'), true);
    assert.equal(p.matches('bob', 'alice'), false);
    assert.equal(p.matches('super', 'alice'), true);
    assert.equal(p.matches('bob', 'anyone-sasl'), true);
    assert.equal(saslProvider().matches('bob', 'anyone-sasl'), false);
    assert.equal('error' in p.authenticate(Buffer.from('x'), { remoteAddress: '127.0.0.1' }), true);
  });
  it('isValid agrees with ZooKeeper KerberosName', () => {
    const rows: [string, boolean][] = [
      ['bob', true], ['bob@REALM', true], ['zk/host@REALM', true], ['a@b@c', false], ['a/b/c@R', false],
      ['a/b/c', true], ['@', true], ['/@', true], ['bob@', true], [' x@y', true], ['', true],
    ];
    for (const [expr, want] of rows) assert.equal(saslProvider().isValid(expr), want, expr);
  });
});

// ---- live clients ----------------------------------------------------------------------------
// Each client prints "token <hex>" per message and reads "token <hex>" or "error ..." back; it
// ends with "complete" or "failed". The loop below plays ZooKeeperServer.processSasl's part.

async function converse(cmd: string, args: string[], credentials: Record<string, string>): Promise<{ outcome: string; steps: SaslStep[] }> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const server = new DigestMd5Server({ credentials: new Map(Object.entries(credentials)), randomBytes: (n) => Buffer.alloc(n, 0x5a) });
  const steps: SaslStep[] = [];
  let outcome = 'eof';
  for await (const line of createInterface({ input: child.stdout })) {
    if (!line.startsWith('token ')) {
      outcome = line;
      break;
    }
    const step = server.evaluate(Buffer.from(line.slice(6), 'hex'));
    steps.push(step);
    child.stdin.write(step.kind === 'error' ? `error ${step.message}\n` : `token ${step.token.toString('hex')}\n`);
  }
  child.stdin.end();
  return { outcome, steps };
}

// kazoo's _authenticate_with_sasl loop (kazoo/protocol/connection.py), with stdin/stdout for the socket.
const KAZOO_LOOP = `
import sys, binascii
from puresasl.client import SASLClient
cli = SASLClient(host='zk-sasl-md5', service='zookeeper', mechanism='DIGEST-MD5', username=sys.argv[1], password=sys.argv[2])
challenge = None
while not cli.complete:
    response = cli.process(challenge=challenge)
    if cli.complete and not response:
        break
    print('token ' + binascii.hexlify(response or b'').decode(), flush=True)
    line = sys.stdin.readline().strip()
    if not line.startswith('token '):
        print('failed', flush=True)
        sys.exit(0)
    challenge = binascii.unhexlify(line[6:])
print('complete', flush=True)
`;

// ZooKeeperSaslClient with Java's SaslClient: empty first token, authzid = user, no packet after completion.
const JAVA_CLIENT = `
import java.io.*; import javax.security.auth.callback.*; import javax.security.sasl.*;
public class ZkSaslClient {
  public static void main(String[] a) throws Exception {
    CallbackHandler h = cbs -> { for (Callback c : cbs) {
      if (c instanceof NameCallback) ((NameCallback) c).setName(a[0]);
      else if (c instanceof PasswordCallback) ((PasswordCallback) c).setPassword(a[1].toCharArray());
      else if (c instanceof RealmCallback) ((RealmCallback) c).setText(((RealmCallback) c).getDefaultText()); } };
    SaslClient c = Sasl.createSaslClient(new String[]{"DIGEST-MD5"}, a[0], "zookeeper", "zk-sasl-md5", null, h);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    System.out.println("token ");
    for (String line; (line = in.readLine()) != null && line.startsWith("token "); ) {
      byte[] ch = java.util.HexFormat.of().parseHex(line.substring(6));
      byte[] resp;
      try { resp = c.evaluateChallenge(ch); } catch (SaslException e) { break; }
      if (c.isComplete()) { System.out.println("complete"); return; }
      System.out.println("token " + java.util.HexFormat.of().formatHex(resp));
    }
    System.out.println("failed");
  }
}
`;

const python = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import puresasl']).status === 0);
const javaOk = spawnSync('java', ['-version']).status === 0;
const noPython = python === undefined ? 'python3 with puresasl (Debian python3-pure-sasl, as kazoo uses) not found' : false;
const noJava = javaOk ? false : 'java (17+) not found';

describe('live clients', () => {
  it('puresasl, as kazoo drives it: two round trips, then complete', { skip: noPython }, async () => {
    const { outcome, steps } = await converse(python ?? 'python3', ['-c', KAZOO_LOOP, 'bob', 'secret'], { bob: 'secret' });
    assert.equal(outcome, 'complete');
    assert.deepEqual(steps.map((s) => s.kind), ['challenge', 'complete']);
    assert.equal(steps[1].kind === 'complete' && steps[1].authorizedId, 'bob');
  });
  it('puresasl with a wrong password fails at the second step', { skip: noPython }, async () => {
    const { outcome, steps } = await converse(python ?? 'python3', ['-c', KAZOO_LOOP, 'bob', 'wrong'], { bob: 'secret' });
    assert.equal(outcome, 'failed');
    assert.deepEqual(steps.map((s) => s.kind), ['challenge', 'error']);
  });
  it("Java's SaslClient, as ZooKeeper's client uses it", { skip: noJava }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zkts-sasl-'));
    writeFileSync(join(dir, 'ZkSaslClient.java'), JAVA_CLIENT);
    const file = join(dir, 'ZkSaslClient.java');
    const ok = await converse('java', [file, 'bob', 'secret'], { bob: 'secret' });
    assert.equal(ok.outcome, 'complete');
    assert.deepEqual(ok.steps.map((s) => s.kind), ['challenge', 'complete']);
    const bad = await converse('java', [file, 'bob', 'wrong'], { bob: 'secret' });
    assert.equal(bad.outcome, 'failed');
    assert.deepEqual(bad.steps.map((s) => s.kind), ['challenge', 'error']);
  });
});
