// truncate.test.ts — TRUNC on a data directory (truncate.ts, DataDir.truncateTo): after cutting
// back to a zxid, recovery gives exactly the tree as it was at that zxid, whether the zxid is in
// the middle of a log file, the last txn of one, or past the last txn, and with snapshots after
// it; the log goes on from there. A crash or power loss at any step of the truncation (on the
// simulated disk of power-sim-disk.ts) recovers a prefix of the history that holds every txn up
// to the zxid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ZktsError } from '../../src/errors.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { LOG_PREFIX, SNAPSHOT_PREFIX, listDataFiles } from '../../src/storage/data-files.js';
import { recover } from '../../src/storage/recovery.js';
import { truncateDataDir } from '../../src/storage/truncate.js';
import { readTxnLog } from '../../src/storage/txn-log-reader.js';
import { assertSameNodes, committed, nodeView, seeded, tempDir, Workload, type NodeRecord } from './helpers.js';
import { installFaultLayer, MachineGone, SimDisk, type OpKind, type TearMode } from './power-sim-disk.js';

const quiet = (): void => {};

interface History {
  /** The tree after each txn, by zxid (and after none, at 0). */
  views: Map<bigint, Map<string, NodeRecord>>;
  sessions: Map<bigint, Map<bigint, number>>;
  lastZxid: bigint;
}

/** A data directory with `steps` txns over several log files and snapshots (snapCount 20). */
async function makeDir(dir: string, seed: number, steps: number): Promise<History> {
  const d = await DataDir.open({ dataDir: dir, snapCount: 20, preAllocBytes: 16 * 1024, forceSync: false, extendedTypesEnabled: true, random: seeded(seed), log: quiet });
  const w = new Workload(seed, d.initial);
  d.attach(w.live);
  const h: History = { views: new Map([[0n, nodeView(w.tree)]]), sessions: new Map([[0n, new Map()]]), lastZxid: 0n };
  for (let i = 0; i < steps; i++) {
    const s = w.randomStep();
    await committed(d, s);
    w.apply(s);
    h.views.set(s.hdr.zxid, nodeView(w.tree));
    h.sessions.set(s.hdr.zxid, new Map(w.sessions));
    h.lastZxid = s.hdr.zxid;
    // let a triggered snapshot run now and then, so that several exist
    if (i % 7 === 0) await new Promise((r) => setImmediate(r));
  }
  await d.close();
  return h;
}

function assertPrefix(dir: string, h: History, zxid: bigint, what: string): void {
  const r = recover(dir, dir, { extendedTypesEnabled: true, log: quiet });
  assert.equal(r.lastZxid, zxid, `${what}: recovered up to 0x${r.lastZxid.toString(16)}`);
  assertSameNodes(nodeView(r.tree), h.views.get(zxid)!, `${what}: tree at 0x${zxid.toString(16)}`);
  assert.deepEqual(r.sessions, h.sessions.get(zxid), `${what}: sessions`);
  assert.equal(r.digestMismatches, 0, `${what}: digests`);
  const logged = [...readTxnLog(join(dir, 'version-2'), 1n)].map((rec) => rec.hdr.zxid);
  assert.ok(logged.every((z) => z <= zxid), `${what}: no txn after the zxid is left in the log`);
}

let shared: { dir: string; h: History } | null = null;

/** One directory made once; each case truncates a copy of it. */
async function copyOfShared(t: { after(fn: () => void): void }): Promise<{ dir: string; h: History }> {
  if (shared === null) {
    const dir = tempDir({ after: () => {} }, 'zkts-trunc-src-');
    shared = { dir, h: await makeDir(dir, 7, 150) };
  }
  const dir = tempDir(t, 'zkts-trunc-');
  cpSync(shared.dir, dir, { recursive: true });
  return { dir, h: shared.h };
}

function logStarts(dir: string): bigint[] {
  return listDataFiles(join(dir, 'version-2'), LOG_PREFIX).map((f) => f.zxid);
}

test('the directory made for these tests has several logs and snapshots', async (t) => {
  const { dir, h } = await copyOfShared(t);
  assert.equal(h.lastZxid, 150n);
  assert.ok(logStarts(dir).length >= 4, `logs: ${logStarts(dir)}`);
  assert.ok(listDataFiles(join(dir, 'version-2'), SNAPSHOT_PREFIX).length >= 4);
  assertPrefix(dir, h, 150n, 'untouched');
});

