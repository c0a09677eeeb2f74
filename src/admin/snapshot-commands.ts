// snapshot-commands.ts — ZooKeeper 3.9's snapshot and restore AdminServer commands
// (Commands.SnapshotCommand / RestoreCommand, ZooKeeperServer.takeSnapshot / restoreFromSnapshot).
//
//   GET  snapshot?streaming=true|false  takes a snapshot now through the server's DataDir (the
//        writer it snapshots with), answers headers last_zxid ("0x<hex>") and snapshot_size, and
//        with streaming (the default) the file's bytes as application/octet-stream; else the JSON.
//   POST restore  the body is a snapshot file; it is read and checked whole (seals, digest)
//        before anything changes, then replaces the tree and session table of the serving
//        server; answers JSON with last_zxid (a long). zkts then writes a snapshot of the
//        restored tree, so a restart comes back to it (ZooKeeper 3.9.3 keeps it in memory only).
//
// ZooKeeper's checks, in its order: zookeeper.admin.{snapshot,restore}.enabled=false answers 503,
// zookeeper.snapshot.serializeLastProcessedZxid.enabled=false 500, the rate limiter 429, any
// failure 500 (ZooKeeper's "error" is null then; zkts says what failed). One request per
// zookeeper.admin.rateLimiterIntervalInMS (default 300000) each — but SnapshotCommand builds its
// limiter with TimeUnit.MICROSECONDS, so ZooKeeper 3.9 lets a snapshot through every interval/1000
// ms (300 ms by default); zkts does the same.
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { SNAPSHOT_PREFIX, zxidFromName } from '../storage/data-files.js';
import { killDeadSessions } from '../storage/recovery.js';
import { parseSnapshot } from '../storage/snapshot.js';
import { DIGEST_VERSION } from '../tree/digest.js';
import type { DataTree } from '../tree/data-tree.js';
import type { ZkServer } from '../server/zk-server.js';
import type { CommandContext, CommandRequest, CommandResponse } from './commands.js';

/** What the commands need of the server's storage (a DataDir fits). */
export interface SnapshotStorage {
  readonly snapshotRunning: boolean;
  /** A snapshot of the live state; the running one's when one runs; null when none can be taken. */
  snapshot(): Promise<string | null>;
}

const DEFAULT_INTERVAL_MS = 300000;
/** How long a restore waits for the requests in line to be answered before it gives up. */
const RESTORE_WAIT_MS = 10000;

/** org.apache.zookeeper.server.util.RateLimiter with rate 1: one per interval, the first at once. */
class RateLimiter {
  private last = performance.now();
  private remained = 1;
  constructor(private readonly intervalMs: number) {}

  allow(): boolean {
    const now = performance.now();
    if (now > this.last + this.intervalMs) {
      this.remained = 1;
      this.last = now;
    }
    if (this.remained <= 0) return false;
    this.remained--;
    return true;
  }
}

interface PerServer {
  snapshot: RateLimiter;
  restore: RateLimiter;
  /** Snapshots and restores of one server run one at a time. */
  busy: Promise<unknown>;
}

const STATE = new WeakMap<ZkServer, PerServer>();

/** Java's Boolean.parseBoolean of a property, with its default. */
function flag(ctx: CommandContext, key: string, dflt: boolean): boolean {
  const v = ctx.properties.get(key);
  return v === undefined ? dflt : v.toLowerCase() === 'true';
}

function perServer(ctx: CommandContext): PerServer {
  let s = STATE.get(ctx.server);
  if (s === undefined) {
    const raw = ctx.properties.get('zookeeper.admin.rateLimiterIntervalInMS');
    const interval = raw !== undefined && /^[+-]?\d+$/.test(raw.trim()) ? Number(raw.trim()) : DEFAULT_INTERVAL_MS;
    s = { snapshot: new RateLimiter(Math.trunc(interval / 1000)), restore: new RateLimiter(interval), busy: Promise.resolve() };
    STATE.set(ctx.server, s);
  }
  return s;
}

/** Runs `f` after the server's previous snapshot or restore. */
function serialized<T>(s: PerServer, f: () => Promise<T>): Promise<T> {
  const run = s.busy.then(f, f);
  s.busy = run.catch(() => undefined);
  return run;
}

/** The common checks; false when `res` already holds the answer. */
function admitted(ctx: CommandContext, res: CommandResponse, which: 'snapshot' | 'restore'): boolean {
  if (!flag(ctx, `zookeeper.admin.${which}.enabled`, true)) {
    res.status = 503;
    ctx.server.log('warn', `${which === 'snapshot' ? 'Snapshot' : 'Restore'} command is disabled`);
    return false;
  }
  if (!flag(ctx, 'zookeeper.snapshot.serializeLastProcessedZxid.enabled', true)) {
    res.status = 500;
    ctx.server.log('warn', `${which === 'snapshot' ? 'Snapshot' : 'Restore'} command requires serializeLastProcessedZxidEnable flag is set to true`);
    return false;
  }
  return true;
}

function failed(ctx: CommandContext, res: CommandResponse, msg: string): void {
  res.status = 500;
  res.data.set('error', msg);
  ctx.server.log('warn', msg);
}

/** Takes the snapshot now: after a running one (of an older state), a fresh one. */
async function takeSnapshot(storage: SnapshotStorage): Promise<string | null> {
  if (storage.snapshotRunning) await storage.snapshot();
  return storage.snapshot();
}

