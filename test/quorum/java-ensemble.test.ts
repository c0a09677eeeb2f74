// java-ensemble.test.ts — the Java ensemble harness the quorum tests stand on: three ZooKeeper 3.8
// servers elect one leader; after the leader is killed the other two elect a new one; the killed
// server restarts on its dataDir and follows. Skips with the reason when java or the jars are missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { javaEnsembleMissing, startJavaEnsemble } from './java-ensemble.js';

const skip = javaEnsembleMissing() ?? undefined;

test('a 3-server Java ensemble elects a leader, re-elects after a kill, and takes the killed server back', { skip, timeout: 180_000 }, async () => {
  await using ens = await startJavaEnsemble({ extra: [{ id: 4, type: 'observer' }] });
  assert.equal(ens.serverLines.length, 4);
  assert.match(ens.serverLines[3], /^server\.4=127\.0\.0\.1:\d+:\d+:observer$/);
  const first = await ens.leader();
  const modes = await Promise.all([1, 2, 3].map((id) => ens.mode(id)));
  assert.deepEqual(modes.filter((m) => m === 'leader').length, 1);
  assert.deepEqual(modes.filter((m) => m === 'follower').length, 2);

  await ens.kill(first);
  assert.equal(ens.server(first).running, false);
  assert.equal(await ens.mode(first), null);
  const second = await ens.leader();
  assert.notEqual(second, first);

  await ens.restart(first);
  assert.equal(await ens.waitServing(first), 'follower');
  assert.equal(await ens.leader(), second);
});
