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
import { DIGEST_VERSION, DigestSum, crc32, digestCrcOf, digestExcluded, statDigest, type DigestFields, type DigestState, type TxnDigest, type ZxidDigest } from './digest.js';
import { NONE, NodeStore, ROOT } from './node-store.js';
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

const SLASH = Buffer.from('/');

/** The CRC32 of a path and data from the path's. */
function digestCrcOfData(pathCrc: number, data: Buffer | null): number {
  return data === null || data.length === 0 ? pathCrc : crc32(data, pathCrc);
}

/** DataTree.DIGEST_LOG_INTERVAL and DIGEST_LOG_LIMIT. */
const DIGEST_LOG_INTERVAL = 128n;
const DIGEST_LOG_LIMIT = 1024;

export class DataTree {
  /**
   * The nodes (node-store.ts: columns, no object per znode): nobody outside this file reads it
   * (see the API at the top). Its root is the tree's "/", absent after clear() until loaded.
   */
  private readonly store = new NodeStore();
  private rootPresent = true;
  /** idOf's last hit, valid while store.removals stays memoRemovals. */
  private memoPath = '';
  private memoId = NONE;
  private memoRemovals = -1;
  /** loadNode's last parent (a snapshot lists siblings one after another); forgotten on any delete. */
  private loadParentPath: string | null = null;
  private loadParent = NONE;
  /** Digest scratch: the fields of the node being hashed (statDigest reads them). */
  private readonly df: DigestFields = { data: null, czxid: 0n, mzxid: 0n, pzxid: 0n, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n };
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
    const s = this.store;
    const empty = Buffer.alloc(0);
    const open = this.acls.idOf(OPEN_ACL_UNSAFE);
    const proc = s.create(ROOT, 'zookeeper', empty, open, 0n, 0, 0n);
    s.create(proc, 'quota', empty, open, 0n, 0, 0n);
    const config = s.create(proc, 'config', empty, this.acls.idOf(READ_ACL_UNSAFE), 0n, 0, 0n);
    s.setAversion(config, -1); // ZooKeeper sets its ACL with version -1 (DataTree.addConfigNode)
    this.resetDigest();
  }

  /**
   * The node's id, or NONE. The last path found is remembered while no node is removed (a
   * removal may free its id): callers often ask twice in a row (get then childNames).
   */
  private idOf(path: string): number {
    const s = this.store;
    if (path === this.memoPath && s.removals === this.memoRemovals) return this.memoId;
    const id = s.lookup(path);
    if (id === ROOT && !this.rootPresent) return NONE;
    if (id !== NONE) {
      this.memoPath = path;
      this.memoId = id;
      this.memoRemovals = s.removals;
    }
    return id;
  }

  // --- digest (digest.ts) ---------------------------------------------------------------------

  /** The tree digest after the last txn applied: signed 64-bit, as Java's long; 0 when disabled. */
  get digest(): bigint {
    return this.digestEnabled ? this.digestSum.value : 0n;
  }

  /** Recomputes the sum from every node: after nodes were put in directly (a snapshot load). */
  resetDigest(): void {
    if (!this.digestEnabled) return;
    this.digestSum.set(0n);
    if (!this.rootPresent) return;
    this.digestSum.add(this.keepDigest(ROOT, this.nodeDigestOf('/', ROOT, -1)));
    this.digestChildren(ROOT, 0);
  }

  /**
   * Adds the digests of a node's descendants to the sum. Each path's CRC32 continues its
   * parent's (CRC32 is a running sum: crc("/a/b") = crc("b", crc("/", crc("/a")))), so no path
   * string is built. Descendants of /zookeeper count 0.
   */
  private digestChildren(id: number, pathCrc: number): void {
    const s = this.store;
    const slashCrc = crc32(SLASH, pathCrc);
    for (let c = s.firstChild(id); c !== NONE; c = s.nextSibling(c)) {
      const crc = crc32(s.nameBytes(c), slashCrc);
      this.digestSum.add(this.keepDigest(c, this.nodeDigestOf('', c, digestCrcOfData(crc, s.data(c)))));
      if (id === ROOT && s.name(c) === 'zookeeper') continue;
      if (s.numChildren(c) > 0) this.digestChildren(c, crc);
    }
  }

  /** CRC32 of the node's path and data, where its digest resumes. */
  private crcOf(path: string, id: number): number {
    return digestCrcOf(path, this.store.data(id));
  }

  /** The node's digest (unsigned) from its fields now; `crc` of path and data if known, else -1. */
  private nodeDigestOf(path: string, id: number, crc: number): number {
    const s = this.store;
    const f = this.df;
    f.czxid = s.czxid(id);
    f.mzxid = s.mzxid(id);
    f.pzxid = s.pzxid(id);
    f.ctime = s.ctime(id);
    f.mtime = s.mtime(id);
    f.version = s.version(id);
    f.cversion = s.cversion(id);
    f.aversion = s.aversion(id);
    f.ephemeralOwner = s.ephemeralOwner(id);
    return statDigest(crc === -1 ? this.crcOf(path, id) : crc, f);
  }

  /** Keeps a node's digest (unsigned) in the store, where digestOut finds it; returns it. */
  private keepDigest(id: number, digest: number): number {
    this.store.setTag(id, digest | 0);
    return digest;
  }

  /**
   * Before a node's stat or data changes, or it goes (NodeHashMap.preChange, remove): its digest,
   * kept since its last change, leaves the sum.
   */
  private digestOut(path: string, id: number): void {
    if (this.digestEnabled && !digestExcluded(path)) this.digestSum.remove(this.store.tag(id) >>> 0);
  }

  /** After a node changed, or is new (postChange, put): its digest from its fields now, kept and added. */
  private digestIn(path: string, id: number): void {
    if (!this.digestEnabled || digestExcluded(path)) return;
    this.digestSum.add(this.keepDigest(id, this.nodeDigestOf(path, id, -1)));
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
   * The digest fields of a node with the CRC32 of its path and data and its digest, a fresh
   * object (PendingDigests builds on it; for src/tree only). Undefined when the node is missing.
   */
  digestState(path: string): DigestState | undefined {
    const id = this.idOf(path);
    if (id === NONE) return undefined;
    const s = this.store;
    const excluded = digestExcluded(path);
    const crc = excluded ? 0 : this.crcOf(path, id);
    return {
      data: s.data(id),
      czxid: s.czxid(id),
      mzxid: s.mzxid(id),
      pzxid: s.pzxid(id),
      ctime: s.ctime(id),
      mtime: s.mtime(id),
      version: s.version(id),
      cversion: s.cversion(id),
      aversion: s.aversion(id),
      ephemeralOwner: s.ephemeralOwner(id),
      crc,
      digest: excluded ? 0 : s.tag(id) >>> 0,
    };
  }

  // --- reading (the API at the top) ----------------------------------------------------------

  /** The Stat clients see for a node. */
  statOf(node: ZNode): Stat {
    return nodeStat(node, this.extendedTypesEnabled);
  }

  /** The Stat clients see for the node with this id (nodeStat, from the columns). */
  private statAt(id: number): Stat {
    const s = this.store;
    const numChildren = s.numChildren(id);
    const owner = s.ephemeralOwner(id);
    return {
      czxid: s.czxid(id),
      mzxid: s.mzxid(id),
      ctime: BigInt(s.ctime(id)),
      mtime: BigInt(s.mtime(id)),
      version: s.version(id),
      cversion: (s.cversion(id) * 2 - numChildren) | 0,
      aversion: s.aversion(id),
      ephemeralOwner: owner === 0n || ephemeralKind(owner, this.extendedTypesEnabled) === 'normal' ? owner : 0n,
      dataLength: s.dataLength(id),
      numChildren,
      pzxid: s.pzxid(id),
    };
  }

  private statOrNull(path: string): Stat | null {
    const id = this.idOf(path);
    return id === NONE ? null : this.statAt(id);
  }

  /** A fresh read-only copy of the node's fields. */
  private nodeAt(id: number): ZNode {
    const s = this.store;
    return {
      data: s.data(id),
      acl: this.acls.list(s.acl(id)),
      czxid: s.czxid(id),
      mzxid: s.mzxid(id),
      pzxid: s.pzxid(id),
      ctime: s.ctime(id),
      mtime: s.mtime(id),
      version: s.version(id),
      cversion: s.cversion(id),
      aversion: s.aversion(id),
      ephemeralOwner: s.ephemeralOwner(id),
      numChildren: s.numChildren(id),
    };
  }

  /** The node at `path`: a fresh read-only copy, as of this call (see ZNode). */
  get(path: string): ZNode | undefined {
    const id = this.idOf(path);
    return id === NONE ? undefined : this.nodeAt(id);
  }

  has(path: string): boolean {
    return this.idOf(path) !== NONE;
  }

  /** The names of the node's children, a fresh array (creation order); [] for a leaf or a missing node. */
  childNames(path: string): string[] {
    const id = this.idOf(path);
    return id === NONE ? [] : this.store.childNames(id);
  }

  get nodeCount(): number {
    return this.rootPresent ? this.store.size : 0;
  }

  /**
   * Every node's id with its path, in id order (unspecified for callers). Ids stay put while a
   * node lives, so the walk may be advanced across changes: a node present throughout is seen
   * once, one deleted before it is reached is not seen, one added meanwhile (maybe under a
   * reused id) may or may not be.
   */
  private *idPaths(): Generator<[number, string]> {
    if (!this.rootPresent) return;
    const s = this.store;
    // Siblings mostly have neighbouring ids: their parent's path is built once per run of them,
    // and kept while no node is removed (a removed parent's id may come back as another node).
    let parent = NONE;
    let parentPath = '';
    let removals = -1;
    for (let id = 0; id < s.idLimit; id++) {
      if (!s.exists(id)) continue;
      if (id === ROOT) {
        yield [id, '/'];
        continue;
      }
      const p = s.parent(id);
      if (p !== parent || s.removals !== removals) {
        parent = p;
        parentPath = p === ROOT ? '' : s.path(p);
        removals = s.removals;
      }
      yield [id, `${parentPath}/${s.name(id)}`];
    }
  }

  /** Every path, order unspecified (see the top of the file for changes while iterating). */
  *paths(): IterableIterator<string> {
    for (const [, path] of this.idPaths()) yield path;
  }

  /** Every node with its path, order unspecified; each node a fresh read-only copy (see ZNode). */
  *entries(): IterableIterator<[string, ZNode]> {
    for (const [id, path] of this.idPaths()) yield [path, this.nodeAt(id)];
  }

  /** Descendants of `path`, not counting itself (getAllChildrenNumber). */
  allChildrenNumber(path: string): number {
    const id = this.idOf(path);
    if (id === NONE) return 0;
    if (id === ROOT) return this.store.size - 1;
    let n = 0;
    const s = this.store;
    const count = (p: number): void => {
      for (let c = s.firstChild(p); c !== NONE; c = s.nextSibling(c)) {
        n++;
        count(c);
      }
    };
    count(id);
    return n;
  }

  ephemeralsOf(sessionId: bigint): ReadonlySet<string> {
    return this.ephemerals.get(sessionId) ?? new Set();
  }

  /** Sum of path lengths and data lengths, as ZooKeeper's approximateDataSize. */
  approximateDataSize(): number {
    let n = 0;
    if (this.rootPresent) this.store.walk((id, path) => (n += path.length + this.store.dataLength(id)));
    return n;
  }

  /** What the node store holds (bench/tree-memory.ts). */
  storeMemory(): ReturnType<NodeStore['memory']> {
    return this.store.memory();
  }

  // --- loading (a snapshot file, a leader's SNAP stream) ----------------------------------------

  /** Leaves no node at all, not even the root, and empty indexes: what loadNode starts from. */
  clear(): void {
    this.store.clear();
    this.rootPresent = false;
    this.ephemerals.clear();
    this.containers.clear();
    this.ttls.clear();
    this.quotas.clear();
    this.loadParentPath = null;
    this.loadParent = NONE;
    if (this.digestEnabled) this.digestSum.set(0n);
  }

  /**
   * Puts a node read from a snapshot in, the way DataTree.deserialize does: linked under its
   * parent (which must already be there: snapshots are in pre-order) and entered in the
   * ephemeral, container or TTL index its ephemeralOwner selects. A path already there is
   * replaced. The digest and quotas are not kept up: call resetDigest and rebuildQuotas once
   * every node is in. Returns what is wrong instead when the path cannot go in. The data is
   * copied into the tree's own store: a view into a file or frame buffer is fine.
   */
  loadNode(path: string, fields: NodeFields): string | null {
    const acl = this.acls.idOf(fields.acl);
    if (path === '/') {
      this.store.load(NONE, '', fields, acl);
      this.rootPresent = true;
      return null;
    }
    if (!path.startsWith('/') || path.endsWith('/')) return `invalid node path "${path}"`;
    const parentPath = parentOf(path);
    let parent = this.loadParentPath === parentPath ? this.loadParent : NONE;
    if (parent === NONE) {
      parent = this.idOf(parentPath);
      if (parent === NONE) return `Invalid Datatree, unable to find parent ${parentPath} of path ${path}`;
      this.loadParentPath = parentPath;
      this.loadParent = parent;
    }
    const name = baseName(path);
    if (name === '') return `invalid node path "${path}"`;
    this.store.load(parent, name, fields, acl);
    this.index(path, fields.ephemeralOwner);
    return null;
  }

  /** Enters a node in the ephemeral, container or TTL index its owner selects. */
  private index(path: string, ephemeralOwner: bigint): void {
    if (ephemeralOwner === 0n) return;
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

  /** Takes a node out of the index its owner selects. */
  private unindex(path: string, ephemeralOwner: bigint): void {
    if (ephemeralOwner === 0n) return;
    switch (ephemeralKind(ephemeralOwner, this.extendedTypesEnabled)) {
      case 'container':
        this.containers.delete(path);
        break;
      case 'ttl':
        this.ttls.delete(path);
        break;
      case 'normal': {
        const set = this.ephemerals.get(ephemeralOwner);
        set?.delete(path);
        if (set !== undefined && set.size === 0) this.ephemerals.delete(ephemeralOwner);
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
    const id = this.idOf(path);
    if (id === NONE) return false;
    this.raiseCversion(path, id, newCversion, zxid, true);
    return true;
  }

  /** Raises the node's cversion (-1: by one) with its pzxid when higher; tells the observer first if `tell`. */
  private raiseCversion(path: string, id: number, newCversion: number, zxid: bigint, tell: boolean): void {
    const s = this.store;
    const cversion = s.cversion(id);
    if (newCversion === -1) newCversion = cversion + 1;
    if (newCversion <= cversion) return;
    if (tell) this.beforeChange(path, id, false);
    this.digestOut(path, id);
    s.setCversion(id, newCversion);
    s.setPzxid(id, zxid);
    this.digestIn(path, id);
  }

  /** Tells the change observer (a snapshot being written) of a change to come, with a copy of the node. */
  private beforeChange(path: string, id: number, deleting: boolean): void {
    if (this.changeObserver !== null) this.changeObserver.beforeChange(path, this.nodeAt(id), deleting);
  }

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
    const s = this.store;
    const parentPath = parentOf(path);
    const parent = this.idOf(parentPath);
    if (parent === NONE) return Code.NoNode;
    const name = baseName(path);
    const aclId = this.acls.idOf(acl);
    // Created first (one lookup of the name, not two): the parent's fields are not touched by
    // it, only its child list, so the observer still sees them as before the txn.
    const id = s.create(parent, name, data, aclId, zxid, time, ephemeralOwner);
    if (id === NONE) return Code.NodeExists;
    this.beforeChange(parentPath, parent, false);
    this.raiseCversion(parentPath, parent, parentCVersion, zxid, false);
    this.digestIn(path, id);
    this.index(path, ephemeralOwner);
    if (parentPath.startsWith(QUOTA_ROOT)) {
      if (name === LIMIT_NODE) this.quotas.add(parentPath.substring(QUOTA_ROOT.length));
      if (name === STAT_NODE) this.recountQuota(parentPath.substring(QUOTA_ROOT.length));
    }
    this.updateQuotaStat(path, BigInt(data === null ? 0 : data.length), 1n);
    rc.stat = this.statAt(id);
    this.dataWatches.trigger(path, EventType.NodeCreated, zxid, this.acls.list(aclId));
    this.childWatches.trigger(parentPath, EventType.NodeChildrenChanged, zxid, this.acls.list(s.acl(parent)));
    return Code.OK;
  }

  /**
   * Deletes a node. As DataTree.deleteNode, the parent's pzxid moves up to the txn's even when
   * the node is already gone (on replay over a fuzzy snapshot, ZOOKEEPER-3125), then NoNode.
   */
  private deleteNode(path: string, zxid: bigint): number {
    const s = this.store;
    const parentPath = parentOf(path);
    const parent = this.idOf(parentPath);
    if (parent === NONE) return Code.NoNode;
    const id = this.idOf(path);
    this.beforeChange(parentPath, parent, false);
    if (id !== NONE) this.beforeChange(path, id, true);
    if (zxid > s.pzxid(parent)) {
      this.digestOut(parentPath, parent);
      s.setPzxid(parent, zxid);
      this.digestIn(parentPath, parent);
    }
    if (id === NONE) return Code.NoNode;
    const acl = this.acls.list(s.acl(id));
    const bytes = s.dataLength(id);
    this.removeSubtree(path, id);
    if (parentPath.startsWith(QUOTA_ROOT) && baseName(path) === LIMIT_NODE) {
      this.quotas.delete(parentPath.substring(QUOTA_ROOT.length));
    }
    this.updateQuotaStat(path, -BigInt(bytes), -1n);
    const notified = this.dataWatches.trigger(path, EventType.NodeDeleted, zxid, acl);
    this.childWatches.trigger(path, EventType.NodeDeleted, zxid, acl, notified);
    this.childWatches.trigger(parentPath, EventType.NodeChildrenChanged, zxid, this.acls.list(s.acl(parent)));
    return Code.OK;
  }

  /**
   * Takes a node out of the tree, its digest out of the sum and its path out of the indexes. A
   * node with children (only on replay over a fuzzy snapshot: ZooKeeper leaves them orphaned in
   * its map) goes with all of them: nodes here live only under their parent.
   */
  private removeSubtree(path: string, id: number): void {
    const s = this.store;
    for (let c = s.firstChild(id); c !== NONE; c = s.firstChild(id)) {
      const childPath = `${path}/${s.name(c)}`;
      this.beforeChange(childPath, c, true);
      this.removeSubtree(childPath, c);
    }
    this.digestOut(path, id);
    this.unindex(path, s.ephemeralOwner(id));
    s.remove(id);
    this.loadParentPath = null;
    this.loadParent = NONE;
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
    const s = this.store;
    const id = this.idOf(path);
    if (id === NONE) return Code.NoNode;
    this.beforeChange(path, id, false);
    const bytesDiff = (data === null ? 0 : data.length) - s.dataLength(id);
    this.digestOut(path, id);
    s.setData(id, data);
    s.setMtime(id, time);
    s.setMzxid(id, zxid);
    s.setVersion(id, version);
    this.digestIn(path, id);
    this.updateQuotaStat(path, BigInt(bytesDiff), 0n);
    rc.stat = this.statAt(id);
    this.dataWatches.trigger(path, EventType.NodeDataChanged, zxid, this.acls.list(s.acl(id)));
    return Code.OK;
  }

  private setAcl(path: string, acl: readonly ACL[], version: number, rc: TxnResult): number {
    const s = this.store;
    const id = this.idOf(path);
    if (id === NONE) return Code.NoNode;
    this.beforeChange(path, id, false);
    s.setAcl(id, this.acls.idOf(acl));
    this.digestOut(path, id);
    s.setAversion(id, version);
    this.digestIn(path, id);
    rc.stat = this.statAt(id);
    return Code.OK;
  }

  /**
   * Sets a node's ACL outside any txn, its stat as it is: a create replayed over a fuzzy
   * snapshot that finds its node takes the txn's ACL (src/storage/replay.ts).
   */
  resetAcl(path: string, acl: readonly ACL[]): void {
    const id = this.idOf(path);
    if (id === NONE) return;
    this.beforeChange(path, id, false);
    this.store.setAcl(id, this.acls.idOf(acl));
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
    const limits = this.idOf(limitPath(prefix));
    const usage = this.idOf(statPath(prefix));
    if (limits === NONE || usage === NONE) return null;
    const text = (id: number): string => this.store.data(id)?.toString('utf8') ?? '';
    return { prefix, limits: new StatsTrack(text(limits)), usage: new StatsTrack(text(usage)) };
  }

  private updateQuotaStat(path: string, bytesDiff: bigint, countDiff: bigint): void {
    const prefix = this.quotas.maxPrefix(path);
    if (prefix === null) return;
    const id = this.idOf(statPath(prefix));
    if (id === NONE) return;
    this.beforeChange(statPath(prefix), id, false);
    const st = new StatsTrack(this.store.data(id)?.toString('utf8') ?? '');
    st.set('count', st.get('count') + countDiff);
    st.set('bytes', st.get('bytes') + bytesDiff);
    this.store.setData(id, Buffer.from(st.toString())); // under /zookeeper/: out of the digest
  }

  /** Sets a quota's usage from the subtree it covers (node count including itself, data bytes). */
  private recountQuota(path: string): void {
    const id = this.idOf(statPath(path));
    if (id === NONE) return;
    const s = this.store;
    let count = 0n;
    let bytes = 0n;
    const walk = (n: number): void => {
      count++;
      bytes += BigInt(s.dataLength(n));
      for (let c = s.firstChild(n); c !== NONE; c = s.nextSibling(c)) walk(c);
    };
    const top = this.idOf(path);
    if (top !== NONE) walk(top);
    const st = new StatsTrack();
    st.set('count', count);
    st.set('bytes', bytes);
    this.beforeChange(statPath(path), id, false);
    s.setData(id, Buffer.from(st.toString()));
  }

  /** After loading a tree from disk: find every quota and recount its usage (setupQuota). */
  rebuildQuotas(): void {
    const suffix = `/${LIMIT_NODE}`;
    const found: string[] = [];
    const top = this.idOf(QUOTA_ROOT);
    if (top === NONE) return;
    this.store.walk((_, p) => {
      if (p.endsWith(suffix)) found.push(p.substring(QUOTA_ROOT.length, p.length - suffix.length));
    }, top, QUOTA_ROOT);
    for (const real of found) {
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
    const s = this.store;
    for (const path of lists.data) {
      const id = this.idOf(path);
      if (id === NONE) w.process(EventType.NodeDeleted, path, -1n, null);
      else if (s.mzxid(id) > relativeZxid) w.process(EventType.NodeDataChanged, path, -1n, this.acls.list(s.acl(id)));
      else this.dataWatches.add(path, w, WatchMode.STANDARD);
    }
    for (const path of lists.exist) {
      const id = this.idOf(path);
      if (id !== NONE) w.process(EventType.NodeCreated, path, -1n, this.acls.list(s.acl(id)));
      else this.dataWatches.add(path, w, WatchMode.STANDARD);
    }
    for (const path of lists.child) {
      const id = this.idOf(path);
      if (id === NONE) w.process(EventType.NodeDeleted, path, -1n, null);
      else if (s.pzxid(id) > relativeZxid) w.process(EventType.NodeChildrenChanged, path, -1n, this.acls.list(s.acl(id)));
      else this.childWatches.add(path, w, WatchMode.STANDARD);
    }
    for (const path of lists.persistent) this.addPersistentWatch(path, w, false);
    for (const path of lists.recursive) this.addPersistentWatch(path, w, true);
  }
}
