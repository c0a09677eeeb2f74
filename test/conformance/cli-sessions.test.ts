// cli-sessions.test.ts — the two command-line clients that ship with ZooKeeper, the Java zkCli.sh
// and the C cli_mt, each run one scripted session against the real Apache ZooKeeper (Debian's 3.8,
// standalone, temp dataDir, free 127.0.0.1 port) and against zkts; what they print must be the
// same once the values that legitimately differ between two servers are normalised:
//   zxids            → Z1, Z2, … in order of first appearance (0 stays 0)
//   session ids      → <session-1>, … (the C client's "Got a new session id", ephemeralOwners
//                      below 2^63; TTL and container owners are flags, not sessions, and stay)
//   ctime/mtime      → <time> (the epoch, ZooKeeper's "no time", stays)
//   cli_mt's "time = N msec" lines, the servers' ports, SLF4J/log4j and C-client log lines, and
//   the clients' banners ("Connecting to …", "Welcome to ZooKeeper!", "JLine support is …")
//   cli_mt's ls/ls2 child lists are sorted: ZooKeeper returns children in Java hash-set order and
//   promises no order (ZKTS_DIFF_STRICT_ORDER=1 keeps them as returned). zkCli sorts them itself.
// Everything else — messages, error texts, stats, ACLs, watch events and where they appear — must
// be identical; a difference fails the test with a unified diff of the two normalised transcripts.
//
// Determinism. Each client reads one line at a time from a pipe; after each command the test
// sends a marker command whose output it knows (zkCli: `printwatches`, local; cli_mt: `get` of a
// path that does not exist, answered in order with the other replies) and waits for it, so the
// output between two commands belongs to the first. Watch notifications are printed by the
// clients' event threads: a step that expects some waits for them too, and the commands that
// trigger them print nothing themselves (set, delete), so nothing can interleave.
//
// Environment (as in differential.test.ts):
//   ZKTS_CMD   command that starts the server under test, given a zoo.cfg path (default:
//              node dist/cli/main.js server); "zookeeper" runs a second real ZooKeeper instead,
//              which checks that the harness itself is deterministic.
//   ZKTS_DIFF_STRICT_ORDER=1   compare cli_mt's child lists in the order returned.
// Transcripts (raw and normalised) are written to test-artifacts/cli-sessions/.
// Skipped, with the reason, when java, ZooKeeper, zkCli.sh or cli_mt is missing.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OpCode } from '../../src/protocol/opcodes.js';
import {
  type ServerOptions,
  type ServerProcess,
  TestClient,
  javaZooKeeperMissing,
  pollUntil,
  startCommandServer,
  startJavaZooKeeper,
} from './differential.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const zktsMain = path.join(root, 'dist', 'cli', 'main.js');
const artifacts = path.join(root, 'test-artifacts', 'cli-sessions');

const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';
const CLI_MT = ['/usr/lib/zookeeper/bin/cli_mt', '/usr/bin/cli_mt'].find((p) => existsSync(p));

export const serverOptions: ServerOptions = {
  cfg: { extendedTypesEnabled: 'true' },
  systemProperties: { 'zookeeper.extendedTypesEnabled': 'true' },
};

const CONNECT_TIMEOUT_MS = 20_000;
const STEP_TIMEOUT_MS = 10_000;
/** How long a step waits for a watch notification it expects before noting its absence. */
const EVENT_TIMEOUT_MS = 3_000;
const EXIT_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// The sessions

export interface Step {
  line: string;
  /** Watch notifications this command should make the client print (default 0). */
  events?: number;
  /** false: no marker after this line (zkCli after `close` prints "Not connected" for it). */
  marker?: boolean;
  /** The client exits after this line; stdin is closed and the test waits for the exit. */
  last?: boolean;
}

/** digest ACL id of alice:pw, as DigestAuthenticationProvider computes it. */
const aliceDigest = `alice:${createHash('sha1').update('alice:pw').digest('base64')}`;

