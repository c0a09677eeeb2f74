// observer-peer.ts — a zkts server as an observer of a ZooKeeper ensemble: the I/O around the pure
// learner core (src/quorum/learner). It finds the leader by election, connects to the leader's
// quorum port, feeds the socket's bytes to the core and carries out what the core asks: packets
// to send, the epoch files and snapshot to make durable, a tree to install (SNAP), the log to cut
// and the tree to reload from disk (TRUNC), committed txns to apply (and log) with the digest
// reported back, clients to serve or not. When the leader is
// lost the client-facing server stops serving and the peer elects and syncs again (QuorumPeer's
// LOOKING → OBSERVING loop).
import { createConnection, type Socket } from 'node:net';
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { QuorumServer } from '../server/config-servers.js';
import type { Upstream } from '../server/upstream.js';
import type { ZkServer } from '../server/zk-server.js';
import { fsyncDirAsync, versionDir } from '../storage/data-files.js';
import { FrozenTree } from '../storage/frozen-tree.js';
import { resolveLoggedTxn } from '../storage/replay.js';
import { writeSnapshotFile } from '../storage/snapshot-writer.js';
import type { DataTree } from '../tree/data-tree.js';
import type { TxnDigest } from '../tree/digest.js';
import type { Txn, TxnHeader } from '../tree/txn.js';
import { ObserverCore, encodePacket, hexZxid, type ObserverAction, type DiskAction } from './learner/index.js';

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

/** What the peer needs of leader election (src/quorum/election's ElectionService fits). */
export interface LeaderElection {
  lookForLeader(state: { lastZxid: bigint; currentEpoch: bigint }, signal?: AbortSignal): Promise<{ leaderId: number; leader?: QuorumServer | null }>;
  /** QuorumPeer.setPeerState: LOOKING as soon as the leader is lost. */
  setPeerState?(state: 'LOOKING'): void;
  /** Learner's updateElectionVote once synced at a new epoch. */
  updateElectionVote?(newEpoch: bigint): void;
  /** This server's config as ZooKeeper writes it (QuorumVerifier.toString), for /zookeeper/config. */
  readonly configText?: string;
}

/** Where applied txns are logged (DataDir's commit stage); null: not logged (syncEnabled=false). */
export interface TxnLogSink {
  append(hdr: TxnHeader, txn: Txn, done: (err: Error | null) => void, digest?: TxnDigest | null): void;
}

/** The data directory's side of TRUNC (DataDir fits): cut the log after `zxid`, reload from disk. */
export interface TruncatableStorage {
  truncateTo(zxid: bigint): Promise<{ tree: DataTree; sessions: Map<bigint, number>; lastZxid: bigint }>;
}

export interface ObserverPeerOptions {
  myid: number;
  servers: readonly QuorumServer[];
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  /** Holds version-2/acceptedEpoch, currentEpoch and the snapshots. */
  dataDir: string;
  server: ZkServer;
  election: LeaderElection;
  txnLog: TxnLogSink | null;
  /** Where TRUNC cuts the log and reloads the tree from; null: a TRUNC ends the connection. */
  storage: TruncatableStorage | null;
  /** The config version this server runs (0 without a dynamic config). */
  configVersion?: bigint;
  /** readonlymode.enabled: serve read-only clients while looking for a leader for long. */
  readOnlyMode?: boolean;
  log?: Log;
}

/** The state of an observer for srvr/mntr. */
export interface ObserverStatus {
  state: 'looking' | 'connecting' | 'syncing' | 'observing' | 'stopped';
  leaderId: number | null;
  digestMismatches: number;
  /** Times it synced with a leader. */
  syncs: number;
  /** Syncs that came as a snapshot (SNAP) rather than txns (DIFF). */
  snapshots: number;
}

const EPOCH_FILES = { persistAcceptedEpoch: 'acceptedEpoch', persistCurrentEpoch: 'currentEpoch' } as const;

