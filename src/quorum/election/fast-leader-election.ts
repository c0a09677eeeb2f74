// fast-leader-election.ts — ZooKeeper's FastLeaderElection as a pure state machine: inputs
// (lookForLeader starts, a notification arrives from a sid, the timer fires) in, outputs
// (notifications to send, the timer to arm, connect to everyone, the decision) out. No sockets,
// no clock: the caller (ElectionService) owns the transport and the one timer.
//
// It plays both of ZooKeeper's threads: WorkerReceiver (answers a non-voter always, a LOOKING
// voter when we are not LOOKING or when its round is behind ours) and the lookForLeader loop:
// - a notification from a voter for a voter is a vote. LOOKING votes: a higher electionEpoch
//   (round) resets the received votes and is adopted, a lower one is ignored, an equal one is
//   adopted when totalOrderPredicate prefers it; a quorum of votes equal to our proposal starts
//   finalizeWait (200 ms), and a better vote within it resumes the election;
// - FOLLOWING/LEADING votes (a running ensemble answering a joiner, §1.4): decide when a quorum
//   agrees on (leader, peerEpoch) and the leader itself said LEADING (checkLeader), within our
//   round or, through outofelection, any round (which we then adopt);
// - no notification within the interval: notify everyone again (or connect, when nothing was
//   delivered), the interval doubling from 200 ms to 60 s.
// An observer votes with leader = zxid = peerEpoch = Long.MIN_VALUE; voters answer it and never
// count it, and it follows the votes of the voters; unlike ZooKeeper's, it decides only on
// FOLLOWING/LEADING answers (see lookingVote). Only majority quorums (QuorumMaj).

import { LONG_MIN, type Notification, type ServerState } from './codec.js';
import { formatConfigText, isQuorum, parseConfigText, votersOf, type QuorumConfig } from './config.js';

export type LearnerType = 'participant' | 'observer';

/** ZooKeeper's Vote: a (leader, zxid, electionEpoch, peerEpoch) with the state and message version it came with. */
export interface Vote {
  leader: bigint;
  zxid: bigint;
  electionEpoch: bigint;
  peerEpoch: bigint;
  state: ServerState;
  version: number;
}

export type ElectionOutput =
  | { type: 'send'; to: number; notification: Notification }
  /** Nothing was delivered since the last round of notifications: (re)connect to every peer with a queued message. */
  | { type: 'connectAll' }
  /** Arm the one timer (replacing any armed one); null disarms it. */
  | { type: 'timer'; ms: number | null }
  | { type: 'decided'; vote: Vote; state: ServerState; configText: string | null }
  /** A LOOKING server adopted a newer config from a notification; the election restarted on it. */
  | { type: 'config'; config: QuorumConfig }
  | { type: 'ignored'; from: number; why: string };

export interface FastLeaderElectionOptions {
  myId: number;
  config: QuorumConfig;
  learnerType: LearnerType;
  finalizeWaitMs?: number;
  minNotificationIntervalMs?: number;
  maxNotificationIntervalMs?: number;
}

/** Notifications queued while LOOKING before lookForLeader runs (QuorumCnxManager.RECV_CAPACITY). */
const QUEUE_MAX = 100;

export class FastLeaderElection {
  readonly myId: number;
  readonly learnerType: LearnerType;
  private config: QuorumConfig;
  private configText: string;
  private voters: Set<number>;
  private readonly finalizeWaitMs: number;
  private readonly minIntervalMs: number;
  private readonly maxIntervalMs: number;

  /** QuorumPeer's state. */
  private peerState: ServerState = 'LOOKING';
  /** QuorumPeer's currentVote: what a non-LOOKING server answers with. */
  private current: Vote | null = null;
  logicalclock = 0n;
  private proposal = { leader: -1n, zxid: -1n, peerEpoch: -1n };
  private init = { zxid: 0n, epoch: 0n };
  private running = false;
  private finalizing = false;
  private notTimeoutMs: number;
  private readonly recvset = new Map<number, Vote>();
  private readonly outofelection = new Map<number, Vote>();
  /** The latest config text each sid sent in this election. */
  private readonly configTexts = new Map<number, string>();
  private readonly queue: { from: number; n: Notification }[] = [];
  private readonly loopback: Notification[] = [];

  constructor(opts: FastLeaderElectionOptions) {
    this.myId = opts.myId;
    this.learnerType = opts.learnerType;
    this.config = opts.config;
    this.configText = formatConfigText(opts.config);
    this.voters = votersOf(opts.config);
    this.finalizeWaitMs = opts.finalizeWaitMs ?? 200;
    this.minIntervalMs = opts.minNotificationIntervalMs ?? this.finalizeWaitMs;
    this.maxIntervalMs = opts.maxNotificationIntervalMs ?? 60_000;
    this.notTimeoutMs = this.minIntervalMs;
  }

