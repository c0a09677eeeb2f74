// stream-decoder.ts — a push parser for what a leader sends a learner (ZAB.md §2, §3.2): bytes in,
// in chunks of any size, whole QuorumPackets out. The quorum port has no length prefix, so jute
// is parsed progressively: an item that is not all there yet is retried from its start when more
// bytes come, and nothing is parsed again until at least the bytes it was missing have arrived.
// After a SNAP packet the raw snapshot stream follows outside any packet (sessions, ACL table,
// nodes in pre-order, "/", then the "BenWasHere" signature); the decoder builds the DataTree from
// it and then goes back to packets. Every length is checked against jute.maxbuffer (+ the extra
// ZooKeeper allows, same again by default) before anything is buffered for it, so a corrupt or
// hostile stream fails with an error naming what is wrong instead of growing memory.
import { decodeJavaUtf8 } from '../../protocol/jute.js';
import type { ACL, Id } from '../../protocol/records.js';
import { OPEN_ACL_UNSAFE } from '../../tree/acl-cache.js';
import { DataTree } from '../../tree/data-tree.js';
import { PacketType, packetTypeName, type QuorumPacket } from './packet.js';

/** jute.maxbuffer's default (BinaryInputArchive). */
export const DEFAULT_JUTE_MAXBUFFER = 0xfffff;
/** The signature a leader writes after the snapshot stream (LearnerHandler). */
export const SNAPSHOT_SIGNATURE = 'BenWasHere';

export class QuorumStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuorumStreamError';
  }
}

export interface StreamDecoderOptions {
  /** jute.maxbuffer (default 0xfffff). */
  maxBufferBytes?: number;
  /** zookeeper.jute.maxbuffer.extrasize (default: maxBufferBytes). */
  extraBufferBytes?: number;
  /** zookeeper.extendedTypesEnabled, for the TTL nodes of a snapshot. */
  extendedTypesEnabled?: boolean;
}

/** The state a SNAP carried: the tree (lastProcessedZxid still 0: the SNAP packet's zxid is it) and the sessions. */
export interface LearnerSnapshot {
  tree: DataTree;
  /** sessionId → timeout (ms), in the leader's order. */
  sessions: Map<bigint, number>;
  /** Bytes of the snapshot stream, signature included. */
  bytes: number;
}

export type StreamEvent = { kind: 'packet'; packet: QuorumPacket } | { kind: 'snapshot'; snapshot: LearnerSnapshot };

/** Thrown inside a parse step: the item needs the buffer to reach `upTo` bytes. */
class NeedMore {
  constructor(readonly upTo: number) {}
}

/** Jute over a buffer that may end mid-item: running out throws NeedMore, never a decode error. */
class StreamReader {
  offset = 0;
  constructor(
    readonly buf: Buffer,
    private readonly limit: number,
  ) {}

  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw new NeedMore(this.offset + n);
  }

  int(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  long(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }

  /** A length or count: -1 (null) or 0..max; anything else is the error. */
  private length(what: string, max: number): number {
    const n = this.int();
    if (n === -1) return -1;
    if (n < 0) throw new QuorumStreamError(`${what}: negative length ${n}`);
    if (n > max) throw new QuorumStreamError(`${what}: length ${n} exceeds jute.maxbuffer + extra (${this.limit}); the stream is corrupt or out of step`);
    return n;
  }

  buffer(what: string): Buffer | null {
    const n = this.length(what, this.limit);
    if (n === -1) return null;
    this.need(n);
    const b = Buffer.from(this.buf.subarray(this.offset, this.offset + n));
    this.offset += n;
    return b;
  }

  string(what: string): string | null {
    const n = this.length(what, this.limit);
    if (n === -1) return null;
    this.need(n);
    const s = decodeJavaUtf8(this.buf, this.offset, this.offset + n, false);
    this.offset += n;
    return s;
  }

  /** A vector count; `minElementBytes` bounds it so that the vector fits the limit. */
  count(what: string, minElementBytes: number): number {
    return this.length(what, Math.floor(this.limit / minElementBytes));
  }
}

