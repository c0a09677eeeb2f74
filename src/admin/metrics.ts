// metrics.ts — Prometheus /metrics on metricsProvider.httpHost:httpPort (0.0.0.0:7000), served
// when metricsProvider.className names ZooKeeper's PrometheusMetricsProvider, as ZooKeeper does:
// only the path /metrics (anything else is 404), the text format 0.0.4, and the Java client's
// name[] query parameter to select families. exportJvmInfo=true (the default) adds the process's
// own metrics (Node's, where ZooKeeper exports the JVM's).
import { createServer, type Server } from 'node:http';
import { ZktsError } from '../errors.js';
import type { FourLetterView } from '../server/four-letter.js';
import { ProcessMetrics } from './process-metrics.js';
import { PROMETHEUS_TEXT_TYPE, renderPrometheusText, type MetricFamily } from './prometheus-text.js';
import { zookeeperFamilies } from './zookeeper-metrics.js';

export interface MetricsServerOptions {
  host: string;
  port: number;
  exportProcessMetrics: boolean;
  /** The live state, read at each scrape. */
  view: () => FourLetterView;
  /** More families to serve at each scrape (the plugins' counters). */
  extraFamilies?: () => MetricFamily[];
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Every family a scrape returns: ZooKeeper's, then the process's. */
export function collectFamilies(view: FourLetterView, processMetrics: ProcessMetrics | null): MetricFamily[] {
  const families = zookeeperFamilies(view);
  if (processMetrics !== null) families.push(...processMetrics.families());
  return families;
}

/** The /metrics body; `names` (the name[] parameters) keeps only those families when not empty. */
export function metricsText(
  view: FourLetterView,
  processMetrics: ProcessMetrics | null,
  names: readonly string[] = [],
  extra: readonly MetricFamily[] = [],
): string {
  let families = [...collectFamilies(view, processMetrics), ...extra];
  if (names.length > 0) families = families.filter((f) => names.includes(f.name));
  return renderPrometheusText(families);
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const processMetrics = opts.exportProcessMetrics ? new ProcessMetrics() : null;
  const http: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://metrics');
    if (url.pathname !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`Not Found: ${url.pathname}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
      res.writeHead(405, { 'Content-Type': 'text/plain' }).end(`${req.method} is not allowed\n`);
      return;
    }
    let body: string;
    try {
      body = metricsText(opts.view(), processMetrics, url.searchParams.getAll('name[]'), opts.extraFamilies?.() ?? []);
    } catch (e) {
      opts.log?.('error', `/metrics: ${(e as Error).stack ?? String(e)}`);
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end('Internal error\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': PROMETHEUS_TEXT_TYPE, 'Content-Length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', (e: Error) => {
      reject(new ZktsError('ZKTS_ERR_LISTEN',
        `metrics: cannot listen on ${opts.host}:${opts.port}: ${e.message}; free the port or set metricsProvider.httpPort`,
        { cause: e }));
    });
    http.listen(opts.port, opts.host, () => resolve());
  });
  processMetrics?.start();
  const addr = http.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  opts.log?.('info', `Prometheus metrics on http://${opts.host}:${port}/metrics`);
  return {
    host: opts.host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        processMetrics?.stop();
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
