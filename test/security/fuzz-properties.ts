// fuzz-properties.ts — what the decoder fuzzers check, and the inputs they try. Shared by the short
// run in `npm test` (fuzz-decoders.test.ts) and the long one (scripts/fuzz.ts); both run these
// properties in a worker under a watchdog (fuzz-runner.ts) so that a hang is reported with the
// input that caused it instead of hanging the run.
//
// Inputs: a golden frame (fuzz-corpus.ts) with 1–6 mutations (bit flips, byte writes, truncation,
// a length field set to a hostile value, int32 writes anywhere, inserts, deletes, duplications,
// splices from another frame), its length prefix optionally fixed up; or arbitrary bytes, bare or
// behind a valid request header.
//
// Properties:
//   decoders — every decoder of requests.ts and client-codec.ts (and the records.ts readers they
//     share), given the frame's body and every opcode, returns or throws JuteDecodeError; what it
//     returns never holds more strings, elements or bytes than the body has bytes.
//   frames — FrameParser, fed a stream of such frames cut into random chunks, hands out exactly the
//     frames a reference splitter finds, and throws FrameError exactly where a length is out of
//     bounds, and nothing else.
//   sasl — the server's DIGEST-MD5 (src/server/auth/sasl-digest-md5.ts), given a mutated valid
//     digest-response after its challenge, never throws, and completes only as a known user.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import {
  decodeConnectResponse,
  decodeReply,
  decodeReplyHeader,
  decodeResponse,
  decodeWatcherEvent,
} from '../../src/protocol/client-codec.js';
import { FrameError, FrameParser } from '../../src/protocol/frame.js';
import { JuteDecodeError, JuteReader } from '../../src/protocol/jute.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { readAclList, readId, readStat } from '../../src/protocol/records.js';
import { decodeConnectRequest, decodeRequest } from '../../src/protocol/requests.js';
import { DigestMd5Server, parseDirectives, responseValue } from '../../src/server/auth/sasl-digest-md5.js';
import { type Corpus, lengthFields, loadCorpus } from './fuzz-corpus.js';

// ---------------------------------------------------------------------------------------------
// Inputs

/** Positions are taken modulo the current length, so any nat is valid and shrinks toward 0. */
export type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'byte'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'length'; field: number; value: IntValue }
  | { op: 'int'; at: number; value: IntValue }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'delete'; at: number; len: number }
  | { op: 'duplicate'; at: number; len: number }
  | { op: 'splice'; at: number; other: number; from: number; len: number };

/** An int32 to write: a constant, or "the bytes left after this field" plus a small delta. */
export type IntValue = { k: number } | { left: number };

export type FrameSpec =
  | { seed: number; mutations: Mutation[]; fixPrefix: boolean }
  | { header: { xid: number; type: number }; body: number[] }
  | { raw: number[] };

export interface DecoderInput {
  frame: FrameSpec;
  /** The opcode a reply is decoded for; by default the seed's. */
  hint: number | null;
}

export interface FrameStreamInput {
  frames: FrameSpec[];
  /** Chunk boundaries, as fractions of the stream length in 1/1000. */
  cuts: number[];
  maxFrameBytes: number;
}

const HOSTILE_INTS = [
  -1, -2, 0, 1, 2, 3, 4, 8, 9, 12, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0xfffff, 0x100000, 0x1000000,
  0x10000000, 0x20000000, 0x3fffffff, 0x40000000, 0x7ffffff0, 0x7fffffff, -0x80000000, -0x7fffffff,
];

const intValue: fc.Arbitrary<IntValue> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_INTS).map((k) => ({ k })) },
  { weight: 2, arbitrary: fc.integer({ min: -3, max: 3 }).map((left) => ({ left })) },
  { weight: 1, arbitrary: fc.integer().map((k) => ({ k })) },
);

