// java-ensemble.ts — an ensemble of real Apache ZooKeeper 3.8 servers (Debian's package) on
// 127.0.0.1 for the quorum tests: N voters on free ports, each with its own dataDir and log, a
// small tickTime, the four-letter words srvr/mntr/stat/ruok, and optional extra members
// (`server.K=...:observer`) that a zkts server plays. kill() is SIGKILL, as a crash; restart()
// starts the same sid on the same dataDir and ports. Polls with deadlines, never sleeps a fixed time.
//
//   await using ens = await startJavaEnsemble({ extra: [{ id: 4, type: 'observer' }] });
//   const leader = await ens.leader();            // sid answering `srvr` with Mode: leader
//   ens.member(4).electionPort                    // ports picked for the zkts member
//   await ens.kill(leader); await ens.leader();   // a new leader among the other two
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../storage/zk-process.js';

const JAVA = '/usr/bin/java';
const JARS = '/usr/share/java';

/** Why a Java ensemble cannot run here, or null when it can. */
export function javaEnsembleMissing(): string | null {
  const r = spawnSync(JAVA, ['-cp', `${JARS}/zookeeper.jar`, 'org.apache.zookeeper.version.VersionInfoMain'], { encoding: 'utf8' });
  if (r.error) return `java is not installed (${r.error.message})`;
  if (r.status !== 0) return `ZooKeeper 3.8 jars are not usable in ${JARS}: ${r.stderr.trim().slice(0, 200)}`;
  return null;
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned; another process could take it). */
export { freePort };

/** Sends a four-letter word and returns the whole answer ('' when refused or timed out). */
export function fourLetterWord(port: number, word: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let out = '';
    sock.on('connect', () => sock.write(word));
    sock.on('data', (d) => (out += d.toString()));
    sock.on('close', () => resolve(out));
    sock.on('error', () => resolve(''));
    sock.setTimeout(timeoutMs, () => sock.destroy());
  });
}

export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export type MemberType = 'participant' | 'observer';
export type Mode = 'leader' | 'follower' | 'observer' | 'standalone';

/** One `server.N` line of the ensemble's config with its ports. */
export interface Member {
  readonly id: number;
  readonly type: MemberType;
  readonly host: '127.0.0.1';
  readonly quorumPort: number;
  readonly electionPort: number;
  readonly clientPort: number;
}

/** A Java member: a Member plus its process. */
export interface JavaServer extends Member {
  readonly dataDir: string;
  readonly logFile: string;
  readonly running: boolean;
}

export interface JavaEnsembleOptions {
  /** Java voters, sids 1..size (default 3). */
  size?: number;
  /** Members played by something else (a zkts server): listed in every Java server's config, not started. */
  extra?: ReadonlyArray<{ id: number; type: MemberType }>;
  tickTime?: number; // default 500
  initLimit?: number; // default 10
  syncLimit?: number; // default 5
  /** Extra zoo.cfg lines for every Java server. */
  cfgExtra?: readonly string[];
  /** Extra JVM flags (ZK_JVMFLAGS style), e.g. '-Dzookeeper.digest.enabled=true'. */
  jvmFlags?: string;
  /** Wait until a leader is elected and every Java server serves (default true). */
  waitReady?: boolean;
  /** Keep the directory (configs, dataDirs, logs) after stop() for post-mortems. */
  keepDir?: boolean;
  log?: (msg: string) => void;
}

export interface JavaEnsemble extends AsyncDisposable {
  readonly dir: string;
  /** Java servers by sid. */
  readonly servers: ReadonlyArray<JavaServer>;
  /** Every config member: the Java servers and the extra ones. */
  readonly members: ReadonlyArray<Member>;
  /** The `server.N=...` lines every Java server has. */
  readonly serverLines: readonly string[];
  /** `127.0.0.1:p1,127.0.0.1:p2,...` of the Java servers' client ports. */
  readonly connectString: string;
  member(id: number): Member;
  server(id: number): JavaServer;
  /** SIGKILL, as a crash; resolves once the process is gone. */
  kill(id: number): Promise<void>;
  /** Starts a killed server again (same dataDir and ports); resolves once it serves. */
  restart(id: number, timeoutMs?: number): Promise<void>;
  /** The `srvr` answer, '' if it does not answer. */
  srvr(id: number): Promise<string>;
  mntr(id: number): Promise<Map<string, string>>;
  /** Its Mode from `srvr`, null while not serving. */
  mode(id: number): Promise<Mode | null>;
  /** Waits until exactly one running Java server says leader and all running ones serve; its sid. */
  leader(timeoutMs?: number): Promise<number>;
  /** Waits until `id` serves; its mode. */
  waitServing(id: number, timeoutMs?: number): Promise<Mode>;
  /** Kills every server and removes the directory (unless keepDir). Idempotent. */
  stop(): Promise<void>;
  /** The last `lines` lines of a server's log. */
  tail(id: number, lines?: number): string;
}

