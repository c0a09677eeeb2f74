// node-store.ts — the znodes of a tree with no JavaScript object per znode. A node is an int id;
// its fields live in a fixed-size row of a typed array indexed by id (grown by doubling); its name
// and data bytes in one immutable record of an append-only arena of large chunks; its place in the
// tree in parent / sibling links and an open-addressing hash table keyed by (parent id, name bytes).
//
// The row every node has (48 B, one buffer seen as int32, int64 and float64 so that a node's
// fields share a cache line or two): parent, prev and next sibling (O(1) unlink in a queue of
// 100k children), ACL id, record chunk and offset, ext row, ephemeralOwner (an index into a table
// of owners: a session owns many nodes); czxid and ctime; and beside the row an int the tree keeps
// (its digest). The fields a leaf that never changed
// keeps at their defaults — mzxid = pzxid = czxid, mtime = ctime, version = cversion = aversion =
// 0, no children — live in an "ext" row (48 B) allocated on the first change: most znodes of a big
// tree are such leaves.
//
// A record is [varint name length][varint data length + 1 (0: null data)][name][data]. It is
// never written again once appended: setData appends a new one, so a Buffer handed out by `data`
// (a view into its chunk) stays valid and unchanged forever. A chunk whose live bytes fall under
// half of what it holds is compacted — its live records are copied to the current chunk and the
// chunk is dropped from the table (views into it keep its memory until they are collected).
//
// Ids of deleted nodes are reused. The store knows nothing of paths beyond lookups: whoever keeps
// a view of the tree across changes (a snapshot's copy-on-write view) goes by path and czxid.
import assert from 'node:assert/strict';
import type { NodeFields as PersistedFields } from './znode.js';

/** No node: a missing lookup, the root's parent, the end of a sibling list. */
export const NONE = -1;
/** The root's id, always present. */
export const ROOT = 0;

const FREED = -2;
const MIN_CAPACITY = 16;
/** Int32s in a node row and in an ext row (48 B). */
const ROW = 12;
// Node row: int32 fields, then czxid and ctime as 8-byte fields (indexes in 8-byte units, id * 6 + …).
const PARENT = 0;
const PREV = 1;
const NEXT = 2;
const ACL = 3;
const REC_CHUNK = 4;
const REC_OFF = 5;
const EXT = 6;
const OWNER = 7;
const CZXID = 4;
const CTIME = 5;
// Ext row: mzxid, pzxid, mtime as 8-byte fields (x * 6 + …), then int32 fields.
const X_MZXID = 0;
const X_PZXID = 1;
const X_MTIME = 2;
const X_VERSION = 6;
const X_CVERSION = 7;
const X_AVERSION = 8;
const X_FIRST = 9;
const X_LAST = 10;
const X_NUM = 11;
const DEFAULT_CHUNK_BYTES = 1 << 20;
/** Hash table load factor above which it doubles. */
const MAX_LOAD = 0.6;

export interface NodeStoreOptions {
  /** Arena chunk size; records over a quarter of it get a chunk of their own. */
  chunkBytes?: number;
}

/** A node's fields but its ACL, for loading one (a snapshot) in one call; the data is copied. */
export type NodeFields = { -readonly [K in Exclude<keyof PersistedFields, 'acl'>]: PersistedFields[K] };

const varintBytes = (v: number): number => (v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5);

export class NodeStore {
  private readonly chunkBytes: number;
  // --- node columns ---
  private cap = 0;
  /** Ids in use or freed are below this. */
  private hi = 0;
  private count = 0;
  private freeHead = NONE;
  /** Nodes removed so far: while it stays the same, every id names the node it named. */
  removals = 0;
  /**
   * The node rows, ROW int32s (48 B) each in one buffer, so one node's fields share a cache line
   * or two (a read touches most of them): parent, prev sibling, next sibling (for a freed id: the
   * next free id), ACL id, record chunk, record offset, ext row, owner index; then czxid (int64)
   * and ctime (float64), read through views of the same buffer.
   */
  private n32 = new Int32Array(0);
  private n64 = new BigInt64Array(0);
  private nf64 = new Float64Array(0);
  /** An int the tree keeps per node (DataTree: the node's digest, so a change takes it out of the sum for free). */
  private tagCol = new Int32Array(0);
  /** ephemeralOwner by the index a row holds (0: none), refcounted: a session owns many nodes. */
  private owners: bigint[] = [0n];
  private ownerRefs: number[] = [0];
  private ownerIds = new Map<bigint, number>();
  private freeOwners: number[] = [];
  // --- ext rows ---
  private extCap = 0;
  private extHi = 0;
  private extFree: number[] = [];
  /** Ext rows, ROW int32s each: mzxid, pzxid (int64), mtime (float64); version, cversion, aversion, first child, last child, child count. */
  private x32 = new Int32Array(0);
  private x64 = new BigInt64Array(0);
  private xf64 = new Float64Array(0);
  // --- (parent, name) → id ---
  private slots = new Int32Array(0);
  private mask = 0;
  // --- arena ---
  private chunks: (Buffer | null)[] = [];
  private chunkUsed: number[] = [];
  private chunkLive: number[] = [];
  private freeChunks: number[] = [];
  private cur = -1;
  /** Chunks under half live, waiting for compaction, and the bytes it would give back. */
  private pending = new Set<number>();
  private pendingDead = 0;
  /** Encoded lookup keys (paths, names). */
  private scratch = Buffer.allocUnsafeSlow(1024);
  private static readonly EMPTY = Buffer.alloc(0);

