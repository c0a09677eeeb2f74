// differential-tls.test.ts — the same Java client runs (JavaTlsProbe over ClientCnxnSocketNetty)
// against Apache ZooKeeper (Debian's 3.8, NettyServerCnxnFactory, secureClientPort) and against
// zkts, with the same certificates; every line the client prints must be the same: who it is
// (whoAmI: the ip id, then the x509 id the server derived from the certificate's subject, for a
// plain subject and for one full of characters RFC 2253 escapes), what an x509 ACL lets it do,
// and which certificates get no session at all.
// Skipped, with the reason, without java/javac, ZooKeeper's or Netty's jars, or openssl.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ZkServer } from '../../src/server/zk-server.js';
import { tlsSettings } from '../../src/server/tls-config.js';
import { freePort } from '../conformance/server-process.js';
import { pollUntil, TestClient, withTimeout } from '../conformance/test-client.js';
import { testOptions } from '../server/start-server.js';
import { type Identity, makePki, opensslMissing, type Pki } from './certs.js';
import { CLIENT_CLASSPATH, javaMissing, runProbe } from './java.js';

const skip = opensslMissing() ?? javaMissing();
const REFUSED_WAIT_MS = 3000;

interface Target {
  name: string;
  tlsPort: number;
  stop(): Promise<void>;
}

async function startZooKeeper(pki: Pki): Promise<Target> {
  const dir = path.join(pki.dir, 'zookeeper');
  mkdirSync(dir, { recursive: true });
  const [plain, secure] = [await freePort(), await freePort()];
  const cfg = path.join(dir, 'zoo.cfg');
  writeFileSync(cfg, [
    'tickTime=2000', `dataDir=${path.join(dir, 'data')}`, `clientPort=${plain}`, 'clientPortAddress=127.0.0.1',
    `secureClientPort=${secure}`, 'secureClientPortAddress=127.0.0.1', 'admin.enableServer=false',
    'serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory',
    `ssl.keyStore.location=${pki.server.pem}`, `ssl.trustStore.location=${pki.ca}`, '',
  ].join('\n'));
  const child: ChildProcess = spawn('java', [
    '-cp', ['/etc/zookeeper/conf', ...CLIENT_CLASSPATH].join(':'), `-Dzookeeper.log.dir=${dir}`, '-Dzookeeper.root.logger=WARN,CONSOLE',
    'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg,
  ]);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await withTimeout(exited, 10_000, 'ZooKeeper to exit').catch(() => child.kill('SIGKILL'));
  };
  try {
    await pollUntil(`ZooKeeper to serve on ${plain}`, 40_000, async () => {
      if (child.exitCode !== null) throw new Error(`ZooKeeper exited:\n${out}`);
      const c = await TestClient.connect('127.0.0.1', plain, { timeoutMs: 2000 }).catch(() => undefined);
      if (c === undefined) return undefined;
      c.destroy();
      return true;
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { name: 'zookeeper', tlsPort: secure, stop };
}

async function startZkts(pki: Pki): Promise<Target> {
  const properties = new Map([
    ['zookeeper.ssl.keyStore.location', pki.server.pem],
    ['zookeeper.ssl.trustStore.location', pki.ca],
  ]);
  const tls = tlsSettings({ secureClientPort: 0, secureClientPortAddress: '127.0.0.1', properties });
  const server = new ZkServer(testOptions({ tls }));
  await server.start();
  return { name: 'zkts', tlsPort: server.tls!.address!.port, stop: () => server.stop() };
}

describe('the Java client over TLS: Apache ZooKeeper and zkts answer alike', { skip: skip ?? false }, () => {
  let pki: Pki;
  let tricky: Identity;
  let targets: Target[] = [];
  before(async () => {
    pki = makePki();
    // a subject with characters RFC 2253 escapes, spaces at both ends, and a type (emailAddress)
    // the JDK prints as an OID with a hex value
    tricky = pki.issue('tricky', '/C=NL/O=zkts\\, test\\+more/OU=a=b;c/CN= lead#"q" <x>\\\\y /emailAddress=t@example.com');
    targets = [await startZooKeeper(pki), await startZkts(pki)];
  });
  after(async () => {
    for (const t of targets) await t.stop();
    pki?.cleanup();
  });

  async function both(identity: Identity | null, args: (t: Target) => string[]): Promise<string[][]> {
    const flags: Record<string, string> = {
      'zookeeper.client.secure': 'true',
      'zookeeper.clientCnxnSocket': 'org.apache.zookeeper.ClientCnxnSocketNetty',
      'zookeeper.ssl.trustStore.location': pki.ca,
      ...(identity === null ? {} : { 'zookeeper.ssl.keyStore.location': identity.pem }),
    };
    return Promise.all(targets.map(async (t) => (await runProbe(flags, args(t))).lines));
  }

  it('gives each certificate the same identity', async () => {
    // ZooKeeper keeps a connection's ids in a hash set (ServerCnxn.authInfo), so whoAmI lists them
    // in Java hash order (x509 before ip for these); zkts lists them as they were added (ip, then
    // x509). The ids are compared as sets here; the order is a whoAmI matter for every scheme.
    const ids = (lines: string[]): string[] => lines.map((l) => (l.startsWith('whoami ') ? `whoami ${l.slice(7).split(';').filter((x) => x !== '').sort().join(';')}` : l));
    for (const who of [pki.alice, pki.bob, tricky]) {
      const [zookeeper, zkts] = await both(who, (t) => ['client', `127.0.0.1:${t.tlsPort}`, '20000', 'whoami']);
      assert.equal(zookeeper![0], 'CONNECTED', `ZooKeeper: ${zookeeper!.join('\n')}`);
      assert.deepEqual(ids(zkts!), ids(zookeeper!));
      assert.match(zookeeper![1]!, /x509:/);
    }
  });

  it('enforces an x509 ACL alike', async () => {
    const [aliceZk, aliceZkts] = await both(pki.alice, (t) => [
      'client', `127.0.0.1:${t.tlsPort}`, '20000', 'createx509=/mine=CN=alice,OU=clients,O=zkts test,C=NL', 'get=/mine',
      'createx509=/bad=not a name',
    ]);
    assert.deepEqual(aliceZkts, aliceZk);
    assert.deepEqual(aliceZk, ['CONNECTED', 'createx509 /mine OK', 'get /mine OK secret', 'createx509 /bad ERR INVALIDACL']);
    const [bobZk, bobZkts] = await both(pki.bob, (t) => ['client', `127.0.0.1:${t.tlsPort}`, '20000', 'get=/mine']);
    assert.deepEqual(bobZkts, bobZk);
    assert.deepEqual(bobZk, ['CONNECTED', 'get /mine ERR NOAUTH']);
  });

  it('refuses the same certificates', async () => {
    for (const who of [pki.expired, pki.untrusted, null]) {
      const [zookeeper, zkts] = await both(who, (t) => ['client', `127.0.0.1:${t.tlsPort}`, String(REFUSED_WAIT_MS), 'whoami']);
      assert.deepEqual(zookeeper, ['NOT_CONNECTED'], who?.cert ?? 'no certificate');
      assert.deepEqual(zkts, zookeeper, who?.cert ?? 'no certificate');
    }
  });
});
