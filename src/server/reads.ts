// reads.ts — the read side of the Final stage: requests answered from the local tree, with
// ZooKeeper's checks in ZooKeeper's order (node exists, then READ permission, then the watch).
import { Code } from '../protocol/codes.js';
import { OpCode, Perm, WatcherType } from '../protocol/opcodes.js';
import type { ACL, Id } from '../protocol/records.js';
import type { Request } from '../protocol/requests.js';
import type { MultiResult, ResponseBody } from '../protocol/responses.js';
import type { DataTree } from '../tree/data-tree.js';
import { type WatchManager, WatchMode, type Watcher } from '../tree/watch-manager.js';
import { type AuthProviders as AclProviders, checkAcl } from './auth/digest.js';

export interface ReadContext {
  sessionId: bigint;
  authIds: readonly Id[];
  watcher: Watcher;
  /** whoAmI: the user part of an id, per its scheme's provider. */
  userName(id: Id): string;
}

export type ReadResult = { err: number; body: ResponseBody };

/** Plugins' virtual nodes (src/plugin/node-behaviours.ts): a result, or undefined to read the tree. */
export type VirtualRead = (req: Request, ctx: ReadContext) => ReadResult | undefined;

const NONE: ResponseBody = { kind: 'none' };
const fail = (err: number): ReadResult => ({ err, body: NONE });
const ok = (body: ResponseBody): ReadResult => ({ err: Code.OK, body });

export class Reads {
  constructor(
    private readonly tree: DataTree,
    private readonly providers: AclProviders,
    private readonly virtual?: VirtualRead,
  ) {}

  private canRead(acl: readonly ACL[], ctx: ReadContext, perm: number = Perm.READ): boolean {
    return checkAcl(acl, perm, ctx.authIds, this.providers);
  }

  run(req: Request, ctx: ReadContext): ReadResult {
    if (this.virtual !== undefined) {
      const v = this.virtual(req, ctx);
      if (v !== undefined) return v;
    }
    const tree = this.tree;
    switch (req.type) {
      case OpCode.exists: {
        if (req.path.includes('\0')) return fail(Code.BadArguments);
        const node = tree.get(req.path);
        if (node !== undefined && !this.canRead(node.acl, ctx)) return fail(Code.NoAuth);
        if (req.watch) tree.addDataWatch(req.path, ctx.watcher);
        if (node === undefined) return fail(Code.NoNode);
        return ok({ kind: 'stat', stat: tree.statOf(node) });
      }
      case OpCode.getData: {
        const node = tree.get(req.path);
        if (node === undefined) return fail(Code.NoNode);
        if (!this.canRead(node.acl, ctx)) return fail(Code.NoAuth);
        if (req.watch) tree.addDataWatch(req.path, ctx.watcher);
        return ok({ kind: 'data', data: node.data, stat: tree.statOf(node) });
      }
      case OpCode.getChildren:
      case OpCode.getChildren2: {
        const node = tree.get(req.path);
        if (node === undefined) return fail(Code.NoNode);
        if (!this.canRead(node.acl, ctx)) return fail(Code.NoAuth);
        if (req.watch) tree.addChildWatch(req.path, ctx.watcher);
        const children = tree.childNames(req.path);
        if (req.type === OpCode.getChildren) return ok({ kind: 'children', children });
        return ok({ kind: 'children2', children, stat: tree.statOf(node) });
      }
      case OpCode.getACL: {
        const node = tree.get(req.path);
        if (node === undefined) return fail(Code.NoNode);
        if (!this.canRead(node.acl, ctx, Perm.READ | Perm.ADMIN)) return fail(Code.NoAuth);
        const acl = this.canRead(node.acl, ctx, Perm.ADMIN) ? node.acl : maskDigests(node.acl);
        return ok({ kind: 'acl', acl, stat: tree.statOf(node) });
      }
      case OpCode.getAllChildrenNumber: {
        const node = tree.get(req.path);
        if (node === undefined) return fail(Code.NoNode);
        if (!this.canRead(node.acl, ctx)) return fail(Code.NoAuth);
        return ok({ kind: 'int', value: tree.allChildrenNumber(req.path) });
      }
      case OpCode.getEphemerals: {
        const all = tree.ephemeralsOf(ctx.sessionId);
        const prefix = req.prefixPath.trim();
        const values = prefix === '' || prefix === '/' ? [...all] : [...all].filter((p) => p.startsWith(req.prefixPath));
        return ok({ kind: 'strings', values });
      }
      case OpCode.sync:
        return ok({ kind: 'path', path: req.path });
      case OpCode.addWatch:
        if (req.mode !== 0 && req.mode !== 1) return fail(Code.MarshallingError);
        tree.addPersistentWatch(req.path, ctx.watcher, req.mode === 1);
        return ok({ kind: 'int', value: 0 });
      case OpCode.checkWatches:
      case OpCode.removeWatches: {
        if (req.watcherType < 1 || req.watcherType > 5) return fail(Code.MarshallingError);
        const found =
          req.type === OpCode.checkWatches
            ? containsWatch(tree, req.path, req.watcherType, ctx.watcher)
            : removeWatch(tree, req.path, req.watcherType, ctx.watcher);
        return found ? ok(NONE) : fail(Code.NoWatcher);
      }
      case OpCode.whoAmI:
        return ok({
          kind: 'clientInfo',
          infos: ctx.authIds.map((id) => ({ authScheme: id.scheme, user: ctx.userName(id) })),
        });
      case OpCode.multiRead: {
        // Writes belong in multi; and ZooKeeper sets no watches from a multiRead.
        if (req.ops.some((op) => op.type !== OpCode.getData && op.type !== OpCode.getChildren)) {
          return fail(Code.MarshallingError);
        }
        const results: MultiResult[] = req.ops.map((op) => {
          const r = this.run({ ...op, watch: false } as Request, ctx);
          return r.err !== Code.OK ? { type: OpCode.error, err: r.err } : { type: op.type, body: r.body };
        });
        return ok({ kind: 'multi', results });
      }
      default:
        return fail(Code.Unimplemented);
    }
  }
}

