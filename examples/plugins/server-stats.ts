// server-stats.ts — a virtual, read-only znode that shows live server figures as JSON: zxid,
// znode and session counts, packets, latency, watches, uptime, and every plugin's hook and
// listener counters (faults, dropped events). Nothing is stored: each read computes it.
//
//   plugin.1=./examples/plugins/server-stats.ts      (compiled: .js)
//   plugin.1.path=/zkts/stats                         (the default)
//
//   $ zkts shell get /zkts/stats
//
// In your own plugin, import from 'zkts/plugin'.
import { Code, definePlugin, option } from '../../src/plugin/index.js';

export default definePlugin({
  name: 'server-stats',
  version: '1.0.0',
  options: {
    path: option.string({ default: '/zkts/stats', pattern: /^\/./, description: 'where the virtual node appears' }),
  },
  setup(ctx) {
    const path = ctx.options.path;
    ctx.nodeBehaviour(path, {
      read(p) {
        if (p !== path) return undefined;
        const s = ctx.server();
        const plugins = ctx.pluginStatus().map((st) => ({
          plugin: st.label,
          faults: Object.values(st.hooks).reduce((n, h) => n + h.faults, 0),
          refusals: Object.values(st.hooks).reduce((n, h) => n + h.refusals, 0),
          listeners: st.listeners.map((l) => ({ delivered: l.delivered, dropped: l.dropped, queued: l.queued, mode: l.mode })),
        }));
        const body = {
          zxid: `0x${s.zxid.toString(16)}`,
          nodeCount: s.nodeCount,
          sessionCount: s.sessionCount,
          connectionCount: s.connectionCount,
          watchCount: s.watchCount,
          approximateDataSize: s.approximateDataSize,
          packetsReceived: s.packetsReceived,
          packetsSent: s.packetsSent,
          avgLatencyMs: Number(s.avgLatencyMs.toFixed(3)),
          maxLatencyMs: Number(s.maxLatencyMs.toFixed(3)),
          uptimeMs: s.uptimeMs,
          plugins,
        };
        return { data: JSON.stringify(body) };
      },
      // read-only: the node cannot be created, written or deleted through ZooKeeper
      validateWrite: () => ({ error: Code.NoAuth }),
      refuseDelete: true,
    });
  },
});
