// codec.test.ts — the election port's bytes against real traffic: every election stream of the
// 3.8.0 capture (fixtures/election-streams-3.8.0.json, extracted from the pcap by
// tools/extract-election-streams.ts) decodes, and re-encodes to exactly the captured bytes; the
// config text round-trips; split at every offset gives the same items; bad input is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeConnectionHeader,
  decodeNotification,
  ElectionDecodeError,
  ElectionStreamDecoder,
  encodeConnectionHeader,
  encodeFrame,
  encodeNotification,
  FRAME_BYTES_MAX,
  LONG_MIN,
  PROTOCOL_VERSION_V1,
  PROTOCOL_VERSION_V2,
  type StreamItem,
} from '../../../src/quorum/election/codec.js';
import { formatConfigText, parseConfigText, votersOf } from '../../../src/quorum/election/config.js';

interface CapturedStream {
  from: string;
  to: string;
  dialer: boolean;
  listenerSid: number;
  hex: string;
}
const FIXTURE = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'election-streams-3.8.0.json'), 'utf8')) as { streams: CapturedStream[] };
const streams = FIXTURE.streams.map((s) => ({ ...s, bytes: Buffer.from(s.hex, 'hex') }));

// The ensemble's config as the Java servers sent it (ZAB.md §1.2; 178 bytes in the capture).
const CONFIG_TEXT = [
  'server.1=127.0.0.1:12888:13888:participant',
  'server.2=127.0.0.1:22888:23888:participant',
  'server.3=127.0.0.1:32888:33888:participant',
  'server.4=127.0.0.1:42888:43888:observer',
  'version=0',
].join('\n');

function decodeAll(s: { dialer: boolean; bytes: Buffer }): StreamItem[] {
  return new ElectionStreamDecoder({ expectHeader: s.dialer }).push(s.bytes);
}

test('the capture holds 30 election streams (16 dialled) with 31 notifications, as pcapdecode.py decodes it, all of which decode', () => {
  assert.equal(streams.length, 30);
  let notifications = 0;
  for (const s of streams) {
    const dec = new ElectionStreamDecoder({ expectHeader: s.dialer });
    const items = dec.push(s.bytes);
    assert.equal(dec.buffered, 0, `${s.from}->${s.to}: no trailing bytes`);
    if (s.dialer) assert.equal(items[0]?.kind, 'header');
    for (const it of items) if (it.kind === 'frame') (decodeNotification(it.payload), notifications++);
  }
  assert.equal(notifications, 31);
});

test('connection headers: V1, the sid and "host:port", 35 bytes; re-encoded byte for byte', () => {
  const dialers = streams.filter((s) => s.dialer);
  assert.equal(dialers.length, 16);
  for (const s of dialers) {
    const h = decodeConnectionHeader(s.bytes);
    assert.ok(h);
    assert.equal(h.bytes, 35);
    assert.equal(h.header.protocolVersion, PROTOCOL_VERSION_V1);
    const sid = Number(h.header.sid);
    assert.deepEqual(h.header.addresses, [{ host: '127.0.0.1', port: sid * 10000 + 3888 }]);
    assert.deepEqual(encodeConnectionHeader(sid, h.header.addresses), s.bytes.subarray(0, 35));
  }
  // ZAB.md §1.1's example, the observer probe (sid 4) dialling sid 1.
  assert.equal(dialers.find((s) => s.to === '127.0.0.1:13888' && s.bytes.readBigInt64BE(8) === 4n)!.hex.slice(0, 70), 'ffffffffffff00000000000000000004' + '0000000f' + Buffer.from('127.0.0.1:43888').toString('hex'));
});

test('notifications re-encode to the captured bytes; the known votes read as the decoded capture says', () => {
  const seen: string[] = [];
  for (const s of streams) {
    for (const it of decodeAll(s)) {
      if (it.kind !== 'frame') continue;
      const n = decodeNotification(it.payload);
      assert.deepEqual(encodeNotification(n), it.payload);
      assert.equal(n.version, 2);
      if (n.config !== '') assert.equal(n.config, CONFIG_TEXT);
      seen.push(`${n.state} ${n.leader === LONG_MIN ? 'MIN' : n.leader} ${n.zxid === LONG_MIN ? 'MIN' : `0x${n.zxid.toString(16)}`} ${n.electionEpoch} ${n.peerEpoch === LONG_MIN ? 'MIN' : n.peerEpoch} ${it.payload.length}`);
    }
  }
  // Sid 3's first vote for itself (222 = 44 + 178 bytes of config).
  assert.equal(seen[0], 'LOOKING 3 0x0 1 0 222');
  // The observer probe's vote: LOOKING, leader = zxid = peerEpoch = Long.MIN_VALUE, no config.
  assert.ok(seen.includes('LOOKING MIN MIN 1 MIN 44'));
  // The running ensemble's answers to it (ZAB.md §1.4).
  assert.ok(seen.includes('FOLLOWING 3 0x0 1 1 222'));
  assert.ok(seen.includes('LEADING 3 0x0 1 1 222'));
  // Restarted sid 1 with its logged zxid.
  assert.ok(seen.includes('LOOKING 1 0x10000001b 1 1 222'));
});

