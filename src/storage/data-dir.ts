// data-dir.ts — a server's dataDir/dataLogDir in ZooKeeper's format, as one commit stage
// (FileTxnSnapLog + SyncRequestProcessor): recovery at open, a snapshot of the recovered state
// (ZooKeeper takes one at every start), the txn log as the group-committing CommitStage, and a
// new snapshot after snapCount/2 + random(snapCount/2) txns (or half the size limit plus a random
// share), with the log rolled so that each snapshot starts a new log file.
//
// Snapshots are exact and do not stall clients: a FrozenTree holds the tree as it was at
// tree.lastProcessedZxid (copy-on-write of the nodes that change meanwhile), and the snapshot is
// serialized from it in slices of about `snapshotSliceMs`, one event-loop turn apart, streamed to
// the file as it goes. The session table is copied in the same turn as the zxid is read, so it
// holds every session whose createSession is in the snapshot (ZOOKEEPER-3144). Txns logged but
// not yet applied at that moment are in the logs and are replayed after it.
import type { DataTree } from '../tree/data-tree.js';
import type { TxnDigest } from '../tree/digest.js';
import type { Txn, TxnHeader } from '../tree/txn.js';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { versionDir } from './data-files.js';
import { purgeOldFiles } from './purge.js';
import { FrozenTree } from './frozen-tree.js';
import { recover, type RecoveredState } from './recovery.js';
import { truncateDataDir } from './truncate.js';
import { SnapshotAbandoned, writeSnapshotFile, type SnapshotFileHandle, type SnapshotFileResult } from './snapshot-writer.js';
import { TxnLogWriter, nodeLogFs, type LogFs } from './txn-log.js';

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

/** What the data directory reports while it recovers, logs and snapshots (ServerMetrics implements it). */
export interface StorageMetrics {
  fsync(ms: number, txns: number): void;
  snapshot(ms: number): void;
  recovered(r: { dbInitMs: number; snapLoadMs: number; txnsLoadMs: number; txnsLoaded: number }): void;
}

export interface DataDirOptions {
  /** Where recovery, fsync and snapshot durations go (ZooKeeper's ServerMetrics: dbinittime, fsynctime, snapshottime, ...). */
  metrics?: StorageMetrics;
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
  /** zookeeper.digest.enabled (default true): the tree digest is kept, logged with each txn and checked. */
  digestEnabled?: boolean;
  maxTxnBytes?: number;
  /** autopurge.snapRetainCount / autopurge.purgeInterval (as ms; 0: off, ZooKeeper's default). */
  autopurge?: { snapRetainCount: number; purgeIntervalMs: number };
  /** A source of [0, 1) for the snapshot jitter; pass a seeded one in tests. */
  random?: () => number;
  /** The longest a snapshot serializes in one event-loop turn (default 2 ms). */
  snapshotSliceMs?: number;
  /** At most this many nodes per snapshot slice; tests use it to spread small trees over turns. */
  snapshotSliceUnits?: number;
  /**
   * What a running snapshot waits for between slices (default: the next event-loop turn). Tests
   * pass one that waits for their next batch of writes, so that writes and slices interleave.
   */
  snapshotYield?: () => Promise<void>;
  log?: Log;
  logFs?: LogFs;
  /** Creates a snapshot's temp file (default: node:fs); tests pass one that fails (disk full). */
  snapshotCreate?: (path: string) => Promise<SnapshotFileHandle>;
}

/** What a snapshot reads: the live tree and session table (a ZkServer fits). */
export interface LiveState {
  readonly tree: DataTree;
  readonly sessions: { readonly sessions: ReadonlyMap<bigint, { readonly timeoutMs: number }> };
}

export interface DataDirStats {
  snapshots: number;
  skippedSnapshots: number;
  abandonedSnapshots: number;
  lastSnapshotFile: string | null;
  /** Time spent serializing the last snapshot, over all its slices. */
  lastSnapshotSerializeMs: number;
  /** The longest the last snapshot held the event loop in one turn. */
  lastSnapshotLongestSliceMs: number;
  lastSnapshotSlices: number;
  /** From start to the file renamed into place. */
  lastSnapshotWallMs: number;
  /** Nodes copied because they changed while the last snapshot was being written. */
  lastSnapshotPreservedNodes: number;
}

