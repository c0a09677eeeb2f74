// metrics.ts — the plugins' counters as Prometheus families: per hook calls, faults (throws and
// overruns), deadline overruns and refusals; per change listener delivered, dropped, failed,
// timed-out and retried events and the current queue. Labels: plugin ("plugin.N (name)"), hook
// or listener index.
import type { MetricFamily, MetricSample } from '../admin/prometheus-text.js';
import type { PluginStatus } from './types.js';

type Labels = ReadonlyArray<readonly [string, string]>;

export function pluginMetricFamilies(status: readonly PluginStatus[]): MetricFamily[] {
  const hooks = (pick: (h: { calls: number; faults: number; overruns: number; refusals: number }) => number): MetricSample[] =>
    status.flatMap((p) => Object.entries(p.hooks).map(([hook, h]) => ({ labels: [['plugin', p.label], ['hook', hook]] as Labels, value: pick(h) })));
  const listeners = (pick: (l: PluginStatus['listeners'][number]) => number): MetricSample[] =>
    status.flatMap((p) => p.listeners.map((l, i) => ({ labels: [['plugin', p.label], ['listener', String(i)]] as Labels, value: pick(l) })));
  return [
    { name: 'zkts_plugin_hook_calls_total', help: 'Calls of a plugin hook', type: 'counter', samples: hooks((h) => h.calls) },
    { name: 'zkts_plugin_hook_faults_total', help: 'Plugin hook calls that threw, returned no verdict or overran their deadline', type: 'counter', samples: hooks((h) => h.faults) },
    { name: 'zkts_plugin_hook_overruns_total', help: 'Plugin hook calls that overran their deadline', type: 'counter', samples: hooks((h) => h.overruns) },
    { name: 'zkts_plugin_hook_refusals_total', help: 'Requests a plugin hook refused with a ZooKeeper code', type: 'counter', samples: hooks((h) => h.refusals) },
    { name: 'zkts_plugin_listener_delivered_total', help: 'Txns a change listener handled', type: 'counter', samples: listeners((l) => l.delivered) },
    { name: 'zkts_plugin_listener_dropped_total', help: 'Txns a change listener never got (queue full, or gone from the txn log)', type: 'counter', samples: listeners((l) => l.dropped) },
    { name: 'zkts_plugin_listener_failed_total', help: 'Change listener calls that threw or rejected', type: 'counter', samples: listeners((l) => l.failed) },
    { name: 'zkts_plugin_listener_timed_out_total', help: 'Change listener calls past their deadline', type: 'counter', samples: listeners((l) => l.timedOut) },
    { name: 'zkts_plugin_listener_retried_total', help: 'Txns delivered again to an at-least-once listener', type: 'counter', samples: listeners((l) => l.retried) },
    { name: 'zkts_plugin_listener_queued', help: 'Txns waiting for a change listener', type: 'gauge', samples: listeners((l) => l.queued) },
    { name: 'zkts_plugin_listener_queued_bytes', help: 'Approximate bytes held for a change listener', type: 'gauge', samples: listeners((l) => l.queuedBytes) },
  ];
}
