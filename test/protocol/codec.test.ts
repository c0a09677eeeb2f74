// codec.test.ts — property and edge tests of the wire codecs:
//   * every request record: client-codec encodes → requests.ts decodes → equal;
//   * every response record: responses.ts encodes → client-codec decodes → equal;
//   * FrameParser: every captured stream split at every offset, in 1-byte chunks and at random
//     cut points yields the same frames; bad lengths throw FrameError;
//   * truncated records and absurd lengths/counts throw JuteDecodeError before allocating;
//   * strings are written as Java's BinaryOutputArchive writes them (CESU-8).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type ConnectResponse,
  type OpResult,
  type Response,
  decodeConnectResponse,
  decodeReply,
  decodeResponse,
  encodeConnectRequest,
  encodeRawRequest,
  encodeRequest,
} from '../../src/protocol/client-codec.js';
import { FrameError, FrameParser } from '../../src/protocol/frame.js';
import { JuteDecodeError, JuteReader, JuteWriter, juteStringBytes } from '../../src/protocol/jute.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import type { ACL, Stat } from '../../src/protocol/records.js';
import { type ConnectRequest, type Request, decodeConnectRequest, decodeRequest } from '../../src/protocol/requests.js';
import { writeConnectResponse, writeNotification, writeReply, writeReplyHeaderOnly } from '../../src/protocol/responses.js';
import { loadFixtures, toResponseBody } from './golden-helpers.js';

const RUNS = { numRuns: 300 };

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** BMP text without surrogates: what survives a jute round trip unchanged. */
const text = fc
  .array(fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0xffff })), { maxLength: 24 })
  .map((cs) => String.fromCharCode(...cs));
const path = fc.array(fc.stringMatching(/^[a-z0-9._-]{1,8}$/), { minLength: 0, maxLength: 4 }).map((p) => '/' + p.join('/'));
const int = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const long = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const bytes = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
const nullableBytes = fc.option(bytes, { nil: null });
const strings = fc.array(text, { maxLength: 6 });
const acl: fc.Arbitrary<ACL> = fc.record({ perms: int, id: fc.record({ scheme: text, id: text }) });
const aclList = fc.array(acl, { maxLength: 4 });
const stat: fc.Arbitrary<Stat> = fc.record({
  czxid: long,
  mzxid: long,
  ctime: long,
  mtime: long,
  version: int,
  cversion: int,
  aversion: int,
  ephemeralOwner: long,
  dataLength: int,
  numChildren: int,
  pzxid: long,
});

const createOp = (type: 1 | 15 | 19 | 21): fc.Arbitrary<Request> =>
  fc.record({
    type: fc.constant(type),
    path,
    data: nullableBytes,
    acl: fc.option(aclList, { nil: null }),
    flags: int,
    ttl: type === OpCode.createTTL ? long : fc.constant(-1n),
  }) as fc.Arbitrary<Request>;

const writeOps: fc.Arbitrary<Request> = fc.oneof(
  createOp(OpCode.create),
  createOp(OpCode.create2),
  createOp(OpCode.createContainer),
  createOp(OpCode.createTTL),
  fc.record({ type: fc.constant(OpCode.delete), path, version: int }),
  fc.record({ type: fc.constant(OpCode.setData), path, data: nullableBytes, version: int }),
  fc.record({ type: fc.constant(OpCode.check), path, version: int }),
);
const readOps: fc.Arbitrary<Request> = fc.record({
  type: fc.constantFrom(OpCode.getChildren, OpCode.getData),
  path,
  watch: fc.boolean(),
}) as fc.Arbitrary<Request>;

const setWatches = (type: 101 | 105): fc.Arbitrary<Request> =>
  fc.record({
    type: fc.constant(type),
    relativeZxid: long,
    dataWatches: strings,
    existWatches: strings,
    childWatches: strings,
    persistentWatches: type === OpCode.setWatches2 ? strings : fc.constant([]),
    persistentRecursiveWatches: type === OpCode.setWatches2 ? strings : fc.constant([]),
  }) as fc.Arbitrary<Request>;

