// four-letter-mntr.ts — the `mntr` word: every key a ZooKeeper 3.8 standalone server prints, in
// its order, tab-separated. ZooKeeper's order is its metrics registry's hash order, so it is
// written down here as data (captured from a real 3.8.0 server, test/server/fixtures/4lw/mntr.txt)
// rather than derived. Metrics zkts does not track print 0, as ZooKeeper's idle ones do.
//
// Layout of ZooKeeper's dump, which this reproduces:
//   version, server_state                       (ZooKeeperServer.dumpMonitorValues)
//   gauges                                      (MNTR_GAUGES order)
//   gauge sets: <ns>_quota_*_per_namespace      (per quota'd namespace)
//   counters                                    (MNTR_COUNTERS order)
//   counter sets: <ns>_quota_exceeded_error_per_namespace
//   basic summaries: avg/min/max/cnt/sum_<name> (MNTR_SUMMARIES order)
//   percentile summaries: ... plus p50/p95/p99/p999_<name>
//   basic summary sets: avg/min/max/cnt/sum_<ns>_read_per_namespace, then _write_per_namespace

import { formatJavaDouble, formatJavaLong } from './four-letter-format.js';

/** A distribution as ZooKeeper's AvgMinMaxCounter keeps it; reset by `srst`. */
export interface Summary {
  /** Samples recorded since start or the last reset. */
  readonly count: number;
  /** Total of the samples (same unit as the samples). */
  readonly sum: number;
  /** Smallest sample; ignored (printed 0) when count is 0. */
  readonly min: number;
  /** Largest sample; ignored (printed 0) when count is 0. */
  readonly max: number;
}

/** A Summary that also reports percentiles (ZooKeeper's AvgMinMaxPercentileCounter). */
export interface PercentileSummary extends Summary {
  readonly p50?: number;
  readonly p95?: number;
  readonly p99?: number;
  readonly p999?: number;
}

/** ZooKeeper's counters, in mntr order (all print as integers). */
export const MNTR_COUNTERS = [
  'proposal_count', 'watch_bytes', 'outstanding_changes_removed', 'throttled_ops',
  'stale_requests_dropped', 'large_requests_rejected', 'insecure_admin_count', 'connection_rejected',
  'cnxn_closed_without_zk_server_running', 'sessionless_connections_expired', 'looking_count',
  'dead_watchers_queued', 'stale_requests', 'connection_drop_count', 'learner_proposal_received_count',
  'digest_mismatches_count', 'dead_watchers_cleared', 'response_packet_cache_hits',
  'bytes_received_count', 'add_dead_watcher_stall_time', 'request_throttle_wait_count',
  'requests_not_forwarded_to_commit_processor', 'response_packet_cache_misses',
  'ensemble_auth_success', 'prep_processor_request_queued', 'learner_commit_received_count',
  'stale_replies', 'connection_request_count', 'response_bytes', 'ensemble_auth_fail', 'diff_count',
  'response_packet_get_children_cache_misses', 'connection_revalidate_count',
  'quit_leading_due_to_disloyal_voter', 'snap_count', 'unrecoverable_error_count',
  'unsuccessful_handshake', 'commit_count', 'stale_sessions_expired',
  'response_packet_get_children_cache_hits', 'sync_processor_request_queued',
  'outstanding_changes_queued', 'request_commit_queued', 'ensemble_auth_skip',
  'skip_learner_request_to_next_processor_count', 'tls_handshake_exceeded', 'revalidate_count',
] as const;
export type MntrCounter = (typeof MNTR_COUNTERS)[number];

