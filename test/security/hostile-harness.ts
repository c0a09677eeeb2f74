// hostile-harness.ts — issue 9's hostile clients against a zkts server in a child process (the CLI's
// runServer on a zoo.cfg, reporting process.memoryUsage over IPC), with a control client whose
// getData latency is recorded while each attack runs. Used by hostile.test.ts (bounds and
// liveness) and bench/hostile.ts (figures). Every loop is bounded in count and in time.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeConnectResponse, encodeConnectRequest, encodeRequest } from '../../src/protocol/client-codec.js';
import { Code } from '../../src/protocol/codes.js';
import { FrameParser } from '../../src/protocol/frame.js';
import { JuteReader } from '../../src/protocol/jute.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { freePort } from '../conformance/server-process.js';
import { TestClient, withTimeout } from '../conformance/test-client.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const MiB = 1024 * 1024;

export interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
  peakRss: number;
}

export class HostileServer {
  private out = '';
  private waiters: Array<(m: { kind: string } & Partial<Memory>) => void> = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly dir: string,
  ) {
    child.stdout?.on('data', (b: Buffer) => (this.out += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (this.out += b.toString()));
    child.on('message', (m: { kind: string }) => this.waiters.shift()?.(m));
  }

  /** Starts the server on a free port with zoo.cfg `cfg` on top of a test config; waits for it to serve. */
  static async start(cfg: Record<string, string> = {}): Promise<HostileServer> {
    const dir = mkdtempSync(path.join(tmpdir(), 'zkts-hostile-'));
    const port = await freePort();
    const lines = {
      tickTime: '2000',
      dataDir: path.join(dir, 'data'),
      clientPort: String(port),
      clientPortAddress: '127.0.0.1',
      forceSync: 'no',
      'admin.enableServer': 'false',
      ...cfg,
    };
    const cfgFile = path.join(dir, 'zoo.cfg');
    writeFileSync(cfgFile, Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    const child = fork(path.join(HERE, 'hostile-server.ts'), [cfgFile], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const s = new HostileServer(child, port, dir);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        s.waiters.push(() => resolve());
        child.once('exit', () => reject(new Error(`the server exited during start:\n${s.out}`)));
      }),
      60_000,
      'the hostile-test server to start',
    );
    return s;
  }

  output(): string {
    return this.out;
  }

  private ask(kind: string): Promise<{ kind: string } & Partial<Memory>> {
    const p = new Promise<{ kind: string } & Partial<Memory>>((r) => this.waiters.push(r));
    this.child.send({ kind });
    return withTimeout(p, 30_000, `the server's answer to ${kind}`);
  }

  /** The server's memory after a full gc, and the peak RSS since the last resetPeak. */
  async memory(): Promise<Memory> {
    const m = await this.ask('mem');
    return { rss: m.rss!, heapUsed: m.heapUsed!, external: m.external!, peakRss: m.peakRss! };
  }

  async resetPeak(): Promise<void> {
    await this.ask('reset-peak');
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((r) => (this.child.exitCode !== null ? r() : this.child.once('exit', () => r())));
    this.child.kill('SIGTERM');
    await withTimeout(exited, 15_000, 'the server to exit').catch(() => {
      this.child.kill('SIGKILL');
      return withTimeout(exited, 5_000, 'the server to die');
    });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface ControlFigures {
  ops: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** A well-behaved client doing getData in a loop until stopped (at most maxOps, maxMs). */
export class ControlClient {
  private latencies: number[] = [];
  private errors = 0;
  private running: Promise<void> | null = null;
  private stopFlag = false;

  private constructor(private readonly c: TestClient) {}

  static async connect(port: number): Promise<ControlClient> {
    const c = await TestClient.connect('127.0.0.1', port, { timeOutMs: 30_000 });
    await c.request({ type: OpCode.create, path: '/control', data: Buffer.from('x'.repeat(100)), acl: OPEN, flags: 0, ttl: -1n });
    return new ControlClient(c);
  }

  start(maxOps = 200_000, maxMs = 120_000): void {
    this.latencies = [];
    this.errors = 0;
    this.stopFlag = false;
    const deadline = performance.now() + maxMs;
    this.running = (async () => {
      for (let i = 0; i < maxOps && !this.stopFlag && performance.now() < deadline; i++) {
        const t0 = performance.now();
        try {
          const r = await this.c.request({ type: OpCode.getData, path: '/control', watch: false }, 10_000);
          if (r.err !== Code.OK) this.errors++;
          else this.latencies.push(performance.now() - t0);
        } catch {
          this.errors++;
          if (this.c.closed) return;
        }
        // yield so that attack code in this process keeps running too
        if (i % 8 === 7) await new Promise((r) => setImmediate(r));
      }
    })();
  }

  async stop(): Promise<ControlFigures> {
    this.stopFlag = true;
    await this.running;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const q = (p: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
    return { ops: sorted.length, errors: this.errors, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: sorted.at(-1) ?? NaN };
  }

  get closed(): boolean {
    return this.c.closed;
  }

  destroy(): void {
    this.c.destroy();
  }
}

/** A raw socket that completed (or failed) the session handshake. */
interface RawSession {
  socket: net.Socket;
  accepted: boolean;
}

function rawHandshake(port: number, timeoutMs: number): Promise<RawSession> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const parser = new FrameParser();
    let done = false;
    const finish = (accepted: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.on('data', () => {}); // keep draining (pings are not sent: the session may expire)
      resolve({ socket, accepted });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('data', (chunk) => {
      try {
        parser.push(chunk, (f) => finish(decodeConnectResponse(new JuteReader(Buffer.from(f))).sessionId !== 0n));
      } catch {
        finish(false);
      }
    });
    socket.once('connect', () =>
      socket.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30_000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false })),
    );
  });
}

