// config.ts — zoo.cfg (and myid) to a typed ServerConfig, with ZooKeeper 3.9's keys, defaults and
// checks: QuorumPeerConfig.parseProperties for its own keys, and for every other key ZooKeeper's
// rule of System.setProperty("zookeeper." + key), read back the way each ZooKeeper component
// reads its property. A config that ZooKeeper accepts is accepted, except: group.N/weight.N and
// oraclePath (other quorum rules: refused), tickTime <= 0, ports 0 in server.N lines, server ids
// above 2^53-1. Where ZooKeeper silently falls back to a default, zkts does too, with a warning.
// Where ZooKeeper silently ignores a key people expect to work (jute.maxbuffer and
// znode.container.* in zoo.cfg, which it reads only as -D system properties; the
// zookeeper.-prefixed superDigest key), zkts honours it.
//
// Relative paths (dataDir, dataLogDir, dynamicConfigFile, jaasLoginConfig, plugin.N=./x) resolve
// against opts.baseDir. ZooKeeper uses them as given, i.e. relative to the server's working
// directory, so loadConfig passes process.cwd(); the ServerConfig holds absolute paths.

import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ZktsError } from '../errors.js';
import { javaParseBoolean, javaParseInt, javaTrim, parseProperties, ZooCfg, type PropertyLine } from './config-parse.js';
import { parseEnforceAuthSchemes } from './auth/enforce-auth.js';
import { becomesProperty, isUnsupported, REFUSED } from './config-keys.js';
import { FOUR_LETTER_WORDS, PropertyReader, whitelist } from './config-properties.js';
import {
  checkEnsemble,
  parseServerId,
  parseServerLine,
  type PeerType,
  type QuorumServer,
} from './config-servers.js';

export type { HostPort, PeerType, QuorumAddress, QuorumServer } from './config-servers.js';
export { FOUR_LETTER_WORDS };

export interface ParseOptions {
  /** The config file's path, for messages. */
  file?: string;
  /** Relative paths resolve against this directory (ZooKeeper: its working directory). */
  baseDir: string;
  /** Reads myid and dynamicConfigFile; undefined when the file does not exist. Default: node:fs. */
  readFile?: (path: string) => string | undefined;
  /** Java system properties (-Dname=value): zookeeper.*, jute.maxbuffer, readonlymode.enabled,
   * java.security.auth.login.config. zoo.cfg keys override them, as in ZooKeeper. */
  systemProperties?: Readonly<Record<string, string>>;
}

export interface AdminServerConfig {
  enableServer: boolean; // ZooKeeper 3.9: on unless admin.enableServer=false
  serverAddress: string; // "0.0.0.0"
  serverPort: number; // 8080
  idleTimeout: number; // ms, 30000
  commandURL: string; // "/commands"
}

export interface MetricsProviderConfig {
  className: string; // ZooKeeper's DefaultMetricsProvider unless set
  httpHost: string; // Prometheus provider: "0.0.0.0"
  httpPort: number; // Prometheus provider: 7000
  exportJvmInfo: boolean;
  /** Every metricsProvider.<name>=value except className, by <name>. */
  options: Map<string, string>;
}

export interface PluginConfig {
  /** The N of plugin.N. */
  id: string;
  /** An absolute path (when written as a path) or a package name. */
  module: string;
  /** plugin.N.<option>=value, by <option>. */
  options: Map<string, string>;
}

