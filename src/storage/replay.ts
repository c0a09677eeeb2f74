// replay.ts — applying logged txns during recovery (FileTxnSnapLog.processTransaction). Replay may
// run over a fuzzy snapshot written by ZooKeeper, which can already hold some of the changes being
// replayed (and lack nodes that later txns deleted), so apply errors (NodeExists, NoNode) are
// expected and tolerated. The repairs ZooKeeper makes so that such a replay still ends in the
// state the txns produced are made here too:
// - a create that finds its node still takes the txn's ACL (DataTree.createNode);
// - a plain create that finds its node still raises the parent's cversion and pzxid to the txn's
//   (ZOOKEEPER-1046: else the next sequential name would be one already taken);
// - a delete whose node is already gone still sets the parent's pzxid, when it is larger
//   (ZOOKEEPER-3125), and so does each path of a closeSession (ZOOKEEPER-3145);
// - a closeSession also deletes ephemerals of the session the tree holds but the txn does not
//   list (DataTree.killSession).
// zkts's own snapshots are exact (see snapshot-writer.ts) and need none of this.
import { Code } from '../protocol/codes.js';
import { OpCode } from '../protocol/opcodes.js';
import { parentOf } from '../protocol/paths.js';
import type { DataTree, TxnResult } from '../tree/data-tree.js';
import type { Txn, TxnHeader } from '../tree/txn.js';
import type { LoggedTxn } from './txn-codec.js';

/** A closeSession deletes the paths it lists, then any other ephemeral the tree knows for it. */
export function resolveLoggedTxn(tree: DataTree, hdr: TxnHeader, txn: LoggedTxn): Txn {
  if (txn.type !== OpCode.closeSession) return txn as Txn;
  const local = tree.ephemeralsOf(hdr.clientId);
  if (txn.paths2Delete === null) return { type: OpCode.closeSession, paths2Delete: [...local] };
  const listed = new Set(txn.paths2Delete);
  const extra = [...local].filter((p) => !listed.has(p));
  return extra.length === 0 ? (txn as Txn) : { type: OpCode.closeSession, paths2Delete: [...txn.paths2Delete, ...extra] };
}

/** Applies one logged txn to the tree and the session table; never throws for a misfit txn. */
export function replayTxn(tree: DataTree, sessions: Map<bigint, number>, hdr: TxnHeader, logged: LoggedTxn): TxnResult {
  const txn = resolveLoggedTxn(tree, hdr, logged);
  if (txn.type === OpCode.createSession) sessions.set(hdr.clientId, txn.timeOut);
  else if (txn.type === OpCode.closeSession) sessions.delete(hdr.clientId);
  const gone = txn.type === OpCode.closeSession ? txn.paths2Delete.filter((p) => tree.get(p) === undefined) : [];
  const rc = tree.processTxn(hdr, txn);
  for (const p of gone) patchParentPzxid(tree, p, hdr.zxid);
  repairAfterReplay(tree, hdr.type, txn, rc, hdr.zxid);
  return rc;
}

/** DataTree.deleteNode on a node already gone: the parent's pzxid still moves up to the txn's. */
function patchParentPzxid(tree: DataTree, path: string, zxid: bigint): void {
  const parent = tree.get(parentOf(path));
  if (parent === undefined || zxid <= parent.pzxid) return;
  tree.changeObserver?.beforeChange(parentOf(path), parent, false);
  parent.pzxid = zxid;
}

function repairAfterReplay(tree: DataTree, type: number, txn: Txn, rc: TxnResult, zxid: bigint): void {
  if (txn.type === OpCode.multi) {
    const subs = rc.multi ?? [];
    for (let i = 0; i < subs.length && i < txn.txns.length; i++) repairAfterReplay(tree, txn.txns[i]!.type, txn.txns[i]!, subs[i]!, zxid);
    return;
  }
  if ((txn.type === OpCode.delete || txn.type === OpCode.deleteContainer) && rc.err === Code.NoNode) {
    patchParentPzxid(tree, txn.path, zxid);
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
  if (existing !== undefined) {
    tree.changeObserver?.beforeChange(txn.path, existing, false);
    existing.acl = tree.acls.intern(txn.acl);
  }
  if (type !== OpCode.create) return;
  // DataTree.setCversionPzxid
  const parentPath = parentOf(txn.path);
  const parent = tree.get(parentPath);
  if (parent === undefined) return;
  const cversion = txn.parentCVersion === -1 ? parent.cversion + 1 : txn.parentCVersion;
  if (cversion > parent.cversion) {
    tree.changeObserver?.beforeChange(parentPath, parent, false);
    parent.cversion = cversion;
    parent.pzxid = zxid;
  }
}
