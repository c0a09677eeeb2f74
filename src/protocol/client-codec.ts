// client-codec.ts — the client side of ZooKeeper's wire protocol: encoders for every request a
// client sends (the records requests.ts decodes) and decoders for everything a server sends back
// (ConnectResponse, ReplyHeader, each response body, multi results, watch notifications).
// Plain data in and out, no I/O. The decoders face bytes from the network: every length and count
// is checked by JuteReader before anything is allocated, and an unexpected record type throws
// JuteDecodeError instead of guessing.
//
// The body that follows a ReplyHeader depends on the opcode of the request it answers, which the
// client remembers by xid; a reply with err != 0 carries no body (as ZooKeeper's own client reads
// it), and a reply with xid -1 is a WatcherEvent.
import { JuteDecodeError, JuteReader, JuteWriter } from './jute.js';
import { OpCode, Xid } from './opcodes.js';
import { type ACL, type Stat, readAclList, readStat, writeAclList } from './records.js';
import type { ConnectRequest, Request } from './requests.js';

// ---------------------------------------------------------------------------------------------
// Requests (client → server)

export interface ConnectRequestOptions {
  /** Write the trailing readOnly byte (every client since 3.4 does). Default true. */
  withReadOnly?: boolean;
}

export function writeConnectRequest(w: JuteWriter, req: ConnectRequest, opts: ConnectRequestOptions = {}): void {
  w.int(req.protocolVersion).long(req.lastZxidSeen).int(req.timeOut).long(req.sessionId).buffer(req.passwd);
  if (opts.withReadOnly ?? true) w.bool(req.readOnly);
}

/** A whole ConnectRequest frame, length prefix included. */
export function encodeConnectRequest(req: ConnectRequest, opts: ConnectRequestOptions = {}): Buffer {
  return framed((w) => writeConnectRequest(w, req, opts));
}

/** The record that follows the RequestHeader (or a MultiHeader) for `req`. */
export function writeRequestBody(w: JuteWriter, req: Request): void {
  switch (req.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      w.string(req.path).buffer(req.data);
      writeAclList(w, req.acl);
      w.int(req.flags);
      if (req.type === OpCode.createTTL) w.long(req.ttl);
      return;
    case OpCode.delete:
      w.string(req.path).int(req.version);
      return;
    case OpCode.exists:
    case OpCode.getData:
    case OpCode.getChildren:
    case OpCode.getChildren2:
      w.string(req.path).bool(req.watch);
      return;
    case OpCode.setData:
      w.string(req.path).buffer(req.data).int(req.version);
      return;
    case OpCode.getACL:
    case OpCode.sync:
    case OpCode.getAllChildrenNumber:
      w.string(req.path);
      return;
    case OpCode.setACL:
      w.string(req.path);
      writeAclList(w, req.acl);
      w.int(req.version);
      return;
    case OpCode.check:
      w.string(req.path).int(req.version);
      return;
    case OpCode.multi:
    case OpCode.multiRead:
      for (const op of req.ops) {
        w.int(op.type).bool(false).int(-1);
        writeRequestBody(w, op);
      }
      w.int(-1).bool(true).int(-1);
      return;
    case OpCode.reconfig:
      w.string(req.joiningServers).string(req.leavingServers).string(req.newMembers).long(req.curConfigId);
      return;
    case OpCode.checkWatches:
    case OpCode.removeWatches:
      w.string(req.path).int(req.watcherType);
      return;
    case OpCode.auth:
      w.int(req.authType).string(req.scheme).buffer(req.auth);
      return;
    case OpCode.setWatches:
    case OpCode.setWatches2:
      w.long(req.relativeZxid).stringVector(req.dataWatches).stringVector(req.existWatches);
      w.stringVector(req.childWatches);
      if (req.type === OpCode.setWatches2) {
        w.stringVector(req.persistentWatches).stringVector(req.persistentRecursiveWatches);
      }
      return;
    case OpCode.sasl:
      w.buffer(req.token);
      return;
    case OpCode.getEphemerals:
      w.string(req.prefixPath);
      return;
    case OpCode.addWatch:
      w.string(req.path).int(req.mode);
      return;
    case OpCode.ping:
    case OpCode.closeSession:
    case OpCode.whoAmI:
      return;
  }
}

/** RequestHeader{xid, type} and the body, unframed. */
export function writeRequest(w: JuteWriter, xid: number, req: Request): void {
  w.int(xid).int(req.type);
  writeRequestBody(w, req);
}

/** A whole request frame, length prefix included. */
export function encodeRequest(xid: number, req: Request): Buffer {
  return framed((w) => writeRequest(w, xid, req));
}

/** A request frame with any opcode and raw body bytes, for probing how a server answers. */
export function encodeRawRequest(xid: number, type: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeInt32BE(8 + body.length, 0);
  out.writeInt32BE(xid, 4);
  out.writeInt32BE(type, 8);
  out.set(body, 12);
  return out;
}

