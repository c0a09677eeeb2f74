// txnlog-dump.ts — `zkts txnlog dump`: a txn log file as ZooKeeper's TxnLogToolkit prints it in
// dump mode (one line per txn: time, session, cxid, zxid, op, and the txn as Java's toString or
// TxnLogToolkit's own formatting renders it; "CRC ERROR - " before a txn whose checksum fails;
// "EOF reached after N txns." where the log ends), or as a JSON document with every field and
// the TxnDigest. The walk is TxnLogToolkit's: a zero length or the end of the file ends the
// log, a checksum mismatch is reported and the walk goes on, a missing 'B' stops it.
import { JuteDecodeError, JuteReader, decodeJavaUtf8 } from '../protocol/jute.js';
import { adler32 } from '../storage/adler32.js';
import { decodeTxnEntry } from '../storage/txn-codec.js';
import { javaLongHex, javaOpName, javaShortLongDate, juteEscapeString } from './java-text.js';

export const TXNLOG_MAGIC = 0x5a4b4c47; // "ZKLG"
/** zkts's limit on one txn (2 × jute.maxbuffer), as recovery uses. */
export const DUMP_MAX_TXN_BYTES = 2 * 0xfffff;

export interface LogHeader {
  magic: number;
  version: number;
  dbid: bigint;
}

export interface LogEntry {
  offset: number;
  storedCrc: bigint;
  computedCrc: number;
  bytes: Buffer;
}

export type LogEnd =
  | { kind: 'eof'; offset: number } // end of file or zero length: "EOF reached after N txns."
  | { kind: 'partial'; offset: number } // no 'B' after a txn: "Last transaction was partial."
  | { kind: 'unreasonable'; offset: number; length: number };

export interface LogWalk {
  header: LogHeader | null;
  entries: Generator<LogEntry, LogEnd>;
}

/** Walks a log file's entries as TxnLogToolkit.dump does. `header` is null when the file is too short for one. */
export function walkTxnLog(buf: Buffer, maxTxnBytes = DUMP_MAX_TXN_BYTES): LogWalk {
  if (buf.length < 16) return { header: null, entries: (function* (): Generator<LogEntry, LogEnd> { return { kind: 'eof', offset: 0 }; })() };
  const header = { magic: buf.readInt32BE(0), version: buf.readInt32BE(4), dbid: buf.readBigInt64BE(8) };
  function* entries(): Generator<LogEntry, LogEnd> {
    let at = 16;
    for (;;) {
      if (at + 12 > buf.length) return { kind: 'eof', offset: at };
      const storedCrc = buf.readBigInt64BE(at);
      const len = buf.readInt32BE(at + 8);
      if (len < 0 || len > maxTxnBytes) return { kind: 'unreasonable', offset: at, length: len };
      if (at + 12 + len > buf.length || len === 0) return { kind: 'eof', offset: at };
      const bytes = buf.subarray(at + 12, at + 12 + len);
      yield { offset: at, storedCrc, computedCrc: adler32(bytes), bytes };
      if (at + 12 + len >= buf.length || buf[at + 12 + len] !== 0x42) return { kind: 'partial', offset: at };
      at += 13 + len;
    }
  }
  return { header, entries: entries() };
}

const utf8 = (b: Buffer | null): string => (b === null || b.length === 0 ? '' : decodeJavaUtf8(b, 0, b.length, false));
/** A String field concatenated in Java: null prints as "null". */
const str = (s: string | null): string => (s === null ? 'null' : s);

/** List<ACL>.toString(): each ACL's jute toString ("31,s{'world,'anyone}\n"), comma-separated. */
function aclListText(r: JuteReader): string {
  const n = r.int();
  if (n === -1) return 'null';
  if (n < 0) throw new JuteDecodeError(`negative vector count ${n}`);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const perms = r.int();
    out.push(`${perms},s{${juteEscapeString(r.string())},${juteEscapeString(r.string())}}\n`);
  }
  return '[' + out.join(', ') + ']';
}

/** The same vector as jute's toString writes it inside a record: v{s{31,s{'world,'anyone}},...}. */
function aclVectorRecordText(r: JuteReader): string {
  const n = r.int();
  if (n < -1) throw new JuteDecodeError(`negative vector count ${n}`);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const perms = r.int();
    out.push(`s{${perms},s{${juteEscapeString(r.string())},${juteEscapeString(r.string())}}}`);
  }
  return 'v{' + out.join(',') + '}';
}

