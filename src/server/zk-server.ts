// zk-server.ts — the standalone server: listener, sessions, and the request pipeline
//   codec → session → prep → commit → apply → reply
// Writes are prepped into txns, made durable by the commit stage, applied to the tree in zxid
// order and answered; reads are answered from the tree in order behind the same connection's
// earlier requests. Watch events raised by apply are queued before the reply that shows them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Code } from '../protocol/codes.js';
import { JuteReader } from '../protocol/jute.js';
import { EventType, OpCode, Perm, Xid } from '../protocol/opcodes.js';
import { lastOperationName } from './four-letter.js';
import type { ACL, Id } from '../protocol/records.js';
import {
  decodeConnectRequest,
  decodeRequest,
  type AuthRequest,
  type Request,
  type SaslRequest,
  type SetWatchesRequest,
} from '../protocol/requests.js';
import {
  type ResponseBody,
  type MultiResult,
  writeConnectResponse,
  writeReply,
  writeReplyHeaderOnly,
} from '../protocol/responses.js';
import { DataTree, type TxnResult } from '../tree/data-tree.js';
import { digestMismatchLogger, type TxnDigest } from '../tree/digest.js';
import { PendingDigests } from '../tree/pending-digest.js';
import { ephemeralKind, ttlOf } from '../tree/ephemeral-type.js';
import { errorTxn, type Txn, type TxnHeader } from '../tree/txn.js';
import { type AuthProviders, checkAcl, defaultProviders } from './auth/digest.js';
import { DigestMd5Server, saslIds, saslProvider } from './auth/sasl-digest-md5.js';
import { OutstandingChanges } from './change-records.js';
import { Connection, type ConnectionHost, type OutputLimits, PauseReason } from './connection.js';
import { MULTI_WRITE_OPS, Prep, type PrepContext } from './prep.js';
import { Reads } from './reads.js';
import { SessionPasswords, type SessionPasswordMode } from './session-passwords.js';
import { SessionTracker, type Session } from './session-tracker.js';
import { ServerStats } from './server-stats.js';
import type { ServerMetrics } from './server-metrics.js';
import { PluginHost } from '../plugin/host.js';
import { verifiedPeerCertificate, x509Provider } from './auth/x509.js';
import { AuthEnforcement } from './auth/enforce-auth.js';
import type { TlsSettings } from './tls-config.js';
import { TlsFront } from './tls-front.js';
import type { TxnSource } from '../plugin/change-listeners.js';
import type { PluginSpec } from '../plugin/types.js';
import type { LearnerView, Upstream } from './upstream.js';

export interface ServerOptions {
  host: string;
  port: number;
  tickTime: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  maxClientCnxns: number;
  /** maxCnxns: connections in all (0: no limit). */
  maxCnxns?: number;
  /** globalOutstandingLimit: past this many requests in the pipeline, connections stop being read. */
  globalOutstandingLimit?: number;
  /** zkts.globalOutstandingBytes: past this many bytes of requests in the pipeline, the same
   * (a flood of large writes is bounded in memory, not only in count). 0: no byte limit. */
  globalOutstandingBytes?: number;
  maxFrameBytes: number;
  /** Per-connection output bounds (slow readers); defaults in connection.ts. */
  outputLimits?: OutputLimits;
  extendedTypesEnabled: boolean;
  /** zookeeper.digest.enabled (default true), for a tree the server makes (one recovered has its own). */
  digestEnabled?: boolean;
  reconfigEnabled: boolean;
  /** enforceQuota: hard quota limits refuse writes (QuotaExceeded). */
  enforceQuota?: boolean;
  superDigest?: string;
  /** SASL DIGEST-MD5: the users of the JAAS file's Server section (user → password). */
  saslCredentials?: ReadonlyMap<string, string>;
  /** authProvider.N names ZooKeeper's SASLAuthenticationProvider: "sasl" ACLs are valid. */
  saslAclProvider?: boolean;
  /** zookeeper.superUser[.*]: SASL users who are super. */
  saslSuperUsers?: readonly string[];
  /** zookeeper.SASLAuthenticationProvider.superPassword. */
  saslSuperPassword?: string;
  containerCheckIntervalMs: number;
  containerMaxNeverUsedIntervalMs: number;
  /** Server id in the session-id layout (1 for a standalone server, as ZooKeeper). */
  serverId: number;
  /** Answers a four-letter word, or null when the word is not one. */
  fourLetterWord?: (server: ZkServer, conn: Connection, word: number, extra?: Uint8Array) => string | null;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** ServerMetrics shared with the data directory (fsynctime, snapshottime, ...); a new one by default. */
  metrics?: ServerMetrics;
  /** Plugins (src/plugin), started with the server in this order. */
  plugins?: readonly PluginSpec[];
  /** The txn log, for plugins' change listeners that resume from a cursor. */
  pluginTxnSource?: TxnSource | null;
  /** TLS (tls-config.ts): secureClientPort and/or client.portUnification; the x509 scheme. */
  tls?: TlsSettings;
  /** authProvider.N names X509AuthenticationProvider: "x509" ACLs are valid without TLS too. */
  x509AclProvider?: boolean;
  /**
   * 'observer': a learner of an ensemble (src/quorum/observer-peer.ts). It serves clients only
   * between setUpstream(up) and setUpstream(null), forwards every write to the leader through
   * `up` and answers it when the leader's committed txn comes back (applyCommitted); sessions
   * are created, revalidated and expired by the leader. Undefined: standalone.
   */
  quorumRole?: 'observer';
  /** Session passwords: 'secret' (default), HMAC-SHA256(sessionSecret, sessionId); 'java', ZooKeeper's
   * derivable Random(sessionId ^ 0xB3415C00), only for an ensemble shared with Apache ZooKeeper (the
   * default of quorumRole 'observer'). */
  sessionPasswords?: SessionPasswordMode;
  /** The 'secret' mode's key: with a data directory, its loadSessionSecret (src/storage/session-secret.ts), so
   * sessions survive a restart; unset, a random one per process. */
  sessionSecret?: Buffer;
  /** enforce.auth.enabled with enforce.auth.schemes (auth/enforce-auth.ts): requests other than auth
   * and sasl need an id of one of these schemes. Undefined: not enforced. */
  enforceAuthSchemes?: readonly string[];
}

/**
 * The commit stage: makes a txn durable, then calls `done`. `digest` is the tree's digest once
 * the txn is applied (TxnDigest, logged with it as ZooKeeper does); null for error txns and with
 * digests off.
 */
export interface CommitStage {
  append(hdr: TxnHeader, txn: Txn, done: (err: Error | null) => void, digest?: TxnDigest | null): void;
}

/** State recovered from a data directory (src/storage/recovery.ts) to start from. */
export interface InitialState {
  tree: DataTree;
  /** Session id → timeout in ms; each is tracked again as if it had just been touched. */
  sessions: ReadonlyMap<bigint, number>;
  lastZxid: bigint;
}

/** Standalone without a data directory: every txn is durable at once. */
export const inMemoryCommit: CommitStage = {
  append(_hdr, _txn, done) {
    done(null);
  },
};