/** getACL without ADMIN: digest ids lose their password hash (CVE-2019-0201). */
function maskDigests(acl: readonly ACL[]): ACL[] {
  return acl.map((a) =>
    a.id.scheme === 'digest' ? { perms: a.perms, id: { scheme: 'digest', id: a.id.id.replace(/:.*/s, ':x') } } : a,
  );
}

/**
 * Which (table, mode) pairs each WatcherType of checkWatches/removeWatches names (3.9): 1 children,
 * 2 data, 3 any, 4 persistent, 5 persistent-recursive; a null mode means every mode.
 */
function watchSlots(tree: DataTree, type: number): [WatchManager, number | null][] {
  switch (type) {
    case WatcherType.Children:
      return [[tree.childWatches, WatchMode.STANDARD]];
    case WatcherType.Data:
      return [[tree.dataWatches, WatchMode.STANDARD]];
    case WatcherType.Any:
      return [[tree.childWatches, null], [tree.dataWatches, null]];
    case 4:
      return [[tree.childWatches, WatchMode.PERSISTENT], [tree.dataWatches, WatchMode.PERSISTENT]];
    case 5:
      return [[tree.dataWatches, WatchMode.PERSISTENT_RECURSIVE]];
    default:
      return [];
  }
}

function containsWatch(tree: DataTree, path: string, type: number, w: Watcher): boolean {
  // ZooKeeper checks a persistent watch in the data table only.
  const slots = type === 4 ? [[tree.dataWatches, WatchMode.PERSISTENT] as [WatchManager, number]] : watchSlots(tree, type);
  return slots.some(([table, mode]) => table.contains(path, w, mode));
}

function removeWatch(tree: DataTree, path: string, type: number, w: Watcher): boolean {
  let removed = false;
  for (const [table, mode] of watchSlots(tree, type)) removed = table.remove(path, w, mode) || removed;
  return removed;
}