export function mutation(seedCount: number): fc.Arbitrary<Mutation> {
  const at = fc.nat(4096);
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('byte' as const), at, value: fc.constantFrom(0, 0x7f, 0x80, 0xff, 0xc0, 0xed, 0xfe) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('length' as const), field: fc.nat(255), value: intValue }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('int' as const), at, value: intValue }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at, bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 12 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at, len: fc.integer({ min: 1, max: 16 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at, len: fc.integer({ min: 1, max: 32 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('splice' as const), at, other: fc.nat(seedCount - 1), from: fc.nat(4096), len: fc.integer({ min: 1, max: 64 }) }) },
  );
}

const ALL_OPCODES: readonly number[] = [...new Set(Object.values(OpCode))];
const PROBE_OPCODES: readonly number[] = [...ALL_OPCODES, 10, 23, 99, 108, 999, -3, 0x7fffffff, -0x80000000];

export function frameSpec(corpus: Corpus = loadCorpus()): fc.Arbitrary<FrameSpec> {
  const n = corpus.seeds.length;
  return fc.oneof(
    {
      weight: 12,
      arbitrary: fc.record({
        seed: fc.nat(n - 1),
        mutations: fc.array(mutation(n), { minLength: 1, maxLength: 6 }),
        fixPrefix: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        header: fc.record({ xid: fc.oneof(fc.nat(100), fc.constantFrom(-1, -2, -4, -8)), type: fc.constantFrom(...PROBE_OPCODES) }),
        body: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 96 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ raw: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 128 }) }) },
  );
}

export function decoderInput(corpus: Corpus = loadCorpus()): fc.Arbitrary<DecoderInput> {
  return fc.record({
    frame: frameSpec(corpus),
    hint: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...ALL_OPCODES) }),
  });
}

export function frameStreamInput(corpus: Corpus = loadCorpus()): fc.Arbitrary<FrameStreamInput> {
  return fc.record({
    frames: fc.array(frameSpec(corpus), { minLength: 1, maxLength: 4 }),
    cuts: fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 8 }),
    maxFrameBytes: fc.constantFrom(0xfffff, 0xfffff, 64, 200, 0),
  });
}

/** The bytes a FrameSpec stands for (a whole frame, length prefix first, unless raw). */
export function materialize(spec: FrameSpec, corpus: Corpus = loadCorpus()): Buffer {
  if ('raw' in spec) return Buffer.from(spec.raw);
  if ('header' in spec) {
    const out = Buffer.alloc(12 + spec.body.length);
    out.writeInt32BE(8 + spec.body.length, 0);
    out.writeInt32BE(spec.header.xid, 4);
    out.writeInt32BE(spec.header.type, 8);
    out.set(spec.body, 12);
    return out;
  }
  const seed = corpus.seeds[spec.seed]!;
  return applyMutations(seed.frame, spec.mutations, spec.fixPrefix, corpus, seed.lengthFields);
}

/** `frame` with `mutations` applied in order; a 'length' mutation picks among `lengthFields`. */
export function applyMutations(
  frame: Buffer,
  mutations: readonly Mutation[],
  fixPrefix: boolean,
  corpus: Corpus = loadCorpus(),
  fields: number[] = lengthFields(frame),
): Buffer {
  let b: Buffer = Buffer.from(frame);
  for (const m of mutations) b = mutate(b, m, fields, corpus);
  if (fixPrefix && b.length >= 4) b.writeInt32BE(b.length - 4, 0);
  return b;
}