/** One arbitrary per request record the server decodes. */
const requests: Record<string, fc.Arbitrary<Request>> = {
  create: createOp(OpCode.create),
  create2: createOp(OpCode.create2),
  createContainer: createOp(OpCode.createContainer),
  createTTL: createOp(OpCode.createTTL),
  delete: fc.record({ type: fc.constant(OpCode.delete), path, version: int }),
  exists: fc.record({ type: fc.constantFrom(OpCode.exists), path, watch: fc.boolean() }) as fc.Arbitrary<Request>,
  getData: fc.record({ type: fc.constantFrom(OpCode.getData), path, watch: fc.boolean() }) as fc.Arbitrary<Request>,
  getChildren: fc.record({ type: fc.constantFrom(OpCode.getChildren), path, watch: fc.boolean() }) as fc.Arbitrary<Request>,
  getChildren2: fc.record({ type: fc.constantFrom(OpCode.getChildren2), path, watch: fc.boolean() }) as fc.Arbitrary<Request>,
  setData: fc.record({ type: fc.constant(OpCode.setData), path, data: nullableBytes, version: int }),
  getACL: fc.record({ type: fc.constant(OpCode.getACL), path }),
  setACL: fc.record({ type: fc.constant(OpCode.setACL), path, acl: fc.option(aclList, { nil: null }), version: int }),
  sync: fc.record({ type: fc.constant(OpCode.sync), path }),
  check: fc.record({ type: fc.constant(OpCode.check), path, version: int }),
  multi: fc.record({ type: fc.constant(OpCode.multi), ops: fc.array(writeOps, { maxLength: 5 }) }),
  multiRead: fc.record({ type: fc.constant(OpCode.multiRead), ops: fc.array(readOps, { maxLength: 5 }) }),
  reconfig: fc.record({
    type: fc.constant(OpCode.reconfig),
    joiningServers: fc.option(text, { nil: null }),
    leavingServers: fc.option(text, { nil: null }),
    newMembers: fc.option(text, { nil: null }),
    curConfigId: long,
  }),
  checkWatches: fc.record({ type: fc.constant(OpCode.checkWatches), path, watcherType: int }) as fc.Arbitrary<Request>,
  removeWatches: fc.record({ type: fc.constant(OpCode.removeWatches), path, watcherType: int }) as fc.Arbitrary<Request>,
  auth: fc.record({ type: fc.constant(OpCode.auth), authType: int, scheme: text, auth: bytes }),
  setWatches: setWatches(OpCode.setWatches),
  setWatches2: setWatches(OpCode.setWatches2),
  sasl: fc.record({ type: fc.constant(OpCode.sasl), token: bytes }),
  getEphemerals: fc.record({ type: fc.constant(OpCode.getEphemerals), prefixPath: text }),
  getAllChildrenNumber: fc.record({ type: fc.constant(OpCode.getAllChildrenNumber), path }),
  addWatch: fc.record({ type: fc.constant(OpCode.addWatch), path, mode: int }),
  ping: fc.constant({ type: OpCode.ping }),
  closeSession: fc.constant({ type: OpCode.closeSession }),
  whoAmI: fc.constant({ type: OpCode.whoAmI }),
};

const opResult: fc.Arbitrary<OpResult> = fc.oneof(
  fc.record({ type: fc.constant(OpCode.create), path: text }),
  fc.record({ type: fc.constant(OpCode.create2), path: text, stat }),
  fc.record({ type: fc.constantFrom(OpCode.delete, OpCode.check) }),
  fc.record({ type: fc.constant(OpCode.setData), stat }),
  fc.record({ type: fc.constant(OpCode.getChildren), children: strings }),
  fc.record({ type: fc.constant(OpCode.getData), data: nullableBytes, stat }),
  fc.record({ type: fc.constant(OpCode.error), err: int }),
) as fc.Arbitrary<OpResult>;

