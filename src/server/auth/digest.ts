// digest.ts — ZooKeeper's built-in authentication schemes "digest" and "ip", the provider
// interface the server consults for ACL checks, and the two ACL walks that use it: checkAcl
// (ZooKeeperServer.checkACL) and fixupAcl (PrepRequestProcessor.fixupACL). Pure: no I/O.
// Behaviour follows ZooKeeper 3.9 DigestAuthenticationProvider and IPAuthenticationProvider,
// including their quirks (Java's String.split and Integer.parseInt rules), so that ACLs
// written by ZooKeeper are accepted and matched the same way here.
import { createHash } from 'node:crypto';
import { ZktsError } from '../../errors.js';
import type { ACL, Id } from '../../protocol/records.js';

export interface AuthContext {
  remoteAddress: string;
  /** The DER client certificate its TLS handshake verified (x509.ts verifiedPeerCertificate); none on plaintext. */
  peerCertificate?: Buffer;
}

export type AuthResult = { ids: Id[] } | { error: string };

export interface AuthProvider {
  readonly scheme: string;
  /** ZooKeeper's isAuthenticated(): ids of this scheme name a user, so the "auth" ACL expands to them. */
  readonly isAuthenticated: boolean;
  /** An addauth packet (opcode 100) for this scheme; the ids to add to the connection, or why not. */
  authenticate(authBytes: Buffer, ctx: AuthContext): AuthResult;
  /** Whether an authenticated id of this scheme satisfies an ACL id expression of this scheme. */
  matches(id: string, aclExpr: string): boolean;
  /** Whether an ACL id expression is well formed (setACL/create reject it with InvalidACL if not). */
  isValid(aclExpr: string): boolean;
  /** The user part of an id, as whoAmI reports it (AuthenticationProvider.getUserName). */
  userName(id: string): string;
}

/** Providers by scheme, as ProviderRegistry holds them. */
export type AuthProviders = ReadonlyMap<string, AuthProvider>;

// The id ZooKeeper gives a digest user whose digest equals the configured superDigest.
export const SUPER_ID: Id = Object.freeze({ scheme: 'super', id: '' });

/** How many parts Java's s.split(sep) returns: trailing empty parts dropped, but "" gives [""]. */
function javaSplitLength(s: string, sep: string): number {
  if (s === '') return 1;
  const parts = s.split(sep);
  let n = parts.length;
  while (n > 0 && parts[n - 1] === '') n--;
  return n;
}

/** Java's Integer.parseInt(s, radix) for radix 10 or 16; undefined where Java throws. */
function javaParseInt(s: string, radix: 10 | 16): number | undefined {
  const digits = radix === 10 ? /^[+-]?[0-9]+$/ : /^[+-]?[0-9a-fA-F]+$/;
  if (!digits.test(s)) return undefined;
  const v = parseInt(s, radix);
  return v >= -0x80000000 && v <= 0x7fffffff ? v : undefined;
}

// ---- digest --------------------------------------------------------------------------------

/**
 * "user:password" → "user:" + base64(H("user:password")), H being SHA1 unless
 * zookeeper.DigestAuthenticationProvider.digestAlg names another (Java algorithm names).
 */
export function generateDigest(idPassword: string, digestAlg = 'SHA1'): string {
  const user = idPassword.split(':', 1)[0];
  const digest = createHash(digestAlg).update(idPassword, 'utf8').digest('base64');
  return `${user}:${digest}`;
}

export interface DigestOptions {
  /** zookeeper.DigestAuthenticationProvider.superDigest: "super:<base64 digest>". */
  superDigest?: string;
  /** zookeeper.DigestAuthenticationProvider.digestAlg; SHA1 by default. */
  digestAlg?: string;
}

