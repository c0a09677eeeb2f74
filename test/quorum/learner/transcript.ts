// transcript.ts — runs the ObserverCore from a text script and prints what it does, for the
// transcript tests (etcd raft's testdata style). A script line `> command` is an input; the lines
// after it, up to the next input, are the actions it produced. `#` lines and blank lines are
// comments. The runner plays the host: it keeps the observer's tree (a real DataTree) and carries
// out every action (applies txns and reports the tree digest back, replaces the tree, rebuilds it
// on truncation, completes disk actions when the script says so), and plays a leader model whose
// txns give the packets their bytes and digests. Packets go to the core as bytes through
// `receive`, so the stream decoder is in every transcript too.
//
// Commands:
//   options sid=4 tickTime=2000 initLimit=10 syncLimit=5 acceptedEpoch=0 currentEpoch=0
//   leader epoch <n>                     the leader's next txns are in epoch n
//   leader <txn>                         a txn committed on the leader (history; not sent)
//   observer <txn>                       a txn only the observer has (logged, applied)
//   observer from-leader                 the observer's tree and log are the leader's so far
//   connected | disconnected <reason> | tick <ms> (clock advances by ms)
//   recv LEADERINFO <epoch> | DIFF | TRUNC | SNAP | NEWLEADER | UPTODATE | SYNC
//   recv PROPOSAL|COMMIT|INFORM <zxid> [digest=<n>]    a txn of the leader's history
//   recv INFORMANDACTIVATE|COMMITANDACTIVATE <zxid> <designated leader sid>
//   recv PING <zxid> | recv REVALIDATE <session> <true|false> | recv bytes <hex>
//   persisted <acceptedEpoch|currentEpoch|snapshot|truncate> | persistFailed <what> <message>
//   touch <session> <timeout> | revalidate <session> <timeout>
//   forward <session> <cxid> <txn-like request> [auth=scheme:id]
// Txns: create <path> <data> [ephemeral] | setData <path> <data> | delete <path>
//   | createSession <session> <timeout> | closeSession <session> | error <code>; options
//   session=<id> cxid=<n> on any of them.
import { OpCode, opName } from '../../../src/protocol/opcodes.js';
import { JuteWriter } from '../../../src/protocol/jute.js';
import type { ACL, Id } from '../../../src/protocol/records.js';
import { encodeTxnEntry, type LoggedTxn, type TxnDigest } from '../../../src/storage/txn-codec.js';
import { resolveLoggedTxn } from '../../../src/storage/replay.js';
import { treeDigest } from '../../../src/tree/digest.js';
import { OPEN_ACL_UNSAFE } from '../../../src/tree/acl-cache.js';
import { DataTree } from '../../../src/tree/data-tree.js';
import type { Txn, TxnHeader } from '../../../src/tree/txn.js';
import {
  ObserverCore,
  PacketType,
  SNAPSHOT_SIGNATURE,
  decodeLearnerInfo,
  decodeInt,
  decodeRequest,
  decodeRevalidateRequest,
  decodeTouches,
  encodeInt,
  encodePacket,
  encodeRevalidateAnswer,
  hexZxid,
  makeZxid,
  packet,
  packetTypeName,
  type DiskAction,
  type ObserverAction,
  type QuorumPacket,
} from '../../../src/quorum/learner/index.js';

const hex = (v: bigint): string => hexZxid(v);
const CONFIG_TEXT = 'server.1=127.0.0.1:12888:13888:participant\nserver.4=127.0.0.1:42888:43888:observer\nversion=0';

interface Entry {
  hdr: TxnHeader;
  txn: LoggedTxn;
  digest: TxnDigest | null;
}

/** A tree with its session table and the txns that built it, oldest first. */
class Replica {
  tree = new DataTree();
  sessions = new Map<bigint, number>();
  log: Entry[] = [];

  apply(e: Entry): void {
    const txn = resolveLoggedTxn(this.tree, e.hdr, e.txn);
    if (txn.type === OpCode.createSession) this.sessions.set(e.hdr.clientId, txn.timeOut);
    if (txn.type === OpCode.closeSession) this.sessions.delete(e.hdr.clientId);
    this.tree.processTxn(e.hdr, txn);
  }

