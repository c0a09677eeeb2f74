// digest.ts — ZooKeeper's tree digest (DigestCalculator version 2, AdHash; ZAB.md §3.3): one
// CRC32 per node over its path, data and stat (czxid, mzxid, pzxid, ctime, mtime as longs;
// version, cversion, aversion as ints; ephemeralOwner), summed mod 2^64. Nodes under
// /zookeeper/ count 0 (/zookeeper itself counts); the root is hashed with path "".
// DataTree keeps the sum up to date on every change (NodeHashMapImpl's preChange/postChange);
// `treeDigest` computes it from scratch, for checks. The tree keeps each node's digest (4 bytes in
// its node store, as Java's DataNode keeps it: taking it out of the sum before a change costs
// nothing); the CRC32 of path and data it works out again when a node changes (a CRC32 over the
// path and the usually small data, then one over 60 bytes of stat).
// Short inputs (paths, stats, small data) are summed in JS: a call of zlib's crc32 costs more
// than the whole sum of 60 bytes; longer ones go to zlib, which is faster per byte.
import { crc32 as zlibCrc32 } from 'node:zlib';
import type { NodeFields } from './znode.js';

/** DigestCalculator.DIGEST_VERSION. */
export const DIGEST_VERSION = 2;

/** TxnDigest: the tree's digest after a txn, logged and sent with it (none with error txns). */
export interface TxnDigest {
  version: number;
  treeDigest: bigint;
}

/** The stat fields and data a node's digest covers: all it persists but its ACL. */
export type DigestFields = { -readonly [K in Exclude<keyof NodeFields, 'acl'>]: NodeFields[K] };

/** A node's digest fields with its cached CRC32 of path and data and its digest (unsigned; both 0 under /zookeeper/). */
export interface DigestState extends DigestFields {
  crc: number;
  digest: number;
}

const ZOOKEEPER_SUBTREE = '/zookeeper/';

/** Slice-by-8 tables of the CRC-32 (IEEE) polynomial, as zlib's. */
const T = new Int32Array(256 * 8);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n]!;
  for (let k = 1; k < 8; k++) {
    c = T[c & 0xff]! ^ (c >>> 8);
    T[k * 256 + n] = c;
  }
}

/** Above this many bytes zlib's crc32 is faster than the JS loop. */
const JS_CRC_MAX_BYTES = 128;

/** CRC32 of `buf` continuing from `crc` (unsigned), as zlib.crc32(buf, crc). */
export function crc32(buf: Uint8Array, crc = 0): number {
  const end = buf.length;
  if (end > JS_CRC_MAX_BYTES) return zlibCrc32(buf, crc);
  let c = ~crc;
  let i = 0;
  for (; i + 8 <= end; i += 8) {
    const a = (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)) ^ c;
    const b = buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24);
    c =
      T[1792 + (a & 0xff)]! ^ T[1536 + ((a >>> 8) & 0xff)]! ^ T[1280 + ((a >>> 16) & 0xff)]! ^ T[1024 + (a >>> 24)]! ^
      T[768 + (b & 0xff)]! ^ T[512 + ((b >>> 8) & 0xff)]! ^ T[256 + ((b >>> 16) & 0xff)]! ^ T[b >>> 24]!;
  }
  for (; i < end; i++) c = T[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC32 of a string's UTF-8 bytes (Java's path.getBytes()), as zlib.crc32(string). */
function crc32String(s: string): number {
  if (s.length > JS_CRC_MAX_BYTES) return zlibCrc32(s);
  let c = ~0;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 0x80) return zlibCrc32(s); // not ASCII: zlib encodes it as UTF-8
    c = T[(c ^ ch) & 0xff]! ^ (c >>> 8);
  }
  return ~c >>> 0;
}

/** Nodes under /zookeeper/ are left out of the digest (their quota stats change locally). */
export function digestExcluded(path: string): boolean {
  return path.startsWith(ZOOKEEPER_SUBTREE);
}

