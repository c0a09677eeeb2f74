// sasl-tls.test.ts — the client's SASL DIGEST-MD5 login against zkts and Apache ZooKeeper 3.8
// (each given the same JAAS Server section: zkts as saslCredentials, ZooKeeper as
// -Djava.security.auth.login.config with SASLAuthenticationProvider), and its TLS connections to
// the secureClientPort of zkts and of ZooKeeper 3.8 with Netty (certificates made by openssl for
// the run, test/tls/certs.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ConnectOptions, Perm, ZooKeeper, isZkError } from '../../src/client/index.js';
import { tlsSettings } from '../../src/server/tls-config.js';
import { freePort, javaZooKeeperMissing, startJavaZooKeeper } from '../conformance/server-process.js';
import { startServer } from '../server/start-server.js';
import { makePki, opensslMissing, type Pki } from '../tls/certs.js';
import { CLIENT_CLASSPATH, NETTY_JARS, javaMissing } from '../tls/java.js';
import { clientOptions, nextEvent, uniquePath, until } from './servers.js';

const USERS = { bob: 'bob-secret', 'ünï': 'pässwörd' };
const sasl = (username: string, password: string): ConnectOptions['sasl'] => ({ mechanism: 'DIGEST-MD5', username, password });

interface SaslServer {
  connectString: string;
  stop(): Promise<void>;
  dropConnections?: () => void;
}

const zkMissing = javaZooKeeperMissing();
const SASL_SERVERS: { name: string; skip: string | false; start(dir: string): Promise<SaslServer> }[] = [
  {
    name: 'zkts',
    skip: false,
    async start() {
      const { server, port } = await startServer({ saslCredentials: new Map(Object.entries(USERS)), saslAclProvider: true });
      return {
        connectString: `127.0.0.1:${port}`,
        stop: () => server.stop(),
        dropConnections: () => {
          for (const c of [...server.connections]) c.socket.destroy();
        },
      };
    },
  },
  {
    name: 'zookeeper',
    skip: zkMissing === null ? false : `Apache ZooKeeper 3.8 cannot run here: ${zkMissing}`,
    async start(dir) {
      const jaas = path.join(dir, 'jaas.conf');
      const users = Object.entries(USERS).map(([u, p]) => `  user_${u}="${p}"`).join('\n');
      writeFileSync(jaas, `Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n${users};\n};\n`, 'utf8');
      const p = await startJavaZooKeeper({
        systemProperties: {
          'java.security.auth.login.config': jaas,
          'zookeeper.authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
        },
      });
      return { connectString: `${p.host}:${p.port}`, stop: () => p.stop() };
    },
  },
];

for (const kind of SASL_SERVERS) {
  describe(`SASL DIGEST-MD5 against ${kind.name}`, { skip: kind.skip }, () => {
    let pki: Pki; // only for its temp dir
    let server: SaslServer;
    before(async () => {
      pki = makePki();
      server = await kind.start(pki.dir);
    });
    after(async () => {
      await server?.stop();
      pki?.cleanup();
    });

    test('the session gets sasl:<user> before any other request runs', async () => {
      await using zk = await ZooKeeper.connect(server.connectString, clientOptions({ sasl: sasl('bob', USERS.bob) }));
      // sent at once after connect: held until the SASL exchange is done, so already as bob
      const p = uniquePath('sasl');
      await zk.create(p, 'secret', { acl: [{ perms: Perm.ALL, id: { scheme: 'sasl', id: 'bob' } }] });
      assert.equal((await zk.getData(p)).data.toString(), 'secret');
      assert.ok((await zk.whoAmI()).some((i) => i.authScheme === 'sasl' && i.user === 'bob'));
      await using anon = await ZooKeeper.connect(server.connectString, clientOptions());
      await assert.rejects(anon.getData(p), (e) => isZkError(e, 'ZNOAUTH'));
      // a user outside ASCII: Java encodes it as UTF-8 in the digest
      await using u = await ZooKeeper.connect(server.connectString, clientOptions({ sasl: sasl('ünï', USERS['ünï']) }));
      assert.ok((await u.whoAmI()).some((i) => i.authScheme === 'sasl' && i.user === 'ünï'));
    });

    test('a wrong password ends the session in authFailed; calls fail with ZAUTHFAILED', async () => {
      const zk = new ZooKeeper(server.connectString, clientOptions({ sasl: sasl('bob', 'wrong') }));
      try {
        if (zk.state !== 'authFailed') await nextEvent(zk, 'authFailed');
        await assert.rejects(zk.exists('/'), (e) => isZkError(e, 'ZAUTHFAILED'));
      } finally {
        await zk.close();
      }
    });

    test('after a lost connection the client logs in again', { skip: kind.name === 'zookeeper' ? 'zkts drops the connections here' : false }, async () => {
      await using zk = await ZooKeeper.connect(server.connectString, clientOptions({ sasl: sasl('bob', USERS.bob) }));
      const p = uniquePath('sasl-again');
      await zk.create(p, 'x', { acl: [{ perms: Perm.ALL, id: { scheme: 'sasl', id: 'bob' } }] });
      const back = nextEvent(zk, 'reconnected');
      server.dropConnections!();
      await back;
      assert.equal((await zk.getData(p)).data.toString(), 'x');
    });
  });
}

interface TlsServer {
  tlsPort: number;
  plainPort: number;
  stop(): Promise<void>;
  /** zkts only: closes every client connection from the server side. */
  dropConnections?: () => void;
}

