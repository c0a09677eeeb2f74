// types.ts — the shapes a plugin author writes against: the plugin definition, the context its
// setup receives, and the five hook kinds (node behaviours, change listeners, request stages,
// auth providers, protocols). Hooks on the request path (prep, apply, read) are synchronous:
// prep decides a txn's contents and its place in the zxid order in one step, and apply must be a
// deterministic function of the tree and the txn, so neither can wait for I/O. Listeners and
// protocols are asynchronous and never sit on that path.
import type { Duplex } from 'node:stream';
import type { Code } from '../protocol/codes.js';
import type { ACL, Id, Stat } from '../protocol/records.js';
import type { Request } from '../protocol/requests.js';
import type { Response } from '../protocol/client-codec.js';
import type { TxnResult } from '../tree/data-tree.js';
import type { Txn, TxnHeader } from '../tree/txn.js';
import type { OptionsOf, OptionsSchema, OptionsValidator } from './options.js';

export type { Request, Response, Txn, TxnHeader, TxnResult, Id, ACL, Stat };

/** A ZooKeeper error code (protocol/codes.ts), as a value. */
export type ZkCode = Code | number;

/** A hook's refusal: the request fails with this ZooKeeper code. */
export interface Refusal {
  error: ZkCode;
}

/** Who sent a request. */
export interface SessionInfo {
  readonly sessionId: bigint;
  /** The ids the connection authenticated as (ip, digest, a plugin's scheme, …). */
  readonly authIds: readonly Id[];
  readonly remoteAddress: string;
}

// ---- node behaviours ------------------------------------------------------------------------

/** A create or setData on a path a node behaviour covers, after ZooKeeper's own checks passed. */
export interface NodeWrite {
  readonly op: 'create' | 'setData';
  /** The final path (a sequential create's suffix included). */
  readonly path: string;
  readonly data: Buffer | null;
  readonly session: SessionInfo;
  /** The zxid the txn will have. */
  readonly zxid: bigint;
}

/** undefined/true: store the data as given; {data}: store this instead; {error}: refuse. */
export type WriteVerdict = void | undefined | true | Refusal | { data: Buffer | null };

export interface NodeDelete {
  readonly path: string;
  readonly session: SessionInfo;
}

/** A virtual znode's content, computed at read time. */
export interface VirtualNode {
  data?: Buffer | string | null;
  children?: readonly string[];
  /** Who may read it; world:anyone READ by default. */
  acl?: readonly ACL[];
}

export interface NodeBehaviour {
  /** Checks or rewrites a create/setData; runs at prep, so the txn carries the result. Sync. */
  validateWrite?(write: NodeWrite): WriteVerdict;
  /** A virtual node for `path` (the tree is not consulted), or undefined to read the tree. Sync. */
  read?(path: string, session: SessionInfo): VirtualNode | undefined;
  /** true: every delete under the prefix fails with NoAuth; or decide per delete. Sync. */
  refuseDelete?: boolean | ((del: NodeDelete) => void | undefined | Refusal);
}

// ---- change listeners -----------------------------------------------------------------------

/** Where a txn came from, when it was made on this server since it started. */
export interface TxnOrigin {
  readonly session: SessionInfo;
  /** The client's request (null for txns the server makes itself: expiry, the container reaper). */
  readonly request: Request | null;
}

export interface TxnInfo {
  /** null for txns read back from the txn log (catch-up, resume) and for server-made txns. */
  readonly origin: TxnOrigin | null;
  /** True when the txn was read back from the txn log rather than seen at apply. */
  readonly replayed: boolean;
}

export interface ChangeListener {
  /**
   * Every applied txn in zxid order (error txns included). `result` is null for replayed txns.
   * May be async; the next txn waits for it. Runs off the request path, behind a bounded queue.
   */
  onTxn(hdr: Readonly<TxnHeader>, txn: Readonly<Txn>, result: Readonly<TxnResult> | null, info: TxnInfo): void | Promise<void>;
  /** Events held for this listener at most (default 10,000); past it events are dropped and counted. */
  queue?: number;
  /** Bytes of txn data held at most (default 64 MiB). */
  queueBytes?: number;
  /** How long one onTxn may take before it counts as failed (default: the plugin's asyncDeadlineMs). */
  deadlineMs?: number;
  /**
   * At-least-once delivery: the zxid this listener has already handled (it stores it itself).
   * Txns after it are replayed from the txn log at start; a failed or timed-out onTxn is retried;
   * an overflowing queue is refilled from the txn log instead of dropping. Without a txn log
   * (an in-memory server) or once the log no longer holds a zxid, the gap is counted as dropped.
   */
  cursor?: () => bigint | Promise<bigint>;
}

