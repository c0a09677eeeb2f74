// java.ts — runs JavaTlsProbe.java (compiled once per test process into a temp dir) with Debian's
// ZooKeeper client jar and the Netty jars its TLS socket needs. Debian's zookeeper.jar names some
// Netty jars in its manifest but not netty-codec and netty-resolver, without which
// ClientCnxnSocketNetty fails (ClassNotFoundException: io.netty.resolver.AddressResolverGroup),
// so they are put on the class path here.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const J = '/usr/share/java';
export const ZOOKEEPER_JAR = `${J}/zookeeper.jar`;
/** Netty jars for ClientCnxnSocketNetty with TLS. */
export const NETTY_JARS = ['netty-handler', 'netty-codec', 'netty-transport', 'netty-buffer', 'netty-common', 'netty-resolver', 'netty-transport-native-unix-common'].map((n) => `${J}/${n}.jar`);
/** The client's jars: ZooKeeper, its jute records, Netty, and a silent SLF4J binding when there is one. */
export const CLIENT_CLASSPATH = [ZOOKEEPER_JAR, `${J}/zookeeper-jute.jar`, ...NETTY_JARS, ...(existsSync(`${J}/slf4j-nop.jar`) ? [`${J}/slf4j-nop.jar`] : [])];

const PROBE_SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'JavaTlsProbe.java');

/** Why the Java side cannot run here, or null. */
export function javaMissing(): string | null {
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) return 'java is not installed';
  if (spawnSync('javac', ['-version'], { stdio: 'ignore' }).status !== 0) return 'javac is not installed (apt-get install default-jdk-headless)';
  if (!existsSync(ZOOKEEPER_JAR)) return `${ZOOKEEPER_JAR} is missing (apt-get install zookeeper)`;
  const netty = NETTY_JARS.filter((j) => !existsSync(j));
  if (netty.length > 0) return `the Java client's TLS needs Netty; missing: ${netty.join(', ')} (apt-get install libnetty-java)`;
  return null;
}

let compiled: { dir: string } | null = null;

function compile(): string {
  if (compiled !== null) return compiled.dir;
  const dir = mkdtempSync(path.join(tmpdir(), 'zkts-java-probe-'));
  const r = spawnSync('javac', ['-cp', CLIENT_CLASSPATH.join(':'), '-d', dir, PROBE_SOURCE], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`javac JavaTlsProbe.java failed:\n${r.stderr}`);
  compiled = { dir };
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface ProbeResult {
  code: number | null;
  lines: string[];
  stderr: string;
}

/** Runs the probe with these -D properties and arguments. */
export function runProbe(properties: Record<string, string>, args: string[], timeoutMs = 60_000): Promise<ProbeResult> {
  const dir = compile();
  const flags = Object.entries(properties).map(([k, v]) => `-D${k}=${v}`);
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-cp', [dir, ...CLIENT_CLASSPATH].join(':'), ...flags, 'JavaTlsProbe', ...args]);
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`JavaTlsProbe ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${out}\n${err}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, lines: out.split('\n').filter((l) => l !== ''), stderr: err });
    });
  });
}