interface Entry {
  conn: Connection | null;
  /** Bytes of the request's frame, held until it is answered (the byte limit). */
  bytes?: number;
  sessionId: bigint;
  xid: number;
  type: number;
  req: Request | null;
  hdr: TxnHeader | null;
  txn: Txn | null;
  ready: boolean;
  startMs: number;
  /** A read that fails before it runs (a malformed body): answered with this code in order. */
  err?: number;
  /** For createSession: finish the handshake after the txn applies. */
  onApplied?: (rc: TxnResult) => void;
  /** A learner's forwarded write, once its committed txn has been applied: answer with this. */
  rc?: TxnResult;
  /** The digest logged with the txn, compared with the tree's once it is applied. */
  digest?: TxnDigest | null;
}

/** zkts.globalOutstandingBytes by default: 64 MiB of requests in the pipeline. */
export const DEFAULT_OUTSTANDING_BYTES = 64 * 1024 * 1024;

/** Requests that become txns: the ops a multi may hold, and setACL, multi, reconfig, closeSession. */
const WRITE_TYPES = new Set<number>([...MULTI_WRITE_OPS, OpCode.setACL, OpCode.multi, OpCode.reconfig, OpCode.closeSession]);

export class ZkServer implements ConnectionHost {
  private currentTree: DataTree;
  readonly sessions: SessionTracker;
  readonly providers: AuthProviders;
  readonly connections = new Set<Connection>();
  /** Open connections per client address (maxClientCnxns) and per session (closeSession). */
  private readonly connectionsByIp = new Map<string, number>();
  private readonly connectionsBySession = new Map<bigint, Set<Connection>>();
  readonly stats: ServerStats;
  readonly startedAt = Date.now();
  private outstanding: OutstandingChanges;
  private prep: Prep;
  private reads: Reads;
  private readonly commit: CommitStage;
  /** The digest each txn will leave, worked out before it is logged (ZooKeeper's precalculated digests). */
  private pendingDigests: PendingDigests;
  /** Counts (digest_mismatches_count) and logs a digest mismatch the tree reports. */
  private readonly digestMismatch = ((log: ReturnType<typeof digestMismatchLogger>) =>
    (zxid: bigint, expected: bigint, actual: bigint, count: number): void => {
      this.stats.metrics.inc('digest_mismatches_count');
      log(zxid, expected, actual, count);
    })(digestMismatchLogger((level, msg) => this.log(level, msg)));
  /** node_*_watch_count: each event that fired watches, in either table of the tree. */
  private readonly watchTriggered = (type: EventType, watchers: number): void => this.stats.metrics.watchTriggered(type, watchers);
  private readonly queue: Entry[] = [];
  private draining = false;
  private lastZxid = 0n;
  private net: Server | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private reaperTimer: NodeJS.Timeout | null = null;
  /** Loaded plugins; null when none are configured (then no hook costs anything). */
  readonly plugins: PluginHost | null;
  /** The TLS listener (secureClientPort, client.portUnification); null without TLS. */
  readonly tls: TlsFront | null;
  private readonly passwords: SessionPasswords;
  private readonly standalone: boolean;
  private readonly enforceAuth: AuthEnforcement | null;

  constructor(
    readonly opts: ServerOptions,
    commit: CommitStage = inMemoryCommit,
    initial?: InitialState,
  ) {
    this.stats = new ServerStats(opts.metrics);
    this.standalone = opts.quorumRole === undefined;
    this.currentTree = initial?.tree ?? new DataTree({ extendedTypesEnabled: opts.extendedTypesEnabled, digestEnabled: opts.digestEnabled });
    this.adoptTree(this.currentTree);
    this.pendingDigests = new PendingDigests(this.currentTree);
    this.sessions = new SessionTracker(opts.tickTime, opts.serverId, Number(process.hrtime.bigint() / 1000000n));
    if (initial) {
      for (const [sessionId, timeoutMs] of initial.sessions) this.sessions.add(sessionId, timeoutMs, performance.now());
      this.lastZxid = this.lastZxidAllocated = initial.lastZxid;
    }
    const providers = defaultProviders({ superDigest: opts.superDigest });
    if (opts.saslAclProvider) providers.set('sasl', saslProvider());
    if (opts.tls !== undefined || opts.x509AclProvider) providers.set('x509', x509Provider({ superUser: opts.tls?.superUser }));
    this.providers = providers;
    this.tls = opts.tls === undefined ? null : new TlsFront(this, opts.tls, { maxClientCnxns: opts.maxClientCnxns, maxCnxns: opts.maxCnxns });
    this.plugins = opts.plugins?.length ? new PluginHost(this, opts.plugins, { providers, txnSource: opts.pluginTxnSource }) : null;
    this.outstanding = new OutstandingChanges(this.currentTree, this.stats.metrics);
    this.prep = this.newPrep();
    this.reads = new Reads(this.currentTree, this.providers, this.plugins?.behaviours.virtualRead);
    this.commit = commit;
    // an observer's sessions are made by the leader of an Apache ZooKeeper ensemble: its passwords
    this.enforceAuth = opts.enforceAuthSchemes === undefined ? null : new AuthEnforcement(opts.enforceAuthSchemes);
    this.passwords = new SessionPasswords(opts.sessionPasswords ?? (opts.quorumRole === 'observer' ? 'java' : 'secret'), opts.sessionSecret);
  }

  /** The server's listeners on a tree it serves; mismatches found loading it count too. */
  private adoptTree(tree: DataTree): void {
    tree.onDigestMismatch = this.digestMismatch;
    tree.dataWatches.onTriggered = this.watchTriggered;
    tree.childWatches.onTriggered = this.watchTriggered;
    if (tree.digestMismatches > 0) this.stats.metrics.inc('digest_mismatches_count', tree.digestMismatches);
  }

  private newPrep(): Prep {
    return new Prep(this.currentTree, this.outstanding, this.providers, {
      extendedTypesEnabled: this.opts.extendedTypesEnabled,
      reconfigEnabled: this.opts.reconfigEnabled,
      enforceQuota: this.opts.enforceQuota ?? false,
      warn: (msg) => this.log('warn', msg),
      writeFilter: this.plugins?.behaviours.filter,
    });
  }

  /** The replicated state. A learner's is replaced when the leader sends a snapshot (resetState). */
  get tree(): DataTree {
    return this.currentTree;
  }

  get zxid(): bigint {
    return this.lastZxid;
  }