  constructor(opts: NodeStoreOptions = {}) {
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    assert.ok(this.chunkBytes >= 64, 'chunkBytes too small');
    this.clear();
  }

  /** Drops every node but a fresh root (empty data, ACL 0, zxid 0, time 0). */
  clear(): void {
    this.cap = 0;
    this.hi = 0;
    this.count = 0;
    this.removals++;
    this.freeHead = NONE;
    this.owners = [0n];
    this.ownerRefs = [0];
    this.ownerIds = new Map();
    this.freeOwners = [];
    this.n32 = new Int32Array(0);
    this.tagCol = new Int32Array(0);
    this.growNodes(MIN_CAPACITY);
    this.extCap = 0;
    this.extHi = 0;
    this.extFree = [];
    this.x32 = new Int32Array(0);
    this.growExt(MIN_CAPACITY);
    this.slots = new Int32Array(MIN_CAPACITY * 2).fill(NONE);
    this.mask = this.slots.length - 1;
    this.chunks = [];
    this.chunkUsed = [];
    this.chunkLive = [];
    this.freeChunks = [];
    this.cur = -1;
    this.pending.clear();
    this.pendingDead = 0;
    const root = this.allocId();
    assert.equal(root, ROOT);
    this.n32[root * ROW + PARENT] = NONE;
    this.n32[root * ROW + PREV] = NONE;
    this.n32[root * ROW + NEXT] = NONE;
    this.n32[root * ROW + ACL] = 0;
    this.n32[root * ROW + EXT] = NONE;
    this.n64[root * 6 + CZXID] = 0n;
    this.nf64[root * 6 + CTIME] = 0;
    this.n32[root * ROW + OWNER] = 0;
    this.writeRecord(root, NodeStore.EMPTY, 0, 0, NodeStore.EMPTY);
    this.count = 1;
  }

  /** Nodes in the tree, the root included. */
  get size(): number {
    return this.count;
  }

  // --- lookups ---------------------------------------------------------------------------------

  /** The node at `path` ("/a/b"), or NONE. */
  lookup(path: string): number {
    if (path === '/') return ROOT;
    const n = path.length;
    if (n === 0 || path.charCodeAt(0) !== 0x2f) return NONE;
    // ASCII paths (nearly all) are hashed and compared straight from the string's char codes,
    // which are their UTF-8 bytes; any other character: encode the path and go by bytes.
    let id = ROOT;
    let start = 1;
    let h = seedHash(ROOT);
    for (let i = 1; i <= n; i++) {
      const c = i < n ? path.charCodeAt(i) : 0x2f;
      if (c >= 0x80) return this.lookupBytes(path);
      if (c !== 0x2f) {
        h = Math.imul(h ^ c, 0x01000193);
        continue;
      }
      if (i === start) return NONE; // an empty name: "//" or a trailing "/"
      id = this.findString(id, path, start, i, finishHash(h));
      if (id === NONE) return NONE;
      start = i + 1;
      h = seedHash(id);
    }
    return id;
  }

  private lookupBytes(path: string): number {
    const len = this.encode(path);
    const s = this.scratch;
    let id = ROOT;
    let start = 1;
    for (let i = 1; i <= len; i++) {
      if (i < len && s[i] !== 0x2f) continue;
      if (i === start) return NONE;
      id = this.find(id, s, start, i, this.hashName(id, s, start, i));
      if (id === NONE) return NONE;
      start = i + 1;
    }
    return id;
  }

