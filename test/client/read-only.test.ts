// read-only.test.ts — the client's read-only mode. A standalone server is never read-only, so a
// small fake server plays one: it answers the handshake with readOnly set, reads with NoNode and
// writes with NotReadOnly, as a ZooKeeper server cut off from its quorum does. With a real server
// (zkts, then Apache ZooKeeper) beside it, the client must find the read-write one with "isro" and
// move there, with a new session (a read-only session is local to its server).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Code } from '../../src/protocol/codes.js';
import { FrameParser } from '../../src/protocol/frame.js';
import { JuteReader, JuteWriter } from '../../src/protocol/jute.js';
import { OpCode, Xid } from '../../src/protocol/opcodes.js';
import { type ConnectRequest, decodeConnectRequest } from '../../src/protocol/requests.js';
import { writeConnectResponse, writeReplyHeaderOnly } from '../../src/protocol/responses.js';
import { type SessionState, isZkError } from '../../src/client/index.js';
import { SERVER_KINDS, type TestServer, connect, nextEvent } from './servers.js';

const FAKE_SESSION_ID = 0x5eed000000000001n;
const READS = new Set<number>([OpCode.exists, OpCode.getData, OpCode.getChildren, OpCode.getChildren2]);

class FakeReadOnlyServer {
  readonly handshakes: ConnectRequest[] = [];
  port = 0;
  private readonly server = net.createServer((s) => this.onSocket(s));
  private readonly sockets = new Set<net.Socket>();

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private onSocket(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const parser = new FrameParser();
    let handshaken = false;
    socket.on('data', (chunk: Buffer) => {
      const w = new JuteWriter();
      parser.push(chunk, (frame) => {
        const r = new JuteReader(frame);
        if (!handshaken) {
          handshaken = true;
          const req = decodeConnectRequest(r);
          this.handshakes.push(req);
          writeConnectResponse(w, { protocolVersion: 0, timeOut: req.timeOut, sessionId: FAKE_SESSION_ID, passwd: Buffer.alloc(16, 7), readOnly: true });
          return;
        }
        const xid = r.int();
        const type = r.int();
        const err = type === OpCode.ping || type === OpCode.closeSession ? Code.OK : READS.has(type) ? Code.NoNode : Code.NotReadOnly;
        writeReplyHeaderOnly(w, xid === Xid.ping ? Xid.ping : xid, 0n, err);
      });
      if (w.offset > 0) socket.write(w.toBuffer());
    });
  }
}

describe('read-only mode', { timeout: 60_000 }, () => {
  let fake: FakeReadOnlyServer;
  before(async () => {
    fake = new FakeReadOnlyServer();
    await fake.start();
  });
  after(async () => {
    await fake?.stop();
  });

  test('a read-only server: state readOnly, reads answer, writes fail with ZNOTREADONLY', async () => {
    const zk = await connect(`127.0.0.1:${fake.port}`, { canBeReadOnly: true });
    try {
      assert.equal(zk.state, 'readOnly');
      assert.equal(fake.handshakes.at(-1)!.readOnly, true);
      assert.equal(zk.sessionId, FAKE_SESSION_ID);
      assert.equal(await zk.exists('/x'), null);
      await assert.rejects(zk.create('/x'), (e) => isZkError(e, 'ZNOTREADONLY'));
    } finally {
      await zk.close();
    }
  });

  for (const kind of SERVER_KINDS) {
    describe(`moving to a read-write ${kind.name} server`, { skip: kind.skip }, () => {
      let server: TestServer;
      before(async () => {
        server = await kind.start();
      });
      after(async () => {
        await server?.stop();
      });

      test('the client finds the read-write server with isro and gets a session there', async () => {
        const before = fake.handshakes.length;
        // random() = 0.99 keeps the hosts in the order given: the fake one is tried first.
        const zk = await connect(`127.0.0.1:${fake.port},${server.connectString}`, { canBeReadOnly: true, random: () => 0.99 });
        try {
          const states: SessionState[] = [zk.state];
          zk.on('state', (s) => states.push(s));
          if (zk.state === 'readOnly') await nextEvent(zk, 'connected', 10_000);
          assert.deepEqual(states, ['readOnly', 'suspended', 'connected']);
          assert.equal(fake.handshakes.length, before + 1);
          assert.equal(zk.connectedServer, server.connectString);
          assert.notEqual(zk.sessionId, FAKE_SESSION_ID, 'a read-only session is not resumed on a read-write server');
          const p = `/ro-moved-${process.pid}`;
          await zk.create(p, null, { mode: 'ephemeral' });
          assert.equal((await zk.exists(p))!.ephemeralOwner, zk.sessionId);
        } finally {
          await zk.close();
        }
      });
    });
  }
});