  rebuild(upTo: bigint): void {
    const log = this.log.filter((e) => e.hdr.zxid <= upTo);
    this.tree = new DataTree();
    this.sessions = new Map();
    this.log = [];
    for (const e of log) {
      this.apply(e);
      this.log.push(e);
    }
    this.tree.lastProcessedZxid = upTo;
  }
}

/** Parses `key=value` words off the end of a word list. */
function options(words: string[]): { rest: string[]; opts: Map<string, string> } {
  const opts = new Map<string, string>();
  const rest: string[] = [];
  for (const w of words) {
    const m = /^([a-zA-Z]+)=(.*)$/.exec(w);
    if (m !== null && !w.startsWith('/')) opts.set(m[1]!, m[2]!);
    else rest.push(w);
  }
  return { rest, opts };
}

/** Builds the txn `words` describes against `tree` (the state it will apply to). */
function makeTxn(tree: DataTree, words: string[]): { txn: Txn; clientId: bigint; cxid: number } {
  const { rest, opts } = options(words);
  const [op, ...args] = rest;
  let clientId = opts.has('session') ? BigInt(opts.get('session')!) : 0n;
  const cxid = Number(opts.get('cxid') ?? 0);
  const acl: ACL[] = [...OPEN_ACL_UNSAFE];
  switch (op) {
    case 'create': {
      const [path, data, eph] = args as [string, string, string?];
      const parent = tree.get(path.substring(0, path.lastIndexOf('/')) || '/');
      return { txn: { type: OpCode.create, path, data: Buffer.from(data), acl, ephemeral: eph === 'ephemeral', parentCVersion: (parent?.cversion ?? 0) + 1 }, clientId, cxid };
    }
    case 'setData': {
      const [path, data] = args as [string, string];
      return { txn: { type: OpCode.setData, path, data: Buffer.from(data), version: (tree.get(path)?.version ?? 0) + 1 }, clientId, cxid };
    }
    case 'delete':
      return { txn: { type: OpCode.delete, path: args[0]! }, clientId, cxid };
    case 'createSession':
      clientId = BigInt(args[0]!);
      return { txn: { type: OpCode.createSession, timeOut: Number(args[1]) }, clientId, cxid };
    case 'closeSession':
      clientId = BigInt(args[0]!);
      return { txn: { type: OpCode.closeSession, paths2Delete: [...tree.ephemeralsOf(clientId)].sort() }, clientId, cxid };
    case 'error':
      return { txn: { type: OpCode.error, err: Number(args[0]) }, clientId, cxid };
    default:
      throw new Error(`unknown txn ${op}`);
  }
}

/** The §3.2 snapshot stream of a tree, as LearnerHandler sends it after SNAP. */
function snapshotStream(tree: DataTree, sessions: Map<bigint, number>): Buffer {
  const w = new JuteWriter(4096);
  w.int(sessions.size);
  for (const [id, timeout] of sessions) w.long(id).int(timeout);
  const index = new Map<readonly ACL[], bigint>();
  for (const [, node] of tree.entries()) if (node.acl !== OPEN_ACL_UNSAFE && !index.has(node.acl)) index.set(node.acl, BigInt(index.size + 1));
  w.int(index.size);
  for (const [list, i] of index) {
    w.long(i).int(list.length);
    for (const a of list) w.int(a.perms).string(a.id.scheme).string(a.id.id);
  }
  const walk = (path: string): void => {
    const n = tree.get(path)!;
    w.string(path === '/' ? '' : path).buffer(n.data).long(index.get(n.acl) ?? -1n);
    w.long(n.czxid).long(n.mzxid).long(BigInt(n.ctime)).long(BigInt(n.mtime)).int(n.version).int(n.cversion).int(n.aversion).long(n.ephemeralOwner).long(n.pzxid);
    for (const c of tree.childNames(path).sort()) walk(path === '/' ? `/${c}` : `${path}/${c}`);
  };
  walk('/');
  w.string('/').string(SNAPSHOT_SIGNATURE);
  return w.toBuffer();
}