export const zkCliSteps: Step[] = [
  { line: 'create /zc top' },
  { line: 'create /zc again' }, // NodeExists
  { line: 'create -e /zc/eph e' },
  { line: 'create -s /zc/seq- s' },
  { line: 'create -e -s /zc/eseq- x' },
  { line: 'create -c /zc/cont c' },
  { line: 'create -t 60000 /zc/ttl t' },
  { line: 'create /zc/empty' },
  { line: 'create /zc/no/such x' }, // NoNode
  { line: 'create -e /zc/eph/child x' }, // NoChildrenForEphemerals
  { line: 'create /zc/tree a' },
  { line: 'create /zc/tree/b b' },
  { line: 'create /zc/tree/b/c c' },
  { line: 'ls /zc' },
  { line: 'ls -s /zc' },
  { line: 'ls -R /zc' },
  { line: 'ls /zc/missing' },
  { line: 'get /zc' },
  { line: 'get -s /zc' },
  { line: 'get /zc/empty' },
  { line: 'get /zc/missing' },
  { line: 'set /zc v1' },
  { line: 'set -s /zc v2' },
  { line: 'set -v 2 /zc v3' },
  { line: 'set -v 7 /zc bad' }, // BadVersion
  { line: 'set /zc/missing x' },
  { line: 'stat /zc' },
  { line: 'stat /zc/eph' },
  { line: 'stat /zc/ttl' },
  { line: 'stat /zc/cont' },
  { line: 'stat /zc/missing' },
  { line: 'delete /zc' }, // NotEmpty
  { line: 'delete /zc/missing' },
  { line: 'delete -v 5 /zc/ttl' }, // BadVersion
  { line: 'delete -v 0 /zc/ttl' },
  { line: 'stat /zc' }, // cversion and pZxid after a delete
  { line: 'deleteall /zc/tree' },
  { line: 'ls -R /zc' },
  { line: 'getAcl /zc' },
  { line: 'getAcl -s /zc' },
  { line: `create /zc/secret s digest:${aliceDigest}:cdrwa` },
  { line: 'get /zc/secret' }, // NoAuth
  { line: 'set /zc/secret x' }, // NoAuth
  { line: 'getAcl /zc/secret' }, // NoAuth: getACL needs READ or ADMIN
  { line: 'addauth digest alice:pw' },
  { line: 'get -s /zc/secret' },
  { line: 'getAcl /zc/secret' },
  { line: 'whoami' },
  { line: 'create /zc/mine m' },
  { line: 'setAcl /zc/mine auth::cdrwa' },
  { line: 'getAcl /zc/mine' },
  { line: 'setAcl /zc/mine world:anyone:r' },
  { line: 'getAcl /zc/mine' },
  { line: 'set /zc/mine y' }, // NoAuth: read-only now
  { line: 'setAcl /zc/missing world:anyone:r' },
  { line: 'delete /zc/mine' },
  { line: 'sync /zc' },
  { line: 'getAllChildrenNumber /zc' },
  { line: 'getAllChildrenNumber /' },
  { line: 'getEphemerals' },
  { line: 'getEphemerals /zc/e' },
  // One-time data watch: fires once, not on the second set.
  { line: 'get -w /zc/cont' },
  { line: 'set /zc/cont changed', events: 1 },
  { line: 'set /zc/cont again' },
  // Persistent watch: fires on every change.
  { line: 'addWatch -m PERSISTENT /zc/seq-0000000001' },
  { line: 'set /zc/seq-0000000001 one', events: 1 },
  { line: 'set /zc/seq-0000000001 two', events: 1 },
  // Persistent recursive watch on /zc: fires for any node below it, but not for /zc's children
  // list. (Always with -m: zkCli 3.8 keeps the last -m for the next addWatch.)
  { line: 'addWatch -m PERSISTENT_RECURSIVE /zc' },
  { line: 'set /zc/eph e2', events: 1 },
  { line: 'set /zc/empty now', events: 1 },
  // Both watches see this delete; one notification, one line.
  { line: 'delete /zc/seq-0000000001', events: 1 },
  { line: 'removewatches /zc -a', events: 1 }, // PersistentWatchRemoved
  { line: 'set /zc/eph e3' },
  // A persistent (not recursive) watch on /zc: its children list, and /zc itself.
  { line: 'addWatch -m PERSISTENT /zc' },
  { line: 'delete /zc/empty', events: 1 },
  { line: 'set /zc v4', events: 1 },
  { line: 'removewatches /zc -a', events: 1 },
  { line: 'config' },
  { line: 'close', events: 1, marker: false },
  { line: 'quit', last: true },
];