  /** The child `name` of `parent`, or NONE. */
  child(parent: number, name: string): number {
    let h = seedHash(parent);
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c >= 0x80) return this.childBytes(parent, name);
      h = Math.imul(h ^ c, 0x01000193);
    }
    return this.findString(parent, name, 0, name.length, finishHash(h));
  }

  private childBytes(parent: number, name: string): number {
    const len = this.encode(name);
    return this.find(parent, this.scratch, 0, len, this.hashName(parent, this.scratch, 0, len));
  }

  /** Whether `id` names a node in the tree. */
  exists(id: number): boolean {
    return id >= 0 && id < this.hi && this.n32[id * ROW + PARENT] !== FREED;
  }

  // --- structure -------------------------------------------------------------------------------

  /**
   * Adds a child `name` under `parent` (at the end of its children) with data, ACL id, czxid
   * (also its mzxid and pzxid), ctime (also mtime) and ephemeralOwner. NONE if it exists.
   */
  create(parent: number, name: string, data: Buffer | null, acl: number, czxid: bigint, ctime: number, ephemeralOwner: bigint): number {
    assert.ok(this.exists(parent), 'create under a missing parent');
    const nameLen = this.encode(name);
    assert.ok(nameLen > 0, 'empty node name');
    const h = this.hashName(parent, this.scratch, 0, nameLen);
    if (this.find(parent, this.scratch, 0, nameLen, h) !== NONE) return NONE;
    return this.createEncoded(parent, nameLen, h, data, acl, czxid, ctime, ephemeralOwner);
  }

  /** create, with the name encoded in the scratch buffer and hashed, known to be new. */
  private createEncoded(parent: number, nameLen: number, h: number, data: Buffer | null, acl: number, czxid: bigint, ctime: number, ephemeralOwner: bigint): number {
    const id = this.allocId();
    this.n32[id * ROW + PARENT] = parent;
    this.n32[id * ROW + ACL] = acl;
    this.n32[id * ROW + EXT] = NONE;
    this.n64[id * 6 + CZXID] = czxid;
    this.nf64[id * 6 + CTIME] = ctime;
    this.n32[id * ROW + OWNER] = this.ownerIndex(ephemeralOwner);
    this.tagCol[id] = 0;
    this.writeRecord(id, this.scratch, 0, nameLen, data);
    this.link(parent, id);
    this.insertSlot(id, h);
    this.count++;
    return id;
  }

  /**
   * Puts a node read from a snapshot: creates `name` under `parent` or, when it is there already
   * (a path listed twice), replaces its fields. Ext fields are only stored when not defaults.
   * The root is loaded with parent NONE and name "".
   */
  load(parent: number, name: string, f: NodeFields, acl: number): number {
    let id = ROOT;
    if (name !== '') {
      const nameLen = this.encode(name);
      const h = this.hashName(parent, this.scratch, 0, nameLen);
      id = this.find(parent, this.scratch, 0, nameLen, h);
      if (id === NONE) id = this.createEncoded(parent, nameLen, h, f.data, acl, f.czxid, f.ctime, f.ephemeralOwner);
      else this.reload(id, f, acl);
    } else {
      this.reload(ROOT, f, acl);
    }
    const x = this.n32[id * ROW + EXT]!;
    if (
      x !== NONE ||
      f.mzxid !== f.czxid ||
      f.pzxid !== f.czxid ||
      f.mtime !== f.ctime ||
      f.version !== 0 ||
      f.cversion !== 0 ||
      f.aversion !== 0
    ) {
      const e = this.ext(id);
      this.x64[e * 6 + X_MZXID] = f.mzxid;
      this.x64[e * 6 + X_PZXID] = f.pzxid;
      this.xf64[e * 6 + X_MTIME] = f.mtime;
      this.x32[e * ROW + X_VERSION] = f.version;
      this.x32[e * ROW + X_CVERSION] = f.cversion;
      this.x32[e * ROW + X_AVERSION] = f.aversion;
    }
    return id;
  }

  private reload(id: number, f: NodeFields, acl: number): void {
    this.n64[id * 6 + CZXID] = f.czxid;
    this.nf64[id * 6 + CTIME] = f.ctime;
    this.releaseOwner(this.n32[id * ROW + OWNER]!);
    this.n32[id * ROW + OWNER] = this.ownerIndex(f.ephemeralOwner);
    this.n32[id * ROW + ACL] = acl;
    this.setData(id, f.data);
  }

  /** Removes a leaf (a node with children cannot go: remove them first). Its id may be reused. */
  remove(id: number): void {
    assert.ok(id !== ROOT && this.exists(id), 'remove of a missing node or the root');
    assert.equal(this.numChildren(id), 0, 'remove of a node with children');
    this.deleteSlot(id);
    this.unlink(id);
    this.killRecord(id);
    this.releaseOwner(this.n32[id * ROW + OWNER]!);
    const x = this.n32[id * ROW + EXT]!;
    if (x !== NONE) this.extFree.push(x);
    this.n32[id * ROW + PARENT] = FREED;
    this.n32[id * ROW + NEXT] = this.freeHead;
    this.freeHead = id;
    this.count--;
    this.removals++;
    this.maybeCompact();
  }

  parent(id: number): number {
    return this.n32[id * ROW + PARENT]!;
  }

  firstChild(id: number): number {
    const x = this.n32[id * ROW + EXT]!;
    return x === NONE ? NONE : this.x32[x * ROW + X_FIRST]!;
  }

  nextSibling(id: number): number {
    return this.n32[id * ROW + NEXT]!;
  }

  numChildren(id: number): number {
    const x = this.n32[id * ROW + EXT]!;
    return x === NONE ? 0 : this.x32[x * ROW + X_NUM]!;
  }

  /** Child names in creation order. */
  childNames(id: number): string[] {
    const out: string[] = [];
    for (let c = this.firstChild(id); c !== NONE; c = this.n32[c * ROW + NEXT]!) out.push(this.name(c));
    return out;
  }

  /** The node's name ("" for the root). */
  name(id: number): string {
    const buf = this.chunks[this.n32[id * ROW + REC_CHUNK]!]!;
    let off = this.n32[id * ROW + REC_OFF]!;
    const nameLen = readVarint(buf, off);
    off += varintBytes(nameLen);
    const dl = readVarint(buf, off);
    off += varintBytes(dl);
    return nameString(buf, off, nameLen);
  }

  /** The node's name as UTF-8 bytes: a view into its record. */
  nameBytes(id: number): Buffer {
    const buf = this.chunks[this.n32[id * ROW + REC_CHUNK]!]!;
    let off = this.n32[id * ROW + REC_OFF]!;
    const nameLen = readVarint(buf, off);
    off += varintBytes(nameLen);
    off += varintBytes(readVarint(buf, off));
    return buf.subarray(off, off + nameLen);
  }

  /** The node's path, from its ancestors' names. */
  path(id: number): string {
    if (id === ROOT) return '/';
    let p = '';
    for (let n = id; n !== ROOT; n = this.n32[n * ROW + PARENT]!) p = '/' + this.name(n) + p;
    return p;
  }

  /**
   * Every node of the subtree at `from` (the whole tree by default) in pre-order (a parent before
   * its children, children in creation order), with its path. The tree must not change meanwhile.
   */
  walk(visit: (id: number, path: string) => void, from = ROOT, fromPath = '/'): void {
    const rec = (id: number, path: string): void => {
      visit(id, path);
      const prefix = id === ROOT ? '/' : path + '/';
      for (let c = this.firstChild(id); c !== NONE; c = this.n32[c * ROW + NEXT]!) rec(c, prefix + this.name(c));
    };
    rec(from, fromPath);
  }

  /** Ids in use are below this (for a scan in id order, with `exists`). */
  get idLimit(): number {
    return this.hi;
  }

  // --- data ------------------------------------------------------------------------------------

  /** The node's data: a view that stays valid and unchanged forever; null when set null. */
  data(id: number): Buffer | null {
    const c = this.n32[id * ROW + REC_CHUNK]!;
    const buf = this.chunks[c]!;
    let off = this.n32[id * ROW + REC_OFF]!;
    const nameLen = readVarint(buf, off);
    off += varintBytes(nameLen);
    const dl = readVarint(buf, off);
    if (dl === 0) return null;
    off += varintBytes(dl) + nameLen;
    return buf.subarray(off, off + dl - 1);
  }

  dataLength(id: number): number {
    const buf = this.chunks[this.n32[id * ROW + REC_CHUNK]!]!;
    let off = this.n32[id * ROW + REC_OFF]!;
    off += varintBytes(readVarint(buf, off));
    const dl = readVarint(buf, off);
    return dl === 0 ? 0 : dl - 1;
  }

  /** Replaces the data (a new record; views of the old data stay as they were). */
  setData(id: number, data: Buffer | null): void {
    const c = this.n32[id * ROW + REC_CHUNK]!;
    const buf = this.chunks[c]!;
    let off = this.n32[id * ROW + REC_OFF]!;
    const nameLen = readVarint(buf, off);
    off += varintBytes(nameLen);
    off += varintBytes(readVarint(buf, off));
    // The name may sit in the current chunk, where the new record goes: copy it out first.
    const name = nameLen <= this.scratch.length ? this.scratch : Buffer.allocUnsafe(nameLen);
    buf.copy(name, 0, off, off + nameLen);
    this.killRecord(id);
    this.writeRecord(id, name, 0, nameLen, data);
    this.maybeCompact();
  }

  // --- stat fields -----------------------------------------------------------------------------

  /** The int the tree keeps for the node (0 when created or loaded). */
  tag(id: number): number {
    return this.tagCol[id]!;
  }
  setTag(id: number, v: number): void {
    this.tagCol[id] = v;
  }

  acl(id: number): number {
    return this.n32[id * ROW + ACL]!;
  }
  setAcl(id: number, acl: number): void {
    this.n32[id * ROW + ACL] = acl;
  }
  czxid(id: number): bigint {
    return this.n64[id * 6 + CZXID]!;
  }
  ctime(id: number): number {
    return this.nf64[id * 6 + CTIME]!;
  }
  ephemeralOwner(id: number): bigint {
    return this.owners[this.n32[id * ROW + OWNER]!]!;
  }
  mzxid(id: number): bigint {
    const x = this.n32[id * ROW + EXT]!;
    return x === NONE ? this.n64[id * 6 + CZXID]! : this.x64[x * 6 + X_MZXID]!;
  }
  pzxid(id: number): bigint {
    const x = this.n32[id * ROW + EXT]!;
    return x === NONE ? this.n64[id * 6 + CZXID]! : this.x64[x * 6 + X_PZXID]!;
  }
  mtime(id: number): number {
    const x = this.n32[id * ROW + EXT]!;
    return x === NONE ? this.nf64[id * 6 + CTIME]! : this.xf64[x * 6 + X_MTIME]!;
  }
  version(id: number): number {
    const x = this.n32[id * ROW + EXT]!;
    return x === NONE ? 0 : this.x32[x * ROW + X_VERSION]!;
  }
  cversion(id: number): number {
    const x = this.n32[id * ROW + EXT]!;
    return x === NONE ? 0 : this.x32[x * ROW + X_CVERSION]!;
  }
  aversion(id: number): number {
    const x = this.n32[id * ROW + EXT]!;
    return x === NONE ? 0 : this.x32[x * ROW + X_AVERSION]!;
  }
  setMzxid(id: number, v: bigint): void {
    const x = this.ext(id); // first: it may grow the ext columns
    this.x64[x * 6 + X_MZXID] = v;
  }
  setPzxid(id: number, v: bigint): void {
    const x = this.ext(id); // first: it may grow the ext columns
    this.x64[x * 6 + X_PZXID] = v;
  }
  setMtime(id: number, v: number): void {
    const x = this.ext(id); // first: it may grow the ext columns
    this.xf64[x * 6 + X_MTIME] = v;
  }
  setVersion(id: number, v: number): void {
    const x = this.ext(id); // first: it may grow the ext columns
    this.x32[x * ROW + X_VERSION] = v;
  }
  setCversion(id: number, v: number): void {
    const x = this.ext(id); // first: it may grow the ext columns
    this.x32[x * ROW + X_CVERSION] = v;
  }
  setAversion(id: number, v: number): void {
    const x = this.ext(id); // first: it may grow the ext columns
    this.x32[x * ROW + X_AVERSION] = v;
  }

  // --- memory ----------------------------------------------------------------------------------

  /** Bytes held: columns (allocated capacity), hash table and arena chunks, and live record bytes. */
  memory(): { columnBytes: number; extBytes: number; hashBytes: number; arenaBytes: number; liveRecordBytes: number; chunks: number; extRows: number } {
    let arenaBytes = 0;
    let live = 0;
    let chunks = 0;
    for (let c = 0; c < this.chunks.length; c++) {
      const b = this.chunks[c];
      if (b === null || b === undefined) continue;
      chunks++;
      arenaBytes += b.length;
      live += this.chunkLive[c]!;
    }
    return {
      columnBytes: this.cap * 52,
      extBytes: this.extCap * 48,
      hashBytes: this.slots.byteLength,
      arenaBytes,
      liveRecordBytes: live,
      chunks,
      extRows: this.extHi - this.extFree.length,
    };
  }

  /** Compacts every chunk (but the current one) whose live bytes are under half of what it holds. */
  compact(): void {
    for (let c = 0; c < this.chunks.length; c++) {
      if (c !== this.cur && this.chunks[c] !== null && this.chunkLive[c]! * 2 < this.chunkUsed[c]!) this.pending.add(c);
    }
    this.runCompaction();
  }

  // --- internals: ids and columns --------------------------------------------------------------

  private allocId(): number {
    if (this.freeHead !== NONE) {
      const id = this.freeHead;
      this.freeHead = this.n32[id * ROW + NEXT]!;
      return id;
    }
    if (this.hi === this.cap) this.growNodes(this.cap * 2);
    return this.hi++;
  }

  private growNodes(n: number): void {
    n = Math.max(n, MIN_CAPACITY);
    const buf = new ArrayBuffer(n * ROW * 4);
    const n32 = new Int32Array(buf);
    n32.set(this.n32);
    this.n32 = n32;
    this.n64 = new BigInt64Array(buf);
    this.nf64 = new Float64Array(buf);
    const tags = new Int32Array(n);
    tags.set(this.tagCol);
    this.tagCol = tags;
    this.cap = n;
  }

  /** The node's ext row, allocated with its defaults on first use. */
  private ext(id: number): number {
    let x = this.n32[id * ROW + EXT]!;
    if (x !== NONE) return x;
    if (this.extFree.length > 0) {
      x = this.extFree.pop()!;
    } else {
      if (this.extHi === this.extCap) this.growExt(this.extCap * 2);
      x = this.extHi++;
    }
    const cz = this.n64[id * 6 + CZXID]!;
    this.x64[x * 6 + X_MZXID] = cz;
    this.x64[x * 6 + X_PZXID] = cz;
    this.xf64[x * 6 + X_MTIME] = this.nf64[id * 6 + CTIME]!;
    this.x32[x * ROW + X_VERSION] = 0;
    this.x32[x * ROW + X_CVERSION] = 0;
    this.x32[x * ROW + X_AVERSION] = 0;
    this.x32[x * ROW + X_FIRST] = NONE;
    this.x32[x * ROW + X_LAST] = NONE;
    this.x32[x * ROW + X_NUM] = 0;
    this.n32[id * ROW + EXT] = x;
    return x;
  }

  private growExt(n: number): void {
    n = Math.max(n, MIN_CAPACITY);
    const buf = new ArrayBuffer(n * ROW * 4);
    const x32 = new Int32Array(buf);
    x32.set(this.x32);
    this.x32 = x32;
    this.x64 = new BigInt64Array(buf);
    this.xf64 = new Float64Array(buf);
    this.extCap = n;
  }

  private link(parent: number, id: number): void {
    const x = this.ext(parent);
    const last = this.x32[x * ROW + X_LAST]!;
    this.n32[id * ROW + PREV] = last;
    this.n32[id * ROW + NEXT] = NONE;
    if (last === NONE) this.x32[x * ROW + X_FIRST] = id;
    else this.n32[last * ROW + NEXT] = id;
    this.x32[x * ROW + X_LAST] = id;
    this.x32[x * ROW + X_NUM]!++;
  }

  private unlink(id: number): void {
    const x = this.n32[this.n32[id * ROW + PARENT]! * ROW + EXT]!;
    const prev = this.n32[id * ROW + PREV]!;
    const next = this.n32[id * ROW + NEXT]!;
    if (prev === NONE) this.x32[x * ROW + X_FIRST] = next;
    else this.n32[prev * ROW + NEXT] = next;
    if (next === NONE) this.x32[x * ROW + X_LAST] = prev;
    else this.n32[next * ROW + PREV] = prev;
    this.x32[x * ROW + X_NUM]!--;
  }

  // --- internals: hash table -------------------------------------------------------------------

  /** The node's hash-table key hash, from its parent and name (kept nowhere: 4 B a node saved). */
  private hashOf(id: number): number {
    const buf = this.chunks[this.n32[id * ROW + REC_CHUNK]!]!;
    let off = this.n32[id * ROW + REC_OFF]!;
    const nameLen = readVarint(buf, off);
    off += varintBytes(nameLen);
    off += varintBytes(readVarint(buf, off));
    return this.hashName(this.n32[id * ROW + PARENT]!, buf, off, off + nameLen);
  }

  /** The index of an ephemeralOwner in the owner table, one more reference counted. */
  private ownerIndex(owner: bigint): number {
    if (owner === 0n) return 0;
    let i = this.ownerIds.get(owner);
    if (i === undefined) {
      i = this.freeOwners.length > 0 ? this.freeOwners.pop()! : this.owners.length;
      this.owners[i] = owner;
      this.ownerRefs[i] = 0;
      this.ownerIds.set(owner, i);
    }
    this.ownerRefs[i]!++;
    return i;
  }

  private releaseOwner(i: number): void {
    if (i === 0 || --this.ownerRefs[i]! > 0) return;
    this.ownerIds.delete(this.owners[i]!);
    this.owners[i] = 0n;
    this.freeOwners.push(i);
  }

  /** Encodes `s` as UTF-8 into the scratch buffer; returns its length. */
  private encode(s: string): number {
    if (s.length * 3 > this.scratch.length) this.scratch = Buffer.allocUnsafeSlow(Math.max(s.length * 3, this.scratch.length * 2));
    const b = this.scratch;
    const n = s.length;
    if (n > 64) return b.write(s, 0, 'utf8');
    // Short ASCII names (nearly all) are copied by hand: cheaper than a call into the encoder.
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return b.write(s, 0, 'utf8');
      b[i] = c;
    }
    return n;
  }

  private hashName(parent: number, b: Uint8Array, start: number, end: number): number {
    let h = seedHash(parent);
    for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    return finishHash(h);
  }

  /** find, the name given as ASCII characters s[start, end). */
  private findString(parent: number, str: string, start: number, end: number, h: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id = slots[i]!;
      if (id === NONE) return NONE;
      if (this.n32[id * ROW + PARENT] === parent && this.nameEqualsString(id, str, start, end)) return id;
    }
  }

  private nameEqualsString(id: number, str: string, start: number, end: number): boolean {
    const buf = this.chunks[this.n32[id * ROW + REC_CHUNK]!]!;
    let off = this.n32[id * ROW + REC_OFF]!;
    const nameLen = readVarint(buf, off);
    if (nameLen !== end - start) return false;
    off += varintBytes(nameLen);
    off += varintBytes(readVarint(buf, off));
    for (let i = 0; i < nameLen; i++) if (buf[off + i] !== str.charCodeAt(start + i)) return false;
    return true;
  }

  private find(parent: number, b: Uint8Array, start: number, end: number, h: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id = slots[i]!;
      if (id === NONE) return NONE;
      if (this.n32[id * ROW + PARENT] === parent && this.nameEquals(id, b, start, end)) return id;
    }
  }

  private nameEquals(id: number, b: Uint8Array, start: number, end: number): boolean {
    const buf = this.chunks[this.n32[id * ROW + REC_CHUNK]!]!;
    let off = this.n32[id * ROW + REC_OFF]!;
    const nameLen = readVarint(buf, off);
    if (nameLen !== end - start) return false;
    off += varintBytes(nameLen);
    off += varintBytes(readVarint(buf, off));
    for (let i = 0; i < nameLen; i++) if (buf[off + i] !== b[start + i]) return false;
    return true;
  }

  private insertSlot(id: number, h: number): void {
    if (this.count + 1 > this.slots.length * MAX_LOAD) {
      this.rehash(this.slots.length * 2); // puts `id` too: its columns are set
      return;
    }
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    while (slots[i] !== NONE) i = (i + 1) & mask;
    slots[i] = id;
  }

  /** Linear probing's backward-shift delete: no tombstones. */
  private deleteSlot(id: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = this.hashOf(id) & mask;
    while (slots[i] !== id) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const o = slots[j]!;
      if (o === NONE) break;
      const home = this.hashOf(o) & mask;
      // o may move to the hole at i when its home is not cyclically within (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        slots[i] = o;
        i = j;
      }
    }
    slots[i] = NONE;
  }

  private rehash(n: number): void {
    const slots = new Int32Array(n).fill(NONE);
    const mask = n - 1;
    for (let id = 1; id < this.hi; id++) {
      if (this.n32[id * ROW + PARENT] === FREED) continue;
      let i = this.hashOf(id) & mask;
      while (slots[i] !== NONE) i = (i + 1) & mask;
      slots[i] = id;
    }
    this.slots = slots;
    this.mask = mask;
  }

  // --- internals: arena ------------------------------------------------------------------------

  private writeRecord(id: number, name: Uint8Array, start: number, nameLen: number, data: Buffer | null): void {
    const dl = data === null ? 0 : data.length + 1;
    const size = varintBytes(nameLen) + varintBytes(dl) + nameLen + (dl === 0 ? 0 : dl - 1);
    let c: number;
    if (size * 4 > this.chunkBytes) {
      c = this.newChunk(size);
    } else {
      if (this.cur === NONE || this.chunkUsed[this.cur]! + size > this.chunkBytes) this.rollChunk();
      c = this.cur;
    }
    const buf = this.chunks[c]!;
    let off = this.chunkUsed[c]!;
    this.n32[id * ROW + REC_CHUNK] = c;
    this.n32[id * ROW + REC_OFF] = off;
    off = writeVarint(buf, off, nameLen);
    off = writeVarint(buf, off, dl);
    for (let i = 0; i < nameLen; i++) buf[off + i] = name[start + i]!;
    off += nameLen;
    if (data !== null && data.length > 0) {
      if (data.length < 64) for (let i = 0; i < data.length; i++) buf[off + i] = data[i]!;
      else buf.set(data, off);
    }
    this.chunkUsed[c]! += size;
    this.chunkLive[c]! += size;
  }

  private newChunk(bytes: number): number {
    const buf = Buffer.allocUnsafeSlow(bytes);
    const c = this.freeChunks.length > 0 ? this.freeChunks.pop()! : this.chunks.length;
    this.chunks[c] = buf;
    this.chunkUsed[c] = 0;
    this.chunkLive[c] = 0;
    return c;
  }

  /** A new current chunk; the full one is dropped or queued for compaction like any other. */
  private rollChunk(): void {
    const old = this.cur;
    this.cur = this.newChunk(this.chunkBytes);
    if (old === NONE) return;
    const live = this.chunkLive[old]!;
    if (live === 0) this.dropChunk(old);
    else if (live * 2 < this.chunkUsed[old]!) {
      this.pending.add(old);
      this.pendingDead += this.chunkUsed[old]! - live;
    }
  }

  private recordSize(buf: Buffer, off: number): number {
    const nameLen = readVarint(buf, off);
    const dl = readVarint(buf, off + varintBytes(nameLen));
    return varintBytes(nameLen) + varintBytes(dl) + nameLen + (dl === 0 ? 0 : dl - 1);
  }

  /** The node's record is no longer its: count it dead; drop or queue its chunk as it empties. */
  private killRecord(id: number): void {
    const c = this.n32[id * ROW + REC_CHUNK]!;
    const size = this.recordSize(this.chunks[c]!, this.n32[id * ROW + REC_OFF]!);
    const live = (this.chunkLive[c]! -= size);
    if (c === this.cur) return;
    if (live === 0) {
      if (this.pending.delete(c)) this.pendingDead -= this.chunkUsed[c]!;
      this.dropChunk(c);
    } else if (this.pending.has(c)) {
      this.pendingDead += size;
    } else if (live * 2 < this.chunkUsed[c]!) {
      this.pending.add(c);
      this.pendingDead += this.chunkUsed[c]! - live;
    }
  }

  private dropChunk(c: number): void {
    this.chunks[c] = null;
    this.chunkUsed[c] = 0;
    this.chunkLive[c] = 0;
    this.freeChunks.push(c);
  }

  /**
   * Compacts the queued chunks once they would give back enough to pay for the scan of every id
   * (at least a chunk's worth, and 4 bytes per id).
   */
  private maybeCompact(): void {
    if (this.pending.size > 0 && this.pendingDead >= Math.max(this.chunkBytes, this.hi * 4)) this.runCompaction();
  }

  private runCompaction(): void {
    if (this.pending.size === 0) return;
    const moving = new Uint8Array(this.chunks.length);
    for (const c of this.pending) moving[c] = 1;
    this.pending.clear();
    this.pendingDead = 0;
    for (let id = 0; id < this.hi; id++) {
      if (this.n32[id * ROW + PARENT] === FREED) continue;
      const c = this.n32[id * ROW + REC_CHUNK]!;
      if (moving[c] !== 1) continue;
      const buf = this.chunks[c]!;
      const off = this.n32[id * ROW + REC_OFF]!;
      const size = this.recordSize(buf, off);
      if (this.cur === NONE || this.chunkUsed[this.cur]! + size > this.chunkBytes) this.rollChunk();
      const to = this.cur;
      buf.copy(this.chunks[to]!, this.chunkUsed[to]!, off, off + size);
      this.n32[id * ROW + REC_CHUNK] = to;
      this.n32[id * ROW + REC_OFF] = this.chunkUsed[to]!;
      this.chunkUsed[to]! += size;
      this.chunkLive[to]! += size;
    }
    for (let c = 0; c < moving.length; c++) if (moving[c] === 1) this.dropChunk(c);
  }

  /** Checks every invariant (tests): links, counts, hash table, arena accounting. */
  check(): void {
    let n = 0;
    const live = new Map<number, number>();
    for (let id = 0; id < this.hi; id++) {
      if (this.n32[id * ROW + PARENT] === FREED) continue;
      n++;
      const c = this.n32[id * ROW + REC_CHUNK]!;
      assert.ok(this.chunks[c] !== null && this.chunks[c] !== undefined, `node ${id} in a dropped chunk`);
      live.set(c, (live.get(c) ?? 0) + this.recordSize(this.chunks[c]!, this.n32[id * ROW + REC_OFF]!));
      let k = 0;
      let last = NONE;
      for (let ch = this.firstChild(id); ch !== NONE; ch = this.n32[ch * ROW + NEXT]!) {
        assert.equal(this.n32[ch * ROW + PARENT], id);
        assert.equal(this.n32[ch * ROW + PREV], last);
        last = ch;
        k++;
      }
      assert.equal(k, this.numChildren(id));
      if (this.n32[id * ROW + EXT] !== NONE) assert.equal(this.x32[this.n32[id * ROW + EXT]! * ROW + X_LAST], last);
      if (id !== ROOT) {
        const name = Buffer.from(this.name(id), 'utf8');
        assert.equal(this.find(this.n32[id * ROW + PARENT]!, name, 0, name.length, this.hashOf(id)), id);
      }
    }
    assert.equal(n, this.count);
    const refs = new Map<number, number>();
    for (let id = 0; id < this.hi; id++) {
      if (this.n32[id * ROW + PARENT] !== FREED && this.n32[id * ROW + OWNER] !== 0) refs.set(this.n32[id * ROW + OWNER]!, (refs.get(this.n32[id * ROW + OWNER]!) ?? 0) + 1);
    }
    for (let i = 1; i < this.owners.length; i++) {
      assert.equal(this.ownerRefs[i], refs.get(i) ?? 0, `owner ${i} references`);
      if (this.ownerRefs[i] !== 0) assert.equal(this.ownerIds.get(this.owners[i]!), i);
    }
    assert.equal(this.ownerIds.size, refs.size);
    let inSlots = 0;
    for (let i = 0; i < this.slots.length; i++) if (this.slots[i] !== NONE) inSlots++;
    assert.equal(inSlots, this.count - 1);
    for (let c = 0; c < this.chunks.length; c++) {
      if (this.chunks[c] === null) continue;
      assert.equal(this.chunkLive[c], live.get(c) ?? 0, `chunk ${c} live bytes`);
      if (c !== this.cur) assert.ok(this.chunkLive[c]! > 0, `empty chunk ${c} kept`);
    }
  }
}

/** FNV-1a over a name's bytes, seeded with its parent's id, then mixed (murmur3's finaliser). */
function seedHash(parent: number): number {
  return Math.imul(parent, 0x9e3779b1) ^ 0x811c9dc5;
}

function finishHash(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

function readVarint(b: Uint8Array, off: number): number {
  let v = b[off]!;
  if (v < 0x80) return v;
  v &= 0x7f;
  for (let shift = 7; ; shift += 7) {
    const x = b[++off]!;
    v += (x & 0x7f) * 2 ** shift;
    if (x < 0x80) return v;
  }
}

function writeVarint(b: Uint8Array, off: number, v: number): number {
  while (v >= 0x80) {
    b[off++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  b[off++] = v;
  return off;
}

/** A name's string: ASCII names (the common case) without a call into the UTF-8 decoder. */
function nameString(buf: Buffer, off: number, len: number): string {
  if (len <= 16) {
    let ascii = true;
    for (let i = 0; i < len; i++) {
      if (buf[off + i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      let s = '';
      for (let i = 0; i < len; i++) s += String.fromCharCode(buf[off + i]!);
      return s;
    }
  }
  return buf.toString('utf8', off, off + len);
}
