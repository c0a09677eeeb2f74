// replay.ts — applying logged txns during recovery (FileTxnSnapLog.processTransaction). Replay may
// run over a fuzzy snapshot written by ZooKeeper, which can already hold some of the changes being
// replayed, so apply errors (NodeExists, NoNode) are expected and tolerated. Two repairs ZooKeeper
// makes on such a replay are made here too: a create that finds its node still takes the txn's ACL,
// and a plain create that finds its node still raises the parent's cversion and pzxid (the node
// was deleted and created again by another session while the snapshot was being written).
import { Code } from '../protocol/codes.js';
import { OpCode } from '../protocol/opcodes.js';
import { parentOf } from '../protocol/paths.js';
import type { DataTree, TxnResult } from '../tree/data-tree.js';
import type { Txn, TxnHeader } from '../tree/txn.js';
import type { LoggedTxn } from './txn-codec.js';

/** A body-less closeSession deletes the ephemerals the tree knows for the session. */
export function resolveLoggedTxn(tree: DataTree, hdr: TxnHeader, txn: LoggedTxn): Txn {
  if (txn.type === OpCode.closeSession && txn.paths2Delete === null) {
    return { type: OpCode.closeSession, paths2Delete: [...tree.ephemeralsOf(hdr.clientId)] };
  }
  return txn as Txn;
}

/** Applies one logged txn to the tree and the session table; never throws for a misfit txn. */
export function replayTxn(tree: DataTree, sessions: Map<bigint, number>, hdr: TxnHeader, logged: LoggedTxn): TxnResult {
  const txn = resolveLoggedTxn(tree, hdr, logged);
  if (txn.type === OpCode.createSession) sessions.set(hdr.clientId, txn.timeOut);
  else if (txn.type === OpCode.closeSession) sessions.delete(hdr.clientId);
  const rc = tree.processTxn(hdr, txn);
  repairAfterReplay(tree, hdr.type, txn, rc, hdr.zxid);
  return rc;
}

function repairAfterReplay(tree: DataTree, type: number, txn: Txn, rc: TxnResult, zxid: bigint): void {
  if (txn.type === OpCode.multi) {
    const subs = rc.multi ?? [];
    for (let i = 0; i < subs.length && i < txn.txns.length; i++) repairAfterReplay(tree, txn.txns[i]!.type, txn.txns[i]!, subs[i]!, zxid);
    return;
  }
  if (rc.err !== Code.NodeExists) return;
  if (
    txn.type !== OpCode.create &&
    txn.type !== OpCode.create2 &&
    txn.type !== OpCode.createContainer &&
    txn.type !== OpCode.createTTL
  ) {
    return;
  }
  const existing = tree.get(txn.path);
  if (existing !== undefined) existing.acl = tree.acls.intern(txn.acl);
  if (type !== OpCode.create) return;
  // DataTree.setCversionPzxid
  const parent = tree.get(parentOf(txn.path));
  if (parent === undefined) return;
  const cversion = txn.parentCVersion === -1 ? parent.cversion + 1 : txn.parentCVersion;
  if (cversion > parent.cversion) {
    parent.cversion = cversion;
    parent.pzxid = zxid;
  }
}
