// prep.ts — the Prep stage (ZooKeeper's PrepRequestProcessor): turns a write request into a Txn
// with every decision taken — final path of a sequential node, ephemeral owner, new versions —
// or into an ErrorTxn with ZooKeeper's code, checking in ZooKeeper's order so that the same
// request fails with the same code. Runs against the tree plus outstanding changes.
import { Code } from '../protocol/codes.js';
import { CreateFlag, OpCode, Perm } from '../protocol/opcodes.js';
import { pathError } from '../protocol/paths.js';
import type { Id } from '../protocol/records.js';
import type { CreateRequest, Request } from '../protocol/requests.js';
import { CONFIG_PATH, QUOTA_PATH, ZOOKEEPER_PATH, type DataTree } from '../tree/data-tree.js';
import { CONTAINER_EPHEMERAL_OWNER, ephemeralKind, ttlOwner, ttlValid } from '../tree/ephemeral-type.js';
import { quotaCheck } from '../tree/quota.js';
import { errorTxn, type Txn } from '../tree/txn.js';
import { type AuthProviders as AclProviders, checkAcl, fixupAcl } from './auth/digest.js';
import { type NodeRecord, type RecordView, ScratchChanges } from './change-records.js';

export interface PrepContext {
  sessionId: bigint;
  authIds: readonly Id[];
  zxid: bigint;
  /** The client's address, for plugins' write filters. */
  remoteAddress?: string;
}

/**
 * A plugin node behaviour's say on a write under its prefix (src/plugin/node-behaviours.ts),
 * asked after ZooKeeper's own path, existence and ACL checks: undefined to go on as asked, the
 * data to store instead (the txn carries it), or a code to fail with.
 */
export type WriteFilterResult = undefined | { data: Buffer | null } | { error: number };
export type WriteFilter = (op: 'create' | 'setData' | 'delete', path: string, data: Buffer | null, ctx: PrepContext) => WriteFilterResult;

export interface PrepOptions {
  extendedTypesEnabled: boolean;
  reconfigEnabled: boolean;
  /** enforceQuota: a write past a hard quota limit fails with QuotaExceeded. */
  enforceQuota?: boolean;
  /** Where a quota warning goes (a soft limit passed, or a hard one when not enforced). */
  warn?: (msg: string) => void;
  /** Plugins' node behaviours (src/plugin); absent when no plugin is loaded. */
  writeFilter?: WriteFilter;
}

/** A KeeperException in prep, carried as a value. */
class Fail {
  constructor(readonly code: number) {}
}

/** The ops a multi may hold (all writes); reads belong in multiRead. */
export const MULTI_WRITE_OPS: ReadonlySet<number> = new Set<number>([
  OpCode.create,
  OpCode.create2,
  OpCode.createContainer,
  OpCode.createTTL,
  OpCode.delete,
  OpCode.setData,
  OpCode.check,
]);

const SPECIAL = new Set(['/', ZOOKEEPER_PATH, QUOTA_PATH, CONFIG_PATH]);

export class Prep {
  constructor(
    private readonly tree: DataTree,
    private readonly view: RecordView,
    private readonly providers: AclProviders,
    private readonly opts: PrepOptions,
  ) {}

  /** The txn for a write request (an ErrorTxn when it fails). */
  prep(req: Request, ctx: PrepContext): Txn {
    if (req.type === OpCode.multi) return this.prepMulti(req.ops, ctx);
    try {
      return this.prepOne(req, ctx, this.view);
    } catch (e) {
      if (e instanceof Fail) return errorTxn(e.code);
      throw e;
    }
  }

  private prepMulti(ops: Request[], ctx: PrepContext): Txn {
    // Reads belong in multiRead: ZooKeeper fails such a multi with MarshallingError.
    if (ops.some((op) => !MULTI_WRITE_OPS.has(op.type))) return errorTxn(Code.MarshallingError);
    const scratch = new ScratchChanges(this.view);
    const txns: Txn[] = [];
    let failed = false;
    for (const op of ops) {
      if (failed) {
        txns.push(errorTxn(Code.RuntimeInconsistency));
        continue;
      }
      try {
        txns.push(this.prepOne(op, ctx, scratch));
      } catch (e) {
        if (!(e instanceof Fail)) throw e;
        failed = true;
        txns.push(errorTxn(e.code));
      }
    }
    if (!failed) scratch.commit();
    return { type: OpCode.multi, txns };
  }

