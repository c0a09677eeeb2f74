// The learner packet codec and the leader-stream decoder against real ZooKeeper 3.8.0 traffic
// (fixtures/README.md): golden bytes for what zkts sends, every packet of the captured streams
// decoded, chunking at every offset, and malformed streams refused with errors that say why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpCode } from '../../../src/protocol/opcodes.js';
import { JuteWriter } from '../../../src/protocol/jute.js';
import { treeDigest } from '../../../src/tree/digest.js';
import {
  LEARNER_PROTOCOL_VERSION,
  LearnerStreamDecoder,
  ObserverCore,
  PacketType,
  QuorumStreamError,
  decodeConfigText,
  decodeInt,
  decodeLearnerInfo,
  decodePacket,
  decodeRequest,
  decodeRevalidateAnswer,
  decodeRevalidateRequest,
  decodeTouches,
  decodeTxnPayload,
  encodeInt,
  encodeLearnerInfo,
  encodePacket,
  encodeRequest,
  encodeRevalidateAnswer,
  encodeRevalidateRequest,
  encodeTouches,
  packet,
  packetTypeName,
  type DiskAction,
  type ObserverAction,
  type QuorumPacket,
  type StreamEvent,
} from '../../../src/quorum/learner/index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, `${name}.bin`));

const SESSION = 0x0400000000123456n; // the probe's session (sid 4 in the top byte)

function decodeAll(bytes: Buffer): StreamEvent[] {
  const d = new LearnerStreamDecoder();
  const events = d.push(bytes);
  assert.equal(d.pendingBytes, 0, 'the whole stream decodes');
  assert.equal(d.inSnapshot, false);
  return events;
}

function packets(events: StreamEvent[]): QuorumPacket[] {
  return events.flatMap((e) => (e.kind === 'packet' ? [e.packet] : []));
}

function names(events: StreamEvent[]): string[] {
  return events.map((e) => (e.kind === 'packet' ? `${packetTypeName(e.packet.type)}:${e.packet.zxid.toString(16)}` : 'snapshot'));
}

/** Re-encodes every packet of a stream with no snapshot in it: the same bytes come out. */
function reencode(bytes: Buffer): Buffer {
  return Buffer.concat(packets(decodeAll(bytes)).map(encodePacket));
}

test('what an observer sends encodes to the bytes the probe sent ZooKeeper (golden)', () => {
  const sent = fixture('observer-snap.learner-to-leader');
  const ip = [{ scheme: 'ip', id: '127.0.0.1' }];
  const create = new JuteWriter().string('/from-python').buffer(Buffer.from('xyz')).int(1).int(31).string('world').string('anyone').int(1).toBuffer();
  const expected = [
    packet(PacketType.OBSERVERINFO, 0n, encodeLearnerInfo({ sid: 4n, protocolVersion: LEARNER_PROTOCOL_VERSION, configVersion: 0n })),
    packet(PacketType.ACKEPOCH, 0n, encodeInt(0)),
    packet(PacketType.ACK, 0x100000000n),
    packet(PacketType.ACK, 0x100000000n),
    packet(PacketType.PING, 0x100000012n, encodeTouches([{ sessionId: SESSION, timeoutMs: 30000 }])),
    packet(PacketType.REQUEST, -1n, encodeRequest({ sessionId: SESSION, cxid: 0, type: OpCode.createSession, body: encodeInt(30000) })),
    packet(PacketType.PING, 0x100000013n, encodeTouches([{ sessionId: SESSION, timeoutMs: 30000 }])),
    packet(PacketType.REQUEST, -1n, encodeRequest({ sessionId: SESSION, cxid: 1, type: OpCode.create, body: create }), ip),
    packet(PacketType.PING, 0x100000014n, encodeTouches([{ sessionId: SESSION, timeoutMs: 30000 }])),
    packet(PacketType.REQUEST, -1n, encodeRequest({ sessionId: SESSION, cxid: 2, type: OpCode.sync, body: new JuteWriter().string('/').toBuffer() }), ip),
    packet(PacketType.PING, 0x100000014n, encodeTouches([{ sessionId: SESSION, timeoutMs: 30000 }])),
    packet(PacketType.REVALIDATE, -1n, encodeRevalidateRequest({ sessionId: SESSION, timeoutMs: 30000 })),
    packet(PacketType.REVALIDATE, -1n, encodeRevalidateRequest({ sessionId: 0x0400000000000999n, timeoutMs: 30000 })),
    packet(PacketType.PING, 0x100000014n, encodeTouches([{ sessionId: SESSION, timeoutMs: 30000 }])),
    packet(PacketType.REQUEST, -1n, encodeRequest({ sessionId: SESSION, cxid: 3, type: OpCode.closeSession, body: Buffer.alloc(0) })),
  ];
  const ours = Buffer.concat(expected.map(encodePacket));
  assert.equal(ours.toString('hex'), sent.subarray(0, ours.length).toString('hex'));
  // The 36-byte OBSERVERINFO: type 16, zxid 0, 20 bytes of LearnerInfo, authinfo null.
  assert.equal(ours.subarray(0, 40).toString('hex'), '00000010' + '0000000000000000' + '00000014' + '0000000000000004' + '00010000' + '0000000000000000' + 'ffffffff');
});

