// x509-name.test.ts — the x509 id is the client certificate's subject as the JDK prints it
// (X500Principal.getName(), which X509AuthenticationProvider uses), and an x509 ACL id is valid
// when new X500Principal(id) accepts it. The JDK is the oracle: JavaTlsProbe prints both for
// certificates whose subjects this test builds byte by byte (every string type, escapes, spaces,
// NUL and CR, multi-valued RDNs, unknown and non-string attributes), so nothing expected here is
// copied from zkts's own output. Without java the oracle tests are skipped; the properties below
// (no input crashes or hangs the name reader) run anyway.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { isValidDistinguishedName, rfc2253Name, x509ClientId, x509Provider } from '../../src/server/auth/x509.js';
import { parseDer, seq } from '../../src/server/tls-der.js';
import { makePki, opensslMissing, type Pki } from './certs.js';
import { javaMissing, runProbe } from './java.js';

// ---- a few DER encoders, to build subjects the JDK must read ----------------------------------

function tlv(tag: number, value: Buffer): Buffer {
  const n = value.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, value]);
}

function oidDer(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const b = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) b.unshift((v & 0x7f) | 0x80);
    bytes.push(...b);
  }
  return tlv(0x06, Buffer.from(bytes));
}

type Ava = [oid: string, tag: number, value: Buffer | string];
const CN = '2.5.4.3';
const O = '2.5.4.10';
const OU = '2.5.4.11';
const UTF8 = 0x0c;
const PRINTABLE = 0x13;
const T61 = 0x14;
const IA5 = 0x16;
const BMP = 0x1e;
const UNIVERSAL = 0x1c;

function bmp(s: string): Buffer {
  return Buffer.from(s, 'utf16le').swap16();
}

/** A Name from RDNs of AVAs (a multi-valued RDN's AVAs in the order given: DER sorts a SET, so give them sorted). */
function name(rdns: Ava[][]): Buffer {
  return tlv(0x30, Buffer.concat(rdns.map((avas) =>
    tlv(0x31, Buffer.concat(avas.map(([o, tag, v]) => tlv(0x30, Buffer.concat([oidDer(o), tlv(tag, typeof v === 'string' ? Buffer.from(v, 'utf8') : v)]))))),
  )));
}

/** A copy of a real certificate with its subject replaced (signature no longer valid: the JDK parses without checking it). */
function withSubject(certDer: Buffer, subject: Buffer): Buffer {
  const [tbs, sigAlg, sig] = seq(parseDer(certDer), 'Certificate');
  const fields = seq(tbs, 'TBSCertificate');
  const at = fields[0]!.tag === 0xa0 ? 5 : 4;
  const newTbs = tlv(0x30, Buffer.concat(fields.map((f, i) => (i === at ? subject : f.raw))));
  return tlv(0x30, Buffer.concat([newTbs, sigAlg!.raw, sig!.raw]));
}

const SUBJECTS: Array<[string, Ava[][]]> = [
  ['plain', [[['2.5.4.6', PRINTABLE, 'NL']], [[O, UTF8, 'zkts test']], [[OU, UTF8, 'clients']], [[CN, UTF8, 'alice']]]],
  ['every escaped character', [[[CN, UTF8, 'a,b=c+d<e>f#g;h"i\\j']]]],
  ['leading and trailing spaces, a leading #', [[[CN, UTF8, '  two leading, two trailing  ']], [[O, UTF8, '#hash']], [[OU, UTF8, ' ']]]],
  ['NUL and CR', [[[CN, UTF8, 'nul\u0000in\rside\r']], [[O, UTF8, '\rlead']]]],
  ['characters nobody escapes', [[[CN, UTF8, "a@b_c*d&e!f'g(h)i:j?k/l~m%n^o`p{q}r|s[t]u$v"]]]],
  ['non-ASCII UTF8String', [[[CN, UTF8, 'Zürich ✓ 日本 𝄞']]]],
  ['malformed UTF-8: a lone byte, a truncated sequence, an encoded surrogate', [[[CN, UTF8, Buffer.from('61e962e282ed a080 63'.replace(/ /g, ''), 'hex')]]]],
  ['BMPString', [[[CN, BMP, bmp('bmp Ünïcödé')]]]],
  ['TeletexString', [[[CN, T61, Buffer.from('t61 caf\u00e9', 'latin1')]]]],
  ['IA5String and PrintableString', [[[CN, IA5, 'ia5 a@b.c']], [[O, PRINTABLE, 'Printable (ok)']]]],
  ['UniversalString is not a directory string: hex', [[[CN, UNIVERSAL, Buffer.from('000000410000004a', 'hex')]]]],
  ['a non-string value under a keyword: hex', [[[CN, 0x02, Buffer.from([0x01, 0x02])]]]],
  ['an empty value', [[[CN, UTF8, '']], [[O, UTF8, 'x']]]],
  ['unknown and non-RFC 2253 attribute types: OID and hex', [
    [['1.2.840.113549.1.9.1', IA5, 'a@b.c']], [['2.5.4.5', PRINTABLE, '123']], [['2.5.4.12', UTF8, 'Dr']], [['1.3.6.1.4.1.99999.1', UTF8, 'private']],
    [['0.9.2342.19200300.100.1.25', IA5, 'example']], [['0.9.2342.19200300.100.1.1', UTF8, 'uid1']], [['2.5.4.9', UTF8, 'Main St 1']],
    [['2.5.4.7', UTF8, 'Delft']], [['2.5.4.8', UTF8, 'ZH']], [['2.5.4.42', UTF8, 'Given']],
  ]],
  ['a multi-valued RDN', [[[O, UTF8, 'org']], [[CN, UTF8, 'multi'], [OU, UTF8, 'valued']]]],
  ['a multi-valued RDN not in DER SET order', [[[OU, UTF8, 'zzz-longer-value'], [CN, UTF8, 'a'], [O, PRINTABLE, 'b']]]],
];

