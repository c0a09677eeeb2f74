// Quotas as ZooKeeper keeps them: limits and usage nodes under /zookeeper/quota, usage kept by
// apply, hard limits enforced at prep with enforceQuota, soft ones only logged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../src/protocol/codes.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import { StatsTrack } from '../../src/tree/quota.js';
import { Harness } from './helpers.js';

/** What zkCli's setquota does: the quota path, then the limits node, then the stats node. */
function setQuota(h: Harness, path: string, limits: string): void {
  let p = '/zookeeper/quota';
  for (const part of path.split('/').slice(1)) {
    p += '/' + part;
    if (h.tree.get(p) === undefined) h.create(p);
  }
  assert.equal(h.create(`${p}/zookeeper_limits`, { data: limits }).err, Code.OK);
  assert.equal(h.create(`${p}/zookeeper_stats`, { data: 'count=0,bytes=0' }).err, Code.OK);
}

const usage = (h: Harness, path: string) => h.tree.get(`/zookeeper/quota${path}/zookeeper_stats`)!.data!.toString();

test('StatsTrack reads and writes ZooKeeper\'s text', () => {
  assert.equal(new StatsTrack('count=3,bytes=-1').toString(), 'count=3,bytes=-1');
  const t = new StatsTrack('count=-1,bytes=-1=;byteHardLimit=10;countHardLimit=2');
  assert.equal(t.get('countHardLimit'), 2n);
  assert.equal(t.toString(), 'count=-1,bytes=-1=;byteHardLimit=10;countHardLimit=2');
});

test('usage counts the quota node itself and everything below it, and follows writes', () => {
  const h = new Harness();
  h.create('/app', { data: 'abc' });
  h.create('/app/x', { data: '12' });
  setQuota(h, '/app', 'count=10,bytes=100');
  assert.equal(usage(h, '/app'), 'count=2,bytes=5');
  h.create('/app/y', { data: '1234' });
  assert.equal(usage(h, '/app'), 'count=3,bytes=9');
  h.run({ type: OpCode.setData, path: '/app/x', data: Buffer.from('123456'), version: -1 });
  assert.equal(usage(h, '/app'), 'count=3,bytes=13');
  h.run({ type: OpCode.delete, path: '/app/y', version: -1 });
  assert.equal(usage(h, '/app'), 'count=2,bytes=9');
  h.create('/other', { data: 'zz' });
  assert.equal(usage(h, '/app'), 'count=2,bytes=9', 'outside the quota');
});

test('hard limits refuse writes with QuotaExceeded only when enforced; soft limits only warn', () => {
  const warnings: string[] = [];
  const h = new Harness({ enforceQuota: true, warn: (m) => warnings.push(m) });
  h.create('/hard');
  setQuota(h, '/hard', 'count=-1,bytes=-1=;byteHardLimit=5;countHardLimit=2');
  assert.equal(h.create('/hard/a', { data: '12' }).err, Code.OK);
  assert.equal(h.create('/hard/b').err, Code.QuotaExceeded, 'a third node');
  assert.equal(h.run({ type: OpCode.setData, path: '/hard/a', data: Buffer.from('123456'), version: -1 }).rc.err, Code.QuotaExceeded);
  assert.match(warnings[0]!, /Quota exceeded: \/hard \[current count=3, hardCountLimit=2\]/);

  h.create('/soft');
  setQuota(h, '/soft', 'count=1,bytes=-1');
  assert.equal(h.create('/soft/a').err, Code.OK, 'soft limits never refuse');
  assert.ok(warnings.some((w) => w.includes('/soft') && w.includes('softCountLimit=1')));

  const lax = new Harness({ enforceQuota: false });
  lax.create('/hard');
  setQuota(lax, '/hard', 'count=-1,bytes=-1=;countHardLimit=1');
  assert.equal(lax.create('/hard/a').err, Code.OK, 'not enforced');
});

test('deleting the limits node removes the quota; rebuildQuotas finds quotas in a loaded tree', () => {
  const h = new Harness();
  h.create('/q');
  setQuota(h, '/q', 'count=5,bytes=5');
  h.run({ type: OpCode.delete, path: '/zookeeper/quota/q/zookeeper_limits', version: -1 });
  assert.equal(h.tree.quotas.size, 0);
  h.create('/zookeeper/quota/q/zookeeper_limits', { data: 'count=5,bytes=5' });
  h.tree.quotas.delete('/q');
  h.tree.rebuildQuotas();
  assert.equal(h.tree.quotas.maxPrefix('/q/deep/er'), '/q');
});
