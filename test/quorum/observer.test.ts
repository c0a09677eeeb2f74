// Issue 7, must-show 1: three Apache ZooKeeper 3.8 servers and one zkts observer on 127.0.0.1.
// Clients on the zkts observer (the project's client, and kazoo) create, read, watch and delete;
// a session created on a Java server moves to zkts and back with its ephemerals and watches (a
// TCP proxy switches its target; the client resumes the session with setWatches as any client
// does); the Java leader is killed and zkts follows the new one; every member's tree digest at
// the same zxid agrees (zkts's tree against each Java member's logged TxnDigest) and digest
// mismatches stay 0 everywhere (Java: mntr zk_digest_mismatches_count). Also: `zkts server` on
// an observer's zoo.cfg joins and serves. Skipped with a message when Java ZooKeeper is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZooKeeper, type WatchedEvent } from '../../src/client/index.js';
import { parseConfig } from '../../src/server/config.js';
import { serverOptions } from '../../src/cli/server-command.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { readTxnLog } from '../../src/storage/txn-log-reader.js';
import { treeDigest } from '../../src/tree/digest.js';
import { startObserver, type RunningObserver } from '../../src/quorum/observer-node.js';
import { fourLetterWord, freePort, javaEnsembleMissing, startJavaEnsemble, waitFor, type JavaEnsemble } from './java-ensemble.js';

const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
const skip = !existsSync(ZOOKEEPER_JAR) ? `${ZOOKEEPER_JAR} is missing (apt-get install zookeeper)` : javaEnsembleMissing();
if (skip !== null) console.log(`# skipping the observer ensemble tests: ${skip}`);

const STEP_MS = 60_000;

/** A TCP proxy whose target can be switched; switching drops the current connections. */
class SwitchProxy {
  private readonly sockets = new Set<Socket>();
  private server: Server | null = null;
  port = 0;
  constructor(private target: number) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port: this.target });
      this.sockets.add(client).add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    const a = this.server.address();
    this.port = typeof a === 'object' && a !== null ? a.port : 0;
  }

  switchTo(port: number): void {
    this.target = port;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    this.switchTo(0);
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}

interface Zkts {
  server: ZkServer;
  data: DataDir;
  observer: RunningObserver;
  port: number;
  dir: string;
  logs: string[];
}

/** The zoo.cfg of the zkts observer (sid 4) for this ensemble. */
function observerConfig(ens: JavaEnsemble, dir: string, clientPort: number): string {
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'myid'), '4\n');
  const text = [
    'tickTime=500',
    'initLimit=10',
    'syncLimit=5',
    `dataDir=${dataDir}`,
    `clientPort=${clientPort}`,
    'clientPortAddress=127.0.0.1',
    'peerType=observer',
    'readonlymode.enabled=true',
    '4lw.commands.whitelist=*',
    'admin.enableServer=false',
    ...ens.serverLines,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'zoo.cfg'), text);
  return text;
}

/** Starts the zkts observer (sid 4) in-process; on `again`'s directory and port for a restart. */
async function startZkts(ens: JavaEnsemble, again?: Zkts): Promise<Zkts> {
  const dir = again?.dir ?? mkdtempSync(join(tmpdir(), 'zkts-observer-'));
  const port = again?.port ?? (await freePort());
  const cfg = parseConfig(observerConfig(ens, dir, port), { baseDir: dir });
  const logs: string[] = [];
  const log = (level: 'info' | 'warn' | 'error', msg: string): void => {
    logs.push(`${new Date().toISOString()} ${level} ${msg}`);
  };
  const data = await DataDir.open({ dataDir: cfg.dataDir, dataLogDir: cfg.dataLogDir, extendedTypesEnabled: cfg.extendedTypesEnabled, log });
  const server = new ZkServer({ ...serverOptions(cfg), log }, data, data.initial);
  data.attach(server);
  await server.start();
  const observer = await startObserver(cfg, server, data, log);
  return { server, data, observer, port, dir, logs };
}

async function stopZkts(z: Zkts, keep = false): Promise<void> {
  await z.observer.stop();
  await z.server.stop();
  await z.data.close();
  if (!keep) rmSync(z.dir, { recursive: true, force: true });
}

const waitServing = (z: Zkts, what: string) => waitFor(what, STEP_MS, async () => z.server.serving && z.observer.peer.status.state === 'observing');

/** `Zxid: 0x…` from srvr. */
async function srvrZxid(port: number): Promise<bigint | null> {
  const m = /^Zxid: (0x[0-9a-f]+)/m.exec(await fourLetterWord(port, 'srvr'));
  return m ? BigInt(m[1]!) : null;
}

