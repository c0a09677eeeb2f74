// server-process.ts — starts servers for tests on a free 127.0.0.1 port with a temp dataDir: the
// real Apache ZooKeeper (Debian's 3.8) or any command given a zoo.cfg path (zkts). A server is
// ready when it completes a session handshake; stop() ends it (SIGTERM, then SIGKILL after a
// deadline) and removes its directory.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestClient, pollUntil, withTimeout } from './test-client.js';

export interface ServerProcess {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  if (addr === null || typeof addr === 'string') throw new Error('no TCP address');
  return addr.port;
}

/** The shared launcher (Jetty and Jackson on the classpath), beside the repository. */
export const ZOOKEEPER_SH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/conformance/zookeeper.sh');
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';

/** Why a real ZooKeeper cannot be started here, or null when it can. */
export function javaZooKeeperMissing(): string | null {
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) return 'java is not installed';
  if (!existsSync(ZOOKEEPER_JAR)) return `${ZOOKEEPER_JAR} is missing (apt-get install zookeeper)`;
  return null;
}

export interface ServerOptions {
  /** Extra zoo.cfg lines. */
  cfg?: Record<string, string>;
  /** Java system properties (real ZooKeeper only). */
  systemProperties?: Record<string, string>;
  startTimeoutMs?: number;
}

function writeConfig(dir: string, port: number, extra: Record<string, string>): string {
  const cfg: Record<string, string> = {
    tickTime: '2000',
    dataDir: path.join(dir, 'data'),
    clientPort: String(port),
    clientPortAddress: '127.0.0.1',
    '4lw.commands.whitelist': '*',
    'admin.enableServer': 'false',
    ...extra,
  };
  const file = path.join(dir, 'zoo.cfg');
  writeFileSync(file, Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return file;
}

/** Starts the real Apache ZooKeeper (Debian's 3.8) standalone on a free port with a temp dataDir. */
export function startJavaZooKeeper(opts: ServerOptions = {}): Promise<ServerProcess> {
  const props = Object.entries(opts.systemProperties ?? {}).map(([k, v]) => `-D${k}=${v}`);
  const launch = (cfgFile: string): ChildProcess =>
    existsSync(ZOOKEEPER_SH)
      ? spawn('bash', [ZOOKEEPER_SH, cfgFile], { env: { ...process.env, ZK_JVMFLAGS: props.join(' ') } })
      : spawn('java', ['-cp', `/etc/zookeeper/conf:${ZOOKEEPER_JAR}`, ...props,
          'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgFile]);
  return startServer('zookeeper', opts, launch);
}

/** Starts a server by command line (e.g. "node dist/cli/main.js server"), the cfg path appended. */
export function startCommandServer(command: string, opts: ServerOptions = {}): Promise<ServerProcess> {
  const [exe, ...args] = command.trim().split(/\s+/) as [string, ...string[]];
  return startServer(command, opts, (cfgFile) => spawn(exe, [...args, cfgFile], { env: process.env }));
}

async function startServer(name: string, opts: ServerOptions, launch: (cfg: string) => ChildProcess): Promise<ServerProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'zkts-diff-'));
  const port = await freePort();
  const cfgFile = writeConfig(dir, port, opts.cfg ?? {});
  const child = launch(cfgFile);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  const proc: ServerProcess = {
    name,
    host: '127.0.0.1',
    port,
    dataDir: dir,
    output: () => out,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await withTimeout(exit, 10_000, `${name} to exit`).catch(() => {
          child.kill('SIGKILL');
          return withTimeout(exit, 5_000, `${name} to die`);
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await pollUntil(`${name} to accept sessions on port ${port}`, opts.startTimeoutMs ?? 30_000, async () => {
      if (exited) throw new Error(`${name} exited during start:\n${out}`);
      return (await probeSession('127.0.0.1', port)) ? true : undefined;
    });
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return proc;
}

/** True when the server completes a handshake; the probe session is closed again. */
async function probeSession(host: string, port: number): Promise<boolean> {
  try {
    const c = await TestClient.connect(host, port, { timeoutMs: 2_000, timeOutMs: 4_000 });
    if (c.sessionId === 0n) {
      c.destroy();
      return false;
    }
    await c.close(2_000);
    return true;
  } catch {
    return false;
  }
}
