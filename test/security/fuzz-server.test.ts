// fuzz-server.test.ts — the short server-level fuzz run of `npm test` (the long one: scripts/fuzz.ts
// --only server): mutated golden request frames over real sockets at an in-process zkts server
// (server-fuzz.ts). The server must stay up, log no error, answer a bystander session throughout
// with its data and ephemeral intact, and let go of every fuzz connection.
// The seed is random unless ZKTS_FUZZ_SEED is set, and is printed; ZKTS_FUZZ_SERVER_CASES sets the
// number of cases (default 400).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer } from '../server/start-server.js';
import { randomSeed } from './fuzz-runner.js';
import { fuzzServer } from './server-fuzz.js';

const seed = process.env.ZKTS_FUZZ_SEED !== undefined ? Number(process.env.ZKTS_FUZZ_SEED) | 0 : randomSeed();
const cases = Number(process.env.ZKTS_FUZZ_SERVER_CASES ?? 400);

test(`server fuzz: mutated golden frames over sockets, a bystander keeps working (seed ${seed})`, async (t) => {
  const errors: string[] = [];
  const { server, port } = await startServer({
    log: (level, msg) => {
      if (level === 'error') errors.push(msg);
    },
    saslCredentials: new Map([['bob', 'pw']]), // so that sasl frames reach the DIGEST-MD5 parser
  });
  try {
    const r = await fuzzServer({
      port,
      seed,
      cases,
      durationMs: 12_000,
      waitMs: 150,
      connectionCount: () => server.connections.size,
      serverErrors: () => errors.splice(0),
    });
    t.diagnostic(`seed ${seed}: ${r.cases} cases, ${r.bytesSent} bytes; ${JSON.stringify(r.outcomes)}; reproduce with ZKTS_FUZZ_SEED=${seed}`);
    assert.deepEqual(r.findings, []);
    assert.ok(r.cases >= Math.min(cases, 50), `only ${r.cases} cases ran`);
    assert.ok(r.outcomes.answered > 0 && r.outcomes.closed > 0, 'the cases reach both answers and refusals');
  } finally {
    await server.stop();
  }
});
