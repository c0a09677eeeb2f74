// ui-browser.test.ts — the tree browser in headless Chromium (Debian's `chromium`, driven by
// playwright-core): it clicks through the tree, shows data as text, JSON and hex with stat and
// ACL, finds a path by search, sees a change made by another client appear without a reload,
// signs in with digest credentials and saves data with a version check. It saves a screenshot to
// test-artifacts/ui-browser.png. Without /usr/bin/chromium it installs it when it can (root and
// apt-get), else the test is skipped with the reason.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startAdmin, type OpsEndpoint } from '../../src/admin/index.js';
import { OpCode, Perm } from '../../src/protocol/opcodes.js';
import { parseConfig } from '../../src/server/config.js';
import type { ZkServer } from '../../src/server/zk-server.js';
import { TestClient } from '../conformance/test-client.js';
import { startServer } from '../server/start-server.js';

const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = path.join(root, 'test-artifacts');
const OPEN = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];

/** null when Chromium is there (installed now if need be), else why the test cannot run. */
function ensureChromium(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const aptGet = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).stdout.trim();
  if (process.getuid?.() !== 0 || aptGet === '') {
    return `${CHROMIUM} is missing and cannot be installed here (needs root and apt-get): run "apt-get install -y chromium"`;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env, timeout: 600_000 });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env, timeout: 300_000 });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env, timeout: 600_000 });
  }
  return existsSync(CHROMIUM) ? null : `apt-get install -y chromium failed (exit ${r.status}); ${CHROMIUM} is missing`;
}

const skipReason = ensureChromium();
if (skipReason !== null) console.log(`# ui-browser: skipped: ${skipReason}`);

