// run-tests.mjs — runs node's test runner (spec reporter) on every *.test.ts under the given
// folders (default: test/, without test/conformance, which needs Debian's ZooKeeper and kazoo and
// runs from scripts/conformance.sh), or on the folders and files named. Node 20 takes no globs,
// so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = process.argv.slice(2);
const exclude = roots.length === 0 ? new Set(['test/conformance']) : new Set();
function find(dir) {
  if (exclude.has(dir)) return [];
  if (!statSync(dir).isDirectory()) return dir.endsWith('.test.ts') ? [dir] : [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const files = (roots.length === 0 ? ['test'] : roots).flatMap(find);
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  // --test-timeout: a test that hangs fails after 10 minutes instead of holding CI to its limit
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=600000', ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