/** Counters of one change listener (also in the plugin status and /zkts stats). */
export interface ListenerStats {
  delivered: number;
  dropped: number;
  failed: number;
  timedOut: number;
  retried: number;
  queued: number;
  queuedBytes: number;
  /** The last zxid handed to onTxn successfully. */
  lastZxid: bigint;
  mode: 'live' | 'catch-up';
}

// ---- request stages ------------------------------------------------------------------------

export type StageName = 'beforePrep' | 'afterApply';

/**
 * beforePrep: every client request except ping, closeSession, addauth/SASL and setWatches, before
 * it becomes a txn (or, for a read, before it runs); a multi comes as one request (`req.ops`). A
 * refusal answers the request with the code, in order, and no txn is made. Sync.
 */
export type BeforePrepStage = (req: Readonly<Request>, session: SessionInfo) => void | undefined | Refusal;

/** What a request came to: for a write the applied txn and its result, for a read its code. */
export interface Outcome {
  readonly err: number;
  readonly zxid: bigint;
  /** Writes only. */
  readonly hdr?: Readonly<TxnHeader>;
  readonly txn?: Readonly<Txn>;
  readonly result?: Readonly<TxnResult>;
}

/**
 * afterApply: after a write was applied or a read ran, before the reply. A refusal replaces a
 * read's reply; a write is committed on every replica by then, so its reply is never changed
 * (a refusal is logged as a plugin fault instead). Sync.
 */
export type AfterApplyStage = (req: Readonly<Request>, outcome: Outcome, session: SessionInfo) => void | undefined | Refusal;

// ---- auth providers ------------------------------------------------------------------------

export interface PluginAuthProvider {
  /** The scheme clients name in addauth and ACLs write as scheme:id. */
  scheme: string;
  /** addauth: the ids to add to the connection, or null/{error} to refuse (AuthFailed). Sync. */
  authenticate(credential: Buffer, ctx: { remoteAddress: string }): readonly Id[] | { ids: readonly Id[] } | { error: string } | null;
  /** Whether an authenticated id satisfies an ACL id expression of this scheme. Sync. */
  matches(id: string, aclExpr: string): boolean;
  /** Whether an ACL id expression is well formed (else InvalidACL). Sync. */
  isValid(aclExpr: string): boolean;
  /** Whether ids name a user (the "auth" ACL expands to them); default true. */
  isAuthenticated?: boolean;
  /** whoAmI's user part of an id; the id itself by default. */
  userName?(id: string): string;
}

// ---- protocols -----------------------------------------------------------------------------

export interface WatchEvent {
  /** EventType (protocol/opcodes.ts). */
  type: number;
  /** KeeperState (SyncConnected for ordinary events). */
  state: number;
  path: string;
  zxid: bigint;
}

export interface SessionReply {
  err: number;
  zxid: bigint;
  /** The decoded response body when err is 0. */
  response: Response | null;
}

/** A ZooKeeper session a protocol drives: the same sessions, ACLs, watches and pipeline. */
export interface PluginSession {
  readonly sessionId: bigint;
  readonly passwd: Buffer;
  readonly timeoutMs: number;
  readonly closed: boolean;
  /** Sends a request on this session; resolves with its reply, in the session's order. */
  submit(req: Request): Promise<SessionReply>;
  /** addauth: resolves with 0 or AuthFailed (after which the session's connection is closed). */
  addAuth(scheme: string, credential: Buffer | string): Promise<number>;
  /** Watch events for this session; returns a function that unsubscribes. */
  onWatchEvent(fn: (ev: WatchEvent) => void): () => void;
  /** Called once when the connection ends (closed, expired, or refused). */
  onClose(fn: (reason: string) => void): () => void;
  /** closeSession: ends the session (its ephemerals go) and the connection. */
  close(): Promise<void>;
  /** Drops the connection but not the session (it expires unless resumed). */
  detach(): void;
}

export interface OpenSessionOptions {
  /** Requested timeout, bounded by min/maxSessionTimeout. Default 30 s. */
  timeoutMs?: number;
  /** The real peer, for the ip auth scheme, maxClientCnxns and `cons`. */
  remoteAddress?: string;
  remotePort?: number;
  /** Resume a session (id and password from an earlier openSession). */
  sessionId?: bigint;
  passwd?: Buffer;
  /** Ping while idle so that the session lives as long as the protocol keeps it. */
  keepAlive?: boolean;
}