export interface StormFigures {
  attempted: number;
  accepted: number;
  refused: number;
  /** Accepted connections still open after the hold. */
  stillOpen: number;
}

/** `n` connections from 127.0.0.1, `concurrency` at a time, each a session handshake; held for holdMs. */
export async function connectionStorm(port: number, n: number, holdMs: number, concurrency = 100): Promise<StormFigures> {
  const sessions: RawSession[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      sessions.push(await rawHandshake(port, 10_000));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
    await new Promise((r) => setTimeout(r, holdMs));
    const accepted = sessions.filter((s) => s.accepted);
    return {
      attempted: n,
      accepted: accepted.length,
      refused: sessions.length - accepted.length,
      stillOpen: accepted.filter((s) => !s.socket.destroyed && s.socket.readyState === 'open').length,
    };
  } finally {
    for (const s of sessions) s.socket.destroy();
  }
}

export interface SlowReaderFigures {
  getDataSent: number;
  replyBytesAsked: number;
  eventsFired: number;
  /** The server said it closed the connection for unread output. */
  disconnected: boolean;
}

/**
 * A client that never reads: it sets a persistent recursive watch on /slow, asks for `gets`
 * getData of a `nodeBytes` node (replies it will not read), then stops reading while another
 * client fires `events` watch events under /slow. Bounded by counts; waits at most maxMs.
 */
export async function slowReader(server: HostileServer, opts: { gets: number; nodeBytes: number; events: number; maxMs: number }): Promise<SlowReaderFigures> {
  const port = server.port;
  const writer = await TestClient.connect('127.0.0.1', port, { timeOutMs: 30_000 });
  const slow = await rawHandshake(port, 10_000);
  if (!slow.accepted) throw new Error('the slow reader was not accepted');
  try {
    await writer.request({ type: OpCode.create, path: '/slow', data: Buffer.alloc(opts.nodeBytes, 1), acl: OPEN, flags: 0, ttl: -1n });
    slow.socket.pause(); // from here on nothing is read
    slow.socket.removeAllListeners('data');
    let xid = 1;
    slow.socket.write(encodeRequest(xid++, { type: OpCode.addWatch, path: '/slow', mode: 1 }));
    for (let i = 0; i < opts.gets; i++) slow.socket.write(encodeRequest(xid++, { type: OpCode.getData, path: '/slow', watch: false }));
    const deadline = performance.now() + opts.maxMs;
    let fired = 0;
    // events: creates and sets under /slow, 16 in flight at a time
    while (fired < opts.events && performance.now() < deadline) {
      const batch: Array<Promise<unknown>> = [];
      for (let k = 0; k < 16 && fired < opts.events; k++, fired++) {
        const p = `/slow/n${fired % 200}`;
        batch.push(
          fired < 200
            ? writer.request({ type: OpCode.create, path: p, data: Buffer.alloc(100, 2), acl: OPEN, flags: 0, ttl: -1n })
            : writer.request({ type: OpCode.setData, path: p, data: Buffer.alloc(100, 3), version: -1 }),
        );
      }
      await Promise.all(batch);
    }
    return {
      getDataSent: opts.gets,
      replyBytesAsked: opts.gets * opts.nodeBytes,
      eventsFired: fired,
      disconnected: /bytes of replies and events unread/.test(server.output()),
    };
  } finally {
    slow.socket.destroy();
    writer.destroy();
  }
}

export interface FloodFigures {
  writes: number;
  ok: number;
  failed: number;
  bytesSent: number;
}

/**
 * `clients` clients, each sending `perClient` setData of `bytes` to its own node without waiting
 * for replies (all pipelined at once), then waiting for the replies (at most maxMs).
 */
export async function largeWriteFlood(port: number, opts: { clients: number; perClient: number; bytes: number; maxMs: number }): Promise<FloodFigures> {
  const clients = await Promise.all(Array.from({ length: opts.clients }, () => TestClient.connect('127.0.0.1', port, { timeOutMs: 30_000 })));
  const data = Buffer.alloc(opts.bytes, 7);
  let ok = 0;
  let failed = 0;
  try {
    await Promise.all(clients.map((c, i) => c.request({ type: OpCode.create, path: `/flood-${i}`, data: null, acl: OPEN, flags: 0, ttl: -1n })));
    await Promise.all(
      clients.map(async (c, i) => {
        const replies = Array.from({ length: opts.perClient }, () =>
          c.request({ type: OpCode.setData, path: `/flood-${i}`, data, version: -1 }, opts.maxMs).then(
            (r) => (r.err === Code.OK ? ok++ : failed++),
            () => failed++,
          ),
        );
        await Promise.all(replies);
      }),
    );
  } finally {
    for (const c of clients) c.destroy();
  }
  return { writes: opts.clients * opts.perClient, ok, failed, bytesSent: opts.clients * opts.perClient * opts.bytes };
}

export const mib = (bytes: number): string => (bytes / MiB).toFixed(1);
