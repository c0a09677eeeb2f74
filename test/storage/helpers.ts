// helpers.ts — shared pieces of the storage tests: temp directories, a seeded workload that preps
// txns as the server does and applies them to a live tree, and canonical views of a tree for
// comparing every node's data, stat and ACL.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpCode, Perm } from '../../src/protocol/opcodes.js';
import type { ACL } from '../../src/protocol/records.js';
import type { Request } from '../../src/protocol/requests.js';
import { defaultProviders } from '../../src/server/auth/digest.js';
import { OutstandingChanges } from '../../src/server/change-records.js';
import { Prep } from '../../src/server/prep.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { DataTree } from '../../src/tree/data-tree.js';
import { ephemeralKind } from '../../src/tree/ephemeral-type.js';
import type { Txn, TxnHeader } from '../../src/tree/txn.js';
import type { TxnDigest } from '../../src/tree/digest.js';
import { PendingDigests } from '../../src/tree/pending-digest.js';

export function tempDir(t: { after(fn: () => void): void }, prefix = 'zkts-storage-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const OPEN: ACL[] = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];
const IP_ALL: ACL[] = [{ perms: Perm.ALL, id: { scheme: 'ip', id: '127.0.0.1' } }];
// Mostly lists the workload's own identity (ip:127.0.0.1) may write under; a few that lock it out.
const ACLS: ACL[][] = [
  OPEN,
  OPEN,
  IP_ALL,
  IP_ALL,
  [{ perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }],
  [{ perms: Perm.ALL, id: { scheme: 'digest', id: 'user:2Om+GBbT2q/tS6pdvACZbbm7/1A=' } }, { perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }],
];

export interface Step {
  hdr: TxnHeader;
  txn: Txn;
  /** The digest logged with it, worked out before it is applied, as the server does. */
  digest: TxnDigest | null;
}

/** Preps txns as the server does; `apply` applies them to the live tree in zxid order. */
export class Workload {
  readonly tree: DataTree;
  readonly sessions = new Map<bigint, number>();
  private readonly closing = new Set<bigint>();
  private readonly changes: OutstandingChanges;
  private readonly prep: Prep;
  private readonly pending: PendingDigests;
  private zxid: bigint;
  private time = 1_700_000_000_000;
  private nextSession = 0x100000000000000n;
  private readonly rnd: () => number;

  constructor(
    seed: number,
    from: { tree: DataTree; sessions: ReadonlyMap<bigint, number>; lastZxid: bigint } = {
      tree: new DataTree({ extendedTypesEnabled: true }),
      sessions: new Map(),
      lastZxid: 0n,
    },
    private readonly sessionTimeoutMs = 4000,
  ) {
    this.tree = from.tree;
    for (const [id, to] of from.sessions) this.sessions.set(id, to);
    this.zxid = from.lastZxid;
    this.nextSession += BigInt(seed) << 32n;
    this.rnd = seeded(seed);
    this.changes = new OutstandingChanges(this.tree);
    this.prep = new Prep(this.tree, this.changes, defaultProviders({}), { extendedTypesEnabled: true, reconfigEnabled: false });
    this.pending = new PendingDigests(this.tree);
  }

  step(req: Request | { type: typeof OpCode.createSession; timeOut: number }, sessionId: bigint): Step {
    const zxid = ++this.zxid;
    const txn: Txn =
      req.type === OpCode.createSession
        ? { type: OpCode.createSession, timeOut: (req as { timeOut: number }).timeOut }
        : this.prep.prep(req as Request, { sessionId, authIds: [{ scheme: 'ip', id: '127.0.0.1' }], zxid });
    const type = txn.type === OpCode.error ? OpCode.error : req.type;
    const hdr = { clientId: sessionId, cxid: Number(zxid & 0xffffn), zxid, time: this.time++, type };
    return { hdr, txn, digest: this.pending.next(hdr, txn) };
  }

  apply(s: Step): void {
    if (s.txn.type === OpCode.createSession) this.sessions.set(s.hdr.clientId, s.txn.timeOut);
    if (s.txn.type === OpCode.closeSession) {
      this.sessions.delete(s.hdr.clientId);
      this.closing.delete(s.hdr.clientId);
    }
    this.tree.processTxn(s.hdr, s.txn, s.digest);
    this.changes.applied(s.hdr.zxid);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  private somePath(withRoot = true): string {
    const paths = [...this.tree.paths()].filter((p) => !p.startsWith('/zookeeper') && (withRoot || p !== '/'));
    return paths.length === 0 ? '/nothing-yet' : this.pick(paths);
  }

  /**
   * The live state as a DataDir snapshot reads it (a ZkServer has the same shape): the session
   * table is read when the snapshot reads it, as the server's is.
   */
  get live(): { tree: DataTree; sessions: { readonly sessions: Map<bigint, { timeoutMs: number }> } } {
    const own = this.sessions;
    return {
      tree: this.tree,
      sessions: {
        get sessions() {
          return new Map([...own].map(([id, timeoutMs]) => [id, { timeoutMs }]));
        },
      },
    };
  }

  /** A random write, session create or session close. */
  randomStep(): Step {
    const r = this.rnd();
    // Like the server, a session that is closing makes no more requests.
    const sessions = [...this.sessions.keys()].filter((id) => !this.closing.has(id));
    if (sessions.length === 0 || r < 0.04) {
      return this.step({ type: OpCode.createSession, timeOut: this.sessionTimeoutMs + Math.floor(this.rnd() * 8) * 1000 }, this.nextSession++);
    }
    const sid = this.pick(sessions);
    if (r < 0.07) {
      this.closing.add(sid);
      return this.step({ type: OpCode.closeSession }, sid);
    }
    const parent = this.somePath();
    const path = (parent === '/' ? '' : parent) + '/n' + Math.floor(this.rnd() * 40);
    const data = this.rnd() < 0.1 ? null : Buffer.from(`d${Math.floor(this.rnd() * 1e6)}`);
    if (r < 0.45) {
      const flags = this.pick([0, 0, 0, 1, 2, 3, 4, 5, 6]);
      const type = flags === 4 ? OpCode.createContainer : flags >= 5 ? OpCode.createTTL : this.pick([OpCode.create, OpCode.create2]);
      return this.step({ type, path, data, acl: this.pick(ACLS), flags, ttl: flags >= 5 ? 60_000n : -1n }, sid);
    }
    const target = this.somePath(false);
    if (r < 0.65) return this.step({ type: OpCode.setData, path: target, data, version: -1 }, sid);
    if (r < 0.72) return this.step({ type: OpCode.setACL, path: target, acl: this.pick(ACLS), version: -1 }, sid);
    if (r < 0.87) return this.step({ type: OpCode.delete, path: target, version: -1 }, sid);
    const ops: Request[] = [
      { type: OpCode.create, path: path + 'm', data, acl: OPEN, flags: 0, ttl: -1n },
      { type: OpCode.check, path: target, version: this.rnd() < 0.7 ? (this.tree.get(target)?.version ?? 0) : 99 },
      { type: OpCode.setData, path: target, data: Buffer.from('multi'), version: -1 },
    ];
    return this.step({ type: OpCode.multi, ops }, sid);
  }
}

export interface NodeRecord {
  data: string | null;
  acl: string;
  stat: string;
}

/** Every node's data, ACL and stored stat, for deepEqual. */
export function nodeView(tree: DataTree): Map<string, NodeRecord> {
  const out = new Map<string, NodeRecord>();
  for (const [path, n] of tree.entries()) {
    out.set(path, {
      data: n.data === null ? null : n.data.toString('hex'),
      acl: JSON.stringify(n.acl),
      stat: [n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime, n.version, n.cversion, n.aversion, n.ephemeralOwner, tree.childNames(path).sort().join(',')].join(' '),
    });
  }
  return out;
}

/** Ephemeral, container and TTL indexes, for deepEqual. */
export function indexView(tree: DataTree): { ephemerals: [string, string[]][]; containers: string[]; ttls: string[] } {
  return {
    ephemerals: [...tree.ephemerals].map(([id, s]) => [id.toString(16), [...s].sort()] as [string, string[]]).sort(),
    containers: [...tree.containers].sort(),
    ttls: [...tree.ttls].sort(),
  };
}

/** A node's stat as a client sees it (DataNode.copyStat), as decimal strings (64-bit exact). */
export function clientStat(tree: DataTree, path: string): Record<string, string> {
  const n = tree.get(path)!;
  const kind = ephemeralKind(n.ephemeralOwner, tree.extendedTypesEnabled);
  const s = {
    czxid: n.czxid,
    mzxid: n.mzxid,
    ctime: n.ctime,
    mtime: n.mtime,
    version: n.version,
    cversion: n.cversion * 2 - n.numChildren,
    aversion: n.aversion,
    ephemeralOwner: kind === 'normal' ? n.ephemeralOwner : 0n,
    dataLength: n.data === null ? 0 : n.data.length,
    numChildren: n.numChildren,
    pzxid: n.pzxid,
  };
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, String(v)]));
}

