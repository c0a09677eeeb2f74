// mntr-metrics.test.ts — mntr's traffic and watch metrics move as ZooKeeper 3.8's do for the same
// requests (checked side by side against Debian's ZooKeeper 3.8 with one kazoo workload):
//   bytes_received_count   4 + frame length per frame read, 4 per four-letter word
//   packets_sent           every frame sent (ConnectResponse, replies, notifications) and one per
//                          8192 characters of a four-letter answer; a word counts itself received
//   response_bytes         reply sizes without the length prefix; watch_bytes, notifications'
//   *_client_response_size replies and notifications, not the ConnectResponse; -1 after srst
//   node_*_watch_count     one sample per event that fired watches, valued the watchers it fired
//   outstanding_changes_*  change records of pending txns (create and delete: 2, setData: 1)
//   sync_processor_queue_and_flush_time_ms, propagation_latency: one sample per txn
// and srst zeroes what ZooKeeper's ServerStats.reset zeroes (digest_mismatches_count too) but
// not auth_failed_count.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { encodeConnectRequest, encodeRequest } from '../../src/protocol/client-codec.js';
import { EventType, OpCode } from '../../src/protocol/opcodes.js';
import type { Request } from '../../src/protocol/requests.js';
import type { Connection } from '../../src/server/connection.js';
import { fourLetterView, fourLetterWordHandler } from '../../src/server/four-letter-host.js';
import { runFourLetterWord } from '../../src/server/four-letter.js';
import { ServerStats } from '../../src/server/server-stats.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { DataTree } from '../../src/tree/data-tree.js';
import { DIGEST_VERSION } from '../../src/tree/digest.js';
import { TestClient, pollUntil } from '../conformance/test-client.js';
import { testOptions } from './start-server.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const WORDS = { whitelist: '*' as const, dataDir: '/d', dataLogDir: '/d', zktsVersion: '0' };

async function start(initial?: DataTree): Promise<{ server: ZkServer; port: number }> {
  const opts = testOptions({ fourLetterWord: fourLetterWordHandler(WORDS) });
  const server = new ZkServer(opts, undefined, initial === undefined ? undefined : { tree: initial, sessions: new Map(), lastZxid: initial.lastProcessedZxid });
  const { port } = await server.start();
  return { server, port };
}

/** mntr as the view prints it (no four-letter connection of its own), values by key without zk_. */
function mntr(server: ZkServer): Map<string, string> {
  const text = runFourLetterWord('mntr', fourLetterView(server, null as unknown as Connection, WORDS), '*');
  return new Map(text.split('\n').filter((l) => l !== '').map((l) => {
    const [k, v] = l.split('\t') as [string, string];
    return [k.slice(3), v];
  }));
}

const num = (m: Map<string, string>, key: string): number => {
  const v = m.get(key);
  assert.ok(v !== undefined, `mntr has ${key}`);
  return Number(v);
};

/** A four-letter word over its own connection; the answer. */
function word(port: number, w: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => s.write(w));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

async function ok(c: TestClient, req: Request): Promise<void> {
  const r = await c.request(req);
  assert.equal(r.err, 0, `${req.type} ${'path' in req ? req.path : ''}`);
}

const create = (path: string, data = ''): Request => ({ type: OpCode.create, path, data: Buffer.from(data), acl: OPEN, flags: 0, ttl: -1n });
const getData = (path: string, watch = false): Request => ({ type: OpCode.getData, path, watch });
const setData = (path: string, data: string): Request => ({ type: OpCode.setData, path, data: Buffer.from(data), version: -1 });
/** A notification's size without its length prefix: ReplyHeader (16) + type, state, path. */
const notificationBytes = (path: string): number => 16 + 4 + 4 + 4 + Buffer.byteLength(path);

