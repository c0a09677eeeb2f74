// jaas.test.ts — JAAS files are accepted, rejected and read as Java 17's ConfigFile does
// (each case was run through javax.security.auth.login.Configuration "JavaLoginConfig"), and
// the DIGEST-MD5 users are those ServerCnxnFactory.getDigestMd5Credentials would take.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ZktsError } from '../../../src/errors.js';
import { digestMd5Credentials, parseJaasConfig } from '../../../src/server/auth/jaas.js';

const ZK_DOC_EXAMPLE = `// ZooKeeper's documented server section
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bob\\"secret\\\\x"; /* a comment
       spanning lines */
       com.example.Other OPTIONAL user_carol=carol-pw.x debug=true;
};
"Client" { org.apache.zookeeper.server.auth.DigestLoginModule Required username="bob" password="bobsecret"; };
Other { };
`;

function jaasError(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseJaasConfig(text, 'jaas.conf'),
    (e: unknown) => e instanceof ZktsError && e.code === 'ZKTS_ERR_JAAS' && pattern.test(e.message),
  );
}

describe('parseJaasConfig', () => {
  it('reads sections, modules, flags in any case, quoted and bare values, escapes and comments', () => {
    const config = parseJaasConfig(ZK_DOC_EXAMPLE, 'jaas.conf');
    assert.deepEqual([...config.keys()], ['Server', 'Client', 'Other']);
    const server = config.get('Server') ?? [];
    assert.equal(server.length, 2);
    assert.equal(server[0].loginModule, 'org.apache.zookeeper.server.auth.DigestLoginModule');
    assert.equal(server[0].flag, 'required');
    assert.deepEqual(Object.fromEntries(server[0].options), { user_super: 'adminsecret', user_bob: 'bob"secret\\x' });
    assert.equal(server[1].flag, 'optional');
    assert.deepEqual(Object.fromEntries(server[1].options), { user_carol: 'carol-pw.x', debug: 'true' });
    assert.deepEqual(Object.fromEntries(config.get('Client')?.[0].options ?? []), { username: 'bob', password: 'bobsecret' });
    assert.deepEqual(config.get('Other'), []);
  });
  it('octal and control escapes; a repeated option keeps its last value', () => {
    const config = parseJaasConfig('Server { a.B required user_x = "p\\101\\tw" user_y="second" user_y="third" ; } ;', 'f');
    assert.deepEqual(Object.fromEntries(config.get('Server')?.[0].options ?? []), { user_x: 'pA\tw', user_y: 'third' });
  });
  it('a missing ";" names the file and line', () => {
    jaasError('Server {\n  a.B required\n  user_x="pw"\n}\n', /^jaas\.conf:4: expected an option name or ";", found "}"/);
  });
  it('an unknown control flag', () => {
    jaasError('Server {\n  a.B mandatory;\n};\n', /^jaas\.conf:2: expected a control flag .* found "mandatory"/);
  });
  it('an unquoted number value, which Java also rejects', () => {
    jaasError('Server {\n  a.B required\n  user_x=123;\n};\n', /^jaas\.conf:3: .*number 123 \(quote it\)/);
  });
  it('single quotes, which Java also rejects', () => {
    jaasError("Server {\n  a.B required user_x='pw';\n};\n", /^jaas\.conf:2: single-quoted/);
  });
  it('an unterminated string', () => {
    jaasError('Server {\n  a.B required user_x="pw\n  ";\n};\n', /^jaas\.conf:2: unterminated quoted string/);
  });
  it('an option without "="', () => {
    jaasError('Server {\n a.B required\n user_x\n "pw";\n};\n', /^jaas\.conf:4: expected "=", found "pw"/);
  });
  it('end of file inside a section', () => {
    jaasError('Server {\n  a.B required user_x="pw";\n', /^jaas\.conf:3: expected a login module class name, found end of file/);
  });
  it('a section defined twice', () => {
    jaasError('Server { a.B required; };\nServer { a.B required; };\n', /^jaas\.conf:2: section Server is defined twice/);
  });
  it('counts lines through block comments and CRLF', () => {
    jaasError('/* one\r\ntwo\r\n*/ Server {\r\n a.B required\r\n x;\r\n};', /^jaas\.conf:5: expected "="/);
  });
});

describe('digestMd5Credentials', () => {
  it('takes user_<name> options from every module of the Server section', () => {
    const credentials = digestMd5Credentials(parseJaasConfig(ZK_DOC_EXAMPLE, 'jaas.conf'));
    assert.deepEqual(Object.fromEntries(credentials ?? []), { super: 'adminsecret', bob: 'bob"secret\\x', carol: 'carol-pw.x' });
  });
  it('reads another section when named (zookeeper.sasl.serverconfig)', () => {
    const credentials = digestMd5Credentials(parseJaasConfig(ZK_DOC_EXAMPLE, 'jaas.conf'), 'Client');
    assert.deepEqual(Object.fromEntries(credentials ?? []), {});
  });
  it('a missing or empty section means SASL is not configured', () => {
    const config = parseJaasConfig(ZK_DOC_EXAMPLE, 'jaas.conf');
    assert.equal(digestMd5Credentials(config, 'Other'), undefined);
    assert.equal(digestMd5Credentials(config, 'Nope'), undefined);
  });
});
