// ensure-deps.mjs — on a fresh clone, installs the project's npm dependencies before build/test.
// Runs `npm ci` (or `npm install` without a lockfile) only when node_modules is missing or stale.
import { existsSync, statSync } from 'node:fs';
import { execSync } from 'node:child_process';

const lock = existsSync('package-lock.json');
const stamp = 'node_modules/.package-lock.json';
const stale = !existsSync(stamp) || (lock && statSync('package-lock.json').mtimeMs > statSync(stamp).mtimeMs);
if (stale) {
  execSync(lock ? 'npm ci --no-audit --no-fund' : 'npm install --no-audit --no-fund', { stdio: 'inherit' });
}
