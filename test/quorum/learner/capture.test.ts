// The captured leader → observer streams of a real Apache ZooKeeper 3.8.0 leader (fixtures/README.md)
// replayed end to end through the stream decoder and the ObserverCore, with a host that applies
// what the core says to a real DataTree: the SNAP join, then (from the state the probe had at
// 0x100000015) the DIFF join, then the TRUNC join. The tree digest must equal the leader's
// TxnDigest after every txn, and what the core sends must be what ZooKeeper expects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpCode } from '../../../src/protocol/opcodes.js';
import { JuteWriter } from '../../../src/protocol/jute.js';
import { resolveLoggedTxn } from '../../../src/storage/replay.js';
import { treeDigest } from '../../../src/tree/digest.js';
import { DataTree } from '../../../src/tree/data-tree.js';
import {
  LearnerStreamDecoder,
  ObserverCore,
  PacketType,
  encodePacket,
  packetTypeName,
  type ObserverAction,
  type QuorumPacket,
} from '../../../src/quorum/learner/index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, `${name}.bin`));
const SESSION = 0x0400000000123456n;
/** The leader's TxnDigest in the last INFORM of each join (decoded.txt). */
const DIGEST_AT_0x15 = 4644480826n;

/** The host: a DataTree and session table, disk actions done at once, every action recorded. */
class Host {
  tree = new DataTree();
  sessions = new Map<bigint, number>();
  sent: QuorumPacket[] = [];
  applied: bigint[] = [];
  logged: bigint[] = [];
  checked = 0;
  warnings: string[] = [];
  disconnects: string[] = [];
  serving = false;
  files = { acceptedEpoch: 0n, currentEpoch: 0n, snapshots: [] as bigint[], truncations: [] as bigint[] };

  constructor(readonly core: ObserverCore) {}

  run(actions: ObserverAction[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'send':
          this.sent.push(a.packet);
          break;
        case 'persistAcceptedEpoch':
          this.files.acceptedEpoch = a.epoch;
          this.run(this.core.persisted(a, 0));
          break;
        case 'persistCurrentEpoch':
          this.files.currentEpoch = a.epoch;
          this.run(this.core.persisted(a, 0));
          break;
        case 'takeSnapshot':
          assert.equal(a.zxid, this.tree.lastProcessedZxid);
          this.files.snapshots.push(a.zxid);
          this.run(this.core.persisted(a, 0));
          break;
        case 'truncateLog':
          // Nothing after a.zxid was logged here: the tree stays as it is.
          assert.ok(this.tree.lastProcessedZxid <= a.zxid);
          this.files.truncations.push(a.zxid);
          this.run(this.core.persisted(a, 0));
          break;
        case 'replaceTree':
          this.tree = a.snapshot.tree;
          this.sessions = new Map(a.snapshot.sessions);
          assert.equal(this.tree.lastProcessedZxid, a.zxid);
          break;
        case 'apply': {
          const txn = resolveLoggedTxn(this.tree, a.hdr, a.txn);
          if (txn.type === OpCode.createSession) this.sessions.set(a.hdr.clientId, txn.timeOut);
          if (txn.type === OpCode.closeSession) this.sessions.delete(a.hdr.clientId);
          this.tree.processTxn(a.hdr, txn);
          this.applied.push(a.hdr.zxid);
          if (a.log) this.logged.push(a.hdr.zxid);
          if (a.digest !== null) this.checked++;
          this.run(this.core.applied(a.hdr.zxid, treeDigest(this.tree)));
          break;
        }
        case 'digestMismatch':
          assert.fail(`digest mismatch at 0x${a.zxid.toString(16)}: leader ${a.expected}, tree ${a.actual}`);
          break;
        case 'serving':
          this.serving = a.serving;
          break;
        case 'warn':
          this.warnings.push(a.message);
          break;
        case 'disconnect':
          this.disconnects.push(a.reason);
          break;
        case 'config':
        case 'revalidated':
        case 'syncDone':
          break;
      }
    }
  }
}

