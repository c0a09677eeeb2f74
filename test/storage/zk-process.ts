// zk-process.ts — the real Apache ZooKeeper 3.8 server on a given dataDir, and kazoo dumps of a
// running server (zkts or ZooKeeper), for the interop tests. Polls with deadlines, never sleeps
// a fixed time.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { Perm } from '../../src/protocol/opcodes.js';
import type { DataTree } from '../../src/tree/data-tree.js';
import { clientStat } from './helpers.js';

export const ZK_SH = '/work/shared/conformance/zookeeper.sh';
export const WRITES_PY = join(import.meta.dirname, 'tools', 'zk38-writes.py');
export const PYTHON = '/usr/bin/python3';

/** Why kazoo cannot run here, or null. */
export function kazooMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import kazoo'], { encoding: 'utf8' });
  return r.status === 0 ? null : `python3 with kazoo is not available (${r.error?.message ?? r.stderr.trim()})`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function fourLetter(port: number, word: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let out = '';
    sock.on('connect', () => sock.write(word));
    sock.on('data', (d) => (out += d.toString()));
    sock.on('close', () => resolve(out));
    sock.on('error', () => resolve(''));
    sock.setTimeout(2000, () => sock.destroy());
  });
}

export async function waitFor(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface RunningZooKeeper {
  port: number;
  mntr(): Promise<Map<string, string>>;
  /** Stops it with SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

/** Starts ZooKeeper 3.8 in the foreground on `dataDir` (which it reads, then writes to). */
export async function startZooKeeper(dir: string, dataDir: string, jvmFlags = ''): Promise<RunningZooKeeper> {
  const port = await freePort();
  const cfg = join(dir, 'zoo.cfg');
  writeFileSync(
    cfg,
    [`tickTime=2000`, `dataDir=${dataDir}`, `clientPort=${port}`, `clientPortAddress=127.0.0.1`, `admin.enableServer=false`, `4lw.commands.whitelist=*`, ''].join('\n'),
  );
  const child: ChildProcess = spawn(ZK_SH, [cfg], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ZK_JVMFLAGS: `-Dzookeeper.extendedTypesEnabled=true ${jvmFlags}` },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  try {
    await waitFor('ZooKeeper to serve', 30000, async () => {
      if (exited) throw new Error(`ZooKeeper exited: ${stderr.slice(-2000)}`);
      return (await fourLetter(port, 'ruok')) === 'imok';
    });
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    port,
    async mntr() {
      const m = new Map<string, string>();
      for (const line of (await fourLetter(port, 'mntr')).split('\n')) {
        const [k, v] = line.split('\t');
        if (k && v !== undefined) m.set(k, v);
      }
      return m;
    },
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await exit;
    },
  };
}

/** Runs zk38-writes.py without blocking the event loop (an in-process zkts must keep serving). */
export function runKazoo(port: number, ...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [WRITES_PY, `127.0.0.1:${port}`, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`kazoo ${args[0]} failed (${code}): ${stderr.slice(-3000)}`));
    });
  });
}

/** Every node as a client sees it through kazoo (zk38-writes.py dump), as canonical JSON. */
export async function kazooDump(port: number, outFile: string): Promise<Map<string, string>> {
  await runKazoo(port, 'dump', outFile);
  return parseDump(readFileSync(outFile, 'utf8'));
}

/** tree.json → path → canonical JSON (64-bit numbers kept exact as strings). */
export function parseDump(text: string): Map<string, string> {
  const exact = text.replace(/(:\s*)(-?\d{16,})/g, '$1"$2"');
  const raw = JSON.parse(exact) as Record<string, { data: string | null; stat: Record<string, number | string>; acl: unknown[] }>;
  const out = new Map<string, string>();
  for (const [path, n] of Object.entries(raw)) {
    const stat = Object.fromEntries(Object.entries(n.stat).map(([k, v]) => [k, String(v)]).sort());
    out.set(path, JSON.stringify({ data: n.data, stat, acl: n.acl }));
  }
  return out;
}

/** The same canonical JSON computed from a zkts tree. */
export function dumpOf(tree: DataTree): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, n] of tree.entries()) {
    const s = clientStat(tree, path);
    const stat = Object.fromEntries(Object.entries(s).sort());
    // getACL hides digest hashes from a client without ADMIN (kazoo here: ip:127.0.0.1, no auth).
    const admin = n.acl.some((a) => (a.perms & Perm.ADMIN) !== 0 && ((a.id.scheme === 'world' && a.id.id === 'anyone') || (a.id.scheme === 'ip' && a.id.id === '127.0.0.1')));
    const acl = n.acl.map((a) => ({
      id: !admin && a.id.scheme === 'digest' ? a.id.id.replace(/:.*/s, ':x') : a.id.id,
      perms: a.perms,
      scheme: a.id.scheme,
    }));
    out.set(path, JSON.stringify({ data: n.data === null ? null : n.data.toString('base64'), stat, acl }));
  }
  return out;
}
