// observer-core.ts — an observer's side of the learner protocol (ZAB.md §2.3, §2.4, §5) as a pure
// state machine, in the shape of etcd's raft: inputs (connected, bytes or packets from the
// leader, disk completions, ticks, client-side requests) go in as method calls, each returning
// the actions the host must carry out in order (send, persist, replace the tree, truncate, apply,
// serve or not, answer clients). It never touches a socket, a disk or a clock: time comes in
// with the inputs. The rules are Learner.registerWithLeader / syncWithLeader and
// Observer.processPacket of ZooKeeper 3.9.5, with 3.9.5's strictness (no gap in a DIFF) and
// its order of durability (acceptedEpoch before ACKEPOCH; snapshot, then currentEpoch, before
// the NEWLEADER ACK). While a disk action is outstanding the core waits: what arrives meanwhile
// is queued and handled, in order, once the host reports it done.
import { OpCode } from '../../protocol/opcodes.js';
import type { Id } from '../../protocol/records.js';
import type { LoggedTxn, TxnDigest, TxnEntry } from '../../storage/txn-codec.js';
import type { TxnHeader } from '../../tree/txn.js';
import {
  LEARNER_PROTOCOL_VERSION,
  PacketType,
  decodeConfigText,
  decodeInformAndActivate,
  decodeInt,
  decodeLong,
  decodeRevalidateAnswer,
  decodeTxnPayload,
  encodeInt,
  encodeLearnerInfo,
  encodeRequest,
  encodeRevalidateRequest,
  encodeTouches,
  epochOf,
  hexZxid,
  makeZxid,
  packet,
  packetTypeName,
  type ForwardedRequest,
  type QuorumPacket,
} from './packet.js';
import { LearnerStreamDecoder, type LearnerSnapshot, type StreamDecoderOptions, type StreamEvent } from './stream-decoder.js';

/** The digest version this tree computes (DigestCalculator v2); other versions are not compared. */
const DIGEST_VERSION = 2;

export interface ObserverCoreOptions {
  /** This server's id (myid). */
  sid: bigint;
  tickTimeMs: number;
  /** Ticks the leader may be silent while syncing. */
  initLimit: number;
  /** Ticks the leader may be silent once synced. */
  syncLimit: number;
  /** From dataDir/version-2/acceptedEpoch (0 when missing). */
  acceptedEpoch: bigint;
  /** From dataDir/version-2/currentEpoch (0 when missing). */
  currentEpoch: bigint;
  /** The version of the config this server runs (`version=` of the dynamic config; 0 when none). */
  configVersion: bigint;
  /** Options of the stream decoder `receive` uses. */
  decoder?: StreamDecoderOptions;
}

/** A disk action: the core waits until the host reports it with `persisted(action)`. */
export type DiskAction =
  | { kind: 'persistAcceptedEpoch'; seq: number; epoch: bigint }
  | { kind: 'persistCurrentEpoch'; seq: number; epoch: bigint }
  /** Write a snapshot of the tree as it is now (at `zxid`), fsynced when `fsync`. */
  | { kind: 'takeSnapshot'; seq: number; zxid: bigint; fsync: boolean }
  /** Truncate the txn log after `zxid` and reload the tree to it (ZKDatabase.truncateLog). */
  | { kind: 'truncateLog'; seq: number; zxid: bigint };

export interface PendingSync {
  sessionId: bigint;
  cxid: number;
}