test('truncating in the middle of a log file cuts that file and removes later logs and snapshots', async (t) => {
  const { dir, h } = await copyOfShared(t);
  const starts = logStarts(dir);
  const target = starts[1]! + 3n; // inside the second log
  assert.ok(starts[2]! > target + 1n, 'the target is not the last txn of its file');
  const before = statSync(join(dir, 'version-2', `log.${starts[1]!.toString(16)}`)).size;
  const r = truncateDataDir(dir, dir, target, { log: quiet });
  assert.equal(r.removedLogs.length, starts.length - 2);
  assert.ok(r.removedSnapshots.length > 0, 'snapshots after the zxid were removed');
  assert.ok(r.cut !== null && r.cut.toBytes < before);
  assert.deepEqual(logStarts(dir), starts.slice(0, 2));
  assert.ok(listDataFiles(join(dir, 'version-2'), SNAPSHOT_PREFIX).every((s) => s.zxid <= target));
  assertPrefix(dir, h, target, 'middle');
});

test('truncating at a file boundary removes the next logs and leaves the holding file whole', async (t) => {
  const { dir, h } = await copyOfShared(t);
  const starts = logStarts(dir);
  const target = starts[2]! - 1n; // the last txn of the second log
  const holding = join(dir, 'version-2', `log.${starts[1]!.toString(16)}`);
  const before = statSync(holding).size;
  const r = truncateDataDir(dir, dir, target, { log: quiet });
  assert.equal(r.cut, null, 'no txn after the zxid in the holding file: it is not cut');
  assert.equal(statSync(holding).size, before);
  assert.deepEqual(logStarts(dir), starts.slice(0, 2));
  assertPrefix(dir, h, target, 'boundary');
});

test('truncating at the last txn changes nothing; past it is refused (those txns are not here)', async (t) => {
  const { dir, h } = await copyOfShared(t);
  const names = readdirSync(join(dir, 'version-2')).sort();
  const r = truncateDataDir(dir, dir, h.lastZxid, { log: quiet });
  assert.deepEqual(r, { removedSnapshots: [], removedLogs: [], cut: null });
  assert.throws(
    () => truncateDataDir(dir, dir, h.lastZxid + 5n, { log: quiet }),
    (e: unknown) => e instanceof ZktsError && /the txn log reaches only 0x96/.test(e.message),
  );
  assert.deepEqual(readdirSync(join(dir, 'version-2')).sort(), names);
  assertPrefix(dir, h, h.lastZxid, 'at the last');
});

test('a log that does not reach the zxid from the snapshot before it is refused, changing nothing', async (t) => {
  // as a directory synced by SNAP: a snapshot after the zxid and no log of the txns before it
  const { dir } = await copyOfShared(t);
  const v2 = join(dir, 'version-2');
  const starts = logStarts(dir);
  const target = starts[1]! + 3n;
  const { rmSync } = await import('node:fs');
  rmSync(join(v2, `log.${starts[1]!.toString(16)}`));
  const names = readdirSync(v2).sort();
  assert.throws(
    () => truncateDataDir(dir, dir, target, { log: quiet }),
    (e: unknown) => e instanceof ZktsError && e.code === 'ZKTS_ERR_DISK' && /cannot be rebuilt/.test(e.message),
  );
  assert.deepEqual(readdirSync(v2).sort(), names);
});

test('truncating before every snapshot is refused and changes nothing', async (t) => {
  const { dir, h } = await copyOfShared(t);
  const v2 = join(dir, 'version-2');
  // drop the start's snapshot.0 so that the oldest snapshot is after the target
  const snaps = listDataFiles(v2, SNAPSHOT_PREFIX);
  const { rmSync } = await import('node:fs');
  rmSync(snaps[0]!.path);
  const names = readdirSync(v2).sort();
  assert.throws(
    () => truncateDataDir(dir, dir, snaps[1]!.zxid - 1n, { log: quiet }),
    (e: unknown) => e instanceof ZktsError && e.code === 'ZKTS_ERR_DISK' && /no snapshot at or before it/.test(e.message),
  );
  assert.deepEqual(readdirSync(v2).sort(), names);
  assertPrefix(dir, h, h.lastZxid, 'refused');
});

