// errors.ts — the errors a client call rejects with. Every ZooKeeper error code becomes a ZkError
// whose `code` is the C client's name ('ZNONODE') and whose `rc` is the number on the wire (-101),
// with the path the call was about and, for a failed multi, the result of every op. Codes a
// client produces itself (connection loss, closing, throttled by the local queue) use the same
// class, so callers branch on `code` alone.
import { Code, codeName } from '../protocol/codes.js';

/** ZooKeeper's error codes by the names the C client gives them. */
export const ZkErrorCodes = {
  ZSYSTEMERROR: Code.SystemError,
  ZRUNTIMEINCONSISTENCY: Code.RuntimeInconsistency,
  ZDATAINCONSISTENCY: Code.DataInconsistency,
  ZCONNECTIONLOSS: Code.ConnectionLoss,
  ZMARSHALLINGERROR: Code.MarshallingError,
  ZUNIMPLEMENTED: Code.Unimplemented,
  ZOPERATIONTIMEOUT: Code.OperationTimeout,
  ZBADARGUMENTS: Code.BadArguments,
  ZINVALIDSTATE: -9,
  ZUNKNOWNSESSION: Code.UnknownSession,
  ZNEWCONFIGNOQUORUM: Code.NewConfigNoQuorum,
  ZRECONFIGINPROGRESS: Code.ReconfigInProgress,
  ZSSLCONNECTIONERROR: -15,
  ZAPIERROR: Code.APIError,
  ZNONODE: Code.NoNode,
  ZNOAUTH: Code.NoAuth,
  ZBADVERSION: Code.BadVersion,
  ZNOCHILDRENFOREPHEMERALS: Code.NoChildrenForEphemerals,
  ZNODEEXISTS: Code.NodeExists,
  ZNOTEMPTY: Code.NotEmpty,
  ZSESSIONEXPIRED: Code.SessionExpired,
  ZINVALIDCALLBACK: Code.InvalidCallback,
  ZINVALIDACL: Code.InvalidACL,
  ZAUTHFAILED: Code.AuthFailed,
  ZCLOSING: -116,
  ZNOTHING: -117,
  ZSESSIONMOVED: Code.SessionMoved,
  ZNOTREADONLY: Code.NotReadOnly,
  ZEPHEMERALONLOCALSESSION: Code.EphemeralOnLocalSession,
  ZNOWATCHER: Code.NoWatcher,
  ZREQUESTTIMEOUT: Code.RequestTimeout,
  ZRECONFIGDISABLED: Code.ReconfigDisabled,
  ZSESSIONCLOSEDREQUIRESASLAUTH: Code.SessionClosedRequireSaslAuth,
  ZQUOTAEXCEEDED: Code.QuotaExceeded,
  ZTHROTTLEDOP: Code.Throttled,
} as const;
export type ZkErrorCode = keyof typeof ZkErrorCodes;

const nameOfRc = new Map<number, ZkErrorCode>(
  Object.entries(ZkErrorCodes).map(([name, rc]) => [rc, name as ZkErrorCode]),
);

/** Java's KeeperException message words for the codes it names. */
const JAVA_NAMES: Record<number, string> = { [-9]: 'InvalidState', [-15]: 'SSLConnectionError', [-116]: 'Closing' };

export interface ZkErrorOptions {
  path?: string;
  cause?: unknown;
  message?: string;
  /** For a failed multi: the result of each op, the failed one and those not run as errors. */
  results?: readonly unknown[];
}

export class ZkError extends Error {
  /** The C client's name of the code, e.g. 'ZNONODE'; 'ZUNKNOWN' for a code no release defines. */
  readonly code: ZkErrorCode | 'ZUNKNOWN';
  /** The code as the server sends it, e.g. -101. */
  readonly rc: number;
  /** The path of the call (as the caller wrote it, chroot not included), when it had one. */
  readonly path: string | undefined;
  /** multi: every op's result; the failed op's entry carries its code. */
  readonly results: readonly unknown[] | undefined;

  constructor(rc: number, opts: ZkErrorOptions = {}) {
    const name = JAVA_NAMES[rc] ?? codeName(rc);
    const text = opts.message ?? `KeeperErrorCode = ${name}${opts.path === undefined ? '' : ` for ${opts.path}`}`;
    super(text, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ZkError';
    this.rc = rc;
    this.code = nameOfRc.get(rc) ?? 'ZUNKNOWN';
    this.path = opts.path;
    this.results = opts.results;
  }
}

/** The code of a ZooKeeper error, by name. */
export function rcOf(code: ZkErrorCode): number {
  return ZkErrorCodes[code];
}

/** True when `e` is a ZkError, and of one of `codes` when any are given. */
export function isZkError(e: unknown, ...codes: ZkErrorCode[]): e is ZkError {
  return e instanceof ZkError && (codes.length === 0 || codes.includes(e.code as ZkErrorCode));
}

/** A call rejected before it was sent: bad path, bad TTL, empty ACL and the like. */
export function badArguments(message: string, path?: string): ZkError {
  return new ZkError(Code.BadArguments, { message, path });
}

/** A watch stream's consumer fell too far behind: events were not dropped silently. */
export class WatchOverflowError extends Error {
  readonly code = 'ZKTS_ERR_WATCH_OVERFLOW';
  constructor(readonly path: string, readonly maxQueuedEvents: number) {
    super(`watch on ${path}: more than ${maxQueuedEvents} events waiting for the consumer`);
    this.name = 'WatchOverflowError';
  }
}