/** One arbitrary per response record a client decodes. */
const responses: Record<string, fc.Arbitrary<Response>> = {
  create: fc.record({ type: fc.constant(OpCode.create), path: text }),
  create2: fc.record({ type: fc.constantFrom(OpCode.create2, OpCode.createContainer, OpCode.createTTL), path: text, stat }),
  stat: fc.record({ type: fc.constantFrom(OpCode.exists, OpCode.setData, OpCode.setACL, OpCode.check), stat }),
  getData: fc.record({ type: fc.constantFrom(OpCode.getData, OpCode.reconfig), data: nullableBytes, stat }),
  getACL: fc.record({ type: fc.constant(OpCode.getACL), acl: aclList, stat }),
  getChildren: fc.record({ type: fc.constant(OpCode.getChildren), children: strings }),
  getChildren2: fc.record({ type: fc.constant(OpCode.getChildren2), children: strings, stat }),
  sync: fc.record({ type: fc.constant(OpCode.sync), path: text }),
  getAllChildrenNumber: fc.record({ type: fc.constant(OpCode.getAllChildrenNumber), totalNumber: int }),
  getEphemerals: fc.record({ type: fc.constant(OpCode.getEphemerals), ephemerals: strings }),
  whoAmI: fc.record({ type: fc.constant(OpCode.whoAmI), clientInfo: fc.array(fc.record({ authScheme: text, user: text }), { maxLength: 4 }) }),
  sasl: fc.record({ type: fc.constant(OpCode.sasl), token: nullableBytes }),
  addWatch: fc.record({ type: fc.constant(OpCode.addWatch), err: int }),
  multi: fc.record({ type: fc.constantFrom(OpCode.multi, OpCode.multiRead), results: fc.array(opResult, { maxLength: 6 }) }),
  empty: fc.record({
    type: fc.constantFrom(
      OpCode.delete,
      OpCode.ping,
      OpCode.auth,
      OpCode.setWatches,
      OpCode.setWatches2,
      OpCode.checkWatches,
      OpCode.removeWatches,
      OpCode.closeSession,
    ),
  }),
} as Record<string, fc.Arbitrary<Response>>;

// ---------------------------------------------------------------------------------------------
// Helpers

/** Splits one frame off `buf`, checking its length prefix. */
function frameBody(buf: Buffer): Buffer {
  assert.equal(buf.readInt32BE(0), buf.length - 4, 'length prefix');
  return buf.subarray(4);
}

function decodeRequestFrame(frame: Buffer): { xid: number; req: unknown; left: number } {
  const r = new JuteReader(frameBody(frame));
  const xid = r.int();
  const type = r.int();
  const req = decodeRequest(type, r);
  return { xid, req, left: r.remaining };
}

function encodeResponse(xid: number, zxid: bigint, res: Response): Buffer {
  const w = new JuteWriter(64);
  writeReply(w, xid, zxid, 0, toResponseBody(res));
  return w.toBuffer();
}

/** fast-check builds records without a prototype; compare as plain data. */
function plain<T>(v: T): T {
  if (Array.isArray(v)) return v.map(plain) as T;
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) as T;
}

function throwsDecode(fn: () => unknown, what: string): void {
  assert.throws(fn, JuteDecodeError, what);
}

// ---------------------------------------------------------------------------------------------

