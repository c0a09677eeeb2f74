// node-behaviours.ts — node behaviours mounted on path prefixes, and the two places they act:
// prep (validate, rewrite or refuse a write, so the txn carries the outcome and every replica
// applies the same bytes) and reads (a virtual node answers instead of the tree). A mount covers
// its prefix and everything below it; where mounts nest, the longest prefix decides alone.
import { Code } from '../protocol/codes.js';
import { OpCode, Perm } from '../protocol/opcodes.js';
import { pathError } from '../protocol/paths.js';
import type { ACL, Stat } from '../protocol/records.js';
import type { Request } from '../protocol/requests.js';
import type { ResponseBody } from '../protocol/responses.js';
import { type AuthProviders, checkAcl } from '../server/auth/digest.js';
import type { PrepContext, WriteFilterResult } from '../server/prep.js';
import type { ReadContext, ReadResult } from '../server/reads.js';
import { type Boundary, FAULT } from './boundary.js';
import type { HookStatus, NodeBehaviour, SessionInfo, VirtualNode } from './types.js';

export const VIRTUAL_NODE_ACL: readonly ACL[] = Object.freeze([{ perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }]);

interface Mount {
  prefix: string;
  behaviour: NodeBehaviour;
  boundary: Boundary;
  write: HookStatus;
  del: HookStatus;
  read: HookStatus;
}

const NONE: ResponseBody = { kind: 'none' };

export class NodeBehaviours {
  /** Longest prefix first. */
  private mounts: Mount[] = [];
  private readMounts = 0;

  constructor(
    private readonly providers: AuthProviders,
    private readonly faultCode: (b: Boundary) => number,
    private readonly startedAt: number,
  ) {}

  get size(): number {
    return this.mounts.length;
  }

  /** Mounts a behaviour; an error message when the prefix is not a path or already taken. */
  mount(prefix: string, behaviour: NodeBehaviour, boundary: Boundary): string | null {
    const bad = pathError(prefix);
    if (bad !== null) return `nodeBehaviour: ${JSON.stringify(prefix)} is not a znode path (${bad})`;
    const taken = this.mounts.find((m) => m.prefix === prefix);
    if (taken !== undefined) return `nodeBehaviour: ${prefix} is already mounted by ${taken.boundary.label}`;
    const tag = `nodeBehaviour(${prefix})`;
    this.mounts.push({
      prefix,
      behaviour,
      boundary,
      write: boundary.status(`${tag}.validateWrite`),
      del: boundary.status(`${tag}.refuseDelete`),
      read: boundary.status(`${tag}.read`),
    });
    this.mounts.sort((a, b) => b.prefix.length - a.prefix.length);
    if (behaviour.read !== undefined) this.readMounts++;
    return null;
  }

  private match(path: string): Mount | undefined {
    for (const m of this.mounts) {
      const p = m.prefix;
      if (path === p || p === '/' || (path.startsWith(p) && path.charCodeAt(p.length) === 47)) return m;
    }
    return undefined;
  }

  /** Prep's write filter (server/prep.ts): undefined when no behaviour has a say. */
  readonly filter = (op: 'create' | 'setData' | 'delete', path: string, data: Buffer | null, ctx: PrepContext): WriteFilterResult => {
    if (this.mounts.length === 0) return undefined;
    const m = this.match(path);
    if (m === undefined) return undefined;
    const session: SessionInfo = { sessionId: ctx.sessionId, authIds: ctx.authIds, remoteAddress: ctx.remoteAddress ?? '' };
    const b = m.boundary;
    if (op === 'delete') {
      const rule = m.behaviour.refuseDelete;
      if (rule === undefined || rule === false) return undefined;
      if (rule === true) {
        m.del.calls++;
        m.del.refusals++;
        return { error: Code.NoAuth };
      }
      const v = b.sync(`nodeBehaviour(${m.prefix}).refuseDelete`, m.del, () => rule({ path, session }));
      if (v === FAULT) return { error: this.faultCode(b) };
      return this.refusal(m, m.del, v, 'refuseDelete');
    }
    const validate = m.behaviour.validateWrite;
    if (validate === undefined) return undefined;
    const v = b.sync(`nodeBehaviour(${m.prefix}).validateWrite`, m.write, () => validate.call(m.behaviour, { op, path, data, session, zxid: ctx.zxid }));
    if (v === FAULT) return { error: this.faultCode(b) };
    if (v === undefined || v === true) return undefined;
    if (typeof v === 'object' && v !== null && 'data' in v) {
      if (v.data === null || Buffer.isBuffer(v.data)) return { data: v.data };
      m.write.faults++;
      b.fault(`nodeBehaviour(${m.prefix}).validateWrite`, 'returned {data} that is neither a Buffer nor null; the request fails');
      return { error: this.faultCode(b) };
    }
    return this.refusal(m, m.write, v, 'validateWrite');
  };