export type ObserverAction =
  | { kind: 'send'; packet: QuorumPacket }
  | DiskAction
  /**
   * SNAP: the tree, the sessions and lastProcessedZxid become these. ZooKeeper then rewrites
   * /zookeeper/config from the local config when reconfig is disabled (ZOOKEEPER-2819).
   */
  | { kind: 'replaceTree'; snapshot: LearnerSnapshot; zxid: bigint }
  /**
   * Apply a committed txn. `log`: also append it to the txn log (txns applied during a SNAP or
   * TRUNC sync before NEWLEADER are covered by the snapshot taken at NEWLEADER instead). Report
   * the tree digest afterwards with `applied(zxid, digest)`. A closeSession also deletes the
   * session's other ephemerals and may come without its list (resolveLoggedTxn in
   * storage/replay.ts turns it into a Txn as ZooKeeper's killSession applies it).
   */
  | { kind: 'apply'; hdr: TxnHeader; txn: LoggedTxn; digest: TxnDigest | null; log: boolean }
  /** The tree after `zxid` differs from the leader's (ZooKeeper's digest_mismatches_count is `count`). */
  | { kind: 'digestMismatch'; zxid: bigint; expected: bigint; actual: bigint; count: number }
  /** Clients may be served (true after UPTODATE), or must not be (false). */
  | { kind: 'serving'; serving: boolean }
  /** The leader's config text (NEWLEADER, at UPTODATE; INFORMANDACTIVATE/COMMITANDACTIVATE). */
  | { kind: 'config'; text: string; designatedLeader: bigint | null; zxid: bigint | null }
  | { kind: 'revalidated'; sessionId: bigint; valid: boolean }
  | { kind: 'syncDone'; sessionId: bigint; cxid: number }
  /** Something to log; nothing to do. */
  | { kind: 'warn'; message: string }
  /**
   * Close the connection to the leader and look for a leader again. Pending syncs and
   * revalidations will get no answer: close those clients' connections.
   */
  | { kind: 'disconnect'; reason: string; syncs: PendingSync[]; revalidations: bigint[] };

type Phase = 'idle' | 'leaderInfo' | 'syncMode' | 'snapshot' | 'sync' | 'serving';

interface PacketInFlight {
  hdr: TxnHeader;
  txn: LoggedTxn;
  digest: TxnDigest | null;
}

/** An input the core could not take while a disk action was outstanding. */
type Queued = { kind: 'packet'; packet: QuorumPacket } | { kind: 'snapshot'; snapshot: LearnerSnapshot };

/** Thrown inside a handler: the connection cannot go on. */
class ProtocolError extends Error {}

export class ObserverCore {
  private readonly opts: ObserverCoreOptions;
  private phase: Phase = 'idle';
  private out: ObserverAction[] = [];
  private decoder: LearnerStreamDecoder;
  private lastReceivedMs = 0;
  private seq = 0;
  /** The disk action being waited for, and what to do once it is done. */
  private blocked: { action: DiskAction; then: () => void } | null = null;
  private queue: Queued[] = [];

  private acceptedEpochValue: bigint;
  private currentEpochValue: bigint;
  private lastZxidValue = 0n;
  private mismatches = 0;
  /** Applied txns whose digest the host has still to report, oldest first. */
  private unchecked: { zxid: bigint; digest: TxnDigest | null }[] = [];

  // per connection
  private newEpoch = 0n;
  private syncMode: 'DIFF' | 'TRUNC' | 'SNAP' | null = null;
  private snapZxid = 0n;
  private writeToTxnLog = false;
  private newLeaderSeen = false;
  private newLeaderConfig: string | null = null;
  private lastQueued = 0n;
  private packetsNotLogged: PacketInFlight[] = [];
  private packetsCommitted: bigint[] = [];
  private touches = new Map<bigint, number>();
  private pendingSyncs: PendingSync[] = [];
  private pendingRevalidations = new Map<bigint, number>();

  constructor(opts: ObserverCoreOptions) {
    this.opts = opts;
    this.acceptedEpochValue = opts.acceptedEpoch;
    this.currentEpochValue = opts.currentEpoch;
    this.decoder = new LearnerStreamDecoder(opts.decoder);
  }

  get acceptedEpoch(): bigint {
    return this.acceptedEpochValue;
  }

  get currentEpoch(): bigint {
    return this.currentEpochValue;
  }

  /** The zxid of the newest txn the core has had applied (or the SNAP / TRUNC zxid). */
  get lastZxid(): bigint {
    return this.lastZxidValue;
  }

  get serving(): boolean {
    return this.phase === 'serving';
  }

  /** ZooKeeper's digest_mismatches_count. */
  get digestMismatches(): number {
    return this.mismatches;
  }

