// tls-stores.ts — ZooKeeper's ssl.keyStore.* and ssl.trustStore.* files, read into what Node's
// TLS takes (PEM key, certificate chain, trusted CAs). The store type is ssl.*.type when set
// (JKS, PEM, PKCS12, BCFKS; any case), else the file name's extension decides (.jks, .pem, .p12,
// .bcfks; exactly as KeyStoreFileType.fromFilename, so ".PEM" or ".pfx" needs the type set).
// PEM as ZooKeeper's PemReader reads it: a key store is one file holding a PKCS#8 private key
// (encrypted when a password is set) and its certificate chain; a trust store, certificates.
// JKS and BCFKS are Java formats Node cannot read: the operator is told how to convert.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ZktsError } from '../errors.js';
import { Pkcs12Error, readPkcs12 } from './tls-pkcs12.js';

export type StoreType = 'PEM' | 'PKCS12' | 'JKS' | 'BCFKS';

export interface StoreSpec {
  /** The property prefix for messages: "zookeeper.ssl.keyStore" or "zookeeper.ssl.trustStore". */
  property: string;
  location: string;
  password: string;
  /** ssl.*.type as configured, or undefined to go by the file name. */
  type?: string;
}

export interface KeyMaterial {
  key: KeyObject;
  /** The certificate chain in PEM, leaf first. */
  certChain: string[];
  /** The leaf certificate (for logs and expiry checks). */
  leaf: X509Certificate;
}

const EXTENSIONS: ReadonlyArray<[string, StoreType]> = [
  ['.jks', 'JKS'],
  ['.pem', 'PEM'],
  ['.p12', 'PKCS12'],
  ['.bcfks', 'BCFKS'],
];

function fail(spec: StoreSpec, what: string, cause?: unknown): never {
  throw new ZktsError('ZKTS_ERR_CONFIG', `${spec.property}.location=${spec.location}: ${what}`, cause === undefined ? undefined : { cause });
}

/** KeyStoreFileType.fromPropertyValueOrFileName. */
export function storeType(spec: StoreSpec): StoreType {
  if (spec.type !== undefined && spec.type !== '') {
    const t = spec.type.toUpperCase();
    if (t === 'PEM' || t === 'PKCS12' || t === 'JKS' || t === 'BCFKS') return t;
    throw new ZktsError('ZKTS_ERR_CONFIG', `${spec.property}.type=${spec.type}: not a store type; use PEM or PKCS12 (JKS and BCFKS must be converted)`);
  }
  const dot = spec.location.lastIndexOf('.');
  const ext = dot < 0 ? '' : spec.location.slice(dot);
  const found = EXTENSIONS.find(([e]) => e === ext);
  if (found === undefined) {
    fail(spec, `cannot tell the store type from the file name (.pem, .p12, .jks); set ${spec.property}.type=PEM or PKCS12`);
  }
  return found[1];
}

function readStoreFile(spec: StoreSpec): Buffer {
  try {
    return readFileSync(spec.location);
  } catch (e) {
    return fail(spec, `cannot read the file: ${(e as Error).message}`, e);
  }
}

function refuseJavaFormat(spec: StoreSpec, type: 'JKS' | 'BCFKS'): never {
  const to = spec.location.replace(/\.(jks|bcfks)$/i, '') + '.p12';
  const bc = type === 'BCFKS' ? ' -srcprovidername BCFIPS' : '';
  return fail(
    spec,
    `is a ${type} store, a Java format zkts (Node's TLS) cannot read; convert it to PKCS12 with ` +
      `keytool -importkeystore -srckeystore ${spec.location} -srcstoretype ${type}${bc} -destkeystore ${to} -deststoretype PKCS12 ` +
      `and set ${spec.property}.location=${to} (and ${spec.property}.type=PKCS12 or leave the type unset)`,
  );
}

