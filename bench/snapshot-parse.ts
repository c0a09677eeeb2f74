// snapshot-parse.ts — how long a snapshot of the bench's shape takes to parse into a DataTree
// (the bulk of a restart): N znodes /zkts-bench/rss/p-NNN/n-NNNNNN, 1,000 per parent, 100-byte
// data. The snapshot is written once to --file (reused when it exists), then parsed --rounds
// times; prints each parse's wall time and the heap after, and the time to serialize the parsed
// tree again (what every later snapshot costs). Run with --expose-gc:
//
//   node --expose-gc --import tsx bench/snapshot-parse.ts [--znodes 1000000] [--file /tmp/zkts-1m.snap] [--rounds 3]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { OpCode } from '../src/protocol/opcodes.js';
import { DataTree } from '../src/tree/data-tree.js';
import { OPEN_ACL_UNSAFE } from '../src/tree/acl-cache.js';
import { DATA_BYTES, populatePath } from '../src/bench/workloads.js';
import { parseSnapshot, serializeSnapshot } from '../src/storage/snapshot.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const n = Number(arg('--znodes', '1000000'));
const file = arg('--file', `/tmp/zkts-snapshot-parse-${n}.snap`);
const rounds = Number(arg('--rounds', '3'));

if (!existsSync(file)) {
  const tree = new DataTree();
  let zxid = 1n;
  const create = (path: string, data: Buffer | null): void => {
    const r = tree.processTxn(
      { clientId: 1n, cxid: 0, zxid: zxid++, time: 1_700_000_000_000 + Number(zxid), type: OpCode.create },
      { type: OpCode.create, path, data, acl: [...OPEN_ACL_UNSAFE], ephemeral: false, parentCVersion: -1 },
    );
    if (r.err !== 0) throw new Error(`create ${path}: ${r.err}`);
  };
  const base = '/zkts-bench/rss';
  create('/zkts-bench', null);
  create(base, null);
  for (let p = 0; p * 1000 < n; p++) create(`${base}/p-${String(p).padStart(3, '0')}`, null);
  const payload = Buffer.alloc(DATA_BYTES, 0x61);
  for (let k = 0; k < n; k++) create(populatePath(base, k), payload);
  writeFileSync(file, Buffer.concat(serializeSnapshot(tree, new Map())));
  console.log(`wrote ${file}`);
}
const buf = readFileSync(file);
for (let r = 0; r < rounds; r++) {
  gc();
  const t0 = performance.now();
  const snap = parseSnapshot(buf, file);
  const ms = performance.now() - t0;
  gc();
  const heap = process.memoryUsage();
  const t1 = performance.now();
  const bytes = serializeSnapshot(snap.tree, snap.sessions).reduce((a, c) => a + c.length, 0);
  const writeMs = performance.now() - t1;
  console.log(
    `parse ${(buf.length / 2 ** 20).toFixed(0)} MiB, ${snap.tree.nodeCount} znodes: ${ms.toFixed(0)} ms; heap ${(heap.heapUsed / 2 ** 20).toFixed(0)} MiB, external ${(heap.external / 2 ** 20).toFixed(0)} MiB; ` +
      `serialize again: ${writeMs.toFixed(0)} ms (${(bytes / 2 ** 20).toFixed(0)} MiB)`,
  );
}