test('DataDir.truncateTo reloads the prefix and the log goes on after it', async (t) => {
  const { dir, h } = await copyOfShared(t);
  const starts = logStarts(dir);
  const target = starts[2]! + 2n;
  const d = await DataDir.open({ dataDir: dir, snapCount: 1000, preAllocBytes: 16 * 1024, forceSync: false, extendedTypesEnabled: true, log: quiet });
  // a txn appended before the truncation is flushed first, then cut with the rest
  const w0 = new Workload(8, d.initial);
  d.attach(w0.live);
  const extra = w0.randomStep();
  await committed(d, extra);
  const state = await d.truncateTo(target);
  assert.equal(state.lastZxid, target);
  assertSameNodes(nodeView(state.tree), h.views.get(target)!, 'reloaded tree');
  assert.deepEqual(state.sessions, h.sessions.get(target));
  const w = new Workload(9, state);
  d.attach(w.live);
  for (let i = 0; i < 10; i++) {
    const s = w.randomStep();
    await committed(d, s);
    w.apply(s);
  }
  await d.close();
  assert.ok(logStarts(dir).includes(target + 1n), 'the next txn starts a new log file');
  const r = recover(dir, dir, { extendedTypesEnabled: true, log: quiet });
  assert.equal(r.lastZxid, target + 10n);
  assertSameNodes(nodeView(r.tree), nodeView(w.tree), 'after more txns');
  assert.equal(r.digestMismatches, 0);
});

test('a crash or power loss at any step of a truncation keeps every txn up to the zxid', async (t) => {
  const undo = installFaultLayer();
  t.after(undo);
  const { dir: src, h } = await copyOfShared(t);
  const starts = logStarts(src);
  const targets = [starts[1]! + 3n, starts[2]! - 1n];
  const kinds: OpKind[] = ['unlink', 'dir-sync', 'truncate', 'file-sync'];
  const modes: { mode: 'crash' | 'power'; tear: TearMode }[] = [
    { mode: 'crash', tear: 'none' },
    { mode: 'power', tear: 'none' },
    { mode: 'power', tear: 'prefix' },
  ];
  let failures = 0;
  const recoveredAt = new Set<bigint>();
  for (const target of targets) {
    for (const { mode, tear } of modes) {
      for (let nth = 1; ; nth++) {
        const what = `target 0x${target.toString(16)}, ${mode}/${tear} at op ${nth}`;
        const base = tempDir(t, 'zkts-trunc-crash-');
        const dir = join(base, 'data');
        cpSync(src, dir, { recursive: true });
        const disk = new SimDisk(dir, { mode, tear, kinds, nth }, seeded(nth * 31 + Number(target)), join(base, 'image'));
        disk.activate();
        let gone = false;
        try {
          truncateDataDir(dir, dir, target, { log: quiet });
        } catch (e) {
          if (!(e instanceof MachineGone)) throw e;
          gone = true;
        }
        assert.deepEqual(disk.defects, [], what);
        if (!gone) {
          assertPrefix(dir, h, target, `${what} (no failure: done)`);
          break;
        }
        failures++;
        const image = disk.failure!.image;
        const r = recover(image, image, { extendedTypesEnabled: true, log: quiet });
        assert.ok(r.lastZxid >= target, `${what}: recovered only to 0x${r.lastZxid.toString(16)}`);
        assertSameNodes(nodeView(r.tree), h.views.get(r.lastZxid)!, `${what}: a prefix of the history`);
        recoveredAt.add(r.lastZxid);
        // and the truncation, run again on what the machine came back with, completes
        truncateDataDir(image, image, target, { log: quiet });
        assertPrefix(image, h, target, `${what}, truncated again`);
      }
    }
  }
  t.diagnostic(`${failures} failures injected; recovered at ${[...recoveredAt].map((z) => '0x' + z.toString(16)).join(', ')}`);
  assert.ok(failures >= 12, `failures injected: ${failures}`);
  assert.ok(recoveredAt.has(h.lastZxid), 'some failures came before anything was durably removed');
});
