// record-proxy.ts — a TCP proxy that sits between a real ZooKeeper client and a real server and
// records every frame in both directions, in the order the proxy saw them, as hex. It is how the
// golden fixtures in test/protocol/golden were captured. The frame splitter here is deliberately
// independent of src/protocol/frame.ts (the code under test): it only reads the 4-byte length.
//
// As a library: startRecordProxy({ targetHost, targetPort }) → { port, frames, cut(), close() }.
// As a command:
//   node --import tsx test/tools/record-proxy.ts --target 127.0.0.1:2181 [--listen 0] [--out f.json]
// prints one line per frame and writes the JSON list on SIGINT/SIGTERM.
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { pathToFileURL } from 'node:url';

export type Direction = 'c2s' | 's2c';

export interface RecordedFrame {
  /** Connection number, 0 for the first client connection through the proxy. */
  conn: number;
  direction: Direction;
  /** The whole frame, 4-byte length prefix included. */
  hex: string;
  /** Set when the bytes were not a well-formed frame (e.g. a four-letter word); hex is raw. */
  raw?: true;
}

export interface RecordProxyOptions {
  targetHost: string;
  targetPort: number;
  listenPort?: number;
  /** Called for each frame as it is recorded. */
  onFrame?: (frame: RecordedFrame) => void;
}

export interface RecordProxy {
  readonly port: number;
  readonly frames: RecordedFrame[];
  /** Number of client connections accepted so far. */
  readonly connections: number;
  /** Number of client connections still open. */
  readonly openConnections: number;
  /** Drops every open connection (both sides), as a network failure would. */
  cut(): void;
  close(): Promise<void>;
}

/** A frame longer than this is taken for garbage and logged raw. */
const FRAME_BYTES_MAX = 16 * 1024 * 1024;

class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private broken = false;

  constructor(private readonly emit: (bytes: Buffer, raw: boolean) => void) {}

  push(chunk: Buffer): void {
    if (this.broken) {
      this.emit(chunk, true);
      return;
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 4) {
      const len = this.pending.readInt32BE(0);
      if (len < 0 || len > FRAME_BYTES_MAX) {
        this.broken = true;
        this.emit(this.pending, true);
        this.pending = Buffer.alloc(0);
        return;
      }
      if (this.pending.length < 4 + len) return;
      this.emit(this.pending.subarray(0, 4 + len), false);
      this.pending = this.pending.subarray(4 + len);
    }
  }

  /** Bytes of an unfinished frame when the connection closed. */
  flush(): void {
    if (this.pending.length > 0) this.emit(this.pending, true);
    this.pending = Buffer.alloc(0);
  }
}

export async function startRecordProxy(opts: RecordProxyOptions): Promise<RecordProxy> {
  const frames: RecordedFrame[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let open = 0;

  const record = (conn: number, direction: Direction, bytes: Buffer, raw: boolean): void => {
    const frame: RecordedFrame = { conn, direction, hex: bytes.toString('hex') };
    if (raw) frame.raw = true;
    frames.push(frame);
    opts.onFrame?.(frame);
  };

  const server = net.createServer((client) => {
    const conn = connections++;
    open++;
    let ended = false;
    const upstream = net.connect(opts.targetPort, opts.targetHost);
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const fromClient = new FrameSplitter((b, raw) => record(conn, 'c2s', b, raw));
    const fromServer = new FrameSplitter((b, raw) => record(conn, 's2c', b, raw));
    client.on('data', (chunk) => {
      fromClient.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      fromServer.push(chunk);
      client.write(chunk);
    });
    const end = (): void => {
      if (ended) return;
      ended = true;
      open--;
      fromClient.flush();
      fromServer.flush();
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listenPort ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');

  return {
    port: address.port,
    frames,
    get connections() {
      return connections;
    },
    get openConnections() {
      return open;
    },
    cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    close() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parseHostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  const port = Number(s.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) throw new Error(`expected host:port, got ${s}`);
  return { host: s.slice(0, i), port };
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const target = arg('--target');
  if (target === undefined) {
    process.stderr.write('usage: record-proxy.ts --target host:port [--listen port] [--out file.json]\n');
    process.exit(2);
  }
  const { host, port } = parseHostPort(target);
  const out = arg('--out');
  const proxy = await startRecordProxy({
    targetHost: host,
    targetPort: port,
    listenPort: Number(arg('--listen') ?? 0),
    onFrame: (f) => process.stdout.write(`${f.conn} ${f.direction}${f.raw ? ' raw' : ''} ${f.hex}\n`),
  });
  process.stdout.write(`listening on 127.0.0.1:${proxy.port} → ${host}:${port}\n`);
  const stop = (): void => {
    if (out !== undefined) writeFileSync(out, JSON.stringify(proxy.frames, null, 1) + '\n');
    void proxy.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(process.argv.slice(2));
