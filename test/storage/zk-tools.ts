// zk-tools.ts — Apache ZooKeeper 3.8's own dump tools as test oracles: SnapshotFormatter's text
// parsed into per-node records, and the same records computed from a zkts tree, so a snapshot can
// be checked against what ZooKeeper itself reads from it.
import { spawnSync } from 'node:child_process';
import type { DataTree } from '../../src/tree/data-tree.js';

const JAVA_CP = [
  'zookeeper.jar',
  'zookeeper-jute.jar',
  'slf4j-api.jar',
  'slf4j-nop.jar',
  'commons-cli.jar',
  'metrics-core.jar',
  'snappy-java.jar',
]
  .map((j) => `/usr/share/java/${j}`)
  .join(':');

/** Why the Java tools cannot run here, or null when they can. */
export function javaMissing(): string | null {
  const r = spawnSync('java', ['-cp', JAVA_CP, 'org.apache.zookeeper.server.SnapshotFormatter'], { encoding: 'utf8' });
  if (r.error) return `java is not installed (${r.error.message})`;
  if (/ClassNotFound|Could not find or load/.test(r.stderr)) return 'ZooKeeper 3.8 jars are not in /usr/share/java';
  return null;
}

export function runSnapshotFormatter(file: string): string {
  const r = spawnSync('java', ['-cp', JAVA_CP, 'org.apache.zookeeper.server.SnapshotFormatter', '-d', file], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
  });
  if (r.status !== 0) throw new Error(`SnapshotFormatter failed on ${file}: ${r.stderr}`);
  return r.stdout;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** java.util.Date.toString() in UTC. */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** Java's %#016x of a long. */
export function javaHex(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16).padStart(14, '0');
}

export interface FormatterView {
  nodes: Map<string, string>;
  sessions: string[];
}

/** SnapshotFormatter -d output: every node's printed block, and the session lines. */
export function parseFormatterOutput(text: string): FormatterView {
  const nodes = new Map<string, string>();
  const blocks = text.split('\n----\n');
  for (const b of blocks) {
    const lines = b.split('\n');
    const path = lines[0]!;
    if (!path.startsWith('/')) continue;
    nodes.set(path, lines.slice(1).join('\n').trim());
  }
  const sess = /Session Details \(sid, timeout, ephemeralCount\):\n([\s\S]*?)----/.exec(text);
  const sessions = (sess?.[1] ?? '').split('\n').filter((l) => l.length > 0).sort();
  return { nodes, sessions };
}

/** What SnapshotFormatter -d would print for this tree and session table. */
export function formatterViewOf(tree: DataTree, sessions: ReadonlyMap<bigint, number>): FormatterView {
  const nodes = new Map<string, string>();
  for (const [path, n] of tree.entries()) {
    nodes.set(
      path,
      [
        `  cZxid = ${javaHex(n.czxid)}`,
        `  ctime = ${javaDate(n.ctime)}`,
        `  mZxid = ${javaHex(n.mzxid)}`,
        `  mtime = ${javaDate(n.mtime)}`,
        `  pZxid = ${javaHex(n.pzxid)}`,
        `  cversion = ${n.cversion}`,
        `  dataVersion = ${n.version}`,
        `  aclVersion = ${n.aversion}`,
        `  ephemeralOwner = ${javaHex(n.ephemeralOwner)}`,
        `  data = ${n.data === null ? '' : n.data.toString('base64')}`,
      ]
        .join('\n')
        .trim(),
    );
  }
  const lines = [...sessions].map(([id, to]) => `${javaHex(id)}, ${to}, ${tree.ephemeralsOf(id).size}`);
  return { nodes, sessions: lines.sort() };
}
