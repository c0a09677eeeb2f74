// index.ts — zkts/client: a ZooKeeper client for Node.js, TypeScript first.
export { ZooKeeper } from './client.js';
export type {
  CallOptions,
  ClientEvents,
  ConnectOptions,
  CreateOptions,
  ReconfigOptions,
  RemoveWatchesOptions,
  SaslOptions,
  TlsOptions,
  VersionOptions,
  WatchCallOptions,
} from './options.js';
export { ZkError, ZkErrorCodes, WatchOverflowError, isZkError, rcOf } from './errors.js';
export type { ZkErrorCode, ZkErrorOptions } from './errors.js';
export { Transaction } from './transaction.js';
export type {
  CheckOp,
  CheckResult,
  CreateOp,
  CreateResult,
  DeleteOp,
  DeleteResult,
  ErrorResult,
  GetChildrenOp,
  GetChildrenResult,
  GetDataOp,
  GetDataResult,
  Op,
  OpResult,
  ReadOp,
  ReadResult,
  ResultsOf,
  ReadResultsOf,
  SetDataOp,
  SetDataResult,
} from './transaction.js';
export { WatchStream } from './watch-stream.js';
export type { WatchMode, WatchStreamOptions } from './watch-stream.js';
export type { WatcherTypeName } from './watches.js';
export { Ids, Perm } from './types.js';
export type {
  ACL,
  ClientInfo,
  CreateMode,
  Data,
  Id,
  KeeperStateName,
  NodeEvent,
  NodeEventType,
  SessionState,
  Stat,
  StateEvent,
  WatchedEvent,
  Watcher,
  WatchListener,
  WatchOption,
  WatchTarget,
} from './types.js';
export { digestId } from './digest.js';
export { parseConnectString } from './connect-string.js';
export type { ConnectString, HostPort } from './connect-string.js';
export type { LogLevel } from './connection.js';
