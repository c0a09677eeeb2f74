// records.ts — the data records shared by client and server (zookeeper.jute, module data):
// Id, ACL, Stat, and their codecs.
import { JuteReader, JuteWriter } from './jute.js';

export interface Id {
  scheme: string;
  id: string;
}

export interface ACL {
  perms: number;
  id: Id;
}

export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

/** The encoded size of a Stat: 6 longs and 5 ints. */
export const STAT_BYTES = 68;

export function writeStat(w: JuteWriter, s: Stat): void {
  w.long(s.czxid).long(s.mzxid).long(s.ctime).long(s.mtime);
  w.int(s.version).int(s.cversion).int(s.aversion);
  w.long(s.ephemeralOwner).int(s.dataLength).int(s.numChildren).long(s.pzxid);
}

export function readStat(r: JuteReader): Stat {
  return {
    czxid: r.long(),
    mzxid: r.long(),
    ctime: r.long(),
    mtime: r.long(),
    version: r.int(),
    cversion: r.int(),
    aversion: r.int(),
    ephemeralOwner: r.long(),
    dataLength: r.int(),
    numChildren: r.int(),
    pzxid: r.long(),
  };
}

export function readId(r: JuteReader): Id {
  return { scheme: r.ustring(), id: r.ustring() };
}

export function writeId(w: JuteWriter, id: Id): void {
  w.string(id.scheme).string(id.id);
}

/** An ACL list; null (count -1) reads as null so the caller can answer InvalidACL. */
export function readAclList(r: JuteReader): ACL[] | null {
  const n = r.vectorCount(12);
  if (n === null) return null;
  const out = new Array<ACL>(n);
  for (let i = 0; i < n; i++) out[i] = { perms: r.int(), id: readId(r) };
  return out;
}

export function writeAclList(w: JuteWriter, acl: readonly ACL[] | null): void {
  if (acl === null) {
    w.int(-1);
    return;
  }
  w.int(acl.length);
  for (const a of acl) {
    w.int(a.perms);
    writeId(w, a.id);
  }
}
