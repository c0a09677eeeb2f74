// hostile.test.ts — issue 9's hostile clients against the zkts CLI's server in a child process:
// 1,000 connections from one address (admitted with maxClientCnxns raised; with ZooKeeper's
// default of 60 the excess is refused), a client that never reads while it is sent 1 MB replies
// and watch events, and a flood of pipelined writes near jute.maxbuffer. The server's memory
// (process.memoryUsage in the child) stays within stated bounds and a control client keeps being
// answered. Only memory and liveness are asserted, never times; bench/hostile.ts prints latencies.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ControlClient, HostileServer, type Memory, connectionStorm, largeWriteFlood, mib, slowReader } from './hostile-harness.js';

const MiB = 1024 * 1024;

/** Growth of the peak RSS over the RSS before the attack. */
const growth = (before: Memory, after: Memory): number => after.peakRss - before.rss;

describe('hostile clients', { timeout: 300_000 }, () => {
  let server: HostileServer;
  let control: ControlClient;
  before(async () => {
    server = await HostileServer.start({ maxClientCnxns: '1100' });
    control = await ControlClient.connect(server.port);
  });
  after(async () => {
    control?.destroy();
    await server?.stop();
  });

  async function attack<T>(run: () => Promise<T>): Promise<{ result: T; before: Memory; after: Memory }> {
    const before = await server.memory();
    await server.resetPeak();
    control.start(100_000, 120_000);
    const result = await run();
    const figures = await control.stop();
    const after = await server.memory();
    assert.ok(figures.ops > 0, 'the control client was answered during the attack');
    assert.equal(figures.errors, 0, 'and never failed');
    assert.equal(control.closed, false);
    return { result, before, after };
  }

  test('1,000 connections with sessions from one address, maxClientCnxns raised: all admitted, memory bounded', async (t) => {
    const { result, before, after } = await attack(() => connectionStorm(server.port, 1000, 1000));
    assert.equal(result.accepted, 1000);
    assert.equal(result.stillOpen, 1000);
    // ~5 MiB measured (README); 64 KiB per connection would be 62.5 MiB
    t.diagnostic(`server RSS ${mib(before.rss)} MiB before, peak ${mib(after.peakRss)} MiB, ${mib(after.rss)} MiB after`);
    assert.ok(growth(before, after) < 64 * MiB, `RSS grew ${mib(growth(before, after))} MiB`);
  });

  test('a client that never reads while 300 MB of replies and 5,000 watch events are due: memory bounded', async (t) => {
    const { result, before, after } = await attack(() => slowReader(server, { gets: 300, nodeBytes: 1_000_000, events: 5000, maxMs: 60_000 }));
    assert.equal(result.eventsFired, 5000);
    // Requests are taken only while less than the high-water mark (4 MiB) of output is unread, and
    // a connection is dropped once 64 MiB are (replies of reads that waited behind writes come
    // together): the 286 MiB asked for never exist at once. Bound: the 64 MiB, the 4 MiB mark,
    // slack (82 MiB measured). Without these bounds the growth measured 350 MiB.
    t.diagnostic(`server RSS ${mib(before.rss)} MiB before, peak ${mib(after.peakRss)} MiB, ${mib(after.rss)} MiB after`);
    assert.ok(growth(before, after) < 128 * MiB, `RSS grew ${mib(growth(before, after))} MiB`);
    assert.ok(after.heapUsed < before.heapUsed + 16 * MiB, 'nothing of it stays on the heap');
  });

  test('4 clients pipelining 25 setData of 1,000,000 bytes each: all applied, memory bounded by what is in flight', async (t) => {
    const { result, before, after } = await attack(() => largeWriteFlood(server.port, { clients: 4, perClient: 25, bytes: 1_000_000, maxMs: 120_000 }));
    assert.equal(result.ok, 100);
    // at most the 95 MiB sent is in flight, plus the 4 nodes' data in the tree, plus slack
    t.diagnostic(`server RSS ${mib(before.rss)} MiB before, peak ${mib(after.peakRss)} MiB, ${mib(after.rss)} MiB after`);
    assert.ok(growth(before, after) < 256 * MiB, `RSS grew ${mib(growth(before, after))} MiB`);
    assert.ok(after.heapUsed < before.heapUsed + 16 * MiB, 'only the 4 nodes of 1 MB stay on the heap');
  });
});

test('ZooKeeper\'s default maxClientCnxns=60 refuses the excess of 1,000 connections from one address', { timeout: 120_000 }, async () => {
  const server = await HostileServer.start();
  try {
    const control = await ControlClient.connect(server.port);
    const storm = await connectionStorm(server.port, 1000, 500);
    assert.equal(storm.accepted, 59, 'the control client holds one of the 60');
    assert.equal(storm.refused, 941);
    assert.match(server.output(), /Too many connections from 127\.0\.0\.1 - max is 60/);
    control.start(100, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    const figures = await control.stop();
    assert.ok(figures.ops > 0 && figures.errors === 0, 'the control client still works');
    control.destroy();
  } finally {
    await server.stop();
  }
});