  /** Starts serving; the plaintext client address, or the TLS one when there is no plaintext port. */
  async start(): Promise<{ host: string; port: number }> {
    if (this.plugins !== null) await this.plugins.start();
    this.enforceAuth?.checkProviders((scheme) => this.providers.has(scheme));
    // port -1: no plaintext port, only secureClientPort (as ZooKeeper allows)
    assert(this.opts.port >= 0 || this.tls?.settings.secureClientPort !== undefined, 'a server without a plaintext port needs secureClientPort');
    const port = this.opts.port < 0 ? null : await this.listenPlain();
    if (this.tls !== null) {
      try {
        await this.tls.listen();
      } catch (e) {
        const net = this.net;
        this.net = null;
        if (net !== null) await new Promise<void>((resolve) => net.close(() => resolve()));
        throw e;
      }
    }
    // A learner's sessions expire at the leader, and the leader's ContainerManager reaps.
    if (this.opts.quorumRole === undefined) {
      this.scheduleExpiry();
      this.reaperTimer = setInterval(() => this.reapContainers(), this.opts.containerCheckIntervalMs);
      this.reaperTimer.unref();
    } else {
      this.expiryTimer = setInterval(() => this.sessions.forgetPassed(performance.now()), this.opts.tickTime);
      this.expiryTimer.unref();
    }
    if (port !== null) this.log('info', `zkts serving clients on ${this.opts.host}:${port}`);
    if (this.plugins !== null) {
      try {
        await this.plugins.listen();
      } catch (e) {
        await this.stop();
        throw e;
      }
    }
    return port !== null ? { host: this.opts.host, port } : { ...this.tls!.address! };
  }

  /** The plaintext client port (with client.portUnification, TLS too); the port bound. */
  private async listenPlain(): Promise<number> {
    const unified = this.tls !== null && this.tls.settings.portUnification ? this.tls : null;
    const net = createServer((socket) => (unified !== null ? unified.unify(socket) : this.accept(socket)));
    this.net = net;
    await new Promise<void>((resolve, reject) => {
      net.once('error', reject);
      net.listen(this.opts.port, this.opts.host, () => {
        net.off('error', reject);
        resolve();
      });
    });
    const addr = net.address();
    return typeof addr === 'object' && addr !== null ? addr.port : this.opts.port;
  }