  get state(): ServerState {
    return this.peerState;
  }

  get currentVote(): Vote | null {
    return this.current;
  }

  get proposedVote(): Vote {
    return { ...this.proposal, electionEpoch: this.logicalclock, state: 'LOOKING', version: 0 };
  }

  get quorumConfig(): QuorumConfig {
    return this.config;
  }

  get voterIds(): ReadonlySet<number> {
    return this.voters;
  }

  /** QuorumPeer.setPeerState, e.g. LOOKING when the learner lost its leader. */
  setPeerState(state: ServerState): void {
    this.peerState = state;
    if (state !== 'LOOKING') {
      this.running = false;
      this.finalizing = false;
      this.queue.length = 0;
    }
  }

  /** Ends a lookForLeader that has not decided (the caller gave up); the state stays LOOKING. */
  cancel(): ElectionOutput[] {
    if (!this.running) return [];
    this.running = false;
    this.finalizing = false;
    return [{ type: 'timer', ms: null }];
  }

  /** QuorumPeer.updateElectionVote: the learner synced with a leader at a new epoch. */
  updateElectionVote(newEpoch: bigint): void {
    if (this.current) this.current = { ...this.current, peerEpoch: newEpoch };
  }

  /** lookForLeader: a new round (logicalclock + 1) with our initial vote, sent to every voter. */
  lookForLeader(state: { lastZxid: bigint; currentEpoch: bigint }): ElectionOutput[] {
    this.peerState = 'LOOKING';
    // QuorumPeer.startLeaderElection: the vote a LOOKING server answers non-voters with.
    this.current ??= { leader: BigInt(this.myId), zxid: state.lastZxid, electionEpoch: 0n, peerEpoch: state.currentEpoch, state: 'LOOKING', version: 0 };
    const participant = this.learnerType === 'participant';
    this.init = { zxid: participant ? state.lastZxid : LONG_MIN, epoch: participant ? state.currentEpoch : LONG_MIN };
    this.recvset.clear();
    this.outofelection.clear();
    this.configTexts.clear();
    this.finalizing = false;
    this.notTimeoutMs = this.minIntervalMs;
    this.running = true;
    this.logicalclock += 1n;
    this.updateProposal(this.initId(), this.init.zxid, this.init.epoch);
    const out = this.sendNotifications();
    out.push({ type: 'timer', ms: this.notTimeoutMs });
    const queued = this.queue.splice(0);
    for (const q of queued) if (this.running) this.step(q.from, q.n, out);
    this.drainLoopback(out);
    return out;
  }

  /** A notification arrived from `from` (WorkerReceiver, then the lookForLeader loop). */
  receive(from: number, n: Notification): ElectionOutput[] {
    const out: ElectionOutput[] = [];
    this.receiveOne(from, n, out);
    this.drainLoopback(out);
    return out;
  }

  /** The timer fired. delivered: QuorumCnxManager.haveDelivered(), some peer's queue is empty. */
  timeout(delivered: boolean): ElectionOutput[] {
    const out: ElectionOutput[] = [];
    if (!this.running) return out;
    if (this.finalizing) {
      this.decide(this.proposal.leader, this.proposal.zxid, this.logicalclock, this.proposal.peerEpoch, out);
      return out;
    }
    if (delivered) out.push(...this.sendNotifications());
    else out.push({ type: 'connectAll' });
    this.notTimeoutMs = Math.min(this.notTimeoutMs * 2, this.maxIntervalMs);
    out.push({ type: 'timer', ms: this.notTimeoutMs });
    this.drainLoopback(out);
    return out;
  }

  /** Our answer to `to`: our current vote, with the round given (WorkerReceiver). */
  private answer(to: number, round: bigint): ElectionOutput {
    const v = this.current ?? this.proposedVote;
    return {
      type: 'send',
      to,
      notification: { state: this.peerState, leader: v.leader, zxid: v.zxid, electionEpoch: round, peerEpoch: v.peerEpoch, version: 2, config: this.configText },
    };
  }

  private receiveOne(from: number, n: Notification, out: ElectionOutput[]): void {
    if (n.config !== null && n.config !== '' && this.maybeAdoptConfig(from, n.config, out)) return;
    if (!this.voters.has(from)) {
      // A non-voter (an observer, or a sid not in our config) is always answered and never counted.
      out.push(this.answer(from, this.logicalclock));
      return;
    }
    if (this.peerState === 'LOOKING') {
      if (n.state === 'LOOKING' && n.electionEpoch < this.logicalclock) {
        const v = this.proposedVote;
        out.push({ type: 'send', to: from, notification: { state: 'LOOKING', leader: v.leader, zxid: v.zxid, electionEpoch: this.logicalclock, peerEpoch: v.peerEpoch, version: 2, config: this.configText } });
      }
      if (this.running) this.step(from, n, out);
      else {
        if (this.queue.length === QUEUE_MAX) this.queue.shift();
        this.queue.push({ from, n });
      }
      return;
    }
    if (n.state === 'LOOKING') out.push(this.answer(from, this.current?.electionEpoch ?? this.logicalclock));
  }

