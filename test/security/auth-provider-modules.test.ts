// auth-provider-modules.test.ts — zoo.cfg's authProvider.N naming a JavaScript module (a zkts
// extension of ZooKeeper's key, which names a Java class): the HMAC token example loaded through
// zoo.cfg with authProvider.N.<option> lines, a module exporting a bare PluginAuthProvider, a
// package name; ZooKeeper's own class names keep their meaning; bad modules stop the start.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mintToken } from '../../examples/plugins/hmac-auth.js';
import { serverOptions } from '../../src/cli/server-command.js';
import { Code } from '../../src/protocol/codes.js';
import { OpCode, Perm } from '../../src/protocol/opcodes.js';
import { isAuthProviderModule, parseConfig } from '../../src/server/config.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { TestClient } from '../conformance/test-client.js';

const SECRET = 'a-secret-of-at-least-16-bytes';
const HMAC = join(import.meta.dirname, '../../examples/plugins/hmac-auth.ts');
const auth = (scheme: string, credential: string) => ({ type: OpCode.auth, authType: 0, scheme, auth: Buffer.from(credential) }) as const;

async function withServer(dir: string, lines: string, run: (port: number) => Promise<void>): Promise<void> {
  const cfg = parseConfig(`tickTime=2000\ndataDir=${dir}/data\nclientPort=0\nclientPortAddress=127.0.0.1\n${lines}`, { file: join(dir, 'zoo.cfg'), baseDir: dir });
  const server = new ZkServer({ ...serverOptions(cfg), log: () => {} });
  const { port } = await server.start();
  try {
    await run(port);
  } finally {
    await server.stop();
  }
}

test('which authProvider.N values are modules and which are Java classes', () => {
  for (const v of ['./auth.js', '/opt/auth.mjs', 'zk-token-auth', '@acme/zk-auth', 'auth.ts']) assert.equal(isAuthProviderModule(v), true, v);
  for (const v of ['org.apache.zookeeper.server.auth.SASLAuthenticationProvider', 'com.example.MyProvider']) assert.equal(isAuthProviderModule(v), false, v);
  const cfg = parseConfig(
    `dataDir=/tmp/x\nclientPort=2181\nauthProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\nauthProvider.2=./a.js\nauthProvider.2.secret=s\nauthProvider.token=zk-token\n`,
    { baseDir: '/srv' },
  );
  assert.deepEqual(cfg.authProviderModules.map((p) => [p.id, p.module, Object.fromEntries(p.options)]), [
    ['2', '/srv/a.js', { secret: 's' }],
    ['token', 'zk-token', {}],
  ]);
  assert.equal(serverOptions(cfg).saslAclProvider, true, "ZooKeeper's class names keep working");
  assert.deepEqual(cfg.unsupported, []);
});

test('authProvider.N=<the HMAC example> with authProvider.N.<option> lines: tokens authenticate, ACLs on the scheme hold', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zkts-authprov-'));
  try {
    await withServer(dir, `authProvider.1=${HMAC}\nauthProvider.1.secret=${SECRET}\nauthProvider.1.maxTtlSeconds=3600\n`, async (port) => {
      const soon = Math.floor(Date.now() / 1000) + 600;
      const alice = await TestClient.connect('127.0.0.1', port);
      assert.equal((await alice.request(auth('token', mintToken(SECRET, 'alice', soon)))).err, Code.OK);
      const acl = [{ perms: Perm.ALL, id: { scheme: 'token', id: 'alice' } }];
      assert.equal((await alice.request({ type: OpCode.create, path: '/alice', data: Buffer.from('x'), acl, flags: 0, ttl: -1n })).err, Code.OK);
      assert.equal((await alice.request({ type: OpCode.getData, path: '/alice', watch: false })).err, Code.OK);
      const bob = await TestClient.connect('127.0.0.1', port);
      assert.equal((await bob.request(auth('token', mintToken(SECRET, 'bob', soon)))).err, Code.OK);
      assert.equal((await bob.request({ type: OpCode.getData, path: '/alice', watch: false })).err, Code.NoAuth);
      const mallory = await TestClient.connect('127.0.0.1', port);
      assert.equal((await mallory.request(auth('token', mintToken('not-the-server-secret!', 'alice', soon)))).err, Code.AuthFailed);
      for (const c of [alice, bob, mallory]) c.destroy();
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a module whose default export is a bare auth provider, by path and as a package; bad modules and options stop the start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zkts-authprov-'));
  try {
    const provider = [
      'export default {',
      "  scheme: 'team',",
      "  authenticate: (credential) => (credential.toString() === 'let-me-in' ? [{ scheme: 'team', id: 'ops' }] : { error: 'no' }),",
      '  matches: (id, aclExpr) => id === aclExpr,',
      '};',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'team-auth.mjs'), provider);
    const pkg = join(dir, 'node_modules', 'zk-team-auth');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'zk-team-auth', type: 'module', exports: './index.js' }));
    writeFileSync(join(pkg, 'index.js'), provider);
    writeFileSync(join(dir, 'nothing.mjs'), 'export default { name: "x" };\n');
    const cwd = process.cwd();
    for (const module of ['./team-auth.mjs', 'zk-team-auth']) {
      process.chdir(dir); // a package resolves from the working directory, as the CLI's
      try {
        await withServer(dir, `authProvider.3=${module}\n`, async (port) => {
          const c = await TestClient.connect('127.0.0.1', port);
          assert.equal((await c.request(auth('team', 'let-me-in'))).err, Code.OK, module);
          const who = await c.request({ type: OpCode.whoAmI });
          assert.deepEqual((who.body as { clientInfo: Array<{ authScheme: string; user: string }> }).clientInfo.map((i) => `${i.authScheme}:${i.user}`), ['ip:127.0.0.1', 'team:ops']);
          const d = await TestClient.connect('127.0.0.1', port);
          assert.equal((await d.request(auth('team', 'guess'))).err, Code.AuthFailed);
          c.destroy();
          d.destroy();
        });
      } finally {
        process.chdir(cwd);
      }
    }
    await assert.rejects(withServer(dir, 'authProvider.4=./nothing.mjs\n', async () => {}), /^ZktsError: authProvider\.4: .*nothing\.mjs exports neither an auth provider/);
    await assert.rejects(withServer(dir, 'authProvider.5=./missing.js\n', async () => {}), /authProvider\.5: cannot load .*missing\.js/);
    await assert.rejects(withServer(dir, `authProvider.6=${HMAC}\nauthProvider.6.secret=${SECRET}\nauthProvider.6.ttl=1\n`, async () => {}), /authProvider\.6 \(hmac-auth\): authProvider\.6\.ttl: not an option/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