/** The stream cut at packet boundaries (the snapshot stream stays with its SNAP packet). */
function packetsOf(stream: Buffer): { packet: QuorumPacket; bytes: Buffer }[] {
  const d = new LearnerStreamDecoder();
  const out: { packet: QuorumPacket; bytes: Buffer }[] = [];
  let at = 0;
  for (let i = 1; i <= stream.length; i++) {
    const evs = d.push(stream.subarray(i - 1, i));
    for (const e of evs) {
      if (e.kind === 'packet' && e.packet.type !== PacketType.SNAP) {
        out.push({ packet: e.packet, bytes: stream.subarray(at, i) });
        at = i;
      } else if (e.kind === 'snapshot') {
        out.push({ packet: { type: PacketType.SNAP, zxid: 0n, data: null, authinfo: null }, bytes: stream.subarray(at, i) });
        at = i;
      }
    }
  }
  return out;
}

function newCore(acceptedEpoch: bigint, currentEpoch: bigint): ObserverCore {
  return new ObserverCore({ sid: 4n, tickTimeMs: 2000, initLimit: 10, syncLimit: 5, acceptedEpoch, currentEpoch, configVersion: 0n });
}

test('SNAP join from the capture: the tree matches every digest the leader sent', () => {
  const stream = fixture('observer-snap.leader-to-learner');
  const probeSent = fixture('observer-snap.learner-to-leader');
  const host = new Host(newCore(0n, 0n));
  host.run(host.core.connected(0, 0n));
  const ip = [{ scheme: 'ip', id: '127.0.0.1' }];
  const pieces = packetsOf(stream);
  for (const { packet: p, bytes } of pieces) {
    // What the probe's client side did at these points, through the core.
    if (p.type === PacketType.SYNC) {
      host.run(host.core.forwardRequest({ sessionId: SESSION, cxid: 2, type: OpCode.sync, body: new JuteWriter().string('/').toBuffer() }, ip));
    }
    if (p.type === PacketType.REVALIDATE && host.sent.every((s) => s.type !== PacketType.REVALIDATE)) {
      host.run(host.core.revalidate(SESSION, 30000));
      host.run(host.core.revalidate(0x0400000000000999n, 30000));
    }
    if (p.type === PacketType.PING) host.core.touch(SESSION, 30000);
    host.run(host.core.receive(bytes, 0));
  }
  assert.deepEqual(host.disconnects, []);
  assert.deepEqual(host.warnings, []);
  assert.equal(host.serving, true);
  // The handshake bytes are the probe's: OBSERVERINFO, ACKEPOCH, ACK (NEWLEADER), ACK (UPTODATE).
  const probe = packetsOf(probeSent).map((x) => x.bytes);
  assert.equal(Buffer.concat(host.sent.slice(0, 4).map(encodePacket)).toString('hex'), Buffer.concat(probe.slice(0, 4)).toString('hex'));
  // Every PING echoed with the leader's zxid and the touched session, as the probe did.
  const pingsOut = host.sent.filter((s) => s.type === PacketType.PING).map((s) => encodePacket(s).toString('hex'));
  const probePings = probe.filter((b) => b.readInt32BE(0) === PacketType.PING).map((b) => b.toString('hex'));
  assert.equal(pingsOut.length, pieces.filter((x) => x.packet.type === PacketType.PING).length);
  assert.deepEqual(pingsOut.slice(0, 6), probePings.slice(0, 6));
  // The sync REQUEST is byte for byte the probe's; both REVALIDATEs too.
  const sync = host.sent.find((s) => s.type === PacketType.REQUEST)!;
  assert.ok(probe.some((b) => b.equals(encodePacket(sync))));
  for (const r of host.sent.filter((s) => s.type === PacketType.REVALIDATE)) assert.ok(probe.some((b) => b.equals(encodePacket(r))));
  // SNAP at 0x12, then INFORMs 0x13..0x19 applied and logged, each digest checked (not the errors').
  assert.deepEqual(host.applied.map((z) => z.toString(16)), ['100000013', '100000014', '100000015', '100000016', '100000017', '100000018', '100000019']);
  assert.deepEqual(host.logged, host.applied);
  assert.equal(host.checked, 5);
  assert.equal(host.core.digestMismatches, 0);
  assert.equal(host.core.lastZxid, 0x100000019n);
  assert.equal(treeDigest(host.tree), DIGEST_AT_0x15);
  assert.deepEqual([...host.tree.paths()].sort(), ['/', '/app', '/app/c2', '/zookeeper', '/zookeeper/config', '/zookeeper/quota']);
  assert.deepEqual(host.files, { acceptedEpoch: 1n, currentEpoch: 1n, snapshots: [0x100000012n], truncations: [] });
  assert.equal(host.core.currentEpoch, 1n);
  // The two sessions of the snapshot and the two created at 0x16 and 0x18 (the probe's closed at 0x15).
  assert.deepEqual([...host.sessions.keys()].sort((a, b) => (a < b ? -1 : 1)), [72057619066257411n, 72057619066257412n, 144115213103333377n, 144115213103333378n]);
});

