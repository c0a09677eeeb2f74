// server-fuzz.ts — hostile bytes at a running zkts server over real sockets. Each case opens a
// connection and writes, in random chunks: a ConnectRequest (fresh and valid, or a captured one
// mutated), one to six request frames of a captured conversation (fuzz-corpus.ts), each maybe
// mutated (fuzz-properties.ts mutations), maybe one more arbitrary frame, then a ping. It waits for
// the ping's reply, the server closing the connection, or a short deadline (a frame left partial),
// then drops the connection. Between cases a bystander session, set up before the first, must
// still answer, with its node and its ephemeral intact; now and then a new session must be able to
// connect. The server must log no error, and once every fuzz connection is gone it must hold only
// the bystander's.
//
// Cases come from fast-check arbitraries sampled with a seed (batch b uses seed + b), so a seed and
// a case number reproduce a case; each finding carries the bytes sent, in hex.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import net from 'node:net';
import fc from 'fast-check';
import { encodeConnectRequest, encodeRequest } from '../../src/protocol/client-codec.js';
import { Code } from '../../src/protocol/codes.js';
import { FrameParser } from '../../src/protocol/frame.js';
import { CreateFlag, OpCode, Perm } from '../../src/protocol/opcodes.js';
import { TestClient, pollUntil } from '../conformance/test-client.js';
import { type Corpus, loadCorpus } from './fuzz-corpus.js';
import { type FrameSpec, type Mutation, applyMutations, frameSpec, materialize, mutation } from './fuzz-properties.js';

export interface ServerCase {
  conversation: number;
  /** null: a fresh, valid ConnectRequest; else mutations of the conversation's own one. */
  connect: Mutation[] | null;
  requests: Array<{ pick: number; mutations: Mutation[]; fixPrefix: boolean }>;
  extra: FrameSpec | null;
  /** Chunk boundaries in 1/1000 of the stream. */
  cuts: number[];
}

export function serverCase(corpus: Corpus = loadCorpus()): fc.Arbitrary<ServerCase> {
  const m = mutation(corpus.seeds.length);
  return fc.record({
    conversation: fc.nat(corpus.conversations.length - 1),
    connect: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.array(m, { minLength: 1, maxLength: 3 }) }),
    // Mostly well-framed requests, half of them intact, so that cases get past the first frame.
    requests: fc.array(
      fc.record({
        pick: fc.nat(1000),
        mutations: fc.oneof(fc.constant<Mutation[]>([]), fc.array(m, { minLength: 1, maxLength: 2 })),
        fixPrefix: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
    extra: fc.oneof({ weight: 7, arbitrary: fc.constant<FrameSpec | null>(null) }, { weight: 3, arbitrary: frameSpec(corpus) }),
    cuts: fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 6 }),
  });
}

const PING = encodeRequest(-2, { type: OpCode.ping });

/** The bytes a case writes: connect, requests, extra, ping. */
export function caseBytes(c: ServerCase, corpus: Corpus = loadCorpus()): Buffer {
  const conv = corpus.conversations[c.conversation]!;
  const connectSeed = corpus.seeds[conv.frames[0]!]!;
  let connect: Buffer;
  if (c.connect === null) {
    connect = encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: 6_000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
  } else {
    // The captured one with lastZxidSeen and sessionId cleared (they name another server's history).
    const base = Buffer.from(connectSeed.frame);
    if (base.length >= 32) {
      base.writeBigInt64BE(0n, 8);
      base.writeBigInt64BE(0n, 20);
    }
    connect = applyMutations(base, c.connect, false, corpus);
  }
  const requests = conv.frames.slice(1);
  const parts = [connect];
  for (const r of c.requests) {
    if (requests.length === 0) break;
    const seed = corpus.seeds[requests[r.pick % requests.length]!]!;
    parts.push(r.mutations.length === 0 ? seed.frame : applyMutations(seed.frame, r.mutations, r.fixPrefix, corpus, seed.lengthFields));
  }
  if (c.extra !== null) parts.push(materialize(c.extra, corpus));
  parts.push(PING);
  return Buffer.concat(parts);
}

