// crash-server.ts — a real `zkts server` child process on a data directory that outlives it, for
// the crash tests: started from the built CLI (dist/cli/main.js) with a zoo.cfg on a free
// 127.0.0.1 port, ready once a session handshake completes, and ended with SIGKILL as a crash
// would end it. Every wait has a deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../conformance/server-process.js';
import { TestClient, pollUntil, withTimeout } from '../conformance/test-client.js';

export const ZKTS_MAIN = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface ZktsProcess {
  readonly port: number;
  readonly pid: number;
  output(): string;
  /** SIGKILL, and wait for the process to be gone. */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop), SIGKILL past the deadline. */
  stop(): Promise<void>;
  readonly exited: boolean;
}

function writeConfig(workDir: string, dataDir: string, port: number, cfg: Record<string, string>): string {
  const lines = {
    tickTime: '100',
    dataDir,
    clientPort: String(port),
    clientPortAddress: '127.0.0.1',
    'admin.enableServer': 'false',
    ...cfg,
  };
  const cfgFile = join(workDir, `zoo-${port}.cfg`);
  writeFileSync(cfgFile, Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return cfgFile;
}

/**
 * Starts `zkts server` on `dataDir` and kills it with SIGKILL `afterMs` later, whatever it is
 * doing then (recovering, writing its startup snapshot, serving). Resolves once it is gone.
 */
export async function killDuringStart(workDir: string, dataDir: string, cfg: Record<string, string>, afterMs: number): Promise<string> {
  const cfgFile = writeConfig(workDir, dataDir, await freePort(), cfg);
  const child = spawn(process.execPath, [ZKTS_MAIN, 'server', cfgFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([exit, new Promise((r) => setTimeout(r, afterMs))]);
  child.kill('SIGKILL');
  await withTimeout(exit, 10_000, `zkts (pid ${child.pid}) to die`);
  return out;
}

/** Starts `zkts server` on `dataDir` with the given extra zoo.cfg lines. */
export async function startZkts(workDir: string, dataDir: string, cfg: Record<string, string> = {}): Promise<ZktsProcess> {
  if (!existsSync(ZKTS_MAIN)) throw new Error(`${ZKTS_MAIN} is missing: run npm run build`);
  const port = await freePort();
  const cfgFile = writeConfig(workDir, dataDir, port, cfg);
  const child: ChildProcess = spawn(process.execPath, [ZKTS_MAIN, 'server', cfgFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const proc: ZktsProcess = {
    port,
    pid: child.pid!,
    output: () => out,
    get exited() {
      return exited;
    },
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await withTimeout(exit, 10_000, `zkts (pid ${child.pid}) to die`);
    },
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await withTimeout(exit, 10_000, `zkts (pid ${child.pid}) to stop`).catch(async () => {
        child.kill('SIGKILL');
        await withTimeout(exit, 5_000, `zkts (pid ${child.pid}) to die`);
      });
    },
  };
  try {
    await pollUntil(`zkts to accept sessions on port ${port}`, 30_000, async () => {
      if (exited) throw new Error(`zkts exited during start:\n${out}`);
      try {
        const c = await TestClient.connect('127.0.0.1', port, { timeoutMs: 2_000, timeOutMs: 4_000 });
        await c.close(2_000).catch(() => undefined);
        return c.sessionId !== 0n ? true : undefined;
      } catch {
        return undefined;
      }
    });
  } catch (e) {
    await proc.kill().catch(() => undefined);
    throw e;
  }
  return proc;
}
