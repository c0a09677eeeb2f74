// config.test.ts — zoo.cfg as ZooKeeper 3.9 reads it. Expected values come from ZooKeeper's
// documentation (zookeeperAdmin "Configuration Parameters"), its source (QuorumPeerConfig,
// QuorumServer, FourLetterCommands, java.util.Properties) and the official Docker image's
// docker-entrypoint.sh, not from this implementation.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ZktsError, type ZktsErrorCode } from '../../src/errors.js';
import {
  defaultConfig,
  DEFAULT_METRICS_PROVIDER,
  FOUR_LETTER_WORDS,
  loadConfig,
  parseConfig,
  type ParseOptions,
  type ServerConfig,
} from '../../src/server/config.js';
import { configFromEnv, hasDockerEnv } from '../../src/server/config-env.js';
import { javaDecodeInt, parseProperties } from '../../src/server/config-parse.js';

const BASE = '/srv/zk';

/** parseConfig with dataDir set, no files on disk unless given. */
function parse(text: string, opts: Partial<ParseOptions> & { files?: Record<string, string> } = {}): ServerConfig {
  const { files = {}, ...rest } = opts;
  const body = /^dataDir[=:\s]/m.test(text) ? text : `dataDir=/var/zk\n${text}`;
  return parseConfig(body, { baseDir: BASE, readFile: (p) => files[p], ...rest });
}

/** Asserts that fn throws a ZktsError with this code whose message contains every part. */
function throwsWith(fn: () => unknown, parts: string[], code: ZktsErrorCode = 'ZKTS_ERR_CONFIG'): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ZktsError, `expected a ZktsError, got ${String(err)}`);
    assert.equal(err.code, code);
    for (const part of parts) assert.ok(err.message.includes(part), `"${err.message}" should contain "${part}"`);
    return true;
  });
}

