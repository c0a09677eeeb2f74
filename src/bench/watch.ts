// watch.ts — the watch fan-out workload: N watcher sessions each hold a persistent watch
// (addWatch, mode persistent) on K znodes /zkts-bench/w-0..K-1; one more session, the writer, runs
// K rounds at a time, one per znode: set the znode, wait until all N watchers got its
// NodeDataChanged event, set it again. Throughput counts the events delivered; the latency of a
// round is from sending the set to the last of its N events; per event ("notification") and per
// set reply ("setData") latencies are kept too. A round that loses an event stalls its znode,
// and is reported as a failure when the run drains.
import { performance } from 'node:perf_hooks';
import { ZooKeeper } from '../client/client.js';
import { isZkError } from '../client/errors.js';
import type { WatchedEvent } from '../client/types.js';
import { OpCode } from '../protocol/opcodes.js';
import { Histogram } from './histogram.js';
import type { Phase } from './session.js';
import { ROOT } from './workloads.js';

export const watchNode = (k: number): string => `${ROOT}/w-${k}`;

export interface WatchRunOptions {
  host: string;
  port: number;
  /** Watcher sessions. */
  sessions: number;
  /** Znodes, and rounds in flight. */
  outstanding: number;
  connectTimeoutMs: number;
  sessionTimeoutMs: number;
}

export interface WatchShare {
  /** Events delivered while phase.counting. */
  events: number;
  /** Per round: set sent → last event delivered (rounds started at or after phase.recordFrom). */
  rounds: Histogram;
  /** Per event: set sent → event delivered. */
  perEvent: Histogram;
  /** Set sent → set's reply. */
  setReply: Histogram;
  /** "opcode:err" → count. */
  errors: Map<string, number>;
}

interface Round {
  sentAt: number;
  remaining: number;
  done: () => void;
}

export interface WatchRun {
  readonly share: WatchShare;
  /** Starts K rounds in flight; resolves when phase.sending is off and every open round ended. */
  start(phase: Phase): Promise<void>;
  /** Rounds still waiting, and for how many events. */
  open(): { rounds: number; events: number };
  close(): Promise<void>;
}

/** Creates the K znodes and connects the writer and N watchers, each watching all K znodes. */
export async function openWatchRun(opts: WatchRunOptions): Promise<WatchRun> {
  const connect = (): Promise<ZooKeeper> =>
    ZooKeeper.connect(`${opts.host}:${opts.port}`, {
      sessionTimeoutMs: opts.sessionTimeoutMs,
      signal: AbortSignal.timeout(opts.connectTimeoutMs),
      maxInFlight: Math.max(1000, opts.outstanding * 2),
    }).catch((e: Error) => {
      throw new Error(`no session with ${opts.host}:${opts.port} within ${opts.connectTimeoutMs} ms (${e.message})`);
    });
  const clients: ZooKeeper[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  };
  try {
    const writer = await connect();
    clients.push(writer);
    await writer.create(ROOT, null).catch((e: unknown) => {
      if (!isZkError(e, 'ZNODEEXISTS')) throw e;
    });
    for (let k = 0; k < opts.outstanding; k++) {
      await writer.create(watchNode(k), null).catch((e: unknown) => {
        if (!isZkError(e, 'ZNODEEXISTS')) throw e;
      });
    }
    const rounds: Array<Round | null> = new Array<Round | null>(opts.outstanding).fill(null);
    const share: WatchShare = { events: 0, rounds: new Histogram(), perEvent: new Histogram(), setReply: new Histogram(), errors: new Map() };
    let phase: Phase = { sending: false, counting: false, recordFrom: Infinity };
    const byPath = new Map<string, number>();
    for (let k = 0; k < opts.outstanding; k++) byPath.set(watchNode(k), k);
    const onEvent = (ev: WatchedEvent): void => {
      const now = performance.now();
      if (ev.type !== 'NodeDataChanged') return;
      const k = byPath.get(ev.path);
      const r = k === undefined ? null : rounds[k]!;
      if (r === null) return;
      if (phase.counting) {
        share.events++;
        if (r.sentAt >= phase.recordFrom) share.perEvent.record((now - r.sentAt) * 1000);
      }
      if (--r.remaining === 0) {
        if (phase.counting && r.sentAt >= phase.recordFrom) share.rounds.record((now - r.sentAt) * 1000);
        r.done();
      }
    };
    const watchers = await Promise.all(Array.from({ length: opts.sessions }, connect));
    clients.push(...watchers);
    for (const w of watchers) {
      await Promise.all(Array.from({ length: opts.outstanding }, (_, k) => w.addWatch(watchNode(k), onEvent, { mode: 'persistent' })));
    }

    const slot = async (k: number): Promise<void> => {
      while (phase.sending) {
        let done!: () => void;
        const all = new Promise<void>((r) => (done = r));
        const r: Round = { sentAt: performance.now(), remaining: opts.sessions, done };
        rounds[k] = r;
        try {
          await writer.setData(watchNode(k), null);
          if (phase.counting && r.sentAt >= phase.recordFrom) share.setReply.record((performance.now() - r.sentAt) * 1000);
        } catch (e) {
          const key = `${OpCode.setData}:${isZkError(e) ? e.rc : -1}`; // -1: no reply (connection lost)
          share.errors.set(key, (share.errors.get(key) ?? 0) + 1);
          rounds[k] = null;
          return;
        }
        await all;
        rounds[k] = null;
      }
    };

    return {
      share,
      async start(p) {
        phase = p;
        await Promise.all(Array.from({ length: opts.outstanding }, (_, k) => slot(k)));
      },
      open() {
        const open = rounds.filter((r): r is Round => r !== null);
        return { rounds: open.length, events: open.reduce((n, r) => n + r.remaining, 0) };
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
