// metrics.test.ts — Prometheus /metrics: served on metricsProvider.httpHost:httpPort only with
// ZooKeeper's PrometheusMetricsProvider configured; parses as Prometheus text (a strict parser,
// prometheus-parser.ts); carries every metric a standalone ZooKeeper 3.9 registers, with its type
// (fixtures/prometheus-metrics.txt, read from ZooKeeper's source by fixtures/metric-names.sh);
// reports the live state; adds the Node process's metrics unless exportJvmInfo=false.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startMetrics, type OpsEndpoint } from '../../src/admin/index.js';
import { renderPrometheusText } from '../../src/admin/prometheus-text.js';
import { parseConfig, PROMETHEUS_METRICS_PROVIDER } from '../../src/server/config.js';
import { startServer } from '../server/start-server.js';
import { definePlugin } from '../../src/plugin/index.js';
import { startWithPlugins } from '../plugin/helpers.js';
import { parsePrometheusText, type Family } from './prometheus-parser.js';
import { startScenario, type Scenario } from './scenario.js';

const ZOOKEEPER_METRICS = readFileSync(new URL('fixtures/prometheus-metrics.txt', import.meta.url), 'utf8')
  .trim().split('\n').map((l) => l.split(' ') as [string, string]);

const PROMETHEUS = [`metricsProvider.className=${PROMETHEUS_METRICS_PROVIDER}`, 'metricsProvider.httpHost=127.0.0.1'];

async function scrape(port: number, query = ''): Promise<{ type: string | null; families: Map<string, Family> }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics${query}`);
  assert.equal(res.status, 200);
  return { type: res.headers.get('content-type'), families: parsePrometheusText(await res.text()) };
}

function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const f = families.get(name);
  assert.ok(f !== undefined, `no family ${name}`);
  const s = f.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels.get(k) === v));
  assert.ok(s !== undefined, `no sample ${name}${JSON.stringify(labels)}`);
  return s.value;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('Prometheus /metrics', () => {
  let s: Scenario;
  let metrics: OpsEndpoint;
  let port: number;

  before(async () => {
    port = await freePort();
    s = await startScenario([...PROMETHEUS, `metricsProvider.httpPort=${port}`]);
    metrics = await startMetrics(s.server, s.cfg);
  });
  after(async () => {
    await metrics.close();
    await s.stop();
  });

  it('binds metricsProvider.httpHost:httpPort and answers only /metrics', async () => {
    assert.deepEqual(metrics.address, { host: '127.0.0.1', port });
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${port}/metricsx`)).status, 404);
  });

  it('parses as Prometheus text and carries ZooKeeper\'s metrics with their types', async () => {
    const { type, families } = await scrape(port);
    assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(ZOOKEEPER_METRICS.length, 150);
    for (const [name, kind] of ZOOKEEPER_METRICS) {
      assert.equal(families.get(name)?.type, kind, `${name} is a ${kind}`);
    }
    for (const name of ['readlatency', 'updatelatency']) {
      const quantiles = families.get(name)!.samples.filter((x) => x.name === name).map((x) => x.labels.get('quantile'));
      assert.deepEqual(quantiles, ['0.5', '0.9', '0.99']);
    }
    const fsync = families.get('fsynctime')!.samples.filter((x) => x.name === 'fsynctime').map((x) => x.labels.get('quantile'));
    assert.deepEqual(fsync, ['0.5']);
  });

  it('reports the live state, as mntr does', async () => {
    const { families } = await scrape(port);
    // the same counts ZooKeeper's mntr showed in this state (admin fixtures/monitor.json)
    assert.equal(value(families, 'znode_count'), 15);
    assert.equal(value(families, 'ephemerals_count'), 3);
    assert.equal(value(families, 'watch_count'), 7);
    assert.equal(value(families, 'approximate_data_size'), 230);
    assert.equal(value(families, 'global_sessions'), 2);
    assert.equal(value(families, 'num_alive_connections'), 2);
    assert.ok(value(families, 'packets_received') >= 17);
    assert.ok(value(families, 'uptime') > 0);
    assert.ok(value(families, 'open_file_descriptor_count') > 0);
  });

  it('adds the Node process\'s metrics', async () => {
    const { families } = await scrape(port);
    assert.equal(families.get('process_cpu_seconds_total')?.type, 'counter');
    assert.ok(value(families, 'process_cpu_seconds_total') > 0);
    assert.ok(value(families, 'process_resident_memory_bytes') > 1e6);
    assert.ok(value(families, 'nodejs_heap_size_used_bytes') > 1e5);
    assert.ok(value(families, 'process_start_time_seconds') > 1.5e9);
    assert.equal(value(families, 'nodejs_version_info', { version: process.version }), 1);
    assert.equal(families.get('nodejs_gc_duration_seconds')?.type, 'histogram');
    assert.ok(families.get('nodejs_heap_space_size_used_bytes')!.samples.some((x) => x.labels.get('space') === 'old'));
  });

  it('selects families with name[]', async () => {
    const { families } = await scrape(port, '?name[]=znode_count&name[]=readlatency');
    assert.deepEqual([...families.keys()].sort(), ['readlatency', 'znode_count']);
  });
});

