// layering.test.ts — src/quorum/election stays pure (no I/O, clock, timers or randomness) except the
// transport (cnx-manager.ts) and the wiring of the service (index.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(import.meta.dirname, '..', '..', '..', 'src', 'quorum', 'election');
const IMPURE = new Set(['cnx-manager.ts', 'index.ts']);
const FORBIDDEN: [RegExp, string][] = [
  [/from\s+['"](node:)?(net|fs|fs\/promises|dgram|http|https|tls|child_process|timers|timers\/promises)['"]/, 'I/O module import'],
  [/\bDate\.now\s*\(/, 'Date.now'],
  [/\bnew\s+Date\s*\(\s*\)/, 'new Date()'],
  [/\bMath\.random\s*\(/, 'Math.random'],
  [/\b(setTimeout|setInterval|setImmediate)\s*\(/, 'timer'],
  [/\bperformance\.now\s*\(/, 'performance.now'],
];

test('src/quorum/election is pure outside cnx-manager.ts and index.ts', () => {
  const found: string[] = [];
  const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));
  assert.ok(files.includes('fast-leader-election.ts') && files.includes('codec.ts'));
  for (const f of files) {
    if (IMPURE.has(f)) continue;
    const text = readFileSync(join(DIR, f), 'utf8');
    for (const [re, what] of FORBIDDEN) if (re.test(text)) found.push(`${f}: ${what}`);
  }
  assert.deepEqual(found, []);
});