export interface ServerConfig {
  file?: string;
  dataDir: string; // absolute
  dataLogDir: string; // absolute; dataDir unless set
  clientPort?: number; // undefined: no client port (as ZooKeeper allows)
  clientPortAddress?: string; // undefined: all interfaces
  secureClientPort?: number;
  secureClientPortAddress?: string;
  clientPortListenBacklog: number; // -1: the OS default
  maxClientCnxns: number; // per client IP, 60; 0: no limit
  maxCnxns: number; // in all, 0: no limit
  globalOutstandingLimit: number; // 1000
  globalOutstandingBytes: number; // zkts.globalOutstandingBytes, 64 MiB
  tickTime: number; // ms, 3000
  minSessionTimeout: number; // ms, 2 * tickTime unless set
  maxSessionTimeout: number; // ms, 20 * tickTime unless set
  initLimit: number; // ticks; required in an ensemble
  syncLimit: number; // ticks; required in an ensemble
  connectToLearnerMasterLimit: number; // ticks; 0: initLimit
  myid?: number; // from dataDir/myid, read when there are server.N lines
  servers: QuorumServer[]; // by id
  distributed: boolean; // ZooKeeper's isDistributed(): an ensemble member, not standalone
  peerType: PeerType; // as the servers list says
  standaloneEnabled: boolean; // true
  reconfigEnabled: boolean; // false
  quorumListenOnAllIPs: boolean;
  syncEnabled: boolean; // observers log and snapshot, true
  electionAlg: number; // 3, the only one
  dynamicConfigFile?: string; // absolute
  quorumVersion?: bigint; // from the dynamic config file's name
  snapCount: number; // 100000, at least 2
  snapSizeLimitInKb: number; // 4194304; <= 0: off
  txnLogSizeLimitInKb: number; // -1: off
  preAllocSize: number; // KiB, 65536
  forceSync: boolean; // fsync the txn log, true unless forceSync=no
  autopurge: { snapRetainCount: number; purgeIntervalMs: number }; // 3 (at least 3), 0: off
  extendedTypesEnabled: boolean; // TTL nodes
  localSessionsEnabled: boolean;
  localSessionsUpgradingEnabled: boolean;
  readOnlyModeEnabled: boolean;
  skipACL: boolean;
  enforceQuota: boolean;
  digestEnabled: boolean; // the data tree digest, true
  juteMaxBuffer: number; // bytes, 0xfffff
  container: { checkIntervalMs: number; maxPerMinute: number; maxNeverUsedIntervalMs: number }; // the container/TTL reaper: 60000, 10000, 0 (never)
  fourLetterWordWhitelist: Set<string>; // always has srvr
  admin: AdminServerConfig;
  metricsProvider: MetricsProviderConfig;
  authProviders: Map<string, string>; // authProvider.<name> → class name (or module)
  authProviderModules: PluginConfig[]; // authProvider.N=<module path or package> (not a Java class name), with authProvider.N.<option>=value
  superDigest?: string; // "super:<base64 sha1>"
  digestAuthEnabled: boolean; // DigestAuthenticationProvider.enabled, true
  jaasLoginConfig?: string; // absolute
  enforceAuthSchemes?: string[]; // enforce.auth.enabled=true: enforce.auth.schemes (sessionRequireClientSASLAuth=true: sasl)
  sessionPasswords: 'java' | 'secret'; // zkts's sessionPasswords: 'secret' (HMAC with the secret in dataDir) unless 'java' (ZooKeeper's derivable one, for mixed ensembles)
  plugins: PluginConfig[]; // by N
  properties: Map<string, string>; // the system properties ZooKeeper would have: -D ones, then zookeeper.<key> for each other key
  unsupported: string[]; // keys present that zkts does not act on (or whose value asks for what zkts lacks)
  warnings: string[]; // what ZooKeeper would log as a warning, and zkts's own
}

export const DEFAULT_METRICS_PROVIDER = 'org.apache.zookeeper.metrics.impl.DefaultMetricsProvider';
export const PROMETHEUS_METRICS_PROVIDER = 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider';
const WILDCARDS = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);
const HOUR_MS = 3_600_000;
const INTERVAL_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS };

/** zoo.cfg text to a ServerConfig. Throws ZktsError('ZKTS_ERR_CONFIG') naming the key, the value
 * and what is accepted, or ZKTS_ERR_UNSUPPORTED for a key zkts refuses. */
