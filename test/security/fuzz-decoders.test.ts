// fuzz-decoders.test.ts — the short fuzz run of `npm test` (the long one: scripts/fuzz.ts). Every
// decoder of src/protocol/requests.ts and client-codec.ts, and FrameParser, get mutated golden
// frames and arbitrary bytes (fuzz-properties.ts) in a worker under a watchdog (fuzz-runner.ts):
// each must decode or throw JuteDecodeError / FrameError — nothing else, no hang; the server's
// DIGEST-MD5 gets mutated digest-responses and must never throw. And no decoder
// allocates from a declared length: frames that declare 2 GiB strings, buffers and vectors inside
// ~100 bytes decode (to JuteDecodeError) without allocating more than the frame holds.
//
// The seed is random unless ZKTS_FUZZ_SEED is set, and is printed; a failure prints the input.
// ZKTS_FUZZ_RUNS sets the number of cases (default 3,000 per property).
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, test } from 'node:test';
import { FrameError, FrameParser } from '../../src/protocol/frame.js';
import { JuteDecodeError, JuteWriter } from '../../src/protocol/jute.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { loadCorpus } from './fuzz-corpus.js';
import { DigestMd5Server } from '../../src/server/auth/sasl-digest-md5.js';
import { DECODERS, checkDecoders, checkFrameParser, checkSasl, referenceSplit, saslResponse } from './fuzz-properties.js';
import { randomSeed, runFuzz } from './fuzz-runner.js';

const seed = process.env.ZKTS_FUZZ_SEED !== undefined ? Number(process.env.ZKTS_FUZZ_SEED) | 0 : randomSeed();
const runs = Number(process.env.ZKTS_FUZZ_RUNS ?? 3_000);

describe('decoder fuzzing (short run)', () => {
  test(`decoders, FrameParser and DIGEST-MD5 on mutated golden frames, tokens and arbitrary bytes (seed ${seed})`, async (t) => {
    t.diagnostic(`seed ${seed}: reproduce with ZKTS_FUZZ_SEED=${seed}, or node --import tsx scripts/fuzz.ts --seed ${seed}`);
    const results = await Promise.all([
      runFuzz({ property: 'decoders', seed, numRuns: runs }),
      runFuzz({ property: 'frames', seed, numRuns: runs }),
      runFuzz({ property: 'sasl', seed, numRuns: runs }),
    ]);
    for (const r of results) t.diagnostic(`${r.property}: ${r.numRuns} cases in ${r.elapsedMs} ms`);
    const failed = results.filter((r) => !r.ok);
    assert.equal(failed.length, 0, failed.map((r) => r.report).join('\n\n'));
    for (const r of results) assert.equal(r.numRuns, runs, `${r.property} ran every case`);
  });

  test('the harness reports a decoder that throws something else, and one that hangs', async () => {
    const [threw, hung] = await Promise.all([
      runFuzz({ property: 'selftest-throw', seed: 1, numRuns: 200 }),
      runFuzz({ property: 'selftest-hang', seed: 1, numRuns: 200, hangMs: 1_000 }),
    ]);
    assert.equal(threw.ok, false);
    assert.match(threw.report ?? '', /selftest: TypeError[\s\S]*frame \(hex\) [0-9a-f]+/);
    assert.equal(hung.ok, false);
    assert.match(hung.report ?? '', /still running after 1000 ms \(a hang\); its bytes \(hex\):\n[0-9a-f]{82,}/);
  });

  test('the DIGEST-MD5 template completes as bob, unmutated (the sasl property starts from a valid token)', () => {
    const server = new DigestMd5Server({ credentials: new Map([['bob', 'pw']]), randomBytes: () => Buffer.alloc(30, 0x5a) });
    assert.equal(server.evaluate(Buffer.alloc(0)).kind, 'challenge');
    const step = server.evaluate(saslResponse());
    assert.equal(step.kind, 'complete');
    assert.equal(step.kind === 'complete' && step.authorizedId, 'bob');
    checkSasl(saslResponse());
  });

  test('every captured frame decodes as itself (the seeds are valid to start from)', () => {
    const { seeds } = loadCorpus();
    assert.ok(seeds.length > 300, `${seeds.length} golden frames`);
    for (const s of seeds) checkDecoders(s.frame, s.opcode);
    assert.deepEqual(referenceSplit(Buffer.concat(seeds.map((s) => s.frame)), 0xfffff).frames.length, seeds.length);
  });
});

// ---------------------------------------------------------------------------------------------
// Declared lengths: nothing is allocated from them.

interface Allocations {
  maxBuffer: number;
  maxArray: number;
}

