// client.ts — the ZooKeeper client: the whole 3.9 API as promises with an AbortSignal on every
// call, typed errors, watches as listeners, Watcher objects or async iterators, and the session's
// states as events. Paths are the caller's (chroot-relative); the chroot is prepended on the way
// out and stripped from created paths, ephemerals and events on the way in, as ZooKeeper's Java
// client does (getConfig reads /zookeeper/config outside the chroot, and delete("/") is sent as
// "/", as there).
import { EventEmitter } from 'node:events';
import type { Response } from '../protocol/client-codec.js';
import { Code } from '../protocol/codes.js';
import { OpCode } from '../protocol/opcodes.js';
import type { Request } from '../protocol/requests.js';
import { ClientWatches } from './client-watches.js';
import { HostList, hostLabel, parseConnectString } from './connect-string.js';
import { Connection, type LogLevel } from './connection.js';
import { ZkError } from './errors.js';
import * as ops from './ops.js';
import type {
  CallOptions,
  ClientEvents,
  ConnectOptions,
  CreateOptions,
  ReconfigOptions,
  RemoveWatchesOptions,
  VersionOptions,
  WatchCallOptions,
} from './options.js';
import { isConnectedState, isTerminal } from './session-state.js';
import { type MultiRunner, type Op, type ReadOp, type ReadResultsOf, type ResultsOf, Transaction } from './transaction.js';
import type { ACL, ClientInfo, Data, SessionState, Stat, WatchTarget } from './types.js';
import { WatchStream, type WatchStreamOptions } from './watch-stream.js';
import type { WatcherTypeName } from './watches.js';

const CONFIG_NODE = '/zookeeper/config';

/** The response record of opcode T (a record may serve several opcodes). */
type BodyOf<T extends number, R = Response> = R extends { type: infer K } ? (T extends K ? R : never) : never;

export class ZooKeeper extends EventEmitter<ClientEvents> implements MultiRunner, AsyncDisposable {
  /** The chroot every path is relative to, or null. */
  readonly chroot: string | null;
  private readonly conn: Connection;
  private readonly watches: ClientWatches;
  private readonly closeTimeoutMs: number;
  private readonly log: (level: LogLevel, msg: string) => void;

