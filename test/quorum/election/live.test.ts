// live.test.ts — the ElectionService against real Apache ZooKeeper 3.8 servers: as observer sid 4
// (listed in the Java servers' config as server.4=...:observer) it learns the leader of a running
// 3-node ensemble; after the Java leader is killed, lookForLeader finds the one the remaining two
// elected; and while it observes, a restarted Java server that asks it gets its vote. Started
// before the Java servers, it learns the leader of their first election.
// Skips with the reason when java or the ZooKeeper jars are missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { ElectionService, LONG_MIN, type ElectionResult } from '../../../src/quorum/election/index.js';
import { javaEnsembleMissing, startJavaEnsemble, waitFor } from '../java-ensemble.js';

const skip = javaEnsembleMissing() ?? undefined;

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/**
 * What a learner does: elect, and when the leader cannot be reached, look again. Right after an
 * election the new leader may not listen on its quorum port yet. (A Java observer may also decide
 * for the lost leader, from the old votes LOOKING voters answer with; zkts's does not.)
 */
async function electReachable(election: ElectionService, log: string[]): Promise<{ result: ElectionResult; attempts: number }> {
  for (let attempts = 1; attempts <= 10; attempts++) {
    const result = await election.lookForLeader({ lastZxid: 0n, currentEpoch: 0n }, AbortSignal.timeout(60_000));
    if (result.leader && (await reachable(result.leader.host, result.leader.quorumPort))) return { result, attempts };
    log.push(`leader ${result.leaderId} unreachable, looking again`);
    election.setPeerState('LOOKING');
  }
  throw new Error('no reachable leader after 10 elections');
}

test('an observer ElectionService learns the leader of a running Java ensemble, and the new one after the leader is killed', { skip, timeout: 240_000 }, async () => {
  await using ens = await startJavaEnsemble({ extra: [{ id: 4, type: 'observer' }] });
  const logs: string[] = [];
  const me = ens.member(4);
  const election = new ElectionService({
    myId: 4,
    electionAddress: { host: '127.0.0.1', port: me.electionPort },
    peers: ens.members.map((m) => ({ id: m.id, host: m.host, electionPort: m.electionPort, quorumPort: m.quorumPort, type: m.type })),
    learnerType: 'observer',
    log: (level, msg) => logs.push(`${new Date().toISOString()} ${level} ${msg}`),
  });
  await election.start();
  try {
    const first = await ens.leader();
    const r1 = await election.lookForLeader({ lastZxid: 0n, currentEpoch: 0n }, AbortSignal.timeout(30_000));
    assert.equal(r1.leaderId, first, 'the leader srvr reports');
    assert.equal(r1.state, 'OBSERVING');
    assert.equal(election.state, 'OBSERVING');
    assert.ok(r1.peerEpoch >= 1n, `peerEpoch ${r1.peerEpoch}`);
    assert.deepEqual([r1.leader?.host, r1.leader?.quorumPort], ['127.0.0.1', ens.member(first).quorumPort]);
    assert.ok(r1.configText !== null && r1.configText.includes(`server.4=127.0.0.1:${me.quorumPort}:${me.electionPort}:observer`), `config text ${r1.configText}`);
    // The vote an observer holds is the leader's; it never proposes itself.
    assert.notEqual(election.currentVote?.leader, LONG_MIN);

    await ens.kill(first);
    election.setPeerState('LOOKING');
    logs.push("---- second election");
    const { result: r2, attempts } = await electReachable(election, logs);
    logs.push(`second election: ${attempts} attempt(s)`);
    const second = await ens.leader();
    assert.equal(r2.leaderId, second, 'the leader the remaining two elected');
    assert.notEqual(r2.leaderId, first);
    assert.equal(r2.state, 'OBSERVING');
    assert.ok(r2.peerEpoch > r1.peerEpoch || r2.electionEpoch > r1.electionEpoch, `epochs ${r1.peerEpoch}/${r1.electionEpoch} -> ${r2.peerEpoch}/${r2.electionEpoch}`);

    // The killed server comes back while we observe: it elects among the voters and follows; our
    // election port keeps answering (a LOOKING voter gets our vote) and does not disturb it.
    await ens.restart(first);
    assert.equal(await ens.waitServing(first), 'follower');
    assert.equal(await ens.leader(), second);
    assert.equal(election.state, 'OBSERVING');
  } catch (e) {
    console.error(logs.slice(-60).join('\n'));
    throw e;
  } finally {
    if (process.env.ZKTS_TEST_LOG) console.error(logs.join('\n'));
    await election.stop();
  }
});

test('an observer that starts before the Java servers learns the leader of their first election', { skip, timeout: 240_000 }, async () => {
  await using ens = await startJavaEnsemble({ extra: [{ id: 4, type: 'observer' }], waitReady: false });
  const logs: string[] = [];
  const me = ens.member(4);
  const election = new ElectionService({
    myId: 4,
    electionAddress: { host: '127.0.0.1', port: me.electionPort },
    peers: ens.members.map((m) => ({ id: m.id, host: m.host, electionPort: m.electionPort, quorumPort: m.quorumPort, type: m.type })),
    learnerType: 'observer',
    log: (level, msg) => logs.push(`${new Date().toISOString()} ${level} ${msg}`),
  });
  await election.start();
  try {
    // The JVMs may still be starting: refused dials are retried, and LOOKING voters answer with
    // their own votes until they decide.
    const { result } = await electReachable(election, logs);
    const leader = await ens.leader();
    assert.equal(result.leaderId, leader);
    assert.equal(result.state, 'OBSERVING');
    assert.equal(result.electionEpoch, 1n, 'the ensemble decided in its first round');
  } catch (e) {
    console.error(logs.slice(-60).join('\n'));
    throw e;
  } finally {
    if (process.env.ZKTS_TEST_LOG) console.error(logs.join('\n'));
    await election.stop();
  }
});
