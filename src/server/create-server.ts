// create-server.ts — `createServer(options)`: a ZkServer with ZooKeeper's defaults for whatever
// the caller leaves out (tickTime 3000, timeouts 2..20 ticks, 60 connections per address, jute's
// 1 MiB frames). Data stays in memory unless a commit stage (src/storage DataDir) is given.
import { ZkServer, type CommitStage, type InitialState, type ServerOptions } from './zk-server.js';

export type CreateServerOptions = Partial<ServerOptions> & {
  /** Where txns go before they are acknowledged; in memory by default. */
  commit?: CommitStage;
  /** State recovered from a data directory. */
  initial?: InitialState;
};

export function createServer(options: CreateServerOptions = {}): ZkServer {
  const { commit, initial, ...rest } = options;
  const tickTime = rest.tickTime ?? 3000;
  const opts: ServerOptions = {
    host: '127.0.0.1',
    port: 2181,
    tickTime,
    minSessionTimeout: 2 * tickTime,
    maxSessionTimeout: 20 * tickTime,
    maxClientCnxns: 60,
    maxFrameBytes: 0xfffff,
    extendedTypesEnabled: false,
    reconfigEnabled: false,
    containerCheckIntervalMs: 60000,
    containerMaxNeverUsedIntervalMs: 0,
    serverId: 1,
    ...rest,
  };
  return new ZkServer(opts, commit, initial);
}