export class DataDir {
  readonly stats: DataDirStats = {
    snapshots: 0,
    skippedSnapshots: 0,
    abandonedSnapshots: 0,
    lastSnapshotFile: null,
    lastSnapshotSerializeMs: 0,
    lastSnapshotLongestSliceMs: 0,
    lastSnapshotSlices: 0,
    lastSnapshotWallMs: 0,
    lastSnapshotPreservedNodes: 0,
  };
  readonly txnLog: TxnLogWriter;
  private live: LiveState | null = null;
  private txnsSinceSnap = 0;
  private bytesSinceSnap = 0;
  private randRoll = 0;
  private randSize = 0;
  private snapshotting: Promise<string | null> | null = null;
  private closed = false;
  /** A truncation is under way: no snapshot may start. */
  private truncating = false;
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
      ...(opts.metrics === undefined ? {} : { onFsync: (ms: number, txns: number) => opts.metrics!.fsync(ms, txns) }),
    });
    this.resetSnapTrigger();
  }

  /**
   * Recovers the directories, snapshots the result and opens the log for appends.
   *
   * ZooKeeperServer.loadData takes that snapshot before serving, so that the state served is on
   * disk as one snapshot. Here the snapshot waits only when the files alone would not give the
   * recovered state back: with no snapshot loaded (a fresh dataDir's snapshot.0: logs without a
   * snapshot are refused at the next start) or when ephemerals of dead sessions were deleted
   * (a change no txn records). Otherwise it is written while the server serves, from a
   * FrozenTree of the recovered state, as the regular snapshots are; until it is in place a
   * restart replays the same snapshot and logs again, which stay: purging starts after it, and a
   * truncation or another snapshot waits for it.
   */
  static async open(opts: DataDirOptions): Promise<DataDir> {
    const initStart = performance.now();
    const state = recover(opts.dataDir, opts.dataLogDir ?? opts.dataDir, {
      extendedTypesEnabled: opts.extendedTypesEnabled,
      snapshotTrustEmpty: opts.snapshotTrustEmpty,
      digestEnabled: opts.digestEnabled,
      maxTxnBytes: opts.maxTxnBytes,
      log: opts.log,
    });
    opts.metrics?.recovered({ dbInitMs: performance.now() - initStart, snapLoadMs: state.snapLoadMs, txnsLoadMs: state.txnsLoadMs, txnsLoaded: state.txnsReplayed });
    const d = new DataDir(opts, state);
    mkdirSync(versionDir(opts.dataDir), { recursive: true });
    const view = new FrozenTree(state.tree);
    if (state.snapshotFile === null || state.deadSessionsDeleted > 0) {
      const t0 = performance.now();
      d.noteSnapshot(await writeSnapshotFile(view, state.sessions, versionDir(opts.dataDir), { sliceMs: 50, syncDir: d.syncDir, create: opts.snapshotCreate }), t0);
      d.startPurging();
    } else {
      d.snapshotting = d.writeSnapshot(view, new Map(state.sessions), 'startup snapshot').finally(() => {
        d.snapshotting = null;
        if (!d.closed) d.startPurging();
      });
    }
    return d;
  }

  /** The snapshot directory is synced as the log's is (off the event loop; a test's LogFs sees it). */
  private readonly syncDir = (dir: string): Promise<void> => (this.opts.logFs ?? nodeLogFs).syncDir(dir);

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
  append(hdr: TxnHeader, txn: Txn, done: (err: Error | null) => void, digest: TxnDigest | null = null): void {
    this.bytesSinceSnap += this.txnLog.append(hdr, txn, done, digest);
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

  /** Resolves once no snapshot is being written (at once when none is). */
  async snapshotsDone(): Promise<void> {
    while (this.snapshotting) await this.snapshotting;
  }

  /** A snapshot is being written. */
  get snapshotRunning(): boolean {
    return this.snapshotting !== null;
  }

  /** Takes a snapshot of the attached state now; null when there is none or one is running. */
  snapshot(): Promise<string | null> {
    if (this.snapshotting) return this.snapshotting;
    const live = this.live;
    if (live === null || this.closed || this.truncating) return Promise.resolve(null);
    this.snapshotting = this.takeSnapshot(live).finally(() => {
      this.snapshotting = null;
    });
    return this.snapshotting;
  }

  private takeSnapshot(live: LiveState): Promise<string | null> {
    // The zxid (FrozenTree) and the session table are read in the same turn.
    const view = new FrozenTree(live.tree);
    const sessions = new Map<bigint, number>();
    for (const [id, s] of live.sessions.sessions) sessions.set(id, s.timeoutMs);
    return this.writeSnapshot(view, sessions, 'snapshot');
  }

  /** Writes the view in slices between event-loop turns; a failure is logged and gives null. */
  private async writeSnapshot(view: FrozenTree, sessions: ReadonlyMap<bigint, number>, what: string): Promise<string | null> {
    const t0 = performance.now();
    try {
      const r = await writeSnapshotFile(view, sessions, versionDir(this.opts.dataDir), {
        sliceMs: this.opts.snapshotSliceMs,
        sliceUnits: this.opts.snapshotSliceUnits,
        yieldTurn: this.opts.snapshotYield,
        shouldStop: () => this.closed,
        syncDir: this.syncDir,
        create: this.opts.snapshotCreate,
      });
      this.noteSnapshot(r, t0);
      return r.file;
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e; // a broken invariant crashes, loudly
      if (e instanceof SnapshotAbandoned) {
        this.stats.abandonedSnapshots++;
        this.opts.log?.('info', `${what} at 0x${view.zxid.toString(16)} abandoned: the data directory is closing`);
      } else {
        this.opts.log?.('error', `${what} at 0x${view.zxid.toString(16)} failed: ${(e as Error).message}`);
      }
      return null;
    }
  }

  private noteSnapshot(r: SnapshotFileResult, t0: number): void {
    const st = this.stats;
    st.snapshots++;
    st.lastSnapshotFile = r.file;
    st.lastSnapshotSerializeMs = r.serializeMs;
    st.lastSnapshotLongestSliceMs = r.longestSliceMs;
    st.lastSnapshotSlices = r.slices;
    st.lastSnapshotWallMs = performance.now() - t0;
    this.opts.metrics?.snapshot(st.lastSnapshotWallMs);
    st.lastSnapshotPreservedNodes = r.preserved;
    this.opts.log?.(
      'info',
      `Snapshotting: 0x${r.zxid.toString(16)} to ${r.file} (${r.nodes} nodes, ${Math.round(st.lastSnapshotWallMs)} ms, ` +
        `${r.slices} slices of at most ${r.longestSliceMs.toFixed(1)} ms, ${r.preserved} nodes copied on write)`,
    );
  }

  /**
   * TRUNC (ZKDatabase.truncateLog): every txn after `zxid` leaves the directory (truncate.ts),
   * then the state is recovered from what is left, as at a start. Waits for a running snapshot
   * and for pending appends first; the next append starts a new log file. The caller replaces
   * the live state with the result (and must append nothing meanwhile).
   */
  async truncateTo(zxid: bigint): Promise<RecoveredState> {
    assert(!this.truncating, 'one truncation at a time');
    this.truncating = true;
    try {
      if (this.snapshotting) await this.snapshotting;
      await this.txnLog.closeFile();
      truncateDataDir(this.opts.dataDir, this.opts.dataLogDir ?? this.opts.dataDir, zxid, { maxTxnBytes: this.opts.maxTxnBytes, log: this.opts.log });
      const state = recover(this.opts.dataDir, this.opts.dataLogDir ?? this.opts.dataDir, {
        extendedTypesEnabled: this.opts.extendedTypesEnabled,
        snapshotTrustEmpty: this.opts.snapshotTrustEmpty,
        digestEnabled: this.opts.digestEnabled,
        maxTxnBytes: this.opts.maxTxnBytes,
        log: this.opts.log,
      });
      this.resetSnapTrigger();
      return state;
    } finally {
      this.truncating = false;
    }
  }

  /** Waits for pending appends, abandons a running snapshot, then closes the log. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await this.txnLog.close();
    if (this.snapshotting) await this.snapshotting;
  }
}
