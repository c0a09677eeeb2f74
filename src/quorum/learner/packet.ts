// packet.ts — the learner protocol's one record, QuorumPacket {int type; long zxid; buffer data;
// vector<Id> authinfo} (ZAB.md §2), and the payloads the packet types carry in `data`. The quorum
// port has no length prefix: packets are written back to back, so encoding is plain jute and
// decoding a stream is stream-decoder.ts's job. Everything here is pure.
import { JuteDecodeError, JuteReader, JuteWriter } from '../../protocol/jute.js';
import { readId, writeId, type Id } from '../../protocol/records.js';
import { decodeTxnEntry, type TxnEntry } from '../../storage/txn-codec.js';

/** Leader.java's packet type codes. */
export const PacketType = {
  REQUEST: 1,
  PROPOSAL: 2,
  ACK: 3,
  COMMIT: 4,
  PING: 5,
  REVALIDATE: 6,
  SYNC: 7,
  INFORM: 8,
  COMMITANDACTIVATE: 9,
  NEWLEADER: 10,
  FOLLOWERINFO: 11,
  UPTODATE: 12,
  DIFF: 13,
  TRUNC: 14,
  SNAP: 15,
  OBSERVERINFO: 16,
  LEADERINFO: 17,
  ACKEPOCH: 18,
  INFORMANDACTIVATE: 19,
} as const;

const NAMES = new Map<number, string>(Object.entries(PacketType).map(([k, v]) => [v, k]));

/** The packet type's name as ZooKeeper logs it ("PING"), or "UNKNOWN(n)". */
export function packetTypeName(type: number): string {
  return NAMES.get(type) ?? `UNKNOWN(${type})`;
}

export interface QuorumPacket {
  type: number;
  zxid: bigint;
  data: Buffer | null;
  authinfo: readonly Id[] | null;
}

/** The protocol version learners and leaders of 3.4+ announce (0x10000). */
export const LEARNER_PROTOCOL_VERSION = 0x10000;

export function epochOf(zxid: bigint): bigint {
  return zxid >> 32n;
}

export function makeZxid(epoch: bigint, counter: bigint): bigint {
  return BigInt.asIntN(64, (epoch << 32n) | (counter & 0xffffffffn));
}

/** A zxid as ZooKeeper prints it: 0x plus unsigned hex. */
export function hexZxid(zxid: bigint): string {
  return '0x' + BigInt.asUintN(64, zxid).toString(16);
}

export function writePacket(w: JuteWriter, p: QuorumPacket): void {
  w.int(p.type).long(p.zxid).buffer(p.data);
  if (p.authinfo === null) {
    w.int(-1);
    return;
  }
  w.int(p.authinfo.length);
  for (const id of p.authinfo) writeId(w, id);
}

export function encodePacket(p: QuorumPacket): Buffer {
  const w = new JuteWriter(32 + (p.data?.length ?? 0));
  writePacket(w, p);
  return w.toBuffer();
}

/** One whole packet from a buffer that holds exactly it (tests, payloads in hand). */
export function decodePacket(buf: Buffer): QuorumPacket {
  const r = new JuteReader(buf);
  const type = r.int();
  const zxid = r.long();
  const data = r.bufferCopy();
  const n = r.vectorCount(8);
  let authinfo: Id[] | null = null;
  if (n !== null) {
    authinfo = [];
    for (let i = 0; i < n; i++) authinfo.push(readId(r));
  }
  if (r.remaining !== 0) throw new JuteDecodeError(`${r.remaining} bytes after the ${packetTypeName(type)} packet`);
  return { type, zxid, data, authinfo };
}

export function packet(type: number, zxid: bigint, data: Buffer | null = null, authinfo: readonly Id[] | null = null): QuorumPacket {
  return { type, zxid, data, authinfo };
}

// --- payloads ------------------------------------------------------------------------------

/** Reads `data` with `read`, which must consume all of it; names the packet on any failure. */
function payload<T>(data: Buffer | null, what: string, read: (r: JuteReader) => T): T {
  if (data === null) throw new JuteDecodeError(`${what}: no data`);
  const r = new JuteReader(data);
  let v: T;
  try {
    v = read(r);
  } catch (e) {
    if (e instanceof JuteDecodeError) throw new JuteDecodeError(`${what}: ${e.message}`);
    throw e;
  }
  if (r.remaining !== 0) throw new JuteDecodeError(`${what}: ${r.remaining} unexpected bytes after the payload`);
  return v;
}

/** LearnerInfo {long serverid; int protocolVersion; long configVersion}: FOLLOWERINFO / OBSERVERINFO data. */
export interface LearnerInfo {
  sid: bigint;
  protocolVersion: number;
  configVersion: bigint;
}

export function encodeLearnerInfo(li: LearnerInfo): Buffer {
  return new JuteWriter(20).long(li.sid).int(li.protocolVersion).long(li.configVersion).toBuffer();
}