function describeTxn(hdr: TxnHeader, txn: LoggedTxn): string {
  const path = 'path' in txn ? ` ${txn.path}` : '';
  const extra = txn.type === OpCode.closeSession ? ` [${(txn.paths2Delete ?? []).join(' ')}]` : txn.type === OpCode.error ? ` ${txn.err}` : '';
  return `${opName(hdr.type)}${path}${extra}`;
}

function describeSend(p: QuorumPacket): string {
  const head = `send ${packetTypeName(p.type)} ${hex(p.zxid)}`;
  const auth = p.authinfo === null ? '' : ` auth=[${p.authinfo.map((a) => `${a.scheme}:${a.id}`).join(',')}]`;
  switch (p.type) {
    case PacketType.OBSERVERINFO: {
      const li = decodeLearnerInfo(p.data);
      return `${head} sid=${li.sid} protocol=0x${li.protocolVersion.toString(16)} configVersion=${hex(li.configVersion)}`;
    }
    case PacketType.ACKEPOCH:
      return `${head} currentEpoch=${decodeInt(p.data, 'ACKEPOCH')}`;
    case PacketType.PING:
      return `${head} touches=[${decodeTouches(p.data).map((t) => `${hex(t.sessionId)}:${t.timeoutMs}`).join(',')}]${p.data === null ? ' NULL' : ''}${auth}`;
    case PacketType.REQUEST: {
      const r = decodeRequest(p.data);
      return `${head} session=${hex(r.sessionId)} cxid=${r.cxid} op=${opName(r.type)} body=${r.body.toString('hex') || '-'}${auth}`;
    }
    case PacketType.REVALIDATE: {
      const r = decodeRevalidateRequest(p.data);
      return `${head} session=${hex(r.sessionId)} timeout=${r.timeoutMs}`;
    }
    default:
      return `${head}${p.data === null ? '' : ` data=${p.data.toString('hex')}`}${auth}`;
  }
}

export class TranscriptRunner {
  private core: ObserverCore | null = null;
  private coreOpts = { sid: 4n, tickTimeMs: 2000, initLimit: 10, syncLimit: 5, acceptedEpoch: 0n, currentEpoch: 0n, configVersion: 0n };
  private now = 0;
  private readonly leader = new Replica();
  private leaderEpoch = 1n;
  private leaderCounter = 0n;
  private observer = new Replica();
  private disk: DiskAction[] = [];
  private readonly files = { acceptedEpoch: 0n, currentEpoch: 0n, snapshots: [] as bigint[] };

  private get c(): ObserverCore {
    this.core ??= new ObserverCore(this.coreOpts);
    return this.core;
  }

