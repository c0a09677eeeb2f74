// session-tracker.ts — live sessions and their expiry, as ZooKeeper's SessionTrackerImpl: ids
// start at (elapsed ms << 24) >>> 8 with the server id in the top byte; a session expires in the
// tick bucket after its timeout; every request or ping moves it to a later bucket. Expiry only
// reports the session: the server turns it into a closeSession txn.
import { CONTAINER_EPHEMERAL_OWNER } from '../tree/ephemeral-type.js';

export interface Session {
  readonly sessionId: bigint;
  timeoutMs: number;
  expiresAt: number;
  closing: boolean;
}

export function initialSessionId(serverId: number, elapsedMs: number): bigint {
  let sid = BigInt.asUintN(64, BigInt(Math.floor(elapsedMs)) << 24n) >> 8n;
  sid = BigInt.asIntN(64, sid | (BigInt(serverId) << 56n));
  if (sid === CONTAINER_EPHEMERAL_OWNER) sid++;
  return sid;
}

export class SessionTracker {
  readonly sessions = new Map<bigint, Session>();
  private readonly buckets = new Map<number, Set<Session>>();
  private nextSessionId: bigint;

  constructor(
    private readonly tickMs: number,
    serverId: number,
    elapsedMs: number,
  ) {
    this.nextSessionId = initialSessionId(serverId, elapsedMs);
  }

  /** ZooKeeper's ExpiryQueue.roundToNextInterval. */
  private bucketOf(t: number): number {
    return (Math.floor(t / this.tickMs) + 1) * this.tickMs;
  }

  create(timeoutMs: number, now: number): Session {
    return this.add(this.newSessionId(), timeoutMs, now);
  }

  /** The next session id, not yet tracked (a learner's: tracked once the leader commits it). */
  newSessionId(): bigint {
    return this.nextSessionId++;
  }

  /** Tracks a session with a known id (a restored one, or one created elsewhere). */
  add(sessionId: bigint, timeoutMs: number, now: number): Session {
    const s: Session = { sessionId, timeoutMs, expiresAt: 0, closing: false };
    this.sessions.set(sessionId, s);
    this.touch(s, now);
    return s;
  }

  get(sessionId: bigint): Session | undefined {
    return this.sessions.get(sessionId);
  }

  touch(s: Session, now: number): void {
    const at = this.bucketOf(now + s.timeoutMs);
    if (at === s.expiresAt) return;
    if (s.expiresAt !== 0) this.buckets.get(s.expiresAt)?.delete(s);
    s.expiresAt = at;
    let b = this.buckets.get(at);
    if (b === undefined) {
      b = new Set();
      this.buckets.set(at, b);
    }
    b.add(s);
  }

  remove(sessionId: bigint): void {
    const s = this.sessions.get(sessionId);
    if (s === undefined) return;
    this.sessions.delete(sessionId);
    this.buckets.get(s.expiresAt)?.delete(s);
  }

  /** Sessions whose bucket has passed; they are marked closing and left for the caller. */
  expired(now: number): Session[] {
    const out: Session[] = [];
    for (const [at, b] of this.buckets) {
      if (at > now) continue;
      this.buckets.delete(at);
      for (const s of b) {
        if (!s.closing) {
          s.closing = true;
          out.push(s);
        }
      }
    }
    return out;
  }

  /**
   * A learner does not expire sessions (its leader does): buckets whose time has passed are
   * dropped without marking their sessions, so the table does not grow with time.
   */
  forgetPassed(now: number): void {
    for (const at of this.buckets.keys()) if (at <= now) this.buckets.delete(at);
  }

  /** When the next bucket falls due, or null. */
  nextExpiry(): number | null {
    let min: number | null = null;
    for (const [at, b] of this.buckets) if (b.size > 0 && (min === null || at < min)) min = at;
    return min;
  }

  get size(): number {
    return this.sessions.size;
  }
}
