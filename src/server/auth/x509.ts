// x509.ts — ZooKeeper's "x509" scheme (X509AuthenticationProvider): a client that completes a TLS
// handshake with a trusted certificate is authenticated as the certificate's subject name, written
// as Java's X500Principal.getName() writes it (RFC 2253 as the JDK implements it), because that
// string is what ACLs written for Apache ZooKeeper hold. An ACL id matches only the same string
// (or any id, for the configured zookeeper.X509AuthenticationProvider.superUser). Pure: no I/O.
//
// The JDK's RFC 2253 form, per attribute (sun.security.x509.AVA.toRFC2253String):
// - RDNs last to first, joined by ","; the attributes of a multi-valued RDN joined by "+";
// - types CN C L ST O OU STREET DC UID by keyword, every other type as its dotted OID;
// - a value of an OID type, or not a directory string (PrintableString, TeletexString,
//   IA5String, GeneralString, BMPString, UTF8String), is "#" + the lowercase hex of its DER;
// - otherwise its contents decoded as UTF-8 (whatever the string type: the JDK does so), with
//   , = + < > # ; " \ escaped by a backslash, NUL as \00, and leading and trailing spaces (and
//   CRs) escaped by a backslash; nothing else is escaped.
import type { TLSSocket } from 'node:tls';
import { decodeJavaUtf8 } from '../../protocol/jute.js';
import type { Id } from '../../protocol/records.js';
import { type Der, Tag, children, expectTag, oid, parseDer, seq } from '../tls-der.js';
import type { AuthProvider } from './digest.js';

/** The keywords the JDK prints in RFC 2253 names, by OID. */
const RFC2253_KEYWORDS: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

const DIRECTORY_STRINGS = new Set<number>([Tag.printableString, Tag.t61String, Tag.ia5String, Tag.generalString, Tag.bmpString, Tag.utf8String]);

/** The JDK reads every directory string's contents as UTF-8 (new String(getDataBytes(), UTF_8)),
 * whatever its type: a BMPString's UTF-16 comes out as NULs and replacement characters. */
function decodeDirectoryString(d: Der): string {
  return decodeJavaUtf8(d.value, 0, d.value.length, false);
}

const ESCAPED = ',=+<>#;"\\';

function formatValue(typeOid: string, value: Der): string {
  if (RFC2253_KEYWORDS[typeOid] === undefined || !DIRECTORY_STRINGS.has(value.tag)) return `#${value.raw.toString('hex')}`;
  const s = decodeDirectoryString(value);
  let out = '';
  for (const c of s) {
    if (ESCAPED.includes(c)) out += '\\' + c;
    else if (c === '\u0000') out += '\\00';
    else out += c;
  }
  let lead = 0;
  while (lead < out.length && (out[lead] === ' ' || out[lead] === '\r')) lead++;
  let trail = out.length - 1;
  while (trail >= 0 && (out[trail] === ' ' || out[trail] === '\r')) trail--;
  let escaped = '';
  for (let i = 0; i < out.length; i++) escaped += (i < lead || i > trail ? '\\' : '') + out[i];
  return escaped;
}

/** A DER Name (RDNSequence) as X500Principal.getName() prints it. */
export function rfc2253Name(nameDer: Buffer): string {
  const rdns = seq(parseDer(nameDer), 'Name');
  const parts: string[] = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    const avas = children(expectTag(rdns[i], Tag.set, 'RelativeDistinguishedName')).map((ava) => {
      const [typeDer, value] = seq(ava, 'AttributeTypeAndValue');
      const typeOid = oid(typeDer, 'attribute type');
      if (value === undefined) throw new Error('attribute without a value');
      return `${RFC2253_KEYWORDS[typeOid] ?? typeOid}=${formatValue(typeOid, value)}`;
    });
    parts.push(avas.join('+'));
  }
  return parts.join(',');
}

/** The subject Name's DER inside a DER certificate. */
export function subjectDer(certDer: Buffer): Buffer {
  const [tbs] = seq(parseDer(certDer), 'Certificate');
  const fields = seq(tbs, 'TBSCertificate');
  // [0] version is optional; then serial, signature, issuer, validity, subject
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  return expectTag(fields[first + 4], Tag.sequence, 'subject').raw;
}

/** X509AuthenticationProvider.getClientId: the subject of the client's certificate. */
export function x509ClientId(certDer: Buffer): string {
  return rfc2253Name(subjectDer(certDer));
}

// ---- isValid: whether new X500Principal(aclExpr) accepts the string --------------------------

/** What may follow a backslash besides two hex digits (RFC 2253's specials, quote, space). */
const ESCAPABLE = ',=+<>#;\\" ';

/** Keywords X500Principal(String) accepts (RFC 1779, RFC 2253 and the JDK's own). */
const PARSE_KEYWORDS = new Set([
  'CN', 'C', 'L', 'S', 'ST', 'O', 'OU', 'T', 'IP', 'STREET', 'DC', 'DNQUALIFIER', 'DNQ', 'SURNAME', 'GIVENNAME',
  'INITIALS', 'GENERATION', 'EMAIL', 'EMAILADDRESS', 'UID', 'SERIALNUMBER',
]);

