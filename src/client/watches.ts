// watches.ts — the client's table of watches, as ZooKeeper's ZKWatchManager keeps it: five maps
// (data, exist, child, persistent, persistent-recursive) from server path to the set of watchers
// registered there. A watch is registered when the reply that set it arrives (exists with NoNode
// sets an exist watch, with a node a data watch), an event picks the watchers it fires (one-time
// ones are removed), state events go to every watcher, and after a reconnect the paths are
// replayed with setWatches2. Paths here are server paths (chroot included), as in ZooKeeper 3.9,
// so a replay needs no rewriting; events are handed out chroot-relative.
import { EventType } from '../protocol/opcodes.js';
import { ZkError } from './errors.js';
import { Code } from '../protocol/codes.js';
import type { WatchTarget } from './types.js';

export type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'recursive';
export const WATCH_KINDS: readonly WatchKind[] = ['data', 'exist', 'child', 'persistent', 'recursive'];

/** What removeWatches/checkWatches names: ZooKeeper's WatcherType. */
export type WatcherTypeName = 'children' | 'data' | 'any' | 'persistent' | 'recursive';

const KINDS_OF_TYPE: Record<WatcherTypeName, readonly WatchKind[]> = {
  children: ['child'],
  data: ['data', 'exist'],
  any: WATCH_KINDS,
  persistent: ['persistent'],
  recursive: ['recursive'],
};

/** The event a watcher removed from a table of this kind receives. */
const REMOVED_EVENT: Record<WatchKind, number> = {
  data: EventType.DataWatchRemoved,
  exist: EventType.DataWatchRemoved,
  child: EventType.ChildWatchRemoved,
  persistent: EventType.PersistentWatchRemoved,
  recursive: EventType.PersistentWatchRemoved,
};

export interface WatchLists {
  data: string[];
  exist: string[];
  child: string[];
  persistent: string[];
  recursive: string[];
}

