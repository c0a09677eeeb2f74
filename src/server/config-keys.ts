// config-keys.ts — which zoo.cfg keys zkts acts on. DESIGN: keys that are not supported are
// reported at start, never silently ignored. So every key in a config file is one of:
// - read: zkts acts on it (a ServerConfig field);
// - read, but some values ask for a feature zkts does not have yet (UNSUPPORTED_WHEN): reported
//   in ServerConfig.unsupported when the value asks for it (e.g. sslQuorum=true, not =false);
// - refused: accepting it would make this server disagree with the ensemble about what a quorum
//   is, so parseConfig throws (REFUSED);
// - anything else, including the many zookeeper.* tuning knobs of the Java implementation:
//   kept as a zookeeper.<key> property, as ZooKeeper does, and reported as unsupported.
// When a feature lands, move its keys out of UNSUPPORTED_WHEN.

const isTrue = (v: string): boolean => v.toLowerCase() === 'true';
const notEmpty = (v: string): boolean => v !== '';

/** Keys whose value zkts reads (exact names). */
export const READ_KEYS: ReadonlySet<string> = new Set([
  // QuorumPeerConfig's own keys
  'dataDir',
  'dataLogDir',
  'clientPort',
  'clientPortAddress',
  'clientPortListenBacklog',
  'tickTime',
  'maxClientCnxns',
  'minSessionTimeout',
  'maxSessionTimeout',
  'initLimit',
  'syncLimit',
  'connectToLearnerMasterLimit',
  'electionAlg',
  'quorumListenOnAllIPs',
  'peerType',
  'syncEnabled',
  'dynamicConfigFile',
  'autopurge.snapRetainCount',
  'autopurge.purgeInterval',
  'standaloneEnabled',
  'multiAddress.reachabilityCheckEnabled',
  'multiAddress.reachabilityCheckTimeoutMs',
  // zookeeper.* properties with a ServerConfig field
  '4lw.commands.whitelist',
  'snapCount',
  'snapSizeLimitInKb',
  'txnLogSizeLimitInKb',
  'preAllocSize',
  'globalOutstandingLimit',
  'maxCnxns',
  'forceSync',
  'jute.maxbuffer',
  'znode.container.checkIntervalMs',
  'znode.container.maxPerMinute',
  'znode.container.maxNeverUsedIntervalMs',
  'extendedTypesEnabled',
  'skipACL',
  'enforceQuota',
  'digest.enabled',
  'admin.enableServer',
  'admin.serverAddress',
  'admin.serverPort',
  'admin.idleTimeout',
  'admin.commandURL',
  'DigestAuthenticationProvider.superDigest',
  'zookeeper.DigestAuthenticationProvider.superDigest',
  'DigestAuthenticationProvider.enabled',
  // client TLS (tls-config.ts), ZooKeeper's ClientX509Util keys
  'secureClientPort',
  'secureClientPortAddress',
  'client.portUnification',
  'client.certReload',
  'serverCnxnFactory', // zkts has one connection layer, which does TLS
  'ssl.keyStore.location',
  'ssl.keyStore.password',
  'ssl.keyStore.passwordPath',
  'ssl.keyStore.type',
  'ssl.trustStore.location',
  'ssl.trustStore.password',
  'ssl.trustStore.passwordPath',
  'ssl.trustStore.type',
  'ssl.clientAuth',
  'ssl.hostnameVerification',
  'ssl.clientHostnameVerification',
  'ssl.protocol',
  'ssl.enabledProtocols',
  'ssl.ciphersuites',
  'ssl.authProvider',
  'ssl.sslProvider', // JDK or OPENSSL: zkts always uses Node's OpenSSL
  'ssl.handshakeDetectionTimeoutMillis', // ZooKeeper's client port does not use it either
  'X509AuthenticationProvider.superUser',
  // AdminServer HTTPS (admin.forceHttps / admin.portUnification), with the quorum stores as JettyAdminServer
  'admin.forceHttps',
  'admin.portUnification',
  'admin.needClientAuth',
  // the snapshot and restore commands (src/admin/snapshot-commands.ts), read as zookeeper.<key>
  'admin.rateLimiterIntervalInMS',
  'admin.snapshot.enabled',
  'admin.restore.enabled',
  'ssl.quorum.keyStore.location',
  'ssl.quorum.keyStore.password',
  'ssl.quorum.keyStore.passwordPath',
  'ssl.quorum.keyStore.type',
  'ssl.quorum.trustStore.location',
  'ssl.quorum.trustStore.password',
  'ssl.quorum.trustStore.passwordPath',
  'ssl.quorum.trustStore.type',
  'ssl.quorum.protocol',
  'ssl.quorum.enabledProtocols',
  // zkts's own keys
  'jaasLoginConfig',
  'sessionPasswords',
  'enforce.auth.enabled',
  'enforce.auth.schemes',
  'sessionRequireClientSASLAuth',
  'zkts.admin.ui.enable',
  'zkts.admin.ui.edit',
  'zkts.log.level',
  'zkts.log.file',
  'zkts.log.format',
  'zkts.globalOutstandingBytes',
]);