export function parseConfig(text: string, opts: ParseOptions): ServerConfig {
  const cfg = new ZooCfg(parseProperties(text, opts.file), opts.file, opts.baseDir, []);
  for (const key of cfg.entries.keys()) {
    const refused = REFUSED.find((r) => r.test(key));
    if (refused !== undefined) cfg.fail(key, refused.why, 'ZKTS_ERR_UNSUPPORTED');
  }
  const properties = new Map<string, string>(Object.entries(opts.systemProperties ?? {}));
  for (const [key, { value }] of cfg.entries) if (becomesProperty(key)) properties.set(`zookeeper.${key}`, value);
  const local = readLocal(cfg);
  const ensemble = readEnsemble(cfg, local, properties, opts.readFile ?? readIfExists);
  const features = readProperties(cfg, new PropertyReader(properties, cfg.warnings, (k) => cfg.at(k)), ensemble.myid);
  // read-only mode is a learner's (an observer cut off from its leader); a standalone server has none
  const learner = ensemble.distributed && ensemble.peerType === 'observer';
  const unsupported = [...cfg.entries.values()]
    .filter((e) => isUnsupported(e.key, e.value) && !(learner && e.key === 'readonlymode.enabled'))
    .map((e) => e.key);
  const { className } = features.metricsProvider;
  if (className !== DEFAULT_METRICS_PROVIDER && className !== PROMETHEUS_METRICS_PROVIDER) unsupported.push('metricsProvider.className');
  if (features.readOnlyModeEnabled && !learner && !unsupported.includes('readonlymode.enabled')) unsupported.push('readonlymode.enabled');
  return {
    ...(opts.file === undefined ? {} : { file: opts.file }),
    ...local,
    ...ensemble,
    ...features,
    plugins: plugins(cfg),
    authProviderModules: authProviderModules(features.authProviders, cfg.baseDir),
    properties,
    unsupported,
    warnings: cfg.warnings,
  };
}

type Local = Pick<
  ServerConfig,
  | 'dataDir' | 'dataLogDir' | 'clientPort' | 'clientPortAddress' | 'secureClientPort' | 'secureClientPortAddress'
  | 'clientPortListenBacklog' | 'maxClientCnxns' | 'tickTime' | 'minSessionTimeout' | 'maxSessionTimeout'
  | 'connectToLearnerMasterLimit' | 'peerType' | 'standaloneEnabled' | 'reconfigEnabled' | 'quorumListenOnAllIPs'
  | 'syncEnabled' | 'electionAlg' | 'autopurge' | 'localSessionsEnabled' | 'localSessionsUpgradingEnabled'
>;

