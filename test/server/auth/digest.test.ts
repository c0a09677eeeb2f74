// digest.test.ts — the digest and ip schemes and the ACL walks, against values computed by
// ZooKeeper itself: digests by `java -cp zookeeper.jar ... DigestAuthenticationProvider <user:pw>`,
// ip and digest validity and matching by ZooKeeper 3.9.5's IPAuthenticationProvider and
// DigestAuthenticationProvider run on each row, addresses by Java's InetAddress.getHostAddress().
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ACL, Id } from '../../../src/protocol/records.js';
import {
  checkAcl, defaultProviders, digestProvider, fixupAcl, generateDigest, ipIdFromRemoteAddress, ipProvider, SUPER_ID,
} from '../../../src/server/auth/digest.js';
import { ZktsError } from '../../../src/errors.js';

const ctx = { remoteAddress: '127.0.0.1' };

describe('generateDigest', () => {
  const rows: [string, string][] = [
    ['super:test', 'super:D/InIHSb7yEEbrWz8b9l71RjZJU='],
    ['bob:secret', 'bob:fyVmFCwVbTJYrznoSu1koqYEYF0='],
    ['user:pa:ss', 'user:eGYxmOtrfaj/35Fq9lW7ol9psVU='],
    ['nocolon', 'nocolon:Ra+cHr2ZoHvBjtNArFGNGlVie4g='],
    ['jörg:pässwörd', 'jörg:mnYDsH6V3vPsnN06468VcbUo34M='],
    ['日本:語', '日本:y3n0kMFHEG/f/c8zdiEtJoiALR8='],
    [':', ':BaefBs8/Z/cm2uaNGKIpD2yaUMk='],
    ['u:', 'u:IX23jg4I7W2/R//KoV8VL1UfuBM='],
    ['', ':2jmj7l5rSw0yVb/vlWAYkK/YBwk='],
  ];
  for (const [input, want] of rows) {
    it(`${JSON.stringify(input)} → ${want}`, () => assert.equal(generateDigest(input), want));
  }
  it('uses zookeeper.DigestAuthenticationProvider.digestAlg when given', () => {
    assert.equal(generateDigest('super:test', 'SHA-256'), 'super:wjySwxg860UATFtciuZ1lpzrCHrPeov6SPu/ZD56uig=');
    assert.equal(generateDigest('bob:secret', 'SHA-256'), 'bob:huAluaVu3uER4LIpielGv9Qqk5x3YVDr6I2R/mXf2wE=');
    assert.equal(generateDigest('super:test', 'SHA3-256'), 'super:cRy/KPYuDpW/dtsepniTMpuiuupnWgdU9txltIfv3hA=');
  });
});

describe('digest provider', () => {
  const superDigest = 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=';
  it('an auth packet gives the digest id', () => {
    const p = digestProvider({ superDigest });
    assert.deepEqual(p.authenticate(Buffer.from('bob:secret'), ctx), {
      ids: [{ scheme: 'digest', id: 'bob:fyVmFCwVbTJYrznoSu1koqYEYF0=' }],
    });
  });
  it('the superDigest user also gets super, with an empty id as ZooKeeper gives it', () => {
    const p = digestProvider({ superDigest });
    assert.deepEqual(p.authenticate(Buffer.from('super:test'), ctx), {
      ids: [{ scheme: 'super', id: '' }, { scheme: 'digest', id: superDigest }],
    });
    assert.deepEqual(SUPER_ID, { scheme: 'super', id: '' });
  });
  it('a wrong super password is an ordinary digest user', () => {
    const p = digestProvider({ superDigest });
    assert.deepEqual(p.authenticate(Buffer.from('super:nope'), ctx), {
      ids: [{ scheme: 'digest', id: generateDigest('super:nope') }],
    });
  });
  it('without superDigest nobody is super', () => {
    const result = digestProvider().authenticate(Buffer.from('super:test'), ctx);
    assert.deepEqual(result, { ids: [{ scheme: 'digest', id: superDigest }] });
  });
  it('matches by exact string equality', () => {
    const p = digestProvider();
    assert.equal(p.matches('bob:fyVmFCwVbTJYrznoSu1koqYEYF0=', 'bob:fyVmFCwVbTJYrznoSu1koqYEYF0='), true);
    assert.equal(p.matches('bob:fyVmFCwVbTJYrznoSu1koqYEYF0=', 'Bob:fyVmFCwVbTJYrznoSu1koqYEYF0='), false);
    assert.equal(p.matches('bob:x', 'bob:x '), false);
  });
  it('isValid splits on ":" as Java does, dropping trailing empty parts', () => {
    const rows: [string, boolean][] = [
      ['a:b', true], ['a', false], ['a:', false], [':b', true], ['a:b:', true], ['a:b:c', false], ['::', false],
      [':', false], ['', false], ['a::', false], ['a:b::', true], [':::b', false], [superDigest, true],
    ];
    const p = digestProvider();
    for (const [expr, want] of rows) assert.equal(p.isValid(expr), want, JSON.stringify(expr));
  });
  it('userName is the part before the first ":"', () => {
    assert.equal(digestProvider().userName('bob:fyVmFCwVbTJYrznoSu1koqYEYF0='), 'bob');
  });
  it('an unknown digest algorithm is a configuration error', () => {
    assert.throws(() => digestProvider({ digestAlg: 'SHA-7' }), (e: unknown) => e instanceof ZktsError && e.code === 'ZKTS_ERR_CONFIG');
  });
});

