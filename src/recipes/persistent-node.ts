// persistent-node.ts — PersistentNode (Curator's PersistentNode): a node that should exist as
// long as this object is started, typically ephemeral ("I am here"). If it is deleted (by someone
// else, or because the session expired on a server and it was removed) it is created again, and
// after every reconnect its existence is checked. GroupMember puts one in a group folder and
// caches the group.
//
// Guarantee: while started and connected, the node exists with the latest data set here, within
// the time it takes to notice a deletion (one watch event). An ephemeral node is gone while the
// session is; a new session (a new client) is needed after expiry, as with every recipe.
import { EventEmitter } from 'node:events';
import type { CreateMode, WatchedEvent, ZooKeeper } from '../client/index.js';
import { isZkError } from '../client/index.js';
import { ensurePath, joinPath } from './paths.js';
import { isTransient } from './retry.js';
import { PathChildrenCache } from './tree-cache.js';

export interface PersistentNodeEvents {
  created: [path: string];
  error: [err: unknown];
}

export class PersistentNode extends EventEmitter<PersistentNodeEvents> implements AsyncDisposable {
  private started = false;
  private data: Buffer;
  private healing: Promise<void> = Promise.resolve();
  private readonly onState = (s: string): void => {
    if (s === 'connected') this.heal();
  };

  // one listener object, so re-arming never stacks listeners (the client keeps one per path)
  private readonly onWatch = (ev: WatchedEvent): void => {
    if (ev.type !== 'None' && this.started) this.heal();
  };

  constructor(readonly zk: ZooKeeper, readonly path: string, readonly mode: Extract<CreateMode, 'ephemeral' | 'persistent' | 'container'> = 'ephemeral', data: Buffer | string = Buffer.alloc(0)) {
    super();
    this.data = Buffer.from(data);
  }

  /** Creates the node (and its parents) and starts watching it; resolves once it exists. */
  async start(): Promise<void> {
    this.started = true;
    this.zk.on('state', this.onState);
    await this.ensure();
  }

  /** Changes the node's data (kept for re-creation). */
  async setData(data: Buffer | string): Promise<void> {
    this.data = Buffer.from(data);
    if (this.started) await this.zk.setData(this.path, this.data).catch((e: unknown) => (isZkError(e) && e.code === 'ZNONODE' ? this.ensure() : Promise.reject(e)));
  }

  async close(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.zk.off('state', this.onState);
    await this.healing;
    if (this.zk.state === 'connected') await this.zk.delete(this.path).catch(() => {});
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private heal(): void {
    this.healing = this.healing.then(() => this.ensure()).catch((e: unknown) => {
      if (isTransient(e)) setTimeout(() => this.heal(), 100);
      else this.emit('error', e);
    });
  }

  private async ensure(): Promise<void> {
    if (!this.started) return;
    // any event re-checks (and re-arms): NodeDeleted to re-create, NodeCreated after our own create
    const stat = await this.zk.exists(this.path, { watch: this.onWatch });
    if (stat !== null) return;
    try {
      await this.zk.create(this.path, this.data, { mode: this.mode });
    } catch (e) {
      if (isZkError(e) && e.code === 'ZNONODE') {
        await ensurePath(this.zk, this.path.slice(0, this.path.lastIndexOf('/')) || '/');
        await this.zk.create(this.path, this.data, { mode: this.mode });
      } else if (!(isZkError(e) && e.code === 'ZNODEEXISTS')) throw e;
    }
    this.emit('created', this.path);
  }
}

/**
 * GroupMember (Curator's GroupMember): this process's ephemeral membership node in a group
 * folder, and a cache of every member's id and data.
 */
export class GroupMember implements AsyncDisposable {
  private readonly node: PersistentNode;
  private readonly cache: PathChildrenCache;
  constructor(readonly zk: ZooKeeper, readonly groupPath: string, readonly memberId: string, data: Buffer | string = Buffer.alloc(0)) {
    this.node = new PersistentNode(zk, joinPath(groupPath, memberId), 'ephemeral', data);
    this.cache = new PathChildrenCache(zk, groupPath);
  }
  async start(): Promise<void> {
    await this.node.start();
    await this.cache.start();
  }
  /** Members by id, with their data, as last seen. */
  currentMembers(): Map<string, Buffer> {
    return new Map(this.cache.current().map((c) => [c.path.slice(c.path.lastIndexOf('/') + 1), c.data]));
  }
  setThisData(data: Buffer | string): Promise<void> {
    return this.node.setData(data);
  }
  /** The cache's events ('added', 'removed', 'updated') for watching the group. */
  get events(): PathChildrenCache {
    return this.cache;
  }
  async close(): Promise<void> {
    await this.cache.close();
    await this.node.close();
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
