// java-client.test.ts — Apache ZooKeeper's Java client (Debian's 3.8 jar, ClientCnxnSocketNetty,
// zookeeper.client.secure=true) against zkts's secure client port: good certificates in PEM and
// PKCS#12 stores connect and get the x509 id of their subject; an x509 ACL lets alice read and
// answers bob NoAuth; expired, untrusted-CA and missing client certificates are refused by zkts
// (checked by the reason zkts logs); a server certificate for another host is refused by the
// client. Then zkCli.sh itself, with CLIENT_JVMFLAGS, reads a znode over TLS.
// Skipped, with the reason, without java/javac, ZooKeeper's jar, Netty's jars or openssl.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ZkServer } from '../../src/server/zk-server.js';
import { tlsSettings } from '../../src/server/tls-config.js';
import { pollUntil } from '../conformance/test-client.js';
import { testOptions } from '../server/start-server.js';
import { makePki, opensslMissing, type Pki, STORE_PASSWORD } from './certs.js';
import { CLIENT_CLASSPATH, javaMissing, runProbe } from './java.js';

const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';
const skip = opensslMissing() ?? javaMissing();
const ALICE = 'CN=alice,OU=clients,O=zkts test,C=NL';
const BOB = 'CN=bob,OU=clients,O=zkts test,C=NL';
/** How long the probe waits for a session where none should come. */
const REFUSED_WAIT_MS = 3000;

interface Running {
  server: ZkServer;
  port: number;
  logs: string[];
}

async function start(keyStore: string): Promise<Running> {
  const properties = new Map([
    ['zookeeper.ssl.keyStore.location', keyStore],
    ['zookeeper.ssl.trustStore.location', pki.ca],
  ]);
  const tls = tlsSettings({ secureClientPort: 0, secureClientPortAddress: '127.0.0.1', properties });
  const logs: string[] = [];
  const server = new ZkServer(testOptions({ tls, log: (level, msg) => logs.push(`${level} ${msg}`) }));
  await server.start();
  return { server, port: server.tls!.address!.port, logs };
}

let pki: Pki;

function clientFlags(keyStore: Record<string, string> | null, trust: Record<string, string> = { 'zookeeper.ssl.trustStore.location': pki.ca }): Record<string, string> {
  return {
    'zookeeper.client.secure': 'true',
    'zookeeper.clientCnxnSocket': 'org.apache.zookeeper.ClientCnxnSocketNetty',
    ...trust,
    ...(keyStore ?? {}),
  };
}

const pem = (file: string): Record<string, string> => ({ 'zookeeper.ssl.keyStore.location': file });

