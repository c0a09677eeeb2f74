// Stat and watch semantics of the tree, as ZooKeeper's DataTree defines them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../src/protocol/codes.js';
import { EventType, OpCode } from '../../src/protocol/opcodes.js';
import { DataTree } from '../../src/tree/data-tree.js';
import type { Watcher } from '../../src/tree/watch-manager.js';
import { Harness } from './helpers.js';

class Recorder implements Watcher {
  events: string[] = [];
  process(type: number, path: string): void {
    this.events.push(`${type}:${path}`);
  }
}

test('a new tree has /zookeeper, /zookeeper/quota and a read-only /zookeeper/config', () => {
  const t = new DataTree();
  assert.deepEqual(t.childNames('/'), ['zookeeper']);
  assert.deepEqual(t.childNames('/zookeeper').sort(), ['config', 'quota']);
  const config = t.get('/zookeeper/config')!;
  assert.deepEqual(config.acl, [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
  assert.equal(config.aversion, -1);
  assert.equal(t.allChildrenNumber('/'), 3);
});

test('create sets czxid=mzxid=pzxid, bumps parent cversion and pzxid; delete moves only pzxid', () => {
  const h = new Harness();
  const rc = h.create('/a', { data: 'x' });
  assert.equal(rc.err, Code.OK);
  const a = h.tree.statOf(h.tree.get('/a')!);
  assert.equal(a.czxid, 1n);
  assert.equal(a.mzxid, 1n);
  assert.equal(a.pzxid, 1n);
  assert.equal(a.dataLength, 1);
  h.create('/a/b');
  let parent = h.tree.statOf(h.tree.get('/a')!);
  assert.equal(parent.cversion, 1);
  assert.equal(parent.pzxid, 2n);
  assert.equal(parent.numChildren, 1);
  assert.equal(parent.mzxid, 1n);
  h.run({ type: OpCode.delete, path: '/a/b', version: -1 });
  parent = h.tree.statOf(h.tree.get('/a')!);
  assert.equal(parent.cversion, 2, 'clients see 2 × creates − children, so a delete counts');
  assert.equal(h.tree.get('/a')!.cversion, 1, 'the stored cversion counts creates (it names sequential nodes)');
  assert.equal(parent.pzxid, 3n);
  assert.equal(parent.numChildren, 0);
});

test('sequential names use the parent cversion, zero-padded to 10 digits', () => {
  const h = new Harness();
  h.create('/q');
  h.create('/q/x');
  h.run({ type: OpCode.delete, path: '/q/x', version: -1 });
  const rc = h.create('/q/n-', { flags: 2 });
  assert.equal(rc.path, '/q/n-0000000001');
});

test('ephemeral nodes are owned by the session and removed by closeSession', () => {
  const h = new Harness();
  h.create('/e', { flags: 1, sessionId: 0x55n });
  assert.equal(h.tree.get('/e')!.ephemeralOwner, 0x55n);
  assert.deepEqual([...h.tree.ephemeralsOf(0x55n)], ['/e']);
  assert.equal(h.create('/e/child').err, Code.NoChildrenForEphemerals);
  h.run({ type: OpCode.closeSession }, 0x55n);
  assert.equal(h.tree.get('/e'), undefined);
  assert.equal(h.tree.ephemeralsOf(0x55n).size, 0);
});

test('write errors come in ZooKeeper order with ZooKeeper codes', () => {
  const h = new Harness();
  assert.equal(h.create('/missing/child').err, Code.NoNode);
  assert.equal(h.create('/bad/').err, Code.NoNode, 'the parent is looked up before the path is validated');
  h.create('/p');
  assert.equal(h.create('/p/').err, Code.BadArguments);
  assert.equal(h.create('/p').err, Code.NodeExists);
  assert.equal(h.create('noslash').err, Code.BadArguments);
  assert.equal(h.create('/t', { flags: 5, ttl: 100n }).err, Code.Unimplemented, 'TTL needs extended types');
  assert.equal(h.create('/f', { flags: 9 }).err, Code.BadArguments);
  assert.equal(h.run({ type: OpCode.delete, path: '/zookeeper', version: -1 }).rc.err, Code.BadArguments);
  assert.equal(h.run({ type: OpCode.delete, path: '/nope', version: -1 }).rc.err, Code.NoNode);
  assert.equal(h.run({ type: OpCode.delete, path: '/p', version: 3 }).rc.err, Code.BadVersion);
  h.create('/p/c');
  assert.equal(h.run({ type: OpCode.delete, path: '/p', version: -1 }).rc.err, Code.NotEmpty);
  assert.equal(h.run({ type: OpCode.setData, path: '/p', data: null, version: 7 }).rc.err, Code.BadVersion);
  assert.equal(h.run({ type: OpCode.setData, path: 'p', data: null, version: -1 }).rc.err, Code.BadArguments);
  assert.equal(h.run({ type: OpCode.setACL, path: '/p', acl: [], version: -1 }).rc.err, Code.InvalidACL);
  const badScheme = [{ perms: 31, id: { scheme: 'nope', id: 'x' } }];
  assert.equal(h.run({ type: OpCode.setACL, path: '/p', acl: badScheme, version: -1 }).rc.err, Code.InvalidACL);
  const auth = [{ perms: 31, id: { scheme: 'auth', id: '' } }];
  assert.equal(h.run({ type: OpCode.setACL, path: '/p', acl: auth, version: -1 }).rc.err, Code.InvalidACL, 'auth with no user');
});

test('setData and setACL bump their versions; the version after 0x7fffffff wraps via -1 to 0', () => {
  const h = new Harness();
  h.create('/v');
  const { rc } = h.run({ type: OpCode.setData, path: '/v', data: Buffer.from('ab'), version: 0 });
  assert.equal(rc.stat!.version, 1);
  assert.equal(rc.stat!.mzxid, 2n);
  assert.equal(rc.stat!.dataLength, 2);
  const acl = h.run({ type: OpCode.setACL, path: '/v', acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }], version: 0 });
  assert.equal(acl.rc.stat!.aversion, 1);
  const zxid = ++h.zxid; // a setData txn carries the new version: put -2 in directly
  h.tree.processTxn({ clientId: 0n, cxid: 1, zxid, time: h.time++, type: OpCode.setData }, { type: OpCode.setData, path: '/v', data: Buffer.from('ab'), version: -2 });
  assert.equal(h.tree.get('/v')!.version, -2);
  const wrap = h.run({ type: OpCode.setData, path: '/v', data: null, version: -2 });
  assert.equal(wrap.rc.err, Code.NoAuth, 'the READ-only ACL now forbids WRITE');
});

