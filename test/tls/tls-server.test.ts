// tls-server.test.ts — the secure client port through the project's own client (TestClient over
// tls.connect): who gets in (good, expired, untrusted-CA, missing and wrong-host certificates;
// ssl.clientAuth need/want/none; client address checks), what identity they get (the x509 id of
// their certificate's subject, super for the configured super user), x509 ACLs, plain and TLS
// ports side by side, client.portUnification, and store reloads. Certificates are made by openssl
// for each run (certs.ts); refusals are checked by the reason the server logs, so a connection
// that fails for another reason fails the test.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Code } from '../../src/protocol/codes.js';
import { OpCode, Perm } from '../../src/protocol/opcodes.js';
import { fourLetterWordHandler } from '../../src/server/four-letter-host.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { tlsSettings } from '../../src/server/tls-config.js';
import { pollUntil, TestClient } from '../conformance/test-client.js';
import { testOptions } from '../server/start-server.js';
import { makePki, opensslMissing, type Pki, STORE_PASSWORD } from './certs.js';
import { connectTls, type TlsConnectOptions } from './tls-client.js';

const skip = opensslMissing();
const OPEN = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];
const ALICE = 'CN=alice,OU=clients,O=zkts test,C=NL';
const BOB = 'CN=bob,OU=clients,O=zkts test,C=NL';

interface Running {
  server: ZkServer;
  plainPort: number;
  tlsPort: number;
  logs: string[];
  /** Resolves when the server has logged a line matching re. */
  logged(re: RegExp): Promise<string>;
}

async function start(pki: Pki, props: Record<string, string>, opts: { secure?: boolean } = {}): Promise<Running> {
  const properties = new Map<string, string>(
    Object.entries({
      'ssl.keyStore.location': pki.server.pem,
      'ssl.trustStore.location': pki.ca,
      ...props,
    }).map(([k, v]) => [`zookeeper.${k}`, v]),
  );
  const tls = tlsSettings({ ...(opts.secure === false ? {} : { secureClientPort: 0 }), secureClientPortAddress: '127.0.0.1', properties });
  const logs: string[] = [];
  const fourLetterWord = fourLetterWordHandler({ whitelist: new Set(['srvr']), dataDir: pki.dir, dataLogDir: pki.dir, zktsVersion: 'test' });
  const server = new ZkServer(testOptions({ tls, fourLetterWord, log: (level, msg) => logs.push(`${level} ${msg}`) }));
  const { port } = await server.start();
  return {
    server,
    plainPort: port,
    tlsPort: server.tls?.address?.port ?? -1,
    logs,
    logged: (re) => pollUntil(`a server log line matching ${re}`, 5000, async () => logs.find((l) => re.test(l))),
  };
}

function as(pki: Pki, who: keyof Pick<Pki, 'alice' | 'bob' | 'expired' | 'untrusted' | 'admin'> | null): TlsConnectOptions {
  return who === null ? { ca: pki.ca } : { ca: pki.ca, cert: pki[who].cert, key: pki[who].key };
}

async function whoAmI(c: TestClient): Promise<string[]> {
  const r = await c.request({ type: OpCode.whoAmI });
  assert.equal(r.err, Code.OK);
  const body = r.body as { clientInfo: Array<{ authScheme: string; user: string }> };
  return body.clientInfo.map((i) => `${i.authScheme}:${i.user}`);
}

async function refused(p: Promise<TestClient>): Promise<void> {
  await assert.rejects(p, 'the connection must not reach a session');
}

