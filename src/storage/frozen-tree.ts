// frozen-tree.ts — the tree as it was at one zxid, readable across event-loop turns while the
// live tree goes on changing: what a snapshot is written from (copy-on-write).
//
// Opening a FrozenTree records the tree's lastProcessedZxid Z and registers as its change
// observer. Before a node that existed at Z changes for the first time (set, setACL, a child
// added or removed, quota usage, deletion) the tree hands it over and a copy of its fields is kept
// (the pre-image). Nothing else is copied: the frozen view reads
//   - a node: its pre-image if it has one, else the live node if its czxid ≤ Z (a node created
//     after Z has a larger czxid, because txns apply in zxid order; one created, deleted and
//     created again after Z likewise);
//   - a node's children: the live child names (those that are not frozen nodes read as absent)
//     plus the names of frozen children deleted since Z (kept per parent when they are deleted).
// So each node's children are read at one instant (when the snapshot walk reaches it), and every
// node that existed at Z is found exactly once, with its fields as at Z.
// Cost: one pre-image per node first changed while the snapshot runs; reading a node's children
// copies its child names (one array, bounded by its fan-out).
// Both views read the tree through its public API only (get, childNames, entries), and keep
// copies of what the tree hands over (it may be a transient object).
import assert from 'node:assert/strict';
import { baseName, parentOf } from '../protocol/paths.js';
import type { DataTree, NodeChangeObserver } from '../tree/data-tree.js';
import type { ZNode } from '../tree/znode.js';

/** What a snapshot walk reads: nodes, child names and every node's ACL list, all as of `zxid`. */
export interface TreeView {
  readonly zxid: bigint;
  /** The tree's digest at `zxid` (kept by the tree on every apply); null with digests off. */
  readonly digest: bigint | null;
  get(path: string): ZNode | undefined;
  /** A superset of the child names at `zxid`: names that `get` reads as absent may be in it. */
  childNames(path: string): string[];
  /** Every node as of `zxid`, some maybe more than once, for collecting the ACL lists in use. */
  allNodes(): Iterator<ZNode>;
  /** How many nodes were copied because they changed while the view was open. */
  readonly preserved: number;
  close(): void;
}

/** The tree as it is: for a tree that nothing changes while it is read (one synchronous pass). */
export class StillTree implements TreeView {
  readonly zxid: bigint;
  readonly digest: bigint | null;
  readonly preserved = 0;

  constructor(private readonly tree: DataTree) {
    this.zxid = tree.lastProcessedZxid;
    this.digest = tree.digestEnabled ? tree.digest : null;
  }

  get(path: string): ZNode | undefined {
    return this.tree.get(path);
  }

  childNames(path: string): string[] {
    return this.tree.childNames(path);
  }

  *allNodes(): Iterator<ZNode> {
    for (const [, n] of this.tree.entries()) yield n;
  }

  close(): void {}
}

/** A copy of the node's fields (the tree may hand over a transient object). */
function preImage(n: ZNode): ZNode {
  return {
    data: n.data,
    acl: n.acl,
    czxid: n.czxid,
    mzxid: n.mzxid,
    pzxid: n.pzxid,
    ctime: n.ctime,
    mtime: n.mtime,
    version: n.version,
    cversion: n.cversion,
    aversion: n.aversion,
    ephemeralOwner: n.ephemeralOwner,
    numChildren: n.numChildren, // children are read through the view, never from a pre-image
  };
}

export class FrozenTree implements TreeView, NodeChangeObserver {
  readonly zxid: bigint;
  readonly digest: bigint | null;
  /** path → the node as it was at zxid, for nodes changed or deleted since. */
  private readonly pre = new Map<string, ZNode>();
  /** parent path → names of its children (at zxid) deleted since. */
  private readonly deleted = new Map<string, Set<string>>();
  private open = true;

  constructor(private readonly tree: DataTree) {
    assert.equal(tree.changeObserver, null, 'one frozen view of a tree at a time');
    this.zxid = tree.lastProcessedZxid;
    this.digest = tree.digestEnabled ? tree.digest : null;
    tree.changeObserver = this;
  }

  get preserved(): number {
    return this.pre.size;
  }

  beforeChange(path: string, node: ZNode, deleting: boolean): void {
    if (node.czxid > this.zxid) return; // born after the view was taken: not part of it
    if (!this.pre.has(path)) this.pre.set(path, preImage(node));
    if (!deleting) return;
    const parent = parentOf(path);
    let names = this.deleted.get(parent);
    if (names === undefined) {
      names = new Set();
      this.deleted.set(parent, names);
    }
    names.add(baseName(path));
  }

  get(path: string): ZNode | undefined {
    assert.ok(this.open, 'frozen view read after close');
    const p = this.pre.get(path);
    if (p !== undefined) return p;
    const n = this.tree.get(path);
    return n !== undefined && n.czxid <= this.zxid ? n : undefined;
  }

  childNames(path: string): string[] {
    const names = this.tree.childNames(path);
    const gone = this.deleted.get(path);
    if (gone === undefined) return names;
    const live = new Set(names);
    for (const name of gone) if (!live.has(name)) names.push(name);
    return names;
  }

  /** Live nodes not changed since zxid (at the moment the iterator reaches them), then pre-images. */
  allNodes(): Iterator<ZNode> {
    const live = this.tree.entries();
    let copies: Iterator<ZNode> | null = null;
    const next = (): IteratorResult<ZNode> => {
      if (copies === null) {
        for (let r = live.next(); r.done !== true; r = live.next()) {
          const [path, n] = r.value;
          if (n.czxid <= this.zxid && !this.pre.has(path)) return { done: false, value: n };
        }
        copies = this.pre.values();
      }
      return copies.next();
    };
    return { next };
  }

  /** Stops recording; the view must not be read after. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    if (this.tree.changeObserver === this) this.tree.changeObserver = null;
    this.pre.clear();
    this.deleted.clear();
  }
}
