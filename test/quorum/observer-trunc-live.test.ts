// observer-trunc-live.test.ts — a zkts observer whose dataDir is ahead of an Apache ZooKeeper 3.8
// ensemble gets TRUNC from the real leader and comes back in line. The ensemble writes /base-*
// (epoch 1) and is stopped; its dataDirs are saved. It restarts (epoch 2), the zkts observer joins
// from a copy of a member's dataDir and logs /lost-* (epoch 2 txns). Then the ensemble is put back
// to the saved dataDirs and restarted: its new epoch 2 never had /lost-*, so the leader answers
// the observer's ACKEPOCH (0x2000000xx, past its last zxid 0x1000000yy) with TRUNC — the way
// ZooKeeper's own tests force TRUNC (a learner with txns the leader does not have). zkts must cut
// them, serve the leader's tree (digests of every later txn matching), and keep it across a
// restart. Skipped when Java ZooKeeper is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZooKeeper } from '../../src/client/index.js';
import { serverOptions } from '../../src/cli/server-command.js';
import { startObserver, type RunningObserver } from '../../src/quorum/observer-node.js';
import { parseConfig } from '../../src/server/config.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { freePort, javaEnsembleMissing, startJavaEnsemble, waitFor, type JavaEnsemble } from './java-ensemble.js';

const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
const skip = !existsSync(ZOOKEEPER_JAR) ? `${ZOOKEEPER_JAR} is missing (apt-get install zookeeper)` : javaEnsembleMissing();
if (skip !== null) console.log(`# skipping the observer TRUNC test: ${skip}`);

const STEP_MS = 60_000;

interface Zkts {
  server: ZkServer;
  data: DataDir;
  observer: RunningObserver;
  logs: string[];
}

