// idle-sessions.ts — holds many idle ZooKeeper sessions open against a server, spread over
// several generator processes, each session on its own socket sending only the pings a client
// sends (every timeOut/3, start times spread over that interval). Used by compare.ts to measure
// what 10,000 idle sessions cost a server in memory and in heartbeat CPU.
import { type ChildProcess, fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { encodeConnectRequest, encodeRequest } from '../src/protocol/client-codec.js';
import { FrameParser } from '../src/protocol/frame.js';
import { OpCode } from '../src/protocol/opcodes.js';

export interface IdleSessionsOptions {
  port: number;
  sessions: number;
  procs: number;
  /** Session timeout asked for; clients ping every third of it. */
  sessionTimeoutMs: number;
  /** Sessions each process has connecting at once. */
  connectConcurrency?: number;
  connectTimeoutMs?: number;
}

export interface IdleSessionsCounts {
  connected: number;
  failed: number;
  /** Connections that ended while the sessions were being held. */
  lost: number;
  pingReplies: number;
  errors: string[];
}

type ToWorker =
  | { kind: 'open'; port: number; count: number; sessionTimeoutMs: number; concurrency: number; connectTimeoutMs: number }
  | { kind: 'count' }
  | { kind: 'close' };
type FromWorker = { kind: 'counts'; counts: IdleSessionsCounts } | { kind: 'error'; message: string };

const PING_XID = -2;
/** A process stops starting new sessions after this long (those not tried count as failed). */
const OPEN_DEADLINE_MS = 180_000;
const CLOSE_XID = 1;

/** One process's share: sessions opened with bounded concurrency, then kept alive by pings. */
class Holder {
  private readonly sockets: net.Socket[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  readonly counts: IdleSessionsCounts = { connected: 0, failed: 0, lost: 0, pingReplies: 0, errors: [] };
  private holding = false;
  private closing = false;
  private readonly ping = encodeRequest(PING_XID, { type: OpCode.ping });

  constructor(private readonly m: Extract<ToWorker, { kind: 'open' }>) {}

  async open(): Promise<void> {
    let next = 0;
    const stopAt = Date.now() + OPEN_DEADLINE_MS;
    const one = async (): Promise<void> => {
      while (next < this.m.count && Date.now() < stopAt) {
        next++;
        // A server slow to take new sessions (a busy machine) gets up to 3 tries per session.
        let ok = false;
        for (let attempt = 0; attempt < 3 && !ok; attempt++) ok = await this.connectOne();
        if (ok) this.counts.connected++;
        else this.counts.failed++;
      }
    };
    await Promise.all(Array.from({ length: this.m.concurrency }, one));
    if (next < this.m.count) {
      this.counts.failed += this.m.count - next;
      this.note(`${this.m.count - next} sessions not tried: ${OPEN_DEADLINE_MS / 1000} s spent opening`);
    }
    this.holding = true;
  }

  private note(e: string): void {
    if (this.counts.errors.length < 5) this.counts.errors.push(e);
  }

  private connectOne(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = net.connect(this.m.port, '127.0.0.1');
      const parser = new FrameParser(1 << 20);
      let connected = false;
      let settled = false;
      const settle = (ok: boolean, why?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!ok) {
          if (why !== undefined) this.note(why);
          s.destroy();
        }
        resolve(ok);
      };
      const timer = setTimeout(() => settle(false, 'connect timed out'), this.m.connectTimeoutMs);
      s.setNoDelay(true);
      s.on('connect', () =>
        s.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: this.m.sessionTimeoutMs, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false })),
      );
      s.on('data', (chunk: Buffer) => {
        try {
          parser.push(chunk, (f) => {
            if (!connected) {
              const timeOut = f.readInt32BE(4);
              if (timeOut <= 0) return settle(false, 'session refused');
              connected = true;
              this.sockets.push(s);
              const every = Math.max(100, Math.floor(timeOut / 3));
              const start = setTimeout(() => {
                if (this.closing) return;
                s.write(this.ping);
                this.timers.push(setInterval(() => s.write(this.ping), every));
              }, Math.random() * every);
              this.timers.push(start);
              settle(true);
            } else if (f.readInt32BE(0) === PING_XID) {
              this.counts.pingReplies++;
            }
          });
        } catch (e) {
          settle(false, `bad frame: ${(e as Error).message}`);
        }
      });
      s.on('error', (e) => settle(false, e.message));
      s.on('close', () => {
        if (this.holding && !this.closing) {
          this.counts.lost++;
          this.note('a held session was closed by the server');
        }
        settle(false, 'closed before the session was established');
      });
    });
  }

  /** closeSession on every session, then the sockets go (bounded: 5 s). */
  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearTimeout(t);
    const frame = encodeRequest(CLOSE_XID, { type: OpCode.closeSession });
    await Promise.all(
      this.sockets.map(
        (s) =>
          new Promise<void>((r) => {
            if (s.destroyed) return r();
            const t = setTimeout(() => (s.destroy(), r()), 5_000);
            s.once('close', () => (clearTimeout(t), r()));
            s.write(frame);
            s.end();
          }),
      ),
    );
  }
}

