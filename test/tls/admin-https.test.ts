// admin-https.test.ts — the AdminServer over HTTPS as JettyAdminServer serves it: admin.forceHttps
// (HTTPS only), admin.portUnification (HTTP and HTTPS on one port), admin.needClientAuth, with
// the ssl.quorum.* stores ZooKeeper's admin server reads, and Jetty's Strict-Transport-Security
// header on HTTPS answers. Configured through zoo.cfg text, started as the CLI starts it.
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startAdmin } from '../../src/admin/index.js';
import { ZktsError } from '../../src/errors.js';
import { parseConfig } from '../../src/server/config.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { testOptions } from '../server/start-server.js';
import { makePki, opensslMissing, type Pki, STORE_PASSWORD } from './certs.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(url: string, opts: https.RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { ...opts, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

describe('the AdminServer over HTTPS', { skip: opensslMissing() ?? false }, () => {
  let pki: Pki;
  let server: ZkServer;
  before(async () => {
    pki = makePki();
    server = new ZkServer(testOptions());
    await server.start();
  });
  after(async () => {
    await server?.stop();
    pki?.cleanup();
  });

  async function admin(lines: string[]): Promise<{ port: number; close: () => Promise<void> }> {
    const cfg = parseConfig(
      ['dataDir=/tmp/zkts-admin-https', 'clientPort=2181', 'admin.serverAddress=127.0.0.1', 'admin.serverPort=0',
        `ssl.quorum.keyStore.location=${pki.server.p12}`, `ssl.quorum.keyStore.password=${STORE_PASSWORD}`,
        `ssl.quorum.trustStore.location=${pki.ca}`, ...lines].join('\n'),
      { baseDir: '/tmp' },
    );
    const ep = await startAdmin(server, cfg);
    return { port: ep.address!.port, close: ep.close };
  }

  it('admin.forceHttps: HTTPS only, with the Strict-Transport-Security header', async () => {
    const a = await admin(['admin.forceHttps=true']);
    try {
      const r = await get(`https://127.0.0.1:${a.port}/commands/ruok`, { ca: readFileSync(pki.ca) });
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).command, 'ruok');
      assert.equal(r.headers['strict-transport-security'], 'max-age=86400; includeSubDomains');
      await assert.rejects(get(`http://127.0.0.1:${a.port}/commands/ruok`));
      // the server's certificate is checked by the client as usual
      await assert.rejects(get(`https://127.0.0.1:${a.port}/commands/ruok`, { ca: readFileSync(pki.otherCa) }), /self.signed|unable to verify|UNABLE_TO/i);
    } finally {
      await a.close();
    }
  });

  it('admin.portUnification: HTTP and HTTPS on the same port', async () => {
    const a = await admin(['admin.portUnification=true']);
    try {
      const secure = await get(`https://127.0.0.1:${a.port}/commands/ruok`, { ca: readFileSync(pki.ca) });
      const plain = await get(`http://127.0.0.1:${a.port}/commands/ruok`);
      assert.equal(secure.status, 200);
      assert.equal(plain.status, 200);
      assert.equal(JSON.parse(plain.body).command, 'ruok');
      assert.equal(secure.headers['strict-transport-security'], 'max-age=86400; includeSubDomains');
      assert.equal(plain.headers['strict-transport-security'], undefined);
    } finally {
      await a.close();
    }
  });

  it('admin.needClientAuth: only clients with a trusted certificate', async () => {
    const a = await admin(['admin.forceHttps=true', 'admin.needClientAuth=true']);
    try {
      const url = `https://127.0.0.1:${a.port}/commands/ruok`;
      await assert.rejects(get(url, { ca: readFileSync(pki.ca) }));
      await assert.rejects(get(url, { ca: readFileSync(pki.ca), cert: readFileSync(pki.untrusted.cert), key: readFileSync(pki.untrusted.key) }));
      const r = await get(url, { ca: readFileSync(pki.ca), cert: readFileSync(pki.alice.cert), key: readFileSync(pki.alice.key) });
      assert.equal(r.status, 200);
    } finally {
      await a.close();
    }
  });

  it('HTTPS without ssl.quorum.keyStore.location is a config error that says what to set', async () => {
    const cfg = parseConfig('dataDir=/tmp/x\nclientPort=2181\nadmin.serverPort=0\nadmin.forceHttps=true', { baseDir: '/tmp' });
    await assert.rejects(startAdmin(server, cfg), (e) => e instanceof ZktsError && /set ssl\.quorum\.keyStore\.location/.test(e.message));
  });
});
