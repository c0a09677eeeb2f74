// connection.ts — one client connection: frames in, replies and watch events out. Speaks the
// handshake itself; hands every other request to the server's pipeline. Replies are encoded into
// one output buffer and written once per turn of the event loop, so a burst of pipelined
// requests costs one socket write. A malformed frame closes this connection only.
import type { Socket } from 'node:net';
import { JuteReader, JuteWriter } from '../protocol/jute.js';
import { FrameParser } from '../protocol/frame.js';
import type { EventType } from '../protocol/opcodes.js';
import type { ACL, Id } from '../protocol/records.js';
import { writeNotification } from '../protocol/responses.js';
import type { Watcher } from '../tree/watch-manager.js';
import type { DigestMd5Server } from './auth/sasl-digest-md5.js';
import type { ReadContext } from './reads.js';
import type { ServerStats } from './server-stats.js';
import type { Session } from './session-tracker.js';

export interface ConnectionHost {
  /** Counts every frame in and out (packets, bytes, response sizes), as ZooKeeper's ServerCnxn does. */
  readonly stats: ServerStats;
  /** First frame of a connection: the ConnectRequest. */
  onConnect(conn: Connection, frame: Buffer): void;
  /** Every later frame: RequestHeader + body. */
  onRequest(conn: Connection, frame: Buffer): void;
  /** The first 4 bytes were a four-letter word; returns the text to send before closing. */
  onFourLetterWord(conn: Connection, word: number, extra: Uint8Array): string | null;
  /** Whether a READ on `acl` is allowed for these ids (watch delivery). */
  canRead(acl: readonly ACL[], ids: readonly Id[]): boolean;
  onClose(conn: Connection): void;
  /** The connection's session changed (bound, replaced or cleared): the host's index follows. */
  onSessionChange?(conn: Connection, before: Session | null, after: Session | null): void;
  /** After a chunk of input was handled: the host may throttle this connection. */
  afterInput(conn: Connection): void;
  log(level: 'info' | 'warn', msg: string): void;
}

let nextConnectionId = 1;

export interface OutputLimits {
  /** Replies queued past this stop reading the connection's requests until the socket drains. */
  highWaterBytes: number;
  /** A client that lets this much pile up (watch events it never reads) is disconnected. */
  maxBytes: number;
}

export const DEFAULT_OUTPUT_LIMITS: OutputLimits = { highWaterBytes: 4 * 1024 * 1024, maxBytes: 64 * 1024 * 1024 };

/** Why reading a connection is paused (bits). */
export const PauseReason = { slowReader: 1, throttled: 2 } as const;

export class Connection implements Watcher {
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly established = Date.now();
  private session_: Session | null = null;
  authIds: Id[] = [];
  /** Set once the ConnectRequest has been answered. */
  connected = false;
  closed = false;
  /** Stops handling input: after an auth failure or a close that waits for its flush. */
  closing = false;
  readOnly = false;
  /** This connection's SASL negotiation, once it starts. */
  sasl: DigestMd5Server | null = null;
  // stats for cons/stat
  packetsReceived = 0;
  packetsSent = 0;
  lastCxid = -1;
  lastZxid = -1n;
  lastOp = 'NA';
  lastLatencyMs = 0;
  minLatencyMs = Number.MAX_SAFE_INTEGER;
  maxLatencyMs = 0;
  totalLatencyMs = 0;
  latencyCount = 0;
  lastResponseTime = 0;
  outstanding = 0;

  private readonly parser: FrameParser;
  private readonly out = new JuteWriter(4096);
  /** Where in `out` the frame being written starts (its size is known at sent()). */
  private frameStart = 0;
  private flushScheduled = false;
  private paused = 0;
  private pendingHead: Buffer | null = null;
  /** Frames that arrived (in the chunk being parsed) after the output passed the high-water mark:
   * handled once the client has read its replies, so 20 KiB of getData requests for a 1 MB node
   * cannot make the server encode 1 GB of replies in one turn. At most one chunk's worth. */
  private readonly deferred: Buffer[] = [];
  private awaitingDrain = false;

