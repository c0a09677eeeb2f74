// tree-memory.ts — memory of the tree alone, without a server: applies N create txns of the
// bench's shape (/zkts-bench/rss/p-NNN/n-NNNNNN, 1,000 per parent, 100-byte data, each data
// buffer a fresh copy as when it comes off the wire) to a DataTree, collects garbage and prints
// heap, external memory and RSS per znode. Run with --expose-gc:
//
//   node --expose-gc --import tsx bench/tree-memory.ts [--znodes 1000000]
import { OpCode } from '../src/protocol/opcodes.js';
import { DataTree } from '../src/tree/data-tree.js';
import { OPEN_ACL_UNSAFE } from '../src/tree/acl-cache.js';
import { DATA_BYTES, populatePath } from '../src/bench/workloads.js';

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
const tree = new DataTree();
let zxid = 1n;
const create = (path: string, data: Buffer | null): void => {
  const r = tree.processTxn(
    { clientId: 1n, cxid: 0, zxid: zxid++, time: 1_700_000_000_000, type: OpCode.create },
    { type: OpCode.create, path, data, acl: [...OPEN_ACL_UNSAFE], ephemeral: false, parentCVersion: -1 },
  );
  if (r.err !== 0) throw new Error(`create ${path}: ${r.err}`);
};
const t0 = performance.now();
create('/zkts-bench', null);
create(base, null);
for (let p = 0; p * 1000 < n; p++) create(`${base}/p-${String(p).padStart(3, '0')}`, null);
// Paths as the server gets them: flat strings decoded from a request, not concatenations.
const flat = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');
for (let k = 0; k < n; k++) create(flat(populatePath(base, k)), Buffer.from(payload));
const ms = performance.now() - t0;
const after = measure();
const per = (a: number, b: number): string => ((a - b) / n).toFixed(0);
console.log(
  `${n} znodes in ${ms.toFixed(0)} ms: heap ${per(after.heap, before.heap)} B/znode, external ${per(after.external, before.external)} B/znode (array buffers included), ` +
    `RSS ${per(after.rss, before.rss)} B/znode; RSS ${(after.rss / 2 ** 20).toFixed(0)} MiB, heap ${(after.heap / 2 ** 20).toFixed(0)} MiB`,
);
if (tree.nodeCount < n) throw new Error('tree lost nodes');
