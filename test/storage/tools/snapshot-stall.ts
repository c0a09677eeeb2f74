// snapshot-stall.ts — how long a DataDir snapshot blocks the event loop (not a test):
//   node --import tsx test/storage/tools/snapshot-stall.ts [nodes ...]
// Builds a tree of N nodes (1000 children per parent, 100-byte data, as bench/ populates),
// attaches it to a DataDir and takes a snapshot while a stream of small writes (one create,
// setData or delete per millisecond, as clients would send) keeps changing the tree. Reports
// the longest event-loop stall seen (perf_hooks.monitorEventLoopDelay, and the largest gap
// between 1 ms timer ticks), the snapshot's wall time, and, with --verify, that the snapshot
// reads back as the tree at the zxid it is named for.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { OpCode } from '../../../src/protocol/opcodes.js';
import { DataTree } from '../../../src/tree/data-tree.js';
import type { Txn, TxnHeader } from '../../../src/tree/txn.js';
import { DataDir } from '../../../src/storage/data-dir.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const args = process.argv.slice(2);
const verify = args.includes('--verify');
const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number);

function hdr(zxid: bigint, type: number): TxnHeader {
  return { clientId: 1n, cxid: 1, zxid, time: 1_700_000_000_000 + Number(zxid), type };
}

function bigTree(n: number): DataTree {
  const tree = new DataTree();
  let zxid = 0n;
  const parents = Math.ceil(n / 1000);
  for (let p = 0; p < parents; p++) {
    tree.processTxn(hdr(++zxid, OpCode.create), { type: OpCode.create, path: `/p-${p}`, data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 });
  }
  for (let i = 0; tree.nodeCount < n + 4; i++) {
    const path = `/p-${i % parents}/n-${i}`;
    tree.processTxn(hdr(++zxid, OpCode.create), { type: OpCode.create, path, data: Buffer.alloc(100, 0x61), acl: OPEN, ephemeral: false, parentCVersion: -1 });
  }
  return tree;
}

/** One write per call: creates, sets and deletes under the first few parents. */
function writer(tree: DataTree, parents: number): () => void {
  let k = 0;
  return () => {
    const zxid = tree.lastProcessedZxid + 1n;
    const p = k % Math.min(parents, 10);
    let txn: Txn;
    if (k % 3 === 0) txn = { type: OpCode.create, path: `/p-${p}/w-${k}`, data: Buffer.from('w'), acl: OPEN, ephemeral: false, parentCVersion: -1 };
    else if (k % 3 === 1) txn = { type: OpCode.setData, path: `/p-${p}/n-${k}`, data: Buffer.from(`s${k}`), version: 1 };
    else txn = { type: OpCode.delete, path: `/p-${p}/n-${k + 7}` };
    tree.processTxn(hdr(zxid, txn.type), txn);
    k++;
  };
}

async function measure(n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'zkts-stall-'));
  try {
    const tree = bigTree(n);
    const d = await DataDir.open({ dataDir: dir, log: () => {} });
    d.attach({ tree, sessions: { sessions: new Map([[0x1234n, { timeoutMs: 30000 }]]) } });
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 200));
    const eld = monitorEventLoopDelay({ resolution: 1 });
    let maxGap = 0;
    let last = performance.now();
    const write = writer(tree, Math.ceil(n / 1000));
    const tick = setInterval(() => {
      const now = performance.now();
      if (now - last > maxGap) maxGap = now - last;
      last = now;
      write();
    }, 1);
    eld.enable();
    await new Promise((r) => setTimeout(r, 50)); // both probes running before the snapshot starts
    eld.reset(); // the first delay after a reset is not recorded: reset, then wait a turn
    maxGap = 0;
    await new Promise((r) => setImmediate(r)); // where DataDir starts snapshots
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const file = await d.snapshot();
    const wall = performance.now() - t0;
    eld.disable();
    clearInterval(tick);
    const rss1 = process.memoryUsage().rss;
    const zxid = file === null ? '?' : file.slice(file.lastIndexOf('.') + 1);
    console.log(
      `${n} nodes: snapshot 0x${zxid} in ${wall.toFixed(0)} ms wall, ${(statSync(file!).size / 1e6).toFixed(1)} MB; ` +
        `longest stall: eventLoopDelay max ${(eld.max / 1e6).toFixed(1)} ms (p99 ${(eld.percentile(99) / 1e6).toFixed(1)} ms), ` +
        `1 ms timer gap max ${maxGap.toFixed(1)} ms; rss ${(rss0 / 2 ** 20).toFixed(0)} -> ${(rss1 / 2 ** 20).toFixed(0)} MiB; ` +
        `stats ${JSON.stringify(d.stats)}`,
    );
    await d.close();
    if (verify) {
      const { recover } = await import('../../../src/storage/recovery.js');
      const r = recover(dir, dir, { log: () => {} });
      console.log(`  recovered ${r.tree.nodeCount} nodes at 0x${r.lastZxid.toString(16)}, digest ${r.digest}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const n of sizes.length > 0 ? sizes : [100_000, 1_000_000]) await measure(n);
