// units.test.ts — the client's pure parts, table-driven: the session state machine, connect
// strings and host order, the watch table (which events fire which watches, as ZooKeeper's
// ZKWatchManager), setWatches batching, request checks and errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventType, OpCode } from '../../src/protocol/opcodes.js';
import { HostList, parseConnectString } from '../../src/client/connect-string.js';
import { ZkError, isZkError } from '../../src/client/errors.js';
import { createRequest, multiResults } from '../../src/client/ops.js';
import { type SessionInput, TRANSITIONS, step } from '../../src/client/session-state.js';
import type { SessionState } from '../../src/client/types.js';
import { WatchManager, setWatchesBatches } from '../../src/client/watches.js';
import { digestId } from '../../src/client/digest.js';

describe('session state machine', () => {
  const handshake: SessionInput = { kind: 'handshake', readOnly: false, newSession: false };
  const cases: [SessionState, SessionInput, SessionState, string | null][] = [
    ['connecting', handshake, 'connected', 'connected'],
    ['connecting', { kind: 'handshake', readOnly: true, newSession: false }, 'readOnly', 'readOnly'],
    ['connecting', { kind: 'connectionLost' }, 'connecting', null],
    ['connecting', { kind: 'gaveUp' }, 'closed', 'closed'],
    ['connecting', { kind: 'close' }, 'closed', 'closed'],
    ['connected', { kind: 'connectionLost' }, 'suspended', 'suspended'],
    ['connected', handshake, 'connected', null],
    ['connected', { kind: 'authFailed' }, 'authFailed', 'authFailed'],
    ['suspended', handshake, 'connected', 'reconnected'],
    ['suspended', { kind: 'handshake', readOnly: false, newSession: true }, 'connected', 'connected'],
    ['suspended', { kind: 'handshake', readOnly: true, newSession: false }, 'readOnly', 'readOnly'],
    ['suspended', { kind: 'connectionLost' }, 'suspended', null],
    ['suspended', { kind: 'expired' }, 'expired', 'expired'],
    ['suspended', { kind: 'gaveUp' }, 'expired', 'expired'],
    ['readOnly', { kind: 'connectionLost' }, 'suspended', 'suspended'],
    ['expired', handshake, 'expired', null],
    ['closed', { kind: 'connectionLost' }, 'closed', null],
    ['authFailed', { kind: 'close' }, 'authFailed', null],
  ];
  for (const [from, input, to, event] of cases) {
    test(`${from} + ${input.kind}${input.kind === 'handshake' ? JSON.stringify(input) : ''} → ${to}`, () => {
      const t = step(from, input);
      assert.equal(t.state, to);
      assert.equal(t.event, event);
    });
  }

  test('every step lands in a state its table allows, and terminal states never move', () => {
    const inputs: SessionInput[] = [
      handshake, { kind: 'handshake', readOnly: true, newSession: true }, { kind: 'connectionLost' }, { kind: 'expired' },
      { kind: 'gaveUp' }, { kind: 'authFailed' }, { kind: 'close' },
    ];
    for (const from of Object.keys(TRANSITIONS) as SessionState[]) {
      for (const input of inputs) {
        const t = step(from, input);
        assert.ok(t.state === from || TRANSITIONS[from].includes(t.state), `${from} + ${input.kind} → ${t.state}`);
        assert.equal(t.event === null, t.state === from);
        if (TRANSITIONS[from].length === 0) assert.equal(t.state, from);
      }
    }
  });
});

