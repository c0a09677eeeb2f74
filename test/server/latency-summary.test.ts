import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencySummary } from '../../src/server/latency-summary.js';

test('percentiles land within the histogram resolution of the exact values', () => {
  const s = new LatencySummary();
  for (let i = 1; i <= 1000; i++) s.add(i / 10); // 0.1 .. 100 ms
  assert.equal(s.count, 1000);
  assert.equal(s.max, 100);
  for (const [q, exact] of [[0.5, 50], [0.95, 95], [0.99, 99]] as const) {
    const got = s.quantile(q);
    assert.ok(Math.abs(got - exact) / exact < 0.03, `p${q * 100}: ${got} vs ${exact}`);
  }
  s.reset();
  assert.deepEqual(s.view(), { count: 0, sum: 0, min: 0, max: 0, p50: 0, p95: 0, p99: 0, p999: 0 });
});
