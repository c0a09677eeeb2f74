// types.ts — the client's public vocabulary: create modes, ACL constants, watch events and
// watchers, session states. Events and states are string unions (readable in logs and switch
// statements); the wire numbers stay inside the client.
import { CreateFlag, EventType, KeeperState, Perm } from '../protocol/opcodes.js';
import type { ACL, Id, Stat } from '../protocol/records.js';

export type { ACL, Id, Stat };
export { Perm };

/** How a znode is created (ZooKeeper's CreateMode). */
export type CreateMode =
  | 'persistent'
  | 'ephemeral'
  | 'persistentSequential'
  | 'ephemeralSequential'
  | 'container'
  | 'persistentWithTTL'
  | 'persistentSequentialWithTTL';

export const CREATE_FLAGS: Record<CreateMode, number> = {
  persistent: CreateFlag.PERSISTENT,
  ephemeral: CreateFlag.EPHEMERAL,
  persistentSequential: CreateFlag.PERSISTENT_SEQUENTIAL,
  ephemeralSequential: CreateFlag.EPHEMERAL_SEQUENTIAL,
  container: CreateFlag.CONTAINER,
  persistentWithTTL: CreateFlag.PERSISTENT_WITH_TTL,
  persistentSequentialWithTTL: CreateFlag.PERSISTENT_SEQUENTIAL_WITH_TTL,
};

export function isSequential(mode: CreateMode): boolean {
  return mode === 'persistentSequential' || mode === 'ephemeralSequential' || mode === 'persistentSequentialWithTTL';
}

export function isTtl(mode: CreateMode): boolean {
  return mode === 'persistentWithTTL' || mode === 'persistentSequentialWithTTL';
}

/** ZooDefs.Ids: the ids and ACLs every ZooKeeper user knows. */
export const Ids = {
  ANYONE_ID_UNSAFE: { scheme: 'world', id: 'anyone' } as Id,
  AUTH_IDS: { scheme: 'auth', id: '' } as Id,
  OPEN_ACL_UNSAFE: [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }] as readonly ACL[],
  CREATOR_ALL_ACL: [{ perms: Perm.ALL, id: { scheme: 'auth', id: '' } }] as readonly ACL[],
  READ_ACL_UNSAFE: [{ perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }] as readonly ACL[],
} as const;

/** Data as callers pass it: bytes, or a string sent as UTF-8. */
export type Data = Uint8Array | string;

// ---------------------------------------------------------------------------------------------
// Watch events

export type NodeEventType =
  | 'NodeCreated'
  | 'NodeDeleted'
  | 'NodeDataChanged'
  | 'NodeChildrenChanged'
  | 'DataWatchRemoved'
  | 'ChildWatchRemoved'
  | 'PersistentWatchRemoved';

export type KeeperStateName =
  | 'SyncConnected'
  | 'Disconnected'
  | 'Expired'
  | 'AuthFailed'
  | 'ConnectedReadOnly'
  | 'SaslAuthenticated'
  | 'Closed';

/** A change to a znode (or the removal of a watch on it). `path` is chroot-relative. */
export interface NodeEvent {
  type: NodeEventType;
  state: KeeperStateName;
  path: string;
  /** The zxid of the change, -1 for watch-removed events. */
  zxid: bigint;
}

/** A change of the connection's state, delivered to every watcher as ZooKeeper's clients do. */
export interface StateEvent {
  type: 'None';
  state: KeeperStateName;
  path: null;
  zxid: bigint;
}

export type WatchedEvent = NodeEvent | StateEvent;

export type WatchListener = (event: WatchedEvent) => void;

/** Anything with ZooKeeper's `process(event)`. */
export interface Watcher {
  process(event: WatchedEvent): void;
}

/**
 * The `watch` option of exists/getData/getChildren/getConfig: a listener, a Watcher, or true for
 * the client's default watcher (the 'watch' event of the ZooKeeper emitter).
 */
export type WatchOption = boolean | WatchListener | Watcher;

export type WatchTarget = WatchListener | Watcher;

const EVENT_NAMES = new Map<number, NodeEventType | 'None'>([
  [EventType.None, 'None'],
  [EventType.NodeCreated, 'NodeCreated'],
  [EventType.NodeDeleted, 'NodeDeleted'],
  [EventType.NodeDataChanged, 'NodeDataChanged'],
  [EventType.NodeChildrenChanged, 'NodeChildrenChanged'],
  [EventType.DataWatchRemoved, 'DataWatchRemoved'],
  [EventType.ChildWatchRemoved, 'ChildWatchRemoved'],
  [EventType.PersistentWatchRemoved, 'PersistentWatchRemoved'],
]);

const STATE_NAMES = new Map<number, KeeperStateName>([
  [KeeperState.Disconnected, 'Disconnected'],
  [KeeperState.SyncConnected, 'SyncConnected'],
  [KeeperState.AuthFailed, 'AuthFailed'],
  [KeeperState.ConnectedReadOnly, 'ConnectedReadOnly'],
  [KeeperState.SaslAuthenticated, 'SaslAuthenticated'],
  [KeeperState.Expired, 'Expired'],
  [KeeperState.Closed, 'Closed'],
]);

export function eventTypeName(type: number): NodeEventType | 'None' | undefined {
  return EVENT_NAMES.get(type);
}

export function keeperStateName(state: number): KeeperStateName {
  return STATE_NAMES.get(state) ?? 'SyncConnected';
}

// ---------------------------------------------------------------------------------------------
// Session states

/**
 * The session as the application sees it:
 * - connecting: no session yet (before the first handshake);
 * - connected: a session, on a read-write server;
 * - readOnly: a session on a read-only server (only with `canBeReadOnly`);
 * - suspended: the connection is lost, the session may still be alive; the client reconnects;
 * - expired, closed, authFailed: terminal; every later call fails.
 */
export type SessionState = 'connecting' | 'connected' | 'readOnly' | 'suspended' | 'expired' | 'closed' | 'authFailed';

export interface ClientInfo {
  authScheme: string;
  user: string;
}
