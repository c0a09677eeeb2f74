// load.ts — the load generator's command line under tsx, for bench/compare.ts, bench/profile.ts
// and the storage tools: the same command as `zkts bench` (src/cli/bench-command.ts; the generator
// is src/bench/load.ts). `--port P` or `--server host:port`; see `--help`.
//
//   node --import tsx bench/load.ts --port 2181 --sessions 16 --outstanding 32 --workload read \
//        --seconds 10 [--warmup 1] [--procs 1] [--server-pid PID] [--count 100000] [--json]
import { runBench } from '../src/cli/bench-command.js';

process.exitCode = await runBench(process.argv.slice(2));
