// observer-trunc.test.ts — the observer host (ObserverPeer over a real DataDir and ZkServer)
// against a fake leader on a local socket that answers ACKEPOCH with TRUNC: the observer's data
// directory holds txns the leader never had (0x100000011..0x100000028). The host cuts them from
// the log, reloads the tree as it was at the TRUNC zxid, takes the sync txns and INFORMs on top
// with the leader's digests matching, serves, and a restart from the directory gives the same
// tree with none of the cut txns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { JuteDecodeError, JuteReader } from '../../src/protocol/jute.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import {
  PacketType,
  encodeInt,
  encodePacket,
  hexZxid,
  makeZxid,
  packet,
  packetTypeName,
  type QuorumPacket,
} from '../../src/quorum/learner/index.js';
import { ObserverPeer, writeEpochFile } from '../../src/quorum/observer-peer.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { recover } from '../../src/storage/recovery.js';
import { encodeTxnEntry } from '../../src/storage/txn-codec.js';
import { readTxnLog } from '../../src/storage/txn-log-reader.js';
import { DataTree } from '../../src/tree/data-tree.js';
import type { Txn, TxnHeader } from '../../src/tree/txn.js';
import { testOptions } from '../server/start-server.js';
import { assertSameNodes, committed, nodeView, OPEN, seeded, tempDir, Workload } from '../storage/helpers.js';

const quiet = (): void => {};
const EPOCH1 = 0x100000000n;
const TARGET = EPOCH1 + 0x10n;
const LOGGED = 0x28;

/** Learner → leader packets from a byte stream (no length prefix: back-to-back jute records). */
class PacketReader {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  readonly packets: QuorumPacket[] = [];

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const r = new JuteReader(this.buf);
      try {
        const type = r.int();
        const zxid = r.long();
        const data = r.bufferCopy();
        const n = r.vectorCount(8);
        if (n !== null && n > 0) throw new Error('fake leader: authinfo from the observer is not expected here');
        this.packets.push({ type, zxid, data, authinfo: null });
        this.buf = this.buf.subarray(this.buf.length - r.remaining);
      } catch (e) {
        if (e instanceof JuteDecodeError) break; // wait for the rest
        throw e;
      }
    }
    for (const w of this.waiters.splice(0)) w();
  }

  async next(type: number): Promise<QuorumPacket> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const i = this.packets.findIndex((p) => p.type !== PacketType.PING);
      if (i >= 0) {
        const p = this.packets.splice(i, 1)[0]!;
        assert.equal(packetTypeName(p.type), packetTypeName(type));
        return p;
      }
      if (Date.now() > deadline) throw new Error(`fake leader: no ${packetTypeName(type)} from the observer`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }
}

/** A txn as the leader would send it, with the digest of `leaderTree` after it. */
function leaderTxn(w: Workload, zxid: bigint, path: string): { payload: Buffer; hdr: TxnHeader; txn: Txn } {
  const hdr: TxnHeader = { clientId: 0n, cxid: 0, zxid, time: 1_700_000_100_000, type: OpCode.create };
  const txn: Txn = { type: OpCode.create, path, data: Buffer.from(path), acl: OPEN, ephemeral: false, parentCVersion: -1 };
  w.tree.processTxn(hdr, txn);
  return { payload: encodeTxnEntry(hdr, txn, { version: 2, treeDigest: w.tree.digest }), hdr, txn };
}

