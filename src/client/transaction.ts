// transaction.ts — multi and multiRead as typed values: the ops a caller lists, the result each
// one gets (a tuple typed op by op), and the builder `zk.transaction().create(…).check(…)`. A
// multi applies all its ops or none: on failure it rejects with the ZkError of the first op that
// failed, carrying every op's result. A multiRead answers each read on its own (a failed read is
// an error result, the others still answer), as in ZooKeeper.
import type { ACL, CreateMode, Data, Stat } from './types.js';

export interface CreateOp {
  type: 'create';
  path: string;
  data?: Data | null;
  mode?: CreateMode;
  acl?: readonly ACL[];
  ttlMs?: number | bigint;
}
export interface DeleteOp {
  type: 'delete';
  path: string;
  version?: number;
}
export interface SetDataOp {
  type: 'setData';
  path: string;
  data: Data | null;
  version?: number;
}
export interface CheckOp {
  type: 'check';
  path: string;
  version: number;
}
export type Op = CreateOp | DeleteOp | SetDataOp | CheckOp;

export interface GetDataOp {
  type: 'getData';
  path: string;
}
export interface GetChildrenOp {
  type: 'getChildren';
  path: string;
}
export type ReadOp = GetDataOp | GetChildrenOp;

/**
 * A create's result: the path created (chroot-relative, with any sequence number), and its stat
 * when the server sends one (ZooKeeper 3.8 does not, in a multi).
 */
export interface CreateResult {
  type: 'create';
  path: string;
  stat: Stat | null;
}
export interface DeleteResult {
  type: 'delete';
}
export interface SetDataResult {
  type: 'setData';
  stat: Stat;
}
export interface CheckResult {
  type: 'check';
}
/** An op that failed, or (in a failed multi) one that was not applied because another failed. */
export interface ErrorResult {
  type: 'error';
  /** The op's code: 0 for ops before the failed one, the failure's, RuntimeInconsistency after. */
  rc: number;
}
export interface GetDataResult {
  type: 'getData';
  data: Buffer;
  stat: Stat;
}
export interface GetChildrenResult {
  type: 'getChildren';
  children: string[];
}

export type OpResult = CreateResult | DeleteResult | SetDataResult | CheckResult;
export type ReadResult = GetDataResult | GetChildrenResult | ErrorResult;

export type ResultOf<O extends Op> = O extends CreateOp
  ? CreateResult
  : O extends DeleteOp
    ? DeleteResult
    : O extends SetDataOp
      ? SetDataResult
      : CheckResult;

export type ResultsOf<O extends readonly Op[]> = { -readonly [K in keyof O]: ResultOf<O[K]> };

/** What multiRead answers for each read: its result, or an ErrorResult. */
export type ReadResultOf<O extends ReadOp> = (O extends GetDataOp ? GetDataResult : GetChildrenResult) | ErrorResult;
export type ReadResultsOf<O extends readonly ReadOp[]> = { -readonly [K in keyof O]: ReadResultOf<O[K]> };

export interface MultiRunner {
  multi<const O extends readonly Op[]>(ops: O, opts?: { signal?: AbortSignal }): Promise<ResultsOf<O>>;
}

/** Builds a multi op by op; `commit()` runs it. Each call adds one op and one result type. */
export class Transaction<R extends readonly OpResult[] = []> {
  private readonly ops: Op[] = [];

  constructor(private readonly runner: MultiRunner) {}

  create(
    path: string,
    data: Data | null = Buffer.alloc(0),
    opts: { mode?: CreateMode; acl?: readonly ACL[]; ttlMs?: number | bigint } = {},
  ): Transaction<[...R, CreateResult]> {
    this.ops.push({ type: 'create', path, data, ...opts });
    return this as unknown as Transaction<[...R, CreateResult]>;
  }

  delete(path: string, version = -1): Transaction<[...R, DeleteResult]> {
    this.ops.push({ type: 'delete', path, version });
    return this as unknown as Transaction<[...R, DeleteResult]>;
  }

  setData(path: string, data: Data | null, version = -1): Transaction<[...R, SetDataResult]> {
    this.ops.push({ type: 'setData', path, data, version });
    return this as unknown as Transaction<[...R, SetDataResult]>;
  }

  check(path: string, version: number): Transaction<[...R, CheckResult]> {
    this.ops.push({ type: 'check', path, version });
    return this as unknown as Transaction<[...R, CheckResult]>;
  }

  /** The ops so far, in order. */
  get operations(): readonly Op[] {
    return this.ops;
  }

  commit(opts: { signal?: AbortSignal } = {}): Promise<R> {
    return this.runner.multi(this.ops, opts) as unknown as Promise<R>;
  }
}
