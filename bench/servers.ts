// servers.ts — starts zkts or Apache ZooKeeper 3.8 on a free 127.0.0.1 port with a temporary
// dataDir and the same zoo.cfg, for benchmarks. Knows the pid of the process that does the work
// (for ZooKeeper the java process: zookeeper.sh execs it) so callers can read its RSS and CPU.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ZOOKEEPER_SH = '/work/shared/conformance/zookeeper.sh';

export type ServerKind = 'zkts' | 'zookeeper';

export interface BenchServer {
  kind: ServerKind;
  port: number;
  pid: number;
  dataDir: string;
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra zoo.cfg lines (e.g. forceSync=no). */
  cfg?: Record<string, string>;
  /** Extra arguments for node before the script (zkts only), e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Java flags (ZooKeeper only), e.g. -Xmx2g. */
  jvmFlags?: string;
  startTimeoutMs?: number;
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
  const dir = mkdtempSync(path.join(tmpdir(), `zkts-bench-${kind}-`));
  const port = await freePort();
  const cfg: Record<string, string> = {
    tickTime: '2000',
    clientPort: String(port),
    clientPortAddress: '127.0.0.1',
    dataDir: path.join(dir, 'data'),
    maxClientCnxns: '0',
    '4lw.commands.whitelist': '*',
    ...(kind === 'zookeeper' ? { 'admin.enableServer': 'false' } : {}),
    ...opts.cfg,
  };
  const cfgFile = path.join(dir, 'zoo.cfg');
  writeFileSync(cfgFile, Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
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
    output: () => out,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (let attempt = 0; attempt < 1000; attempt++) {
    if (exited) break;
    if (await answersRuok(port)) return server;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await server.stop();
  throw new Error(`${kind} did not start on port ${port}:\n${out}`);
}

/** True when the server answers the ruok four-letter word with imok. */
function answersRuok(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const done = (v: boolean): void => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(1_000, () => done(false));
    s.on('connect', () => s.write('ruok'));
    s.on('data', (b) => (got += b.toString()));
    s.on('end', () => done(got === 'imok'));
    s.on('error', () => done(false));
  });
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
