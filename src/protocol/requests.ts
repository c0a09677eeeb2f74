// requests.ts — decoders for every request a client sends (zookeeper.jute, module proto), one
// small function per record, dispatched on the opcode from the RequestHeader. Decoders return
// plain data; an unknown opcode decodes to { type, unknown: true } so the server can answer
// Unimplemented like ZooKeeper rather than drop the connection.
import { JuteDecodeError, JuteReader } from './jute.js';
import { OpCode } from './opcodes.js';
import { type ACL, readAclList } from './records.js';

export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: bigint;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  readOnly: boolean;
}

export function decodeConnectRequest(r: JuteReader): ConnectRequest {
  const protocolVersion = r.int();
  const lastZxidSeen = r.long();
  const timeOut = r.int();
  const sessionId = r.long();
  const passwd = r.bufferCopy() ?? Buffer.alloc(0);
  const readOnly = r.optionalBool();
  return { protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly };
}

export interface CreateRequest {
  type: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer | typeof OpCode.createTTL;
  path: string;
  data: Buffer | null;
  acl: ACL[] | null;
  flags: number;
  ttl: bigint; // -1 unless createTTL
}
export interface DeleteRequest { type: typeof OpCode.delete; path: string; version: number }
export interface PathWatchRequest {
  type: typeof OpCode.exists | typeof OpCode.getData | typeof OpCode.getChildren | typeof OpCode.getChildren2;
  path: string;
  watch: boolean;
}
export interface SetDataRequest { type: typeof OpCode.setData; path: string; data: Buffer | null; version: number }
export interface GetACLRequest { type: typeof OpCode.getACL; path: string }
export interface SetACLRequest { type: typeof OpCode.setACL; path: string; acl: ACL[] | null; version: number }
export interface SyncRequest { type: typeof OpCode.sync; path: string }
export interface CheckVersionRequest { type: typeof OpCode.check; path: string; version: number }
export interface MultiRequest { type: typeof OpCode.multi | typeof OpCode.multiRead; ops: Request[] }
export interface ReconfigRequest {
  type: typeof OpCode.reconfig;
  joiningServers: string | null;
  leavingServers: string | null;
  newMembers: string | null;
  curConfigId: bigint;
}
export interface WatchesRequest {
  type: typeof OpCode.checkWatches | typeof OpCode.removeWatches;
  path: string;
  watcherType: number;
}
export interface AuthRequest { type: typeof OpCode.auth; authType: number; scheme: string; auth: Buffer }
export interface SetWatchesRequest {
  type: typeof OpCode.setWatches | typeof OpCode.setWatches2;
  relativeZxid: bigint;
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
  persistentWatches: string[];
  persistentRecursiveWatches: string[];
}
export interface SaslRequest { type: typeof OpCode.sasl; token: Buffer }
export interface GetEphemeralsRequest { type: typeof OpCode.getEphemerals; prefixPath: string }
export interface GetAllChildrenNumberRequest { type: typeof OpCode.getAllChildrenNumber; path: string }
export interface AddWatchRequest { type: typeof OpCode.addWatch; path: string; mode: number }
export interface BareRequest {
  type: typeof OpCode.ping | typeof OpCode.closeSession | typeof OpCode.whoAmI;
}
export interface UnknownRequest { type: number; unknown: true }

export type Request =
  | CreateRequest
  | DeleteRequest
  | PathWatchRequest
  | SetDataRequest
  | GetACLRequest
  | SetACLRequest
  | SyncRequest
  | CheckVersionRequest
  | MultiRequest
  | ReconfigRequest
  | WatchesRequest
  | AuthRequest
  | SetWatchesRequest
  | SaslRequest
  | GetEphemeralsRequest
  | GetAllChildrenNumberRequest
  | AddWatchRequest
  | BareRequest;

/** Decodes the body of a request whose header carried `type`. */
export function decodeRequest(type: number, r: JuteReader): Request | UnknownRequest {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return { type, path: r.ustring(), data: r.bufferCopy(), acl: readAclList(r), flags: r.int(), ttl: -1n };
    case OpCode.createTTL:
      return { type, path: r.ustring(), data: r.bufferCopy(), acl: readAclList(r), flags: r.int(), ttl: r.long() };
    case OpCode.delete:
      return { type, path: r.ustring(), version: r.int() };
    case OpCode.exists:
    case OpCode.getData:
    case OpCode.getChildren:
    case OpCode.getChildren2:
      return { type, path: r.ustring(), watch: r.bool() };
    case OpCode.setData:
      return { type, path: r.ustring(), data: r.bufferCopy(), version: r.int() };
    case OpCode.getACL:
      return { type, path: r.ustring() };
    case OpCode.setACL:
      return { type, path: r.ustring(), acl: readAclList(r), version: r.int() };
    case OpCode.sync:
      return { type, path: r.ustring() };
    case OpCode.check:
      return { type, path: r.ustring(), version: r.int() };
    case OpCode.multi:
    case OpCode.multiRead:
      return { type, ops: decodeMultiOps(r) };
    case OpCode.reconfig:
      return { type, joiningServers: r.string(), leavingServers: r.string(), newMembers: r.string(), curConfigId: r.long() };
    case OpCode.checkWatches:
    case OpCode.removeWatches:
      return { type, path: r.ustring(), watcherType: r.int() };
    case OpCode.auth:
      return { type, authType: r.int(), scheme: r.ustring(), auth: r.bufferCopy() ?? Buffer.alloc(0) };
    case OpCode.setWatches:
      return {
        type,
        relativeZxid: r.long(),
        dataWatches: r.stringVector() ?? [],
        existWatches: r.stringVector() ?? [],
        childWatches: r.stringVector() ?? [],
        persistentWatches: [],
        persistentRecursiveWatches: [],
      };
    case OpCode.setWatches2:
      return {
        type,
        relativeZxid: r.long(),
        dataWatches: r.stringVector() ?? [],
        existWatches: r.stringVector() ?? [],
        childWatches: r.stringVector() ?? [],
        persistentWatches: r.stringVector() ?? [],
        persistentRecursiveWatches: r.stringVector() ?? [],
      };
    case OpCode.sasl:
      return { type, token: r.bufferCopy() ?? Buffer.alloc(0) };
    case OpCode.getEphemerals:
      return { type, prefixPath: r.ustring() };
    case OpCode.getAllChildrenNumber:
      return { type, path: r.ustring() };
    case OpCode.addWatch:
      return { type, path: r.ustring(), mode: r.int() };
    case OpCode.ping:
    case OpCode.closeSession:
    case OpCode.whoAmI:
      return { type };
    default:
      return { type, unknown: true };
  }
}

/** Ops of a multi: MultiHeader{type, done, err} then the op's record, until done. */
function decodeMultiOps(r: JuteReader): Request[] {
  const ops: Request[] = [];
  for (;;) {
    const type = r.int();
    const done = r.bool();
    r.int(); // err, always -1 in requests
    if (done) return ops;
    switch (type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
      case OpCode.delete:
      case OpCode.setData:
      case OpCode.check:
      case OpCode.getChildren:
      case OpCode.getData:
        ops.push(decodeRequest(type, r) as Request);
        break;
      default:
        throw new JuteDecodeError(`invalid op type ${type} in multi`);
    }
  }
}
