import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyTransforms, httpBuffer, urlDecode } from './buffers.js';
import { HttpTransaction } from '../../applayer/http/parser.js';
import { mulberry32 } from '../../../test/fuzz/prng.js';

/** The string-and-regex url_decode this replaced: `+` to space first, then `%XX` left to right. */
function reference(b: Buffer): Buffer {
  const s = b
    .toString('latin1')
    .replace(/\+/g, ' ')
    .replace(/%([0-9a-fA-F]{2})/g, (_m: string, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(s, 'latin1');
}

test('urlDecode: plus, escapes in either case, invalid and truncated escapes', () => {
  const dec = (s: string): string => urlDecode(Buffer.from(s, 'latin1')).toString('latin1');
  assert.equal(dec('a+b'), 'a b');
  assert.equal(dec('%41%62%2f%2F'), 'Ab//');
  assert.equal(dec('%2B'), '+'); // decoded plus is not turned into a space
  assert.equal(dec('%%41'), '%A');
  assert.equal(dec('%4'), '%4');
  assert.equal(dec('%'), '%');
  assert.equal(dec('%zz%4g'), '%zz%4g');
  assert.equal(dec('%00%ff'), '\x00\xff');
  assert.equal(dec(''), '');
  const plain = Buffer.from('/index.html');
  assert.equal(urlDecode(plain), plain, 'nothing to decode: the same buffer');
});

test('urlDecode agrees with the string-and-regex reference on random inputs', () => {
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const alphabet = Buffer.from('%%%++aF09g/\x00\xff', 'latin1');
  for (let k = 0; k < 5000; k++) {
    const b = Buffer.alloc(rnd(24));
    for (let i = 0; i < b.length; i++) b[i] = alphabet[rnd(alphabet.length)]!;
    assert.deepEqual(urlDecode(b), reference(b), b.toString('hex'));
  }
});

test('applyTransforms: url_decode twice decodes a double-encoded string', () => {
  const out = applyTransforms(Buffer.from('%2527+or+1%3D1'), [
    { name: 'url_decode', arg: null },
    { name: 'url_decode', arg: null },
  ]);
  assert.equal(out.toString('latin1'), "' or 1=1");
});

function tx(headers: [string, string][], res: [string, string][] = []): HttpTransaction {
  const t = new HttpTransaction(0);
  t.method = 'GET';
  t.uriRaw = '/a?b=%41';
  t.uri = '/a?b=A';
  t.protocol = 'HTTP/1.1';
  t.requestHeaders = headers;
  t.responseStarted = res.length > 0;
  t.responseProtocol = 'HTTP/1.1';
  t.statusString = '200';
  t.statusMessage = 'OK';
  t.responseHeaders = res;
  return t;
}

const str = (b: Buffer | null): string | null => (b === null ? null : b.toString('latin1'));

test('httpBuffer: start line and header buffers, byte for byte', () => {
  const t = tx(
    [
      ['Host', 'WWW.Example.com:8080'],
      ['User-Agent', 'curl/8 \xe9'],
      ['X-Empty', ''],
    ],
    [['Server', 'nginx']],
  );
  const hdr = 'Host: WWW.Example.com:8080\r\nUser-Agent: curl/8 \xe9\r\nX-Empty: \r\n';
  assert.equal(str(httpBuffer(t, 'http.start', true)), `GET /a?b=%41 HTTP/1.1\r\n${hdr}\r\n`);
  assert.equal(str(httpBuffer(t, 'http.header', true)), hdr);
  assert.equal(str(httpBuffer(t, 'http.header.raw', true)), `${hdr}\r\n`);
  assert.equal(str(httpBuffer(t, 'http.header_names', true)), '\r\nHost\r\nUser-Agent\r\nX-Empty\r\n\r\n');
  assert.equal(str(httpBuffer(t, 'payload', true)), `GET /a?b=%41 HTTP/1.1\r\n${hdr}\r\n`);
  assert.equal(str(httpBuffer(t, 'http.start', false)), 'HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n');
  // The byte 0xe9 is one byte, as the parser's latin1 strings are.
  assert.equal(httpBuffer(t, 'http.header', true)!.length, hdr.length);
  // http.host: lowercased, the port cut; http.host.raw as sent.
  assert.equal(str(httpBuffer(t, 'http.host', true)), 'www.example.com');
  assert.equal(str(httpBuffer(t, 'http.host.raw', true)), 'WWW.Example.com:8080');
  for (const [h, want] of [
    ['[::1]:80', '[::1]'],
    ['[::1]', '[::1]'],
    ['a:', 'a'],
    ['a:1:2', 'a:1'],
    ['A:b', 'a:b'],
    ['80', '80'],
    [':80', ''],
  ] as const)
    assert.equal(str(httpBuffer(tx([['host', h]]), 'http.host', true)), want, h);
  // No headers: no header buffers; the start buffer is the line and the blank line.
  const bare = tx([]);
  assert.equal(httpBuffer(bare, 'http.header', true), null);
  assert.equal(httpBuffer(bare, 'http.header_names', true), null);
  assert.equal(str(httpBuffer(bare, 'http.start', true)), 'GET /a?b=%41 HTTP/1.1\r\n\r\n');
});

test('httpBuffer: the byte-wise buffers equal the template-string layout on random headers', () => {
  const rnd = mulberry32(0xb0ff);
  const int = (n: number): number => Math.floor(rnd() * n);
  const text = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(int(4) === 0 ? 0x80 + int(128) : 0x20 + int(95));
    return s;
  };
  for (let iter = 0; iter < 500; iter++) {
    const headers: [string, string][] = [];
    for (let k = int(6); k > 0; k--) headers.push([text(1 + int(12)), text(int(40))]);
    if (int(2) === 0) headers.push(['Host', text(int(20)) + (int(2) === 0 ? `:${int(70000)}` : '')]);
    const t = tx(headers);
    const block = headers.map(([n, v]) => `${n}: ${v}\r\n`).join('');
    assert.equal(str(httpBuffer(t, 'http.start', true)), `GET /a?b=%41 HTTP/1.1\r\n${block}\r\n`);
    assert.equal(str(httpBuffer(t, 'http.header', true)), headers.length === 0 ? null : block);
    assert.equal(
      str(httpBuffer(t, 'http.header_names', true)),
      headers.length === 0 ? null : `\r\n${headers.map(([n]) => `${n}\r\n`).join('')}\r\n`,
    );
    const hosts = headers.filter(([n]) => n.toLowerCase() === 'host').map(([, v]) => v);
    if (hosts.length > 0) {
      const want = Buffer.from(hosts.join(', ').replace(/:\d*$/, ''), 'latin1');
      for (let i = 0; i < want.length; i++) if (want[i]! >= 0x41 && want[i]! <= 0x5a) want[i] = want[i]! | 0x20;
      assert.equal(str(httpBuffer(t, 'http.host', true)), want.toString('latin1'));
    }
  }
});