  /**
   * The disk action the core waits for, if any. Packets that arrive meanwhile are queued in
   * memory; a host may pause reading the leader's socket until it is done (ZooKeeper's learner
   * does not read while it writes, so TCP holds the leader back).
   */
  get blockedOn(): DiskAction | null {
    return this.blocked?.action ?? null;
  }

  /** 'idle', 'leaderInfo', 'syncMode', 'snapshot', 'sync' or 'serving', for logs and 4lw. */
  get state(): string {
    return this.phase;
  }

  // --- inputs ------------------------------------------------------------------------------

  /**
   * A connection to the leader is up. `lastLoggedZxid` is the tree's lastProcessedZxid (what
   * ZooKeeper's getLastLoggedZxid answers); it goes to the leader in ACKEPOCH.
   */
  connected(nowMs: number, lastLoggedZxid: bigint): ObserverAction[] {
    if (this.phase !== 'idle') this.fail('a new connection replaced the previous one');
    this.resetConnection();
    this.lastZxidValue = lastLoggedZxid;
    this.lastReceivedMs = nowMs;
    this.phase = 'leaderInfo';
    const info = encodeLearnerInfo({ sid: this.opts.sid, protocolVersion: LEARNER_PROTOCOL_VERSION, configVersion: this.opts.configVersion });
    this.send(packet(PacketType.OBSERVERINFO, makeZxid(this.acceptedEpochValue, 0n), info));
    return this.flush();
  }

  /** The transport lost the connection. */
  disconnected(reason: string): ObserverAction[] {
    if (this.phase !== 'idle') this.fail(reason);
    return this.flush();
  }

  /** Bytes from the leader, in whatever chunks the socket gave them. */
  receive(chunk: Buffer, nowMs: number): ObserverAction[] {
    if (this.phase === 'idle') return [];
    this.lastReceivedMs = nowMs;
    let events: StreamEvent[];
    try {
      events = this.decoder.push(chunk);
    } catch (e) {
      this.fail((e as Error).message);
      return this.flush();
    }
    for (const ev of events) this.input(ev);
    return this.flush();
  }

  /** One packet from the leader (what `receive` does per decoded packet). */
  packet(p: QuorumPacket, nowMs: number): ObserverAction[] {
    if (this.phase === 'idle') return [];
    this.lastReceivedMs = nowMs;
    this.input({ kind: 'packet', packet: p });
    return this.flush();
  }

  /** The snapshot stream after a SNAP packet (what `receive` does when the decoder has it). */
  snapshotLoaded(snapshot: LearnerSnapshot, nowMs: number): ObserverAction[] {
    if (this.phase === 'idle') return [];
    this.lastReceivedMs = nowMs;
    this.input({ kind: 'snapshot', snapshot });
    return this.flush();
  }

  /** The clock: the leader is lost after tickTime×initLimit (syncing) or ×syncLimit (synced) of silence. */
  tick(nowMs: number): ObserverAction[] {
    if (this.phase === 'idle' || this.blocked !== null) return this.flush();
    const limit = this.readTimeoutMs();
    if (nowMs - this.lastReceivedMs > limit) {
      const which = this.newLeaderSeen ? 'syncLimit' : 'initLimit';
      this.fail(`read timed out: nothing from the leader for ${nowMs - this.lastReceivedMs} ms (tickTime×${which} = ${limit} ms)`);
    }
    return this.flush();
  }

  /** The host finished a disk action (the read timeout starts again from `nowMs`). */
  persisted(action: DiskAction, nowMs: number): ObserverAction[] {
    if (this.blocked === null || this.blocked.action.seq !== action.seq) return []; // from a connection given up
    const { then } = this.blocked;
    this.blocked = null;
    this.lastReceivedMs = Math.max(this.lastReceivedMs, nowMs);
    then();
    this.drainQueue();
    return this.flush();
  }

  /** A disk action failed: nothing it guarded may be acknowledged, so the connection ends. */
  persistFailed(action: DiskAction, message: string): ObserverAction[] {
    if (this.blocked === null || this.blocked.action.seq !== action.seq) return [];
    this.blocked = null;
    this.fail(`${action.kind} failed: ${message}`);
    return this.flush();
  }

