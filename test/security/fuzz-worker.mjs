// fuzz-worker.mjs — worker-thread entry for fuzz-runner.ts: loads the TypeScript worker through
// tsx (a worker does not inherit the parent's --import hooks).
import { tsImport } from 'tsx/esm/api';

await tsImport('./fuzz-worker.ts', import.meta.url);
