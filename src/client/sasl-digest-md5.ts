// sasl-digest-md5.ts — the client side of SASL DIGEST-MD5 (RFC 2831) as ZooKeeper's Java client
// runs it: Java's DigestMD5Client for protocol "zookeeper" and server "zk-sasl-md5", with the
// user as both username and authzid, qop "auth" only. Three steps: an empty first token (the
// mechanism has no initial response), the digest-response to the server's challenge, and the
// check of the server's rspauth (which proves the server knows the password too). Pure: the
// cnonce's randomness is passed in.
import { createHash, timingSafeEqual } from 'node:crypto';

export const SASL_PROTOCOL = 'zookeeper';
export const SASL_SERVER_NAME = 'zk-sasl-md5';
const DIGEST_URI = `${SASL_PROTOCOL}/${SASL_SERVER_NAME}`;

export type SaslClientStep = { kind: 'send'; token: Buffer } | { kind: 'done' } | { kind: 'error'; message: string };

/** key=value and key="quoted \" value" pairs, comma separated (RFC 2831 section 7.1). */
export function parseDirectives(text: string): Map<string, string> | string {
  const out = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /[\s,]/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const eq = text.indexOf('=', i);
    if (eq < 0) return `directive without a value at ${i}`;
    const key = text.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    let value = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return `unterminated quoted value of ${key}`;
        const c = text[i++]!;
        if (c === '"') break;
        value += c === '\\' && i < text.length ? text[i++]! : c;
      }
    } else {
      const end = text.indexOf(',', i);
      value = text.slice(i, end < 0 ? text.length : end).trim();
      i = end < 0 ? text.length : end;
    }
    if (out.has(key) && key !== 'realm') return `directive ${key} given twice`;
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}

/** ISO-8859-1 when every character fits, else UTF-8 (as Java's DigestMD5Base encodes). */
function latin1OrUtf8(s: string): Buffer {
  return /[^\u0000-\u00ff]/.test(s) ? Buffer.from(s, 'utf8') : Buffer.from(s, 'latin1');
}

function md5(...parts: (Buffer | string)[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

function quote(s: string): string {
  return `"${s.replace(/(["\\])/g, '\\$1')}"`;
}

export class DigestMd5Client {
  private stage: 'initial' | 'challenged' | 'responded' | 'done' = 'initial';
  private expectedRspauth = '';

  constructor(
    private readonly username: string,
    private readonly password: string,
    private readonly randomBytes: (n: number) => Buffer,
  ) {}

  /** The token to send first: empty (DIGEST-MD5 has no initial response). */
  start(): Buffer {
    this.stage = 'challenged';
    return Buffer.alloc(0);
  }

  /** Takes the server's token; returns the next token, done, or why the exchange failed. */
  evaluate(token: Buffer): SaslClientStep {
    if (this.stage === 'challenged') return this.respond(token);
    if (this.stage === 'responded') return this.checkRspauth(token);
    return { kind: 'error', message: `unexpected SASL token in stage ${this.stage}` };
  }

  private respond(challenge: Buffer): SaslClientStep {
    const d = parseDirectives(challenge.toString('utf8'));
    if (typeof d === 'string') return { kind: 'error', message: `bad DIGEST-MD5 challenge: ${d}` };
    const nonce = d.get('nonce');
    if (nonce === undefined) return { kind: 'error', message: 'DIGEST-MD5 challenge without a nonce' };
    if (d.get('algorithm') !== 'md5-sess') return { kind: 'error', message: `DIGEST-MD5 challenge with algorithm ${d.get('algorithm')}` };
    const qops = (d.get('qop') ?? 'auth').split(',').map((q) => q.trim());
    if (!qops.includes('auth')) return { kind: 'error', message: `server offers qop ${qops.join(',')}, not auth` };
    const realm = d.get('realm') ?? SASL_SERVER_NAME;
    const cnonce = this.randomBytes(30).toString('base64');
    const nc = '00000001';
    const a1 = md5(
      md5(latin1OrUtf8(this.username), ':', latin1OrUtf8(realm), ':', latin1OrUtf8(this.password)),
      ':', nonce, ':', cnonce, ':', Buffer.from(this.username, 'utf8'),
    ).toString('hex');
    const kd = (a2: string): string => md5(a1, ':', nonce, ':', nc, ':', cnonce, ':auth:', md5(a2).toString('hex')).toString('hex');
    this.expectedRspauth = kd(`:${DIGEST_URI}`);
    this.stage = 'responded';
    const utf8 = d.get('charset')?.toLowerCase() === 'utf-8';
    const fields = [
      ...(utf8 ? ['charset=utf-8'] : []),
      `username=${quote(this.username)}`,
      `realm=${quote(realm)}`,
      `nonce=${quote(nonce)}`,
      `nc=${nc}`,
      `cnonce=${quote(cnonce)}`,
      `digest-uri=${quote(DIGEST_URI)}`,
      'maxbuf=65536',
      `response=${kd(`AUTHENTICATE:${DIGEST_URI}`)}`,
      'qop=auth',
      `authzid=${quote(this.username)}`,
    ];
    return { kind: 'send', token: Buffer.from(fields.join(','), utf8 ? 'utf8' : 'latin1') };
  }

  private checkRspauth(token: Buffer): SaslClientStep {
    const d = parseDirectives(token.toString('utf8'));
    const got = typeof d === 'string' ? undefined : d.get('rspauth');
    const want = Buffer.from(this.expectedRspauth);
    if (got === undefined || got.length !== want.length || !timingSafeEqual(Buffer.from(got), want)) {
      return { kind: 'error', message: 'the server did not prove it knows the password (bad rspauth)' };
    }
    this.stage = 'done';
    return { kind: 'done' };
  }
}
