// Values computed with the JDK (jshell): java.util.Random and ZooKeeper's password derivation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JavaRandom, sessionPassword } from '../../src/server/java-random.js';
import { initialSessionId } from '../../src/server/session-tracker.js';

test('JavaRandom matches java.util.Random', () => {
  const r = new JavaRandom(42n);
  assert.equal(r.nextInt(), -1170105035);
  assert.equal(r.nextInt(), 234785527);
});

test('session passwords match ZooKeeper (Random(sessionId ^ 0xB3415C00).nextBytes(16))', () => {
  assert.equal(sessionPassword(0x100000000f10000n).toString('hex'), '7542d8c15e9b3a5bdb6633e6d7d5d183');
  assert.equal(sessionPassword(0x1000a3bc5d00003n).toString('hex'), '6ff4c7a747da83e43b36d27235792722');
  assert.equal(sessionPassword(-5n).toString('hex'), 'd47144b5e45e45c49c3b7fdcd66257ba');
});

test('initial session id has ZooKeeper layout: ((ms << 24) >>> 8) | (serverId << 56)', () => {
  assert.equal(initialSessionId(1, 123456789), 72065684902051840n);
});