  /** The tree's digest right after the host applied the txn `zxid` (an `apply` action). */
  applied(zxid: bigint, treeDigest: bigint): ObserverAction[] {
    const head = this.unchecked.shift();
    if (head === undefined || head.zxid !== zxid) {
      throw new Error(`applied(${hexZxid(zxid)}) does not match the next apply action ${head === undefined ? '(none)' : hexZxid(head.zxid)}`);
    }
    // DataTree.compareDigest: no digest (error txns) or another digest version is not compared.
    if (head.digest !== null && head.digest.version === DIGEST_VERSION && head.digest.treeDigest !== treeDigest) {
      this.mismatches++;
      this.out.push({ kind: 'digestMismatch', zxid, expected: head.digest.treeDigest, actual: treeDigest, count: this.mismatches });
    }
    return this.flush();
  }

  /** A session this server holds was used: its timeout goes to the leader with the next PING. */
  touch(sessionId: bigint, timeoutMs: number): void {
    this.touches.set(sessionId, timeoutMs);
  }

  /**
   * Forwards a client's write (or createSession, closeSession, sync) to the leader with the
   * session's identities (the leader checks ACLs with them; null for none, as closeSession). The
   * answer is the txn arriving by INFORM (a sync's is a `syncDone`). Only while serving.
   */
  forwardRequest(req: ForwardedRequest, authinfo: readonly Id[] | null): ObserverAction[] {
    this.assertServing('forwardRequest');
    if (req.type === OpCode.sync) this.pendingSyncs.push({ sessionId: req.sessionId, cxid: req.cxid });
    this.send(packet(PacketType.REQUEST, -1n, encodeRequest(req), authinfo));
    return this.flush();
  }

  /** A client reconnected with a session this server does not own: ask the leader (REVALIDATE). */
  revalidate(sessionId: bigint, timeoutMs: number): ObserverAction[] {
    this.assertServing('revalidate');
    this.pendingRevalidations.set(sessionId, (this.pendingRevalidations.get(sessionId) ?? 0) + 1);
    this.send(packet(PacketType.REVALIDATE, -1n, encodeRevalidateRequest({ sessionId, timeoutMs })));
    return this.flush();
  }

  // --- packets -----------------------------------------------------------------------------

  private input(ev: Queued): void {
    if (this.phase === 'idle') return;
    if (this.blocked !== null) {
      this.queue.push(ev);
      return;
    }
    try {
      if (ev.kind === 'snapshot') this.onSnapshot(ev.snapshot);
      else this.onPacket(ev.packet);
    } catch (e) {
      if (!(e instanceof ProtocolError) && !(e instanceof Error && e.name === 'JuteDecodeError')) throw e;
      this.fail(e.message);
    }
  }

  private drainQueue(): void {
    while (this.blocked === null && this.queue.length > 0 && this.phase !== 'idle') this.input(this.queue.shift()!);
  }

  private onPacket(p: QuorumPacket): void {
    switch (this.phase) {
      case 'leaderInfo':
        return this.onLeaderInfo(p);
      case 'syncMode':
        return this.onSyncMode(p);
      case 'snapshot':
        throw new ProtocolError(`${packetTypeName(p.type)} packet inside the snapshot stream`);
      case 'sync':
        return this.onSyncPacket(p);
      case 'serving':
        return this.onServingPacket(p);
      case 'idle':
        return;
    }
  }

  /** registerWithLeader: LEADERINFO's epoch against ours, then ACKEPOCH. */
  private onLeaderInfo(p: QuorumPacket): void {
    if (p.type !== PacketType.LEADERINFO) {
      throw new ProtocolError(`expected LEADERINFO from the leader, got ${packetTypeName(p.type)}`);
    }
    decodeInt(p.data, 'LEADERINFO'); // the leader's protocol version; 0x10000 since 3.4
    const newEpoch = epochOf(p.zxid);
    this.newEpoch = newEpoch;
    const ackEpoch = (epochData: number): void => {
      this.phase = 'syncMode';
      this.send(packet(PacketType.ACKEPOCH, this.lastZxidValue, encodeInt(epochData)));
    };
    if (newEpoch > this.acceptedEpochValue) {
      const epochData = Number(BigInt.asIntN(32, this.currentEpochValue));
      this.block({ kind: 'persistAcceptedEpoch', seq: ++this.seq, epoch: newEpoch }, () => {
        this.acceptedEpochValue = newEpoch;
        ackEpoch(epochData);
      });
    } else if (newEpoch === this.acceptedEpochValue) {
      ackEpoch(-1); // already acked this epoch: -1 does not count as a second ack
    } else {
      throw new ProtocolError(`Leaders epoch, ${newEpoch} is less than accepted epoch, ${this.acceptedEpochValue}`);
    }
  }

