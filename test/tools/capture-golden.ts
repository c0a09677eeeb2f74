// capture-golden.ts — records the golden fixtures in test/protocol/golden: for each scenario it
// starts a fresh real ZooKeeper (Debian's 3.8, TTL nodes enabled, containers reaped every 100 ms),
// puts record-proxy.ts in front of it, drives one real client (kazoo, the Java client via
// GoldenJava.java, zkCli.sh, the C client cli_mt) through a scripted session, and writes every
// frame of every connection, in the order the proxy saw them.
//   node --import tsx test/tools/capture-golden.ts [name-filter]
// The fixtures are data: re-running this rewrites them (session ids, times and passwords differ
// between runs; the tests do not depend on those).
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pollUntil, startJavaZooKeeper } from '../conformance/differential.js';
import { type RecordProxy, type RecordedFrame, startRecordProxy } from './record-proxy.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const goldenDir = path.join(here, '..', 'protocol', 'golden');
const JAVA_CP = ['zookeeper.jar', 'zookeeper-jute.jar', 'slf4j-api.jar', 'slf4j-nop.jar']
  .map((j) => `/usr/share/java/${j}`)
  .join(':');

interface Driver {
  proxy: RecordProxy;
  hostPort: string;
}

interface Capture {
  client: 'kazoo' | 'java' | 'zkcli' | 'cmt';
  scenario: string;
  note: string;
  run(d: Driver): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Watching the proxy

const xidOf = (f: RecordedFrame): number => Buffer.from(f.hex.slice(8, 16), 'hex').readInt32BE(0);

/** Requests and replies (not the handshake, not notifications) on the newest connection. */
function counts(proxy: RecordProxy): { requests: number; replies: number } {
  const conn = proxy.connections - 1;
  const frames = proxy.frames.filter((f) => f.conn === conn && f.raw !== true);
  const c2s = frames.filter((f) => f.direction === 'c2s');
  const s2c = frames.filter((f) => f.direction === 's2c');
  return {
    requests: Math.max(0, c2s.length - 1),
    replies: Math.max(0, s2c.length - 1 - s2c.slice(1).filter((f) => xidOf(f) === -1).length),
  };
}

async function waitAnswered(proxy: RecordProxy, before: number, expected: number, what: string): Promise<void> {
  await pollUntil(`${what} to be answered`, 15_000, async () => {
    const c = counts(proxy);
    return c.requests >= before + expected && c.replies >= c.requests ? true : undefined;
  });
}

async function waitPing(proxy: RecordProxy): Promise<void> {
  const from = proxy.frames.length;
  await pollUntil('a ping and its reply', 15_000, async () => {
    const later = proxy.frames.slice(from);
    const ping = (dir: string): boolean => later.some((f) => f.direction === dir && f.raw !== true && xidOf(f) === -2);
    return ping('c2s') && ping('s2c') ? true : undefined;
  });
}

async function waitAllClosed(proxy: RecordProxy): Promise<void> {
  // A client closes its session before its socket; give the proxy the last frames.
  const closed = (): boolean => proxy.frames.some((f) => f.direction === 's2c') && proxy.openConnections === 0;
  await pollUntil('the client connections to close', 15_000, async () => (closed() ? true : undefined));
}

// ---------------------------------------------------------------------------------------------
// Driving a scripted client over its stdin/stdout barrier protocol ("@@ name" → one line back)

async function runBarrierClient(cmd: string, args: string[], d: Driver): Promise<void> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let lineBuf = '';
  const handled: Promise<void>[] = [];
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    lineBuf += b.toString();
    let nl: number;
    while ((nl = lineBuf.indexOf('\n')) >= 0) {
      const line = lineBuf.slice(0, nl).trim();
      lineBuf = lineBuf.slice(nl + 1);
      if (!line.startsWith('@@ ')) continue;
      const name = line.slice(3);
      handled.push(onBarrier(name, d).then(() => void child.stdin.write('go\n')));
    }
  });
  const code = await exitCode(child, 90_000);
  await Promise.all(handled);
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}\nstdout:\n${out}\nstderr:\n${err}`);
}

async function onBarrier(name: string, d: Driver): Promise<void> {
  if (name === 'ping') await waitPing(d.proxy);
  else if (name === 'cut') d.proxy.cut();
  else if (name !== 'done') throw new Error(`unknown barrier ${name}`);
}

function exitCode(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`client did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Driving an interactive CLI line by line: each line waits until its requests are answered.