/** The xid ZooKeeper's clients use for requests that bypass the xid sequence. */
export function specialXid(type: number): number | undefined {
  switch (type) {
    case OpCode.ping:
      return Xid.ping;
    case OpCode.auth:
      return Xid.auth;
    case OpCode.setWatches:
    case OpCode.setWatches2:
      return Xid.setWatches;
    default:
      return undefined;
  }
}

function framed(write: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter(128);
  const at = w.beginFrame();
  write(w);
  w.endFrame(at);
  return w.toBuffer();
}

// ---------------------------------------------------------------------------------------------
// Responses (server → client)

export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  /** null when the server left the byte off (servers before 3.4, or to clients that did). */
  readOnly: boolean | null;
}

export function decodeConnectResponse(r: JuteReader): ConnectResponse {
  const protocolVersion = r.int();
  const timeOut = r.int();
  const sessionId = r.long();
  const passwd = r.bufferCopy() ?? Buffer.alloc(0);
  const readOnly = r.remaining > 0 ? r.bool() : null;
  return { protocolVersion, timeOut, sessionId, passwd, readOnly };
}

export interface ReplyHeader {
  xid: number;
  zxid: bigint;
  err: number;
}

export function decodeReplyHeader(r: JuteReader): ReplyHeader {
  return { xid: r.int(), zxid: r.long(), err: r.int() };
}

export interface WatcherEvent {
  type: number;
  state: number;
  path: string;
}

export function decodeWatcherEvent(r: JuteReader): WatcherEvent {
  r.pairSurrogates = true;
  return { type: r.int(), state: r.int(), path: r.ustring() };
}

export interface ClientInfo {
  authScheme: string;
  user: string;
}

/** One entry of a multi/multiRead reply. `error` carries the op's code (0 for ops not run). */
export type OpResult =
  | { type: typeof OpCode.create; path: string }
  | { type: typeof OpCode.create2; path: string; stat: Stat }
  | { type: typeof OpCode.delete }
  | { type: typeof OpCode.check }
  | { type: typeof OpCode.setData; stat: Stat }
  | { type: typeof OpCode.getChildren; children: string[] }
  | { type: typeof OpCode.getData; data: Buffer | null; stat: Stat }
  | { type: typeof OpCode.error; err: number };

export type Response =
  | { type: typeof OpCode.create; path: string }
  | { type: typeof OpCode.create2 | typeof OpCode.createContainer | typeof OpCode.createTTL; path: string; stat: Stat }
  | { type: typeof OpCode.exists | typeof OpCode.setData | typeof OpCode.setACL | typeof OpCode.check; stat: Stat }
  | { type: typeof OpCode.getData | typeof OpCode.reconfig; data: Buffer | null; stat: Stat }
  | { type: typeof OpCode.getACL; acl: ACL[]; stat: Stat }
  | { type: typeof OpCode.getChildren; children: string[] }
  | { type: typeof OpCode.getChildren2; children: string[]; stat: Stat }
  | { type: typeof OpCode.sync; path: string }
  | { type: typeof OpCode.getAllChildrenNumber; totalNumber: number }
  | { type: typeof OpCode.getEphemerals; ephemerals: string[] }
  | { type: typeof OpCode.whoAmI; clientInfo: ClientInfo[] }
  | { type: typeof OpCode.sasl; token: Buffer | null }
  | { type: typeof OpCode.addWatch; err: number }
  | { type: typeof OpCode.multi | typeof OpCode.multiRead; results: OpResult[] }
  | { type: EmptyResponseType };

export type EmptyResponseType =
  | typeof OpCode.delete
  | typeof OpCode.ping
  | typeof OpCode.auth
  | typeof OpCode.setWatches
  | typeof OpCode.setWatches2
  | typeof OpCode.checkWatches
  | typeof OpCode.removeWatches
  | typeof OpCode.closeSession;

/** Bytes a record takes at least, for refusing vector counts before allocating. */
const MIN_STRING_BYTES = 4;
const MIN_CLIENT_INFO_BYTES = 8;
const MIN_MULTI_HEADER_BYTES = 9;

/**
 * Decodes the body of a successful reply to a request of opcode `type`. Throws JuteDecodeError
 * on truncation or an opcode that has no response record. Strings are read as a client wants
 * them: a character a Java peer wrote as two CESU-8 surrogates comes back whole (the reader is
 * switched to `pairSurrogates`), where a server would read two U+FFFD as Java does.
 */