/**
 * Whether a distinguished name parses (X500Principal's RFC 1779/2253 grammar, as far as ACL ids
 * need): RDNs separated by "," or ";", attributes by "+", each keyword=value with a known keyword
 * or a dotted OID (optionally "OID."-prefixed), values quoted, #hex or with backslash escapes of
 * specials or hex pairs. The empty string is the empty name, which the JDK accepts; blanks are not.
 */
export function isValidDistinguishedName(dn: string): boolean {
  let i = 0;
  const n = dn.length;
  const skipSpaces = (): void => {
    while (i < n && dn[i] === ' ') i++;
  };
  if (n === 0) return true;
  for (;;) {
    // type
    skipSpaces();
    const typeStart = i;
    while (i < n && dn[i] !== '=' && dn[i] !== ',' && dn[i] !== ';' && dn[i] !== '+') i++;
    if (i === n || dn[i] !== '=') return false;
    let type = dn.slice(typeStart, i).trim().toUpperCase();
    if (type.startsWith('OID.')) type = type.slice(4);
    if (!PARSE_KEYWORDS.has(type) && !/^[0-9]+(\.[0-9]+)+$/.test(type)) return false;
    i++; // '='
    skipSpaces();
    // value
    if (dn[i] === '"') {
      i++;
      while (i < n && dn[i] !== '"') i += dn[i] === '\\' ? 2 : 1;
      if (i >= n) return false;
      i++;
      skipSpaces();
    } else if (dn[i] === '#') {
      const start = ++i;
      while (i < n && /[0-9a-fA-F]/.test(dn[i]!)) i++;
      const hex = dn.slice(start, i);
      if (hex.length === 0 || hex.length % 2 !== 0) return false;
      try {
        parseDer(Buffer.from(hex, 'hex'));
      } catch {
        return false;
      }
      skipSpaces();
    } else {
      while (i < n && dn[i] !== ',' && dn[i] !== ';' && dn[i] !== '+') {
        if (dn[i] === '\\') {
          if (i + 1 >= n) return false;
          const next = dn[i + 1]!;
          if (/[0-9a-fA-F]/.test(next)) {
            if (i + 2 >= n || !/[0-9a-fA-F]/.test(dn[i + 2]!)) return false;
            i += 3;
          } else if (ESCAPABLE.includes(next)) {
            i += 2;
          } else {
            return false;
          }
        } else if (dn[i] === '"' || dn[i] === '<' || dn[i] === '>') {
          return false;
        } else {
          i++;
        }
      }
    }
    if (i === n) return true;
    if (dn[i] !== ',' && dn[i] !== ';' && dn[i] !== '+') return false;
    i++;
  }
}

// ---- the provider ----------------------------------------------------------------------------

export interface X509Options {
  /** zookeeper.X509AuthenticationProvider.superUser: this client id is also a super user. */
  superUser?: string;
}

/** The ids a client with this (verified) certificate gets: super when it is the super user, then x509. */
export function x509Ids(clientId: string, opts: X509Options = {}): Id[] {
  const ids: Id[] = [];
  if (opts.superUser !== undefined && clientId === opts.superUser) ids.push({ scheme: 'super', id: clientId });
  ids.push({ scheme: 'x509', id: clientId });
  return ids;
}

/** The DER certificate a TLS socket's peer presented and the handshake verified; undefined on a
 * plaintext socket, without a client certificate, or with one that is not trusted. */
export function verifiedPeerCertificate(socket: object): Buffer | undefined {
  const s = socket as Partial<TLSSocket>;
  if (s.encrypted !== true || s.authorized !== true || typeof s.getPeerX509Certificate !== 'function') return undefined;
  return s.getPeerX509Certificate()?.raw;
}

/**
 * The "x509" provider. A TLS connection gets its ids at the handshake (see tls-front.ts); an
 * addauth x509, like ZooKeeper's handleAuthentication, re-reads the connection's verified client
 * certificate: the same ids again on a TLS connection with one, AuthFailed without (plaintext, or
 * ssl.clientAuth=none/want and no certificate). The admin server uses it for HTTPS client
 * certificates the same way.
 */
export function x509Provider(opts: X509Options = {}): AuthProvider {
  return {
    scheme: 'x509',
    isAuthenticated: true,
    authenticate: (_auth, ctx) => {
      if (ctx.peerCertificate === undefined) return { error: 'no verified client certificate' };
      return { ids: x509Ids(x509ClientId(ctx.peerCertificate), opts) };
    },
    matches: (id, aclExpr) => id === aclExpr || (opts.superUser !== undefined && id === opts.superUser),
    isValid: isValidDistinguishedName,
    userName: (id) => id,
  };
}
