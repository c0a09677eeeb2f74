// node-store.ts — the znodes of a tree with no JavaScript object per znode. A node is an int id;
// its fields live in typed-array columns indexed by id (grown by doubling); its name and data
// bytes in one immutable record of an append-only arena of large chunks; its place in the tree in
// parent / sibling links and an open-addressing hash table keyed by (parent id, name bytes).
//
// Columns every node has (48 B): parent, prev and next sibling (O(1) unlink in a queue of 100k
// children), ACL id, record chunk and offset, ext row, ephemeralOwner (an index into a table of
// owners: a session owns many nodes); czxid and ctime.
// The fields a leaf that never changed keeps at their defaults — mzxid = pzxid = czxid,
// mtime = ctime, version = cversion = aversion = 0, no children — live in an "ext" row (48 B)
// allocated on the first change: most znodes of a big tree are such leaves.
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

/** No node: a missing lookup, the root's parent, the end of a sibling list. */
export const NONE = -1;
/** The root's id, always present. */
export const ROOT = 0;

const FREED = -2;
const MIN_CAPACITY = 16;
const DEFAULT_CHUNK_BYTES = 1 << 20;
/** Hash table load factor above which it doubles. */
const MAX_LOAD = 0.6;

export interface NodeStoreOptions {
  /** Arena chunk size; records over a quarter of it get a chunk of their own. */
  chunkBytes?: number;
}

/** A node's fields but its ACL, for loading one (a snapshot) in one call; the data is copied. */
export interface NodeFields {
  data: Buffer | null;
  czxid: bigint;
  mzxid: bigint;
  pzxid: bigint;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
}

const varintBytes = (v: number): number => (v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5);

