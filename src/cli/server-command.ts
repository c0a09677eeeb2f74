// server-command.ts — `zkts server [zoo.cfg]`: read the config (or, with no file and ZOO_*
// variables set, the official Docker image's environment), report what zkts does not act on,
// start the server, stop cleanly on SIGINT/SIGTERM.
import { existsSync, readFileSync } from 'node:fs';
import { startOperations } from '../admin/index.js';
import { uiConfig } from '../admin/ui-config.js';
import { ZktsError } from '../errors.js';
import { DataDir } from '../storage/data-dir.js';
import { loadSessionSecret } from '../storage/session-secret.js';
import { digestMd5Credentials, parseJaasConfig } from '../server/auth/jaas.js';
import { loadConfig, parseConfig, type ServerConfig } from '../server/config.js';
import { configFromEnv, hasDockerEnv } from '../server/config-env.js';
import { fourLetterWordHandler } from '../server/four-letter-host.js';
import { adminTlsSettings, tlsSettings } from '../server/tls-config.js';
import { ZkServer, type ServerOptions } from '../server/zk-server.js';
import { ServerMetrics } from '../server/server-metrics.js';
import { txnLogSource } from '../plugin/txn-log-source.js';
import { startObserver, type RunningObserver } from '../quorum/observer-node.js';
import { createServerLogger, isSecretKey, logSettings, redactedProperties, type ServerLogger } from './logging.js';

const DEFAULT_CONFIG = 'conf/zoo.cfg';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const SASL_PROVIDER_CLASS = 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider';
const X509_PROVIDER_CLASS = 'org.apache.zookeeper.server.auth.X509AuthenticationProvider';

/** The Server section's users of the JAAS file, or undefined when SASL is not configured. */
function saslCredentials(cfg: ServerConfig): Map<string, string> | undefined {
  if (cfg.jaasLoginConfig === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(cfg.jaasLoginConfig, 'utf8');
  } catch (e) {
    throw new ZktsError('ZKTS_ERR_JAAS', `jaasLoginConfig: cannot read ${cfg.jaasLoginConfig}: ${(e as Error).message}`);
  }
  return digestMd5Credentials(parseJaasConfig(text, cfg.jaasLoginConfig));
}

/** The server's options from a parsed zoo.cfg. */
export function serverOptions(cfg: ServerConfig): ServerOptions {
  const tls = tlsSettings(cfg);
  if (cfg.clientPort === undefined && tls?.secureClientPort === undefined) {
    throw new ZktsError('ZKTS_ERR_CONFIG', 'clientPort: not set; add clientPort=2181 (or secureClientPort=2281 with ssl.keyStore.location for TLS only)');
  }
  return {
    ...(tls === undefined ? {} : { tls }),
    x509AclProvider: [...cfg.authProviders.values()].includes(X509_PROVIDER_CLASS),
    host: cfg.clientPortAddress ?? '0.0.0.0',
    port: cfg.clientPort ?? -1, // -1: TLS only
    tickTime: cfg.tickTime,
    minSessionTimeout: cfg.minSessionTimeout,
    maxSessionTimeout: cfg.maxSessionTimeout,
    maxClientCnxns: cfg.maxClientCnxns,
    maxCnxns: cfg.maxCnxns,
    globalOutstandingLimit: cfg.globalOutstandingLimit,
    globalOutstandingBytes: cfg.globalOutstandingBytes,
    maxFrameBytes: cfg.juteMaxBuffer,
    extendedTypesEnabled: cfg.extendedTypesEnabled,
    digestEnabled: cfg.digestEnabled,
    reconfigEnabled: cfg.reconfigEnabled,
    enforceQuota: cfg.enforceQuota,
    // In an ensemble every member derives the same password (Java's Random), so that a session
    // moves between Apache ZooKeeper servers and zkts.
    sessionPasswords: cfg.distributed && cfg.peerType === 'observer' ? 'java' : cfg.sessionPasswords,
    ...(cfg.enforceAuthSchemes === undefined ? {} : { enforceAuthSchemes: cfg.enforceAuthSchemes }),
    superDigest: cfg.superDigest,
    saslCredentials: saslCredentials(cfg),
    saslAclProvider: [...cfg.authProviders.values()].includes(SASL_PROVIDER_CLASS),
    saslSuperUsers: [...cfg.properties]
      .filter(([k]) => k === 'zookeeper.superUser' || k.startsWith('zookeeper.superUser.'))
      .map(([, v]) => v),
    saslSuperPassword: cfg.properties.get('zookeeper.SASLAuthenticationProvider.superPassword'),
    containerCheckIntervalMs: cfg.container.checkIntervalMs,
    containerMaxNeverUsedIntervalMs: cfg.container.maxNeverUsedIntervalMs,
    // an observer's session ids carry its myid, as every ensemble member's
    serverId: cfg.distributed ? cfg.myid! : 1,
    ...(cfg.distributed && cfg.peerType === 'observer' ? { quorumRole: 'observer' as const } : {}),
    fourLetterWord: fourLetterWordHandler({
      whitelist: cfg.fourLetterWordWhitelist,
      dataDir: cfg.dataDir,
      dataLogDir: cfg.dataLogDir,
      zktsVersion: packageVersion(),
    }),
    // plugin.N=module and plugin.N.option=value, loaded and validated at start
    plugins: [
      ...cfg.plugins.map((p) => ({ id: p.id, plugin: p.module, options: p.options })),
      // authProvider.N=<module>: an auth provider (or a plugin registering some), after the plugins
      ...cfg.authProviderModules.map((p) => ({ id: `authProvider.${p.id}`, plugin: p.module, options: p.options, authProvider: true })),
    ],
  };
}

