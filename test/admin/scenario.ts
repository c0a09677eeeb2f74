// scenario.ts — the state the AdminServer fixtures were captured in (fixtures/capture.sh runs
// test/server/fixtures/4lw/scenario.py against ZooKeeper), built on a zkts server with the same
// requests: two sessions, ephemerals, data and child watches, a count quota on /other.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpCode } from '../../src/protocol/opcodes.js';
import { loadConfig, type ServerConfig } from '../../src/server/config.js';
import type { ZkServer } from '../../src/server/zk-server.js';
import { TestClient } from '../conformance/test-client.js';
import { startServer } from '../server/start-server.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const EPHEMERAL = 1;

export interface Scenario {
  server: ZkServer;
  cfg: ServerConfig;
  a: TestClient;
  b: TestClient;
  dir: string;
  stop(): Promise<void>;
}

/** zoo.cfg for zkts: fixtures/capture.sh's lines, with ports chosen by the OS. */
export function writeZooCfg(dir: string, clientPort: number, extra: readonly string[] = []): string {
  const file = join(dir, 'zoo.cfg');
  writeFileSync(file, [
    'tickTime=2000', `dataDir=${join(dir, 'data')}`, `clientPort=${clientPort}`, 'clientPortAddress=127.0.0.1',
    'admin.serverAddress=127.0.0.1', 'admin.serverPort=0', ...extra, '',
  ].join('\n'));
  return file;
}

async function ok(c: TestClient, req: Parameters<TestClient['request']>[0]): Promise<void> {
  const r = await c.request(req);
  if (r.err !== 0) throw new Error(`${JSON.stringify(req, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}: error ${r.err}`);
}

export async function startScenario(extraCfg: readonly string[] = []): Promise<Scenario> {
  const { server, port } = await startServer();
  const dir = mkdtempSync(join(tmpdir(), 'zkts-admin-'));
  const cfg = loadConfig(writeZooCfg(dir, port, extraCfg));
  const a = await TestClient.connect('127.0.0.1', port, { timeOutMs: 10_000 });
  const b = await TestClient.connect('127.0.0.1', port, { timeOutMs: 20_000 });
  const create = (c: TestClient, path: string, data: string, flags = 0) =>
    ok(c, { type: OpCode.create, path, data: Buffer.from(data), acl: OPEN, flags, ttl: -1n });
  await create(a, '/app', 'hello');
  await create(a, '/app/x', '12345');
  await create(a, '/app/y', '');
  await create(a, '/other', 'o');
  await create(b, '/app/e1', '', EPHEMERAL);
  await create(b, '/app/e2', '', EPHEMERAL);
  await create(a, '/other/e3', '', EPHEMERAL);
  await ok(a, { type: OpCode.getData, path: '/app', watch: true });
  await ok(a, { type: OpCode.getData, path: '/app/x', watch: true });
  await a.request({ type: OpCode.exists, path: '/nope', watch: true }); // NoNode, watch set
  await ok(b, { type: OpCode.getData, path: '/app', watch: true });
  await ok(b, { type: OpCode.exists, path: '/other', watch: true });
  await ok(a, { type: OpCode.getChildren, path: '/app', watch: true });
  await ok(b, { type: OpCode.getChildren, path: '/', watch: true });
  await ok(a, { type: OpCode.getData, path: '/other', watch: false });
  await create(a, '/zookeeper/quota/other', '');
  await create(a, '/zookeeper/quota/other/zookeeper_stats', 'count=0,bytes=0');
  await create(a, '/zookeeper/quota/other/zookeeper_limits', 'count=5,bytes=-1');
  return {
    server, cfg, a, b, dir,
    async stop() {
      await a.close();
      await b.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
