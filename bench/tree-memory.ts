// tree-memory.ts — memory of the tree alone, without a server: applies N create txns of the
// bench's shape (/zkts-bench/rss/p-NNN/n-NNNNNN, 1,000 per parent, 100-byte data, each data
// buffer a fresh copy as when it comes off the wire) to a DataTree, collects garbage and prints
// heap, external memory and RSS per znode. With --store, the same nodes go straight into a
// NodeStore (src/tree/node-store.ts: the columns alone, no DataTree around them). Run with
// --expose-gc:
//
//   node --expose-gc --import tsx bench/tree-memory.ts [--znodes 1000000] [--store]
import { OpCode } from '../src/protocol/opcodes.js';
import { DataTree } from '../src/tree/data-tree.js';
import { OPEN_ACL_UNSAFE } from '../src/tree/acl-cache.js';
import { DATA_BYTES, populatePath } from '../src/bench/workloads.js';
import { NodeStore, ROOT } from '../src/tree/node-store.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const i = process.argv.indexOf('--znodes');
const n = i >= 0 ? Number(process.argv[i + 1]) : 1_000_000;
const base = '/zkts-bench/rss';
const payload = Buffer.alloc(DATA_BYTES, 0x61);

const measure = (): { heap: number; external: number; rss: number } => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external, rss: m.rss };
};

const before = measure();
const t0 = performance.now();
// Paths as the server gets them: flat strings decoded from a request, not concatenations.
const flat = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');
let count: () => number;
let detail = '';
if (process.argv.includes('--store')) {
  const store = new NodeStore();
  const rss = store.create(store.create(ROOT, 'zkts-bench', null, 0, 1n, 1_700_000_000_000, 0n), 'rss', null, 0, 2n, 1_700_000_000_000, 0n);
  const parents: number[] = [];
  let zxid = 3n;
  for (let p = 0; p * 1000 < n; p++) parents.push(store.create(rss, `p-${String(p).padStart(3, '0')}`, null, 0, zxid++, 1_700_000_000_000, 0n));
  for (let k = 0; k < n; k++) {
    const path = flat(populatePath(base, k));
    const parent = parents[Math.floor(k / 1000)]!;
    store.setCversion(parent, store.cversion(parent) + 1); // as a create does to its parent
    store.setPzxid(parent, zxid);
    if (store.create(parent, path.substring(path.lastIndexOf('/') + 1), Buffer.from(payload), 0, zxid++, 1_700_000_000_000, 0n) < 0) throw new Error(`create ${path}`);
  }
  count = () => store.size;
  const m = store.memory();
  detail = `; store: columns ${(m.columnBytes / 2 ** 20).toFixed(0)} MiB allocated, ext ${m.extRows} rows, hash ${(m.hashBytes / 2 ** 20).toFixed(0)} MiB, arena ${(m.arenaBytes / 2 ** 20).toFixed(0)} MiB in ${m.chunks} chunks (${(m.liveRecordBytes / n).toFixed(0)} B/znode of records)`;
  (globalThis as { keep?: unknown }).keep = store;
} else {
  const tree = new DataTree();
  let zxid = 1n;
  const create = (path: string, data: Buffer | null): void => {
    const r = tree.processTxn(
      { clientId: 1n, cxid: 0, zxid: zxid++, time: 1_700_000_000_000, type: OpCode.create },
      { type: OpCode.create, path, data, acl: [...OPEN_ACL_UNSAFE], ephemeral: false, parentCVersion: -1 },
    );
    if (r.err !== 0) throw new Error(`create ${path}: ${r.err}`);
  };
  create('/zkts-bench', null);
  create(base, null);
  for (let p = 0; p * 1000 < n; p++) create(`${base}/p-${String(p).padStart(3, '0')}`, null);
  for (let k = 0; k < n; k++) create(flat(populatePath(base, k)), Buffer.from(payload));
  count = () => tree.nodeCount;
  (globalThis as { keep?: unknown }).keep = tree;
  // A read's tree work (getData: find the node, its Stat) on n paths in a scattered order, as
  // flat strings the way they come off the wire.
  const paths: string[] = [];
  for (let k = 0; k < n; k++) paths.push(flat(populatePath(base, (k * 7919) % n)));
  for (let round = 0; round < 2; round++) {
    const r0 = performance.now();
    let bytes = 0;
    for (const p of paths) {
      const node = tree.get(p)!;
      bytes += tree.statOf(node).dataLength + (node.data === null ? 0 : node.data.length);
    }
    if (bytes !== 2 * n * DATA_BYTES) throw new Error('reads went wrong');
    detail += `${round === 0 ? '; ' : ', '}get + statOf ${(((performance.now() - r0) * 1e6) / n).toFixed(0)} ns/read`;
  }
}
const ms = performance.now() - t0;
const after = measure();
const per = (a: number, b: number): string => ((a - b) / n).toFixed(0);
console.log(
  `${n} znodes in ${ms.toFixed(0)} ms: heap ${per(after.heap, before.heap)} B/znode, external ${per(after.external, before.external)} B/znode (array buffers included), ` +
    `RSS ${per(after.rss, before.rss)} B/znode; RSS ${(after.rss / 2 ** 20).toFixed(0)} MiB, heap ${(after.heap / 2 ** 20).toFixed(0)} MiB${detail}`,
);
if (count() < n) throw new Error('tree lost nodes');