test('a failed multi applies nothing: OK before the failure, its code, RuntimeInconsistency after', () => {
  const h = new Harness();
  const { rc } = h.run({
    type: OpCode.multi,
    ops: [
      { type: OpCode.create, path: '/m1', data: null, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0, ttl: -1n },
      { type: OpCode.delete, path: '/nope', version: -1 },
      { type: OpCode.setData, path: '/m1', data: null, version: -1 },
    ],
  });
  assert.deepEqual(
    rc.multi!.map((r) => r.err),
    [Code.OK, Code.NoNode, Code.RuntimeInconsistency],
  );
  assert.equal(h.tree.get('/m1'), undefined);
});

test('ops of a multi see the earlier ops of the same multi', () => {
  const h = new Harness();
  const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
  const { rc } = h.run({
    type: OpCode.multi,
    ops: [
      { type: OpCode.create, path: '/x', data: null, acl, flags: 0, ttl: -1n },
      { type: OpCode.create, path: '/x/y', data: null, acl, flags: 0, ttl: -1n },
      { type: OpCode.check, path: '/x', version: 0 },
      { type: OpCode.delete, path: '/x/y', version: 0 },
    ],
  });
  assert.deepEqual(rc.multi!.map((r) => r.err), [0, 0, 0, 0]);
  assert.equal(h.tree.get('/x')!.numChildren, 0);
  assert.equal(h.tree.get('/x')!.cversion, 1);
});

test('standard watches fire once; data, exist and child events go where ZooKeeper sends them', () => {
  const h = new Harness();
  const w = new Recorder();
  h.tree.addDataWatch('/w', w); // exists watch on a missing node
  h.create('/w');
  h.tree.addDataWatch('/w', w);
  h.tree.addChildWatch('/w', w);
  h.run({ type: OpCode.setData, path: '/w', data: null, version: -1 });
  h.run({ type: OpCode.setData, path: '/w', data: null, version: -1 });
  h.create('/w/c');
  h.create('/w/d');
  assert.deepEqual(w.events, [
    `${EventType.NodeCreated}:/w`,
    `${EventType.NodeDataChanged}:/w`,
    `${EventType.NodeChildrenChanged}:/w`,
  ]);
});

