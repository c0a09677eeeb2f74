// acl-cache.ts — ACL lists interned so that equal lists share one array, as ZooKeeper's
// ReferenceCountedACLCache does (most trees use a handful of distinct lists).
import type { ACL } from '../protocol/records.js';
import { Perm } from '../protocol/opcodes.js';

export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }]);
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }]);

export function aclKey(acl: readonly ACL[]): string {
  let k = '';
  for (const a of acl) k += `${a.perms}\u0000${a.id.scheme}\u0000${a.id.id}\u0001`;
  return k;
}

export class AclCache {
  private readonly lists = new Map<string, readonly ACL[]>();
  /** Interned lists by their small-int id (what the node store keeps per node), and back. */
  private readonly byId: (readonly ACL[])[] = [];
  private readonly ids = new Map<readonly ACL[], number>();

  constructor() {
    this.put(aclKey(OPEN_ACL_UNSAFE), OPEN_ACL_UNSAFE); // id 0
    this.put(aclKey(READ_ACL_UNSAFE), READ_ACL_UNSAFE); // id 1
  }

  private put(k: string, list: readonly ACL[]): void {
    this.lists.set(k, list);
    this.ids.set(list, this.byId.length);
    this.byId.push(list);
  }

  intern(acl: readonly ACL[]): readonly ACL[] {
    const k = aclKey(acl);
    const hit = this.lists.get(k);
    if (hit !== undefined) return hit;
    const frozen = Object.freeze(acl.map((a) => Object.freeze({ perms: a.perms, id: Object.freeze({ ...a.id }) })));
    this.put(k, frozen);
    return frozen;
  }

  /** The id of a list (interned first when it is not one of this cache's own arrays). */
  idOf(acl: readonly ACL[]): number {
    const id = this.ids.get(acl);
    return id !== undefined ? id : this.ids.get(this.intern(acl))!;
  }

  /** The interned list with this id. */
  list(id: number): readonly ACL[] {
    return this.byId[id]!;
  }

  get size(): number {
    return this.lists.size;
  }
}
