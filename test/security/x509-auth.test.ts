// x509-auth.test.ts — identity from client certificates, and only from what the server verified:
// - addauth x509 re-reads the connection's verified certificate as ZooKeeper's
//   X509AuthenticationProvider.handleAuthentication does: OK on a TLS connection with a trusted
//   certificate (the ids it already holds), AuthFailed and the connection closed without one;
// - the admin server's commands that need auth (snapshot, restore, as ZooKeeper 3.9) take an x509
//   identity from the HTTPS client certificate ("Authorization: x509"), digest from the header,
//   ip from the socket — never from X-Forwarded-For or other headers (CVE-2024-51504).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { startAdmin } from '../../src/admin/index.js';
import { Code, codeName } from '../../src/protocol/codes.js';
import { OpCode, Perm } from '../../src/protocol/opcodes.js';
import type { ACL } from '../../src/protocol/records.js';
import { parseConfig } from '../../src/server/config.js';
import { tlsSettings } from '../../src/server/tls-config.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { TestClient, pollUntil } from '../conformance/test-client.js';
import { testOptions } from '../server/start-server.js';
import { makePki, opensslMissing, type Pki, STORE_PASSWORD } from '../tls/certs.js';
import { connectTls } from '../tls/tls-client.js';

const ALICE = 'CN=alice,OU=clients,O=zkts test,C=NL';
const x509Auth = { type: OpCode.auth, authType: 0, scheme: 'x509', auth: Buffer.alloc(0) } as const;

async function whoAmI(c: TestClient): Promise<string[]> {
  const r = await c.request({ type: OpCode.whoAmI });
  assert.equal(r.err, Code.OK);
  return (r.body as { clientInfo: Array<{ authScheme: string; user: string }> }).clientInfo.map((i) => `${i.authScheme}:${i.user}`);
}