describe('mntr traffic and watch metrics', () => {
  let server: ZkServer;
  let port: number;
  before(async () => ({ server, port } = await start()));
  after(async () => server.stop());

  it('count frames, bytes and response sizes as ZooKeeper does', async () => {
    const fresh = mntr(server);
    assert.equal(num(fresh, 'last_client_response_size'), -1);
    const c = await TestClient.connect('127.0.0.1', port, { timeOutMs: 10_000 });
    const connectBytes = encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: 10_000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false }).length;
    const m0 = mntr(server);
    assert.equal(num(m0, 'bytes_received_count') - num(fresh, 'bytes_received_count'), connectBytes);
    assert.equal(num(m0, 'packets_received') - num(fresh, 'packets_received'), 1, 'the ConnectRequest');
    assert.equal(num(m0, 'packets_sent') - num(fresh, 'packets_sent'), 1, 'the ConnectResponse');
    assert.equal(num(m0, 'last_client_response_size'), -1, 'a ConnectResponse is not a response');
    assert.equal(num(m0, 'cnt_updatelatency') - num(fresh, 'cnt_updatelatency'), 1, 'createSession is answered as an update');

    const big = 'x'.repeat(2000);
    const reqs: Request[] = [create('/big', big), getData('/big'), { type: OpCode.exists, path: '/nope', watch: false }];
    for (const r of reqs) await c.request(r);
    const m1 = mntr(server);
    // encodeRequest gives the frame with its length prefix, as ZooKeeper counts 4 + payload
    const sent = reqs.reduce((n, r, i) => n + encodeRequest(i + 1, r).length, 0);
    assert.equal(num(m1, 'bytes_received_count') - num(m0, 'bytes_received_count'), sent);
    assert.equal(num(m1, 'packets_received') - num(m0, 'packets_received'), 3);
    assert.equal(num(m1, 'packets_sent') - num(m0, 'packets_sent'), 3);
    // create: header + "/big"; getData: header + data + Stat (68); exists of a missing node: header
    const createReply = 16 + 4 + 4;
    const getReply = 16 + 4 + 2000 + 68;
    assert.equal(num(m1, 'response_bytes') - num(m0, 'response_bytes'), createReply + getReply + 16);
    assert.equal(num(m1, 'max_client_response_size'), getReply);
    assert.equal(num(m1, 'min_client_response_size'), 16);
    assert.equal(num(m1, 'last_client_response_size'), 16);

    // a ping is answered (16 bytes) and timed as a read
    await c.request({ type: OpCode.ping });
    const m2 = mntr(server);
    assert.equal(num(m2, 'response_bytes') - num(m1, 'response_bytes'), 16);
    assert.equal(num(m2, 'cnt_readlatency') - num(m1, 'cnt_readlatency'), 1);
    await c.close();
  });

  it('count a four-letter word received before it runs, and its answer in 8192-character packets', async () => {
    const m0 = mntr(server);
    const first = await word(port, 'mntr');
    const m1 = new Map(first.split('\n').filter((l) => l !== '').map((l) => [l.split('\t')[0]!.slice(3), l.split('\t')[1]!]));
    assert.equal(num(m1, 'packets_received') - num(m0, 'packets_received'), 1, 'mntr counts itself');
    assert.equal(num(m1, 'bytes_received_count') - num(m0, 'bytes_received_count'), 4);
    assert.equal(num(m1, 'packets_sent'), num(m0, 'packets_sent'), 'its answer is not sent yet');
    assert.ok(first.length > 8192, 'mntr answers in more than one packet');
    const m2 = mntr(server);
    assert.equal(num(m2, 'packets_sent') - num(m1, 'packets_sent'), Math.ceil(first.length / 8192));
    await word(port, 'ruok');
    assert.equal(num(mntr(server), 'packets_sent') - num(m2, 'packets_sent'), 1);
  });

  it('take one node_*_watch_count sample per event that fires watches, valued the watchers fired', async () => {
    const a = await TestClient.connect('127.0.0.1', port, { timeOutMs: 10_000 });
    const b = await TestClient.connect('127.0.0.1', port, { timeOutMs: 10_000 });
    try {
      await ok(a, create('/w', 'w'));
      const m0 = mntr(server);
      // NodeDataChanged firing two watchers (one per session), then one firing none
      await ok(a, getData('/w', true));
      await ok(b, getData('/w', true));
      await ok(a, setData('/w', 'v1'));
      await ok(a, setData('/w', 'v2'));
      // NodeCreated through an exists watch; NodeChildrenChanged through a child watch
      await ok(b, { type: OpCode.getChildren, path: '/w', watch: true });
      await c_exists(a, '/w/k');
      await ok(a, create('/w/k'));
      // NodeDeleted: the data and the child watch of one session, each table's trigger a sample
      await ok(b, getData('/w/k', true));
      await ok(b, { type: OpCode.getChildren, path: '/w/k', watch: true });
      await ok(a, { type: OpCode.delete, path: '/w/k', version: -1 });
      const toA = await a.waitForNotifications(2);
      const toB = await b.waitForNotifications(3);
      assert.deepEqual(toA.map((n) => n.type), [EventType.NodeDataChanged, EventType.NodeCreated]);
      // one NodeDeleted: the session's two watches on /w/k are delivered once
      assert.deepEqual(toB.map((n) => n.type), [EventType.NodeDataChanged, EventType.NodeChildrenChanged, EventType.NodeDeleted]);
      const got = [...toA, ...toB];
      const m1 = mntr(server);
      const moved = (name: string) => ['cnt', 'sum', 'max'].map((p) => num(m1, `${p}_${name}`) - (p === 'max' ? 0 : num(m0, `${p}_${name}`)));
      assert.deepEqual(moved('node_changed_watch_count'), [1, 2, 2]);
      assert.deepEqual(moved('node_created_watch_count'), [1, 1, 1]);
      assert.deepEqual(moved('node_children_watch_count'), [1, 1, 1]);
      // ZooKeeper counts the child table's watcher though the data table already notified it
      assert.deepEqual(moved('node_deleted_watch_count'), [2, 2, 1]);
      const bytes = got.reduce((n, x) => n + notificationBytes(x.path), 0);
      assert.equal(num(m1, 'watch_bytes') - num(m0, 'watch_bytes'), bytes);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('count change records and requests through the pipeline, closeSession prep and connection throttle samples', async () => {
    const m0 = mntr(server);
    const c = await TestClient.connect('127.0.0.1', port, { timeOutMs: 10_000 });
    await ok(c, create('/r'));
    await ok(c, setData('/r', 'x'));
    await ok(c, { type: OpCode.multi, ops: [create('/r/m'), { type: OpCode.delete, path: '/r/m', version: -1 }] });
    await ok(c, getData('/r'));
    await c.close();
    const m1 = mntr(server);
    // create: node + parent; setData: node; the multi's create and delete: node + parent each
    assert.equal(num(m1, 'outstanding_changes_queued') - num(m0, 'outstanding_changes_queued'), 2 + 1 + 4);
    assert.equal(num(m1, 'outstanding_changes_removed') - num(m0, 'outstanding_changes_removed'), 2 + 1 + 4);
    // createSession, 4 requests, closeSession
    assert.equal(num(m1, 'prep_processor_request_queued') - num(m0, 'prep_processor_request_queued'), 6);
    assert.equal(num(m1, 'sync_processor_request_queued') - num(m0, 'sync_processor_request_queued'), 6);
    // one sample per txn (createSession, create, setData, multi, closeSession) made durable and applied
    assert.equal(num(m1, 'cnt_sync_processor_queue_and_flush_time_ms') - num(m0, 'cnt_sync_processor_queue_and_flush_time_ms'), 5);
    assert.equal(num(m1, 'cnt_propagation_latency') - num(m0, 'cnt_propagation_latency'), 5);
    assert.equal(num(m1, 'cnt_close_session_prep_time') - num(m0, 'cnt_close_session_prep_time'), 1);
    assert.equal(num(m1, 'cnt_connection_token_deficit') - num(m0, 'cnt_connection_token_deficit'), 1);
    assert.equal(num(m1, 'sum_connection_token_deficit'), 0);
  });

  it('count a connection the client drops (connection_drop_count), not one the server closes', async () => {
    const m0 = mntr(server);
    const c = await TestClient.connect('127.0.0.1', port, { timeOutMs: 10_000 });
    await c.close(); // closeSession: the server closes the connection
    assert.equal(num(mntr(server), 'connection_drop_count'), num(m0, 'connection_drop_count'));
    const s = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    s.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: 10_000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false }));
    s.once('data', () => s.end());
    await new Promise<void>((resolve) => s.once('close', () => resolve()));
    await pollUntil('the drop to be counted', 10_000, async () => (num(mntr(server), 'connection_drop_count') === num(m0, 'connection_drop_count') + 1 ? true : undefined));
  });
});