  constructor(
    readonly socket: Socket,
    private readonly host: ConnectionHost,
    maxFrameBytes: number,
    private readonly limits: OutputLimits = DEFAULT_OUTPUT_LIMITS,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.parser = new FrameParser(maxFrameBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    // the client closed its end under the server (ZooKeeper's handleFailedRead: connection_drop_count)
    socket.on('end', () => {
      if (!this.closing) host.stats.metrics.inc('connection_drop_count');
    });
    socket.on('close', () => this.close());
  }

  /** The session this connection serves; the host indexes connections by it. */
  get session(): Session | null {
    return this.session_;
  }

  set session(s: Session | null) {
    const before = this.session_;
    this.session_ = s;
    if (this.host.onSessionChange !== undefined && before?.sessionId !== s?.sessionId) this.host.onSessionChange(this, before, s);
  }

  get sessionId(): bigint {
    return this.session_?.sessionId ?? 0n;
  }

  private onData(chunk: Buffer): void {
    if (this.closing || this.closed) return;
    if (!this.connected && this.packetsReceived === 0 && this.parser.idle) {
      // The first 4 bytes may be a four-letter word instead of a frame length.
      const head = this.pendingHead === null ? chunk : Buffer.concat([this.pendingHead, chunk]);
      if (head.length < 4) {
        this.pendingHead = head;
        return;
      }
      this.pendingHead = null;
      this.packetsReceived = 1;
      const text = this.host.onFourLetterWord(this, head.readInt32BE(0), head.subarray(4));
      if (text === null) this.packetsReceived = 0;
      if (text !== null) {
        this.closing = true;
        this.socket.end(text);
        this.host.onClose(this);
        return;
      }
      chunk = head;
    }
    try {
      this.parser.push(chunk, (frame) => this.onFrame(frame));
    } catch (e) {
      this.host.log('warn', `closing connection from ${this.remoteAddress}:${this.remotePort}: ${(e as Error).message}`);
      this.close();
      return;
    }
    this.host.afterInput(this);
  }

  get readPaused(): boolean {
    return this.paused !== 0;
  }

  pauseReading(reason: number): void {
    if (this.paused === 0 && !this.closed) this.socket.pause();
    this.paused |= reason;
  }

  resumeReading(reason: number): void {
    if (this.paused === 0) return;
    this.paused &= ~reason;
    if (this.paused !== 0 || this.closed) return;
    this.socket.resume();
    this.handleDeferred();
  }

  /** Replies encoded or queued in the socket and not yet taken by the client. */
  private get outputQueued(): number {
    return this.out.offset + this.socket.writableLength;
  }

  private handleDeferred(): void {
    while (this.deferred.length > 0 && this.paused === 0 && !this.closing && !this.closed) {
      if (this.outputQueued > this.limits.highWaterBytes) {
        this.pauseReading(PauseReason.slowReader); // flush() is scheduled: it resumes or waits for 'drain'
        return;
      }
      this.handleFrame(this.deferred.shift()!);
    }
    if (this.deferred.length === 0 && !this.closed) this.host.afterInput(this);
  }

  private onFrame(frame: Buffer): void {
    if (this.closing || this.closed) return;
    if (this.connected && (this.deferred.length > 0 || this.outputQueued > this.limits.highWaterBytes)) {
      this.deferred.push(Buffer.from(frame));
      this.pauseReading(PauseReason.slowReader);
      return;
    }
    this.handleFrame(frame);
  }

  private handleFrame(frame: Buffer): void {
    this.packetsReceived++;
    const stats = this.host.stats;
    stats.packetsReceived++;
    stats.metrics.bytesReceived += 4 + frame.length;
    if (!this.connected) this.host.onConnect(this, frame);
    else this.host.onRequest(this, frame);
  }

  /** The writer for the next frame; call `sent()` after writing it. */
  writer(): JuteWriter {
    return this.out;
  }

  /**
   * The frame just written is complete; returns its size without the length prefix. `response`:
   * a reply or notification (ZooKeeper's sendResponse), which client response sizes count; the
   * ConnectResponse is not one.
   */
  sent(response = true): number {
    this.packetsSent++;
    const bytes = this.out.offset - this.frameStart - 4;
    this.frameStart = this.out.offset;
    const stats = this.host.stats;
    stats.packetsSent++;
    if (response) stats.responseSent(bytes);
    // Replies of reads that waited in the pipeline behind writes are encoded together when the
    // writes commit; a client that reads none of them is dropped here, before it costs more.
    if (this.outputQueued > this.limits.maxBytes && !this.closed) {
      this.host.log('warn', `closing connection from ${this.remoteAddress}:${this.remotePort}: ${this.outputQueued} bytes of replies and events unread`);
      this.out.take();
      this.frameStart = 0;
      this.socket.destroy();
      this.close();
      return bytes;
    }
    // a burst of large replies goes to the socket in high-water-sized pieces, not into one buffer
    // that doubles as it grows
    if (this.out.offset > this.limits.highWaterBytes) {
      this.flush();
      return bytes;
    }
    if (this.flushScheduled) return bytes;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
    return bytes;
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.out.offset === 0) return;
    this.socket.write(this.out.take());
    this.frameStart = 0;
    const queued = this.socket.writableLength;
    if (queued <= this.limits.highWaterBytes) {
      // below the mark again: frames held back while replies were queued go on now
      if (this.paused & PauseReason.slowReader && !this.awaitingDrain) setImmediate(() => this.resumeReading(PauseReason.slowReader));
      return;
    }
    if (queued > this.limits.maxBytes) {
      this.host.log('warn', `closing connection from ${this.remoteAddress}:${this.remotePort}: ${queued} bytes of replies and events unread`);
      this.socket.destroy();
      this.close();
      return;
    }
    if (!this.awaitingDrain) {
      this.awaitingDrain = true;
      this.pauseReading(PauseReason.slowReader);
      this.socket.once('drain', () => {
        this.awaitingDrain = false;
        this.resumeReading(PauseReason.slowReader);
      });
    }
  }