const cliMtSteps: Step[] = [
  { line: 'create /cm' },
  { line: 'create /cm' }, // NodeExists
  { line: 'create +e /cm/eph' },
  { line: 'create +s /cm/seq-' },
  { line: 'create +es /cm/eseq-' },
  { line: 'create +c /cm/cont' },
  { line: 'create +t=60000 /cm/ttl' },
  { line: 'create +st=60000 /cm/ttls-' },
  { line: 'create2 /cm/two' },
  { line: 'create2 +e /cm/eph2' },
  { line: 'create /cm/no/such' }, // NoNode
  { line: 'create +e /cm/eph/child' }, // NoChildrenForEphemerals
  { line: 'get /cm' }, // leaves a data watch
  { line: 'set /cm c-data', events: 1 },
  { line: 'set /cm again' },
  { line: 'set /cm/missing x' },
  { line: 'get /cm/missing' },
  { line: 'get /cm/eph2' },
  { line: 'get /cm/ttl' },
  { line: 'get /cm/cont' },
  { line: 'ls /cm' }, // leaves a child watch
  { line: 'ls2 /cm' },
  { line: 'ls /cm/missing' },
  { line: 'exists /cm/two' }, // leaves an exists watch
  { line: 'exists /cm/missing' },
  { line: 'wexists /cm/later' },
  { line: 'create /cm/later', events: 2 }, // /cm/later created, /cm's children changed
  { line: 'sync /cm' },
  { line: 'delete /cm' }, // NotEmpty
  { line: 'delete /cm/missing' },
  { line: 'get /cm-secret' }, // NoAuth
  { line: 'addauth digest alice:pw' },
  { line: 'get /cm-secret' },
  { line: 'config' },
  { line: 'get /cm/two' }, // a data watch beside the exists watch
  { line: 'delete /cm/two', events: 1 },
  { line: 'quit', last: true },
];

// ---------------------------------------------------------------------------------------------
// The clients

export interface Dialect {
  name: string;
  exe: string;
  args(hostPort: string): string[];
  /** Output that says the session is connected; nothing is sent before it. */
  connected: RegExp;
  markerLine: string;
  /** The marker's output; removed from the transcript. */
  markerOutput: RegExp;
  /** Watch notifications (the connection's included) printed so far. */
  eventCount(out: string): number;
  /** Lines that carry no information about the server. */
  noise: RegExp[];
}

const count = (re: RegExp, s: string): number => s.match(re)?.length ?? 0;

export const zkCli: Dialect = {
  name: 'zkCli.sh',
  exe: ZKCLI,
  args: (hostPort) => ['-server', hostPort],
  connected: /^WatchedEvent state:SyncConnected type:None path:null$/m,
  markerLine: 'printwatches',
  markerOutput: /^printwatches is on\n/m,
  eventCount: (out) => count(/^WatchedEvent /gm, out),
  noise: [
    /^SLF4J: /,
    /^log4j:/,
    /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[/, // log4j pattern layout
    /^Connecting to 127\.0\.0\.1:\d+$/,
    /^Welcome to ZooKeeper!$/,
    /^JLine support is (?:en|dis)abled$/,
  ],
};

const MARK = '/zkts-cli-mark';
const cliMt: Dialect = {
  name: 'cli_mt',
  exe: CLI_MT ?? 'cli_mt',
  args: (hostPort) => [hostPort],
  connected: /^Got a new session id: 0x[0-9a-f]+$/m,
  markerLine: `get ${MARK}`,
  markerOutput: new RegExp(`^time = -?\\d+ msec\\n${MARK}: rc = -101\\n\\nStat:\\nnull\\n`, 'm'),
  eventCount: (out) => count(/^Watcher [A-Z_]+ state = /gm, out),
  noise: [/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}:\d+\(0x[0-9a-f]+\):ZOO_(?:INFO|WARN|DEBUG)@/],
};

export interface Transcript {
  raw: string;
  normalised: string;
}