test('an empty touch list is an empty buffer, not null (ZAB.md §2.4)', () => {
  const sent = fixture('observer-diff.learner-to-leader');
  const pings = packets(decodeAll(sent)).filter((p) => p.type === PacketType.PING);
  assert.equal(pings.length, 4);
  for (const p of pings) assert.deepEqual(p.data, Buffer.alloc(0));
  assert.equal(encodePacket(packet(PacketType.PING, 0x100000019n, encodeTouches([]))).toString('hex'), encodePacket(pings[0]!).toString('hex'));
});

test('learner → leader streams decode and re-encode to the same bytes', () => {
  for (const name of ['observer-snap', 'observer-diff', 'observer-trunc']) {
    const bytes = fixture(`${name}.learner-to-leader`);
    assert.equal(reencode(bytes).toString('hex'), bytes.toString('hex'), name);
    const ps = packets(decodeAll(bytes));
    assert.equal(ps[0]!.type, PacketType.OBSERVERINFO);
    assert.deepEqual(decodeLearnerInfo(ps[0]!.data), { sid: 4n, protocolVersion: 0x10000, configVersion: 0n });
    assert.equal(ps[1]!.type, PacketType.ACKEPOCH);
    assert.equal(decodeInt(ps[1]!.data, 'ACKEPOCH'), 0);
  }
  const ps = packets(decodeAll(fixture('observer-snap.learner-to-leader')));
  const reqs = ps.filter((p) => p.type === PacketType.REQUEST).map((p) => decodeRequest(p.data));
  assert.deepEqual(reqs.map((r) => [r.sessionId, r.cxid, r.type, r.body.length]), [
    [SESSION, 0, OpCode.createSession, 4],
    [SESSION, 1, OpCode.create, 54],
    [SESSION, 2, OpCode.sync, 5],
    [SESSION, 3, OpCode.closeSession, 0],
  ]);
  const revs = ps.filter((p) => p.type === PacketType.REVALIDATE).map((p) => decodeRevalidateRequest(p.data));
  assert.deepEqual(revs, [{ sessionId: SESSION, timeoutMs: 30000 }, { sessionId: 0x0400000000000999n, timeoutMs: 30000 }]);
  assert.deepEqual(decodeTouches(ps.find((p) => p.type === PacketType.PING)!.data), [{ sessionId: SESSION, timeoutMs: 30000 }]);
});

