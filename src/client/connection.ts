// connection.ts — one ZooKeeper session over a sequence of TCP connections, as ZooKeeper's
// ClientCnxn runs it. It connects to the hosts in turn, resumes the session with its id, password
// and the last zxid seen, re-sends every addAuth and replays the watches (setWatches2, in batches)
// before anything else, pings after a third of the session timeout without a send, and drops a
// connection that has been silent for two thirds of it. Requests are pipelined: written in order,
// up to `maxInFlight` at a time, every request of one tick in one socket write; replies must come
// back in the same order (a reply out of order drops the connection, as in ZooKeeper). When no
// server has answered for 4/3 of the session timeout the session is declared expired here, as
// ZooKeeper's client does since ZOOKEEPER-4508, rather than waiting for a server to say so. A
// handshake gets at most a third of the session timeout (see handshakeTimeoutMs).
//
// Each request carries a synchronous `onReply` that runs the moment its reply is read, before the
// next frame: a watch set by a reply is in the table before any event that fires it.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { decodeConnectResponse, decodeReply, encodeConnectRequest } from '../protocol/client-codec.js';
import type { Response, WatcherEvent } from '../protocol/client-codec.js';
import { Code } from '../protocol/codes.js';
import { FrameParser } from '../protocol/frame.js';
import { JuteReader } from '../protocol/jute.js';
import { OpCode, Xid } from '../protocol/opcodes.js';
import type { Request } from '../protocol/requests.js';
import { type HostList, type HostPort, hostLabel } from './connect-string.js';
import { ZkError } from './errors.js';
import { type OnReply, type Packet, RequestQueue, settleNow } from './request-queue.js';
import { probeReadWrite } from './rw-probe.js';
import { DigestMd5Client } from './sasl-digest-md5.js';
import { type SessionInput, type Transition, isTerminal, step } from './session-state.js';
import type { SessionState } from './types.js';
import { type WatchLists, setWatchesBatches } from './watches.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ConnectionOptions {
  hosts: HostList;
  sessionTimeoutMs: number;
  canBeReadOnly: boolean;
  /** Upper bound of the random pause before a reconnect, and the pause after a round of hosts. */
  reconnectDelayMs: number;
  maxFrameBytes: number;
  maxInFlight: number;
  maxQueued: number;
  /** Resume this session (with `sessionPassword`) instead of creating one; 0n for a new one. */
  sessionId: bigint;
  sessionPassword: Buffer;
  log: (level: LogLevel, msg: string) => void;
  random: () => number;
  /** Connect with tls.connect and these options (none: plain TCP). */
  tls?: Omit<tls.ConnectionOptions, 'host' | 'port' | 'path' | 'socket'>;
  /** SASL DIGEST-MD5 on every connection, before any other request. */
  sasl?: { username: string; password: string };
}

export interface ConnectionHost {
  onTransition(t: Transition, prev: SessionState): void;
  onNotification(event: WatcherEvent, zxid: bigint): void;
  watchLists(): WatchLists;
}

const MAX_PING_INTERVAL_MS = 10_000;

export class Connection {
  state: SessionState = 'connecting';
  sessionId: bigint;
  sessionPassword: Buffer;
  negotiatedTimeoutMs = 0;
  lastZxid = 0n;
  /** The server of the current connection, once its handshake is done. */
  server: HostPort | null = null;

  private readonly auth: { scheme: string; data: Buffer; waiter: Packet | null }[] = [];
  private readonly queue: RequestQueue;
  private socket: net.Socket | null = null;
  private gen = 0;
  private host: HostPort | null = null;
  private handshaken = false;
  private seenRwServer: boolean;
  private writeBlocked = false;
  private flushScheduled = false;
  private closing: Promise<void> | null = null;
  private readTimeoutMs: number;
  private expirationMs: number;
  private connectTimeoutMs: number;
  private attemptStartMs = 0;
  private lastRecvMs = 0;
  private lastSendMs = 0;
  private lastHeardMs = Date.now();
  private firstAttempt = true;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly ticker: NodeJS.Timeout;
  private rwProbeDelayMs = 100;
  private nextRwProbeMs = 0;
  private rwProbing = false;

