// tree-build.ts — puts a node read from a snapshot into a DataTree the way DataTree.deserialize
// does: linked under its parent (which must already be there: snapshots are in pre-order) and
// entered in the ephemeral, container or TTL index its ephemeralOwner selects.
import { baseName, parentOf } from '../protocol/paths.js';
import type { DataTree } from '../tree/data-tree.js';
import { ephemeralKind } from '../tree/ephemeral-type.js';
import type { ZNode } from '../tree/znode.js';

/**
 * The parent the previous node went under. A snapshot lists siblings one after another, so most
 * nodes find their parent here without a lookup in the tree's map (which is a cache miss for
 * most of a million-node tree).
 */
export interface LastParent {
  path: string | null;
  node: ZNode | undefined;
}

/** Adds `node` at `path`; returns what is wrong instead when the path cannot go in. */
export function registerNode(tree: DataTree, path: string, node: ZNode, last?: LastParent): string | null {
  if (path !== '/') {
    if (!path.startsWith('/') || path.endsWith('/')) return `invalid node path "${path}"`;
    const parentPath = parentOf(path);
    let parent: ZNode | undefined;
    if (last !== undefined && last.path === parentPath) {
      parent = last.node;
    } else {
      parent = tree.nodes.get(parentPath);
      if (last !== undefined) {
        last.path = parentPath;
        last.node = parent;
      }
    }
    if (parent === undefined) return `Invalid Datatree, unable to find parent ${parentPath} of path ${path}`;
    parent.addChild(baseName(path));
  }
  tree.nodes.set(path, node);
  if (last !== undefined && last.path === path) last.node = node; // a path listed twice: the map's node wins
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