/** QuorumPeerConfig's own keys about this server. */
function readLocal(cfg: ZooCfg): Local {
  const dataDir = cfg.path('dataDir') ?? cfg.fail('dataDir', 'not set; it names the directory for snapshots (and txn logs unless dataLogDir is set)');
  const clientPort = cfg.port('clientPort');
  const clientPortAddress = cfg.raw('clientPortAddress');
  if (clientPortAddress !== undefined && clientPort === undefined) cfg.fail('clientPortAddress', 'set, but clientPort is not');
  const secureClientPort = cfg.port('secureClientPort');
  const secureClientPortAddress = cfg.raw('secureClientPortAddress');
  if (secureClientPortAddress !== undefined && secureClientPort === undefined) {
    cfg.fail('secureClientPortAddress', 'set, but secureClientPort is not');
  }
  const tickTime = cfg.int('tickTime', 3000);
  if (tickTime <= 0) cfg.fail('tickTime', `"${cfg.raw('tickTime')}" is not a positive number of milliseconds`);
  const minSet = cfg.int('minSessionTimeout', -1);
  const maxSet = cfg.int('maxSessionTimeout', -1);
  const minSessionTimeout = minSet === -1 ? 2 * tickTime : minSet;
  const maxSessionTimeout = maxSet === -1 ? 20 * tickTime : maxSet;
  if (minSessionTimeout > maxSessionTimeout) {
    cfg.fail('minSessionTimeout', `${minSessionTimeout} ms is larger than maxSessionTimeout, ${maxSessionTimeout} ms`);
  }
  const electionAlg = cfg.int('electionAlg', 3);
  if (electionAlg !== 3) cfg.fail('electionAlg', `"${electionAlg}" is not supported; 3 (fast leader election) is the only one`);
  const peerType = cfg.raw('peerType')?.toLowerCase() ?? 'participant';
  if (peerType !== 'participant' && peerType !== 'observer') cfg.fail('peerType', `"${cfg.raw('peerType')}" is not participant or observer`);
  const snapRetainCount = cfg.int('autopurge.snapRetainCount', 3);
  if (snapRetainCount < 3) cfg.warnings.push(`${cfg.at('autopurge.snapRetainCount')}autopurge.snapRetainCount ${snapRetainCount} is below the minimum: using 3`);
  // keys zkts does not use, checked as ZooKeeper checks them
  for (const key of ['sslQuorum', 'portUnification', 'sslQuorumReloadCertFiles', 'jvm.pause.monitor', 'multiAddress.reachabilityCheckEnabled']) {
    cfg.bool(key, false);
  }
  for (const key of ['observerMasterPort', 'quorum.cnxn.threads.size', 'multiAddress.reachabilityCheckTimeoutMs']) cfg.int(key, 0);
  const sasl = cfg.bool('quorum.auth.enableSasl', false);
  const serverSasl = cfg.bool('quorum.auth.serverRequireSasl', false);
  const learnerSasl = cfg.bool('quorum.auth.learnerRequireSasl', false);
  if (!sasl && serverSasl) cfg.fail('quorum.auth.serverRequireSasl', 'needs quorum.auth.enableSasl=true');
  if (!sasl && learnerSasl) cfg.fail('quorum.auth.learnerRequireSasl', 'needs quorum.auth.enableSasl=true');
  if (!learnerSasl && serverSasl) cfg.fail('quorum.auth.serverRequireSasl', 'needs quorum.auth.learnerRequireSasl=true');
  return {
    dataDir,
    dataLogDir: cfg.path('dataLogDir') ?? dataDir,
    ...(clientPort === undefined ? {} : { clientPort }),
    ...(clientPortAddress === undefined ? {} : { clientPortAddress }),
    ...(secureClientPort === undefined ? {} : { secureClientPort }),
    ...(secureClientPortAddress === undefined ? {} : { secureClientPortAddress }),
    clientPortListenBacklog: cfg.int('clientPortListenBacklog', -1),
    maxClientCnxns: cfg.int('maxClientCnxns', 60),
    tickTime,
    minSessionTimeout,
    maxSessionTimeout,
    connectToLearnerMasterLimit: cfg.int('connectToLearnerMasterLimit', 0),
    peerType,
    standaloneEnabled: cfg.bool('standaloneEnabled', true),
    reconfigEnabled: cfg.bool('reconfigEnabled', false),
    quorumListenOnAllIPs: cfg.bool('quorumListenOnAllIPs', false),
    syncEnabled: cfg.bool('syncEnabled', true),
    electionAlg,
    autopurge: { snapRetainCount: Math.max(3, snapRetainCount), purgeIntervalMs: purgeInterval(cfg) },
    localSessionsEnabled: cfg.bool('localSessionsEnabled', false),
    localSessionsUpgradingEnabled: cfg.bool('localSessionsUpgradingEnabled', false),
  };
}

type Ensemble = Pick<
  ServerConfig,
  | 'servers' | 'myid' | 'distributed' | 'peerType' | 'initLimit' | 'syncLimit' | 'dynamicConfigFile' | 'quorumVersion'
  | 'clientPort' | 'clientPortAddress'
>;

/** The server.N lines (here or in the dynamic config file), myid, and what they decide: standalone
 * or ensemble, this server's role and, when its line has one, its client address. */