export function decodeLearnerInfo(data: Buffer | null): LearnerInfo {
  // 3.4 learners send 12 bytes (no configVersion); LearnerHandler reads it as 0.
  return payload(data, 'LearnerInfo', (r) => ({ sid: r.long(), protocolVersion: r.int(), configVersion: r.remaining > 0 ? r.long() : 0n }));
}

/** LEADERINFO data: the leader's protocol version. ACKEPOCH data: the learner's currentEpoch, or -1. */
export function encodeInt(v: number): Buffer {
  return new JuteWriter(4).int(v).toBuffer();
}

export function decodeInt(data: Buffer | null, what: string): number {
  return payload(data, what, (r) => r.int());
}

/** COMMITANDACTIVATE data: the designated leader's sid. */
export function decodeLong(data: Buffer | null, what: string): bigint {
  return payload(data, what, (r) => r.long());
}

/** REQUEST data: the client's request as the learner got it (Learner.request). */
export interface ForwardedRequest {
  sessionId: bigint;
  cxid: number;
  type: number;
  /** The client's request record after the RequestHeader; may be empty (closeSession). */
  body: Buffer;
}

export function encodeRequest(req: ForwardedRequest): Buffer {
  const w = new JuteWriter(16 + req.body.length).long(req.sessionId).int(req.cxid).int(req.type);
  const out = w.toBuffer();
  return req.body.length === 0 ? out : Buffer.concat([out, req.body]);
}

export function decodeRequest(data: Buffer | null): ForwardedRequest {
  return payload(data, 'REQUEST', (r) => {
    const sessionId = r.long();
    const cxid = r.int();
    const type = r.int();
    const body = Buffer.from(r.buf.subarray(r.offset, r.end));
    r.offset = r.end;
    return { sessionId, cxid, type, body };
  });
}

/** One entry of a learner's PING touch list, and of a learner's REVALIDATE. */
export interface SessionTouch {
  sessionId: bigint;
  timeoutMs: number;
}

/** PING data from a learner: repeated {long sessionId; int timeout}; an empty buffer when none. */
export function encodeTouches(touches: Iterable<SessionTouch>): Buffer {
  const w = new JuteWriter(64);
  for (const t of touches) w.long(t.sessionId).int(t.timeoutMs);
  return w.toBuffer();
}

export function decodeTouches(data: Buffer | null): SessionTouch[] {
  if (data === null) return [];
  if (data.length % 12 !== 0) throw new JuteDecodeError(`PING touch list: ${data.length} bytes is not a multiple of 12`);
  const r = new JuteReader(data);
  const out: SessionTouch[] = [];
  while (r.remaining > 0) out.push({ sessionId: r.long(), timeoutMs: r.int() });
  return out;
}

/** REVALIDATE learner → leader: {long sessionId; int timeout}. */
export function encodeRevalidateRequest(t: SessionTouch): Buffer {
  return new JuteWriter(12).long(t.sessionId).int(t.timeoutMs).toBuffer();
}

export function decodeRevalidateRequest(data: Buffer | null): SessionTouch {
  return payload(data, 'REVALIDATE request', (r) => ({ sessionId: r.long(), timeoutMs: r.int() }));
}

/** REVALIDATE leader → learner: {long sessionId; boolean valid}. */
export interface RevalidateAnswer {
  sessionId: bigint;
  valid: boolean;
}

export function encodeRevalidateAnswer(a: RevalidateAnswer): Buffer {
  return new JuteWriter(9).long(a.sessionId).bool(a.valid).toBuffer();
}

export function decodeRevalidateAnswer(data: Buffer | null): RevalidateAnswer {
  return payload(data, 'REVALIDATE answer', (r) => ({ sessionId: r.long(), valid: r.bool() }));
}

/** PROPOSAL / INFORM data: a txn entry (header, record, optional TxnDigest). */
export function decodeTxnPayload(data: Buffer | null, what: string): TxnEntry {
  if (data === null) throw new JuteDecodeError(`${what}: no txn data`);
  try {
    return decodeTxnEntry(data);
  } catch (e) {
    if (e instanceof JuteDecodeError) throw new JuteDecodeError(`${what}: ${e.message}`);
    throw e;
  }
}

/** INFORMANDACTIVATE data: {long designatedLeader} then the txn entry (a reconfig SetDataTxn). */
export function decodeInformAndActivate(data: Buffer | null): { designatedLeader: bigint; entry: TxnEntry } {
  if (data === null || data.length < 8) throw new JuteDecodeError('INFORMANDACTIVATE: shorter than its leader id');
  return { designatedLeader: data.readBigInt64BE(0), entry: decodeTxnPayload(data.subarray(8), 'INFORMANDACTIVATE') };
}

/** NEWLEADER data: the leader's config text (server.N=… lines, version=<hex>), or null. */
export function decodeConfigText(data: Buffer | null): string | null {
  // Learner.syncWithLeader ignores data of one byte or less.
  return data === null || data.length <= 1 ? null : data.toString('utf8');
}
