// bench-apply.ts — the cost of the tree digest on apply: 200k creates then 200k setData applied
// to a DataTree, with zookeeper.digest.enabled on and off, and with the digest worked out before
// apply as the server does for its log (PendingDigests). Alternates the variants, prints medians.
//   npx tsx test/tree/tools/bench-apply.ts [srcRoot] [reps]
// srcRoot (default: this worktree) may be another checkout, to time its src/tree the same way.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(process.argv[2] ?? '.');
const reps = Number(process.argv[3] ?? 5);
const N = 200_000;
const PARENTS = 200;
const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

const { DataTree } = await import(pathToFileURL(`${root}/src/tree/data-tree.ts`).href);
let PendingDigests: (new (t: unknown) => { next(h: unknown, t: unknown): unknown }) | null = null;
try {
  ({ PendingDigests } = await import(pathToFileURL(`${root}/src/tree/pending-digest.ts`).href));
} catch {
  PendingDigests = null;
}

const data = Buffer.alloc(32, 7);
const data2 = Buffer.alloc(32, 9);

function once(opts: { digestEnabled: boolean; pending: boolean }): number {
  const tree = new DataTree({ digestEnabled: opts.digestEnabled });
  const pending = opts.pending && PendingDigests !== null ? new PendingDigests(tree) : null;
  let zxid = 0n;
  const apply = (type: number, txn: object): void => {
    const hdr = { clientId: 0n, cxid: 0, zxid: ++zxid, time: 1_700_000_000_000 + Number(zxid), type };
    const d = pending === null ? null : pending.next(hdr, txn);
    tree.processTxn(hdr, txn, d);
  };
  for (let p = 0; p < PARENTS; p++) apply(1, { type: 1, path: `/p${p}`, data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 });
  // CPU time of this process, not wall time: the machine is shared, and a busy neighbour would
  // count in wall time.
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) apply(1, { type: 1, path: `/p${i % PARENTS}/c${i}`, data, acl: OPEN, ephemeral: false, parentCVersion: -1 });
  for (let i = 0; i < N; i++) apply(5, { type: 5, path: `/p${i % PARENTS}/c${i}`, data: data2, version: 1 });
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

const variants: [string, { digestEnabled: boolean; pending: boolean }][] = [
  ['digest off', { digestEnabled: false, pending: false }],
  ['digest on', { digestEnabled: true, pending: false }],
];
if (PendingDigests !== null) variants.push(['digest on + worked out before apply (server path)', { digestEnabled: true, pending: true }]);
const times = new Map<string, number[]>(variants.map(([n]) => [n, []]));
once({ digestEnabled: true, pending: false }); // warm-up
for (let r = 0; r < reps; r++) for (const [name, o] of variants) times.get(name)!.push(once(o));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`${root}: ${N} creates + ${N} setData, ${reps} runs each, median CPU ms (per txn µs)`);
for (const [name, xs] of times) console.log(`  ${name.padEnd(52)} ${median(xs).toFixed(0).padStart(6)} ms  ${((median(xs) * 1000) / (2 * N)).toFixed(2)} µs  [${xs.map((x) => x.toFixed(0)).join(' ')}]`);
