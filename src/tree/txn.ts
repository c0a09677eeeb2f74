// txn.ts — transactions as plain data, in ZooKeeper's own txn shapes (zookeeper.jute, module
// txn). Prep turns a request into one of these with every decision already taken; apply is a
// deterministic function of the tree and the txn. The header carries the opcode that selects the
// record shape, exactly as ZooKeeper's TxnHeader.type does.
import type { ACL } from '../protocol/records.js';
import { OpCode } from '../protocol/opcodes.js';

export interface TxnHeader {
  clientId: bigint;
  cxid: number;
  zxid: bigint;
  time: number; // ms since the epoch, as ZooKeeper's Time.currentWallTime()
  type: number;
}

export interface CreateTxn {
  type: typeof OpCode.create | typeof OpCode.create2;
  path: string;
  data: Buffer | null;
  acl: ACL[];
  ephemeral: boolean;
  parentCVersion: number;
}
export interface CreateContainerTxn {
  type: typeof OpCode.createContainer;
  path: string;
  data: Buffer | null;
  acl: ACL[];
  parentCVersion: number;
}
export interface CreateTTLTxn {
  type: typeof OpCode.createTTL;
  path: string;
  data: Buffer | null;
  acl: ACL[];
  parentCVersion: number;
  ttl: bigint;
}
export interface DeleteTxn { type: typeof OpCode.delete | typeof OpCode.deleteContainer; path: string }
export interface SetDataTxn { type: typeof OpCode.setData; path: string; data: Buffer | null; version: number }
export interface SetACLTxn { type: typeof OpCode.setACL; path: string; acl: ACL[]; version: number }
export interface CheckVersionTxn { type: typeof OpCode.check; path: string; version: number }
export interface CreateSessionTxn { type: typeof OpCode.createSession; timeOut: number }
export interface CloseSessionTxn { type: typeof OpCode.closeSession; paths2Delete: string[] }
export interface ErrorTxn { type: typeof OpCode.error; err: number }
export interface MultiTxn { type: typeof OpCode.multi; txns: Txn[] }

export type Txn =
  | CreateTxn
  | CreateContainerTxn
  | CreateTTLTxn
  | DeleteTxn
  | SetDataTxn
  | SetACLTxn
  | CheckVersionTxn
  | CreateSessionTxn
  | CloseSessionTxn
  | ErrorTxn
  | MultiTxn;

export function errorTxn(err: number): ErrorTxn {
  return { type: OpCode.error, err };
}
