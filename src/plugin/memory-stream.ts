// memory-stream.ts — a pair of connected in-memory duplex streams. The server end stands in for
// the TCP socket a Connection normally owns (it carries the peer's address for the ip auth
// scheme, maxClientCnxns and `cons`); the plugin end is written and read by a PluginSession. A
// write waits while the other end's read buffer is full, so the server's slow-reader bounds and
// the global outstanding limit hold for plugin sessions too.
import { Duplex } from 'node:stream';

export class MemoryEnd extends Duplex {
  peer!: MemoryEnd;
  remoteAddress: string;
  remotePort: number;
  private pendingWrite: (() => void) | null = null;

  constructor(remoteAddress: string, remotePort: number) {
    super({ allowHalfOpen: false });
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
  }

  /** As net.Socket's; there is no Nagle here. */
  setNoDelay(): this {
    return this;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.peer.destroyed) {
      cb();
      return;
    }
    if (this.peer.push(chunk)) cb();
    else this.peer.pendingWrite = cb;
  }

  override _read(): void {
    const cb = this.pendingWrite;
    if (cb === null) return;
    this.pendingWrite = null;
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.push(null);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const pending = this.pendingWrite;
    this.pendingWrite = null;
    pending?.();
    if (!this.peer.destroyed) {
      this.peer.push(null);
      this.peer.destroy();
    }
    cb(err);
  }
}

/** Two connected ends: `server` goes to the ZooKeeper server, `client` to the plugin. */
export function memoryStreamPair(peer: { remoteAddress: string; remotePort: number }): { server: MemoryEnd; client: MemoryEnd } {
  const server = new MemoryEnd(peer.remoteAddress, peer.remotePort);
  const client = new MemoryEnd('127.0.0.1', 0);
  server.peer = client;
  client.peer = server;
  return { server, client };
}