/** Runs `steps` through one client against one server and returns what it printed, step by step. */
export async function runSession(d: Dialect, server: ServerProcess, steps: Step[]): Promise<Transcript> {
  // One pipe for stdout and stderr, so the order in which the client wrote them is kept.
  const child = spawn('sh', ['-c', 'exec "$0" "$@" 2>&1', d.exe, ...d.args(`${server.host}:${server.port}`)], {
    detached: true, // its own process group: zkCli.sh runs java as a child
    stdio: ['pipe', 'pipe', 'ignore'],
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (s: string) => (out += s));
  child.stdin.on('error', () => undefined); // EPIPE when the client has died: reported below
  let exited = false; // and its output read to the end
  child.once('close', () => (exited = true));
  const alive = (what: string): void => {
    if (exited) throw new Error(`${d.name} exited while waiting for ${what}`);
  };
  const cuts: Array<{ title: string; at: number; note?: string }> = [];
  try {
    await pollUntil(`${d.name} to connect to ${server.name}`, CONNECT_TIMEOUT_MS, async () => {
      alive('its session');
      return d.connected.test(out) ? true : undefined;
    });
    let events = d.eventCount(out);
    cuts.push({ title: '(connect)', at: 0 });
    for (const step of steps) {
      const cut: { title: string; at: number; note?: string } = { title: step.line, at: out.length };
      cuts.push(cut);
      const marker = step.marker !== false && step.last !== true;
      child.stdin.write(`${step.line}\n${marker ? `${d.markerLine}\n` : ''}`);
      if (step.last === true) {
        child.stdin.end();
        await pollUntil(`${d.name} to exit after "${step.line}"`, EXIT_TIMEOUT_MS, async () => (exited ? true : undefined));
        break;
      }
      if (marker) {
        await pollUntil(`${d.name} to finish "${step.line}"`, STEP_TIMEOUT_MS, async () => {
          if (d.markerOutput.test(out.slice(cut.at))) return true;
          alive(`"${step.line}"`);
          return undefined;
        });
      }
      events += step.events ?? 0;
      if (d.eventCount(out) < events) {
        await pollUntil('watch events', EVENT_TIMEOUT_MS, async () => (d.eventCount(out) >= events ? true : undefined))
          .catch(() => {
            cut.note = `[test: ${events - d.eventCount(out)} watch event(s) missing ${EVENT_TIMEOUT_MS} ms after the command]`;
            events = d.eventCount(out);
          });
      }
    }
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- ${d.name} output so far ---\n${out}`);
  } finally {
    if (!exited && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  const parts = cuts.map((c, i) => {
    let text = out.slice(c.at, cuts[i + 1]?.at ?? out.length);
    if (i > 0) text = text.replace(d.markerOutput, '');
    return `> ${c.title}\n${text}${c.note === undefined ? '' : `${c.note}\n`}`;
  });
  const raw = parts.join('');
  return { raw, normalised: normalise(raw, d, server.port) };
}

// ---------------------------------------------------------------------------------------------
// Normalising

const DATE = /\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d (?:[A-Z]{2,5} )?(\d{4})\b/g;

class Placeholders {
  private readonly seen = new Map<bigint, string>();
  constructor(private readonly prefix: string, private readonly suffix = '') {}
  of(value: bigint): string {
    let p = this.seen.get(value);
    if (p === undefined) {
      p = `${this.prefix}${this.seen.size + 1}${this.suffix}`;
      this.seen.set(value, p);
    }
    return p;
  }
}

function normalise(text: string, d: Dialect, port: number, strictOrder = process.env.ZKTS_DIFF_STRICT_ORDER === '1'): string {
  const zxids = new Placeholders('Z');
  const sessions = new Placeholders('<session-', '>');
  const session = (hex: string): string | null => {
    const v = BigInt(`0x${hex}`);
    return v === 0n || v >= 1n << 63n ? null : sessions.of(v); // TTL/container owners are flags
  };
  let t = text
    .split('\n')
    .filter((line) => !d.noise.some((re) => re.test(line)))
    .join('\n')
    .replaceAll(`127.0.0.1:${port}`, '127.0.0.1:<port>')
    .replace(/^Got a new session id: 0x([0-9a-f]+)$/gm, (_, h: string) => `Got a new session id: ${session(h) ?? `0x${h}`}`)
    .replace(/\bephemeralOwner = (0x)?([0-9a-f]+)$/gm, (m, x: string | undefined, h: string) => {
      const s = session(h);
      return s === null ? m : `ephemeralOwner = ${x ?? ''}${s}`;
    })
    // zkCli: "cZxid = 0x1a"; cli_mt: "czxid=1a" (hex without 0x)
    .replace(/\b([cmp]Zxid = |[cm]zxid=)(?:0x)?([0-9a-f]+)$/gm, (m, k: string, h: string) =>
      h === '0' ? m : `${k}${zxids.of(BigInt(`0x${h}`))}`)
    .replace(DATE, (m, year: string) => (year === '1970' ? m : '<time>'))
    .replace(/^time = -?\d+ msec$/gm, 'time = <elapsed> msec');
  if (!strictOrder && d === cliMt) {
    // ls/ls2: "<path>: rc = 0", one "\t<child>" line each, then "time = …"
    t = t.replace(/(: rc = 0\n)((?:\t[^\t\n=]*\n)+)(?=time = )/g, (_, head: string, block: string) =>
      head + block.split('\n').filter((l) => l !== '').sort().map((l) => `${l}\n`).join(''));
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Comparing

export function unifiedDiff(left: string, right: string, labels: [string, string]): string {
  mkdirSync(artifacts, { recursive: true });
  const a = path.join(artifacts, `.diff-${process.pid}-a.txt`);
  const b = path.join(artifacts, `.diff-${process.pid}-b.txt`);
  writeFileSync(a, left);
  writeFileSync(b, right);
  const r = spawnSync('diff', ['-u', '--label', labels[0], '--label', labels[1], a, b], { encoding: 'utf8' });
  if (r.error !== undefined) return `(diff is not available: ${r.error.message})\n--- ${labels[0]}\n${left}\n--- ${labels[1]}\n${right}`;
  return r.stdout;
}

function saveArtifacts(name: string, side: string, t: Transcript): void {
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(path.join(artifacts, `${name}.${side}.raw.txt`), t.raw);
  writeFileSync(path.join(artifacts, `${name}.${side}.txt`), t.normalised);
}

// ---------------------------------------------------------------------------------------------
// The test

function subjectCommand(): { command: string | null; note: string } {
  const env = process.env.ZKTS_CMD;
  if (env === 'zookeeper') return { command: null, note: 'ZKTS_CMD=zookeeper: comparing two real ZooKeepers' };
  if (env !== undefined && env !== '') return { command: env, note: `server under test: ${env}` };
  return { command: `${process.execPath} ${zktsMain} server`, note: 'server under test: zkts (dist/cli/main.js)' };
}

const missing = javaZooKeeperMissing();
const { command, note } = subjectCommand();
const subjectName = command === null ? 'zookeeper#2' : 'zkts';

/** Creates /cm-secret, readable by alice only, for cli_mt's NoAuth step (cli_mt cannot set ACLs). */
async function createSecret(server: ServerProcess): Promise<void> {
  const c = await TestClient.connect(server.host, server.port);
  try {
    const [scheme, user, hash] = ['digest', ...aliceDigest.split(':')] as [string, string, string];
    const reply = await c.request({
      type: OpCode.create,
      path: '/cm-secret',
      data: Buffer.from('s'),
      acl: [{ perms: 31, id: { scheme, id: `${user}:${hash}` } }],
      flags: 0,
      ttl: -1n,
    });
    assert.equal(reply.err, 0, `creating /cm-secret on ${server.name}`);
  } finally {
    await c.close(5_000).catch(() => c.destroy());
  }
}

// Only when run as a test file: test/shell/shell-session.test.ts imports the session and the
// normaliser without running these comparisons again.
const runDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);

if (runDirectly) describe('zkCli.sh and cli_mt sessions: Apache ZooKeeper vs the server under test', {
  skip: missing === null ? false : `no real ZooKeeper: ${missing}`,
}, () => {
  let reference: ServerProcess | undefined;
  let subject: ServerProcess | undefined;

  before(async () => {
    process.stderr.write(`# cli-sessions: ${note}\n`);
    if (command !== null && process.env.ZKTS_CMD === undefined && !existsSync(zktsMain)) {
      throw new Error(`${path.relative(root, zktsMain)} is missing: build zkts first (npx tsc -p .)`);
    }
    const started = await Promise.allSettled([
      startJavaZooKeeper(serverOptions),
      command === null ? startJavaZooKeeper(serverOptions) : startCommandServer(command, serverOptions),
    ]);
    [reference, subject] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    await Promise.all([createSecret(reference!), createSecret(subject!)]);
  });

  after(async () => {
    await Promise.all([reference?.stop(), subject?.stop()]);
  });

  const compare = async (d: Dialect, steps: Step[], name: string): Promise<void> => {
    const [left, right] = await Promise.all([runSession(d, reference!, steps), runSession(d, subject!, steps)]);
    saveArtifacts(name, 'zookeeper', left);
    saveArtifacts(name, subjectName, right);
    if (left.normalised === right.normalised) return;
    let message = `${d.name} prints something else against ${subjectName} than against ZooKeeper ` +
      `(normalised transcripts; raw ones in ${path.relative(root, artifacts)}/):\n` +
      unifiedDiff(left.normalised, right.normalised, ['zookeeper', subjectName]);
    if (command !== null) message += `\n--- last lines of ${subjectName}'s output ---\n${subject!.output().split('\n').slice(-20).join('\n')}`;
    assert.fail(message);
  };

  it('zkCli.sh: the same session prints the same', {
    skip: existsSync(ZKCLI) ? false : `${ZKCLI} is missing (apt-get install zookeeper)`,
    timeout: 60_000,
  }, () => compare(zkCli, zkCliSteps, 'zkcli'));

  it('cli_mt: the same session prints the same', {
    skip: CLI_MT !== undefined ? false : 'cli_mt is missing (apt-get install zookeeper-bin)',
    timeout: 60_000,
  }, () => compare(cliMt, cliMtSteps, 'cli_mt'));
});