  /** Watch event delivery, with READ checked against the node's ACL at delivery time. */
  process(type: EventType, path: string, zxid: bigint, acl: readonly ACL[] | null): void {
    if (this.closed) return;
    if (acl !== null && !this.host.canRead(acl, this.authIds)) return;
    writeNotification(this.out, zxid, type, path);
    this.host.stats.metrics.watchBytes += this.sent();
  }

  /** Flushes what is queued, then closes. */
  closeAfterFlush(): void {
    if (this.closed) return;
    this.closing = true;
    this.flush();
    this.socket.end();
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    if (!this.socket.destroyed) {
      if (this.socket.writableLength > 0 || this.out.offset > 0) {
        if (this.out.offset > 0) this.socket.write(this.out.take());
        this.frameStart = 0;
        this.socket.end();
        setTimeout(() => this.socket.destroy(), 1000).unref();
      } else {
        this.socket.destroy();
      }
    }
    this.host.onClose(this);
  }

  private readCtx: ReadContext | null = null;

  /** What reads need of this connection; built once, it follows the session and auth ids. */
  readContext(userName: (id: Id) => string): ReadContext {
    const self = this;
    this.readCtx ??= {
      get sessionId() {
        return self.sessionId;
      },
      get authIds() {
        return self.authIds;
      },
      watcher: this,
      userName,
    };
    return this.readCtx;
  }

  /** crst: zero this connection's counters. */
  resetStats(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.lastCxid = -1;
    this.lastZxid = -1n;
    this.lastOp = 'NA';
    this.lastLatencyMs = 0;
    this.minLatencyMs = Number.MAX_SAFE_INTEGER;
    this.maxLatencyMs = 0;
    this.totalLatencyMs = 0;
    this.latencyCount = 0;
    this.lastResponseTime = 0;
  }

  readHeader(frame: Buffer): { r: JuteReader; xid: number; type: number } {
    const r = new JuteReader(frame);
    const xid = r.int();
    const type = r.int();
    return { r, xid, type };
  }
}

