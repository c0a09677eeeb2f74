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
//   auth_failed_count          refused TLS clients (ServerStats.incrementAuthFailedCount); a ServerStats
//                              gauge that srst leaves alone, as ZooKeeper's ServerStats.reset does
//   bytes_received_count       bytes of every frame read from clients, length prefix included, and 4
//                              per four-letter word (ServerCnxn.packetReceived)
//   response_bytes             bytes of each reply to a request, pings included, length prefix not
//                              (FinalRequestProcessor); watch_bytes the same for watch notifications
//   digest_mismatches_count    txn, snapshot and leader digests the tree did not match
//   node_{created,deleted,changed,children}_watch_count  one sample per event that fired watches:
//                              how many watchers it fired (WatchManager.triggerWatch)
//   connection_drop_count      connections the client closed under the server (NIOServerCnxn.handleFailedRead)
//   connection_token_deficit   one sample per ConnectRequest: 0, zkts has no connection throttle
//   prep_processor_request_queued, sync_processor_request_queued  requests entering the pipeline
//                              (client requests, createSession and closeSession, expiries included)
//   close_session_prep_time    preparing each closeSession txn
//   sync_processor_queue_and_flush_time_ms  each txn: handed to the txn log until made durable
//   propagation_latency        each txn applied: wall-clock ms since its header's time
//   outstanding_changes_queued / _removed  change records prep adds for pending txns, and drops
//                              once they are applied (PrepRequestProcessor.addChangeRecord)
import type { StorageMetrics } from '../storage/data-dir.js';
import type { ChangeCounts } from './change-records.js';
import { EventType } from '../protocol/opcodes.js';
import type { MntrCounter, MntrPercentileSummary, MntrSummary, PercentileSummary, Summary } from './four-letter-mntr.js';
import { LatencySummary } from './latency-summary.js';

export class ServerMetrics implements StorageMetrics, ChangeCounts {
  private readonly counters = new Map<MntrCounter, number>();
  /** A histogram each, so that /metrics has the median (quantile 0.5) ZooKeeper's Prometheus summaries carry. */
  private readonly summaries = new Map<MntrSummary, LatencySummary>();
  private readonly percentiles = new Map<MntrPercentileSummary, LatencySummary>();
  /** The auth_failed_count gauge (ServerStats's; srst does not reset it, as in ZooKeeper). */
  authFailedCount = 0;
  /** Counters moved on every request or reply: plain fields, one add each. */
  bytesReceived = 0;
  responseBytes = 0;
  watchBytes = 0;
  requestsQueued = 0;
  changesQueued = 0;
  changesRemoved = 0;

  inc(name: MntrCounter, n = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  observe(name: MntrSummary, v: number): void {
    let s = this.summaries.get(name);
    if (s === undefined) this.summaries.set(name, (s = new LatencySummary()));
    s.add(v);
  }

  /** A sample of one of ZooKeeper's percentile summaries (AvgMinMaxPercentileCounter). */
  observePercentile(name: MntrPercentileSummary, v: number): void {
    let s = this.percentiles.get(name);
    if (s === undefined) this.percentiles.set(name, (s = new LatencySummary()));
    s.add(v);
  }

  /** An event fired `watchers` watchers (ZooKeeper records it per event type; others not at all). */
  watchTriggered(type: EventType, watchers: number): void {
    const name = WATCH_SUMMARIES[type];
    if (name !== undefined) this.observe(name, watchers);
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
    return {
      ...Object.fromEntries(this.counters),
      bytes_received_count: this.bytesReceived,
      response_bytes: this.responseBytes,
      watch_bytes: this.watchBytes,
      prep_processor_request_queued: this.requestsQueued,
      sync_processor_request_queued: this.requestsQueued,
      outstanding_changes_queued: this.changesQueued,
      outstanding_changes_removed: this.changesRemoved,
    };
  }

  summaryViews(): Partial<Record<MntrSummary, Summary>> {
    return Object.fromEntries([...this.summaries].map(([k, s]) => [k, s.view()]));
  }

  percentileSummaryViews(): Partial<Record<MntrPercentileSummary, PercentileSummary>> {
    return Object.fromEntries([...this.percentiles].map(([k, s]) => [k, s.view()]));
  }

  reset(): void {
    this.counters.clear();
    for (const s of this.summaries.values()) s.reset();
    for (const s of this.percentiles.values()) s.reset();
    this.bytesReceived = 0;
    this.responseBytes = 0;
    this.watchBytes = 0;
    this.requestsQueued = 0;
    this.changesQueued = 0;
    this.changesRemoved = 0;
  }
}

const WATCH_SUMMARIES: Partial<Record<EventType, MntrSummary>> = {
  [EventType.NodeCreated]: 'node_created_watch_count',
  [EventType.NodeDeleted]: 'node_deleted_watch_count',
  [EventType.NodeDataChanged]: 'node_changed_watch_count',
  [EventType.NodeChildrenChanged]: 'node_children_watch_count',
};
