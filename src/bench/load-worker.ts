// load-worker.ts — the entry of a generator process that `--procs P` forks (load.ts runProcs).
import { runWorker } from './load.js';

runWorker();
