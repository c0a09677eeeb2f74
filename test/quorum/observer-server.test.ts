// The client side of a learner (ZkServer with quorumRole 'observer') against a fake leader: writes
// are forwarded with the client's bytes and answered only when the committed txn comes back,
// sessions are created and revalidated by the leader, syncs wait for the leader's SYNC, and a
// learner that is not synced serves no one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../src/protocol/codes.js';
import { EventType, OpCode } from '../../src/protocol/opcodes.js';
import { JuteReader } from '../../src/protocol/jute.js';
import { decodeRequest, type CreateRequest } from '../../src/protocol/requests.js';
import { errorTxn, type Txn } from '../../src/tree/txn.js';
import { sessionPassword } from '../../src/server/java-random.js';
import type { ForwardedRequest, Upstream } from '../../src/server/upstream.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { pollUntil, TestClient } from '../conformance/differential.js';
import { testOptions } from '../server/start-server.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** Records what the server sends to the leader; the test plays the leader's answers. */
class FakeLeader implements Upstream {
  readonly requests: ForwardedRequest[] = [];
  readonly revalidations: { sessionId: bigint; timeoutMs: number }[] = [];
  readonly touched = new Set<bigint>();
  private zxid = 0x100000000n;
  private waiters: (() => void)[] = [];

  constructor(private readonly server: ZkServer) {}

  forward(req: ForwardedRequest): void {
    this.requests.push(req);
    for (const w of this.waiters.splice(0)) w();
  }
  revalidate(sessionId: bigint, timeoutMs: number): void {
    this.revalidations.push({ sessionId, timeoutMs });
    for (const w of this.waiters.splice(0)) w();
  }
  touch(sessionId: bigint): void {
    this.touched.add(sessionId);
  }

  async next(): Promise<ForwardedRequest> {
    await pollUntil('a forwarded request', 5000, async () => (this.requests.length > 0 ? true : undefined));
    return this.requests.shift()!;
  }

  /** Commits `txn` for the request (or for another session's cxid). */
  commit(clientId: bigint, cxid: number, type: number, txn: Txn): void {
    this.zxid++;
    this.server.applyCommitted({ clientId, cxid, zxid: this.zxid, time: Date.now(), type: txn.type === OpCode.error ? OpCode.error : type }, txn);
  }

  /** The txn a leader would commit for a forwarded create/delete/session request. */
  commitRequest(r: ForwardedRequest): void {
    const req = r.type === OpCode.createSession || r.type === OpCode.closeSession ? null : decodeRequest(r.type, new JuteReader(r.body));
    let txn: Txn;
    if (r.type === OpCode.createSession) txn = { type: OpCode.createSession, timeOut: r.body.readInt32BE(0) };
    else if (r.type === OpCode.closeSession) txn = { type: OpCode.closeSession, paths2Delete: [...this.server.tree.ephemeralsOf(r.sessionId)] };
    else if (r.type === OpCode.create) {
      const c = req as CreateRequest;
      txn = this.server.tree.get(c.path) !== undefined
        ? errorTxn(Code.NodeExists)
        : { type: OpCode.create, path: c.path, data: c.data, acl: c.acl!, ephemeral: c.flags === 1, parentCVersion: -1 };
    } else if (r.type === OpCode.delete) txn = { type: OpCode.delete, path: (req as { path: string }).path };
    else throw new Error(`fake leader: no txn for type ${r.type}`);
    this.commit(r.sessionId, r.cxid, r.type, txn);
  }
}

async function observer(): Promise<{ server: ZkServer; port: number; leader: FakeLeader }> {
  const server = new ZkServer(testOptions({ quorumRole: 'observer', serverId: 4 }));
  const { port } = await server.start();
  const leader = new FakeLeader(server);
  return { server, port, leader };
}