  /** A newer config while LOOKING replaces ours and restarts the election (processReconfig). */
  private maybeAdoptConfig(from: number, text: string, out: ElectionOutput[]): boolean {
    let config: QuorumConfig;
    try {
      config = parseConfigText(text);
    } catch (e) {
      out.push({ type: 'ignored', from, why: `config text: ${(e as Error).message}` });
      return false;
    }
    if (this.running) this.configTexts.set(from, text);
    if (config.version <= this.config.version || this.peerState !== 'LOOKING') return false;
    this.config = config;
    this.configText = formatConfigText(config);
    this.voters = votersOf(config);
    out.push({ type: 'config', config });
    if (this.running) {
      // ZooKeeper shuts the election down and starts a new one, whose round starts at 1 again.
      this.logicalclock = 0n;
      out.push(...this.lookForLeader({ lastZxid: this.init.zxid, currentEpoch: this.init.epoch }));
    }
    return true;
  }

  /** One turn of lookForLeader's loop for a received notification. */
  private step(from: number, n: Notification, out: ElectionOutput[]): void {
    if (this.finalizing) {
      if (!this.totalOrderPredicate(n.leader, n.zxid, n.peerEpoch, this.proposal.leader, this.proposal.zxid, this.proposal.peerEpoch)) {
        out.push({ type: 'timer', ms: this.finalizeWaitMs });
        return;
      }
      this.finalizing = false;
    }
    if (!this.voters.has(from) || !this.isVoter(n.leader)) {
      out.push({ type: 'ignored', from, why: this.isVoter(n.leader) ? 'from a non-voter' : `vote for non-voter ${n.leader}` });
      out.push({ type: 'timer', ms: this.notTimeoutMs });
      return;
    }
    switch (n.state) {
      case 'LOOKING':
        if (this.lookingVote(from, n, out)) return;
        break;
      case 'OBSERVING':
        break;
      case 'FOLLOWING':
      case 'LEADING':
        if (this.outOfElectionVote(from, n, out)) return;
        break;
    }
    out.push({ type: 'timer', ms: this.notTimeoutMs });
  }

  /** A LOOKING vote; true when finalizeWait started (the timer is then armed). */
  private lookingVote(from: number, n: Notification, out: ElectionOutput[]): boolean {
    if (this.init.zxid === -1n || n.zxid === -1n) return false;
    if (n.electionEpoch > this.logicalclock) {
      this.logicalclock = n.electionEpoch;
      this.recvset.clear();
      if (this.totalOrderPredicate(n.leader, n.zxid, n.peerEpoch, this.initId(), this.init.zxid, this.init.epoch)) {
        this.updateProposal(n.leader, n.zxid, n.peerEpoch);
      } else {
        this.updateProposal(this.initId(), this.init.zxid, this.init.epoch);
      }
      out.push(...this.sendNotifications());
    } else if (n.electionEpoch < this.logicalclock) {
      return false;
    } else if (this.totalOrderPredicate(n.leader, n.zxid, n.peerEpoch, this.proposal.leader, this.proposal.zxid, this.proposal.peerEpoch)) {
      this.updateProposal(n.leader, n.zxid, n.peerEpoch);
      out.push(...this.sendNotifications());
    }
    this.recvset.set(from, { leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, state: 'LOOKING', version: 0 });
    // An observer does not decide on LOOKING votes. A LOOKING ZooKeeper server answers a non-voter
    // with its previous vote (QuorumPeer's currentVote), so right after a leader is lost a quorum
    // of such answers names the lost leader: ZooKeeper's observer decides for it and spends
    // initLimit ticks failing to connect. zkts keeps asking until the voters have decided and
    // answer FOLLOWING/LEADING (the path below), which is what the observer needs anyway.
    if (this.learnerType === 'observer') return false;
    if (!isQuorum(this.voters, this.agreeing(this.recvset, this.proposedVote))) return false;
    this.finalizing = true;
    out.push({ type: 'timer', ms: this.finalizeWaitMs });
    return true;
  }

