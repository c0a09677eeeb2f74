// watch-manager.ts — one table of watches (the tree keeps two: data and child), as ZooKeeper's
// WatchManager: each (path, watcher) pair holds a set of modes. A standard watch fires once and is
// removed; persistent watches stay; persistent-recursive watches also fire for events on
// descendants. A trigger notifies each watcher at most once, optionally skipping watchers another
// table already notified for the same change.
import type { ACL } from '../protocol/records.js';
import type { EventType } from '../protocol/opcodes.js';

export interface Watcher {
  /** Delivers an event; `acl` is the ACL of the node the event is about, for the READ check. */
  process(type: EventType, path: string, zxid: bigint, acl: readonly ACL[] | null): void;
}

export const WatchMode = { STANDARD: 1, PERSISTENT: 2, PERSISTENT_RECURSIVE: 4 } as const;

export class WatchManager {
  private readonly byPath = new Map<string, Map<Watcher, number>>();
  private readonly byWatcher = new Map<Watcher, Map<string, number>>();
  private recursiveCount = 0;
  /** Told of each event that fired watches and how many (ZooKeeper's node_*_watch_count metrics). */
  onTriggered: ((type: EventType, watchers: number) => void) | null = null;

  /** Adds a mode for (path, watcher); true when something changed. */
  add(path: string, watcher: Watcher, mode: number): boolean {
    let watchers = this.byPath.get(path);
    if (watchers === undefined) {
      watchers = new Map();
      this.byPath.set(path, watchers);
    }
    const old = watchers.get(watcher) ?? 0;
    if ((old & mode) === mode) return false;
    watchers.set(watcher, old | mode);
    let paths = this.byWatcher.get(watcher);
    if (paths === undefined) {
      paths = new Map();
      this.byWatcher.set(watcher, paths);
    }
    paths.set(path, old | mode);
    if (mode & WatchMode.PERSISTENT_RECURSIVE && !(old & WatchMode.PERSISTENT_RECURSIVE)) this.recursiveCount++;
    return true;
  }

  /** Fires the watches an event at `path` triggers; returns the watchers notified. */
  trigger(
    path: string,
    type: EventType,
    zxid: bigint,
    acl: readonly ACL[] | null,
    suppress?: ReadonlySet<Watcher> | null,
  ): Set<Watcher> | null {
    let fired: Set<Watcher> | null = null;
    const exact = this.byPath.get(path);
    if (exact !== undefined) {
      for (const [watcher, modes] of exact) {
        (fired ??= new Set()).add(watcher);
        if (modes & WatchMode.STANDARD) this.setModes(path, watcher, modes & ~WatchMode.STANDARD, exact);
      }
    }
    if (this.recursiveCount > 0) {
      for (let p = parentPath(path); p !== null; p = parentPath(p)) {
        const watchers = this.byPath.get(p);
        if (watchers === undefined) continue;
        for (const [watcher, modes] of watchers) {
          if (modes & WatchMode.PERSISTENT_RECURSIVE) (fired ??= new Set()).add(watcher);
        }
      }
    }
    if (fired === null) return null;
    for (const w of fired) {
      if (suppress == null || !suppress.has(w)) w.process(type, path, zxid, acl);
    }
    // suppressed watchers count too, as ZooKeeper's triggerWatch counts them
    if (this.onTriggered !== null) this.onTriggered(type, fired.size);
    return fired;
  }

  /** Whether (path, watcher) holds `mode` (any mode when null). */
  contains(path: string, watcher: Watcher, mode: number | null): boolean {
    const modes = this.byPath.get(path)?.get(watcher);
    if (modes === undefined) return false;
    return mode === null || (modes & mode) !== 0;
  }

  /** Removes `mode` (every mode when null) of (path, watcher); true when something was removed. */
  remove(path: string, watcher: Watcher, mode: number | null): boolean {
    const watchers = this.byPath.get(path);
    const modes = watchers?.get(watcher);
    if (watchers === undefined || modes === undefined) return false;
    const next = mode === null ? 0 : modes & ~mode;
    if (next === modes) return false;
    this.setModes(path, watcher, next, watchers);
    return true;
  }

  /** Drops every watch of a watcher (its connection closed). */
  removeWatcher(watcher: Watcher): void {
    const paths = this.byWatcher.get(watcher);
    if (paths === undefined) return;
    this.byWatcher.delete(watcher);
    for (const [path, modes] of paths) {
      const watchers = this.byPath.get(path);
      if (watchers !== undefined) {
        watchers.delete(watcher);
        if (watchers.size === 0) this.byPath.delete(path);
      }
      if (modes & WatchMode.PERSISTENT_RECURSIVE) this.recursiveCount--;
    }
  }

  private setModes(path: string, watcher: Watcher, next: number, watchers: Map<Watcher, number>): void {
    const old = watchers.get(watcher) ?? 0;
    if (old & WatchMode.PERSISTENT_RECURSIVE && !(next & WatchMode.PERSISTENT_RECURSIVE)) this.recursiveCount--;
    const paths = this.byWatcher.get(watcher);
    if (next === 0) {
      watchers.delete(watcher);
      if (watchers.size === 0) this.byPath.delete(path);
      paths?.delete(path);
      if (paths !== undefined && paths.size === 0) this.byWatcher.delete(watcher);
    } else {
      watchers.set(watcher, next);
      paths?.set(path, next);
    }
  }

  /** Number of (path, watcher) pairs. */
  get size(): number {
    let n = 0;
    for (const paths of this.byWatcher.values()) n += paths.size;
    return n;
  }

  get pathCount(): number {
    return this.byPath.size;
  }

  get watcherCount(): number {
    return this.byWatcher.size;
  }

  /** Paths watched by a watcher (for wchc and setWatches-style dumps). */
  pathsOf(watcher: Watcher): IterableIterator<string> {
    return (this.byWatcher.get(watcher) ?? new Map<string, number>()).keys();
  }

  /** Watchers of a path (for wchp). */
  watchersOf(path: string): IterableIterator<Watcher> {
    return (this.byPath.get(path) ?? new Map<Watcher, number>()).keys();
  }

  paths(): IterableIterator<string> {
    return this.byPath.keys();
  }

  watchers(): IterableIterator<Watcher> {
    return this.byWatcher.keys();
  }
}

function parentPath(path: string): string | null {
  if (path === '/') return null;
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.substring(0, i);
}