  constructor(private readonly opts: ConnectionOptions, private readonly host_: ConnectionHost) {
    this.sessionId = opts.sessionId;
    this.sessionPassword = opts.sessionId === 0n ? Buffer.alloc(16) : opts.sessionPassword;
    this.seenRwServer = opts.sessionId !== 0n;
    this.queue = new RequestQueue(opts);
    this.readTimeoutMs = (opts.sessionTimeoutMs * 2) / 3;
    this.expirationMs = (opts.sessionTimeoutMs * 4) / 3;
    this.connectTimeoutMs = handshakeTimeoutMs(opts.sessionTimeoutMs, opts.hosts.size);
    const tickMs = Math.max(10, Math.min(500, Math.floor(opts.sessionTimeoutMs / 15)));
    this.ticker = setInterval(() => this.onTick(), tickMs);
    this.scheduleReconnect();
  }

  /** Sends `request` and settles with what `onReply` makes of the reply (or of a failure code). */
  submit<T>(request: Request, onReply: OnReply<T>, signal?: AbortSignal, xid: number | null = null): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const rc = this.refusalCode();
    if (rc !== null) return settleNow(onReply, rc);
    if (this.queue.full) return settleNow(onReply, Code.Throttled);
    const { packet, promise } = RequestQueue.packet(request, onReply, signal, xid);
    this.queue.push(packet);
    this.scheduleFlush();
    return promise;
  }

  /** Records credentials (re-sent on every reconnect) and settles when a server has taken them. */
  addAuth(scheme: string, data: Buffer, signal?: AbortSignal): Promise<void> {
    const onReply = (rc: number): void => {
      if (rc !== 0) throw new ZkError(rc, { message: `addAuth(${scheme}) failed: ${new ZkError(rc).message}` });
    };
    const rc = this.refusalCode();
    if (rc !== null) return settleNow(onReply, rc);
    const entry = { scheme, data, waiter: null as Packet | null };
    this.auth.push(entry);
    const request: Request = { type: OpCode.auth, authType: 0, scheme, auth: data };
    if (this.handshaken) return this.submit(request, onReply, signal, Xid.auth);
    const { packet, promise } = RequestQueue.packet(request, onReply, undefined, Xid.auth);
    entry.waiter = packet;
    return promise;
  }

  /** Sends closeSession (after everything already queued) and ends the session. */
  close(timeoutMs: number): Promise<void> {
    if (this.closing !== null) return this.closing;
    if (isTerminal(this.state)) return Promise.resolve();
    this.closing = (async () => {
      if (this.handshaken) {
        const { packet, promise: reply } = RequestQueue.packet({ type: OpCode.closeSession }, () => undefined);
        this.queue.push(packet);
        this.scheduleFlush();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
        await Promise.race([reply.catch(() => undefined), timeout]);
        clearTimeout(timer);
      }
      this.finish({ kind: 'close' }, -116, 'closed by the application');
    })();
    return this.closing;
  }

  // -------------------------------------------------------------------------------------------
  // Connecting

  private scheduleReconnect(): void {
    if (isTerminal(this.state) || this.closing !== null) return;
    const { host, wrapped } = this.opts.hosts.next();
    let delayMs = this.firstAttempt ? 0 : this.opts.random() * this.opts.reconnectDelayMs;
    if (wrapped) delayMs += this.opts.reconnectDelayMs;
    this.firstAttempt = false;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.open(host);
    }, delayMs);
  }

  private open(h: HostPort): void {
    const gen = ++this.gen;
    this.host = h;
    this.attemptStartMs = Date.now();
    const parser = new FrameParser(this.opts.maxFrameBytes);
    const secure = this.opts.tls !== undefined;
    const socket = secure ? tls.connect({ ...this.opts.tls, host: h.host, port: h.port }) : net.connect({ host: h.host, port: h.port });
    socket.setNoDelay(true);
    this.socket = socket;
    socket.on(secure ? 'secureConnect' : 'connect', () => {
      if (gen !== this.gen) return;
      const req = {
        protocolVersion: 0,
        lastZxidSeen: this.lastZxid,
        timeOut: this.opts.sessionTimeoutMs,
        sessionId: this.seenRwServer ? this.sessionId : 0n,
        passwd: this.seenRwServer ? this.sessionPassword : Buffer.alloc(16),
        readOnly: this.opts.canBeReadOnly,
      };
      socket.write(encodeConnectRequest(req));
      this.lastSendMs = Date.now();
    });
    socket.on('data', (chunk: Buffer) => {
      if (gen !== this.gen) return;
      this.lastRecvMs = this.lastHeardMs = Date.now();
      try {
        parser.push(chunk, (frame) => {
          if (gen === this.gen) this.onFrame(frame);
        });
      } catch (e) {
        if (gen === this.gen) this.drop(`bad frame from ${hostLabel(h)}: ${(e as Error).message}`);
      }
    });
    socket.on('drain', () => {
      if (gen !== this.gen) return;
      this.writeBlocked = false;
      this.scheduleFlush();
    });
    socket.on('error', (e) => {
      if (gen === this.gen) this.drop(`${hostLabel(h)}: ${e.message}`);
    });
    socket.on('close', () => {
      if (gen === this.gen) this.drop(`${hostLabel(h)} closed the connection`);
    });
  }

  private onFrame(frame: Buffer): void {
    if (!this.handshaken) {
      this.onConnectResponse(frame);
      return;
    }
    const reply = decodeReply(frame, (xid) => this.queue.expectedType(xid));
    if (reply.kind === 'notification') {
      this.host_.onNotification(reply.event, reply.header.zxid);
      return;
    }
    const { xid, zxid, err } = reply.header;
    if (xid === Xid.ping) return;
    if (xid === Xid.auth) {
      this.queue.completeAuth(err);
      if (err === Code.AuthFailed) this.finish({ kind: 'authFailed' }, Code.AuthFailed, 'authentication failed');
      return;
    }
    if (zxid > 0n) this.lastZxid = zxid;
    this.queue.completeNext(err, reply.body);
    if (this.queue.writable) this.scheduleFlush();
  }

  private onConnectResponse(frame: Buffer): void {
    const r = decodeConnectResponse(new JuteReader(frame));
    if (r.timeOut <= 0) {
      this.finish({ kind: 'expired' }, Code.SessionExpired, `session 0x${this.sessionId.toString(16)} has expired`);
      return;
    }
    const readOnly = r.readOnly === true;
    const newSession = this.sessionId !== 0n && this.sessionId !== r.sessionId;
    this.sessionId = r.sessionId;
    this.sessionPassword = r.passwd;
    this.negotiatedTimeoutMs = r.timeOut;
    this.readTimeoutMs = (r.timeOut * 2) / 3;
    this.expirationMs = (r.timeOut * 4) / 3;
    this.connectTimeoutMs = handshakeTimeoutMs(r.timeOut, this.opts.hosts.size);
    this.seenRwServer ||= !readOnly;
    this.opts.hosts.onConnected();
    this.handshaken = true;
    this.server = this.host;
    this.rwProbeDelayMs = 100;
    this.nextRwProbeMs = Date.now() + this.rwProbeDelayMs;
    this.opts.log('info', `session 0x${r.sessionId.toString(16)} established on ${hostLabel(this.host!)}, timeout ${r.timeOut} ms${readOnly ? ' (read-only)' : ''}`);
    this.prime();
    this.transition({ kind: 'handshake', readOnly, newSession });
    this.scheduleFlush();
  }

  /**
   * Queues, ahead of everything else, the auth packets and the watch replay; with SASL, the SASL
   * exchange before those, and nothing else is written until it completes (as ZooKeeper's client
   * holds every other packet while "tunneled authentication" is in progress).
   */
  private prime(): void {
    const first: Packet[] = [];
    if (this.opts.sasl !== undefined) first.push(this.startSasl(this.opts.sasl));
    for (const a of this.auth) {
      const request: Request = { type: OpCode.auth, authType: 0, scheme: a.scheme, auth: a.data };
      first.push(a.waiter ?? RequestQueue.packet(request, () => undefined, undefined, Xid.auth).packet);
      a.waiter = null;
    }
    for (const b of setWatchesBatches(this.host_.watchLists())) {
      const v2 = b.persistent.length > 0 || b.recursive.length > 0;
      const request: Request = {
        type: v2 ? OpCode.setWatches2 : OpCode.setWatches,
        relativeZxid: this.lastZxid,
        dataWatches: b.data,
        existWatches: b.exist,
        childWatches: b.child,
        persistentWatches: b.persistent,
        persistentRecursiveWatches: b.recursive,
      };
      const onReply = (rc: number): void => {
        if (rc !== 0) this.opts.log('warn', `setWatches failed: ${new ZkError(rc).message}`);
      };
      first.push(RequestQueue.packet(request, onReply, undefined, Xid.setWatches).packet);
    }
    this.queue.pushFront(first);
  }

  private startSasl(creds: { username: string; password: string }): Packet {
    const gen = this.gen;
    const client = new DigestMd5Client(creds.username, creds.password, randomBytes);
    const packet = (token: Buffer): Packet => RequestQueue.packet({ type: OpCode.sasl, token }, onReply).packet;
    const fail = (message: string): void => this.finish({ kind: 'authFailed' }, Code.AuthFailed, `SASL DIGEST-MD5 as ${creds.username}: ${message}`);
    const onReply = (rc: number, body: Response | null): void => {
      if (gen !== this.gen) return; // the connection it ran on is gone; the next one starts again
      if (rc !== Code.OK) return fail(`the server refused it (${new ZkError(rc).message})`);
      const step = client.evaluate(body !== null && 'token' in body && body.token !== null ? body.token : Buffer.alloc(0));
      if (step.kind === 'error') return fail(step.message);
      if (step.kind === 'send') {
        this.queue.pushFront([packet(step.token)]);
      } else {
        this.queue.gate = null;
        this.opts.log('info', `SASL DIGEST-MD5: authenticated as ${creds.username}`);
      }
      this.scheduleFlush();
    };
    this.queue.gate = (p) => p.request.type === OpCode.sasl;
    return packet(client.start());
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  private scheduleFlush(): void {
    if (this.flushScheduled || !this.handshaken || this.writeBlocked) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const socket = this.socket;
    if (socket === null || !this.handshaken || this.writeBlocked) return;
    const bytes = this.queue.encodeBatch();
    if (bytes !== null) {
      this.lastSendMs = Date.now();
      if (!socket.write(bytes)) this.writeBlocked = true;
    }
    if (this.queue.writable) this.scheduleFlush();
  }

  // -------------------------------------------------------------------------------------------
  // Timers, loss, expiry

  private onTick(): void {
    if (isTerminal(this.state)) return;
    const now = Date.now();
    if (this.handshaken) {
      if (now - this.lastRecvMs > this.readTimeoutMs) {
        this.drop(`no reply from ${hostLabel(this.host!)} in ${now - this.lastRecvMs} ms`);
      } else if (now - this.lastSendMs >= this.readTimeoutMs / 2 || now - this.lastSendMs > MAX_PING_INTERVAL_MS) {
        this.lastSendMs = now;
        this.queue.push(RequestQueue.packet({ type: OpCode.ping }, () => undefined, undefined, Xid.ping).packet);
        this.scheduleFlush();
      }
      if (this.state === 'readOnly') this.seekReadWrite(now);
      return;
    }
    if (now - this.lastHeardMs > this.expirationMs && this.closing === null) {
      const what = this.sessionId === 0n ? 'no session could be established' : `session 0x${this.sessionId.toString(16)} expired`;
      this.finish({ kind: 'gaveUp' }, this.state === 'connecting' ? Code.ConnectionLoss : Code.SessionExpired,
        `${what}: no server answered in ${now - this.lastHeardMs} ms`);
      return;
    }
    if (this.socket !== null && now - this.attemptStartMs > this.connectTimeoutMs) {
      this.drop(`connecting to ${hostLabel(this.host!)} timed out`);
    }
  }

  /** On a read-only server, looks for a read-write one and moves there when found. */
  private seekReadWrite(now: number): void {
    if (this.rwProbing || now < this.nextRwProbeMs || this.opts.hosts.size < 2) return;
    const candidates = this.opts.hosts.all().filter((h) => h !== this.host);
    const h = candidates[Math.floor(this.opts.random() * candidates.length)]!;
    this.rwProbing = true;
    void probeReadWrite(h, 1000, this.opts.tls).then((rw) => {
      this.rwProbing = false;
      this.rwProbeDelayMs = Math.min(this.rwProbeDelayMs * 2, 60_000);
      this.nextRwProbeMs = Date.now() + this.rwProbeDelayMs;
      if (!rw || this.state !== 'readOnly') return;
      this.opts.hosts.preferNext(h);
      this.drop(`read-write server found at ${hostLabel(h)}`);
    });
  }

  /** Ends the current connection; every request not answered fails with ConnectionLoss. */
  private drop(reason: string): void {
    if (this.socket === null) return;
    const wasConnected = this.handshaken;
    this.closeSocket();
    if (this.closing !== null) {
      this.queue.failAll(-116);
      return;
    }
    this.opts.log(wasConnected ? 'warn' : 'info', `connection lost: ${reason}`);
    this.queue.failAll(Code.ConnectionLoss);
    this.transition({ kind: 'connectionLost' });
    this.scheduleReconnect();
  }

  private closeSocket(): void {
    this.gen++;
    this.queue.gate = null;
    this.socket?.destroy();
    this.socket = null;
    this.server = null;
    this.handshaken = false;
    this.writeBlocked = false;
  }

  /** Moves to a terminal state: the socket closes and every request fails with `rc`. */
  private finish(input: SessionInput, rc: number, reason: string): void {
    if (isTerminal(this.state)) return;
    this.opts.log(input.kind === 'close' ? 'info' : 'warn', reason);
    clearInterval(this.ticker);
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.closeSocket();
    this.queue.failAll(rc);
    for (const a of this.auth) if (a.waiter !== null) this.queue.complete(a.waiter, rc, null);
    this.transition(input);
  }

  private transition(input: SessionInput): void {
    const prev = this.state;
    const t = step(prev, input);
    if (t.event === null) return;
    this.state = t.state;
    this.host_.onTransition(t, prev);
  }

  /** The code every new request fails with, or null while requests are taken. */
  private refusalCode(): number | null {
    switch (this.state) {
      case 'expired':
        return Code.SessionExpired;
      case 'authFailed':
        return Code.AuthFailed;
      case 'closed':
        return -116;
      default:
        return this.closing !== null ? -116 : null;
    }
  }
}

/**
 * How long one connection attempt may take to complete its handshake. ZooKeeper's client allows
 * timeout/hosts, which with one host is the whole session: a server that accepts the connection
 * and never answers (ZooKeeper can, while it starts) then costs the session. A third of the
 * timeout at most leaves time for two more attempts.
 */
export function handshakeTimeoutMs(sessionTimeoutMs: number, hosts: number): number {
  return sessionTimeoutMs / Math.max(hosts, 3);
}
