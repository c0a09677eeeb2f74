// outstanding-limits.test.ts — globalOutstandingLimit (requests) and zkts.globalOutstandingBytes
// (their bytes): past either, the server stops reading connections until replies go out, so a
// flood of pipelined writes waits in the clients' sockets, not in the server's memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpCode } from '../../src/protocol/opcodes.js';
import { ZkServer, type CommitStage } from '../../src/server/zk-server.js';
import { TestClient } from '../conformance/test-client.js';
import { testOptions } from './start-server.js';

/** A commit stage that holds every txn until released: the pipeline fills up behind it. */
class HeldCommit implements CommitStage {
  holding = false;
  held: Array<(err: Error | null) => void> = [];
  append(_hdr: unknown, _txn: unknown, done: (err: Error | null) => void): void {
    if (this.holding) this.held.push(done);
    else done(null);
  }
  release(): void {
    const held = this.held;
    this.held = [];
    for (const done of held) done(null);
  }
}

async function settle(commit: HeldCommit): Promise<number> {
  // reading stops within a socket chunk or two: wait until no more txns arrive for a while
  let last = -1;
  for (let i = 0; i < 100 && commit.held.length !== last; i++) {
    last = commit.held.length;
    await new Promise((r) => setTimeout(r, 50));
  }
  return commit.held.length;
}

async function flood(limits: { globalOutstandingLimit?: number; globalOutstandingBytes?: number }, dataBytes: number, count: number) {
  const commit = new HeldCommit();
  const server = new ZkServer(testOptions(limits), commit);
  const { port } = await server.start();
  const c = await TestClient.connect('127.0.0.1', port);
  try {
    const created = await c.request({ type: OpCode.create, path: '/n', data: Buffer.alloc(0), acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0, ttl: -1n });
    assert.equal(created.err, 0);
    commit.holding = true;
    const data = Buffer.alloc(dataBytes, 7);
    const replies = Array.from({ length: count }, () => c.request({ type: OpCode.setData, path: '/n', data, version: -1 }, 60_000));
    const heldAtFirst = await settle(commit);
    let rounds = 0;
    while (commit.held.length > 0 && rounds++ < count) {
      commit.release();
      await settle(commit);
    }
    const results = await Promise.all(replies);
    assert.ok(results.every((r) => r.err === 0), 'every write is answered OK once the pipeline drains');
    return { heldAtFirst, rounds };
  } finally {
    c.destroy();
    await server.stop();
  }
}

test('globalOutstandingLimit: past N requests in the pipeline the server stops reading; all are answered as it drains', async () => {
  // 150 writes of 2 KB; the byte budget is out of the way
  const { heldAtFirst, rounds } = await flood({ globalOutstandingLimit: 10, globalOutstandingBytes: 0 }, 2000, 150);
  // one socket chunk (up to 64 KB, ~32 of these) is handled whole before the check
  assert.ok(heldAtFirst >= 10 && heldAtFirst <= 60, `${heldAtFirst} requests taken in before reading stopped`);
  assert.ok(rounds >= 2, 'the rest were read only after replies went out');
});

test('zkts.globalOutstandingBytes: past B bytes of requests in the pipeline the server stops reading', async () => {
  // 200 writes of 20 KB = 4 MB against a 100 KB budget; the request count limit is out of the way
  const { heldAtFirst, rounds } = await flood({ globalOutstandingLimit: 0, globalOutstandingBytes: 100_000 }, 20_000, 200);
  // the budget plus at most one socket chunk (64 KB) = 8 requests of 20 KB; allow a margin
  assert.ok(heldAtFirst >= 5 && heldAtFirst <= 20, `${heldAtFirst} requests of 20 KB taken in before reading stopped`);
  assert.ok(rounds >= 5, `the rest were read as replies went out (${rounds} rounds)`);
});
