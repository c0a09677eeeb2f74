// args.test.ts — zkts shell's parsing: process flags as ZooKeeperMain.MyCommandOptions reads them,
// command lines split as its parseCommand does, per-command options, and the pure formatters
// (expected values from zkCli's source: ZKUtil.getPermString, AclParser, StatsTrack, Date.toString).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandOptions, parseShellArgs, tokenize } from '../../src/shell/args.js';
import { hexDump } from '../../src/shell/commands.js';
import { javaDate, parseAcl, permString, statLines } from '../../src/shell/format.js';
import { formatStatsTrack, parseStatsTrack } from '../../src/shell/quota.js';

process.env.TZ = 'UTC';

describe('parseShellArgs', () => {
  it('has zkCli\'s defaults', () => {
    assert.deepEqual(parseShellArgs([]), {
      ok: true,
      value: { server: 'localhost:2181', timeoutMs: 30_000, readOnly: false, waitForConnection: false, json: false, compat: '3.8', command: [] },
    });
  });

  it('reads every flag, and the command after them', () => {
    const r = parseShellArgs(['-server', 'a:1,b:2/app', '-timeout', '5000', '-r', '-waitforconnection', '-w', 'json', '-compat', '3.9', 'ls', '-R', '/x']);
    assert.deepEqual(r, {
      ok: true,
      value: { server: 'a:1,b:2/app', timeoutMs: 5000, readOnly: true, waitForConnection: true, json: true, compat: '3.9', command: ['ls', '-R', '/x'] },
    });
  });

  it('leaves flags after the command word to the command', () => {
    const r = parseShellArgs(['get', '-s', '/x']);
    assert.ok(r.ok);
    assert.deepEqual(r.value.command, ['get', '-s', '/x']);
  });

  it('refuses a flag without its value, a bad timeout, an unknown flag and -w other than json', () => {
    assert.deepEqual(parseShellArgs(['-server']), { ok: false, error: 'Error: no argument found for option -server' });
    assert.equal(parseShellArgs(['-timeout', 'soon']).ok, false);
    assert.equal(parseShellArgs(['-timeout', '0']).ok, false);
    assert.equal(parseShellArgs(['-bogus']).ok, false);
    assert.equal(parseShellArgs(['-w', 'xml']).ok, false);
    assert.equal(parseShellArgs(['-compat', '3.7']).ok, false);
  });
});

describe('tokenize (ZooKeeperMain.MyCommandOptions.parseCommand)', () => {
  it('splits on blanks and keeps quoted strings whole, without their quotes', () => {
    assert.deepEqual(tokenize('create /a "hello world"'), ['create', '/a', 'hello world']);
    assert.deepEqual(tokenize("set  /a  'x y'  "), ['set', '/a', 'x y']);
    assert.deepEqual(tokenize('  ls   /  '), ['ls', '/']);
    assert.deepEqual(tokenize(''), []);
  });

  it('keeps quotes inside a word', () => {
    assert.deepEqual(tokenize('set /a it\'s'), ['set', '/a', 'it\'s']);
  });
});

describe('parseCommandOptions', () => {
  it('takes flags and valued options anywhere, as commons-cli does', () => {
    const r = parseCommandOptions(['-v', '3', '/a', 'data', '-s'], 'sv:');
    assert.ok(r.ok);
    assert.deepEqual([...r.value.opts], [['v', '3'], ['s', '']]);
    assert.deepEqual(r.value.args, ['/a', 'data']);
  });

  it('names an unknown option and a missing value', () => {
    assert.deepEqual(parseCommandOptions(['-x', '/a'], 's'), { ok: false, error: 'Unrecognized option: -x' });
    assert.deepEqual(parseCommandOptions(['/a', '-v'], 'v:'), { ok: false, error: 'Missing argument for option: v' });
  });
});

