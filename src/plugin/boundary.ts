// boundary.ts — every plugin hook runs inside its plugin's error boundary. A hook that throws, or
// that runs past its deadline, is a *fault*: it is counted, logged (at most once a second per hook,
// with the count of those not logged), and the request it served fails — the server and every
// other session carry on.
//
// Deadlines differ by kind. An asynchronous hook (setup, a listener's onTxn, a protocol's start
// and stop) races a timer: past the deadline its promise is abandoned. A synchronous hook cannot
// be pre-empted on a JavaScript thread: it is timed, and one that returns after its deadline
// counts as faulty and its result is thrown away (the request fails with SystemError), so a slow
// hook shows up as failed requests and log lines rather than as a quietly slower server. A hook
// that never returns (an endless loop) hangs the process; that is why hooks on the request path
// must be small and do no I/O.
import type { HookStatus, Logger } from './types.js';

export class HookFault extends Error {
  constructor(
    readonly hook: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HookFault';
  }
}

/** Sentinel a sync call returns when the hook faulted; the caller fails its request. */
export const FAULT: unique symbol = Symbol('plugin fault');
export type Faulted = typeof FAULT;

const LOG_INTERVAL_MS = 1000;

export class Boundary {
  readonly hooks = new Map<string, HookStatus>();
  private readonly lastLog = new Map<string, { at: number; suppressed: number }>();

  constructor(
    readonly label: string,
    private readonly log: Logger,
    readonly syncDeadlineMs: number,
    readonly asyncDeadlineMs: number,
  ) {}

  status(hook: string): HookStatus {
    let s = this.hooks.get(hook);
    if (s === undefined) {
      s = { calls: 0, faults: 0, overruns: 0, refusals: 0 };
      this.hooks.set(hook, s);
    }
    return s;
  }

  /** Logs a fault, at most once a second per hook. */
  fault(hook: string, what: string): void {
    const now = Date.now();
    const last = this.lastLog.get(hook);
    if (last !== undefined && now - last.at < LOG_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    const more = last !== undefined && last.suppressed > 0 ? ` (${last.suppressed} more since the last report)` : '';
    this.lastLog.set(hook, { at: now, suppressed: 0 });
    this.log('error', `${this.label}: ${hook}: ${what}${more}`);
  }

  /**
   * Runs a synchronous hook: its result, or FAULT when it threw or overran `deadlineMs`. A
   * promise returned where a value was due is a fault too (hot-path hooks are synchronous).
   */
  sync<T>(hook: string, status: HookStatus, fn: () => T, deadlineMs = this.syncDeadlineMs): T | Faulted {
    status.calls++;
    const start = performance.now();
    let result: T;
    try {
      result = fn();
    } catch (e) {
      status.faults++;
      this.fault(hook, `threw ${describe(e)}; the request fails with SystemError`);
      return FAULT;
    }
    const elapsedMs = performance.now() - start;
    if (elapsedMs > deadlineMs) {
      status.faults++;
      status.overruns++;
      this.fault(hook, `took ${elapsedMs.toFixed(1)} ms, past its ${deadlineMs} ms deadline; the request fails with SystemError`);
      return FAULT;
    }
    if (isThenable(result)) {
      status.faults++;
      (result as unknown as Promise<unknown>).then(undefined, () => {});
      this.fault(hook, 'returned a promise; this hook runs on the request path and must be synchronous');
      return FAULT;
    }
    return result;
  }

  /** Runs an async hook against its deadline; rejects with HookFault on a throw or a timeout. */
  async async<T>(hook: string, status: HookStatus, fn: () => T | Promise<T>, deadlineMs = this.asyncDeadlineMs): Promise<T> {
    status.calls++;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<T>((resolve, reject) => {
        timer = setTimeout(() => {
          status.overruns++;
          reject(new HookFault(hook, `did not finish within its ${deadlineMs} ms deadline`));
        }, deadlineMs);
        let r: T | Promise<T>;
        try {
          r = fn();
        } catch (e) {
          reject(new HookFault(hook, `threw ${describe(e)}`, { cause: e }));
          return;
        }
        Promise.resolve(r).then(resolve, (e: unknown) => reject(new HookFault(hook, `failed: ${describe(e)}`, { cause: e })));
      });
    } catch (e) {
      status.faults++;
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }
}

function isThenable(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

export function describe(e: unknown): string {
  if (e instanceof HookFault) return e.message;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