/** Runs `fn` with Buffer allocations and `new Array(n)` recorded (the largest of each). */
function recordAllocations(fn: () => void): Allocations {
  const seen: Allocations = { maxBuffer: 0, maxArray: 0 };
  const B = Buffer as unknown as Record<string, (...a: unknown[]) => Buffer>;
  const saved = { alloc: B.alloc!, allocUnsafe: B.allocUnsafe!, allocUnsafeSlow: B.allocUnsafeSlow!, from: B.from! };
  const spy = (name: keyof typeof saved) =>
    function (this: unknown, ...a: unknown[]): Buffer {
      const out = saved[name].apply(Buffer, a);
      seen.maxBuffer = Math.max(seen.maxBuffer, out.length);
      return out;
    };
  const RealArray = globalThis.Array;
  const ArraySpy: ArrayConstructor = new Proxy(RealArray, {
    construct(target, args: unknown[], newTarget): object {
      if (args.length === 1 && typeof args[0] === 'number') seen.maxArray = Math.max(seen.maxArray, args[0]);
      return Reflect.construct(target, args, newTarget === ArraySpy ? target : newTarget) as object;
    },
    apply(target, self, args: unknown[]): unknown {
      if (args.length === 1 && typeof args[0] === 'number') seen.maxArray = Math.max(seen.maxArray, args[0]);
      return Reflect.apply(target, self, args) as unknown;
    },
  });
  for (const k of Object.keys(saved) as Array<keyof typeof saved>) B[k] = spy(k);
  globalThis.Array = ArraySpy;
  try {
    fn();
  } finally {
    globalThis.Array = RealArray;
    Object.assign(B, saved);
  }
  return seen;
}

const HUGE = [0x7fffffff, 0x7ffffff0, 0x40000000, 0x10000000];

/** The JuteDecodeError messages of every decoder on `frame`. */
function decodeErrors(frame: Buffer, hint: number): string[] {
  const out: string[] = [];
  for (const [, decode] of DECODERS) {
    try {
      decode(frame.subarray(4), hint);
    } catch (e) {
      if (e instanceof JuteDecodeError) out.push(e.message);
    }
  }
  return out;
}

/** Frames of at most ~100 bytes that declare a 2 GiB string, buffer or vector. */
function hostileFrames(): Array<{ name: string; frame: Buffer; hint: number; declared: number }> {
  const frame = (build: (w: JuteWriter) => void): Buffer => {
    const w = new JuteWriter();
    const at = w.beginFrame();
    build(w);
    w.endFrame(at);
    return w.toBuffer();
  };
  const req = (type: number, body: (w: JuteWriter) => void) => (w: JuteWriter) => {
    w.int(7).int(type);
    body(w);
  };
  const reply = (body: (w: JuteWriter) => void) => (w: JuteWriter) => {
    w.int(7).long(5n).int(0);
    body(w);
  };
  const out: Array<{ name: string; frame: Buffer; hint: number; declared: number }> = [];
  for (const n of HUGE) {
    const hex = `0x${n.toString(16)}`;
    const add = (...fs: Array<{ name: string; frame: Buffer; hint: number }>): void => {
      for (const f of fs) out.push({ ...f, declared: n });
    };
    add(
      { name: `ConnectRequest passwd of ${hex} bytes`, hint: 0, frame: frame((w) => w.int(0).long(0n).int(30_000).long(0n).int(n).int(0)) },
      { name: `getData path of ${hex} bytes`, hint: OpCode.getData, frame: frame(req(OpCode.getData, (w) => w.int(n).int(0x2f000000))) },
      { name: `setData data of ${hex} bytes`, hint: OpCode.setData, frame: frame(req(OpCode.setData, (w) => w.string('/a').int(n).int(0))) },
      { name: `create with ${hex} ACL entries`, hint: OpCode.create, frame: frame(req(OpCode.create, (w) => w.string('/a').buffer(null).int(n).int(31).string('world'))) },
      { name: `create whose ACL id is ${hex} bytes`, hint: OpCode.create, frame: frame(req(OpCode.create, (w) => w.string('/a').buffer(null).int(1).int(31).int(n).int(0).int(0).int(0))) },
      { name: `setWatches with ${hex} data watches`, hint: OpCode.setWatches, frame: frame(req(OpCode.setWatches, (w) => w.long(0n).int(n).string('/a'))) },
      { name: `setWatches2 whose 2nd vector holds a ${hex}-byte path`, hint: OpCode.setWatches2, frame: frame(req(OpCode.setWatches2, (w) => w.long(0n).int(0).int(1).int(n))) },
      { name: `multi op with a ${hex}-byte path`, hint: OpCode.multi, frame: frame(req(OpCode.multi, (w) => w.int(OpCode.create).bool(false).int(-1).int(n))) },
      { name: `auth of ${hex} bytes`, hint: OpCode.auth, frame: frame(req(OpCode.auth, (w) => w.int(0).string('digest').int(n))) },
      { name: `sasl token of ${hex} bytes`, hint: OpCode.sasl, frame: frame(req(OpCode.sasl, (w) => w.int(n))) },
      { name: `ConnectResponse passwd of ${hex} bytes`, hint: 0, frame: frame((w) => w.int(0).int(30_000).long(1n).int(n)) },
      { name: `getChildren reply with ${hex} children`, hint: OpCode.getChildren, frame: frame(reply((w) => w.int(n).string('a'))) },
      { name: `getData reply with ${hex} bytes of data`, hint: OpCode.getData, frame: frame(reply((w) => w.int(n))) },
      { name: `getACL reply with ${hex} entries`, hint: OpCode.getACL, frame: frame(reply((w) => w.int(n).int(31))) },
      { name: `whoAmI reply with ${hex} entries`, hint: OpCode.whoAmI, frame: frame(reply((w) => w.int(n))) },
      { name: `getEphemerals reply with ${hex} paths`, hint: OpCode.getEphemerals, frame: frame(reply((w) => w.int(n))) },
      { name: `multi reply whose create result is ${hex} bytes`, hint: OpCode.multi, frame: frame(reply((w) => w.int(OpCode.create).bool(false).int(0).int(n))) },
      { name: `notification path of ${hex} bytes`, hint: 0, frame: frame((w) => w.int(-1).long(-1n).int(0).int(3).int(3).int(n)) },
    );
  }
  return out;
}

