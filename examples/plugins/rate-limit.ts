// rate-limit.ts — a per-session rate limit: each session gets a token bucket (`rate` requests a
// second, bursts of up to `burst`); a request that finds it empty is answered with ZooKeeper's
// Throttled error (-127) — Java clients raise ThrottledOpException, which callers may retry after
// a pause. Refused requests make no txn. Pings and closeSession are never limited (the server
// does not stage them), so a throttled session stays alive and can always close.
//
//   plugin.5=./examples/plugins/rate-limit.ts
//   plugin.5.rate=200
//   plugin.5.burst=400
//   plugin.5.writesOnly=true
//   plugin.5.exempt=digest:admin          (auth ids, scheme:id, that are never limited; super always is)
//
// In your own plugin, import from 'zkts/plugin'.
import { Code, definePlugin, OpCode, option } from '../../src/plugin/index.js';

const WRITES = new Set<number>([
  OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL, OpCode.delete,
  OpCode.setData, OpCode.setACL, OpCode.check, OpCode.multi, OpCode.reconfig,
]);
const SWEEP_MS = 60_000;

interface Bucket {
  tokens: number;
  at: number;
}

export default definePlugin({
  name: 'rate-limit',
  version: '1.0.0',
  options: {
    rate: option.number({ min: 0.001, description: 'requests a second per session' }),
    burst: option.integer({ default: 100, min: 1, description: 'requests a session may send at once' }),
    writesOnly: option.boolean({ default: false }),
    exempt: option.list(option.string({ pattern: /^[^:]+:/ }), { default: [] }),
  },
  setup(ctx) {
    const { rate, burst, writesOnly, exempt } = ctx.options;
    const exemptIds = new Set(exempt);
    const buckets = new Map<bigint, Bucket>();
    const perMs = rate / 1000;

    ctx.requestStage('beforePrep', (req, session) => {
      if (writesOnly && !WRITES.has(req.type)) return undefined;
      if (session.authIds.some((id) => id.scheme === 'super' || exemptIds.has(`${id.scheme}:${id.id}`))) return undefined;
      const now = performance.now();
      let b = buckets.get(session.sessionId);
      if (b === undefined) {
        b = { tokens: burst, at: now };
        buckets.set(session.sessionId, b);
      } else {
        b.tokens = Math.min(burst, b.tokens + (now - b.at) * perMs);
        b.at = now;
      }
      if (b.tokens < 1) return { error: Code.Throttled };
      b.tokens -= 1;
      return undefined;
    });

    // A bucket that has refilled is the same as no bucket: forget it (closed sessions go too).
    const sweep = setInterval(() => {
      const now = performance.now();
      for (const [id, b] of buckets) if (b.tokens + (now - b.at) * perMs >= burst) buckets.delete(id);
    }, SWEEP_MS);
    sweep.unref();
    ctx.onStop(() => clearInterval(sweep));
  },
});
