// ui-sessions.ts — the ZooKeeper sessions behind the web tree browser. Every read and write of the
// page runs on a real session over an in-memory connection to the server (MemorySession, as a
// protocol plugin's), so the server's own ACL checks, ordering, watches and limits apply. A
// session's identity is what the HTTP request proves and nothing more:
//   anonymous          world:anyone + ip:<address>               (the server adds ip:<address>)
//   digest user:pass   + digest:user:<hash> (addauth on the session; a wrong password is refused)
//   x509 client cert   + x509:<subject> (over HTTPS, a certificate the admin server's trust store accepts)
// Sessions are kept per identity and address so that a page does not cost a createSession txn
// per request; one idle past idleMs is closed, and at most maxSessions are kept (the least
// recently used goes first).
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Code } from '../protocol/codes.js';
import type { Id } from '../protocol/records.js';
import { MemorySession } from '../plugin/protocol-session.js';
import type { ZkServer } from '../server/zk-server.js';

/** Who a UI request is, as far as its HTTP request proves. */
export interface UiIdentity {
  readonly remoteAddress: string;
  /** "user:password" from `Authorization: digest user:password`; never logged. */
  readonly digest?: string;
  /** The x509 ids of a verified client certificate (x509Ids). */
  readonly x509?: readonly Id[];
}

export function isAuthenticated(who: UiIdentity): boolean {
  return who.digest !== undefined || (who.x509?.length ?? 0) > 0;
}

/** The cache key: the identity without the secret in clear. */
function keyOf(who: UiIdentity): string {
  const digest = who.digest === undefined ? '' : createHash('sha256').update(who.digest).digest('base64');
  const x509 = (who.x509 ?? []).map((id) => id.id).join('\n');
  return `${who.remoteAddress}\u0000${digest}\u0000${x509}`;
}

/** Refused credentials: the page answers 401. */
export class UiAuthError extends Error {}

interface Held {
  session: Promise<MemorySession>;
  lastUsedMs: number;
}

export interface UiSessionOptions {
  sessionTimeoutMs: number;
  idleMs: number;
  maxSessions: number;
}

export class UiSessions {
  private readonly held = new Map<string, Held>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly server: ZkServer,
    private readonly opts: UiSessionOptions,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, Math.floor(opts.idleMs / 2)));
    this.sweeper.unref();
  }

  /** A new session of this identity, not cached (the caller closes it): for event streams. */
  async open(who: UiIdentity, keepAlive = true): Promise<MemorySession> {
    const accept = (stream: Duplex): void => this.server.acceptConnection(stream as unknown as Socket, who.x509 ?? []);
    const s = await MemorySession.open(
      accept,
      { timeoutMs: this.opts.sessionTimeoutMs, remoteAddress: who.remoteAddress, keepAlive },
      this.server.opts.maxFrameBytes,
    );
    if (who.digest !== undefined) {
      let rc: number;
      try {
        rc = await s.addAuth('digest', who.digest);
      } catch {
        rc = Code.AuthFailed;
      }
      if (rc !== Code.OK) {
        s.detach();
        throw new UiAuthError('digest authentication failed');
      }
    }
    return s;
  }

  /** The cached session of this identity, opened when there is none (or it has closed). */
  async of(who: UiIdentity): Promise<MemorySession> {
    const key = keyOf(who);
    const now = performance.now();
    const h = this.held.get(key);
    if (h !== undefined) {
      h.lastUsedMs = now;
      this.held.delete(key); // re-insert: the map's order is least recently used first
      this.held.set(key, h);
      const s = await h.session.catch(() => null);
      if (s !== null && !s.closed) return s;
      if (this.held.get(key) === h) this.held.delete(key);
    }
    while (this.held.size >= this.opts.maxSessions) {
      const [oldest, o] = this.held.entries().next().value as [string, Held];
      this.held.delete(oldest);
      void o.session.then((s) => s.close(), () => undefined);
    }
    const session = this.open(who);
    const entry: Held = { session, lastUsedMs: now };
    this.held.set(key, entry);
    session.catch(() => {
      if (this.held.get(key) === entry) this.held.delete(key);
    });
    return session;
  }

  private sweep(): void {
    const now = performance.now();
    for (const [key, h] of this.held) {
      if (now - h.lastUsedMs < this.opts.idleMs) continue;
      this.held.delete(key);
      void h.session.then((s) => s.close(), () => undefined);
    }
  }

  /** Closes every held session (their connections; the sessions end with closeSession). */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.held.values()];
    this.held.clear();
    await Promise.all(all.map((h) => h.session.then((s) => s.close(), () => undefined)));
  }
}
