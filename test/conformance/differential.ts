// differential.ts — runs the same scripted operations against two ZooKeeper-protocol servers over
// raw sockets and compares what they answer, field by field. Only values that legitimately differ
// between two runs are normalised: zxids, session ids and ephemeralOwners become placeholders in
// order of first appearance; ctime/mtime become "time of zxid Zn" (checked per server: one time
// per zxid, times non-decreasing in zxid order, inside the run's wall-clock window); passwords
// become their length. Everything else must be identical.
//
// Pieces: a tiny promise-based client (TestClient), server processes (real ZooKeeper or any
// command), a script runner that records one Observation per step, and compareRuns().
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type ConnectResponse,
  type OpResult,
  type Reply,
  type Response,
  decodeConnectResponse,
  decodeReply,
  encodeConnectRequest,
  encodeRawRequest,
  encodeRequest,
  specialXid,
} from '../../src/protocol/client-codec.js';
import { codeName } from '../../src/protocol/codes.js';
import { FrameParser } from '../../src/protocol/frame.js';
import { JuteReader } from '../../src/protocol/jute.js';
import { OpCode, opName } from '../../src/protocol/opcodes.js';
import type { Stat } from '../../src/protocol/records.js';
import type { Request } from '../../src/protocol/requests.js';

// ---------------------------------------------------------------------------------------------
// Deadlines