describe('Prometheus /metrics configuration', () => {
  it('leaves the process metrics out with exportJvmInfo=false', async () => {
    const { server, port: clientPort } = await startServer();
    const port = await freePort();
    const cfg = parseConfig([...PROMETHEUS, `metricsProvider.httpPort=${port}`, 'metricsProvider.exportJvmInfo=false',
      `clientPort=${clientPort}`, 'dataDir=/tmp/zkts-metrics-test'].join('\n'), { baseDir: '/tmp' });
    const metrics = await startMetrics(server, cfg);
    try {
      const { families } = await scrape(port);
      assert.ok(families.has('znode_count'));
      assert.deepEqual([...families.keys()].filter((n) => /^(process|nodejs)_/.test(n)), []);
    } finally {
      await metrics.close();
      await server.stop();
    }
  });

  it('serves the plugins\' counters (zkts_plugin_*) when plugins are loaded', async () => {
    const tap = definePlugin({ name: 'tap', setup: (ctx) => ctx.changeListener({ onTxn: () => {} }) });
    const f = await startWithPlugins([tap]);
    const port = await freePort();
    const cfg = parseConfig([...PROMETHEUS, `metricsProvider.httpPort=${port}`, `clientPort=${f.port}`,
      'dataDir=/tmp/zkts-metrics-test'].join('\n'), { baseDir: '/tmp' });
    const metrics = await startMetrics(f.server, cfg);
    try {
      const { families } = await scrape(port);
      const names = [...families.keys()].filter((n) => n.startsWith('zkts_plugin_'));
      assert.ok(names.length > 0, 'plugin families are served');
      assert.ok(families.has('znode_count'));
    } finally {
      await metrics.close();
      await f.stop();
    }
  });

  it('is not started with ZooKeeper\'s default metrics provider', async () => {
    const { server, port: clientPort } = await startServer();
    const port = await freePort();
    const cfg = parseConfig(`clientPort=${clientPort}\ndataDir=/tmp/zkts-metrics-test\nmetricsProvider.httpPort=${port}`, { baseDir: '/tmp' });
    const metrics = await startMetrics(server, cfg);
    try {
      assert.equal(metrics.address, null);
      assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null)), null);
    } finally {
      await metrics.close();
      await server.stop();
    }
  });
});

describe('Prometheus text', () => {
  it('is written as the Java client 0.9 writes it', () => {
    const text = renderPrometheusText([
      { name: 'g', help: 'a "help"\\ line\nnext', type: 'gauge', samples: [{ value: 5 }] },
      { name: 's', help: 's', type: 'summary', samples: [
        { labels: [['key', 'a"b\\c\nd'], ['quantile', '0.5']], value: Number.NaN },
        { name: 's_count', labels: [['key', 'a"b\\c\nd']], value: 0 },
        { name: 's_sum', labels: [['key', 'a"b\\c\nd']], value: 1e-4 },
      ] },
    ]);
    assert.equal(text, [
      '# HELP g a "help"\\\\ line\\nnext', '# TYPE g gauge', 'g 5.0',
      '# HELP s s', '# TYPE s summary',
      's{key="a\\"b\\\\c\\nd",quantile="0.5",} NaN', 's_count{key="a\\"b\\\\c\\nd",} 0.0', 's_sum{key="a\\"b\\\\c\\nd",} 1.0E-4', '',
    ].join('\n'));
    const parsed = parsePrometheusText(text);
    assert.equal(parsed.get('s')!.samples[0]!.labels.get('key'), 'a"b\\c\nd');
  });

  it('the test parser refuses what Prometheus refuses', () => {
    for (const bad of [
      'a b',                                          // value not a number
      'a{x="1} 1',                                    // unterminated label value
      'a{1x="1"} 1',                                  // bad label name
      '# TYPE a gauge\na 1\n# TYPE a gauge',          // second TYPE
      '# TYPE a gauge\na 1\nb 1\na 2',                // samples not contiguous
      '# TYPE s summary\ns{quantile="0.5"} 1',        // summary without _sum/_count
      '# TYPE s summary\ns 1\ns_sum 1\ns_count 1',    // quantile sample without quantile
      'a{x="1",x="2"} 1',                             // label twice
      'a 1\na 2',                                     // series twice
    ]) {
      assert.throws(() => parsePrometheusText(bad), Error, bad);
    }
  });
});