interface Proc {
  child: ChildProcess | null;
  exit: Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHook) {
    exitHook = true;
    // A test that dies must not leave JVMs behind.
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

function classpath(dir: string): string {
  const jars = ['zookeeper.jar', 'zookeeper-jute.jar'];
  for (const j of ['slf4j-api', 'slf4j-log4j12', 'log4j-1.2', 'metrics-core', 'snappy-java', 'commons-cli', 'commons-io']) jars.push(`${j}.jar`);
  return [dir, ...jars.map((j) => `${JARS}/${j}`)].join(':');
}

export async function startJavaEnsemble(opts: JavaEnsembleOptions = {}): Promise<JavaEnsemble> {
  const size = opts.size ?? 3;
  const tickTime = opts.tickTime ?? 500;
  const log = opts.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'zkts-ensemble-'));
  const members: Member[] = [];
  const ids = [...Array.from({ length: size }, (_, i) => ({ id: i + 1, type: 'participant' as MemberType })), ...(opts.extra ?? [])];
  if (new Set(ids.map((m) => m.id)).size !== ids.length) throw new Error(`duplicate sid in ${JSON.stringify(ids)}`);
  const used = new Set<number>();
  const port = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!used.has(p)) return used.add(p), p;
    }
  };
  for (const m of ids) {
    members.push({ id: m.id, type: m.type, host: '127.0.0.1', quorumPort: await port(), electionPort: await port(), clientPort: await port() });
  }
  const serverLines = members.map((m) => `server.${m.id}=127.0.0.1:${m.quorumPort}:${m.electionPort}${m.type === 'observer' ? ':observer' : ''}`);
  // log4j 1.2 (Debian's ZooKeeper logs through slf4j-log4j12): everything at INFO to stdout, which
  // goes to the server's log file.
  writeFileSync(
    join(dir, 'log4j.properties'),
    [
      'log4j.rootLogger=INFO, CONSOLE',
      'log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender',
      'log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n',
      '',
    ].join('\n'),
  );
  const servers = new Map<number, { member: Member; dataDir: string; logFile: string; cfg: string; proc: Proc }>();
  for (const m of members.slice(0, size)) {
    const dataDir = join(dir, `zk${m.id}`, 'data');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'myid'), `${m.id}\n`);
    const cfg = join(dir, `zk${m.id}`, 'zoo.cfg');
    writeFileSync(
      cfg,
      [
        `tickTime=${tickTime}`,
        `initLimit=${opts.initLimit ?? 10}`,
        `syncLimit=${opts.syncLimit ?? 5}`,
        `dataDir=${dataDir}`,
        `clientPort=${m.clientPort}`,
        `clientPortAddress=127.0.0.1`,
        `admin.enableServer=false`,
        `4lw.commands.whitelist=srvr,mntr,stat,ruok,conf`,
        ...(opts.cfgExtra ?? []),
        ...serverLines,
        '',
      ].join('\n'),
    );
    servers.set(m.id, { member: m, dataDir, logFile: join(dir, `zk${m.id}`, 'server.log'), cfg, proc: { child: null, exit: Promise.resolve() } });
  }

  const spawnServer = (id: number): void => {
    const s = servers.get(id)!;
    const fd = openSync(s.logFile, 'a');
    const child = spawn(
      JAVA,
      [
        '-Xmx128m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Xshare:auto',
        '-cp',
        classpath(dir),
        `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
        `-Dzookeeper.log.dir=${join(dir, `zk${id}`)}`,
        '-Dzookeeper.admin.enableServer=false',
        ...(opts.jvmFlags ?? '').split(/\s+/).filter((f) => f !== ''),
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        s.cfg,
      ],
      { stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    track(child);
    const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    s.proc = { child, exit };
    child.once('exit', (code, signal) => {
      if (s.proc.child === child) s.proc.child = null;
      log(`java sid ${id} exited (${signal ?? code})`);
    });
    log(`java sid ${id} started (pid ${child.pid}), client ${s.member.clientPort}, quorum ${s.member.quorumPort}, election ${s.member.electionPort}`);
  };

  const get = (id: number) => {
    const s = servers.get(id);
    if (!s) throw new Error(`no Java server with sid ${id} (Java sids: ${[...servers.keys()].join(', ')})`);
    return s;
  };
  const tail = (id: number, lines = 40): string => {
    try {
      return readFileSync(get(id).logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  const srvr = (id: number) => fourLetterWord(get(id).member.clientPort, 'srvr');
  const mode = async (id: number): Promise<Mode | null> => {
    if (!get(id).proc.child) return null;
    const m = /^Mode: (\w+)/m.exec(await srvr(id));
    return m ? (m[1] as Mode) : null;
  };
  const waitServing = async (id: number, timeoutMs = 60000): Promise<Mode> => {
    try {
      return await waitFor(`Java sid ${id} to serve`, timeoutMs, async () => {
        if (!get(id).proc.child) throw new Error(`Java sid ${id} is not running`);
        return mode(id);
      });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- sid ${id} log ---\n${tail(id)}`);
    }
  };
  let stopped = false;
  const ens: JavaEnsemble = {
    dir,
    get servers() {
      return [...servers.values()].map((s) => ({ ...s.member, dataDir: s.dataDir, logFile: s.logFile, running: s.proc.child !== null }));
    },
    members,
    serverLines,
    connectString: members
      .slice(0, size)
      .map((m) => `127.0.0.1:${m.clientPort}`)
      .join(','),
    member(id) {
      const m = members.find((x) => x.id === id);
      if (!m) throw new Error(`no member with sid ${id}`);
      return m;
    },
    server(id) {
      const s = get(id);
      return { ...s.member, dataDir: s.dataDir, logFile: s.logFile, running: s.proc.child !== null };
    },
    async kill(id) {
      const s = get(id);
      s.proc.child?.kill('SIGKILL');
      await s.proc.exit;
    },
    async restart(id, timeoutMs = 60000) {
      const s = get(id);
      if (s.proc.child) throw new Error(`Java sid ${id} is running`);
      spawnServer(id);
      await waitServing(id, timeoutMs);
    },
    srvr,
    async mntr(id) {
      const m = new Map<string, string>();
      for (const line of (await fourLetterWord(get(id).member.clientPort, 'mntr')).split('\n')) {
        const [k, v] = line.split('\t');
        if (k && v !== undefined) m.set(k, v);
      }
      return m;
    },
    mode,
    waitServing,
    async leader(timeoutMs = 60000) {
      try {
        return await waitFor('one leader among the running Java servers', timeoutMs, async () => {
          const running = [...servers.keys()].filter((id) => servers.get(id)!.proc.child !== null);
          const modes = await Promise.all(running.map((id) => mode(id)));
          if (modes.some((m) => m === null)) return null;
          const leaders = running.filter((_, i) => modes[i] === 'leader');
          return leaders.length === 1 ? leaders[0] : null;
        });
      } catch (e) {
        const logs = [...servers.keys()].map((id) => `--- sid ${id} log ---\n${tail(id, 15)}`).join('\n');
        throw new Error(`${(e as Error).message}\n${logs}`);
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const s of servers.values()) s.proc.child?.kill('SIGKILL');
      await Promise.all([...servers.values()].map((s) => s.proc.exit));
      if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
    },
    tail,
    async [Symbol.asyncDispose]() {
      await ens.stop();
    },
  };
  try {
    for (const id of servers.keys()) spawnServer(id);
    if (opts.waitReady ?? true) await ens.leader();
  } catch (e) {
    await ens.stop();
    throw e;
  }
  return ens;
}
