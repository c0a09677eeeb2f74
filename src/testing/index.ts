// index.ts — zkts/testing: servers for the tests of applications that use ZooKeeper.
export { TestingServer } from './testing-server.js';
export type { TestingServerOptions } from './testing-server.js';
