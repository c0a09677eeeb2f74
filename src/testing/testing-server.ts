// testing-server.ts — an in-process zkts server for a user's tests, like Curator's TestingServer:
// `await using server = await TestingServer.start()` listens on a free 127.0.0.1 port; with a
// dataDir the tree, sessions and ephemerals are written to disk and survive restart(), which
// keeps the port so clients reconnect and resume their sessions.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataDir } from '../storage/data-dir.js';
import { loadSessionSecret } from '../storage/session-secret.js';
import { ZkServer, type ServerOptions } from '../server/zk-server.js';

export interface TestingServerOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one, which restart() keeps. */
  port?: number;
  /**
   * Where the snapshots and txn log go. A string: that folder (kept after stop). true: a fresh
   * temporary folder, removed by stop(). Omitted: in memory only (restart() starts empty).
   */
  dataDir?: string | boolean;
  /** Default 2,000 as in ZooKeeper; sessions may time out between 2 and 20 ticks. */
  tickTime?: number;
  /** Server options passed through (limits, plugins, superDigest…). */
  server?: Partial<ServerOptions>;
}

export class TestingServer implements AsyncDisposable {
  private server: ZkServer | null = null;
  private data: DataDir | null = null;
  private boundPort: number;

  private constructor(
    private readonly opts: TestingServerOptions,
    private readonly dir: string | null,
    private readonly ownsDir: boolean,
  ) {
    this.boundPort = opts.port ?? 0;
  }

  static async start(opts: TestingServerOptions = {}): Promise<TestingServer> {
    let dir: string | null = null;
    let owns = false;
    if (typeof opts.dataDir === 'string') dir = opts.dataDir;
    else if (opts.dataDir === true) {
      dir = await mkdtemp(path.join(tmpdir(), 'zkts-testing-'));
      owns = true;
    }
    const ts = new TestingServer(opts, dir, owns);
    await ts.open();
    return ts;
  }

  get port(): number {
    return this.boundPort;
  }
  get host(): string {
    return '127.0.0.1';
  }
  get connectString(): string {
    return `127.0.0.1:${this.boundPort}`;
  }
  get dataDir(): string | null {
    return this.dir;
  }
  get running(): boolean {
    return this.server !== null;
  }
  /** The running server (its tree and sessions, for assertions); throws when stopped. */
  get zkServer(): ZkServer {
    if (this.server === null) throw new Error('TestingServer is stopped');
    return this.server;
  }

  private options(): ServerOptions {
    const tickTime = this.opts.tickTime ?? 2000;
    return {
      host: '127.0.0.1',
      port: this.boundPort,
      tickTime,
      minSessionTimeout: 2 * tickTime,
      maxSessionTimeout: 20 * tickTime,
      maxClientCnxns: 0,
      maxFrameBytes: 0xfffff,
      extendedTypesEnabled: true,
      reconfigEnabled: false,
      containerCheckIntervalMs: 60_000,
      containerMaxNeverUsedIntervalMs: 0,
      serverId: 1,
      log: () => {},
      ...this.opts.server,
    };
  }

  private async open(): Promise<void> {
    const opts = this.options();
    let server: ZkServer;
    let data: DataDir | null = null;
    if (this.dir !== null) {
      data = await DataDir.open({ dataDir: this.dir, forceSync: false, preAllocBytes: 64 * 1024, extendedTypesEnabled: opts.extendedTypesEnabled });
      server = new ZkServer({ sessionSecret: loadSessionSecret(this.dir), ...opts }, data, data.initial);
      data.attach(server);
    } else {
      server = new ZkServer(opts);
    }
    try {
      const { port } = await server.start();
      this.boundPort = port;
    } catch (e) {
      await data?.close();
      throw e;
    }
    this.server = server;
    this.data = data;
  }

  /** Stops serving (clients see a connection loss); the data folder stays until close. */
  async stop(): Promise<void> {
    const server = this.server;
    const data = this.data;
    this.server = null;
    this.data = null;
    if (server !== null) await server.stop();
    if (data !== null) await data.close();
  }

  /** Stops and starts again on the same port (and dataDir: the tree and sessions come back). */
  async restart(): Promise<void> {
    await this.stop();
    await this.open();
  }

  /** stop(), then removes a temporary dataDir this server made. */
  async close(): Promise<void> {
    await this.stop();
    if (this.ownsDir && this.dir !== null) await rm(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