/** ZooKeeper's basic summaries (avg/min/max/cnt/sum), in mntr order. */
export const MNTR_SUMMARIES = [
  'socket_closing_time', 'proposal_process_time', 'leader_unavailable_time',
  'node_created_watch_count', 'session_queues_drained', 'write_commit_proc_req_queued',
  'connection_token_deficit', 'read_commit_proc_req_queued', 'node_deleted_watch_count',
  'startup_txns_load_time', 'sync_processor_queue_size', 'follower_sync_time',
  'prep_processor_queue_size', 'fsynctime', 'inflight_snap_count', 'reads_issued_from_session_queue',
  'learner_request_processor_queue_size', 'snapshottime', 'unavailable_time', 'startup_txns_loaded',
  'reads_after_write_in_session_queue', 'requests_in_session_queue', 'write_commit_proc_issued',
  'prep_process_time', 'pending_session_queue_size',
  'time_waiting_empty_pool_in_commit_processor_read_ms', 'commit_process_time', 'dbinittime',
  'inflight_diff_count', 'netty_queued_buffer_capacity', 'election_time',
  'commit_commit_proc_req_queued', 'sync_processor_batch_size', 'node_children_watch_count',
  'write_batch_time_in_commit_processor', 'read_commit_proc_issued',
  'concurrent_request_processing_in_commit_processor', 'observer_sync_time',
  'node_changed_watch_count', 'sync_process_time', 'startup_snap_load_time',
] as const;
export type MntrSummary = (typeof MNTR_SUMMARIES)[number];

/** ZooKeeper's percentile summaries (avg/min/max/cnt/sum/p50/p95/p99/p999), in mntr order. */
export const MNTR_PERCENTILE_SUMMARIES = [
  'prep_processor_queue_time_ms', 'jvm_pause_time_ms', 'close_session_prep_time',
  'read_commitproc_time_ms', 'updatelatency', 'local_write_committed_time_ms',
  'request_throttle_queue_time_ms', 'readlatency', 'quorum_ack_latency', 'om_commit_process_time_ms',
  'read_final_proc_time_ms', 'commit_propagation_latency', 'dead_watchers_cleaner_latency',
  'write_final_proc_time_ms', 'proposal_ack_creation_latency', 'proposal_latency',
  'om_proposal_process_time_ms', 'sync_processor_queue_and_flush_time_ms', 'propagation_latency',
  'server_write_committed_time_ms', 'sync_processor_queue_time_ms',
  'sync_processor_queue_flush_time_ms', 'write_commitproc_time_ms',
] as const;
export type MntrPercentileSummary = (typeof MNTR_PERCENTILE_SUMMARIES)[number];

/** A quota on a top-level namespace (the first path component: "app" for /app/...). */
export interface QuotaView {
  readonly namespace: string;
  /** Limits from zookeeper_limits: node count and bytes; -1 when not set. */
  readonly countLimit: number;
  readonly bytesLimit: number;
  /** Usage from zookeeper_stats: nodes and data bytes under the quota'd path. */
  readonly countUsage: number;
  readonly bytesUsage: number;
}

/**
 * The mntr-only values; what srvr also prints (latency, packets, connections, outstanding,
 * znode count, state) comes from ServerStatsView. Units as ZooKeeper: ms for times, bytes for sizes.
 */
