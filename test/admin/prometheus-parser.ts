// prometheus-parser.ts — a strict reader of the Prometheus text exposition format 0.0.4, for
// tests: it throws on anything Prometheus would refuse or that breaks the format's rules
// (https://prometheus.io/docs/instrumenting/exposition_formats/):
//   - metric and label names match [a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]*;
//   - label values escape only \\, \" and \n; a trailing comma inside {} is allowed;
//   - values are Go floats (NaN, +Inf, -Inf, 1.5E7 ...), optionally followed by an int timestamp;
//   - at most one HELP and one TYPE per family, TYPE before its first sample;
//   - a family's samples are contiguous; no series (name + labels) appears twice;
//   - summaries: "quantile" on the bare samples, plus _sum and _count; histograms: _bucket with
//     "le" (cumulative, ending in +Inf, equal to _count), _sum and _count.

export interface Sample {
  readonly name: string;
  readonly labels: ReadonlyMap<string, string>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  help?: string;
  type: string;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'summary', 'histogram', 'untyped']);

function parseValue(text: string, where: string): number {
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`${where}: bad value "${text}"`);
  return Number(text);
}

function parseLabels(text: string, where: string): { labels: Map<string, string>; rest: string } {
  const labels = new Map<string, string>();
  let i = 1; // after "{"
  for (;;) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without "="`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name "${name}"`);
    if (labels.has(name)) throw new Error(`${where}: label ${name} twice`);
    if (text[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
    let j = eq + 2;
    let value = '';
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const e = text[++j];
        if (e === 'n') value += '\n';
        else if (e === '\\' || e === '"') value += e;
        else throw new Error(`${where}: bad escape \\${e ?? ''}`);
      } else if (text[j] === '\n') {
        throw new Error(`${where}: newline in a label value`);
      } else {
        value += text[j];
      }
    }
    if (j >= text.length) throw new Error(`${where}: unterminated label value`);
    labels.set(name, value);
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`${where}: expected "," or "}" after a label`);
  }
}

/** The family a sample belongs to: summaries and histograms own their suffixed samples. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  for (const suffix of ['_sum', '_count', '_bucket']) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f !== undefined && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return families.get(name);
}

function checkFamily(f: Family): void {
  const seen = new Set<string>();
  for (const s of f.samples) {
    const key = `${s.name}${JSON.stringify([...s.labels].sort())}`;
    if (seen.has(key)) throw new Error(`${f.name}: series ${key} twice`);
    seen.add(key);
    if (f.type === 'summary' && s.name === f.name && !s.labels.has('quantile')) throw new Error(`${f.name}: a quantile sample without "quantile"`);
    if (f.type === 'histogram' && s.name === f.name) throw new Error(`${f.name}: a histogram sample without a suffix`);
    if (f.type === 'histogram' && s.name.endsWith('_bucket') && !s.labels.has('le')) throw new Error(`${f.name}: a bucket without "le"`);
  }
  if (f.type !== 'summary' && f.type !== 'histogram') return;
  const groups = new Map<string, Sample[]>();
  for (const s of f.samples) {
    const rest = JSON.stringify([...s.labels].filter(([k]) => k !== 'quantile' && k !== 'le').sort());
    groups.set(rest, [...(groups.get(rest) ?? []), s]);
  }
  for (const [labels, samples] of groups) {
    const count = samples.find((s) => s.name === `${f.name}_count`);
    if (count === undefined || !samples.some((s) => s.name === `${f.name}_sum`)) throw new Error(`${f.name}${labels}: no _sum or _count`);
    if (f.type !== 'histogram') continue;
    const buckets = samples.filter((s) => s.name === `${f.name}_bucket`);
    const last = buckets[buckets.length - 1];
    if (last?.labels.get('le') !== '+Inf' || last.value !== count.value) throw new Error(`${f.name}${labels}: no +Inf bucket equal to _count`);
    buckets.forEach((b, i) => {
      if (i > 0 && b.value < buckets[i - 1]!.value) throw new Error(`${f.name}${labels}: buckets not cumulative`);
    });
  }
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const typed = new Set<string>();
  let current: Family | undefined;
  text.split('\n').forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (line.trim() === '') return;
    const meta = /^#\s*(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
    if (meta !== null) {
      const [, kind, name = '', rest = ''] = meta;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
      if (current !== undefined && current.name !== name) closed.add(current.name);
      let f = families.get(name);
      if (f !== undefined && (f.samples.length > 0 || closed.has(name))) throw new Error(`${where}: ${kind} for ${name} after its samples`);
      if (f === undefined) families.set(name, (f = { name, type: 'untyped', samples: [] }));
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        f.help = rest;
      } else {
        if (!TYPES.has(rest) || typed.has(name)) throw new Error(`${where}: bad or second TYPE "${rest}" for ${name}`);
        f.type = rest;
        typed.add(name);
      }
      return;
    }
    if (line.startsWith('#')) return;
    const m = /^([^\s{]+)(.*)$/.exec(line)!;
    const name = m[1]!;
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`);
    let rest = m[2]!;
    let labels = new Map<string, string>();
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, where));
    const parts = rest.trim().split(/\s+/);
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2) throw new Error(`${where}: expected " value [timestamp]"`);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: bad timestamp`);
    let f = familyOf(name, families);
    if (f === undefined) families.set(name, (f = { name, type: 'untyped', samples: [] }));
    if (current !== undefined && current !== f) closed.add(current.name);
    if (closed.has(f.name)) throw new Error(`${where}: samples of ${f.name} are not contiguous`);
    current = f;
    f.samples.push({ name, labels, value: parseValue(parts[0]!, where) });
  });
  for (const f of families.values()) checkFamily(f);
  return families;
}