function createText(type: number, r: JuteReader): string {
  const path = r.string();
  const data = r.buffer();
  const acl = aclListText(r);
  const ephemeral = r.bool();
  // CreateTxnV0 (before 3.3) ends here; ZooKeeper reads it as parentCVersion -1.
  const parentCVersion = r.remaining >= 4 || type !== 1 ? r.int() : -1;
  return `${str(path)},${utf8(data)},${acl},${ephemeral},${parentCVersion}`;
}

/** 12 bytes that are a CloseSessionTxn of one 4-byte path ({1, 4, "/..."}) rather than a TxnDigest. */
function onePathClose(r: JuteReader): boolean {
  return r.buf.readInt32BE(r.offset) === 1 && r.buf.readInt32BE(r.offset + 4) === 4 && r.buf[r.offset + 8] === 0x2f;
}

/** TxnLogToolkit.getFormattedTxnStr, or the record's jute toString for the other types. */
function txnText(type: number, r: JuteReader): string {
  switch (type) {
    case 1: // create
    case 15: // create2
      return createText(type, r);
    case 19: // createContainer
      return `${str(r.string())},${utf8(r.buffer())},${aclListText(r)},${r.int()}`;
    case 21: // createTtl
      return `${str(r.string())},${utf8(r.buffer())},${aclListText(r)},${r.int()},${r.long()}`;
    case 5: // setData
    case 16: // reconfig (a SetDataTxn on /zookeeper/config)
      return `${str(r.string())},${utf8(r.buffer())},${r.int()}`;
    case 2: // delete
    case 20: // deleteContainer
      return `${juteEscapeString(r.string())}\n`;
    case 7: // setACL
      return `${juteEscapeString(r.string())},${aclVectorRecordText(r)},${r.int()}\n`;
    case 13: // check
      return `${juteEscapeString(r.string())},${r.int()}\n`;
    case -10: // createSession
      return `${r.int()}\n`;
    case -11: {
      // closeSession; before 3.6 (or with closeSessionTxn disabled) it has no body, at most a digest
      if (r.remaining === 0 || (r.remaining === 12 && !onePathClose(r))) return '';
      const n = r.int();
      const paths: string[] = [];
      for (let i = 0; i < n; i++) paths.push(juteEscapeString(r.string()));
      return `v{${paths.join(',')}}\n`;
    }
    case -1: // error
      return `${r.int()}\n`;
    case 14: {
      // multi: each sub-txn's op and its record bytes read as a string, as TxnLogToolkit prints them
      const n = r.int();
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(`${javaOpName(r.int())}:${utf8(r.buffer())}`);
      return parts.join(';');
    }
    default:
      throw new JuteDecodeError(`unsupported txn type ${type}`);
  }
}

/** One TxnLogToolkit line (with its newline). */
export function txnLine(bytes: Buffer, prefix = ''): string {
  const r = new JuteReader(bytes);
  let head: string;
  let body: string;
  try {
    const clientId = r.long();
    const cxid = r.int();
    const zxid = r.long();
    const time = r.long();
    const type = r.int();
    head = `${javaShortLongDate(time)} session 0x${javaLongHex(clientId)} cxid 0x${javaLongHex(BigInt(cxid))} zxid 0x${javaLongHex(zxid)} ${javaOpName(type)}`;
    try {
      body = txnText(type, r);
    } catch (e) {
      if (!(e instanceof JuteDecodeError)) throw e;
      body = `<undecodable txn: ${e.message}>`;
    }
  } catch (e) {
    if (!(e instanceof JuteDecodeError)) throw e;
    return `${prefix}<undecodable txn header: ${e.message}>\n`;
  }
  const line = `${prefix}${head} ${body}`;
  return line.endsWith('\n') ? line : line + '\n';
}

export interface TxnLogTextResult {
  txns: number;
  /** What TxnLogToolkit writes to stderr and exits 1 with, if anything. */
  error: string | null;
}