/** An ensemble member must be an observer: zkts does not vote (or lead) yet. */
export function checkRole(cfg: ServerConfig): void {
  if (!cfg.distributed || cfg.peerType === 'observer') return;
  throw new ZktsError(
    'ZKTS_ERR_UNSUPPORTED',
    `server.${cfg.myid}: zkts joins an ensemble only as an observer; a participant (voting member) is not implemented. ` +
      `Mark this server's line server.${cfg.myid}=host:quorumPort:electionPort:observer in every member's config, ` +
      'or remove the server.N lines to run standalone',
  );
}

function readConfig(args: string[]): ServerConfig {
  if (args[0] !== undefined) return loadConfig(args[0]);
  if (!existsSync(DEFAULT_CONFIG) && hasDockerEnv(process.env)) {
    const env = configFromEnv(process.env);
    return parseConfig(env.text, { file: '(ZOO_* environment)', baseDir: process.cwd(), readFile: () => env.myid });
  }
  return loadConfig(DEFAULT_CONFIG);
}

/** The secret values of a config, to scrub from log messages: JAAS passwords, store passwords, digests. */
function secretValues(cfg: ServerConfig): string[] {
  const out = [...(saslCredentials(cfg)?.values() ?? [])];
  if (cfg.superDigest !== undefined) out.push(cfg.superDigest, cfg.superDigest.slice(cfg.superDigest.indexOf(':') + 1));
  for (const [k, v] of cfg.properties) if (isSecretKey(k)) out.push(v);
  return out;
}

/** The configuration line at start: where it came from and its values, secrets redacted. */
function logConfig(logger: ServerLogger, cfg: ServerConfig): void {
  logger.pino.info(
    {
      file: cfg.file ?? null,
      dataDir: cfg.dataDir,
      dataLogDir: cfg.dataLogDir,
      clientPort: cfg.clientPort ?? null,
      clientPortAddress: cfg.clientPortAddress ?? null,
      tickTime: cfg.tickTime,
      properties: redactedProperties(cfg.properties),
    },
    'configuration',
  );
}

export const SERVER_USAGE = `usage: zkts server [zoo.cfg]

Runs a server on a ZooKeeper config file (default: conf/zoo.cfg; with no file there and ZOO_*
variables set, the configuration the official Docker image derives from them). Stops cleanly on
SIGINT or SIGTERM. Logging: zkts.log.level, zkts.log.file and zkts.log.format in zoo.cfg, or
ZKTS_LOG_LEVEL, ZKTS_LOG_FILE and ZKTS_LOG_FORMAT.

options:
  -h, --help   print this help
`;

