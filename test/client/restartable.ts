// restartable.ts — a server process that a test can kill and start again on the same port with
// the same data directory, so sessions, ephemerals and watches have to survive a server restart:
// the real Apache ZooKeeper (Debian's 3.8, through the shared launcher) or zkts (its CLI, run from
// source with tsx). Ready means a session handshake completes; every wait has a deadline.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZOOKEEPER_SH, freePort } from '../conformance/server-process.js';
import { TestClient, pollUntil, withTimeout } from '../conformance/test-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export class RestartableServer {
  readonly host = '127.0.0.1';
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private out = '';

  private constructor(readonly kind: 'zkts' | 'zookeeper', readonly port: number, private readonly dir: string, private readonly cfgFile: string) {}

  static async create(kind: 'zkts' | 'zookeeper', cfg: Record<string, string> = {}): Promise<RestartableServer> {
    const dir = mkdtempSync(path.join(tmpdir(), 'zkts-client-restart-'));
    const port = await freePort();
    const lines: Record<string, string> = {
      tickTime: '200',
      minSessionTimeout: '1000',
      maxSessionTimeout: '20000',
      dataDir: path.join(dir, 'data'),
      clientPort: String(port),
      clientPortAddress: '127.0.0.1',
      '4lw.commands.whitelist': '*',
      'admin.enableServer': 'false',
      ...cfg,
    };
    const cfgFile = path.join(dir, 'zoo.cfg');
    writeFileSync(cfgFile, Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    return new RestartableServer(kind, port, dir, cfgFile);
  }

  get connectString(): string {
    return `${this.host}:${this.port}`;
  }

  output(): string {
    return this.out;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    const child =
      this.kind === 'zookeeper'
        ? spawn('bash', [ZOOKEEPER_SH, this.cfgFile])
        : spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'server', this.cfgFile], { cwd: ROOT });
    this.child = child;
    child.stdout?.on('data', (b: Buffer) => (this.out += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (this.out += b.toString()));
    let dead = false;
    this.exited = new Promise<void>((r) => child.once('exit', () => ((dead = true), r())));
    await pollUntil(`${this.kind} to accept sessions on ${this.port}`, timeoutMs, async () => {
      if (dead) throw new Error(`${this.kind} exited during start:\n${this.out}`);
      try {
        const c = await TestClient.connect(this.host, this.port, { timeoutMs: 2_000, timeOutMs: 4_000 });
        await c.close(2_000);
        return true;
      } catch {
        return undefined;
      }
    });
  }

  /** Stops the server: SIGKILL (nothing flushed on the way out) or SIGTERM. */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.child = null;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await withTimeout(this.exited, 15_000, `${this.kind} to exit`).catch(() => {
      child.kill('SIGKILL');
      return withTimeout(this.exited, 5_000, `${this.kind} to die`);
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