interface CliLine {
  line: string;
  /** Requests the line sends (default 1); 0 = none or unknown, no wait. */
  requests?: number;
  /** Wait for an idle ping before sending this line. */
  pingFirst?: boolean;
}

async function runCli(cmd: string, args: string[], lines: CliLine[], d: Driver): Promise<void> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = exitCode(child, 90_000);
  try {
    await pollUntil('the CLI to connect', 20_000, async () => (d.proxy.frames.some((f) => f.direction === 's2c') ? true : undefined));
    for (const l of lines) {
      if (l.pingFirst === true) await waitPing(d.proxy);
      const before = counts(d.proxy).requests;
      child.stdin.write(l.line + '\n');
      const n = l.requests ?? 1;
      if (n > 0) await waitAnswered(d.proxy, before, n, JSON.stringify(l.line));
    }
    child.stdin.end();
    await exited;
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\noutput so far:\n${out}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The captures

const kazoo = (scenario: string, note: string): Capture => ({
  client: 'kazoo',
  scenario,
  note,
  run: (d) => runBarrierClient('/usr/bin/python3', [path.join(here, 'golden-kazoo.py'), d.hostPort, scenario], d),
});

const java = (scenario: string, note: string): Capture => ({
  client: 'java',
  scenario,
  note,
  run: (d) => runBarrierClient('java', ['-cp', JAVA_CP, path.join(here, 'GoldenJava.java'), d.hostPort, scenario], d),
});

const captures: Capture[] = [
  kazoo('basic', 'kazoo 2.8: connect, create (persistent, ephemeral, sequential, ephemeral sequential, create2), NodeExists, getData, setData, BadVersion, exists hit and miss, getChildren, getChildren2, getACL, setACL, sync, delete NoNode, delete, idle ping, close'),
  kazoo('multi', 'kazoo 2.8: multi (create, setData, check, delete) that succeeds, then one that fails on check'),
  kazoo('watch', 'kazoo 2.8: exists watch → NodeCreated, getData watch → NodeDataChanged, getChildren watch → NodeChildrenChanged, getData watch → NodeDeleted; notifications arrive before the reply of the write that triggers them'),
  kazoo('auth', 'kazoo 2.8: digest auth, create with a digest ACL, getACL with and without ADMIN (second connection), NoAuth'),
  kazoo('reconnect', 'kazoo 2.8: connection cut by the proxy, session resumed on a second connection (kazoo 2.8 sends no SetWatches)'),
  java('create-modes', 'ZooKeeper Java client 3.8: create and create2 in every CreateMode incl. container and TTL, NodeExists, NoNode, NoChildrenForEphemerals, getData, setData, exists hit/miss, getChildren2, getChildren, getEphemerals (all, prefix), getAllChildrenNumber, whoAmI, sync, NotEmpty, BadVersion, delete, idle ping, close'),
  java('multi', 'ZooKeeper Java client 3.8: multi with create, container, TTL, setData, check, delete; a failing multi (check BadVersion); multiRead of getChildren, getData and a missing node'),
  java('watches', 'ZooKeeper Java client 3.8: addWatch persistent and persistent-recursive with their events, one-time watches, checkWatches (removeWatches of one watcher), removeWatches (all), NoWatcher'),
  java('auth', 'ZooKeeper Java client 3.8: digest auth, whoAmI, create with digest and creator ACLs, setACL world/ip, getACL, NoAuth and InvalidACL from a second session'),
  java('reconnect', 'ZooKeeper Java client 3.8: connection cut by the proxy; on the second connection the client resends auth (xid -4) and SetWatches2 (xid -8) with data, exist, child and persistent-recursive watches'),
  java('cesu8', 'ZooKeeper Java client 3.8: a character outside the BMP (U+1F600) in digest auth bytes (UTF-8), in whoAmI\'s reply and in an ACL id (both CESU-8 as jute writes them); the server decodes the CESU-8 ACL id lossily (one U+FFFD per surrogate) and getACL shows it'),
  {
    client: 'zkcli',
    scenario: 'session',
    note: 'zkCli.sh 3.8 (Java client) driven line by line: create -e/-s/-c/-t, get -s, set, BadVersion, stat, ls -s, getAcl, setAcl, addauth, whoami, getEphemerals, getAllChildrenNumber, sync, addWatch, get -w and the notification, removewatches, delete, deleteall, idle ping, quit',
    run: (d) =>
      runCli('/usr/share/zookeeper/bin/zkCli.sh', ['-server', d.hostPort], [
        { line: 'create /zc zkcli-data' },
        { line: 'create -e /zc/eph e' },
        { line: 'create -s /zc/seq- s' },
        { line: 'create -e -s /zc/eseq- x' },
        { line: 'create -c /zc/cont c' },
        { line: 'create -t 60000 /zc/ttl t' },
        { line: 'get -s /zc' },
        { line: 'set /zc new-data' },
        { line: 'set -v 7 /zc bad' },
        { line: 'stat /zc' },
        { line: 'ls -s /zc' },
        { line: 'getAcl /zc' },
        { line: 'setAcl /zc world:anyone:cdrwa' },
        { line: 'addauth digest dave:pw' },
        { line: 'whoami' },
        { line: 'getEphemerals /zc' },
        { line: 'getAllChildrenNumber /zc' },
        { line: 'sync /zc' },
        { line: 'addWatch -m PERSISTENT_RECURSIVE /zc' },
        { line: 'get -w /zc/ttl' },
        { line: 'set /zc/ttl changed' },
        { line: 'removewatches /zc -a' },
        { line: 'delete /zc/ttl' },
        { line: 'deleteall /zc', requests: 0 },
        { line: 'ls /', pingFirst: true },
        { line: 'quit', requests: 0 },
      ], d),
  },
  {
    client: 'cmt',
    scenario: 'session',
    note: 'C client cli_mt 3.8 driven line by line: create in each mode (+e, +s, +es, +c, +t=ttl, +st=ttl), create2, NodeExists, get, set, ls, ls2, exists hit and miss, wexists and its NodeCreated, sync, addauth digest, delete, idle ping, quit',
    run: (d) =>
      runCli('/usr/lib/zookeeper/bin/cli_mt', [d.hostPort], [
        { line: 'create /cm' },
        { line: 'create +e /cm/eph' },
        { line: 'create +s /cm/seq-' },
        { line: 'create +es /cm/eseq-' },
        { line: 'create +c /cm/cont' },
        { line: 'create +t=60000 /cm/ttl' },
        { line: 'create +st=60000 /cm/ttls-' },
        { line: 'create2 /cm/two' },
        { line: 'create /cm' },
        { line: 'get /cm' },
        { line: 'set /cm c-data' },
        { line: 'ls /cm' },
        { line: 'ls2 /cm' },
        { line: 'exists /cm/two' },
        { line: 'exists /cm/missing' },
        { line: 'wexists /cm/later' },
        { line: 'create /cm/later' },
        { line: 'sync /cm' },
        { line: 'addauth digest erin:pw' },
        { line: 'delete /cm/two' },
        { line: 'get /', pingFirst: true },
        { line: 'quit', requests: 0 },
      ], d),
  },
];

async function captureOne(c: Capture): Promise<void> {
  const zk = await startJavaZooKeeper({
    systemProperties: { 'zookeeper.extendedTypesEnabled': 'true', 'znode.container.checkIntervalMs': '100' },
  });
  const proxy = await startRecordProxy({ targetHost: zk.host, targetPort: zk.port });
  try {
    await c.run({ proxy, hostPort: `127.0.0.1:${proxy.port}` });
    await waitAllClosed(proxy);
  } finally {
    await proxy.close();
    await zk.stop();
  }
  const file = path.join(goldenDir, `${c.client}-${c.scenario}.json`);
  const fixture = {
    client: c.client,
    scenario: c.scenario,
    note: c.note,
    server: 'Apache ZooKeeper 3.8.0 (Debian zookeeper 3.8.0-11+deb12u2), standalone, zookeeper.extendedTypesEnabled=true',
    capturedWith: 'test/tools/capture-golden.ts through test/tools/record-proxy.ts',
    frames: proxy.frames.map(({ conn, direction, hex, raw }) => (raw ? { conn, direction, hex, raw } : { conn, direction, hex })),
  };
  writeFileSync(file, JSON.stringify(fixture, null, 1) + '\n');
  process.stdout.write(`${path.relative(process.cwd(), file)}: ${proxy.frames.length} frames, ${proxy.connections} connection(s)\n`);
}

const filter = process.argv[2] ?? '';
for (const c of captures) {
  if (!`${c.client}-${c.scenario}`.includes(filter)) continue;
  await captureOne(c);
}