/** deepEqual of two node views, failing with the first few differing paths rather than both maps. */
export function assertSameNodes(actual: Map<string, NodeRecord>, expected: Map<string, NodeRecord>, what = 'tree'): void {
  const diffs: string[] = [];
  for (const p of new Set([...actual.keys(), ...expected.keys()])) {
    const a = JSON.stringify(actual.get(p));
    const e = JSON.stringify(expected.get(p));
    if (a !== e) diffs.push(`${p}\n    actual   ${a}\n    expected ${e}`);
  }
  if (diffs.length > 0) assert.fail(`${what}: ${diffs.length} nodes differ:\n  ${diffs.slice(0, 6).join('\n  ')}`);
}

export function committed(d: { append(h: Step['hdr'], t: Step['txn'], done: (e: Error | null) => void, digest?: TxnDigest | null): void }, s: Step): Promise<void> {
  return new Promise((resolve, reject) => d.append(s.hdr, s.txn, (e) => (e ? reject(e) : resolve()), s.digest));
}

/** Runs `steps` txns through a DataDir the way the server does: prep, log, then apply in order. */
export interface RunOptions {
  snapCount?: number;
  dataLogDir?: string;
  w?: Workload;
  sessionTimeoutMs?: number;
  /**
   * Nodes per snapshot slice, each slice waiting for the next batch of writes: every snapshot is
   * then written while the workload goes on changing the tree.
   */
  interleaveSnapshots?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

export async function runWorkload(dir: string, seed: number, steps: number, opts: RunOptions = {}): Promise<Workload> {
  let slicesWaiting: (() => void)[] = [];
  let writing = true;
  const nextBatch = (): Promise<void> => (writing ? new Promise((resolve) => slicesWaiting.push(resolve)) : Promise.resolve());
  const batchApplied = (): void => {
    const waiting = slicesWaiting;
    slicesWaiting = [];
    for (const f of waiting) f();
  };
  const d = await DataDir.open({
    dataDir: dir,
    dataLogDir: opts.dataLogDir,
    snapCount: opts.snapCount ?? 60,
    snapshotSliceUnits: opts.interleaveSnapshots,
    snapshotYield: opts.interleaveSnapshots === undefined ? undefined : nextBatch,
    preAllocBytes: 64 * 1024,
    extendedTypesEnabled: true,
    random: seeded(seed),
    log: opts.log ?? (() => {}),
  });
  const w = opts.w ?? new Workload(seed, d.initial, opts.sessionTimeoutMs);
  d.attach(w.live);
  const rnd = seeded(seed + 1);
  for (let done = 0; done < steps; ) {
    // Several txns in flight at once, as pipelined clients make them.
    const batch: Step[] = [];
    const n = 1 + Math.floor(rnd() * 8);
    for (let i = 0; i < n && done < steps; i++, done++) batch.push(w.randomStep());
    await Promise.all(batch.map((s) => committed(d, s)));
    for (const s of batch) w.apply(s);
    batchApplied();
  }
  writing = false;
  batchApplied();
  await d.close();
  return w;
}
