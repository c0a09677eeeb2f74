// sasl-digest-md5.ts — the server side of SASL DIGEST-MD5 (RFC 2831) as ZooKeeper runs it:
// Java's DigestMD5Server created with protocol "zookeeper", server name "zk-sasl-md5" and no
// properties (ZooKeeperSaslServer, SecurityUtils.createSaslServer), so the only realm is
// "zk-sasl-md5", the digest-uri must be "zookeeper/zk-sasl-md5", the only qop is "auth" (the
// challenge then carries no qop directive, as Java's does not), and passwords come from the JAAS
// Server section's user_<name> options (SaslServerCallbackHandler). Two steps: an empty token
// gets the challenge; the client's digest-response gets "rspauth=..." and completes with the
// authorized id. Any mismatch is an error, after which ZooKeeper answers AuthFailed and closes.
// Pure: the nonce's randomness is passed in.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Id } from '../../protocol/records.js';
import type { AuthProvider } from './digest.js';

export const SASL_PROTOCOL = 'zookeeper';
export const SASL_SERVER_NAME = 'zk-sasl-md5';

/** Java's DigestMD5Base.MAX_RESPONSE_LENGTH: longer client tokens are refused. */
export const SASL_RESPONSE_BYTES_MAX = 4096;

export interface DigestMd5ServerOptions {
  /** user → password: the JAAS Server section's user_<name> options. */
  credentials: ReadonlyMap<string, string>;
  /** n random bytes; the nonce is base64 of 30 of them, as Java's. */
  randomBytes: (n: number) => Buffer;
  /** zookeeper.SASLAuthenticationProvider.superPassword: replaces the password of user "super" when that user exists. */
  superPassword?: string;
}

export type SaslStep =
  | { kind: 'challenge'; token: Buffer }
  | { kind: 'complete'; token: Buffer; authorizedId: string }
  | { kind: 'error'; message: string };

type Directives = Map<string, Buffer>;

// The directives Java's server reads; others are ignored, and each may appear at most once.
const RESPONSE_KEYS = new Set([
  'username', 'realm', 'nonce', 'cnonce', 'nonce-count', 'qop', 'digest-uri',
  'response', 'maxbuf', 'charset', 'cipher', 'authzid', 'auth-param',
]);

const isLws = (b: number): boolean => b === 13 || b === 10 || b === 32 || b === 9;

/** RFC 2831 digest-response directives, parsed as DigestMD5Base.parseDirectives does. */
export function parseDirectives(buf: Buffer): Directives | string {
  const out: Directives = new Map();
  let i = 0;
  const skipLws = (): void => {
    while (i < buf.length && isLws(buf[i])) i++;
  };
  skipLws();
  while (i < buf.length) {
    const keyStart = i;
    while (i < buf.length && buf[i] !== 0x3d /* = */ && buf[i] !== 0x2c /* , */ && !isLws(buf[i])) i++;
    const key = buf.subarray(keyStart, i).toString('latin1');
    skipLws();
    if (key === '' && buf[i] === 0x2c) {
      i++; // an empty element
      skipLws();
      continue;
    }
    if (key === '') return 'empty directive key';
    if (buf[i] !== 0x3d) return `'=' expected after key: ${key}`;
    i++;
    skipLws();
    if (i >= buf.length) return `valueless directive found: ${key}`;
    const value: number[] = [];
    if (buf[i] === 0x22 /* " */) {
      for (i++; ; i++) {
        if (i >= buf.length) return `unmatched quote found for directive: ${key}`;
        if (buf[i] === 0x22) break;
        if (buf[i] === 0x5c /* \ */) i++;
        if (i >= buf.length) return `unmatched quote found for directive: ${key}`;
        value.push(buf[i]);
      }
      i++;
      if (i < buf.length && buf[i] !== 0x2c && !isLws(buf[i])) return `expecting comma or whitespace after quoted value of ${key}`;
    } else {
      while (i < buf.length && buf[i] !== 0x2c && !isLws(buf[i])) value.push(buf[i++]);
    }
    const name = key.toLowerCase();
    if (RESPONSE_KEYS.has(name)) {
      if (out.has(name)) return `peer sent more than one ${key} directive`;
      out.set(name, Buffer.from(value));
    }
    if (i < buf.length) i++; // the separator
    skipLws();
  }
  return out;
}