function readPacket(r: StreamReader): QuorumPacket {
  const type = r.int();
  const zxid = r.long();
  const name = packetTypeName(type);
  const data = r.buffer(`${name} packet data`);
  const n = r.count(`${name} packet authinfo`, 8);
  let authinfo: Id[] | null = null;
  if (n !== -1) {
    authinfo = [];
    for (let i = 0; i < n; i++) {
      const scheme = r.string(`${name} authinfo scheme`);
      const id = r.string(`${name} authinfo id`);
      if (scheme === null || id === null) throw new QuorumStreamError(`${name} packet: null authinfo Id`);
      authinfo.push({ scheme, id });
    }
  }
  return { type, zxid, data, authinfo };
}

type SnapPhase = 'sessionCount' | 'sessions' | 'aclCount' | 'acls' | 'nodes' | 'signature';

/** Builds a DataTree from the snapshot stream, one item per step (DataTree.deserialize). */
class SnapshotBuilder {
  private phase: SnapPhase = 'sessionCount';
  private left = 0;
  private readonly tree: DataTree;
  private readonly sessions = new Map<bigint, number>();
  private readonly acls = new Map<bigint, readonly ACL[]>([[-1n, OPEN_ACL_UNSAFE]]);
  bytes = 0;

  constructor(opts: StreamDecoderOptions) {
    this.tree = new DataTree({ extendedTypesEnabled: opts.extendedTypesEnabled });
    this.tree.clear();
  }

  /** Reads one item; returns the snapshot once the signature is read. */
  step(r: StreamReader): LearnerSnapshot | null {
    switch (this.phase) {
      case 'sessionCount':
        this.left = this.nonNull(r.count('snapshot session count', 12), 'snapshot session count');
        this.phase = this.left > 0 ? 'sessions' : 'aclCount';
        return null;
      case 'sessions': {
        const id = r.long();
        const timeoutMs = r.int();
        this.sessions.set(id, timeoutMs);
        if (--this.left === 0) this.phase = 'aclCount';
        return null;
      }
      case 'aclCount':
        this.left = this.nonNull(r.count('snapshot ACL table size', 12), 'snapshot ACL table size');
        this.phase = this.left > 0 ? 'acls' : 'nodes';
        return null;
      case 'acls':
        this.readAclEntry(r);
        if (--this.left === 0) this.phase = 'nodes';
        return null;
      case 'nodes':
        this.readNode(r);
        return null;
      case 'signature': {
        const sig = r.string('snapshot signature');
        if (sig !== SNAPSHOT_SIGNATURE) throw new QuorumStreamError(`snapshot stream: signature ${JSON.stringify(sig)} where "${SNAPSHOT_SIGNATURE}" ends the snapshot (Missing signature)`);
        if (!this.tree.has('/')) throw new QuorumStreamError('snapshot stream: no root node');
        this.tree.rebuildQuotas();
        this.tree.resetDigest(); // nodes went in without the incremental digest
        return { tree: this.tree, sessions: this.sessions, bytes: 0 };
      }
    }
  }

  private nonNull(n: number, what: string): number {
    if (n === -1) throw new QuorumStreamError(`${what}: -1`);
    return n;
  }

  private readAclEntry(r: StreamReader): void {
    const index = r.long();
    const n = r.count(`snapshot ACL list ${index}`, 12);
    if (n === -1) throw new QuorumStreamError(`snapshot ACL table entry ${index} has no list`);
    const list: ACL[] = [];
    for (let i = 0; i < n; i++) {
      const perms = r.int();
      const scheme = r.string('snapshot ACL scheme');
      const id = r.string('snapshot ACL id');
      if (scheme === null || id === null) throw new QuorumStreamError(`snapshot ACL table entry ${index}: null Id`);
      list.push({ perms, id: { scheme, id } });
    }
    this.acls.set(index, this.tree.acls.intern(list));
  }