  /** Runs one input line; returns the lines it printed. */
  run(line: string): string[] {
    const words = line.trim().split(/\s+/);
    const [cmd, ...args] = words;
    switch (cmd) {
      case 'options': {
        const { opts } = options(args);
        for (const [k, v] of opts) {
          if (k === 'tickTime') this.coreOpts.tickTimeMs = Number(v);
          else if (k === 'initLimit' || k === 'syncLimit') this.coreOpts[k] = Number(v);
          else if (k === 'sid' || k === 'acceptedEpoch' || k === 'currentEpoch' || k === 'configVersion') this.coreOpts[k] = BigInt(v);
          else throw new Error(`unknown option ${k}`);
        }
        this.files.acceptedEpoch = this.coreOpts.acceptedEpoch;
        this.files.currentEpoch = this.coreOpts.currentEpoch;
        return [];
      }
      case 'leader':
        if (args[0] === 'epoch') {
          this.leaderEpoch = BigInt(args[1]!);
          this.leaderCounter = 0n;
          return [];
        }
        return [`leader ${hex(this.leaderTxn(args).hdr.zxid)}`];
      case 'observer': {
        if (args[0] === 'from-leader') {
          this.observer = new Replica();
          for (const e of this.leader.log) {
            this.observer.apply(e);
            this.observer.log.push(e);
          }
          this.observer.tree.lastProcessedZxid = this.leader.tree.lastProcessedZxid;
          return [`observer at ${hex(this.observer.tree.lastProcessedZxid)} digest=${treeDigest(this.observer.tree)}`];
        }
        const { txn, clientId, cxid } = makeTxn(this.observer.tree, args);
        const zxid = this.observer.tree.lastProcessedZxid + 1n;
        const e: Entry = { hdr: { clientId, cxid, zxid, time: 1000 + Number(zxid & 0xffffn), type: txn.type }, txn, digest: null };
        this.observer.apply(e);
        this.observer.log.push(e);
        return [`observer ${hex(zxid)}`];
      }
      case 'connected':
        return this.exec(this.c.connected(this.now, this.observer.tree.lastProcessedZxid));
      case 'disconnected':
        return this.exec(this.c.disconnected(args.join(' ')));
      case 'tick':
        this.now += Number(args[0]);
        return this.exec(this.c.tick(this.now));
      case 'recv':
        return this.recv(args);
      case 'persisted':
      case 'persistFailed': {
        const kind = { acceptedEpoch: 'persistAcceptedEpoch', currentEpoch: 'persistCurrentEpoch', snapshot: 'takeSnapshot', truncate: 'truncateLog' }[args[0]!];
        const i = this.disk.findIndex((a) => a.kind === kind);
        if (i < 0) throw new Error(`no outstanding ${args[0]}`);
        const [action] = this.disk.splice(i, 1);
        if (cmd === 'persistFailed') return this.exec(this.c.persistFailed(action!, args.slice(1).join(' ')));
        return [...this.carryOut(action!), ...this.exec(this.c.persisted(action!, this.now))];
      }
      case 'touch':
        this.c.touch(BigInt(args[0]!), Number(args[1]));
        return [];
      case 'revalidate':
        return this.exec(this.c.revalidate(BigInt(args[0]!), Number(args[1])));
      case 'forward':
        return this.forward(args);
      default:
        throw new Error(`unknown command ${cmd}`);
    }
  }

  private leaderTxn(words: string[]): Entry {
    const { txn, clientId, cxid } = makeTxn(this.leader.tree, words);
    const zxid = makeZxid(this.leaderEpoch, ++this.leaderCounter);
    const hdr: TxnHeader = { clientId, cxid, zxid, time: 1000 + Number(this.leaderCounter), type: txn.type };
    this.leader.apply({ hdr, txn, digest: null });
    const digest = txn.type === OpCode.error ? null : { version: 2, treeDigest: treeDigest(this.leader.tree) };
    const e = { hdr, txn, digest };
    this.leader.log.push(e);
    return e;
  }

  private history(zxid: bigint): Entry {
    const e = this.leader.log.find((x) => x.hdr.zxid === zxid);
    if (e === undefined) throw new Error(`no leader txn ${hex(zxid)}`);
    return e;
  }

