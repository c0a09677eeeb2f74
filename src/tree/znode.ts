// znode.ts — one node of the tree: data, interned ACL, the persisted stat fields and the child
// names. numChildren and dataLength are derived, as in ZooKeeper's StatPersisted.
import type { ACL, Stat } from '../protocol/records.js';
import { ephemeralKind } from './ephemeral-type.js';

export class ZNode {
  /** null when created or set with null data: ZooKeeper keeps and returns it as null. */
  data: Buffer | null;
  acl: readonly ACL[];
  czxid: bigint;
  mzxid: bigint;
  pzxid: bigint;
  ctime: number;
  mtime: number;
  version = 0;
  cversion = 0;
  aversion = 0;
  ephemeralOwner: bigint;
  children: Set<string> | null = null;
  /** CRC32 of the node's path and data, where its digest resumes (digest.ts); kept by DataTree. */
  digestCrc = 0;
  /** The node's digest as of its last change (int32 bits of the unsigned value); kept by DataTree. */
  digest = 0;

  constructor(data: Buffer | null, acl: readonly ACL[], zxid: bigint, time: number, ephemeralOwner: bigint) {
    this.data = data;
    this.acl = acl;
    this.czxid = zxid;
    this.mzxid = zxid;
    this.pzxid = zxid;
    this.ctime = time;
    this.mtime = time;
    this.ephemeralOwner = ephemeralOwner;
  }

  get numChildren(): number {
    return this.children === null ? 0 : this.children.size;
  }

  addChild(name: string): void {
    (this.children ??= new Set()).add(name);
  }

  removeChild(name: string): void {
    this.children?.delete(name);
  }

  /**
   * The Stat a client sees (ZooKeeper's DataNode.copyStat): cversion is reported as
   * 2 × creates − children, so deletes count too, while the stored cversion counts creates
   * only (it names sequential nodes); container and TTL owners read as 0 (TTL ones only with
   * extended types enabled, as in ZooKeeper).
   */
  stat(extendedTypesEnabled: boolean): Stat {
    const numChildren = this.numChildren;
    const kind = ephemeralKind(this.ephemeralOwner, extendedTypesEnabled);
    return {
      czxid: this.czxid,
      mzxid: this.mzxid,
      ctime: BigInt(this.ctime),
      mtime: BigInt(this.mtime),
      version: this.version,
      cversion: (this.cversion * 2 - numChildren) | 0,
      aversion: this.aversion,
      ephemeralOwner: kind === 'normal' ? this.ephemeralOwner : 0n,
      dataLength: this.data === null ? 0 : this.data.length,
      numChildren,
      pzxid: this.pzxid,
    };
  }
}
