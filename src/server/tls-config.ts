// tls-config.ts — the client TLS settings from zoo.cfg and -D properties, read as ZooKeeper 3.9's
// ClientX509Util and NettyServerCnxnFactory read them (every key below is a zookeeper.* property;
// in zoo.cfg without the prefix). What Node's TLS cannot express the same way is said here:
// - ssl.enabledProtocols: Node enables a range of versions, so the list must be contiguous;
//   unset, it is ssl.protocol and below down to TLSv1.2 (TLSv1.3 → TLSv1.3 and TLSv1.2, as
//   ZooKeeper's documentation says; ZooKeeper 3.9's Netty server itself enables ssl.protocol only);
// - ssl.ciphersuites: Java (IANA) names, translated to OpenSSL's; unset, ZooKeeper's Java 9+ list;
// - ssl.hostnameVerification / ssl.clientHostnameVerification (3.9.4): a server checks a client
//   certificate against the client's address only when both are true (default false for the
//   client port), by IP address only: zkts never resolves an address to a name to match a
//   certificate (CVE-2026-24281), so ssl.allowReverseDnsLookup=true is reported as unsupported;
// - client.certReload: the stores are always watched and reloaded on change; ZooKeeper's Netty
//   server reads them for every new connection, so a changed file takes effect either way.
import type { SecureVersion } from 'node:tls';
import { getCiphers } from 'node:tls';
import { readFileSync } from 'node:fs';
import { ZktsError } from '../errors.js';
import { javaParseBoolean } from './config-parse.js';
import type { StoreSpec } from './tls-stores.js';

export type ClientAuth = 'need' | 'want' | 'none';

export interface TlsSettings {
  /** secureClientPort, when set: a listener that speaks only TLS. */
  secureClientPort?: number;
  /** secureClientPortAddress, or all interfaces. */
  secureHost: string;
  /** client.portUnification: the plain client port also accepts TLS (first byte 0x16). */
  portUnification: boolean;
  keyStore: StoreSpec;
  trustStore?: StoreSpec;
  clientAuth: ClientAuth;
  /** ssl.hostnameVerification && ssl.clientHostnameVerification: client certificates must name the client's IP. */
  verifyClientAddress: boolean;
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  /** OpenSSL cipher list (TLS 1.2 and 1.3 names). */
  ciphers: string;
  /** zookeeper.X509AuthenticationProvider.superUser. */
  superUser?: string;
  /** How long a TLS handshake may take before the socket is dropped (Netty's SslHandler: 10 s). */
  handshakeTimeoutMs: number;
}

/** ZooKeeper's default cipher suites on Java 9 and later (X509Util): GCM, then CBC, then TLS 1.3. */
export const DEFAULT_CIPHER_SUITES: readonly string[] = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384',
  'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  'TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256',
];

const TLS13_SUITES = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256']);
const KEY_EXCHANGES: Record<string, string> = { ECDHE_ECDSA: 'ECDHE-ECDSA-', ECDHE_RSA: 'ECDHE-RSA-', DHE_RSA: 'DHE-RSA-', DHE_DSS: 'DHE-DSS-', RSA: '' };

/** A Java/IANA cipher suite name as OpenSSL names it, or undefined when there is no such mapping. */
export function openSslCipherName(iana: string): string | undefined {
  if (TLS13_SUITES.has(iana)) return iana;
  const m = /^TLS_(ECDHE_ECDSA|ECDHE_RSA|DHE_RSA|DHE_DSS|RSA)_WITH_(AES_128|AES_256|CHACHA20_POLY1305|3DES_EDE)(?:_(GCM|CBC))?_(SHA|SHA256|SHA384)$/.exec(iana);
  if (m === null) return undefined;
  const [, kx, enc, mode, mac] = m as unknown as [string, string, string, string | undefined, string];
  const prefix = KEY_EXCHANGES[kx]!;
  if (enc === 'CHACHA20_POLY1305') return mode === undefined && mac === 'SHA256' ? `${prefix}CHACHA20-POLY1305` : undefined;
  if (enc === '3DES_EDE') return mode === 'CBC' && mac === 'SHA' ? (kx === 'RSA' ? 'DES-CBC3-SHA' : `${prefix}DES-CBC3-SHA`) : undefined;
  const bits = enc === 'AES_128' ? 'AES128' : 'AES256';
  if (mode === 'GCM') return mac === 'SHA' ? undefined : `${prefix}${bits}-GCM-${mac}`;
  if (mode === 'CBC') return `${prefix}${bits}-${mac}`;
  return undefined;
}

