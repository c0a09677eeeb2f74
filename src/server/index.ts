// zkts/server — the server, its options and its configuration.
export { createServer, type CreateServerOptions } from './create-server.js';
export { ZkServer, inMemoryCommit, type CommitStage, type InitialState, type ServerOptions } from './zk-server.js';
export { loadConfig, parseConfig, defaultConfig, type ServerConfig } from './config.js';