describe('the Java client over TLS', { skip: skip ?? false }, () => {
  let zk: Running;
  before(async () => {
    pki = makePki();
    zk = await start(pki.server.pem);
  });
  after(async () => {
    await zk?.server.stop();
    pki?.cleanup();
  });

  it('connects with a PEM key store, is x509 alice, and alice\'s x509 ACL keeps bob out', async () => {
    const alice = await runProbe(clientFlags(pem(pki.alice.pem)), [
      'client', `127.0.0.1:${zk.port}`, '15000', 'whoami', `createx509=/alice-only=${ALICE}`, 'get=/alice-only', 'create=/open',
    ]);
    assert.deepEqual(alice.lines, [
      'CONNECTED',
      `whoami ip:127.0.0.1;x509:${ALICE};`,
      'createx509 /alice-only OK',
      'get /alice-only OK secret',
      'create /open OK',
    ], alice.stderr);
    const bob = await runProbe(clientFlags(pem(pki.bob.pem)), ['client', `127.0.0.1:${zk.port}`, '15000', 'whoami', 'get=/alice-only', 'get=/open']);
    assert.deepEqual(bob.lines, ['CONNECTED', `whoami ip:127.0.0.1;x509:${BOB};`, 'get /alice-only ERR NOAUTH', 'get /open OK open'], bob.stderr);
  });

  it('connects with PKCS#12 key and trust stores', async () => {
    const r = await runProbe(
      clientFlags(
        { 'zookeeper.ssl.keyStore.location': pki.alice.p12, 'zookeeper.ssl.keyStore.password': STORE_PASSWORD },
        { 'zookeeper.ssl.trustStore.location': pki.caP12, 'zookeeper.ssl.trustStore.password': STORE_PASSWORD },
      ),
      ['client', `127.0.0.1:${zk.port}`, '15000', 'whoami'],
    );
    assert.deepEqual(r.lines, ['CONNECTED', `whoami ip:127.0.0.1;x509:${ALICE};`], r.stderr);
  });

  for (const [name, keyStore, reason] of [
    ['an expired certificate', () => pem(pki.expired.pem), /refused: client certificate not trusted: CERT_HAS_EXPIRED/],
    // Java's key manager offers only a certificate whose issuer is among the CAs the server names
    // in its CertificateRequest, so this client sends none at all.
    ['a certificate from a CA zkts does not trust', () => pem(pki.untrusted.pem), /refused: (no client certificate|client certificate not trusted: UNABLE_TO_)/],
    ['no certificate', () => null, /refused: no client certificate/],
  ] as const) {
    it(`is refused with ${name}`, async () => {
      const before = zk.logs.length;
      const r = await runProbe(clientFlags(keyStore()), ['client', `127.0.0.1:${zk.port}`, String(REFUSED_WAIT_MS), 'whoami']);
      assert.deepEqual(r.lines, ['NOT_CONNECTED'], r.stderr);
      assert.equal(r.code, 2);
      assert.ok(zk.logs.slice(before).some((l) => reason.test(l)), `zkts logged why:\n${zk.logs.slice(before).join('\n')}`);
    });
  }

  it('refuses a server whose certificate names another host', async () => {
    const wrong = await start(pki.wrongHost.pem);
    try {
      const r = await runProbe(clientFlags(pem(pki.alice.pem)), ['client', `127.0.0.1:${wrong.port}`, String(REFUSED_WAIT_MS), 'whoami']);
      assert.deepEqual(r.lines, ['NOT_CONNECTED'], r.stderr);
      assert.equal(wrong.server.connections.size, 0, 'no connection reached the server');
      assert.ok(wrong.logs.some((l) => /TLS handshake with .* failed: .*alert certificate unknown/.test(l)), `the client's alert:\n${wrong.logs.join('\n')}`);
      // the same client gets in with host checks off: the certificate was the only problem
      const off = await runProbe({ ...clientFlags(pem(pki.alice.pem)), 'zookeeper.ssl.hostnameVerification': 'false' }, [
        'client', `127.0.0.1:${wrong.port}`, '15000', 'whoami',
      ]);
      assert.deepEqual(off.lines, ['CONNECTED', `whoami ip:127.0.0.1;x509:${ALICE};`], off.stderr);
    } finally {
      await wrong.server.stop();
    }
  });

  it('zkCli.sh reads a znode over TLS (CLIENT_JVMFLAGS, Netty jars added to its class path)', { skip: existsSync(ZKCLI) ? false : `${ZKCLI} is missing` }, async () => {
    await pollUntil('/open to exist', 5000, async () => (zk.server.tree.get('/open') !== undefined ? true : undefined));
    const flags = clientFlags(pem(pki.alice.pem));
    const jvmFlags = ['-cp', ['/etc/zookeeper/conf', ...CLIENT_CLASSPATH].join(':'), ...Object.entries(flags).map(([k, v]) => `-D${k}=${v}`)].join(' ');
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(ZKCLI, ['-server', `127.0.0.1:${zk.port}`, 'get', '/open'], { env: { ...process.env, CLIENT_JVMFLAGS: jvmFlags } });
      let text = '';
      child.stdout.on('data', (b: Buffer) => (text += b.toString()));
      child.stderr.on('data', (b: Buffer) => (text += b.toString()));
      const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`zkCli.sh did not finish:\n${text}`))), 60_000);
      child.on('close', () => (clearTimeout(timer), resolve(text)));
    });
    assert.match(out, /WatchedEvent state:SyncConnected/);
    assert.match(out, /^open$/m, out);
  });
});