test('delete notifies a watcher with both a data and a child watch once', () => {
  const h = new Harness();
  const w = new Recorder();
  h.create('/d');
  h.tree.addDataWatch('/d', w);
  h.tree.addChildWatch('/d', w);
  h.run({ type: OpCode.delete, path: '/d', version: -1 });
  assert.deepEqual(w.events, [`${EventType.NodeDeleted}:/d`]);
});

test('persistent watches stay; recursive ones see descendants but no child-list events', () => {
  const h = new Harness();
  const p = new Recorder();
  const r = new Recorder();
  h.create('/p');
  h.tree.addPersistentWatch('/p', p, false);
  h.tree.addPersistentWatch('/p', r, true);
  h.create('/p/a');
  h.run({ type: OpCode.setData, path: '/p/a', data: null, version: -1 });
  h.run({ type: OpCode.setData, path: '/p', data: null, version: -1 });
  h.run({ type: OpCode.setData, path: '/p', data: null, version: -1 });
  assert.deepEqual(p.events, [
    `${EventType.NodeChildrenChanged}:/p`,
    `${EventType.NodeDataChanged}:/p`,
    `${EventType.NodeDataChanged}:/p`,
  ]);
  assert.deepEqual(r.events, [
    `${EventType.NodeCreated}:/p/a`,
    `${EventType.NodeDataChanged}:/p/a`,
    `${EventType.NodeDataChanged}:/p`,
    `${EventType.NodeDataChanged}:/p`,
  ]);
});

test('setWatches fires what changed since relativeZxid and re-arms the rest', () => {
  const h = new Harness();
  const w = new Recorder();
  h.create('/s1'); // zxid 1
  h.create('/s2'); // zxid 2
  h.run({ type: OpCode.setData, path: '/s2', data: null, version: -1 }); // zxid 3
  h.tree.setWatches(2n, w, { data: ['/s1', '/s2', '/gone'], exist: ['/s1', '/none'], child: ['/s1'], persistent: [], recursive: [] });
  assert.deepEqual(w.events, [
    `${EventType.NodeDataChanged}:/s2`,
    `${EventType.NodeDeleted}:/gone`,
    `${EventType.NodeCreated}:/s1`,
  ]);
  h.create('/none');
  h.run({ type: OpCode.setData, path: '/s1', data: null, version: -1 });
  assert.deepEqual(w.events.slice(3), [`${EventType.NodeCreated}:/none`, `${EventType.NodeDataChanged}:/s1`]);
});

test('clients see container and TTL owners as 0 (DataNode.copyStat)', () => {
  const h = new Harness({ extendedTypesEnabled: true });
  h.create('/c', { type: OpCode.createContainer, flags: 4 });
  h.create('/t', { type: OpCode.createTTL, flags: 5, ttl: 60000n });
  h.create('/e', { flags: 1, sessionId: 0x77n });
  assert.equal(h.tree.statOf(h.tree.get('/c')!).ephemeralOwner, 0n);
  assert.equal(h.tree.statOf(h.tree.get('/t')!).ephemeralOwner, 0n);
  assert.equal(h.tree.statOf(h.tree.get('/e')!).ephemeralOwner, 0x77n);
  assert.equal(h.tree.get('/t')!.ephemeralOwner, BigInt.asIntN(64, 0xff0000000000ea60n), 'stored as ZooKeeper stores it');
});

test('containers and TTL nodes are tracked for the reaper', () => {
  const h = new Harness({ extendedTypesEnabled: true });
  assert.equal(h.create('/c', { type: OpCode.createContainer, flags: 4 }).err, Code.OK);
  assert.ok(h.tree.containers.has('/c'));
  assert.equal(h.create('/t', { type: OpCode.createTTL, flags: 5, ttl: 500n }).err, Code.OK);
  assert.ok(h.tree.ttls.has('/t'));
  assert.equal(h.create('/t0', { type: OpCode.createTTL, flags: 5, ttl: 0n }).err, Code.BadArguments);
  assert.equal(h.create('/t1', { type: OpCode.createTTL, flags: 0, ttl: 5n }).err, Code.BadArguments);
  const txn = h.prep.prepDeleteContainer('/c', ++h.zxid);
  assert.equal(txn.type, OpCode.deleteContainer);
});