  private readNode(r: StreamReader): void {
    const path = r.string('snapshot node path');
    if (path === null) throw new QuorumStreamError('snapshot stream: null node path');
    if (path === '/') {
      this.phase = 'signature';
      return;
    }
    if (this.tree.nodeCount === 0 && path !== '') throw new QuorumStreamError(`snapshot stream: first node is ${path}, not the root`);
    const data = r.buffer(`snapshot data of ${path || '/'}`);
    const aclIndex = r.long();
    const czxid = r.long();
    const mzxid = r.long();
    const ctime = r.long();
    const mtime = r.long();
    const version = r.int();
    const cversion = r.int();
    const aversion = r.int();
    const ephemeralOwner = r.long();
    const pzxid = r.long();
    const acl = this.acls.get(aclIndex);
    if (acl === undefined) throw new QuorumStreamError(`snapshot node ${path || '/'} refers to ACL ${aclIndex}, which the ACL table lacks`);
    const fields = { data, acl, czxid, mzxid, pzxid, ctime: Number(ctime), mtime: Number(mtime), version, cversion, aversion, ephemeralOwner };
    const err = this.tree.loadNode(path === '' ? '/' : path, fields);
    if (err !== null) throw new QuorumStreamError(`snapshot stream: ${err}`);
  }
}

/**
 * Leader → learner stream decoder. `push` returns the events the new bytes complete, in order.
 * After an error the stream is unusable (close the connection): every later push throws it again.
 */
export class LearnerStreamDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes the next item needs at least; nothing is parsed before they are buffered. */
  private needed = 0;
  /** Stream offset of the first buffered byte, for error messages. */
  private streamOffset = 0;
  private snap: SnapshotBuilder | null = null;
  private snapStart = 0;
  private failed: QuorumStreamError | null = null;
  private readonly limit: number;
  private readonly opts: StreamDecoderOptions;

  constructor(opts: StreamDecoderOptions = {}) {
    const max = opts.maxBufferBytes ?? DEFAULT_JUTE_MAXBUFFER;
    this.limit = max + (opts.extraBufferBytes ?? max);
    this.opts = opts;
  }

  /** Bytes received and not yet part of a whole item. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Whether the decoder is inside a snapshot stream. */
  get inSnapshot(): boolean {
    return this.snap !== null;
  }

  /** Total bytes consumed so far. */
  get offset(): number {
    return this.streamOffset;
  }

  push(chunk: Buffer): StreamEvent[] {
    if (this.failed !== null) throw this.failed;
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return [];
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const r = new StreamReader(buf, this.limit);
    const out: StreamEvent[] = [];
    this.needed = 0;
    while (r.offset < buf.length) {
      const start = r.offset;
      try {
        this.step(r, out);
      } catch (e) {
        if (e instanceof NeedMore) {
          r.offset = start;
          this.needed = e.upTo - start;
          break;
        }
        const msg = e instanceof Error ? e.message : String(e);
        this.failed = new QuorumStreamError(`leader stream at byte ${this.streamOffset + start}: ${msg}`);
        throw this.failed;
      }
    }
    this.streamOffset += r.offset;
    const rest = buf.subarray(r.offset);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  private step(r: StreamReader, out: StreamEvent[]): void {
    if (this.snap === null) {
      const p = readPacket(r);
      out.push({ kind: 'packet', packet: p });
      if (p.type === PacketType.SNAP) {
        this.snap = new SnapshotBuilder(this.opts);
        this.snapStart = this.streamOffset + r.offset;
      }
      return;
    }
    const done = this.snap.step(r);
    if (done === null) return;
    done.bytes = this.streamOffset + r.offset - this.snapStart;
    this.snap = null;
    out.push({ kind: 'snapshot', snapshot: done });
  }
}
