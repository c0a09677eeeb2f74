// Cases from ZooKeeper's PathUtils.validatePath rules (PathUtilsTest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathError, parentOf, baseName } from '../../src/protocol/paths.js';

const valid = ['/', '/a', '/a/b', '/a.b', '/.a', '/a..', '/..a', '/a/...', '/a/b.', '/\u00e9t\u00e9', '/a b'];
const invalid: [string, string][] = [
  ['', 'Path length must be > 0'],
  ['a', 'Path must start with / character'],
  ['/a/', 'Path must not end with / character'],
  ['//', 'Path must not end with / character'],
  ['/a//b', 'empty node name specified @3'],
  ['/.', 'relative paths not allowed @1'],
  ['/..', 'relative paths not allowed @2'],
  ['/a/./b', 'relative paths not allowed @3'],
  ['/a/../b', 'relative paths not allowed @4'],
  ['/a\u0000b', 'null character not allowed @2'],
  ['/a\u0001', 'invalid character @2'],
  ['/a\u007f', 'invalid character @2'],
  ['/a\ud800', 'invalid character @2'],
  ['/a\ufff5', 'invalid character @2'],
];

test('valid paths pass', () => {
  for (const p of valid) assert.equal(pathError(p), null, p);
});

test('invalid paths fail with ZooKeeper reasons', () => {
  for (const [p, reason] of invalid) {
    const err = pathError(p);
    assert.ok(err !== null && err.includes(reason), `${JSON.stringify(p)}: ${err}`);
  }
});

test('sequential paths are validated with a digit appended', () => {
  assert.equal(pathError('/a/', true), null);
  assert.notEqual(pathError('/a/'), null);
});

test('parent and base names', () => {
  assert.equal(parentOf('/a'), '/');
  assert.equal(parentOf('/a/b/c'), '/a/b');
  assert.equal(baseName('/a/b'), 'b');
});
