// latency-summary.ts — ZooKeeper's AvgMinMaxPercentileCounter for mntr and /metrics: count, sum,
// min, max and p50/p95/p99/p999 from a fixed log-scale histogram (about 2 % resolution, no
// allocation per sample), reset by srst.

const BUCKETS_PER_DOUBLING = 32;
const MIN_MS = 0.001;
const BUCKETS = BUCKETS_PER_DOUBLING * 40; // 1 µs .. ~1e9 ms

export class LatencySummary {
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  private readonly hist = new Uint32Array(BUCKETS);

  add(ms: number): void {
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    const b = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log2(ms / MIN_MS) * BUCKETS_PER_DOUBLING));
    this.hist[b]!++;
  }

  /** The value below which `q` of the samples fall (bucket upper bound, capped at max). */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.hist[b]!;
      if (seen >= rank) return Math.min(this.max, MIN_MS * 2 ** ((b + 1) / BUCKETS_PER_DOUBLING));
    }
    return this.max;
  }

  reset(): void {
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
    this.hist.fill(0);
  }

  /** As mntr prints it: whole milliseconds, as ZooKeeper's counters record them. */
  view(): { count: number; sum: number; min: number; max: number; p50: number; p95: number; p99: number; p999: number } {
    const r = Math.round;
    return {
      count: this.count,
      sum: r(this.sum),
      min: this.count === 0 ? 0 : r(this.min),
      max: r(this.max),
      p50: r(this.quantile(0.5)),
      p95: r(this.quantile(0.95)),
      p99: r(this.quantile(0.99)),
      p999: r(this.quantile(0.999)),
    };
  }
}