/** ssl.ciphersuites (comma-separated Java names) as an OpenSSL cipher list. */
export function cipherList(value: string | undefined): string {
  const names = value === undefined ? DEFAULT_CIPHER_SUITES : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const known = new Set(getCiphers().map((c) => c.toUpperCase()));
  const out: string[] = [];
  for (const name of names) {
    const openssl = openSslCipherName(name);
    const available = openssl !== undefined && (TLS13_SUITES.has(openssl) || known.has(openssl.toUpperCase()));
    if (available) out.push(openssl);
    else if (value !== undefined) {
      throw new ZktsError('ZKTS_ERR_CONFIG', `zookeeper.ssl.ciphersuites: ${name} is not a cipher suite this server's TLS offers; use IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or TLS_AES_128_GCM_SHA256`);
    }
  }
  if (out.length === 0) throw new ZktsError('ZKTS_ERR_CONFIG', 'zookeeper.ssl.ciphersuites: no usable cipher suite');
  return out.join(':');
}

const VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

function version(name: string, key: string): SecureVersion {
  const v = VERSIONS.find((x) => x === name.trim());
  if (v === undefined) throw new ZktsError('ZKTS_ERR_CONFIG', `${key}: "${name}" is not a TLS version zkts offers (TLSv1.2, TLSv1.3, or TLSv1/TLSv1.1)`);
  return v;
}

/** ssl.enabledProtocols, or the versions ssl.protocol implies, as Node's version range. */
export function protocolRange(enabled: string | undefined, protocol: string | undefined): { minVersion: SecureVersion; maxVersion: SecureVersion } {
  if (enabled !== undefined) {
    const list = enabled.split(',').filter((s) => s.trim() !== '').map((s) => version(s, 'zookeeper.ssl.enabledProtocols'));
    if (list.length === 0) throw new ZktsError('ZKTS_ERR_CONFIG', 'zookeeper.ssl.enabledProtocols: empty');
    const idx = [...new Set(list.map((v) => VERSIONS.indexOf(v)))].sort((a, b) => a - b);
    if (idx[idx.length - 1]! - idx[0]! + 1 !== idx.length) {
      throw new ZktsError('ZKTS_ERR_CONFIG', `zookeeper.ssl.enabledProtocols=${enabled}: zkts enables a contiguous range of TLS versions; list every version between the lowest and the highest`);
    }
    return { minVersion: VERSIONS[idx[0]!]!, maxVersion: VERSIONS[idx[idx.length - 1]!]! };
  }
  const p = protocol === undefined || protocol.trim() === 'TLS' ? 'TLSv1.3' : protocol;
  const max = version(p, 'zookeeper.ssl.protocol');
  return { minVersion: max === 'TLSv1.3' ? 'TLSv1.2' : max, maxVersion: max };
}

function clientAuth(value: string | undefined): ClientAuth {
  if (value === undefined || value === '') return 'need';
  const v = value.toLowerCase();
  if (v === 'need' || v === 'want' || v === 'none') return v;
  throw new ZktsError('ZKTS_ERR_CONFIG', `zookeeper.ssl.clientAuth=${value}: use need (the default), want or none`);
}

/** X509Util.getPasswordFromConfigPropertyOrFile: the file wins; one trailing line separator is dropped. */
function password(props: ReadonlyMap<string, string>, prefix: string): string {
  const path = props.get(`${prefix}.passwordPath`);
  if (path === undefined || path === '') return props.get(`${prefix}.password`) ?? '';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ZktsError('ZKTS_ERR_CONFIG', `${prefix}.passwordPath=${path}: cannot read the password file: ${(e as Error).message}`, { cause: e });
  }
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

function store(props: ReadonlyMap<string, string>, prefix: string): StoreSpec | undefined {
  const location = props.get(`${prefix}.location`) ?? '';
  if (location === '') return undefined;
  const type = props.get(`${prefix}.type`);
  return { property: prefix, location, password: password(props, prefix), ...(type === undefined ? {} : { type }) };
}

export interface TlsConfigInput {
  secureClientPort?: number;
  secureClientPortAddress?: string;
  /** Every zookeeper.* property (ServerConfig.properties). */
  properties: ReadonlyMap<string, string>;
}

