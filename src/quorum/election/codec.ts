// codec.ts — the bytes of ZooKeeper's election port (QuorumCnxManager, FastLeaderElection), with
// no I/O: the connection header a dialling server sends first, the length framing of every later
// message in both directions, and the leader-election notification carried in a frame.
//
//   header:       long protocolVersion (-65536 V1, -65535 V2), long sid, int addrLen (1..2048),
//                 addr "host:port" (V2: "h1:p1|h2:p2"); a first long >= 0 is a bare sid (pre-3.5)
//   frame:        int length (1..524288) + payload
//   notification: int state, long leader, long zxid, long electionEpoch, long peerEpoch,
//                 int version (2), int configLen, config text (UTF-8); 28-byte (no peerEpoch) and
//                 40-byte (version 1, not read) forms are accepted as ZooKeeper accepts them
//
// A bad header or frame length is an ElectionDecodeError, after which the connection is closed;
// a malformed notification is also an ElectionDecodeError, but ZooKeeper only skips that message.

export const PROTOCOL_VERSION_V1 = -65536n;
export const PROTOCOL_VERSION_V2 = -65535n;
/** QuorumCnxManager.maxBuffer: the longest address list a header may carry. */
export const HEADER_ADDR_BYTES_MAX = 2048;
/** QuorumCnxManager.PACKETMAXSIZE: the longest frame payload. */
export const FRAME_BYTES_MAX = 512 * 1024;
/** Notification.CURRENTVERSION. */
export const NOTIFICATION_VERSION = 2;
export const LONG_MIN = -(1n << 63n);

export class ElectionDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElectionDecodeError';
  }
}

export interface HostPort {
  host: string;
  port: number;
}

export interface ConnectionHeader {
  /** PROTOCOL_VERSION_V1 or V2; null for a pre-3.5 peer that sent only its sid. */
  protocolVersion: bigint | null;
  sid: bigint;
  /** The dialler's election addresses (wildcard hosts left out, as ZooKeeper does); empty for a bare sid. */
  addresses: HostPort[];
}

/** The header a dialling server sends. V1 carries one address, V2 several. */
export function encodeConnectionHeader(sid: bigint | number, addresses: readonly HostPort[], protocolVersion = PROTOCOL_VERSION_V1): Buffer {
  if (protocolVersion !== PROTOCOL_VERSION_V1 && protocolVersion !== PROTOCOL_VERSION_V2) {
    throw new RangeError(`protocol version ${protocolVersion} is neither V1 (-65536) nor V2 (-65535)`);
  }
  if (addresses.length === 0) throw new RangeError('a connection header needs our election address');
  const list = protocolVersion === PROTOCOL_VERSION_V1 ? addresses.slice(0, 1) : addresses;
  const addr = Buffer.from(list.map(formatHostPort).join('|'), 'utf8');
  if (addr.length > HEADER_ADDR_BYTES_MAX) throw new RangeError(`election address list is ${addr.length} bytes, more than ${HEADER_ADDR_BYTES_MAX}`);
  const out = Buffer.alloc(20 + addr.length);
  out.writeBigInt64BE(protocolVersion, 0);
  out.writeBigInt64BE(BigInt(sid), 8);
  out.writeInt32BE(addr.length, 16);
  addr.copy(out, 20);
  return out;
}

/** "host:port", an IPv6 host in brackets (NetUtils.formatInetAddr). */
export function formatHostPort(a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * Decodes a connection header from the start of `buf`: the header and how many bytes it took, or
 * null while more bytes are needed. Throws ElectionDecodeError as ZooKeeper refuses the connection.
 */
export function decodeConnectionHeader(buf: Buffer): { header: ConnectionHeader; bytes: number } | null {
  if (buf.length < 8) return null;
  const first = buf.readBigInt64BE(0);
  if (first >= 0n) return { header: { protocolVersion: null, sid: first, addresses: [] }, bytes: 8 };
  if (first !== PROTOCOL_VERSION_V1 && first !== PROTOCOL_VERSION_V2) {
    throw new ElectionDecodeError(`connection header: unrecognized protocol version ${first}`);
  }
  if (buf.length < 20) return null;
  const sid = buf.readBigInt64BE(8);
  const addrLen = buf.readInt32BE(16);
  if (addrLen <= 0 || addrLen > HEADER_ADDR_BYTES_MAX) {
    throw new ElectionDecodeError(`connection header from sid ${sid}: address length ${addrLen} is not in 1..${HEADER_ADDR_BYTES_MAX}`);
  }
  if (buf.length < 20 + addrLen) return null;
  const text = buf.toString('utf8', 20, 20 + addrLen);
  const addresses: HostPort[] = [];
  for (const one of text.split('|')) {
    const a = parseHostPort(one);
    if (a === null) throw new ElectionDecodeError(`connection header from sid ${sid}: badly formed address "${one}"`);
    if (!isWildcard(a.host)) addresses.push(a);
  }
  return { header: { protocolVersion: first, sid, addresses }, bytes: 20 + addrLen };
}

/** "host:port" or "[v6]:port" (ConfigUtils.getHostAndPort); null when it is neither. */
export function parseHostPort(s: string): HostPort | null {
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0 || s[close + 1] !== ':') return null;
    host = s.slice(1, close);
    portText = s.slice(close + 2);
  } else {
    const parts = s.split(':');
    if (parts.length !== 2) return null;
    [host, portText] = parts;
  }
  if (!/^[+-]?\d{1,10}$/.test(portText)) return null;
  const port = Number(portText);
  if (port < 0 || port > 65535 || host === '') return null;
  return { host, port };
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0';
}