describe('connect string', () => {
  const cases: [string, { host: string; port: number }[], string | null][] = [
    ['127.0.0.1:2181', [{ host: '127.0.0.1', port: 2181 }], null],
    ['a:1,b:2,c', [{ host: 'a', port: 1 }, { host: 'b', port: 2 }, { host: 'c', port: 2181 }], null],
    ['a:1,b:2/app/x', [{ host: 'a', port: 1 }, { host: 'b', port: 2 }], '/app/x'],
    ['a:1/', [{ host: 'a', port: 1 }], null],
    ['[::1]:2182,[fe80::1]', [{ host: '::1', port: 2182 }, { host: 'fe80::1', port: 2181 }], null],
    ['h:', [{ host: 'h', port: 2181 }], null],
  ];
  for (const [s, hosts, chroot] of cases) {
    test(JSON.stringify(s), () => assert.deepEqual(parseConnectString(s), { hosts, chroot }));
  }
  for (const bad of ['', 'a:1/app/', 'a:1/app//x', 'a:0', 'a:x', '/app']) {
    test(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseConnectString(bad), (e) => isZkError(e, 'ZBADARGUMENTS')));
  }

  test('hosts are shuffled by the given random source and tried round robin, pausing after each round', () => {
    const hosts = [1, 2, 3, 4].map((p) => ({ host: 'h', port: p }));
    const seq = [0.9, 0.1, 0.5];
    const list = new HostList(hosts, () => seq.shift() ?? 0);
    const order = list.all().map((h) => h.port);
    assert.deepEqual([...order].sort(), [1, 2, 3, 4]);
    assert.notDeepEqual(order, [1, 2, 3, 4]);
    const tried = Array.from({ length: 9 }, () => list.next());
    assert.deepEqual(tried.map((t) => t.host.port), [...order, ...order, order[0]]);
    assert.deepEqual(tried.map((t) => t.wrapped), [false, false, false, false, true, false, false, false, true]);
    list.onConnected();
    assert.equal(list.next().wrapped, false);
  });
});

describe('watch table', () => {
  const w = (name: string) => ({ name, process() {} });
  test('events fire the watches ZooKeeper fires, one-time ones once', () => {
    const m = new WatchManager();
    const [d, e, c, p, r, root] = ['data', 'exist', 'child', 'persistent', 'recursive', 'root'].map(w) as ReturnType<typeof w>[];
    m.add('data', '/a', d!);
    m.add('exist', '/a', e!);
    m.add('child', '/a', c!);
    m.add('persistent', '/a', p!);
    m.add('recursive', '/', root!);
    m.add('recursive', '/a', r!);
    const names = (s: Set<unknown>) => [...s].map((x) => (x as { name: string }).name).sort();
    assert.deepEqual(names(m.materialize(EventType.NodeChildrenChanged, '/a')), ['child', 'persistent']);
    assert.deepEqual(names(m.materialize(EventType.NodeDataChanged, '/a')), ['data', 'exist', 'persistent', 'recursive', 'root']);
    assert.deepEqual(names(m.materialize(EventType.NodeDataChanged, '/a')), ['persistent', 'recursive', 'root']);
    assert.deepEqual(names(m.materialize(EventType.NodeCreated, '/a/b/c')), ['recursive', 'root']);
    assert.deepEqual(names(m.materialize(EventType.NodeChildrenChanged, '/a/b')), []);
    m.add('child', '/a', c!);
    m.add('data', '/a', d!);
    assert.deepEqual(names(m.materialize(EventType.NodeDeleted, '/a')), ['child', 'data', 'persistent', 'recursive', 'root']);
    assert.deepEqual(m.lists(), { data: [], exist: [], child: [], persistent: ['/a'], recursive: ['/', '/a'] });
  });

  test('remove takes one watcher or all of a type, reports what each is told, and NoWatcher when none', () => {
    const m = new WatchManager();
    const a = w('a');
    const b = w('b');
    m.add('data', '/x', a);
    m.add('exist', '/y', a);
    m.add('child', '/x', b);
    m.add('persistent', '/x', a);
    assert.equal(m.othersRemain('/x', a, 'data', 'data'), false);
    assert.equal(m.othersRemain('/x', a, 'data', 'any'), true);
    const removed = m.remove('/x', '/x', a, 'any');
    assert.deepEqual([...removed.keys()].sort(), [EventType.DataWatchRemoved, EventType.PersistentWatchRemoved]);
    assert.ok(m.has('/x', b, 'children'));
    assert.throws(() => m.remove('/x', '/x', a, 'data'), (e) => isZkError(e, 'ZNOWATCHER') && e.path === '/x');
    m.remove('/x', '/x', null, 'children');
    assert.deepEqual(m.lists(), { data: [], exist: ['/y'], child: [], persistent: [], recursive: [] });
  });

  test('setWatches batches stay under the byte limit and keep every path once, in order', () => {
    const lists = {
      data: Array.from({ length: 50 }, (_, i) => `/d/${i}`.padEnd(40, 'x')),
      exist: ['/e'],
      child: Array.from({ length: 30 }, (_, i) => `/c/${i}`),
      persistent: ['/p'],
      recursive: ['/r'],
    };
    const batches = setWatchesBatches(lists, 500);
    assert.ok(batches.length > 4);
    for (const b of batches) {
      const bytes = Object.values(b).flat().reduce((n, p) => n + 4 + Buffer.byteLength(p), 0);
      assert.ok(bytes <= 500, `batch of ${bytes} bytes`);
    }
    const kinds = ['data', 'exist', 'child', 'persistent', 'recursive'] as const;
    for (const k of kinds) assert.deepEqual(batches.flatMap((b) => b[k]), lists[k]);
    assert.deepEqual(setWatchesBatches({ data: [], exist: [], child: [], persistent: [], recursive: [] }), []);
  });
});

