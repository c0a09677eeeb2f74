// cli-tls.test.ts — `zkts server zoo.cfg` with ZooKeeper's TLS keys, as an operator writes them:
// plaintext and secure ports side by side, TLS only (no clientPort, as ZooKeeper allows), the TLS
// keys not reported as ignored, and a JKS store refused at start with the keytool command to run.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../conformance/server-process.js';
import { pollUntil, TestClient, withTimeout } from '../conformance/test-client.js';
import { keytoolPresent, makePki, opensslMissing, type Pki, run, STORE_PASSWORD } from './certs.js';
import { connectTls } from './tls-client.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(root, 'src', 'cli', 'main.ts');

interface Cli {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

function startCli(cfgFile: string): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'server', cfgFile], { cwd: root });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await withTimeout(exited, 10_000, 'zkts to exit').catch(() => child.kill('SIGKILL'));
    },
  };
}

describe('zkts server with TLS keys in zoo.cfg', { skip: opensslMissing() ?? false }, () => {
  let pki: Pki;
  before(() => {
    pki = makePki();
  });
  after(() => pki?.cleanup());

  function writeCfg(name: string, lines: string[]): string {
    const file = path.join(pki.dir, name);
    writeFileSync(file, [`dataDir=${path.join(pki.dir, `${name}-data`)}`, 'admin.enableServer=false', ...lines, ''].join('\n'));
    return file;
  }

  it('serves plaintext and TLS side by side and reports none of the TLS keys as ignored', async () => {
    const [plain, secure] = [await freePort(), await freePort()];
    const cli = startCli(writeCfg('both.cfg', [
      `clientPort=${plain}`, 'clientPortAddress=127.0.0.1', `secureClientPort=${secure}`, 'secureClientPortAddress=127.0.0.1',
      'serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory', `ssl.keyStore.location=${pki.server.p12}`,
      `ssl.keyStore.password=${STORE_PASSWORD}`, `ssl.trustStore.location=${pki.ca}`, 'ssl.clientAuth=need',
      'ssl.hostnameVerification=true', 'ssl.protocol=TLSv1.3', 'client.certReload=true',
      `authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider`,
    ]));
    try {
      await pollUntil('the TLS port to be announced', 20_000, async () => (/TLS clients on 127\.0\.0\.1:\d+/.test(cli.output()) ? true : undefined));
      const c = await connectTls('127.0.0.1', secure, { ca: pki.ca, cert: pki.alice.cert, key: pki.alice.key });
      const p = await TestClient.connect('127.0.0.1', plain);
      assert.ok(c.sessionId !== 0n && p.sessionId !== 0n);
      c.destroy();
      p.destroy();
      assert.doesNotMatch(cli.output(), /not acted on/, cli.output());
    } finally {
      await cli.stop();
    }
  });

  it('serves TLS only when clientPort is not set', async () => {
    const secure = await freePort();
    const cli = startCli(writeCfg('tls-only.cfg', [
      `secureClientPort=${secure}`, 'secureClientPortAddress=127.0.0.1', `ssl.keyStore.location=${pki.server.pem}`, `ssl.trustStore.location=${pki.ca}`,
    ]));
    try {
      await pollUntil('the TLS port to be announced', 20_000, async () => (/TLS clients on 127\.0\.0\.1:\d+/.test(cli.output()) ? true : undefined));
      assert.match(cli.output(), /serving TLS clients only/);
      const c = await connectTls('127.0.0.1', secure, { ca: pki.ca, cert: pki.bob.cert, key: pki.bob.key });
      assert.ok(c.sessionId !== 0n);
      c.destroy();
    } finally {
      await cli.stop();
    }
  });

  it('refuses to start on a JKS key store, naming the keytool command', { skip: keytoolPresent() ? false : 'keytool is not installed' }, async () => {
    run('keytool', ['-importkeystore', '-noprompt', '-srckeystore', pki.server.p12, '-srcstoretype', 'PKCS12', '-srcstorepass', STORE_PASSWORD,
      '-destkeystore', 'server.jks', '-deststoretype', 'JKS', '-deststorepass', STORE_PASSWORD], pki.dir);
    const cli = startCli(writeCfg('jks.cfg', [
      `clientPort=${await freePort()}`, 'clientPortAddress=127.0.0.1', 'secureClientPort=0',
      `ssl.keyStore.location=${path.join(pki.dir, 'server.jks')}`, `ssl.keyStore.password=${STORE_PASSWORD}`,
    ]));
    try {
      const code = await withTimeout(cli.exited, 20_000, 'zkts to refuse the config');
      assert.equal(code, 1);
      assert.match(cli.output(), /server\.jks: is a JKS store, a Java format zkts \(Node's TLS\) cannot read; convert it to PKCS12 with keytool -importkeystore/);
      assert.match(cli.output(), /\[ZKTS_ERR_CONFIG\]/);
      assert.doesNotMatch(cli.output(), new RegExp(STORE_PASSWORD), 'the password is not printed');
    } finally {
      await cli.stop();
    }
  });
});
