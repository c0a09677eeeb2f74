// bench-command.ts — `zkts bench`: the load generator of src/bench against any ZooKeeper-protocol
// server, printing throughput and latency percentiles as text or one JSON object. bench/load.ts
// (run under tsx by bench/compare.ts and bench/profile.ts) is the same command.
// Exit status: 0 when the run completed (error replies are counted in the output), 1 when it
// could not run or a session failed, 2 for a usage error.
import { formatResult, runLoad, type LoadOptions, type LoadWorkload } from '../bench/load.js';
import { WORKLOADS, type WorkloadName } from '../bench/workloads.js';

export const BENCH_USAGE = `usage: zkts bench [--server host:port] [--sessions N] [--outstanding K]
                  [--workload ${WORKLOADS.join('|')}|watch|populate] [--seconds S] [--warmup S]
                  [--procs P] [--json]

A closed-loop load generator: N sessions, each keeping K requests in flight, for S seconds after
a warmup; prints throughput and latency percentiles (p50 p90 p99 p999 max, from a histogram
exact to 1/64). Works on znodes under /zkts-bench, which it creates.

workloads:
  read           getData of the session's own 100-byte znode
  write          setData of it
  mixed          90 % read, 10 % write
  create-delete  create an ephemeral-sequential znode, delete it, …
  watch          N watcher sessions hold a persistent watch on K znodes; one writer sets each
                 znode and waits for its N events before setting it again. ops = events
                 delivered; latency = set sent → all N events delivered
  populate       create --count persistent znodes under /zkts-bench/rss, then stop

options:
  --server host:port   the server (default 127.0.0.1:2181); --host and --port also work
  --sessions N         sessions (default 16); watch: watcher sessions
  --outstanding K      requests in flight per session (default 32); watch: znodes (rounds in flight)
  --workload W         default read
  --seconds S          measured seconds (default 10); populate: at most S seconds
  --warmup S           unmeasured seconds first (default 1)
  --procs P            spread the sessions over P generator processes (default 1; not for watch)
  --count C            populate: znodes to create (default 100000)
  --seed X             mixed: the seed of the read/write coin (default 1)
  --server-pid PID     also report that process's CPU time over the window (Linux /proc)
  --json               print one JSON object instead of text
  -h, --help           print this help
`;

export type BenchArgs = LoadOptions & { json: boolean };

export class BenchUsageError extends Error {}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const opts: BenchArgs = {
    host: '127.0.0.1',
    port: 2181,
    sessions: 16,
    outstanding: 32,
    workload: 'read',
    seconds: 10,
    warmupSeconds: 1,
    procs: 1,
    seed: 1,
    count: 100_000,
    serverPid: null,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string => {
      const s = argv[++i];
      if (s === undefined) throw new BenchUsageError(`${a}: missing value`);
      return s;
    };
    const int = (min: number, max: number): number => {
      const s = v();
      const n = Number(s);
      if (!/^\d+$/.test(s) || n < min || n > max) throw new BenchUsageError(`${a}: expected an integer in ${min}..${max}, got '${s}'`);
      return n;
    };
    switch (a) {
      case '--server': {
        const s = v();
        const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(s);
        const port = Number(m?.[2]);
        if (m === null || !(port >= 1 && port <= 65535)) throw new BenchUsageError(`--server: expected host:port, got '${s}'`);
        opts.host = m[1]!.replace(/^\[(.*)\]$/, '$1');
        opts.port = port;
        break;
      }
      case '--host': opts.host = v(); break;
      case '--port': opts.port = int(1, 65535); break;
      case '--sessions': opts.sessions = int(1, 10_000); break;
      case '--outstanding': opts.outstanding = int(1, 10_000); break;
      case '--seconds': opts.seconds = int(1, 3600); break;
      case '--warmup': opts.warmupSeconds = int(0, 3600); break;
      case '--procs': opts.procs = int(1, 64); break;
      case '--count': opts.count = int(1, 10_000_000); break;
      case '--seed': opts.seed = int(0, 0x7fffffff); break;
      case '--server-pid': opts.serverPid = int(1, 0x7fffffff); break;
      case '--json': opts.json = true; break;
      case '--workload': {
        const w = v();
        if (w !== 'populate' && w !== 'watch' && !WORKLOADS.includes(w as WorkloadName)) {
          throw new BenchUsageError(`--workload: unknown workload '${w}'`);
        }
        opts.workload = w as LoadWorkload;
        break;
      }
      default:
        throw new BenchUsageError(a.startsWith('-') ? `unknown option '${a}'` : `unexpected argument '${a}'`);
    }
  }
  if (opts.workload === 'watch' && opts.procs > 1) throw new BenchUsageError('--procs: the watch workload runs in one process');
  if (opts.procs > opts.sessions) opts.procs = opts.sessions;
  return opts;
}

/** `zkts bench …` */
export async function runBench(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  let opts: BenchArgs;
  try {
    opts = parseBenchArgs(argv);
  } catch (e) {
    if (!(e instanceof BenchUsageError)) throw e;
    process.stderr.write(`zkts bench: ${e.message}\n${BENCH_USAGE}`);
    return 2;
  }
  const hardLimitMs = (opts.warmupSeconds + opts.seconds) * 1000 + 90_000;
  const hard = setTimeout(() => {
    process.stderr.write(`zkts bench: still running after ${hardLimitMs} ms; giving up\n`);
    process.exit(3);
  }, hardLimitMs);
  hard.unref();
  let r;
  try {
    r = await runLoad(opts);
  } catch (e) {
    process.stderr.write(`zkts bench: ${(e as Error).message}\n`);
    return 1;
  } finally {
    clearTimeout(hard);
  }
  process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : `${formatResult(r)}\n`);
  return r.failures.length > 0 ? 1 : 0;
}
