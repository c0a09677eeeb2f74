// snapshot.ts — ZooKeeper's snapshot.<hex zxid> files (FileSnap, SnapStream, DataTree.serialize):
//   FileHeader {'ZKSN', 2, dbid -1}
//   sessions: int count, {long id; int timeoutMs}*
//   ACL table: int count, {long id; vector<ACL>}* — lists are numbered 1, 2, … per snapshot and
//     OPEN_ACL_UNSAFE is -1 and never listed (ReferenceCountedACLCache)
//   nodes in pre-order: {ustring path ("" for the root); buffer data; long acl; StatPersisted},
//     then ustring "/"
//   seal: long Adler32 of every byte so far, ustring "/"
//   ZxidDigest {long zxid; int version; long digest} and a second seal (3.6+, digest enabled)
//   long lastProcessedZxid and a third seal (3.9.5+, serializeLastProcessedZxid)
// Writing is synchronous serialization into chunks (the tree cannot change while it runs, so the
// snapshot is exact at tree.lastProcessedZxid), then an asynchronous write of those chunks to a
// temp file, fsync, rename and directory fsync.
import { readFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { ZktsError } from '../errors.js';
import { JuteDecodeError, JuteReader, JuteWriter } from '../protocol/jute.js';
import { readAclList, type ACL } from '../protocol/records.js';
import { OPEN_ACL_UNSAFE, aclKey } from '../tree/acl-cache.js';
import { DataTree } from '../tree/data-tree.js';
import { ZNode } from '../tree/znode.js';
import { adler32, Adler32 } from './adler32.js';
import { FILE_HEADER_BYTES, FORMAT_VERSION, SNAP_MAGIC, fsyncDir, snapshotName } from './data-files.js';
import { registerNode } from './tree-build.js';

export interface ZxidDigest {
  zxid: bigint;
  version: number;
  digest: bigint;
}

export interface SnapshotData {
  tree: DataTree;
  sessions: Map<bigint, number>;
  /** The digest ZooKeeper sealed in, when there is one (zxid 0 = none was known). */
  digest: ZxidDigest | null;
  /** The lastProcessedZxid section of 3.9.5+, when present. */
  lastProcessedZxid: bigint | null;
}

export interface SerializeOptions {
  digest?: ZxidDigest | null;
  lastProcessedZxid?: bigint | null;
  chunkBytes?: number;
}

const OPEN_KEY = aclKey(OPEN_ACL_UNSAFE);
const OPEN_ACL_ID = -1n;

const SURROGATE = /[\ud800-\udfff]/;

/**
 * A jute writer that cuts its output into chunks and keeps a running Adler32 of them. Longs go
 * through a DataView: Buffer.writeBigInt64BE is several times slower, and a snapshot writes six
 * per node while the event loop waits.
 */
class ChunkedWriter {
  readonly chunks: Buffer[] = [];
  private readonly sum = new Adler32();
  private buf = Buffer.alloc(0);
  private dv = new DataView(this.buf.buffer);
  private off = 0;

  constructor(private readonly chunkBytes: number) {
    this.fresh(chunkBytes);
  }

  private fresh(n: number): void {
    this.buf = Buffer.allocUnsafe(n);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.off = 0;
  }

  /** Ends the current chunk (when it is full enough, or always). */
  cut(force = false): void {
    if (this.off === 0 || (!force && this.off < this.chunkBytes - 4096)) return;
    const c = this.buf.subarray(0, this.off);
    this.sum.update(c);
    this.chunks.push(c);
    this.fresh(this.chunkBytes);
  }

  private need(n: number): void {
    if (this.off + n <= this.buf.length) return;
    this.cut(true);
    if (n > this.buf.length) this.fresh(n);
  }

  int(v: number): this {
    this.need(4);
    this.dv.setInt32(this.off, v);
    this.off += 4;
    return this;
  }

  long(v: bigint): this {
    this.need(8);
    this.dv.setBigInt64(this.off, v);
    this.off += 8;
    return this;
  }

  /** A long held as a JS number (times in ms): two halves, no BigInt. */
  longOfNumber(v: number): this {
    this.need(8);
    this.dv.setInt32(this.off, Math.floor(v / 4294967296));
    this.dv.setUint32(this.off + 4, v >>> 0);
    this.off += 8;
    return this;
  }

  buffer(b: Buffer | null): this {
    if (b === null) return this.int(-1);
    this.int(b.length);
    this.need(b.length);
    this.off += b.copy(this.buf, this.off);
    return this;
  }

  string(s: string): this {
    if (SURROGATE.test(s)) return this.buffer(new JuteWriter(s.length * 3 + 4).string(s).toBuffer().subarray(4));
    const len = Buffer.byteLength(s, 'utf8');
    this.int(len);
    this.need(len);
    this.off += this.buf.write(s, this.off, len, 'utf8');
    return this;
  }

  acl(list: readonly ACL[]): void {
    this.int(list.length);
    for (const a of list) this.int(a.perms).string(a.id.scheme).string(a.id.id);
  }

  /** SnapStream.sealStream: the checksum of everything so far, then "/". */
  seal(): void {
    this.cut(true);
    this.long(BigInt(this.sum.value)).string('/');
  }
}

/** Numbers the distinct ACL lists of the tree; OPEN_ACL_UNSAFE is -1. */
function aclTable(tree: DataTree): { ids: Map<readonly ACL[], bigint>; lists: [bigint, readonly ACL[]][] } {
  const ids = new Map<readonly ACL[], bigint>();
  const byKey = new Map<string, bigint>();
  const lists: [bigint, readonly ACL[]][] = [];
  for (const node of tree.nodes.values()) {
    if (ids.has(node.acl)) continue;
    const k = aclKey(node.acl);
    let id = k === OPEN_KEY ? OPEN_ACL_ID : byKey.get(k);
    if (id === undefined) {
      id = BigInt(lists.length + 1);
      byKey.set(k, id);
      lists.push([id, node.acl]);
    }
    ids.set(node.acl, id);
  }
  return { ids, lists };
}

/** The whole snapshot file as chunks. Synchronous: the tree is read at one instant. */
export function serializeSnapshot(tree: DataTree, sessions: ReadonlyMap<bigint, number>, opts: SerializeOptions = {}): Buffer[] {
  const w = new ChunkedWriter(opts.chunkBytes ?? 1 << 20);
  w.int(SNAP_MAGIC).int(FORMAT_VERSION).long(-1n);
  w.int(sessions.size);
  for (const [id, timeoutMs] of sessions) w.long(id).int(timeoutMs);
  const { ids, lists } = aclTable(tree);
  w.int(lists.length);
  for (const [id, acl] of lists) {
    w.long(id);
    w.acl(acl);
  }
  const stack: string[] = ['/'];
  while (stack.length > 0) {
    const path = stack.pop()!;
    const n = tree.nodes.get(path)!;
    w.string(path === '/' ? '' : path).buffer(n.data).long(ids.get(n.acl)!);
    w.long(n.czxid).long(n.mzxid).longOfNumber(n.ctime).longOfNumber(n.mtime);
    w.int(n.version).int(n.cversion).int(n.aversion).long(n.ephemeralOwner).long(n.pzxid);
    if (n.children !== null && n.children.size > 0) {
      const prefix = path === '/' ? '/' : path + '/';
      for (const kid of n.children) stack.push(prefix + kid); // any pre-order will do
    }
    w.cut();
  }
  w.string('/');
  w.seal();
  if (opts.digest) {
    w.long(opts.digest.zxid).int(opts.digest.version).long(opts.digest.digest);
    w.seal();
  }
  if (opts.lastProcessedZxid !== undefined && opts.lastProcessedZxid !== null) {
    w.long(opts.lastProcessedZxid);
    w.seal();
  }
  w.cut(true);
  return w.chunks;
}

function snapError(file: string, what: string): ZktsError {
  return new ZktsError('ZKTS_ERR_DISK', `snapshot ${file} is unusable: ${what}`);
}

/** Reads a seal at r.offset: the checksum must cover every byte before it. */
function checkSeal(buf: Buffer, r: JuteReader, file: string): void {
  const at = r.offset;
  const expected = adler32(buf, 1, 0, at);
  const stored = r.long();
  if (stored !== BigInt(expected)) throw snapError(file, `checksum mismatch at offset ${at} (CRC corruption)`);
  if (r.ustring() !== '/') throw snapError(file, `no "/" after the checksum at offset ${at}`);
}

/** Parses a whole (uncompressed) snapshot. Throws ZktsError('ZKTS_ERR_DISK') on any damage. */
export function parseSnapshot(buf: Buffer, file: string, opts: { extendedTypesEnabled?: boolean } = {}): SnapshotData {
  try {
    return parseUnchecked(buf, file, opts);
  } catch (e) {
    if (e instanceof JuteDecodeError) throw snapError(file, e.message);
    throw e;
  }
}

function parseUnchecked(buf: Buffer, file: string, opts: { extendedTypesEnabled?: boolean }): SnapshotData {
  const r = new JuteReader(buf);
  if (buf.length < FILE_HEADER_BYTES || r.int() !== SNAP_MAGIC) throw snapError(file, 'bad magic: not a ZooKeeper snapshot');
  const version = r.int();
  r.long(); // dbid
  if (version !== FORMAT_VERSION) throw snapError(file, `unsupported format version ${version}`);
  const sessionCount = r.vectorCount(12) ?? 0;
  const sessions = new Map<bigint, number>();
  for (let i = 0; i < sessionCount; i++) sessions.set(r.long(), r.int());
  const aclCount = r.vectorCount(12) ?? 0;
  const tree = new DataTree({ extendedTypesEnabled: opts.extendedTypesEnabled });
  const acls = new Map<bigint, readonly ACL[]>([[OPEN_ACL_ID, OPEN_ACL_UNSAFE]]);
  for (let i = 0; i < aclCount; i++) {
    const id = r.long();
    const list = readAclList(r);
    if (list === null) throw snapError(file, `ACL table entry ${id} has no list`);
    acls.set(id, tree.acls.intern(list));
  }
  tree.nodes.clear();
  for (let path = r.ustring(); path !== '/'; path = r.ustring()) {
    const data = r.bufferCopy();
    const aclId = r.long();
    const acl = acls.get(aclId);
    if (acl === undefined) throw snapError(file, `node ${path || '/'} refers to ACL ${aclId}, which the ACL table lacks`);
    const czxid = r.long();
    const node = new ZNode(data, acl, czxid, 0, 0n);
    node.mzxid = r.long();
    node.ctime = Number(r.long());
    node.mtime = Number(r.long());
    node.version = r.int();
    node.cversion = r.int();
    node.aversion = r.int();
    node.ephemeralOwner = r.long();
    node.pzxid = r.long();
    const err = registerNode(tree, path === '' ? '/' : path, node);
    if (err !== null) throw snapError(file, err);
  }
  if (!tree.nodes.has('/')) throw snapError(file, 'no root node');
  checkSeal(buf, r, file);
  let digest: ZxidDigest | null = null;
  let lastProcessedZxid: bigint | null = null;
  if (r.remaining === 8 + 13) {
    lastProcessedZxid = r.long(); // digest disabled, lastProcessedZxid enabled
    checkSeal(buf, r, file);
  } else if (r.remaining > 0) {
    const zxid = r.long();
    const v = r.int();
    const d = v < 2 ? BigInt.asIntN(64, BigInt('0x' + (r.string() ?? '0'))) : r.long();
    checkSeal(buf, r, file);
    if (zxid > 0n) digest = { zxid, version: v, digest: d };
    if (r.remaining >= 8 + 13) {
      lastProcessedZxid = r.long();
      checkSeal(buf, r, file);
    }
  }
  return { tree, sessions, digest, lastProcessedZxid };
}

/** SnapStream.isValidSnapshot for uncompressed files: long enough and ending with the "/" seal. */
export function looksSealed(buf: Buffer): boolean {
  if (buf.length < 10) return false;
  return buf.readInt32BE(buf.length - 5) === 1 && buf[buf.length - 1] === 0x2f;
}

/** Reads and parses a snapshot file (plain or .gz). */
export function readSnapshotFile(path: string, opts: { extendedTypesEnabled?: boolean } = {}): SnapshotData {
  let buf = readFileSync(path);
  if (path.endsWith('.snappy')) {
    throw new ZktsError('ZKTS_ERR_UNSUPPORTED', `snapshot ${path} is snappy-compressed, which zkts cannot read; restart ZooKeeper with zookeeper.snapshot.compression.method unset to write a plain one`);
  }
  if (path.endsWith('.gz')) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw snapError(path, `cannot gunzip: ${(e as Error).message}`);
    }
  }
  if (!looksSealed(buf)) throw snapError(path, 'truncated (no "/" seal at the end)');
  return parseSnapshot(buf, path, opts);
}

/** Writes chunks as `<dir>/snapshot.<hex zxid>`: temp file, fsync, rename, fsync of the directory. */
export async function writeSnapshotChunks(dir: string, zxid: bigint, chunks: readonly Buffer[]): Promise<string> {
  const name = snapshotName(zxid);
  const tmp = join(dir, `tmp.${name}`);
  const final = join(dir, name);
  try {
    const fh = await open(tmp, 'w');
    try {
      let pos = 0;
      for (const c of chunks) {
        let done = 0;
        while (done < c.length) {
          const { bytesWritten } = await fh.write(c, done, c.length - done, pos);
          done += bytesWritten;
          pos += bytesWritten;
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new ZktsError('ZKTS_ERR_DISK', `cannot write snapshot ${final}: ${(e as Error).message}`, { cause: e });
  }
  fsyncDir(dir);
  return final;
}
