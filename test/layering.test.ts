// src/protocol and src/tree stay free of I/O, clocks and randomness (DESIGN.md, STYLE.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const FORBIDDEN: [RegExp, string][] = [
  [/from\s+['"](node:)?(net|fs|fs\/promises|dgram|http|https|tls|child_process|timers|timers\/promises)['"]/, 'I/O module import'],
  [/\bDate\.now\s*\(/, 'Date.now'],
  [/\bnew\s+Date\s*\(\s*\)/, 'new Date()'],
  [/\bMath\.random\s*\(/, 'Math.random'],
  [/\b(setTimeout|setInterval|setImmediate)\s*\(/, 'timer'],
  [/\bperformance\.now\s*\(/, 'performance.now'],
  [/\bprocess\.hrtime\b/, 'process.hrtime'],
];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

for (const layer of ['src/protocol', 'src/tree', 'src/quorum/learner']) {
  test(`${layer} does no I/O and reads no clock or randomness`, () => {
    const found: string[] = [];
    for (const f of files(layer)) {
      const text = readFileSync(f, 'utf8');
      for (const [re, what] of FORBIDDEN) if (re.test(text)) found.push(`${f}: ${what}`);
    }
    assert.deepEqual(found, []);
  });
}

test('the layering check catches a forbidden import', () => {
  const sample = "import { createServer } from 'node:net';";
  assert.ok(FORBIDDEN.some(([re]) => re.test(sample)));
});
