// cnx-manager.ts — ZooKeeper's QuorumCnxManager in Node: the TCP connections of the election
// port, one per peer, carrying length-framed messages (codec.ts).
//
// - We listen on our election address; a dialling peer first sends its header (sid, address).
// - Only a connection from the higher sid to the lower sid survives: a receiver with the higher
//   sid closes an incoming connection and dials back (to the address in the header, else the
//   configured one); a dialler with the lower sid sends its header and closes, so the other side
//   calls back. A new connection from a sid replaces the old one.
// - One outgoing message is queued per peer, the newest replacing an unsent one; the last message
//   sent is sent again first on every new connection, so peers see duplicates and stale votes.
// - A peer with an unsent message and no connection is dialled again with a backoff (100 ms
//   doubling to 5 s) until the message goes out or a newer one replaces it.
// - A bad header or frame (length outside 1..524288) closes that connection only, with a log line.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { decodeConnectionHeader, ElectionStreamDecoder, encodeConnectionHeader, encodeFrame, formatHostPort, type HostPort } from './codec.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface CnxManagerOptions {
  myId: number;
  /** Where we listen (port 0: any free port). */
  listen: HostPort;
  /** The addresses our header announces (default: the bound listen address). */
  advertise?: HostPort[];
  /** The configured election addresses of a sid, or undefined for an unknown sid. */
  addressesOf(sid: number): HostPort[] | undefined;
  onMessage(sid: number, payload: Buffer): void;
  log(level: LogLevel, msg: string): void;
  /** QuorumCnxManager's cnxTO (zookeeper.cnxTimeout): how long a dial may take. */
  connectTimeoutMs?: number;
  /** How long an accepted connection may take to send its header. */
  headerTimeoutMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

interface Peer {
  sid: number;
  /** The one queued outgoing message (SEND_CAPACITY = 1). */
  queued: Buffer | null;
  lastSent: Buffer | null;
  conn: Socket | null;
  dialing: Socket | null;
  retry: NodeJS.Timeout | null;
  backoffMs: number;
  /** Addresses learned from this sid's own header (preferred over the config for dialling back). */
  announced: HostPort[] | null;
}

export class QuorumCnxManager {
  private readonly opts: CnxManagerOptions;
  private readonly peers = new Map<number, Peer>();
  private readonly sockets = new Set<Socket>();
  private server: Server | null = null;
  private bound: HostPort | null = null;
  private stopped = false;

  constructor(opts: CnxManagerOptions) {
    this.opts = opts;
  }

  /** The address we listen on (after start). */
  get address(): HostPort {
    if (!this.bound) throw new Error('the election port is not listening yet');
    return this.bound;
  }