  /** syncWithLeader's first packet: DIFF, TRUNC or SNAP. */
  private onSyncMode(p: QuorumPacket): void {
    switch (p.type) {
      case PacketType.DIFF:
        this.syncMode = 'DIFF';
        this.writeToTxnLog = true; // no snapshot at NEWLEADER: the sync txns go to the log
        this.phase = 'sync';
        return;
      case PacketType.SNAP:
        this.syncMode = 'SNAP';
        this.snapZxid = p.zxid;
        this.phase = 'snapshot';
        return;
      case PacketType.TRUNC:
        this.syncMode = 'TRUNC';
        this.phase = 'sync';
        this.block({ kind: 'truncateLog', seq: ++this.seq, zxid: p.zxid }, () => {
          this.lastZxidValue = p.zxid;
        });
        return;
      default:
        throw new ProtocolError(`expected DIFF, TRUNC or SNAP from the leader, got ${packetTypeName(p.type)}`);
    }
  }

  private onSnapshot(snapshot: LearnerSnapshot): void {
    if (this.phase !== 'snapshot') throw new ProtocolError('a snapshot stream without SNAP');
    snapshot.tree.lastProcessedZxid = this.snapZxid;
    this.lastZxidValue = this.snapZxid;
    this.unchecked = [];
    this.out.push({ kind: 'replaceTree', snapshot, zxid: this.snapZxid });
    this.phase = 'sync';
  }

  /** Between DIFF/TRUNC/SNAP and UPTODATE (Learner.syncWithLeader's loop). */
  private onSyncPacket(p: QuorumPacket): void {
    switch (p.type) {
      case PacketType.PROPOSAL: {
        const e = decodeTxnPayload(p.data, 'PROPOSAL');
        this.enforceContinuous(e, 'proposal');
        if (e.hdr.type === OpCode.reconfig) this.warn(`reconfig proposal ${hexZxid(e.hdr.zxid)} during sync`);
        this.packetsNotLogged.push(inFlight(e));
        return;
      }
      case PacketType.COMMIT:
      case PacketType.COMMITANDACTIVATE:
        return this.onSyncCommit(p);
      case PacketType.INFORM:
      case PacketType.INFORMANDACTIVATE: {
        let e: TxnEntry;
        if (p.type === PacketType.INFORMANDACTIVATE) {
          const ia = decodeInformAndActivate(p.data);
          e = ia.entry;
          this.activate(e, ia.designatedLeader, p.zxid);
        } else {
          e = decodeTxnPayload(p.data, 'INFORM');
          this.enforceContinuous(e, 'inform');
        }
        if (!this.writeToTxnLog) {
          this.apply(inFlight(e), false);
        } else {
          this.packetsNotLogged.push(inFlight(e));
          this.packetsCommitted.push(p.zxid);
        }
        return;
      }
      case PacketType.NEWLEADER:
        return this.onNewLeader(p);
      case PacketType.UPTODATE:
        return this.onUpToDate();
      case PacketType.PING:
        return; // not answered until synced, as ZooKeeper's learner
      default:
        this.warn(`ignored ${packetTypeName(p.type)} from the leader while syncing`);
    }
  }