function mutate(b: Buffer, m: Mutation, lengthFields: number[], corpus: Corpus): Buffer {
  const n = b.length;
  const pos = (at: number): number => (n === 0 ? 0 : at % n);
  const writeInt = (at: number, v: IntValue): Buffer => {
    if (n < 4) return b;
    const p = at % (n - 3);
    const out = Buffer.from(b);
    out.writeInt32BE('k' in v ? v.k | 0 : (n - p - 4 + v.left) | 0, p);
    return out;
  };
  switch (m.op) {
    case 'flip': {
      if (n === 0) return b;
      const out = Buffer.from(b);
      out[pos(m.at)]! ^= 1 << m.bit;
      return out;
    }
    case 'byte': {
      if (n === 0) return b;
      const out = Buffer.from(b);
      out[pos(m.at)] = m.value;
      return out;
    }
    case 'truncate':
      return b.subarray(0, pos(m.at));
    case 'length':
      return lengthFields.length === 0 ? b : writeInt(lengthFields[m.field % lengthFields.length]!, m.value);
    case 'int':
      return writeInt(m.at, m.value);
    case 'insert': {
      const p = n === 0 ? 0 : m.at % (n + 1);
      return Buffer.concat([b.subarray(0, p), Buffer.from(m.bytes), b.subarray(p)]);
    }
    case 'delete': {
      const p = pos(m.at);
      return Buffer.concat([b.subarray(0, p), b.subarray(p + m.len)]);
    }
    case 'duplicate': {
      const p = pos(m.at);
      return Buffer.concat([b.subarray(0, p + m.len), b.subarray(p)]);
    }
    case 'splice': {
      const other = corpus.seeds[m.other % corpus.seeds.length]!.frame;
      const from = other.length === 0 ? 0 : m.from % other.length;
      const p = pos(m.at);
      return Buffer.concat([b.subarray(0, p), other.subarray(from, from + m.len), b.subarray(p + m.len)]);
    }
  }
}

/** The opcode a DecoderInput's replies are decoded for. */
export function hintOf(input: DecoderInput, corpus: Corpus = loadCorpus()): number {
  if (input.hint !== null) return input.hint;
  const f = input.frame;
  if ('seed' in f) return corpus.seeds[f.seed]!.opcode;
  if ('header' in f) return f.header.type;
  return OpCode.getData;
}

// ---------------------------------------------------------------------------------------------
// Properties

/** A decoder threw something other than JuteDecodeError/FrameError, or broke a bound. */
export class FuzzFinding extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'FuzzFinding';
  }
}

type Decoder = (body: Buffer, hint: number) => unknown;

/** Every decoder and record reader the server or the client applies to bytes off the network. */
export const DECODERS: ReadonlyArray<[string, Decoder]> = [
  ['decodeConnectRequest', (b) => decodeConnectRequest(new JuteReader(b))],
  // As the server reads a request: RequestHeader{xid, type}, then the body its type names.
  ['RequestHeader + decodeRequest', (b) => {
    const r = new JuteReader(b);
    r.int();
    return decodeRequest(r.int(), r);
  }],
  ...PROBE_OPCODES.map((op): [string, Decoder] => [`decodeRequest(${op})`, (b) => decodeRequest(op, new JuteReader(b))]),
  ['decodeConnectResponse', (b) => decodeConnectResponse(new JuteReader(b))],
  ['decodeReplyHeader', (b) => decodeReplyHeader(new JuteReader(b))],
  ['decodeWatcherEvent', (b) => decodeWatcherEvent(new JuteReader(b))],
  ['decodeReply(hint)', (b, hint) => decodeReply(b, () => hint)],
  ['decodeReply(no request)', (b) => decodeReply(b, () => undefined)],
  ...PROBE_OPCODES.map((op): [string, Decoder] => [`decodeResponse(${op})`, (b) => decodeResponse(op, new JuteReader(b))]),
  ['ReplyHeader + decodeResponse(hint)', (b, hint) => {
    const r = new JuteReader(b);
    decodeReplyHeader(r);
    return decodeResponse(hint, r);
  }],
  ['readStat', (b) => readStat(new JuteReader(b))],
  ['readAclList', (b) => readAclList(new JuteReader(b))],
  ['readId', (b) => readId(new JuteReader(b))],
];

/** Strings (UTF-16 units), buffers (bytes) and array elements in a decoded value. */
export function decodedSize(v: unknown): number {
  if (typeof v === 'string') return v.length;
  if (Buffer.isBuffer(v)) return v.length;
  if (Array.isArray(v)) return v.length + v.reduce((s: number, x) => s + decodedSize(x), 0);
  if (typeof v === 'object' && v !== null) return Object.values(v).reduce((s: number, x) => s + decodedSize(x), 0);
  return 0;
}