  async start(): Promise<void> {
    const server = createServer((sock) => this.accept(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.listen.port, this.opts.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.opts.log('error', `election listener: ${e.message}`));
    const a = server.address();
    this.bound = typeof a === 'object' && a !== null ? { host: this.opts.listen.host, port: a.port } : this.opts.listen;
    this.server = server;
    this.opts.log('info', `election port listening on ${formatHostPort(this.bound)} (sid ${this.opts.myId})`);
  }

  /** Queues `payload` for `sid` (replacing an unsent one) and connects if needed. */
  toSend(sid: number, payload: Buffer): void {
    if (this.stopped) return;
    const p = this.peer(sid);
    p.queued = payload;
    if (p.conn) this.flush(p);
    else this.connectOne(p);
  }

  /** QuorumCnxManager.connectAll: dial every peer that has a queued message and no connection. */
  connectAll(): void {
    for (const p of this.peers.values()) if (p.queued && !p.conn) this.connectOne(p);
  }

  /** QuorumCnxManager.haveDelivered: some peer's queue is empty. */
  haveDelivered(): boolean {
    for (const p of this.peers.values()) if (p.queued === null) return true;
    return false;
  }

  /** Sids with an established connection. */
  connectedSids(): number[] {
    return [...this.peers.values()].filter((p) => p.conn !== null).map((p) => p.sid);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of this.peers.values()) if (p.retry) clearTimeout(p.retry);
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private peer(sid: number): Peer {
    let p = this.peers.get(sid);
    if (!p) {
      p = { sid, queued: null, lastSent: null, conn: null, dialing: null, retry: null, backoffMs: this.opts.reconnectMinMs ?? 100, announced: null };
      this.peers.set(sid, p);
    }
    return p;
  }

  private track(sock: Socket): void {
    this.sockets.add(sock);
    sock.once('close', () => this.sockets.delete(sock));
  }

  private flush(p: Peer): void {
    if (!p.conn || !p.queued) return;
    const msg = p.queued;
    p.queued = null;
    p.lastSent = msg;
    p.conn.write(encodeFrame(msg));
  }

  private connectOne(p: Peer): void {
    if (this.stopped || p.conn || p.dialing || p.retry) return;
    const addrs = p.announced ?? this.opts.addressesOf(p.sid);
    if (!addrs || addrs.length === 0) {
      this.opts.log('warn', `no election address for sid ${p.sid}: message not sent`);
      return;
    }
    const target = addrs[0];
    const sock = createConnection({ host: target.host, port: target.port });
    this.track(sock);
    p.dialing = sock;
    sock.setNoDelay(true);
    sock.setTimeout(this.opts.connectTimeoutMs ?? 5000, () => sock.destroy(new Error('connect timed out')));
    sock.once('connect', () => {
      sock.setTimeout(0);
      sock.write(encodeConnectionHeader(this.opts.myId, this.opts.advertise ?? [this.address]));
      if (p.dialing === sock) p.dialing = null;
      if (p.sid > this.opts.myId) {
        // We lost the challenge: our header asks the higher sid to call back.
        sock.end();
        this.opts.log('debug', `sid ${p.sid} is higher than ours: dropped our connection, it dials back`);
        this.scheduleRetry(p);
        return;
      }
      this.established(p, sock, new ElectionStreamDecoder({ expectHeader: false }));
    });
    sock.once('error', (e) => {
      if (p.dialing === sock) {
        p.dialing = null;
        this.opts.log('info', `cannot open channel to sid ${p.sid} at election address ${formatHostPort(target)}: ${e.message}`);
        this.scheduleRetry(p);
      }
    });
    sock.once('close', () => {
      if (p.dialing === sock) {
        p.dialing = null;
        this.scheduleRetry(p);
      }
    });
  }

  /** Dial again later while a message waits and nothing is connected. */
  private scheduleRetry(p: Peer): void {
    if (this.stopped || p.retry || p.conn || !p.queued) return;
    const delay = p.backoffMs;
    p.backoffMs = Math.min(p.backoffMs * 2, this.opts.reconnectMaxMs ?? 5000);
    p.retry = setTimeout(() => {
      p.retry = null;
      if (!p.conn && p.queued) this.connectOne(p);
    }, delay);
    p.retry.unref();
  }

  private accept(sock: Socket): void {
    if (this.stopped) return void sock.destroy();
    this.track(sock);
    sock.setNoDelay(true);
    const remote = `${sock.remoteAddress}:${sock.remotePort}`;
    let pending = Buffer.alloc(0);
    sock.setTimeout(this.opts.headerTimeoutMs ?? 10_000, () => {
      this.opts.log('warn', `election connection from ${remote}: no header in time, closed`);
      sock.destroy();
    });
    const onData = (chunk: Buffer): void => {
      pending = Buffer.concat([pending, chunk]);
      let parsed;
      try {
        parsed = decodeConnectionHeader(pending);
      } catch (e) {
        this.opts.log('warn', `election connection from ${remote}: ${(e as Error).message}; closed`);
        sock.destroy();
        return;
      }
      if (parsed === null) return;
      sock.off('data', onData);
      sock.setTimeout(0);
      const { header, bytes } = parsed;
      if (header.sid > BigInt(Number.MAX_SAFE_INTEGER) || header.sid < 0n) {
        this.opts.log('warn', `election connection from ${remote}: sid ${header.sid} is not supported; closed`);
        sock.destroy();
        return;
      }
      const sid = Number(header.sid);
      const p = this.peer(sid);
      if (header.addresses.length > 0) p.announced = header.addresses;
      if (sid < this.opts.myId) {
        // We win the challenge: drop this one (and any old one from that sid) and dial back.
        sock.destroy();
        if (p.conn) p.conn.destroy();
        p.conn = null;
        if (p.retry) clearTimeout(p.retry);
        p.retry = null;
        p.queued ??= p.lastSent; // the dial back re-sends the last message, as a new SendWorker does
        this.connectOne(p);
        return;
      }
      if (sid === this.opts.myId) {
        this.opts.log('warn', `election connection from ${remote} with our own sid ${sid}: a configuration error; closed`);
        sock.destroy();
        return;
      }
      const decoder = new ElectionStreamDecoder({ expectHeader: false });
      this.established(p, sock, decoder);
      const rest = pending.subarray(bytes);
      if (rest.length > 0) sock.emit('data', rest);
    };
    sock.on('data', onData);
    sock.on('error', (e) => this.opts.log('debug', `election connection from ${remote}: ${e.message}`));
  }

  private established(p: Peer, sock: Socket, decoder: ElectionStreamDecoder): void {
    if (p.conn && p.conn !== sock) p.conn.destroy();
    p.conn = sock;
    if (p.retry) clearTimeout(p.retry);
    p.retry = null;
    p.backoffMs = this.opts.reconnectMinMs ?? 100;
    this.opts.log('info', `election connection with sid ${p.sid} established`);
    // SendWorker: with nothing queued, the last message goes again.
    if (!p.queued && p.lastSent) sock.write(encodeFrame(p.lastSent));
    this.flush(p);
    sock.on('data', (chunk: Buffer) => {
      if (p.conn !== sock) return;
      let items;
      try {
        items = decoder.push(chunk);
      } catch (e) {
        this.opts.log('warn', `election connection with sid ${p.sid}: ${(e as Error).message}; closed`);
        sock.destroy();
        return;
      }
      for (const item of items) if (item.kind === 'frame') this.opts.onMessage(p.sid, item.payload);
    });
    sock.on('error', (e) => this.opts.log('debug', `election connection with sid ${p.sid}: ${e.message}`));
    sock.once('close', () => {
      if (p.conn !== sock) return;
      p.conn = null;
      this.opts.log('info', `election connection with sid ${p.sid} closed`);
      this.scheduleRetry(p);
    });
  }
}