function growI32(a: Int32Array, n: number, fill?: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  if (fill !== undefined) b.fill(fill, a.length);
  return b;
}

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
  private parentCol = new Int32Array(0);
  private prevCol = new Int32Array(0);
  /** Next sibling; for a freed id, the next free id. */
  private nextCol = new Int32Array(0);
  private aclCol = new Int32Array(0);
  private recChunk = new Int32Array(0);
  private recOff = new Int32Array(0);
  private extCol = new Int32Array(0);
  private czxidCol = new BigInt64Array(0);
  private ctimeCol = new Float64Array(0);
  /** ephemeralOwner as an index into `owners` (0: none): sessions own many nodes each. */
  private ownerCol = new Int32Array(0);
  private owners: bigint[] = [0n];
  private ownerRefs: number[] = [0];
  private ownerIds = new Map<bigint, number>();
  private freeOwners: number[] = [];
  // --- ext rows ---
  private extCap = 0;
  private extHi = 0;
  private extFree: number[] = [];
  private xMzxid = new BigInt64Array(0);
  private xPzxid = new BigInt64Array(0);
  private xMtime = new Float64Array(0);
  private xVersion = new Int32Array(0);
  private xCversion = new Int32Array(0);
  private xAversion = new Int32Array(0);
  private xFirst = new Int32Array(0);
  private xLast = new Int32Array(0);
  private xNum = new Int32Array(0);
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
    this.growNodes(MIN_CAPACITY);
    this.extCap = 0;
    this.extHi = 0;
    this.extFree = [];
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
    this.parentCol[root] = NONE;
    this.prevCol[root] = NONE;
    this.nextCol[root] = NONE;
    this.aclCol[root] = 0;
    this.extCol[root] = NONE;
    this.czxidCol[root] = 0n;
    this.ctimeCol[root] = 0;
    this.ownerCol[root] = 0;
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
    return id >= 0 && id < this.hi && this.parentCol[id] !== FREED;
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
    this.parentCol[id] = parent;
    this.aclCol[id] = acl;
    this.extCol[id] = NONE;
    this.czxidCol[id] = czxid;
    this.ctimeCol[id] = ctime;
    this.ownerCol[id] = this.ownerIndex(ephemeralOwner);
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
    const x = this.extCol[id]!;
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
      this.xMzxid[e] = f.mzxid;
      this.xPzxid[e] = f.pzxid;
      this.xMtime[e] = f.mtime;
      this.xVersion[e] = f.version;
      this.xCversion[e] = f.cversion;
      this.xAversion[e] = f.aversion;
    }
    return id;
  }

  private reload(id: number, f: NodeFields, acl: number): void {
    this.czxidCol[id] = f.czxid;
    this.ctimeCol[id] = f.ctime;
    this.releaseOwner(this.ownerCol[id]!);
    this.ownerCol[id] = this.ownerIndex(f.ephemeralOwner);
    this.aclCol[id] = acl;
    this.setData(id, f.data);
  }

  /** Removes a leaf (a node with children cannot go: remove them first). Its id may be reused. */
  remove(id: number): void {
    assert.ok(id !== ROOT && this.exists(id), 'remove of a missing node or the root');
    assert.equal(this.numChildren(id), 0, 'remove of a node with children');
    this.deleteSlot(id);
    this.unlink(id);
    this.killRecord(id);
    this.releaseOwner(this.ownerCol[id]!);
    const x = this.extCol[id]!;
    if (x !== NONE) this.extFree.push(x);
    this.parentCol[id] = FREED;
    this.nextCol[id] = this.freeHead;
    this.freeHead = id;
    this.count--;
    this.removals++;
    this.maybeCompact();
  }

  parent(id: number): number {
    return this.parentCol[id]!;
  }

  firstChild(id: number): number {
    const x = this.extCol[id]!;
    return x === NONE ? NONE : this.xFirst[x]!;
  }

  nextSibling(id: number): number {
    return this.nextCol[id]!;
  }

  numChildren(id: number): number {
    const x = this.extCol[id]!;
    return x === NONE ? 0 : this.xNum[x]!;
  }

  /** Child names in creation order. */
  childNames(id: number): string[] {
    const out: string[] = [];
    for (let c = this.firstChild(id); c !== NONE; c = this.nextCol[c]!) out.push(this.name(c));
    return out;
  }

  /** The node's name ("" for the root). */
  name(id: number): string {
    const buf = this.chunks[this.recChunk[id]!]!;
    let off = this.recOff[id]!;
    const nameLen = readVarint(buf, off);
    off += varintBytes(nameLen);
    const dl = readVarint(buf, off);
    off += varintBytes(dl);
    return nameString(buf, off, nameLen);
  }

  /** The node's name as UTF-8 bytes: a view into its record. */
  nameBytes(id: number): Buffer {
    const buf = this.chunks[this.recChunk[id]!]!;
    let off = this.recOff[id]!;
    const nameLen = readVarint(buf, off);
    off += varintBytes(nameLen);
    off += varintBytes(readVarint(buf, off));
    return buf.subarray(off, off + nameLen);
  }

  /** The node's path, from its ancestors' names. */
  path(id: number): string {
    if (id === ROOT) return '/';
    let p = '';
    for (let n = id; n !== ROOT; n = this.parentCol[n]!) p = '/' + this.name(n) + p;
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
      for (let c = this.firstChild(id); c !== NONE; c = this.nextCol[c]!) rec(c, prefix + this.name(c));
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
    const c = this.recChunk[id]!;
    const buf = this.chunks[c]!;
    let off = this.recOff[id]!;
    const nameLen = readVarint(buf, off);
    off += varintBytes(nameLen);
    const dl = readVarint(buf, off);
    if (dl === 0) return null;
    off += varintBytes(dl) + nameLen;
    return buf.subarray(off, off + dl - 1);
  }

  dataLength(id: number): number {
    const buf = this.chunks[this.recChunk[id]!]!;
    let off = this.recOff[id]!;
    off += varintBytes(readVarint(buf, off));
    const dl = readVarint(buf, off);
    return dl === 0 ? 0 : dl - 1;
  }

  /** Replaces the data (a new record; views of the old data stay as they were). */
  setData(id: number, data: Buffer | null): void {
    const c = this.recChunk[id]!;
    const buf = this.chunks[c]!;
    let off = this.recOff[id]!;
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

  acl(id: number): number {
    return this.aclCol[id]!;
  }
  setAcl(id: number, acl: number): void {
    this.aclCol[id] = acl;
  }
  czxid(id: number): bigint {
    return this.czxidCol[id]!;
  }
  ctime(id: number): number {
    return this.ctimeCol[id]!;
  }
  ephemeralOwner(id: number): bigint {
    return this.owners[this.ownerCol[id]!]!;
  }
  mzxid(id: number): bigint {
    const x = this.extCol[id]!;
    return x === NONE ? this.czxidCol[id]! : this.xMzxid[x]!;
  }
  pzxid(id: number): bigint {
    const x = this.extCol[id]!;
    return x === NONE ? this.czxidCol[id]! : this.xPzxid[x]!;
  }
  mtime(id: number): number {
    const x = this.extCol[id]!;
    return x === NONE ? this.ctimeCol[id]! : this.xMtime[x]!;
  }
  version(id: number): number {
    const x = this.extCol[id]!;
    return x === NONE ? 0 : this.xVersion[x]!;
  }
  cversion(id: number): number {
    const x = this.extCol[id]!;
    return x === NONE ? 0 : this.xCversion[x]!;
  }
  aversion(id: number): number {
    const x = this.extCol[id]!;
    return x === NONE ? 0 : this.xAversion[x]!;
  }
  setMzxid(id: number, v: bigint): void {
    const x = this.ext(id); // first: it may grow the ext columns
    this.xMzxid[x] = v;
  }
  setPzxid(id: number, v: bigint): void {
    const x = this.ext(id); // first: it may grow the ext columns
    this.xPzxid[x] = v;
  }
  setMtime(id: number, v: number): void {
    const x = this.ext(id); // first: it may grow the ext columns
    this.xMtime[x] = v;
  }
  setVersion(id: number, v: number): void {
    const x = this.ext(id); // first: it may grow the ext columns
    this.xVersion[x] = v;
  }
  setCversion(id: number, v: number): void {
    const x = this.ext(id); // first: it may grow the ext columns
    this.xCversion[x] = v;
  }
  setAversion(id: number, v: number): void {
    const x = this.ext(id); // first: it may grow the ext columns
    this.xAversion[x] = v;
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
      columnBytes: this.cap * 48,
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
      this.freeHead = this.nextCol[id]!;
      return id;
    }
    if (this.hi === this.cap) this.growNodes(this.cap * 2);
    return this.hi++;
  }

  private growNodes(n: number): void {
    n = Math.max(n, MIN_CAPACITY);
    if (this.cap === 0) {
      this.parentCol = new Int32Array(n);
      this.prevCol = new Int32Array(n);
      this.nextCol = new Int32Array(n);
      this.aclCol = new Int32Array(n);
      this.recChunk = new Int32Array(n);
      this.recOff = new Int32Array(n);
      this.extCol = new Int32Array(n);
      this.czxidCol = new BigInt64Array(n);
      this.ctimeCol = new Float64Array(n);
      this.ownerCol = new Int32Array(n);
    } else {
      this.parentCol = growI32(this.parentCol, n);
      this.prevCol = growI32(this.prevCol, n);
      this.nextCol = growI32(this.nextCol, n);
      this.aclCol = growI32(this.aclCol, n);
      this.recChunk = growI32(this.recChunk, n);
      this.recOff = growI32(this.recOff, n);
      this.extCol = growI32(this.extCol, n);
      const cz = new BigInt64Array(n);
      cz.set(this.czxidCol);
      this.czxidCol = cz;
      const ct = new Float64Array(n);
      ct.set(this.ctimeCol);
      this.ctimeCol = ct;
      this.ownerCol = growI32(this.ownerCol, n);
    }
    this.cap = n;
  }

  /** The node's ext row, allocated with its defaults on first use. */
  private ext(id: number): number {
    let x = this.extCol[id]!;
    if (x !== NONE) return x;
    if (this.extFree.length > 0) {
      x = this.extFree.pop()!;
    } else {
      if (this.extHi === this.extCap) this.growExt(this.extCap * 2);
      x = this.extHi++;
    }
    const cz = this.czxidCol[id]!;
    this.xMzxid[x] = cz;
    this.xPzxid[x] = cz;
    this.xMtime[x] = this.ctimeCol[id]!;
    this.xVersion[x] = 0;
    this.xCversion[x] = 0;
    this.xAversion[x] = 0;
    this.xFirst[x] = NONE;
    this.xLast[x] = NONE;
    this.xNum[x] = 0;
    this.extCol[id] = x;
    return x;
  }

  private growExt(n: number): void {
    n = Math.max(n, MIN_CAPACITY);
    const b64 = (a: BigInt64Array): BigInt64Array<ArrayBuffer> => {
      const b = new BigInt64Array(n);
      b.set(a);
      return b;
    };
    this.xMzxid = b64(this.xMzxid);
    this.xPzxid = b64(this.xPzxid);
    const mt = new Float64Array(n);
    mt.set(this.xMtime);
    this.xMtime = mt;
    this.xVersion = growI32(this.xVersion, n);
    this.xCversion = growI32(this.xCversion, n);
    this.xAversion = growI32(this.xAversion, n);
    this.xFirst = growI32(this.xFirst, n);
    this.xLast = growI32(this.xLast, n);
    this.xNum = growI32(this.xNum, n);
    this.extCap = n;
  }

  private link(parent: number, id: number): void {
    const x = this.ext(parent);
    const last = this.xLast[x]!;
    this.prevCol[id] = last;
    this.nextCol[id] = NONE;
    if (last === NONE) this.xFirst[x] = id;
    else this.nextCol[last] = id;
    this.xLast[x] = id;
    this.xNum[x]!++;
  }

  private unlink(id: number): void {
    const x = this.extCol[this.parentCol[id]!]!;
    const prev = this.prevCol[id]!;
    const next = this.nextCol[id]!;
    if (prev === NONE) this.xFirst[x] = next;
    else this.nextCol[prev] = next;
    if (next === NONE) this.xLast[x] = prev;
    else this.prevCol[next] = prev;
    this.xNum[x]!--;
  }

  // --- internals: hash table -------------------------------------------------------------------

  /** The node's hash-table key hash, from its parent and name (kept nowhere: 4 B a node saved). */
  private hashOf(id: number): number {
    const buf = this.chunks[this.recChunk[id]!]!;
    let off = this.recOff[id]!;
    const nameLen = readVarint(buf, off);
    off += varintBytes(nameLen);
    off += varintBytes(readVarint(buf, off));
    return this.hashName(this.parentCol[id]!, buf, off, off + nameLen);
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
    return this.scratch.write(s, 0, 'utf8');
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
      if (this.parentCol[id] === parent && this.nameEqualsString(id, str, start, end)) return id;
    }
  }

  private nameEqualsString(id: number, str: string, start: number, end: number): boolean {
    const buf = this.chunks[this.recChunk[id]!]!;
    let off = this.recOff[id]!;
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
      if (this.parentCol[id] === parent && this.nameEquals(id, b, start, end)) return id;
    }
  }

  private nameEquals(id: number, b: Uint8Array, start: number, end: number): boolean {
    const buf = this.chunks[this.recChunk[id]!]!;
    let off = this.recOff[id]!;
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
      if (this.parentCol[id] === FREED) continue;
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
    this.recChunk[id] = c;
    this.recOff[id] = off;
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
    const c = this.recChunk[id]!;
    const size = this.recordSize(this.chunks[c]!, this.recOff[id]!);
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
      if (this.parentCol[id] === FREED) continue;
      const c = this.recChunk[id]!;
      if (moving[c] !== 1) continue;
      const buf = this.chunks[c]!;
      const off = this.recOff[id]!;
      const size = this.recordSize(buf, off);
      if (this.cur === NONE || this.chunkUsed[this.cur]! + size > this.chunkBytes) this.rollChunk();
      const to = this.cur;
      buf.copy(this.chunks[to]!, this.chunkUsed[to]!, off, off + size);
      this.recChunk[id] = to;
      this.recOff[id] = this.chunkUsed[to]!;
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
      if (this.parentCol[id] === FREED) continue;
      n++;
      const c = this.recChunk[id]!;
      assert.ok(this.chunks[c] !== null && this.chunks[c] !== undefined, `node ${id} in a dropped chunk`);
      live.set(c, (live.get(c) ?? 0) + this.recordSize(this.chunks[c]!, this.recOff[id]!));
      let k = 0;
      let last = NONE;
      for (let ch = this.firstChild(id); ch !== NONE; ch = this.nextCol[ch]!) {
        assert.equal(this.parentCol[ch], id);
        assert.equal(this.prevCol[ch], last);
        last = ch;
        k++;
      }
      assert.equal(k, this.numChildren(id));
      if (this.extCol[id] !== NONE) assert.equal(this.xLast[this.extCol[id]!], last);
      if (id !== ROOT) {
        const name = Buffer.from(this.name(id), 'utf8');
        assert.equal(this.find(this.parentCol[id]!, name, 0, name.length, this.hashOf(id)), id);
      }
    }
    assert.equal(n, this.count);
    const refs = new Map<number, number>();
    for (let id = 0; id < this.hi; id++) {
      if (this.parentCol[id] !== FREED && this.ownerCol[id] !== 0) refs.set(this.ownerCol[id]!, (refs.get(this.ownerCol[id]!) ?? 0) + 1);
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