  private prepOne(req: Request, ctx: PrepContext, view: RecordView): Txn {
    switch (req.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
        return this.prepCreate(req, ctx, view);
      case OpCode.delete: {
        const parentPath = parentForWrite(req.path);
        const parent = record(view, parentPath);
        this.requirePerm(parent, Perm.DELETE, ctx);
        const node = record(view, req.path);
        nextVersion(node.version, req.version);
        if (node.childCount > 0) throw new Fail(Code.NotEmpty);
        this.filtered('delete', req.path, null, ctx);
        view.set(parentPath, ctx.zxid, { ...parent, childCount: parent.childCount - 1 });
        view.set(req.path, ctx.zxid, null);
        return { type: OpCode.delete, path: req.path };
      }
      case OpCode.setData: {
        validPath(req.path);
        const node = record(view, req.path);
        this.requirePerm(node, Perm.WRITE, ctx);
        const data = this.filtered('setData', req.path, req.data, ctx);
        this.checkQuota(req.path, BigInt((data === null ? 0 : data.length) - node.dataLength), 0n);
        const version = nextVersion(node.version, req.version);
        view.set(req.path, ctx.zxid, { ...node, version, dataLength: data === null ? 0 : data.length });
        return { type: OpCode.setData, path: req.path, data, version };
      }
      case OpCode.setACL: {
        validPath(req.path);
        const acl = req.acl === null ? undefined : fixupAcl(req.acl, ctx.authIds, this.providers);
        if (acl === undefined) throw new Fail(Code.InvalidACL);
        const node = record(view, req.path);
        this.requirePerm(node, Perm.ADMIN, ctx);
        const version = nextVersion(node.aversion, req.version);
        view.set(req.path, ctx.zxid, { ...node, aversion: version, acl });
        return { type: OpCode.setACL, path: req.path, acl, version };
      }
      case OpCode.check: {
        validPath(req.path);
        const node = record(view, req.path);
        this.requirePerm(node, Perm.READ, ctx);
        return { type: OpCode.check, path: req.path, version: nextVersion(node.version, req.version) };
      }
      case OpCode.reconfig:
        // A standalone server answers as ZooKeeper's does: disabled, else unimplemented.
        throw new Fail(this.opts.reconfigEnabled ? Code.Unimplemented : Code.ReconfigDisabled);
      case OpCode.closeSession: {
        const paths = [...view.pendingEphemerals(ctx.sessionId, new Set(this.tree.ephemeralsOf(ctx.sessionId)))];
        for (const p of paths) {
          const parentPath = parentForWrite(p);
          const parent = view.get(parentPath);
          if (parent !== undefined) view.set(parentPath, ctx.zxid, { ...parent, childCount: parent.childCount - 1 });
          view.set(p, ctx.zxid, null);
        }
        return { type: OpCode.closeSession, paths2Delete: paths };
      }
      default:
        throw new Fail(Code.Unimplemented);
    }
  }

  /** deleteContainer from the reaper: only an empty container or TTL node goes. */
  prepDeleteContainer(path: string, zxid: bigint): Txn {
    try {
      const parentPath = parentForWrite(path);
      const node = record(this.view, path);
      if (node.childCount > 0) throw new Fail(Code.NotEmpty);
      if (ephemeralKind(node.ephemeralOwner, this.opts.extendedTypesEnabled) === 'normal') throw new Fail(Code.BadVersion);
      const parent = record(this.view, parentPath);
      this.view.set(parentPath, zxid, { ...parent, childCount: parent.childCount - 1 });
      this.view.set(path, zxid, null);
      return { type: OpCode.deleteContainer, path };
    } catch (e) {
      if (e instanceof Fail) return errorTxn(e.code);
      throw e;
    }
  }

