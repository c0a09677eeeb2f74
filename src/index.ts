// zkts — a ZooKeeper-compatible coordination service. The main entry gives the server; the client,
// recipes, plugin API and test server are subpaths: zkts/client, zkts/recipes, zkts/plugin,
// zkts/testing (and zkts/protocol, zkts/tree for the building blocks).
export { createServer, ZkServer, loadConfig, parseConfig, type CreateServerOptions, type ServerOptions } from './server/index.js';
export { ZktsError, type ZktsErrorCode } from './errors.js';
