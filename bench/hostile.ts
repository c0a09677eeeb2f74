// hostile.ts — issue 9's hostile clients against zkts (the CLI's server in a child process), with
// the figures: server RSS before/after/peak, heap after a gc, and a control client's getData
// latency (p50/p99/max) during each attack.
//   node --import tsx bench/hostile.ts [--connections 1000] [--flood-writes 25] [--flood-clients 4]
// Attacks: (1) N connections with sessions from 127.0.0.1, maxClientCnxns raised to admit them;
// (2) the same with ZooKeeper's default maxClientCnxns=60, which refuses the excess; (3) a client
// that never reads while it is sent 1 MB replies and watch events; (4) clients pipelining setData of
// 1,000,000 bytes (jute.maxbuffer is 1,048,575) without waiting. Every loop is bounded.
import { parseArgs } from 'node:util';
import {
  ControlClient,
  type ControlFigures,
  HostileServer,
  type Memory,
  connectionStorm,
  largeWriteFlood,
  mib,
  slowReader,
} from '../test/security/hostile-harness.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    'flood-clients': { type: 'string', default: '4' },
    'flood-writes': { type: 'string', default: '25' },
  },
});
const connections = Number(values.connections);
const floodClients = Number(values['flood-clients']);
const floodWrites = Number(values['flood-writes']);

interface Row {
  attack: string;
  outcome: string;
  before: Memory;
  after: Memory;
  control: ControlFigures;
}
const rows: Row[] = [];

async function phase(server: HostileServer, control: ControlClient, attack: string, run: () => Promise<string>): Promise<void> {
  const before = await server.memory();
  await server.resetPeak();
  control.start();
  const outcome = await run();
  const figures = await control.stop();
  const after = await server.memory();
  rows.push({ attack, outcome, before, after, control: figures });
  process.stderr.write(`done: ${attack}: ${outcome}\n`);
}

const main = await HostileServer.start({ maxClientCnxns: String(connections + 100) });
try {
  const control = await ControlClient.connect(main.port);
  await phase(main, control, 'idle (control client alone, 3 s)', async () => {
    await new Promise((r) => setTimeout(r, 3000));
    return '-';
  });
  await phase(main, control, `${connections} connections from one address (maxClientCnxns=${connections + 100})`, async () => {
    const s = await connectionStorm(main.port, connections, 3000);
    return `${s.accepted} accepted, ${s.refused} refused, ${s.stillOpen} open after 3 s`;
  });
  await phase(main, control, 'a client that never reads: 300 getData of a 1 MB node + 5,000 watch events', async () => {
    const r = await slowReader(main, { gets: 300, nodeBytes: 1_000_000, events: 5000, maxMs: 60_000 });
    return `${mib(r.replyBytesAsked)} MiB of replies asked, ${r.eventsFired} events; ${r.disconnected ? 'disconnected by the server' : 'not disconnected (reading paused)'}`;
  });
  await phase(main, control, `${floodClients} clients × ${floodWrites} pipelined setData of 1,000,000 bytes`, async () => {
    const f = await largeWriteFlood(main.port, { clients: floodClients, perClient: floodWrites, bytes: 1_000_000, maxMs: 120_000 });
    return `${f.ok}/${f.writes} ok, ${mib(f.bytesSent)} MiB sent`;
  });
  control.destroy();
} finally {
  await main.stop();
}

const dflt = await HostileServer.start();
try {
  const control = await ControlClient.connect(dflt.port);
  await phase(dflt, control, `${connections} connections from one address (default maxClientCnxns=60)`, async () => {
    const s = await connectionStorm(dflt.port, connections, 1000);
    return `${s.accepted} accepted, ${s.refused} refused (the control client holds 1 of the 60)`;
  });
  control.destroy();
} finally {
  await dflt.stop();
}

const f = (ms: number): string => (Number.isNaN(ms) ? '-' : ms.toFixed(2));
console.log(`| attack | outcome | RSS before → after (peak), MiB | heap after gc, MiB | control getData p50 / p99 / max, ms (ops, errors) |`);
console.log(`| --- | --- | --: | --: | --: |`);
for (const r of rows) {
  console.log(
    `| ${r.attack} | ${r.outcome} | ${mib(r.before.rss)} → ${mib(r.after.rss)} (${mib(r.after.peakRss)}) | ${mib(r.after.heapUsed)} | ` +
      `${f(r.control.p50Ms)} / ${f(r.control.p99Ms)} / ${f(r.control.maxMs)} (${r.control.ops}, ${r.control.errors}) |`,
  );
}