  /** Connects and resolves once a session is established; rejects (and closes) when none can be. */
  static async connect(connectString: string, opts: ConnectOptions = {}): Promise<ZooKeeper> {
    opts.signal?.throwIfAborted();
    const zk = new ZooKeeper(connectString, opts);
    if (isConnectedState(zk.state)) return zk;
    await new Promise<void>((resolve, reject) => {
      const onState = (state: SessionState): void => {
        if (isConnectedState(state)) done(null);
        else if (isTerminal(state)) done(new ZkError(state === 'authFailed' ? Code.AuthFailed : Code.ConnectionLoss, {
          message: `could not connect to ${connectString} (${state})`,
        }));
      };
      const onAbort = (): void => done(opts.signal!.reason);
      const done = (err: unknown): void => {
        zk.off('state', onState);
        opts.signal?.removeEventListener('abort', onAbort);
        if (err === null) resolve();
        else void zk.close().finally(() => reject(err));
      };
      zk.on('state', onState);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
    return zk;
  }

  /** Starts connecting; prefer `ZooKeeper.connect`, which waits for the session. */
  constructor(connectString: string, opts: ConnectOptions = {}) {
    super();
    const parsed = parseConnectString(connectString);
    if (opts.sasl !== undefined && opts.sasl.mechanism !== 'DIGEST-MD5') {
      throw new TypeError(`SASL mechanism ${String(opts.sasl.mechanism)} is not supported (DIGEST-MD5 is)`);
    }
    this.chroot = parsed.chroot;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 2000;
    this.log = opts.log ?? (() => {});
    const random = opts.random ?? Math.random;
    this.conn = new Connection(
      {
        hosts: new HostList(parsed.hosts, random),
        sessionTimeoutMs: opts.sessionTimeoutMs ?? 30_000,
        canBeReadOnly: opts.canBeReadOnly ?? false,
        reconnectDelayMs: opts.reconnectDelayMs ?? 1000,
        maxFrameBytes: opts.maxFrameBytes ?? 0xfffff,
        maxInFlight: opts.maxInFlight ?? 1000,
        maxQueued: opts.maxQueued ?? 100_000,
        sessionId: opts.sessionId ?? 0n,
        sessionPassword: opts.sessionPassword ?? Buffer.alloc(16),
        log: this.log,
        random,
        tls: opts.tls,
        sasl: opts.sasl === undefined ? undefined : { username: opts.sasl.username, password: opts.sasl.password },
      },
      {
        onTransition: (t, prev) => {
          this.watches.onTransition(t);
          this.emit('state', t.state, prev);
          this.emit(t.event!);
        },
        onNotification: (ev, zxid) => this.watches.onNotification(ev, zxid),
        watchLists: () => this.watches.table.lists(),
      },
    );
    this.watches = new ClientWatches(this.conn, this, (ev) => this.emit('watch', ev), this.log);
    for (const a of opts.auth ?? []) this.conn.addAuth(a.scheme, ops.toBuffer(a.auth)!).catch(() => {});
  }

  get state(): SessionState {
    return this.conn.state;
  }
  get sessionId(): bigint {
    return this.conn.sessionId;
  }
  get sessionPassword(): Buffer {
    return this.conn.sessionPassword;
  }
  /** The timeout the server granted (0 before the first handshake). */
  get sessionTimeoutMs(): number {
    return this.conn.negotiatedTimeoutMs;
  }
  /** host:port of the server of the current connection, or null while disconnected. */
  get connectedServer(): string | null {
    return this.conn.server === null ? null : hostLabel(this.conn.server);
  }
  /** The last zxid this client has seen in a reply. */
  get lastZxid(): bigint {
    return this.conn.lastZxid;
  }

  // -------------------------------------------------------------------------------------------
  // Nodes

  /** Creates a node; resolves with its path (with the sequence number of a sequential mode). */
  async create(path: string, data?: Data | null, opts: CreateOptions = {}): Promise<string> {
    const req = ops.createRequest(path, this.toServer(path), data, opts, false);
    return this.call(req, path, opts, (b: BodyOf<typeof OpCode.create>) => this.toClient(b.path));
  }

  /** create, also resolving with the new node's stat (create2). */
  async create2(path: string, data?: Data | null, opts: CreateOptions = {}): Promise<{ path: string; stat: Stat }> {
    const req = ops.createRequest(path, this.toServer(path), data, opts, true);
    return this.call(req, path, opts, (b: BodyOf<typeof OpCode.create2>) => ({ path: this.toClient(b.path), stat: b.stat }));
  }

  async delete(path: string, opts: VersionOptions = {}): Promise<void> {
    ops.checkPath(path);
    const serverPath = path === '/' ? path : this.toServer(path);
    const req: Request = { type: OpCode.delete, path: serverPath, version: ops.checkVersion(opts.version ?? -1) };
    return this.call(req, path, opts, () => undefined);
  }

  /** The node's stat, or null when it does not exist; `watch` fires on its creation, change or deletion. */
  async exists(path: string, opts: WatchCallOptions = {}): Promise<Stat | null> {
    ops.checkPath(path);
    const sp = this.toServer(path);
    const target = this.watches.target(opts.watch);
    return this.conn.submit({ type: OpCode.exists, path: sp, watch: target !== null }, (rc, body) => {
      if (rc === Code.OK) {
        if (target !== null) this.watches.add('data', sp, target);
        return (body as BodyOf<typeof OpCode.exists>).stat;
      }
      if (rc === Code.NoNode) {
        if (target !== null) this.watches.add('exist', sp, target);
        return null;
      }
      throw new ZkError(rc, { path });
    }, opts.signal);
  }

  /** The node's data (empty for a node created with null data) and stat. */
  async getData(path: string, opts: WatchCallOptions = {}): Promise<{ data: Buffer; stat: Stat }> {
    ops.checkPath(path);
    return this.readWatched(path, this.toServer(path), OpCode.getData, 'data', opts, (b: BodyOf<typeof OpCode.getData>) => ({
      data: b.data ?? Buffer.alloc(0),
      stat: b.stat,
    }));
  }

  async setData(path: string, data: Data | null, opts: VersionOptions = {}): Promise<Stat> {
    ops.checkPath(path);
    const req: Request = { type: OpCode.setData, path: this.toServer(path), data: ops.toBuffer(data), version: ops.checkVersion(opts.version ?? -1) };
    return this.call(req, path, opts, (b: BodyOf<typeof OpCode.setData>) => b.stat);
  }

  async getACL(path: string, opts: CallOptions = {}): Promise<{ acl: ACL[]; stat: Stat }> {
    ops.checkPath(path);
    return this.call({ type: OpCode.getACL, path: this.toServer(path) }, path, opts, (b: BodyOf<typeof OpCode.getACL>) => ({
      acl: b.acl,
      stat: b.stat,
    }));
  }

  async setACL(path: string, acl: readonly ACL[], opts: VersionOptions = {}): Promise<Stat> {
    ops.checkPath(path);
    const req: Request = { type: OpCode.setACL, path: this.toServer(path), acl: ops.checkAcl(acl, path), version: ops.checkVersion(opts.version ?? -1) };
    return this.call(req, path, opts, (b: BodyOf<typeof OpCode.setACL>) => b.stat);
  }

  /** The node's children (names, unordered); `watch` fires when children come or go, or the node is deleted. */
  async getChildren(path: string, opts: WatchCallOptions = {}): Promise<string[]> {
    ops.checkPath(path);
    return this.readWatched(path, this.toServer(path), OpCode.getChildren, 'child', opts, (b: BodyOf<typeof OpCode.getChildren>) => b.children);
  }

  /** getChildren with the node's stat (getChildren2). */
  async getChildrenWithStat(path: string, opts: WatchCallOptions = {}): Promise<{ children: string[]; stat: Stat }> {
    ops.checkPath(path);
    return this.readWatched(path, this.toServer(path), OpCode.getChildren2, 'child', opts, (b: BodyOf<typeof OpCode.getChildren2>) => ({
      children: b.children,
      stat: b.stat,
    }));
  }

  /** The number of nodes below `path`, at every depth. */
  async getAllChildrenNumber(path: string, opts: CallOptions = {}): Promise<number> {
    ops.checkPath(path);
    return this.call({ type: OpCode.getAllChildrenNumber, path: this.toServer(path) }, path, opts,
      (b: BodyOf<typeof OpCode.getAllChildrenNumber>) => b.totalNumber);
  }

  /** This session's ephemeral nodes whose paths start with `prefixPath` (chroot applied). */
  async getEphemerals(prefixPath = '/', opts: CallOptions = {}): Promise<string[]> {
    ops.checkPath(prefixPath);
    return this.call({ type: OpCode.getEphemerals, prefixPath: this.toServer(prefixPath) }, prefixPath, opts,
      (b: BodyOf<typeof OpCode.getEphemerals>) => b.ephemerals.map((p) => this.toClient(p)));
  }

  /** Waits until the server this client is on has caught up with the leader (for `path`). */
  async sync(path: string, opts: CallOptions = {}): Promise<void> {
    ops.checkPath(path);
    return this.call({ type: OpCode.sync, path: this.toServer(path) }, path, opts, () => undefined);
  }

  // -------------------------------------------------------------------------------------------
  // multi

  /** A builder for a multi: `zk.transaction().create(…).setData(…).commit()`. */
  transaction(): Transaction {
    return new Transaction(this);
  }

  /** Applies every op or none; results are typed op by op. */
  async multi<const O extends readonly Op[]>(opList: O, opts: CallOptions = {}): Promise<ResultsOf<O>> {
    if (opList.length === 0) return [] as unknown as ResultsOf<O>;
    const req: Request = { type: OpCode.multi, ops: opList.map((op) => ops.multiOpRequest(op, (p) => this.toServer(p))) };
    return this.call(req, undefined, opts, (b: BodyOf<typeof OpCode.multi>) =>
      ops.multiResults(opList, b.results, (p) => this.toClient(p)) as unknown as ResultsOf<O>);
  }

  /** Several reads in one round trip; each answers on its own (an ErrorResult when it failed). */
  async multiRead<const O extends readonly ReadOp[]>(opList: O, opts: CallOptions = {}): Promise<ReadResultsOf<O>> {
    if (opList.length === 0) return [] as unknown as ReadResultsOf<O>;
    const req: Request = { type: OpCode.multiRead, ops: opList.map((op) => ops.readOpRequest(op, (p) => this.toServer(p))) };
    return this.call(req, undefined, opts, (b: BodyOf<typeof OpCode.multiRead>) => ops.readResults(b.results) as unknown as ReadResultsOf<O>);
  }

  // -------------------------------------------------------------------------------------------
  // Watches

  /** A persistent watch on `path` (mode 'persistent') or on `path` and everything below it ('recursive'). */
  async addWatch(path: string, watcher: WatchTarget | true, opts: CallOptions & { mode?: 'persistent' | 'recursive' } = {}): Promise<void> {
    return this.watches.addWatch(path, watcher === true ? this.watches.defaultWatcher : watcher, opts.mode === 'recursive', opts.signal);
  }

  /** Node events on `path` as an async iterator; leaving the loop removes the watch. */
  watch(path: string, opts: WatchStreamOptions = {}): WatchStream {
    ops.checkPath(path);
    const streams = this.watches.streams;
    const stream = new WatchStream(this, path, opts, (s) => streams.delete(s));
    if (isTerminal(this.state)) stream.terminate(this.state);
    else streams.add(stream);
    return stream;
  }

  /**
   * Removes `watcher` from `path` for `type` ('any' by default); it is told with a
   * *WatchRemoved event. Rejects with ZNOWATCHER when it was not watching. The server's watch is
   * removed when no other watcher of this client needs it (checked only, otherwise).
   */
  async removeWatches(path: string, watcher: WatchTarget | true, type: WatcherTypeName = 'any', opts: RemoveWatchesOptions = {}): Promise<void> {
    return this.watches.unwatch(path, watcher === true ? this.watches.defaultWatcher : watcher, type, opts);
  }

  /** Removes every watcher of `type` on `path`. */
  async removeAllWatches(path: string, type: WatcherTypeName = 'any', opts: RemoveWatchesOptions = {}): Promise<void> {
    return this.watches.unwatch(path, null, type, opts);
  }

  /** True when the server holds a watch of `type` on `path` for this session. */
  async checkWatches(path: string, type: WatcherTypeName = 'any', opts: CallOptions = {}): Promise<boolean> {
    return this.watches.check(path, type, opts.signal);
  }

  // -------------------------------------------------------------------------------------------
  // Session, auth, config

  /**
   * Adds credentials (e.g. 'digest', 'user:password') to the session. They are kept and sent
   * again after every reconnect, even when this call fails with ZCONNECTIONLOSS; a scheme the
   * server refuses ends the session (authFailed), as in ZooKeeper.
   */
  async addAuth(scheme: string, auth: Data, opts: CallOptions = {}): Promise<void> {
    return this.conn.addAuth(scheme, ops.toBuffer(auth)!, opts.signal);
  }

  /** The identities the server knows this session by (ZooKeeper 3.9). */
  async whoAmI(opts: CallOptions = {}): Promise<ClientInfo[]> {
    return this.call({ type: OpCode.whoAmI }, undefined, opts, (b: BodyOf<typeof OpCode.whoAmI>) => b.clientInfo);
  }

  /** The ensemble's configuration (/zookeeper/config, outside any chroot). */
  async getConfig(opts: WatchCallOptions = {}): Promise<{ data: Buffer; stat: Stat }> {
    return this.readWatched(CONFIG_NODE, CONFIG_NODE, OpCode.getData, 'data', opts, (b: BodyOf<typeof OpCode.getData>) => ({
      data: b.data ?? Buffer.alloc(0),
      stat: b.stat,
    }));
  }

  /** Changes the ensemble's membership (ZooKeeperAdmin.reconfigure); resolves with the new config. */
  async reconfig(opts: ReconfigOptions): Promise<{ data: Buffer; stat: Stat }> {
    const list = (v: string | readonly string[] | undefined): string | null => (v === undefined ? null : typeof v === 'string' ? v : v.join(','));
    const req: Request = {
      type: OpCode.reconfig,
      joiningServers: list(opts.joining),
      leavingServers: list(opts.leaving),
      newMembers: list(opts.newMembers),
      curConfigId: opts.fromConfig ?? -1n,
    };
    return this.call(req, undefined, opts, (b: BodyOf<typeof OpCode.reconfig>) => ({ data: b.data ?? Buffer.alloc(0), stat: b.stat }));
  }

  /** Ends the session (its ephemeral nodes go) after the requests already made are answered. */
  async close(opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.conn.close(opts.timeoutMs ?? this.closeTimeoutMs);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  /** @internal */
  toServer(clientPath: string): string {
    if (this.chroot === null) return clientPath;
    return clientPath === '/' ? this.chroot : this.chroot + clientPath;
  }

  /** A server path as the caller sees it; paths outside the chroot are left as they are. */
  /** @internal */
  toClient(serverPath: string): string {
    const c = this.chroot;
    if (c === null || !serverPath.startsWith(c)) return serverPath;
    if (serverPath.length === c.length) return '/';
    return serverPath.charCodeAt(c.length) === 0x2f ? serverPath.substring(c.length) : serverPath;
  }

  private call<B, T>(req: Request, path: string | undefined, opts: CallOptions, ok: (body: B) => T): Promise<T> {
    return this.conn.submit(req, (rc, body) => {
      if (rc !== Code.OK) throw new ZkError(rc, { path });
      return ok(body as B);
    }, opts.signal);
  }

  private readWatched<B, T>(path: string, sp: string, type: typeof OpCode.getData | typeof OpCode.getChildren | typeof OpCode.getChildren2,
    kind: 'data' | 'child', opts: WatchCallOptions, ok: (body: B) => T): Promise<T> {
    const target = this.watches.target(opts.watch);
    return this.conn.submit({ type, path: sp, watch: target !== null }, (rc, body) => {
      if (rc !== Code.OK) throw new ZkError(rc, { path });
      if (target !== null) this.watches.add(kind, sp, target);
      return ok(body as B);
    }, opts.signal);
  }
}