/** The TxnDigest a Java member logged with txn `zxid`, or null when it is not (yet) in its log. */
function loggedDigest(dataDir: string, zxid: bigint): bigint | null {
  for (const rec of readTxnLog(join(dataDir, 'version-2'), zxid)) {
    if (rec.hdr.zxid === zxid) return rec.digest?.treeDigest ?? null;
  }
  return null;
}

function nextEvent(zk: ZooKeeper, what: string): Promise<WatchedEvent> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), STEP_MS);
    const on = (ev: WatchedEvent): void => {
      if (ev.type === 'None') return;
      clearTimeout(t);
      zk.off('watch', on);
      resolve(ev);
    };
    zk.on('watch', on);
  });
}

function onceEvent(zk: ZooKeeper, name: 'reconnected' | 'connected', what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), STEP_MS);
    zk.once(name, () => {
      clearTimeout(t);
      resolve();
    });
  });
}

test('a zkts observer in an Apache ZooKeeper 3.8 ensemble', { skip: skip ?? false, timeout: 10 * STEP_MS }, async (t) => {
  // Learners more than 10 txns behind get a snapshot (SNAP), nearer ones the txns (DIFF).
  const ens = await startJavaEnsemble({ extra: [{ id: 4, type: 'observer' }], jvmFlags: '-Dzookeeper.commitLogCount=10 -Dzookeeper.snapshotSizeFactor=-1' });
  let zkts: Zkts | null = null;
  const clients: ZooKeeper[] = [];
  const connect = async (hosts: string): Promise<ZooKeeper> => {
    const zk = await ZooKeeper.connect(hosts, { sessionTimeoutMs: 20_000, reconnectDelayMs: 100 });
    clients.push(zk);
    return zk;
  };
  try {
    zkts = await startZkts(ens);
    const z = zkts;
    await waitServing(z, 'the zkts observer to sync and serve');
    const javaPort = (id: number) => ens.server(id).clientPort;

    await t.test('srvr says observer', async () => {
      assert.match(await fourLetterWord(z.port, 'srvr'), /^Mode: observer$/m);
      // /zookeeper/config: every member's own config, the same text on all of them
      const java = await connect(`127.0.0.1:${javaPort(1)}`);
      const local = await connect(`127.0.0.1:${z.port}`);
      const [theirs, ours] = await Promise.all([java.getConfig(), local.getConfig()]);
      assert.equal(ours.data.toString(), theirs.data.toString());
      assert.match(ours.data.toString(), /^server\.4=127\.0\.0\.1:\d+:\d+:observer$/m);
      assert.equal(ours.stat.version, theirs.stat.version);
      assert.equal(ours.stat.mzxid, theirs.stat.mzxid);
      await java.close();
      await local.close();
      const mntr = await fourLetterWord(z.port, 'mntr');
      assert.match(mntr, /^zk_server_state\tobserver$/m);
      assert.match(mntr, /^zk_peer_state\tobserving - broadcast$/m);
      assert.match(mntr, /^zk_quorum_size\t3$/m);
      assert.match(mntr, /^zk_cnt_observer_sync_time\t1$/m, 'one sync so far');
      assert.match(mntr, /^zk_looking_count\t1$/m);
      assert.match(mntr, /^zk_cnt_election_time\t1$/m);
    });

    await t.test('clients on zkts create, read, watch and delete; writes are the ensemble’s', async () => {
      const local = await connect(`127.0.0.1:${z.port}`);
      const java = await connect(`127.0.0.1:${javaPort(1)}`);
      assert.equal(local.sessionId >> 56n, 4n, 'a session created through the observer has its sid');
      await local.create('/obs', 'from zkts');
      // a write acknowledged by one server is seen on another after a sync (ZooKeeper promises no
      // more: the Java server may not have applied the commit yet)
      await java.sync('/obs');
      assert.equal((await java.getData('/obs')).data.toString(), 'from zkts', 'the write went through the leader');
      assert.equal((await local.getData('/obs')).data.toString(), 'from zkts');
      // a watch on zkts fires for a write made on a Java server
      assert.equal(await local.exists('/obs/child', { watch: true }), null);
      const fired = nextEvent(local, 'NodeCreated on zkts');
      await java.create('/obs/child', 'x');
      assert.equal((await fired).type, 'NodeCreated');
      assert.equal((await fired).path, '/obs/child');
      const seq = await local.create('/obs/seq-', null, { mode: 'persistentSequential' });
      assert.match(seq, /^\/obs\/seq-\d{10}$/);
      await assert.rejects(local.setData('/obs', 'v', { version: 7 }), (e: unknown) => (e as { code?: string }).code === 'ZBADVERSION');
      await local.sync('/obs');
      assert.deepEqual((await local.getChildren('/obs')).sort(), ['child', seq.slice(5)].sort());
      await local.delete('/obs/child');
      await local.delete(seq);
      await java.sync('/obs');
      assert.equal(await java.exists('/obs/child'), null);
      await local.close();
    });

    await t.test('kazoo on zkts', { skip: spawnSync('/usr/bin/python3', ['-c', 'import kazoo']).status !== 0 ? 'kazoo is not installed' : false }, async () => {
      const script = [
        'import sys, threading',
        'from kazoo.client import KazooClient',
        `zk = KazooClient(hosts='127.0.0.1:${z.port}', timeout=20)`,
        'zk.start(timeout=30)',
        "zk.create('/kazoo', b'k1')",
        'ev = threading.Event()',
        "data, _ = zk.get('/kazoo', watch=lambda e: ev.set())",
        "zk.set('/kazoo', b'k2')",
        'assert ev.wait(30), "no watch event"',
        "print(data.decode(), zk.get('/kazoo')[0].decode())",
        "zk.delete('/kazoo')",
        "print(zk.exists('/kazoo'))",
        'zk.stop()',
      ].join('\n');
      const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const p = spawn('/usr/bin/python3', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (out += d));
        const timer = setTimeout(() => p.kill('SIGKILL'), STEP_MS);
        p.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, out });
        });
      });
      assert.equal(r.code, 0, r.out);
      assert.equal(r.out.trim(), 'k1 k2\nNone');
    });

    await t.test('a session moves from a Java server to zkts and back with its ephemerals and watches', async () => {
      const proxy = new SwitchProxy(javaPort(1));
      await proxy.start();
      try {
        const other = await connect(`127.0.0.1:${javaPort(3)}`);
        await other.create('/move', null);
        const mover = await connect(`127.0.0.1:${proxy.port}`);
        await mover.create('/move/e', 'mine', { mode: 'ephemeral' });
        assert.equal(await mover.exists('/move/w', { watch: true }), null);

        let moved = onceEvent(mover, 'reconnected', 'the session to resume on zkts');
        proxy.switchTo(z.port);
        await moved;
        assert.ok([...z.server.connections].some((c) => c.sessionId === mover.sessionId && !c.closed), 'the session is now served by zkts');
        assert.equal((await mover.exists('/move/e'))?.ephemeralOwner, mover.sessionId, 'its ephemeral is still there');
        let fired = nextEvent(mover, 'NodeCreated through zkts');
        await other.create('/move/w', 'w0');
        const created = await fired;
        assert.equal(created.type, 'NodeCreated');
        assert.equal(created.path, '/move/w', 'the watch set on the Java server fires on zkts');
        // a write of the moved session through zkts, and a new watch set on zkts
        await mover.setData('/move/e', 'still mine');
        await mover.getData('/move/w', { watch: true });

        moved = onceEvent(mover, 'reconnected', 'the session to resume on Java server 2');
        proxy.switchTo(javaPort(2));
        await moved;
        assert.ok(![...z.server.connections].some((c) => c.sessionId === mover.sessionId && !c.closed), 'zkts no longer holds the session');
        fired = nextEvent(mover, 'NodeDataChanged through Java server 2');
        await other.setData('/move/w', 'w1');
        const ev = await fired;
        assert.equal(ev.type, 'NodeDataChanged');
        assert.equal(ev.path, '/move/w');
        assert.equal((await other.getData('/move/e')).data.toString(), 'still mine');
        await mover.close();
        await waitFor('the ephemeral to go with the session (seen on zkts)', STEP_MS, async () => z.server.tree.get('/move/e') === undefined);
      } finally {
        await proxy.stop();
      }
    });

    await t.test('the Java leader is killed and zkts follows the new one', async () => {
      const old = await ens.leader();
      const local = await connect(`127.0.0.1:${z.port}`);
      await local.create('/before-failover', null);
      await ens.kill(old);
      const next = await ens.leader();
      assert.notEqual(next, old);
      await waitFor(`zkts to observe the new leader ${next}`, STEP_MS, async () => z.server.serving && z.observer.peer.status.leaderId === next);
      // the client's session survives the move: it reconnects to zkts and goes on
      await waitFor('a write through zkts to the new leader', STEP_MS, async () => {
        try {
          await local.create('/after-failover', 'ok');
          return true;
        } catch (e) {
          return (e as { code?: string }).code === 'ZNODEEXISTS';
        }
      });
      const java = await connect(`127.0.0.1:${javaPort(next)}`);
      await java.sync('/after-failover');
      assert.equal((await java.getData('/after-failover')).data.toString(), 'ok');
      assert.ok(await local.exists('/before-failover'));
      await ens.restart(old);
    });

    await t.test('pipelined writes and reads of several sessions on zkts, with Java writers alongside, are answered in order', async () => {
      const sessions = await Promise.all([0, 1, 2, 3].map(() => connect(`127.0.0.1:${z.port}`)));
      const java = await connect(`127.0.0.1:${javaPort(await ens.leader())}`);
      await sessions[0]!.create('/load', null);
      const seen: string[] = [];
      const watcher = sessions[0]!;
      await watcher.getChildren('/load', { watch: true });
      const N = 50;
      const work = sessions.map(async (zk, s) => {
        const ops: Promise<unknown>[] = [];
        for (let i = 0; i < N; i++) {
          const path = `/load/s${s}-${i}`;
          ops.push(zk.create(path, `v${i}`));
          ops.push(zk.setData(path, `w${i}`));
          ops.push(zk.getData(path).then((r) => r.data.toString()));
        }
        const results = await Promise.all(ops);
        for (let i = 0; i < N; i++) {
          assert.equal(results[3 * i], `/load/s${s}-${i}`);
          assert.equal(results[3 * i + 2], `w${i}`, 'a read answered after the session’s earlier write');
        }
      });
      const javaWork = (async () => {
        for (let i = 0; i < N; i++) await java.create(`/load/java-${i}`, null);
      })();
      const fired = nextEvent(watcher, 'the child watch on zkts').then((e) => seen.push(`${e.type} ${e.path}`));
      await Promise.all([...work, javaWork, fired]);
      assert.deepEqual(seen, ['NodeChildrenChanged /load']);
      // The Java client's last create is acknowledged by the leader, which sends the observer its
      // INFORM first but does not wait for it to be applied: another session sees it on zkts only
      // after a sync (ZooKeeper promises no simultaneously consistent cross-client views). The
      // leader answers the sync after that INFORM, and zkts answers it after applying it.
      await sessions[1]!.sync('/load');
      assert.equal((await sessions[1]!.getChildren('/load')).length, 5 * N);
      assert.equal(z.logs.filter((l) => l.includes('expected')).length, 0, 'every committed txn matched its session’s oldest forwarded write');
      const commits = Number(/^zk_learner_commit_received_count\t(\d+)$/m.exec(await fourLetterWord(z.port, 'mntr'))?.[1]);
      assert.ok(commits >= 4 * N * 2 + N, `INFORMs counted in learner_commit_received_count (${commits})`);
      for (const zk of sessions) await zk.close();
    });

    await t.test('every member has the same digest at the same zxid; no digest mismatches', async () => {
      const local = await connect(`127.0.0.1:${z.port}`);
      await local.create('/digest-check', 'last');
      await local.sync('/');
      const zxid = z.server.tree.lastProcessedZxid;
      const running = ens.servers.filter((s) => s.running);
      assert.equal(running.length, 3);
      // every Java member has logged the txn (followers log before they ack; the restarted one syncs)
      const digests = await waitFor('every Java member to log the last txn', STEP_MS, async () => {
        const ds = running.map((s) => loggedDigest(s.dataDir, zxid));
        return ds.every((d) => d !== null) ? ds : null;
      });
      const ours = treeDigest(z.server.tree);
      for (const [i, d] of digests.entries()) assert.equal(d, ours, `sid ${running[i]!.id}'s digest at 0x${zxid.toString(16)}`);
      for (const s of running) {
        assert.equal(await srvrZxid(s.clientPort).then((x) => (x !== null && x >= zxid) || x), true, `sid ${s.id} has applied 0x${zxid.toString(16)}`);
        const m = await ens.mntr(s.id);
        assert.equal(m.get('zk_digest_mismatches_count'), '0', `sid ${s.id} digest mismatches`);
      }
      assert.equal(z.observer.peer.status.digestMismatches, 0, 'zkts digest mismatches');
      assert.match(await fourLetterWord(z.port, 'mntr'), /^zk_digest_mismatches_count\t0$/m);
    });

    await t.test('a restarted zkts observer resumes from its data directory (DIFF, no snapshot) and keeps its epochs', async () => {
      const before = z.server.tree.lastProcessedZxid;
      const epoch = before >> 32n;
      assert.equal(readFileSync(join(z.dir, 'data', 'version-2', 'acceptedEpoch'), 'utf8'), `${epoch}`);
      assert.equal(readFileSync(join(z.dir, 'data', 'version-2', 'currentEpoch'), 'utf8'), `${epoch}`);
      await stopZkts(z, true);
      zkts = null;
      const java = await connect(`127.0.0.1:${javaPort(await ens.leader())}`);
      await java.create('/while-observer-down', 'missed');
      zkts = await startZkts(ens, z);
      const again = zkts;
      assert.ok(again.server.tree.lastProcessedZxid >= before, 'the tree is recovered from disk');
      await waitServing(again, 'the restarted observer to serve');
      assert.equal(again.observer.peer.status.snapshots, 0, 'synced by DIFF, not SNAP');
      const local = await connect(`127.0.0.1:${again.port}`);
      assert.equal((await local.getData('/while-observer-down')).data.toString(), 'missed');
      assert.equal((await local.getData('/digest-check')).data.toString(), 'last');
      assert.equal(again.observer.peer.status.digestMismatches, 0);
    });

    await t.test('zkts server on an observer zoo.cfg joins and serves', async () => {
      const z = zkts!;
      // a second zkts observer is not in the Java servers' configs: it is accepted as sid 5
      // (ZooKeeper takes an observer it does not know) and serves from the same ensemble.
      const dir = mkdtempSync(join(tmpdir(), 'zkts-observer-cli-'));
      const port = await freePort();
      const dataDir = join(dir, 'data');
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, 'myid'), '5\n');
      const quorumPort = await freePort();
      const electionPort = await freePort();
      writeFileSync(
        join(dir, 'zoo.cfg'),
        ['tickTime=500', 'initLimit=10', 'syncLimit=5', `dataDir=${dataDir}`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1', 'admin.enableServer=false', '4lw.commands.whitelist=*',
          ...ens.serverLines, `server.5=127.0.0.1:${quorumPort}:${electionPort}:observer`, ''].join('\n'),
      );
      const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'server', join(dir, 'zoo.cfg')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      try {
        await waitFor('the zkts observer process to serve', STEP_MS, async () => /^Mode: observer$/m.test(await fourLetterWord(port, 'srvr'))).catch((e) => {
          throw new Error(`${(e as Error).message}\n${out}`);
        });
        assert.match(out, /Getting a snapshot from leader/, 'a new observer far behind gets a snapshot (SNAP)');
        const zk = await connect(`127.0.0.1:${port}`);
        assert.equal((await zk.getData('/digest-check')).data.toString(), 'last');
        await zk.create('/from-cli-observer', null, { mode: 'ephemeral' });
        await waitFor('the in-process observer to see the write of the other one', STEP_MS, async () => z.server.tree.get('/from-cli-observer') !== undefined);
        // txns applied on top of the leader's snapshot match the leader's digests
        assert.match(await fourLetterWord(port, 'mntr'), /^zk_digest_mismatches_count\t0$/m);
        await zk.close();
      } finally {
        p.kill('SIGTERM');
        await new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)));
        rmSync(dir, { recursive: true, force: true });
      }
    });
    await t.test('with no quorum left zkts serves read-only clients (readonlymode.enabled), then read-write again', async () => {
      const z = zkts!;
      const leader = await ens.leader();
      const others = [1, 2, 3].filter((id) => id !== leader);
      for (const id of others) await ens.kill(id);
      await waitFor('zkts to serve read-only', STEP_MS, async () => z.server.readOnly);
      assert.equal(await fourLetterWord(z.port, 'isro'), 'ro');
      assert.match(await fourLetterWord(z.port, 'srvr'), /^Mode: read-only$/m);
      const ro = await ZooKeeper.connect(`127.0.0.1:${z.port}`, { canBeReadOnly: true, sessionTimeoutMs: 20_000, reconnectDelayMs: 100 });
      clients.push(ro);
      assert.equal(ro.state, 'readOnly');
      assert.equal((await ro.getData('/digest-check')).data.toString(), 'last');
      await assert.rejects(ro.create('/ro-write', null), (e: unknown) => (e as { code?: string }).code === 'ZNOTREADONLY');
      for (const id of others) await ens.restart(id);
      await waitServing(z, 'zkts to observe a leader again');
      assert.equal(await fourLetterWord(z.port, 'isro'), 'rw');
      const rw = await connect(`127.0.0.1:${z.port}`);
      await rw.create('/after-read-only', null);
      assert.equal(z.observer.peer.status.digestMismatches, 0);
    });
  } catch (e) {
    if (zkts !== null) console.log(zkts.logs.slice(-60).join('\n'));
    throw e;
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    if (zkts !== null) await stopZkts(zkts);
    await ens.stop();
  }
});
