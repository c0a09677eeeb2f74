// snapshot.ts — reading ZooKeeper's snapshot.<hex zxid> files (FileSnap, SnapStream,
// DataTree.deserialize); the format is described in snapshot-writer.ts, which writes them.
// Reading is strict: any checksum, structure or reference that does not hold refuses the file
// (recovery then tries an older one).
import { readFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { ZktsError } from '../errors.js';
import { JuteDecodeError, JuteReader } from '../protocol/jute.js';
import { readAclList, type ACL } from '../protocol/records.js';
import { OPEN_ACL_UNSAFE } from '../tree/acl-cache.js';
import { DataTree } from '../tree/data-tree.js';
import { adler32 } from './adler32.js';
import { FILE_HEADER_BYTES, FORMAT_VERSION, SNAP_MAGIC, fsyncDirAsync, snapshotName } from './data-files.js';
import type { ZxidDigest } from './snapshot-writer.js';

export { serializeSnapshot, type SerializeOptions, type ZxidDigest } from './snapshot-writer.js';

const OPEN_ACL_ID = -1n;

export interface SnapshotData {
  tree: DataTree;
  sessions: Map<bigint, number>;
  /** The digest ZooKeeper sealed in, when there is one (zxid 0 = none was known). */
  digest: ZxidDigest | null;
  /** The lastProcessedZxid section of 3.9.5+, when present. */
  lastProcessedZxid: bigint | null;
}

function snapError(file: string, what: string): ZktsError {
  return new ZktsError('ZKTS_ERR_DISK', `snapshot ${file} is unusable: ${what}`);
}

/** The checksum over buf[0, at): each seal continues it, so the file is summed once. */
interface SealState {
  at: number;
  value: number;
}

/** Reads a seal at r.offset: the checksum must cover every byte before it. */
function checkSeal(buf: Buffer, r: JuteReader, file: string, seal: SealState): void {
  const at = r.offset;
  const expected = adler32(buf, seal.value, seal.at, at);
  seal.at = at;
  seal.value = expected;
  const stored = r.long();
  if (stored !== BigInt(expected)) throw snapError(file, `checksum mismatch at offset ${at} (CRC corruption)`);
  if (r.ustring() !== '/') throw snapError(file, `no "/" after the checksum at offset ${at}`);
}

// A node's longs are read without a bigint each where they repeat: most nodes were never
// changed (mzxid = czxid), leaves have pzxid = czxid, and most are not ephemeral. A tree of
// 1,000,000 nodes loads with ~3 million fewer objects (faster, and less memory once loaded).
const NO_OWNER = 0n;

/** The long at r.offset, as the bigint `a` (or `b`) when the 8 bytes at `aAt` (or `bAt`) hold the same value. */
function longOrSame(r: JuteReader, a: bigint, aAt: number, b?: bigint, bAt?: number): bigint {
  const buf = r.buf;
  const at = r.offset;
  if (r.remaining >= 8) {
    const hi = buf.readInt32BE(at);
    const lo = buf.readInt32BE(at + 4);
    if (hi === buf.readInt32BE(aAt) && lo === buf.readInt32BE(aAt + 4)) {
      r.offset = at + 8;
      return a;
    }
    if (b !== undefined && bAt !== undefined && hi === buf.readInt32BE(bAt) && lo === buf.readInt32BE(bAt + 4)) {
      r.offset = at + 8;
      return b;
    }
  }
  return r.long();
}

/** The long at r.offset, as the shared 0n when it is zero. */
function longOrZero(r: JuteReader): bigint {
  if (r.remaining >= 8 && r.buf.readInt32BE(r.offset) === 0 && r.buf.readInt32BE(r.offset + 4) === 0) {
    r.offset += 8;
    return NO_OWNER;
  }
  return r.long();
}

/** A long read as a number (times in ms): Number(r.long()) without the bigint. */
function longAsNumber(r: JuteReader): number {
  const hi = r.int();
  return hi * 4294967296 + (r.int() >>> 0);
}

/** Parses a whole (uncompressed) snapshot. Throws ZktsError('ZKTS_ERR_DISK') on any damage. */
/** How to build the tree a snapshot is read into. */
export interface ParseOptions {
  extendedTypesEnabled?: boolean;
  /** zookeeper.digest.enabled (default true). */
  digestEnabled?: boolean;
  /** Told every `progressEvery` nodes read (for progress logs of large snapshots). */
  onProgress?: (nodes: number) => void;
  progressEvery?: number;
}

export function parseSnapshot(buf: Buffer, file: string, opts: ParseOptions = {}): SnapshotData {
  try {
    return parseUnchecked(buf, file, opts);
  } catch (e) {
    if (e instanceof JuteDecodeError) throw snapError(file, e.message);
    throw e;
  }
}

function parseUnchecked(buf: Buffer, file: string, opts: ParseOptions): SnapshotData {
  const r = new JuteReader(buf);
  const seal: SealState = { at: 0, value: 1 };
  if (buf.length < FILE_HEADER_BYTES || r.int() !== SNAP_MAGIC) throw snapError(file, 'bad magic: not a ZooKeeper snapshot');
  const version = r.int();
  r.long(); // dbid
  if (version !== FORMAT_VERSION) throw snapError(file, `unsupported format version ${version}`);
  const sessionCount = r.vectorCount(12) ?? 0;
  const sessions = new Map<bigint, number>();
  for (let i = 0; i < sessionCount; i++) sessions.set(r.long(), r.int());
  const aclCount = r.vectorCount(12) ?? 0;
  const tree = new DataTree({ extendedTypesEnabled: opts.extendedTypesEnabled, digestEnabled: opts.digestEnabled });
  const acls = new Map<bigint, readonly ACL[]>([[OPEN_ACL_ID, OPEN_ACL_UNSAFE]]);
  for (let i = 0; i < aclCount; i++) {
    const id = r.long();
    const list = readAclList(r);
    if (list === null) throw snapError(file, `ACL table entry ${id} has no list`);
    acls.set(id, tree.acls.intern(list));
  }
  tree.clear();
  const every = opts.onProgress === undefined ? 0 : Math.max(1, opts.progressEvery ?? 100_000);
  let count = 0;
  for (let path = r.ustring(); path !== '/'; path = r.ustring()) {
    const data = r.buffer(); // a view: loadNode copies it into the tree's store
    const aclId = r.long();
    const acl = acls.get(aclId);
    if (acl === undefined) throw snapError(file, `node ${path || '/'} refers to ACL ${aclId}, which the ACL table lacks`);
    const czxidAt = r.offset;
    const czxid = r.long();
    const mzxidAt = r.offset;
    const mzxid = longOrSame(r, czxid, czxidAt);
    const ctime = longAsNumber(r);
    const mtime = longAsNumber(r);
    const version = r.int();
    const cversion = r.int();
    const aversion = r.int();
    const ephemeralOwner = longOrZero(r);
    const pzxid = longOrSame(r, czxid, czxidAt, mzxid, mzxidAt);
    const fields = { data, acl, czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner };
    const err = tree.loadNode(path === '' ? '/' : path, fields);
    if (err !== null) throw snapError(file, err);
    if (every > 0 && ++count % every === 0) opts.onProgress!(count);
  }
  if (!tree.has('/')) throw snapError(file, 'no root node');
  tree.resetDigest();
  checkSeal(buf, r, file, seal);
  let digest: ZxidDigest | null = null;
  let lastProcessedZxid: bigint | null = null;
  if (r.remaining === 8 + 13) {
    lastProcessedZxid = r.long(); // digest disabled, lastProcessedZxid enabled
    checkSeal(buf, r, file, seal);
  } else if (r.remaining > 0) {
    const zxid = r.long();
    const v = r.int();
    const d = v < 2 ? BigInt.asIntN(64, BigInt('0x' + (r.string() ?? '0'))) : r.long();
    checkSeal(buf, r, file, seal);
    if (zxid > 0n) digest = { zxid, version: v, digest: d };
    if (r.remaining >= 8 + 13) {
      lastProcessedZxid = r.long();
      checkSeal(buf, r, file, seal);
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
export function readSnapshotFile(path: string, opts: ParseOptions = {}): SnapshotData {
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
  await fsyncDirAsync(dir);
  return final;
}
