// znode.ts — one node of the tree: data, interned ACL, the persisted stat fields and the child
// names. numChildren and dataLength are derived, as in ZooKeeper's StatPersisted.
import type { ACL, Stat } from '../protocol/records.js';

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

  stat(): Stat {
    return {
      czxid: this.czxid,
      mzxid: this.mzxid,
      ctime: BigInt(this.ctime),
      mtime: BigInt(this.mtime),
      version: this.version,
      cversion: this.cversion,
      aversion: this.aversion,
      ephemeralOwner: this.ephemeralOwner,
      dataLength: this.data === null ? 0 : this.data.length,
      numChildren: this.numChildren,
      pzxid: this.pzxid,
    };
  }
}