describe('tree browser in headless Chromium', { skip: skipReason ?? false }, () => {
  let server: ZkServer;
  let client: TestClient;
  let admin: OpsEndpoint;
  let browser: import('playwright-core').Browser;
  let page: import('playwright-core').Page;

  const create = async (p: string, data: string | Buffer) => {
    const r = await client.request({ type: OpCode.create, path: p, data: Buffer.from(data), acl: OPEN, flags: 0, ttl: -1n });
    assert.equal(r.err, 0, `create ${p}`);
  };

  before(async () => {
    let port: number;
    ({ server, port } = await startServer());
    client = await TestClient.connect('127.0.0.1', port, { timeOutMs: 20_000 });
    await create('/app', '');
    await create('/app/config', '{"replicas":3,"regions":["eu","us"],"enabled":true}');
    await create('/app/blob', Buffer.from([0xca, 0xfe, 0x00, 0x41, 0x42]));
    await create('/app/workers', 'pool of workers');
    await create('/services', 'registry');
    await create('/services/web', 'http://10.0.0.7:8080');
    admin = await startAdmin(server, parseConfig(
      'dataDir=/tmp/zkts-ui-browser\nclientPort=2181\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=0\nzkts.admin.ui.edit=true\n',
      { baseDir: '/tmp' },
    ));
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('dialog', (d) => void d.accept());
  });
  after(async () => {
    await browser?.close();
    await admin?.close();
    await client?.close();
    await server?.stop();
  });

  const row = (p: string) => page.locator(`li[data-path="${p}"] > .row`);

  it('clicks through the tree: data as text, JSON and hex, with stat and ACL', async () => {
    await page.goto(`http://127.0.0.1:${admin.address!.port}/ui`);
    await page.locator('#live.on').waitFor({ timeout: 15_000 });
    await row('/app').locator('.toggle').click();
    await row('/app/config').click();
    // the details load after the click: wait for them rather than read the pane once
    await page.locator('#node-path', { hasText: '/app/config' }).waitFor();
    assert.equal(await page.locator('#node-path').textContent(), '/app/config');
    assert.equal(await page.locator('#node-data').textContent(), '{"replicas":3,"regions":["eu","us"],"enabled":true}');
    await page.locator('button[data-view="json"]').click();
    assert.match((await page.locator('#node-data').textContent())!, /^\{\n {2}"replicas": 3,\n {2}"regions": \[\n/);
    await row('/app/blob').click();
    await page.locator('#node-path', { hasText: '/app/blob' }).waitFor();
    await page.locator('button[data-view="hex"]').click();
    // offset, the bytes in a 47-column field, the printable ones
    assert.equal(await page.locator('#node-data').textContent(), `00000000  ${'ca fe 00 41 42'.padEnd(47)}  |...AB|`);
    assert.match((await page.locator('#node-stat').textContent())!, /dataLength5/);
    assert.match((await page.locator('#node-acl').textContent())!, /worldanyonecdrwa/);
    await page.locator('button[data-view="text"]').click();
  });

  it('finds a path by search and opens it', async () => {
    await page.locator('#search-q').fill('WEB');
    await page.locator('#search button').click();
    await page.locator('#results a[data-path="/services/web"]').click();
    await page.locator('#node-path', { hasText: '/services/web' }).waitFor();
    assert.equal(await page.locator('#node-data').textContent(), 'http://10.0.0.7:8080');
    assert.equal(await row('/services/web').getAttribute('class'), 'row selected');
  });

  it('shows changes by another client without a reload', async () => {
    const marker = await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = Math.random()));
    await create('/app/workers/w-0001', 'host-a');
    // /app/workers is collapsed: its count follows the change, its children stay unloaded
    await row('/app/workers').locator('.count', { hasText: /^ 1$/ }).waitFor({ timeout: 10_000 });
    assert.equal(await row('/app/workers/w-0001').count(), 0);
    await row('/app/workers').locator('.toggle').click();
    await row('/app/workers/w-0001').waitFor();
    await create('/app/workers/w-0002', 'host-b');
    await row('/app/workers/w-0002').waitFor({ timeout: 10_000 });
    // the selected node's data follows a setData by the other client
    const r = await client.request({ type: OpCode.setData, path: '/services/web', data: Buffer.from('http://10.0.0.8:8080'), version: 0 });
    assert.equal(r.err, 0);
    await page.locator('#node-data', { hasText: 'http://10.0.0.8:8080' }).waitFor({ timeout: 10_000 });
    await page.locator('#events li', { hasText: 'NodeCreated  /app/workers/w-0002' }).waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker: number }).marker), marker, 'the page was not reloaded');
  });

  it('signs in with digest credentials and saves data with a version check', async () => {
    assert.equal(await page.locator('#edit-save').count(), 0);
    await page.locator('#login-user').fill('ops');
    await page.locator('#login-pass').fill('pa55');
    await page.locator('#login button').click();
    await page.locator('#who', { hasText: 'digest:ops' }).waitFor();
    await row('/app/config').click();
    await page.locator('#edit-save', { hasText: 'version 0' }).waitFor();
    await page.locator('#edit-data').fill('{"replicas":5}');
    await page.locator('#edit-save').click();
    await page.locator('#edit-save', { hasText: 'version 1' }).waitFor();
    const got = await client.request({ type: OpCode.getData, path: '/app/config', watch: false });
    assert.equal((got.body as { data: Buffer }).data.toString(), '{"replicas":5}');
    // begun against version 1; another client changes it meanwhile: the save is refused
    await page.locator('#edit-data').fill('{"replicas":7}');
    assert.equal((await client.request({ type: OpCode.setData, path: '/app/config', data: Buffer.from('{}'), version: 1 })).err, 0);
    await page.locator('#node-data', { hasText: /^\{\}$/ }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('#edit-data').inputValue(), '{"replicas":7}');
    await page.locator('#edit-save', { hasText: 'version 1' }).click();
    await page.locator('#edit-status', { hasText: 'BadVersion' }).waitFor();
    const now = await client.request({ type: OpCode.getData, path: '/app/config', watch: false });
    assert.equal((now.body as { data: Buffer }).data.toString(), '{}');
    await row('/app/workers/w-0001').click();
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'ui-browser.png'), fullPage: true });
  });
});
