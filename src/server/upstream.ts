// upstream.ts — what a learner's client-facing server (ZkServer with quorumRole) needs of the
// link to the leader: writes forwarded as REQUEST packets, REVALIDATE for sessions that move in,
// and session touches for the next PING. The answers come back through ZkServer.applyCommitted,
// syncCompleted and revalidated. Kept apart so the server can be tested with a fake leader.
import type { Id } from '../protocol/records.js';

/** A client request as ZooKeeper's Learner.request sends it: the body is the client's bytes. */
export interface ForwardedRequest {
  sessionId: bigint;
  cxid: number;
  type: number;
  /** The request body after the RequestHeader (createSession: the 4-byte timeout). */
  body: Buffer;
  /** The session's identities; the leader checks ACLs with them. */
  authInfo: readonly Id[];
}

/** What srvr/mntr show of a learner. */
export interface LearnerView {
  /** QuorumPeer.getDetailedPeerState: "observing - broadcast", "looking - election", ... */
  readonly peerState: string;
  /** Voting members in the config (quorum_size). */
  readonly quorumSize: number;
  /** Txns after which the tree's digest differed from the leader's (digest_mismatches_count). */
  readonly digestMismatches: number;
}

export interface Upstream {
  /** REQUEST to the leader. */
  forward(req: ForwardedRequest): void;
  /** REVALIDATE {sessionId, timeout}; answered through ZkServer.revalidated. */
  revalidate(sessionId: bigint, timeoutMs: number): void;
  /** The session is alive here: reported in the next PING. */
  touch(sessionId: bigint, timeoutMs: number): void;
}