  /** receivedFollowingNotification / receivedLeadingNotification; true when decided. */
  private outOfElectionVote(from: number, n: Notification, out: ElectionOutput[]): boolean {
    const vote: Vote = { leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, state: n.state, version: n.version };
    if (n.electionEpoch === this.logicalclock) {
      this.recvset.set(from, vote);
      if (isQuorum(this.voters, this.agreeing(this.recvset, vote)) && this.checkLeader(this.recvset, n.leader, n.electionEpoch)) {
        this.decide(n.leader, n.zxid, n.electionEpoch, n.peerEpoch, out);
        return true;
      }
    }
    // A quorum of servers out of the election (a running ensemble) agreeing on a leader, in any round.
    this.outofelection.set(from, vote);
    if (isQuorum(this.voters, this.agreeing(this.outofelection, vote)) && this.checkLeader(this.outofelection, n.leader, n.electionEpoch)) {
      this.logicalclock = n.electionEpoch;
      this.decide(n.leader, n.zxid, n.electionEpoch, n.peerEpoch, out);
      return true;
    }
    return false;
  }

  private decide(leader: bigint, zxid: bigint, electionEpoch: bigint, peerEpoch: bigint, out: ElectionOutput[]): void {
    const state: ServerState = leader === BigInt(this.myId) ? 'LEADING' : this.learnerType === 'participant' ? 'FOLLOWING' : 'OBSERVING';
    const vote: Vote = { leader, zxid, electionEpoch, peerEpoch, state: 'LOOKING', version: 0 };
    const sid = this.isVoter(leader) ? Number(leader) : -1;
    const configText = this.configTexts.get(sid) ?? null;
    this.peerState = state;
    this.current = vote;
    this.running = false;
    this.finalizing = false;
    this.queue.length = 0;
    out.push({ type: 'timer', ms: null });
    out.push({ type: 'decided', vote, state, configText });
  }

  /** The sids whose vote equals `vote` (Vote.equals). */
  private agreeing(votes: Map<number, Vote>, vote: Vote): number[] {
    const out: number[] = [];
    for (const [sid, v] of votes) if (votesEqual(v, vote)) out.push(sid);
    return out;
  }

  /** The leader a quorum agrees on must itself have said LEADING; if it is us, in our round. */
  private checkLeader(votes: Map<number, Vote>, leader: bigint, electionEpoch: bigint): boolean {
    if (leader !== BigInt(this.myId)) {
      const v = this.isVoter(leader) ? votes.get(Number(leader)) : undefined;
      return v !== undefined && v.state === 'LEADING';
    }
    return this.logicalclock === electionEpoch;
  }

  /** Prefer the higher peerEpoch, then zxid, then sid. QuorumMaj gives every sid weight 1. */
  private totalOrderPredicate(newId: bigint, newZxid: bigint, newEpoch: bigint, curId: bigint, curZxid: bigint, curEpoch: bigint): boolean {
    return newEpoch > curEpoch || (newEpoch === curEpoch && (newZxid > curZxid || (newZxid === curZxid && newId > curId)));
  }

  private updateProposal(leader: bigint, zxid: bigint, peerEpoch: bigint): void {
    this.proposal = { leader, zxid, peerEpoch };
  }

  private initId(): bigint {
    return this.voters.has(this.myId) ? BigInt(this.myId) : LONG_MIN;
  }

  private isVoter(sid: bigint): boolean {
    return sid >= 0n && sid <= BigInt(Number.MAX_SAFE_INTEGER) && this.voters.has(Number(sid));
  }

  /** Our proposal to every voter; the copy to ourselves (a voter) comes back through the loopback. */
  private sendNotifications(): ElectionOutput[] {
    const out: ElectionOutput[] = [];
    const notification: Notification = {
      state: 'LOOKING',
      leader: this.proposal.leader,
      zxid: this.proposal.zxid,
      electionEpoch: this.logicalclock,
      peerEpoch: this.proposal.peerEpoch,
      version: 2,
      config: this.configText,
    };
    for (const sid of [...this.voters].sort((a, b) => a - b)) {
      if (sid === this.myId) this.loopback.push(notification);
      else out.push({ type: 'send', to: sid, notification });
    }
    return out;
  }

  private drainLoopback(out: ElectionOutput[]): void {
    for (let n = this.loopback.shift(); n !== undefined; n = this.loopback.shift()) this.receiveOne(this.myId, n, out);
  }
}

/** ZooKeeper's Vote.equals. */
export function votesEqual(a: Vote, b: Vote): boolean {
  if (a.state === 'LOOKING' || b.state === 'LOOKING') {
    return a.leader === b.leader && a.zxid === b.zxid && a.electionEpoch === b.electionEpoch && a.peerEpoch === b.peerEpoch;
  }
  // Out of the election only (leader, peerEpoch) count (ZOOKEEPER-1805); peerEpoch is skipped
  // between a version-0 and a newer sender (ZOOKEEPER-1732).
  if (a.version > 0 !== b.version > 0) return a.leader === b.leader;
  return a.leader === b.leader && a.peerEpoch === b.peerEpoch;
}