describe('ip provider', () => {
  const ip = ipProvider();
  it('isValid agrees with ZooKeeper 3.9.5', () => {
    const rows: [string, boolean][] = [
      ['127.0.0.1', true], ['127.0.0.1/8', true], ['127.0.0.1/32', true], ['127.0.0.1/33', false],
      ['127.0.0.1/-1', false], ['127.0.0.1/', false], ['127.0.0.1/a', false], ['127.0.0.1/8/9', false],
      ['256.0.0.1', false], ['1.2.3', false], ['1.2.3.4.5', false], ['+1.2.3.4', true], ['1.2.3.-0', true],
      ['01.2.3.4', true], ['', false], ['localhost', false], ['1', false], ['::', true], ['::1', true],
      ['::1/128', true], ['::1/129', false], ['::1/0', true], ['1::', true], ['1::2:', false], [':1::2:', false],
      ['1:2:3:4:5:6:7:8', true], ['1:2:3:4:5:6:7:8:', false], ['1:2::3:4:5:6:7:8', false], ['1::2::', false],
      ['1:abcdf::', false], ['efgh::', false], ['1:: ', false], [' 1::', false], ['::ffff:1.2.3.4', false],
      ['fe80::1%eth0', false], ['-1::', true], ['+f::', true], ['2001:db8::/32', true], [' 1.2.3.4', false],
      ['1.2.3.4 ', false], ['1.2.3.4/ 8', false], ['1.2.3.4/+8', true], ['::/0', true], ['1.2.3.4/08', true],
      ['0:0:0:0:0:0:0:1', true], ['1:2:3:4:5:6:7::', true], ['::2:3:4:5:6:7:8', true], ['1..2.3', false],
      ['1.2.3.4:80', false], ['1.2.3.4/2147483648', false],
    ];
    for (const [expr, want] of rows) assert.equal(ip.isValid(expr), want, JSON.stringify(expr));
  });
  it('matches agrees with ZooKeeper 3.9.5', () => {
    const rows: [string, string, boolean][] = [
      ['127.0.0.1', '127.0.0.1', true], ['127.0.0.2', '127.0.0.1', false], ['127.0.0.2', '127.0.0.1/24', true],
      ['10.1.2.3', '10.0.0.0/8', true], ['11.1.2.3', '10.0.0.0/8', false], ['10.1.2.3', '10.1.2.0/23', true],
      ['10.1.3.3', '10.1.2.0/23', true], ['10.1.4.3', '10.1.2.0/23', false], ['1.2.3.4', '0.0.0.0/0', true],
      ['1.2.3.4', '::/0', false], ['0:0:0:0:0:0:0:1', '::1', true], ['::1', '0:0:0:0:0:0:0:1', true],
      ['2001:db8:0:0:0:0:0:5', '2001:db8::/32', true], ['2001:db9:0:0:0:0:0:5', '2001:db8::/32', false],
      ['2001:db8:8000:0:0:0:0:5', '2001:db8::/33', false], ['2001:db8:7fff:0:0:0:0:5', '2001:db8::/33', true],
      ['ffff:0:0:0:0:0:0:0', '-1::/16', true], ['127.0.0.1', '127.0.0.1/33', false], ['garbage', '127.0.0.1', false],
      ['127.0.0.1', 'garbage', false], ['1.2.3.4', '1.2.3.4/-0', true], ['1.2.3.4', '9.9.9.9/0', true],
      ['1.2.3.4', '1.2.3.5/31', true], ['1.2.3.4', '1.2.3.6/31', false], ['fe80:0:0:0:0:0:0:1%eth0', 'fe80::1', false],
      ['::ffff:1.2.3.4', '1.2.3.4', false], ['0:0:0:0:0:ffff:102:304', '::ffff:102:304', true],
      ['192.168.1.77', '192.168.1.64/26', true], ['192.168.1.127', '192.168.1.64/27', false],
      ['1.2.3.4', '1.2.3.4/32', true], ['1.2.3.4', '+1.2.3.4', true],
    ];
    for (const [id, expr, want] of rows) assert.equal(ip.matches(id, expr), want, `${id} ~ ${expr}`);
  });
  it('the connection id is the remote address as Java prints it', () => {
    const rows: [string, string][] = [
      ['::ffff:127.0.0.1', '127.0.0.1'], ['::1', '0:0:0:0:0:0:0:1'], ['2001:db8::1', '2001:db8:0:0:0:0:0:1'],
      ['10.0.0.1', '10.0.0.1'], ['::1.2.3.4', '0:0:0:0:0:0:102:304'], ['fe80::1%1', 'fe80:0:0:0:0:0:0:1%1'],
      ['2001:DB8:0:0:1:0:0:1', '2001:db8:0:0:1:0:0:1'], ['::', '0:0:0:0:0:0:0:0'],
    ];
    for (const [remote, want] of rows) assert.equal(ipIdFromRemoteAddress(remote), want, remote);
    assert.deepEqual(ip.authenticate(Buffer.alloc(0), { remoteAddress: '::ffff:10.1.2.3' }), {
      ids: [{ scheme: 'ip', id: '10.1.2.3' }],
    });
  });
});