describe('declared lengths are checked before anything is allocated', () => {
  test('the recorder sees allocations (it can fail)', () => {
    const seen = recordAllocations(() => {
      Buffer.alloc(1234);
      void new Array<number>(777);
    });
    assert.deepEqual(seen, { maxBuffer: 1234, maxArray: 777 });
  });

  test('frames that declare 2 GiB strings, buffers and vectors inside ~100 bytes', () => {
    const frames = hostileFrames();
    const started = performance.now();
    for (const f of frames) {
      assert.ok(f.frame.length <= 100, `${f.name}: ${f.frame.length} bytes`);
      const seen = recordAllocations(() => checkDecoders(f.frame, f.hint));
      assert.ok(seen.maxBuffer <= f.frame.length, `${f.name}: a ${seen.maxBuffer}-byte buffer was allocated`);
      // …and the declared length is what some decoder refused (the frame reaches the check).
      const refusals = decodeErrors(f.frame, f.hint);
      assert.ok(refusals.some((m) => m.includes(String(f.declared))), `${f.name}: no decoder refused ${f.declared}: ${refusals.join('; ')}`);
      assert.ok(seen.maxArray <= f.frame.length, `${f.name}: an array of ${seen.maxArray} was allocated`);
    }
    // ~70 frames through every decoder: milliseconds. Allocating 2 GiB even once takes seconds.
    const ms = performance.now() - started;
    assert.ok(ms < 2_000, `${frames.length} hostile frames × ${DECODERS.length} decoders took ${Math.round(ms)} ms`);
  });

  test('every length field of the golden frames set to 2 GiB', () => {
    // One frame of each kind and opcode; each of its plausible length fields in turn.
    const picked = new Map<string, ReturnType<typeof loadCorpus>['seeds'][number]>();
    for (const s of loadCorpus().seeds) if (!picked.has(`${s.kind}/${s.opcode}`)) picked.set(`${s.kind}/${s.opcode}`, s);
    let cases = 0;
    for (const s of picked.values()) {
      for (const at of s.lengthFields) {
        if (at === 0) continue; // the frame's own length prefix: FrameParser's, below
        for (const n of [0x7fffffff, 0x7ffffff0]) {
          const frame = Buffer.from(s.frame);
          frame.writeInt32BE(n, at);
          const seen = recordAllocations(() => checkDecoders(frame, s.opcode));
          assert.ok(seen.maxBuffer <= frame.length && seen.maxArray <= frame.length,
            `${s.origin} with ${n} at offset ${at}: allocated a ${seen.maxBuffer}-byte buffer, an array of ${seen.maxArray}`);
          cases++;
        }
      }
    }
    assert.ok(cases > 500, `${cases} cases`);
  });

  test('FrameParser refuses a 2 GiB frame length before allocating, in whole or split headers', () => {
    for (const n of [0x7fffffff, 0x100000, -1, -0x80000000]) {
      const head = Buffer.alloc(4);
      head.writeInt32BE(n);
      for (const cut of [0, 1, 2, 3, 4]) {
        const parser = new FrameParser();
        let thrown: unknown;
        const seen = recordAllocations(() => {
          try {
            parser.push(head.subarray(0, cut), () => assert.fail('no frame'));
            parser.push(Buffer.concat([head.subarray(cut), Buffer.alloc(8)]), () => assert.fail('no frame'));
          } catch (e) {
            thrown = e;
          }
        });
        assert.ok(thrown instanceof FrameError, `length ${n}, header split at ${cut}: ${String(thrown)}`);
        assert.ok(seen.maxBuffer <= 12, `length ${n}, header split at ${cut}: allocated ${seen.maxBuffer} bytes`);
      }
    }
  });

  test('a split frame allocates its declared body only up to jute.maxbuffer', () => {
    // By design (as ZooKeeper's NIOServerCnxn): a frame split across reads gets a buffer of its
    // declared length once the header is in, so each connection can pin up to maxFrameBytes.
    const head = Buffer.alloc(4);
    head.writeInt32BE(0xfffff);
    const seen = recordAllocations(() => new FrameParser(0xfffff).push(head, () => assert.fail('no frame')));
    assert.ok(seen.maxBuffer <= 0xfffff);
    checkFrameParser(Buffer.concat([head, Buffer.alloc(10)]), [1, 2, 500], 0xfffff);
  });
});
