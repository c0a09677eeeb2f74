// retry.ts — retry policies for recipe operations that fail with a transient error (the
// connection was lost, the request timed out or was throttled). The session may still be alive,
// so an operation is retried after a pause; an error that says something about the data
// (ZNONODE, ZBADVERSION…) or that ends the session (ZSESSIONEXPIRED) is never retried.
import { isZkError } from '../client/index.js';

export interface RetryPolicy {
  /** The pause before retry number `attempt` (0 = first retry), or null to give up. */
  delayMs(attempt: number, elapsedMs: number): number | null;
}

const TRANSIENT = new Set(['ZCONNECTIONLOSS', 'ZOPERATIONTIMEOUT', 'ZTHROTTLEDOP', 'ZREQUESTTIMEOUT', 'ZSESSIONMOVED']);

/** True for the errors after which the same call may succeed once the connection is back. */
export function isTransient(e: unknown): boolean {
  return isZkError(e) && TRANSIENT.has(e.code);
}

/**
 * Curator's ExponentialBackoffRetry: base × a random factor in [1, 2^(attempt+1) − 1] (Curator's
 * max(1, nextInt(1 << (attempt + 1)))), capped at
 * maxSleepMs, at most maxRetries times (bounded at 29 so the shift cannot overflow).
 */
export class ExponentialBackoffRetry implements RetryPolicy {
  constructor(
    readonly baseSleepMs = 100,
    readonly maxRetries = 10,
    readonly maxSleepMs = 10_000,
    private readonly random: () => number = Math.random,
  ) {}
  delayMs(attempt: number): number | null {
    if (attempt >= Math.min(this.maxRetries, 29)) return null;
    const factor = 1 + Math.floor(this.random() * ((1 << (attempt + 1)) - 1));
    return Math.min(this.maxSleepMs, this.baseSleepMs * factor);
  }
}

/** A fixed pause, n times. */
export class RetryNTimes implements RetryPolicy {
  constructor(readonly n: number, readonly sleepMs: number) {}
  delayMs(attempt: number): number | null {
    return attempt < this.n ? this.sleepMs : null;
  }
}

/** A fixed pause until maxElapsedMs have passed since the first try. */
export class RetryUntilElapsed implements RetryPolicy {
  constructor(readonly maxElapsedMs: number, readonly sleepMs: number) {}
  delayMs(_attempt: number, elapsedMs: number): number | null {
    return elapsedMs + this.sleepMs <= this.maxElapsedMs ? this.sleepMs : null;
  }
}

export const DEFAULT_RETRY: RetryPolicy = new ExponentialBackoffRetry(50, 20, 2_000);

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs fn, retrying transient failures as the policy allows; other errors go straight out. */
export async function withRetry<T>(policy: RetryPolicy, fn: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const t0 = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!isTransient(e)) throw e;
      const d = policy.delayMs(attempt, Date.now() - t0);
      if (d === null) throw e;
      await sleep(d, signal);
    }
  }
}
