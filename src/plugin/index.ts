// index.ts — zkts/plugin, the public plugin API: definePlugin and option specs for authors, the
// hook and context types, and the ZooKeeper codes and opcodes hooks speak in. docs/plugins.md is
// the guide.
export { definePlugin } from './define.js';
export { option, type OptionSpec, type OptionsOf, type OptionsSchema, type OptionsValidator } from './options.js';
export type * from './types.js';
export { Code, codeName } from '../protocol/codes.js';
export { OpCode, opName, Perm, CreateFlag, EventType, KeeperState, AddWatchMode, WatcherType } from '../protocol/opcodes.js';
export { SessionError } from './protocol-session.js';
export { VIRTUAL_NODE_ACL } from './node-behaviours.js';
export { PluginHost, type PluginServer, type PluginHostOptions } from './host.js';
export { txnLogSource } from './txn-log-source.js';
export type { TxnSource } from './change-listeners.js';
export { pluginMetricFamilies } from './metrics.js';