/** RFC 2831's quoted-string: backslash before '"', '\' , DEL and controls other than CR, LF, HT. */
function quoted(value: Buffer): Buffer {
  const out: number[] = [0x22];
  for (const b of value) {
    if (b === 0x22 || b === 0x5c || b === 0x7f || (b <= 31 && b !== 13 && b !== 9 && b !== 10)) out.push(0x5c);
    out.push(b);
  }
  out.push(0x22);
  return Buffer.from(out);
}

/** ISO-8859-1 when every UTF-16 unit fits, else UTF-8 (DigestMD5Base.stringToByte_8859_1, RFC 2831 2.1.2.1). */
function latin1OrUtf8(s: string): Buffer {
  return /[^\u0000-\u00ff]/.test(s) ? Buffer.from(s, 'utf8') : Buffer.from(s, 'latin1');
}

const md5 = (...parts: (Buffer | string)[]): Buffer => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};

export interface ResponseValueInput {
  /** "AUTHENTICATE" for the client's response, "" for the server's rspauth. */
  method: string;
  digestUri: string;
  qop: string;
  username: string;
  realm: string;
  password: string;
  nonce: Buffer;
  cnonce: Buffer;
  nonceCount: number;
  authzid?: Buffer;
}

/** RFC 2831 section 2.1.2.1 response-value with algorithm md5-sess, as lowercase hex. */
export function responseValue(v: ResponseValueInput): string {
  const a2 = `${v.method}:${v.digestUri}` + (v.qop === 'auth' ? '' : ':00000000000000000000000000000000');
  const userRealmPassword = md5(latin1OrUtf8(v.username), ':', latin1OrUtf8(v.realm), ':', latin1OrUtf8(v.password));
  const a1 = md5(userRealmPassword, ':', v.nonce, ':', v.cnonce, ...(v.authzid === undefined ? [] : [':', v.authzid]));
  const nc = v.nonceCount.toString(16).padStart(8, '0');
  return md5(a1.toString('hex'), ':', v.nonce, ':', nc, ':', v.cnonce, ':', v.qop, ':', md5(a2).toString('hex')).toString('hex');
}

/** One connection's DIGEST-MD5 negotiation; evaluate() each client token in turn. */
export class DigestMd5Server {
  private readonly opts: DigestMd5ServerOptions;
  private state: 'initial' | 'challenged' | 'done' = 'initial';
  private nonce = Buffer.alloc(0);

  constructor(opts: DigestMd5ServerOptions) {
    this.opts = opts;
  }

  evaluate(token: Buffer): SaslStep {
    if (token.length > SASL_RESPONSE_BYTES_MAX) {
      this.state = 'done';
      return { kind: 'error', message: `DIGEST-MD5 response of ${token.length} bytes exceeds ${SASL_RESPONSE_BYTES_MAX}` };
    }
    if (this.state === 'initial') {
      // Java ignores an initial response; the challenge is the same either way.
      this.state = 'challenged';
      const random = this.opts.randomBytes(30);
      assert.equal(random.length, 30, 'randomBytes(30) must return 30 bytes');
      this.nonce = Buffer.from(random.toString('base64'), 'latin1');
      const challenge = Buffer.concat([
        Buffer.from('realm='), quoted(Buffer.from(SASL_SERVER_NAME)),
        Buffer.from(',nonce='), quoted(this.nonce),
        Buffer.from(',charset=utf-8,algorithm=md5-sess'),
      ]);
      return { kind: 'challenge', token: challenge };
    }
    if (this.state === 'done') return { kind: 'error', message: 'DIGEST-MD5 negotiation is already over' };
    this.state = 'done';
    const step = this.verify(token);
    return typeof step === 'string' ? { kind: 'error', message: `DIGEST-MD5: ${step}` } : step;
  }

