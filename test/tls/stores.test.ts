// stores.test.ts — ssl.keyStore / ssl.trustStore files as zkts reads them, against files made by
// the tools operators use: openssl (PEM, PKCS#12 with PBES2/AES and with the older SHA1-3DES
// scheme, empty password) and keytool (PKCS#12 key and trust stores, JKS). The type comes from
// ssl.*.type or else the extension, exactly as ZooKeeper's KeyStoreFileType; JKS is refused with
// the keytool command that converts it; a wrong password says so.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ZktsError } from '../../src/errors.js';
import { pkcs12Kdf, readPkcs12 } from '../../src/server/tls-pkcs12.js';
import { loadKeyStore, loadTrustStore, storeType, type StoreSpec } from '../../src/server/tls-stores.js';
import { tlsSettings } from '../../src/server/tls-config.js';
import { keytoolPresent, makePki, opensslMissing, type Pki, run, STORE_PASSWORD } from './certs.js';

const KS = 'zookeeper.ssl.keyStore';
const TS = 'zookeeper.ssl.trustStore';

function spec(property: string, location: string, extra: Partial<StoreSpec> = {}): StoreSpec {
  return { property, location, password: '', ...extra };
}

function configError(pattern: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof ZktsError && e.code === 'ZKTS_ERR_CONFIG' && pattern.test(e.message);
}

describe('store types (KeyStoreFileType.fromPropertyValueOrFileName)', () => {
  it('goes by ssl.*.type in any case, else by the exact extension', () => {
    assert.equal(storeType(spec(KS, '/x/a.pem')), 'PEM');
    assert.equal(storeType(spec(KS, '/x/a.p12')), 'PKCS12');
    assert.equal(storeType(spec(KS, '/x/a.jks')), 'JKS');
    assert.equal(storeType(spec(KS, '/x/a.bcfks')), 'BCFKS');
    assert.equal(storeType(spec(KS, '/x/a.p12', { type: 'pem' })), 'PEM');
    assert.equal(storeType(spec(KS, '/x/a.bin', { type: 'PKCS12' })), 'PKCS12');
    assert.equal(storeType(spec(KS, '/x/a.pem', { type: '' })), 'PEM', 'an empty type means "by file name"');
    for (const name of ['/x/a.PEM', '/x/a.pfx', '/x/a.crt', '/x/noext']) {
      assert.throws(() => storeType(spec(KS, name)), configError(/cannot tell the store type from the file name.*set zookeeper\.ssl\.keyStore\.type/));
    }
    assert.throws(() => storeType(spec(TS, '/x/a.pem', { type: 'DER' })), configError(/zookeeper\.ssl\.trustStore\.type=DER: not a store type/));
  });
});