describe('request records: client-codec → requests.ts', () => {
  for (const [name, arb] of Object.entries(requests)) {
    test(name, () => {
      fc.assert(
        fc.property(int, arb, (xid, req) => {
          const { xid: gotXid, req: got, left } = decodeRequestFrame(encodeRequest(xid, req));
          assert.equal(gotXid, xid);
          assert.equal(left, 0);
          assert.deepEqual(got, plain(req));
        }),
        RUNS,
      );
    });
  }

  test('every opcode requests.ts knows has an arbitrary here', () => {
    const covered = new Set(Object.keys(requests));
    for (const name of Object.keys(OpCode)) {
      if (['notification', 'error', 'createSession', 'deleteContainer'].includes(name)) continue;
      assert.ok(covered.has(name), `no round trip for ${name}`);
    }
  });

  test('ConnectRequest, with and without the readOnly byte', () => {
    const connect: fc.Arbitrary<ConnectRequest> = fc.record({
      protocolVersion: int,
      lastZxidSeen: long,
      timeOut: int,
      sessionId: long,
      passwd: bytes,
      readOnly: fc.boolean(),
    });
    fc.assert(
      fc.property(connect, fc.boolean(), (req, withReadOnly) => {
        const frame = encodeConnectRequest(req, { withReadOnly });
        const r = new JuteReader(frameBody(frame));
        const got = decodeConnectRequest(r);
        assert.equal(r.remaining, 0);
        assert.deepEqual(got, plain(withReadOnly ? req : { ...req, readOnly: false }));
      }),
      RUNS,
    );
  });

  test('the RequestHeader comes first: xid then type', () => {
    const frame = encodeRequest(7, { type: OpCode.sync, path: '/a' });
    assert.equal(frame.toString('hex'), '0000000e' + '00000007' + '00000009' + '00000002' + '2f61');
  });

  test('raw requests carry any opcode and body', () => {
    const frame = encodeRawRequest(3, 999, Buffer.from('beef', 'hex'));
    assert.equal(frame.toString('hex'), '0000000a' + '00000003' + '000003e7' + 'beef');
    const { req } = decodeRequestFrame(frame);
    assert.deepEqual(req, { type: 999, unknown: true });
  });

  test('a multi op of a type not allowed in multi is refused', () => {
    const w = new JuteWriter();
    w.int(1).int(OpCode.multi);
    w.int(OpCode.sync).bool(false).int(-1).string('/a');
    w.int(-1).bool(true).int(-1);
    const r = new JuteReader(w.toBuffer(), 8);
    throwsDecode(() => decodeRequest(OpCode.multi, r), 'sync inside multi');
  });
});

describe('response records: responses.ts → client-codec', () => {
  for (const [name, arb] of Object.entries(responses)) {
    test(name, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0x7fffffff }), long, arb, (xid, zxid, res) => {
          const reply = decodeReply(frameBody(encodeResponse(xid, zxid, res)), (x) => (x === xid ? res.type : undefined));
          assert.deepEqual(reply, { kind: 'response', header: { xid, zxid, err: 0 }, type: res.type, body: plain(res) });
        }),
        RUNS,
      );
    });
  }

  test('a reply with an error carries no body', () => {
    const w = new JuteWriter();
    writeReplyHeaderOnly(w, 5, 9n, -101);
    const reply = decodeReply(frameBody(w.toBuffer()), () => OpCode.getData);
    assert.deepEqual(reply, { kind: 'response', header: { xid: 5, zxid: 9n, err: -101 }, type: OpCode.getData, body: null });
  });

  test('special xids need no pending request', () => {
    for (const [xid, type] of [[-2, OpCode.ping], [-4, OpCode.auth], [-8, OpCode.setWatches]] as const) {
      const w = new JuteWriter();
      writeReplyHeaderOnly(w, xid, 1n, 0);
      const reply = decodeReply(frameBody(w.toBuffer()), () => undefined);
      assert.equal(reply.kind === 'response' && reply.type, type);
    }
    const w = new JuteWriter();
    writeReplyHeaderOnly(w, 12, 1n, 0);
    throwsDecode(() => decodeReply(frameBody(w.toBuffer()), () => undefined), 'reply nobody waits for');
  });

  test('WatcherEvent notifications', () => {
    fc.assert(
      fc.property(long, int, int, text, (zxid, type, state, p) => {
        const w = new JuteWriter();
        writeNotification(w, zxid, type, p, state);
        const reply = decodeReply(frameBody(w.toBuffer()), () => undefined);
        assert.deepEqual(reply, { kind: 'notification', header: { xid: -1, zxid, err: 0 }, event: { type, state, path: p } });
      }),
      RUNS,
    );
  });

  test('ConnectResponse', () => {
    const arb: fc.Arbitrary<ConnectResponse> = fc.record({
      protocolVersion: int,
      timeOut: int,
      sessionId: long,
      passwd: bytes,
      readOnly: fc.boolean(),
    });
    fc.assert(
      fc.property(arb, (res) => {
        const w = new JuteWriter();
        writeConnectResponse(w, { ...res, readOnly: res.readOnly! });
        const r = new JuteReader(frameBody(w.toBuffer()));
        assert.deepEqual(decodeConnectResponse(r), plain(res));
        assert.equal(r.remaining, 0);
      }),
      RUNS,
    );
  });

  test('a ConnectResponse without readOnly (pre-3.4 servers) decodes with readOnly null', () => {
    const w = new JuteWriter();
    w.int(0).int(4000).long(5n).buffer(Buffer.alloc(16, 1));
    assert.equal(decodeConnectResponse(new JuteReader(w.toBuffer())).readOnly, null);
  });

  test('an opcode without a response record is refused', () => {
    throwsDecode(() => decodeResponse(999, new JuteReader(Buffer.alloc(0))), 'opcode 999');
  });

  test('a multi error result whose header and body disagree is refused', () => {
    const w = new JuteWriter();
    w.int(OpCode.error).bool(false).int(-101).int(-102);
    w.int(-1).bool(true).int(-1);
    throwsDecode(() => decodeResponse(OpCode.multi, new JuteReader(w.toBuffer())), 'err mismatch');
  });
});