/** An epoch file: decimal text; a missing file is epoch 0 (a new server). */
export function readEpochFile(dataDir: string, name: 'acceptedEpoch' | 'currentEpoch'): bigint {
  let text: string;
  try {
    text = readFileSync(join(versionDir(dataDir), name), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0n;
    throw e;
  }
  const t = text.trim();
  if (!/^-?\d+$/.test(t)) throw new Error(`${join(versionDir(dataDir), name)}: "${t}" is not an epoch (a decimal number)`);
  return BigInt(t);
}

/** Writes an epoch file durably: a temporary file, fsynced, renamed over the old one. */
export async function writeEpochFile(dataDir: string, name: 'acceptedEpoch' | 'currentEpoch', epoch: bigint): Promise<void> {
  const dir = versionDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `${name}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(`${epoch}`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  await fsyncDirAsync(dir);
}

export class ObserverPeer {
  private readonly core: ObserverCore;
  private readonly log: Log;
  private stopped = false;
  private socket: Socket | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private endConnection: (() => void) | null = null;
  /** Carries out actions on the current connection to the leader. */
  private runActions: ((actions: ObserverAction[]) => void) | null = null;
  private readonly abort = new AbortController();
  /** When the current connection to the leader was made (observer_sync_time). */
  private syncStart = 0;
  readonly status: ObserverStatus = { state: 'looking', leaderId: null, digestMismatches: 0, syncs: 0, snapshots: 0 };

  constructor(private readonly opts: ObserverPeerOptions) {
    this.log = opts.log ?? (() => {});
    const status = this.status;
    const voters = opts.servers.filter((s) => s.type === 'participant').length;
    opts.server.learner = {
      // ZooKeeper's ZabState while observing: discovery, synchronization, then broadcast
      get peerState() {
        return status.state === 'observing' ? 'observing - broadcast' : status.state === 'syncing' || status.state === 'connecting' ? 'observing - synchronization' : 'looking';
      },
      quorumSize: voters,
      get digestMismatches() {
        return status.digestMismatches;
      },
    };
    this.core = new ObserverCore({
      sid: BigInt(opts.myid),
      tickTimeMs: opts.tickTime,
      initLimit: opts.initLimit,
      syncLimit: opts.syncLimit,
      acceptedEpoch: readEpochFile(opts.dataDir, 'acceptedEpoch'),
      currentEpoch: readEpochFile(opts.dataDir, 'currentEpoch'),
      configVersion: opts.configVersion ?? 0n,
    });
  }

  /** Starts the look-for-leader / observe loop; it runs until stop(). */
  start(): void {
    if (this.running !== null) return;
    this.initConfigNode();
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.status.state = 'stopped';
    this.abort.abort(new Error('observer stopping'));
    this.socket?.destroy();
    this.endConnection?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    let backoffMs = 0;
    while (!this.stopped) {
      try {
        this.status.state = 'looking';
        this.status.leaderId = null;
        // QuorumPeer (LOOKING): the read-only server starts after max(2 s, tickTime) of looking
        // and stops as soon as a leader is found.
        const readOnly = this.opts.readOnlyMode
          ? setTimeout(() => {
              if (!this.stopped && this.status.state === 'looking') this.opts.server.setReadOnly(true);
            }, Math.max(2000, this.opts.tickTime))
          : null;
        let vote;
        const lookingSince = performance.now();
        this.opts.server.stats.metrics.inc('looking_count');
        try {
          vote = await this.opts.election.lookForLeader(
            { lastZxid: this.opts.server.tree.lastProcessedZxid, currentEpoch: this.core.currentEpoch },
            this.abort.signal,
          );
        } finally {
          if (readOnly !== null) clearTimeout(readOnly);
          this.opts.server.setReadOnly(false);
        }
        if (this.stopped) break;
        this.opts.server.stats.metrics.observe('election_time', performance.now() - lookingSince);
        const leaderId = vote.leaderId;
        const leader = vote.leader ?? this.opts.servers.find((s) => s.id === leaderId);
        if (leader === undefined) throw new Error(`the elected leader ${leaderId} has no server.${leaderId} line`);
        this.status.leaderId = leaderId;
        this.log('info', `Observing leader ${leaderId} at ${leader.host}:${leader.quorumPort}`);
        const synced = await this.observe(leader);
        this.opts.election.setPeerState?.('LOOKING');
        // Observer: a random pause before electing again (zookeeper.observer.election.DelayMs, 200 ms)
        backoffMs = synced ? Math.floor(Math.random() * 200) : Math.min(Math.max(backoffMs * 2, 200), 5000);
      } catch (e) {
        if (this.stopped) break;
        this.log('warn', `observer: ${(e as Error).message}`);
        this.opts.election.setPeerState?.('LOOKING');
        backoffMs = Math.min(Math.max(backoffMs * 2, 200), 5000);
      }
      if (backoffMs > 0 && !this.stopped) await new Promise((r) => setTimeout(r, backoffMs).unref());
    }
  }

  /** Learner.connectToLeader: a few tries within tickTime×initLimit. */
  private async connect(leader: QuorumServer): Promise<Socket> {
    const deadline = Date.now() + this.opts.tickTime * this.opts.initLimit;
    for (let attempt = 1; ; attempt++) {
      try {
        return await new Promise<Socket>((resolve, reject) => {
          const s = createConnection({ host: leader.host, port: leader.quorumPort });
          // Learner.sockConnect: the connect itself is bounded by tickTime×initLimit
          s.setTimeout(this.opts.tickTime * this.opts.initLimit, () => s.destroy(new Error('connect timed out')));
          s.once('connect', () => {
            s.off('error', reject);
            s.setTimeout(0);
            resolve(s);
          });
          s.once('error', reject);
        });
      } catch (e) {
        if (this.stopped || attempt >= 5 || Date.now() + 1000 > deadline) throw new Error(`cannot connect to leader ${leader.id} at ${leader.host}:${leader.quorumPort}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 1000).unref());
      }
    }
  }

  /** One connection to the leader, from OBSERVERINFO until it is lost; whether it got to serve. */
  private async observe(leader: QuorumServer): Promise<boolean> {
    this.status.state = 'connecting';
    const socket = await this.connect(leader);
    if (this.stopped) {
      socket.destroy();
      return false;
    }
    this.socket = socket;
    this.syncStart = performance.now();
    socket.setNoDelay(true);
    this.status.state = 'syncing';
    let served = false;
    await new Promise<void>((resolve) => {
      let ended = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        if (this.ticker !== null) clearInterval(this.ticker);
        this.ticker = null;
        this.endConnection = null;
        this.runActions = null;
        this.socket = null;
        socket.destroy();
        resolve();
      };
      this.endConnection = () => this.run(this.core.disconnected('observer stopping'), end);
      const run = (actions: ObserverAction[]): void => this.run(actions, end, () => (served = true));
      this.runActions = run;
      socket.on('data', (chunk: Buffer) => run(this.core.receive(chunk, Date.now())));
      socket.on('error', (e) => run(this.core.disconnected(`connection to the leader failed: ${e.message}`)));
      socket.on('close', () => {
        run(this.core.disconnected('the leader closed the connection'));
        end();
      });
      this.ticker = setInterval(() => run(this.core.tick(Date.now())), Math.max(1, Math.floor(this.opts.tickTime / 2)));
      run(this.core.connected(Date.now(), this.opts.server.tree.lastProcessedZxid));
    });
    return served;
  }

  /** Carries out the core's actions in order. */
  private run(actions: ObserverAction[], end: () => void, onServing?: () => void): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'send':
          this.socket?.write(encodePacket(a.packet));
          break;
        case 'persistAcceptedEpoch':
        case 'persistCurrentEpoch':
          this.disk(a, writeEpochFile(this.opts.dataDir, EPOCH_FILES[a.kind], a.epoch), end, onServing);
          break;
        case 'takeSnapshot':
          this.disk(a, this.snapshot(a.zxid), end, onServing);
          break;
        case 'truncateLog':
          this.disk(a, this.truncate(a.zxid), end, onServing);
          break;
        case 'replaceTree':
          this.opts.server.resetState({ tree: a.snapshot.tree, sessions: a.snapshot.sessions, lastZxid: a.zxid });
          this.status.snapshots++;
          // ZOOKEEPER-2819: the leader's /zookeeper/config gives way to our own (reconfig is off)
          this.initConfigNode();
          this.log('info', `Getting a snapshot from leader 0x${a.zxid.toString(16)} (${a.snapshot.bytes} bytes, ${a.snapshot.tree.nodeCount} nodes)`);
          break;
        case 'apply':
          if (this.status.state === 'observing') this.opts.server.stats.metrics.inc('learner_commit_received_count');
          this.apply(a.hdr, resolveLoggedTxn(this.opts.server.tree, a.hdr, a.txn), a.digest, a.log, end, onServing);
          break;
        case 'digestMismatch':
          this.status.digestMismatches = a.count;
          this.opts.server.stats.metrics.inc('digest_mismatches_count');
          this.log('error', `Digests are not matching. Value got from log: ${a.expected}, value calculated: ${a.actual} (zxid ${hexZxid(a.zxid)})`);
          break;
        case 'serving':
          if (a.serving) {
            this.status.state = 'observing';
            this.status.syncs++;
            this.opts.server.stats.metrics.observe('observer_sync_time', performance.now() - this.syncStart);
            onServing?.();
            this.opts.server.setUpstream(this.upstream);
            this.opts.election.updateElectionVote?.(this.core.currentEpoch);
            this.log('info', `observer synced with leader ${this.status.leaderId} at ${hexZxid(this.opts.server.tree.lastProcessedZxid)}: serving clients`);
          } else {
            this.opts.server.setUpstream(null);
            this.status.state = 'syncing';
          }
          break;
        case 'config':
          this.log('info', `leader config: ${a.text.replace(/\n/g, ' ')}`);
          break;
        case 'revalidated':
          this.opts.server.revalidated(a.sessionId, a.valid);
          break;
        case 'syncDone':
          this.opts.server.syncCompleted();
          break;
        case 'warn':
          this.log('warn', a.message);
          break;
        case 'disconnect':
          this.log('warn', `observer: leaving leader ${this.status.leaderId}: ${a.reason}`);
          this.opts.server.setUpstream(null);
          end();
          break;
      }
    }
  }

  private apply(hdr: TxnHeader, txn: Txn, digest: TxnDigest | null, log: boolean, end: () => void, onServing?: () => void): void {
    this.opts.server.applyCommitted(hdr, txn);
    if (log && this.opts.txnLog !== null) {
      // Logged with the leader's digest, as a Java learner logs the PROPOSAL's.
      this.opts.txnLog.append(hdr, txn, (err) => {
        if (err) this.log('error', `txn ${hexZxid(hdr.zxid)} from the leader was not logged: ${err.message}`);
      }, digest);
    }
    this.run(this.core.applied(hdr.zxid, this.opts.server.tree.digest), end, onServing);
  }

  private disk(a: DiskAction, p: Promise<unknown>, end: () => void, onServing?: () => void): void {
    p.then(
      () => this.run(this.core.persisted(a, Date.now()), end, onServing),
      (e: Error) => this.run(this.core.persistFailed(a, e.message), end, onServing),
    );
  }

  /**
   * TRUNC (Learner.syncWithLeader → ZKDatabase.truncateLog): this data directory holds txns the
   * leader does not have (logged under an epoch that lost them). Every txn after `zxid` leaves
   * the log, the tree is reloaded from disk, and the sync goes on from `zxid`.
   */
  private async truncate(zxid: bigint): Promise<void> {
    const storage = this.opts.storage;
    if (storage === null) throw new Error(`TRUNC to ${hexZxid(zxid)}: this observer has no data directory to truncate`);
    this.log('warn', `Truncating log to get in sync with the leader ${hexZxid(zxid)} (at ${hexZxid(this.opts.server.tree.lastProcessedZxid)})`);
    const state = await storage.truncateTo(zxid);
    if (state.lastZxid !== zxid) throw new Error(`TRUNC to ${hexZxid(zxid)}: the data directory reloads to ${hexZxid(state.lastZxid)}`);
    this.opts.server.resetState({ tree: state.tree, sessions: state.sessions, lastZxid: zxid });
    this.initConfigNode();
    this.log('info', `Truncated to ${hexZxid(zxid)}: ${state.tree.nodeCount} nodes, ${state.sessions.size} sessions reloaded`);
  }

  /** The tree as it is now (at `zxid`), as ZooKeeper's learner snapshots at NEWLEADER after SNAP. */
  private async snapshot(zxid: bigint): Promise<void> {
    const dir = versionDir(this.opts.dataDir);
    mkdirSync(dir, { recursive: true });
    const sessions = new Map<bigint, number>();
    for (const [id, s] of this.opts.server.sessions.sessions) sessions.set(id, s.timeoutMs);
    await writeSnapshotFile(new FrozenTree(this.opts.server.tree), sessions, dir, { zxid });
  }

  /** QuorumPeerMain / Learner: /zookeeper/config holds this server's own config. */
  private initConfigNode(): void {
    const text = this.opts.election.configText;
    if (text !== undefined) this.opts.server.tree.setConfigNode(text, this.opts.configVersion ?? 0n, Date.now());
  }

  /** The client-facing server's way to the leader, through the core. */
  private readonly upstream: Upstream = {
    forward: (req) => this.runActions?.(this.core.forwardRequest({ sessionId: req.sessionId, cxid: req.cxid, type: req.type, body: req.body }, [...req.authInfo])),
    revalidate: (sessionId, timeoutMs) => this.runActions?.(this.core.revalidate(sessionId, timeoutMs)),
    touch: (sessionId, timeoutMs) => this.core.touch(sessionId, timeoutMs),
  };
}