export async function runServer(args: string[]): Promise<number> {
  if (args[0] === '--help' || args[0] === '-h') {
    process.stdout.write(SERVER_USAGE);
    return 0;
  }
  const bad = args[0]?.startsWith('-') === true ? `unknown option '${args[0]}'` : args.length > 1 ? `one config file only (got '${args[0]}' and '${args[1]}')` : null;
  if (bad !== null) {
    process.stderr.write(`zkts server: ${bad}\n${SERVER_USAGE}`);
    return 2;
  }
  const cfg = readConfig(args);
  const logger = createServerLogger(logSettings(cfg.properties), secretValues(cfg));
  const log = logger.log;
  logConfig(logger, cfg);
  for (const w of cfg.warnings) log('warn', w);
  if (cfg.unsupported.length > 0) {
    log('warn', `these keys are not acted on by this zkts version and are ignored: ${cfg.unsupported.join(', ')}`);
  }
  checkRole(cfg);
  const metrics = new ServerMetrics();
  const data = await DataDir.open({
    metrics,
    dataDir: cfg.dataDir,
    dataLogDir: cfg.dataLogDir,
    snapCount: cfg.snapCount,
    snapSizeLimitBytes: cfg.snapSizeLimitInKb * 1024,
    preAllocBytes: cfg.preAllocSize * 1024,
    forceSync: cfg.forceSync,
    snapshotTrustEmpty: cfg.properties.get('zookeeper.snapshot.trust.empty') === 'true',
    extendedTypesEnabled: cfg.extendedTypesEnabled,
    digestEnabled: cfg.digestEnabled,
    maxTxnBytes: 2 * cfg.juteMaxBuffer,
    autopurge: cfg.autopurge,
    log,
  });
  const sessionSecret = loadSessionSecret(cfg.dataDir);
  const server = new ZkServer({ ...serverOptions(cfg), log, metrics, sessionSecret, pluginTxnSource: txnLogSource(cfg.dataLogDir) }, data, data.initial);
  data.attach(server);
  try {
    await server.start();
  } catch (e) {
    await data.close();
    if (e instanceof ZktsError) throw e; // a plugin's bad option or failed setup: the message says what to fix
    throw new ZktsError('ZKTS_ERR_LISTEN', `cannot listen on ${server.opts.host}:${server.opts.port}: ${(e as Error).message}; free the port or set clientPort`);
  }
  if (server.opts.port >= 0) log('info', `zkts ${packageVersion()}: serving on ${server.opts.host}:${server.opts.port}, data in ${cfg.dataDir}`);
  else log('info', `zkts ${packageVersion()}: serving TLS clients only, data in ${cfg.dataDir}`);
  if (server.tls?.address) log('info', `TLS clients on ${server.tls.address.host}:${server.tls.address.port}`);
  if (server.tls?.settings.portUnification) log('info', `client port ${server.opts.port} also accepts TLS (client.portUnification)`);
  const ops = await startOperations(server, cfg, { zktsVersion: packageVersion(), storage: data }).catch(async (e: unknown) => {
    await server.stop();
    await data.close();
    throw e;
  });
  if (ops.admin.address) {
    const tlsAdmin = adminTlsSettings(cfg.properties);
    const scheme = tlsAdmin === undefined ? 'http' : tlsAdmin.forceHttps ? 'https' : 'http(s)';
    log('info', `admin server on ${scheme}://${ops.admin.address.host}:${ops.admin.address.port}${cfg.admin.commandURL}`);
    if (uiConfig(cfg).enable) log('info', `tree browser on ${scheme}://${ops.admin.address.host}:${ops.admin.address.port}/ui/`);
  }
  if (ops.metrics.address) {
    log('info', `Prometheus metrics on http://${ops.metrics.address.host}:${ops.metrics.address.port}/metrics`);
  }
  let observer: RunningObserver | null = null;
  if (server.opts.quorumRole === 'observer') {
    // the ensemble's observer: the log says where it is (electing, syncing, serving)
    const observerLog = (level: 'info' | 'warn' | 'error', msg: string): void => log(level, `observer: ${msg}`);
    observer = await startObserver(cfg, server, data, observerLog).catch(async (e: unknown) => {
      await ops.close();
      await server.stop();
      await data.close();
      throw new ZktsError('ZKTS_ERR_LISTEN', `observer ${cfg.myid}: cannot start the election port: ${(e as Error).message}`);
    });
    log('info', `observer ${cfg.myid} of ${cfg.servers.length} servers; clients are served once synced with the leader`);
  }
  const stop = (): void => {
    void ops
      .close()
      .then(() => observer?.stop())
      .then(() => server.stop())
      .then(() => data.close())
      .then(() => {
        log('info', 'stopped');
        logger.flush();
        process.exit(0);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return 0;
}
