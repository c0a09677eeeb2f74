// txn-codec.ts — a txn as ZooKeeper writes it in its log and in PROPOSAL packets
// (Util.marshallTxnEntry / SerializeUtils.deserializeTxn): TxnHeader, then the record the header
// type selects, then an optional TxnDigest. Decoding is as lenient as ZooKeeper's: a create
// without parentCVersion (CreateTxnV0, pre-3.3 logs) reads as parentCVersion -1, and a
// closeSession without a body (before 3.6, or zookeeper.closeSessionTxn.enabled=false) reads as
// a body-less close that deletes whatever ephemerals the tree knows for the session.
import { JuteDecodeError, JuteReader, JuteWriter } from '../protocol/jute.js';
import { OpCode, opName } from '../protocol/opcodes.js';
import { readAclList, writeAclList, type ACL } from '../protocol/records.js';
import type { TxnDigest } from '../tree/digest.js';
import type { CloseSessionTxn, Txn, TxnHeader } from '../tree/txn.js';

/** TxnDigest: the tree digest after the txn applies (ZAB.md §3.3). Version 2 today. */
export type { TxnDigest };

/** A closeSession logged without its CloseSessionTxn record. */
export interface BodylessCloseSessionTxn {
  type: typeof OpCode.closeSession;
  paths2Delete: null;
}

/** What a log entry may hold: any txn, or a body-less closeSession from an older ZooKeeper. */
export type LoggedTxn = Txn | BodylessCloseSessionTxn;

export interface TxnEntry {
  hdr: TxnHeader;
  txn: LoggedTxn;
  digest: TxnDigest | null;
}

/** TxnHeader {long clientId; int cxid; long zxid; long time; int type}: 32 bytes. */
export const TXN_HEADER_BYTES = 32;
const DIGEST_BYTES = 12;

export function writeTxnHeader(w: JuteWriter, hdr: TxnHeader): void {
  w.long(hdr.clientId).int(hdr.cxid).long(hdr.zxid).long(BigInt(hdr.time)).int(hdr.type);
}

export function readTxnHeader(r: JuteReader): TxnHeader {
  const clientId = r.long();
  const cxid = r.int();
  const zxid = r.long();
  // time, a long read as a number without a bigint in between: high int × 2^32 is exact, and
  // adding the unsigned low int rounds once, as Number(bigint) does
  const timeHigh = r.int();
  const time = timeHigh * 4294967296 + (r.int() >>> 0);
  const type = r.int();
  return { clientId, cxid, zxid, time, type };
}

/** The txn record alone (what a multi's Txn entry holds as its data). */
export function writeTxnRecord(w: JuteWriter, txn: LoggedTxn): void {
  switch (txn.type) {
    case OpCode.create:
    case OpCode.create2:
      w.string(txn.path).buffer(txn.data);
      writeAclList(w, txn.acl);
      w.bool(txn.ephemeral).int(txn.parentCVersion);
      return;
    case OpCode.createContainer:
      w.string(txn.path).buffer(txn.data);
      writeAclList(w, txn.acl);
      w.int(txn.parentCVersion);
      return;
    case OpCode.createTTL:
      w.string(txn.path).buffer(txn.data);
      writeAclList(w, txn.acl);
      w.int(txn.parentCVersion).long(txn.ttl);
      return;
    case OpCode.delete:
    case OpCode.deleteContainer:
      w.string(txn.path);
      return;
    case OpCode.setData:
      w.string(txn.path).buffer(txn.data).int(txn.version);
      return;
    case OpCode.setACL:
      w.string(txn.path);
      writeAclList(w, txn.acl);
      w.int(txn.version);
      return;
    case OpCode.check:
      w.string(txn.path).int(txn.version);
      return;
    case OpCode.createSession:
      w.int(txn.timeOut);
      return;
    case OpCode.closeSession:
      if (txn.paths2Delete !== null) w.stringVector(txn.paths2Delete);
      return;
    case OpCode.error:
      w.int(txn.err);
      return;
    case OpCode.multi: {
      w.int(txn.txns.length);
      const sub = new JuteWriter(64);
      for (const t of txn.txns) {
        sub.reset();
        writeTxnRecord(sub, t);
        w.int(t.type).buffer(sub.buf.subarray(0, sub.offset));
      }
      return;
    }
  }
}