function readEnsemble(cfg: ZooCfg, local: Local, properties: Map<string, string>, readFile: (path: string) => string | undefined): Ensemble {
  const multiAddress = cfg.bool('multiAddress.enabled', false) || javaParseBoolean(properties.get('zookeeper.multiAddress.enabled'));
  const dynamicConfigFile = cfg.path('dynamicConfigFile');
  const { lines, quorumVersion } = dynamicConfigFile === undefined ? { lines: serverLines(cfg), quorumVersion: undefined } : readDynamic(cfg, dynamicConfigFile, readFile);
  const servers = lines
    .map(({ key, value, where }) => parseServerLine(parseServerId(key, where), value, multiAddress, where))
    .sort((a, b) => a.id - b.id);
  const { distributed, warnings } = checkEnsemble(servers, local.standaloneEnabled, cfg.at());
  cfg.warnings.push(...warnings);

  const myidPath = join(local.dataDir, 'myid');
  const myidText = servers.length > 0 ? readFile(myidPath) : undefined;
  let myid: number | undefined;
  if (myidText !== undefined) {
    const first = javaTrim(myidText.split(/\r?\n/, 1)[0] ?? '');
    if (!/^\d+$/.test(first) || !Number.isSafeInteger(Number(first))) {
      throw new ZktsError('ZKTS_ERR_CONFIG', `${myidPath}: "${first}" is not a server id; myid holds the N of this server's server.N line`);
    }
    myid = Number(first);
  } else if (distributed) {
    throw new ZktsError('ZKTS_ERR_CONFIG', `${myidPath} is missing; in an ensemble it holds the N of this server's server.N line`);
  }
  const me = servers.find((s) => s.id === myid);
  if (distributed && me === undefined) throw new ZktsError('ZKTS_ERR_CONFIG', `${cfg.at()}myid is ${myid} but there is no server.${myid} line`);

  let client: Pick<ServerConfig, 'clientPort' | 'clientPortAddress'> = {};
  if (me?.clientAddress !== undefined) {
    const { host, port } = me.clientAddress;
    const { clientPort, clientPortAddress } = local;
    const wildcard = clientPortAddress === undefined || WILDCARDS.has(clientPortAddress);
    if (clientPort !== undefined && (clientPort !== port || (!wildcard && clientPortAddress !== host))) {
      const mine = clientPortAddress === undefined ? `${clientPort}` : `${clientPortAddress}:${clientPort}`;
      cfg.fail('clientPort', `${mine} differs from the client address ${host}:${port} of server.${me.id}; make them agree`);
    }
    client = { clientPort: port, clientPortAddress: host };
  }
  const peerType = me?.type ?? 'participant';
  if (peerType !== local.peerType) {
    cfg.warnings.push(`${cfg.at('peerType')}peerType is ${local.peerType} but server.${myid ?? '?'} says ${peerType}: using ${peerType}, as ZooKeeper does`);
  }
  const initLimit = cfg.int('initLimit', 0);
  const syncLimit = cfg.int('syncLimit', 0);
  if (distributed && initLimit <= 0) cfg.fail('initLimit', 'not set; an ensemble needs it (ticks a follower may take to connect and sync)');
  if (distributed && syncLimit <= 0) cfg.fail('syncLimit', 'not set; an ensemble needs it (ticks a follower may lag behind the leader)');
  return {
    servers,
    ...(myid === undefined ? {} : { myid }),
    distributed,
    peerType,
    initLimit,
    syncLimit,
    ...(dynamicConfigFile === undefined ? {} : { dynamicConfigFile }),
    ...(quorumVersion === undefined ? {} : { quorumVersion }),
    ...client,
  };
}

interface ServerLine {
  key: string;
  value: string;
  where: string;
}

function serverLines(cfg: ZooCfg): ServerLine[] {
  return [...cfg.entries.values()].filter((e) => e.key.startsWith('server.')).map((e) => ({ ...e, where: cfg.at(e.key) }));
}

