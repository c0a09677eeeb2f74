// index.ts — starts the operations surface next to a server from its zoo.cfg: the AdminServer
// (admin.enableServer, on by default as in ZooKeeper 3.9) and Prometheus /metrics (when
// metricsProvider.className is ZooKeeper's PrometheusMetricsProvider). Both read the live server
// through the four-letter words' view, so every surface reports the same numbers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROMETHEUS_METRICS_PROVIDER, type ServerConfig } from '../server/config.js';
import type { Connection } from '../server/connection.js';
import { fourLetterView, type FourLetterOptions } from '../server/four-letter-host.js';
import type { FourLetterView } from '../server/four-letter.js';
import type { ZkServer } from '../server/zk-server.js';
import { type AdminTls, startAdminServer } from './admin-server.js';
import { adminTlsOptions } from '../server/tls-front.js';
import { pluginMetricFamilies } from '../plugin/metrics.js';
import { startMetricsServer } from './metrics.js';
import type { SnapshotStorage } from './snapshot-commands.js';
import { uiConfig } from './ui-config.js';
import { UiServer } from './ui-server.js';

export { commandLinks } from './admin-server.js';
export { COMMANDS, PRIMARY_NAMES } from './commands.js';
export { metricsText } from './metrics.js';
export { renderPrometheusText, type MetricFamily } from './prometheus-text.js';

export interface OpsOptions {
  /** zkts's version, in the version strings; package.json's by default. */
  zktsVersion?: string;
  /** The server's data directory (snapshot and restore commands); none for an in-memory server. */
  storage?: SnapshotStorage;
}

/** A started (or, when configured off, not started) HTTP endpoint. */
export interface OpsEndpoint {
  /** Where it listens; null when the config leaves it off. */
  readonly address: { readonly host: string; readonly port: number } | null;
  close(): Promise<void>;
}

const NOT_STARTED: OpsEndpoint = { address: null, close: async () => {} };

/**
 * fourLetterView's second argument is the connection that asked the word (shown as not reading).
 * An HTTP request has none, so no connection is excluded: every one shows its real interest.
 */
const NO_ASKING_CONNECTION = null as unknown as Connection;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function viewOf(server: ZkServer, cfg: ServerConfig, opts: OpsOptions): () => FourLetterView {
  const fourLetter: FourLetterOptions = {
    whitelist: cfg.fourLetterWordWhitelist,
    dataDir: cfg.dataDir,
    dataLogDir: cfg.dataLogDir,
    zktsVersion: opts.zktsVersion ?? packageVersion(),
  };
  return () => fourLetterView(server, NO_ASKING_CONNECTION, fourLetter);
}

/** zoo.cfg's text as read at start (ZooKeeper's initial_configuration); null without a file. */
function initialConfig(cfg: ServerConfig): string | null {
  if (cfg.file === undefined) return null;
  try {
    return readFileSync(cfg.file, 'utf8');
  } catch {
    return null;
  }
}

/** admin.forceHttps / admin.portUnification: HTTPS with the ssl.quorum.* stores, as JettyAdminServer. */
function tlsOption(cfg: ServerConfig): { tls?: AdminTls } {
  const tls = adminTlsOptions(cfg.properties);
  return tls === undefined ? {} : { tls };
}

/** The AdminServer on admin.serverAddress:admin.serverPort, unless admin.enableServer=false. */
export async function startAdmin(server: ZkServer, cfg: ServerConfig, opts: OpsOptions = {}): Promise<OpsEndpoint> {
  if (!cfg.admin.enableServer) return NOT_STARTED;
  const view = viewOf(server, cfg, opts);
  const config = initialConfig(cfg);
  const snapDir = join(cfg.dataDir, 'version-2');
  const ui = uiConfig(cfg);
  const uiServer = ui.enable ? new UiServer(server, { edit: ui.edit, ...(ui.x509SuperUser === undefined ? {} : { x509SuperUser: ui.x509SuperUser }) }) : null;
  const admin = await startAdminServer({
    host: cfg.admin.serverAddress,
    port: cfg.admin.serverPort,
    commandUrl: cfg.admin.commandURL,
    idleTimeoutMs: cfg.admin.idleTimeout,
    context: () => ({ server, view: view(), initialConfig: config, properties: cfg.properties, snapDir, storage: opts.storage ?? null }),
    log: (level, msg) => server.log(level, msg),
    ...tlsOption(cfg),
    ...(uiServer === null ? {} : { ui: { owns: (p: string) => UiServer.owns(p), handle: uiServer.handle.bind(uiServer), close: () => uiServer.close() } }),
  }).catch(async (e: unknown) => {
    await uiServer?.close();
    throw e;
  });
  return { address: { host: admin.host, port: admin.port }, close: () => admin.close() };
}

/** Prometheus /metrics on metricsProvider.httpHost:httpPort, when the Prometheus provider is configured. */
export async function startMetrics(server: ZkServer, cfg: ServerConfig, opts: OpsOptions = {}): Promise<OpsEndpoint> {
  const mp = cfg.metricsProvider;
  if (mp.className !== PROMETHEUS_METRICS_PROVIDER) return NOT_STARTED;
  const metrics = await startMetricsServer({
    host: mp.httpHost,
    port: mp.httpPort,
    exportProcessMetrics: mp.exportJvmInfo,
    view: viewOf(server, cfg, opts),
    extraFamilies: () => (server.plugins === null ? [] : pluginMetricFamilies(server.plugins.status())),
    log: (level, msg) => server.log(level, msg),
  });
  return { address: { host: metrics.host, port: metrics.port }, close: () => metrics.close() };
}

/** Both endpoints, as configured; closes both. */
export interface Operations {
  readonly admin: OpsEndpoint;
  readonly metrics: OpsEndpoint;
  close(): Promise<void>;
}

/**
 * startAdmin then startMetrics. When one cannot start (its port is taken), what was started is
 * closed again before the error (a ZktsError, ZKTS_ERR_LISTEN) is thrown.
 */
export async function startOperations(server: ZkServer, cfg: ServerConfig, opts: OpsOptions = {}): Promise<Operations> {
  const admin = await startAdmin(server, cfg, opts);
  let metrics: OpsEndpoint;
  try {
    metrics = await startMetrics(server, cfg, opts);
  } catch (e) {
    await admin.close();
    throw e;
  }
  return { admin, metrics, close: async () => void (await Promise.all([admin.close(), metrics.close()])) };
}