// ---------------------------------------------------------------------------------------------

describe('FrameParser on captured streams', () => {
  const fixtures = loadFixtures();
  const streams: Array<{ name: string; stream: Buffer; frames: Buffer[] }> = [];
  for (const fx of fixtures) {
    for (const conn of new Set(fx.frames.map((f) => f.conn))) {
      for (const dir of ['c2s', 's2c'] as const) {
        const frames = fx.frames.filter((f) => f.conn === conn && f.direction === dir).map((f) => Buffer.from(f.hex, 'hex'));
        if (frames.length > 0) streams.push({ name: `${fx.name} ${conn} ${dir}`, stream: Buffer.concat(frames), frames });
      }
    }
  }

  const parse = (chunks: Buffer[]): string[] => {
    const p = new FrameParser();
    const out: string[] = [];
    for (const c of chunks) p.push(c, (f) => out.push(Buffer.from(f).toString('hex')));
    assert.ok(p.idle, 'no partial frame left');
    return out;
  };
  const bodies = (frames: Buffer[]): string[] => frames.map((f) => f.subarray(4).toString('hex'));

  test('there are captured streams', () => assert.ok(streams.length >= 20));

  test('whole stream in one chunk', () => {
    for (const s of streams) assert.deepEqual(parse([s.stream]), bodies(s.frames), s.name);
  });

  test('every frame split at every offset (two chunks)', () => {
    for (const s of streams) {
      const want = bodies(s.frames);
      for (let cut = 1; cut < s.stream.length; cut++) {
        assert.deepEqual(parse([s.stream.subarray(0, cut), s.stream.subarray(cut)]), want, `${s.name} cut at ${cut}`);
      }
    }
  });

  test('1-byte chunks', () => {
    for (const s of streams) {
      const chunks = Array.from({ length: s.stream.length }, (_, i) => s.stream.subarray(i, i + 1));
      assert.deepEqual(parse(chunks), bodies(s.frames), s.name);
    }
  });

  test('random chunkings', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: streams.length - 1 }), fc.array(fc.nat(), { maxLength: 30 }), (i, cutsRaw) => {
        const s = streams[i]!;
        const cuts = [...new Set(cutsRaw.map((c) => c % (s.stream.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let at = 0;
        for (const c of [...cuts, s.stream.length]) {
          chunks.push(s.stream.subarray(at, c));
          at = c;
        }
        assert.deepEqual(parse(chunks), bodies(s.frames));
      }),
      RUNS,
    );
  });

  test('a frame that does not fit one chunk is not a view of a reused chunk', () => {
    const s = streams.find((x) => x.frames.length > 2)!;
    const p = new FrameParser();
    const got: Buffer[] = [];
    const chunk = Buffer.from(s.stream);
    p.push(chunk.subarray(0, 3), (f) => got.push(f));
    p.push(chunk.subarray(3), (f) => got.push(Buffer.from(f)));
    assert.deepEqual(got.map((f) => f.toString('hex')), bodies(s.frames));
  });
});

