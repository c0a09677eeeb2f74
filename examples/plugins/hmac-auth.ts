// hmac-auth.ts — an auth scheme for signed, expiring tokens: a client sends
//   addauth token <user>.<expiry-unix-seconds>.<base64url HMAC-SHA256(secret, "<user>.<expiry>")>
// and, if the signature checks and the token has not expired, its connection holds the id
// token:<user>. ACLs name token:<user>, or token:* for any valid token holder; the "auth" ACL
// expands to token:<user>. The secret stays on the server and whatever mints tokens (see
// mintToken); the server never stores tokens.
//
//   plugin.6=./examples/plugins/hmac-auth.ts
//   plugin.6.secretFile=/etc/zkts/token.secret       (or plugin.6.secret=… — at least 16 bytes)
//   plugin.6.maxTtlSeconds=86400
//
// In your own plugin, import from 'zkts/plugin'.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { definePlugin, option } from '../../src/plugin/index.js';

const USER = /^[A-Za-z0-9_@-]{1,128}$/;

function sign(secret: Buffer, payload: string): string {
  return createHmac('sha256', secret).update(payload, 'utf8').digest('base64url');
}

/** A token for `user` valid until `expiresAt` (Date or unix seconds). */
export function mintToken(secret: string | Buffer, user: string, expiresAt: Date | number): string {
  if (!USER.test(user)) throw new Error(`not a token user name: ${JSON.stringify(user)}`);
  const expiry = typeof expiresAt === 'number' ? Math.floor(expiresAt) : Math.floor(expiresAt.getTime() / 1000);
  const payload = `${user}.${expiry}`;
  return `${payload}.${sign(Buffer.from(secret), payload)}`;
}

/** The user a token names, or why it is refused. */
export function verifyToken(secret: Buffer, token: string, nowSec: number, maxTtlSec: number, skewSec: number): { user: string } | { error: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return { error: 'not a token' };
  const [user, expiryText, mac] = parts as [string, string, string];
  if (!USER.test(user) || !/^\d{1,12}$/.test(expiryText)) return { error: 'not a token' };
  const expected = Buffer.from(sign(secret, `${user}.${expiryText}`));
  const given = Buffer.from(mac);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { error: 'bad signature' };
  const expiry = Number(expiryText);
  if (expiry + skewSec < nowSec) return { error: 'expired' };
  if (expiry - nowSec > maxTtlSec + skewSec) return { error: 'expires too far in the future' };
  return { user };
}

export default definePlugin({
  name: 'hmac-auth',
  version: '1.0.0',
  options: {
    scheme: option.string({ default: 'token', pattern: /^[a-z][a-z0-9-]*$/ }),
    secret: option.string({ optional: true }),
    secretFile: option.string({ optional: true }),
    maxTtlSeconds: option.integer({ default: 7 * 24 * 3600, min: 1 }),
    clockSkewSeconds: option.integer({ default: 30, min: 0 }),
  },
  async setup(ctx) {
    const { scheme, maxTtlSeconds, clockSkewSeconds } = ctx.options;
    if ((ctx.options.secret === undefined) === (ctx.options.secretFile === undefined)) {
      throw new Error('give exactly one of the options secret and secretFile');
    }
    const secret =
      ctx.options.secret !== undefined ? Buffer.from(ctx.options.secret, 'utf8') : Buffer.from((await readFile(ctx.options.secretFile!, 'utf8')).trim(), 'utf8');
    if (secret.length < 16) throw new Error('the secret must be at least 16 bytes');
    ctx.authProvider({
      scheme,
      authenticate(credential) {
        const r = verifyToken(secret, credential.toString('utf8'), Date.now() / 1000, maxTtlSeconds, clockSkewSeconds);
        if ('error' in r) return { error: r.error };
        return [{ scheme, id: r.user }];
      },
      matches: (id, aclExpr) => aclExpr === '*' || aclExpr === id,
      isValid: (aclExpr) => aclExpr === '*' || USER.test(aclExpr),
    });
  },
});
