// tls-config.test.ts — the zookeeper.ssl.* / client.* keys as tls-config.ts reads them: when TLS
// is on at all, the defaults ZooKeeper 3.9 has (clientAuth need, hostname checks of clients off),
// versions from ssl.protocol / ssl.enabledProtocols, Java cipher suite names translated to
// OpenSSL's (checked against `openssl ciphers -stdname`, OpenSSL's own table of both names), and
// the messages for what cannot be done.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ZktsError } from '../../src/errors.js';
import { DEFAULT_CIPHER_SUITES, adminTlsSettings, cipherList, openSslCipherName, protocolRange, tlsSettings } from '../../src/server/tls-config.js';
import { parseConfig } from '../../src/server/config.js';

const props = (o: Record<string, string>): Map<string, string> => new Map(Object.entries(o).map(([k, v]) => [`zookeeper.${k}`, v]));
const KEY = { 'ssl.keyStore.location': '/k.pem' };

function fails(code: string, pattern: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof ZktsError && e.code === code && pattern.test(e.message);
}

describe('TLS settings', () => {
  it('are off without secureClientPort or client.portUnification', () => {
    assert.equal(tlsSettings({ properties: props(KEY) }), undefined);
    assert.equal(tlsSettings({ properties: props({ ...KEY, 'client.portUnification': 'false' }) }), undefined);
    assert.ok(tlsSettings({ properties: props({ ...KEY, 'client.portUnification': 'TRUE' }) })?.portUnification);
  });

  it('have ZooKeeper\'s defaults', () => {
    const s = tlsSettings({ secureClientPort: 2281, properties: props(KEY) })!;
    assert.equal(s.secureClientPort, 2281);
    assert.equal(s.secureHost, '0.0.0.0');
    assert.equal(s.clientAuth, 'need');
    assert.equal(s.verifyClientAddress, false, 'ssl.clientHostnameVerification is false for the client port');
    assert.equal(s.trustStore, undefined);
    assert.equal(s.portUnification, false);
    assert.deepEqual([s.minVersion, s.maxVersion], ['TLSv1.2', 'TLSv1.3']);
    assert.equal(s.handshakeTimeoutMs, 10_000);
  });

  it('read clientAuth, client address checks, the super user and both stores', () => {
    const s = tlsSettings({
      secureClientPort: 2281,
      secureClientPortAddress: '127.0.0.1',
      properties: props({
        ...KEY, 'ssl.keyStore.password': 'kp', 'ssl.keyStore.type': 'PEM', 'ssl.trustStore.location': '/t.p12', 'ssl.trustStore.password': 'tp',
        'ssl.clientAuth': 'WANT', 'ssl.clientHostnameVerification': 'true', 'X509AuthenticationProvider.superUser': 'CN=root',
      }),
    })!;
    assert.equal(s.secureHost, '127.0.0.1');
    assert.equal(s.clientAuth, 'want');
    assert.equal(s.verifyClientAddress, true);
    assert.equal(s.superUser, 'CN=root');
    assert.deepEqual(s.keyStore, { property: 'zookeeper.ssl.keyStore', location: '/k.pem', password: 'kp', type: 'PEM' });
    assert.deepEqual(s.trustStore, { property: 'zookeeper.ssl.trustStore', location: '/t.p12', password: 'tp' });
    const off = tlsSettings({ secureClientPort: 1, properties: props({ ...KEY, 'ssl.clientHostnameVerification': 'true', 'ssl.hostnameVerification': 'false' }) })!;
    assert.equal(off.verifyClientAddress, false, 'needs ssl.hostnameVerification too');
    assert.equal(tlsSettings({ secureClientPort: 1, properties: props({ ...KEY, 'ssl.clientAuth': 'none' }) })!.clientAuth, 'none');
    assert.equal(tlsSettings({ secureClientPort: 1, properties: props({ ...KEY, 'ssl.clientAuth': '' }) })!.clientAuth, 'need');
  });

  it('refuse what cannot work, saying what to do', () => {
    assert.throws(() => tlsSettings({ secureClientPort: 1, properties: props({}) }), fails('ZKTS_ERR_CONFIG', /secureClientPort needs a key store: set ssl\.keyStore\.location/));
    assert.throws(() => tlsSettings({ properties: props({ 'client.portUnification': 'true' }) }), fails('ZKTS_ERR_CONFIG', /client\.portUnification needs a key store/));
    assert.throws(() => tlsSettings({ secureClientPort: 1, properties: props({ ...KEY, 'ssl.clientAuth': 'always' }) }), fails('ZKTS_ERR_CONFIG', /ssl\.clientAuth=always: use need/));
    assert.throws(() => tlsSettings({ secureClientPort: 1, properties: props({ ...KEY, 'ssl.authProvider': 'mycerts' }) }), fails('ZKTS_ERR_UNSUPPORTED', /ssl\.authProvider=mycerts/));
    assert.ok(tlsSettings({ secureClientPort: 1, properties: props({ ...KEY, 'ssl.authProvider': 'x509' }) }));
  });

  it('versions: ssl.enabledProtocols as a range, else ssl.protocol and TLSv1.2', () => {
    assert.deepEqual(protocolRange(undefined, undefined), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    assert.deepEqual(protocolRange(undefined, 'TLSv1.3'), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    assert.deepEqual(protocolRange(undefined, 'TLS'), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    assert.deepEqual(protocolRange(undefined, 'TLSv1.2'), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    assert.deepEqual(protocolRange('TLSv1.3', 'TLSv1.2'), { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    assert.deepEqual(protocolRange('TLSv1.3,TLSv1.2', undefined), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    assert.throws(() => protocolRange('TLSv1.1,TLSv1.3', undefined), fails('ZKTS_ERR_CONFIG', /contiguous range/));
    assert.throws(() => protocolRange('SSLv3', undefined), fails('ZKTS_ERR_CONFIG', /"SSLv3" is not a TLS version/));
    assert.throws(() => protocolRange(undefined, 'TLSv1.4'), fails('ZKTS_ERR_CONFIG', /zookeeper\.ssl\.protocol: "TLSv1\.4"/));
  });

  it('cipher suites: Java names to OpenSSL names, as OpenSSL itself maps them', () => {
    const r = spawnSync('openssl', ['ciphers', '-stdname', 'ALL:COMPLEMENTOFALL'], { encoding: 'utf8' });
    if (r.status !== 0) return;
    const table = new Map<string, string>();
    for (const line of r.stdout.split('\n')) {
      const m = /^(\S+)\s+-\s+(\S+)/.exec(line);
      if (m !== null) table.set(m[1]!, m[2]!);
    }
    let checked = 0;
    for (const [iana, openssl] of table) {
      const mine = openSslCipherName(iana);
      if (mine === undefined) continue; // suites zkts does not name (PSK, SRP, CAMELLIA, ARIA, …)
      assert.equal(mine, openssl, iana);
      checked++;
    }
    assert.ok(checked >= 30, `checked ${checked} suites`);
    for (const iana of DEFAULT_CIPHER_SUITES) assert.ok(table.has(iana) && openSslCipherName(iana) === table.get(iana), iana);
  });

  it('cipher suites: unknown names are refused; unset, ZooKeeper\'s list', () => {
    assert.throws(() => cipherList('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_MADE_UP'), fails('ZKTS_ERR_CONFIG', /TLS_MADE_UP is not a cipher suite/));
    assert.equal(cipherList(' TLS_AES_128_GCM_SHA256 , TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 '), 'TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256');
    assert.match(cipherList(undefined), /^ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:.*:TLS_CHACHA20_POLY1305_SHA256$/);
  });
});

describe('the TLS keys in zoo.cfg', () => {
  it('are read, not reported as unsupported; reverse DNS, CRL and OCSP are', () => {
    const cfg = parseConfig(
      [
        'dataDir=/tmp/zkts-x', 'clientPort=2181', 'secureClientPort=2281', 'secureClientPortAddress=127.0.0.1',
        'serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory', 'client.portUnification=true', 'client.certReload=true',
        'ssl.keyStore.location=/k.pem', 'ssl.keyStore.password=x', 'ssl.keyStore.type=PEM', 'ssl.trustStore.location=/t.pem',
        'ssl.trustStore.password=y', 'ssl.trustStore.type=PEM', 'ssl.clientAuth=want', 'ssl.hostnameVerification=true',
        'ssl.clientHostnameVerification=false', 'ssl.protocol=TLSv1.3', 'ssl.enabledProtocols=TLSv1.3,TLSv1.2',
        'ssl.ciphersuites=TLS_AES_128_GCM_SHA256', 'ssl.authProvider=x509', 'X509AuthenticationProvider.superUser=CN=root',
        'ssl.allowReverseDnsLookup=true', 'ssl.crl=true', 'ssl.ocsp=false',
        'admin.portUnification=true', 'admin.forceHttps=false', 'admin.needClientAuth=true', 'ssl.quorum.keyStore.location=/q.p12',
        'ssl.quorum.keyStore.password=q', 'ssl.quorum.trustStore.location=/qt.pem', 'ssl.quorum.protocol=TLSv1.2',
      ].join('\n'),
      { baseDir: '/tmp' },
    );
    assert.deepEqual(cfg.unsupported.sort(), ['ssl.allowReverseDnsLookup', 'ssl.crl']);
    const s = tlsSettings(cfg)!;
    assert.equal(s.secureClientPort, 2281);
    assert.equal(s.clientAuth, 'want');
    assert.equal(s.ciphers, 'TLS_AES_128_GCM_SHA256');
    assert.equal(s.superUser, 'CN=root');
    const admin = adminTlsSettings(cfg.properties)!;
    assert.deepEqual(
      { ...admin, keyStore: admin.keyStore.location, trustStore: admin.trustStore?.location },
      { forceHttps: false, needClientAuth: true, keyStore: '/q.p12', trustStore: '/qt.pem', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' },
    );
  });
});