export interface MonitorView {
  /** Ephemeral znodes in the tree. */
  readonly ephemeralsCount: number;
  /** Data watches + child watches, counted per (path, connection) pair in each table. */
  readonly watchCount: number;
  /** Sum over znodes of path length + data length, ZooKeeper's count ("/" counted twice: as "" and "/"), 44 on an empty tree. */
  readonly approximateDataSize: number;
  /** Sessions in the global session table (all sessions, standalone). */
  readonly globalSessions: number;
  /** Local sessions (0 unless localSessionsEnabled). */
  readonly localSessions: number;
  /** Milliseconds since the server started serving. */
  readonly uptimeMs: number;
  /** Open file descriptors of the process; -1 when unknown. */
  readonly openFileDescriptorCount: number;
  /** The process's descriptor limit (RLIMIT_NOFILE soft); -1 when unknown. */
  readonly maxFileDescriptorCount: number;
  /** Probability (0..1) of dropping a connection (ZooKeeper's connection throttle); 0 if none. */
  readonly connectionDropProbability: number;
  /** Sizes in bytes of reply packets to clients (ServerStats.clientResponseStats); -1 each when none since start/srst. */
  readonly clientResponseBytes: { readonly last: number; readonly min: number; readonly max: number };
  /** TLS handshakes in progress (0 without TLS). */
  readonly outstandingTlsHandshakes: number;
  /** Authentication failures since start/srst. */
  readonly authFailedCount: number;
  /** TLS connections without client certificates, from remote / local addresses (0 without TLS). */
  readonly nonMtlsRemoteConnCount: number;
  readonly nonMtlsLocalConnCount: number;
  /** An ensemble member's QuorumPeer.getDetailedPeerState, e.g. "observing - broadcast". */
  readonly peerState?: string;
  /** An ensemble member's quorum_size gauge: the voting members of its config. */
  readonly quorumSize?: number;
  /** ZooKeeper's counters that zkts tracks, by ZooKeeper's name; any missing prints 0. */
  readonly counters?: Readonly<Partial<Record<MntrCounter, number>>>;
  /** ZooKeeper's basic summaries that zkts tracks; any missing prints zeros. */
  readonly summaries?: Readonly<Partial<Record<MntrSummary, Summary>>>;
  /** ZooKeeper's percentile summaries that zkts tracks; any missing prints zeros. */
  readonly percentileSummaries?: Readonly<Partial<Record<MntrPercentileSummary, PercentileSummary>>>;
  /** One entry per quota'd namespace, in the order to print. */
  readonly quotas?: readonly QuotaView[];
  /** Writes rejected by an enforced quota, per namespace (counter set). */
  readonly quotaExceededErrors?: ReadonlyArray<readonly [namespace: string, count: number]>;
  /**
   * Bytes read per top-level namespace, one sample per read: path length + data length + 68
   * (ZooKeeper's STAT_OVERHEAD_BYTES). A namespace appears once it has been read.
   */
  readonly readsPerNamespace?: ReadonlyArray<readonly [namespace: string, bytes: Summary]>;
  /** Bytes written per top-level namespace, one sample per write: path length + data length. */
  readonly writesPerNamespace?: ReadonlyArray<readonly [namespace: string, bytes: Summary]>;
}

/** What mntr needs besides MonitorView: values shared with srvr. */
export interface MonitorHeader {
  readonly version: string;
  readonly serverState: string;
  readonly latencyMs: Summary;
  readonly packetsReceived: number;
  readonly packetsSent: number;
  readonly aliveConnections: number;
  readonly outstandingRequests: number;
  readonly nodeCount: number;
}

const ZERO: Summary = { count: 0, sum: 0, min: 0, max: 0 };

/** ZooKeeper's AvgMinMaxCounter.getAvg: sum/count rounded half-up to 4 places; 0 when empty. */
export function summaryAverage(s: Summary): number {
  if (s.count <= 0) return 0;
  // toFixed rounds the exact binary value half-up (for non-negative values), as BigDecimal does.
  const avg = s.sum / s.count;
  return avg >= 0 ? Number(avg.toFixed(4)) : -Number((-avg).toFixed(4));
}

function summaryLines(name: string, s: Summary | undefined, out: string[]): void {
  const v = s ?? ZERO;
  const empty = v.count <= 0;
  out.push(`zk_avg_${name}\t${formatJavaDouble(summaryAverage(v))}`);
  out.push(`zk_min_${name}\t${empty ? 0 : formatJavaLong(v.min)}`);
  out.push(`zk_max_${name}\t${empty ? 0 : formatJavaLong(v.max)}`);
  out.push(`zk_cnt_${name}\t${formatJavaLong(Math.max(0, v.count))}`);
  out.push(`zk_sum_${name}\t${formatJavaLong(v.sum)}`);
}