async function c_exists(c: TestClient, path: string): Promise<void> {
  const r = await c.request({ type: OpCode.exists, path, watch: true });
  assert.equal(r.err, -101, `${path} does not exist yet`);
}

describe('srst', () => {
  it('zeroes digest_mismatches_count, found loading the tree or applying txns, and counts on from 0', async () => {
    const tree = new DataTree();
    const mismatch = (zxid: bigint, path: string): void => {
      tree.processTxn(
        { clientId: 0n, cxid: 0, zxid, time: 1, type: OpCode.create },
        { type: OpCode.create, path, data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 },
        { version: DIGEST_VERSION, treeDigest: 42n },
      );
    };
    mismatch(1n, '/a'); // as a replayed txn log whose digest the tree does not match
    const { server } = await start(tree);
    try {
      assert.equal(num(mntr(server), 'digest_mismatches_count'), 1);
      mismatch(2n, '/b'); // through the server's listener on the tree it serves
      assert.equal(num(mntr(server), 'digest_mismatches_count'), 2);
      assert.equal(runFourLetterWord('srst', fourLetterView(server, null as unknown as Connection, WORDS), '*'), 'Server stats reset.\n');
      assert.equal(num(mntr(server), 'digest_mismatches_count'), 0);
      mismatch(3n, '/c');
      assert.equal(num(mntr(server), 'digest_mismatches_count'), 1);
    } finally {
      await server.stop();
    }
  });

  it('resets latency, packets, client response sizes and ServerMetrics, but not auth_failed_count', () => {
    const st = new ServerStats();
    st.metrics.authFailed();
    st.responseSent(30);
    st.metrics.bytesReceived += 100;
    st.packetsSent = 3;
    st.reset();
    assert.equal(st.metrics.authFailedCount, 1, 'ZooKeeper\'s ServerStats.reset leaves authFailedCntr');
    assert.deepEqual([st.lastResponseBytes, st.minResponseBytes, st.maxResponseBytes], [-1, -1, -1]);
    assert.equal(st.metrics.counterViews().bytes_received_count, 0);
    assert.equal(st.packetsSent, 0);
  });
});
