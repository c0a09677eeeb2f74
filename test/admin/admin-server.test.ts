// admin-server.test.ts — the AdminServer's HTTP surface: it binds admin.serverAddress and
// admin.serverPort (and not at all with admin.enableServer=false), serves commandURL, answers
// outside it with 404, gates snapshot and restore behind auth as ZooKeeper 3.9 does
// (Commands.runCommand: 401 without or with bad auth info, 403 without ALL on "/"), and adds the
// /ready and /health probes.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startAdmin, startOperations, type OpsEndpoint } from '../../src/admin/index.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { generateDigest } from '../../src/server/auth/digest.js';
import { parseConfig, PROMETHEUS_METRICS_PROVIDER } from '../../src/server/config.js';
import type { ZkServer } from '../../src/server/zk-server.js';
import { ZktsError } from '../../src/errors.js';
import { TestClient } from '../conformance/test-client.js';
import { startServer } from '../server/start-server.js';

const cfgOf = (lines: string) => parseConfig(`dataDir=/tmp/zkts-admin-test\nclientPort=2181\n${lines}`, { baseDir: '/tmp' });

/** A port that was free a moment ago (the OS picks it). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function json(res: Response): Promise<Record<string, unknown>> {
  assert.equal(res.headers.get('content-type'), 'application/json');
  return (await res.json()) as Record<string, unknown>;
}

describe('AdminServer over HTTP', () => {
  let server: ZkServer;
  let clientPort: number;
  let admin: OpsEndpoint;
  let base: string;
  let adminPort: number;

  before(async () => {
    ({ server, port: clientPort } = await startServer());
    adminPort = await freePort();
    admin = await startAdmin(server, cfgOf(`admin.serverAddress=127.0.0.1\nadmin.serverPort=${adminPort}\nadmin.commandURL=/cmd`));
    base = `http://127.0.0.1:${adminPort}`;
  });
  after(async () => {
    await admin.close();
    await server.stop();
  });

  it('binds admin.serverAddress:admin.serverPort and serves admin.commandURL', async () => {
    assert.deepEqual(admin.address, { host: '127.0.0.1', port: adminPort });
    const body = await json(await fetch(`${base}/cmd/ruok`));
    assert.deepEqual(body, { command: 'ruok', error: null });
    assert.match(await (await fetch(`${base}/cmd`)).text(), /^<a href="\/cmd\/configuration">configuration<\/a>\n<br\/>\n/);
    assert.equal((await fetch(`${base}/commands/ruok`)).status, 404);
    assert.equal((await fetch(`${base}/`)).status, 404);
  });

  it('answers an unknown command as ZooKeeper does: 200 and an error naming it', async () => {
    const res = await fetch(`${base}/cmd/bogus`);
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { command: 'bogus', error: 'Unknown command: bogus' });
    assert.deepEqual(await json(await fetch(`${base}/cmd/ruok/x`)), { command: 'ruok/x', error: 'Unknown command: ruok/x' });
    assert.deepEqual(await json(await fetch(`${base}/cmd/ru%6Fk`)), { command: 'ruok', error: null });
  });

  it('answers aliases under the primary name, HEAD without a body, and refuses other methods', async () => {
    assert.equal((await json(await fetch(`${base}/cmd/srvr`)))['command'], 'server_stats');
    assert.equal((await json(await fetch(`${base}/cmd/envi`)))['command'], 'environment');
    const head = await fetch(`${base}/cmd/ruok`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    assert.equal((await fetch(`${base}/cmd/ruok`, { method: 'PUT' })).status, 405);
    const post = await fetch(`${base}/cmd/ruok`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 500); // a GET command has no POST answer in ZooKeeper 3.9 either
  });

  it('adds /health and /ready', async () => {
    assert.deepEqual(await json(await fetch(`${base}/health`)), { status: 'ok' });
    const ready = await fetch(`${base}/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await json(ready), { ready: true, server_state: 'standalone' });
  });

  it('wants auth for snapshot and restore, as ZooKeeper 3.9', async () => {
    const missing = await fetch(`${base}/cmd/snapshot`);
    assert.equal(missing.status, 401);
    assert.deepEqual(await json(missing), { command: 'snapshot', error: 'Auth info is missing for the command' });
    const restore = await fetch(`${base}/cmd/restore`, { method: 'POST', body: 'not a snapshot' });
    assert.equal(restore.status, 401);
    const badScheme = await fetch(`${base}/cmd/snap`, { headers: { Authorization: 'kerberos x' } });
    assert.equal(badScheme.status, 401);
    assert.deepEqual(await json(badScheme), { command: 'snap', error: 'Not authenticated' });
    // authenticated, with ALL on "/" (world:anyone): allowed, but this server has no data directory
    // to take the snapshot in, and "x" is no snapshot to restore (snapshot-restore.test.ts has the rest)
    const auth = { Authorization: 'digest admin:secret' };
    const snap = await fetch(`${base}/cmd/snapshot`, { headers: auth });
    assert.equal(snap.status, 500);
    assert.match(String((await json(snap))['error']), /snapshot/);
    assert.equal((await fetch(`${base}/cmd/restore`, { method: 'POST', headers: auth, body: 'x' })).status, 500);
    // "/" readable by someone else only: not authorized
    const c = await TestClient.connect('127.0.0.1', clientPort);
    try {
      const acl = [{ perms: 31, id: { scheme: 'digest', id: generateDigest('root:pw') } }];
      assert.equal((await c.request({ type: OpCode.setACL, path: '/', acl, version: -1 })).err, 0);
      const refused = await fetch(`${base}/cmd/snapshot`, { headers: auth });
      assert.equal(refused.status, 403);
      assert.deepEqual(await json(refused), { command: 'snapshot', error: 'Not authorized' });
      assert.equal((await fetch(`${base}/cmd/snapshot`, { headers: { Authorization: 'digest root:pw' } })).status, 500);
    } finally {
      await c.close();
    }
  });
});

describe('AdminServer configuration', () => {
  it('is not started with admin.enableServer=false', async () => {
    const { server } = await startServer();
    try {
      const port = await freePort();
      const admin = await startAdmin(server, cfgOf(`admin.enableServer=false\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=${port}`));
      assert.equal(admin.address, null);
      assert.equal(await listening(port), false);
      await admin.close();
    } finally {
      await server.stop();
    }
  });

  it('is on by default, as in ZooKeeper 3.9', () => {
    assert.equal(cfgOf('').admin.enableServer, true);
    assert.deepEqual(cfgOf('admin.enableServer=true').unsupported, []);
  });

  it('reports a port in use as ZKTS_ERR_LISTEN, naming the key to change', async () => {
    const { server } = await startServer();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        startAdmin(server, cfgOf(`admin.serverAddress=127.0.0.1\nadmin.serverPort=${port}`)),
        (e: unknown) => e instanceof ZktsError && e.code === 'ZKTS_ERR_LISTEN' && e.message.includes('admin.serverPort'),
      );
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
      await server.stop();
    }
  });

  it('startOperations starts both endpoints, and closes the admin server when metrics cannot start', async () => {
    const { server } = await startServer();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    const adminPort = await freePort();
    const lines = (metricsPort: number) => [
      'admin.serverAddress=127.0.0.1', `admin.serverPort=${adminPort}`,
      `metricsProvider.className=${PROMETHEUS_METRICS_PROVIDER}`, 'metricsProvider.httpHost=127.0.0.1',
      `metricsProvider.httpPort=${metricsPort}`,
    ].join('\n');
    try {
      await assert.rejects(startOperations(server, cfgOf(lines(taken))), (e: unknown) => e instanceof ZktsError && e.message.includes('metricsProvider.httpPort'));
      assert.equal(await listening(adminPort), false);
      const ops = await startOperations(server, cfgOf(lines(0)));
      assert.equal(ops.admin.address?.port, adminPort);
      assert.ok((ops.metrics.address?.port ?? 0) > 0);
      await ops.close();
      assert.equal(await listening(adminPort), false);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
      await server.stop();
    }
  });
});
