// websocket.ts — just enough of RFC 6455 for a server that pushes JSON events: the opening
// handshake, unmasked text frames out, and the client's control frames in (close is answered,
// ping gets a pong, anything else is read and ignored). Client frames are bounded; a peer that
// lets more than `maxBufferedBytes` of events pile up unread is disconnected rather than buffered
// without limit.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_CLIENT_FRAME_BYTES = 64 * 1024;

export interface WebSocketPeer {
  send(text: string): boolean;
  close(code?: number, reason?: string): void;
  onClose(fn: () => void): void;
  readonly closed: boolean;
}

/** Completes the handshake on an HTTP upgrade; null (and a 400 written) when it is not a WebSocket one. */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, maxBufferedBytes = 1024 * 1024): WebSocketPeer | null {
  const key = req.headers['sec-websocket-key'];
  if (String(req.headers.upgrade).toLowerCase() !== 'websocket' || typeof key !== 'string' || req.headers['sec-websocket-version'] !== '13') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return null;
  }
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  let closed = false;
  const closers: Array<() => void> = [];
  let pending: Buffer = head.length > 0 ? Buffer.from(head) : Buffer.alloc(0);

  const finish = (): void => {
    if (closed) return;
    closed = true;
    for (const fn of closers) fn();
  };
  const frame = (opcode: number, payload: Buffer): Buffer => {
    const n = payload.length;
    const header = n < 126 ? Buffer.from([0x80 | opcode, n]) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    if (n >= 126) {
      header[0] = 0x80 | opcode;
      if (n < 65536) {
        header[1] = 126;
        header.writeUInt16BE(n, 2);
      } else {
        header[1] = 127;
        header.writeBigUInt64BE(BigInt(n), 2);
      }
    }
    return Buffer.concat([header, payload]);
  };
  const peer: WebSocketPeer = {
    get closed() {
      return closed;
    },
    send(text) {
      if (closed) return false;
      if (socket.writableLength > maxBufferedBytes) {
        peer.close(1008, 'events not read fast enough');
        return false;
      }
      socket.write(frame(0x1, Buffer.from(text, 'utf8')));
      return true;
    },
    close(code = 1000, reason = '') {
      if (closed) return;
      const body = Buffer.alloc(2 + Buffer.byteLength(reason));
      body.writeUInt16BE(code, 0);
      body.write(reason, 2);
      socket.end(frame(0x8, body));
      finish();
    },
    onClose(fn) {
      if (closed) queueMicrotask(fn);
      else closers.push(fn);
    },
  };

  /** Reads whole client frames from `pending`; answers close and ping. */
  const readFrames = (): void => {
    for (;;) {
      if (pending.length < 2) return;
      const opcode = pending[0]! & 0x0f;
      const masked = (pending[1]! & 0x80) !== 0;
      let len = pending[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (pending.length < 4) return;
        len = pending.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (pending.length < 10) return;
        const big = pending.readBigUInt64BE(2);
        len = big > BigInt(MAX_CLIENT_FRAME_BYTES) ? MAX_CLIENT_FRAME_BYTES + 1 : Number(big);
        off = 10;
      }
      if (len > MAX_CLIENT_FRAME_BYTES || !masked) {
        peer.close(1002, masked ? 'frame too large' : 'client frames must be masked');
        return;
      }
      if (pending.length < off + 4 + len) return;
      const mask = pending.subarray(off, off + 4);
      const payload = Buffer.from(pending.subarray(off + 4, off + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
      pending = pending.subarray(off + 4 + len);
      if (opcode === 0x8) {
        peer.close(payload.length >= 2 ? payload.readUInt16BE(0) : 1000);
        return;
      }
      if (opcode === 0x9 && !closed) socket.write(frame(0xa, payload));
    }
  };
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    readFrames();
  });
  socket.on('close', finish);
  socket.on('error', finish);
  readFrames();
  return peer;
}
