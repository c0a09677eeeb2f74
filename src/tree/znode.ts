// znode.ts — what the tree hands out for one znode: its persisted fields (ZooKeeper's
// StatPersisted, the data and the interned ACL) and numChildren, read-only and as of the moment
// it was read. How the tree stores its nodes is data-tree.ts's own business; child names are read
// with DataTree.childNames. numChildren and dataLength are derived, as in ZooKeeper.
import type { ACL, Stat } from '../protocol/records.js';
import { ephemeralKind } from './ephemeral-type.js';

/** A znode's persisted fields: what a snapshot holds for it, and what DataTree.loadNode takes. */
export interface NodeFields {
  /** null when created or set with null data: ZooKeeper keeps and returns it as null. */
  readonly data: Buffer | null;
  readonly acl: readonly ACL[];
  readonly czxid: bigint;
  readonly mzxid: bigint;
  readonly pzxid: bigint;
  readonly ctime: number;
  readonly mtime: number;
  readonly version: number;
  /** The stored cversion: creates only (it names sequential nodes); see nodeStat. */
  readonly cversion: number;
  readonly aversion: number;
  readonly ephemeralOwner: bigint;
}

/**
 * A znode as DataTree.get reads it. Treat it as read-only and as a snapshot taken at the call:
 * the tree may hand out a fresh copy, so changing it would not change the tree, and it may also
 * hand out its own object, so it must not be changed at all.
 */
export interface ZNode extends NodeFields {
  readonly numChildren: number;
}

/**
 * The Stat a client sees (ZooKeeper's DataNode.copyStat): cversion is reported as
 * 2 × creates − children, so deletes count too, while the stored cversion counts creates
 * only (it names sequential nodes); container and TTL owners read as 0 (TTL ones only with
 * extended types enabled, as in ZooKeeper).
 */
export function nodeStat(n: ZNode, extendedTypesEnabled: boolean): Stat {
  const numChildren = n.numChildren;
  const kind = ephemeralKind(n.ephemeralOwner, extendedTypesEnabled);
  return {
    czxid: n.czxid,
    mzxid: n.mzxid,
    ctime: BigInt(n.ctime),
    mtime: BigInt(n.mtime),
    version: n.version,
    cversion: (n.cversion * 2 - numChildren) | 0,
    aversion: n.aversion,
    ephemeralOwner: kind === 'normal' ? n.ephemeralOwner : 0n,
    dataLength: n.data === null ? 0 : n.data.length,
    numChildren,
    pzxid: n.pzxid,
  };
}
