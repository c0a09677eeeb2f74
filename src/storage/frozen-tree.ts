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
import assert from 'node:assert/strict';
import { baseName, parentOf } from '../protocol/paths.js';
import type { DataTree, NodeChangeObserver } from '../tree/data-tree.js';
import { ZNode } from '../tree/znode.js';

/** What a snapshot walk reads: nodes, child names and every node's ACL list, all as of `zxid`. */
export interface TreeView {
  readonly zxid: bigint;
  /** The tree's digest at `zxid` (kept by the tree on every apply); null with digests off. */
  readonly digest: bigint | null;
  get(path: string): ZNode | undefined;
  /** A superset of the child names at `zxid`: names that `get` reads as absent may be in it. */
  childNames(path: string): string[];
  /** Every node as of `zxid`, some maybe more than once, for collecting the ACL lists in use. */
  nodes(): Iterator<ZNode>;
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
    return this.tree.nodes.get(path);
  }

  childNames(path: string): string[] {
    const kids = this.tree.nodes.get(path)?.children;
    return kids === null || kids === undefined || kids.size === 0 ? NO_NAMES : Array.from(kids);
  }

  nodes(): Iterator<ZNode> {
    return this.tree.nodes.values();
  }

  close(): void {}
}

/** Shared by every leaf: never written to. */
const NO_NAMES: string[] = [];

function preImage(n: ZNode): ZNode {
  const c = new ZNode(n.data, n.acl, n.czxid, n.ctime, n.ephemeralOwner);
  c.mzxid = n.mzxid;
  c.pzxid = n.pzxid;
  c.mtime = n.mtime;
  c.version = n.version;
  c.cversion = n.cversion;
  c.aversion = n.aversion;
  return c; // children are read through the view, never from a pre-image
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
    const n = this.tree.nodes.get(path);
    return n !== undefined && n.czxid <= this.zxid ? n : undefined;
  }

  childNames(path: string): string[] {
    const kids = this.tree.nodes.get(path)?.children ?? null;
    const gone = this.deleted.get(path);
    if (gone === undefined) return kids === null || kids.size === 0 ? NO_NAMES : Array.from(kids);
    const names = kids === null ? [] : Array.from(kids);
    for (const name of gone) if (kids === null || !kids.has(name)) names.push(name);
    return names;
  }

  /** Live nodes not changed since zxid (at the moment the iterator reaches them), then pre-images. */
  nodes(): Iterator<ZNode> {
    const live = this.tree.nodes.entries();
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
