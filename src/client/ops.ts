// ops.ts — turns the client's calls into protocol requests, with the checks ZooKeeper's Java
// client makes before sending (valid path, sequential suffix allowed, non-empty ACL, a TTL only
// with a TTL mode and within 1..2^40-1 ms), and multi results back into typed values.
import type { OpResult as WireOpResult } from '../protocol/client-codec.js';
import { Code } from '../protocol/codes.js';
import { OpCode } from '../protocol/opcodes.js';
import { pathError } from '../protocol/paths.js';
import type { Request } from '../protocol/requests.js';
import { ZkError, badArguments } from './errors.js';
import type { ErrorResult, Op, OpResult, ReadOp, ReadResult } from './transaction.js';
import { type ACL, CREATE_FLAGS, type CreateMode, type Data, Ids, isSequential, isTtl } from './types.js';

/** EphemeralType.TTL's limit: TTLs are 40 bits. */
export const MAX_TTL_MS = 0xffffffffffn;

export function toBuffer(data: Data | null | undefined): Buffer | null {
  if (data === null) return null;
  if (data === undefined) return Buffer.alloc(0);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function checkPath(path: string, sequential = false): void {
  if (typeof path !== 'string') throw badArguments('Path cannot be null');
  const err = pathError(path, sequential);
  if (err !== null) throw badArguments(err, path);
}

export function checkAcl(acl: readonly ACL[], path: string): ACL[] {
  if (acl.length === 0) throw new ZkError(Code.InvalidACL, { path });
  return [...acl];
}

export interface CreateArgs {
  mode?: CreateMode;
  acl?: readonly ACL[];
  ttlMs?: number | bigint;
}

/**
 * The request for a create of `path` (client path) at `serverPath`: createContainer for a
 * container, createTTL for a TTL mode, otherwise create2 when the stat is wanted, else create.
 */
export function createRequest(path: string, serverPath: string, data: Data | null | undefined, args: CreateArgs, wantStat: boolean): Request {
  const mode = args.mode ?? 'persistent';
  const flags = CREATE_FLAGS[mode];
  if (flags === undefined) throw badArguments(`Unknown create mode ${String(mode)}`, path);
  checkPath(path, isSequential(mode));
  const acl = checkAcl(args.acl ?? Ids.OPEN_ACL_UNSAFE, path);
  let ttl = -1n;
  if (isTtl(mode)) {
    if (args.ttlMs === undefined) throw badArguments(`a TTL is required for mode ${mode}`, path);
    ttl = BigInt(args.ttlMs);
    if (ttl <= 0n || ttl > MAX_TTL_MS) throw badArguments(`ttl must be 1..${MAX_TTL_MS} ms: ${ttl}`, path);
  } else if (args.ttlMs !== undefined) {
    throw badArguments(`ttl is only valid with persistentWithTTL or persistentSequentialWithTTL, not ${mode}`, path);
  }
  const type =
    mode === 'container' ? OpCode.createContainer
    : isTtl(mode) ? OpCode.createTTL
    : wantStat ? OpCode.create2
    : OpCode.create;
  return { type, path: serverPath, data: toBuffer(data), acl, flags, ttl };
}

export function checkVersion(version: number): number {
  if (!Number.isInteger(version) || version < -1 || version > 0x7fffffff) throw badArguments(`Invalid version ${version}`);
  return version;
}

/**
 * The wire request of one multi op. A create is sent as ZooKeeper's Java client sends it: create
 * (createContainer, createTTL for those modes); ZooKeeper 3.8 answers every create in a multi
 * with its path only.
 */
export function multiOpRequest(op: Op, prefix: (clientPath: string) => string): Request {
  switch (op.type) {
    case 'create':
      return createRequest(op.path, prefix(op.path), op.data, op, false);
    case 'delete':
      checkPath(op.path);
      return { type: OpCode.delete, path: prefix(op.path), version: checkVersion(op.version ?? -1) };
    case 'setData':
      checkPath(op.path);
      return { type: OpCode.setData, path: prefix(op.path), data: toBuffer(op.data), version: checkVersion(op.version ?? -1) };
    case 'check':
      checkPath(op.path);
      return { type: OpCode.check, path: prefix(op.path), version: checkVersion(op.version) };
    default:
      throw badArguments(`Unknown multi op ${(op as { type: unknown }).type}`);
  }
}

export function readOpRequest(op: ReadOp, prefix: (clientPath: string) => string): Request {
  checkPath(op.path);
  switch (op.type) {
    case 'getData':
      return { type: OpCode.getData, path: prefix(op.path), watch: false };
    case 'getChildren':
      return { type: OpCode.getChildren, path: prefix(op.path), watch: false };
    default:
      throw badArguments(`Unknown read op ${(op as { type: unknown }).type}`);
  }
}

/**
 * A multi's results, typed; throws the ZkError of the first failed op (path of that op, every
 * result attached) when the multi was not applied.
 */
export function multiResults(ops: readonly Op[], wire: readonly WireOpResult[], strip: (serverPath: string) => string): OpResult[] {
  const failedAt = wire.findIndex((r) => r.type === OpCode.error && r.err !== 0);
  if (failedAt >= 0) {
    const results: ErrorResult[] = wire.map((r) => ({ type: 'error', rc: r.type === OpCode.error ? r.err : 0 }));
    const rc = (wire[failedAt] as { err: number }).err;
    throw new ZkError(rc, { path: ops[failedAt]?.path, results });
  }
  return wire.map((r): OpResult => {
    switch (r.type) {
      case OpCode.create:
        return { type: 'create', path: strip(r.path), stat: null };
      case OpCode.create2:
        return { type: 'create', path: strip(r.path), stat: r.stat };
      case OpCode.delete:
        return { type: 'delete' };
      case OpCode.setData:
        return { type: 'setData', stat: r.stat };
      case OpCode.check:
        return { type: 'check' };
      default:
        throw new ZkError(Code.MarshallingError, { message: `unexpected result of type ${r.type} in a multi` });
    }
  });
}

export function readResults(wire: readonly WireOpResult[]): ReadResult[] {
  return wire.map((r): ReadResult => {
    switch (r.type) {
      case OpCode.getData:
        return { type: 'getData', data: r.data ?? Buffer.alloc(0), stat: r.stat };
      case OpCode.getChildren:
        return { type: 'getChildren', children: r.children };
      case OpCode.error:
        return { type: 'error', rc: r.err };
      default:
        throw new ZkError(Code.MarshallingError, { message: `unexpected result of type ${r.type} in a multiRead` });
    }
  });
}