  /** 3.9.4+: the txns of a sync are consecutive within an epoch (ZOOKEEPER-4394 follow-up). */
  private enforceContinuous(e: TxnEntry, what: string): void {
    const zxid = e.hdr.zxid;
    if (this.lastQueued !== 0n && zxid !== this.lastQueued + 1n) {
      if (epochOf(zxid) <= epochOf(this.lastQueued)) {
        throw new ProtocolError(`DIFF sync got ${what} ${hexZxid(zxid)}, last queued ${hexZxid(this.lastQueued)}, expected ${hexZxid(this.lastQueued + 1n)}`);
      }
      this.warn(`DIFF sync got new epoch ${what} ${hexZxid(zxid)}, last queued ${hexZxid(this.lastQueued)}`);
    }
    this.lastQueued = zxid;
  }

  private onSyncCommit(p: QuorumPacket): void {
    const pif = this.packetsNotLogged[0];
    if (pif === undefined) throw new ProtocolError(`${packetTypeName(p.type)} ${hexZxid(p.zxid)} with no proposal before it`);
    if (p.type === PacketType.COMMITANDACTIVATE && pif.hdr.zxid === p.zxid) {
      this.activate({ hdr: pif.hdr, txn: pif.txn, digest: pif.digest }, decodeLong(p.data, 'COMMITANDACTIVATE'), p.zxid);
    }
    if (!this.writeToTxnLog) {
      if (pif.hdr.zxid !== p.zxid) {
        this.warn(`Committing ${hexZxid(p.zxid)}, but next proposal is ${hexZxid(pif.hdr.zxid)}`);
        return;
      }
      this.packetsNotLogged.shift();
      this.apply(pif, false);
      return;
    }
    this.packetsCommitted.push(p.zxid);
  }

  /** NEWLEADER: snapshot (SNAP, TRUNC), then currentEpoch, then ACK — each durable before the next. */
  private onNewLeader(p: QuorumPacket): void {
    this.newLeaderConfig = decodeConfigText(p.data) ?? this.newLeaderConfig;
    const newLeaderZxid = makeZxid(this.newEpoch, 0n);
    const ack = (): void => {
      this.block({ kind: 'persistCurrentEpoch', seq: ++this.seq, epoch: this.newEpoch }, () => {
        this.currentEpochValue = this.newEpoch;
        this.newLeaderSeen = true; // read timeout from now on: tickTime×syncLimit
        this.send(packet(PacketType.ACK, newLeaderZxid));
      });
    };
    const snapshotNeeded = this.syncMode !== 'DIFF';
    this.writeToTxnLog = true;
    if (snapshotNeeded && !this.newLeaderSeen) {
      this.block({ kind: 'takeSnapshot', seq: ++this.seq, zxid: this.lastZxidValue, fsync: this.syncMode === 'SNAP' }, ack);
    } else {
      ack();
    }
  }

  /** UPTODATE: ACK, serve, then apply (and log) what was committed since NEWLEADER. */
  private onUpToDate(): void {
    if (!this.newLeaderSeen) throw new ProtocolError('UPTODATE before NEWLEADER (a leader older than ZAB 1.0)');
    if (this.newLeaderConfig !== null) this.out.push({ kind: 'config', text: this.newLeaderConfig, designatedLeader: null, zxid: null });
    this.send(packet(PacketType.ACK, makeZxid(this.newEpoch, 0n)));
    this.phase = 'serving';
    this.out.push({ kind: 'serving', serving: true });
    // ObserverZooKeeperServer.commitRequest for each logged-but-unapplied txn with its COMMIT.
    for (const pif of this.packetsNotLogged) {
      const zxid = this.packetsCommitted[0];
      if (zxid !== pif.hdr.zxid) {
        this.warn(`Committing ${zxid === undefined ? 'nothing' : hexZxid(zxid)}, but next proposal is ${hexZxid(pif.hdr.zxid)}`);
        continue;
      }
      this.packetsCommitted.shift();
      this.apply(pif, true);
    }
    this.packetsNotLogged = [];
    this.packetsCommitted = [];
  }

