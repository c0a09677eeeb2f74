// change-records.ts — what prep sees: the tree plus the effects of txns that have been prepped but
// not yet applied (ZooKeeper's outstandingChanges). Each record is the state of one path after
// the newest pending txn that touches it; records are dropped as their txns are applied.
// A multi preps into a child view and merges it only when every op succeeded.
import type { ACL } from '../protocol/records.js';
import type { DataTree } from '../tree/data-tree.js';

export interface NodeRecord {
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  childCount: number;
  acl: readonly ACL[];
  dataLength: number;
}

interface Pending {
  zxid: bigint;
  rec: NodeRecord | null; // null: deleted
}

export interface RecordView {
  get(path: string): NodeRecord | undefined;
  set(path: string, zxid: bigint, rec: NodeRecord | null): void;
  /** Ephemeral paths the view adds or removes for a session, on top of the tree's. */
  pendingEphemerals(sessionId: bigint, base: Set<string>): Set<string>;
}

function fromTree(tree: DataTree, path: string): NodeRecord | undefined {
  const n = tree.get(path);
  if (n === undefined) return undefined;
  return {
    version: n.version,
    cversion: n.cversion,
    aversion: n.aversion,
    ephemeralOwner: n.ephemeralOwner,
    childCount: n.numChildren,
    acl: n.acl,
    dataLength: n.data === null ? 0 : n.data.length,
  };
}

/** outstanding_changes_queued / _removed: records added by prep, and dropped once applied. */
export interface ChangeCounts {
  changesQueued: number;
  changesRemoved: number;
}

export class OutstandingChanges implements RecordView {
  private readonly byPath = new Map<string, Pending>();
  private order: { path: string; p: Pending }[] = [];
  private head = 0;

  constructor(
    private readonly tree: DataTree,
    private readonly counts: ChangeCounts = { changesQueued: 0, changesRemoved: 0 },
  ) {}

  get(path: string): NodeRecord | undefined {
    const p = this.byPath.get(path);
    if (p !== undefined) return p.rec ?? undefined;
    return fromTree(this.tree, path);
  }

  set(path: string, zxid: bigint, rec: NodeRecord | null): void {
    const p = { zxid, rec };
    this.byPath.set(path, p);
    this.order.push({ path, p });
    this.counts.changesQueued++;
  }

  pendingEphemerals(sessionId: bigint, base: Set<string>): Set<string> {
    for (let i = this.head; i < this.order.length; i++) {
      const { path, p } = this.order[i]!;
      if (this.byPath.get(path) !== p) continue;
      if (p.rec === null) base.delete(path);
      else if (p.rec.ephemeralOwner === sessionId) base.add(path);
    }
    return base;
  }

  /** Forgets records of txns up to and including `zxid` (they are in the tree now). */
  applied(zxid: bigint): void {
    let i = this.head;
    while (i < this.order.length && this.order[i]!.p.zxid <= zxid) {
      const { path, p } = this.order[i]!;
      if (this.byPath.get(path) === p) this.byPath.delete(path);
      i++;
    }
    this.counts.changesRemoved += i - this.head;
    if (i === this.order.length) {
      this.order = [];
      this.head = 0;
    } else {
      this.head = i;
      if (this.head > 1024 && this.head * 2 > this.order.length) {
        this.order = this.order.slice(this.head);
        this.head = 0;
      }
    }
  }

  get size(): number {
    return this.byPath.size;
  }
}

/** A scratch view over another, for the ops of one multi. */
export class ScratchChanges implements RecordView {
  private readonly local = new Map<string, { zxid: bigint; rec: NodeRecord | null }>();
  /** Every record set, in order: committed one by one, as ZooKeeper adds a multi's records. */
  private readonly sets: { path: string; zxid: bigint; rec: NodeRecord | null }[] = [];

  constructor(private readonly base: RecordView) {}

  get(path: string): NodeRecord | undefined {
    const l = this.local.get(path);
    if (l !== undefined) return l.rec ?? undefined;
    return this.base.get(path);
  }

  set(path: string, zxid: bigint, rec: NodeRecord | null): void {
    this.local.set(path, { zxid, rec });
    this.sets.push({ path, zxid, rec });
  }

  pendingEphemerals(sessionId: bigint, base: Set<string>): Set<string> {
    const out = this.base.pendingEphemerals(sessionId, base);
    for (const [path, l] of this.local) {
      if (l.rec === null) out.delete(path);
      else if (l.rec.ephemeralOwner === sessionId) out.add(path);
    }
    return out;
  }

  commit(): void {
    for (const l of this.sets) this.base.set(l.path, l.zxid, l.rec);
  }
}
