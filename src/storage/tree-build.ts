// tree-build.ts — puts a node read from a snapshot into a DataTree the way DataTree.deserialize
// does: linked under its parent (which must already be there: snapshots are in pre-order) and
// entered in the ephemeral, container or TTL index its ephemeralOwner selects.
import { baseName, parentOf } from '../protocol/paths.js';
import type { DataTree } from '../tree/data-tree.js';
import { ephemeralKind } from '../tree/ephemeral-type.js';
import type { ZNode } from '../tree/znode.js';

/** Adds `node` at `path`; returns what is wrong instead when the path cannot go in. */
export function registerNode(tree: DataTree, path: string, node: ZNode): string | null {
  if (path !== '/') {
    if (!path.startsWith('/') || path.endsWith('/')) return `invalid node path "${path}"`;
    const parent = tree.nodes.get(parentOf(path));
    if (parent === undefined) return `Invalid Datatree, unable to find parent ${parentOf(path)} of path ${path}`;
    parent.addChild(baseName(path));
  }
  tree.nodes.set(path, node);
  if (path === '/') return null;
  switch (ephemeralKind(node.ephemeralOwner, tree.extendedTypesEnabled)) {
    case 'container':
      tree.containers.add(path);
      break;
    case 'ttl':
      tree.ttls.add(path);
      break;
    case 'normal': {
      let set = tree.ephemerals.get(node.ephemeralOwner);
      if (set === undefined) {
        set = new Set();
        tree.ephemerals.set(node.ephemeralOwner, set);
      }
      set.add(path);
      break;
    }
    default:
      break;
  }
  return null;
}