async function setRootAcl(port: number, acl: ACL[]): Promise<void> {
  const c = await TestClient.connect('127.0.0.1', port);
  assert.equal((await c.request({ type: OpCode.setACL, path: '/', acl, version: -1 })).err, Code.OK);
  c.destroy();
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

function call(url: string, opts: https.RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { ...opts, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as Record<string, unknown> }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/** Not refused by the auth check (the command itself may still fail: zkts takes no snapshots on demand). */
function passedAuth(a: Answer): boolean {
  return a.status !== 401 && a.status !== 403 && !/^(Not authenticated|Not authorized|Auth info is missing)/.test(String(a.body['error'] ?? ''));
}

describe('x509 identities', { skip: opensslMissing() ?? false, timeout: 60_000 }, () => {
  let pki: Pki;
  before(() => {
    pki = makePki();
  });
  after(() => pki?.cleanup());

  async function tlsServer(clientAuth: string): Promise<{ server: ZkServer; plainPort: number; tlsPort: number }> {
    const properties = new Map(
      Object.entries({ 'ssl.keyStore.location': pki.server.pem, 'ssl.trustStore.location': pki.ca, 'ssl.clientAuth': clientAuth }).map(([k, v]) => [`zookeeper.${k}`, v]),
    );
    const tls = tlsSettings({ secureClientPort: 0, secureClientPortAddress: '127.0.0.1', properties });
    const server = new ZkServer(testOptions({ tls }));
    const { port } = await server.start();
    return { server, plainPort: port, tlsPort: server.tls!.address!.port };
  }

  it('addauth x509 on a TLS connection with a trusted certificate: OK, the same ids', async () => {
    const s = await tlsServer('need');
    try {
      const c = await connectTls('127.0.0.1', s.tlsPort, { ca: pki.ca, cert: pki.alice.cert, key: pki.alice.key });
      assert.deepEqual(await whoAmI(c), ['ip:127.0.0.1', `x509:${ALICE}`]);
      assert.equal(codeName((await c.request(x509Auth)).err), 'OK');
      assert.deepEqual(await whoAmI(c), ['ip:127.0.0.1', `x509:${ALICE}`], 'no duplicate id');
      assert.equal(c.closed, false);
      c.destroy();
    } finally {
      await s.server.stop();
    }
  });

  it('addauth x509 without a verified certificate (TLS without one, or plaintext): AuthFailed, connection closed', async () => {
    const s = await tlsServer('want');
    try {
      const anon = await connectTls('127.0.0.1', s.tlsPort, { ca: pki.ca });
      assert.equal(codeName((await anon.request(x509Auth)).err), codeName(Code.AuthFailed));
      await pollUntil('the connection to close', 5000, async () => (anon.closed ? true : undefined));
      const plain = await TestClient.connect('127.0.0.1', s.plainPort);
      assert.equal(codeName((await plain.request(x509Auth)).err), codeName(Code.AuthFailed));
      await pollUntil('the connection to close', 5000, async () => (plain.closed ? true : undefined));
    } finally {
      await s.server.stop();
    }
  });

  it('admin over HTTPS: "Authorization: x509" is the verified client certificate, checked against the ACL of "/"', async () => {
    const server = new ZkServer(testOptions({ x509AclProvider: true }));
    const { port } = await server.start();
    const cfg = parseConfig(
      ['dataDir=/tmp/zkts-x509-admin', 'clientPort=2181', 'admin.serverAddress=127.0.0.1', 'admin.serverPort=0', 'admin.forceHttps=true',
        'admin.needClientAuth=true', `ssl.quorum.keyStore.location=${pki.server.p12}`, `ssl.quorum.keyStore.password=${STORE_PASSWORD}`,
        `ssl.quorum.trustStore.location=${pki.ca}`].join('\n'),
      { baseDir: '/tmp' },
    );
    const admin = await startAdmin(server, cfg);
    try {
      await setRootAcl(port, [{ perms: Perm.ALL, id: { scheme: 'x509', id: ALICE } }]);
      const url = `https://127.0.0.1:${admin.address!.port}/commands/snapshot`;
      const as = (who: 'alice' | 'bob', headers: Record<string, string>) =>
        call(url, { ca: readFileSync(pki.ca), cert: readFileSync(pki[who].cert), key: readFileSync(pki[who].key), headers });
      assert.ok(passedAuth(await as('alice', { Authorization: 'x509' })), 'alice holds ALL on /');
      const bob = await as('bob', { Authorization: 'x509' });
      assert.deepEqual([bob.status, bob.body['error']], [403, 'Not authorized']);
      // headers that name someone else change nothing
      const spoof = await as('bob', { Authorization: 'x509 CN=alice', 'X-Forwarded-For': '127.0.0.1', 'X-SSL-Client-DN': ALICE, 'X-Client-Cert': ALICE });
      assert.deepEqual([spoof.status, spoof.body['error']], [403, 'Not authorized']);
      // ZooKeeper splits the header on spaces: more than two parts is not authenticated
      const spaced = await as('bob', { Authorization: `x509 ${ALICE}` });
      assert.deepEqual([spaced.status, spaced.body['error']], [401, 'Not authenticated']);
      const none = await as('alice', {});
      assert.deepEqual([none.status, none.body['error']], [401, 'Auth info is missing for the command']);
    } finally {
      await admin.close();
      await server.stop();
    }
  });

  it('admin over HTTP: ip is the socket address, never X-Forwarded-For (CVE-2024-51504); x509 without TLS fails', async () => {
    const server = new ZkServer(testOptions({ x509AclProvider: true }));
    const { port } = await server.start();
    const cfg = parseConfig(['dataDir=/tmp/zkts-x509-admin', 'clientPort=2181', 'admin.serverAddress=127.0.0.1', 'admin.serverPort=0'].join('\n'), { baseDir: '/tmp' });
    const admin = await startAdmin(server, cfg);
    const url = `http://127.0.0.1:${admin.address!.port}/commands/snapshot`;
    try {
      await setRootAcl(port, [{ perms: Perm.ALL, id: { scheme: 'ip', id: '127.0.0.1' } }]);
      assert.ok(passedAuth(await call(url, { headers: { Authorization: 'ip' } })), 'the socket address holds ALL on /');
      await setRootAcl(port, [{ perms: Perm.ALL, id: { scheme: 'ip', id: '10.9.8.7' } }, { perms: Perm.ALL, id: { scheme: 'x509', id: ALICE } }]);
      for (const headers of [
        { Authorization: 'ip', 'X-Forwarded-For': '10.9.8.7' },
        { Authorization: 'ip', 'X-Forwarded-For': '10.9.8.7, 127.0.0.1', 'X-Real-IP': '10.9.8.7', Forwarded: 'for=10.9.8.7' },
        { Authorization: 'ip 10.9.8.7' },
      ]) {
        const r = await call(url, { headers });
        assert.deepEqual([r.status, r.body['error']], [403, 'Not authorized'], JSON.stringify(headers));
      }
      const x509 = await call(url, { headers: { Authorization: `x509 ${ALICE}`, 'X-SSL-Client-DN': ALICE } });
      assert.deepEqual([x509.status, x509.body['error']], [401, 'Not authenticated']);
    } finally {
      await admin.close();
      await server.stop();
    }
  });
});