/** TxnLogToolkit -d: the whole text; the result says how it ended. */
export function* txnLogText(buf: Buffer, fileName: string): Generator<string, TxnLogTextResult> {
  const walk = walkTxnLog(buf);
  if (walk.header === null) return { txns: 0, error: `${fileName} is too short for a txn log header (${buf.length} bytes)` };
  if (walk.header.magic !== TXNLOG_MAGIC) return { txns: 0, error: `Invalid magic number for ${fileName}` };
  yield `ZooKeeper Transactional Log File with dbid ${walk.header.dbid} txnlog format version ${walk.header.version}\n`;
  let count = 0;
  let out = '';
  for (;;) {
    const next = walk.entries.next();
    if (next.done) {
      const end = next.value;
      if (end.kind === 'eof') {
        yield out + `EOF reached after ${count} txns.\n`;
        return { txns: count, error: null };
      }
      yield out;
      if (end.kind === 'partial') return { txns: count, error: 'Last transaction was partial.' };
      return { txns: count, error: `Unreasonable length = ${end.length} at offset ${end.offset}` };
    }
    const e = next.value;
    if (e.storedCrc !== BigInt(e.computedCrc)) out += txnLine(e.bytes, 'CRC ERROR - ');
    out += txnLine(e.bytes);
    if (out.length > 1 << 16) {
      yield out;
      out = '';
    }
    // The 'B' is checked after the txn is printed, as TxnLogToolkit does.
    count++;
  }
}

/** A txn record as plain JSON: 64-bit values as strings, buffers as base64, types by name. */
function jsonValue(v: unknown, key = ''): unknown {
  if (typeof v === 'bigint') return key === 'ttl' ? v.toString() : '0x' + BigInt.asUintN(64, v).toString(16);
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (Array.isArray(v)) return v.map((x) => jsonValue(x));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = k === 'type' && typeof x === 'number' ? javaOpName(x) : jsonValue(x, k);
    return out;
  }
  return v;
}

/** zkts's JSON: the header, every entry with its offset, checksum check, header, txn and digest, and how the log ends. */
export function* txnLogJson(buf: Buffer, file: string): Generator<string, TxnLogTextResult> {
  const walk = walkTxnLog(buf);
  const header = walk.header === null ? null : { magic: '0x' + (walk.header.magic >>> 0).toString(16), version: walk.header.version, dbid: walk.header.dbid.toString() };
  yield `{\n "file": ${JSON.stringify(file)},\n "header": ${JSON.stringify(header)},\n "txns": [`;
  if (walk.header === null || walk.header.magic !== TXNLOG_MAGIC) {
    yield `],\n "end": ${JSON.stringify({ kind: 'bad-header', offset: 0, txns: 0 })}\n}\n`;
    return { txns: 0, error: walk.header === null ? `${file} is too short for a txn log header` : `Invalid magic number for ${file}` };
  }
  let count = 0;
  let out = '';
  for (;;) {
    const next = walk.entries.next();
    if (next.done) {
      const end = next.value;
      yield out + `\n ],\n "end": ${JSON.stringify({ ...end, txns: count })}\n}\n`;
      if (end.kind === 'partial') return { txns: count, error: 'Last transaction was partial.' };
      if (end.kind === 'unreasonable') return { txns: count, error: `Unreasonable length = ${end.length} at offset ${end.offset}` };
      return { txns: count, error: null };
    }
    const e = next.value;
    const rec: Record<string, unknown> = { offset: e.offset, crc: e.storedCrc === BigInt(e.computedCrc) ? 'ok' : `mismatch (stored ${e.storedCrc}, computed ${e.computedCrc})` };
    try {
      const entry = decodeTxnEntry(Buffer.from(e.bytes));
      const h = entry.hdr;
      Object.assign(rec, {
        session: '0x' + javaLongHex(h.clientId),
        cxid: h.cxid,
        zxid: '0x' + javaLongHex(h.zxid),
        time: h.time,
        type: javaOpName(h.type),
        txn: jsonValue(entry.txn),
        digest: entry.digest === null ? null : { version: entry.digest.version, treeDigest: entry.digest.treeDigest.toString() },
      });
    } catch (err) {
      if (!(err instanceof JuteDecodeError)) throw err;
      Object.assign(rec, { undecodable: err.message, bytes: e.bytes.toString('base64') });
    }
    out += (count === 0 ? '\n  ' : ',\n  ') + JSON.stringify(rec);
    count++;
    if (out.length > 1 << 16) {
      yield out;
      out = '';
    }
  }
}