export async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delayMs = 10;
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(delayMs, Math.max(1, deadline - Date.now()))));
    delayMs = Math.min(delayMs * 2, 200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function withTimeout<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// TestClient: one connection, requests matched to replies by xid, notifications kept in order.

export class ConnectionClosedError extends Error {
  constructor(what: string) {
    super(`connection closed ${what}`);
    this.name = 'ConnectionClosedError';
  }
}

export interface Notification {
  seq: number;
  zxid: bigint;
  type: number;
  state: number;
  path: string;
}

export interface ResponseReply {
  seq: number;
  xid: number;
  zxid: bigint;
  err: number;
  type: number;
  body: Response | null;
}

export interface ConnectOptions {
  timeOutMs?: number;
  sessionId?: bigint;
  passwd?: Buffer;
  lastZxidSeen?: bigint;
  readOnly?: boolean;
  timeoutMs?: number;
}

interface Pending {
  type: number;
  resolve: (r: ResponseReply) => void;
  reject: (e: Error) => void;
}

export class TestClient {
  readonly connectResponse: ConnectResponse;
  readonly notifications: Notification[] = [];
  /** Highest zxid seen in a reply header, as a client tracks it for reconnects. */
  lastZxid = 0n;
  closed = false;
  private seq = 0;
  private nextXid = 1;
  private readonly pending = new Map<number, Pending>();
  /** Replies to special xids (ping, auth, setWatches) come back in order. */
  private readonly pendingSpecial = new Map<number, Pending[]>();
  private readonly closeWaiters: Array<() => void> = [];

  private constructor(
    private readonly socket: net.Socket,
    connectResponse: ConnectResponse,
    parser: FrameParser,
    leftover: Buffer[],
  ) {
    this.connectResponse = connectResponse;
    socket.on('data', (chunk) => this.onData(parser, chunk));
    socket.on('close', () => this.onClose());
    socket.on('error', () => this.onClose());
    for (const frame of leftover) this.onFrame(frame);
  }

  static async connect(host: string, port: number, opts: ConnectOptions = {}): Promise<TestClient> {
    const socket = net.connect(port, host);
    socket.setNoDelay(true);
    const parser = new FrameParser();
    const frames: Buffer[] = [];
    const handshake = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        try {
          parser.push(chunk, (f) => frames.push(Buffer.from(f)));
        } catch (e) {
          reject(e as Error);
        }
        if (frames.length > 0) {
          socket.off('data', onData);
          resolve();
        }
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.once('close', () => reject(new ConnectionClosedError('during the handshake')));
      socket.once('connect', () => {
        socket.write(
          encodeConnectRequest({
            protocolVersion: 0,
            lastZxidSeen: opts.lastZxidSeen ?? 0n,
            timeOut: opts.timeOutMs ?? 30_000,
            sessionId: opts.sessionId ?? 0n,
            passwd: opts.passwd ?? Buffer.alloc(16),
            readOnly: opts.readOnly ?? false,
          }),
        );
      });
    });
    try {
      await withTimeout(handshake, opts.timeoutMs ?? 10_000, `the ConnectResponse from ${host}:${port}`);
    } catch (e) {
      socket.destroy();
      throw e;
    }
    socket.removeAllListeners('error');
    socket.removeAllListeners('close');
    const [first, ...rest] = frames as [Buffer, ...Buffer[]];
    return new TestClient(socket, decodeConnectResponse(new JuteReader(first)), parser, rest);
  }

  get sessionId(): bigint {
    return this.connectResponse.sessionId;
  }

  /** Sends `req` (special xids for ping/auth/setWatches) and resolves with its reply. */
  request(req: Request, timeoutMs = 10_000): Promise<ResponseReply> {
    const special = specialXid(req.type);
    const xid = special ?? this.nextXid++;
    return this.send(xid, req.type, encodeRequest(xid, req), timeoutMs);
  }

  /** Sends a request with any opcode and raw body bytes. */
  raw(type: number, body: Uint8Array, timeoutMs = 10_000): Promise<ResponseReply> {
    const xid = this.nextXid++;
    return this.send(xid, type, encodeRawRequest(xid, type, body), timeoutMs);
  }

  private send(xid: number, type: number, frame: Buffer, timeoutMs: number): Promise<ResponseReply> {
    if (this.closed) return Promise.reject(new ConnectionClosedError(`before ${opName(type)}`));
    const p = new Promise<ResponseReply>((resolve, reject) => {
      const entry = { type, resolve, reject };
      if (xid < 0) {
        const q = this.pendingSpecial.get(xid) ?? [];
        q.push(entry);
        this.pendingSpecial.set(xid, q);
      } else {
        this.pending.set(xid, entry);
      }
    });
    this.socket.write(frame);
    return withTimeout(p, timeoutMs, `the reply to ${opName(type)} xid ${xid}`);
  }

  /** Notifications received so far that nobody has taken yet, in arrival order. */
  takeNotifications(beforeSeq = Number.POSITIVE_INFINITY, max = Number.POSITIVE_INFINITY): Notification[] {
    let n = 0;
    while (n < this.notifications.length && n < max && this.notifications[n]!.seq < beforeSeq) n++;
    return this.notifications.splice(0, n);
  }

  async waitForNotifications(count: number, timeoutMs = 10_000): Promise<Notification[]> {
    await pollUntil(`${count} notification(s)`, timeoutMs, async () =>
      this.notifications.length >= count || this.closed ? true : undefined,
    );
    return this.takeNotifications(Number.POSITIVE_INFINITY, count);
  }

  /** Resolves when the server has closed the connection. */
  waitClosed(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return withTimeout(new Promise<void>((r) => this.closeWaiters.push(r)), timeoutMs, 'the connection to close');
  }

  /** Sends closeSession and waits for the reply (or the connection to drop). */
  async close(timeoutMs = 10_000): Promise<ResponseReply | null> {
    if (this.closed) return null;
    try {
      const reply = await this.request({ type: OpCode.closeSession }, timeoutMs);
      await this.waitClosed(timeoutMs).catch(() => undefined);
      return reply;
    } catch (e) {
      if (e instanceof ConnectionClosedError) return null;
      throw e;
    } finally {
      this.destroy();
    }
  }

  /** Drops the TCP connection without closing the session. */
  destroy(): void {
    this.socket.destroy();
    this.onClose();
  }

  private onData(parser: FrameParser, chunk: Buffer): void {
    try {
      parser.push(chunk, (f) => this.onFrame(f));
    } catch (e) {
      this.failAll(e as Error);
      this.socket.destroy();
    }
  }

  private onFrame(frame: Buffer): void {
    const seq = ++this.seq;
    let reply: Reply;
    try {
      reply = decodeReply(frame, (xid) => (xid >= 0 ? this.pending.get(xid)?.type : undefined));
    } catch (e) {
      this.failAll(e as Error);
      this.socket.destroy();
      return;
    }
    const h = reply.header;
    if (reply.kind === 'notification') {
      this.notifications.push({ seq, zxid: h.zxid, ...reply.event });
      return;
    }
    if (h.zxid > this.lastZxid) this.lastZxid = h.zxid;
    const entry = h.xid >= 0 ? this.pending.get(h.xid) : this.pendingSpecial.get(h.xid)?.shift();
    if (h.xid >= 0) this.pending.delete(h.xid);
    entry?.resolve({ seq, xid: h.xid, zxid: h.zxid, err: h.err, type: reply.type, body: reply.body });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const q of this.pendingSpecial.values()) for (const p of q) p.reject(e);
    this.pendingSpecial.clear();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new ConnectionClosedError('while a reply was pending'));
    for (const w of this.closeWaiters.splice(0)) w();
  }
}