/** Connects a client; the fake leader commits its createSession. */
async function connect(port: number, leader: FakeLeader): Promise<TestClient> {
  const pending = TestClient.connect('127.0.0.1', port, { timeOutMs: 10000 });
  const r = await leader.next();
  assert.equal(r.type, OpCode.createSession);
  assert.equal(r.cxid, 0);
  assert.equal(r.body.length, 4, 'createSession carries the 4-byte timeout');
  assert.equal(r.body.readInt32BE(0), 10000);
  assert.equal(r.sessionId >> 56n, 4n, 'the session id carries this server id in its top byte');
  leader.commitRequest(r);
  return pending;
}

test('a learner that is not synced with a leader closes client connections', async () => {
  const { server, port } = await observer();
  try {
    await assert.rejects(TestClient.connect('127.0.0.1', port, { timeoutMs: 3000 }));
    assert.equal(server.serving, false);
  } finally {
    await server.stop();
  }
});

test('writes are forwarded with the client bytes and answered when their txn is committed, reads wait behind them', async () => {
  const { server, port, leader } = await observer();
  try {
    server.setUpstream(leader);
    const c = await connect(port, leader);
    assert.deepEqual(c.connectResponse.passwd, sessionPassword(c.connectResponse.sessionId), "ZooKeeper's derivable password");
    assert.ok(server.sessions.get(c.connectResponse.sessionId), 'the session exists once its createSession is applied');

    let created = false;
    const create = c.request({ type: OpCode.create, path: '/a', data: Buffer.from('x'), acl: OPEN, flags: 0, ttl: -1n }).then((r) => {
      created = true;
      return r;
    });
    const read = c.request({ type: OpCode.getData, path: '/a', watch: false });
    const fwd = await leader.next();
    assert.equal(fwd.type, OpCode.create);
    assert.equal(fwd.sessionId, c.connectResponse.sessionId);
    assert.deepEqual(fwd.authInfo, [{ scheme: 'ip', id: '127.0.0.1' }]);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(created, false, 'no answer before the commit');
    assert.equal(server.tree.get('/a'), undefined, 'nothing applied locally');
    leader.commitRequest(fwd);
    const cr = await create;
    assert.equal(cr.err, Code.OK);
    assert.deepEqual(cr.body, { type: OpCode.create, path: '/a' });
    const rr = await read;
    assert.equal(rr.err, Code.OK, 'the read queued behind the write sees it');
    assert.ok(leader.touched.has(c.connectResponse.sessionId), 'requests touch the session for the next PING');

    // an error txn answers with its code
    const again = c.request({ type: OpCode.create, path: '/a', data: null, acl: OPEN, flags: 0, ttl: -1n });
    leader.commitRequest(await leader.next());
    assert.equal((await again).err, Code.NodeExists);
    c.destroy();
  } finally {
    await server.stop();
  }
});

test("another server's txns apply in order and fire this server's watches", async () => {
  const { server, port, leader } = await observer();
  try {
    server.setUpstream(leader);
    const c = await connect(port, leader);
    assert.equal((await c.request({ type: OpCode.exists, path: '/other', watch: true })).err, Code.NoNode);
    leader.commit(0x0100000000000001n, 0, OpCode.createSession, { type: OpCode.createSession, timeOut: 30000 });
    leader.commit(0x0100000000000001n, 1, OpCode.create, { type: OpCode.create, path: '/other', data: null, acl: OPEN, ephemeral: true, parentCVersion: -1 });
    const [ev] = await c.waitForNotifications(1, 5000);
    assert.equal(ev!.type, EventType.NodeCreated);
    assert.equal(ev!.path, '/other');
    assert.equal(server.tree.get('/other')!.ephemeralOwner, 0x0100000000000001n);
    // the leader expires that session: its ephemeral goes
    leader.commit(0x0100000000000001n, 0, OpCode.closeSession, { type: OpCode.closeSession, paths2Delete: ['/other'] });
    assert.equal(server.tree.get('/other'), undefined);
    assert.equal(server.sessions.get(0x0100000000000001n), undefined);
    c.destroy();
  } finally {
    await server.stop();
  }
});

