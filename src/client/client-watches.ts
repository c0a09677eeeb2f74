// client-watches.ts — the client's side of watches: the table (watches.ts), the default watcher,
// the async-iterator streams, and the calls that change them on the server (addWatch,
// removeWatches/checkWatches). Node events are handed to the watchers they fire, chroot-relative;
// state events to every watcher, as ZooKeeper's clients do; a terminal state ends the streams.
import type { WatcherEvent } from '../protocol/client-codec.js';
import { Code } from '../protocol/codes.js';
import { AddWatchMode, OpCode, WatcherType } from '../protocol/opcodes.js';
import type { Request } from '../protocol/requests.js';
import type { Connection } from './connection.js';
import { ZkError } from './errors.js';
import type { RemoveWatchesOptions } from './options.js';
import { checkPath } from './ops.js';
import { type Transition, isTerminal } from './session-state.js';
import { type KeeperStateName, type NodeEvent, type WatchedEvent, type WatchOption, type WatchTarget, eventTypeName, keeperStateName } from './types.js';
import type { WatchStream } from './watch-stream.js';
import { type WatchKind, type WatcherTypeName, WatchManager } from './watches.js';

const WIRE_WATCHER_TYPE: Record<WatcherTypeName, number> = {
  children: WatcherType.Children,
  data: WatcherType.Data,
  any: WatcherType.Any,
  // ZooKeeper 3.8 knows no types 4 and 5: persistent watches are removed as "any", and only when
  // no other watch of this client remains on the path (see unwatch).
  persistent: WatcherType.Any,
  recursive: WatcherType.Any,
};

const STATE_OF_EVENT: Record<string, KeeperStateName> = {
  connected: 'SyncConnected',
  reconnected: 'SyncConnected',
  readOnly: 'ConnectedReadOnly',
  suspended: 'Disconnected',
  expired: 'Expired',
  closed: 'Closed',
  authFailed: 'AuthFailed',
};

export interface PathMapping {
  toServer(clientPath: string): string;
  toClient(serverPath: string): string;
}

export class ClientWatches {
  readonly table = new WatchManager();
  readonly streams = new Set<WatchStream>();
  /** `watch: true`: events go to the client's 'watch' event. */
  readonly defaultWatcher: WatchTarget;

  constructor(
    private readonly conn: Connection,
    private readonly paths: PathMapping,
    emitWatch: (ev: WatchedEvent) => void,
    private readonly log: (level: 'warn', msg: string) => void,
  ) {
    this.defaultWatcher = { process: emitWatch };
  }

  target(opt: WatchOption | undefined): WatchTarget | null {
    if (opt === undefined || opt === false) return null;
    return opt === true ? this.defaultWatcher : opt;
  }

  add(kind: WatchKind, serverPath: string, target: WatchTarget): void {
    this.table.add(kind, serverPath, target);
  }

  addWatch(path: string, target: WatchTarget, recursive: boolean, signal?: AbortSignal): Promise<void> {
    checkPath(path);
    const sp = this.paths.toServer(path);
    const req: Request = { type: OpCode.addWatch, path: sp, mode: recursive ? AddWatchMode.PERSISTENT_RECURSIVE : AddWatchMode.PERSISTENT };
    return this.conn.submit(req, (rc) => {
      if (rc !== Code.OK) throw new ZkError(rc, { path });
      this.table.add(recursive ? 'recursive' : 'persistent', sp, target);
    }, signal);
  }

  check(path: string, type: WatcherTypeName, signal?: AbortSignal): Promise<boolean> {
    checkPath(path);
    const req: Request = { type: OpCode.checkWatches, path: this.paths.toServer(path), watcherType: WIRE_WATCHER_TYPE[type] };
    return this.conn.submit(req, (rc) => {
      if (rc === Code.OK) return true;
      if (rc === Code.NoWatcher) return false;
      throw new ZkError(rc, { path });
    }, signal);
  }

  /**
   * Removes `target` (all when null) as ZooKeeper's WatchDeregistration does: after the server's
   * answer (or regardless of it with `local`), telling each removed watcher. The request is
   * removeWatches when no other watcher of this client needs the server's watch, otherwise
   * checkWatches (as the Java client does for one watcher), so the others keep firing.
   */
  unwatch(path: string, target: WatchTarget | null, type: WatcherTypeName, opts: RemoveWatchesOptions): Promise<void> {
    checkPath(path);
    const sp = this.paths.toServer(path);
    const wireType = WIRE_WATCHER_TYPE[type];
    const serverType = wireType === WatcherType.Children ? 'children' : wireType === WatcherType.Data ? 'data' : 'any';
    const keepServerWatch = this.table.othersRemain(sp, target, type, serverType);
    const req: Request = { type: keepServerWatch ? OpCode.checkWatches : OpCode.removeWatches, path: sp, watcherType: wireType };
    return this.conn.submit(req, (rc) => {
      if (rc !== Code.OK && !opts.local) throw new ZkError(rc, { path });
      const removed = this.table.remove(sp, path, target, type);
      for (const [evType, targets] of removed) {
        const ev: NodeEvent = { type: eventTypeName(evType) as NodeEvent['type'], state: 'SyncConnected', path, zxid: -1n };
        for (const t of targets) deliver(t, ev);
      }
    }, opts.signal);
  }

  onNotification(e: WatcherEvent, zxid: bigint): void {
    const type = eventTypeName(e.type);
    if (type === undefined || type === 'None') {
      this.log('warn', `ignored a notification of type ${e.type} for ${e.path}`);
      return;
    }
    const targets = this.table.materialize(e.type, e.path);
    const ev: NodeEvent = { type, state: keeperStateName(e.state), path: this.paths.toClient(e.path), zxid };
    for (const t of targets) deliver(t, ev);
  }

  /** Tells every watcher the new state; a terminal one ends the streams and empties the table. */
  onTransition(t: Transition): void {
    const ev: WatchedEvent = { type: 'None', state: STATE_OF_EVENT[t.event!]!, path: null, zxid: -1n };
    const targets = this.table.all();
    targets.add(this.defaultWatcher);
    if (isTerminal(t.state)) {
      for (const s of [...this.streams]) s.terminate(t.state);
      this.streams.clear();
      this.table.clear();
    }
    for (const target of targets) deliver(target, ev);
  }
}

/** Calls a watcher; one that throws does not stop the others, and its error is rethrown after. */
function deliver(target: WatchTarget, ev: WatchedEvent): void {
  try {
    if (typeof target === 'function') target(ev);
    else target.process(ev);
  } catch (e) {
    process.nextTick(() => {
      throw e;
    });
  }
}
