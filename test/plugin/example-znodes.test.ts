// Example 1, custom znodes: the JSON-Schema subtree (examples/plugins/json-config.ts, with its
// validator json-schema-lite.ts) and the live stats node (examples/plugins/server-stats.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsonConfig from '../../examples/plugins/json-config.js';
import { checkSchema, validate, type Schema } from '../../examples/plugins/json-schema-lite.js';
import serverStats from '../../examples/plugins/server-stats.js';
import { Code, OpCode } from '../../src/plugin/index.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { testOptions } from '../server/start-server.js';
import { create, dataOf, del, getData, setData, startWithPlugins } from './helpers.js';

const SERVICE: Schema = {
  $defs: { port: { type: 'integer', minimum: 1, maximum: 65535 } },
  type: 'object',
  required: ['host', 'port'],
  properties: {
    host: { type: 'string', minLength: 1, pattern: '^[a-z0-9.-]+$' },
    port: { $ref: '#/$defs/port' },
    tags: { type: 'array', items: { type: 'string' }, uniqueItems: true, maxItems: 3 },
    mode: { enum: ['active', 'standby'] },
    weight: { type: 'number', exclusiveMinimum: 0, multipleOf: 0.5 },
  },
  additionalProperties: false,
};

test('json-schema-lite: the subset, valid and invalid documents (cases checked by hand against the 2020-12 spec)', () => {
  const cases: Array<[unknown, string[]]> = [
    [{ host: 'db.local', port: 5432 }, []],
    [{ host: 'db.local', port: 5432, tags: ['a', 'b'], mode: 'standby', weight: 1.5 }, []],
    [{ host: 'db.local' }, ['(root) property "port" is required']],
    [{ host: 'DB', port: 0 }, ['/host must match ^[a-z0-9.-]+$', '/port must be ≥ 1']],
    [{ host: 'h', port: 1.5 }, ['/port expected integer, got number']],
    [{ host: 'h', port: 1, extra: true }, ['/extra is not an allowed property']],
    [{ host: 'h', port: 1, tags: ['a', 'a'] }, ['/tags items must be unique']],
    [{ host: 'h', port: 1, tags: ['a', 'b', 'c', 'd'] }, ['/tags must have at most 3 items']],
    [{ host: 'h', port: 1, mode: 'off' }, ['/mode must be one of ["active","standby"]']],
    [{ host: 'h', port: 1, weight: 0.3 }, ['/weight must be a multiple of 0.5']],
    [{ host: 'h', port: 1, weight: 0 }, ['/weight must be > 0']],
    [[1, 2], ['(root) expected object, got array']],
  ];
  for (const [doc, expected] of cases) {
    const got: string[] = validate(SERVICE, doc).map((e) => `${e.at || '(root)'} ${e.message}`);
    assert.deepEqual(got, expected, JSON.stringify(doc));
  }
  const combos: Schema = { oneOf: [{ type: 'string' }, { type: 'integer' }, { type: 'number', minimum: 10 }], not: { const: 'x' } };
  assert.deepEqual(validate(combos, 'a'), []);
  assert.deepEqual(validate(combos, 3), []);
  assert.equal(validate(combos, 12).length, 1, '12 is an integer and a number ≥ 10: two branches of oneOf');
  assert.equal(validate(combos, 'x').length, 1);
  assert.deepEqual(validate({ anyOf: [{ type: 'null' }, { type: 'boolean' }] }, null), []);
  assert.deepEqual(validate({ prefixItems: [{ type: 'string' }], items: { type: 'integer' } }, ['a', 1, 2]), []);
  assert.equal(validate({ patternProperties: { '^x-': { type: 'string' } }, additionalProperties: false }, { 'x-a': 1 }).length, 1);
  assert.throws(() => checkSchema({ if: { type: 'string' } }), /keyword "if" is not supported/);
  assert.throws(() => checkSchema({ $ref: 'http://example.com/s.json' }), /only local refs/);
  assert.throws(() => checkSchema({ type: 'float' }), /unknown type "float"/);
});

