// snapshot-writer.ts — writing ZooKeeper's snapshot.<hex zxid> files (FileSnap.serialize) from a
// TreeView, in bounded slices, so that a snapshot never stalls clients:
//   FileHeader {'ZKSN', 2, dbid -1}
//   sessions: int count, {long id; int timeoutMs}*
//   ACL table: int count, {long id; vector<ACL>}* — the lists the nodes use, numbered 1, 2, …
//     per snapshot; OPEN_ACL_UNSAFE is -1 and never listed (ReferenceCountedACLCache)
//   nodes, parents before children: {ustring path ("" for the root); buffer data; long acl;
//     StatPersisted}, then ustring "/"
//   seal: long Adler32 of every byte so far, ustring "/"
//   ZxidDigest {long zxid; int version; long digest} and a second seal (3.6+, digest enabled)
//   long lastProcessedZxid and a third seal (3.9.5+, serializeLastProcessedZxid)
//
// The snapshot is exact: a FrozenTree shows the tree as it was at one zxid however long writing
// takes, so the file is named for that zxid, holds exactly its state, and seals the digest of
// exactly that state (the tree's own, kept on every apply, read with the zxid; none with
// zookeeper.digest.enabled=false). ZooKeeper reads such a file as a
// non-fuzzy snapshot: FileSnap.deserialize compares the digest at once, since its zxid is the
// snapshot's. (ZooKeeper's own snapshots are fuzzy instead; recovery replays over them.)
//
// SnapshotSerializer does the work in steps of bounded time; writeSnapshotFile runs the steps one
// event-loop turn apart and streams each finished chunk to a temp file (a few chunk buffers are
// reused, so memory stays flat whatever the tree's size), then fsync, rename, directory fsync.
import assert from 'node:assert/strict';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ZktsError } from '../errors.js';
import type { ACL } from '../protocol/records.js';
import { OPEN_ACL_UNSAFE, aclKey } from '../tree/acl-cache.js';
import type { DataTree } from '../tree/data-tree.js';
import type { ZNode } from '../tree/znode.js';
import { ChunkedWriter } from './chunked-writer.js';
import { FORMAT_VERSION, SNAP_MAGIC, fsyncDirAsync, snapshotName } from './data-files.js';
import { StillTree, type TreeView } from './frozen-tree.js';
import { DIGEST_VERSION, nodeDigest } from '../tree/digest.js';

export interface ZxidDigest {
  zxid: bigint;
  version: number;
  digest: bigint;
}

export interface SerializeOptions {
  /**
   * The ZxidDigest to seal in; 'view': the view's digest (none when it has none); 'computed':
   * the digest of the nodes written, summed from scratch.
   */
  digest?: ZxidDigest | 'view' | 'computed' | null;
  /** With digest 'view' or 'computed': the zxid to seal it with, when not the view's. */
  digestZxid?: bigint;
  lastProcessedZxid?: bigint | null;
  chunkBytes?: number;
}

const OPEN_KEY = aclKey(OPEN_ACL_UNSAFE);
const OPEN_ACL_ID = -1n;
/** How many units of work (nodes, sessions, ACL entries) between two looks at the clock. */
const CLOCK_EVERY = 16;

type Phase = 'sessions' | 'aclScan' | 'aclTable' | 'nodes' | 'trailer' | 'done';

interface Frame {
  prefix: string;
  names: string[];
  next: number;
}

/** One snapshot being serialized from a view, a bounded step at a time. */
export class SnapshotSerializer {
  private readonly w: ChunkedWriter;
  private phase: Phase = 'sessions';
  private readonly sessions: [bigint, number][];
  private sessionAt = 0;
  private aclScan: Iterator<ZNode> | null = null;
  private readonly aclIds = new Map<readonly ACL[], bigint>();
  private readonly aclByKey = new Map<string, bigint>();
  private readonly aclLists: [bigint, readonly ACL[]][] = [];
  private aclAt = 0;
  private readonly stack: Frame[] = [];
  private digestLo = 0;
  private digestHi = 0n;
  private digestN = 0;
  /** Nodes written so far. */
  nodeCount = 0;

