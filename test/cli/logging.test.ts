// logging.test.ts — `zkts server` logs JSON lines through pino (src/cli/logging.ts): level and
// file from zoo.cfg (zkts.log.*) or ZKTS_LOG_*; the configuration line at start redacts secrets;
// and no secret of the config — a JAAS (SASL) password, the super digest, the SASL super password,
// keystore and truststore passwords — reaches the log, even when a failed authentication's
// message would echo it back.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createServerLogger, logSettings, prettyLine, REDACTED, redactedProperties, scrubber } from '../../src/cli/logging.js';
import { ZktsError } from '../../src/errors.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { generateDigest } from '../../src/server/auth/digest.js';
import { pollUntil, TestClient } from '../conformance/test-client.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(root, 'src/cli/main.ts');

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const props = (o: Record<string, string>) => new Map(Object.entries(o).map(([k, v]) => [`zookeeper.${k}`, v]));

describe('log settings', () => {
  it('reads zkts.log.* and lets ZKTS_LOG_* override them; a bad value names the key', () => {
    assert.deepEqual(logSettings(new Map(), {}), { level: 'info', format: 'json' });
    const cfg = props({ 'zkts.log.level': 'WARN', 'zkts.log.file': '/var/log/zkts.log', 'zkts.log.format': 'pretty' });
    assert.deepEqual(logSettings(cfg, {}), { level: 'warn', format: 'pretty', file: '/var/log/zkts.log' });
    assert.deepEqual(logSettings(cfg, { ZKTS_LOG_LEVEL: 'debug', ZKTS_LOG_FILE: '/tmp/x.log', ZKTS_LOG_FORMAT: 'json' }), {
      level: 'debug', format: 'json', file: '/tmp/x.log',
    });
    assert.throws(() => logSettings(props({ 'zkts.log.level': 'loud' }), {}), (e: ZktsError) => e.code === 'ZKTS_ERR_CONFIG' && /zkts\.log\.level: "loud" is not a log level/.test(e.message));
    assert.throws(() => logSettings(new Map(), { ZKTS_LOG_FORMAT: 'xml' }), /ZKTS_LOG_FORMAT: "xml" is not json or pretty/);
  });

  it('filters by level and writes one JSON object per line; pretty is one readable line', () => {
    const lines: string[] = [];
    const logger = createServerLogger({ level: 'warn', format: 'json' }, [], { write: (s) => lines.push(s) });
    logger.log('info', 'not shown');
    logger.log('warn', 'shown');
    logger.log('error', 'also shown');
    const objs = lines.map((l) => JSON.parse(l) as { level: number; msg: string; time: number });
    assert.deepEqual(objs.map((o) => [o.level, o.msg]), [[40, 'shown'], [50, 'also shown']]);
    assert.ok(objs.every((o) => typeof o.time === 'number'));
    assert.equal(prettyLine('{"level":40,"time":0,"pid":1,"msg":"disk slow","path":"/x"}'), '1970-01-01T00:00:00.000Z WARN  disk slow path=/x\n');
  });

  it('scrubs secret values from messages and redacts secret keys', () => {
    const scrub = scrubber(['hunter22', 'abc']);
    assert.equal(scrub('login with hunter22 failed; abc stays (too short to scrub safely)'), `login with ${REDACTED} failed; abc stays (too short to scrub safely)`);
    assert.deepEqual(
      redactedProperties(props({ 'ssl.keyStore.password': 'p', 'ssl.keyStore.location': '/k.p12', 'DigestAuthenticationProvider.superDigest': 'super:x', 'ssl.keyStore.passwordPath': '/p' })),
      {
        'zookeeper.DigestAuthenticationProvider.superDigest': REDACTED,
        'zookeeper.ssl.keyStore.location': '/k.p12',
        'zookeeper.ssl.keyStore.password': REDACTED,
        'zookeeper.ssl.keyStore.passwordPath': '/p',
      },
    );
  });
});

