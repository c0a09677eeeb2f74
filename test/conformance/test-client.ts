// test-client.ts — a tiny promise-based ZooKeeper client for tests, on client-codec: connect
// (with or without resuming a session), send any request or raw opcode, await its reply by xid,
// and keep notifications in arrival order with a sequence number shared with replies, so a test
// can tell which events came before which reply. Every wait has a deadline.
import net from 'node:net';
import {
  type ConnectResponse,
  type Reply,
  type Response,
  decodeConnectResponse,
  decodeReply,
  encodeConnectRequest,
  encodeRawRequest,
  encodeRequest,
  specialXid,
} from '../../src/protocol/client-codec.js';
import { FrameParser } from '../../src/protocol/frame.js';
import { JuteReader } from '../../src/protocol/jute.js';
import { OpCode, opName } from '../../src/protocol/opcodes.js';
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

export function withTimeout<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
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
    return TestClient.handshake(net.connect(port, host), 'connect', `${host}:${port}`, opts);
  }

  /**
   * Sends the ConnectRequest once `socket` emits `readyEvent` ('connect', or 'secureConnect' for
   * TLS) and resolves with the client when the ConnectResponse arrives.
   */
  static async handshake(socket: net.Socket, readyEvent: string, where: string, opts: ConnectOptions = {}): Promise<TestClient> {
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
      socket.once(readyEvent, () => {
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
      await withTimeout(handshake, opts.timeoutMs ?? 10_000, `the ConnectResponse from ${where}`);
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
