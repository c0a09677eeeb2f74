// fuzz-runner.ts — runs a decoder property (fuzz-properties.ts) in a worker thread under a
// watchdog. A decoder that loops forever cannot be interrupted from inside its own thread; here the
// parent sees the worker's case counter stop, terminates it, and reports the bytes of the case that
// hung (the worker copies each case into shared memory before running it).
import { Buffer } from 'node:buffer';
import { Worker } from 'node:worker_threads';
import type { PropertyName } from './fuzz-properties.js';
import type { WorkerJob, WorkerOutcome } from './fuzz-worker.js';

export interface FuzzRunOptions {
  property: PropertyName;
  seed: number;
  numRuns: number;
  /** Stop starting cases after this long; the run ends as passed (interrupted). */
  timeLimitMs?: number;
  /** A case that runs this long is a hang. Default 5 s (a case normally takes well under 1 ms). */
  hangMs?: number;
  /** Time the worker may take to load before its first case. Default 60 s. */
  startMs?: number;
  /** Called with the number of cases started so far, about four times a second. */
  onProgress?: (cases: number) => void;
}

export interface FuzzRunResult {
  property: PropertyName;
  seed: number;
  numRuns: number;
  ok: boolean;
  interrupted: boolean;
  /** What failed: the counterexample, or the input of a hang; null when ok. */
  report: string | null;
  elapsedMs: number;
}

const SHARED_BYTES = 8 + 256 * 1024;

export function runFuzz(opts: FuzzRunOptions): Promise<FuzzRunResult> {
  const hangMs = opts.hangMs ?? 5_000;
  const startMs = opts.startMs ?? 60_000;
  const shared = new SharedArrayBuffer(SHARED_BYTES);
  const counters = new Int32Array(shared, 0, 2);
  const job: WorkerJob = { name: opts.property, seed: opts.seed, numRuns: opts.numRuns, timeLimitMs: opts.timeLimitMs ?? null, shared };
  const began = performance.now();
  const worker = new Worker(new URL('./fuzz-worker.mjs', import.meta.url), { workerData: job });
  const base = { property: opts.property, seed: opts.seed };
  return new Promise<FuzzRunResult>((resolve) => {
    let settled = false;
    let lastCount = 0;
    let lastChange = performance.now();
    const finish = (r: Omit<FuzzRunResult, 'property' | 'seed' | 'elapsedMs'>): void => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      void worker.terminate();
      resolve({ ...base, ...r, elapsedMs: Math.round(performance.now() - began) });
    };
    const timer = setInterval(() => {
      const count = Atomics.load(counters, 0);
      const now = performance.now();
      opts.onProgress?.(count);
      if (count !== lastCount) {
        lastCount = count;
        lastChange = now;
        return;
      }
      const limit = count === 0 ? startMs : hangMs;
      if (now - lastChange < limit) return;
      if (count === 0) {
        finish({ numRuns: 0, ok: false, interrupted: false, report: `the fuzz worker ran no case in ${startMs} ms` });
        return;
      }
      const n = Atomics.load(counters, 1);
      const bytes = Buffer.from(new Uint8Array(shared, 8, n));
      finish({
        numRuns: count,
        ok: false,
        interrupted: false,
        report: `property "${opts.property}" (seed ${opts.seed}): case ${count} still running after ${hangMs} ms (a hang); its bytes (hex):\n${bytes.toString('hex')}`,
      });
    }, Math.min(250, hangMs / 4));
    worker.once('message', (m: WorkerOutcome) => {
      finish({ numRuns: m.numRuns, ok: !m.failed, interrupted: m.interrupted, report: m.report });
    });
    worker.once('error', (e) => finish({ numRuns: Atomics.load(counters, 0), ok: false, interrupted: false, report: `the fuzz worker crashed: ${e.stack ?? e.message}` }));
    worker.once('exit', (code) => finish({ numRuns: Atomics.load(counters, 0), ok: false, interrupted: false, report: `the fuzz worker exited (code ${code}) without a result` }));
  });
}

/** A fresh 32-bit seed. */
export function randomSeed(): number {
  return (Math.random() * 0x100000000) | 0;
}
