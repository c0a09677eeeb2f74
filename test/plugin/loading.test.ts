// Loading: typed options (schema and validator), zoo.cfg's plugin.N lines through the CLI's own
// option mapping, package names, clear errors naming the plugin and the option, and the start
// and stop order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverOptions } from '../../src/cli/server-command.js';
import { definePlugin, option } from '../../src/plugin/index.js';
import { loadPlugins } from '../../src/plugin/loader.js';
import { validateOptions } from '../../src/plugin/options.js';
import { parseConfig } from '../../src/server/config.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { testOptions } from '../server/start-server.js';
import { getData, dataOf, TestClient } from './helpers.js';

const schema = {
  path: option.string({ default: '/x', pattern: /^\// }),
  rate: option.number({ min: 0 }),
  burst: option.integer({ default: 10, min: 1, max: 1000 }),
  on: option.boolean({ default: false }),
  mode: option.oneOf(['a', 'b'] as const, { optional: true }),
  hosts: option.list(option.string(), { default: [] }),
};

test('option specs read zoo.cfg text and typed values, apply defaults and report every problem', () => {
  const ok = validateOptions(schema, { rate: '2.5', burst: '20', on: 'yes', hosts: 'a, b' });
  assert.ok('options' in ok);
  assert.deepEqual(ok.options, { path: '/x', rate: 2.5, burst: 20, on: true, mode: undefined, hosts: ['a', 'b'] });
  const typed = validateOptions(schema, { rate: 1, on: false, mode: 'b', hosts: ['h'] });
  assert.ok('options' in typed);
  assert.equal(typed.options.mode, 'b');
  const bad = validateOptions(schema, { path: 'relative', burst: '2.5', on: 'maybe', mode: 'c', colour: 'red' });
  assert.ok('problems' in bad);
  assert.deepEqual(
    bad.problems.map((p) => `${p.option}: ${p.message}`),
    [
      'colour: not an option of this plugin (it takes path, rate, burst, on, mode, hosts)',
      'path: expected a string matching /^\\//, got "relative"',
      'rate: required, not given',
      'burst: expected an integer ≥ 1 ≤ 1000, got "2.5"',
      'on: expected true or false, got "maybe"',
      'mode: expected one of a, b, got "c"',
    ],
  );
});

test('setup receives typed options (compile-time and run-time)', async () => {
  let seen: { path: string; burst: number; mode: 'a' | 'b' | undefined } | null = null;
  const p = definePlugin({
    name: 'typed',
    options: schema,
    setup(ctx) {
      // these assignments only compile if the inferred option types are right
      const path: string = ctx.options.path;
      const burst: number = ctx.options.burst;
      const mode: 'a' | 'b' | undefined = ctx.options.mode;
      seen = { path, burst, mode };
    },
  });
  const server = new ZkServer(testOptions({ plugins: [{ plugin: p, options: { rate: 1, burst: 3 } }] }));
  await server.start();
  await server.stop();
  assert.deepEqual(seen, { path: '/x', burst: 3, mode: undefined });
});

test('a validator function may stand in for a schema; its error names the plugin', async () => {
  const p = definePlugin({
    name: 'validated',
    options: (raw) => {
      if (typeof raw.url !== 'string') throw new Error('url is required');
      return { url: new URL(raw.url) };
    },
    setup(ctx) {
      const u: URL = ctx.options.url;
      assert.ok(u instanceof URL);
    },
  });
  await assert.rejects(loadPlugins([p]), /plugin\.1 \(validated\): bad options: url is required/);
  const [loaded] = await loadPlugins([{ plugin: p, options: { url: 'http://127.0.0.1/' } }]);
  assert.ok((loaded!.options as { url: URL }).url instanceof URL);
});

test('zoo.cfg: plugin.N=path and plugin.N.option=value load through the CLI mapping; a bad option stops the start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zkts-plugin-cfg-'));
  try {
    const stats = join(import.meta.dirname, '../../examples/plugins/server-stats.ts');
    const text = (extra: string) =>
      `tickTime=2000\ndataDir=${dir}/data\nclientPort=0\nclientPortAddress=127.0.0.1\n` +
      `plugin.1=${stats}\nplugin.1.path=/zkts/info\n${extra}`;
    const cfg = parseConfig(text(''), { file: join(dir, 'zoo.cfg'), baseDir: dir });
    const server = new ZkServer({ ...serverOptions(cfg), log: () => {} });
    const { port } = await server.start();
    try {
      const c = await TestClient.connect('127.0.0.1', port);
      const info = JSON.parse(dataOf(await getData(c, '/zkts/info'))!) as { nodeCount: number };
      assert.equal(typeof info.nodeCount, 'number');
      c.destroy();
    } finally {
      await server.stop();
    }
    const bad = parseConfig(text('plugin.1.refreshMs=soon\n'), { file: join(dir, 'zoo.cfg'), baseDir: dir });
    const s2 = new ZkServer({ ...serverOptions(bad), log: () => {} });
    await assert.rejects(s2.start(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ZKTS_ERR_CONFIG');
      assert.match(e.message, /^plugin\.1 \(server-stats\): plugin\.1\.refreshMs: not an option of this plugin \(it takes path\)$/);
      return true;
    });
    const missing = parseConfig(`clientPort=0\ndataDir=${dir}\nplugin.7=./nowhere.js\n`, { file: join(dir, 'zoo.cfg'), baseDir: dir });
    await assert.rejects(new ZkServer({ ...serverOptions(missing), log: () => {} }).start(), /plugin\.7: cannot load .*nowhere\.js/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a plugin named by package resolves from the working directory; a module without a plugin export is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zkts-plugin-pkg-'));
  try {
    const pkg = join(dir, 'node_modules', 'zk-hello-plugin');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'zk-hello-plugin', type: 'module', exports: './index.js' }));
    // what definePlugin returns, written by hand: a package need not share zkts's module instance
    writeFileSync(join(pkg, 'index.js'), "export default { kind: 'zkts-plugin', name: 'hello', setup() {} };\n");
    writeFileSync(join(dir, 'not-a-plugin.mjs'), 'export default { name: "x" };\n');
    const [loaded] = await loadPlugins([{ plugin: 'zk-hello-plugin', id: 'h' }], dir);
    assert.equal(loaded!.label, 'plugin.h (hello)');
    await assert.rejects(loadPlugins([{ plugin: join(dir, 'not-a-plugin.mjs') }], dir), /plugin\.1: .*not-a-plugin\.mjs does not export a plugin/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('start and stop run in a defined order: setup in order, protocols after the port opens, stop in reverse', async () => {
  const events: string[] = [];
  const make = (name: string) =>
    definePlugin({
      name,
      setup(ctx) {
        events.push(`setup ${name}`);
        ctx.protocol({
          name: `proto-${name}`,
          listen() {
            events.push(`listen ${name}`);
            return () => void events.push(`protocol stop ${name}`);
          },
        });
        ctx.onStop(() => void events.push(`onStop ${name} 1`));
        ctx.onStop(() => void events.push(`onStop ${name} 2`));
      },
    });
  const server = new ZkServer(testOptions({ plugins: [make('a'), make('b')] }));
  await server.start();
  events.push('started');
  await server.stop();
  assert.deepEqual(events, [
    'setup a',
    'setup b',
    'listen a',
    'listen b',
    'started',
    'protocol stop b',
    'protocol stop a',
    'onStop b 2',
    'onStop b 1',
    'onStop a 2',
    'onStop a 1',
  ]);
});

test('two mounts on one prefix, or a built-in auth scheme, are refused at start', async () => {
  const a = definePlugin({ name: 'a', setup: (ctx) => ctx.nodeBehaviour('/same', {}) });
  const b = definePlugin({ name: 'b', setup: (ctx) => ctx.nodeBehaviour('/same', {}) });
  await assert.rejects(new ZkServer(testOptions({ plugins: [a, b] })).start(), /ZktsError: plugin\.2 \(b\): nodeBehaviour: \/same is already mounted by plugin\.1 \(a\)$/);
  const d = definePlugin({
    name: 'd',
    setup: (ctx) => ctx.authProvider({ scheme: 'digest', authenticate: () => null, matches: () => false, isValid: () => false }),
  });
  await assert.rejects(new ZkServer(testOptions({ plugins: [d] })).start(), /scheme digest is built in/);
});