  async stop(): Promise<void> {
    if (this.plugins !== null) await this.plugins.beforeStop();
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.reaperTimer) clearInterval(this.reaperTimer);
    for (const c of [...this.connections]) c.close();
    const net = this.net;
    this.net = null;
    if (net) await new Promise<void>((resolve) => net.close(() => resolve()));
    if (this.tls !== null) await this.tls.close();
    if (this.plugins !== null) await this.plugins.stop();
  }

  /** A connection that speaks ZooKeeper's binary protocol from elsewhere (a plugin's protocol; the
   * TLS listener, with the ids its handshake proved). */
  acceptConnection(socket: Socket, authIds: readonly Id[] = []): void {
    this.accept(socket, authIds);
  }

  log(level: 'info' | 'warn' | 'error', msg: string): void {
    if (this.opts.log) this.opts.log(level, msg);
    else if (level !== 'info') console.error(`${new Date().toISOString()} ${level.toUpperCase()} ${msg}`);
  }

  private accept(socket: Socket, authIds: readonly Id[] = []): void {
    const ip = socket.remoteAddress ?? '';
    const maxCnxns = this.opts.maxCnxns ?? 0;
    if (maxCnxns > 0 && this.connections.size >= maxCnxns) {
      this.log('warn', `Too many connections - max is ${maxCnxns}`);
      this.stats.metrics.inc('connection_rejected');
      socket.destroy();
      return;
    }
    if (this.opts.maxClientCnxns > 0) {
      if ((this.connectionsByIp.get(ip) ?? 0) >= this.opts.maxClientCnxns) {
        this.log('warn', `Too many connections from ${ip} - max is ${this.opts.maxClientCnxns}`);
        this.stats.metrics.inc('connection_rejected');
        socket.destroy();
        return;
      }
    }
    const conn = new Connection(socket, this, this.opts.maxFrameBytes, this.opts.outputLimits);
    const ipProvider = this.providers.get('ip');
    if (ipProvider) {
      const r = ipProvider.authenticate(Buffer.alloc(0), { remoteAddress: ip });
      if ('ids' in r) conn.authIds.push(...r.ids);
    }
    conn.authIds.push(...authIds);
    this.connections.add(conn);
    this.connectionsByIp.set(ip, (this.connectionsByIp.get(ip) ?? 0) + 1);
  }

  // --- ConnectionHost ------------------------------------------------------------------------

  onFourLetterWord(conn: Connection, word: number, extra: Uint8Array): string | null {
    // ZooKeeper counts the word as a 4-byte packet before running it (so mntr and srvr count
    // themselves), and its answer as one packet per 8192 characters (its PrintWriter's buffer).
    this.stats.packetsReceived++;
    this.stats.metrics.bytesReceived += 4;
    const text = this.opts.fourLetterWord ? this.opts.fourLetterWord(this, conn, word, extra) : null;
    if (text === null) {
      // not a word: the 4 bytes are a frame's length, counted with its frame
      this.stats.packetsReceived--;
      this.stats.metrics.bytesReceived -= 4;
      return null;
    }
    this.stats.packetsSent += Math.ceil(text.length / 8192);
    return text;
  }

  canRead(acl: readonly ACL[], ids: readonly Id[]): boolean {
    return checkAcl(acl, Perm.READ, ids, this.providers);
  }

  /** Requests in the pipeline (queued, prepped, committing) across all connections. */
  private outstandingTotal = 0;
  /** Their request bytes (frames), and the size of the frame being handled now. */
  private outstandingBytes = 0;
  private frameBytes = 0;
  private readonly throttled = new Set<Connection>();

  /** Whether the pipeline holds as many requests, or as many bytes of them, as it may. */
  private pipelineFull(): boolean {
    const limit = this.opts.globalOutstandingLimit ?? 1000;
    const bytes = this.opts.globalOutstandingBytes ?? DEFAULT_OUTSTANDING_BYTES;
    return (limit > 0 && this.outstandingTotal >= limit) || (bytes > 0 && this.outstandingBytes >= bytes);
  }

  afterInput(conn: Connection): void {
    if (this.pipelineFull()) {
      conn.pauseReading(PauseReason.throttled);
      this.throttled.add(conn);
    }
  }

  private enqueue(e: Entry): void {
    this.queue.push(e);
    // a standalone server's requests all pass ZooKeeper's prep and sync processors
    if (this.standalone) this.stats.metrics.requestsQueued++;
    this.outstandingTotal++;
    e.bytes = this.frameBytes;
    this.outstandingBytes += this.frameBytes;
    this.frameBytes = 0;
  }

  /** An entry leaves the pipeline (answered). */
  private dequeued(e: Entry): void {
    this.outstandingTotal--;
    this.outstandingBytes -= e.bytes ?? 0;
    if (e.conn) e.conn.outstanding--;
  }

  private releaseThrottled(): void {
    if (this.throttled.size === 0) return;
    if (this.pipelineFull()) return;
    for (const c of this.throttled) c.resumeReading(PauseReason.throttled);
    this.throttled.clear();
  }

  onClose(conn: Connection): void {
    this.throttled.delete(conn);
    if (!this.connections.delete(conn)) return;
    const n = this.connectionsByIp.get(conn.remoteAddress) ?? 0;
    if (n <= 1) this.connectionsByIp.delete(conn.remoteAddress);
    else this.connectionsByIp.set(conn.remoteAddress, n - 1);
    if (conn.session !== null) this.onSessionChange(conn, conn.session, null);
    this.tree.removeWatcher(conn);
  }

  onConnect(conn: Connection, frame: Buffer): void {
    if (!this.serving) {
      // NIOServerCnxn.readConnectRequest: "ZooKeeperServer not running"
      this.log('info', `closing ${conn.remoteAddress}: not serving (no leader yet)`);
      conn.close();
      return;
    }
    let req;
    try {
      req = decodeConnectRequest(new JuteReader(frame));
    } catch (e) {
      this.log('warn', `closing ${conn.remoteAddress}: bad ConnectRequest: ${(e as Error).message}`);
      conn.close();
      return;
    }
    // ZooKeeper samples its connection throttle's token deficit with each; zkts has no throttle (nor,
    // by default, does ZooKeeper): the deficit is 0
    this.stats.metrics.observe('connection_token_deficit', 0);
    this.stats.metrics.inc('connection_request_count');
    if (req.lastZxidSeen > this.lastZxid) {
      this.log(
        'info',
        `Refusing session request for client ${conn.remoteAddress} as it has seen zxid 0x${req.lastZxidSeen.toString(16)} ` +
          `our last zxid is 0x${this.lastZxid.toString(16)} client must try another server`,
      );
      conn.close();
      return;
    }
    const timeout = Math.min(Math.max(req.timeOut, this.opts.minSessionTimeout), this.opts.maxSessionTimeout);
    conn.readOnly = req.readOnly;
    if (this.readOnlyMode) {
      this.connectReadOnly(conn, req.sessionId, req.passwd, req.readOnly, timeout);
      return;
    }
    if (this.upstream !== null) {
      this.connectThroughLeader(conn, req.sessionId, req.passwd, timeout);
      return;
    }
    if (req.sessionId === 0n) {
      const session = this.sessions.create(timeout, performance.now());
      conn.session = session;
      this.submitWrite(conn, session.sessionId, 0, OpCode.createSession, null, { type: OpCode.createSession, timeOut: timeout }, () =>
        this.finishHandshake(conn, true),
      );
      return;
    }
    // Reconnect: the session moves to this connection; the old one is closed.
    for (const other of this.connections) {
      if (other !== conn && other.session?.sessionId === req.sessionId) other.close();
    }
    const session = this.sessions.get(req.sessionId);
    const valid = session !== undefined && !session.closing && this.passwords.verify(req.sessionId, req.passwd);
    if (valid) {
      session.timeoutMs = timeout;
      this.sessions.touch(session, performance.now());
      conn.session = session;
    } else {
      conn.session = { sessionId: req.sessionId, timeoutMs: 0, expiresAt: 0, closing: true };
    }
    this.finishHandshake(conn, valid);
  }

  private finishHandshake(conn: Connection, valid: boolean): void {
    const s = conn.session!;
    writeConnectResponse(conn.writer(), {
      protocolVersion: 0,
      timeOut: valid ? s.timeoutMs : 0,
      sessionId: valid ? s.sessionId : 0n,
      passwd: valid ? this.passwords.password(s.sessionId) : Buffer.alloc(16),
      readOnly: this.readOnlyMode,
    });
    conn.sent(false);
    if (!valid) {
      conn.closeAfterFlush();
      return;
    }
    conn.connected = true;
  }

  onRequest(conn: Connection, frame: Buffer): void {
    const startMs = performance.now();
    this.frameBytes = frame.length;
    let h;
    try {
      h = conn.readHeader(frame);
    } catch (e) {
      this.log('warn', `closing connection from ${conn.remoteAddress}:${conn.remotePort}: malformed request header: ${(e as Error).message}`);
      conn.close();
      return;
    }
    const { xid, type } = h;
    if (this.enforceAuth !== null && type !== OpCode.auth && type !== OpCode.sasl && !this.enforceAuth.satisfiedBy(conn.authIds)) {
      this.log('warn', this.enforceAuth.describe(conn.authIds));
      writeReplyHeaderOnly(conn.writer(), xid, 0n, Code.SessionClosedRequireSaslAuth);
      conn.sent();
      conn.closeAfterFlush();
      return;
    }
    let req: Request | null = null;
    let bodyError: string | null = null;
    try {
      const decoded = decodeRequest(type, h.r);
      if (!('unknown' in decoded)) req = decoded;
    } catch (e) {
      bodyError = (e as Error).message;
    }
    const session = conn.session!;
    if (req === null) {
      this.onUndecodable(conn, session, xid, type, bodyError, startMs);
      return;
    }
    this.sessions.touch(session, performance.now());
    if (this.upstream !== null) this.upstream.touch(session.sessionId, session.timeoutMs);
    conn.lastCxid = xid;
    if (type === OpCode.auth) {
      this.handleAuth(conn, xid, req as AuthRequest);
      return;
    }
    if (type === OpCode.sasl) {
      this.handleSasl(conn, xid, (req as SaslRequest).token);
      return;
    }
    if (this.plugins !== null) {
      const refused = this.plugins.beforePrep(req, conn);
      if (refused !== 0) {
        conn.outstanding++;
        this.enqueue({ conn, sessionId: session.sessionId, xid, type, req, hdr: null, txn: null, ready: true, startMs, err: refused });
        this.drain();
        return;
      }
    }
    if (this.readOnlyMode && (WRITE_TYPES.has(type) || type === OpCode.sync)) {
      this.refuseReadOnly(conn, session.sessionId, xid, type, req, startMs);
      return;
    }
    if (this.upstream !== null && (WRITE_TYPES.has(type) || type === OpCode.sync)) {
      this.forward(conn, session.sessionId, xid, type, req, frame.subarray(8), startMs);
      return;
    }
    if (WRITE_TYPES.has(type)) {
      const zxid = this.lastZxidAllocated + 1n;
      const txn = this.prepTxn(req, { sessionId: session.sessionId, authIds: conn.authIds, zxid, remoteAddress: conn.remoteAddress });
      this.submitWrite(conn, session.sessionId, xid, type, req, txn, undefined, startMs);
      return;
    }
    conn.outstanding++;
    this.enqueue({
      conn,
      sessionId: session.sessionId,
      xid,
      type,
      req,
      hdr: null,
      txn: null,
      ready: true,
      startMs,
    });
    this.drain();
  }

  private lastZxidAllocated = 0n;

  /** A write's txn; a closeSession's prep is timed (close_session_prep_time), as ZooKeeper's. */
  private prepTxn(req: Request, ctx: PrepContext): Txn {
    if (req.type !== OpCode.closeSession) return this.prep.prep(req, ctx);
    const t0 = performance.now();
    const txn = this.prep.prep(req, ctx);
    this.stats.metrics.observePercentile('close_session_prep_time', performance.now() - t0);
    return txn;
  }

  /**
   * A request whose body did not decode, or whose type no client may send, gets ZooKeeper's
   * answer: MarshallingError (a write uses up a zxid for its error txn, as ZooKeeper's prep
   * does), BadArguments for a client's deleteContainer, Unimplemented for an unknown type, after
   * which ZooKeeper closes the connection.
   */
  private onUndecodable(conn: Connection, session: Session, xid: number, type: number, bodyError: string | null, startMs: number): void {
    if (bodyError !== null) this.log('warn', `malformed ${type} request from ${conn.remoteAddress}:${conn.remotePort}: ${bodyError}`);
    const writeError =
      type === OpCode.deleteContainer ? Code.BadArguments
      : type === OpCode.createSession || (bodyError !== null && WRITE_TYPES.has(type)) ? Code.MarshallingError
      : null;
    if (writeError !== null && this.readOnlyMode) {
      this.refuseReadOnly(conn, session.sessionId, xid, type, null, startMs);
      return;
    }
    if (writeError !== null && this.upstream !== null) {
      // The leader's prep answers it, as ZooKeeper's learners forward what they cannot read.
      this.forward(conn, session.sessionId, xid, type, null, Buffer.alloc(0), startMs);
      return;
    }
    if (writeError !== null) {
      this.submitWrite(conn, session.sessionId, xid, type, null, errorTxn(writeError), undefined, startMs);
      return;
    }
    if (bodyError !== null) {
      conn.outstanding++;
      this.enqueue({ conn, sessionId: session.sessionId, xid, type, req: null, hdr: null, txn: null, ready: true, startMs, err: Code.MarshallingError });
      this.drain();
      return;
    }
    this.log('warn', `Received packet at server of unknown type ${type}`);
    writeReplyHeaderOnly(conn.writer(), xid, -1n, Code.Unimplemented);
    conn.sent();
    conn.closeAfterFlush();
  }

  /** Puts a txn in line: commit, then apply and reply in zxid order. */
  private submitWrite(
    conn: Connection | null,
    sessionId: bigint,
    xid: number,
    type: number,
    req: Request | null,
    txn: Txn,
    onApplied?: (rc: TxnResult) => void,
    startMs = performance.now(),
  ): void {
    const zxid = ++this.lastZxidAllocated;
    const hdrType = txn.type === OpCode.error ? OpCode.error : type;
    const hdr: TxnHeader = { clientId: sessionId, cxid: xid, zxid, time: Date.now(), type: hdrType };
    const entry: Entry = { conn, sessionId, xid, type, req, hdr, txn, ready: false, startMs, onApplied };
    if (conn) conn.outstanding++;
    this.enqueue(entry);
    // A top-level check changes nothing, and ZooKeeper cannot read a logged type 13 back: it goes
    // to the log as an error txn with code 0, so its zxid is still accounted for.
    const logged = type === OpCode.check && txn.type === OpCode.check ? ([{ ...hdr, type: OpCode.error }, errorTxn(Code.OK)] as const) : ([hdr, txn] as const);
    entry.digest = this.pendingDigests.next(logged[0], logged[1]);
    const queuedAt = performance.now();
    this.commit.append(
      logged[0],
      logged[1],
      (err) => {
        // SyncRequestProcessor: from the txn's turn in the log queue to its flush
        if (!err) this.stats.metrics.observePercentile('sync_processor_queue_and_flush_time_ms', performance.now() - queuedAt);
        if (err) {
          this.log('error', `txn 0x${zxid.toString(16)} was not made durable: ${err.message}`);
          // It applies as an error txn (its header says so too, or a multi would answer OK).
          entry.hdr = { ...hdr, type: OpCode.error };
          entry.txn = { type: OpCode.error, err: Code.SystemError };
          entry.digest = null;
        }
        entry.ready = true;
        this.drain();
      },
      entry.digest,
    );
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      if (this.opts.quorumRole !== undefined) this.drainBySession();
      while (this.queue.length > 0 && this.queue[0]!.ready) {
        const e = this.queue.shift()!;
        this.dequeued(e);
        if (e.rc !== undefined) this.replyApplied(e, e.rc);
        else if (e.hdr !== null && e.txn !== null) this.applyAndReply(e);
        else this.readAndReply(e);
      }
    } finally {
      this.draining = false;
    }
    this.releaseThrottled();
  }

  /**
   * A learner's replies (ZooKeeper's CommitProcessor): its writes are applied as the leader
   * commits them, so only each session's own order binds. A request is answered once it is ready
   * and nothing of its connection is still waiting before it; a read waits behind its own
   * session's pending writes, not behind other sessions'.
   */
  private drainBySession(): void {
    const waiting = new Set<Connection | null>();
    let kept = 0;
    for (let i = 0; i < this.queue.length; i++) {
      const e = this.queue[i]!;
      if (!e.ready || waiting.has(e.conn)) {
        waiting.add(e.conn);
        this.queue[kept++] = e;
        continue;
      }
      this.dequeued(e);
      if (e.rc !== undefined) this.replyApplied(e, e.rc);
      else this.readAndReply(e);
    }
    this.queue.length = kept;
  }

  private applyAndReply(e: Entry): void {
    const hdr = e.hdr!;
    // FinalRequestProcessor: wall-clock ms from the txn header's time to its apply
    const propagation = Date.now() - hdr.time;
    if (propagation >= 0) this.stats.metrics.observePercentile('propagation_latency', propagation);
    const rc = this.tree.processTxn(hdr, e.txn!, e.digest);
    this.lastZxid = this.tree.lastProcessedZxid;
    this.outstanding.applied(hdr.zxid);
    if (e.type === OpCode.closeSession) this.sessions.remove(e.sessionId);
    if (this.plugins !== null) this.plugins.applied(hdr, e.txn!, rc, e.conn, e.req);
    this.replyApplied(e, rc);
  }

  /** Answers an applied write (FinalRequestProcessor). */
  private replyApplied(e: Entry, rc: TxnResult): void {
    const hdr = e.hdr!;
    if (e.onApplied) {
      e.onApplied(rc);
      // a new session's ConnectResponse counts as an update's answer (FinalRequestProcessor's "SESS")
      if (e.type === OpCode.createSession && e.conn !== null && !e.conn.closed) this.updateStats(e, true);
      return;
    }
    const conn = e.conn;
    if (conn === null || conn.closed) {
      if (e.type === OpCode.closeSession) this.closeSessionConnections(e.sessionId);
      return;
    }
    // An error txn answers with its code and no body; a multi that failed an op answers OK with
    // the per-op results (ZooKeeper's FinalRequestProcessor).
    if (hdr.type === OpCode.error || (rc.err !== Code.OK && e.type !== OpCode.multi)) {
      this.reply(e, rc.err, { kind: 'none' });
    } else {
      this.reply(e, Code.OK, writeBody(e.type, rc));
    }
    if (e.type === OpCode.closeSession) this.closeSessionConnections(e.sessionId);
  }

  private closeSessionConnections(sessionId: bigint): void {
    const conns = this.connectionsBySession.get(sessionId);
    if (conns === undefined) return;
    for (const c of [...conns]) c.closeAfterFlush();
  }

  onSessionChange(conn: Connection, before: Session | null, after: Session | null): void {
    if (before !== null) {
      const set = this.connectionsBySession.get(before.sessionId);
      if (set !== undefined && set.delete(conn) && set.size === 0) this.connectionsBySession.delete(before.sessionId);
    }
    if (after !== null && this.connections.has(conn)) {
      let set = this.connectionsBySession.get(after.sessionId);
      if (set === undefined) this.connectionsBySession.set(after.sessionId, (set = new Set()));
      set.add(conn);
    }
  }

  private readAndReply(e: Entry): void {
    const conn = e.conn!;
    if (conn.closed) return;
    if (e.err !== undefined) {
      this.reply(e, e.err, { kind: 'none' });
      return;
    }
    if (e.type === OpCode.ping) {
      writeReplyHeaderOnly(conn.writer(), Xid.ping, this.lastZxid, 0);
      this.stats.metrics.responseBytes += conn.sent();
      this.updateStats(e, false);
      return;
    }
    if (e.type === OpCode.setWatches || e.type === OpCode.setWatches2) {
      const r = e.req as SetWatchesRequest;
      this.tree.setWatches(r.relativeZxid, conn, {
        data: r.dataWatches,
        exist: r.existWatches,
        child: r.childWatches,
        persistent: r.persistentWatches,
        recursive: r.persistentRecursiveWatches,
      });
      this.reply(e, Code.OK, { kind: 'none' });
      return;
    }
    let r = this.reads.run(e.req!, conn.readContext(this.userName));
    if (this.plugins !== null) r = this.plugins.afterRead(e.req!, r, conn, this.lastZxid);
    this.reply(e, r.err, r.body);
  }

  /** whoAmI's user part of an id, per its scheme's provider. */
  private readonly userName = (id: Id): string => this.providers.get(id.scheme)?.userName(id.id) ?? id.id;

  private reply(e: Entry, err: number, body: ResponseBody): void {
    const conn = e.conn!;
    writeReply(conn.writer(), e.xid, this.lastZxid, err, body);
    this.stats.metrics.responseBytes += conn.sent();
    this.updateStats(e, e.hdr !== null);
  }

  /** FinalRequestProcessor.updateStats: request latency and the connection's last answer. */
  private updateStats(e: Entry, update: boolean): void {
    const conn = e.conn!;
    const now = performance.now();
    const latency = now - e.startMs;
    conn.lastOp = lastOperationName(e.type);
    conn.lastZxid = this.lastZxid;
    conn.lastLatencyMs = latency;
    conn.lastResponseTime = Math.floor(now);
    this.stats.recordLatency(latency);
    (update ? this.stats.updateLatency : this.stats.readLatency).add(latency);
    conn.totalLatencyMs += latency;
    conn.latencyCount++;
    if (latency < conn.minLatencyMs) conn.minLatencyMs = latency;
    if (latency > conn.maxLatencyMs) conn.maxLatencyMs = latency;
  }

  private handleAuth(conn: Connection, xid: number, req: AuthRequest): void {
    const provider = this.providers.get(req.scheme);
    let ids: Id[] | null = null;
    if (provider) {
      try {
        const peerCertificate = verifiedPeerCertificate(conn.socket);
        const r = provider.authenticate(req.auth, { remoteAddress: conn.remoteAddress, ...(peerCertificate === undefined ? {} : { peerCertificate }) });
        if ('ids' in r) ids = r.ids;
      } catch {
        ids = null;
      }
    }
    if (ids === null) {
      this.log('warn', `Authentication failed for scheme: ${req.scheme}`);
      writeReplyHeaderOnly(conn.writer(), xid, 0n, Code.AuthFailed);
      conn.sent();
      conn.closeAfterFlush();
      return;
    }
    for (const id of ids) {
      if (!conn.authIds.some((a) => a.scheme === id.scheme && a.id === id.id)) conn.authIds.push(id);
    }
    writeReplyHeaderOnly(conn.writer(), xid, 0n, Code.OK);
    conn.sent();
  }

  /**
   * SASL (opcode 102), answered at once as ZooKeeper's processSasl does: a challenge, then
   * rspauth and the sasl id; any failure is AuthFailed and the connection closes. Without a JAAS
   * Server section the answer is OK with no token, as ZooKeeper's.
   */
  private handleSasl(conn: Connection, xid: number, token: Buffer): void {
    const credentials = this.opts.saslCredentials;
    if (credentials === undefined) {
      writeReply(conn.writer(), xid, 0n, Code.OK, { kind: 'token', token: null });
      conn.sent();
      return;
    }
    conn.sasl ??= new DigestMd5Server({ credentials, randomBytes, superPassword: this.opts.saslSuperPassword });
    const step = conn.sasl.evaluate(token);
    if (step.kind === 'error') {
      this.log('warn', `SASL authentication failed for ${conn.remoteAddress}: ${step.message}`);
      const err = this.enforceAuth?.saslRequired ? Code.SessionClosedRequireSaslAuth : Code.AuthFailed;
      writeReply(conn.writer(), xid, 0n, err, { kind: 'token', token: null });
      conn.sent();
      conn.closeAfterFlush();
      return;
    }
    if (step.kind === 'complete') {
      for (const id of saslIds(step.authorizedId, this.opts.saslSuperUsers ?? [])) {
        if (!conn.authIds.some((a) => a.scheme === id.scheme && a.id === id.id)) conn.authIds.push(id);
      }
    }
    writeReply(conn.writer(), xid, 0n, Code.OK, { kind: 'token', token: step.token });
    conn.sent();
  }

  // --- learner mode (opts.quorumRole) ----------------------------------------------------------

  /** Where writes, session creation, revalidation and syncs go; null while not serving. */
  private upstream: Upstream | null = null;
  /** Forwarded writes by session, oldest first: the next committed txn of a session answers its head. */
  private readonly forwarded = new Map<bigint, Entry[]>();
  /** Forwarded syncs, answered in order by the leader's SYNC packets. */
  private pendingSyncs: Entry[] = [];
  /** Reconnects waiting for the leader's REVALIDATE answer, by session. */
  private readonly revalidating = new Map<bigint, { conn: Connection; timeoutMs: number }[]>();

  /** A learner's state for srvr/mntr, set by its peer (src/quorum/observer-peer.ts). */
  learner: LearnerView | null = null;

  /** Whether clients are served: always for a standalone server, while synced (or read-only) for a learner. */
  get serving(): boolean {
    return this.opts.quorumRole === undefined || this.upstream !== null || this.readOnlyMode;
  }

  /** 'standalone', the learner's role while it serves, 'read-only' (srvr/mntr "Mode"). */
  get serverState(): string {
    return this.readOnlyMode ? 'read-only' : (this.opts.quorumRole ?? 'standalone');
  }

  /** Serving read-only clients only, cut off from the leader (readonlymode.enabled). */
  get readOnly(): boolean {
    return this.readOnlyMode;
  }

  private readOnlyMode = false;
  /** Sessions made while read-only: they exist nowhere else and end with read-only mode. */
  private readonly readOnlySessions = new Set<bigint>();

  /**
   * ReadOnlyZooKeeperServer: a learner that has looked for a leader for a while serves clients
   * that accept a read-only server (canBeReadOnly): reads from its tree as it is, every write
   * and sync answered NotReadOnly, sessions of its own that no other server knows; others are
   * refused. Leaving read-only mode closes every connection, as ZooKeeper shuts that server down.
   */
  setReadOnly(on: boolean): void {
    assert(this.opts.quorumRole !== undefined && this.upstream === null, 'read-only mode is for a learner without a leader');
    if (this.readOnlyMode === on) return;
    this.readOnlyMode = on;
    this.log('info', on ? 'serving read-only clients (no leader)' : 'leaving read-only mode');
    if (on) return;
    for (const c of [...this.connections]) c.close();
    this.queue.length = 0;
    this.outstandingTotal = 0;
    this.outstandingBytes = 0;
    for (const id of this.readOnlySessions) this.sessions.remove(id);
    this.readOnlySessions.clear();
    this.releaseThrottled();
  }

  private connectReadOnly(conn: Connection, sessionId: bigint, passwd: Buffer, clientReadOnly: boolean, timeoutMs: number): void {
    if (!clientReadOnly) {
      this.log('info', `Refusing session request for not-read-only client ${conn.remoteAddress}`);
      conn.close();
      return;
    }
    if (sessionId === 0n) {
      const session = this.sessions.add(this.sessions.newSessionId(), timeoutMs, performance.now());
      this.readOnlySessions.add(session.sessionId);
      conn.session = session;
      this.finishHandshake(conn, true);
      return;
    }
    const session = this.sessions.get(sessionId);
    const valid = session !== undefined && this.passwords.verify(sessionId, passwd);
    for (const other of this.connections) {
      if (valid && other !== conn && other.session?.sessionId === sessionId) other.close();
    }
    conn.session = valid ? session : { sessionId, timeoutMs: 0, expiresAt: 0, closing: true };
    this.finishHandshake(conn, valid);
  }

  /** ReadOnlyRequestProcessor: a write or sync is answered NotReadOnly, in order; closeSession ends the connection. */
  private refuseReadOnly(conn: Connection, sessionId: bigint, xid: number, type: number, req: Request | null, startMs: number): void {
    conn.outstanding++;
    const closing = type === OpCode.closeSession;
    this.enqueue({ conn, sessionId, xid, type, req, hdr: null, txn: null, ready: true, startMs, err: closing ? Code.OK : Code.NotReadOnly });
    this.drain();
    if (!closing) return;
    if (this.readOnlySessions.delete(sessionId)) this.sessions.remove(sessionId);
    conn.closeAfterFlush();
  }

  /**
   * A learner starts serving through `up` once the leader said UPTODATE, and stops (null) when it
   * loses the leader or falls behind: every client connection is closed and what was waiting for
   * the leader is dropped with it, as ZooKeeper's learner shuts its ZooKeeperServer down.
   */
  setUpstream(up: Upstream | null): void {
    assert(this.opts.quorumRole !== undefined, 'setUpstream is for a learner');
    this.upstream = up;
    if (up !== null) return;
    for (const c of [...this.connections]) c.close();
    this.queue.length = 0;
    this.outstandingTotal = 0;
    this.outstandingBytes = 0;
    this.forwarded.clear();
    this.pendingSyncs = [];
    this.revalidating.clear();
    this.releaseThrottled();
  }

  /** A learner's state from the leader's snapshot (SNAP), or from disk; only while not serving. */
  resetState(state: InitialState): void {
    assert(this.upstream === null, 'the state is replaced only while not serving');
    this.currentTree = state.tree;
    this.adoptTree(state.tree);
    this.pendingDigests = new PendingDigests(state.tree);
    this.outstanding = new OutstandingChanges(state.tree, this.stats.metrics);
    this.prep = this.newPrep();
    this.reads = new Reads(state.tree, this.providers, this.plugins?.behaviours.virtualRead);
    for (const id of [...this.sessions.sessions.keys()]) this.sessions.remove(id);
    for (const [sessionId, timeoutMs] of state.sessions) this.sessions.add(sessionId, timeoutMs, performance.now());
    this.lastZxid = this.lastZxidAllocated = state.lastZxid;
  }

  /**
   * The AdminServer's restore (ZooKeeperServer.restoreFromSnapshot): a serving standalone server's
   * tree and session table become `state`'s. Only between requests: false (nothing changed) while
   * any request is in line. Zxids go on from the highest allocated or restored, so the txn log
   * stays in order: the restored tree is marked as at that zxid, which is returned. Watches stay
   * with the old tree, as in ZooKeeper; connections of sessions the snapshot lacks are closed.
   */
  restoreState(state: InitialState): bigint | false {
    assert(this.opts.quorumRole === undefined, 'only a standalone server restores a snapshot');
    if (this.queue.length > 0) return false;
    const zxid = state.lastZxid > this.lastZxidAllocated ? state.lastZxid : this.lastZxidAllocated;
    state.tree.lastProcessedZxid = zxid;
    this.resetState({ ...state, lastZxid: zxid });
    for (const c of this.connections) {
      if (c.session === null) continue;
      const kept = this.sessions.get(c.session.sessionId);
      if (kept === undefined) c.closeAfterFlush();
      else c.session = kept; // the tracker's new entry is the one touched and expired
    }
    return zxid;
  }

  /**
   * A committed txn from the leader (INFORM, or the DIFF of a sync), applied in zxid order. A
   * txn of a session served here answers that session's oldest forwarded write, which must
   * have the same cxid (ZooKeeper's CommitProcessor); the reply goes out in this server's
   * request order. createSession/closeSession txns keep the session table, as on every member.
   * With `digest` (the TxnDigest the leader sent), the tree's digest after the txn is compared
   * with it; a mismatch is logged and counted (tree.digestMismatches).
   */
  applyCommitted(hdr: TxnHeader, txn: Txn, digest: TxnDigest | null = null): TxnResult {
    assert(this.opts.quorumRole !== undefined, 'applyCommitted is for a learner');
    const waiting = this.forwarded.get(hdr.clientId);
    let e = waiting?.[0];
    if (e !== undefined && e.xid !== hdr.cxid) {
      this.log('warn', `committed txn 0x${hdr.zxid.toString(16)} of session 0x${BigInt.asUintN(64, hdr.clientId).toString(16)} has cxid ${hdr.cxid}, expected ${e.xid}`);
      e = undefined;
    }
    if (e !== undefined) {
      waiting!.shift();
      if (waiting!.length === 0) this.forwarded.delete(hdr.clientId);
    }
    const rc = this.currentTree.processTxn(hdr, txn, digest);
    this.lastZxid = this.lastZxidAllocated = this.currentTree.lastProcessedZxid;
    if (hdr.type === OpCode.createSession && txn.type === OpCode.createSession) {
      this.sessions.add(hdr.clientId, txn.timeOut, performance.now());
    } else if (hdr.type === OpCode.closeSession) {
      this.sessions.remove(hdr.clientId);
    }
    if (this.plugins !== null) this.plugins.applied(hdr, txn, rc, e?.conn ?? null, e?.req ?? null);
    if (e !== undefined) {
      e.hdr = hdr;
      e.txn = txn;
      e.rc = rc;
      e.ready = true;
      this.drain();
    } else if (hdr.type === OpCode.closeSession) {
      // expired by the leader, or closed through another server
      this.closeSessionConnections(hdr.clientId);
    }
    return rc;
  }

  /** The leader's SYNC: the oldest forwarded sync is answered (in this server's request order). */
  syncCompleted(): void {
    const e = this.pendingSyncs.shift();
    if (e === undefined) {
      this.log('warn', 'SYNC from the leader with no sync outstanding');
      return;
    }
    e.ready = true;
    this.drain();
  }

  /** The leader's answer to a REVALIDATE: the reconnect waiting on it completes. */
  revalidated(sessionId: bigint, valid: boolean): void {
    const waiting = this.revalidating.get(sessionId);
    const w = waiting?.shift();
    if (waiting?.length === 0) this.revalidating.delete(sessionId);
    if (w === undefined || w.conn.closed) return;
    const { conn, timeoutMs } = w;
    if (!valid) {
      conn.session = { sessionId, timeoutMs: 0, expiresAt: 0, closing: true };
      this.finishHandshake(conn, false);
      return;
    }
    for (const other of this.connections) {
      if (other !== conn && other.session?.sessionId === sessionId) other.close();
    }
    let session = this.sessions.get(sessionId);
    if (session === undefined) session = this.sessions.add(sessionId, timeoutMs, performance.now());
    session.timeoutMs = timeoutMs;
    conn.session = session;
    this.finishHandshake(conn, true);
  }

  /**
   * A learner's ConnectRequest: a new session is created by the leader (a createSession request
   * carrying the timeout), an existing one is checked against its password here and then
   * revalidated by the leader, which makes this server its owner.
   */
  private connectThroughLeader(conn: Connection, sessionId: bigint, passwd: Buffer, timeoutMs: number): void {
    const up = this.upstream!;
    if (sessionId === 0n) {
      const id = this.sessions.newSessionId();
      conn.session = { sessionId: id, timeoutMs, expiresAt: 0, closing: false };
      const body = Buffer.alloc(4);
      body.writeInt32BE(timeoutMs);
      const e: Entry = {
        conn, sessionId: id, xid: 0, type: OpCode.createSession, req: null, hdr: null, txn: null, ready: false, startMs: performance.now(),
        onApplied: (rc) => {
          const s = this.sessions.get(id);
          if (rc.err !== Code.OK || s === undefined || conn.closed) {
            this.finishHandshake(conn, false);
            return;
          }
          conn.session = s;
          this.finishHandshake(conn, true);
        },
      };
      this.enqueueForwarded(e);
      up.forward({ sessionId: id, cxid: 0, type: OpCode.createSession, body, authInfo: [] });
      return;
    }
    if (!this.passwords.verify(sessionId, passwd)) {
      conn.session = { sessionId, timeoutMs: 0, expiresAt: 0, closing: true };
      this.finishHandshake(conn, false);
      return;
    }
    let waiting = this.revalidating.get(sessionId);
    if (waiting === undefined) this.revalidating.set(sessionId, (waiting = []));
    waiting.push({ conn, timeoutMs });
    up.revalidate(sessionId, timeoutMs);
  }

  private enqueueForwarded(e: Entry): void {
    if (e.conn) e.conn.outstanding++;
    this.enqueue(e);
    let q = this.forwarded.get(e.sessionId);
    if (q === undefined) this.forwarded.set(e.sessionId, (q = []));
    q.push(e);
  }

  /** ObserverRequestProcessor: a write (or sync) goes to the leader as it came from the client. */
  private forward(conn: Connection, sessionId: bigint, xid: number, type: number, req: Request | null, body: Buffer, startMs: number): void {
    const e: Entry = { conn, sessionId, xid, type, req, hdr: null, txn: null, ready: false, startMs };
    if (type === OpCode.sync) {
      conn.outstanding++;
      this.enqueue(e);
      this.pendingSyncs.push(e);
    } else {
      this.enqueueForwarded(e);
    }
    this.upstream!.forward({ sessionId, cxid: xid, type, body: Buffer.from(body), authInfo: [...conn.authIds] });
  }

  // --- timers --------------------------------------------------------------------------------

  private scheduleExpiry(): void {
    const next = this.sessions.nextExpiry();
    const delay = next === null ? this.opts.tickTime : Math.max(0, next - performance.now());
    this.expiryTimer = setTimeout(() => {
      for (const s of this.sessions.expired(performance.now())) this.expire(s);
      this.scheduleExpiry();
    }, delay);
    this.expiryTimer.unref();
  }

  private expire(s: Session): void {
    this.log('info', `Expiring session 0x${BigInt.asUintN(64, s.sessionId).toString(16)}, timeout of ${s.timeoutMs}ms exceeded`);
    const zxid = this.lastZxidAllocated + 1n;
    const txn = this.prepTxn({ type: OpCode.closeSession }, { sessionId: s.sessionId, authIds: [], zxid });
    this.submitWrite(null, s.sessionId, 0, OpCode.closeSession, null, txn);
  }

  /** ContainerManager: empty used containers and expired empty TTL nodes are deleted. */
  private reapContainers(): void {
    const now = Date.now();
    const candidates: string[] = [];
    for (const path of this.tree.containers) {
      const node = this.tree.get(path);
      if (node === undefined || node.numChildren > 0) continue;
      if (node.cversion > 0) candidates.push(path);
      else if (this.opts.containerMaxNeverUsedIntervalMs !== 0 && now - node.mtime > this.opts.containerMaxNeverUsedIntervalMs) {
        candidates.push(path);
      }
    }
    for (const path of this.tree.ttls) {
      const node = this.tree.get(path);
      if (node === undefined || node.numChildren > 0) continue;
      if (ephemeralKind(node.ephemeralOwner, this.opts.extendedTypesEnabled) !== 'ttl') continue;
      const ttl = ttlOf(node.ephemeralOwner);
      if (ttl !== 0n && BigInt(now - node.mtime) > ttl) candidates.push(path);
    }
    for (const path of candidates) {
      const zxid = this.lastZxidAllocated + 1n;
      const txn = this.prep.prepDeleteContainer(path, zxid);
      this.submitWrite(null, 0n, 0, OpCode.deleteContainer, null, txn);
    }
  }
}

