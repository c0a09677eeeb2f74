// server-metrics.ts — ZooKeeper's ServerMetrics that a standalone zkts server measures, by
// ZooKeeper's names, for mntr and /metrics; reset by srst (ServerStats.reset, as ZooKeeper's
// resetAll). Units as ZooKeeper's: milliseconds for times, counts for sizes.
//   fsynctime                  each txn log fsync (FileTxnLog.commit)
//   sync_processor_batch_size  txns made durable by one fsync (group commit)
//   snapshottime               each snapshot, start to file renamed into place (takeSnapshot)
//   dbinittime                 loading the data directory at start (ZKDatabase.loadDataBase)
//   startup_snap_load_time     reading the newest snapshot at start
//   startup_txns_load_time     replaying the txn log at start; startup_txns_loaded: how many txns
//   connection_request_count   client connections accepted by the listener
//   connection_rejected        connections refused by maxClientCnxns / maxCnxns
//   auth_failed_count          failed addauth and SASL attempts (ServerStats.incrementAuthFailedCount)
import type { StorageMetrics } from '../storage/data-dir.js';
import type { MntrCounter, MntrSummary, Summary } from './four-letter-mntr.js';
import { LatencySummary } from './latency-summary.js';

export class ServerMetrics implements StorageMetrics {
  private readonly counters = new Map<MntrCounter, number>();
  /** A histogram each, so that /metrics has the median (quantile 0.5) ZooKeeper's Prometheus summaries carry. */
  private readonly summaries = new Map<MntrSummary, LatencySummary>();
  /** The auth_failed_count gauge (ServerStats's, reset by srst too). */
  authFailedCount = 0;

  inc(name: MntrCounter, n = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  observe(name: MntrSummary, v: number): void {
    let s = this.summaries.get(name);
    if (s === undefined) this.summaries.set(name, (s = new LatencySummary()));
    s.add(v);
  }

  authFailed(): void {
    this.authFailedCount++;
  }

  fsync(ms: number, txns: number): void {
    this.observe('fsynctime', ms);
    this.observe('sync_processor_batch_size', txns);
  }

  snapshot(ms: number): void {
    this.observe('snapshottime', ms);
  }

  recovered(r: { dbInitMs: number; snapLoadMs: number; txnsLoadMs: number; txnsLoaded: number }): void {
    this.observe('dbinittime', r.dbInitMs);
    this.observe('startup_snap_load_time', r.snapLoadMs);
    this.observe('startup_txns_load_time', r.txnsLoadMs);
    this.observe('startup_txns_loaded', r.txnsLoaded);
  }

  counterViews(): Partial<Record<MntrCounter, number>> {
    return Object.fromEntries(this.counters);
  }

  summaryViews(): Partial<Record<MntrSummary, Summary>> {
    return Object.fromEntries([...this.summaries].map(([k, s]) => [k, s.view()]));
  }

  reset(): void {
    this.counters.clear();
    for (const s of this.summaries.values()) s.reset();
    this.authFailedCount = 0;
  }
}
