// tree-cache.ts — local copies of a part of the tree kept current by watches: TreeCache (a whole
// subtree, Curator's TreeCache/CuratorCache), PathChildrenCache (the children of one node) and
// NodeCache (one node). They rest on one persistent watch — recursive for the subtree and the
// children, plain persistent for one node — so no event is lost between a one-time watch firing
// and being set again.
//
// Guarantee: eventually consistent. Events arrive in zxid order and each one is followed by a
// read, so the cache converges to the server's state and, while connected, reflects every change
// made at least once (several quick changes of one node may show up as one 'updated'). While the
// connection is lost the cache keeps the last state it saw; after a reconnect it reloads and emits
// the differences (a persistent watch replayed by setWatches does not report what was missed).
// Do not use a cache to decide who holds a lock: use the lock recipes.
import { EventEmitter } from 'node:events';
import type { NodeEvent, Stat, WatchStream, ZooKeeper } from '../client/index.js';
import { isZkError } from '../client/index.js';
import { joinPath } from './paths.js';

export interface ChildData {
  path: string;
  data: Buffer;
  stat: Stat;
}

export interface TreeCacheEvents {
  added: [node: ChildData];
  updated: [node: ChildData];
  removed: [node: ChildData];
  /** The first load is complete. */
  initialized: [];
  error: [err: unknown];
}

export interface TreeCacheOptions {
  /** Depth below the root that is cached: 0 the root only, 1 its children… Default unbounded. */
  maxDepth?: number;
  /** Leave the root itself out (PathChildrenCache). */
  excludeRoot?: boolean;
}

export class TreeCache extends EventEmitter<TreeCacheEvents> implements AsyncDisposable {
  private readonly nodes = new Map<string, ChildData>();
  private stream: WatchStream | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly maxDepth: number;
  private readonly onState = (s: string): void => {
    if (s === 'connected' && this.stream !== null) void this.reload().catch((e: unknown) => this.emit('error', e));
  };

  constructor(readonly zk: ZooKeeper, readonly root: string, private readonly opts: TreeCacheOptions = {}) {
    super();
    this.maxDepth = opts.maxDepth ?? Infinity;
  }

  /** Sets the watch, loads the tree (emitting 'added' per node, then 'initialized'). */
  async start(): Promise<void> {
    if (this.stream !== null) throw new Error('cache already started');
    const mode = this.maxDepth === 0 ? 'persistent' : 'recursive';
    this.stream = this.zk.watch(this.root, { mode });
    await this.stream.ready;
    this.zk.on('state', this.onState);
    await this.reload();
    this.emit('initialized');
    this.running = this.consume(this.stream);
  }

  /** The cached node at path, or undefined. */
  get(path: string): ChildData | undefined {
    return this.nodes.get(path);
  }
  /** Every cached node, by path. */
  entries(): ReadonlyMap<string, ChildData> {
    return this.nodes;
  }
  /** The cached children's names of path (sorted). */
  children(path: string): string[] {
    const prefix = path === '/' ? '/' : `${path}/`;
    const out: string[] = [];
    for (const p of this.nodes.keys()) if (p.startsWith(prefix) && p.length > prefix.length && !p.slice(prefix.length).includes('/')) out.push(p.slice(prefix.length));
    return out.sort();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.zk.off('state', this.onState);
    await this.stream?.close();
    await this.running;
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private depthOf(path: string): number {
    if (path === this.root) return 0;
    const rel = this.root === '/' ? path.slice(1) : path.slice(this.root.length + 1);
    return rel.split('/').length;
  }
  private wanted(path: string): boolean {
    const d = this.depthOf(path);
    return d <= this.maxDepth && !(d === 0 && this.opts.excludeRoot === true);
  }

  private async consume(stream: WatchStream): Promise<void> {
    try {
      for await (const ev of stream) await this.apply(ev);
    } catch (e) {
      if (!this.closed) this.emit('error', e);
    }
  }

  private async apply(ev: NodeEvent): Promise<void> {
    if (this.depthOf(ev.path) > this.maxDepth) return;
    if (ev.type === 'NodeDeleted') return this.removeSubtree(ev.path);
    if (ev.type === 'NodeCreated' || ev.type === 'NodeDataChanged') {
      if (this.wanted(ev.path)) await this.refresh(ev.path);
      return;
    }
    if (ev.type === 'NodeChildrenChanged') await this.reload(); // persistent (non-recursive) watch at depth 0 only
  }

  private async read(path: string): Promise<ChildData | null> {
    try {
      const { data, stat } = await this.zk.getData(path);
      return { path, data, stat };
    } catch (e) {
      if (isZkError(e) && e.code === 'ZNONODE') return null;
      throw e;
    }
  }

  private async refresh(path: string): Promise<void> {
    const now = await this.read(path);
    if (now === null) return this.removeSubtree(path);
    this.put(now);
  }

  private put(now: ChildData): void {
    const before = this.nodes.get(now.path);
    if (before !== undefined && before.stat.mzxid === now.stat.mzxid && before.stat.cversion === now.stat.cversion) return;
    this.nodes.set(now.path, now);
    if (before === undefined) this.emit('added', now);
    else if (before.stat.mzxid !== now.stat.mzxid) this.emit('updated', now);
  }

  private removeSubtree(path: string): void {
    const prefix = path === '/' ? '/' : `${path}/`;
    for (const [p, node] of [...this.nodes]) {
      if (p === path || p.startsWith(prefix)) {
        this.nodes.delete(p);
        this.emit('removed', node);
      }
    }
  }

  /** Walks the subtree and brings the cache in line with it (adds, updates, removes). */
  private async reload(): Promise<void> {
    const seen = new Set<string>();
    const walk = async (path: string, depth: number): Promise<void> => {
      const node = await this.read(path);
      if (node === null) return;
      if (this.wanted(path)) {
        seen.add(path);
        this.put(node);
      }
      if (depth >= this.maxDepth) return;
      let kids: string[];
      try {
        kids = await this.zk.getChildren(path);
      } catch (e) {
        if (isZkError(e) && e.code === 'ZNONODE') return;
        throw e;
      }
      await Promise.all(kids.map((k) => walk(joinPath(path, k), depth + 1)));
    };
    await walk(this.root, 0);
    for (const [p, node] of [...this.nodes]) {
      if (!seen.has(p)) {
        this.nodes.delete(p);
        this.emit('removed', node);
      }
    }
  }
}

/** The children of one node, with their data (Curator's PathChildrenCache). */
export class PathChildrenCache extends TreeCache {
  constructor(zk: ZooKeeper, path: string) {
    super(zk, path, { maxDepth: 1, excludeRoot: true });
  }
  /** The cached children, sorted by name. */
  current(): ChildData[] {
    return this.children(this.root).map((n) => this.get(joinPath(this.root, n))!);
  }
}

/** One node's data and stat, or undefined while it does not exist (Curator's NodeCache). */
export class NodeCache extends TreeCache {
  constructor(zk: ZooKeeper, path: string) {
    super(zk, path, { maxDepth: 0 });
  }
  current(): ChildData | undefined {
    return this.get(this.root);
  }
}