describe('requests and errors', () => {
  test('create picks the opcode of its mode and checks TTL, ACL and path as the Java client', () => {
    const req = (mode: Parameters<typeof createRequest>[3]['mode'], extra = {}, stat = false) =>
      createRequest('/a', '/root/a', 'x', { mode, ...extra }, stat);
    assert.equal(req('persistent').type, OpCode.create);
    assert.equal(req('persistent', {}, true).type, OpCode.create2);
    assert.equal(req('container').type, OpCode.createContainer);
    assert.equal(req('persistentWithTTL', { ttlMs: 10 }).type, OpCode.createTTL);
    assert.deepEqual(req('ephemeralSequential'), {
      type: OpCode.create, path: '/root/a', data: Buffer.from('x'), flags: 3, ttl: -1n,
      acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
    });
    const bad = (f: () => unknown, code: string) => assert.throws(f, (e) => isZkError(e) && e.code === code);
    bad(() => req('persistentWithTTL'), 'ZBADARGUMENTS');
    bad(() => req('persistentWithTTL', { ttlMs: 0 }), 'ZBADARGUMENTS');
    bad(() => req('persistentWithTTL', { ttlMs: 2n ** 40n }), 'ZBADARGUMENTS');
    bad(() => req('persistent', { ttlMs: 5 }), 'ZBADARGUMENTS');
    bad(() => req('persistent', { acl: [] }), 'ZINVALIDACL');
    bad(() => createRequest('/a/', '/a/', null, {}, false), 'ZBADARGUMENTS');
    assert.doesNotThrow(() => createRequest('/a/', '/a/', null, { mode: 'persistentSequential' }, false));
  });

  test('a failed multi throws the first failed op’s error with every result', () => {
    const wire = [
      { type: OpCode.error, err: 0 },
      { type: OpCode.error, err: -101 },
      { type: OpCode.error, err: -2 },
    ] as const;
    const ops = [{ type: 'create', path: '/a' }, { type: 'delete', path: '/b' }, { type: 'check', path: '/c', version: 1 }] as const;
    assert.throws(() => multiResults(ops, wire, (p) => p), (e) =>
      e instanceof ZkError && e.code === 'ZNONODE' && e.rc === -101 && e.path === '/b' &&
      JSON.stringify(e.results) === JSON.stringify([{ type: 'error', rc: 0 }, { type: 'error', rc: -101 }, { type: 'error', rc: -2 }]));
  });

  test('ZkError names codes as the C client and words messages as the Java one', () => {
    const e = new ZkError(-110, { path: '/a', cause: new Error('why') });
    assert.equal(e.code, 'ZNODEEXISTS');
    assert.equal(e.message, 'KeeperErrorCode = NodeExists for /a');
    assert.equal((e.cause as Error).message, 'why');
    assert.equal(new ZkError(-116).code, 'ZCLOSING');
    assert.equal(new ZkError(-999).code, 'ZUNKNOWN');
  });

  test('digestId is DigestAuthenticationProvider.generateDigest', () => {
    // From ZooKeeper's documentation and tests: super:test → super:D/InIHSb7yEEbrWz8b9l71RjZJU=
    assert.deepEqual(digestId('super', 'test'), { scheme: 'digest', id: 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=' });
  });
});

describe('connection timing', () => {
  test('a handshake gets timeout/hosts, at most a third of the session timeout', async () => {
    const { handshakeTimeoutMs } = await import('../../src/client/connection.js');
    assert.equal(handshakeTimeoutMs(30_000, 1), 10_000);
    assert.equal(handshakeTimeoutMs(30_000, 3), 10_000);
    assert.equal(handshakeTimeoutMs(30_000, 5), 6_000);
  });
});
