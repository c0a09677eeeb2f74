// ui-api.test.ts — the tree browser's HTTP API on the AdminServer (src/admin/ui-server.ts): reads
// run on sessions of the request's identity, so ACLs decide (an anonymous request is
// world:anyone + ip:<address>); edits need zkts.admin.ui.edit=true and digest credentials, and
// setData/delete carry a version check; changes by another client stream as Server-Sent Events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAdmin, type OpsEndpoint } from '../../src/admin/index.js';
import { OpCode, Perm } from '../../src/protocol/opcodes.js';
import { generateDigest } from '../../src/server/auth/digest.js';
import { parseConfig } from '../../src/server/config.js';
import type { ZkServer } from '../../src/server/zk-server.js';
import { TestClient } from '../conformance/test-client.js';
import { startServer } from '../server/start-server.js';

const OPEN = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];
const ALICE = 'alice:secret';
const aliceOnly = [{ perms: Perm.ALL, id: { scheme: 'digest', id: generateDigest(ALICE) } }];
const cfgOf = (lines: string) => parseConfig(`dataDir=/tmp/zkts-ui-test\nclientPort=2181\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=0\n${lines}`, { baseDir: '/tmp' });

async function ok(c: TestClient, req: Parameters<TestClient['request']>[0]): Promise<void> {
  const r = await c.request(req);
  assert.equal(r.err, 0, `${req.type} ${'path' in req ? req.path : ''}`);
}

/** Reads Server-Sent Events until `pred` holds for one `change` event or the deadline passes. */
async function nextChange(res: Response, pred: (ev: { type: string; path: string }) => boolean, timeoutMs = 10_000): Promise<{ type: string; path: string }> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  const deadline = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('event stream ended before the change arrived');
      buf += value;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const msg = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = /^data: (.*)$/m.exec(msg)?.[1];
        if (/^event: change$/m.test(msg) && data !== undefined) {
          const ev = JSON.parse(data) as { type: string; path: string };
          if (pred(ev)) return ev;
        }
      }
    }
  } finally {
    clearTimeout(deadline);
    reader.releaseLock();
  }
}