export type CaseOutcome = 'answered' | 'closed' | 'left open';

/** Writes `bytes` in chunks; resolves when the ping is answered, the server closes, or waitMs pass. */
export function sendCase(port: number, bytes: Buffer, cuts: readonly number[], waitMs: number): Promise<CaseOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const parser = new FrameParser(0x7fffffff);
    let frames = 0;
    let done = false;
    const finish = (o: CaseOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish('left open'), waitMs);
    socket.on('error', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('data', (chunk) => {
      try {
        parser.push(chunk, (f) => {
          // The first frame is the ConnectResponse; a reply with xid -2 answers the ping.
          if (frames++ > 0 && f.length >= 4 && f.readInt32BE(0) === -2) finish('answered');
        });
      } catch {
        finish('closed');
      }
    });
    socket.on('connect', () => {
      const points = [...new Set(cuts.map((c) => Math.floor((c * bytes.length) / 1000)))].sort((a, b) => a - b);
      let prev = 0;
      for (const p of [...points, bytes.length]) {
        if (p <= prev) continue;
        socket.write(bytes.subarray(prev, p));
        prev = p;
      }
    });
  });
}

export interface ServerFuzzOptions {
  port: number;
  seed: number;
  /** Stop after this many cases… */
  cases?: number;
  /** …or this long, whichever comes first. */
  durationMs?: number;
  /** How long a case may stay unanswered (a partial frame) before it is dropped. Default 300 ms. */
  waitMs?: number;
  /** Check the bystander after every `checkEvery` cases (default 1). */
  checkEvery?: number;
  /** Connections the server holds (to check that dropped ones are let go). */
  connectionCount?: () => number;
  /** Error lines the server logged so far. */
  serverErrors?: () => string[];
  onProgress?: (done: number) => void;
  /** Called with each case (seed, number, value, bytes) before it is sent. */
  onCase?: (description: string) => void;
}

export interface ServerFuzzResult {
  seed: number;
  cases: number;
  outcomes: Record<CaseOutcome, number>;
  bytesSent: number;
  /** Empty when the server held up. Each names the seed, the case and the bytes that preceded it. */
  findings: string[];
}

const BATCH = 200;

export async function fuzzServer(opts: ServerFuzzOptions): Promise<ServerFuzzResult> {
  const corpus = loadCorpus();
  const arb = serverCase(corpus);
  const outcomes: Record<CaseOutcome, number> = { answered: 0, closed: 0, 'left open': 0 };
  const findings: string[] = [];
  const deadline = performance.now() + (opts.durationMs ?? Number.POSITIVE_INFINITY);
  const maxCases = opts.cases ?? Number.POSITIVE_INFINITY;
  const checkEvery = opts.checkEvery ?? 1;
  let bytesSent = 0;
  let n = 0;
  const bystander = await Bystander.start(opts.port);
  let last = '';
  try {
    for (let batch = 0; n < maxCases && performance.now() < deadline && findings.length === 0; batch++) {
      const cases = fc.sample(arb, { seed: (opts.seed + batch) | 0, numRuns: BATCH });
      for (const [i, c] of cases.entries()) {
        if (n >= maxCases || performance.now() >= deadline) break;
        const bytes = caseBytes(c, corpus);
        last = `seed ${opts.seed}, batch ${batch}, case ${i} (case #${n}): ${JSON.stringify(c)}\nbytes (hex, chunked at ${JSON.stringify(c.cuts)}‰): ${bytes.toString('hex')}`;
        opts.onCase?.(last);
        outcomes[await sendCase(opts.port, bytes, c.cuts, opts.waitMs ?? 300)]++;
        bytesSent += bytes.length;
        n++;
        opts.onProgress?.(n);
        if (n % checkEvery === 0) {
          const problem = await bystander.check(n % 25 === 0);
          if (problem !== null) findings.push(`${problem}\nafter ${last}`);
        }
        const errors = opts.serverErrors?.() ?? [];
        if (errors.length > 0) findings.push(`the server logged errors: ${errors.join(' | ')}\nafter ${last}`);
        if (findings.length > 0) break;
      }
    }
    if (findings.length === 0) {
      const problem = await bystander.check(true);
      if (problem !== null) findings.push(`${problem}\nafter ${last}`);
    }
    if (findings.length === 0 && opts.connectionCount !== undefined) {
      const count = opts.connectionCount;
      await pollUntil('the server to let go of the fuzz connections', 10_000, async () => (count() <= 1 ? true : undefined)).catch(() =>
        findings.push(`the server still holds ${count()} connections after every fuzz connection closed (the bystander's is 1)`),
      );
    }
  } finally {
    await bystander.stop();
  }
  return { seed: opts.seed, cases: n, outcomes, bytesSent, findings };
}