export async function snapshotCommand(ctx: CommandContext, req: CommandRequest, res: CommandResponse): Promise<void> {
  if (!admitted(ctx, res, 'snapshot')) return;
  const storage = ctx.storage ?? null;
  if (storage === null) {
    failed(ctx, res, 'this server has no data directory to take a snapshot in');
    return;
  }
  const s = perServer(ctx);
  if (!s.snapshot.allow()) {
    res.status = 429;
    ctx.server.log('warn', 'Snapshot request was rate limited');
    return;
  }
  const arg = req.kwargs.get('streaming');
  const streaming = arg === undefined || arg.toLowerCase() === 'true';
  await serialized(s, async () => {
    const file = await takeSnapshot(storage);
    if (file === null) {
      failed(ctx, res, 'the snapshot could not be taken (see the server log)');
      return;
    }
    const fh = await open(file, 'r').catch((e: unknown) => {
      failed(ctx, res, `cannot read snapshot ${file}: ${(e as Error).message}`);
      return null;
    });
    if (fh === null) return;
    const size = (await fh.stat()).size;
    res.headers.set('last_zxid', `0x${BigInt.asUintN(64, zxidFromName(basename(file), SNAPSHOT_PREFIX) ?? 0n).toString(16)}`);
    res.headers.set('snapshot_size', String(size));
    if (size === 0 || !streaming) {
      await fh.close();
      if (size === 0) failed(ctx, res, `snapshot ${file} is empty`);
      return;
    }
    res.stream = fh; // held open: a purge meanwhile does not cut the answer short
  });
}

/** A digest sealed for exactly the snapshot's zxid must be the tree's (ZooKeeper only logs it). */
function checkDigest(tree: DataTree, digest: { zxid: bigint; version: number; digest: bigint } | null, zxid: bigint): void {
  if (!tree.digestEnabled || digest === null || digest.version !== DIGEST_VERSION || digest.zxid !== zxid) return;
  if (tree.digest !== digest.digest) {
    throw new Error(`its digest 0x${BigInt.asUintN(64, digest.digest).toString(16)} at zxid 0x${zxid.toString(16)} is not its tree's (0x${BigInt.asUintN(64, tree.digest).toString(16)})`);
  }
}

/** The zxid a snapshot is at: its lastProcessedZxid, else its digest's, else the newest in its nodes. */
function snapshotZxid(tree: DataTree, lastProcessedZxid: bigint | null, digestZxid: bigint | null): bigint {
  if (lastProcessedZxid !== null) return lastProcessedZxid;
  if (digestZxid !== null) return digestZxid;
  let max = 0n;
  for (const [, n] of tree.entries()) {
    for (const z of [n.czxid, n.mzxid, n.pzxid]) if (z > max) max = z;
  }
  return max;
}

export async function restoreCommand(ctx: CommandContext, req: CommandRequest, res: CommandResponse): Promise<void> {
  if (!admitted(ctx, res, 'restore')) return;
  if (req.body === undefined) {
    res.status = 400;
    ctx.server.log('warn', 'InputStream from restore request is null');
    return;
  }
  const s = perServer(ctx);
  if (!s.restore.allow()) {
    res.status = 429;
    ctx.server.log('warn', 'Restore request was rate limited');
    return;
  }
  const body = await req.body();
  const server = ctx.server;
  if (server.opts.quorumRole !== undefined) {
    failed(ctx, res, 'restore refused, nothing changed: a member of an ensemble takes its state from the leader');
    return;
  }
  await serialized(s, async () => {
    let state;
    try {
      const snap = parseSnapshot(body, 'in the restore request', {
        extendedTypesEnabled: server.opts.extendedTypesEnabled,
        digestEnabled: server.tree.digestEnabled,
      });
      const zxid = snapshotZxid(snap.tree, snap.lastProcessedZxid, snap.digest?.zxid ?? null);
      snap.tree.lastProcessedZxid = zxid;
      checkDigest(snap.tree, snap.digest, zxid);
      killDeadSessions(snap.tree, snap.sessions);
      snap.tree.resetDigest();
      state = { tree: snap.tree, sessions: snap.sessions, lastZxid: zxid };
    } catch (e) {
      failed(ctx, res, `restore refused, nothing changed: ${(e as Error).message}`);
      return;
    }
    server.log('info', `Before restore database. lastProcessedZxid=0x${server.zxid.toString(16)}, nodeCount=${server.tree.nodeCount}, sessionCount=${server.sessions.sessions.size}`);
    // Between requests only, and not while a snapshot of the old tree could still land after ours.
    const storage = ctx.storage ?? null;
    const deadline = performance.now() + RESTORE_WAIT_MS;
    let zxid: bigint | false = false;
    for (;;) {
      if (storage?.snapshotRunning === true) await storage.snapshot();
      if (storage?.snapshotRunning !== true) zxid = server.restoreState(state);
      if (zxid !== false || performance.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1));
    }
    if (zxid === false) {
      failed(ctx, res, `restore refused, nothing changed: requests were still in line after ${RESTORE_WAIT_MS} ms`);
      return;
    }
    server.log('info', `After restore database. lastProcessedZxid=0x${zxid.toString(16)}, nodeCount=${server.tree.nodeCount}, sessionCount=${server.sessions.sessions.size}`);
    if (storage !== null && (await takeSnapshot(storage)) === null) {
      failed(ctx, res, `the restored tree serves, but its snapshot could not be written: a restart would not come back to it (see the server log)`);
      return;
    }
    res.data.set('last_zxid', zxid);
  });
}