describe('key and trust stores', { skip: opensslMissing() ?? false }, () => {
  let pki: Pki;
  let serverCert: X509Certificate;
  before(() => {
    pki = makePki();
    serverCert = new X509Certificate(readFileSync(pki.server.cert));
  });
  after(() => pki?.cleanup());
  const file = (name: string): string => path.join(pki.dir, name);

  it('PEM key store: key and chain from one file, leaf first', () => {
    const km = loadKeyStore(spec(KS, pki.server.pem));
    assert.equal(km.leaf.fingerprint256, serverCert.fingerprint256);
    assert.equal(km.certChain.length, 2, 'leaf and CA');
    assert.ok(km.leaf.checkPrivateKey(km.key));
  });

  it('PEM key store with an encrypted PKCS#8 key and ssl.keyStore.password (or passwordPath)', () => {
    run('openssl', ['pkcs8', '-topk8', '-in', pki.server.key, '-out', 'enc.key', '-passout', `pass:${STORE_PASSWORD}`, '-v2', 'aes-256-cbc'], pki.dir);
    writeFileSync(file('enc.pem'), readFileSync(file('enc.key'), 'utf8') + readFileSync(pki.server.cert, 'utf8'));
    const km = loadKeyStore(spec(KS, file('enc.pem'), { password: STORE_PASSWORD }));
    assert.ok(km.leaf.checkPrivateKey(km.key));
    assert.throws(() => loadKeyStore(spec(KS, file('enc.pem'), { password: 'nope' })), configError(/private key cannot be read.*check zookeeper\.ssl\.keyStore\.password/));
    // passwordPath wins over password; one trailing newline is not part of it
    writeFileSync(file('pw.txt'), `${STORE_PASSWORD}\n`);
    const s = tlsSettings({
      secureClientPort: 0,
      properties: new Map([
        [`${KS}.location`, file('enc.pem')],
        [`${KS}.password`, 'wrong'],
        [`${KS}.passwordPath`, file('pw.txt')],
      ]),
    });
    assert.equal(s?.keyStore.password, STORE_PASSWORD);
    assert.ok(loadKeyStore(s!.keyStore).leaf.checkPrivateKey(loadKeyStore(s!.keyStore).key));
  });

  it('PEM stores that hold no key, or no certificate, are refused saying so', () => {
    assert.throws(() => loadKeyStore(spec(KS, pki.ca)), configError(/holds no private key/));
    assert.throws(() => loadKeyStore(spec(KS, pki.server.key, { type: 'PEM' })), configError(/holds no certificate/));
    assert.throws(() => loadTrustStore(spec(TS, pki.server.key, { type: 'PEM' })), configError(/holds no certificates to trust/));
    assert.throws(() => loadKeyStore(spec(KS, file('missing.pem'))), configError(/missing\.pem: cannot read the file/));
  });

  it('PEM trust store: every certificate in the file', () => {
    writeFileSync(file('two-cas.pem'), readFileSync(pki.ca, 'utf8') + readFileSync(pki.otherCa, 'utf8'));
    const cas = loadTrustStore(spec(TS, file('two-cas.pem'))).map((p) => new X509Certificate(p).subject);
    assert.deepEqual(cas, [new X509Certificate(readFileSync(pki.ca)).subject, new X509Certificate(readFileSync(pki.otherCa)).subject]);
  });

  it('PKCS#12 key stores by OpenSSL: PBES2/AES (the default), SHA1-3DES, empty password', () => {
    run('openssl', ['pkcs12', '-export', '-in', pki.server.cert, '-inkey', pki.server.key, '-certfile', pki.ca, '-out', 'des.p12',
      '-passout', `pass:${STORE_PASSWORD}`, '-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'], pki.dir);
    run('openssl', ['pkcs12', '-export', '-in', pki.server.cert, '-inkey', pki.server.key, '-out', 'nopass.p12', '-passout', 'pass:'], pki.dir);
    for (const [location, password] of [[pki.server.p12, STORE_PASSWORD], [file('des.p12'), STORE_PASSWORD], [file('nopass.p12'), '']] as const) {
      const km = loadKeyStore(spec(KS, location, { password }));
      assert.equal(km.leaf.fingerprint256, serverCert.fingerprint256, location);
      assert.ok(km.leaf.checkPrivateKey(km.key));
    }
    assert.equal(loadKeyStore(spec(KS, pki.server.p12, { password: STORE_PASSWORD })).certChain.length, 2, 'leaf and CA');
  });

  it('PKCS#12 with the wrong password: the integrity check says so', () => {
    assert.throws(() => loadKeyStore(spec(KS, pki.server.p12, { password: 'wrong' })), configError(/wrong password.*check zookeeper\.ssl\.keyStore\.password/));
    assert.throws(() => readPkcs12(readFileSync(pki.server.p12), 'wrong'), /integrity check failed: wrong password/);
  });

  it('PKCS#12 encrypted with RC2 (openssl -legacy) is refused with what to do, not a crash', () => {
    const r = run('openssl', ['version'], pki.dir);
    if (!/OpenSSL 3/.test(r)) return; // -legacy is OpenSSL 3's
    try {
      run('openssl', ['pkcs12', '-export', '-legacy', '-in', pki.server.cert, '-inkey', pki.server.key, '-out', 'legacy.p12', '-passout', `pass:${STORE_PASSWORD}`], pki.dir);
    } catch {
      return; // this openssl has no legacy provider either
    }
    let message = '';
    try {
      loadKeyStore(spec(KS, file('legacy.p12'), { password: STORE_PASSWORD }));
      return; // this Node's OpenSSL still has RC2: nothing to refuse
    } catch (e) {
      message = (e as Error).message;
    }
    assert.match(message, /rc2-40-cbc.*re-create it with AES/);
  });

  it('keytool\'s PKCS#12 key store and trust-only PKCS#12 trust store', { skip: keytoolPresent() ? false : 'keytool is not installed' }, () => {
    run('keytool', ['-importkeystore', '-noprompt', '-srckeystore', pki.server.p12, '-srcstoretype', 'PKCS12', '-srcstorepass', STORE_PASSWORD,
      '-destkeystore', 'java-ks.p12', '-deststoretype', 'PKCS12', '-deststorepass', STORE_PASSWORD], pki.dir);
    const km = loadKeyStore(spec(KS, file('java-ks.p12'), { password: STORE_PASSWORD }));
    assert.equal(km.leaf.fingerprint256, serverCert.fingerprint256);
    const cas = loadTrustStore(spec(TS, pki.caP12, { password: STORE_PASSWORD }));
    assert.deepEqual(cas.map((p) => new X509Certificate(p).fingerprint256), [new X509Certificate(readFileSync(pki.ca)).fingerprint256]);
  });

  it('JKS (by extension or type) is refused with the keytool command that converts it', { skip: keytoolPresent() ? false : 'keytool is not installed' }, () => {
    run('keytool', ['-importcert', '-noprompt', '-alias', 'ca', '-file', pki.ca, '-keystore', 'trust.jks', '-storetype', 'JKS', '-storepass', STORE_PASSWORD], pki.dir);
    const jks = file('trust.jks');
    assert.throws(
      () => loadTrustStore(spec(TS, jks, { password: STORE_PASSWORD })),
      configError(new RegExp(`is a JKS store.*keytool -importkeystore -srckeystore ${jks.replace(/[.]/g, '\\.')} -srcstoretype JKS -destkeystore .*trust\\.p12 -deststoretype PKCS12`)),
    );
    copyFileSync(jks, file('trust.store'));
    assert.throws(() => loadTrustStore(spec(TS, file('trust.store'), { type: 'jks' })), configError(/is a JKS store/));
    // and the command it names works: the converted store loads
    run('keytool', ['-importkeystore', '-noprompt', '-srckeystore', jks, '-srcstoretype', 'JKS', '-srcstorepass', STORE_PASSWORD,
      '-destkeystore', file('trust.p12'), '-deststoretype', 'PKCS12', '-deststorepass', STORE_PASSWORD], pki.dir);
    assert.equal(loadTrustStore(spec(TS, file('trust.p12'), { password: STORE_PASSWORD })).length, 1);
  });
});