export function digestProvider(opts: DigestOptions = {}): AuthProvider {
  const digestAlg = opts.digestAlg ?? 'SHA1';
  try {
    createHash(digestAlg);
  } catch (cause) {
    throw new ZktsError(
      'ZKTS_ERR_CONFIG',
      `zookeeper.DigestAuthenticationProvider.digestAlg=${digestAlg} is not a digest algorithm this ` +
        'runtime supports; use SHA1 (the default), SHA-256 or SHA3-256',
      { cause },
    );
  }
  return {
    scheme: 'digest',
    isAuthenticated: true,
    authenticate(authBytes) {
      const digest = generateDigest(authBytes.toString('utf8'), digestAlg);
      const ids: Id[] = [];
      if (opts.superDigest !== undefined && digest === opts.superDigest) ids.push({ ...SUPER_ID });
      ids.push({ scheme: 'digest', id: digest });
      return { ids };
    },
    matches: (id, aclExpr) => id === aclExpr,
    // Exactly two parts once Java drops trailing empty strings: "u:d", ":d" and "u:d:" pass.
    isValid: (aclExpr) => javaSplitLength(aclExpr, ':') === 2,
    userName: (id) => id.split(':', 1)[0],
  };
}

// ---- ip ------------------------------------------------------------------------------------

function v4Bytes(addr: string): number[] | undefined {
  const parts = addr.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const part of parts) {
    const v = javaParseInt(part, 10);
    if (v === undefined || v < 0 || v > 255) return undefined;
    out.push(v);
  }
  return out;
}

function v6Segments(segments: string[], out: number[]): boolean {
  for (const segment of segments) {
    if (segment === '' || segment.length > 4) return false;
    const v = javaParseInt(segment, 16); // "-1" parses, as in Java, to bytes ff ff
    if (v === undefined) return false;
    out.push((v >> 8) & 0xff, v & 0xff);
  }
  return true;
}

/** IPAuthenticationProvider.parseV6addr: no embedded IPv4, no zone, at most one "::". */
function v6Bytes(addr: string): number[] | undefined {
  const halves = addr.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' && halves.length === 2 ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length >= 8) return undefined;
  const before: number[] = [];
  const after: number[] = [];
  if (!v6Segments(head, before) || !v6Segments(tail, after)) return undefined;
  return [...before, ...new Array<number>(16 - before.length - after.length).fill(0), ...after];
}

function addrBytes(addr: string): number[] | undefined {
  if (addr.includes(':')) return v6Bytes(addr);
  if (addr.includes('.')) return v4Bytes(addr);
  return undefined;
}

/** An ip ACL expression "addr[/bits]" as bytes and prefix length, or undefined if invalid. */
function parseIpExpr(aclExpr: string): { bytes: number[]; bits: number } | undefined {
  const slash = aclExpr.indexOf('/');
  const bytes = addrBytes(slash < 0 ? aclExpr : aclExpr.slice(0, slash));
  if (bytes === undefined) return undefined;
  if (slash < 0) return { bytes, bits: bytes.length * 8 };
  const bits = javaParseInt(aclExpr.slice(slash + 1), 10);
  if (bits === undefined || bits < 0 || bits > bytes.length * 8) return undefined;
  return { bytes, bits };
}

function masked(bytes: number[], bits: number): number[] {
  return bytes.map((b, i) => {
    if (i < Math.floor(bits / 8)) return b;
    if (i > Math.floor(bits / 8)) return 0;
    return b & ~((1 << (8 - (bits % 8))) - 1) & 0xff;
  });
}

/**
 * A socket's remote address as Java's InetAddress.getHostAddress() prints it, which is the id
 * ZooKeeper gives every connection (NIOServerCnxn: Id("ip", addr.getHostAddress())): IPv4-mapped
 * IPv6 addresses become dotted quads, other IPv6 addresses eight uncompressed hex groups.
 */
