// data-dir.ts — a server's dataDir/dataLogDir in ZooKeeper's format, as one commit stage
// (FileTxnSnapLog + SyncRequestProcessor): recovery at open, a snapshot of the recovered state
// (ZooKeeper takes one at every start), the txn log as the group-committing CommitStage, and a
// new snapshot after snapCount/2 + random(snapCount/2) txns (or half the size limit plus a random
// share), with the log rolled so that each snapshot starts a new log file.
//
// Snapshots are exact: the tree is serialized synchronously in one event-loop turn (nothing can
// change it meanwhile), at tree.lastProcessedZxid; txns logged but not yet applied at that moment
// are in the logs and are replayed after it. Only the file write is asynchronous. The price is a
// pause while serializing, measured in `stats.lastSnapshotSerializeMs`.
import type { DataTree } from '../tree/data-tree.js';
import type { Txn, TxnHeader } from '../tree/txn.js';
import { versionDir } from './data-files.js';
import { purgeOldFiles } from './purge.js';
import { recover, writeSnapshot, type RecoveredState } from './recovery.js';
import { TxnLogWriter, type LogFs } from './txn-log.js';

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface DataDirOptions {
  dataDir: string;
  /** Defaults to dataDir. */
  dataLogDir?: string;
  /** zookeeper.snapCount (default 100000). */
  snapCount?: number;
  /** zookeeper.snapSizeLimitInKb × 1024 (default 4 GiB); 0 or less: no size trigger. */
  snapSizeLimitBytes?: number;
  /** zookeeper.preAllocSize × 1024 (default 64 MiB). */
  preAllocBytes?: number;
  /** zookeeper.forceSync (default true). */
  forceSync?: boolean;
  /** zookeeper.snapshot.trust.empty (default false). */
  snapshotTrustEmpty?: boolean;
  extendedTypesEnabled?: boolean;
  maxTxnBytes?: number;
  /** autopurge.snapRetainCount / autopurge.purgeInterval (as ms; 0: off, ZooKeeper's default). */
  autopurge?: { snapRetainCount: number; purgeIntervalMs: number };
  /** A source of [0, 1) for the snapshot jitter; pass a seeded one in tests. */
  random?: () => number;
  log?: Log;
  logFs?: LogFs;
}

/** What a snapshot reads: the live tree and session table (a ZkServer fits). */
export interface LiveState {
  readonly tree: DataTree;
  readonly sessions: { readonly sessions: ReadonlyMap<bigint, { readonly timeoutMs: number }> };
}

export interface DataDirStats {
  snapshots: number;
  skippedSnapshots: number;
  lastSnapshotFile: string | null;
  lastSnapshotSerializeMs: number;
  lastSnapshotWriteMs: number;
}