/** The decoders property for one frame: decode the body (the bytes after the length prefix). */
export function checkDecoders(frame: Buffer, hint: number): void {
  const body = frame.length >= 4 ? frame.subarray(4) : frame;
  for (const [name, decode] of DECODERS) {
    let out: unknown;
    try {
      out = decode(body, hint);
    } catch (e) {
      if (e instanceof JuteDecodeError) continue;
      throw new FuzzFinding(`${name} threw ${(e as Error)?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`, e);
    }
    const size = decodedSize(out);
    if (size > body.length) {
      throw new FuzzFinding(`${name} decoded ${size} strings/elements/bytes out of a ${body.length}-byte body`);
    }
  }
}

type Split = { frames: Buffer[]; error: boolean };

/** What a correct splitter makes of a stream: whole frames, then an error or a partial tail. */
export function referenceSplit(stream: Buffer, maxFrameBytes: number): Split {
  const frames: Buffer[] = [];
  let off = 0;
  while (stream.length - off >= 4) {
    const len = stream.readInt32BE(off);
    if (len < 0 || len > maxFrameBytes) return { frames, error: true };
    if (stream.length - off - 4 < len) break;
    frames.push(stream.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return { frames, error: false };
}

/** The frames property: any chunking of `stream` splits as the reference does. */
export function checkFrameParser(stream: Buffer, cuts: readonly number[], maxFrameBytes: number): void {
  const points = [...new Set(cuts.map((c) => Math.floor((c * stream.length) / 1000)))].sort((a, b) => a - b);
  const parser = new FrameParser(maxFrameBytes);
  const got: Buffer[] = [];
  let error = false;
  let prev = 0;
  try {
    for (const p of [...points, stream.length]) {
      if (p < prev) continue;
      parser.push(stream.subarray(prev, p), (f) => got.push(Buffer.from(f)));
      prev = p;
    }
  } catch (e) {
    if (!(e instanceof FrameError)) {
      throw new FuzzFinding(`FrameParser threw ${(e as Error)?.name}: ${(e as Error)?.message}`, e);
    }
    error = true;
  }
  const want = referenceSplit(stream, maxFrameBytes);
  if (error !== want.error) throw new FuzzFinding(`FrameParser ${error ? 'threw' : 'did not throw'} FrameError; the reference ${want.error ? 'does' : 'does not'}`);
  if (got.length !== want.frames.length) throw new FuzzFinding(`FrameParser handed out ${got.length} frames, the reference ${want.frames.length}`);
  for (const [i, f] of got.entries()) {
    if (!f.equals(want.frames[i]!)) throw new FuzzFinding(`frame ${i} differs from the reference`);
  }
}

// ---------------------------------------------------------------------------------------------
// SASL DIGEST-MD5: the one server-side parser of client bytes outside src/protocol

const SASL_USERS = new Map([['bob', 'pw'], ['super', 'secret']]);
const SASL_RANDOM = Buffer.alloc(30, 0x5a);

/** A digest-response that completes as bob against the nonce SASL_RANDOM makes. */
export function saslResponse(): Buffer {
  const nonce = Buffer.from(SASL_RANDOM.toString('base64'), 'latin1');
  const cnonce = Buffer.from('OA6MHXh6VqTrRk');
  const input = { digestUri: 'zookeeper/zk-sasl-md5', qop: 'auth', username: 'bob', realm: 'zk-sasl-md5', password: 'pw', nonce, cnonce, nonceCount: 1 };
  const response = responseValue({ ...input, method: 'AUTHENTICATE' });
  return Buffer.from(
    `charset=utf-8,username="bob",realm="zk-sasl-md5",nonce="${nonce.toString('latin1')}",nc=00000001,` +
      `cnonce="${cnonce.toString('latin1')}",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=${response},qop=auth`,
    'latin1',
  );
}

/** The sasl property for one token: challenge, then the token; never a throw, only known users. */
export function checkSasl(token: Buffer): void {
  const server = new DigestMd5Server({ credentials: SASL_USERS, randomBytes: () => Buffer.from(SASL_RANDOM) });
  let step;
  try {
    const first = server.evaluate(Buffer.alloc(0));
    if (first.kind !== 'challenge') throw new FuzzFinding(`DIGEST-MD5: an empty first token got ${first.kind}`);
    parseDirectives(token);
    step = server.evaluate(token);
  } catch (e) {
    if (e instanceof FuzzFinding) throw e;
    throw new FuzzFinding(`DIGEST-MD5 threw ${(e as Error)?.name}: ${(e as Error)?.message}`, e);
  }
  if (step.kind === 'challenge') throw new FuzzFinding('DIGEST-MD5 challenged twice');
  if (step.kind === 'complete' && !SASL_USERS.has(step.authorizedId)) {
    throw new FuzzFinding(`DIGEST-MD5 completed as unknown user ${JSON.stringify(step.authorizedId)}`);
  }
}

export function saslInput(corpus: Corpus = loadCorpus()): fc.Arbitrary<Mutation[]> {
  return fc.array(mutation(corpus.seeds.length), { maxLength: 4 });
}

// ---------------------------------------------------------------------------------------------
// Named properties, for the runner

export type PropertyName = 'decoders' | 'frames' | 'sasl' | 'selftest-throw' | 'selftest-hang';

/** Receives the bytes of each case before it runs (the watchdog's record of what hung). */
export type Recorder = (bytes: Buffer) => void;

/** A property of any of the inputs above; describeCase knows which by the name. */
export type AnyProperty = fc.IProperty<[unknown]>;

export function property(name: PropertyName, record: Recorder, corpus: Corpus = loadCorpus()): AnyProperty {
  switch (name) {
    case 'decoders':
      return fc.property(decoderInput(corpus), (input) => {
        const bytes = materialize(input.frame, corpus);
        record(bytes);
        checkDecoders(bytes, hintOf(input, corpus));
      }) as AnyProperty;
    case 'frames':
      return fc.property(frameStreamInput(corpus), (input) => {
        const stream = Buffer.concat(input.frames.map((f) => materialize(f, corpus)));
        record(stream);
        checkFrameParser(stream, input.cuts, input.maxFrameBytes);
      }) as AnyProperty;
    case 'sasl': {
      const template = saslResponse();
      return fc.property(saslInput(corpus), (mutations) => {
        const token = applyMutations(template, mutations, false, corpus);
        record(token);
        checkSasl(token);
      }) as AnyProperty;
    }
    // Harness self-checks: a "decoder" that throws a TypeError, and one that never returns, on
    // frames whose body starts with a given byte. The runner must report both.
    case 'selftest-throw':
      return fc.property(decoderInput(corpus), (input) => {
        const bytes = materialize(input.frame, corpus);
        record(bytes);
        if (bytes.length > 4 && bytes[4] === 0x00 && bytes.length > 40) throw new FuzzFinding('selftest: TypeError', new TypeError('x'));
      }) as AnyProperty;
    case 'selftest-hang':
      return fc.property(decoderInput(corpus), (input) => {
        const bytes = materialize(input.frame, corpus);
        record(bytes);
        if (bytes.length > 40) for (;;);
      }) as AnyProperty;
  }
}

/** A counterexample as something a person can paste into a test. */
export function describeCase(name: PropertyName, input: unknown, corpus: Corpus = loadCorpus()): string {
  if (name === 'sasl') {
    const token = applyMutations(saslResponse(), input as Mutation[], false, corpus);
    return `DIGEST-MD5 token (hex) ${token.toString('hex')}\n(latin1) ${JSON.stringify(token.toString('latin1'))}`;
  }
  if (name === 'frames') {
    const f = input as FrameStreamInput;
    const stream = Buffer.concat(f.frames.map((s) => materialize(s, corpus)));
    return `stream (hex) ${stream.toString('hex')}\ncuts ${JSON.stringify(f.cuts)} maxFrameBytes ${f.maxFrameBytes}`;
  }
  const d = input as DecoderInput;
  const origin = 'seed' in d.frame ? ` (from ${corpus.seeds[d.frame.seed]!.origin})` : '';
  return `frame (hex) ${materialize(d.frame, corpus).toString('hex')}${origin}\nreply opcode hint ${hintOf(d, corpus)}`;
}