test('TRUNC: the observer cuts its log to the leader, reloads the tree and syncs on from there', async (t) => {
  const dir = tempDir(t, 'zkts-observer-trunc-');
  // The observer's history at epoch 1: LOGGED txns, snapshots among them (snapCount 12).
  const d0 = await DataDir.open({ dataDir: dir, snapCount: 12, preAllocBytes: 16 * 1024, forceSync: false, extendedTypesEnabled: true, random: seeded(3), log: quiet });
  const w0 = new Workload(5, { ...d0.initial, lastZxid: EPOCH1 });
  d0.attach(w0.live);
  for (let i = 0; i < LOGGED; i++) {
    const s = w0.randomStep();
    await committed(d0, s);
    w0.apply(s);
    if (i % 5 === 0) await new Promise((r) => setImmediate(r));
  }
  await d0.close();
  await writeEpochFile(dir, 'acceptedEpoch', 1n);
  await writeEpochFile(dir, 'currentEpoch', 1n);
  // The leader's tree: the same history up to TARGET only (same seed, same txns).
  const leader = new Workload(5, { tree: new DataTree({ extendedTypesEnabled: true }), sessions: new Map(), lastZxid: EPOCH1 });
  while (leader.tree.lastProcessedZxid < TARGET) leader.apply(leader.randomStep());
  assert.equal(leader.tree.lastProcessedZxid, TARGET);

  const logs: string[] = [];
  const log = (level: string, msg: string): void => void logs.push(`${level} ${msg}`);
  const data = await DataDir.open({ dataDir: dir, preAllocBytes: 16 * 1024, forceSync: false, extendedTypesEnabled: true, log: quiet });
  assert.equal(data.initial.lastZxid, EPOCH1 + BigInt(LOGGED));
  const server = new ZkServer(testOptions({ quorumRole: 'observer', serverId: 4 }), data, data.initial);
  data.attach(server);
  await server.start();

  const fromObserver = new PacketReader();
  let conn: Socket | null = null;
  const leaderPort = await new Promise<{ srv: Server; port: number }>((resolve) => {
    const srv = createServer((s) => {
      conn = s;
      s.on('data', (b) => fromObserver.push(b));
      s.on('error', () => {});
    });
    srv.listen(0, '127.0.0.1', () => resolve({ srv, port: (srv.address() as { port: number }).port }));
  });
  const leaderServer = { id: 1, host: '127.0.0.1', quorumPort: leaderPort.port, electionPort: 0, addresses: [], type: 'participant' as const };
  const peer = new ObserverPeer({
    myid: 4,
    servers: [leaderServer, { ...leaderServer, id: 4, quorumPort: 0, type: 'observer' as const }],
    tickTime: 500,
    initLimit: 20,
    syncLimit: 10,
    dataDir: dir,
    server,
    election: { lookForLeader: async () => ({ leaderId: 1, leader: leaderServer }) },
    txnLog: data,
    storage: data,
    log,
  });
  t.after(async () => {
    await peer.stop();
    await server.stop();
    await data.close();
    await new Promise((r) => leaderPort.srv.close(r));
  });
  peer.start();
  const send = (p: QuorumPacket): void => void conn!.write(encodePacket(p));

  const info = await fromObserver.next(PacketType.OBSERVERINFO);
  assert.equal(info.zxid, makeZxid(1n, 0n));
  send(packet(PacketType.LEADERINFO, makeZxid(2n, 0n), encodeInt(0x10000)));
  const ackEpoch = await fromObserver.next(PacketType.ACKEPOCH);
  assert.equal(hexZxid(ackEpoch.zxid), hexZxid(EPOCH1 + BigInt(LOGGED)), 'ACKEPOCH carries the last logged zxid, ahead of the leader');
  send(packet(PacketType.TRUNC, TARGET));
  const sync = leaderTxn(leader, makeZxid(2n, 1n), '/sync-after-trunc');
  send(packet(PacketType.PROPOSAL, sync.hdr.zxid, sync.payload));
  send(packet(PacketType.COMMIT, sync.hdr.zxid));
  send(packet(PacketType.NEWLEADER, makeZxid(2n, 0n)));
  assert.equal((await fromObserver.next(PacketType.ACK)).zxid, makeZxid(2n, 0n));
  send(packet(PacketType.UPTODATE, -1n));
  assert.equal((await fromObserver.next(PacketType.ACK)).zxid, makeZxid(2n, 0n));
  const inform = leaderTxn(leader, makeZxid(2n, 2n), '/inform-after-trunc');
  send(packet(PacketType.INFORM, inform.hdr.zxid, inform.payload));
  const deadline = Date.now() + 20_000;
  while (server.tree.lastProcessedZxid !== inform.hdr.zxid) {
    if (Date.now() > deadline) assert.fail(`the observer did not apply the INFORM (at ${hexZxid(server.tree.lastProcessedZxid)})\n${logs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  assert.equal(peer.status.state, 'observing');
  assert.equal(peer.status.digestMismatches, 0, `digests after TRUNC match the leader's:\n${logs.join('\n')}`);
  assert.ok(logs.some((l) => /Truncating log to get in sync with the leader 0x100000010/.test(l)));
  assertSameNodes(nodeView(server.tree), nodeView(leader.tree), 'observer tree vs leader tree');
  assert.ok(server.tree.get('/sync-after-trunc') && server.tree.get('/inform-after-trunc'));

  // The directory holds the leader's history: nothing of 0x100000011.. survives a restart.
  await data.txnLog.flushed();
  const logged = [...readTxnLog(join(dir, 'version-2'), 1n)].map((r) => r.hdr.zxid);
  assert.ok(!logged.some((z) => z > TARGET && z < makeZxid(2n, 0n)), `cut txns still logged: ${logged.filter((z) => z > TARGET && z < makeZxid(2n, 0n)).map(hexZxid)}`);
  assert.ok(logged.includes(inform.hdr.zxid), 'the INFORM after UPTODATE is logged');
  const r = recover(dir, dir, { extendedTypesEnabled: true, log: quiet });
  assert.equal(hexZxid(r.lastZxid), hexZxid(inform.hdr.zxid));
  assertSameNodes(nodeView(r.tree), nodeView(leader.tree), 'recovered tree vs leader tree');
  assert.equal(r.digestMismatches, 0);
});