describe('zkts server logs', () => {
  it('writes JSON lines to zkts.log.file with no secret of the config in them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zkts-log-'));
    const secrets = {
      sasl: 'S4sl-user-passw0rd',
      superDigestPassword: 'D1gest-super-pw',
      saslSuper: 'S4sl-super-passw0rd',
      keyStore: 'K3ystore-passw0rd',
      trustStore: 'Tru5tstore-passw0rd',
    };
    const superDigest = generateDigest(`super:${secrets.superDigestPassword}`);
    try {
      const jaas = path.join(dir, 'jaas.conf');
      writeFileSync(jaas, `Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="${secrets.sasl}";\n};\n`);
      const port = await freePort();
      const logFile = path.join(dir, 'logs', 'zkts.log');
      const cfg = path.join(dir, 'zoo.cfg');
      writeFileSync(cfg, [
        `dataDir=${path.join(dir, 'data')}`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1', 'admin.enableServer=false',
        'authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider', `jaasLoginConfig=${jaas}`,
        `DigestAuthenticationProvider.superDigest=${superDigest}`, `SASLAuthenticationProvider.superPassword=${secrets.saslSuper}`,
        `ssl.keyStore.password=${secrets.keyStore}`, `ssl.trustStore.password=${secrets.trustStore}`,
        `zkts.log.file=${logFile}`, '',
      ].join('\n'));
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'server', cfg], { cwd: root, env: { ...process.env, ZKTS_LOG_LEVEL: '' } });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      try {
        const c = await pollUntil('zkts to accept sessions', 30_000, async () => {
          if (child.exitCode !== null) throw new Error(`zkts exited:\n${stderr}`);
          return TestClient.connect('127.0.0.1', port, { timeOutMs: 10_000 }).catch(() => undefined);
        });
        // a SASL response that echoes a password back in a field the server quotes in its failure
        const challenge = await c.request({ type: OpCode.sasl, token: Buffer.alloc(0) });
        assert.equal(challenge.err, 0);
        const bad = await c.request({ type: OpCode.sasl, token: Buffer.from(`username="bob",charset=${secrets.sasl}`) });
        assert.notEqual(bad.err, 0);
        const c2 = await TestClient.connect('127.0.0.1', port, { timeOutMs: 10_000 });
        assert.equal((await c2.request({ type: OpCode.auth, authType: 0, scheme: `nope-${secrets.keyStore}`, auth: Buffer.from(`x:${secrets.trustStore}`) })).err !== 0, true);
        await pollUntil('the auth failures in the log', 10_000, async () => {
          const t = readFileSync(logFile, 'utf8');
          return /SASL authentication failed/.test(t) && /Authentication failed for scheme/.test(t) ? true : undefined;
        });
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
      const text = readFileSync(logFile, 'utf8');
      const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(lines.every((l) => typeof l.level === 'number' && typeof l.time === 'number' && typeof l.msg === 'string'), text);
      const config = lines.find((l) => l.msg === 'configuration') as { properties: Record<string, string> } | undefined;
      assert.ok(config !== undefined, 'the configuration line');
      assert.equal(config.properties['zookeeper.ssl.keyStore.password'], REDACTED);
      assert.equal(config.properties['zookeeper.DigestAuthenticationProvider.superDigest'], REDACTED);
      assert.equal(config.properties['zookeeper.SASLAuthenticationProvider.superPassword'], REDACTED);
      const saslFailure = lines.find((l) => String(l.msg).startsWith('SASL authentication failed'));
      assert.match(String(saslFailure?.msg), new RegExp(`incompatible charset value: \\*{6}`), 'the echoed password is scrubbed');
      assert.ok(lines.some((l) => l.level === 30 && /serving on 127\.0\.0\.1/.test(String(l.msg))));
      assert.ok(lines.some((l) => l.msg === 'stopped'));
      for (const [name, secret] of [...Object.entries(secrets), ['superDigest', superDigest.slice('super:'.length)]]) {
        assert.ok(!text.includes(secret!), `the ${name} secret is not in the log`);
        assert.ok(!stderr.includes(secret!), `the ${name} secret is not on stderr`);
      }
      assert.equal(stderr, '', 'with zkts.log.file, nothing goes to stderr');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
