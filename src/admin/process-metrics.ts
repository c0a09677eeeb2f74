// process-metrics.ts — the Node.js process's metrics, where ZooKeeper's provider exports the JVM's
// (exportJvmInfo). Names and types are prom-client's defaults, which Node dashboards expect:
// process_cpu_*_seconds_total, process_resident_memory_bytes, process_open_fds,
// nodejs_heap_size_used_bytes, nodejs_eventloop_lag_*_seconds, nodejs_gc_duration_seconds, ...
// The event-loop delay histogram and the GC observer run between start() and stop().
import { readFileSync } from 'node:fs';
import { PerformanceObserver, monitorEventLoopDelay, type IntervalHistogram, type PerformanceEntry } from 'node:perf_hooks';
import v8 from 'node:v8';
import { fileDescriptorCounts } from '../server/four-letter-env.js';
import { single, type MetricFamily, type MetricSample } from './prometheus-text.js';

const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5] as const;
/** perf_hooks' NODE_PERFORMANCE_GC_* kinds, as prom-client labels them. */
const GC_KINDS: Readonly<Record<number, string>> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };

interface GcStats {
  readonly buckets: number[];
  count: number;
  sum: number;
}

/** Virtual memory size in bytes from /proc/self/stat (field 23), or undefined off Linux. */
function virtualMemoryBytes(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const vsize = Number(fields[20]);
    return Number.isFinite(vsize) ? vsize : undefined;
  } catch {
    return undefined;
  }
}

export class ProcessMetrics {
  private readonly startTimeSeconds = Math.round(performance.timeOrigin / 1000);
  private lag: IntervalHistogram | null = null;
  private gcObserver: PerformanceObserver | null = null;
  private readonly gc = new Map<string, GcStats>();

  start(): void {
    this.lag = monitorEventLoopDelay({ resolution: 10 });
    this.lag.enable();
    this.gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
        this.recordGc(GC_KINDS[detail?.kind ?? 0] ?? 'unknown', entry.duration / 1000);
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.lag?.disable();
    this.lag = null;
    this.gcObserver?.disconnect();
    this.gcObserver = null;
  }

  private recordGc(kind: string, seconds: number): void {
    let s = this.gc.get(kind);
    if (s === undefined) {
      s = { buckets: GC_BUCKETS.map(() => 0), count: 0, sum: 0 };
      this.gc.set(kind, s);
    }
    GC_BUCKETS.forEach((le, i) => {
      if (seconds <= le) s.buckets[i]!++;
    });
    s.count++;
    s.sum += seconds;
  }

  families(): MetricFamily[] {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    const heap = v8.getHeapStatistics();
    const fds = fileDescriptorCounts();
    const out: MetricFamily[] = [
      single('process_cpu_user_seconds_total', 'counter', cpu.user / 1e6, 'Total user CPU time spent in seconds.'),
      single('process_cpu_system_seconds_total', 'counter', cpu.system / 1e6, 'Total system CPU time spent in seconds.'),
      single('process_cpu_seconds_total', 'counter', (cpu.user + cpu.system) / 1e6, 'Total user and system CPU time spent in seconds.'),
      single('process_start_time_seconds', 'gauge', this.startTimeSeconds, 'Start time of the process since unix epoch in seconds.'),
      single('process_resident_memory_bytes', 'gauge', mem.rss, 'Resident memory size in bytes.'),
    ];
    const vsize = virtualMemoryBytes();
    if (vsize !== undefined) out.push(single('process_virtual_memory_bytes', 'gauge', vsize, 'Virtual memory size in bytes.'));
    if (fds.open >= 0) out.push(single('process_open_fds', 'gauge', fds.open, 'Number of open file descriptors.'));
    if (fds.max >= 0) out.push(single('process_max_fds', 'gauge', fds.max, 'Maximum number of open file descriptors.'));
    out.push(...this.eventLoopFamilies());
    const resources = new Map<string, number>();
    for (const r of process.getActiveResourcesInfo()) resources.set(r, (resources.get(r) ?? 0) + 1);
    out.push(
      {
        name: 'nodejs_active_resources', help: 'Number of active resources keeping the event loop alive, by type.', type: 'gauge',
        samples: [...resources].map(([type, n]) => ({ labels: [['type', type]], value: n })),
      },
      single('nodejs_active_resources_total', 'gauge', [...resources.values()].reduce((a, b) => a + b, 0), 'Total number of active resources.'),
      single('nodejs_heap_size_total_bytes', 'gauge', heap.total_heap_size, 'Process heap size from Node.js in bytes.'),
      single('nodejs_heap_size_used_bytes', 'gauge', heap.used_heap_size, 'Process heap size used from Node.js in bytes.'),
      single('nodejs_external_memory_bytes', 'gauge', mem.external, 'Node.js external memory size in bytes.'),
      ...this.heapSpaceFamilies(),
      this.versionFamily(),
      this.gcFamily(),
    );
    return out;
  }

