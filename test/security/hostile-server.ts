// hostile-server.ts — the zkts CLI's server (runServer on a zoo.cfg) in a child process that
// reports its own memory over IPC, for the hostile-client test and bench/hostile.ts:
//   → { kind: 'mem' }         ← { kind: 'mem', rss, heapUsed, external, peakRss } (after a gc)
//   → { kind: 'reset-peak' }  ← { kind: 'ok' }
// The peak RSS is sampled every 20 ms. Started by hostile-harness.ts with --expose-gc.
import { runServer } from '../../src/cli/server-command.js';

let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 20);
sampler.unref();

process.on('message', (m: { kind: string }) => {
  if (m.kind === 'mem') {
    (globalThis as { gc?: () => void }).gc?.();
    const u = process.memoryUsage();
    peakRss = Math.max(peakRss, u.rss);
    process.send!({ kind: 'mem', rss: u.rss, heapUsed: u.heapUsed, external: u.external, peakRss });
  } else if (m.kind === 'reset-peak') {
    peakRss = process.memoryUsage.rss();
    process.send!({ kind: 'ok' });
  }
});
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));

await runServer([process.argv[2]!]);
process.send!({ kind: 'ready' });