test('the leader → observer streams decode packet by packet, SNAP with its snapshot stream', () => {
  const snap = decodeAll(fixture('observer-snap.leader-to-learner'));
  assert.deepEqual(names(snap).slice(0, 12), [
    'LEADERINFO:100000000', 'SNAP:100000012', 'snapshot', 'NEWLEADER:100000000', 'UPTODATE:-1', 'PING:100000012',
    'INFORM:100000013', 'PING:100000013', 'INFORM:100000014', 'PING:100000014', 'SYNC:0', 'PING:100000014',
  ]);
  const diff = decodeAll(fixture('observer-diff.leader-to-learner'));
  assert.deepEqual(names(diff).slice(0, 13), [
    'LEADERINFO:100000000', 'DIFF:100000019', 'PROPOSAL:100000016', 'COMMIT:100000016', 'PROPOSAL:100000017', 'COMMIT:100000017',
    'PROPOSAL:100000018', 'COMMIT:100000018', 'PROPOSAL:100000019', 'COMMIT:100000019', 'NEWLEADER:100000000', 'UPTODATE:-1', 'PING:100000019',
  ]);
  const trunc = decodeAll(fixture('observer-trunc.leader-to-learner'));
  assert.deepEqual(names(trunc).slice(0, 4), ['LEADERINFO:100000000', 'TRUNC:10000001b', 'NEWLEADER:100000000', 'UPTODATE:-1']);
  for (const name of ['observer-diff', 'observer-trunc']) {
    const bytes = fixture(`${name}.leader-to-learner`);
    assert.equal(reencode(bytes).toString('hex'), bytes.toString('hex'), name);
  }

  const ps = packets(snap);
  const li = ps[0]!;
  assert.equal(encodePacket(li).toString('hex'), '00000011' + '0000000100000000' + '00000004' + '00010000' + 'ffffffff');
  assert.equal(encodePacket(ps[1]!).toString('hex'), '0000000f' + '0000000100000012' + 'ffffffff' + 'ffffffff');
  const config = decodeConfigText(ps[2]!.data);
  assert.equal(config?.split('\n').at(-1), 'version=0');
  assert.match(config!, /^server\.1=127\.0\.0\.1:12888:13888:participant\n/);
  assert.equal(ps[3]!.zxid, -1n);
  assert.equal(ps[3]!.data, null);
  assert.equal(ps[4]!.data, null, "the leader's PING carries no data");
  const inform = decodeTxnPayload(ps[5]!.data, 'INFORM');
  assert.deepEqual(inform.hdr, { clientId: SESSION, cxid: 0, zxid: 0x100000013n, time: 1795707454547, type: OpCode.createSession });
  assert.deepEqual(inform.txn, { type: OpCode.createSession, timeOut: 30000 });
  assert.deepEqual(inform.digest, { version: 2, treeDigest: 8574295438n });
  const answers = ps.filter((p) => p.type === PacketType.REVALIDATE);
  assert.deepEqual(answers.map((p) => decodeRevalidateAnswer(p.data)), [
    { sessionId: SESSION, valid: true },
    { sessionId: 0x0400000000000999n, valid: false },
  ]);
  assert.equal(encodePacket(answers[0]!).toString('hex'), encodePacket(packet(PacketType.REVALIDATE, -1n, encodeRevalidateAnswer({ sessionId: SESSION, valid: true }))).toString('hex'));
});

