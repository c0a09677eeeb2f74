// tree-digest.ts — ZooKeeper's tree digest (DigestCalculator version 2, ZAB.md §3.3) computed over
// a whole tree: the sum mod 2^64 of one CRC32 per node over its path, data and stat. Nodes under
// /zookeeper/ count 0 (/zookeeper itself counts) and the root is hashed with path "". Storage
// uses it to seal snapshots and to check a recovered tree against the digest ZooKeeper logged;
// the incremental digest that follows every txn belongs to the tree.
import { crc32 } from 'node:zlib';
import type { DataTree } from '../tree/data-tree.js';
import type { ZNode } from '../tree/znode.js';

export const DIGEST_VERSION = 2;
const ZOOKEEPER_SUBTREE = '/zookeeper/';

const statBuf = Buffer.alloc(60);
const stat = new DataView(statBuf.buffer, statBuf.byteOffset, 60);

function setTime(at: number, ms: number): void {
  stat.setInt32(at, Math.floor(ms / 4294967296));
  stat.setUint32(at + 4, ms >>> 0);
}

/** DigestCalculator.calculateDigest for one node (unsigned 32-bit). */
export function nodeDigest(path: string, node: ZNode): number {
  if (path.startsWith(ZOOKEEPER_SUBTREE)) return 0;
  // DataView: Buffer.writeBigInt64BE is several times slower, and this runs once per node.
  stat.setBigInt64(0, node.czxid);
  stat.setBigInt64(8, node.mzxid);
  stat.setBigInt64(16, node.pzxid);
  setTime(24, node.ctime);
  setTime(32, node.mtime);
  stat.setInt32(40, node.version);
  stat.setInt32(44, node.cversion);
  stat.setInt32(48, node.aversion);
  stat.setBigInt64(52, node.ephemeralOwner);
  let crc = path === '/' ? 0 : crc32(path);
  if (node.data !== null && node.data.length > 0) crc = crc32(node.data, crc);
  return crc32(statBuf, crc);
}

/** The digest of the whole tree, as a signed 64-bit value (Java's long). */
export function treeDigest(tree: DataTree): bigint {
  // Sum in two float-safe halves: a 32-bit digest times up to 2^21 nodes stays below 2^53.
  let lo = 0;
  let hi = 0n;
  let n = 0;
  for (const [path, node] of tree.nodes) {
    lo += nodeDigest(path, node);
    if (++n === 1 << 20) {
      hi += BigInt(lo);
      lo = 0;
      n = 0;
    }
  }
  return BigInt.asIntN(64, hi + BigInt(lo));
}
