// ui-x509.test.ts — the tree browser over the AdminServer's HTTPS (admin.forceHttps with
// admin.needClientAuth): a trusted client certificate is the request's x509 identity, so with
// zkts.admin.ui.edit=true it may edit, and what it creates with the "creator" ACL belongs to its
// subject.
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startAdmin, type OpsEndpoint } from '../../src/admin/index.js';
import { parseConfig } from '../../src/server/config.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { testOptions } from '../server/start-server.js';
import { makePki, opensslMissing, type Pki, STORE_PASSWORD } from '../tls/certs.js';

const ALICE = 'CN=alice,OU=clients,O=zkts test,C=NL';

function call(url: string, opts: https.RequestOptions, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ...opts, agent: false, timeout: 5000, method: body === undefined ? 'GET' : 'POST' }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, any> }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    if (body !== undefined) {
      req.setHeader('content-type', 'application/json');
      req.setHeader('x-zkts-ui', '1');
      req.end(JSON.stringify(body));
    } else req.end();
  });
}

describe('tree browser over HTTPS with a client certificate', { skip: opensslMissing() ?? false }, () => {
  let pki: Pki;
  let server: ZkServer;
  let admin: OpsEndpoint;
  let base: string;
  let alice: https.RequestOptions;

  before(async () => {
    pki = makePki();
    server = new ZkServer(testOptions({ x509AclProvider: true })); // authProvider.x509=...X509AuthenticationProvider
    await server.start();
    admin = await startAdmin(server, parseConfig(
      ['dataDir=/tmp/zkts-ui-x509', 'clientPort=2181', 'admin.serverAddress=127.0.0.1', 'admin.serverPort=0',
        `ssl.quorum.keyStore.location=${pki.server.p12}`, `ssl.quorum.keyStore.password=${STORE_PASSWORD}`,
        `ssl.quorum.trustStore.location=${pki.ca}`, 'admin.forceHttps=true', 'admin.needClientAuth=true', 'zkts.admin.ui.edit=true'].join('\n'),
      { baseDir: '/tmp' },
    ));
    base = `https://127.0.0.1:${admin.address!.port}/ui/api`;
    alice = { ca: readFileSync(pki.ca), cert: readFileSync(pki.alice.cert), key: readFileSync(pki.alice.key) };
  });
  after(async () => {
    await admin?.close();
    await server?.stop();
    pki?.cleanup();
  });

  it('the certificate is the x509 identity, and it may edit', async () => {
    const who = await call(`${base}/whoami`, alice);
    assert.equal(who.status, 200);
    assert.deepEqual(who.json.ids, [{ scheme: 'ip', id: '127.0.0.1' }, { scheme: 'x509', id: ALICE }]);
    assert.equal(who.json.canEdit, true);
    const created = await call(`${base}/create`, alice, { path: '/alice-only', data: 'a', acl: 'creator' });
    assert.equal(created.status, 201);
    const node = await call(`${base}/node?path=/alice-only`, alice);
    assert.deepEqual(node.json.acl, [{ scheme: 'x509', id: ALICE, perms: 'cdrwa' }]);
    // another trusted certificate is another identity: the ACL refuses it
    const bob = await call(`${base}/node?path=/alice-only`, { ...alice, cert: readFileSync(pki.bob.cert), key: readFileSync(pki.bob.key) });
    assert.equal(bob.json.dataError, 'NoAuth');
    assert.equal(bob.json.aclError, 'NoAuth');
  });
});
