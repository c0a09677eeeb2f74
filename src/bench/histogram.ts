// histogram.ts — a latency histogram in the style of HdrHistogram: integer microseconds,
// exact below 128 µs, then each power-of-two range split into 64 equal buckets, so any value is
// reported within 1/64 (1.6 %) of itself, from 0 µs to about 35 minutes, in 1,664 counters.
// Recording is one array increment; histograms from several sessions or processes merge by
// adding counters, which is why they travel as plain arrays (toJSON / fromJSON).

const LINEAR = 128; // values 0..127 get a bucket each
const SUB = 64; // buckets per power of two above that
const FIRST_EXP = 7; // 2^7 = 128, the first log range
const LAST_EXP = 30; // values are clamped to 2^31 - 1 µs
const BUCKETS = LINEAR + (LAST_EXP - FIRST_EXP + 1) * SUB;
const MAX_VALUE = 0x7fffffff;

export interface HistogramJSON {
  counts: number[];
  total: number;
  sum: number;
  min: number;
  max: number;
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  minMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class Histogram {
  readonly counts = new Float64Array(BUCKETS);
  total = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;

  /** Records a latency in microseconds (fractions are rounded; negatives count as 0). */
  record(us: number): void {
    let v = Math.round(us);
    if (!(v > 0)) v = 0;
    else if (v > MAX_VALUE) v = MAX_VALUE;
    this.counts[bucketOf(v)]! += 1;
    this.total += 1;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /**
   * The value below or at which `q` (0..1) of the recorded values lie, as the highest value of
   * its bucket (HdrHistogram's "highest equivalent value"), clamped to the exact maximum.
   */
  quantileUs(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(bucketHigh(i), this.max);
    }
    return this.max;
  }

  summary(): LatencySummary {
    const ms = (us: number): number => Math.round(us) / 1000;
    return {
      count: this.total,
      meanMs: this.total === 0 ? 0 : ms(this.sum / this.total),
      minMs: this.total === 0 ? 0 : ms(this.min),
      p50Ms: ms(this.quantileUs(0.5)),
      p90Ms: ms(this.quantileUs(0.9)),
      p99Ms: ms(this.quantileUs(0.99)),
      p999Ms: ms(this.quantileUs(0.999)),
      maxMs: ms(this.max),
    };
  }

  toJSON(): HistogramJSON {
    return { counts: Array.from(this.counts), total: this.total, sum: this.sum, min: this.min, max: this.max };
  }

  static fromJSON(j: HistogramJSON): Histogram {
    if (j.counts.length !== BUCKETS) throw new Error(`histogram with ${j.counts.length} buckets, expected ${BUCKETS}`);
    const h = new Histogram();
    h.counts.set(j.counts);
    h.total = j.total;
    h.sum = j.sum;
    h.min = j.min ?? Number.POSITIVE_INFINITY; // JSON turns Infinity into null
    h.max = j.max;
    return h;
  }
}

export function bucketOf(v: number): number {
  if (v < LINEAR) return v;
  const exp = 31 - Math.clz32(v); // FIRST_EXP..LAST_EXP
  return LINEAR + (exp - FIRST_EXP) * SUB + ((v >>> (exp - 6)) - SUB);
}

/** The highest value that falls in bucket `i`. */
export function bucketHigh(i: number): number {
  if (i < LINEAR) return i;
  const exp = FIRST_EXP + Math.floor((i - LINEAR) / SUB);
  const sub = SUB + ((i - LINEAR) % SUB);
  return (sub + 1) * 2 ** (exp - 6) - 1;
}
