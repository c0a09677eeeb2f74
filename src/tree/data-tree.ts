// data-tree.ts — the replicated state: path → znode, ephemerals by session, containers and TTL
// nodes for the reaper, and the two watch tables. `processTxn` is the deterministic apply step:
// every replica applies the same txns in the same order and reaches the same tree. Apply never
// throws for a txn that does not fit the tree (as on replay over a fuzzy snapshot): it reports
// the ZooKeeper error code in the result, as ZooKeeper's DataTree does.
//
// How nodes are stored is this file's own business: everyone else reads and loads the tree
// through this API only (so the storage can change without touching them).
//   get(path): ZNode | undefined        a node's fields and numChildren, READ-ONLY and as of the
//                                       call (it may be a fresh copy or the tree's own object)
//   has(path): boolean
//   childNames(path): string[]          a fresh array (insertion order); [] for a leaf or no node
//   statOf(node: ZNode): Stat           the Stat clients see for a node from get
//   nodeCount: number
//   paths(): IterableIterator<string>   every path, order unspecified
//   entries(): IterableIterator<[string, ZNode]>   every node, order unspecified
//       Both iterators may be advanced across changes to the tree (FrozenTree does, while a
//       snapshot is written): a node present throughout is seen exactly once, one deleted before
//       it is reached is not seen, one added meanwhile may or may not be.
//   allChildrenNumber(path), approximateDataSize(), ephemeralsOf(sessionId), quotaFor(path)
//   processTxn(hdr, txn, digest?): TxnResult   the only way nodes change once loaded (plus
//       setCversionPzxid, setConfigNode and resetAcl, which ZooKeeper also does outside txns)
// Loading (a snapshot file, a leader's SNAP stream):
//   clear()                             no nodes at all (not even "/"), indexes emptied
//   loadNode(path, fields: NodeFields): string | null
//                                       puts a node under its parent (which must be there:
//                                       snapshots are in pre-order) and in the ephemeral,
//                                       container or TTL index; returns what is wrong instead.
//                                       fields.acl should come from tree.acls.intern.
//   resetDigest(), rebuildQuotas()      once the nodes are in
// Tree-internal (src/tree): digestState(path) for PendingDigests.
// changeObserver (NodeChangeObserver) is told before a node changes in place or goes.
// Not per-node storage, and public as before: the path indexes (ephemerals by session,
// containers, ttls), the ACL cache (acls), the quota index and the two watch tables.
import { Code } from '../protocol/codes.js';
import { EventType, OpCode } from '../protocol/opcodes.js';
import { baseName, parentOf } from '../protocol/paths.js';
import type { ACL, Stat } from '../protocol/records.js';
import { AclCache, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from './acl-cache.js';
import { DIGEST_VERSION, DigestSum, digestCrcOf, digestExcluded, statDigest, type DigestState, type TxnDigest, type ZxidDigest } from './digest.js';
import { CONTAINER_EPHEMERAL_OWNER, ephemeralKind, ttlOwner } from './ephemeral-type.js';
import type { Txn, TxnHeader } from './txn.js';
import { LIMIT_NODE, QUOTA_ROOT, QuotaIndex, STAT_NODE, StatsTrack, limitPath, statPath } from './quota.js';
import { WatchManager, WatchMode, type Watcher } from './watch-manager.js';
import { type NodeFields, type ZNode, nodeStat } from './znode.js';

export interface TxnResult {
  type: number;
  err: number;
  path: string | null;
  stat: Stat | null;
  multi: TxnResult[] | null;
}

/**
 * A node as the tree keeps it (today: one object per node, its child names in a Set). Only this
 * file sees it; get hands it out typed as the read-only ZNode.
 */
class StoredNode implements ZNode {
  data: Buffer | null;
  acl: readonly ACL[];
  czxid: bigint;
  mzxid: bigint;
  pzxid: bigint;
  ctime: number;
  mtime: number;
  version = 0;
  cversion = 0;
  aversion = 0;
  ephemeralOwner: bigint;
  children: Set<string> | null = null;
  /** CRC32 of the node's path and data, where its digest resumes (digest.ts). */
  digestCrc = 0;
  /** The node's digest as of its last change (int32 bits of the unsigned value). */
  digest = 0;

  constructor(data: Buffer | null, acl: readonly ACL[], zxid: bigint, time: number, ephemeralOwner: bigint) {
    this.data = data;
    this.acl = acl;
    this.czxid = zxid;
    this.mzxid = zxid;
    this.pzxid = zxid;
    this.ctime = time;
    this.mtime = time;
    this.ephemeralOwner = ephemeralOwner;
  }

  static from(f: NodeFields): StoredNode {
    const n = new StoredNode(f.data, f.acl, f.czxid, f.ctime, f.ephemeralOwner);
    n.mzxid = f.mzxid;
    n.pzxid = f.pzxid;
    n.mtime = f.mtime;
    n.version = f.version;
    n.cversion = f.cversion;
    n.aversion = f.aversion;
    return n;
  }

  get numChildren(): number {
    return this.children === null ? 0 : this.children.size;
  }

  addChild(name: string): void {
    (this.children ??= new Set()).add(name);
  }

  removeChild(name: string): void {
    this.children?.delete(name);
  }
}

/**
 * Told before a znode changes in place or is deleted. Storage sets one while it writes a snapshot
 * across event-loop turns, to keep each node as it was when the snapshot started (copy-on-write,
 * src/storage/frozen-tree.ts). Creates need no notice: a node created later has a later czxid.
 * `node` is the node as it is before the change; it may be a transient object: keep a copy.
 */
export interface NodeChangeObserver {
  beforeChange(path: string, node: ZNode, deleting: boolean): void;
}

export const ZOOKEEPER_PATH = '/zookeeper';
export const QUOTA_PATH = '/zookeeper/quota';
export const CONFIG_PATH = '/zookeeper/config';

/** Told of a digest mismatch, after digestMismatches counts it (who applies txns logs it). */
export type DigestMismatchListener = (zxid: bigint, expected: bigint, actual: bigint, count: number) => void;

/** DataTree.DIGEST_LOG_INTERVAL and DIGEST_LOG_LIMIT. */
const DIGEST_LOG_INTERVAL = 128n;
const DIGEST_LOG_LIMIT = 1024;

export class DataTree {
  /** path → node: nobody outside this file reads it (see the API at the top). */
  private readonly byPath = new Map<string, StoredNode>();
  /**
   * loadNode's last parent: a snapshot lists siblings one after another, so most nodes find
   * their parent here without a lookup in the map (a cache miss for most of a million-node
   * tree). Only a node that is in the map; forgotten when that node leaves it.
   */
  private loadParentPath: string | null = null;
  private loadParent: StoredNode | null = null;
  readonly ephemerals = new Map<bigint, Set<string>>();
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  readonly dataWatches = new WatchManager();
  readonly childWatches = new WatchManager();
  readonly acls = new AclCache();
  readonly quotas = new QuotaIndex();
  lastProcessedZxid = 0n;
  /** zookeeper.extendedTypesEnabled: TTL nodes. */
  readonly extendedTypesEnabled: boolean;
  /** See NodeChangeObserver; null when no snapshot is being written. */
  changeObserver: NodeChangeObserver | null = null;
  /** zookeeper.digest.enabled: the tree digest is kept (and so logged and checked). */
  readonly digestEnabled: boolean;
  private readonly digestSum = new DigestSum();
  /** digest_mismatches_count: txn or snapshot digests this tree did not match; anyone may report one. */
  digestMismatches = 0;
  onDigestMismatch: DigestMismatchListener | null = null;
  /** The digest after every 128th zxid, the newest 1024 (DataTree.digestLog, the `hash` command). */
  readonly digestLog: ZxidDigest[] = [];

  constructor(opts: { extendedTypesEnabled?: boolean; digestEnabled?: boolean } = {}) {
    this.extendedTypesEnabled = opts.extendedTypesEnabled ?? false;
    this.digestEnabled = opts.digestEnabled ?? true;
    const empty = Buffer.alloc(0);
    const root = new StoredNode(empty, OPEN_ACL_UNSAFE, 0n, 0, 0n);
    const proc = new StoredNode(empty, OPEN_ACL_UNSAFE, 0n, 0, 0n);
    const quota = new StoredNode(empty, OPEN_ACL_UNSAFE, 0n, 0, 0n);
    const config = new StoredNode(empty, READ_ACL_UNSAFE, 0n, 0, 0n);
    config.aversion = -1; // ZooKeeper sets its ACL with version -1 (DataTree.addConfigNode)
    root.addChild('zookeeper');
    proc.addChild('quota');
    proc.addChild('config');
    this.byPath.set('/', root);
    this.byPath.set(ZOOKEEPER_PATH, proc);
    this.byPath.set(QUOTA_PATH, quota);
    this.byPath.set(CONFIG_PATH, config);
    this.resetDigest();
  }

  // --- digest (digest.ts) ---------------------------------------------------------------------

  /** The tree digest after the last txn applied: signed 64-bit, as Java's long; 0 when disabled. */
  get digest(): bigint {
    return this.digestEnabled ? this.digestSum.value : 0n;
  }

  /** Recomputes every node's digest and the sum: after nodes were put in directly (a snapshot load). */
  resetDigest(): void {
    if (!this.digestEnabled) return;
    this.digestSum.set(0n);
    for (const [path, node] of this.byPath) {
      if (digestExcluded(path)) continue;
      node.digestCrc = digestCrcOf(path, node.data);
      node.digest = statDigest(node.digestCrc, node) | 0;
      this.digestSum.add(node.digest >>> 0);
    }
  }

  /** Before a node's stat or data changes, or it goes (NodeHashMap.preChange, remove). */
  private digestOut(path: string, node: StoredNode): void {
    if (this.digestEnabled && !digestExcluded(path)) this.digestSum.remove(node.digest >>> 0);
  }

  /** After a node changed, or is new (postChange, put); `dataChanged` when its data is new. */
  private digestIn(path: string, node: StoredNode, dataChanged: boolean): void {
    if (!this.digestEnabled || digestExcluded(path)) return;
    if (dataChanged) node.digestCrc = digestCrcOf(path, node.data);
    node.digest = statDigest(node.digestCrc, node) | 0;
    this.digestSum.add(node.digest >>> 0);
  }

  /**
   * DataTree.compareDigest: the digest a txn carries (the leader's, or the log's) against the
   * tree's after applying it. Another digest version is not compared. A mismatch is reported.
   */
  compareDigest(zxid: bigint, expected: TxnDigest): boolean {
    if (!this.digestEnabled || expected.version !== DIGEST_VERSION) return true;
    const actual = this.digest;
    if (actual === expected.treeDigest) return true;
    this.reportDigestMismatch(zxid, expected.treeDigest, actual);
    return false;
  }

  /** DataTree.reportDigestMismatch: counts it (digest_mismatches_count) and tells the listener. */
  reportDigestMismatch(zxid: bigint, expected: bigint, actual: bigint): void {
    this.digestMismatches++;
    this.onDigestMismatch?.(zxid, expected, actual, this.digestMismatches);
  }

  /**
   * The cached digest fields of a node, a fresh object (PendingDigests builds on it; for
   * src/tree only). Undefined when the node is missing.
   */
  digestState(path: string): DigestState | undefined {
    const n = this.byPath.get(path);
    if (n === undefined) return undefined;
    const excluded = digestExcluded(path);
    return {
      data: n.data,
      czxid: n.czxid,
      mzxid: n.mzxid,
      pzxid: n.pzxid,
      ctime: n.ctime,
      mtime: n.mtime,
      version: n.version,
      cversion: n.cversion,
      aversion: n.aversion,
      ephemeralOwner: n.ephemeralOwner,
      crc: excluded ? 0 : n.digestCrc,
      digest: excluded ? 0 : n.digest >>> 0,
    };
  }

  // --- reading (the API at the top) ----------------------------------------------------------

  /** The Stat clients see for a node. */
  statOf(node: ZNode): Stat {
    return nodeStat(node, this.extendedTypesEnabled);
  }

  private statOrNull(path: string): Stat | null {
    const n = this.byPath.get(path);
    return n === undefined ? null : this.statOf(n);
  }

  /** The node at `path`: read-only, as of this call (see ZNode). */
  get(path: string): ZNode | undefined {
    return this.byPath.get(path);
  }

  has(path: string): boolean {
    return this.byPath.has(path);
  }

  /** The names of the node's children, a fresh array; [] for a leaf or a missing node. */
  childNames(path: string): string[] {
    const kids = this.byPath.get(path)?.children;
    return kids === null || kids === undefined ? [] : Array.from(kids);
  }

  get nodeCount(): number {
    return this.byPath.size;
  }

  /** Every path, order unspecified (see the top of the file for changes while iterating). */
  paths(): IterableIterator<string> {
    return this.byPath.keys();
  }

  /** Every node with its path, order unspecified; the nodes are read-only (see ZNode). */
  entries(): IterableIterator<[string, ZNode]> {
    return this.byPath.entries();
  }

  /** Descendants of `path`, not counting itself (getAllChildrenNumber). */
  allChildrenNumber(path: string): number {
    if (path === '/') return this.byPath.size - 1;
    const prefix = path + '/';
    let n = 0;
    for (const k of this.byPath.keys()) if (k.startsWith(prefix)) n++;
    return n;
  }

  ephemeralsOf(sessionId: bigint): ReadonlySet<string> {
    return this.ephemerals.get(sessionId) ?? new Set();
  }

  /** Sum of path lengths and data lengths, as ZooKeeper's approximateDataSize. */
  approximateDataSize(): number {
    let n = 0;
    for (const [path, node] of this.byPath) n += path.length + (node.data === null ? 0 : node.data.length);
    return n;
  }

  // --- loading (a snapshot file, a leader's SNAP stream) ----------------------------------------

  /** Leaves no node at all, not even the root, and empty indexes: what loadNode starts from. */
  clear(): void {
    this.byPath.clear();
    this.ephemerals.clear();
    this.containers.clear();
    this.ttls.clear();
    this.quotas.clear();
    this.loadParentPath = null;
    this.loadParent = null;
    if (this.digestEnabled) this.digestSum.set(0n);
  }

  /**
   * Puts a node read from a snapshot in, the way DataTree.deserialize does: linked under its
   * parent (which must already be there: snapshots are in pre-order) and entered in the
   * ephemeral, container or TTL index its ephemeralOwner selects. A path already there is
   * replaced. The digest and quotas are not kept up: call resetDigest and rebuildQuotas once
   * every node is in. Returns what is wrong instead when the path cannot go in.
   */
  loadNode(path: string, fields: NodeFields): string | null {
    const node = StoredNode.from(fields);
    if (path !== '/') {
      if (!path.startsWith('/') || path.endsWith('/')) return `invalid node path "${path}"`;
      const parentPath = parentOf(path);
      let parent: StoredNode | null | undefined = this.loadParentPath === parentPath ? this.loadParent : undefined;
      if (parent === undefined || parent === null) {
        parent = this.byPath.get(parentPath);
        if (parent === undefined) return `Invalid Datatree, unable to find parent ${parentPath} of path ${path}`;
        this.loadParentPath = parentPath;
        this.loadParent = parent;
      }
      parent.addChild(baseName(path));
    }
    this.byPath.set(path, node);
    if (this.loadParentPath === path) this.loadParent = node; // a path listed twice: the new node wins
    if (path !== '/') this.index(path, node.ephemeralOwner);
    return null;
  }

  /** Enters a node in the ephemeral, container or TTL index its owner selects. */
  private index(path: string, ephemeralOwner: bigint): void {
    switch (ephemeralKind(ephemeralOwner, this.extendedTypesEnabled)) {
      case 'container':
        this.containers.add(path);
        break;
      case 'ttl':
        this.ttls.add(path);
        break;
      case 'normal': {
        let set = this.ephemerals.get(ephemeralOwner);
        if (set === undefined) {
          set = new Set();
          this.ephemerals.set(ephemeralOwner, set);
        }
        set.add(path);
        break;
      }
      default:
        break;
    }
  }

  /**
   * Applies a txn. With `digest` (the TxnDigest it came with), the tree's digest after it is
   * compared with it (DataTree.processTxn(hdr, txn, digest)).
   */
  processTxn(hdr: TxnHeader, txn: Txn, digest?: TxnDigest | null): TxnResult {
    const rc = this.applyOne(hdr, txn);
    if (hdr.zxid > this.lastProcessedZxid) this.lastProcessedZxid = hdr.zxid;
    if (this.digestEnabled) {
      if (hdr.zxid % DIGEST_LOG_INTERVAL === 0n) {
        this.digestLog.push({ zxid: hdr.zxid, digest: this.digest });
        if (this.digestLog.length > DIGEST_LOG_LIMIT) this.digestLog.shift();
      }
      if (digest !== undefined && digest !== null) this.compareDigest(hdr.zxid, digest);
    }
    return rc;
  }

  private applyOne(hdr: TxnHeader, txn: Txn): TxnResult {
    const rc: TxnResult = { type: hdr.type, err: 0, path: null, stat: null, multi: null };
    switch (txn.type) {
      case OpCode.create:
      case OpCode.create2:
        rc.path = txn.path;
        rc.err = this.createNode(txn.path, txn.data, txn.acl, txn.ephemeral ? hdr.clientId : 0n, txn.parentCVersion, hdr.zxid, hdr.time, rc);
        break;
      case OpCode.createContainer:
        rc.path = txn.path;
        rc.err = this.createNode(txn.path, txn.data, txn.acl, CONTAINER_EPHEMERAL_OWNER, txn.parentCVersion, hdr.zxid, hdr.time, rc);
        break;
      case OpCode.createTTL:
        rc.path = txn.path;
        rc.err = this.createNode(txn.path, txn.data, txn.acl, ttlOwner(txn.ttl), txn.parentCVersion, hdr.zxid, hdr.time, rc);
        break;
      case OpCode.delete:
      case OpCode.deleteContainer:
        rc.path = txn.path;
        rc.err = this.deleteNode(txn.path, hdr.zxid);
        break;
      case OpCode.setData:
        rc.path = txn.path;
        rc.err = this.setData(txn.path, txn.data, txn.version, hdr.zxid, hdr.time, rc);
        break;
      case OpCode.setACL:
        rc.path = txn.path;
        rc.err = this.setAcl(txn.path, txn.acl, txn.version, rc);
        break;
      case OpCode.check:
        rc.path = txn.path;
        rc.stat = this.statOrNull(txn.path);
        break;
      case OpCode.closeSession:
        this.killSession(hdr.clientId, hdr.zxid, txn.paths2Delete);
        break;
      case OpCode.createSession:
        break;
      case OpCode.error:
        rc.err = txn.err;
        break;
      case OpCode.multi:
        rc.multi = this.applyMulti(hdr, txn.txns);
        for (const sub of rc.multi) {
          if (sub.err !== 0) {
            rc.err = sub.err;
            break;
          }
        }
        break;
    }
    // A create that finds its node (only on replay over a fuzzy snapshot: the node was deleted
    // and created again after the parent was serialized) still raises the parent's cversion and
    // pzxid, else the next sequential name would be one already taken (ZOOKEEPER-1046).
    if (hdr.type === OpCode.create && txn.type === OpCode.create && rc.err === Code.NodeExists) {
      if (!this.setCversionPzxid(parentOf(txn.path), txn.parentCVersion, hdr.zxid)) rc.err = Code.NoNode;
    }
    return rc;
  }

  /** DataTree.setCversionPzxid: raises a node's cversion (-1: by one) with its pzxid; false if it is missing. */
  setCversionPzxid(path: string, newCversion: number, zxid: bigint): boolean {
    const node = this.byPath.get(path);
    if (node === undefined) return false;
    if (newCversion === -1) newCversion = node.cversion + 1;
    if (newCversion > node.cversion) {
      this.changeObserver?.beforeChange(path, node, false);
      this.digestOut(path, node);
      node.cversion = newCversion;
      node.pzxid = zxid;
      this.digestIn(path, node, false);
    }
    return true;
  }

  /**
   * A multi applies all its txns or, when prep failed one of them, none: then each op reports
   * OK before the failed one, its code at it, and RuntimeInconsistency after (as ZooKeeper).
   */
  private applyMulti(hdr: TxnHeader, txns: Txn[]): TxnResult[] {
    const failed = txns.some((t) => t.type === OpCode.error);
    const out: TxnResult[] = [];
    let postFailed = false;
    for (const sub of txns) {
      let t = sub;
      if (failed && t.type !== OpCode.error) {
        t = { type: OpCode.error, err: postFailed ? Code.RuntimeInconsistency : Code.OK };
      } else if (t.type === OpCode.error) {
        postFailed = true;
      }
      out.push(this.applyOne({ ...hdr, type: t.type }, t));
    }
    return out;
  }

  private createNode(
    path: string,
    data: Buffer | null,
    acl: readonly ACL[],
    ephemeralOwner: bigint,
    parentCVersion: number,
    zxid: bigint,
    time: number,
    rc: TxnResult,
  ): number {
    const parentPath = parentOf(path);
    const parent = this.byPath.get(parentPath);
    if (parent === undefined) return Code.NoNode;
    const name = baseName(path);
    if (parent.children?.has(name)) return Code.NodeExists;
    this.changeObserver?.beforeChange(parentPath, parent, false);
    if (parentCVersion === -1) parentCVersion = parent.cversion + 1;
    if (parentCVersion > parent.cversion) {
      this.digestOut(parentPath, parent);
      parent.cversion = parentCVersion;
      parent.pzxid = zxid;
      this.digestIn(parentPath, parent, false);
    }
    const node = new StoredNode(data, this.acls.intern(acl), zxid, time, ephemeralOwner);
    parent.addChild(name);
    this.byPath.set(path, node);
    this.digestIn(path, node, true);
    this.index(path, ephemeralOwner);
    if (parentPath.startsWith(QUOTA_ROOT)) {
      if (name === LIMIT_NODE) this.quotas.add(parentPath.substring(QUOTA_ROOT.length));
      if (name === STAT_NODE) this.recountQuota(parentPath.substring(QUOTA_ROOT.length));
    }
    this.updateQuotaStat(path, BigInt(data === null ? 0 : data.length), 1n);
    rc.stat = this.statOf(node);
    this.dataWatches.trigger(path, EventType.NodeCreated, zxid, node.acl);
    this.childWatches.trigger(parentPath, EventType.NodeChildrenChanged, zxid, parent.acl);
    return Code.OK;
  }

  /**
   * Deletes a node. As DataTree.deleteNode, the parent's pzxid moves up to the txn's even when
   * the node is already gone (on replay over a fuzzy snapshot, ZOOKEEPER-3125), then NoNode.
   */
  private deleteNode(path: string, zxid: bigint): number {
    const parentPath = parentOf(path);
    const parent = this.byPath.get(parentPath);
    if (parent === undefined) return Code.NoNode;
    const node = this.byPath.get(path);
    this.changeObserver?.beforeChange(parentPath, parent, false);
    if (node !== undefined) this.changeObserver?.beforeChange(path, node, true);
    parent.removeChild(baseName(path));
    if (zxid > parent.pzxid) {
      this.digestOut(parentPath, parent);
      parent.pzxid = zxid;
      this.digestIn(parentPath, parent, false);
    }
    if (node === undefined) return Code.NoNode;
    this.digestOut(path, node);
    this.byPath.delete(path);
    if (this.loadParent === node) {
      this.loadParentPath = null;
      this.loadParent = null;
    }
    switch (ephemeralKind(node.ephemeralOwner, this.extendedTypesEnabled)) {
      case 'container':
        this.containers.delete(path);
        break;
      case 'ttl':
        this.ttls.delete(path);
        break;
      case 'normal': {
        const set = this.ephemerals.get(node.ephemeralOwner);
        set?.delete(path);
        if (set !== undefined && set.size === 0) this.ephemerals.delete(node.ephemeralOwner);
        break;
      }
      default:
        break;
    }
    if (parentPath.startsWith(QUOTA_ROOT) && baseName(path) === LIMIT_NODE) {
      this.quotas.delete(parentPath.substring(QUOTA_ROOT.length));
    }
    this.updateQuotaStat(path, -BigInt(node.data === null ? 0 : node.data.length), -1n);
    const notified = this.dataWatches.trigger(path, EventType.NodeDeleted, zxid, node.acl);
    this.childWatches.trigger(path, EventType.NodeDeleted, zxid, node.acl, notified);
    this.childWatches.trigger(parentPath, EventType.NodeChildrenChanged, zxid, parent.acl);
    return Code.OK;
  }

  /**
   * ZKDatabase.initConfigInZKDatabase: an ensemble member keeps its own config in
   * /zookeeper/config, set outside any txn (version -1, mzxid the config's version).
   */
  setConfigNode(text: string, configVersion: bigint, time: number): void {
    const rc: TxnResult = { type: OpCode.setData, err: 0, path: null, stat: null, multi: null };
    this.setData(CONFIG_PATH, Buffer.from(text, 'utf8'), -1, configVersion, time, rc);
  }

  private setData(path: string, data: Buffer | null, version: number, zxid: bigint, time: number, rc: TxnResult): number {
    const node = this.byPath.get(path);
    if (node === undefined) return Code.NoNode;
    this.changeObserver?.beforeChange(path, node, false);
    const bytesDiff = (data === null ? 0 : data.length) - (node.data === null ? 0 : node.data.length);
    this.digestOut(path, node);
    node.data = data;
    node.mtime = time;
    node.mzxid = zxid;
    node.version = version;
    this.digestIn(path, node, true);
    this.updateQuotaStat(path, BigInt(bytesDiff), 0n);
    rc.stat = this.statOf(node);
    this.dataWatches.trigger(path, EventType.NodeDataChanged, zxid, node.acl);
    return Code.OK;
  }

  private setAcl(path: string, acl: readonly ACL[], version: number, rc: TxnResult): number {
    const node = this.byPath.get(path);
    if (node === undefined) return Code.NoNode;
    this.changeObserver?.beforeChange(path, node, false);
    node.acl = this.acls.intern(acl);
    this.digestOut(path, node);
    node.aversion = version;
    this.digestIn(path, node, false);
    rc.stat = this.statOf(node);
    return Code.OK;
  }

  /**
   * Sets a node's ACL outside any txn, its stat as it is: a create replayed over a fuzzy
   * snapshot that finds its node takes the txn's ACL (src/storage/replay.ts).
   */
  resetAcl(path: string, acl: readonly ACL[]): void {
    const node = this.byPath.get(path);
    if (node === undefined) return;
    this.changeObserver?.beforeChange(path, node, false);
    node.acl = this.acls.intern(acl);
  }

  /** Deletes a closed session's ephemerals (the txn's list, else what the tree knows). */
  private killSession(sessionId: bigint, zxid: bigint, paths2Delete: readonly string[] | null): void {
    const paths = paths2Delete ?? [...this.ephemeralsOf(sessionId)];
    for (const p of paths) this.deleteNode(p, zxid);
    this.ephemerals.delete(sessionId);
  }

  // --- quotas ------------------------------------------------------------------------------

  /** The quota limits and usage that cover `path`, if any. */
  quotaFor(path: string): { prefix: string; limits: StatsTrack; usage: StatsTrack } | null {
    const prefix = this.quotas.maxPrefix(path);
    if (prefix === null) return null;
    const limits = this.byPath.get(limitPath(prefix));
    const usage = this.byPath.get(statPath(prefix));
    if (limits === undefined || usage === undefined) return null;
    return { prefix, limits: new StatsTrack(limits.data?.toString('utf8') ?? ''), usage: new StatsTrack(usage.data?.toString('utf8') ?? '') };
  }

  private updateQuotaStat(path: string, bytesDiff: bigint, countDiff: bigint): void {
    const prefix = this.quotas.maxPrefix(path);
    if (prefix === null) return;
    const node = this.byPath.get(statPath(prefix));
    if (node === undefined) return;
    this.changeObserver?.beforeChange(statPath(prefix), node, false);
    const st = new StatsTrack(node.data?.toString('utf8') ?? '');
    st.set('count', st.get('count') + countDiff);
    st.set('bytes', st.get('bytes') + bytesDiff);
    node.data = Buffer.from(st.toString());
  }

  /** Sets a quota's usage from the subtree it covers (node count including itself, data bytes). */
  private recountQuota(path: string): void {
    const node = this.byPath.get(statPath(path));
    if (node === undefined) return;
    let count = 0n;
    let bytes = 0n;
    const walk = (p: string): void => {
      const n = this.byPath.get(p);
      if (n === undefined) return;
      count++;
      bytes += BigInt(n.data === null ? 0 : n.data.length);
      for (const c of n.children ?? []) walk(p === '/' ? `/${c}` : `${p}/${c}`);
    };
    walk(path);
    const st = new StatsTrack();
    st.set('count', count);
    st.set('bytes', bytes);
    this.changeObserver?.beforeChange(statPath(path), node, false);
    node.data = Buffer.from(st.toString());
  }

  /** After loading a tree from disk: find every quota and recount its usage (setupQuota). */
  rebuildQuotas(): void {
    const suffix = `/${LIMIT_NODE}`;
    for (const p of this.byPath.keys()) {
      if (!p.startsWith(QUOTA_ROOT + '/') || !p.endsWith(suffix)) continue;
      const real = p.substring(QUOTA_ROOT.length, p.length - suffix.length);
      this.quotas.add(real);
      this.recountQuota(real);
    }
  }

  // --- watches -----------------------------------------------------------------------------

  /** exists/getData watch (exists on a missing node too). */
  addDataWatch(path: string, w: Watcher): void {
    this.dataWatches.add(path, w, WatchMode.STANDARD);
  }

  addChildWatch(path: string, w: Watcher): void {
    this.childWatches.add(path, w, WatchMode.STANDARD);
  }

  /** addWatch: persistent goes in both tables; recursive only in the data table. */
  addPersistentWatch(path: string, w: Watcher, recursive: boolean): void {
    if (recursive) {
      this.dataWatches.add(path, w, WatchMode.PERSISTENT_RECURSIVE);
    } else {
      this.dataWatches.add(path, w, WatchMode.PERSISTENT);
      this.childWatches.add(path, w, WatchMode.PERSISTENT);
    }
  }

  removeWatcher(w: Watcher): void {
    this.dataWatches.removeWatcher(w);
    this.childWatches.removeWatcher(w);
  }

  /** setWatches after a reconnect: fire what changed since `relativeZxid`, re-arm the rest. */
  setWatches(
    relativeZxid: bigint,
    w: Watcher,
    lists: { data: string[]; exist: string[]; child: string[]; persistent: string[]; recursive: string[] },
  ): void {
    for (const path of lists.data) {
      const node = this.byPath.get(path);
      if (node === undefined) w.process(EventType.NodeDeleted, path, -1n, null);
      else if (node.mzxid > relativeZxid) w.process(EventType.NodeDataChanged, path, -1n, node.acl);
      else this.dataWatches.add(path, w, WatchMode.STANDARD);
    }
    for (const path of lists.exist) {
      const node = this.byPath.get(path);
      if (node !== undefined) w.process(EventType.NodeCreated, path, -1n, node.acl);
      else this.dataWatches.add(path, w, WatchMode.STANDARD);
    }
    for (const path of lists.child) {
      const node = this.byPath.get(path);
      if (node === undefined) w.process(EventType.NodeDeleted, path, -1n, null);
      else if (node.pzxid > relativeZxid) w.process(EventType.NodeChildrenChanged, path, -1n, node.acl);
      else this.childWatches.add(path, w, WatchMode.STANDARD);
    }
    for (const path of lists.persistent) this.addPersistentWatch(path, w, false);
    for (const path of lists.recursive) this.addPersistentWatch(path, w, true);
  }
}
