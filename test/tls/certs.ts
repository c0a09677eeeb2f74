// certs.ts — a throwaway PKI for the TLS tests, made by the openssl command line in a temp dir:
// a CA, a second CA nobody trusts, server certificates for 127.0.0.1/localhost and for the wrong
// host, client certificates (good, a second good one, expired, from the untrusted CA, with and
// without the client's IP), and the stores the server reads: PEM (key + chain in one file, as
// ZooKeeper's PemReader wants) and PKCS#12, by OpenSSL and, when keytool is there, by the JDK.
// EC P-256 keys: quick to make.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const STORE_PASSWORD = 'changeit-42';

export function opensslMissing(): string | null {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0 ? null : 'the openssl command is not installed';
}

export function keytoolPresent(): boolean {
  return spawnSync('keytool', ['-help'], { stdio: 'ignore' }).status === 0;
}

export function run(cmd: string, args: string[], cwd: string, input?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

export interface Identity {
  /** The certificate alone (PEM). */
  cert: string;
  /** The PKCS#8 private key alone (PEM). */
  key: string;
  /** Key and certificate (+ CA) in one PEM file: a ZooKeeper PEM key store. */
  pem: string;
  /** PKCS#12 key store by OpenSSL, password STORE_PASSWORD. */
  p12: string;
}

export interface Pki {
  dir: string;
  ca: string; // CA certificate (PEM): a PEM trust store
  caP12: string; // trust store as PKCS#12 (keytool's when present, else OpenSSL's), STORE_PASSWORD
  otherCa: string; // a CA nobody trusts
  server: Identity; // CN=zkts-server, SAN localhost and 127.0.0.1
  wrongHost: Identity; // SAN wrong-host.invalid only
  alice: Identity; // CN=alice,OU=clients,O=zkts test,C=NL; SAN IP 127.0.0.1
  bob: Identity; // CN=bob,OU=clients,O=zkts test,C=NL; no SAN
  expired: Identity; // CN=expired (valid 2020-01-01 .. 2020-01-02)
  untrusted: Identity; // CN=mallory, signed by otherCa
  admin: Identity; // CN=admin: the super user in some tests
  /** The openssl ca config, for more certificates. */
  issue(name: string, subject: string, opts?: { san?: string; caName?: string; start?: string; end?: string }): Identity;
  cleanup(): void;
}

function newCa(dir: string, name: string, subject: string): void {
  run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], dir);
  run('openssl', ['req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.pem`, '-days', '30', '-subj', subject,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  writeFileSync(path.join(dir, `${name}.index`), '');
  // an even number of hex digits (openssl reads the serial file as hex bytes), not starting with 0
  writeFileSync(path.join(dir, `${name}.serial`), `1${randomBytes(8).toString('hex').slice(1)}\n`);
  writeFileSync(path.join(dir, `${name}.cnf`), [
    '[ca]', 'default_ca = this', '[this]', `dir = ${dir}`, `database = ${dir}/${name}.index`, `serial = ${dir}/${name}.serial`,
    `new_certs_dir = ${dir}`, `certificate = ${dir}/${name}.pem`, `private_key = ${dir}/${name}.key`, 'default_md = sha256',
    'policy = any', 'unique_subject = no', 'copy_extensions = copy', 'email_in_dn = no', 'utf8 = yes',
    '[any]', 'commonName = optional', 'organizationalUnitName = optional', 'organizationName = optional', 'countryName = optional',
    'localityName = optional', 'stateOrProvinceName = optional', 'emailAddress = optional', 'domainComponent = optional',
    '',
  ].join('\n'));
}

/** Makes the PKI; call cleanup() when done (a PKI that fails half-way removes itself). */
export function makePki(): Pki {
  const dir = mkdtempSync(path.join(tmpdir(), 'zkts-tls-'));
  try {
    return build(dir);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function build(dir: string): Pki {
  newCa(dir, 'ca', '/CN=zkts test CA/O=zkts test');
  newCa(dir, 'other-ca', '/CN=someone else CA/O=elsewhere');
  const file = (name: string): string => path.join(dir, name);
  const issue: Pki['issue'] = (name, subject, opts = {}) => {
    const caName = opts.caName ?? 'ca';
    run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], dir);
    const req = ['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', subject, '-utf8'];
    if (opts.san !== undefined) req.push('-addext', `subjectAltName=${opts.san}`);
    run('openssl', req, dir);
    const ca = ['ca', '-batch', '-config', `${caName}.cnf`, '-in', `${name}.csr`, '-out', `${name}.full.pem`, '-notext', '-preserveDN'];
    if (opts.start !== undefined && opts.end !== undefined) ca.push('-startdate', opts.start, '-enddate', opts.end);
    else ca.push('-days', '30');
    run('openssl', ca, dir);
    const cert = readFileSync(file(`${name}.full.pem`), 'utf8');
    writeFileSync(file(`${name}.cert.pem`), cert);
    const key = readFileSync(file(`${name}.key`), 'utf8');
    writeFileSync(file(`${name}.pem`), key + cert + readFileSync(file(`${caName}.pem`), 'utf8'));
    run('openssl', ['pkcs12', '-export', '-in', `${name}.cert.pem`, '-inkey', `${name}.key`, '-certfile', `${caName}.pem`,
      '-out', `${name}.p12`, '-passout', `pass:${STORE_PASSWORD}`, '-name', name], dir);
    return { cert: file(`${name}.cert.pem`), key: file(`${name}.key`), pem: file(`${name}.pem`), p12: file(`${name}.p12`) };
  };
  let caP12 = file('truststore.p12');
  if (keytoolPresent()) {
    run('keytool', ['-importcert', '-noprompt', '-alias', 'zkts-ca', '-file', 'ca.pem', '-keystore', 'truststore.p12',
      '-storetype', 'PKCS12', '-storepass', STORE_PASSWORD], dir);
  } else {
    caP12 = file('truststore-openssl.p12');
    run('openssl', ['pkcs12', '-export', '-nokeys', '-in', 'ca.pem', '-out', 'truststore-openssl.p12', '-passout', `pass:${STORE_PASSWORD}`], dir);
  }
  return {
    dir,
    ca: file('ca.pem'),
    caP12,
    otherCa: file('other-ca.pem'),
    server: issue('server', '/CN=zkts-server/O=zkts test', { san: 'DNS:localhost,IP:127.0.0.1' }),
    wrongHost: issue('wrong-host', '/CN=wrong-host.invalid/O=zkts test', { san: 'DNS:wrong-host.invalid' }),
    alice: issue('alice', '/C=NL/O=zkts test/OU=clients/CN=alice', { san: 'IP:127.0.0.1' }),
    bob: issue('bob', '/C=NL/O=zkts test/OU=clients/CN=bob'),
    expired: issue('expired', '/O=zkts test/CN=expired', { start: '20200101000000Z', end: '20200102000000Z' }),
    untrusted: issue('mallory', '/O=elsewhere/CN=mallory', { caName: 'other-ca' }),
    admin: issue('admin', '/O=zkts test/CN=admin'),
    issue,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
