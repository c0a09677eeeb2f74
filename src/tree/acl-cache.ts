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

  constructor() {
    this.lists.set(aclKey(OPEN_ACL_UNSAFE), OPEN_ACL_UNSAFE);
    this.lists.set(aclKey(READ_ACL_UNSAFE), READ_ACL_UNSAFE);
  }

  intern(acl: readonly ACL[]): readonly ACL[] {
    const k = aclKey(acl);
    const hit = this.lists.get(k);
    if (hit !== undefined) return hit;
    const frozen = Object.freeze(acl.map((a) => Object.freeze({ perms: a.perms, id: Object.freeze({ ...a.id }) })));
    this.lists.set(k, frozen);
    return frozen;
  }

  get size(): number {
    return this.lists.size;
  }
}
