// txn-json.ts — one applied txn as plain JSON change records, shared by the audit log and the
// webhook sink: who (session, authenticated ids, address), what (operation and path, one record
// per op of a multi), when (the txn's time and zxid) and how it ended (ZooKeeper's code name).
import { codeName, OpCode, opName } from '../../src/plugin/index.js';
import type { Request, Txn, TxnHeader, TxnInfo, TxnResult } from '../../src/plugin/index.js';

export interface ChangeRecord {
  zxid: string;
  time: string;
  session: string;
  /** Authenticated ids as scheme:id (the ip id included); absent for replayed or server-made txns. */
  ids?: string[];
  address?: string;
  op: string;
  path?: string;
  /** OK, or the code a failed write got. */
  result: string;
  version?: number;
  dataLength?: number;
  /** Base64, when asked for. */
  data?: string;
  /** Ephemerals deleted by a closeSession. */
  deleted?: string[];
  replayed?: true;
}

const hex = (n: bigint): string => `0x${BigInt.asUintN(64, n).toString(16)}`;

/** The change records of one txn (a multi gives one per op). */
export function changeRecords(hdr: TxnHeader, txn: Txn, result: TxnResult | null, info: TxnInfo, includeData = false): ChangeRecord[] {
  const base = {
    zxid: hex(hdr.zxid),
    time: new Date(hdr.time).toISOString(),
    session: hex(hdr.clientId),
    ...(info.origin !== null
      ? { ids: info.origin.session.authIds.map((id) => `${id.scheme}:${id.id}`), address: info.origin.session.remoteAddress }
      : {}),
    ...(info.replayed ? { replayed: true as const } : {}),
  };
  if (txn.type === OpCode.multi) {
    return txn.txns.flatMap((sub, i) =>
      one(base, sub.type, sub, result?.multi?.[i] ?? null, null, includeData),
    );
  }
  return one(base, hdr.type, txn, result, info.origin?.request ?? null, includeData);
}

function one(
  base: Omit<ChangeRecord, 'op' | 'result'>,
  type: number,
  txn: Txn,
  result: TxnResult | null,
  request: Request | null,
  includeData: boolean,
): ChangeRecord[] {
  switch (txn.type) {
    case OpCode.error: {
      // A failed write: the txn holds only the code; the request (when made here) says what was tried.
      const tried = request !== null && 'path' in request ? { op: opName(request.type), path: request.path } : { op: 'error' };
      return [{ ...base, ...tried, result: codeName(txn.err) }];
    }
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
    case OpCode.setData: {
      const data = txn.data ?? Buffer.alloc(0);
      return [
        {
          ...base,
          op: opName(type),
          path: txn.path,
          result: codeName(result?.err ?? 0),
          ...(txn.type === OpCode.setData ? { version: txn.version } : {}),
          dataLength: data.length,
          ...(includeData ? { data: data.toString('base64') } : {}),
        },
      ];
    }
    case OpCode.delete:
    case OpCode.deleteContainer:
      return [{ ...base, op: opName(type), path: txn.path, result: codeName(result?.err ?? 0) }];
    case OpCode.setACL:
      return [{ ...base, op: opName(type), path: txn.path, result: codeName(result?.err ?? 0), version: txn.version }];
    case OpCode.check:
      return [{ ...base, op: opName(type), path: txn.path, result: codeName(result?.err ?? 0) }];
    case OpCode.closeSession:
      return [{ ...base, op: opName(type), result: 'OK', deleted: txn.paths2Delete }];
    default:
      return [{ ...base, op: opName(type), result: codeName(result?.err ?? 0) }];
  }
}

/** Whether a record concerns a path under one of `prefixes` (records without a path: only '/'). */
export function under(record: ChangeRecord, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => {
    if (p === '/') return true;
    const paths = record.path !== undefined ? [record.path] : (record.deleted ?? []);
    return paths.some((path) => path === p || path.startsWith(p + '/'));
  });
}