function acl(r: JuteReader): ACL[] {
  return readAclList(r) ?? [];
}

/** Reads the record that header type `type` selects; throws JuteDecodeError if it is short. */
export function readTxnRecord(r: JuteReader, type: number): Txn {
  switch (type) {
    case OpCode.create:
    case OpCode.create2: {
      const start = r.offset;
      try {
        return { type, path: r.ustring(), data: r.bufferCopy(), acl: acl(r), ephemeral: r.bool(), parentCVersion: r.int() };
      } catch (e) {
        if (!(e instanceof JuteDecodeError) || type !== OpCode.create) throw e;
        r.offset = start; // CreateTxnV0: no parentCVersion; -1 means "increment" at apply
        return { type, path: r.ustring(), data: r.bufferCopy(), acl: acl(r), ephemeral: r.bool(), parentCVersion: -1 };
      }
    }
    case OpCode.createContainer:
      return { type, path: r.ustring(), data: r.bufferCopy(), acl: acl(r), parentCVersion: r.int() };
    case OpCode.createTTL:
      return { type, path: r.ustring(), data: r.bufferCopy(), acl: acl(r), parentCVersion: r.int(), ttl: r.long() };
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type, path: r.ustring() };
    case OpCode.setData:
    case OpCode.reconfig: // reconfig logs a SetDataTxn on /zookeeper/config
      return { type: OpCode.setData, path: r.ustring(), data: r.bufferCopy(), version: r.int() };
    case OpCode.setACL:
      return { type, path: r.ustring(), acl: acl(r), version: r.int() };
    case OpCode.check:
      return { type, path: r.ustring(), version: r.int() };
    case OpCode.createSession:
      return { type, timeOut: r.int() };
    case OpCode.closeSession:
      return { type, paths2Delete: r.stringVector() ?? [] };
    case OpCode.error:
      return { type, err: r.int() };
    case OpCode.multi: {
      const n = r.vectorCount(8) ?? 0;
      const txns: Txn[] = [];
      for (let i = 0; i < n; i++) {
        const subType = r.int();
        const data = r.buffer() ?? Buffer.alloc(0);
        txns.push(readTxnRecord(new JuteReader(data), subType));
      }
      return { type, txns };
    }
    default:
      throw new JuteDecodeError(`unsupported txn type ${opName(type)}`);
  }
}

/** The txn bytes of one log entry or PROPOSAL: header, record, optional digest. */
export function encodeTxnEntry(hdr: TxnHeader, txn: LoggedTxn, digest: TxnDigest | null = null, w = new JuteWriter(256)): Buffer {
  w.reset();
  writeTxnHeader(w, hdr);
  writeTxnRecord(w, txn);
  if (digest !== null) w.int(digest.version).long(digest.treeDigest);
  return w.toBuffer();
}

/** 12 bytes that are a CloseSessionTxn of one 4-byte path ({1, 4, "/..."}), not a TxnDigest. */
function isOnePathClose(r: JuteReader): boolean {
  const b = r.buf;
  const o = r.offset;
  return b.readInt32BE(o) === 1 && b.readInt32BE(o + 4) === 4 && b[o + 8] === 0x2f;
}

function readCloseSession(r: JuteReader): CloseSessionTxn | BodylessCloseSessionTxn {
  // Body-less: nothing, or only a TxnDigest. A CloseSessionTxn with a digest takes at least 16
  // bytes; one without takes 12 only with a single 4-byte path.
  if (r.remaining === 0 || (r.remaining === DIGEST_BYTES && !isOnePathClose(r))) {
    return { type: OpCode.closeSession, paths2Delete: null };
  }
  return readTxnRecord(r, OpCode.closeSession) as CloseSessionTxn;
}

/** Decodes txn bytes; throws JuteDecodeError on a record it cannot read. */
export function decodeTxnEntry(bytes: Buffer): TxnEntry {
  const r = new JuteReader(bytes);
  const hdr = readTxnHeader(r);
  const txn = hdr.type === OpCode.closeSession ? readCloseSession(r) : readTxnRecord(r, hdr.type);
  let digest: TxnDigest | null = null;
  if (r.remaining >= DIGEST_BYTES) digest = { version: r.int(), treeDigest: r.long() };
  return { hdr, txn, digest };
}