/** dynamicConfigFile: only server.N lines, its version in its name (zoo.cfg.dynamic.100000000). */
function readDynamic(cfg: ZooCfg, path: string, readFile: (path: string) => string | undefined): { lines: ServerLine[]; quorumVersion?: bigint } {
  const inStatic = serverLines(cfg)[0];
  if (inStatic !== undefined) cfg.fail(inStatic.key, `must be in the dynamic config file ${path} when dynamicConfigFile is set`);
  const text = readFile(path) ?? cfg.fail('dynamicConfigFile', `${path} does not exist`);
  const dynamic = new ZooCfg(parseProperties(text, path), path, cfg.baseDir, cfg.warnings);
  for (const key of dynamic.entries.keys()) {
    const refused = REFUSED.find((r) => r.test(key));
    if (refused !== undefined) dynamic.fail(key, refused.why, 'ZKTS_ERR_UNSUPPORTED');
    if (key === 'version') dynamic.fail(key, 'the version belongs in the file name, not in the file');
    if (!key.startsWith('server.')) dynamic.fail(key, 'only server.N lines belong in a dynamic config file');
  }
  const suffix = path.slice(path.lastIndexOf('.') + 1);
  return {
    lines: serverLines(dynamic),
    ...(/^[0-9a-fA-F]{1,16}$/.test(suffix) ? { quorumVersion: BigInt(`0x${suffix}`) } : {}),
  };
}

type Features = Omit<ServerConfig, keyof Local | keyof Ensemble | 'file' | 'plugins' | 'authProviderModules' | 'properties' | 'unsupported' | 'warnings'>;