describe('FrameParser lengths', () => {
  const header = (len: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(len, 0);
    return b;
  };

  for (const len of [-1, -2, -0x80000000, 0xfffff + 1, 0x7fffffff]) {
    test(`length ${len} throws FrameError, whole or split`, () => {
      assert.throws(() => new FrameParser().push(header(len), () => assert.fail('no frame')), FrameError);
      const p = new FrameParser();
      p.push(header(len).subarray(0, 2), () => assert.fail('no frame'));
      assert.throws(() => p.push(header(len).subarray(2), () => assert.fail('no frame')), FrameError);
    });
  }

  test('the limit is configurable and inclusive', () => {
    const p = new FrameParser(8);
    const got: Buffer[] = [];
    p.push(Buffer.concat([header(8), Buffer.alloc(8, 7)]), (f) => got.push(f));
    assert.equal(got.length, 1);
    assert.throws(() => p.push(header(9), () => undefined), FrameError);
  });

  test('an empty frame is a frame', () => {
    const got: Buffer[] = [];
    new FrameParser().push(header(0), (f) => got.push(f));
    assert.deepEqual(got, [Buffer.alloc(0)]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('truncated and hostile records', () => {
  const fixtures = loadFixtures();

  test('every captured request, cut short anywhere, throws JuteDecodeError', () => {
    for (const fx of fixtures) {
      const seen = new Set<number>();
      for (const f of fx.frames) {
        if (f.direction !== 'c2s') continue;
        const body = Buffer.from(f.hex, 'hex').subarray(4);
        const isConnect = !seen.has(f.conn);
        seen.add(f.conn);
        for (let n = 0; n < body.length; n++) {
          const r = new JuteReader(body, 0, n);
          if (isConnect) {
            // The trailing readOnly byte is optional: a request cut just before it is whole.
            if (n === body.length - 1) continue;
            throwsDecode(() => decodeConnectRequest(r), `${fx.name} connect cut at ${n}`);
          } else {
            throwsDecode(() => (r.int(), decodeRequest(r.int(), r)), `${fx.name} request ${f.hex} cut at ${n}`);
          }
        }
      }
    }
  });

  test('every captured reply, cut short anywhere, throws JuteDecodeError', () => {
    for (const fx of fixtures) {
      const types = new Map<string, number>();
      const seen = new Set<string>();
      for (const f of fx.frames) {
        const body = Buffer.from(f.hex, 'hex').subarray(4);
        const key = `${f.conn} ${f.direction}`;
        const first = !seen.has(key);
        seen.add(key);
        if (f.direction === 'c2s') {
          if (!first) types.set(`${f.conn} ${body.readInt32BE(0)}`, body.readInt32BE(4));
          continue;
        }
        const typeOf = (xid: number): number | undefined => types.get(`${f.conn} ${xid}`);
        for (let n = 0; n < body.length; n++) {
          const cut = body.subarray(0, n);
          if (first) {
            if (n === body.length - 1) continue; // readOnly is optional here too
            throwsDecode(() => decodeConnectResponse(new JuteReader(cut)), `${fx.name} connect response cut at ${n}`);
          } else if (n < 16 || body.readInt32BE(12) === 0) {
            // Replies with an error code end after the header: only cuts into the header count.
            throwsDecode(() => decodeReply(cut, typeOf), `${fx.name} reply ${f.hex} cut at ${n}`);
          }
        }
      }
    }
  });

  const hostile: Array<[string, () => unknown]> = [];
  const count = (prefix: (w: JuteWriter) => void, n: number): JuteReader => {
    const w = new JuteWriter();
    prefix(w);
    w.int(n).int(0).int(0);
    return new JuteReader(w.toBuffer());
  };
  for (const n of [0x7fffffff, 0x10000000, 13, -2, -0x80000000]) {
    hostile.push(
      [`getChildren count ${n}`, () => decodeResponse(OpCode.getChildren, count(() => undefined, n))],
      [`getEphemerals count ${n}`, () => decodeResponse(OpCode.getEphemerals, count(() => undefined, n))],
      [`whoAmI count ${n}`, () => decodeResponse(OpCode.whoAmI, count(() => undefined, n))],
      [`getACL count ${n}`, () => decodeResponse(OpCode.getACL, count(() => undefined, n))],
      [`setACL request count ${n}`, () => decodeRequest(OpCode.setACL, count((w) => w.string('/a'), n))],
      [`create request ACL count ${n}`, () => decodeRequest(OpCode.create, count((w) => w.string('/a').buffer(null), n))],
      [`setWatches count ${n}`, () => decodeRequest(OpCode.setWatches, count((w) => w.long(0n), n))],
      [`getData buffer length ${n}`, () => decodeResponse(OpCode.getData, count(() => undefined, n))],
      [`create path length ${n}`, () => decodeResponse(OpCode.create, count(() => undefined, n))],
      [`auth buffer length ${n}`, () => decodeRequest(OpCode.auth, count((w) => w.int(0).string('digest'), n))],
      [`connect passwd length ${n}`, () => decodeConnectResponse(count((w) => w.int(0).int(0).long(0n), n))],
    );
  }

  test('lengths and counts larger than the bytes left (or negative) throw at once, allocating nothing', () => {
    for (const [name, fn] of hostile) {
      if (name.includes(' 13')) {
        // 13 is small enough to be honest about: it still runs out of bytes.
        throwsDecode(fn, name);
        continue;
      }
      const before = process.memoryUsage().arrayBuffers;
      const t0 = performance.now();
      throwsDecode(fn, name);
      const ms = performance.now() - t0;
      assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20, `${name} allocated`);
      assert.ok(ms < 50, `${name} took ${ms} ms`);
    }
  });

  test('a multi response without its done header throws', () => {
    const w = new JuteWriter();
    w.int(OpCode.delete).bool(false).int(0);
    throwsDecode(() => decodeResponse(OpCode.multi, new JuteReader(w.toBuffer())), 'no done header');
    throwsDecode(() => decodeRequest(OpCode.multi, new JuteReader(w.toBuffer())), 'no done header (request)');
  });

  test('random bytes never throw anything but JuteDecodeError', () => {
    const types = [...Object.values(OpCode)];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 80 }), (type, raw) => {
        const b = Buffer.from(raw);
        for (const fn of [() => decodeRequest(type, new JuteReader(b)), () => decodeResponse(type, new JuteReader(b))]) {
          try {
            fn();
          } catch (e) {
            assert.ok(e instanceof JuteDecodeError, String(e));
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

/** BinaryOutputArchive.stringToByteBuffer, transcribed: each UTF-16 code unit on its own. */
function javaStringBytes(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Buffer.from(out);
}

describe('strings as Java writes them', () => {
  const anyUnits = fc
    .array(fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd800, max: 0xdfff })), { maxLength: 40 })
    .map((cs) => String.fromCharCode(...cs));
  const withAstral = fc.array(fc.oneof(fc.integer({ min: 0, max: 0xd7ff }), fc.integer({ min: 0x10000, max: 0x10ffff })), { maxLength: 20 })
    .map((cps) => String.fromCodePoint(...cps));

  test('JuteWriter.string matches BinaryOutputArchive for any UTF-16 (lone surrogates too)', () => {
    fc.assert(
      fc.property(fc.oneof(anyUnits, withAstral), (s) => {
        const w = new JuteWriter(4);
        w.string(s);
        const expected = javaStringBytes(s);
        const got = w.toBuffer();
        assert.equal(got.readInt32BE(0), expected.length);
        assert.equal(got.subarray(4).toString('hex'), expected.toString('hex'));
        assert.equal(juteStringBytes(s), expected.length);
      }),
      { numRuns: 1000 },
    );
  });

  test('U+1F600 is two 3-byte sequences (as captured from the Java client in golden/java-cesu8)', () => {
    const w = new JuteWriter();
    w.string('\u{1F600}');
    assert.equal(w.toBuffer().toString('hex'), '00000006eda0bdedb880');
  });

  test('BMP strings read back unchanged', () => {
    fc.assert(
      fc.property(text, (s) => {
        const w = new JuteWriter();
        w.string(s);
        assert.equal(new JuteReader(w.toBuffer()).string(), s);
      }),
      RUNS,
    );
  });

  test('null strings are length -1 and read back as null', () => {
    const w = new JuteWriter();
    w.string(null);
    assert.equal(w.toBuffer().toString('hex'), 'ffffffff');
    assert.equal(new JuteReader(w.toBuffer()).string(), null);
  });
});