test("sync waits for the leader's SYNC; syncs complete in order", async () => {
  const { server, port, leader } = await observer();
  try {
    server.setUpstream(leader);
    const c = await connect(port, leader);
    const s1 = c.request({ type: OpCode.sync, path: '/one' });
    const s2 = c.request({ type: OpCode.sync, path: '/two' });
    assert.equal((await leader.next()).type, OpCode.sync);
    assert.equal((await leader.next()).type, OpCode.sync);
    server.syncCompleted();
    assert.deepEqual((await s1).body, { type: OpCode.sync, path: '/one' });
    server.syncCompleted();
    assert.deepEqual((await s2).body, { type: OpCode.sync, path: '/two' });

    // What a client syncs for: a read sent after its sync waits for it, and sees another server's
    // txn that the leader committed (sent by INFORM) before its SYNC.
    const received = server.stats.packetsReceived;
    const s3 = c.request({ type: OpCode.sync, path: '/' });
    const read = c.request({ type: OpCode.exists, path: '/elsewhere', watch: false });
    assert.equal((await leader.next()).type, OpCode.sync);
    await pollUntil('the read behind the sync to arrive', 5000, async () => (server.stats.packetsReceived >= received + 2 ? true : undefined));
    leader.commit(0x0100000000000001n, 0, OpCode.createSession, { type: OpCode.createSession, timeOut: 30000 });
    leader.commit(0x0100000000000001n, 1, OpCode.create, { type: OpCode.create, path: '/elsewhere', data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 });
    server.syncCompleted();
    assert.deepEqual((await s3).body, { type: OpCode.sync, path: '/' });
    assert.equal((await read).err, Code.OK, 'the read after the sync sees the txn committed before the SYNC');
    c.destroy();
  } finally {
    await server.stop();
  }
});

test('a session moving in is checked by password, then revalidated by the leader', async () => {
  const { server, port, leader } = await observer();
  try {
    server.setUpstream(leader);
    const sessionId = 0x0200000000000abcn;
    // a wrong password is refused here, without asking the leader
    const wrong = await TestClient.connect('127.0.0.1', port, { sessionId, passwd: Buffer.alloc(16) });
    assert.equal(wrong.connectResponse.sessionId, 0n);
    assert.equal(leader.revalidations.length, 0);

    const moving = TestClient.connect('127.0.0.1', port, { sessionId, passwd: sessionPassword(sessionId), timeOutMs: 12000 });
    await pollUntil('REVALIDATE', 5000, async () => (leader.revalidations.length > 0 ? true : undefined));
    assert.deepEqual(leader.revalidations[0], { sessionId, timeoutMs: 12000 });
    server.revalidated(sessionId, true);
    const c = await moving;
    assert.equal(c.connectResponse.sessionId, sessionId);
    assert.equal(c.connectResponse.timeOut, 12000);

    const gone = TestClient.connect('127.0.0.1', port, { sessionId: 0x0200000000000abdn, passwd: sessionPassword(0x0200000000000abdn) });
    await pollUntil('REVALIDATE', 5000, async () => (leader.revalidations.length > 1 ? true : undefined));
    server.revalidated(0x0200000000000abdn, false);
    assert.equal((await gone).connectResponse.sessionId, 0n, 'an expired session is answered with id 0');
    c.destroy();
  } finally {
    await server.stop();
  }
});

test('losing the leader closes every client connection; a close by the client waits for its txn', async () => {
  const { server, port, leader } = await observer();
  try {
    server.setUpstream(leader);
    const a = await connect(port, leader);
    const b = await connect(port, leader);
    const closing = a.close(5000);
    const fwd = await leader.next();
    assert.equal(fwd.type, OpCode.closeSession);
    leader.commitRequest(fwd);
    assert.equal((await closing)?.err, Code.OK);
    server.setUpstream(null);
    await b.waitClosed(5000);
    assert.equal(server.serving, false);
    await assert.rejects(TestClient.connect('127.0.0.1', port, { timeoutMs: 3000 }));
  } finally {
    await server.stop();
  }
});