function hasJava(): boolean {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Texts made of the characters that matter to the properties syntax (seeded, so reproducible). */
function randomPropertyTexts(count: number, seed: number): string[] {
  const alphabet = ['a', 'k', '=', ':', ' ', '\t', '\f', '\\', '\\', '\\u', '\n', '\r', '\r\n', '#', '!', 'u', '0', 'A', 'f', 't', 'n', 'é'];
  let state = seed;
  const next = (n: number): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
  return Array.from({ length: count }, () => Array.from({ length: next(60) }, () => alphabet[next(alphabet.length)]).join(''));
}

/** The quoting of JAVA_DUMP's q(). */
function javaQuote(s: string): string {
  let out = '"';
  for (const c of s) {
    const code = c.charCodeAt(0);
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return `${out}"`;
}

/** Loads each hex-encoded text with java.util.Properties and prints its entries, keys and values
 * trimmed as ZooKeeper trims them, as sorted JSON (or ERR; SKIP when two keys trim alike). */
const JAVA_DUMP = `
import java.nio.file.*; import java.util.*;
public class Dump {
  static String q(String s) {
    StringBuilder b = new StringBuilder("\\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\\\') b.append('\\\\').append(c);
      else if (c < 0x20 || c > 0x7e) b.append(String.format("\\\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }
  public static void main(String[] args) throws Exception {
    StringBuilder out = new StringBuilder();
    for (String hex : Files.readAllLines(Paths.get(args[0]))) {
      byte[] bytes = new byte[hex.length() / 2];
      for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
      Properties p = new Properties();
      try { p.load(new java.io.StringReader(new String(bytes, "ISO-8859-1"))); } catch (IllegalArgumentException e) { out.append("ERR\\n"); continue; }
      TreeMap<String, String> m = new TreeMap<>();
      for (String k : p.stringPropertyNames()) m.put(k.trim(), p.getProperty(k).trim());
      if (m.size() != p.size()) { out.append("SKIP\\n"); continue; }
      StringJoiner j = new StringJoiner(",", "{", "}");
      for (Map.Entry<String, String> e : m.entrySet()) j.add(q(e.getKey()) + ":" + q(e.getValue()));
      out.append(j).append("\\n");
    }
    System.out.print(out);
  }
}
`;

const props = (text: string): Record<string, string> =>
  Object.fromEntries(parseProperties(text).map((p) => [p.key, p.value]));

describe('Java properties syntax', () => {
  it('separates key and value by =, : or whitespace, with whitespace around them', () => {
    assert.deepEqual(props('a=1\nb:2\nc 3\nd = 4\ne\t:\t5\n  f=6'), { a: '1', b: '2', c: '3', d: '4', e: '5', f: '6' });
  });

  it('takes only the first separator: the rest belongs to the value', () => {
    assert.deepEqual(props('a==1\nb=:2\nc = = 3\nd := 4'), { a: '=1', b: ':2', c: '= 3', d: '= 4' });
  });

  it('skips # and ! comment lines and blank lines, but a # later in a line is data', () => {
    assert.deepEqual(props('# x=1\n   ! y=2\n\n   \nz=3 # not a comment'), { z: '3 # not a comment' });
  });

  it('joins a line ending in a backslash with the next, dropping its leading whitespace', () => {
    assert.deepEqual(props('server.1=zk1:\\\n      2888:3888\nnext=1'), { 'server.1': 'zk1:2888:3888', next: '1' });
  });

  it('continues only on an odd number of backslashes', () => {
    assert.deepEqual(props('a=x\\\\\nb=y'), { a: 'x\\', b: 'y' });
  });

  it('never continues a comment, and a continued line starting with # is data', () => {
    assert.deepEqual(props('# comment \\\na=1\nb=2\\\n#3'), { a: '1', b: '2#3' });
  });

  it('ends a continued line at an empty line', () => {
    assert.deepEqual(props('a=1\\\n\nb=2'), { a: '1', b: '2' });
  });

  it('reads \\r\\n and \\r line ends', () => {
    assert.deepEqual(props('a=1\r\nb=2\rc=3\r\n'), { a: '1', b: '2', c: '3' });
  });

  it('unescapes \\t \\n \\uXXXX and any escaped character, in keys and values', () => {
    assert.deepEqual(props('a\\:b\\=c\\ d=1\ne=\\u0041\\t\\n\\#\\\\'), { 'a:b=c d': '1', e: 'A\t\n#\\' });
  });

  it('gives a key without a value the empty string', () => {
    assert.deepEqual(props('lonely\nalso='), { lonely: '', also: '' });
  });

  it('treats # as a comment on a continuation of a line that held only a backslash', () => {
    assert.deepEqual(props('\\\n  # still a comment\nkey=v'), { key: 'v' });
  });

  it('makes an empty key of a last line holding only a backslash, unless it ends in \\r\\n', () => {
    assert.deepEqual(props('a=1\n\\'), { '': '', a: '1' });
    assert.deepEqual(props('a=1\n\\\r\n'), { a: '1' });
  });

  it('agrees with java.util.Properties on random text', { skip: !hasJava() && 'no java on PATH' }, () => {
    const cases = randomPropertyTexts(3000, 0x5eed);
    const dir = mkdtempSync(join(tmpdir(), 'zkts-props-'));
    try {
      writeFileSync(join(dir, 'Dump.java'), JAVA_DUMP);
      writeFileSync(join(dir, 'cases.txt'), cases.map((c) => Buffer.from(c, 'latin1').toString('hex')).join('\n') + '\n');
      const java = execFileSync('java', [join(dir, 'Dump.java'), join(dir, 'cases.txt')], { encoding: 'utf8' }).split('\n');
      cases.forEach((text, i) => {
        let mine: string;
        try {
          const entries = new Map(parseProperties(text).map((p) => [p.key, p.value]));
          const keys = [...entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          mine = `{${keys.map((k) => `${javaQuote(k)}:${javaQuote(entries.get(k)!)}`).join(',')}}`;
        } catch {
          mine = 'ERR';
        }
        if (java[i] !== 'SKIP') assert.equal(mine, java[i], `text ${JSON.stringify(text)}`);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('trims keys and values as ZooKeeper does (trailing spaces included)', () => {
    const c = parse('tickTime=2000   \t\nclientPort = 2181 ');
    assert.equal(c.tickTime, 2000);
    assert.equal(c.clientPort, 2181);
  });

  it('rejects a malformed \\uXXXX escape with its line', () => {
    throwsWith(() => parseProperties('a=1\nb=\\u00G1'), ['line 2', '\\u00G1']);
    throwsWith(() => parse('x=\\u12', { file: 'zoo.cfg' }), ['zoo.cfg:2:']);
  });

  it('lets a repeated key win, and warns', () => {
    const c = parse('tickTime=1000\ntickTime=2500', { file: 'zoo.cfg' });
    assert.equal(c.tickTime, 2500);
    assert.ok(c.warnings.some((w) => w.includes('tickTime') && w.includes('lines 2 and 3')));
  });
});

describe('defaults', () => {
  it('are ZooKeeper 3.9 defaults', () => {
    const c = parseConfig('dataDir=/var/zk', { baseDir: BASE, readFile: () => undefined });
    assert.equal(c.dataDir, '/var/zk');
    assert.equal(c.dataLogDir, '/var/zk');
    assert.equal(c.clientPort, undefined);
    assert.equal(c.clientPortAddress, undefined);
    assert.equal(c.tickTime, 3000);
    assert.equal(c.minSessionTimeout, 6000);
    assert.equal(c.maxSessionTimeout, 60000);
    assert.equal(c.initLimit, 0);
    assert.equal(c.syncLimit, 0);
    assert.equal(c.maxClientCnxns, 60);
    assert.equal(c.maxCnxns, 0);
    assert.equal(c.clientPortListenBacklog, -1);
    assert.equal(c.globalOutstandingLimit, 1000);
    assert.equal(c.snapCount, 100000);
    assert.equal(c.snapSizeLimitInKb, 4194304);
    assert.equal(c.txnLogSizeLimitInKb, -1);
    assert.equal(c.preAllocSize, 65536);
    assert.equal(c.forceSync, true);
    assert.deepEqual(c.autopurge, { snapRetainCount: 3, purgeIntervalMs: 0 });
    assert.equal(c.standaloneEnabled, true);
    assert.equal(c.reconfigEnabled, false);
    assert.equal(c.localSessionsEnabled, false);
    assert.equal(c.extendedTypesEnabled, false);
    assert.equal(c.juteMaxBuffer, 0xfffff);
    assert.deepEqual(c.container, { checkIntervalMs: 60000, maxPerMinute: 10000, maxNeverUsedIntervalMs: 0 });
    assert.deepEqual([...c.fourLetterWordWhitelist], ['srvr']);
    assert.deepEqual(c.admin, { enableServer: true, serverAddress: '0.0.0.0', serverPort: 8080, idleTimeout: 30000, commandURL: '/commands' });
    assert.equal(c.metricsProvider.className, DEFAULT_METRICS_PROVIDER);
    assert.equal(c.metricsProvider.httpPort, 7000);
    assert.equal(c.electionAlg, 3);
    assert.equal(c.distributed, false);
    assert.equal(c.peerType, 'participant');
    assert.deepEqual(c.servers, []);
    assert.equal(c.myid, undefined);
    assert.equal(c.digestEnabled, true);
    assert.equal(c.digestAuthEnabled, true);
    assert.equal(c.superDigest, undefined);
    assert.deepEqual(c.unsupported, []);
    assert.deepEqual(c.warnings, []);
  });

  it('derives session timeouts from tickTime: 2 and 20 ticks', () => {
    const c = parse('tickTime=2000');
    assert.deepEqual([c.minSessionTimeout, c.maxSessionTimeout], [4000, 40000]);
    const d = parse('tickTime=2000\nminSessionTimeout=1000\nmaxSessionTimeout=-1');
    assert.deepEqual([d.minSessionTimeout, d.maxSessionTimeout], [1000, 40000]);
  });

  it('keeps autopurge.snapRetainCount at 3 or more, with a warning', () => {
    const c = parse('autopurge.snapRetainCount=1\nautopurge.purgeInterval=24');
    assert.deepEqual(c.autopurge, { snapRetainCount: 3, purgeIntervalMs: 24 * 3600_000 });
    assert.ok(c.warnings.some((w) => w.includes('snapRetainCount')));
    assert.equal(parse('autopurge.purgeInterval=30m').autopurge.purgeIntervalMs, 30 * 60_000);
  });

  it('resolves a relative dataDir against the working directory, warning unless written ./', () => {
    const c = parse('dataDir=data\ndataLogDir=./logs');
    assert.equal(c.dataDir, resolve(BASE, 'data'));
    assert.equal(c.dataLogDir, resolve(BASE, 'logs'));
    assert.equal(c.warnings.filter((w) => w.includes('relative')).length, 1);
  });
});

describe('validation errors name the key, the value and what is accepted', () => {
  const cases: Array<[string, string[]]> = [
    ['clientPort=abc', ['clientPort', '"abc"', 'port number (0-65535']],
    ['clientPort=70000', ['clientPort', '"70000"', 'port number']],
    ['clientPort=2181 # the port', ['clientPort', '"2181 # the port"']],
    ['tickTime=fast', ['tickTime', '"fast"', 'whole number']],
    ['tickTime=0', ['tickTime', '"0"', 'positive']],
    ['maxClientCnxns=1e3', ['maxClientCnxns', '"1e3"', 'whole number']],
    ['clientPortAddress=127.0.0.1', ['clientPortAddress', 'clientPort is not']],
    ['secureClientPortAddress=127.0.0.1', ['secureClientPortAddress', 'secureClientPort is not']],
    ['minSessionTimeout=9000\nmaxSessionTimeout=8000', ['minSessionTimeout', '9000', 'maxSessionTimeout', '8000']],
    ['standaloneEnabled=yes', ['standaloneEnabled', '"yes"', 'true or false']],
    ['electionAlg=1', ['electionAlg', '"1"', '3']],
    ['peerType=leader', ['peerType', '"leader"', 'participant or observer']],
    ['autopurge.purgeInterval=daily', ['autopurge.purgeInterval', '"daily"', 'hours']],
    ['quorum.auth.serverRequireSasl=true', ['quorum.auth.serverRequireSasl', 'quorum.auth.enableSasl=true']],
    ['dataDir=', ['dataDir', 'empty']],
    ['metricsProvider.httpPort=http', ['metricsProvider.httpPort', '"http"']],
  ];
  for (const [text, parts] of cases) {
    it(text.split('\n').join(' / '), () => throwsWith(() => parse(text), parts));
  }

  it('says dataDir is missing', () => {
    throwsWith(() => parseConfig('clientPort=2181', { baseDir: BASE }), ['dataDir: not set']);
  });

  it('gives the file and line', () => {
    throwsWith(() => parse('dataDir=/d\n\n# c\nclientPort=x', { file: '/etc/zk/zoo.cfg' }), ['/etc/zk/zoo.cfg:4: clientPort: "x"']);
  });

  it('accepts port 0 (a free port), as ZooKeeper does', () => {
    assert.equal(parse('clientPort=0').clientPort, 0);
  });
});

describe('server.N lines', () => {
  const three = 'initLimit=5\nsyncLimit=2\nserver.1=zk1:2888:3888\nserver.2=zk2:2888:3888\nserver.3=zk3:2888:3888';
  const myid = (id: string): Record<string, string> => ({ [join('/var/zk', 'myid')]: id });

  it('parse host, quorum and election ports, role and client address', () => {
    const c = parse(
      [
        'standaloneEnabled=false',
        'initLimit=5',
        'syncLimit=2',
        'server.3=zk3:2888:3888:OBSERVER;2181',
        'server.1=zk1:2888:3888',
        'server.2=[fe80::1]:2889:3889:participant;10.0.0.2:2182',
      ].join('\n'),
      { files: myid('1\n') },
    );
    assert.deepEqual(c.servers, [
      { id: 1, host: 'zk1', quorumPort: 2888, electionPort: 3888, addresses: [{ host: 'zk1', quorumPort: 2888, electionPort: 3888 }], type: 'participant' },
      {
        id: 2,
        host: 'fe80::1',
        quorumPort: 2889,
        electionPort: 3889,
        addresses: [{ host: 'fe80::1', quorumPort: 2889, electionPort: 3889 }],
        type: 'participant',
        clientAddress: { host: '10.0.0.2', port: 2182 },
      },
      {
        id: 3,
        host: 'zk3',
        quorumPort: 2888,
        electionPort: 3888,
        addresses: [{ host: 'zk3', quorumPort: 2888, electionPort: 3888 }],
        type: 'observer',
        clientAddress: { host: '0.0.0.0', port: 2181 },
      },
    ]);
    assert.equal(c.distributed, true);
    assert.equal(c.myid, 1);
  });

  it('make an ensemble member of three participants, with myid from dataDir', () => {
    const c = parse(`${three}\nclientPort=2181`, { files: myid('2\n') });
    assert.equal(c.distributed, true);
    assert.equal(c.myid, 2);
    assert.equal(c.clientPort, 2181);
    assert.equal(c.peerType, 'participant');
    assert.deepEqual(c.unsupported, []);
  });

  it('take this server client port from its own line', () => {
    const c = parse(three.replace('server.2=zk2:2888:3888', 'server.2=zk2:2888:3888;127.0.0.1:2182'), { files: myid('2') });
    assert.equal(c.clientPort, 2182);
    assert.equal(c.clientPortAddress, '127.0.0.1');
  });

  it('refuse a clientPort that differs from the one in this server line', () => {
    const text = `${three.replace('server.2=zk2:2888:3888', 'server.2=zk2:2888:3888;2182')}\nclientPort=2181`;
    throwsWith(() => parse(text, { files: myid('2') }), ['clientPort', '2181', '0.0.0.0:2182', 'server.2']);
    assert.equal(parse(text.replace('clientPort=2181', 'clientPort=2182'), { files: myid('2') }).clientPort, 2182);
  });

  it('need myid, initLimit and syncLimit in an ensemble', () => {
    throwsWith(() => parse(three), ['myid is missing']);
    throwsWith(() => parse(three, { files: myid('4') }), ['myid is 4', 'no server.4']);
    throwsWith(() => parse(three, { files: myid('two') }), ['"two"', 'not a server id']);
    throwsWith(() => parse(three.replace('initLimit=5', ''), { files: myid('1') }), ['initLimit: not set']);
    throwsWith(() => parse(three.replace('syncLimit=2', ''), { files: myid('1') }), ['syncLimit: not set']);
  });

  it('with one participant and standaloneEnabled, run standalone (with a warning) yet use its client port', () => {
    const c = parse('server.1=localhost:2888:3888;2181', { files: myid('1') });
    assert.equal(c.distributed, false);
    assert.equal(c.clientPort, 2181);
    assert.equal(c.clientPortAddress, '0.0.0.0');
    assert.ok(c.warnings.some((w) => w.includes('only one server')));
  });

  it('with standaloneEnabled=false, make one participant an ensemble', () => {
    const c = parse('standaloneEnabled=false\ninitLimit=5\nsyncLimit=2\nserver.1=localhost:2888:3888', { files: myid('1') });
    assert.equal(c.distributed, true);
    throwsWith(() => parse('standaloneEnabled=false'), ['standaloneEnabled=false', 'participant']);
  });

  it('refuse observers without a quorum', () => {
    throwsWith(() => parse('server.1=a:1:2:observer'), ['observers need participants']);
    throwsWith(() => parse('server.1=a:1:2\nserver.2=b:1:2:observer'), ['observers need a quorum']);
  });

  it('win over peerType, with a warning', () => {
    const text = `${three}\nserver.4=zk4:2888:3888:observer\npeerType=participant`;
    const c = parse(text, { files: myid('4') });
    assert.equal(c.peerType, 'observer');
    assert.ok(c.warnings.some((w) => w.includes('peerType')));
  });

  const bad: Array<[string, string[]]> = [
    ['server.1=zk1:2888', ['server.1', '"zk1:2888"', 'host:quorumPort:electionPort']],
    ['server.1=zk1:2888:3888:7:8', ['server.1', 'host:quorumPort:electionPort']],
    ['server.1=zk1:x:3888', ['server.1', 'quorum port "x"']],
    ['server.1=zk1:2888:99999', ['server.1', 'election port "99999"']],
    ['server.1=zk1:2888:2888', ['server.1', 'both quorum and election']],
    ['server.1=zk1:2888:3888:voter', ['server.1', '"voter"', 'participant or observer']],
    ['server.1=zk1:2888:3888;x', ['server.1', 'client port "x"']],
    ['server.1=zk1:2888:3888;a;b', ['server.1', "more than one ';'"]],
    ['server.1=[::1:2888:3888', ['server.1', "no matching ']'"]],
    ['server.1=a:1:2|b:1:2', ['server.1', 'multiAddress.enabled=true']],
    ['server.one=zk1:2888:3888', ['server.one', '"one"', 'server id']],
  ];
  for (const [text, parts] of bad) {
    it(`reject ${text}`, () => throwsWith(() => parse(text), parts));
  }

  it('accept several addresses with multiAddress.enabled (reported as unsupported)', () => {
    const c = parse('multiAddress.enabled=true\nserver.1=a:1:2|b:3:4');
    assert.deepEqual(c.servers[0].addresses.map((a) => a.host), ['a', 'b']);
    assert.ok(c.unsupported.includes('multiAddress.enabled'));
  });

  it('refuse hierarchical quorums rather than count votes differently from the ensemble', () => {
    throwsWith(() => parse('group.1=1:2:3'), ['group.1', 'hierarchical'], 'ZKTS_ERR_UNSUPPORTED');
    throwsWith(() => parse('weight.1=2'), ['weight.1'], 'ZKTS_ERR_UNSUPPORTED');
  });

  it('come from dynamicConfigFile when it is set, its version from its name', () => {
    const dyn = '/etc/zk/zoo.cfg.dynamic.100000000';
    const files = { ...myid('1'), [dyn]: 'server.1=a:2888:3888;2181\nserver.2=b:2888:3888\nserver.3=c:2888:3888\n' };
    const c = parse(`initLimit=5\nsyncLimit=2\ndynamicConfigFile=${dyn}`, { files });
    assert.deepEqual(c.servers.map((s) => s.id), [1, 2, 3]);
    assert.equal(c.quorumVersion, 0x100000000n);
    assert.equal(c.clientPort, 2181);
    throwsWith(() => parse(`dynamicConfigFile=${dyn}\nserver.1=a:1:2`, { files }), ['server.1', 'dynamic config file']);
    throwsWith(() => parse(`dynamicConfigFile=${dyn}`, { files: { [dyn]: 'tickTime=2000' } }), ['tickTime', 'only server.N']);
    throwsWith(() => parse('dynamicConfigFile=/nope'), ['dynamicConfigFile', '/nope does not exist']);
  });
});

describe('keys that are not QuorumPeerConfig keys become zookeeper.<key> properties', () => {
  it('keeps unknown keys as properties and reports them', () => {
    const c = parse('foo.bar=baz\nleaderServes=no');
    assert.equal(c.properties.get('zookeeper.foo.bar'), 'baz');
    assert.equal(c.properties.get('zookeeper.leaderServes'), 'no');
    assert.deepEqual(c.unsupported, ['foo.bar', 'leaderServes']);
  });

  it('does not turn QuorumPeerConfig keys or metricsProvider.* into properties, but does server.N', () => {
    const c = parse('tickTime=2000\nmetricsProvider.httpPort=7001\nserver.1=a:1:2\nsnapCount=5000');
    assert.equal(c.properties.has('zookeeper.tickTime'), false);
    assert.equal(c.properties.has('zookeeper.metricsProvider.httpPort'), false);
    assert.equal(c.properties.get('zookeeper.server.1'), 'a:1:2');
    assert.equal(c.properties.get('zookeeper.snapCount'), '5000');
    assert.equal(c.snapCount, 5000);
  });

  it('reads superDigest from DigestAuthenticationProvider.superDigest or its zookeeper.-prefixed form', () => {
    assert.equal(parse('DigestAuthenticationProvider.superDigest=super:abc=').superDigest, 'super:abc=');
    assert.equal(parse('zookeeper.DigestAuthenticationProvider.superDigest=super:abc=').superDigest, 'super:abc=');
    const fromJvm = parse('', { systemProperties: { 'zookeeper.DigestAuthenticationProvider.superDigest': 'super:x=' } });
    assert.equal(fromJvm.superDigest, 'super:x=');
  });

  it('lets zoo.cfg override -D system properties', () => {
    const c = parse('snapCount=300', { systemProperties: { 'zookeeper.snapCount': '200', 'zookeeper.maxCnxns': '9' } });
    assert.equal(c.snapCount, 300);
    assert.equal(c.maxCnxns, 9);
  });

  it('reads extendedTypesEnabled as Boolean.getBoolean does', () => {
    assert.equal(parse('extendedTypesEnabled=true').extendedTypesEnabled, true);
    assert.equal(parse('extendedTypesEnabled=TRUE').extendedTypesEnabled, true);
    assert.equal(parse('extendedTypesEnabled=yes').extendedTypesEnabled, false);
    assert.equal(parse('', { systemProperties: { 'zookeeper.extendedTypesEnabled': 'true' } }).extendedTypesEnabled, true);
  });

  it('needs server ids up to 254 with extendedTypesEnabled', () => {
    const text = 'extendedTypesEnabled=true\ninitLimit=5\nsyncLimit=2\nserver.300=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2';
    throwsWith(() => parse(text, { files: { '/var/zk/myid': '300' } }), ['extendedTypesEnabled', '254', '300']);
  });

  it('reads numbers as Integer.getInteger does: hex and octal, and the default for junk', () => {
    assert.equal(parse('snapCount=0x10').snapCount, 16);
    assert.equal(parse('globalOutstandingLimit=010').globalOutstandingLimit, 8);
    const c = parse('globalOutstandingLimit=lots');
    assert.equal(c.globalOutstandingLimit, 1000);
    assert.ok(c.warnings.some((w) => w.includes('globalOutstandingLimit') && w.includes('"lots"')));
    assert.equal(parse('snapCount=1').snapCount, 2);
    assert.deepEqual([javaDecodeInt('#ff'), javaDecodeInt('-0X10'), javaDecodeInt('08'), javaDecodeInt('2147483648')], [255, -16, undefined, undefined]);
  });

  it('reads the other properties as their ZooKeeper readers do', () => {
    const c = parse(
      'forceSync=no\nskipACL=yes\nenforceQuota=true\ndigest.enabled=false\npreAllocSize=1024\n' +
        'admin.enableServer=false\nadmin.serverPort=9090\nadmin.commandURL=/cmd\nauthProvider.1=org.example.Auth\n' +
        'DigestAuthenticationProvider.enabled=false\njute.maxbuffer=4194304',
    );
    assert.equal(c.forceSync, false);
    assert.equal(c.skipACL, true);
    assert.equal(c.enforceQuota, true);
    assert.equal(c.digestEnabled, false);
    assert.equal(c.preAllocSize, 1024);
    assert.equal(c.admin.enableServer, false);
    assert.equal(c.admin.serverPort, 9090);
    assert.equal(c.admin.commandURL, '/cmd');
    assert.deepEqual([...c.authProviders], [['1', 'org.example.Auth']]);
    assert.equal(c.digestAuthEnabled, false);
    assert.equal(c.juteMaxBuffer, 4194304);
    // 3.9's AdminServerFactory only turns the admin server off for exactly "false"
    assert.equal(parse('admin.enableServer=FALSE').admin.enableServer, true);
    assert.equal(parse('', { systemProperties: { 'jute.maxbuffer': '2000000' } }).juteMaxBuffer, 2000000);
    const reaper = parse('znode.container.checkIntervalMs=100', { systemProperties: { 'znode.container.maxPerMinute': '5' } });
    assert.deepEqual(reaper.container, { checkIntervalMs: 100, maxPerMinute: 5, maxNeverUsedIntervalMs: 0 });
    assert.deepEqual(reaper.unsupported, []);
  });

  it('parses 4lw.commands.whitelist: a comma list, * for all, srvr always', () => {
    assert.deepEqual([...parse('4lw.commands.whitelist=stat, ruok, conf, isro').fourLetterWordWhitelist].sort(), [
      'conf', 'isro', 'ruok', 'srvr', 'stat',
    ]);
    assert.deepEqual([...parse('4lw.commands.whitelist=*').fourLetterWordWhitelist].sort(), [...FOUR_LETTER_WORDS].sort());
    assert.equal(FOUR_LETTER_WORDS.length, 18);
    assert.deepEqual([...parse('4lw.commands.whitelist=ruok,,').fourLetterWordWhitelist].sort(), ['ruok', 'srvr']);
    const ro = parse('', { systemProperties: { 'readonlymode.enabled': 'true' } });
    assert.deepEqual([...ro.fourLetterWordWhitelist].sort(), ['isro', 'srvr']);
    assert.deepEqual(ro.unsupported, ['readonlymode.enabled']);
  });

  it('reports keys whose value asks for what zkts does not have, not their harmless values', () => {
    const c = parse(
      'secureClientPort=2281\nsslQuorum=true\nportUnification=false\nssl.keyStore.location=/k.jks\n' +
        'localSessionsEnabled=true\nmetricsProvider.className=com.example.Metrics\njvm.pause.monitor=false\n' +
        'ssl.allowReverseDnsLookup=true\nssl.crl=false\nssl.ocsp=true',
    );
    assert.equal(c.secureClientPort, 2281);
    assert.deepEqual(c.unsupported.sort(), [
      'jvm.pause.monitor', 'localSessionsEnabled', 'metricsProvider.className', 'ssl.allowReverseDnsLookup', 'ssl.ocsp', 'sslQuorum',
    ]);
    const prometheus = 'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider';
    assert.deepEqual(parse(`${prometheus}\nmetricsProvider.httpPort=7070\nmetricsProvider.exportJvmInfo=false`).unsupported, []);
  });

  it('reads plugin.N and plugin.N.option, in order of N', () => {
    const c = parse('plugin.10=zkts-plugin-x\nplugin.2=./plugins/audit.js\nplugin.2.file=audit.log\nplugin.2.level=info');
    assert.deepEqual(
      c.plugins.map((p) => [p.id, p.module, [...p.options]]),
      [
        ['2', resolve(BASE, 'plugins/audit.js'), [['file', 'audit.log'], ['level', 'info']]],
        ['10', 'zkts-plugin-x', []],
      ],
    );
    assert.deepEqual(c.unsupported, []);
    throwsWith(() => parse('plugin.3.file=x'), ['plugin.3.file', 'plugin.3']);
  });

  it('reads jaasLoginConfig, or java.security.auth.login.config', () => {
    assert.equal(parse('jaasLoginConfig=jaas.conf').jaasLoginConfig, resolve(BASE, 'jaas.conf'));
    const c = parse('', { systemProperties: { 'java.security.auth.login.config': '/etc/jaas.conf' } });
    assert.equal(c.jaasLoginConfig, '/etc/jaas.conf');
  });
});

describe('Docker image environment variables', () => {
  it('make the zoo.cfg docker-entrypoint.sh writes with the image defaults', () => {
    const env = configFromEnv({});
    assert.equal(
      env.text,
      [
        'dataDir=/data',
        'dataLogDir=/datalog',
        'tickTime=2000',
        'initLimit=5',
        'syncLimit=2',
        'autopurge.snapRetainCount=3',
        'autopurge.purgeInterval=0',
        'maxClientCnxns=60',
        'standaloneEnabled=true',
        'admin.enableServer=true',
        'server.1=localhost:2888:3888;2181',
        '',
      ].join('\n'),
    );
    assert.deepEqual([env.myid, env.dataDir, env.confDir], ['1', '/data', '/conf']);
  });

  it('map every variable, splitting ZOO_SERVERS and ZOO_CFG_EXTRA into words', () => {
    const env = configFromEnv({
      ZOO_MY_ID: '2',
      ZOO_SERVERS: 'server.1=zoo1:2888:3888;2181 server.2=zoo2:2888:3888;2181\n server.3=zoo3:2888:3888;2181',
      ZOO_TICK_TIME: '1000',
      ZOO_INIT_LIMIT: '10',
      ZOO_SYNC_LIMIT: '4',
      ZOO_MAX_CLIENT_CNXNS: '0',
      ZOO_4LW_COMMANDS_WHITELIST: 'mntr,conf,ruok',
      ZOO_STANDALONE_ENABLED: 'false',
      ZOO_ADMINSERVER_ENABLED: 'false',
      ZOO_AUTOPURGE_PURGEINTERVAL: '1',
      ZOO_AUTOPURGE_SNAPRETAINCOUNT: '5',
      ZOO_DATA_DIR: '/zk/data',
      ZOO_DATA_LOG_DIR: '/zk/log',
      ZOO_CFG_EXTRA: 'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider metricsProvider.httpPort=7070',
    });
    assert.equal(env.myid, '2');
    const c = parse(env.text, { files: { '/zk/data/myid': env.myid } });
    assert.deepEqual(c.servers.map((s) => s.host), ['zoo1', 'zoo2', 'zoo3']);
    assert.equal(c.myid, 2);
    assert.equal(c.distributed, true);
    assert.equal(c.clientPort, 2181);
    assert.equal(c.tickTime, 1000);
    assert.deepEqual([c.initLimit, c.syncLimit, c.maxClientCnxns], [10, 4, 0]);
    assert.equal(c.dataLogDir, '/zk/log');
    assert.deepEqual(c.autopurge, { snapRetainCount: 5, purgeIntervalMs: 3600_000 });
    assert.deepEqual([...c.fourLetterWordWhitelist].sort(), ['conf', 'mntr', 'ruok', 'srvr']);
    assert.equal(c.admin.enableServer, false);
    assert.equal(c.metricsProvider.httpPort, 7070);
    assert.deepEqual(c.unsupported, []);
  });

  it('default an empty ZOO_MY_ID and ZOO_SERVERS as the entrypoint does, and run standalone on 2181', () => {
    const env = configFromEnv({ ZOO_MY_ID: '', ZOO_SERVERS: '', ZOO_DATA_DIR: '/d' });
    assert.equal(env.myid, '1');
    const c = parse(env.text, { files: { '/d/myid': env.myid } });
    assert.equal(c.distributed, false);
    assert.equal(c.clientPort, 2181);
    // [[ -z "  " ]] is false, so blanks mean no server lines at all, and no client port
    assert.equal(parse(configFromEnv({ ZOO_SERVERS: '  ' }).text).clientPort, undefined);
    assert.equal(hasDockerEnv({ PATH: '/bin' }), false);
    assert.equal(hasDockerEnv({ ZOO_MY_ID: '3' }), true);
  });
});

describe('defaultConfig and conf/zoo.cfg', () => {
  it('run standalone on 127.0.0.1:2181 with data in ./data', () => {
    const c = defaultConfig('/home/me/zkts');
    assert.equal(c.clientPortAddress, '127.0.0.1');
    assert.equal(c.clientPort, 2181);
    assert.equal(c.dataDir, '/home/me/zkts/data');
    assert.deepEqual([...c.fourLetterWordWhitelist].sort(), ['mntr', 'ruok', 'srvr', 'stat']);
    assert.equal(c.distributed, false);
    assert.deepEqual(c.unsupported, []);
    assert.deepEqual(c.warnings, []);
  });

  it('agree: npm start runs conf/zoo.cfg', () => {
    const file = resolve(import.meta.dirname, '../../conf/zoo.cfg');
    const { file: _file, ...fromFile } = loadConfig(file, { baseDir: '/x' });
    assert.deepEqual(fromFile, defaultConfig('/x'));
  });
});

describe('loadConfig', () => {
  it('reads the file and myid from dataDir', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zkts-config-'));
    try {
      writeFileSync(join(dir, 'myid'), '3\n');
      const cfg = join(dir, 'zoo.cfg');
      writeFileSync(cfg, `dataDir=${dir}\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2;2183\n`);
      const c = loadConfig(cfg);
      assert.equal(c.file, cfg);
      assert.equal(c.myid, 3);
      assert.equal(c.clientPort, 2183);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says when the file is missing', () => {
    throwsWith(() => loadConfig('/nonexistent/zoo.cfg'), ['/nonexistent/zoo.cfg', 'not found'], 'ZKTS_ERR_CONFIG_FILE');
  });
});