async function zktsTls(pki: Pki): Promise<TlsServer> {
  const properties = new Map([
    ['zookeeper.ssl.keyStore.location', pki.server.pem],
    ['zookeeper.ssl.trustStore.location', pki.ca],
  ]);
  const { server, port } = await startServer({ tls: tlsSettings({ secureClientPort: 0, secureClientPortAddress: '127.0.0.1', properties }) });
  return {
    tlsPort: server.tls!.address!.port,
    plainPort: port,
    stop: () => server.stop(),
    dropConnections: () => {
      for (const c of [...server.connections]) c.socket.destroy();
    },
  };
}

/** ZooKeeper 3.8 with Netty and a secureClientPort (its jars as test/tls/java.ts puts them together). */
async function zookeeperTls(pki: Pki): Promise<TlsServer> {
  const dir = path.join(pki.dir, 'zookeeper');
  mkdirSync(dir, { recursive: true });
  const [plainPort, tlsPort] = [await freePort(), await freePort()];
  const cfg = path.join(dir, 'zoo.cfg');
  writeFileSync(cfg, [
    'tickTime=2000', `dataDir=${path.join(dir, 'data')}`, `clientPort=${plainPort}`, 'clientPortAddress=127.0.0.1',
    `secureClientPort=${tlsPort}`, 'secureClientPortAddress=127.0.0.1', 'admin.enableServer=false',
    'serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory',
    `ssl.keyStore.location=${pki.server.pem}`, `ssl.trustStore.location=${pki.ca}`, '',
  ].join('\n'));
  const child = spawn('java', ['-cp', ['/etc/zookeeper/conf', ...CLIENT_CLASSPATH].join(':'), `-Dzookeeper.log.dir=${dir}`,
    '-Dzookeeper.root.logger=WARN,CONSOLE', 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg]);
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    await until(`ZooKeeper to serve on ${plainPort}`, async () => {
      if (child.exitCode !== null) throw new Error(`ZooKeeper exited:\n${out}`);
      const zk = await ZooKeeper.connect(`127.0.0.1:${plainPort}`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      await zk?.close();
      return zk === undefined ? undefined : true;
    }, 40_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { tlsPort, plainPort, stop };
}

const TLS_SERVERS = [
  { name: 'zkts', skip: opensslMissing() ?? false, start: zktsTls },
  { name: 'zookeeper', skip: opensslMissing() ?? (javaMissing() === null && existsSync(NETTY_JARS[0]!) ? false : `Apache ZooKeeper 3.8 with Netty cannot run here: ${javaMissing() ?? 'no Netty jars'}`), start: zookeeperTls },
];

for (const kind of TLS_SERVERS) {
  describe(`TLS to the secureClientPort of ${kind.name}`, { skip: kind.skip }, () => {
    let pki: Pki;
    let server: TlsServer;
    before(async () => {
      pki = makePki();
      server = await kind.start(pki);
    });
    after(async () => {
      await server?.stop();
      pki?.cleanup();
    });
    const tlsAs = (who: 'alice' | 'untrusted', ca = pki.ca): ConnectOptions['tls'] => ({
      ca: readFileSync(ca),
      cert: readFileSync(pki[who].cert),
      key: readFileSync(pki[who].key),
    });

    test('a session over TLS with a client certificate: the x509 identity, reads and writes, watches', async () => {
      await using zk = await ZooKeeper.connect(`127.0.0.1:${server.tlsPort}`, clientOptions({ tls: tlsAs('alice') }));
      assert.ok((await zk.whoAmI()).some((i) => i.authScheme === 'x509' && i.user === 'CN=alice,OU=clients,O=zkts test,C=NL'));
      const p = uniquePath('tls');
      await zk.create(p, 'over tls');
      const seen: string[] = [];
      await zk.getData(p, { watch: (ev) => seen.push(ev.type) });
      await using plain = await ZooKeeper.connect(`127.0.0.1:${server.plainPort}`, clientOptions());
      await plain.setData(p, 'changed');
      await until('the watch over TLS', () => (seen.length === 1 ? true : undefined));
      assert.equal((await zk.getData(p)).data.toString(), 'changed');
    });

    test('the session resumes over TLS after the connection is cut', { skip: kind.name === 'zookeeper' ? 'zkts drops the connections here' : false }, async () => {
      await using zk = await ZooKeeper.connect(`127.0.0.1:${server.tlsPort}`, clientOptions({ tls: tlsAs('alice') }));
      const id = zk.sessionId;
      const back = nextEvent(zk, 'reconnected');
      server.dropConnections!();
      await back;
      assert.equal(zk.sessionId, id);
      assert.ok((await zk.whoAmI()).some((i) => i.authScheme === 'x509'));
    });

    test('a server certificate from a CA the client does not trust gets no session', async () => {
      const opts = clientOptions({ tls: tlsAs('alice', pki.otherCa), signal: AbortSignal.timeout(1500) });
      await assert.rejects(ZooKeeper.connect(`127.0.0.1:${server.tlsPort}`, opts));
    });

    test('a client certificate the server does not trust gets no session', async () => {
      const opts = clientOptions({ tls: tlsAs('untrusted'), signal: AbortSignal.timeout(1500) });
      await assert.rejects(ZooKeeper.connect(`127.0.0.1:${server.tlsPort}`, opts));
    });
  });
}