test('cut off from its leader with readonlymode.enabled, a learner serves read-only clients only', async () => {
  const { server, port, leader } = await observer();
  try {
    server.setUpstream(leader);
    const writer = await connect(port, leader);
    const fwd = writer.request({ type: OpCode.create, path: '/kept', data: Buffer.from('v'), acl: OPEN, flags: 0, ttl: -1n });
    leader.commitRequest(await leader.next());
    assert.equal((await fwd).err, Code.OK);
    const moving = writer.connectResponse;
    server.setUpstream(null);

    server.setReadOnly(true);
    assert.equal(server.serving, true);
    assert.equal(server.serverState, 'read-only');
    await assert.rejects(TestClient.connect('127.0.0.1', port, { timeoutMs: 3000 }), 'a client that does not accept read-only is refused');
    const ro = await TestClient.connect('127.0.0.1', port, { readOnly: true });
    assert.equal(ro.connectResponse.readOnly, true);
    assert.notEqual(ro.connectResponse.sessionId, 0n);
    assert.equal((await ro.request({ type: OpCode.getData, path: '/kept', watch: false })).err, Code.OK);
    assert.equal((await ro.request({ type: OpCode.create, path: '/no', data: null, acl: OPEN, flags: 0, ttl: -1n })).err, Code.NotReadOnly);
    assert.equal((await ro.request({ type: OpCode.sync, path: '/' })).err, Code.NotReadOnly);
    assert.equal(leader.requests.length, 0, 'nothing goes to a leader');
    assert.equal(server.tree.get('/no'), undefined);
    // a session the ensemble knows resumes read-only
    const back = await TestClient.connect('127.0.0.1', port, { readOnly: true, sessionId: moving.sessionId, passwd: moving.passwd, lastZxidSeen: 0n });
    assert.equal(back.connectResponse.sessionId, moving.sessionId);

    server.setReadOnly(false);
    await ro.waitClosed(5000);
    await back.waitClosed(5000);
    assert.equal(server.serving, false);
    assert.equal(server.sessions.get(ro.connectResponse.sessionId), undefined, 'read-only sessions end with read-only mode');
    assert.ok(server.sessions.get(moving.sessionId), 'the ensemble’s sessions stay');
  } finally {
    await server.stop();
  }
});

test("a session's read waits behind its own pending write, not behind other sessions' writes", async () => {
  const { server, port, leader } = await observer();
  try {
    server.setUpstream(leader);
    const a = await connect(port, leader);
    const b = await connect(port, leader);
    let aRead = false;
    const aWrite = a.request({ type: OpCode.create, path: '/slow', data: null, acl: OPEN, flags: 0, ttl: -1n });
    const aReadP = a.request({ type: OpCode.exists, path: '/slow', watch: false }).then((r) => {
      aRead = true;
      return r;
    });
    const fwd = await leader.next();
    const bRead = await b.request({ type: OpCode.exists, path: '/slow', watch: false });
    assert.equal(bRead.err, Code.NoNode, "another session's read is answered while the write is at the leader");
    assert.equal(aRead, false, "the writer's own read waits for its write");
    leader.commitRequest(fwd);
    assert.equal((await aWrite).err, Code.OK);
    assert.equal((await aReadP).err, Code.OK, 'and then sees it');
    a.destroy();
    b.destroy();
  } finally {
    await server.stop();
  }
});

test("a learner's session table forgets passed expiry buckets without expiring anyone", async () => {
  const { SessionTracker } = await import('../../src/server/session-tracker.js');
  const t = new SessionTracker(100, 4, 0);
  const a = t.add(1n, 1000, 0);
  t.add(2n, 5000, 0);
  assert.notEqual(t.nextExpiry(), null);
  t.forgetPassed(10_000);
  assert.equal(t.nextExpiry(), null, 'no bucket left');
  assert.equal(t.size, 2);
  assert.equal(a.closing, false);
  t.touch(a, 20_000);
  assert.equal(t.nextExpiry(), 21_100);
  t.remove(1n);
  assert.equal(t.size, 1);
});
