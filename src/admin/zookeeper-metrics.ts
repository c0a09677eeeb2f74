// zookeeper-metrics.ts — the metric families a standalone ZooKeeper 3.9 server exports through
// its PrometheusMetricsProvider, with ZooKeeper's names and types, so that ZooKeeper's Grafana
// dashboards and alert rules work unchanged:
//   gauges       ZooKeeperServer.registerMetrics (znode_count, watch_count, avg_latency, ...)
//   gauge sets   quota_*_per_namespace, label key="<namespace>"
//   counters     ServerMetrics' counters; quota_exceeded_error_per_namespace{key}
//   summaries    ServerMetrics' summaries: BASIC ones with quantile 0.5, ADVANCED ones
//                (readlatency, updatelatency, ...) with 0.5, 0.9 and 0.99, plus _count and _sum
// Values come from the FourLetterView that mntr prints; whatever zkts does not track reads 0 (a
// summary: count 0, quantiles NaN, as the Java client reports an empty summary).
import { summaryAverage, type PercentileSummary, type Summary } from '../server/four-letter-mntr.js';
import { MNTR_COUNTERS, MNTR_PERCENTILE_SUMMARIES, MNTR_SUMMARIES, type FourLetterView } from '../server/four-letter.js';
import { single, type MetricFamily, type MetricSample } from './prometheus-text.js';

/** ZooKeeper 3.9's counters and basic summaries that 3.8's mntr does not list. */
export const COUNTERS_SINCE_3_9 = [
  'snapshot_error_count', 'snapshot_rate_limited_count', 'restore_error_count', 'restore_rate_limited_count',
] as const;
export const SUMMARIES_SINCE_3_9 = ['restore_time'] as const;

/** Summary sets: per-key distributions (namespaces, learners); standalone fills only the namespace ones. */
const BASIC_SUMMARY_SETS = ['write_per_namespace', 'read_per_namespace', 'learner_handler_qp_size'] as const;
const ADVANCED_SUMMARY_SETS = ['learner_handler_qp_time_ms', 'ack_latency'] as const;

const BASIC_QUANTILES = [0.5] as const;
const ADVANCED_QUANTILES = [0.5, 0.9, 0.99] as const;

type Labels = ReadonlyArray<readonly [string, string]>;

/** The quantile the view knows for q, else NaN (also for an empty summary). */
function quantile(s: Summary | PercentileSummary | undefined, q: number): number {
  if (s === undefined || s.count <= 0) return Number.NaN;
  const p = s as PercentileSummary;
  const known = q === 0.5 ? p.p50 : q === 0.99 ? p.p99 : undefined;
  return known ?? Number.NaN;
}

function summarySamples(name: string, s: Summary | undefined, quantiles: readonly number[], labels: Labels = []): MetricSample[] {
  const out: MetricSample[] = quantiles.map((q) => ({
    labels: [...labels, ['quantile', String(q)] as const],
    value: quantile(s, q),
  }));
  out.push({ name: `${name}_count`, labels, value: Math.max(0, s?.count ?? 0) });
  out.push({ name: `${name}_sum`, labels, value: s?.sum ?? 0 });
  return out;
}

function summary(name: string, s: Summary | undefined, quantiles: readonly number[]): MetricFamily {
  return { name, help: name, type: 'summary', samples: summarySamples(name, s, quantiles) };
}

function summarySet(name: string, entries: ReadonlyArray<readonly [string, Summary]>, quantiles: readonly number[]): MetricFamily {
  const samples = entries.flatMap(([key, s]) => summarySamples(name, s, quantiles, [['key', key]]));
  return { name, help: name, type: 'summary', samples };
}

function labelled(name: string, type: 'gauge' | 'counter', entries: ReadonlyArray<readonly [string, number]>): MetricFamily {
  return { name, help: name, type, samples: entries.map(([key, value]) => ({ labels: [['key', key]], value })) };
}

/** Every family, in ZooKeeper's registration order. */
export function zookeeperFamilies(view: FourLetterView): MetricFamily[] {
  const s = view.stats();
  const m = view.monitor();
  const lat = s.latencyMs;
  const empty = lat.count <= 0;
  const gauges: Array<[string, number]> = [
    ['avg_latency', summaryAverage(lat)],
    ['max_latency', empty ? 0 : lat.max],
    ['min_latency', empty ? 0 : lat.min],
    ['packets_received', s.packetsReceived],
    ['packets_sent', s.packetsSent],
    ['num_alive_connections', s.aliveConnections],
    ['outstanding_requests', s.outstandingRequests],
    ['uptime', Math.floor(m.uptimeMs)],
    ['znode_count', s.nodeCount],
    ['watch_count', m.watchCount],
    ['ephemerals_count', m.ephemeralsCount],
    ['approximate_data_size', m.approximateDataSize],
    ['global_sessions', m.globalSessions],
    ['local_sessions', m.localSessions],
    ['open_file_descriptor_count', m.openFileDescriptorCount],
    ['max_file_descriptor_count', m.maxFileDescriptorCount],
    ['connection_drop_probability', m.connectionDropProbability],
    ['last_client_response_size', m.clientResponseBytes.last],
    ['max_client_response_size', m.clientResponseBytes.max],
    ['min_client_response_size', m.clientResponseBytes.min],
    ['outstanding_tls_handshake', m.outstandingTlsHandshakes],
    ['auth_failed_count', m.authFailedCount],
    ['non_mtls_remote_conn_count', m.nonMtlsRemoteConnCount],
    ['non_mtls_local_conn_count', m.nonMtlsLocalConnCount],
  ];
  const quotas = m.quotas ?? [];
  const families: MetricFamily[] = gauges.map(([name, value]) => single(name, 'gauge', value));
  families.push(
    labelled('quota_count_limit_per_namespace', 'gauge', quotas.map((q) => [q.namespace, q.countLimit])),
    labelled('quota_bytes_limit_per_namespace', 'gauge', quotas.map((q) => [q.namespace, q.bytesLimit])),
    labelled('quota_count_usage_per_namespace', 'gauge', quotas.map((q) => [q.namespace, q.countUsage])),
    labelled('quota_bytes_usage_per_namespace', 'gauge', quotas.map((q) => [q.namespace, q.bytesUsage])),
  );
  const counters = m.counters ?? {};
  for (const name of MNTR_COUNTERS) families.push(single(name, 'counter', counters[name] ?? 0));
  for (const name of COUNTERS_SINCE_3_9) families.push(single(name, 'counter', 0));
  families.push(labelled('quota_exceeded_error_per_namespace', 'counter', m.quotaExceededErrors ?? []));
  for (const name of MNTR_SUMMARIES) families.push(summary(name, m.summaries?.[name], BASIC_QUANTILES));
  for (const name of SUMMARIES_SINCE_3_9) families.push(summary(name, undefined, BASIC_QUANTILES));
  for (const name of MNTR_PERCENTILE_SUMMARIES) {
    families.push(summary(name, m.percentileSummaries?.[name], ADVANCED_QUANTILES));
  }
  const perNamespace: Record<string, ReadonlyArray<readonly [string, Summary]>> = {
    write_per_namespace: m.writesPerNamespace ?? [],
    read_per_namespace: m.readsPerNamespace ?? [],
  };
  for (const name of BASIC_SUMMARY_SETS) families.push(summarySet(name, perNamespace[name] ?? [], BASIC_QUANTILES));
  for (const name of ADVANCED_SUMMARY_SETS) families.push(summarySet(name, [], ADVANCED_QUANTILES));
  return families;
}