export class WatchManager {
  private readonly tables: Record<WatchKind, Map<string, Set<WatchTarget>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
    persistent: new Map(),
    recursive: new Map(),
  };

  add(kind: WatchKind, serverPath: string, target: WatchTarget): void {
    const table = this.tables[kind];
    let set = table.get(serverPath);
    if (set === undefined) table.set(serverPath, (set = new Set()));
    set.add(target);
  }

  /**
   * The watchers a node event fires, as ZKWatchManager.materialize: one-time watches of the
   * event's kind are removed; persistent watches on the path and recursive watches on the path
   * and its ancestors stay (recursive watches see no child events).
   */
  materialize(type: number, serverPath: string): Set<WatchTarget> {
    const out = new Set<WatchTarget>();
    const take = (kind: WatchKind): void => {
      const set = this.tables[kind].get(serverPath);
      if (set === undefined) return;
      this.tables[kind].delete(serverPath);
      for (const t of set) out.add(t);
    };
    switch (type) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        take('data');
        take('exist');
        break;
      case EventType.NodeChildrenChanged:
        take('child');
        break;
      case EventType.NodeDeleted:
        take('data');
        take('exist');
        take('child');
        break;
      default:
        return out;
    }
    for (const t of this.tables.persistent.get(serverPath) ?? []) out.add(t);
    if (type !== EventType.NodeChildrenChanged) {
      for (let p: string | null = serverPath; p !== null; p = parentOrNull(p)) {
        for (const t of this.tables.recursive.get(p) ?? []) out.add(t);
      }
    }
    return out;
  }

  /** Every watcher, once: state events go to all of them. */
  all(): Set<WatchTarget> {
    const out = new Set<WatchTarget>();
    for (const kind of WATCH_KINDS) for (const set of this.tables[kind].values()) for (const t of set) out.add(t);
    return out;
  }

  /** The paths to replay after a reconnect. */
  lists(): WatchLists {
    const keys = (kind: WatchKind): string[] => [...this.tables[kind].keys()];
    return { data: keys('data'), exist: keys('exist'), child: keys('child'), persistent: keys('persistent'), recursive: keys('recursive') };
  }

  get size(): number {
    let n = 0;
    for (const kind of WATCH_KINDS) n += this.tables[kind].size;
    return n;
  }

  /** True when `target` (any watcher when null) watches `serverPath` in a table of `type`. */
  has(serverPath: string, target: WatchTarget | null, type: WatcherTypeName): boolean {
    return KINDS_OF_TYPE[type].some((kind) => {
      const set = this.tables[kind].get(serverPath);
      return set !== undefined && (target === null ? set.size > 0 : set.has(target));
    });
  }

  /**
   * True when, once `target` (every watcher when null) is removed from the tables of `type`,
   * some watcher is left in the tables the server's watch of `serverType` serves: then that
   * watch must stay on the server.
   */
  othersRemain(serverPath: string, target: WatchTarget | null, type: WatcherTypeName, serverType: WatcherTypeName): boolean {
    const removing = new Set(KINDS_OF_TYPE[type]);
    return KINDS_OF_TYPE[serverType].some((kind) => {
      const set = this.tables[kind].get(serverPath);
      if (set === undefined || set.size === 0) return false;
      if (!removing.has(kind)) return true;
      if (target === null) return false;
      return set.size > 1 || !set.has(target);
    });
  }

  /**
   * Removes `target` (every watcher when null) from `serverPath` in the tables of `type`, as
   * ZKWatchManager.removeWatcher. Returns the removed watchers by the event they are told
   * (DataWatchRemoved, ChildWatchRemoved, PersistentWatchRemoved); throws NoWatcher when none was
   * there.
   */
  remove(serverPath: string, clientPath: string, target: WatchTarget | null, type: WatcherTypeName): Map<number, Set<WatchTarget>> {
    const removed = new Map<number, Set<WatchTarget>>();
    for (const kind of KINDS_OF_TYPE[type]) {
      const table = this.tables[kind];
      const set = table.get(serverPath);
      if (set === undefined) continue;
      const gone = target === null ? [...set] : set.has(target) ? [target] : [];
      if (gone.length === 0) continue;
      for (const t of gone) set.delete(t);
      if (set.size === 0) table.delete(serverPath);
      const ev = REMOVED_EVENT[kind];
      let out = removed.get(ev);
      if (out === undefined) removed.set(ev, (out = new Set()));
      for (const t of gone) out.add(t);
    }
    if (removed.size === 0) throw new ZkError(Code.NoWatcher, { path: clientPath });
    return removed;
  }

  clear(): void {
    for (const kind of WATCH_KINDS) this.tables[kind].clear();
  }
}

function parentOrNull(path: string): string | null {
  if (path === '/') return null;
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.substring(0, i);
}

/**
 * setWatches records for `lists`, each under `batchBytesMax` of path bytes (ZooKeeper's client
 * uses 128 KiB, well under jute.maxbuffer), in ZooKeeper's order: data, exist, child, persistent,
 * recursive. A batch with no persistent paths is a plain setWatches for servers before 3.6.
 */
export function setWatchesBatches(lists: WatchLists, batchBytesMax = 128 * 1024): WatchLists[] {
  const queue: [WatchKind, string][] = [];
  for (const kind of WATCH_KINDS) for (const p of lists[kind]) queue.push([kind, p]);
  const batches: WatchLists[] = [];
  let i = 0;
  while (i < queue.length) {
    const batch: WatchLists = { data: [], exist: [], child: [], persistent: [], recursive: [] };
    let bytes = 0;
    while (i < queue.length && (bytes === 0 || bytes + pathBytes(queue[i]![1]) <= batchBytesMax)) {
      const [kind, p] = queue[i++]!;
      batch[kind].push(p);
      bytes += pathBytes(p);
    }
    batches.push(batch);
  }
  return batches;
}

/** The bytes a path takes in a jute string vector. */
function pathBytes(p: string): number {
  return 4 + Buffer.byteLength(p, 'utf8');
}
