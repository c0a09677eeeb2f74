// options.ts — the options of the client's calls and of connect, and the events the client
// emits (the session's transitions and the default watcher's events).
import type { ConnectionOptions as NodeTlsOptions } from 'node:tls';
import type { LogLevel } from './connection.js';
import type { ACL, CreateMode, Data, SessionState, WatchedEvent, WatchOption } from './types.js';

export interface ConnectOptions {
  /** Requested session timeout; the server bounds it (2 to 20 ticks by default). Default 30,000. */
  sessionTimeoutMs?: number;
  /** Accept a read-only server (one cut off from its quorum) and keep looking for a read-write one. */
  canBeReadOnly?: boolean;
  /** Resume this session instead of creating one (with its password). */
  sessionId?: bigint;
  sessionPassword?: Buffer;
  /** Credentials sent with the first handshake and after every reconnect. */
  auth?: readonly { scheme: string; auth: Data }[];
  /** Longest random pause before a reconnect (ZooKeeper: 1 s). Default 1,000. */
  reconnectDelayMs?: number;
  /** Largest frame sent or accepted (jute.maxbuffer). Default 0xfffff. */
  maxFrameBytes?: number;
  /** Requests written and not yet answered, at most. Default 1,000. */
  maxInFlight?: number;
  /** Requests waiting to be written, at most; beyond it calls fail with ZTHROTTLEDOP. Default 100,000. */
  maxQueued?: number;
  /** How long close() waits for the server to confirm closeSession. Default 2,000. */
  closeTimeoutMs?: number;
  /**
   * Connect over TLS (a server's secureClientPort): node's tls.connect options, e.g. `{ ca, cert,
   * key }` (PEM contents). The server's certificate is checked against the CA and the host name
   * or IP connected to unless `rejectUnauthorized: false` / a `checkServerIdentity` of your own.
   */
  tls?: TlsOptions;
  /** SASL authentication, run on every connection before any other request (see SaslOptions). */
  sasl?: SaslOptions;
  /** Gives up connecting (the returned promise rejects). */
  signal?: AbortSignal;
  log?: (level: LogLevel, msg: string) => void;
  /** Source of randomness for host shuffling and reconnect jitter (tests pass a seeded one). */
  random?: () => number;
}

export interface ClientEvents {
  /** Every transition: the new state and the one left. */
  state: [state: SessionState, previous: SessionState];
  /** A session was established (the first, or a new one after a read-only local session). */
  connected: [];
  /** The session was resumed after a suspension; watches are replayed. */
  reconnected: [];
  /** The connection is lost; the session may still be alive and the client reconnects. */
  suspended: [];
  readOnly: [];
  expired: [];
  closed: [];
  authFailed: [];
  /** Events for watches set with `watch: true` (the default watcher), and every state event. */
  watch: [event: WatchedEvent];
}

export interface CallOptions {
  /**
   * Aborting rejects the call at once with `signal.reason`. A call not yet written is dropped; one
   * already written still happens on the server (ZooKeeper has no cancel), its reply is ignored.
   */
  signal?: AbortSignal;
}
export interface WatchCallOptions extends CallOptions {
  watch?: WatchOption;
}
export interface VersionOptions extends CallOptions {
  /** The expected version; -1 (the default) matches any. */
  version?: number;
}
export interface CreateOptions extends CallOptions {
  mode?: CreateMode;
  /** Default Ids.OPEN_ACL_UNSAFE. */
  acl?: readonly ACL[];
  /** For the TTL modes: ms after the last change (and with no children) the node is removed. */
  ttlMs?: number | bigint;
}
export interface RemoveWatchesOptions extends CallOptions {
  /** Remove locally even when the server cannot be told (disconnected). */
  local?: boolean;
}
export interface ReconfigOptions extends CallOptions {
  joining?: string | readonly string[];
  leaving?: string | readonly string[];
  newMembers?: string | readonly string[];
  /** Config version the change applies to; -1 (default) for any. */
  fromConfig?: bigint;
}

export type TlsOptions = Omit<NodeTlsOptions, 'host' | 'port' | 'path' | 'socket'>;

/**
 * SASL as ZooKeeper's client runs it (the Client section of a JAAS file): DIGEST-MD5 with a user
 * and password the server's JAAS Server section knows. The server is ZooKeeper's ("zookeeper" /
 * "zk-sasl-md5"); the session gets the identity `sasl:<username>`. A refused login ends the
 * session in 'authFailed'.
 */
export interface SaslOptions {
  mechanism: 'DIGEST-MD5';
  username: string;
  password: string;
}