describe('checkAcl', () => {
  const providers = defaultProviders();
  const bob: Id = { scheme: 'digest', id: generateDigest('bob:secret') };
  const local: Id = { scheme: 'ip', id: '127.0.0.1' };
  const acl = (perms: number, scheme: string, id: string): ACL => ({ perms, id: { scheme, id } });
  const READ = 1, WRITE = 2, ALL = 31;

  it('an empty ACL allows everything', () => assert.equal(checkAcl([], WRITE, [], providers), true));
  it('world:anyone allows the perms it grants, and only those', () => {
    assert.equal(checkAcl([acl(READ, 'world', 'anyone')], READ, [], providers), true);
    assert.equal(checkAcl([acl(READ, 'world', 'anyone')], WRITE, [], providers), false);
    assert.equal(checkAcl([acl(ALL, 'world', 'someone')], READ, [], providers), false);
  });
  it('digest entries match the equal digest id', () => {
    const entries = [acl(ALL, 'digest', bob.id)];
    assert.equal(checkAcl(entries, WRITE, [local, bob], providers), true);
    assert.equal(checkAcl(entries, WRITE, [local, { scheme: 'digest', id: generateDigest('bob:wrong') }], providers), false);
  });
  it('ip entries match through the mask, and only ip ids', () => {
    assert.equal(checkAcl([acl(READ, 'ip', '127.0.0.0/8')], READ, [local], providers), true);
    assert.equal(checkAcl([acl(READ, 'ip', '10.0.0.0/8')], READ, [local], providers), false);
    assert.equal(checkAcl([acl(READ, 'ip', '127.0.0.1')], READ, [{ scheme: 'digest', id: '127.0.0.1' }], providers), false);
  });
  it('super allows everything, even with no matching entry', () => {
    assert.equal(checkAcl([acl(READ, 'digest', 'x:y')], WRITE, [{ ...SUPER_ID }], providers), true);
  });
  it('an entry of an unregistered scheme matches nothing', () => {
    assert.equal(checkAcl([acl(ALL, 'sasl', 'bob')], READ, [{ scheme: 'sasl', id: 'bob' }], providers), false);
  });
});

describe('fixupAcl', () => {
  const providers = defaultProviders();
  const bob: Id = { scheme: 'digest', id: generateDigest('bob:secret') };
  const local: Id = { scheme: 'ip', id: '127.0.0.1' };
  it('keeps world:anyone and valid entries, dropping duplicates', () => {
    const acl: ACL[] = [
      { perms: 31, id: { scheme: 'world', id: 'anyone' } },
      { perms: 31, id: { scheme: 'world', id: 'anyone' } },
      { perms: 1, id: { scheme: 'ip', id: '10.0.0.0/8' } },
    ];
    assert.deepEqual(fixupAcl(acl, [], providers), [acl[0], acl[2]]);
  });
  it('expands auth to the authenticated ids only (digest, not ip)', () => {
    const acl: ACL[] = [{ perms: 3, id: { scheme: 'auth', id: '' } }];
    assert.deepEqual(fixupAcl(acl, [local, bob], providers), [{ perms: 3, id: bob }]);
  });
  it('auth with no authenticated id, bad ids, unknown schemes and empty lists are InvalidACL', () => {
    const one = (scheme: string, id: string): ACL[] => [{ perms: 31, id: { scheme, id } }];
    assert.equal(fixupAcl(one('auth', ''), [local], providers), undefined);
    assert.equal(fixupAcl(one('digest', 'nocolon'), [], providers), undefined);
    assert.equal(fixupAcl(one('ip', '300.0.0.1'), [], providers), undefined);
    assert.equal(fixupAcl(one('world', 'everyone'), [], providers), undefined);
    assert.equal(fixupAcl(one('sasl', 'bob'), [], providers), undefined);
    assert.equal(fixupAcl([], [], providers), undefined);
  });
  it('digest can be disabled, as zookeeper.DigestAuthenticationProvider.enabled=false does', () => {
    assert.equal(defaultProviders({ digestEnabled: false }).has('digest'), false);
    assert.equal(defaultProviders().has('ip'), true);
  });
});
