// servers.ts — the two servers every client test runs against: zkts in process (startServer) and
// the real Apache ZooKeeper 3.8 (Debian's, as a child process on a free port). Both run with a
// 200 ms tick, sessions of 1 to 20 s, TTL nodes on and containers checked every 100 ms, so expiry
// and reaping tests finish quickly. ZooKeeper is skipped, with the reason, when java or its jar
// is missing. Both answer every four-letter word (isro included). Also: polling with a deadline, and small helpers shared by the test files.
import { javaZooKeeperMissing, startJavaZooKeeper } from '../conformance/server-process.js';
import { fourLetterWordHandler } from '../../src/server/four-letter-host.js';
import { startServer } from '../server/start-server.js';
import net from 'node:net';
import { ZooKeeper, type ConnectOptions } from '../../src/client/index.js';

export interface TestServer {
  readonly host: string;
  readonly port: number;
  readonly connectString: string;
  stop(): Promise<void>;
  /** zkts only: closes every client connection from the server side. */
  dropConnections?: () => number;
}

export interface ServerKind {
  name: 'zkts' | 'zookeeper';
  /** Why this server cannot run here, or false. */
  skip: string | false;
  start(): Promise<TestServer>;
}

const zkMissing = javaZooKeeperMissing();

export const SERVER_KINDS: ServerKind[] = [
  {
    name: 'zkts',
    skip: false,
    async start() {
      const { server, port } = await startServer({
        tickTime: 200,
        minSessionTimeout: 1000,
        maxSessionTimeout: 20_000,
        containerCheckIntervalMs: 100,
        fourLetterWord: fourLetterWordHandler({ whitelist: '*', dataDir: '', dataLogDir: '', zktsVersion: 'test' }),
      });
      return {
        host: '127.0.0.1',
        port,
        connectString: `127.0.0.1:${port}`,
        stop: () => server.stop(),
        dropConnections() {
          const conns = [...server.connections];
          for (const c of conns) c.socket.destroy();
          return conns.length;
        },
      };
    },
  },
  {
    name: 'zookeeper',
    skip: zkMissing === null ? false : `Apache ZooKeeper 3.8 cannot run here: ${zkMissing}`,
    async start() {
      const p = await startJavaZooKeeper({
        cfg: { tickTime: '200', minSessionTimeout: '1000', maxSessionTimeout: '20000' },
        systemProperties: { 'zookeeper.extendedTypesEnabled': 'true', 'znode.container.checkIntervalMs': '100' },
      });
      return { host: p.host, port: p.port, connectString: `${p.host}:${p.port}`, stop: () => p.stop() };
    },
  },
];

if (zkMissing !== null) console.log(`# client tests: the Apache ZooKeeper half is skipped: ${zkMissing}`);

/** Client options for tests: short reconnect pauses, errors logged only when ZKTS_CLIENT_LOG is set. */
export function clientOptions(extra: ConnectOptions = {}): ConnectOptions {
  const verbose = process.env.ZKTS_CLIENT_LOG !== undefined;
  return {
    sessionTimeoutMs: 6000,
    reconnectDelayMs: 50,
    log: verbose ? (level, msg) => console.log(`[client ${level}] ${msg}`) : undefined,
    ...extra,
  };
}

export function connect(connectString: string, extra: ConnectOptions = {}): Promise<ZooKeeper> {
  return ZooKeeper.connect(connectString, clientOptions(extra));
}

/** Polls `probe` until it returns a value other than undefined, failing after `timeoutMs`. */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delayMs = 5;
  for (let i = 0; i < 100_000; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(delayMs, Math.max(1, deadline - Date.now()))));
    delayMs = Math.min(delayMs * 2, 100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Resolves with the first `event` the client emits, failing after `timeoutMs`. */
export function nextEvent(zk: ZooKeeper, event: 'connected' | 'reconnected' | 'suspended' | 'expired' | 'closed' | 'authFailed' | 'readOnly',
  timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      zk.off(event, on);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}' (state ${zk.state})`));
    }, timeoutMs);
    const on = (): void => {
      clearTimeout(timer);
      resolve();
    };
    zk.once(event, on);
  });
}

/** A unique path prefix per test, so tests on one server do not see each other's nodes. */
let counter = 0;
export function uniquePath(name: string): string {
  return `/t-${process.pid}-${++counter}-${name}`;
}

/** Collects what a watcher receives. */
export function recorder<E>(): { events: E[]; fn: (e: E) => void } {
  const events: E[] = [];
  return { events, fn: (e: E) => void events.push(e) };
}

/** Sends a four-letter word and resolves with the whole answer (the server closes after it). */
export function fourLetterWord(server: { host: string; port: number }, word: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(server.port, server.host, () => sock.end(word));
    let out = '';
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`no answer to ${word} within ${timeoutMs} ms`)));
    sock.on('data', (b: Buffer) => (out += b.toString()));
    sock.on('error', reject);
    sock.on('close', () => resolve(out));
  });
}

/** The paths each session watches, from "wchc" (session id -> watched paths). */
export async function watchesBySession(server: { host: string; port: number }): Promise<Map<bigint, string[]>> {
  const out = new Map<bigint, string[]>();
  let current: string[] | undefined;
  for (const line of (await fourLetterWord(server, 'wchc')).split('\n')) {
    if (/^0x[0-9a-f]+$/i.test(line.trim())) out.set(BigInt(line.trim()), (current = []));
    else if (line.trim().startsWith('/') && current !== undefined) current.push(line.trim());
  }
  return out;
}
