// zkts/tree — the replicated state: DataTree, txns, watches, quotas. No I/O.
export { DataTree, type TxnResult, type DigestMismatchListener, ZOOKEEPER_PATH, QUOTA_PATH, CONFIG_PATH } from './data-tree.js';
export { DIGEST_VERSION, type DigestState, type TxnDigest, type ZxidDigest, treeDigest, nodeDigest, digestMismatchLogger } from './digest.js';
export { PendingDigests } from './pending-digest.js';
export type { Txn, TxnHeader } from './txn.js';
export { errorTxn } from './txn.js';
export { type NodeFields, type ZNode, nodeStat } from './znode.js';
export { WatchManager, WatchMode, type Watcher } from './watch-manager.js';
export { StatsTrack, QuotaIndex } from './quota.js';
export { ephemeralKind, CONTAINER_EPHEMERAL_OWNER } from './ephemeral-type.js';