export interface ProtocolContext {
  /** A new (or resumed) session on an in-memory connection to this server. */
  openSession(opts?: OpenSessionOptions): Promise<PluginSession>;
  /**
   * Hands a byte stream that speaks ZooKeeper's binary protocol (frames, handshake and all) to
   * the server, exactly as its own client port does with a TCP socket.
   */
  acceptZooKeeperStream(stream: Duplex, peer: { remoteAddress: string; remotePort: number }): void;
  /** Aborted when the server stops. */
  readonly signal: AbortSignal;
}

export interface Protocol {
  name: string;
  /** Starts listening; runs after the server takes clients. May return a stop function. */
  listen(ctx: ProtocolContext): void | (() => void | Promise<void>) | Promise<void | (() => void | Promise<void>)>;
}

// ---- the plugin ------------------------------------------------------------------------------

/** Live figures of the server, for plugins that show or act on them. */
export interface ServerInfo {
  readonly zxid: bigint;
  readonly nodeCount: number;
  readonly sessionCount: number;
  readonly connectionCount: number;
  readonly packetsReceived: number;
  readonly packetsSent: number;
  readonly avgLatencyMs: number;
  readonly maxLatencyMs: number;
  readonly approximateDataSize: number;
  readonly watchCount: number;
  readonly uptimeMs: number;
  readonly startedAt: number;
}

export type Logger = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface PluginContext<O> {
  /** The options, validated and typed. */
  readonly options: O;
  /** "plugin.N (name)": how logs and errors name this instance. */
  readonly label: string;
  readonly log: Logger;
  /** Mounts a node behaviour on a path prefix (the prefix and everything under it). */
  nodeBehaviour(prefix: string, behaviour: NodeBehaviour): void;
  changeListener(listener: ChangeListener): void;
  requestStage(stage: 'beforePrep', fn: BeforePrepStage): void;
  requestStage(stage: 'afterApply', fn: AfterApplyStage): void;
  authProvider(provider: PluginAuthProvider): void;
  protocol(protocol: Protocol): void;
  /** Runs at stop, in reverse order of registration (and of plugins). */
  onStop(fn: () => void | Promise<void>): void;
  /** Live server figures. */
  server(): ServerInfo;
  /** Status of every loaded plugin (hook counters, listener queues). */
  pluginStatus(): PluginStatus[];
}

export interface PluginDefinition<O> {
  name: string;
  version?: string;
  /** The typed options: a schema of `option.*` specs, or a validating function. */
  options?: OptionsSchema | OptionsValidator<O>;
  /** Default deadline of this plugin's synchronous hooks (ms; default 1000). */
  syncDeadlineMs?: number;
  /** Default deadline of setup, listener calls, protocol start and stop (ms; default 5000). */
  asyncDeadlineMs?: number;
  /** The code a request fails with when one of this plugin's hooks throws or overruns (SystemError). */
  faultCode?: ZkCode;
  /** Registers hooks; may be async (open a file, read a schema). */
  setup(ctx: PluginContext<O>): void | Promise<void>;
}

/** What definePlugin returns; the default export of a plugin module. */
export interface Plugin<O = unknown> extends PluginDefinition<O> {
  readonly kind: 'zkts-plugin';
}

/** A plugin for ZkServer's `plugins` option: the plugin itself, or with options, or a module to import. */
export type PluginSpec =
  | Plugin<any>
  | {
      plugin: Plugin<any> | string;
      /** Values by option name; text (as in zoo.cfg) or typed. */
      options?: Readonly<Record<string, unknown>> | ReadonlyMap<string, string>;
      /** How logs name it: plugin.<id>. Default: its position from 1. */
      id?: string;
      /** Loaded as zoo.cfg's authProvider.N=<module>: the module's default export may also be a bare
       * PluginAuthProvider, and messages name it by its id (authProvider.N) rather than plugin.<id>. */
      authProvider?: boolean;
    };

export interface HookStatus {
  calls: number;
  faults: number;
  overruns: number;
  refusals: number;
}

export interface PluginStatus {
  label: string;
  name: string;
  hooks: Record<string, HookStatus>;
  listeners: ListenerStats[];
}

/** A schema's typed options (for `PluginContext<InferOptions<typeof schema>>`). */
export type InferOptions<S> = S extends OptionsSchema ? OptionsOf<S> : S extends OptionsValidator<infer O> ? O : Record<string, never>;
