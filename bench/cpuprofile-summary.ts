// cpuprofile-summary.ts — the hot spots of a V8 .cpuprofile (node --cpu-prof): self time and
// total (inclusive) time per function, with locations mapped back to the TypeScript source
// through the .js.map files tsc writes beside dist/, and self time per source file.
//
//   node --import tsx bench/cpuprofile-summary.ts <file.cpuprofile> [--top 15] [--json]
//
// Percentages are of the busy time: samples in "(idle)" (the event loop waiting) are left out.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number; // 0-based
  columnNumber: number; // 0-based
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  functionName: string;
  location: string;
  selfMs: number;
  selfPct: number;
  totalPct: number;
  /** The callers its self time came through, most first (up to 2). */
  callers: Array<{ caller: string; pct: number }>;
}

export interface ProfileSummary {
  file: string;
  busyMs: number;
  idleMs: number;
  gcPct: number;
  top: HotSpot[];
  byFile: Array<{ file: string; selfPct: number }>;
}

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sourceMaps = new Map<string, SourceMap | null>();

function sourceMapFor(jsFile: string): SourceMap | null {
  if (!sourceMaps.has(jsFile)) {
    const mapFile = `${jsFile}.map`;
    sourceMaps.set(jsFile, existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : null);
  }
  return sourceMaps.get(jsFile)!;
}

/** "src/server/connection.ts:123" for a frame in dist/ with a source map, else the JS location. */
function locate(cf: CallFrame): string {
  if (cf.url === '') return '(native)';
  if (!cf.url.startsWith('file://')) return `${cf.url}:${cf.lineNumber + 1}`;
  const file = fileURLToPath(cf.url);
  const map = sourceMapFor(file);
  if (map !== null) {
    const e = map.findEntry(cf.lineNumber, cf.columnNumber) as { originalSource?: string; originalLine?: number };
    if (e.originalSource !== undefined && e.originalLine !== undefined) {
      const src = e.originalSource.startsWith('file://') ? fileURLToPath(e.originalSource) : path.resolve(path.dirname(file), e.originalSource);
      return `${path.relative(REPO, src)}:${e.originalLine + 1}`;
    }
  }
  return `${path.relative(REPO, file)}:${cf.lineNumber + 1}`;
}

export function summarise(file: string, topN = 15): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const keyOf = new Map<number, string>();
  const info = new Map<string, { functionName: string; location: string; selfUs: number; totalUs: number; callers: Map<string, number> }>();
  for (const n of prof.nodes) {
    const cf = n.callFrame;
    const location = locate(cf);
    const fn = cf.functionName === '' ? '(anonymous)' : cf.functionName;
    const key = `${fn} ${location}`;
    keyOf.set(n.id, key);
    if (!info.has(key)) info.set(key, { functionName: fn, location, selfUs: 0, totalUs: 0, callers: new Map() });
  }
  // Inclusive time: each node's self time counts once for every distinct function on its stack.
  const root = prof.nodes[0]!;
  const onStack = new Map<string, number>();
  const visit = (n: ProfileNode, depth: number, parentKey: string | null): void => {
    if (depth > 10_000) throw new Error('profile deeper than 10,000 frames');
    const key = keyOf.get(n.id)!;
    onStack.set(key, (onStack.get(key) ?? 0) + 1);
    const self = selfUs.get(n.id) ?? 0;
    const entry = info.get(key)!;
    entry.selfUs += self;
    if (parentKey !== null && self > 0) entry.callers.set(parentKey, (entry.callers.get(parentKey) ?? 0) + self);
    if (self > 0) for (const k of onStack.keys()) info.get(k)!.totalUs += self;
    for (const c of n.children ?? []) visit(byId.get(c)!, depth + 1, key);
    const left = onStack.get(key)! - 1;
    if (left === 0) onStack.delete(key);
    else onStack.set(key, left);
  };
  visit(root, 0, null);

  const idleUs = [...info.values()].filter((v) => v.functionName === '(idle)').reduce((a, v) => a + v.selfUs, 0);
  const allUs = [...selfUs.values()].reduce((a, v) => a + v, 0);
  const busyUs = allUs - idleUs;
  const pct = (us: number): number => Math.round((1000 * us) / busyUs) / 10;
  const spots = [...info.values()].filter((v) => v.functionName !== '(idle)' && v.functionName !== '(root)');
  const gcUs = spots.filter((v) => v.functionName === '(garbage collector)').reduce((a, v) => a + v.selfUs, 0);
  const files = new Map<string, number>();
  for (const v of spots) {
    const f = v.location.replace(/:\d+$/, '');
    const name = v.location === '(native)' ? `(native) ${v.functionName}` : f;
    files.set(name, (files.get(name) ?? 0) + v.selfUs);
  }
  return {
    file,
    busyMs: Math.round(busyUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    gcPct: pct(gcUs),
    top: spots
      .sort((a, b) => b.selfUs - a.selfUs)
      .slice(0, topN)
      .map((v) => ({
        functionName: v.functionName,
        location: v.location,
        selfMs: Math.round(v.selfUs / 1000),
        selfPct: pct(v.selfUs),
        totalPct: pct(v.totalUs),
        callers: [...v.callers]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 2)
          .map(([caller, us]) => ({ caller, pct: pct(us) })),
      })),
    byFile: [...files]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([f, us]) => ({ file: f, selfPct: pct(us) })),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const lines = [
    `${path.basename(s.file)}: ${s.busyMs} ms busy, ${s.idleMs} ms idle; GC ${s.gcPct}% of busy time`,
    '   #  self%  total%  function                               location',
    ...s.top.flatMap((h, i) => [
      `  ${String(i + 1).padStart(2)}  ${h.selfPct.toFixed(1).padStart(5)}  ${h.totalPct.toFixed(1).padStart(6)}  ${h.functionName.slice(0, 38).padEnd(38)} ${h.location}`,
      `                 ← ${h.callers.map((c) => `${c.caller} (${c.pct}%)`).join(', ')}`,
    ]),
    '  self time by file:',
    ...s.byFile.map((f) => `    ${f.selfPct.toFixed(1).padStart(5)}%  ${f.file}`),
  ];
  return lines.join('\n');
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]);
if (isMain) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 15;
  if (file === undefined) {
    process.stderr.write('usage: node --import tsx bench/cpuprofile-summary.ts <file.cpuprofile> [--top 15] [--json]\n');
    process.exit(2);
  }
  const s = summarise(file, top);
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(s, null, 2)}\n` : `${formatSummary(s)}\n`);
}