describe('x509 ids: X500Principal.getName() of the subject', { skip: opensslMissing() ?? javaMissing() ?? false }, () => {
  let pki: Pki;
  before(() => {
    pki = makePki();
  });
  after(() => pki?.cleanup());

  it('prints every subject exactly as the JDK does', async () => {
    const base = new X509Certificate(readFileSync(pki.bob.cert)).raw;
    const files: string[] = [];
    const expected: string[] = [];
    SUBJECTS.forEach(([, rdns], i) => {
      const der = withSubject(base, name(rdns));
      const file = path.join(pki.dir, `subject-${i}.der`);
      writeFileSync(file, der);
      files.push(file);
      expected.push(x509ClientId(der));
    });
    const java = await runProbe({}, ['dn', ...files]);
    assert.equal(java.code, 0, java.stderr);
    const jdk = java.lines.map((l) => l.replace(/^dn:/, ''));
    assert.equal(jdk.length, SUBJECTS.length, java.stderr);
    SUBJECTS.forEach(([label], i) => assert.equal(expected[i], jdk[i], label));
  });

  it('agrees with the JDK on the certificates openssl makes', async () => {
    const certs = [pki.alice.cert, pki.bob.cert, pki.server.cert, pki.expired.cert, pki.untrusted.cert, pki.ca];
    const java = await runProbe({}, ['dn', ...certs]);
    assert.deepEqual(certs.map((c) => x509ClientId(new X509Certificate(readFileSync(c)).raw)), java.lines.map((l) => l.replace(/^dn:/, '')));
  });

  it('accepts as an x509 ACL id exactly the names new X500Principal(name) accepts', async () => {
    const names = [
      'CN=alice,OU=clients,O=zkts test,C=NL', 'cn=alice, ou=clients', 'CN=a;O=b', 'CN=a+OU=b,O=c', 'CN=a\\,b', 'CN=a\\2cb', 'CN="quoted, value"',
      'CN=#0c0161', 'OID.2.5.4.3=x', '2.5.4.3=x', '1.2.840.113549.1.9.1=#16056140622e63', 'EMAILADDRESS=a@b.c', 'E=a@b.c', 'SERIALNUMBER=1',
      'DC=example,DC=com', 'UID=u', 'STREET=Main', 'T=Dr', 'S=ZH', 'ST=ZH', 'L=x', 'GIVENNAME=g', 'SURNAME=s', 'DNQ=q', 'IP=1.2.3.4',
      '', ' ', 'not a name', 'CN', 'CN=', 'CN=a,', ',CN=a', 'FOO=bar', 'CN=a=b', 'CN=a"b', 'CN=a\\', 'CN=a\\g', 'CN=#zz', 'CN=#01',
      'CN=<x>', '=x', 'CN=a,,O=b', 'CN=a+', '1.2=x', '1=x', 'CN = spaced , O = out', 'CN=a\\ b', 'CN=a\\#', 'CN=a\\*', 'CN=a\\=b',
      ' CN=a', 'CN=a ', '  ', 'CN=a=b=c', 'CN=a>b', 'CN=x,OU=', 'OU=+CN=x', 'CN="a"b', 'CN="a" ,O=b',
    ];
    const java = await runProbe({}, ['valid', ...names]);
    assert.equal(java.lines.length, names.length, java.stderr);
    const disagreements = names.flatMap((n, i) => (isValidDistinguishedName(n) === (java.lines[i] === 'true') ? [] : [`${JSON.stringify(n)}: the JDK says ${java.lines[i]}`]));
    assert.deepEqual(disagreements, []);
  });
});

describe('the x509 provider', () => {
  it('prints an empty subject as the empty string (new X500Principal(new byte[]{0x30, 0}).getName())', () => {
    assert.equal(rfc2253Name(Buffer.from([0x30, 0x00])), '');
  });

  it('matches only the same id, or any id for the super user', () => {
    const plain = x509Provider();
    assert.equal(plain.matches('CN=a', 'CN=a'), true);
    assert.equal(plain.matches('CN=a', 'cn=a'), false, 'exact string comparison, as ZooKeeper');
    assert.equal(plain.matches('CN=a', 'CN=b'), false);
    const withSuper = x509Provider({ superUser: 'CN=root' });
    assert.equal(withSuper.matches('CN=root', 'CN=anyone else'), true);
    assert.equal(withSuper.matches('CN=a', 'CN=root'), false);
    assert.equal(plain.isAuthenticated, true);
    assert.deepEqual(plain.authenticate(Buffer.alloc(0), { remoteAddress: '127.0.0.1' }), { error: 'no verified client certificate' });
  });

  it('reading a name never crashes or hangs on arbitrary bytes (it comes from a client certificate)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          rfc2253Name(Buffer.from(bytes));
        } catch (e) {
          assert.ok(e instanceof Error);
        }
      }),
      { numRuns: 2000 },
    );
    // and deep nesting is bounded
    let deep: Buffer = Buffer.from([0x05, 0x00]);
    for (let i = 0; i < 200; i++) deep = tlv(0x30, deep);
    assert.throws(() => rfc2253Name(deep));
  });
});