test('DIFF then TRUNC joins from the capture continue from where the probe was', () => {
  // The probe rejoined with ACKEPOCH 0x100000015: replay the SNAP join to that point, lose the leader.
  const host = new Host(newCore(0n, 0n));
  host.run(host.core.connected(0, 0n));
  for (const { packet: p, bytes } of packetsOf(fixture('observer-snap.leader-to-learner'))) {
    if (p.type === PacketType.INFORM && p.zxid > 0x100000015n) break;
    if (p.type === PacketType.SYNC || p.type === PacketType.REVALIDATE) continue;
    host.run(host.core.receive(bytes, 0));
  }
  assert.equal(host.core.lastZxid, 0x100000015n);
  host.run(host.core.disconnected('probe stopped'));
  assert.equal(host.serving, false);

  host.sent = [];
  host.run(host.core.connected(1000, host.tree.lastProcessedZxid));
  const diff = packetsOf(fixture('observer-diff.leader-to-learner'));
  for (const { bytes } of diff) host.run(host.core.receive(bytes, 1000));
  assert.deepEqual(host.disconnects, ['probe stopped']);
  assert.deepEqual(host.warnings, []);
  assert.equal(host.serving, true);
  // zkts already accepted epoch 1, so it sends OBSERVERINFO 0x100000000 and ACKEPOCH -1 (the
  // stateless probe sent 0x0 and 0); its last zxid is the probe's, 0x100000015.
  assert.deepEqual(host.sent.slice(0, 4).map((s) => `${packetTypeName(s.type)} ${s.zxid.toString(16)} ${s.data?.toString('hex') ?? 'null'}`), [
    'OBSERVERINFO 100000000 0000000000000004000100000000000000000000',
    'ACKEPOCH 100000015 ffffffff',
    'ACK 100000000 null',
    'ACK 100000000 null',
  ]);
  // The DIFF's four PROPOSAL/COMMIT pairs (two of them error txns) apply after UPTODATE, then INFORMs 0x1a, 0x1b.
  assert.deepEqual(host.applied.slice(-6).map((z) => z.toString(16)), ['100000016', '100000017', '100000018', '100000019', '10000001a', '10000001b']);
  assert.equal(host.core.digestMismatches, 0);
  assert.equal(treeDigest(host.tree), DIGEST_AT_0x15);
  assert.deepEqual(host.files.snapshots, [0x100000012n], 'no snapshot after a DIFF');

  host.run(host.core.disconnected('probe stopped'));
  host.sent = [];
  host.run(host.core.connected(2000, host.tree.lastProcessedZxid));
  for (const { bytes } of packetsOf(fixture('observer-trunc.leader-to-learner'))) host.run(host.core.receive(bytes, 2000));
  assert.equal(host.serving, true);
  assert.deepEqual(host.files.truncations, [0x10000001bn]);
  assert.deepEqual(host.files.snapshots, [0x100000012n, 0x10000001bn]);
  assert.deepEqual(host.sent.map((s) => `${packetTypeName(s.type)} ${s.zxid.toString(16)}`), [
    'OBSERVERINFO 100000000', 'ACKEPOCH 10000001b', 'ACK 100000000', 'ACK 100000000',
    'PING 10000001b', 'PING 10000001b', 'PING 10000001b', 'PING 10000001b',
  ]);
  assert.equal(host.core.lastZxid, 0x10000001bn);
  assert.equal(treeDigest(host.tree), DIGEST_AT_0x15);
});