export function ipIdFromRemoteAddress(remoteAddress: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped !== null) return mapped[1];
  if (!remoteAddress.includes(':')) return remoteAddress;
  const zone = remoteAddress.indexOf('%');
  let addr = zone < 0 ? remoteAddress : remoteAddress.slice(0, zone);
  const v4Tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(addr);
  if (v4Tail !== null) {
    const [a, b, c, d] = v4Tail.slice(1).map(Number);
    addr = addr.slice(0, v4Tail.index) + (((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16));
  }
  const bytes = v6Bytes(addr);
  if (bytes === undefined) return remoteAddress;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(':') + (zone < 0 ? '' : remoteAddress.slice(zone));
}

export function ipProvider(): AuthProvider {
  return {
    scheme: 'ip',
    isAuthenticated: false,
    authenticate: (_authBytes, ctx) => ({
      ids: [{ scheme: 'ip', id: ipIdFromRemoteAddress(ctx.remoteAddress) }],
    }),
    matches(id, aclExpr) {
      const acl = parseIpExpr(aclExpr);
      const remote = addrBytes(id);
      if (acl === undefined || remote === undefined || remote.length !== acl.bytes.length) return false;
      const want = masked(acl.bytes, acl.bits);
      return masked(remote, acl.bits).every((b, i) => b === want[i]);
    },
    isValid: (aclExpr) => parseIpExpr(aclExpr) !== undefined,
    userName: (id) => id,
  };
}

/** ProviderRegistry's defaults: ip always, digest unless zookeeper.DigestAuthenticationProvider.enabled=false. */
export function defaultProviders(opts: DigestOptions & { digestEnabled?: boolean } = {}): Map<string, AuthProvider> {
  const providers = new Map<string, AuthProvider>([['ip', ipProvider()]]);
  if (opts.digestEnabled !== false) providers.set('digest', digestProvider(opts));
  return providers;
}

// ---- ACLs ----------------------------------------------------------------------------------

/**
 * Whether a connection holding authIds may do `perm` on a znode with `acl`
 * (ZooKeeperServer.checkACL, without skipACL): an empty ACL or a super id allows everything;
 * otherwise some entry granting perm must be world:anyone or match an id of its scheme.
 */
export function checkAcl(acl: readonly ACL[], perm: number, authIds: readonly Id[], providers: AuthProviders): boolean {
  if (acl.length === 0) return true;
  if (authIds.some((a) => a.scheme === 'super')) return true;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    if (entry.id.scheme === 'world' && entry.id.id === 'anyone') return true;
    const provider = providers.get(entry.id.scheme);
    if (provider === undefined) continue;
    for (const a of authIds) {
      if (a.scheme === entry.id.scheme && provider.matches(a.id, entry.id.id)) return true;
    }
  }
  return false;
}

/**
 * The ACL a create/setACL stores (PrepRequestProcessor.fixupACL): duplicates dropped,
 * "auth" entries replaced by the connection's authenticated ids, every other entry checked
 * with its provider's isValid. undefined means ZooKeeper's InvalidACL.
 */
export function fixupAcl(acl: readonly ACL[], authIds: readonly Id[], providers: AuthProviders): ACL[] | undefined {
  const unique: ACL[] = [];
  for (const a of acl) {
    if (!unique.some((u) => u.perms === a.perms && u.id.scheme === a.id.scheme && u.id.id === a.id.id)) unique.push(a);
  }
  if (unique.length === 0) return undefined;
  const out: ACL[] = [];
  for (const a of unique) {
    if (a.id.scheme === 'world' && a.id.id === 'anyone') {
      out.push(a);
    } else if (a.id.scheme === 'auth') {
      const authenticated = authIds.filter((id) => providers.get(id.scheme)?.isAuthenticated === true);
      if (authenticated.length === 0) return undefined;
      for (const id of authenticated) out.push({ perms: a.perms, id: { scheme: id.scheme, id: id.id } });
    } else {
      const provider = providers.get(a.id.scheme);
      if (provider === undefined || !provider.isValid(a.id.id)) return undefined;
      out.push(a);
    }
  }
  return out;
}