const statBuf = Buffer.alloc(60);
const stat = new DataView(statBuf.buffer, statBuf.byteOffset, 60);

function setTime(at: number, ms: number): void {
  stat.setInt32(at, Math.floor(ms / 4294967296));
  stat.setUint32(at + 4, ms >>> 0);
}

/** CRC32 of the path ("" for the root) and the data: where the node's digest resumes. */
export function digestCrcOf(path: string, data: Buffer | null): number {
  let crc = path === '/' ? 0 : crc32String(path);
  if (data !== null && data.length > 0) crc = crc32(data, crc);
  return crc;
}

/** The node's digest (unsigned 32-bit) from the CRC32 of its path and data. */
export function statDigest(crc: number, n: DigestFields): number {
  // DataView: Buffer.writeBigInt64BE is several times slower, and this runs on every change.
  stat.setBigInt64(0, n.czxid);
  stat.setBigInt64(8, n.mzxid);
  stat.setBigInt64(16, n.pzxid);
  setTime(24, n.ctime);
  setTime(32, n.mtime);
  stat.setInt32(40, n.version);
  stat.setInt32(44, n.cversion);
  stat.setInt32(48, n.aversion);
  stat.setBigInt64(52, n.ephemeralOwner);
  return crc32(statBuf, crc >>> 0);
}

/** DigestCalculator.calculateDigest for one node, from scratch (unsigned 32-bit). */
export function nodeDigest(path: string, n: DigestFields): number {
  if (digestExcluded(path)) return 0;
  return statDigest(digestCrcOf(path, n.data), n);
}

/** The digest of every node of the tree, from scratch: what the incremental one must equal. */
export function treeDigest(tree: { entries(): Iterable<[string, DigestFields]> }): bigint {
  const sum = new DigestSum();
  for (const [path, node] of tree.entries()) sum.add(nodeDigest(path, node));
  return sum.value;
}

const FOLD = 2 ** 52;

/**
 * A sum mod 2^64 of 32-bit digests (AdHash): added and removed as plain numbers, folded into a
 * bigint only when the number part could lose precision, so no BigInt work per change.
 */
export class DigestSum {
  private lo = 0;
  private hi = 0n;

  add(d: number): void {
    this.lo += d;
    if (this.lo >= FOLD) this.fold();
  }

  remove(d: number): void {
    this.lo -= d;
    if (this.lo <= -FOLD) this.fold();
  }

  private fold(): void {
    this.hi = BigInt.asIntN(64, this.hi + BigInt(this.lo));
    this.lo = 0;
  }

  /** Signed 64-bit, as Java's long. */
  get value(): bigint {
    return BigInt.asIntN(64, this.hi + BigInt(this.lo));
  }

  set(v: bigint): void {
    this.hi = BigInt.asIntN(64, v);
    this.lo = 0;
  }
}

/** One entry of the digest log (DataTree.ZxidDigest), kept every 128 zxids for `hash`. */
export interface ZxidDigest {
  zxid: bigint;
  digest: bigint;
}

const hex = (z: bigint): string => '0x' + BigInt.asUintN(64, z).toString(16);

/**
 * A DataTree.onDigestMismatch that logs through `log`: the first mismatch and then the 2nd, 4th,
 * 8th, … (a tree that diverged mismatches on every later txn; ZooKeeper rate-limits the same
 * line), each with its zxid and both digests.
 */
export function digestMismatchLogger(log: (level: 'error', msg: string) => void, where = 'txn') {
  return (zxid: bigint, expected: bigint, actual: bigint, count: number): void => {
    if ((count & (count - 1)) !== 0) return;
    log('error', `Digests are not matching at zxid ${hex(zxid)}: the ${where} digest is ${expected}, the tree's is ${actual} (${count} mismatch${count === 1 ? '' : 'es'} so far)`);
  };
}
