// tls-pkcs12.ts — reads a PKCS#12 (.p12) key store or trust store into private keys and X.509
// certificates (RFC 7292). Node's TLS can use a PKCS#12 that holds a key (`pfx`), but not one that
// holds only trusted certificates, which is what keytool writes for a trust store; so zkts reads
// both kinds itself, the same way, and hands Node PEM. Supported: what keytool (JDK 8 and later,
// PBES2 with AES since JDK 12) and OpenSSL 1.1/3 write by default: PBES2 (PBKDF2 with HMAC-SHA1/2
// and AES-CBC or 3DES) and PKCS#12 PBE with 3DES; RC2 and RC4 only where the OpenSSL Node was built
// with still has them. The MAC is checked first, so a wrong password says so. Pure: no file I/O.
import { createDecipheriv, createHash, createHmac, createPrivateKey, pbkdf2Sync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { type Der, DerError, Tag, children, explicit, expectTag, octets, oid, parseDer, seq, smallInt } from './tls-der.js';

export class Pkcs12Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Pkcs12Error';
  }
}

export interface Pkcs12Contents {
  /** Private keys, each with the DER certificates whose localKeyId matches (leaf first when known). */
  keys: Array<{ key: KeyObject; localKeyId: Buffer | null }>;
  /** Every certificate in the store, DER, with its localKeyId (null for a trusted-certificate entry). */
  certs: Array<{ der: Buffer; localKeyId: Buffer | null }>;
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  envelopedData: '1.2.840.113549.1.7.3',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbmac1: '1.2.840.113549.1.5.14',
} as const;

const HMAC_PRF: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

const DIGESTS: Record<string, { name: string; blockBytes: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', blockBytes: 64 },
  '2.16.840.1.101.3.4.2.4': { name: 'sha224', blockBytes: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', blockBytes: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', blockBytes: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', blockBytes: 128 },
};

const PBES2_CIPHERS: Record<string, { name: string; keyBytes: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyBytes: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyBytes: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyBytes: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyBytes: 24 },
};

/** pbeWithSHAAnd… (RFC 7292 appendix C): cipher, key and IV sizes. */
const PKCS12_PBE: Record<string, { name: string; keyBytes: number; ivBytes: number }> = {
  '1.2.840.113549.1.12.1.1': { name: 'rc4', keyBytes: 16, ivBytes: 0 },
  '1.2.840.113549.1.12.1.2': { name: 'rc4-40', keyBytes: 5, ivBytes: 0 },
  '1.2.840.113549.1.12.1.3': { name: 'des-ede3-cbc', keyBytes: 24, ivBytes: 8 },
  '1.2.840.113549.1.12.1.4': { name: 'des-ede-cbc', keyBytes: 16, ivBytes: 8 },
  '1.2.840.113549.1.12.1.5': { name: 'rc2-cbc', keyBytes: 16, ivBytes: 8 },
  '1.2.840.113549.1.12.1.6': { name: 'rc2-40-cbc', keyBytes: 5, ivBytes: 8 },
};

/** The password as PKCS#12 hashes it: UTF-16BE with a two-byte terminator; none for a null password. */
function bmpPassword(password: string | null): Buffer {
  if (password === null) return Buffer.alloc(0);
  const b = Buffer.alloc(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) b.writeUInt16BE(password.charCodeAt(i), i * 2);
  return b;
}