describe('TLS on secureClientPort', { skip: skip ?? false }, () => {
  let pki: Pki;
  before(() => {
    pki = makePki();
  });
  after(() => pki?.cleanup());

  it('a client with a good certificate gets a session and the x509 id of its subject', async () => {
    const s = await start(pki, {});
    try {
      let peerCn = '';
      const c = await connectTls('127.0.0.1', s.tlsPort, { ...as(pki, 'alice'), onSecure: (sock) => (peerCn = sock.getPeerX509Certificate()?.subject ?? '') });
      assert.ok(c.sessionId !== 0n);
      assert.match(peerCn, /CN=zkts-server/);
      assert.deepEqual(await whoAmI(c), ['ip:127.0.0.1', `x509:${ALICE}`]);
      const r = await c.request({ type: OpCode.create, path: '/tls', data: Buffer.from('hi'), acl: OPEN, flags: 0, ttl: -1n });
      assert.equal(r.err, Code.OK);
      await c.close();
    } finally {
      await s.server.stop();
    }
  });

  it('refuses expired, untrusted-CA and missing client certificates, saying why', async () => {
    const s = await start(pki, {});
    try {
      await refused(connectTls('127.0.0.1', s.tlsPort, as(pki, 'expired')));
      await s.logged(/refused: client certificate not trusted: CERT_HAS_EXPIRED/);
      await refused(connectTls('127.0.0.1', s.tlsPort, as(pki, 'untrusted')));
      await s.logged(/refused: client certificate not trusted: UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT_LOCALLY)/);
      await refused(connectTls('127.0.0.1', s.tlsPort, as(pki, null)));
      await s.logged(/refused: no client certificate \(ssl.clientAuth=need\)/);
      assert.equal(s.server.connections.size, 0);
      assert.equal(s.server.stats.metrics.authFailedCount, 3, 'auth_failed_count counts refused client certificates, as ZooKeeper\'s Netty factory does');
      // and the port still serves a good client
      const c = await connectTls('127.0.0.1', s.tlsPort, as(pki, 'bob'));
      assert.deepEqual(await whoAmI(c), ['ip:127.0.0.1', `x509:${BOB}`]);
      c.destroy();
    } finally {
      await s.server.stop();
    }
  });

  it('a server certificate for another host is refused by the client, by address only', async () => {
    const s = await start(pki, { 'ssl.keyStore.location': pki.wrongHost.pem });
    try {
      await assert.rejects(connectTls('127.0.0.1', s.tlsPort, as(pki, 'alice')), /ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate/);
      // The server itself is fine: a client that skips the host check gets in.
      const c = await connectTls('127.0.0.1', s.tlsPort, { ...as(pki, 'alice'), hostnameVerification: false });
      assert.ok(c.sessionId !== 0n);
      c.destroy();
    } finally {
      await s.server.stop();
    }
  });

  it('ssl.clientAuth=want: no certificate is fine (no x509 id), a bad one is not', async () => {
    const s = await start(pki, { 'ssl.clientAuth': 'want' });
    try {
      const anon = await connectTls('127.0.0.1', s.tlsPort, as(pki, null));
      assert.deepEqual(await whoAmI(anon), ['ip:127.0.0.1']);
      anon.destroy();
      const alice = await connectTls('127.0.0.1', s.tlsPort, as(pki, 'alice'));
      assert.deepEqual(await whoAmI(alice), ['ip:127.0.0.1', `x509:${ALICE}`]);
      alice.destroy();
      await refused(connectTls('127.0.0.1', s.tlsPort, as(pki, 'untrusted')));
      await s.logged(/refused: client certificate not trusted/);
    } finally {
      await s.server.stop();
    }
  });

  it('ssl.clientAuth=none: no certificate is asked for, so nobody gets an x509 id', async () => {
    const s = await start(pki, { 'ssl.clientAuth': 'none' });
    try {
      const c = await connectTls('127.0.0.1', s.tlsPort, as(pki, 'alice'));
      assert.deepEqual(await whoAmI(c), ['ip:127.0.0.1']);
      c.destroy();
    } finally {
      await s.server.stop();
    }
  });

  it('ssl.clientHostnameVerification: a client certificate must name the client\'s address', async () => {
    const s = await start(pki, { 'ssl.clientHostnameVerification': 'true' });
    try {
      const alice = await connectTls('127.0.0.1', s.tlsPort, as(pki, 'alice')); // SAN IP:127.0.0.1
      alice.destroy();
      await refused(connectTls('127.0.0.1', s.tlsPort, as(pki, 'bob'))); // no SAN
      await s.logged(/refused: client certificate does not name 127\.0\.0\.1/);
      // CVE-2026-24281: 127.0.0.1 resolves back to localhost, but a certificate that names only
      // localhost does not name the client's address, and no name is looked up to make it match
      const dnsOnly = pki.issue('dns-only', '/O=zkts test/CN=dns-only', { san: 'DNS:localhost' });
      const before = s.logs.length;
      await refused(connectTls('127.0.0.1', s.tlsPort, { ca: pki.ca, cert: dnsOnly.cert, key: dnsOnly.key }));
      await pollUntil('the refusal', 5000, async () => (s.logs.slice(before).some((l) => /CN=dns-only|does not name 127\.0\.0\.1/.test(l)) ? true : undefined));
    } finally {
      await s.server.stop();
    }
    // ssl.hostnameVerification=false turns it off, as in ZooKeeper
    const off = await start(pki, { 'ssl.clientHostnameVerification': 'true', 'ssl.hostnameVerification': 'false' });
    try {
      const bob = await connectTls('127.0.0.1', off.tlsPort, as(pki, 'bob'));
      bob.destroy();
    } finally {
      await off.server.stop();
    }
  });

  it('x509 ACLs: a znode for alice\'s subject is readable by alice and NoAuth for bob', async () => {
    const s = await start(pki, {});
    try {
      const alice = await connectTls('127.0.0.1', s.tlsPort, as(pki, 'alice'));
      const bob = await connectTls('127.0.0.1', s.tlsPort, as(pki, 'bob'));
      const acl = [{ perms: Perm.ALL, id: { scheme: 'x509', id: ALICE } }];
      assert.equal((await alice.request({ type: OpCode.create, path: '/alice', data: Buffer.from('a'), acl, flags: 0, ttl: -1n })).err, Code.OK);
      const mine = await alice.request({ type: OpCode.getData, path: '/alice', watch: false });
      assert.equal(mine.err, Code.OK);
      assert.equal((mine.body as { data: Buffer }).data.toString(), 'a');
      assert.equal((await bob.request({ type: OpCode.getData, path: '/alice', watch: false })).err, Code.NoAuth);
      assert.equal((await bob.request({ type: OpCode.setData, path: '/alice', data: null, version: -1 })).err, Code.NoAuth);
      // "auth" expands to the x509 id, as for any authenticated scheme
      const auth = [{ perms: Perm.ALL, id: { scheme: 'auth', id: '' } }];
      assert.equal((await bob.request({ type: OpCode.create, path: '/bob', data: null, acl: auth, flags: 0, ttl: -1n })).err, Code.OK);
      const stored = await bob.request({ type: OpCode.getACL, path: '/bob' });
      assert.deepEqual((stored.body as { acl: unknown }).acl, [{ perms: Perm.ALL, id: { scheme: 'x509', id: BOB } }]);
      assert.equal((await alice.request({ type: OpCode.getData, path: '/bob', watch: false })).err, Code.NoAuth);
      // a name that X500Principal would not parse is an invalid ACL
      const bad = [{ perms: Perm.ALL, id: { scheme: 'x509', id: 'not a name' } }];
      assert.equal((await alice.request({ type: OpCode.create, path: '/bad', data: null, acl: bad, flags: 0, ttl: -1n })).err, Code.InvalidACL);
      // a plaintext client has no x509 id either
      const plain = await TestClient.connect('127.0.0.1', s.plainPort);
      assert.equal((await plain.request({ type: OpCode.getData, path: '/alice', watch: false })).err, Code.NoAuth);
      for (const c of [alice, bob, plain]) c.destroy();
    } finally {
      await s.server.stop();
    }
  });

  it('zookeeper.X509AuthenticationProvider.superUser: that subject is super', async () => {
    const admin = 'CN=admin,O=zkts test';
    const s = await start(pki, { 'X509AuthenticationProvider.superUser': admin });
    try {
      const alice = await connectTls('127.0.0.1', s.tlsPort, as(pki, 'alice'));
      const acl = [{ perms: Perm.ALL, id: { scheme: 'x509', id: ALICE } }];
      assert.equal((await alice.request({ type: OpCode.create, path: '/private', data: Buffer.from('p'), acl, flags: 0, ttl: -1n })).err, Code.OK);
      const root = await connectTls('127.0.0.1', s.tlsPort, as(pki, 'admin'));
      assert.deepEqual(await whoAmI(root), ['ip:127.0.0.1', `super:${admin}`, `x509:${admin}`]);
      assert.equal((await root.request({ type: OpCode.getData, path: '/private', watch: false })).err, Code.OK);
      alice.destroy();
      root.destroy();
    } finally {
      await s.server.stop();
    }
  });

  it('serves plain and TLS side by side; a TLS client on the plain port, or a plain one on the TLS port, gets nowhere', async () => {
    const s = await start(pki, {});
    try {
      const plain = await TestClient.connect('127.0.0.1', s.plainPort);
      const secure = await connectTls('127.0.0.1', s.tlsPort, as(pki, 'alice'));
      await plain.request({ type: OpCode.create, path: '/both', data: Buffer.from('x'), acl: OPEN, flags: 0, ttl: -1n });
      const seen = await secure.request({ type: OpCode.getData, path: '/both', watch: false });
      assert.equal((seen.body as { data: Buffer }).data.toString(), 'x');
      await assert.rejects(connectTls('127.0.0.1', s.plainPort, { ...as(pki, 'alice'), timeoutMs: 3000 }));
      await assert.rejects(TestClient.connect('127.0.0.1', s.tlsPort, { timeoutMs: 3000 }));
      plain.destroy();
      secure.destroy();
    } finally {
      await s.server.stop();
    }
  });

  it('client.portUnification: the plain port takes TLS, plaintext and four-letter words', async () => {
    const s = await start(pki, { 'client.portUnification': 'true' }, { secure: false });
    try {
      assert.equal(s.server.tls?.address, null, 'no secureClientPort listener');
      const secure = await connectTls('127.0.0.1', s.plainPort, as(pki, 'alice'));
      assert.deepEqual(await whoAmI(secure), ['ip:127.0.0.1', `x509:${ALICE}`]);
      const plain = await TestClient.connect('127.0.0.1', s.plainPort);
      assert.deepEqual(await whoAmI(plain), ['ip:127.0.0.1']);
      await refused(connectTls('127.0.0.1', s.plainPort, as(pki, 'expired')));
      const word = await new Promise<string>((resolve, reject) => {
        const sock = net.connect(s.plainPort, '127.0.0.1', () => sock.write('srvr'));
        let out = '';
        sock.on('data', (b) => (out += b.toString()));
        sock.on('end', () => resolve(out));
        sock.on('error', reject);
      });
      assert.match(word, /^Zookeeper version: /);
      secure.destroy();
      plain.destroy();
    } finally {
      await s.server.stop();
    }
  });

  it('counts TLS handshakes in progress against maxClientCnxns', async () => {
    const properties = new Map([
      ['zookeeper.ssl.keyStore.location', pki.server.pem],
      ['zookeeper.ssl.trustStore.location', pki.ca],
    ]);
    const tls = tlsSettings({ secureClientPort: 0, secureClientPortAddress: '127.0.0.1', properties });
    const logs: string[] = [];
    const server = new ZkServer(testOptions({ tls, maxClientCnxns: 2, log: (l, m) => logs.push(`${l} ${m}`) }));
    await server.start();
    const port = server.tls!.address!.port;
    const silent: net.Socket[] = [];
    try {
      // two sockets that never start a handshake hold both slots
      for (let i = 0; i < 2; i++) {
        const sock = net.connect(port, '127.0.0.1');
        sock.on('error', () => {});
        silent.push(sock);
        await new Promise<void>((r) => sock.once('connect', () => r()));
      }
      await pollUntil('the server to log the refusal', 5000, async () => {
        const extra = net.connect(port, '127.0.0.1');
        extra.on('error', () => {});
        await new Promise<void>((r) => extra.once('close', () => r()));
        return logs.some((l) => /Too many connections from 127\.0\.0\.1 - max is 2/.test(l)) ? true : undefined;
      });
      for (const sock of silent) sock.destroy();
      const c = await pollUntil('a slot to free up', 5000, async () => connectTls('127.0.0.1', port, as(pki, 'alice')).catch(() => undefined));
      c.destroy();
    } finally {
      for (const sock of silent) sock.destroy();
      await server.stop();
    }
  });

  it('drops a connection that never completes its handshake, not an idle session', async () => {
    const properties = new Map([
      ['zookeeper.ssl.keyStore.location', pki.server.pem],
      ['zookeeper.ssl.trustStore.location', pki.ca],
    ]);
    const tls = { ...tlsSettings({ secureClientPort: 0, secureClientPortAddress: '127.0.0.1', properties })!, handshakeTimeoutMs: 300 };
    const logs: string[] = [];
    const server = new ZkServer(testOptions({ tls, log: (l, m) => logs.push(`${l} ${m}`) }));
    await server.start();
    const port = server.tls!.address!.port;
    try {
      const idle = await connectTls('127.0.0.1', port, as(pki, 'alice'));
      const silent = net.connect(port, '127.0.0.1');
      silent.on('error', () => {});
      const closed = new Promise<void>((r) => silent.once('close', () => r()));
      await pollUntil('the silent socket to be dropped', 5000, async () => (silent.destroyed ? true : undefined));
      await closed;
      assert.ok(logs.some((l) => /TLS handshake with .* failed: TLS handshake timeout/.test(l)), logs.join('\n'));
      // counted as ZooKeeper's Netty factory counts an unsuccessful handshake
      assert.equal(server.stats.metrics.counterViews().unsuccessful_handshake, 1);
      assert.equal(server.stats.metrics.authFailedCount, 1);
      // the session, established before the silent socket connected, has outlived the handshake timeout and still answers
      assert.equal((await idle.request({ type: OpCode.exists, path: '/', watch: false })).err, Code.OK);
      idle.destroy();
    } finally {
      await server.stop();
    }
  });

  it('reloads the key store and the trust store when their files change', async () => {
    const keyStore = path.join(pki.dir, 'reload-keystore.pem');
    const trustStore = path.join(pki.dir, 'reload-truststore.pem');
    copyFileSync(pki.server.pem, keyStore);
    copyFileSync(pki.ca, trustStore);
    const s = await start(pki, { 'ssl.keyStore.location': keyStore, 'ssl.trustStore.location': trustStore });
    try {
      const serverCn = async (): Promise<string> => {
        let cn = '';
        const c = await connectTls('127.0.0.1', s.tlsPort, { ...as(pki, 'alice'), onSecure: (sock) => (cn = sock.getPeerX509Certificate()?.subject ?? '') });
        c.destroy();
        return cn;
      };
      assert.match(await serverCn(), /CN=zkts-server/);
      const next = pki.issue('server-2', '/CN=zkts-server-renewed/O=zkts test', { san: 'DNS:localhost,IP:127.0.0.1' });
      copyFileSync(next.pem, keyStore);
      await pollUntil('new connections to get the renewed certificate', 10_000, async () => ((await serverCn()).includes('zkts-server-renewed') ? true : undefined));
      await s.logged(/TLS key and trust stores reloaded/);
      // a client of the other CA gets in once that CA is in the trust store
      await refused(connectTls('127.0.0.1', s.tlsPort, as(pki, 'untrusted')));
      writeFileSync(trustStore, Buffer.concat([readFileSync(pki.ca), readFileSync(pki.otherCa)]));
      await pollUntil('the other CA to be trusted', 10_000, async () =>
        connectTls('127.0.0.1', s.tlsPort, as(pki, 'untrusted')).then((c) => (c.destroy(), true), () => undefined),
      );
      // a broken file is logged and the previous stores stay in use
      writeFileSync(keyStore, 'not a key store');
      await s.logged(/not reloaded, keeping the previous one/);
      assert.match(await serverCn(), /zkts-server-renewed/);
    } finally {
      await s.server.stop();
    }
  });

  it('takes PKCS#12 stores (and the same stores by type when the extension says nothing)', async () => {
    const renamed = path.join(pki.dir, 'server-keystore.bin');
    copyFileSync(pki.server.p12, renamed);
    const variants: Array<Record<string, string>> = [
      { 'ssl.keyStore.location': pki.server.p12, 'ssl.keyStore.password': STORE_PASSWORD, 'ssl.trustStore.location': pki.caP12, 'ssl.trustStore.password': STORE_PASSWORD },
      { 'ssl.keyStore.location': renamed, 'ssl.keyStore.type': 'pkcs12', 'ssl.keyStore.password': STORE_PASSWORD },
    ];
    for (const props of variants) {
      const s = await start(pki, props);
      try {
        const c = await connectTls('127.0.0.1', s.tlsPort, as(pki, 'alice'));
        assert.deepEqual(await whoAmI(c), ['ip:127.0.0.1', `x509:${ALICE}`]);
        c.destroy();
      } finally {
        await s.server.stop();
      }
    }
  });
});