/** Key prefixes whose keys zkts reads (server.N, authProvider.N, metricsProvider.*, plugin.N[.option]). */
export const READ_PREFIXES: readonly string[] = ['server.', 'authProvider.', 'metricsProvider.', 'plugin.'];

/** Keys zkts reads whose listed values ask for something zkts does not do yet. */
export const UNSUPPORTED_WHEN: ReadonlyMap<string, (value: string) => boolean> = new Map([
  ['observerMasterPort', (v: string) => v !== '0'],
  ['localSessionsEnabled', isTrue],
  ['localSessionsUpgradingEnabled', isTrue],
  ['reconfigEnabled', isTrue],
  ['multiAddress.enabled', isTrue],
  ['sslQuorum', isTrue],
  ['portUnification', isTrue],
  ['sslQuorumReloadCertFiles', isTrue],
  ['ssl.allowReverseDnsLookup', isTrue], // never: CVE-2026-24281
  ['ssl.crl', isTrue],
  ['ssl.ocsp', isTrue],
  ['ssl.context.supplier.class', notEmpty],
  ['quorum.auth.enableSasl', isTrue],
  ['quorum.auth.serverRequireSasl', isTrue],
  ['quorum.auth.learnerRequireSasl', isTrue],
  ['readonlymode.enabled', isTrue],
  ['emulate353TTLNodes', isTrue],
  ['snapshot.compression.method', notEmpty],
  ['audit.enable', isTrue],
]);

/** Keys whose presence changes what a quorum is; zkts refuses them rather than disagree with its ensemble. */
export const REFUSED: ReadonlyArray<{ test: (key: string) => boolean; why: string }> = [
  {
    test: (k) => k.startsWith('group') || k.startsWith('weight'),
    why: 'hierarchical quorums (group.N / weight.N) are not supported by zkts yet',
  },
  { test: (k) => k === 'oraclePath', why: 'oracle quorums (oraclePath) are not supported by zkts yet' },
];

/** Whether this key's value asks for something zkts does not do. */
export function isUnsupported(key: string, value: string): boolean {
  const when = UNSUPPORTED_WHEN.get(key);
  if (when !== undefined) return when(value);
  if (READ_KEYS.has(key)) return false;
  return !READ_PREFIXES.some((p) => key.startsWith(p));
}

/** Keys that QuorumPeerConfig consumes itself; every other key becomes a zookeeper.<key> property. */
export const QUORUM_PEER_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'dataDir',
  'dataLogDir',
  'clientPort',
  'localSessionsEnabled',
  'localSessionsUpgradingEnabled',
  'clientPortAddress',
  'secureClientPort',
  'secureClientPortAddress',
  'observerMasterPort',
  'clientPortListenBacklog',
  'tickTime',
  'maxClientCnxns',
  'minSessionTimeout',
  'maxSessionTimeout',
  'initLimit',
  'syncLimit',
  'connectToLearnerMasterLimit',
  'electionAlg',
  'quorumListenOnAllIPs',
  'peerType',
  'syncEnabled',
  'dynamicConfigFile',
  'autopurge.snapRetainCount',
  'autopurge.purgeInterval',
  'standaloneEnabled',
  'reconfigEnabled',
  'sslQuorum',
  'portUnification',
  'sslQuorumReloadCertFiles',
  'quorum.auth.enableSasl',
  'quorum.auth.serverRequireSasl',
  'quorum.auth.learnerRequireSasl',
  'quorum.auth.learner.saslLoginContext',
  'quorum.auth.server.saslLoginContext',
  'quorum.auth.kerberos.servicePrincipal',
  'quorum.cnxn.threads.size',
  'jvm.pause.info-threshold.ms',
  'jvm.pause.warn-threshold.ms',
  'jvm.pause.sleep.time.ms',
  'jvm.pause.monitor',
  'multiAddress.enabled',
  'multiAddress.reachabilityCheckTimeoutMs',
  'multiAddress.reachabilityCheckEnabled',
  'oraclePath',
]);

/** Whether ZooKeeper turns this key into a zookeeper.<key> system property. */
export function becomesProperty(key: string): boolean {
  return !QUORUM_PEER_CONFIG_KEYS.has(key) && !key.startsWith('metricsProvider.');
}