  /** Observer.processPacket. */
  private onServingPacket(p: QuorumPacket): void {
    switch (p.type) {
      case PacketType.PING: {
        const touches = [...this.touches].map(([sessionId, timeoutMs]) => ({ sessionId, timeoutMs }));
        this.touches.clear();
        this.send(packet(PacketType.PING, p.zxid, encodeTouches(touches), p.authinfo));
        return;
      }
      case PacketType.INFORM:
        this.apply(inFlight(decodeTxnPayload(p.data, 'INFORM')), true);
        return;
      case PacketType.INFORMANDACTIVATE: {
        const ia = decodeInformAndActivate(p.data);
        this.activate(ia.entry, ia.designatedLeader, p.zxid);
        this.apply(inFlight(ia.entry), true);
        return;
      }
      case PacketType.REVALIDATE: {
        const a = decodeRevalidateAnswer(p.data);
        const n = this.pendingRevalidations.get(a.sessionId);
        if (n === undefined) {
          this.warn(`Missing session ${hexZxid(a.sessionId)} for validation`);
          return;
        }
        if (n > 1) this.pendingRevalidations.set(a.sessionId, n - 1);
        else this.pendingRevalidations.delete(a.sessionId);
        this.out.push({ kind: 'revalidated', sessionId: a.sessionId, valid: a.valid });
        return;
      }
      case PacketType.SYNC: {
        const s = this.pendingSyncs.shift();
        if (s === undefined) throw new ProtocolError('SYNC from the leader with no sync pending');
        this.out.push({ kind: 'syncDone', sessionId: s.sessionId, cxid: s.cxid });
        return;
      }
      case PacketType.PROPOSAL:
        this.warn('Ignoring proposal');
        return;
      case PacketType.COMMIT:
        this.warn('Ignoring commit');
        return;
      case PacketType.UPTODATE:
        this.warn('Received an UPTODATE message after Observer started');
        return;
      default:
        this.warn(`Unknown packet type: ${packetTypeName(p.type)}`);
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  private activate(e: TxnEntry, designatedLeader: bigint, zxid: bigint): void {
    if (e.txn.type !== OpCode.setData) throw new ProtocolError(`activate ${hexZxid(zxid)} without a reconfig txn`);
    this.out.push({ kind: 'config', text: e.txn.data?.toString('utf8') ?? '', designatedLeader, zxid });
  }

  private apply(pif: PacketInFlight, log: boolean): void {
    this.lastZxidValue = pif.hdr.zxid;
    this.unchecked.push({ zxid: pif.hdr.zxid, digest: pif.digest });
    this.out.push({ kind: 'apply', hdr: pif.hdr, txn: pif.txn, digest: pif.digest, log });
  }

  private block(action: DiskAction, then: () => void): void {
    this.blocked = { action, then };
    this.out.push(action);
  }

  private send(p: QuorumPacket): void {
    this.out.push({ kind: 'send', packet: p });
  }

  private warn(message: string): void {
    this.out.push({ kind: 'warn', message });
  }

  private readTimeoutMs(): number {
    return this.opts.tickTimeMs * (this.newLeaderSeen ? this.opts.syncLimit : this.opts.initLimit);
  }

  private assertServing(what: string): void {
    if (this.phase !== 'serving') throw new Error(`${what} while the observer is not serving (${this.phase})`);
  }

  /** Ends the connection: not serving, pending client waits abandoned, back to idle. */
  private fail(reason: string): void {
    if (this.phase === 'serving') this.out.push({ kind: 'serving', serving: false });
    const syncs = this.pendingSyncs;
    const revalidations = [...this.pendingRevalidations.keys()];
    this.resetConnection();
    this.phase = 'idle';
    this.out.push({ kind: 'disconnect', reason, syncs, revalidations });
  }

  private resetConnection(): void {
    this.decoder = new LearnerStreamDecoder(this.opts.decoder);
    this.blocked = null;
    this.queue = [];
    this.newEpoch = 0n;
    this.syncMode = null;
    this.snapZxid = 0n;
    this.writeToTxnLog = false;
    this.newLeaderSeen = false;
    this.newLeaderConfig = null;
    this.lastQueued = 0n;
    this.packetsNotLogged = [];
    this.packetsCommitted = [];
    this.touches = new Map();
    this.pendingSyncs = [];
    this.pendingRevalidations = new Map();
  }

  private flush(): ObserverAction[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

function inFlight(e: TxnEntry): PacketInFlight {
  return { hdr: e.hdr, txn: e.txn, digest: e.digest };
}
