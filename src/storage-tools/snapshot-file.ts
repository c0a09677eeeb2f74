// snapshot-file.ts — a snapshot file read as it lies on disk, for the dump tools: the header, the
// session table, the ACL table, every node record in file order, and the seals with whether each
// checksum holds. Unlike recovery (storage/snapshot.ts), which refuses a damaged file, this reads
// as far as the bytes allow and says where and why it stopped, so an operator can look at a
// broken snapshot too. Format: see storage/snapshot.ts.
import { gunzipSync } from 'node:zlib';
import { JuteDecodeError, JuteReader } from '../protocol/jute.js';
import { readAclList, type ACL } from '../protocol/records.js';
import { adler32 } from '../storage/adler32.js';

export interface SnapshotNodeRecord {
  /** As written: "" for the root. */
  path: string;
  data: Buffer | null;
  /** The ACL table id; -1 is OPEN_ACL_UNSAFE. */
  aclId: bigint;
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  pzxid: bigint;
}

export interface SealCheck {
  offset: number;
  stored: bigint;
  computed: number;
  ok: boolean;
}

export interface SnapshotImage {
  magic: number;
  version: number;
  dbid: bigint;
  /** Session id → timeout in ms, in file order. */
  sessions: [bigint, number][];
  acls: [bigint, ACL[] | null][];
  nodes: SnapshotNodeRecord[];
  seals: SealCheck[];
  digest: { zxid: bigint; version: number; digest: bigint } | null;
  lastProcessedZxid: bigint | null;
  /** Why reading stopped before the end of the format, or null when the file is whole. */
  problem: string | null;
}

export const SNAP_MAGIC = 0x5a4b534e; // "ZKSN"

/** The bytes of a snapshot file: gunzipped when it is a .gz; snappy is refused. */
export function snapshotBytes(raw: Buffer, name: string): Buffer {
  if (name.endsWith('.snappy')) throw new Error(`${name} is snappy-compressed, which zkts cannot read`);
  if (name.endsWith('.gz')) return gunzipSync(raw);
  return raw;
}

function seal(buf: Buffer, r: JuteReader): SealCheck {
  const offset = r.offset;
  const computed = adler32(buf, 1, 0, offset);
  const stored = r.long();
  const slash = r.ustring();
  if (slash !== '/') throw new JuteDecodeError(`no "/" after the checksum at offset ${offset}`);
  return { offset, stored, computed, ok: stored === BigInt(computed) };
}

function readNode(r: JuteReader, path: string): SnapshotNodeRecord {
  return {
    path,
    data: r.bufferCopy(),
    aclId: r.long(),
    czxid: r.long(),
    mzxid: r.long(),
    ctime: r.long(),
    mtime: r.long(),
    version: r.int(),
    cversion: r.int(),
    aversion: r.int(),
    ephemeralOwner: r.long(),
    pzxid: r.long(),
  };
}

/** Reads everything a snapshot holds; `problem` names what stopped it early. */
export function readSnapshotImage(buf: Buffer): SnapshotImage {
  const img: SnapshotImage = {
    magic: 0,
    version: 0,
    dbid: 0n,
    sessions: [],
    acls: [],
    nodes: [],
    seals: [],
    digest: null,
    lastProcessedZxid: null,
    problem: null,
  };
  const r = new JuteReader(buf);
  try {
    img.magic = r.int();
    img.version = r.int();
    img.dbid = r.long();
    if (img.magic !== SNAP_MAGIC) throw new JuteDecodeError(`bad magic 0x${(img.magic >>> 0).toString(16)}: not a ZooKeeper snapshot`);
    const sessionCount = r.vectorCount(12) ?? 0;
    for (let i = 0; i < sessionCount; i++) img.sessions.push([r.long(), r.int()]);
    const aclCount = r.vectorCount(12) ?? 0;
    for (let i = 0; i < aclCount; i++) img.acls.push([r.long(), readAclList(r)]);
    for (let path = r.ustring(); path !== '/'; path = r.ustring()) img.nodes.push(readNode(r, path));
    img.seals.push(seal(buf, r));
    if (r.remaining === 8 + 13) {
      img.lastProcessedZxid = r.long();
      img.seals.push(seal(buf, r));
    } else if (r.remaining > 0) {
      const zxid = r.long();
      const version = r.int();
      img.digest = { zxid, version, digest: r.long() };
      img.seals.push(seal(buf, r));
      if (r.remaining >= 8 + 13) {
        img.lastProcessedZxid = r.long();
        img.seals.push(seal(buf, r));
      }
    }
    if (r.remaining > 0) img.problem = `${r.remaining} unexpected bytes after offset ${r.offset}`;
  } catch (e) {
    if (!(e instanceof JuteDecodeError)) throw e;
    img.problem = `${e.message} (at offset ${r.offset})`;
  }
  const bad = img.seals.find((s) => !s.ok);
  if (img.problem === null && bad !== undefined) {
    img.problem = `checksum mismatch at offset ${bad.offset}: stored ${bad.stored}, computed ${bad.computed}`;
  }
  return img;
}