/** The zookeeper.* properties (and zkts's jaasLoginConfig), read as ZooKeeper's components read them. */
function readProperties(cfg: ZooCfg, props: PropertyReader, myid: number | undefined): Features {
  const extendedTypesEnabled = javaParseBoolean(props.get('extendedTypesEnabled'));
  if (extendedTypesEnabled && myid !== undefined && myid > 254) {
    throw new ZktsError('ZKTS_ERR_CONFIG', `${cfg.at('extendedTypesEnabled')}extendedTypesEnabled=true needs server ids up to 254; myid is ${myid}`);
  }
  const readOnlyModeEnabled = javaParseBoolean(props.system('readonlymode.enabled') ?? props.get('readonlymode.enabled'));
  let snapCount = props.int('snapCount', 100_000);
  if (snapCount < 2) {
    cfg.warnings.push(`snapCount ${snapCount} is below 2: using 2, as ZooKeeper does`);
    snapCount = 2;
  }
  const adminPort = props.int('admin.serverPort', 8080);
  if (adminPort < 0 || adminPort > 65535) cfg.fail('admin.serverPort', `"${adminPort}" is not a port number (0-65535)`);
  const metricsOptions = new Map<string, string>();
  for (const [key, { value }] of cfg.entries) {
    if (key.startsWith('metricsProvider.') && key !== 'metricsProvider.className') metricsOptions.set(key.slice(16), value);
  }
  const jaas = cfg.raw('jaasLoginConfig') ?? props.system('java.security.auth.login.config');
  // AuthenticationHelper: sessionRequireClientSASLAuth wins over enforce.auth.*
  const saslRequired = javaParseBoolean(props.get('sessionRequireClientSASLAuth'));
  const enforceAuth = saslRequired || javaParseBoolean(props.get('enforce.auth.enabled'));
  const enforceAuthSchemes = saslRequired ? ['sasl'] : parseEnforceAuthSchemes(props.get('enforce.auth.schemes'));
  if (enforceAuth && enforceAuthSchemes.length === 0) {
    cfg.fail('enforce.auth.schemes', 'must be configured when enforce.auth.enabled is true; list the schemes a client must authenticate with (e.g. digest,x509)');
  }
  const sessionPasswords = props.get('sessionPasswords') ?? 'secret';
  if (sessionPasswords !== 'secret' && sessionPasswords !== 'java') {
    cfg.fail('sessionPasswords', `"${sessionPasswords}" is not secret (unguessable, the default) or java (ZooKeeper's derivable passwords, only for an ensemble with Apache ZooKeeper servers)`);
  }
  const superDigest = props.get('DigestAuthenticationProvider.superDigest') ?? props.get('zookeeper.DigestAuthenticationProvider.superDigest');
  return {
    maxCnxns: props.int('maxCnxns', 0),
    globalOutstandingLimit: props.int('globalOutstandingLimit', 1000),
    globalOutstandingBytes: props.int('zkts.globalOutstandingBytes', 64 * 1024 * 1024, 53),
    snapCount,
    snapSizeLimitInKb: props.int('snapSizeLimitInKb', 4_194_304, 53),
    txnLogSizeLimitInKb: props.int('txnLogSizeLimitInKb', -1, 53),
    preAllocSize: props.long('preAllocSize', 65_536),
    forceSync: props.get('forceSync') !== 'no',
    extendedTypesEnabled,
    readOnlyModeEnabled,
    skipACL: props.get('skipACL') === 'yes',
    enforceQuota: javaParseBoolean(props.get('enforceQuota')),
    digestEnabled: javaParseBoolean(props.get('digest.enabled') ?? 'true'),
    juteMaxBuffer: props.systemInt('jute.maxbuffer', 0xfffff),
    container: {
      checkIntervalMs: props.systemInt('znode.container.checkIntervalMs', 60_000),
      maxPerMinute: props.systemInt('znode.container.maxPerMinute', 10_000),
      maxNeverUsedIntervalMs: props.systemInt('znode.container.maxNeverUsedIntervalMs', 0, 53),
    },
    fourLetterWordWhitelist: whitelist(props.get('4lw.commands.whitelist'), readOnlyModeEnabled, cfg.warnings),
    admin: {
      enableServer: props.get('admin.enableServer') !== 'false',
      serverAddress: props.get('admin.serverAddress') ?? '0.0.0.0',
      serverPort: adminPort,
      idleTimeout: props.int('admin.idleTimeout', 30_000),
      commandURL: props.get('admin.commandURL') ?? '/commands',
    },
    metricsProvider: {
      className: cfg.raw('metricsProvider.className') ?? DEFAULT_METRICS_PROVIDER,
      httpHost: metricsOptions.get('httpHost') ?? '0.0.0.0',
      httpPort: cfg.port('metricsProvider.httpPort') ?? 7000,
      exportJvmInfo: javaParseBoolean(metricsOptions.get('exportJvmInfo') ?? 'true'),
      options: metricsOptions,
    },
    authProviders: props.withPrefix('authProvider.'),
    ...(superDigest === undefined ? {} : { superDigest }),
    digestAuthEnabled: javaParseBoolean(props.get('DigestAuthenticationProvider.enabled') ?? 'true'),
    ...(jaas === undefined ? {} : { jaasLoginConfig: resolve(cfg.baseDir, jaas) }),
    ...(enforceAuth ? { enforceAuthSchemes } : {}),
    sessionPasswords,
  };
}

/** Reads zoo.cfg at path (and dataDir/myid when it has server.N lines). Relative paths in it
 * resolve against opts.baseDir, by default the working directory, as in ZooKeeper. */
export function loadConfig(path: string, opts: Partial<Omit<ParseOptions, 'file'>> = {}): ServerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    const why = missing ? 'config file not found' : `cannot read the config file: ${(err as Error).message}`;
    throw new ZktsError('ZKTS_ERR_CONFIG_FILE', `${path}: ${why}`, { cause: err });
  }
  return parseConfig(text, { ...opts, file: path, baseDir: opts.baseDir ?? process.cwd() });
}

/** The config of `npm start` (conf/zoo.cfg holds the same): standalone on 127.0.0.1:2181, data in ./data. */
export const DEFAULT_ZOO_CFG = [
  'tickTime=2000',
  'initLimit=10',
  'syncLimit=5',
  'dataDir=./data',
  'clientPortAddress=127.0.0.1',
  'clientPort=2181',
  '4lw.commands.whitelist=ruok, srvr, stat, mntr',
  'admin.enableServer=true',
  'admin.serverAddress=127.0.0.1',
  'admin.serverPort=8080',
  'autopurge.snapRetainCount=3',
  'autopurge.purgeInterval=1',
  '',
].join('\n');

