// cut-proxy.ts — a TCP proxy on 127.0.0.1 in front of a server, for connection-loss tests that
// work the same against zkts and Apache ZooKeeper: cut() closes every open connection on both
// sides (destroy, not resetAndDestroy, which can leave Node 20's event loop spinning),
// blackhole() keeps new and open connections but forwards nothing (a silent partition: the client
// must time out on its own), hold() keeps the bytes and delivers them on heal() (a stall, nothing
// lost), refuse() closes new connections at once, heal() goes back to forwarding.
import net from 'node:net';

type Mode = 'forward' | 'blackhole' | 'hold' | 'refuse';

export class CutProxy {
  readonly host = '127.0.0.1';
  port = 0;
  /** Connections accepted so far. */
  accepted = 0;
  private readonly server: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private held: [net.Socket, Buffer][] = [];
  private mode: Mode = 'forward';

  private constructor(private readonly targetHost: string, private readonly targetPort: number) {
    this.server = net.createServer((client) => this.onClient(client));
  }

  static async start(targetHost: string, targetPort: number): Promise<CutProxy> {
    const p = new CutProxy(targetHost, targetPort);
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = p.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('proxy has no TCP address');
    p.port = addr.port;
    return p;
  }

  get connectString(): string {
    return `${this.host}:${this.port}`;
  }

  /** Bytes held by hold(), not yet delivered. */
  get heldBytes(): number {
    return this.held.reduce((n, [, b]) => n + b.length, 0);
  }

  /** Open client connections. */
  get open(): number {
    return this.pairs.size;
  }

  /** Closes every open connection, on both sides. */
  cut(): void {
    this.held = [];
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** Forwards nothing, in either direction, on open and new connections. */
  blackhole(): void {
    this.mode = 'blackhole';
  }

  /** Closes new connections as soon as they are accepted. */
  refuse(): void {
    this.mode = 'refuse';
  }

  /** Keeps every byte from now on, in order, until heal(). */
  hold(): void {
    this.mode = 'hold';
  }

  heal(): void {
    this.mode = 'forward';
    const held = this.held;
    this.held = [];
    for (const [to, b] of held) if (!to.destroyed) to.write(b);
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private onClient(client: net.Socket): void {
    this.accepted++;
    if (this.mode === 'refuse') {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: this.targetHost, port: this.targetPort });
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = (): void => {
      if (!this.pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    const relay = (to: net.Socket) => (b: Buffer): void => {
      if (this.mode === 'forward') to.write(b);
      else if (this.mode === 'hold') this.held.push([to, b]);
    };
    client.on('data', relay(upstream));
    upstream.on('data', relay(client));
    for (const s of pair) {
      s.on('error', close);
      s.on('close', close);
    }
  }
}