test('the config text parses to 3 participants and 1 observer and formats back to the same bytes', () => {
  const c = parseConfigText(CONFIG_TEXT);
  assert.equal(c.version, 0n);
  assert.deepEqual([...votersOf(c)], [1, 2, 3]);
  assert.deepEqual(c.servers.map((s) => [s.id, s.type, s.host, s.quorumPort, s.electionPort]), [
    [1, 'participant', '127.0.0.1', 12888, 13888],
    [2, 'participant', '127.0.0.1', 22888, 23888],
    [3, 'participant', '127.0.0.1', 32888, 33888],
    [4, 'observer', '127.0.0.1', 42888, 43888],
  ]);
  assert.equal(formatConfigText(c), CONFIG_TEXT);
  assert.equal(Buffer.byteLength(formatConfigText(c)), 178);
});

test('config text: client addresses, a hex version, several addresses; hierarchical quorums refused', () => {
  const text = 'server.1=a:1:2:participant;0.0.0.0:2181\nserver.2=b:3:4|c:5:6:observer\nversion=1a0000000f';
  const c = parseConfigText(text);
  assert.equal(c.version, 0x1a0000000fn);
  assert.deepEqual(c.servers[0].clientAddress, { host: '0.0.0.0', port: 2181 });
  assert.equal(c.servers[1].addresses.length, 2);
  assert.equal(formatConfigText(c), text);
  assert.throws(() => parseConfigText('server.1=a:1:2\ngroup.1=1:2:3\nversion=0'), /hierarchical/);
  assert.throws(() => parseConfigText('server.1=a:1:2\nversion=xyz'), /not a hex number/);
  assert.throws(() => parseConfigText('server.1=a:1'), /server\.1/);
});

test('every captured stream split at every offset decodes to the same items', () => {
  for (const s of [streams[0], streams[2], streams.find((x) => x.bytes.length > 450)!]) {
    const whole = decodeAll(s);
    for (let cut = 0; cut <= s.bytes.length; cut++) {
      const dec = new ElectionStreamDecoder({ expectHeader: s.dialer });
      const got = [...dec.push(s.bytes.subarray(0, cut)), ...dec.push(s.bytes.subarray(cut))];
      assert.deepEqual(got, whole, `cut at ${cut}`);
    }
    // And one byte at a time.
    const dec = new ElectionStreamDecoder({ expectHeader: s.dialer });
    const got: StreamItem[] = [];
    for (let i = 0; i < s.bytes.length; i++) got.push(...dec.push(s.bytes.subarray(i, i + 1)));
    assert.deepEqual(got, whole);
  }
});

test('headers: a bare sid (pre-3.5), V2 with several addresses, wildcards dropped; bad ones refused', () => {
  const bare = Buffer.alloc(8);
  bare.writeBigInt64BE(7n);
  assert.deepEqual(decodeConnectionHeader(bare), { header: { protocolVersion: null, sid: 7n, addresses: [] }, bytes: 8 });

  const v2 = encodeConnectionHeader(5, [{ host: '10.0.0.1', port: 3888 }, { host: '::1', port: 3889 }], PROTOCOL_VERSION_V2);
  assert.equal(v2.toString('utf8', 20), '10.0.0.1:3888|[::1]:3889');
  assert.deepEqual(decodeConnectionHeader(v2)?.header.addresses, [{ host: '10.0.0.1', port: 3888 }, { host: '::1', port: 3889 }]);
  // V1 sends only the first address.
  assert.equal(encodeConnectionHeader(5, [{ host: 'a', port: 1 }, { host: 'b', port: 2 }]).toString('utf8', 20), 'a:1');

  const header = (version: bigint, addr: Buffer | string, len?: number): Buffer => {
    const a = typeof addr === 'string' ? Buffer.from(addr) : addr;
    const b = Buffer.alloc(20 + a.length);
    b.writeBigInt64BE(version, 0);
    b.writeBigInt64BE(2n, 8);
    b.writeInt32BE(len ?? a.length, 16);
    a.copy(b, 20);
    return b;
  };
  assert.deepEqual(decodeConnectionHeader(header(PROTOCOL_VERSION_V1, '0.0.0.0:3888'))?.header.addresses, []);
  assert.equal(decodeConnectionHeader(header(PROTOCOL_VERSION_V1, 'h:1').subarray(0, 22)), null, 'incomplete: wait');
  assert.equal(decodeConnectionHeader(header(PROTOCOL_VERSION_V1, `${'a'.repeat(2046)}:1`))?.bytes, 20 + 2048, 'the longest address');
  assert.throws(() => decodeConnectionHeader(header(-3n, 'h:1')), /unrecognized protocol version -3/);
  assert.throws(() => decodeConnectionHeader(header(PROTOCOL_VERSION_V1, '', 0)), /address length 0/);
  assert.throws(() => decodeConnectionHeader(header(PROTOCOL_VERSION_V1, '', 2049)), /address length 2049/);
  assert.throws(() => decodeConnectionHeader(header(PROTOCOL_VERSION_V1, 'nohost')), /badly formed address "nohost"/);
  assert.throws(() => decodeConnectionHeader(header(PROTOCOL_VERSION_V1, 'h:99999')), /badly formed/);
  assert.throws(() => decodeConnectionHeader(header(PROTOCOL_VERSION_V1, 'h:1:2')), /badly formed/);
});