describe('tree browser API', () => {
  let server: ZkServer;
  let client: TestClient;
  let ro: OpsEndpoint;
  let rw: OpsEndpoint;
  let roBase: string;
  let rwBase: string;

  before(async () => {
    let port: number;
    ({ server, port } = await startServer());
    client = await TestClient.connect('127.0.0.1', port, { timeOutMs: 10_000 });
    await ok(client, { type: OpCode.create, path: '/app', data: Buffer.from('{"a":1}'), acl: OPEN, flags: 0, ttl: -1n });
    await ok(client, { type: OpCode.create, path: '/app/x', data: Buffer.from([0, 1, 2]), acl: OPEN, flags: 0, ttl: -1n });
    await ok(client, { type: OpCode.create, path: '/secret', data: Buffer.from('hidden'), acl: aliceOnly, flags: 0, ttl: -1n });
    ro = await startAdmin(server, cfgOf(''));
    rw = await startAdmin(server, cfgOf('zkts.admin.ui.edit=true'));
    roBase = `http://127.0.0.1:${ro.address!.port}/ui`;
    rwBase = `http://127.0.0.1:${rw.address!.port}/ui`;
  });
  after(async () => {
    await ro.close();
    await rw.close();
    await client.close();
    await server.stop();
  });

  it('serves the page and its files, /ui redirecting to /ui/', async () => {
    const page = await fetch(`${roBase}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.match(await page.text(), /<script src="ui.js">/);
    assert.equal((await fetch(`${roBase}/ui.js`)).status, 200);
    assert.equal((await fetch(`${roBase}/ui.css`)).status, 200);
    assert.equal((await fetch(`${roBase}/nope.js`)).status, 404);
    const redirect = await fetch(roBase, { redirect: 'manual' });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), '/ui/');
  });

  it('reads a znode: data, stat, ACL and sorted children', async () => {
    const r = (await (await fetch(`${roBase}/api/node?path=/app`)).json()) as Record<string, any>;
    assert.equal(Buffer.from(r.data, 'base64').toString(), '{"a":1}');
    assert.deepEqual(r.children, ['x']);
    assert.equal(r.stat.numChildren, 1);
    assert.equal(r.stat.dataLength, 7);
    assert.deepEqual(r.acl, [{ scheme: 'world', id: 'anyone', perms: 'cdrwa' }]);
    const x = (await (await fetch(`${roBase}/api/node?path=/app/x`)).json()) as Record<string, any>;
    assert.deepEqual([...Buffer.from(x.data, 'base64')], [0, 1, 2]);
    assert.equal((await fetch(`${roBase}/api/node?path=/nope`)).status, 404);
    assert.equal((await fetch(`${roBase}/api/node?path=relative`)).status, 400);
  });

  it('an anonymous request is world:anyone and ip only: the ACL of the node refuses it', async () => {
    const who = (await (await fetch(`${roBase}/api/whoami`)).json()) as Record<string, any>;
    assert.deepEqual(who.ids, [{ scheme: 'ip', id: '127.0.0.1' }]);
    assert.equal(who.authenticated, false);
    assert.equal(who.canEdit, false);
    const r = (await (await fetch(`${roBase}/api/node?path=/secret`)).json()) as Record<string, any>;
    assert.equal(r.data, null);
    assert.equal(r.dataError, 'NoAuth');
    assert.equal(r.acl, null);
    const asAlice = (await (await fetch(`${roBase}/api/node?path=/secret`, { headers: { authorization: `digest ${ALICE}` } })).json()) as Record<string, any>;
    assert.equal(Buffer.from(asAlice.data, 'base64').toString(), 'hidden');
  });

  it('a wrong password is just another digest identity; an Authorization that is not digest is 401', async () => {
    const r = await fetch(`${roBase}/api/whoami`, { headers: { authorization: 'digest alice:wrong' } });
    // a wrong password still authenticates as digest:alice:<its hash>, which /secret's ACL refuses
    assert.equal(r.status, 200);
    const secret = (await (await fetch(`${roBase}/api/node?path=/secret`, { headers: { authorization: 'digest alice:wrong' } })).json()) as Record<string, any>;
    assert.equal(secret.dataError, 'NoAuth');
    assert.equal((await fetch(`${roBase}/api/whoami`, { headers: { authorization: 'Bearer x' } })).status, 401);
  });

  it('searches paths (case-insensitive substring) under a root', async () => {
    const r = (await (await fetch(`${roBase}/api/search?path=/&q=X`)).json()) as Record<string, any>;
    assert.deepEqual(r.matches, ['/app/x']);
    assert.equal(r.truncated, false);
    assert.ok(r.visited >= 4);
  });

  const post = (base: string, op: string, body: unknown, auth?: string) =>
    fetch(`${base}/api/${op}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-zkts-ui': '1', ...(auth === undefined ? {} : { authorization: `digest ${auth}` }) },
      body: JSON.stringify(body),
    });

  it('refuses edits when zkts.admin.ui.edit is off, and anonymous edits when it is on', async () => {
    const off = await post(roBase, 'set', { path: '/app', data: 'x', version: 0 }, ALICE);
    assert.equal(off.status, 403);
    assert.match(((await off.json()) as { error: string }).error, /zkts\.admin\.ui\.edit=true/);
    assert.equal((await post(rwBase, 'set', { path: '/app', data: 'x', version: 0 })).status, 401);
    const noHeader = await fetch(`${rwBase}/api/set`, { method: 'POST', headers: { authorization: `digest ${ALICE}` }, body: '{"path":"/app","data":"x","version":0}' });
    assert.equal(noHeader.status, 403);
    const who = (await (await fetch(`${rwBase}/api/whoami`, { headers: { authorization: `digest ${ALICE}` } })).json()) as Record<string, any>;
    assert.equal(who.canEdit, true);
    assert.deepEqual(who.ids, [{ scheme: 'ip', id: '127.0.0.1' }, { scheme: 'digest', id: 'alice' }]);
  });

  it('edits with a version check, as the authenticated identity', async () => {
    const stale = await post(rwBase, 'set', { path: '/app', data: 'new', version: 5 }, ALICE);
    assert.equal(stale.status, 409);
    assert.equal(((await stale.json()) as { error: string }).error, 'BadVersion');
    assert.equal((await post(rwBase, 'set', { path: '/app', data: 'new' }, ALICE)).status, 400); // no version
    const set = await post(rwBase, 'set', { path: '/app', data: 'new', version: 0 }, ALICE);
    assert.equal(set.status, 200);
    assert.equal(((await set.json()) as { stat: { version: number } }).stat.version, 1);
    const created = await post(rwBase, 'create', { path: '/app/mine', data: 'm', acl: 'creator' }, ALICE);
    assert.equal(created.status, 201);
    const mine = (await (await fetch(`${rwBase}/api/node?path=/app/mine`, { headers: { authorization: `digest ${ALICE}` } })).json()) as Record<string, any>;
    assert.deepEqual(mine.acl, [{ scheme: 'digest', id: generateDigest(ALICE), perms: 'cdrwa' }]);
    // another identity may not write it
    assert.equal((await post(rwBase, 'set', { path: '/app/mine', data: 'z', version: 0 }, 'bob:pw')).status, 403);
    assert.equal((await post(rwBase, 'delete', { path: '/app/mine', version: 3 }, ALICE)).status, 409);
    assert.equal((await post(rwBase, 'delete', { path: '/app/mine', version: 0 }, ALICE)).status, 200);
    assert.equal((await fetch(`${rwBase}/api/node?path=/app/mine`)).status, 404);
  });

  it('streams a change made by another client as a Server-Sent Event', async () => {
    const ctl = new AbortController();
    const res = await fetch(`${roBase}/api/events?path=/`, { headers: { accept: 'text/event-stream' }, signal: ctl.signal });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const seen = nextChange(res, (ev) => ev.path === '/app/live');
    // the watch is set before the answer's head is sent, so this create is seen
    await ok(client, { type: OpCode.create, path: '/app/live', data: Buffer.from('1'), acl: OPEN, flags: 0, ttl: -1n });
    const ev = (await seen) as { type: string; path: string; zxid: string };
    assert.deepEqual(ev, { type: 'NodeCreated', path: '/app/live', zxid: `0x${client.lastZxid.toString(16)}` });
    ctl.abort();
  });

  it('does not stream changes of znodes the identity cannot read', async () => {
    const ctl = new AbortController();
    const res = await fetch(`${roBase}/api/events?path=/`, { headers: { accept: 'text/event-stream' }, signal: ctl.signal });
    const seen = nextChange(res, (ev) => ev.path.startsWith('/secret') || ev.path === '/app/after');
    await ok(client, { type: OpCode.auth, authType: 0, scheme: 'digest', auth: Buffer.from(ALICE) });
    await ok(client, { type: OpCode.setData, path: '/secret', data: Buffer.from('changed'), version: -1 });
    await ok(client, { type: OpCode.create, path: '/app/after', data: Buffer.alloc(0), acl: OPEN, flags: 0, ttl: -1n });
    assert.equal((await seen).path, '/app/after');
    ctl.abort();
  });
});
