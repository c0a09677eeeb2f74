// bench-storage.ts — figures for the storage layer on this machine's disk (not a test):
//   npx tsx test/storage/tools/bench-storage.ts [dir]
// 1. group commit: small setData txns through TxnLogWriter with fsync, at 1, 16, 256 and 4096
//    txns outstanding (closed loop), txns/s and txns per fsync;
// 2. snapshot of a 100k-node tree: synchronous serialize (+digest) time, file write time, size;
// 3. recovery: loading that snapshot, and replaying 100k logged txns.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpCode } from '../../../src/protocol/opcodes.js';
import { DataTree } from '../../../src/tree/data-tree.js';
import type { Txn, TxnHeader } from '../../../src/tree/txn.js';
import { versionDir } from '../../../src/storage/data-files.js';
import { recover, writeSnapshot } from '../../../src/storage/recovery.js';
import { serializeSnapshot } from '../../../src/storage/snapshot.js';
import { treeDigest } from '../../../src/tree/digest.js';
import { TxnLogWriter } from '../../../src/storage/txn-log.js';

const base = process.argv[2] ?? tmpdir();
const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function setData(zxid: bigint): { hdr: TxnHeader; txn: Txn } {
  return {
    hdr: { clientId: 0x1234n, cxid: Number(zxid & 0x7fffffffn), zxid, time: Date.now(), type: OpCode.setData },
    txn: { type: OpCode.setData, path: '/bench/node', data: Buffer.alloc(32, 1), version: Number(zxid & 0x7fffffffn) },
  };
}

async function groupCommit(outstanding: number, seconds: number): Promise<void> {
  const dir = mkdtempSync(join(base, 'zkts-bench-'));
  const w = new TxnLogWriter({ dir });
  let zxid = 0n;
  let acked = 0;
  const deadline = performance.now() + seconds * 1000;
  await new Promise<void>((resolve) => {
    let live = 0;
    const pump = (): void => {
      while (live < outstanding && performance.now() < deadline) {
        live++;
        const s = setData(++zxid);
        w.append(s.hdr, s.txn, (err) => {
          if (err) throw err;
          live--;
          acked++;
          if (live === 0 && performance.now() >= deadline) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  await w.close();
  const rate = acked / seconds;
  console.log(
    `group commit, ${String(outstanding).padStart(4)} outstanding: ${Math.round(rate).toString().padStart(7)} txns/s, ` +
      `${w.stats.batches} fsyncs (${(acked / w.stats.batches).toFixed(1)} txns each, max ${w.stats.maxBatchTxns}), last fsync ${w.stats.lastFsyncMs.toFixed(2)} ms`,
  );
  rmSync(dir, { recursive: true, force: true });
}

function bigTree(n: number): DataTree {
  const tree = new DataTree();
  const hdr = (zxid: bigint, type: number): TxnHeader => ({ clientId: 1n, cxid: 1, zxid, time: 1_700_000_000_000, type });
  let zxid = 0n;
  const parents = Math.ceil(n / 1000);
  for (let p = 0; p < parents; p++) {
    tree.processTxn(hdr(++zxid, OpCode.create), { type: OpCode.create, path: `/p${p}`, data: Buffer.alloc(100, 7), acl: OPEN, ephemeral: false, parentCVersion: -1 });
  }
  for (let i = 0; tree.nodeCount < n + 4; i++) {
    const path = `/p${i % parents}/node-${i.toString().padStart(10, '0')}`;
    tree.processTxn(hdr(++zxid, OpCode.create), { type: OpCode.create, path, data: Buffer.alloc(100, 9), acl: OPEN, ephemeral: false, parentCVersion: -1 });
  }
  return tree;
}

async function snapshots(n: number): Promise<void> {
  const dir = mkdtempSync(join(base, 'zkts-bench-'));
  const tree = bigTree(n);
  const sessions = new Map<bigint, number>([[1n, 30000]]);
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const d = treeDigest(tree);
    const t1 = performance.now();
    const chunks = serializeSnapshot(tree, sessions, { digest: { zxid: tree.lastProcessedZxid, version: 2, digest: d } });
    const t2 = performance.now();
    const file = await writeSnapshot(tree, sessions, tree.lastProcessedZxid, dir);
    const t3 = performance.now();
    const bytes = chunks.reduce((s, c) => s + c.length, 0);
    console.log(
      `snapshot of ${tree.nodeCount} nodes: digest ${(t1 - t0).toFixed(0)} ms + serialize ${(t2 - t1).toFixed(0)} ms (blocking), ` +
        `writeSnapshot total ${(t3 - t2).toFixed(0)} ms, ${(bytes / 1e6).toFixed(1)} MB (${statSync(file).size} bytes on disk)`,
    );
  }
  const t0 = performance.now();
  const r = recover(dir, dir);
  console.log(`recovery from that snapshot: ${(performance.now() - t0).toFixed(0)} ms, ${r.tree.nodeCount} nodes`);
  rmSync(dir, { recursive: true, force: true });
}

async function replay(n: number): Promise<void> {
  const dir = mkdtempSync(join(base, 'zkts-bench-'));
  const tree = new DataTree();
  await writeSnapshot(tree, new Map(), 0n, dir);
  const w = new TxnLogWriter({ dir: versionDir(dir) });
  const all: Promise<void>[] = [];
  for (let z = 1n; z <= BigInt(n); z++) {
    const txn: Txn = { type: OpCode.create, path: `/n${z}`, data: Buffer.alloc(32, 3), acl: OPEN, ephemeral: false, parentCVersion: -1 };
    all.push(new Promise((res) => w.append({ clientId: 1n, cxid: 1, zxid: z, time: 1, type: OpCode.create }, txn, () => res())));
  }
  await Promise.all(all);
  await w.close();
  const t0 = performance.now();
  const r = recover(dir, dir);
  console.log(`replay of ${r.txnsReplayed} logged creates: ${(performance.now() - t0).toFixed(0)} ms`);
  rmSync(dir, { recursive: true, force: true });
}

for (const c of [1, 16, 256, 4096]) await groupCommit(c, 3);
await snapshots(100_000);
await replay(100_000);