  private refusal(m: Mount, status: HookStatus, v: unknown, hook: string): WriteFilterResult {
    if (v === undefined) return undefined;
    if (typeof v === 'object' && v !== null && 'error' in v && Number.isInteger((v as { error: unknown }).error) && (v as { error: number }).error !== 0) {
      status.refusals++;
      return { error: (v as { error: number }).error };
    }
    status.faults++;
    m.boundary.fault(`nodeBehaviour(${m.prefix}).${hook}`, `returned ${describeValue(v)}, which is not a verdict; the request fails`);
    return { error: this.faultCode(m.boundary) };
  }

  /** Reads' virtual-node hook (server/reads.ts): a result for a virtual node, else undefined. */
  readonly virtualRead = (req: Request, ctx: ReadContext): ReadResult | undefined => {
    if (this.readMounts === 0) return undefined;
    switch (req.type) {
      case OpCode.exists:
      case OpCode.getData:
      case OpCode.getChildren:
      case OpCode.getChildren2:
      case OpCode.getACL:
        break;
      default:
        return undefined;
    }
    const m = this.match(req.path);
    const read = m?.behaviour.read;
    if (m === undefined || read === undefined) return undefined;
    const session: SessionInfo = { sessionId: ctx.sessionId, authIds: ctx.authIds, remoteAddress: remoteAddressOf(ctx) };
    const v = m.boundary.sync(`nodeBehaviour(${m.prefix}).read`, m.read, () => read.call(m.behaviour, req.path, session));
    if (v === FAULT) return { err: this.faultCode(m.boundary), body: NONE };
    if (v === undefined) return undefined;
    const node = normalise(v);
    if (node === null) {
      m.read.faults++;
      m.boundary.fault(`nodeBehaviour(${m.prefix}).read`, `returned ${describeValue(v)}, which is not a virtual node; the request fails`);
      return { err: this.faultCode(m.boundary), body: NONE };
    }
    const perm = req.type === OpCode.getACL ? Perm.READ | Perm.ADMIN : Perm.READ;
    if (!checkAcl(node.acl, perm, ctx.authIds, this.providers)) return { err: Code.NoAuth, body: NONE };
    const stat = this.statOf(node);
    switch (req.type) {
      case OpCode.exists:
        return { err: Code.OK, body: { kind: 'stat', stat } };
      case OpCode.getData:
        return { err: Code.OK, body: { kind: 'data', data: node.data, stat } };
      case OpCode.getChildren:
        return { err: Code.OK, body: { kind: 'children', children: node.children } };
      case OpCode.getChildren2:
        return { err: Code.OK, body: { kind: 'children2', children: node.children, stat } };
      default: {
        const admin = checkAcl(node.acl, Perm.ADMIN, ctx.authIds, this.providers);
        return { err: Code.OK, body: { kind: 'acl', acl: admin ? node.acl : maskDigests(node.acl), stat } };
      }
    }
  };

  /** A virtual node's Stat: made now, never versioned, owned by no session. */
  private statOf(node: { data: Buffer | null; children: readonly string[] }): Stat {
    const now = BigInt(Date.now());
    return {
      czxid: 0n,
      mzxid: 0n,
      ctime: BigInt(this.startedAt),
      mtime: now,
      version: 0,
      cversion: 0,
      aversion: 0,
      ephemeralOwner: 0n,
      dataLength: node.data === null ? 0 : node.data.length,
      numChildren: node.children.length,
      pzxid: 0n,
    };
  }
}

function normalise(v: VirtualNode): { data: Buffer | null; children: readonly string[]; acl: readonly ACL[] } | null {
  if (typeof v !== 'object' || v === null) return null;
  const data = v.data === undefined || v.data === null ? null : typeof v.data === 'string' ? Buffer.from(v.data, 'utf8') : Buffer.isBuffer(v.data) ? v.data : undefined;
  if (data === undefined) return null;
  const children = v.children ?? [];
  if (!Array.isArray(children) || !children.every((c) => typeof c === 'string')) return null;
  return { data, children, acl: v.acl ?? VIRTUAL_NODE_ACL };
}

/** As reads.ts: without ADMIN, digest ids lose their password hash. */
function maskDigests(acl: readonly ACL[]): ACL[] {
  return acl.map((a) => (a.id.scheme === 'digest' ? { perms: a.perms, id: { scheme: 'digest', id: a.id.id.replace(/:.*/s, ':x') } } : a));
}

function remoteAddressOf(ctx: ReadContext): string {
  const w = ctx.watcher as { remoteAddress?: unknown };
  return typeof w.remoteAddress === 'string' ? w.remoteAddress : '';
}

function describeValue(v: unknown): string {
  try {
    return typeof v === 'object' ? JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v) : String(v);
  } catch {
    return String(v);
  }
}