/** The zkts observer (sid 4) on `dataDir` (a ZooKeeper dataDir with version-2 inside). */
async function startZkts(ens: JavaEnsemble, dir: string, dataDir: string, port: number): Promise<Zkts> {
  writeFileSync(join(dataDir, 'myid'), '4\n');
  const text = ['tickTime=500', 'initLimit=10', 'syncLimit=5', `dataDir=${dataDir}`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1', 'peerType=observer', 'admin.enableServer=false', ...ens.serverLines, ''].join('\n');
  writeFileSync(join(dir, 'zoo.cfg'), text);
  const cfg = parseConfig(text, { baseDir: dir });
  const logs: string[] = [];
  const log = (level: 'info' | 'warn' | 'error', msg: string): void => void logs.push(`${new Date().toISOString()} ${level} ${msg}`);
  const data = await DataDir.open({ dataDir: cfg.dataDir, dataLogDir: cfg.dataLogDir, extendedTypesEnabled: cfg.extendedTypesEnabled, log });
  const server = new ZkServer({ ...serverOptions(cfg), log }, data, data.initial);
  data.attach(server);
  await server.start();
  const observer = await startObserver(cfg, server, data, log);
  return { server, data, observer, logs };
}

async function stopZkts(z: Zkts): Promise<void> {
  await z.observer.stop();
  await z.server.stop();
  await z.data.close();
}

const waitServing = (z: Zkts, what: string): Promise<boolean> =>
  waitFor(what, STEP_MS, async () => z.server.serving && z.observer.peer.status.state === 'observing').catch((e: Error) => {
    throw new Error(`${e.message}\n${z.logs.slice(-40).join('\n')}`);
  });

async function write(ens: JavaEnsemble, paths: string[]): Promise<void> {
  const zk = await ZooKeeper.connect(ens.connectString, { sessionTimeoutMs: 10_000 });
  try {
    for (const p of paths) await zk.create(p, p);
  } finally {
    await zk.close();
  }
}

/** Kills every Java member; resolves once all are gone. */
async function killAll(ens: JavaEnsemble): Promise<void> {
  for (const s of ens.servers) await ens.kill(s.id);
}

test('a zkts observer ahead of the ensemble is truncated by the leader (TRUNC) and serves its tree', { skip: skip ?? false, timeout: 8 * STEP_MS }, async () => {
  const ens = await startJavaEnsemble({ extra: [{ id: 4, type: 'observer' }], cfgExtra: ['preAllocSize=64'] });
  const work = mkdtempSync(join(tmpdir(), 'zkts-observer-trunc-'));
  let z: Zkts | null = null;
  try {
    await write(ens, ['/base-0', '/base-1', '/base-2']);
    await killAll(ens);
    // The ensemble as of epoch 1, and a copy for the observer to start from.
    for (const s of ens.servers) cpSync(s.dataDir, join(work, `saved-${s.id}`), { recursive: true });
    const obsData = join(work, 'observer', 'data');
    mkdirSync(join(work, 'observer'), { recursive: true });
    cpSync(ens.server(1).dataDir, obsData, { recursive: true });
    await Promise.all(ens.servers.map((s) => ens.restart(s.id)));
    await ens.leader();

    const port = await freePort();
    z = await startZkts(ens, join(work, 'observer'), obsData, port);
    await waitServing(z, 'zkts to observe epoch 2');
    await write(ens, ['/lost-0', '/lost-1']);
    const zz = z;
    await waitFor('the observer to apply /lost-1', STEP_MS, async () => zz.server.tree.get('/lost-1') !== undefined);
    const ahead = z.server.tree.lastProcessedZxid;
    assert.equal(ahead >> 32n, 2n, 'the observer logged epoch 2 txns');
    await stopZkts(z);
    z = null;

    // The ensemble goes back to epoch 1's state; its next epoch (2 again) never had /lost-*.
    await killAll(ens);
    for (const s of ens.servers) {
      rmSync(s.dataDir, { recursive: true, force: true });
      cpSync(join(work, `saved-${s.id}`), s.dataDir, { recursive: true });
    }
    await Promise.all(ens.servers.map((s) => ens.restart(s.id)));
    await ens.leader();

    z = await startZkts(ens, join(work, 'observer'), obsData, port);
    assert.equal(z.server.tree.lastProcessedZxid, ahead, 'the observer starts ahead of the leader');
    await waitServing(z, 'zkts to observe after TRUNC');
    const trunc = z.logs.find((l) => /Truncating log to get in sync with the leader/.test(l));
    assert.ok(trunc !== undefined, `the leader sent TRUNC:\n${z.logs.slice(-30).join('\n')}`);
    assert.equal(z.server.tree.get('/lost-0'), undefined);
    assert.equal(z.server.tree.get('/lost-1'), undefined);
    assert.ok(z.server.tree.get('/base-2') !== undefined);
    // New epoch 2 txns reuse the zxids of the cut ones; the leader's digests must match ours.
    await write(ens, ['/after-0', '/after-1']);
    const zz2 = z;
    await waitFor('the observer to apply /after-1', STEP_MS, async () => zz2.server.tree.get('/after-1') !== undefined);
    assert.equal(z.observer.peer.status.digestMismatches, 0, z.logs.slice(-30).join('\n'));
    const java = await ZooKeeper.connect(ens.connectString, { sessionTimeoutMs: 10_000 });
    const mine = await ZooKeeper.connect(`127.0.0.1:${port}`, { sessionTimeoutMs: 10_000 });
    try {
      await java.sync('/');
      assert.deepEqual((await mine.getChildren('/')).sort(), (await java.getChildren('/')).sort());
      const [a, b] = [await mine.getData('/after-1'), await java.getData('/after-1')];
      assert.equal(a.stat.czxid, b.stat.czxid);
    } finally {
      await mine.close();
      await java.close();
    }
    // A restart from the truncated directory comes back to the leader's history.
    await stopZkts(z);
    z = await startZkts(ens, join(work, 'observer'), obsData, port);
    assert.equal(z.server.tree.get('/lost-0'), undefined, 'the cut txns stay cut after a restart');
    assert.ok(z.server.tree.get('/after-1') !== undefined);
    await waitServing(z, 'zkts to observe after its restart');
    assert.ok(!z.logs.some((l) => /Truncating log/.test(l)), 'no second TRUNC: the directory is in line');
    assert.equal(z.observer.peer.status.digestMismatches, 0);
  } catch (e) {
    if (z !== null) console.log(z.logs.slice(-60).join('\n'));
    for (const s of ens.servers) console.log(`--- java sid ${s.id} ---\n${ens.tail(s.id, 20)}`);
    throw e;
  } finally {
    if (z !== null) await stopZkts(z);
    await ens.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
