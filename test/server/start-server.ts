// start-server.ts — an in-process zkts server on a free 127.0.0.1 port, for tests.
import { ZkServer, type ServerOptions } from '../../src/server/zk-server.js';

export function testOptions(overrides: Partial<ServerOptions> = {}): ServerOptions {
  return {
    host: '127.0.0.1',
    port: 0,
    tickTime: 2000,
    minSessionTimeout: 4000,
    maxSessionTimeout: 40000,
    maxClientCnxns: 0,
    maxFrameBytes: 0xfffff,
    extendedTypesEnabled: true,
    reconfigEnabled: false,
    containerCheckIntervalMs: 60000,
    containerMaxNeverUsedIntervalMs: 0,
    serverId: 1,
    log: () => {},
    ...overrides,
  };
}

export async function startServer(overrides: Partial<ServerOptions> = {}): Promise<{ server: ZkServer; port: number }> {
  const server = new ZkServer(testOptions(overrides));
  const { port } = await server.start();
  return { server, port };
}