describe('the PKCS#12 key derivation (RFC 7292 B.2)', { skip: opensslMissing() ?? false }, () => {
  it('agrees with openssl kdf PKCS12KDF', (t) => {
    const cases: Array<{ digest: string; block: number; pass: string; salt: string; id: number; iter: number; len: number }> = [
      { digest: 'SHA1', block: 64, pass: 'smeg', salt: '0A58CF64530D823F', id: 1, iter: 1, len: 24 },
      { digest: 'SHA1', block: 64, pass: 'queeg', salt: '05DEC959ACFF72F7', id: 2, iter: 1000, len: 8 },
      { digest: 'SHA256', block: 64, pass: STORE_PASSWORD, salt: '0102030405060708', id: 3, iter: 2048, len: 32 },
      { digest: 'SHA512', block: 128, pass: 'a much longer password than one hash block holds, in UTF-16', salt: 'ffeeddccbbaa99887766554433221100', id: 1, iter: 3, len: 100 },
    ];
    for (const c of cases) {
      // the password as PKCS#12 hashes it: BMPString (UTF-16BE) with a two-byte terminator; openssl
      // kdf takes the bytes as given, so it gets them in hex
      const bmp = Buffer.concat([Buffer.from(c.pass, 'utf16le').swap16(), Buffer.alloc(2)]);
      let out: string;
      try {
        out = run('openssl', ['kdf', '-keylen', String(c.len), '-kdfopt', `digest:${c.digest}`, '-kdfopt', `hexpass:${bmp.toString('hex')}`,
          '-kdfopt', `hexsalt:${c.salt}`, '-kdfopt', `id:${c.id}`, '-kdfopt', `iter:${c.iter}`, 'PKCS12KDF'], process.cwd());
      } catch {
        t.skip('this openssl has no kdf command (OpenSSL 3 has)');
        return;
      }
      const mine = pkcs12Kdf(c.digest.toLowerCase(), c.block, bmp, Buffer.from(c.salt, 'hex'), c.id, c.iter, c.len);
      assert.equal(mine.toString('hex').toUpperCase(), out.trim().replace(/[:\s]/g, ''), JSON.stringify(c));
    }
  });
});
