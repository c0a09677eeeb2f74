// Every subpath the package exports resolves (from the build) and gives what the README promises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, string> };

test('every subpath export resolves to a built module', async () => {
  for (const sub of Object.keys(pkg.exports)) {
    if (sub === './package.json') continue;
    const spec = sub === '.' ? 'zkts' : `zkts/${sub.slice(2)}`;
    const mod = (await import(spec)) as Record<string, unknown>;
    assert.ok(Object.keys(mod).length > 0, `${spec} exports something`);
  }
});

test('the documented entry points are there', async () => {
  const main = (await import('zkts')) as Record<string, unknown>;
  assert.equal(typeof main['createServer'], 'function');
  assert.equal(typeof ((await import('zkts/client')) as Record<string, unknown>)['ZooKeeper'], 'function');
  assert.equal(typeof ((await import('zkts/recipes')) as Record<string, unknown>)['Mutex'], 'function');
  assert.equal(typeof ((await import('zkts/plugin')) as Record<string, unknown>)['definePlugin'], 'function');
  assert.equal(typeof ((await import('zkts/testing')) as Record<string, unknown>)['TestingServer'], 'function');
});

test('createServer serves with ZooKeeper defaults for what is left out', async () => {
  const { createServer } = await import('zkts');
  const server = createServer({ port: 0, log: () => {} });
  const { port } = await server.start();
  assert.ok(port > 0);
  assert.equal(server.opts.maxSessionTimeout, 60000);
  await server.stop();
});
