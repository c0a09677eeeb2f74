// The learner protocol of ZooKeeper's quorum port (ZAB.md §2–§5), as pure code: the packet codec,
// the leader → learner stream decoder (packets and the SNAP snapshot stream) and the observer's
// state machine. No sockets, disk or clock here: the transport feeds bytes and ticks in and
// carries out the actions that come back.
//
// Host loop, in short (src/quorum/learner/observer-core.ts has the details of every action):
//   const core = new ObserverCore({ sid, tickTimeMs, initLimit, syncLimit, acceptedEpoch, currentEpoch, configVersion });
//   run(core.connected(now, tree.lastProcessedZxid));      // socket to the leader is up
//   socket.on('data', (b) => run(core.receive(b, now)));   // every chunk, as it comes
//   every tickTime/2 or so: run(core.tick(now));           // read timeouts
//   run(action): send → write encodePacket(packet); persist*/takeSnapshot/truncateLog → do it,
//     then run(core.persisted(action, now)) (or persistFailed); replaceTree → install tree and
//     sessions; apply → apply (log it when action.log), then run(core.applied(zxid, tree digest));
//     serving → open/close client service; disconnect → close the socket, elect, connect again.
export {
  PacketType,
  LEARNER_PROTOCOL_VERSION,
  packetTypeName,
  epochOf,
  makeZxid,
  hexZxid,
  packet,
  writePacket,
  encodePacket,
  decodePacket,
  encodeLearnerInfo,
  decodeLearnerInfo,
  encodeInt,
  decodeInt,
  decodeLong,
  encodeRequest,
  decodeRequest,
  encodeTouches,
  decodeTouches,
  encodeRevalidateRequest,
  decodeRevalidateRequest,
  encodeRevalidateAnswer,
  decodeRevalidateAnswer,
  decodeTxnPayload,
  decodeInformAndActivate,
  decodeConfigText,
  type QuorumPacket,
  type LearnerInfo,
  type ForwardedRequest,
  type SessionTouch,
  type RevalidateAnswer,
} from './packet.js';
export {
  LearnerStreamDecoder,
  QuorumStreamError,
  DEFAULT_JUTE_MAXBUFFER,
  SNAPSHOT_SIGNATURE,
  type StreamDecoderOptions,
  type LearnerSnapshot,
  type StreamEvent,
} from './stream-decoder.js';
export { ObserverCore, type ObserverCoreOptions, type ObserverAction, type DiskAction, type PendingSync } from './observer-core.js';