/** The reply body of an applied write (FinalRequestProcessor). */
function writeBody(type: number, rc: TxnResult): ResponseBody {
  switch (type) {
    case OpCode.create:
      return { kind: 'path', path: rc.path! };
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return { kind: 'pathStat', path: rc.path!, stat: rc.stat! };
    case OpCode.setData:
    case OpCode.setACL:
      return { kind: 'stat', stat: rc.stat! };
    case OpCode.check:
      return rc.stat ? { kind: 'stat', stat: rc.stat } : { kind: 'none' };
    case OpCode.multi: {
      const results: MultiResult[] = (rc.multi ?? []).map((sub) => {
        if (sub.type === OpCode.error || sub.err !== Code.OK) return { type: OpCode.error, err: sub.err };
        switch (sub.type) {
          case OpCode.create:
            return { type: OpCode.create, body: { kind: 'path', path: sub.path! } };
          case OpCode.create2:
          case OpCode.createContainer:
          case OpCode.createTTL:
            return { type: OpCode.create2, body: { kind: 'pathStat', path: sub.path!, stat: sub.stat! } };
          case OpCode.setData:
            return { type: OpCode.setData, body: { kind: 'stat', stat: sub.stat! } };
          default:
            return { type: sub.type, body: { kind: 'none' } };
        }
      });
      return { kind: 'multi', results };
    }
    default:
      return { kind: 'none' };
  }
}
