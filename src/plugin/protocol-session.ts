// protocol-session.ts — a ZooKeeper session for a protocol plugin. It speaks the ordinary binary
// protocol over an in-memory stream to the server's own connection code, so a request from an
// HTTP or WebSocket front end takes exactly the path a TCP client's does: the same session table
// and expiry, auth ids and ACL checks, watches, ordering, throttling and `cons` line. The cost is
// one encode and one decode per request, off the ZooKeeper protocol's own path.
import { Code, codeName } from '../protocol/codes.js';
import { decodeConnectResponse, decodeReply, encodeConnectRequest, encodeRequest, specialXid } from '../protocol/client-codec.js';
import { FrameParser } from '../protocol/frame.js';
import { JuteReader } from '../protocol/jute.js';
import { OpCode } from '../protocol/opcodes.js';
import type { Request } from '../protocol/requests.js';
import { type MemoryEnd, memoryStreamPair } from './memory-stream.js';
import type { OpenSessionOptions, PluginSession, SessionReply, WatchEvent } from './types.js';

/** A session could not be opened or a request could not be answered: `code` says why. */
export class SessionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

interface Pending {
  type: number;
  resolve: (r: SessionReply) => void;
  reject: (e: Error) => void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;

export type AcceptStream = (stream: MemoryEnd) => void;

export class MemorySession implements PluginSession {
  closed = false;
  private nextXid = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly pendingSpecial = new Map<number, Pending[]>();
  private readonly watchListeners = new Set<(ev: WatchEvent) => void>();
  private readonly closeListeners = new Set<(reason: string) => void>();
  private keepAlive: NodeJS.Timeout | null = null;
  private lastSentMs = performance.now();
  private closeReason = 'connection closed';

  private constructor(
    private readonly stream: MemoryEnd,
    readonly sessionId: bigint,
    readonly passwd: Buffer,
    readonly timeoutMs: number,
  ) {}