const CERT_BLOCK = /-+BEGIN\s+[^-]*CERTIFICATE[^-]*-+([A-Za-z0-9+/=\s]+)-+END\s+[^-]*CERTIFICATE[^-]*-+/g;
const KEY_BLOCK = /-+BEGIN\s+[^-]*PRIVATE\s+KEY[^-]*-+[\s\S]*?-+END\s+[^-]*PRIVATE\s+KEY[^-]*-+/;

function toPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

function certificate(spec: StoreSpec, der: Buffer): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (e) {
    return fail(spec, `holds a certificate that cannot be read: ${(e as Error).message}`, e);
  }
}

/** The certificates of a PEM file, as PemReader.readCertificateChain finds them. */
function pemCertificates(spec: StoreSpec, text: string): X509Certificate[] {
  return [...text.matchAll(CERT_BLOCK)].map((m) => certificate(spec, Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
}

function pkcs12(spec: StoreSpec, file: Buffer): ReturnType<typeof readPkcs12> {
  try {
    return readPkcs12(file, spec.password);
  } catch (e) {
    if (e instanceof Pkcs12Error) fail(spec, `${e.message}; check ${spec.property}.password`, e);
    throw e;
  }
}

/** The server's key and certificate chain from ssl.keyStore.*. */
export function loadKeyStore(spec: StoreSpec): KeyMaterial {
  const type = storeType(spec);
  if (type === 'JKS' || type === 'BCFKS') refuseJavaFormat(spec, type);
  const file = readStoreFile(spec);
  if (type === 'PEM') {
    const text = file.toString('latin1');
    const keyPem = KEY_BLOCK.exec(text)?.[0];
    if (keyPem === undefined) fail(spec, 'holds no private key (-----BEGIN PRIVATE KEY-----); a PEM key store has the key and the certificate chain in one file');
    let key: KeyObject;
    try {
      key = createPrivateKey(spec.password === '' ? { key: keyPem, format: 'pem' } : { key: keyPem, format: 'pem', passphrase: spec.password });
    } catch (e) {
      return fail(spec, `the private key cannot be read (${(e as Error).message}); check ${spec.property}.password`, e);
    }
    const chain = pemCertificates(spec, text);
    if (chain.length === 0) fail(spec, 'holds no certificate; a PEM key store has the key and the certificate chain in one file');
    return { key, certChain: chain.map((c) => toPem(c.raw)), leaf: chain[0]! };
  }
  const p12 = pkcs12(spec, file);
  const entry = p12.keys[0];
  if (entry === undefined) fail(spec, 'holds no private key; a key store needs the server\'s key and certificate');
  if (p12.keys.length > 1) fail(spec, `holds ${p12.keys.length} private keys; zkts needs exactly one in the key store`);
  // The leaf is the certificate that belongs to the key (same localKeyId, or else the key
  // matches); the rest of the store is its chain.
  const certs = p12.certs.map((c) => ({ ...c, x509: certificate(spec, c.der) }));
  const leafIndex = certs.findIndex((c) =>
    entry.localKeyId !== null && c.localKeyId !== null ? c.localKeyId.equals(entry.localKeyId) : c.x509.checkPrivateKey(entry.key),
  );
  if (leafIndex < 0) fail(spec, 'holds a private key without its certificate');
  const leaf = certs[leafIndex]!;
  const rest = certs.filter((_, i) => i !== leafIndex);
  return { key: entry.key, certChain: [toPem(leaf.der), ...rest.map((c) => toPem(c.der))], leaf: leaf.x509 };
}

/** The trusted certificates (PEM) from ssl.trustStore.*. */
export function loadTrustStore(spec: StoreSpec): string[] {
  const type = storeType(spec);
  if (type === 'JKS' || type === 'BCFKS') refuseJavaFormat(spec, type);
  const file = readStoreFile(spec);
  const certs = type === 'PEM' ? pemCertificates(spec, file.toString('latin1')).map((c) => c.raw) : pkcs12(spec, file).certs.map((c) => c.der);
  if (certs.length === 0) fail(spec, 'holds no certificates to trust');
  return certs.map(toPem);
}
