// fuzz-worker.ts — runs one named property of fuzz-properties.ts with fast-check in a worker thread
// (started by fuzz-runner.ts through fuzz-worker.mjs). Before each case it copies the case's bytes
// into the shared buffer and bumps a counter, so the parent can tell a hang from slow progress and
// name the input that hung. Posts one message: the run's outcome.
import { Buffer } from 'node:buffer';
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { loadCorpus } from './fuzz-corpus.js';
import { type PropertyName, describeCase, property } from './fuzz-properties.js';

export interface WorkerJob {
  name: PropertyName;
  seed: number;
  numRuns: number;
  /** Stop starting new cases after this long (the run then ends as passed, interrupted). */
  timeLimitMs: number | null;
  /** [0]: cases started, [1]: byte length of the current case; its bytes from offset 8. */
  shared: SharedArrayBuffer;
}

export interface WorkerOutcome {
  name: PropertyName;
  seed: number;
  numRuns: number;
  failed: boolean;
  interrupted: boolean;
  /** The counterexample and the error, ready to print. */
  report: string | null;
}

const job = workerData as WorkerJob;
const counters = new Int32Array(job.shared, 0, 2);
const bytesView = new Uint8Array(job.shared, 8);
const corpus = loadCorpus();

function record(bytes: Buffer): void {
  const n = Math.min(bytes.length, bytesView.length);
  bytesView.set(bytes.subarray(0, n));
  Atomics.store(counters, 1, n);
  Atomics.add(counters, 0, 1);
}

const details = fc.check(property(job.name, record, corpus), {
  seed: job.seed,
  numRuns: job.numRuns,
  ...(job.timeLimitMs === null ? {} : { interruptAfterTimeLimit: job.timeLimitMs }),
});
let report: string | null = null;
if (details.failed) {
  const input = details.counterexample?.[0];
  const err = details.errorInstance as Error | undefined;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  report = [
    `property "${job.name}" failed (seed ${details.seed}, path "${details.counterexamplePath ?? ''}", after ${details.numRuns} case(s), ${details.numShrinks} shrink(s))`,
    `error: ${err?.message ?? String(details.errorInstance)}`,
    ...(cause instanceof Error && cause.stack !== undefined ? [`cause: ${cause.stack.split('\n').slice(0, 6).join('\n  ')}`] : []),
    input === undefined ? 'no counterexample' : describeCase(job.name, input, corpus),
  ].join('\n');
}
const outcome: WorkerOutcome = {
  name: job.name,
  seed: job.seed,
  numRuns: details.numRuns,
  failed: details.failed,
  interrupted: details.interrupted,
  report,
};
parentPort!.postMessage(outcome);