  constructor(
    private readonly view: TreeView,
    sessions: ReadonlyMap<bigint, number>,
    private readonly opts: SerializeOptions = {},
  ) {
    this.w = new ChunkedWriter(opts.chunkBytes ?? 1 << 18);
    this.sessions = [...sessions];
    this.w.int(SNAP_MAGIC).int(FORMAT_VERSION).long(-1n);
    this.w.int(this.sessions.length);
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  /** True once every node has been read: the view is no longer needed. */
  get viewDone(): boolean {
    return this.phase === 'trailer' || this.phase === 'done';
  }

  /** The finished chunks, to write in order; give each back with `recycle` once written. */
  takeChunks(): Buffer[] {
    return this.w.take();
  }

  recycle(chunk: Buffer): void {
    this.w.recycle(chunk);
  }

  /** With digest 'computed': the digest of the nodes written (complete once `viewDone`). */
  get digest(): bigint {
    return BigInt.asIntN(64, this.digestHi + BigInt(this.digestLo));
  }

  /**
   * Works until `untilMs` (performance.now()) has passed or `maxUnits` units are done, whichever
   * comes first, checking the clock every few units. Returns true when the snapshot is complete.
   */
  step(untilMs = Infinity, maxUnits = Infinity): boolean {
    let units = 0;
    const more = (): boolean => {
      units++;
      if (units >= maxUnits) return false;
      return units % CLOCK_EVERY !== 0 || performance.now() < untilMs;
    };
    while (this.phase !== 'done') {
      const finished = this.runPhase(more);
      if (!finished) return false;
    }
    return true;
  }

  /** Runs the current phase while `more()` allows; true when it finished (and the next began). */
  private runPhase(more: () => boolean): boolean {
    switch (this.phase) {
      case 'sessions':
        while (this.sessionAt < this.sessions.length) {
          const [id, timeoutMs] = this.sessions[this.sessionAt++]!;
          this.w.long(id).int(timeoutMs);
          if (!more()) return false;
        }
        this.aclScan = this.view.allNodes();
        this.phase = 'aclScan';
        return true;
      case 'aclScan':
        for (;;) {
          const r = this.aclScan!.next();
          if (r.done === true) break;
          this.noteAcl(r.value.acl);
          if (!more()) return false;
        }
        this.aclScan = null;
        this.w.int(this.aclLists.length);
        this.phase = 'aclTable';
        return true;
      case 'aclTable':
        while (this.aclAt < this.aclLists.length) {
          const [id, list] = this.aclLists[this.aclAt++]!;
          this.w.long(id);
          this.w.acl(list);
          if (!more()) return false;
        }
        this.beginNodes();
        return true;
      case 'nodes':
        if (!this.walk(more)) return false;
        this.w.string('/');
        this.w.seal();
        this.phase = 'trailer';
        return true;
      case 'trailer':
        this.writeTrailer();
        this.phase = 'done';
        return true;
      case 'done':
        return true;
    }
  }

  private noteAcl(acl: readonly ACL[]): void {
    if (this.aclIds.has(acl)) return;
    const k = aclKey(acl);
    let id = k === OPEN_KEY ? OPEN_ACL_ID : this.aclByKey.get(k);
    if (id === undefined) {
      id = BigInt(this.aclLists.length + 1);
      this.aclByKey.set(k, id);
      this.aclLists.push([id, acl]);
    }
    this.aclIds.set(acl, id);
  }

  private beginNodes(): void {
    this.phase = 'nodes';
    const root = this.view.get('/');
    assert.ok(root !== undefined, 'the tree has no root');
    this.emit('/', '', root);
    this.stack.push({ prefix: '/', names: this.view.childNames('/'), next: 0 });
  }

  /** Depth first, parents before children. False when `more()` stopped it early. */
  private walk(more: () => boolean): boolean {
    const stack = this.stack;
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      if (f.next >= f.names.length) {
        stack.pop();
        continue;
      }
      const path = f.prefix + f.names[f.next++]!;
      const node = this.view.get(path);
      if (node !== undefined) {
        this.emit(path, path, node);
        // Always asked: a pre-image has no children of its own, the view knows them.
        const names = this.view.childNames(path);
        if (names.length > 0) stack.push({ prefix: path + '/', names, next: 0 });
      }
      if (!more()) return stack.length === 0;
    }
    return true;
  }

  private emit(path: string, filePath: string, n: ZNode): void {
    const id = this.aclIds.get(n.acl);
    assert.ok(id !== undefined, `the ACL list of ${path} was not collected`);
    const w = this.w;
    w.string(filePath).buffer(n.data).long(id);
    w.long(n.czxid).long(n.mzxid).longOfNumber(n.ctime).longOfNumber(n.mtime);
    w.int(n.version).int(n.cversion).int(n.aversion).long(n.ephemeralOwner).long(n.pzxid);
    w.cut();
    this.nodeCount++;
    if (this.opts.digest !== 'computed') return;
    // Summed in two float-safe halves, as treeDigest.
    this.digestLo += nodeDigest(path, n);
    if (++this.digestN === 1 << 20) {
      this.digestHi += BigInt(this.digestLo);
      this.digestLo = 0;
      this.digestN = 0;
    }
  }

  private sealedDigest(): ZxidDigest | null {
    const zxid = this.opts.digestZxid ?? this.view.zxid;
    const d = this.opts.digest;
    if (d === 'computed') return { zxid, version: DIGEST_VERSION, digest: this.digest };
    if (d === 'view') return this.view.digest === null ? null : { zxid, version: DIGEST_VERSION, digest: this.view.digest };
    return d ?? null;
  }

  private writeTrailer(): void {
    const w = this.w;
    const d = this.sealedDigest();
    if (d) {
      w.long(d.zxid).int(d.version).long(d.digest);
      w.seal();
    }
    if (this.opts.lastProcessedZxid !== undefined && this.opts.lastProcessedZxid !== null) {
      w.long(this.opts.lastProcessedZxid);
      w.seal();
    }
    w.cut(true);
  }
}