  private recv(args: string[]): string[] {
    const [type, ...rest] = args;
    const { rest: pos, opts } = options(rest);
    const leaderZxid = this.leader.tree.lastProcessedZxid;
    let bytes: Buffer;
    const p = (t: number, zxid: bigint, data: Buffer | null = null): Buffer => encodePacket(packet(t, zxid, data));
    switch (type) {
      case 'LEADERINFO':
        bytes = p(PacketType.LEADERINFO, makeZxid(BigInt(pos[0]!), 0n), encodeInt(0x10000));
        break;
      case 'DIFF':
        bytes = p(PacketType.DIFF, leaderZxid);
        break;
      case 'TRUNC':
        bytes = p(PacketType.TRUNC, leaderZxid);
        break;
      case 'SNAP':
        bytes = Buffer.concat([p(PacketType.SNAP, leaderZxid), snapshotStream(this.leader.tree, this.leader.sessions)]);
        break;
      case 'NEWLEADER':
        bytes = p(PacketType.NEWLEADER, makeZxid(this.leaderEpoch, 0n), Buffer.from(CONFIG_TEXT));
        break;
      case 'UPTODATE':
        bytes = p(PacketType.UPTODATE, -1n);
        break;
      case 'SYNC':
        bytes = p(PacketType.SYNC, 0n);
        break;
      case 'PING':
        bytes = p(PacketType.PING, BigInt(pos[0] ?? leaderZxid));
        break;
      case 'REVALIDATE':
        bytes = p(PacketType.REVALIDATE, -1n, encodeRevalidateAnswer({ sessionId: BigInt(pos[0]!), valid: pos[1] === 'true' }));
        break;
      case 'PROPOSAL':
      case 'INFORM': {
        const e = this.history(BigInt(pos[0]!));
        const digest = opts.has('digest') ? { version: 2, treeDigest: BigInt(opts.get('digest')!) } : e.digest;
        bytes = p(type === 'PROPOSAL' ? PacketType.PROPOSAL : PacketType.INFORM, e.hdr.zxid, encodeTxnEntry(e.hdr, e.txn, digest));
        break;
      }
      case 'COMMIT':
        bytes = p(PacketType.COMMIT, BigInt(pos[0]!));
        break;
      case 'INFORMANDACTIVATE': {
        const e = this.history(BigInt(pos[0]!));
        const leaderId = new JuteWriter(8).long(BigInt(pos[1]!)).toBuffer();
        bytes = p(PacketType.INFORMANDACTIVATE, e.hdr.zxid, Buffer.concat([leaderId, encodeTxnEntry(e.hdr, e.txn, e.digest)]));
        break;
      }
      case 'COMMITANDACTIVATE':
        bytes = p(PacketType.COMMITANDACTIVATE, BigInt(pos[0]!), new JuteWriter(8).long(BigInt(pos[1]!)).toBuffer());
        break;
      case 'bytes':
        bytes = Buffer.from(pos.join(''), 'hex');
        break;
      default:
        throw new Error(`unknown packet ${type}`);
    }
    return this.exec(this.c.receive(bytes, this.now));
  }

  private forward(args: string[]): string[] {
    const { rest, opts } = options(args);
    const [session, cxid, op, ...more] = rest;
    const w = new JuteWriter();
    let type: number;
    switch (op) {
      case 'create':
        type = OpCode.create;
        w.string(more[0]!).buffer(Buffer.from(more[1] ?? '')).int(1).int(31).string('world').string('anyone').int(more[2] === 'ephemeral' ? 1 : 0);
        break;
      case 'setData':
        type = OpCode.setData;
        w.string(more[0]!).buffer(Buffer.from(more[1] ?? '')).int(-1);
        break;
      case 'delete':
        type = OpCode.delete;
        w.string(more[0]!).int(-1);
        break;
      case 'sync':
        type = OpCode.sync;
        w.string(more[0]!);
        break;
      case 'createSession':
        type = OpCode.createSession;
        w.int(Number(more[0]));
        break;
      case 'closeSession':
        type = OpCode.closeSession;
        break;
      default:
        throw new Error(`unknown request ${op}`);
    }
    const auth: Id[] | null = opts.has('auth') ? [{ scheme: opts.get('auth')!.split(':')[0]!, id: opts.get('auth')!.split(':').slice(1).join(':') }] : null;
    return this.exec(this.c.forwardRequest({ sessionId: BigInt(session!), cxid: Number(cxid), type, body: w.toBuffer() }, auth));
  }

  /** What the host does for a disk action before it reports it done. */
  private carryOut(a: DiskAction): string[] {
    switch (a.kind) {
      case 'persistAcceptedEpoch':
        this.files.acceptedEpoch = a.epoch;
        return [];
      case 'persistCurrentEpoch':
        this.files.currentEpoch = a.epoch;
        return [];
      case 'takeSnapshot':
        this.files.snapshots.push(a.zxid);
        return [`  (snapshot at ${hex(a.zxid)} digest=${treeDigest(this.observer.tree)})`];
      case 'truncateLog':
        this.observer.rebuild(a.zxid);
        return [`  (log truncated to ${hex(a.zxid)}, tree reloaded: digest=${treeDigest(this.observer.tree)})`];
    }
  }