function percentileLines(name: string, s: PercentileSummary | undefined, out: string[]): void {
  summaryLines(name, s, out);
  out.push(`zk_p50_${name}\t${Math.round(s?.p50 ?? 0)}`);
  out.push(`zk_p95_${name}\t${Math.round(s?.p95 ?? 0)}`);
  out.push(`zk_p99_${name}\t${Math.round(s?.p99 ?? 0)}`);
  out.push(`zk_p999_${name}\t${Math.round(s?.p999 ?? 0)}`);
}

/** The mntr answer: one `zk_<key>\t<value>` line per metric, each ending in "\n". */
export function formatMonitor(h: MonitorHeader, m: MonitorView): string {
  const out: string[] = [];
  const put = (key: string, value: number | string): void => {
    out.push(`zk_${key}\t${typeof value === 'number' ? formatJavaLong(value) : value}`);
  };
  const empty = h.latencyMs.count <= 0;
  put('version', h.version);
  put('server_state', h.serverState);
  put('ephemerals_count', m.ephemeralsCount);
  put('num_alive_connections', h.aliveConnections);
  put('avg_latency', formatJavaDouble(summaryAverage(h.latencyMs)));
  put('outstanding_requests', h.outstandingRequests);
  put('znode_count', h.nodeCount);
  put('global_sessions', m.globalSessions);
  put('non_mtls_remote_conn_count', m.nonMtlsRemoteConnCount);
  put('last_client_response_size', m.clientResponseBytes.last);
  put('packets_sent', h.packetsSent);
  put('packets_received', h.packetsReceived);
  put('max_client_response_size', m.clientResponseBytes.max);
  put('connection_drop_probability', formatJavaDouble(m.connectionDropProbability));
  put('watch_count', m.watchCount);
  put('auth_failed_count', m.authFailedCount);
  put('min_latency', empty ? 0 : h.latencyMs.min);
  put('max_file_descriptor_count', m.maxFileDescriptorCount);
  put('approximate_data_size', m.approximateDataSize);
  put('open_file_descriptor_count', m.openFileDescriptorCount);
  put('local_sessions', m.localSessions);
  put('uptime', Math.floor(m.uptimeMs));
  put('max_latency', empty ? 0 : h.latencyMs.max);
  put('outstanding_tls_handshake', m.outstandingTlsHandshakes);
  put('min_client_response_size', m.clientResponseBytes.min);
  put('non_mtls_local_conn_count', m.nonMtlsLocalConnCount);
  if (m.peerState !== undefined) put('peer_state', m.peerState);
  if (m.quorumSize !== undefined) put('quorum_size', m.quorumSize);

  // Gauge sets: each set in turn, every namespace within it.
  const quotas = m.quotas ?? [];
  for (const q of quotas) put(`${q.namespace}_quota_bytes_limit_per_namespace`, q.bytesLimit);
  for (const q of quotas) put(`${q.namespace}_quota_count_usage_per_namespace`, q.countUsage);
  for (const q of quotas) put(`${q.namespace}_quota_count_limit_per_namespace`, q.countLimit);
  for (const q of quotas) put(`${q.namespace}_quota_bytes_usage_per_namespace`, q.bytesUsage);

  for (const name of MNTR_COUNTERS) put(name, m.counters?.[name] ?? 0);
  for (const [ns, n] of m.quotaExceededErrors ?? []) put(`${ns}_quota_exceeded_error_per_namespace`, n);
  for (const name of MNTR_SUMMARIES) summaryLines(name, m.summaries?.[name], out);
  for (const name of MNTR_PERCENTILE_SUMMARIES) percentileLines(name, m.percentileSummaries?.[name], out);
  for (const [ns, s] of m.readsPerNamespace ?? []) summaryLines(`${ns}_read_per_namespace`, s, out);
  for (const [ns, s] of m.writesPerNamespace ?? []) summaryLines(`${ns}_write_per_namespace`, s, out);
  return out.map((line) => line + '\n').join('');
}