  private eventLoopFamilies(): MetricFamily[] {
    const h = this.lag;
    if (h === null || h.count === 0) return [];
    const s = (ns: number): number => ns / 1e9;
    const gauge = (name: string, value: number, what: string): MetricFamily =>
      single(`nodejs_eventloop_lag_${name}_seconds`, 'gauge', value, `The ${what} of the recorded event loop delays.`);
    return [
      gauge('min', s(h.min), 'minimum'),
      gauge('max', s(h.max), 'maximum'),
      gauge('mean', s(h.mean), 'mean'),
      gauge('stddev', s(h.stddev), 'standard deviation'),
      gauge('p50', s(h.percentile(50)), '50th percentile'),
      gauge('p90', s(h.percentile(90)), '90th percentile'),
      gauge('p99', s(h.percentile(99)), '99th percentile'),
    ];
  }

  private heapSpaceFamilies(): MetricFamily[] {
    const spaces = v8.getHeapSpaceStatistics();
    const family = (what: 'total' | 'used' | 'available', value: (s: v8.HeapSpaceInfo) => number): MetricFamily => ({
      name: `nodejs_heap_space_size_${what}_bytes`,
      help: `Process heap space size ${what} from Node.js in bytes.`,
      type: 'gauge',
      samples: spaces.map((s) => ({ labels: [['space', s.space_name.replace(/_space$/, '')]], value: value(s) })),
    });
    return [
      family('total', (s) => s.space_size),
      family('used', (s) => s.space_used_size),
      family('available', (s) => s.space_available_size),
    ];
  }

  private versionFamily(): MetricFamily {
    const [major = '0', minor = '0', patch = '0'] = process.versions.node.split('.');
    return {
      name: 'nodejs_version_info', help: 'Node.js version info.', type: 'gauge',
      samples: [{ labels: [['version', process.version], ['major', major], ['minor', minor], ['patch', patch]], value: 1 }],
    };
  }

  private gcFamily(): MetricFamily {
    const samples: MetricSample[] = [];
    for (const [kind, s] of this.gc) {
      GC_BUCKETS.forEach((le, i) => {
        samples.push({ name: 'nodejs_gc_duration_seconds_bucket', labels: [['kind', kind], ['le', String(le)]], value: s.buckets[i]! });
      });
      samples.push({ name: 'nodejs_gc_duration_seconds_bucket', labels: [['kind', kind], ['le', '+Inf']], value: s.count });
      samples.push({ name: 'nodejs_gc_duration_seconds_count', labels: [['kind', kind]], value: s.count });
      samples.push({ name: 'nodejs_gc_duration_seconds_sum', labels: [['kind', kind]], value: s.sum });
    }
    return { name: 'nodejs_gc_duration_seconds', help: 'Garbage collection duration by kind.', type: 'histogram', samples };
  }
}