/** The PKCS#12 key derivation (RFC 7292 appendix B.2); id 1 key, 2 IV, 3 MAC key. */
export function pkcs12Kdf(hash: string, blockBytes: number, password: Buffer, salt: Buffer, id: number, iterations: number, n: number): Buffer {
  const v = blockBytes;
  const fill = (src: Buffer): Buffer => {
    const len = v * Math.ceil(src.length / v);
    const out = Buffer.alloc(len);
    for (let i = 0; i < len; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([salt.length > 0 ? fill(salt) : Buffer.alloc(0), password.length > 0 ? fill(password) : Buffer.alloc(0)]);
  const out: Buffer[] = [];
  let have = 0;
  while (have < n) {
    let A = createHash(hash).update(D).update(I).digest();
    for (let i = 1; i < iterations; i++) A = createHash(hash).update(A).digest();
    out.push(A);
    have += A.length;
    if (have >= n) break;
    const B = fill(A).subarray(0, v);
    for (let j = 0; j < I.length; j += v) {
      // Ij = (Ij + B + 1) mod 2^(8v)
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const s = I[j + k]! + B[k]! + carry;
        I[j + k] = s & 0xff;
        carry = s >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, n);
}

const MAX_ITERATIONS = 10_000_000;

function iterationsOf(d: Der | undefined, what: string): number {
  const n = smallInt(d, what);
  if (n < 1 || n > MAX_ITERATIONS) throw new Pkcs12Error(`${what}: ${n} iterations is outside 1..${MAX_ITERATIONS}`);
  return n;
}

function decipher(name: string, key: Buffer, iv: Buffer | null, data: Buffer): Buffer {
  let d;
  try {
    d = createDecipheriv(name, key, iv);
  } catch (e) {
    throw new Pkcs12Error(
      `the store is encrypted with ${name}, which this Node's OpenSSL does not offer (${(e as Error).message}); ` +
        're-create it with AES, e.g. keytool -importkeystore -deststoretype PKCS12 on JDK 12 or later, or openssl pkcs12 -export without -legacy',
    );
  }
  try {
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    throw new Pkcs12Error('cannot decrypt the store: wrong password');
  }
}

/** Decrypts data encrypted under an AlgorithmIdentifier of PBES2 or PKCS#12 PBE. */
function decrypt(algorithm: Der, data: Buffer, password: string): Buffer {
  const [algOid, params] = seq(algorithm, 'encryption algorithm');
  const alg = oid(algOid, 'encryption algorithm');
  if (alg === OID.pbes2) {
    const [kdf, scheme] = seq(params, 'PBES2 parameters');
    const [kdfOid, kdfParams] = seq(kdf, 'PBES2 key derivation');
    if (oid(kdfOid) !== OID.pbkdf2) throw new Pkcs12Error(`PBES2 key derivation ${oid(kdfOid)} is not PBKDF2`);
    const p = seq(kdfParams, 'PBKDF2 parameters');
    const salt = octets(p[0], 'PBKDF2 salt');
    const iterations = iterationsOf(p[1], 'PBKDF2 iteration count');
    let i = 2;
    if (p[i]?.tag === Tag.integer) i++; // keyLength: the cipher decides
    const prf = p[i] === undefined ? 'sha1' : HMAC_PRF[oid(seq(p[i], 'PBKDF2 PRF')[0], 'PBKDF2 PRF')];
    if (prf === undefined) throw new Pkcs12Error('PBKDF2 uses a PRF other than HMAC-SHA1/224/256/384/512');
    const [cipherOid, ivDer] = seq(scheme, 'PBES2 encryption scheme');
    const cipher = PBES2_CIPHERS[oid(cipherOid)];
    if (cipher === undefined) throw new Pkcs12Error(`PBES2 cipher ${oid(cipherOid)} is not supported (AES-CBC or 3DES-CBC are)`);
    const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, cipher.keyBytes, prf);
    return decipher(cipher.name, key, octets(ivDer, 'PBES2 IV'), data);
  }
  const pbe = PKCS12_PBE[alg];
  if (pbe === undefined) throw new Pkcs12Error(`encryption algorithm ${alg} is not supported`);
  const p = seq(params, 'PKCS#12 PBE parameters');
  const salt = octets(p[0], 'PBE salt');
  const iterations = iterationsOf(p[1], 'PBE iteration count');
  const pw = bmpPassword(password);
  const key = pkcs12Kdf('sha1', 64, pw, salt, 1, iterations, pbe.keyBytes);
  const iv = pbe.ivBytes === 0 ? null : pkcs12Kdf('sha1', 64, pw, salt, 2, iterations, pbe.ivBytes);
  return decipher(pbe.name, key, iv, data);
}

/** Checks the store's MAC with the password (also as a null password when it is empty, as OpenSSL does). */
function checkMac(macData: Der, authSafe: Buffer, password: string): void {
  const [digestInfo, saltDer, iterDer] = seq(macData, 'MacData');
  const [digestAlg, digestDer] = seq(digestInfo, 'MAC DigestInfo');
  const algOid = oid(seq(digestAlg, 'MAC digest algorithm')[0]);
  if (algOid === OID.pbmac1) throw new Pkcs12Error('PBMAC1 integrity (openssl pkcs12 -pbmac1_pbkdf2) is not supported; re-create the store without it');
  const digest = DIGESTS[algOid];
  if (digest === undefined) throw new Pkcs12Error(`MAC digest ${algOid} is not supported`);
  const expected = octets(digestDer, 'MAC digest');
  const salt = octets(saltDer, 'MAC salt');
  const iterations = iterDer === undefined ? 1 : iterationsOf(iterDer, 'MAC iteration count');
  const keyBytes = createHash(digest.name).digest().length;
  const candidates = password === '' ? [bmpPassword(''), bmpPassword(null)] : [bmpPassword(password)];
  for (const pw of candidates) {
    const key = pkcs12Kdf(digest.name, digest.blockBytes, pw, salt, 3, iterations, keyBytes);
    const mac = createHmac(digest.name, key).update(authSafe).digest();
    if (mac.length === expected.length && timingSafeEqual(mac, expected)) return;
  }
  throw new Pkcs12Error('the store\'s integrity check failed: wrong password (or a damaged file)');
}

function localKeyIdOf(attributes: Der | undefined): Buffer | null {
  if (attributes === undefined) return null;
  for (const attr of children(expectTag(attributes, Tag.set, 'bag attributes'))) {
    const [type, values] = seq(attr, 'bag attribute');
    if (oid(type) !== OID.localKeyId) continue;
    const first = children(expectTag(values, Tag.set, 'localKeyId values'))[0];
    return first === undefined ? null : octets(first, 'localKeyId');
  }
  return null;
}

function privateKey(pkcs8: Buffer): KeyObject {
  try {
    return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new Pkcs12Error(`a private key in the store cannot be read: ${(e as Error).message}`);
  }
}

function readSafeContents(der: Buffer, password: string, out: Pkcs12Contents, depth: number): void {
  if (depth > 4) throw new Pkcs12Error('safe contents nested too deeply');
  for (const bag of seq(parseDer(der), 'SafeContents')) {
    const [bagIdDer, bagValue, attributes] = seq(bag, 'SafeBag');
    const bagId = oid(bagIdDer, 'bag id');
    const value = explicit(bagValue, 0, 'bag value');
    const localKeyId = localKeyIdOf(attributes);
    if (bagId === OID.certBag) {
      const [certId, certValue] = seq(value, 'CertBag');
      if (oid(certId) !== OID.x509Certificate) continue; // SDSI certificates: not for TLS
      out.certs.push({ der: Buffer.from(octets(explicit(certValue, 0, 'certificate'), 'certificate')), localKeyId });
    } else if (bagId === OID.keyBag) {
      out.keys.push({ key: privateKey(Buffer.from(value.raw)), localKeyId });
    } else if (bagId === OID.shroudedKeyBag) {
      const [alg, data] = seq(value, 'EncryptedPrivateKeyInfo');
      out.keys.push({ key: privateKey(decrypt(alg!, octets(data, 'encrypted key'), password)), localKeyId });
    } else if (bagId === OID.safeContentsBag) {
      readSafeContents(Buffer.from(value.raw), password, out, depth + 1);
    }
    // CRL and secret bags carry nothing TLS uses.
  }
}

/** Reads a PKCS#12 file's keys and certificates with the store password. */
export function readPkcs12(file: Buffer, password: string): Pkcs12Contents {
  try {
    const [versionDer, authSafe, macData] = seq(parseDer(file), 'PFX');
    const version = smallInt(versionDer, 'PFX version');
    if (version !== 3) throw new Pkcs12Error(`PFX version ${version} is not 3`);
    const [typeDer, content] = seq(authSafe, 'authSafe');
    if (oid(typeDer) !== OID.data) throw new Pkcs12Error('public-key protected (signed) PKCS#12 stores are not supported');
    const authSafeBytes = octets(explicit(content, 0, 'authSafe content'), 'authSafe data');
    if (macData !== undefined) checkMac(macData, authSafeBytes, password);
    const out: Pkcs12Contents = { keys: [], certs: [] };
    for (const info of seq(parseDer(authSafeBytes), 'AuthenticatedSafe')) {
      const [ctDer, ctContent] = seq(info, 'ContentInfo');
      const ct = oid(ctDer);
      if (ct === OID.data) {
        readSafeContents(octets(explicit(ctContent, 0, 'data'), 'data'), password, out, 0);
      } else if (ct === OID.encryptedData) {
        const [, eci] = seq(explicit(ctContent, 0, 'encryptedData'), 'EncryptedData');
        const [, alg, encrypted] = seq(eci, 'EncryptedContentInfo');
        const data = expectTag(encrypted, 0x80, 'encrypted content').value;
        readSafeContents(decrypt(alg!, data, password), password, out, 0);
      } else if (ct === OID.envelopedData) {
        throw new Pkcs12Error('public-key encrypted (enveloped) PKCS#12 contents are not supported');
      }
    }
    return out;
  } catch (e) {
    if (e instanceof DerError) throw new Pkcs12Error(`not a readable PKCS#12 file: ${e.message}`);
    throw e;
  }
}