function runWorker(): void {
  let holder: Holder | null = null;
  const send = (m: FromWorker): void => void process.send!(m);
  process.on('message', (m: ToWorker) => {
    if (m.kind === 'open') {
      holder = new Holder(m);
      holder.open().then(
        () => send({ kind: 'counts', counts: holder!.counts }),
        (e: Error) => send({ kind: 'error', message: e.message }),
      );
    } else if (m.kind === 'count') {
      send({ kind: 'counts', counts: holder!.counts });
    } else {
      void holder?.close().then(() => process.send!({ kind: 'counts', counts: holder!.counts } satisfies FromWorker, () => process.exit(0)));
    }
  });
}

export interface IdleSessions {
  /** What the processes report now (sessions held, pings answered so far). */
  counts(): Promise<IdleSessionsCounts>;
  /** Closes every session and ends the processes. */
  close(): Promise<IdleSessionsCounts>;
}

function sum(cs: IdleSessionsCounts[]): IdleSessionsCounts {
  return cs.reduce(
    (a, c) => ({
      connected: a.connected + c.connected,
      failed: a.failed + c.failed,
      lost: a.lost + c.lost,
      pingReplies: a.pingReplies + c.pingReplies,
      errors: [...a.errors, ...c.errors].slice(0, 5),
    }),
    { connected: 0, failed: 0, lost: 0, pingReplies: 0, errors: [] },
  );
}

/** Opens `sessions` sessions over `procs` processes; resolves once every process has finished connecting. */
export async function openIdleSessions(o: IdleSessionsOptions): Promise<IdleSessions> {
  const connectTimeoutMs = o.connectTimeoutMs ?? 20_000;
  const workers: ChildProcess[] = Array.from({ length: o.procs }, () =>
    fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, ZKTS_IDLE_WORKER: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  const ask = (w: ChildProcess, m: ToWorker, timeoutMs: number): Promise<IdleSessionsCounts> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`idle-sessions worker gave no answer in ${timeoutMs} ms`)), timeoutMs);
      const onMsg = (r: FromWorker): void => {
        clearTimeout(t);
        w.off('message', onMsg);
        if (r.kind === 'counts') resolve(r.counts);
        else reject(new Error(r.message));
      };
      w.on('message', onMsg);
      w.send(m);
    });
  const kill = (): void => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  };
  try {
    const perProc = (i: number): number => Math.floor(((i + 1) * o.sessions) / o.procs) - Math.floor((i * o.sessions) / o.procs);
    const concurrency = o.connectConcurrency ?? 64;
    const openBudget = OPEN_DEADLINE_MS + 3 * connectTimeoutMs + 10_000;
    await Promise.all(
      workers.map((w, i) => ask(w, { kind: 'open', port: o.port, count: perProc(i), sessionTimeoutMs: o.sessionTimeoutMs, concurrency, connectTimeoutMs }, openBudget)),
    );
  } catch (e) {
    kill();
    throw e;
  }
  return {
    counts: async () => sum(await Promise.all(workers.map((w) => ask(w, { kind: 'count' }, 10_000)))),
    close: async () => {
      try {
        return sum(await Promise.all(workers.map((w) => ask(w, { kind: 'close' }, 15_000))));
      } finally {
        kill();
      }
    },
  };
}

if (process.env.ZKTS_IDLE_WORKER === '1') runWorker();