export function decodeResponse(type: number, r: JuteReader): Response {
  r.pairSurrogates = true;
  switch (type) {
    case OpCode.create:
      return { type, path: r.ustring() };
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return { type, path: r.ustring(), stat: readStat(r) };
    case OpCode.exists:
    case OpCode.setData:
    case OpCode.setACL:
    case OpCode.check:
      return { type, stat: readStat(r) };
    case OpCode.getData:
    case OpCode.reconfig:
      return { type, data: r.bufferCopy(), stat: readStat(r) };
    case OpCode.getACL:
      return { type, acl: readAclList(r) ?? [], stat: readStat(r) };
    case OpCode.getChildren:
      return { type, children: r.stringVector() ?? [] };
    case OpCode.getChildren2:
      return { type, children: r.stringVector() ?? [], stat: readStat(r) };
    case OpCode.sync:
      return { type, path: r.ustring() };
    case OpCode.getAllChildrenNumber:
      return { type, totalNumber: r.int() };
    case OpCode.getEphemerals:
      return { type, ephemerals: r.stringVector() ?? [] };
    case OpCode.whoAmI:
      return { type, clientInfo: readClientInfos(r) };
    case OpCode.sasl:
      return { type, token: r.bufferCopy() };
    case OpCode.addWatch:
      return { type, err: r.int() };
    case OpCode.multi:
    case OpCode.multiRead:
      return { type, results: readOpResults(r) };
    case OpCode.delete:
    case OpCode.ping:
    case OpCode.auth:
    case OpCode.setWatches:
    case OpCode.setWatches2:
    case OpCode.checkWatches:
    case OpCode.removeWatches:
    case OpCode.closeSession:
      return { type };
    default:
      throw new JuteDecodeError(`no response record for opcode ${type}`);
  }
}

function readClientInfos(r: JuteReader): ClientInfo[] {
  const n = r.vectorCount(MIN_CLIENT_INFO_BYTES) ?? 0;
  const out = new Array<ClientInfo>(n);
  for (let i = 0; i < n; i++) out[i] = { authScheme: r.ustring(), user: r.ustring() };
  return out;
}

/** MultiHeader{type, done, err} and a result record, until a header with done set. */
function readOpResults(r: JuteReader): OpResult[] {
  const out: OpResult[] = [];
  // Each result takes at least a MultiHeader, so the loop ends within remaining/9 rounds.
  for (;;) {
    if (r.remaining < MIN_MULTI_HEADER_BYTES) throw new JuteDecodeError('truncated multi response: no done header');
    const type = r.int();
    const done = r.bool();
    const err = r.int();
    if (done) return out;
    switch (type) {
      case OpCode.create:
        out.push({ type, path: r.ustring() });
        break;
      case OpCode.create2:
        out.push({ type, path: r.ustring(), stat: readStat(r) });
        break;
      case OpCode.delete:
      case OpCode.check:
        out.push({ type });
        break;
      case OpCode.setData:
        out.push({ type, stat: readStat(r) });
        break;
      case OpCode.getChildren:
        out.push({ type, children: r.stringVector() ?? [] });
        break;
      case OpCode.getData:
        out.push({ type, data: r.bufferCopy(), stat: readStat(r) });
        break;
      case OpCode.error: {
        const bodyErr = r.int(); // ErrorResponse repeats the header's err
        if (bodyErr !== err) throw new JuteDecodeError(`multi error result: header err ${err}, body err ${bodyErr}`);
        out.push({ type, err: bodyErr });
        break;
      }
      default:
        throw new JuteDecodeError(`invalid op type ${type} in multi response`);
    }
  }
}

/** A decoded server frame after the handshake. */
export type Reply =
  | { kind: 'notification'; header: ReplyHeader; event: WatcherEvent }
  | { kind: 'response'; header: ReplyHeader; type: number; body: Response | null };

/**
 * Decodes one server frame (without its length prefix). `typeOfXid` maps the xid of a pending
 * request to its opcode; the special xids of ping, auth and setWatches are known here. A reply
 * with err != 0 has a null body. Throws JuteDecodeError for an xid no request is waiting on.
 */
export function decodeReply(frame: Buffer, typeOfXid: (xid: number) => number | undefined): Reply {
  const r = new JuteReader(frame);
  const header = decodeReplyHeader(r);
  if (header.xid === Xid.notification) return { kind: 'notification', header, event: decodeWatcherEvent(r) };
  const type = typeOfXid(header.xid) ?? specialXidType(header.xid);
  if (type === undefined) throw new JuteDecodeError(`reply for xid ${header.xid}, which no request is waiting on`);
  const body = header.err === 0 ? decodeResponse(type, r) : null;
  return { kind: 'response', header, type, body };
}

function specialXidType(xid: number): number | undefined {
  switch (xid) {
    case Xid.ping:
      return OpCode.ping;
    case Xid.auth:
      return OpCode.auth;
    case Xid.setWatches:
      return OpCode.setWatches;
    default:
      return undefined;
  }
}