export function encodeFrame(payload: Buffer): Buffer {
  if (payload.length < 1 || payload.length > FRAME_BYTES_MAX) throw new RangeError(`frame payload of ${payload.length} bytes is not in 1..${FRAME_BYTES_MAX}`);
  const out = Buffer.alloc(4 + payload.length);
  out.writeInt32BE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

export type StreamItem = { kind: 'header'; header: ConnectionHeader } | { kind: 'frame'; payload: Buffer };

/**
 * A push parser for one direction of an election connection: on the accepting side the header
 * comes first (expectHeader), then frames. push() returns every whole item the new bytes complete;
 * after an ElectionDecodeError the stream is unusable and the connection must be closed.
 */
export class ElectionStreamDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private needHeader: boolean;
  private failed: ElectionDecodeError | null = null;

  constructor(opts: { expectHeader: boolean }) {
    this.needHeader = opts.expectHeader;
  }

  /** Bytes received but not yet part of a whole item. */
  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): StreamItem[] {
    if (this.failed) throw this.failed;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: StreamItem[] = [];
    try {
      for (;;) {
        if (this.needHeader) {
          const h = decodeConnectionHeader(this.pending);
          if (h === null) break;
          this.needHeader = false;
          this.pending = this.pending.subarray(h.bytes);
          out.push({ kind: 'header', header: h.header });
          continue;
        }
        if (this.pending.length < 4) break;
        const length = this.pending.readInt32BE(0);
        if (length <= 0 || length > FRAME_BYTES_MAX) throw new ElectionDecodeError(`frame length ${length} is not in 1..${FRAME_BYTES_MAX}`);
        if (this.pending.length < 4 + length) break;
        out.push({ kind: 'frame', payload: Buffer.from(this.pending.subarray(4, 4 + length)) });
        this.pending = this.pending.subarray(4 + length);
      }
    } catch (e) {
      this.failed = e as ElectionDecodeError;
      throw e;
    }
    return out;
  }
}

export type ServerState = 'LOOKING' | 'FOLLOWING' | 'LEADING' | 'OBSERVING';
export const SERVER_STATES: readonly ServerState[] = ['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING'];

export interface Notification {
  state: ServerState;
  leader: bigint;
  zxid: bigint;
  electionEpoch: bigint;
  peerEpoch: bigint;
  /** 0 for the 28- and 40-byte forms, else what the sender wrote (2 today). */
  version: number;
  /** The sender's config text (version > 1), null otherwise. */
  config: string | null;
}

/** FastLeaderElection.buildMsg: the 44-byte form plus the config text. */
export function encodeNotification(n: Omit<Notification, 'version'> & { version?: number }): Buffer {
  const config = Buffer.from(n.config ?? '', 'utf8');
  const out = Buffer.alloc(44 + config.length);
  out.writeInt32BE(SERVER_STATES.indexOf(n.state), 0);
  out.writeBigInt64BE(n.leader, 4);
  out.writeBigInt64BE(n.zxid, 12);
  out.writeBigInt64BE(n.electionEpoch, 20);
  out.writeBigInt64BE(n.peerEpoch, 28);
  out.writeInt32BE(n.version ?? NOTIFICATION_VERSION, 36);
  out.writeInt32BE(config.length, 40);
  config.copy(out, 44);
  return out;
}

/** WorkerReceiver's reading of a notification payload. */
export function decodeNotification(b: Buffer): Notification {
  if (b.length < 28) throw new ElectionDecodeError(`short notification: ${b.length} bytes, at least 28 needed`);
  const code = b.readInt32BE(0);
  const leader = b.readBigInt64BE(4);
  const zxid = b.readBigInt64BE(12);
  const electionEpoch = b.readBigInt64BE(20);
  let peerEpoch: bigint;
  let version = 0;
  let config: string | null = null;
  if (b.length === 28) {
    peerEpoch = zxid >> 32n; // ZxidUtils.getEpochFromZxid
  } else {
    if (b.length < 36) throw new ElectionDecodeError(`malformed notification: ${b.length} bytes`);
    peerEpoch = b.readBigInt64BE(28);
    if (b.length !== 40) {
      if (b.length < 40) throw new ElectionDecodeError(`malformed notification: ${b.length} bytes`);
      version = b.readInt32BE(36);
    }
    if (version > 1) {
      if (b.length < 44) throw new ElectionDecodeError(`malformed notification: version ${version} with no config length (${b.length} bytes)`);
      const configLen = b.readInt32BE(40);
      if (configLen < 0 || configLen > b.length - 44) {
        throw new ElectionDecodeError(`malformed notification: config length ${configLen} with ${b.length - 44} bytes left`);
      }
      config = b.toString('utf8', 44, 44 + configLen);
    }
  }
  const state = SERVER_STATES[code];
  if (state === undefined) throw new ElectionDecodeError(`notification with unknown state ${code}`);
  return { state, leader, zxid, electionEpoch, peerEpoch, version, config };
}
