// prometheus-text.ts — the Prometheus text exposition format (version 0.0.4) as ZooKeeper's
// provider writes it through the Prometheus Java client 0.9 (TextFormat.write004): per family a
// "# HELP" and a "# TYPE" line, then one line per sample, labels written `{k="v",}` (the trailing
// comma is the Java client's and is valid), values as Java doubles ("5.0", "NaN", "+Inf").
import { formatJavaDouble } from '../server/four-letter-format.js';

export type MetricType = 'counter' | 'gauge' | 'summary' | 'histogram' | 'untyped';

export interface MetricSample {
  /** The family name plus a suffix: "_count", "_sum", "_bucket"; the family name when undefined. */
  readonly name?: string;
  readonly labels?: ReadonlyArray<readonly [name: string, value: string]>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  /** May be empty: a labelled family with no children yet still gets its HELP and TYPE. */
  readonly samples: readonly MetricSample[];
}

export const PROMETHEUS_TEXT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Collector.doubleToGoString. */
export function formatSampleValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return formatJavaDouble(value);
}

const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export function renderPrometheusText(families: Iterable<MetricFamily>): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`);
    for (const s of f.samples) {
      let line = s.name ?? f.name;
      if (s.labels !== undefined && s.labels.length > 0) {
        line += '{';
        for (const [k, v] of s.labels) line += `${k}="${escapeLabel(v)}",`;
        line += '}';
      }
      out.push(`${line} ${formatSampleValue(s.value)}\n`);
    }
  }
  return out.join('');
}

/** A gauge or counter family with one unlabelled sample. */
export function single(name: string, type: 'gauge' | 'counter', value: number, help = name): MetricFamily {
  return { name, help, type, samples: [{ value }] };
}
