import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeUri, normalizePath, percentDecode, splitHostPort } from './uri.js';

test('uri: normalisation table', () => {
  const table: [raw: string, uri: string][] = [
    ['/a/./b/../c', '/a/c'],
    ['/a/b/..', '/a/'],
    ['/..', '/'],
    ['/../../etc/passwd', '/etc/passwd'], // never above the root
    ['/%2e%2e/%2e%2e/etc/passwd', '/etc/passwd'], // decoded before dot removal
    ['/a/%2E%2e/b', '/b'],
    ['/a//b///c', '/a/b/c'],
    ['\\windows\\system32\\cmd.exe', '/windows/system32/cmd.exe'],
    ['/a%5c..%5cb', '/b'], // encoded backslash too
    ['/a+b', '/a+b'], // '+' stays in the path
    ['/a%zz%4', '/a%zz%4'], // invalid escapes kept
    ['/x?q=%41&b=%2e%2e/../', '/x?q=%41&b=%2e%2e/../'], // query kept raw
    ['/a/../b?x=1', '/b?x=1'],
    ['/p%3Fq', '/p?q'], // encoded '?' is path data
    ['/a/b#frag', '/a/b#frag'],
    ['HTTP://WWW.Example.COM:8080/a/../b', 'http://www.example.com:8080/b'],
    ['http://Example.com', 'http://example.com/'],
    ['*', '*'],
    ['', ''],
  ];
  for (const [raw, want] of table) assert.equal(normalizeUri(raw).uri, want, raw);
});

test('uri: double decoding is a second pass, flagged when it changes the path', () => {
  const d = normalizeUri('/a/%252e%252e/b');
  assert.equal(d.uri, '/b');
  assert.equal(d.doubleEncoded, true);
  const s = normalizeUri('/a/%252e%252e/b', { doubleDecode: false });
  assert.equal(s.uri, '/a/%2e%2e/b');
  assert.equal(s.doubleEncoded, false);
  assert.equal(normalizeUri('/a%2541').uri, '/aA');
  assert.equal(normalizeUri('/plain').doubleEncoded, false);
  assert.equal(normalizeUri('/a%zz').invalidEncoding, true);
  assert.equal(normalizeUri('/a%41').invalidEncoding, false);
});

test('uri: parts, query decoding, host and port', () => {
  const u = normalizeUri('http://user@Host.Example.:81/s?q=a+b%3Cx%3E');
  assert.equal(u.host, 'host.example');
  assert.equal(u.port, 81);
  assert.equal(u.path, '/s');
  assert.equal(u.query, 'q=a+b%3Cx%3E');
  assert.equal(u.queryDecoded, 'q=a b<x>');
  assert.equal(percentDecode('%00%ff'), '\u0000\u00ff'); // bytes as latin1
  assert.equal(normalizePath('a/./b/../../..'), '');
  assert.deepEqual(splitHostPort('[::1]:8080'), { host: '[::1]', port: 8080, portText: '8080' });
  assert.deepEqual(splitHostPort('EXAMPLE.com'), { host: 'example.com', port: -1, portText: '' });
  assert.equal(splitHostPort('a:99999').port, -1);
});