  static async open(accept: AcceptStream, opts: OpenSessionOptions = {}, maxFrameBytes = 0xfffff): Promise<MemorySession> {
    const { server, client } = memoryStreamPair({ remoteAddress: opts.remoteAddress ?? '127.0.0.1', remotePort: opts.remotePort ?? 0 });
    const parser = new FrameParser(maxFrameBytes);
    const frames: Buffer[] = [];
    let onFrames: (() => void) | null = null;
    const onData = (chunk: Buffer): void => {
      try {
        parser.push(chunk, (f) => frames.push(Buffer.from(f)));
      } catch {
        client.destroy();
      }
      onFrames?.();
    };
    client.on('data', onData);
    const handshake = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SessionError(Code.OperationTimeout, 'no ConnectResponse from the server')), HANDSHAKE_TIMEOUT_MS);
      onFrames = () => {
        if (frames.length === 0) return;
        clearTimeout(timer);
        resolve(frames.shift()!);
      };
      client.once('close', () => {
        clearTimeout(timer);
        reject(new SessionError(Code.ConnectionLoss, 'the server closed the connection during the handshake'));
      });
    });
    accept(server);
    client.write(
      encodeConnectRequest({
        protocolVersion: 0,
        lastZxidSeen: 0n,
        timeOut: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        sessionId: opts.sessionId ?? 0n,
        passwd: opts.passwd ?? Buffer.alloc(16),
        readOnly: false,
      }),
    );
    let first: Buffer;
    try {
      first = await handshake;
    } catch (e) {
      client.destroy();
      throw e;
    }
    const res = decodeConnectResponse(new JuteReader(first));
    if (res.sessionId === 0n) {
      client.destroy();
      throw new SessionError(Code.SessionExpired, `session 0x${BigInt.asUintN(64, opts.sessionId ?? 0n).toString(16)} has expired or its password is wrong`);
    }
    client.removeAllListeners('close');
    client.off('data', onData);
    const session = new MemorySession(client, res.sessionId, res.passwd, res.timeOut);
    client.on('data', (chunk: Buffer) => session.onData(parser, chunk));
    client.on('close', () => session.onClosed());
    client.on('error', () => {});
    for (const f of frames) session.onFrames(() => session.onFrame(f));
    if (opts.keepAlive === true) session.startKeepAlive();
    return session;
  }

  submit(req: Request): Promise<SessionReply> {
    if (this.closed) return Promise.reject(new SessionError(Code.ConnectionLoss, `${this.closeReason}`));
    const special = specialXid(req.type);
    const xid = special ?? this.nextXid++;
    const p = new Promise<SessionReply>((resolve, reject) => {
      const entry: Pending = { type: req.type, resolve, reject };
      if (special === undefined) {
        this.pending.set(xid, entry);
      } else {
        let q = this.pendingSpecial.get(xid);
        if (q === undefined) this.pendingSpecial.set(xid, (q = []));
        q.push(entry);
      }
    });
    this.lastSentMs = performance.now();
    this.stream.write(encodeRequest(xid, req));
    return p;
  }

  async addAuth(scheme: string, credential: Buffer | string): Promise<number> {
    const auth = typeof credential === 'string' ? Buffer.from(credential, 'utf8') : credential;
    const r = await this.submit({ type: OpCode.auth, authType: 0, scheme, auth });
    return r.err;
  }

  onWatchEvent(fn: (ev: WatchEvent) => void): () => void {
    this.watchListeners.add(fn);
    return () => this.watchListeners.delete(fn);
  }

  onClose(fn: (reason: string) => void): () => void {
    if (this.closed) {
      queueMicrotask(() => fn(this.closeReason));
      return () => {};
    }
    this.closeListeners.add(fn);
    return () => this.closeListeners.delete(fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.submit({ type: OpCode.closeSession });
    } catch {
      // the connection went first; the session expires on its own
    }
    this.closeReason = 'session closed';
    this.stream.destroy();
    this.onClosed();
  }

  detach(): void {
    if (this.closed) return;
    this.closeReason = 'detached';
    this.stream.destroy();
    this.onClosed();
  }

  private startKeepAlive(): void {
    const everyMs = Math.max(100, Math.floor(this.timeoutMs / 3));
    this.keepAlive = setInterval(() => {
      if (this.closed || performance.now() - this.lastSentMs < everyMs) return;
      this.submit({ type: OpCode.ping }).catch(() => {});
    }, everyMs);
    this.keepAlive.unref();
  }

  private onData(parser: FrameParser, chunk: Buffer): void {
    this.onFrames(() => parser.push(chunk, (f) => this.onFrame(f)));
  }

  /** Runs frame handling; a frame that does not decode ends the connection. */
  private onFrames(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.closeReason = `bad frame from the server: ${(e as Error).message}`;
      this.stream.destroy();
    }
  }

  private onFrame(frame: Buffer): void {
    const reply = decodeReply(frame, (xid) => this.pending.get(xid)?.type);
    const h = reply.header;
    if (reply.kind === 'notification') {
      const ev: WatchEvent = { type: reply.event.type, state: reply.event.state, path: reply.event.path, zxid: h.zxid };
      for (const fn of this.watchListeners) {
        try {
          fn(ev);
        } catch {
          // a protocol's event handler must not break the session's connection
        }
      }
      return;
    }
    let entry: Pending | undefined;
    if (h.xid < 0) entry = this.pendingSpecial.get(h.xid)?.shift();
    else {
      entry = this.pending.get(h.xid);
      this.pending.delete(h.xid);
    }
    entry?.resolve({ err: h.err, zxid: h.zxid, response: reply.body });
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.keepAlive !== null) clearInterval(this.keepAlive);
    const err = new SessionError(Code.ConnectionLoss, `${this.closeReason} (${codeName(Code.ConnectionLoss)})`);
    for (const p of this.pending.values()) p.reject(err);
    for (const q of this.pendingSpecial.values()) for (const p of q) p.reject(err);
    this.pending.clear();
    this.pendingSpecial.clear();
    for (const fn of this.closeListeners) {
      try {
        fn(this.closeReason);
      } catch {
        // as above
      }
    }
    this.closeListeners.clear();
  }
}
