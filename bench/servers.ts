// servers.ts — starts zkts or Apache ZooKeeper 3.8 on a free 127.0.0.1 port with a temporary
// dataDir and the same zoo.cfg, for benchmarks. Knows the pid of the process that does the work
// (for ZooKeeper the java process: zookeeper.sh execs it) so callers can read its RSS and CPU.
// A server is up when it serves: a new session connects and exists(readyPath) answers OK (a
// four-letter word would answer while ZooKeeper is still loading its database). A stopped
// server's directory can be kept and the server restarted on it, to time recovery.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { encodeConnectRequest, encodeRequest } from '../src/protocol/client-codec.js';
import { FrameParser } from '../src/protocol/frame.js';
import { OpCode } from '../src/protocol/opcodes.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ZOOKEEPER_SH = '/work/shared/conformance/zookeeper.sh';

export type ServerKind = 'zkts' | 'zookeeper';

export interface BenchServer {
  kind: ServerKind;
  port: number;
  pid: number;
  dataDir: string;
  /** The directory holding zoo.cfg and dataDir; pass it as StartOptions.dir to restart on it. */
  dir: string;
  /** From spawning the process to the first answered exists(readyPath), in ms. */
  startMs: number;
  /** CPU time the server process had used by then (all threads), in ms. */
  startCpuMs: number;
  output(): string;
  /** SIGTERM (SIGKILL after 10 s); removes the directory unless keepDir. */
  stop(opts?: { keepDir?: boolean }): Promise<void>;
}

export interface StartOptions {
  /** Extra zoo.cfg lines (e.g. forceSync=no). */
  cfg?: Record<string, string>;
  /** Extra arguments for node before the script (zkts only), e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Java flags (ZooKeeper only), e.g. -Xmx2g. */
  jvmFlags?: string;
  startTimeoutMs?: number;
  /** Restart on this directory (from BenchServer.dir), keeping its zoo.cfg and dataDir. */
  dir?: string;
  /** The server is up once exists(readyPath) answers OK on a new session; '/' by default. */
  readyPath?: string;
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  if (addr === null || typeof addr === 'string') throw new Error('no TCP address');
  return addr.port;
}

export async function startServer(kind: ServerKind, opts: StartOptions = {}): Promise<BenchServer> {
  const dir = opts.dir ?? mkdtempSync(path.join(tmpdir(), `zkts-bench-${kind}-`));
  const cfgFile = path.join(dir, 'zoo.cfg');
  let cfg: Record<string, string>;
  if (opts.dir !== undefined) {
    cfg = Object.fromEntries(readFileSync(cfgFile, 'utf8').trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
    cfg.clientPort = String(await freePort());
  } else {
    cfg = {
      tickTime: '2000',
      clientPort: String(await freePort()),
      clientPortAddress: '127.0.0.1',
      dataDir: path.join(dir, 'data'),
      maxClientCnxns: '0',
      '4lw.commands.whitelist': '*',
      // Neither runs its AdminServer: the same work on both, and no fixed port 8080 to collide on.
      'admin.enableServer': 'false',
      ...opts.cfg,
    };
  }
  const port = Number(cfg.clientPort);
  writeFileSync(cfgFile, Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const spawnedAt = performance.now();
  let child: ChildProcess;
  if (kind === 'zkts') {
    const main = path.join(REPO, 'dist/cli/main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run npx tsc -p . first`);
    child = spawn(process.execPath, [...(opts.nodeArgs ?? []), main, 'server', cfgFile], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } else {
    if (!existsSync(ZOOKEEPER_SH)) throw new Error(`${ZOOKEEPER_SH} is missing`);
    child = spawn('bash', [ZOOKEEPER_SH, cfgFile], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: dir, ZK_JVMFLAGS: opts.jvmFlags ?? '' },
    });
  }
  let out = '';
  const keep = (b: Buffer): void => {
    if (out.length < 200_000) out += b.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  const server: BenchServer = {
    kind,
    port,
    pid: child.pid!,
    dataDir: cfg.dataDir!,
    dir,
    startMs: NaN,
    startCpuMs: NaN,
    output: () => out,
    async stop(o = {}) {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(t);
      }
      if (o.keepDir !== true) rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (let attempt = 0; attempt < 100_000; attempt++) {
    if (exited) break;
    if (await serves(port, opts.readyPath ?? '/')) {
      server.startMs = performance.now() - spawnedAt;
      server.startCpuMs = cpuMs(child.pid!);
      return server;
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await server.stop({ keepDir: opts.dir !== undefined });
  throw new Error(`${kind} did not serve ${opts.readyPath ?? '/'} on port ${port} in time:\n${out.slice(-5000)}`);
}

const PROBE_XID = 1;
const PROBE_CLOSE_XID = 2;

/**
 * True when a new session connects and exists(path) answers OK; the session is then closed. A
 * server that is still loading refuses or drops the connection, or answers later than 2 s.
 */
export function serves(port: number, probePath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const parser = new FrameParser(1 << 20);
    let state: 'connect' | 'exists' | 'close' = 'connect';
    let ok = false;
    const done = (v: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(ok), 2_000);
    s.on('connect', () =>
      s.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: 10_000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false })),
    );
    s.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk, (f) => {
          if (state === 'connect') {
            // protocolVersion(4) timeOut(4) sessionId(8)
            if (f.length < 16 || f.readInt32BE(4) <= 0) return done(false);
            state = 'exists';
            s.write(encodeRequest(PROBE_XID, { type: OpCode.exists, path: probePath, watch: false }));
          } else if (state === 'exists' && f.readInt32BE(0) === PROBE_XID) {
            // xid(4) zxid(8) err(4)
            if (f.readInt32BE(12) !== 0) return done(false);
            ok = true;
            state = 'close';
            s.write(encodeRequest(PROBE_CLOSE_XID, { type: OpCode.closeSession }));
          } else if (state === 'close' && f.readInt32BE(0) === PROBE_CLOSE_XID) {
            done(true);
          }
        });
      } catch {
        done(false);
      }
    });
    s.on('close', () => done(ok));
    s.on('error', () => done(false));
  });
}

/** CPU time of a process in ms (utime + stime of all its threads, from /proc/PID/stat). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

/** Bytes of the files in a directory tree (the dataDir a server recovers from). */
export function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

/** VmRSS (and VmHWM) of a process in KiB, from /proc/PID/status. */
export function rssKiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(/^(\w+):\s+(\d+) kB$/m.exec(status.split('\n').find((l) => l.startsWith(`${name}:`)) ?? '')?.[2] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/** True when the server wrote a ZooKeeper txn log (version-2/log.*) in its dataDir. */
export function wroteTxnLog(dataDir: string): boolean {
  const dir = path.join(dataDir, 'version-2');
  return existsSync(dir) && readdirSync(dir).some((f) => f.startsWith('log.'));
}