export function defaultConfig(baseDir: string = process.cwd()): ServerConfig {
  return parseConfig(DEFAULT_ZOO_CFG, { baseDir });
}

/** autopurge.purgeInterval: whole hours (ZooKeeper 3.9), or a number with ms/s/m/h/d (3.10). */
function purgeInterval(cfg: ZooCfg): number {
  const v = cfg.raw('autopurge.purgeInterval');
  if (v === undefined) return 0;
  const m = /^([+-]?\d+)(ms|MS|[smhdSMHD])?$/.exec(v);
  const n = m === null ? undefined : javaParseInt(m[1]);
  if (m === null || n === undefined) {
    return cfg.fail('autopurge.purgeInterval', `"${v}" is not a whole number of hours (or a number with ms, s, m, h or d)`);
  }
  return Math.max(0, n * INTERVAL_UNITS_MS[(m[2] ?? 'h').toLowerCase()]);
}

/** plugin.N=module and plugin.N.option=value. */
function plugins(cfg: ZooCfg): PluginConfig[] {
  const byId = new Map<string, PluginConfig>();
  const options: PropertyLine[] = [];
  for (const e of cfg.entries.values()) {
    if (!e.key.startsWith('plugin.')) continue;
    const rest = e.key.slice('plugin.'.length);
    if (rest === '' || rest.startsWith('.') || rest.endsWith('.')) cfg.fail(e.key, 'not of the form plugin.N=module or plugin.N.option=value');
    if (rest.includes('.')) {
      options.push(e);
      continue;
    }
    if (e.value === '') cfg.fail(e.key, 'empty; it names the plugin module (./path or a package name)');
    const module = e.value.startsWith('.') || isAbsolute(e.value) ? resolve(cfg.baseDir, e.value) : e.value;
    byId.set(rest, { id: rest, module, options: new Map() });
  }
  for (const e of options) {
    const rest = e.key.slice('plugin.'.length);
    const id = rest.slice(0, rest.indexOf('.'));
    const plugin = byId.get(id) ?? cfg.fail(e.key, `an option of plugin.${id}, which is not set`);
    plugin.options.set(rest.slice(id.length + 1), e.value);
  }
  // plugin.2 before plugin.10; numbered plugins before named ones, which go in name order
  const rank = (id: string): [number, string] => (/^\d+$/.test(id) ? [Number(id), ''] : [Infinity, id]);
  return [...byId.values()].sort((a, b) => {
    const [na, sa] = rank(a.id);
    const [nb, sb] = rank(b.id);
    return na !== nb ? na - nb : sa < sb ? -1 : sa > sb ? 1 : 0;
  });
}

/** Whether an authProvider.N value names a JavaScript module (a path, a .js/.ts file, a scoped or
 * dotless package) rather than a Java class (org.apache.zookeeper.server.auth.…, com.example.X). */
export function isAuthProviderModule(value: string): boolean {
  return value.startsWith('.') || isAbsolute(value) || value.startsWith('@') || /\.(m?js|cjs|m?ts)$/.test(value) || !value.includes('.');
}

/** authProvider.N=<module> (a zkts extension of ZooKeeper's key) and its authProvider.N.<option>=value lines. */
function authProviderModules(byName: ReadonlyMap<string, string>, baseDir: string): PluginConfig[] {
  const out: PluginConfig[] = [];
  for (const [name, value] of byName) {
    if (name.includes('.') || !isAuthProviderModule(value)) continue;
    const module = value.startsWith('.') || isAbsolute(value) ? resolve(baseDir, value) : value;
    const options = new Map<string, string>();
    for (const [k, v] of byName) if (k.startsWith(`${name}.`)) options.set(k.slice(name.length + 1), v);
    out.push({ id: name, module, options });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw new ZktsError('ZKTS_ERR_CONFIG_FILE', `${path}: ${(err as Error).message}`, { cause: err });
  }
}
