// helpers.ts — an in-process server with plugins, its log lines kept for assertions, and raw
// ZooKeeper clients (test/conformance's TestClient) to drive it.
import { OpCode } from '../../src/protocol/opcodes.js';
import type { ServerOptions } from '../../src/server/zk-server.js';
import { ZkServer } from '../../src/server/zk-server.js';
import type { PluginSpec } from '../../src/plugin/index.js';
import { pollUntil, TestClient } from '../conformance/test-client.js';
import { testOptions } from '../server/start-server.js';

export { pollUntil, TestClient };

export const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

export interface PluginServerFixture {
  server: ZkServer;
  port: number;
  logs: string[];
  connect(): Promise<TestClient>;
  stop(): Promise<void>;
}

export async function startWithPlugins(plugins: PluginSpec[], overrides: Partial<ServerOptions> = {}): Promise<PluginServerFixture> {
  const logs: string[] = [];
  const server = new ZkServer(testOptions({ plugins, log: (level, msg) => logs.push(`${level} ${msg}`), ...overrides }));
  const { port } = await server.start();
  const clients: TestClient[] = [];
  return {
    server,
    port,
    logs,
    async connect() {
      const c = await TestClient.connect('127.0.0.1', port);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.destroy();
      await server.stop();
    },
  };
}

export function create(c: TestClient, path: string, data: string | Buffer | null = null, flags = 0, acl = OPEN_ACL) {
  return c.request({
    type: OpCode.create,
    path,
    data: typeof data === 'string' ? Buffer.from(data) : data,
    acl,
    flags,
    ttl: -1n,
  });
}

export function setData(c: TestClient, path: string, data: string | Buffer | null, version = -1) {
  return c.request({ type: OpCode.setData, path, data: typeof data === 'string' ? Buffer.from(data) : data, version });
}

export function getData(c: TestClient, path: string, watch = false) {
  return c.request({ type: OpCode.getData, path, watch });
}

export function del(c: TestClient, path: string, version = -1) {
  return c.request({ type: OpCode.delete, path, version });
}

export function dataOf(r: { body: unknown }): string | null {
  const body = r.body as { data?: Buffer | null } | null;
  return body?.data ? body.data.toString('utf8') : null;
}

/** Busy-waits: a synchronous hook that overruns its deadline. */
export function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}
