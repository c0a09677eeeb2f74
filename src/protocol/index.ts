// zkts/protocol — ZooKeeper's wire protocol: jute, records, opcodes, error codes, paths, framing,
// server-side request decoders and response encoders, client-side encoders and decoders.
export * from './jute.js';
export * from './opcodes.js';
export * from './codes.js';
export * from './records.js';
export * from './paths.js';
export * from './frame.js';
export * from './requests.js';
export * from './responses.js';
export * as client from './client-codec.js';
