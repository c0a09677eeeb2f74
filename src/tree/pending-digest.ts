// pending-digest.ts — the digest a txn will leave in the tree, known before the tree applies it.
// A txn is logged (with its TxnDigest) before it is applied, and txns are prepped, logged and
// applied in zxid order with several in flight; so, as ZooKeeper's PrepRequestProcessor does
// with the precalculated digests of its outstanding change records, the digest is worked out
// from the tree plus the txns given before it that the tree has not applied yet.
//
// Each txn's effect on the digest is replayed over an overlay of the nodes it changes (their
// digest fields as they will be), with DataTree's rules (digest.ts). An overlay entry is dropped
// once the tree has applied its zxid (the tree then holds the same node), and the running sum
// restarts from the tree's own digest whenever every txn given has been applied, so that a txn
// that was never applied (its log write failed) does not skew later ones for long. Whoever
// applies the txn compares the tree's digest with this one (DataTree.processTxn(hdr, txn,
// digest)): a mismatch there means the two sets of rules disagree, and is counted.
import { OpCode } from '../protocol/opcodes.js';
import { parentOf } from '../protocol/paths.js';
import type { DataTree } from './data-tree.js';
import { DIGEST_VERSION, DigestSum, digestCrcOf, digestExcluded, statDigest, type DigestState, type TxnDigest } from './digest.js';
import { CONTAINER_EPHEMERAL_OWNER, ttlOwner } from './ephemeral-type.js';
import type { Txn, TxnHeader } from './txn.js';

/** A node's digest fields, its crc and its digest (unsigned) as the fields stand. */
type NodeState = DigestState;

interface Pending {
  zxid: bigint;
  node: NodeState | null; // null: deleted
}

export class PendingDigests {
  private readonly overlay = new Map<string, Pending>();
  private readonly sum = new DigestSum();
  /** The zxid of the last txn given; -1: none yet. */
  private lastZxid = -1n;

  constructor(private readonly tree: DataTree) {}

  /** The TxnDigest to log with this txn (given in zxid order); null for an error txn or with digests off. */
  next(hdr: TxnHeader, txn: Txn): TxnDigest | null {
    if (!this.tree.digestEnabled || txn.type === OpCode.error) return null;
    if (this.lastZxid <= this.tree.lastProcessedZxid) {
      // Everything given so far is in the tree: start again from it.
      this.overlay.clear();
      this.sum.set(this.tree.digest);
    }
    this.lastZxid = hdr.zxid;
    this.apply(hdr, txn);
    return { version: DIGEST_VERSION, treeDigest: this.sum.value };
  }

  /** Overlay entries not yet dropped (for tests). */
  get size(): number {
    return this.overlay.size;
  }

  private apply(hdr: TxnHeader, txn: Txn): void {
    switch (txn.type) {
      case OpCode.create:
      case OpCode.create2:
        this.create(txn.path, txn.data, txn.ephemeral ? hdr.clientId : 0n, txn.parentCVersion, hdr);
        break;
      case OpCode.createContainer:
        this.create(txn.path, txn.data, CONTAINER_EPHEMERAL_OWNER, txn.parentCVersion, hdr);
        break;
      case OpCode.createTTL:
        this.create(txn.path, txn.data, ttlOwner(txn.ttl), txn.parentCVersion, hdr);
        break;
      case OpCode.delete:
      case OpCode.deleteContainer:
        this.delete(txn.path, hdr.zxid);
        break;
      case OpCode.setData: {
        const n = this.get(txn.path);
        if (n === null) break;
        this.sum.remove(n.digest);
        n.data = txn.data;
        n.mtime = hdr.time;
        n.mzxid = hdr.zxid;
        n.version = txn.version;
        n.crc = digestExcluded(txn.path) ? 0 : digestCrcOf(txn.path, txn.data);
        this.changed(txn.path, n, hdr.zxid);
        break;
      }
      case OpCode.setACL: {
        const n = this.get(txn.path);
        if (n === null) break;
        this.sum.remove(n.digest);
        n.aversion = txn.version;
        this.changed(txn.path, n, hdr.zxid);
        break;
      }
      case OpCode.closeSession: {
        const paths = txn.paths2Delete ?? [...this.tree.ephemeralsOf(hdr.clientId)];
        for (const p of paths) this.delete(p, hdr.zxid);
        break;
      }
      case OpCode.multi:
        // A multi holding an error txn applies none of its ops.
        if (txn.txns.some((t) => t.type === OpCode.error)) break;
        for (const sub of txn.txns) this.apply({ ...hdr, type: sub.type }, sub);
        break;
      default:
        break; // check, createSession, error: no node changes
    }
  }

  /**
   * The node at `path` as it will be once every txn given so far is applied; null when absent.
   * The object is the overlay's own (a fresh copy of the tree's node when it had none): callers
   * change it in place and then call `changed`.
   */
  private get(path: string): NodeState | null {
    const p = this.overlay.get(path);
    if (p !== undefined) {
      if (p.zxid > this.tree.lastProcessedZxid) return p.node;
      this.overlay.delete(path); // applied: the tree has it now
    }
    return this.tree.digestState(path) ?? null; // a fresh copy, with the tree's cached crc and digest
  }

  private exists(path: string): boolean {
    const p = this.overlay.get(path);
    if (p !== undefined && p.zxid > this.tree.lastProcessedZxid) return p.node !== null;
    return this.tree.get(path) !== undefined;
  }

  /** `n` (its old digest already taken out of the sum) now stands at `path` as of `zxid`. */
  private changed(path: string, n: NodeState, zxid: bigint): void {
    n.digest = digestExcluded(path) ? 0 : statDigest(n.crc, n);
    this.sum.add(n.digest);
    this.put(path, zxid, n);
  }

  private put(path: string, zxid: bigint, node: NodeState | null): void {
    const p = this.overlay.get(path);
    if (p === undefined) {
      this.overlay.set(path, { zxid, node });
    } else {
      p.zxid = zxid;
      p.node = node;
    }
  }

  private create(path: string, data: Buffer | null, ephemeralOwner: bigint, parentCVersion: number, hdr: TxnHeader): void {
    const parentPath = parentOf(path);
    const parent = this.get(parentPath);
    if (parent === null || this.exists(path)) return; // NoNode, NodeExists: nothing changes
    const cversion = parentCVersion === -1 ? parent.cversion + 1 : parentCVersion;
    if (cversion > parent.cversion) {
      this.sum.remove(parent.digest);
      parent.cversion = cversion;
      parent.pzxid = hdr.zxid;
      this.changed(parentPath, parent, hdr.zxid);
    }
    const node: NodeState = {
      data,
      czxid: hdr.zxid,
      mzxid: hdr.zxid,
      pzxid: hdr.zxid,
      ctime: hdr.time,
      mtime: hdr.time,
      version: 0,
      cversion: 0,
      aversion: 0,
      ephemeralOwner,
      crc: digestExcluded(path) ? 0 : digestCrcOf(path, data),
      digest: 0,
    };
    this.changed(path, node, hdr.zxid);
  }

  private delete(path: string, zxid: bigint): void {
    const parentPath = parentOf(path);
    const parent = this.get(parentPath);
    if (parent === null) return;
    if (zxid > parent.pzxid) {
      this.sum.remove(parent.digest);
      parent.pzxid = zxid;
      this.changed(parentPath, parent, zxid);
    }
    const node = this.get(path);
    if (node === null) return;
    this.sum.remove(node.digest);
    this.put(path, zxid, null);
  }
}