  private verify(token: Buffer): SaslStep | string {
    const d = parseDirectives(token);
    if (typeof d === 'string') return d;
    const text = (key: string): string | undefined => d.get(key)?.toString('utf8');
    const charset = text('charset');
    if (charset !== undefined && charset !== 'utf-8') return `incompatible charset value: ${charset}`;
    const maxbuf = text('maxbuf');
    if (maxbuf !== undefined && !/^[+-]?[0-9]{1,10}$/.test(maxbuf)) return `invalid maxbuf: ${maxbuf}`;
    const username = text('username');
    if (username === undefined) return 'missing username';
    const realm = text('realm') ?? '';
    if (realm !== SASL_SERVER_NAME) return `nonexistent realm: ${realm}`;
    const nonce = d.get('nonce');
    if (nonce === undefined) return 'missing nonce';
    if (!nonce.equals(this.nonce)) return 'mismatched nonce';
    const cnonce = d.get('cnonce');
    if (cnonce === undefined) return 'missing cnonce';
    const nc = text('nonce-count');
    if (nc !== undefined && !(/^[+]?[0-9a-fA-F]+$/.test(nc) && parseInt(nc, 16) === 1)) return `nonce count does not match: ${nc}`;
    const qop = text('qop') ?? 'auth';
    if (qop === 'auth-int' || qop === 'auth-conf') return `server does not support qop: ${qop}`;
    if (qop !== 'auth') return `invalid qop: ${qop}`;
    const digestUri = text('digest-uri');
    const expectedUri = `${SASL_PROTOCOL}/${SASL_SERVER_NAME}`;
    if (digestUri === undefined || digestUri.toLowerCase() !== expectedUri) {
      return `mismatched URI: ${digestUri}; expecting: ${expectedUri}`;
    }
    const response = d.get('response');
    if (response === undefined) return 'missing response';
    const password = this.password(username);
    if (password === undefined) return `cannot acquire password for ${username} in realm : ${realm}`;
    const authzid = d.get('authzid');
    const input = { digestUri, qop, username, realm, password, nonce, cnonce, nonceCount: 1, authzid };
    if (!response.equals(Buffer.from(responseValue({ ...input, method: 'AUTHENTICATE' }), 'latin1'))) {
      return 'mismatched response';
    }
    const rspauth = Buffer.from(`rspauth=${responseValue({ ...input, method: '' })}`, 'latin1');
    // ZooKeeper's authorized id is the authentication id (SaslServerCallbackHandler ignores
    // authzid); its Kerberos-style rewriting of names with '/' or '@' is not applied here.
    return { kind: 'complete', token: rspauth, authorizedId: username };
  }

  private password(username: string): string | undefined {
    const password = this.opts.credentials.get(username);
    if (password === undefined) return undefined;
    if (username === 'super' && this.opts.superPassword !== undefined) return this.opts.superPassword;
    return password;
  }
}

/**
 * The ids a completed negotiation adds (ZooKeeperServer.processSasl): sasl:<authorizedId>,
 * and super when the id is one of the zookeeper.superUser[.*] values.
 */
export function saslIds(authorizedId: string, superUsers: readonly string[] = []): Id[] {
  const ids: Id[] = [{ scheme: 'sasl', id: authorizedId }];
  if (authorizedId !== '' && superUsers.includes(authorizedId)) ids.push({ scheme: 'super', id: '' });
  return ids;
}

/**
 * The "sasl" ACL scheme (SASLAuthenticationProvider). ZooKeeper registers it only when
 * configured (authProvider.N=...SASLAuthenticationProvider); without it sasl ACLs are invalid.
 * An id matches an equal expression, the id "super" matches all, and an expression equal to
 * zookeeper.letAnySaslUserDoX matches every sasl id. Valid expressions are Kerberos-shaped:
 * anything without '@', or service[/host]@REALM with no further '/' or '@'.
 */
export function saslProvider(opts: { letAnySaslUserDoX?: string } = {}): AuthProvider {
  return {
    scheme: 'sasl',
    isAuthenticated: true,
    authenticate: () => ({ error: 'sasl is negotiated with SASL requests (opcode 102), not addauth' }),
    matches: (id, aclExpr) => id === 'super' || id === aclExpr || (opts.letAnySaslUserDoX !== undefined && aclExpr === opts.letAnySaslUserDoX),
    isValid: (aclExpr) => !aclExpr.includes('@') || /^[^/@]*(\/[^/@]*)?@[^/@]*$/.test(aclExpr),
    userName: (id) => id,
  };
}
