// responses.ts — encoders for what a server sends: the ConnectResponse, reply headers and every
// response body, and watch notifications. Each writes a whole frame (length + header + body)
// straight into the connection's output buffer.
import type { JuteWriter } from './jute.js';
import { OpCode, KeeperState, Xid } from './opcodes.js';
import { type ACL, type Id, type Stat, writeAclList, writeStat } from './records.js';

export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  readOnly: boolean;
}

export function writeConnectResponse(w: JuteWriter, r: ConnectResponse): void {
  const at = w.beginFrame();
  w.int(r.protocolVersion).int(r.timeOut).long(r.sessionId).buffer(r.passwd).bool(r.readOnly);
  w.endFrame(at);
}

/** A reply with no body (errors, delete, setWatches, ping, auth, closeSession ...). */
export function writeReplyHeaderOnly(w: JuteWriter, xid: number, zxid: bigint, err: number): void {
  const at = w.beginFrame();
  w.int(xid).long(zxid).int(err);
  w.endFrame(at);
}

export function writeNotification(w: JuteWriter, zxid: bigint, type: number, path: string, state: number = KeeperState.SyncConnected): void {
  const at = w.beginFrame();
  w.int(Xid.notification).long(zxid).int(0);
  w.int(type).int(state).string(path);
  w.endFrame(at);
}

/** The body of a successful reply, as plain data; `encodeBody` writes it. */
export type ResponseBody =
  | { kind: 'none' }
  | { kind: 'path'; path: string } // create, sync
  | { kind: 'pathStat'; path: string; stat: Stat } // create2 & co
  | { kind: 'stat'; stat: Stat } // exists, setData, setACL, check
  | { kind: 'data'; data: Buffer | null; stat: Stat } // getData
  | { kind: 'children'; children: Iterable<string> } // getChildren
  | { kind: 'children2'; children: Iterable<string>; stat: Stat } // getChildren2
  | { kind: 'acl'; acl: readonly ACL[]; stat: Stat } // getACL
  | { kind: 'int'; value: number } // getAllChildrenNumber, addWatch's ErrorResponse(0)
  | { kind: 'strings'; values: readonly string[] } // getEphemerals
  | { kind: 'clientInfo'; infos: readonly { authScheme: string; user: string }[] } // whoAmI
  | { kind: 'token'; token: Buffer | null } // SASL
  | { kind: 'multi'; results: readonly MultiResult[] };

export type MultiResult =
  | { type: typeof OpCode.error; err: number }
  | { type: number; body: ResponseBody };

export function writeReply(w: JuteWriter, xid: number, zxid: bigint, err: number, body: ResponseBody): void {
  const at = w.beginFrame();
  w.int(xid).long(zxid).int(err);
  encodeBody(w, body);
  w.endFrame(at);
}

function writeChildren(w: JuteWriter, children: Iterable<string>): void {
  if (Array.isArray(children)) {
    w.stringVector(children as string[]);
    return;
  }
  const countAt = w.offset;
  w.int(0);
  let n = 0;
  for (const c of children) {
    w.string(c);
    n++;
  }
  w.buf.writeInt32BE(n, countAt);
}

export function encodeBody(w: JuteWriter, body: ResponseBody): void {
  switch (body.kind) {
    case 'none':
      return;
    case 'path':
      w.string(body.path);
      return;
    case 'pathStat':
      w.string(body.path);
      writeStat(w, body.stat);
      return;
    case 'stat':
      writeStat(w, body.stat);
      return;
    case 'data':
      w.buffer(body.data);
      writeStat(w, body.stat);
      return;
    case 'children':
      writeChildren(w, body.children);
      return;
    case 'children2':
      writeChildren(w, body.children);
      writeStat(w, body.stat);
      return;
    case 'acl':
      writeAclList(w, body.acl);
      writeStat(w, body.stat);
      return;
    case 'int':
      w.int(body.value);
      return;
    case 'strings':
      w.stringVector(body.values);
      return;
    case 'clientInfo':
      w.int(body.infos.length);
      for (const i of body.infos) w.string(i.authScheme).string(i.user);
      return;
    case 'token':
      w.buffer(body.token);
      return;
    case 'multi':
      for (const r of body.results) {
        if ('err' in r) {
          w.int(OpCode.error).bool(false).int(r.err);
          w.int(r.err);
        } else {
          w.int(r.type).bool(false).int(0);
          encodeBody(w, r.body);
        }
      }
      w.int(-1).bool(true).int(-1);
      return;
  }
}

export type { Id };