  private prepCreate(req: CreateRequest, ctx: PrepContext, view: RecordView): Txn {
    const mode = req.flags;
    if (mode < CreateFlag.PERSISTENT || mode > CreateFlag.PERSISTENT_SEQUENTIAL_WITH_TTL) throw new Fail(Code.BadArguments);
    const isTtl = mode === CreateFlag.PERSISTENT_WITH_TTL || mode === CreateFlag.PERSISTENT_SEQUENTIAL_WITH_TTL;
    const isSequential =
      mode === CreateFlag.PERSISTENT_SEQUENTIAL ||
      mode === CreateFlag.EPHEMERAL_SEQUENTIAL ||
      mode === CreateFlag.PERSISTENT_SEQUENTIAL_WITH_TTL;
    const isEphemeral = mode === CreateFlag.EPHEMERAL || mode === CreateFlag.EPHEMERAL_SEQUENTIAL;
    const isContainer = mode === CreateFlag.CONTAINER;
    if (isTtl && !this.opts.extendedTypesEnabled) throw new Fail(Code.Unimplemented);
    if (!ttlValid(isTtl, req.ttl)) throw new Fail(Code.BadArguments);

    const lastSlash = req.path.lastIndexOf('/');
    if (lastSlash === -1 || req.path.includes('\0')) throw new Fail(Code.BadArguments);
    const parentPath = lastSlash === 0 ? '/' : req.path.substring(0, lastSlash);
    const acl = req.acl === null ? undefined : fixupAcl(req.acl, ctx.authIds, this.providers);
    if (acl === undefined) throw new Fail(Code.InvalidACL);
    const parent = record(view, parentPath);
    this.requirePerm(parent, Perm.CREATE, ctx);
    let path = req.path;
    if (isSequential) path += sequenceSuffix(parent.cversion);
    validPath(path);
    if (view.get(path) !== undefined) throw new Fail(Code.NodeExists);
    if (ephemeralKind(parent.ephemeralOwner, this.opts.extendedTypesEnabled) === 'normal') {
      throw new Fail(Code.NoChildrenForEphemerals);
    }
    const parentCVersion = parent.cversion + 1;
    const data = this.filtered('create', path, req.data, ctx);
    this.checkQuota(path, BigInt(data === null ? 0 : data.length), 1n);
    const ephemeralOwner = isContainer
      ? CONTAINER_EPHEMERAL_OWNER
      : isTtl
        ? ttlOwner(req.ttl)
        : isEphemeral
          ? ctx.sessionId
          : 0n;
    view.set(parentPath, ctx.zxid, { ...parent, cversion: parentCVersion, childCount: parent.childCount + 1 });
    view.set(path, ctx.zxid, {
      version: 0,
      cversion: 0,
      aversion: 0,
      ephemeralOwner,
      childCount: 0,
      acl,
      dataLength: data === null ? 0 : data.length,
    });
    switch (req.type) {
      case OpCode.createContainer:
        return { type: OpCode.createContainer, path, data, acl, parentCVersion };
      case OpCode.createTTL:
        return { type: OpCode.createTTL, path, data, acl, parentCVersion, ttl: req.ttl };
      default:
        return { type: req.type, path, data, acl, ephemeral: isEphemeral, parentCVersion };
    }
  }

  /** ZooKeeperServer.checkQuota: hard limits refuse the write when enforced; soft ones are logged. */
  private checkQuota(path: string, bytesDiff: bigint, countDiff: bigint): void {
    const q = this.tree.quotaFor(path);
    if (q === null) return;
    const over = quotaCheck(q.prefix, q.limits, q.usage, countDiff, bytesDiff);
    if (over === null) return;
    this.opts.warn?.(over.message);
    if (over.hard && this.opts.enforceQuota) throw new Fail(Code.QuotaExceeded);
  }

  /** The data to store after the plugins' write filter, which may also refuse the write. */
  private filtered(op: 'create' | 'setData' | 'delete', path: string, data: Buffer | null, ctx: PrepContext): Buffer | null {
    const filter = this.opts.writeFilter;
    if (filter === undefined) return data;
    const r = filter(op, path, data, ctx);
    if (r === undefined) return data;
    if ('error' in r) throw new Fail(r.error);
    return r.data;
  }

  private requirePerm(node: NodeRecord, perm: number, ctx: PrepContext): void {
    if (!checkAcl(node.acl, perm, ctx.authIds, this.providers)) throw new Fail(Code.NoAuth);
  }
}

function record(view: RecordView, path: string): NodeRecord {
  const r = view.get(path);
  if (r === undefined) throw new Fail(Code.NoNode);
  return r;
}

function validPath(path: string): void {
  if (pathError(path) !== null) throw new Fail(Code.BadArguments);
}

/** getParentPathAndValidate: no slash, a NUL or a special path is BadArguments. */
function parentForWrite(path: string): string {
  const lastSlash = path.lastIndexOf('/');
  if (lastSlash === -1 || path.includes('\0') || SPECIAL.has(path)) throw new Fail(Code.BadArguments);
  return lastSlash === 0 ? '/' : path.substring(0, lastSlash);
}

/** checkAndIncVersion: -1 matches any version; the next version wraps -1 to 0. */
function nextVersion(current: number, expected: number): number {
  if (expected !== -1 && expected !== current) throw new Fail(Code.BadVersion);
  const next = (current + 1) | 0;
  return next === -1 ? 0 : next;
}

/** String.format("%010d", n) as Java prints it, negative numbers included. */
export function sequenceSuffix(n: number): string {
  return n < 0 ? '-' + String(-n).padStart(9, '0') : String(n).padStart(10, '0');
}