/** A session that must not notice the fuzzing: a node only it may read, and its ephemeral. */
class Bystander {
  private constructor(
    private readonly port: number,
    private readonly client: TestClient,
  ) {}

  static readonly PATH = '/fuzz-bystander';

  static async start(port: number): Promise<Bystander> {
    const client = await TestClient.connect('127.0.0.1', port, { timeOutMs: 30_000 });
    const secret = createHash('sha1').update(String(performance.now())).digest('hex');
    const id = `bystander:${createHash('sha1').update(`bystander:${secret}`).digest('base64')}`;
    const must = async (what: string, p: Promise<{ err: number }>, ok: number[] = [Code.OK]): Promise<void> => {
      const r = await p;
      assert.ok(ok.includes(r.err), `bystander setup: ${what} answered ${r.err}`);
    };
    await must('auth', client.request({ type: OpCode.auth, authType: 0, scheme: 'digest', auth: Buffer.from(`bystander:${secret}`) }));
    const acl = [{ perms: Perm.ALL, id: { scheme: 'digest', id } }];
    await must('create', client.request({ type: OpCode.create, path: Bystander.PATH, data: Buffer.from('keep'), acl, flags: CreateFlag.PERSISTENT, ttl: -1n }));
    await must('create ephemeral', client.request({ type: OpCode.create, path: `${Bystander.PATH}/eph`, data: null, acl, flags: CreateFlag.EPHEMERAL, ttl: -1n }));
    return new Bystander(port, client);
  }

  /** null when all is well, else what is wrong. */
  async check(newSession: boolean): Promise<string | null> {
    try {
      const data = await this.client.request({ type: OpCode.getData, path: Bystander.PATH, watch: false }, 5_000);
      if (data.err !== Code.OK) return `bystander: getData answered ${data.err}`;
      if (data.body === null || !('data' in data.body) || data.body.data?.toString() !== 'keep') return 'bystander: its node changed';
      const eph = await this.client.request({ type: OpCode.exists, path: `${Bystander.PATH}/eph`, watch: false }, 5_000);
      if (eph.err !== Code.OK) return `bystander: its ephemeral is gone (${eph.err})`;
      if (eph.body === null || !('stat' in eph.body) || eph.body.stat.ephemeralOwner !== this.client.sessionId) return 'bystander: its ephemeral has another owner';
    } catch (e) {
      return `bystander: ${(e as Error).message}`;
    }
    if (newSession) {
      try {
        const c = await TestClient.connect('127.0.0.1', this.port, { timeoutMs: 5_000 });
        const ok = c.sessionId !== 0n;
        await c.close(5_000);
        if (!ok) return 'a new session was refused';
      } catch (e) {
        return `a new session could not connect: ${(e as Error).message}`;
      }
    }
    return null;
  }

  async stop(): Promise<void> {
    await this.client.close(5_000).catch(() => this.client.destroy());
  }
}