test("the SNAP stream's tree: sessions, ACLs, nodes and the leader's digest", () => {
  const ev = decodeAll(fixture('observer-snap.leader-to-learner')).find((e) => e.kind === 'snapshot');
  assert.ok(ev !== undefined && ev.kind === 'snapshot');
  const { tree, sessions, bytes } = ev.snapshot;
  assert.deepEqual([...sessions], [[72057619066257411n, 30000], [144115213103333377n, 30000]]);
  assert.deepEqual([...tree.paths()].sort(), ['/', '/app', '/app/c2', '/zookeeper', '/zookeeper/config', '/zookeeper/quota']);
  assert.equal(tree.get('/app')!.data!.toString(), 'world');
  assert.deepEqual(tree.get('/app')!.acl, [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]);
  assert.deepEqual(tree.get('/zookeeper/config')!.acl, [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
  assert.deepEqual(tree.childNames('/').sort(), ['app', 'zookeeper']);
  // The INFORM right after the SNAP (createSession 0x100000013, no tree change) carries the
  // leader's digest of this very tree.
  assert.equal(treeDigest(tree), 8574295438n);
  const stream = fixture('observer-snap.leader-to-learner');
  assert.equal(bytes, stream.length - packets(decodeAll(stream)).reduce((n, p) => n + encodePacket(p).length, 0));
});

test('chunks split at every offset decode to the same events', () => {
  const stream = fixture('observer-snap.leader-to-learner');
  const whole = names(decodeAll(stream));
  for (let cut = 1; cut < stream.length; cut++) {
    const d = new LearnerStreamDecoder();
    const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
    assert.deepEqual(names(got), whole, `split at ${cut}`);
  }
  const d = new LearnerStreamDecoder();
  const got: StreamEvent[] = [];
  for (let i = 0; i < stream.length; i++) got.push(...d.push(stream.subarray(i, i + 1)));
  assert.deepEqual(names(got), whole, 'one byte at a time');
  const snap = got.find((e) => e.kind === 'snapshot');
  assert.ok(snap?.kind === 'snapshot' && treeDigest(snap.snapshot.tree) === 8574295438n);
});

test('a packet split mid-way waits for the rest without error', () => {
  const bytes = encodePacket(packet(PacketType.INFORM, 5n, Buffer.alloc(1000, 1)));
  const d = new LearnerStreamDecoder();
  assert.deepEqual(d.push(bytes.subarray(0, 500)), []);
  assert.equal(d.pendingBytes, 500);
  const ev = d.push(bytes.subarray(500));
  assert.equal(ev.length, 1);
  assert.equal(d.pendingBytes, 0);
});

function snapStream(body: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter();
  body(w);
  return Buffer.concat([encodePacket(packet(PacketType.SNAP, 7n)), w.toBuffer()]);
}

function rootNode(w: JuteWriter, path: string, aclIndex = -1n): void {
  w.string(path).buffer(Buffer.alloc(0)).long(aclIndex);
  for (let i = 0; i < 4; i++) w.long(0n);
  w.int(0).int(0).int(0).long(0n).long(0n);
}

function refusal(bytes: Buffer, opts = {}): string {
  const d = new LearnerStreamDecoder(opts);
  try {
    d.push(bytes);
  } catch (e) {
    assert.ok(e instanceof QuorumStreamError);
    assert.throws(() => d.push(Buffer.from([0])), (again: unknown) => again === e, 'a failed decoder stays failed');
    return e.message;
  }
  assert.fail(`accepted: ${bytes.toString('hex')}`);
}

test('malformed streams are refused with an error naming what is wrong', () => {
  const oversize = Buffer.from('00000008' + '0000000100000001' + '00200000', 'hex');
  assert.match(refusal(oversize), /INFORM packet data: length 2097152 exceeds jute\.maxbuffer \+ extra \(2097150\)/);
  // With a larger jute.maxbuffer the same length is fine: the decoder waits for the bytes.
  assert.equal(new LearnerStreamDecoder({ maxBufferBytes: 0x100000 }).push(oversize).length, 0);
  assert.match(refusal(Buffer.from('00000005' + '0000000000000000' + 'fffffffe', 'hex')), /PING packet data: negative length -2/);
  assert.match(refusal(Buffer.from('00000005' + '0000000000000000' + 'ffffffff' + '7fffffff', 'hex')), /PING packet authinfo: length 2147483647 exceeds/);
  assert.match(refusal(Buffer.from('00000005' + '0000000000000000' + 'ffffffff' + '00000001' + 'ffffffff' + 'ffffffff', 'hex')), /null authinfo Id/);

  const signature = (sig: string): Buffer => snapStream((w) => {
    w.int(0).int(0);
    rootNode(w, '');
    w.string('/').string(sig);
  });
  assert.equal(new LearnerStreamDecoder().push(signature('BenWasHere')).length, 2);
  assert.match(refusal(signature('BenWasThere')), /signature "BenWasThere" where "BenWasHere" ends the snapshot/);
  assert.match(refusal(snapStream((w) => w.int(-2))), /snapshot session count: negative length -2/);
  assert.match(refusal(snapStream((w) => w.int(0).int(0).string('/a'))), /first node is \/a, not the root/);
  assert.match(refusal(snapStream((w) => {
    w.int(0).int(0);
    rootNode(w, '', 3n);
  })), /snapshot node \/ refers to ACL 3, which the ACL table lacks/);
  assert.match(refusal(snapStream((w) => {
    w.int(0).int(0);
    rootNode(w, '');
    rootNode(w, '/a/b');
  })), /unable to find parent \/a of path \/a\/b/);
  assert.match(refusal(snapStream((w) => w.int(0).int(0).string('/').string('BenWasHere'))), /no root node/);
  // The byte offset in the message points at the item that failed.
  assert.match(refusal(Buffer.concat([encodePacket(packet(PacketType.PING, 1n)), Buffer.from('00000005' + '0000000000000000' + 'fffffffe', 'hex')])), /^leader stream at byte 20: /);
});

test('decodePacket refuses trailing bytes and payload decoders name the packet', () => {
  assert.throws(() => decodePacket(Buffer.concat([encodePacket(packet(PacketType.ACK, 1n)), Buffer.from([0])])), /1 bytes after the ACK packet/);
  assert.throws(() => decodeRevalidateAnswer(Buffer.from('00', 'hex')), /REVALIDATE answer: truncated record/);
  assert.throws(() => decodeInt(null, 'ACKEPOCH'), /ACKEPOCH: no data/);
  assert.throws(() => decodeTouches(Buffer.alloc(13)), /13 bytes is not a multiple of 12/);
  assert.throws(() => decodeTxnPayload(Buffer.alloc(10), 'INFORM'), /INFORM: truncated record/);
});

const arbId = fc.record({ scheme: fc.string({ maxLength: 8 }), id: fc.string({ maxLength: 20 }) }, { noNullPrototype: true });
const arbPacket: fc.Arbitrary<QuorumPacket> = fc.record(
  {
    type: fc.integer({ min: 1, max: 19 }).filter((t) => t !== PacketType.SNAP),
    zxid: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    data: fc.option(fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), { nil: null }),
    authinfo: fc.option(fc.array(arbId, { maxLength: 3 }), { nil: null }),
  },
  { noNullPrototype: true },
);

/** Cuts `bytes` at the given fractions of its length. */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

test('property: any packets, encoded back to back and cut anywhere, decode to themselves', () => {
  fc.assert(
    fc.property(fc.array(arbPacket, { maxLength: 8 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }), (ps, cuts) => {
      const d = new LearnerStreamDecoder();
      const got = chunked(Buffer.concat(ps.map(encodePacket)), cuts).flatMap((c) => d.push(c));
      assert.deepEqual(packets(got), ps.map((p) => ({ ...p, authinfo: p.authinfo === null ? null : p.authinfo.map((a) => ({ ...a })) })));
      assert.equal(d.pendingBytes, 0);
    }),
    { numRuns: 300 },
  );
});

test('property: a damaged leader stream decodes or fails with QuorumStreamError, and the core only disconnects', () => {
  const golden = fixture('observer-snap.leader-to-learner');
  fc.assert(
    fc.property(
      fc.array(fc.record({ at: fc.nat({ max: golden.length - 1 }), byte: fc.nat({ max: 255 }) }, { noNullPrototype: true }), { minLength: 1, maxLength: 4 }),
      fc.nat({ max: golden.length }),
      (flips, keep) => {
        const bytes = Buffer.from(golden.subarray(0, Math.max(keep, 1)));
        for (const f of flips) if (f.at < bytes.length) bytes[f.at] = f.byte;
        try {
          new LearnerStreamDecoder().push(bytes);
        } catch (e) {
          assert.ok(e instanceof QuorumStreamError, String(e));
        }
        const core = new ObserverCore({ sid: 4n, tickTimeMs: 2000, initLimit: 10, syncLimit: 5, acceptedEpoch: 0n, currentEpoch: 0n, configVersion: 0n });
        const pending: DiskAction[] = [];
        const run = (actions: ObserverAction[]): void => {
          for (const a of actions) {
            if (a.kind === 'persistAcceptedEpoch' || a.kind === 'persistCurrentEpoch' || a.kind === 'takeSnapshot' || a.kind === 'truncateLog') pending.push(a);
            if (a.kind === 'apply') run(core.applied(a.hdr.zxid, 0n));
          }
        };
        run(core.connected(0, 0n));
        run(core.receive(bytes, 0));
        while (pending.length > 0) run(core.persisted(pending.shift()!, 0));
      },
    ),
    { numRuns: 300 },
  );
});