/** The TLS settings, or undefined when neither secureClientPort nor client.portUnification asks for TLS. */
export function tlsSettings(cfg: TlsConfigInput): TlsSettings | undefined {
  const p = cfg.properties;
  const portUnification = javaParseBoolean(p.get('zookeeper.client.portUnification'));
  if (cfg.secureClientPort === undefined && !portUnification) return undefined;
  const keyStore = store(p, 'zookeeper.ssl.keyStore');
  if (keyStore === undefined) {
    throw new ZktsError('ZKTS_ERR_CONFIG', `${cfg.secureClientPort !== undefined ? 'secureClientPort' : 'client.portUnification'} needs a key store: set ssl.keyStore.location (a .pem with key and certificate chain, or a .p12) and ssl.keyStore.password`);
  }
  const authProvider = p.get('zookeeper.ssl.authProvider');
  if (authProvider !== undefined && authProvider !== 'x509') {
    throw new ZktsError('ZKTS_ERR_UNSUPPORTED', `zookeeper.ssl.authProvider=${authProvider}: zkts authenticates TLS clients with the built-in x509 scheme only; remove the key or set it to x509`);
  }
  const hostnameVerification = (p.get('zookeeper.ssl.hostnameVerification') ?? 'true').trim().toLowerCase() === 'true';
  const clientHostnameVerification = (p.get('zookeeper.ssl.clientHostnameVerification') ?? 'false').trim().toLowerCase() === 'true';
  const superUser = p.get('zookeeper.X509AuthenticationProvider.superUser');
  const trustStore = store(p, 'zookeeper.ssl.trustStore');
  return {
    ...(cfg.secureClientPort === undefined ? {} : { secureClientPort: cfg.secureClientPort }),
    secureHost: cfg.secureClientPortAddress ?? '0.0.0.0',
    portUnification,
    keyStore,
    ...(trustStore === undefined ? {} : { trustStore }),
    clientAuth: clientAuth(p.get('zookeeper.ssl.clientAuth')),
    verifyClientAddress: hostnameVerification && clientHostnameVerification,
    ...protocolRange(p.get('zookeeper.ssl.enabledProtocols'), p.get('zookeeper.ssl.protocol')),
    ciphers: cipherList(p.get('zookeeper.ssl.ciphersuites')),
    ...(superUser === undefined ? {} : { superUser }),
    handshakeTimeoutMs: 10_000,
  };
}

// ---- the AdminServer ---------------------------------------------------------------------------

/** HTTPS for the AdminServer (JettyAdminServer): admin.forceHttps or admin.portUnification. */
export interface AdminTlsSettings {
  /** admin.forceHttps: HTTPS only; else admin.portUnification: HTTP and HTTPS on the one port. */
  forceHttps: boolean;
  /** admin.needClientAuth: a trusted client certificate is required (default false). */
  needClientAuth: boolean;
  /** ssl.quorum.keyStore.*: JettyAdminServer reads the quorum stores (QuorumX509Util), not ssl.*. */
  keyStore: StoreSpec;
  trustStore?: StoreSpec;
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
}

/** The AdminServer's HTTPS settings, or undefined for plain HTTP (ZooKeeper's default). */
export function adminTlsSettings(properties: ReadonlyMap<string, string>): AdminTlsSettings | undefined {
  const bool = (key: string): boolean => javaParseBoolean(properties.get(`zookeeper.${key}`));
  const forceHttps = bool('admin.forceHttps');
  if (!forceHttps && !bool('admin.portUnification')) return undefined;
  const keyStore = store(properties, 'zookeeper.ssl.quorum.keyStore');
  if (keyStore === undefined) {
    throw new ZktsError('ZKTS_ERR_CONFIG', `admin.${forceHttps ? 'forceHttps' : 'portUnification'}=true needs the AdminServer's key store: set ssl.quorum.keyStore.location and ssl.quorum.keyStore.password (JettyAdminServer uses the quorum stores)`);
  }
  const trustStore = store(properties, 'zookeeper.ssl.quorum.trustStore');
  return {
    forceHttps,
    needClientAuth: bool('admin.needClientAuth'),
    keyStore,
    ...(trustStore === undefined ? {} : { trustStore }),
    ...protocolRange(properties.get('zookeeper.ssl.quorum.enabledProtocols'), properties.get('zookeeper.ssl.quorum.protocol')),
  };
}