test('json-config: writes under the prefix must be JSON matching the schema; valid ones are stored normalised', async () => {
  const f = await startWithPlugins([{ plugin: jsonConfig, options: { prefix: '/config', schema: JSON.stringify(SERVICE) } }]);
  try {
    const c = await f.connect();
    assert.equal((await create(c, '/config')).err, Code.OK, 'the mount point itself is not checked');
    assert.equal((await create(c, '/config/db', '{ "host": "db.local",  "port": 5432 }')).err, Code.OK);
    assert.equal(dataOf(await getData(c, '/config/db')), '{"host":"db.local","port":5432}');
    assert.equal((await create(c, '/config/bad', '{"host":"db.local"}')).err, Code.BadArguments);
    assert.equal((await create(c, '/config/notjson', 'host=db')).err, Code.BadArguments);
    assert.equal((await create(c, '/config/empty')).err, Code.BadArguments);
    assert.equal((await setData(c, '/config/db', '{"host":"db.local","port":99999}')).err, Code.BadArguments);
    assert.equal((await setData(c, '/config/db', '{"host":"db2","port":6543}')).err, Code.OK);
    assert.equal(dataOf(await getData(c, '/config/db')), '{"host":"db2","port":6543}');
    assert.ok(f.logs.some((l) => l.includes('/config/db refused: /port must be ≤ 65535')));
    // outside the prefix, anything goes
    assert.equal((await create(c, '/configs', 'not json')).err, Code.OK);
  } finally {
    await f.stop();
  }
});

test('json-config: schemaFile, normalise=false and allowEmpty; a bad schema or both schema options stop the start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zkts-json-config-'));
  try {
    const file = join(dir, 'schema.json');
    writeFileSync(file, JSON.stringify({ type: 'object' }));
    const f = await startWithPlugins([{ plugin: jsonConfig, options: { prefix: '/cfg', schemaFile: file, normalise: 'false', allowEmpty: 'true' } }]);
    try {
      const c = await f.connect();
      await create(c, '/cfg');
      assert.equal((await create(c, '/cfg/dir')).err, Code.OK);
      assert.equal((await create(c, '/cfg/dir/x', '{ "a" : 1 }')).err, Code.OK);
      assert.equal(dataOf(await getData(c, '/cfg/dir/x')), '{ "a" : 1 }');
      assert.equal((await create(c, '/cfg/dir/y', '[1]')).err, Code.BadArguments);
    } finally {
      await f.stop();
    }
    writeFileSync(file, JSON.stringify({ type: 'object', dependentRequired: {} }));
    await assert.rejects(
      new ZkServer(testOptions({ plugins: [{ plugin: jsonConfig, options: { schemaFile: file } }] })).start(),
      /plugin\.1 \(json-config\): setup .*keyword "dependentRequired" is not supported/,
    );
    await assert.rejects(
      new ZkServer(testOptions({ plugins: [{ plugin: jsonConfig, options: { schemaFile: file, schema: '{}' } }] })).start(),
      /give exactly one of the options schemaFile and schema/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('server-stats: a read-only virtual node with live figures, including plugin counters', async () => {
  const f = await startWithPlugins([serverStats, { plugin: jsonConfig, options: { schema: '{"type":"object"}' } }]);
  try {
    const c = await f.connect();
    const read = async () => JSON.parse(dataOf(await getData(c, '/zkts/stats'))!) as Record<string, unknown>;
    const before = await read();
    await create(c, '/a');
    await create(c, '/config');
    await create(c, '/config/x', 'nope');
    const after = await read();
    assert.equal(after.nodeCount, (before.nodeCount as number) + 2);
    assert.equal(after.sessionCount, 1);
    assert.ok((after.packetsReceived as number) > (before.packetsReceived as number));
    const plugins = after.plugins as Array<{ plugin: string; refusals: number }>;
    assert.deepEqual(plugins.map((p) => p.plugin), ['plugin.1 (server-stats)', 'plugin.2 (json-config)']);
    assert.equal(plugins[1]!.refusals, 1);
    const exists = await c.request({ type: OpCode.exists, path: '/zkts/stats', watch: false });
    assert.equal(exists.err, Code.OK);
    // read-only
    await create(c, '/zkts');
    assert.equal((await create(c, '/zkts/stats', 'x')).err, Code.NoAuth);
    assert.equal((await setData(c, '/zkts/stats', 'x')).err, Code.NoNode, 'it is not in the tree');
    assert.equal((await del(c, '/zkts/stats')).err, Code.NoNode);
  } finally {
    await f.stop();
  }
});
