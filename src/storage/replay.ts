// replay.ts — applying logged txns during recovery (FileTxnSnapLog.processTransaction). Replay may
// run over a fuzzy snapshot written by ZooKeeper, which can already hold some of the changes being
// replayed (and lack nodes that later txns deleted), so apply errors (NodeExists, NoNode) are
// expected and tolerated. The repairs ZooKeeper makes so that such a replay still ends in the
// state the txns produced are made by the tree itself (DataTree: a plain create that finds its
// node raises the parent's cversion and pzxid, ZOOKEEPER-1046; a delete whose node is gone still
// raises the parent's pzxid, ZOOKEEPER-3125, 3145), and here:
// - a create that finds its node still takes the txn's ACL;
// - a closeSession also deletes ephemerals of the session the tree holds but the txn does not
//   list (DataTree.killSession).
// zkts's own snapshots are exact (see snapshot-writer.ts) and need none of this.
import { Code } from '../protocol/codes.js';
import { OpCode } from '../protocol/opcodes.js';
import type { DataTree, TxnResult } from '../tree/data-tree.js';
import type { TxnDigest } from '../tree/digest.js';
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

/**
 * Applies one logged txn to the tree and the session table; never throws for a misfit txn. With
 * `digest` (the TxnDigest logged with it), the tree's digest after it is compared with it.
 */
export function replayTxn(tree: DataTree, sessions: Map<bigint, number>, hdr: TxnHeader, logged: LoggedTxn, digest: TxnDigest | null = null): TxnResult {
  const txn = resolveLoggedTxn(tree, hdr, logged);
  if (txn.type === OpCode.createSession) sessions.set(hdr.clientId, txn.timeOut);
  else if (txn.type === OpCode.closeSession) sessions.delete(hdr.clientId);
  // The ACL repair changes no digest field: the digest is compared after the whole txn all the same.
  const rc = tree.processTxn(hdr, txn);
  repairAcl(tree, txn, rc);
  if (digest !== null) tree.compareDigest(hdr.zxid, digest);
  return rc;
}

function repairAcl(tree: DataTree, txn: Txn, rc: TxnResult): void {
  if (txn.type === OpCode.multi) {
    const subs = rc.multi ?? [];
    for (let i = 0; i < subs.length && i < txn.txns.length; i++) repairAcl(tree, txn.txns[i]!, subs[i]!);
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
  tree.resetAcl(txn.path, txn.acl);
}