// ---------------------------------------------------------------------------------------------
// Server processes

export interface ServerProcess {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  if (addr === null || typeof addr === 'string') throw new Error('no TCP address');
  return addr.port;
}

export const ZOOKEEPER_SH = '/work/shared/conformance/zookeeper.sh';
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';

/** Why a real ZooKeeper cannot be started here, or null when it can. */
export function javaZooKeeperMissing(): string | null {
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) return 'java is not installed';
  if (!existsSync(ZOOKEEPER_JAR)) return `${ZOOKEEPER_JAR} is missing (apt-get install zookeeper)`;
  return null;
}

export interface ServerOptions {
  /** Extra zoo.cfg lines. */
  cfg?: Record<string, string>;
  /** Java system properties (real ZooKeeper only). */
  systemProperties?: Record<string, string>;
  startTimeoutMs?: number;
}

function writeConfig(dir: string, port: number, extra: Record<string, string>): string {
  const cfg: Record<string, string> = {
    tickTime: '2000',
    dataDir: path.join(dir, 'data'),
    clientPort: String(port),
    clientPortAddress: '127.0.0.1',
    '4lw.commands.whitelist': '*',
    'admin.enableServer': 'false',
    ...extra,
  };
  const file = path.join(dir, 'zoo.cfg');
  writeFileSync(file, Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return file;
}

/** Starts the real Apache ZooKeeper (Debian's 3.8) standalone on a free port with a temp dataDir. */
export function startJavaZooKeeper(opts: ServerOptions = {}): Promise<ServerProcess> {
  const props = Object.entries(opts.systemProperties ?? {}).map(([k, v]) => `-D${k}=${v}`);
  const launch = (cfgFile: string): ChildProcess =>
    existsSync(ZOOKEEPER_SH)
      ? spawn('bash', [ZOOKEEPER_SH, cfgFile], { env: { ...process.env, ZK_JVMFLAGS: props.join(' ') } })
      : spawn('java', ['-cp', `/etc/zookeeper/conf:${ZOOKEEPER_JAR}`, ...props,
          'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgFile]);
  return startServer('zookeeper', opts, launch);
}

/** Starts a server by command line (e.g. "node dist/cli/main.js server"), the cfg path appended. */
export function startCommandServer(command: string, opts: ServerOptions = {}): Promise<ServerProcess> {
  const [exe, ...args] = command.trim().split(/\s+/) as [string, ...string[]];
  return startServer(command, opts, (cfgFile) => spawn(exe, [...args, cfgFile], { env: process.env }));
}

async function startServer(name: string, opts: ServerOptions, launch: (cfg: string) => ChildProcess): Promise<ServerProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'zkts-diff-'));
  const port = await freePort();
  const cfgFile = writeConfig(dir, port, opts.cfg ?? {});
  const child = launch(cfgFile);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  const proc: ServerProcess = {
    name,
    host: '127.0.0.1',
    port,
    dataDir: dir,
    output: () => out,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await withTimeout(exit, 10_000, `${name} to exit`).catch(() => {
          child.kill('SIGKILL');
          return withTimeout(exit, 5_000, `${name} to die`);
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await pollUntil(`${name} to accept sessions on port ${port}`, opts.startTimeoutMs ?? 30_000, async () => {
      if (exited) throw new Error(`${name} exited during start:\n${out}`);
      return (await probeSession('127.0.0.1', port)) ? true : undefined;
    });
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return proc;
}

/** True when the server completes a handshake; the probe session is closed again. */
async function probeSession(host: string, port: number): Promise<boolean> {
  try {
    const c = await TestClient.connect(host, port, { timeoutMs: 2_000, timeOutMs: 4_000 });
    if (c.sessionId === 0n) {
      c.destroy();
      return false;
    }
    await c.close(2_000);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Scripts

interface StepBase {
  name: string;
  /** Which connection the step uses; scripts name them 'a', 'b', …. Default 'a'. */
  client?: string;
  /**
   * Set when ZooKeeper 3.9 answers this step differently from the 3.8 reference (the JIRA and
   * what changed). A difference here is reported but does not fail, unless
   * ZKTS_DIFF_VERSION_STRICT=1.
   */
  versionNote?: string;
}

/** What a step's request may depend on: values only known while the script runs. */
export interface ScriptContext {
  /** The highest zxid client `name` has seen in a reply, over all its connections so far. */
  lastZxid(name: string): bigint;
}

export type Step = StepBase &
  (
    | { connect: { timeOutMs?: number; resumeOf?: string; readOnly?: boolean; badPasswd?: boolean; sessionId?: bigint } }
    | { req: Request | ((ctx: ScriptContext) => Request); expectErr?: number }
    | { raw: { type: number; body?: Buffer }; expectErr?: number }
    | { events: number; timeoutMs?: number }
    | { poll: Request; until: PollCondition; timeoutMs?: number }
    | { close: true }
    | { drop: true }
  );

/** When a poll step stops repeating its request. */
export interface PollCondition {
  what: string;
  test(reply: ResponseReply): boolean;
}

export const errIs = (code: number): PollCondition => ({ what: `error ${codeName(code)}`, test: (r) => r.err === code });

export interface Script {
  name: string;
  steps: Step[];
  /**
   * Set (to the reason) when the server writes txns of its own during the script (container and
   * TTL reaping). Their timing differs between runs and a read reply's header zxid (the last
   * zxid applied) may show one; for such scripts those header zxids compare as ">=Zn" — the
   * newest placeholder at or below them — instead of exactly.
   */
  backgroundTxns?: string;
}

export interface Target {
  host: string;
  port: number;
}

/** What one step saw, normalised: its result and the notifications that arrived before it. */
export interface Observation {
  step: number;
  name: string;
  client: string;
  result: unknown;
  events: unknown[];
}

export interface RunResult {
  observations: Observation[];
  /** Problems the normaliser found inside one run (time/zxid inconsistencies, unmet expectErr). */
  anomalies: string[];
}

export interface RunOptions {
  /**
   * Compare the order of children, ephemerals and whoAmI entries too. ZooKeeper returns them in
   * Java HashSet / ConcurrentHashMap iteration order; by default they are compared as sets.
   */
  strictOrder?: boolean;
}

export async function runScript(target: Target, script: Script, opts: RunOptions = {}): Promise<RunResult> {
  const norm = new Normalizer(Math.floor(performance.timeOrigin), opts.strictOrder ?? false, script.backgroundTxns !== undefined);
  const clients = new Map<string, TestClient>();
  const lastZxids = new Map<string, bigint>();
  const ctx: ScriptContext = {
    lastZxid: (name) => {
      const c = clients.get(name);
      const seen = lastZxids.get(name) ?? 0n;
      return c !== undefined && c.lastZxid > seen ? c.lastZxid : seen;
    },
  };
  const observations: Observation[] = [];
  try {
    for (const [i, step] of script.steps.entries()) {
      const name = step.client ?? 'a';
      const before = clients.get(name);
      if (before !== undefined) lastZxids.set(name, ctx.lastZxid(name));
      const obs = await runStep(target, clients, name, step, norm, ctx);
      const after = clients.get(name);
      if (after !== undefined) lastZxids.set(name, ctx.lastZxid(name));
      observations.push({ step: i, name: step.name, client: name, ...obs });
      if ('expectErr' in step && step.expectErr !== undefined) {
        const got = (obs.result as { err?: string }).err;
        if (got !== codeName(step.expectErr)) {
          norm.anomalies.push(`step ${i} "${step.name}": expected ${codeName(step.expectErr)}, got ${String(got)}`);
        }
      }
    }
    // Anything still queued, or arriving before a final ping, is a trailing notification.
    for (const [name, c] of clients) {
      if (c.closed) continue;
      const ping = await c.request({ type: OpCode.ping });
      const events = c.takeNotifications(ping.seq).map((e) => norm.event(e));
      if (events.length > 0) {
        observations.push({ step: script.steps.length, name: 'trailing notifications', client: name, result: null, events });
      }
    }
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close(5_000).catch(() => c.destroy())));
  }
  norm.checkTimeOrder();
  return { observations, anomalies: norm.anomalies };
}

async function runStep(
  target: Target,
  clients: Map<string, TestClient>,
  name: string,
  step: Step,
  norm: Normalizer,
  ctx: ScriptContext,
): Promise<{ result: unknown; events: unknown[] }> {
  if ('connect' in step) {
    const { resumeOf } = step.connect;
    const prev = resumeOf === undefined ? undefined : clients.get(resumeOf);
    if (resumeOf !== undefined && prev === undefined) throw new Error(`no client ${resumeOf}`);
    const passwd = prev === undefined ? undefined : Buffer.from(prev.connectResponse.passwd);
    if (passwd !== undefined && step.connect.badPasswd === true) passwd[0] = passwd[0]! ^ 0xff;
    const resume = prev === undefined ? {} : { sessionId: prev.sessionId, passwd, lastZxidSeen: ctx.lastZxid(resumeOf!) };
    const c = await TestClient.connect(target.host, target.port, {
      timeOutMs: step.connect.timeOutMs ?? 30_000,
      readOnly: step.connect.readOnly ?? false,
      ...resume,
      ...(step.connect.sessionId === undefined ? {} : { sessionId: step.connect.sessionId, passwd: Buffer.alloc(16) }),
    });
    clients.get(name)?.destroy();
    clients.set(name, c);
    // An expired or refused session (timeOut 0, sessionId 0) is answered and then closed. No ping
    // for a live one: it would move lastZxid, which a following setWatches must not see.
    let connection = 'open';
    if (c.connectResponse.sessionId === 0n) {
      connection = await c.waitClosed(5_000).then(() => 'closed', () => 'left open');
    }
    return { result: { ...(norm.connectResponse(c.connectResponse) as object), connection }, events: [] };
  }
  const c = clients.get(name);
  if (c === undefined) throw new Error(`step "${step.name}": client ${name} is not connected`);
  if ('events' in step) {
    const got = await c.waitForNotifications(step.events, step.timeoutMs);
    return { result: null, events: got.map((e) => norm.event(e)) };
  }
  if ('close' in step) {
    const reply = await c.close();
    return { result: reply === null ? 'connection closed' : norm.reply(reply), events: c.takeNotifications().map((e) => norm.event(e)) };
  }
  if ('drop' in step) {
    c.destroy();
    return { result: 'dropped', events: c.takeNotifications().map((e) => norm.event(e)) };
  }
  if ('poll' in step) {
    let last: ResponseReply | undefined;
    await pollUntil(`${opName(step.poll.type)} to answer ${step.until.what}`, step.timeoutMs ?? 10_000, async () => {
      last = await c.request(step.poll);
      return step.until.test(last) ? true : undefined;
    });
    return { result: norm.reply(last!), events: c.takeNotifications(last!.seq).map((e) => norm.event(e)) };
  }
  try {
    const reply =
      'req' in step
        ? await c.request(typeof step.req === 'function' ? step.req(ctx) : step.req)
        : await c.raw(step.raw.type, step.raw.body ?? Buffer.alloc(0));
    const result = norm.reply(reply);
    const events = c.takeNotifications(reply.seq).map((e) => norm.event(e));
    if ('raw' in step) {
      // Does the server keep the connection after this? A ping either comes back or the socket closes.
      const still = await c.request({ type: OpCode.ping }).then(() => 'open', () => 'closed');
      return { result: { ...(result as object), connection: still }, events };
    }
    return { result, events };
  } catch (e) {
    if (!(e instanceof ConnectionClosedError)) throw e;
    return { result: 'connection closed', events: c.takeNotifications().map((n) => norm.event(n)) };
  }
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/** Opcodes that never make a txn: their reply header carries the last zxid applied. */
const READS = new Set<number>([
  OpCode.exists, OpCode.getData, OpCode.getChildren, OpCode.getChildren2, OpCode.getACL, OpCode.sync, OpCode.ping,
  OpCode.multiRead, OpCode.checkWatches, OpCode.removeWatches, OpCode.addWatch, OpCode.setWatches, OpCode.setWatches2,
  OpCode.getEphemerals, OpCode.getAllChildrenNumber, OpCode.whoAmI, OpCode.auth, OpCode.sasl,
]);

class Normalizer {
  readonly anomalies: string[] = [];
  private readonly zxids = new Map<bigint, string>();
  private readonly sessions = new Map<bigint, string>();
  private readonly timeOfZxid = new Map<bigint, bigint>();

  constructor(
    private readonly startMs: number,
    private readonly strictOrder: boolean,
    private readonly looseReadZxids: boolean,
  ) {}

  /** A read's header zxid without allocating: ">=Zn" for the newest placeholder at or below it. */
  private atLeast(v: bigint): string | number {
    if (v <= 0n) return Number(v);
    let best: [bigint, string] | undefined;
    for (const [z, p] of this.zxids) if (z <= v && (best === undefined || z > best[0])) best = [z, p];
    return best === undefined ? '>=0' : `>=${best[1]}`;
  }

  zxid(v: bigint): string | number {
    if (v <= 0n) return Number(v);
    let p = this.zxids.get(v);
    if (p === undefined) this.zxids.set(v, (p = `Z${this.zxids.size + 1}`));
    return p;
  }

  /** A zxid that must not allocate a placeholder (it may be absent on the other side). */
  knownZxid(v: bigint): string | number {
    return v <= 0n ? Number(v) : (this.zxids.get(v) ?? 'unseen-zxid');
  }

  session(v: bigint): string | number {
    if (v === 0n) return 0;
    let p = this.sessions.get(v);
    if (p === undefined) this.sessions.set(v, (p = `S${this.sessions.size + 1}`));
    return p;
  }

  time(t: bigint, zxid: bigint, field: string): string | number {
    if (t === 0n && zxid === 0n) return 0;
    const seen = this.timeOfZxid.get(zxid);
    if (seen === undefined) this.timeOfZxid.set(zxid, t);
    else if (seen !== t) this.anomalies.push(`${field}: zxid 0x${zxid.toString(16)} has times ${seen} and ${t}`);
    const now = BigInt(Date.now());
    if (zxid > 0n && (t < BigInt(this.startMs) - 5_000n || t > now + 5_000n)) {
      this.anomalies.push(`${field}: time ${t} is outside this process's lifetime (${this.startMs}..${now})`);
    }
    return `time(${this.zxid(zxid)})`;
  }

  /** Times must not go backwards as zxids go forwards. */
  checkTimeOrder(): void {
    const byZxid = [...this.timeOfZxid].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (let i = 1; i < byZxid.length; i++) {
      if (byZxid[i]![1] < byZxid[i - 1]![1]) {
        this.anomalies.push(`time goes backwards: zxid 0x${byZxid[i]![0].toString(16)} is older than its predecessor`);
      }
    }
  }

  stat(s: Stat): Record<string, unknown> {
    return {
      czxid: this.zxid(s.czxid),
      mzxid: this.zxid(s.mzxid),
      ctime: this.time(s.ctime, s.czxid, 'ctime'),
      mtime: this.time(s.mtime, s.mzxid, 'mtime'),
      version: s.version,
      cversion: s.cversion,
      aversion: s.aversion,
      ephemeralOwner: this.session(s.ephemeralOwner),
      dataLength: s.dataLength,
      numChildren: s.numChildren,
      pzxid: this.zxid(s.pzxid),
    };
  }

  connectResponse(r: ConnectResponse): unknown {
    return {
      protocolVersion: r.protocolVersion,
      timeOut: r.timeOut,
      sessionId: this.session(r.sessionId),
      passwdBytes: r.passwd.length,
      readOnly: r.readOnly,
    };
  }

  reply(r: ResponseReply): unknown {
    const zxid = this.looseReadZxids && READS.has(r.type) ? this.atLeast(r.zxid) : this.zxid(r.zxid);
    return { op: opName(r.type), zxid, err: codeName(r.err), body: r.body === null ? null : this.body(r.body) };
  }

  event(e: Notification): unknown {
    return { zxid: this.knownZxid(e.zxid), type: e.type, state: e.state, path: e.path };
  }

  private body(b: Response | OpResult): unknown {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(b)) {
      if (k === 'type') out.type = opName(v as number);
      else if (k === 'stat') out.stat = this.stat(v as Stat);
      else if (k === 'results') out.results = (v as OpResult[]).map((x) => this.body(x));
      else if (k === 'children' || k === 'ephemerals') out[k] = this.strictOrder ? v : [...(v as string[])].sort();
      else if (k === 'clientInfo') out[k] = this.strictOrder ? v : [...(v as object[])].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
      else if (Buffer.isBuffer(v)) out[k] = data(v);
      else if (k === 'err') out.err = codeName(v as number);
      else out[k] = v;
    }
    return out;
  }
}

function data(b: Buffer): string {
  const s = b.toString('utf8');
  return /^[\x20-\x7e]*$/.test(s) ? `'${s}'` : `0x${b.toString('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// Comparison

export interface Mismatch {
  step: number;
  name: string;
  client: string;
  field: string;
  left: unknown;
  right: unknown;
  /** The step's versionNote: a known 3.8/3.9 difference. */
  versionNote?: string;
}

/** A known 3.8 → 3.9 difference: 3.8 sends notifications with zxid -1, 3.9 the txn's zxid. */
function toleratedNotificationZxid(field: string, left: unknown, right: unknown): boolean {
  return /^events\[\d+\]\.zxid$/.test(field) && (left === -1 || right === -1);
}

export function compareRuns(left: RunResult, right: RunResult, script?: Script): Mismatch[] {
  const out: Mismatch[] = [];
  const n = Math.max(left.observations.length, right.observations.length);
  for (let i = 0; i < n; i++) {
    const l = left.observations[i];
    const r = right.observations[i];
    const at = l ?? r!;
    const diffs: Array<[string, unknown, unknown]> = [];
    diff('', l === undefined ? undefined : { result: l.result, events: l.events },
      r === undefined ? undefined : { result: r.result, events: r.events }, diffs);
    const versionNote = script?.steps[at.step]?.versionNote;
    for (const [field, lv, rv] of diffs) {
      if (toleratedNotificationZxid(field, lv, rv)) continue;
      out.push({ step: at.step, name: at.name, client: at.client, field, left: lv, right: rv, ...(versionNote === undefined ? {} : { versionNote }) });
    }
  }
  return out;
}

function diff(at: string, l: unknown, r: unknown, out: Array<[string, unknown, unknown]>): void {
  if (Object.is(l, r)) return;
  if (typeof l === 'object' && typeof r === 'object' && l !== null && r !== null && Array.isArray(l) === Array.isArray(r)) {
    const keys = new Set([...Object.keys(l), ...Object.keys(r)]);
    for (const k of keys) {
      const sub = Array.isArray(l) ? `${at}[${k}]` : at === '' ? k : `${at}.${k}`;
      diff(sub, (l as Record<string, unknown>)[k], (r as Record<string, unknown>)[k], out);
    }
    return;
  }
  out.push([at, l, r]);
}

export function formatMismatches(ms: Mismatch[], script: Script, left: RunResult, right: RunResult, names: [string, string]): string {
  const lines: string[] = [];
  const shown = new Set<number>();
  for (const m of ms) {
    lines.push(`script "${script.name}" step ${m.step} "${m.name}" (client ${m.client}): ${m.field}`);
    if (m.versionNote !== undefined) lines.push(`  (differs between ZooKeeper 3.8 and 3.9: ${m.versionNote})`);
    lines.push(`  ${names[0]}: ${show(m.left)}`);
    lines.push(`  ${names[1]}: ${show(m.right)}`);
    if (!shown.has(m.step)) {
      shown.add(m.step);
      const l = left.observations.find((o) => o.step === m.step && o.client === m.client);
      const r = right.observations.find((o) => o.step === m.step && o.client === m.client);
      lines.push(`  whole step, ${names[0]}: ${show(l)}`);
      lines.push(`  whole step, ${names[1]}: ${show(r)}`);
    }
  }
  return lines.join('\n');
}

function show(v: unknown): string {
  return v === undefined ? '(nothing)' : JSON.stringify(v);
}

export interface CompareOptions extends RunOptions {
  /** Fail on differences in steps with a versionNote too. */
  versionStrict?: boolean;
  /** Receives the report of tolerated (version-dependent) differences. */
  onTolerated?: (report: string) => void;
}

/** Runs `script` on both targets (concurrently) and fails with every difference. */
export async function assertSameBehaviour(
  script: Script,
  left: Target & { name: string },
  right: Target & { name: string },
  opts: CompareOptions = {},
): Promise<void> {
  const [l, r] = await Promise.all([runScript(left, script, opts), runScript(right, script, opts)]);
  const problems: string[] = [];
  for (const a of l.anomalies) problems.push(`${left.name}: ${a}`);
  for (const a of r.anomalies) problems.push(`${right.name}: ${a}`);
  const all = compareRuns(l, r, script);
  const tolerated = opts.versionStrict === true ? [] : all.filter((m) => m.versionNote !== undefined);
  const failing = all.filter((m) => !tolerated.includes(m));
  const names: [string, string] = [left.name, right.name];
  if (failing.length > 0) problems.push(formatMismatches(failing, script, l, r, names));
  if (tolerated.length > 0) opts.onTolerated?.(formatMismatches(tolerated, script, l, r, names));
  assert.equal(problems.length, 0, problems.join('\n'));
}