describe('formatters', () => {
  it('permString orders c d r w a (ZKUtil.getPermString)', () => {
    assert.equal(permString(31), 'cdrwa');
    assert.equal(permString(1), 'r');
    assert.equal(permString(1 | 2 | 16), 'rwa');
    assert.equal(permString(0), '');
  });

  it('parseAcl splits at the first and last colon, warns and skips bad entries', () => {
    const warnings: string[] = [];
    const acl = parseAcl('digest:alice:V55/p2T0OpjQ+low3NVAH4aLvm0=:cdrwa,world:anyone,ip:10.0.0.1:rq', (m) => warnings.push(m));
    assert.deepEqual(acl, [
      { perms: 31, id: { scheme: 'digest', id: 'alice:V55/p2T0OpjQ+low3NVAH4aLvm0=' } },
      { perms: 1, id: { scheme: 'ip', id: '10.0.0.1' } },
    ]);
    assert.deepEqual(warnings, ['world:anyone does not have the form scheme:id:perm', 'Unknown perm type: q']);
    assert.deepEqual(parseAcl('auth::cdrwa', () => assert.fail()), [{ perms: 31, id: { scheme: 'auth', id: '' } }]);
  });

  it('javaDate prints as java.util.Date.toString does', () => {
    assert.equal(javaDate(0), 'Thu Jan 01 00:00:00 UTC 1970');
    assert.equal(javaDate(Date.UTC(2026, 10, 6, 8, 7, 5)), 'Fri Nov 06 08:07:05 UTC 2026');
  });

  it('statLines is StatPrinter, zxids and owner in hex', () => {
    const lines = statLines({
      czxid: 0x1an, mzxid: 0x1bn, ctime: 0n, mtime: 0n, version: 2, cversion: 3, aversion: 1,
      ephemeralOwner: 0x1000039057d0002n, dataLength: 4, numChildren: 5, pzxid: 0x1cn,
    });
    assert.deepEqual(lines, [
      'cZxid = 0x1a', 'ctime = Thu Jan 01 00:00:00 UTC 1970', 'mZxid = 0x1b', 'mtime = Thu Jan 01 00:00:00 UTC 1970',
      'pZxid = 0x1c', 'cversion = 3', 'dataVersion = 2', 'aclVersion = 1', 'ephemeralOwner = 0x1000039057d0002',
      'dataLength = 4', 'numChildren = 5',
    ]);
  });

  it('hexDump lays bytes out as Netty\'s ByteBufUtil.prettyHexDump (3.9\'s get -x)', () => {
    const rule = '+--------+-------------------------------------------------+----------------+';
    const head = '         +-------------------------------------------------+\n' +
      '         |  0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f |\n' + rule;
    assert.equal(hexDump(Buffer.from('hello')), `${head}\n|00000000| 68 65 6c 6c 6f${'   '.repeat(11)} |hello${' '.repeat(11)}|\n${rule}`);
    const bytes = Buffer.from([...Buffer.from('0123456789abcdef'), 0x00, 0x7f, 0x41]);
    assert.equal(hexDump(bytes), `${head}\n` +
      '|00000000| 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66 |0123456789abcdef|\n' +
      `|00000010| 00 7f 41${'   '.repeat(13)} |..A${' '.repeat(13)}|\n${rule}`);
    assert.equal(hexDump(Buffer.alloc(0)), '');
  });

  it('StatsTrack text round-trips as ZooKeeper 3.8 writes it', () => {
    const zkCliWrote = 'count=5,bytes=100=;byteHardLimit=-1;countHardLimit=-1';
    const m = parseStatsTrack(zkCliWrote);
    assert.deepEqual([...m], [['count', 5], ['bytes', 100], ['byteHardLimit', -1], ['countHardLimit', -1]]);
    assert.equal(formatStatsTrack(m), zkCliWrote);
    assert.equal(formatStatsTrack(parseStatsTrack('count=2,bytes=3')), 'count=2,bytes=3');
  });
});