  /** Prints the actions and carries out those the host does at once (apply, replaceTree). */
  private exec(actions: ObserverAction[]): string[] {
    const out: string[] = [];
    for (const a of actions) {
      switch (a.kind) {
        case 'send':
          out.push(describeSend(a.packet));
          break;
        case 'persistAcceptedEpoch':
        case 'persistCurrentEpoch':
          this.disk.push(a);
          out.push(`${a.kind} ${a.epoch}`);
          break;
        case 'takeSnapshot':
          this.disk.push(a);
          out.push(`takeSnapshot ${hex(a.zxid)} fsync=${a.fsync}`);
          break;
        case 'truncateLog':
          this.disk.push(a);
          out.push(`truncateLog ${hex(a.zxid)}`);
          break;
        case 'replaceTree': {
          this.observer = new Replica();
          this.observer.tree = a.snapshot.tree;
          this.observer.sessions = new Map(a.snapshot.sessions);
          const sessions = [...a.snapshot.sessions].map(([id, t]) => `${hex(id)}:${t}`).join(',');
          out.push(`replaceTree ${hex(a.zxid)} nodes=${a.snapshot.tree.nodeCount} sessions=[${sessions}] digest=${treeDigest(a.snapshot.tree)}`);
          break;
        }
        case 'apply': {
          const e: Entry = { hdr: a.hdr, txn: a.txn, digest: a.digest };
          this.observer.apply(e);
          if (a.log) this.observer.log.push(e);
          const actual = treeDigest(this.observer.tree);
          out.push(`apply ${hex(a.hdr.zxid)} ${describeTxn(a.hdr, a.txn)} log=${a.log} digest=${a.digest === null ? 'none' : a.digest.treeDigest === actual ? 'ok' : `${a.digest.treeDigest}`}`);
          out.push(...this.exec(this.c.applied(a.hdr.zxid, actual)));
          break;
        }
        case 'digestMismatch':
          out.push(`digestMismatch ${hex(a.zxid)} expected=${a.expected} actual=${a.actual} count=${a.count}`);
          break;
        case 'serving':
          out.push(`serving ${a.serving}`);
          break;
        case 'config':
          out.push(`config ${JSON.stringify(a.text)}${a.designatedLeader === null ? '' : ` designatedLeader=${a.designatedLeader}`}`);
          break;
        case 'revalidated':
          out.push(`revalidated ${hex(a.sessionId)} valid=${a.valid}`);
          break;
        case 'syncDone':
          out.push(`syncDone session=${hex(a.sessionId)} cxid=${a.cxid}`);
          break;
        case 'warn':
          out.push(`warn ${a.message}`);
          break;
        case 'disconnect':
          this.disk = [];
          out.push(`disconnect ${JSON.stringify(a.reason)} syncs=[${a.syncs.map((s) => `${hex(s.sessionId)}/${s.cxid}`).join(',')}] revalidations=[${a.revalidations.map(hex).join(',')}]`);
          break;
      }
    }
    return out;
  }

  /** The state at the end, for the last block of a transcript. */
  summary(): string[] {
    const c = this.c;
    return [
      `state=${c.state} lastZxid=${hex(c.lastZxid)} acceptedEpoch=${c.acceptedEpoch} currentEpoch=${c.currentEpoch} digestMismatches=${c.digestMismatches} blockedOn=${c.blockedOn?.kind ?? '-'}`,
      `files acceptedEpoch=${this.files.acceptedEpoch} currentEpoch=${this.files.currentEpoch} snapshots=[${this.files.snapshots.map(hex).join(',')}]`,
      `observer tree ${hex(this.observer.tree.lastProcessedZxid)} digest=${treeDigest(this.observer.tree)} nodes=[${[...this.observer.tree.paths()].sort().join(' ')}] log=[${this.observer.log.map((e) => hex(e.hdr.zxid)).join(',')}]`,
      `leader tree ${hex(this.leader.tree.lastProcessedZxid)} digest=${treeDigest(this.leader.tree)}`,
    ];
  }
}

/** Runs a transcript text; returns it with every input's output regenerated. */
export function runTranscript(text: string): string {
  const runner = new TranscriptRunner();
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('> ')) {
      out.push(line);
      const cmd = line.slice(2);
      out.push(...(cmd.trim() === 'summary' ? runner.summary() : runner.run(cmd)));
    } else if (line.startsWith('#') || line.trim() === '') {
      out.push(line);
    }
  }
  return out.join('\n');
}
