// scripts/fuzz.ts — the long fuzz run, by one command:
//   node --import tsx scripts/fuzz.ts --seconds 600 [--seed N] [--only decoders,frames,sasl,server]
//                                    [--hang-ms 5000]
// Runs, side by side for the whole time, the properties of the short run in `npm test`
// (test/security/fuzz-decoders.test.ts, fuzz-server.test.ts):
//   decoders  every decoder of src/protocol/requests.ts and client-codec.ts on mutated golden frames
//             and arbitrary bytes: decodes or throws JuteDecodeError (worker + hang watchdog);
//   frames    FrameParser on streams of such frames in random chunks: the reference split, or
//             FrameError where a length is out of bounds (worker + hang watchdog);
//   sasl      the server's DIGEST-MD5 on mutated digest-responses: never throws, completes only as
//             a known user (worker + hang watchdog);
//   server    mutated golden request frames over sockets at an in-process zkts server: it stays up,
//             logs no error, a bystander session keeps its answers, data and ephemeral.
// The seed is printed first (random unless --seed); the same seed and --only reproduce a run. Exits
// 1 with each finding's input (hex) when something fails, 0 otherwise.
import { parseArgs } from 'node:util';
import { startServer } from '../test/server/start-server.js';
import type { PropertyName } from '../test/security/fuzz-properties.js';
import { type FuzzRunResult, randomSeed, runFuzz } from '../test/security/fuzz-runner.js';
import { fuzzServer } from '../test/security/server-fuzz.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    seed: { type: 'string' },
    only: { type: 'string', default: 'decoders,frames,sasl,server' },
    'hang-ms': { type: 'string', default: '5000' },
  },
});
const seconds = Number(values.seconds);
const seed = values.seed !== undefined ? Number(values.seed) | 0 : randomSeed();
const only = new Set(values.only.split(',').map((s) => s.trim()));
const hangMs = Number(values['hang-ms']);
if (!(seconds > 0) || !(hangMs > 0) || [...only].some((p) => !['decoders', 'frames', 'sasl', 'server'].includes(p))) {
  console.error('usage: node --import tsx scripts/fuzz.ts --seconds 600 [--seed N] [--only decoders,frames,sasl,server] [--hang-ms 5000]');
  process.exit(2);
}

console.log(`fuzz: seed ${seed}, ${seconds} s, ${[...only].join(' + ')} (reproduce: --seed ${seed} --only <one of them>)`);
const started = performance.now();
const progress = new Map<string, number>();
const ticker = setInterval(() => {
  const s = Math.round((performance.now() - started) / 1000);
  console.log(`  ${s} s: ${[...progress].map(([k, v]) => `${k} ${v}`).join(', ')}`);
}, 30_000);

let lastServerCase = '(none yet)';
process.on('uncaughtException', (e) => {
  console.error(`fuzz: uncaught exception (the in-process server crashed?): ${e.stack ?? e}`);
  console.error(`last server case: ${lastServerCase}`);
  process.exit(1);
});

const findings: string[] = [];

async function property(name: PropertyName): Promise<void> {
  const r: FuzzRunResult = await runFuzz({
    property: name,
    seed,
    numRuns: 0x7fffffff,
    timeLimitMs: seconds * 1000,
    hangMs,
    onProgress: (n) => progress.set(name, n),
  });
  progress.set(name, r.numRuns);
  console.log(`fuzz: ${name}: ${r.numRuns} cases in ${r.elapsedMs} ms: ${r.ok ? 'ok' : 'FAILED'}`);
  if (!r.ok) findings.push(r.report ?? `${name} failed`);
}

async function server(): Promise<void> {
  const errors: string[] = [];
  const { server: zk, port } = await startServer({
    log: (level, msg) => void (level === 'error' && errors.push(msg)),
    saslCredentials: new Map([['bob', 'pw']]), // so that sasl frames reach the DIGEST-MD5 parser
  });
  try {
    const r = await fuzzServer({
      port,
      seed,
      durationMs: seconds * 1000,
      connectionCount: () => zk.connections.size,
      serverErrors: () => errors.splice(0),
      onProgress: (n) => progress.set('server', n),
      onCase: (d) => (lastServerCase = d),
    });
    console.log(`fuzz: server: ${r.cases} cases, ${r.bytesSent} bytes, ${JSON.stringify(r.outcomes)}: ${r.findings.length === 0 ? 'ok' : 'FAILED'}`);
    findings.push(...r.findings);
  } finally {
    await zk.stop();
  }
}

await Promise.all([
  ...(['decoders', 'frames', 'sasl'] as const).filter((p) => only.has(p)).map(property),
  ...(only.has('server') ? [server()] : []),
]);
clearInterval(ticker);
if (findings.length > 0) {
  console.log(`fuzz: ${findings.length} finding(s), seed ${seed}:\n\n${findings.join('\n\n')}`);
  process.exit(1);
}
console.log(`fuzz: no findings (seed ${seed})`);