export class DataDir {
  readonly stats: DataDirStats = { snapshots: 0, skippedSnapshots: 0, lastSnapshotFile: null, lastSnapshotSerializeMs: 0, lastSnapshotWriteMs: 0 };
  readonly txnLog: TxnLogWriter;
  private live: LiveState | null = null;
  private txnsSinceSnap = 0;
  private bytesSinceSnap = 0;
  private randRoll = 0;
  private randSize = 0;
  private snapshotting: Promise<string | null> | null = null;
  private closed = false;
  private purgeTimer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly opts: DataDirOptions,
    /** The recovered state to start the server from (ZkServer's `initial`). */
    readonly initial: RecoveredState,
  ) {
    this.txnLog = new TxnLogWriter({
      dir: versionDir(opts.dataLogDir ?? opts.dataDir),
      preAllocBytes: opts.preAllocBytes,
      forceSync: opts.forceSync,
      fs: opts.logFs,
      log: opts.log,
    });
    this.resetSnapTrigger();
  }

  /** Recovers the directories, snapshots the result and opens the log for appends. */
  static async open(opts: DataDirOptions): Promise<DataDir> {
    const state = recover(opts.dataDir, opts.dataLogDir ?? opts.dataDir, {
      extendedTypesEnabled: opts.extendedTypesEnabled,
      snapshotTrustEmpty: opts.snapshotTrustEmpty,
      maxTxnBytes: opts.maxTxnBytes,
      log: opts.log,
    });
    const file = await writeSnapshot(state.tree, state.sessions, state.lastZxid, opts.dataDir);
    opts.log?.('info', `Snapshotting: 0x${state.lastZxid.toString(16)} to ${file}`);
    const d = new DataDir(opts, state);
    d.stats.snapshots++;
    d.stats.lastSnapshotFile = file;
    d.startPurging();
    return d;
  }

  /** DatadirCleanupManager: purge now, then every purgeInterval. */
  private startPurging(): void {
    const p = this.opts.autopurge;
    if (p === undefined || p.purgeIntervalMs <= 0) return;
    const purge = (): void => {
      try {
        const r = purgeOldFiles(this.opts.dataDir, this.opts.dataLogDir ?? this.opts.dataDir, p.snapRetainCount);
        if (r.removed.length > 0) this.opts.log?.('info', `Purge task removed ${r.removed.length} files`);
      } catch (e) {
        this.opts.log?.('error', `Error occurred while purging: ${(e as Error).message}`);
      }
    };
    purge();
    this.purgeTimer = setInterval(purge, p.purgeIntervalMs);
    this.purgeTimer.unref();
  }

  /** Where snapshots read the state from; until then none is taken. */
  attach(live: LiveState): void {
    this.live = live;
  }

  private get snapCount(): number {
    return Math.max(2, this.opts.snapCount ?? 100000);
  }

  private get snapSizeLimit(): number {
    return this.opts.snapSizeLimitBytes ?? 4 * 1024 * 1024 * 1024;
  }

  private resetSnapTrigger(): void {
    const random = this.opts.random ?? Math.random;
    this.randRoll = Math.floor(random() * (this.snapCount / 2));
    this.randSize = this.snapSizeLimit > 0 ? Math.floor(random() * (this.snapSizeLimit / 2)) : 0;
    this.txnsSinceSnap = 0;
    this.bytesSinceSnap = 0;
  }

  /** The CommitStage: the txn log's group commit, plus the snapshot trigger. */
  append(hdr: TxnHeader, txn: Txn, done: (err: Error | null) => void): void {
    this.bytesSinceSnap += this.txnLog.append(hdr, txn, done);
    this.txnsSinceSnap++;
    const bySize = this.snapSizeLimit > 0 && this.bytesSinceSnap > this.snapSizeLimit / 2 + this.randSize;
    if (this.txnsSinceSnap > this.snapCount / 2 + this.randRoll || bySize) {
      this.resetSnapTrigger();
      this.txnLog.roll();
      if (this.snapshotting) {
        this.stats.skippedSnapshots++;
        this.opts.log?.('warn', 'Too busy to snap, skipping');
      } else {
        setImmediate(() => void this.snapshot());
      }
    }
  }

  /** Takes a snapshot of the attached state now; null when there is none or one is running. */
  snapshot(): Promise<string | null> {
    if (this.snapshotting) return this.snapshotting;
    const live = this.live;
    if (live === null || this.closed) return Promise.resolve(null);
    this.snapshotting = this.takeSnapshot(live).finally(() => {
      this.snapshotting = null;
    });
    return this.snapshotting;
  }

  private async takeSnapshot(live: LiveState): Promise<string | null> {
    const sessions = new Map<bigint, number>();
    for (const [id, s] of live.sessions.sessions) sessions.set(id, s.timeoutMs);
    const zxid = live.tree.lastProcessedZxid;
    const t0 = performance.now();
    const write = writeSnapshot(live.tree, sessions, zxid, this.opts.dataDir); // serializes before returning
    const t1 = performance.now();
    this.stats.lastSnapshotSerializeMs = t1 - t0;
    try {
      const file = await write;
      this.stats.lastSnapshotWriteMs = performance.now() - t1;
      this.stats.snapshots++;
      this.stats.lastSnapshotFile = file;
      this.opts.log?.('info', `Snapshotting: 0x${zxid.toString(16)} to ${file} (${Math.round(t1 - t0)} ms serializing)`);
      return file;
    } catch (e) {
      this.opts.log?.('error', `snapshot at 0x${zxid.toString(16)} failed: ${(e as Error).message}`);
      return null;
    }
  }

  /** Waits for pending appends and any running snapshot, then closes the log. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await this.txnLog.close();
    if (this.snapshotting) await this.snapshotting;
  }
}