test('frames: lengths 1..524288 pass; 0, negative and 524289 close the stream', () => {
  const big = Buffer.alloc(FRAME_BYTES_MAX, 1);
  assert.deepEqual(new ElectionStreamDecoder({ expectHeader: false }).push(encodeFrame(big)), [{ kind: 'frame', payload: big }]);
  assert.throws(() => encodeFrame(Buffer.alloc(0)), RangeError);
  assert.throws(() => encodeFrame(Buffer.alloc(FRAME_BYTES_MAX + 1)), RangeError);
  for (const len of [0, -1, FRAME_BYTES_MAX + 1]) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(len);
    const dec = new ElectionStreamDecoder({ expectHeader: false });
    assert.throws(() => dec.push(b), (e: unknown) => e instanceof ElectionDecodeError && e.message.includes(`frame length ${len}`));
    assert.throws(() => dec.push(encodeFrame(Buffer.from('x'))), ElectionDecodeError, 'a failed stream stays failed');
  }
});

test('notifications: the 28- and 40-byte forms, version 1, malformed lengths and states', () => {
  const full = encodeNotification({ state: 'FOLLOWING', leader: 3n, zxid: 0x200000005n, electionEpoch: 4n, peerEpoch: 2n, config: 'x' });
  // 28 bytes: no peerEpoch; it is the zxid's epoch.
  assert.deepEqual(decodeNotification(full.subarray(0, 28)), { state: 'FOLLOWING', leader: 3n, zxid: 0x200000005n, electionEpoch: 4n, peerEpoch: 2n, version: 0, config: null });
  // 40 bytes: buildMsg's old form ends in version 1, which the reader does not look at.
  const forty = Buffer.from(full.subarray(0, 40));
  forty.writeInt32BE(1, 36);
  assert.deepEqual(decodeNotification(forty), { state: 'FOLLOWING', leader: 3n, zxid: 0x200000005n, electionEpoch: 4n, peerEpoch: 2n, version: 0, config: null });
  // Longer with version 1: no config.
  const v1 = Buffer.concat([forty, Buffer.alloc(4)]);
  assert.equal(decodeNotification(v1).config, null);
  assert.equal(decodeNotification(v1).version, 1);
  assert.equal(decodeNotification(full).config, 'x');
  assert.throws(() => decodeNotification(full.subarray(0, 27)), /short notification: 27/);
  assert.throws(() => decodeNotification(full.subarray(0, 36)), /malformed notification: 36/);
  assert.throws(() => decodeNotification(full.subarray(0, 42)), /no config length/);
  assert.throws(() => decodeNotification(full.subarray(0, 44)), /config length 1 with 0 bytes left/);
  const neg = Buffer.from(full);
  neg.writeInt32BE(-1, 40);
  assert.throws(() => decodeNotification(neg), /config length -1/);
  const bad = Buffer.from(full);
  bad.writeInt32BE(4, 0);
  assert.throws(() => decodeNotification(bad), /unknown state 4/);
});

test('properties: notifications and headers round-trip; random bytes fail only with ElectionDecodeError', () => {
  const long = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
  fc.assert(
    fc.property(fc.constantFrom('LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING' as const), long, long, long, long, fc.string(), (state, leader, zxid, electionEpoch, peerEpoch, config) => {
      const n = { state, leader, zxid, electionEpoch, peerEpoch, version: 2, config };
      assert.deepEqual(decodeNotification(encodeNotification(n)), n);
    }),
  );
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), fc.array(fc.record({ host: fc.constantFrom('10.0.0.1', 'zk-1.example', '::1'), port: fc.integer({ min: 0, max: 65535 }) }), { minLength: 1, maxLength: 5 }), (sid, addresses) => {
      const h = decodeConnectionHeader(encodeConnectionHeader(sid, addresses, PROTOCOL_VERSION_V2));
      assert.deepEqual(h?.header, { protocolVersion: PROTOCOL_VERSION_V2, sid, addresses: addresses.map((a) => ({ ...a })) });
    }),
  );
  fc.assert(
    fc.property(fc.boolean(), fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 200 }), (expectHeader, bytes, cut) => {
      const b = Buffer.from(bytes);
      const dec = new ElectionStreamDecoder({ expectHeader });
      try {
        for (const it of [...dec.push(b.subarray(0, cut)), ...dec.push(b.subarray(cut))]) if (it.kind === 'frame') decodeNotification(it.payload);
      } catch (e) {
        if (!(e instanceof ElectionDecodeError)) throw e;
      }
      try {
        decodeNotification(b);
      } catch (e) {
        if (!(e instanceof ElectionDecodeError)) throw e;
      }
    }),
  );
});