/** The whole snapshot of a tree as it is now, as chunks (synchronous: nothing changes meanwhile). */
export function serializeSnapshot(tree: DataTree, sessions: ReadonlyMap<bigint, number>, opts: SerializeOptions = {}): Buffer[] {
  const s = new SnapshotSerializer(new StillTree(tree), sessions, { chunkBytes: 1 << 20, ...opts });
  s.step();
  return s.takeChunks();
}

export interface SliceOptions {
  /** Longest time one slice may serialize for (default 2 ms). */
  sliceMs?: number;
  /** At most this many units (nodes, sessions, ACL lists) per slice; for tests (default no limit). */
  sliceUnits?: number;
  /** Called once between slices; the default waits for the next event-loop turn (setImmediate). */
  yieldTurn?: () => Promise<void>;
  /** Checked between slices: true abandons the snapshot (the temp file is removed). */
  shouldStop?: () => boolean;
  chunkBytes?: number;
  /** The zxid to name and seal the snapshot with, when not the view's (the caller vouches for it). */
  zxid?: bigint;
  /** Makes the rename durable (default: fsync of the directory, off the event loop). */
  syncDir?: (dir: string) => Promise<void>;
  /** Creates the temp file (default: node:fs); tests pass one that fails. */
  create?: (path: string) => Promise<SnapshotFileHandle>;
}

export interface SnapshotFileResult {
  file: string;
  zxid: bigint;
  digest: bigint;
  nodes: number;
  slices: number;
  /** Time spent serializing, and the longest single slice, in ms. */
  serializeMs: number;
  longestSliceMs: number;
  /** Nodes copied because they changed while the snapshot was being written. */
  preserved: number;
}

export class SnapshotAbandoned extends Error {}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** What writing a snapshot file needs of it; tests substitute failing ones (SliceOptions.create). */
export interface SnapshotFileHandle {
  write(buf: Buffer, position: number): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

async function createFile(path: string): Promise<SnapshotFileHandle> {
  const fh: FileHandle = await open(path, 'w');
  return {
    async write(b, pos) {
      let done = 0;
      while (done < b.length) {
        const { bytesWritten } = await fh.write(b, done, b.length - done, pos + done);
        done += bytesWritten;
      }
    },
    sync: () => fh.sync(),
    close: () => fh.close(),
  };
}

/**
 * Writes `<dir>/snapshot.<hex zxid>` of the view (its zxid) sealed with its digest, serializing
 * in slices one event-loop turn apart and streaming the chunks out. Closes the
 * view once every node is read. Throws SnapshotAbandoned when `shouldStop` says so, ZktsError
 * ('ZKTS_ERR_DISK') when the file cannot be written; the temp file is removed either way.
 */
export async function writeSnapshotFile(view: TreeView, sessions: ReadonlyMap<bigint, number>, dir: string, opts: SliceOptions = {}): Promise<SnapshotFileResult> {
  const zxid = opts.zxid ?? view.zxid;
  const name = snapshotName(zxid);
  const tmp = join(dir, `tmp.${name}`);
  const final = join(dir, name);
  const sliceMs = opts.sliceMs ?? 2;
  const yieldTurn = opts.yieldTurn ?? nextTurn;
  const s = new SnapshotSerializer(view, sessions, { digest: 'view', digestZxid: zxid, lastProcessedZxid: zxid, chunkBytes: opts.chunkBytes });
  const result: SnapshotFileResult = { file: final, zxid, digest: 0n, nodes: 0, slices: 0, serializeMs: 0, longestSliceMs: 0, preserved: 0 };
  let fh: SnapshotFileHandle | null = null;
  try {
    fh = await (opts.create ?? createFile)(tmp);
    let pos = 0;
    for (;;) {
      if (opts.shouldStop?.()) throw new SnapshotAbandoned(`snapshot ${name} abandoned`);
      const t0 = performance.now();
      const done = s.step(t0 + sliceMs, opts.sliceUnits ?? Infinity);
      const ms = performance.now() - t0;
      result.slices++;
      result.serializeMs += ms;
      if (ms > result.longestSliceMs) result.longestSliceMs = ms;
      if (s.viewDone && result.preserved === 0) result.preserved = view.preserved;
      if (s.viewDone) view.close();
      for (const c of s.takeChunks()) {
        await fh.write(c, pos);
        pos += c.length;
        s.recycle(c);
      }
      if (done) break;
      await yieldTurn();
    }
    await fh.sync();
    await fh.close();
    fh = null;
    await rename(tmp, final);
    await (opts.syncDir ?? fsyncDirAsync)(dir);
  } catch (e) {
    view.close();
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    // A broken invariant is not a disk problem: it goes on up, loudly.
    if (e instanceof SnapshotAbandoned || e instanceof assert.AssertionError) throw e;
    throw new ZktsError('ZKTS_ERR_DISK', `cannot write snapshot ${final}: ${(e as Error).message}`, { cause: e });
  }
  result.digest = view.digest ?? 0n;
  result.nodes = s.nodeCount;
  return result;
}
