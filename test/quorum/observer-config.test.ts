// zoo.cfg of an ensemble member: zkts runs as an observer (server.N=...:observer, peerType=observer)
// and refuses to be a participant with a message saying what to change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/server/config.js';
import { checkRole, serverOptions } from '../../src/cli/server-command.js';
import { ZktsError } from '../../src/errors.js';

const ENSEMBLE = [
  'tickTime=500',
  'initLimit=10',
  'syncLimit=5',
  'dataDir=/var/zk',
  'clientPort=2181',
  'server.1=127.0.0.1:2888:3888',
  'server.2=127.0.0.1:2889:3889',
  'server.3=127.0.0.1:2890:3890',
];

const parse = (lines: string[], myid: number) => parseConfig(lines.join('\n'), { baseDir: '/', readFile: (p) => (p === '/var/zk/myid' ? `${myid}\n` : undefined) });

test('an observer line with peerType=observer runs as an observer with its myid in session ids', () => {
  const cfg = parse([...ENSEMBLE.filter((l) => !l.startsWith('clientPort')), 'peerType=observer', 'server.4=127.0.0.1:2891:3891:observer;127.0.0.1:2184'], 4);
  assert.equal(cfg.distributed, true);
  assert.equal(cfg.peerType, 'observer');
  checkRole(cfg);
  const opts = serverOptions(cfg);
  assert.equal(opts.quorumRole, 'observer');
  assert.equal(opts.serverId, 4);
  assert.equal(opts.port, 2184, 'the client port of its server line');
  assert.equal(opts.sessionPasswords, 'java', "ZooKeeper's derivable session passwords, so sessions move between members");
});

test('a participant zkts member is refused, saying that only observers are supported', () => {
  const cfg = parse([...ENSEMBLE, 'server.4=127.0.0.1:2891:3891:observer'], 2);
  assert.equal(cfg.peerType, 'participant');
  assert.throws(
    () => checkRole(cfg),
    (e: unknown) => e instanceof ZktsError && e.code === 'ZKTS_ERR_UNSUPPORTED' && /only as an observer/.test(e.message) && /server\.2=host:quorumPort:electionPort:observer/.test(e.message),
  );
});

test('a standalone config is not affected', () => {
  const cfg = parseConfig('dataDir=/var/zk\nclientPort=2181', { baseDir: '/', readFile: () => undefined });
  checkRole(cfg);
  const opts = serverOptions(cfg);
  assert.equal(opts.quorumRole, undefined);
  assert.equal(opts.serverId, 1);
});

test('readonlymode.enabled is acted on by an observer, not by a standalone server', () => {
  const cfg = parse([...ENSEMBLE, 'peerType=observer', 'readonlymode.enabled=true', 'server.4=127.0.0.1:2891:3891:observer'], 4);
  assert.equal(cfg.readOnlyModeEnabled, true);
  assert.ok(!cfg.unsupported.includes('readonlymode.enabled'));
  const standalone = parseConfig('dataDir=/var/zk\nclientPort=2181\nreadonlymode.enabled=true', { baseDir: '/', readFile: () => undefined });
  assert.ok(standalone.unsupported.includes('readonlymode.enabled'));
});
