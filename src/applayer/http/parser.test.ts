import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { mulberry32 } from '../../../test/fuzz/prng.js';
import { HttpConnection, MAX_PENDING_TX, type HttpTransaction } from './parser.js';
import { bytes, concat, parseSplit, summary } from './test-util.js';

// A pipelined conversation covering Content-Length, chunked (extension + trailer), gzip, HEAD, 304.
const REQ = bytes(
  'GET /a/./b/../index.html?x=1 HTTP/1.1\r\n' + // request line
    'Host: WWW.Example.com:8080\r\n' +
    'User-Agent: curl/8.0\r\n' +
    'Cookie: a=1\r\n' +
    'Cookie: b=2\r\n' +
    'X-Folded: one\r\n' +
    '  two\r\n' + // obs-fold continues X-Folded
    '\r\n' +
    'POST /form HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\n' +
    'a=1&b=2' + // 7 body bytes
    'POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '3;ext=1\r\nabc\r\n' + // chunk with an extension
    '2\r\nde\r\n' +
    '0\r\nX-Trailer: t\r\n\r\n' + // last chunk and a trailer
    'HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n' +
    'GET /cached HTTP/1.1\r\nHost: h\r\n\r\n' +
    'GET /gz HTTP/1.1\r\nHost: h\r\n\r\n',
);
const GZ = zlib.gzipSync(Buffer.from('hello gzip world'));
const GZ_CHUNKED = concat(
  bytes(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n${(10).toString(16)}\r\n`),
  GZ.subarray(0, 10),
  bytes(`\r\n${(GZ.length - 10).toString(16)}\r\n`),
  GZ.subarray(10),
  bytes('\r\n0\r\n\r\n'),
);
const RES = concat(
  bytes(
    'HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello' +
      'HTTP/1.1 100 Continue\r\n\r\n' + // interim response, same transaction
      'HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok' +
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + // HEAD: no body despite the length
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n', // 304: no body
  ),
  GZ_CHUNKED,
);

function txs(req: Uint8Array, res: Uint8Array): HttpTransaction[] {
  return parseSplit(req, res);
}

test('parser: pipelined requests and responses, fields', () => {
  const t = txs(REQ, RES);
  assert.equal(t.length, 6);
  const [get, form, up, head, cached, gz] = t as [
    HttpTransaction,
    HttpTransaction,
    HttpTransaction,
    HttpTransaction,
    HttpTransaction,
    HttpTransaction,
  ];
  assert.equal(get.method, 'GET');
  assert.equal(get.uriRaw, '/a/./b/../index.html?x=1');
  assert.equal(get.uri, '/a/index.html?x=1');
  assert.equal(get.protocol, 'HTTP/1.1');
  assert.equal(get.host, 'www.example.com');
  assert.equal(get.hostPort, 8080);
  assert.equal(get.userAgent, 'curl/8.0');
  assert.equal(get.cookie, 'a=1; b=2');
  assert.deepEqual(get.requestHeaders[4], ['X-Folded', 'one two']);
  assert.equal(get.status, 200);
  assert.equal(get.statusMessage, 'OK');
  assert.equal(get.responseContentType, 'text/html; charset=utf-8');
  assert.equal(Buffer.from(get.responseBody).toString(), 'hello');
  assert.equal(form.contentType, 'application/x-www-form-urlencoded');
  assert.equal(Buffer.from(form.requestBody).toString(), 'a=1&b=2');
  assert.equal(form.status, 201); // the 100 Continue did not take a transaction
  assert.equal(Buffer.from(up.requestBody).toString(), 'abcde');
  assert.equal(up.requestBodyLength, 5);
  assert.deepEqual(up.requestHeaders.at(-1), ['X-Trailer', 't']); // trailers join the headers
  assert.equal(Buffer.from(up.responseBody).toString(), 'wxyz');
  assert.equal(head.responseBody.length, 0);
  assert.equal(head.responseComplete, true);
  assert.equal(cached.status, 304);
  assert.equal(cached.responseBody.length, 0);
  assert.equal(Buffer.from(gz.responseBody).toString(), 'hello gzip world');
  assert.equal(gz.responseBodyLength, GZ.length);
  for (const tx of t) assert.deepEqual(tx.events, [], `tx ${tx.id}`);
  assert.deepEqual(
    t.map((x) => x.id),
    [0, 1, 2, 3, 4, 5],
  );
});

test('parser: a split at every byte offset gives identical transactions', () => {
  const want = JSON.stringify(txs(REQ, RES).map(summary));
  for (let k = 0; k <= REQ.length; k++) {
    assert.equal(JSON.stringify(parseSplit(REQ, RES, [k]).map(summary)), want, `request cut at ${k}`);
  }
  for (let k = 0; k <= RES.length; k++) {
    assert.equal(JSON.stringify(parseSplit(REQ, RES, [], [k]).map(summary)), want, `response cut at ${k}`);
  }
  const every = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  assert.equal(JSON.stringify(parseSplit(REQ, RES, every(REQ.length), every(RES.length)).map(summary)), want);
  const rnd = mulberry32(7);
  for (let r = 0; r < 200; r++) {
    const cuts = (n: number): number[] =>
      Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.floor(rnd() * n)).sort((a, b) => a - b);
    assert.equal(JSON.stringify(parseSplit(REQ, RES, cuts(REQ.length), cuts(RES.length)).map(summary)), want);
  }
});

test('parser: interleaved directions deliver each transaction once it completes', () => {
  const got: HttpTransaction[] = [];
  const c = new HttpConnection({ onTransaction: (tx) => got.push(tx) });
  const q = bytes('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
  c.feed(0, q, 0, q.length, 1);
  assert.equal(c.pendingCount, 2);
  const r1 = bytes('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA');
  c.feed(1, r1, 0, r1.length, 2);
  assert.deepEqual(
    got.map((t) => [t.uriRaw, t.status, t.tsUs, t.responseTsUs]),
    [['/1', 200, 1, 2]],
  );
  c.close(3);
  assert.equal(got.length, 2);
  assert.equal(got[1]!.responseComplete, false); // delivered unanswered at close
});

test('parser: close-delimited response body and unmatched response', () => {
  const t = parseSplit(bytes(''), bytes('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end'));
  assert.equal(t.length, 1);
  assert.equal(Buffer.from(t[0]!.responseBody).toString(), 'until the end');
  assert.deepEqual(t[0]!.events, ['http.unable_to_match_response_to_request']);
});

test('parser: request body limit counts everything and keeps the first bytes', () => {
  const body = 'x'.repeat(10000);
  const req = bytes(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  const t = parseSplit(req, bytes('HTTP/1.1 204 No Content\r\n\r\n'), [100, 5000]);
  assert.equal(t[0]!.requestBody.length, 4096);
  assert.equal(t[0]!.requestBodyLength, 10000);
  assert.equal(t[0]!.requestBodyTruncated, true);
  const small = parseSplit(req, bytes(''), [], [], { requestBodyLimit: 10 });
  assert.equal(small[0]!.requestBody.length, 10);
});

test('parser: deflate (zlib and raw) and gzip errors', () => {
  const req = bytes('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  const resp = (ce: string, body: Uint8Array): Uint8Array =>
    concat(bytes(`HTTP/1.1 200 OK\r\nContent-Encoding: ${ce}\r\nContent-Length: ${body.length}\r\n\r\n`), body);
  const text = Buffer.from('deflated text');
  for (const body of [zlib.deflateSync(text), zlib.deflateRawSync(text)]) {
    const t = parseSplit(req, resp('deflate', body));
    assert.equal(Buffer.from(t[0]!.responseBody).toString(), 'deflated text');
  }
  const bad = parseSplit(req, resp('gzip', bytes('not gzip at all')));
  assert.deepEqual(bad[0]!.events, ['http.gzip_decompression_failed']);
  assert.equal(Buffer.from(bad[0]!.responseBody).toString(), 'not gzip at all'); // raw bytes kept
});

test('parser: a gzip bomb is bounded', () => {
  const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024), { level: 9 }); // ~50 KB -> 50 MB
  const req = bytes('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  const res = concat(
    bytes(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`),
    bomb,
  );
  const t0 = process.hrtime.bigint();
  const t = parseSplit(req, res, [], [1000, 20000]);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(t[0]!.responseBody.length, 4096);
  assert.ok(t[0]!.responseBody.every((b) => b === 0));
  assert.equal(t[0]!.responseBodyTruncated, true);
  assert.equal(t[0]!.responseBodyLength, bomb.length);
  assert.ok(ms < 1000, `bomb took ${ms} ms`);
  // A body decoding to a little more than the limit is cut at exactly the limit.
  const plain = Buffer.from(Array.from({ length: 6000 }, (_, i) => i % 251));
  const res2 = concat(
    bytes(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${zlib.gzipSync(plain).length}\r\n\r\n`),
    zlib.gzipSync(plain),
  );
  const t2 = parseSplit(req, res2);
  assert.deepEqual(Buffer.from(t2[0]!.responseBody), plain.subarray(0, 4096));
});

test('parser: malformed lines record events and parsing goes on', () => {
  const req = bytes(
    'GET /x HTTP/1.1\r\n' +
      'Host: h\r\n' +
      'NoColonHere\r\n' + // missing colon: skipped
      `X-Long: ${'a'.repeat(20000)}\r\n` + // over 16 KiB: skipped
      ' folded-without-previous\r\n'.replace(' folded', 'Z: 1\r\n folded') +
      'Transfer-Encoding: gzip\r\n' + // not chunked: request has no body
      '\r\n' +
      'GET /y HTTP/1.1\r\nHost: h\r\n\r\n',
  );
  const t = parseSplit(req, bytes(''), [9000]);
  assert.equal(t.length, 2);
  assert.deepEqual(t[0]!.events, [
    'http.request_field_missing_colon',
    'http.request_field_too_long',
    'http.invalid_transfer_encoding_value_in_request',
  ]);
  assert.deepEqual(
    t[0]!.requestHeaders.map((h) => h[0]),
    ['Host', 'Z', 'Transfer-Encoding'],
  );
  assert.equal(t[1]!.uriRaw, '/y');
});

test('parser: over-long request line abandons the request side', () => {
  const req = bytes(`GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\n\r\n`);
  for (const cuts of [[], [10, 8200]]) {
    const t = parseSplit(req, bytes(''), cuts);
    assert.equal(t.length, 1);
    assert.deepEqual(t[0]!.events, ['http.request_line_too_long']);
  }
});

test('parser: invalid chunk length, too many headers, bad status, missing host', () => {
  const req = bytes('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET / HTTP/1.1\r\n\r\n');
  const t = parseSplit(req, bytes(''));
  assert.deepEqual(t[0]!.events, ['http.invalid_request_chunk_len']);
  let many = 'GET / HTTP/1.1\r\n';
  for (let i = 0; i < 150; i++) many += `H${i}: v\r\n`;
  const t2 = parseSplit(bytes(many + '\r\n'), bytes('HTTP/1.1 2XX Weird\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(t2[0]!.requestHeaders.length, 100);
  assert.deepEqual(t2[0]!.events, [
    'http.request_too_many_headers',
    'http.missing_host_header',
    'http.response_invalid_status',
  ]);
  assert.equal(t2[0]!.statusString, '2XX');
  assert.equal(t2[0]!.status, -1);
});

test('parser: 101 switching protocols stops parsing both sides', () => {
  const req = bytes('GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n\x81\x05hello');
  const res = bytes('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi');
  const t = parseSplit(req, res);
  assert.equal(t.length, 1);
  assert.equal(t[0]!.status, 101);
  assert.deepEqual(t[0]!.events, []);
});

test('parser: unanswered pipeline is capped', () => {
  const c = new HttpConnection();
  const q = bytes('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  for (let i = 0; i < 200; i++) c.feed(0, q, 0, q.length, i);
  assert.ok(c.pendingCount <= MAX_PENDING_TX);
  const out = c.drain();
  assert.equal(out.length, 200 - MAX_PENDING_TX);
  assert.deepEqual(out[0]!.events, ['http.too_many_transactions']);
});

test('parser: random and mutated bytes never throw and stay bounded', () => {
  const budgetMs = process.env['CI'] ? 10000 : 2000;
  const rnd = mulberry32(12345);
  const start = Date.now();
  const valid = [REQ, RES];
  let rounds = 0;
  while (Date.now() - start < budgetMs) {
    const c = new HttpConnection({ onTransaction: () => undefined });
    for (let k = 0; k < 8; k++) {
      const dir = (rnd() < 0.5 ? 0 : 1) as 0 | 1;
      let data: Uint8Array;
      if (rnd() < 0.5) {
        data = new Uint8Array(1 + Math.floor(rnd() * 3000));
        for (let i = 0; i < data.length; i++)
          data[i] = rnd() < 0.3 ? [13, 10, 32, 58, 48][Math.floor(rnd() * 5)]! : rnd() * 256;
      } else {
        data = Uint8Array.from(valid[dir]!);
        for (let m = 0; m < 5; m++) data[Math.floor(rnd() * data.length)] = rnd() * 256;
      }
      const off = Math.floor(rnd() * data.length);
      c.feed(dir, data, off, data.length - off, k);
      assert.ok(c.pendingCount <= MAX_PENDING_TX);
    }
    c.close();
    rounds++;
  }
  assert.ok(rounds > 10);
  // The parser still decodes valid input afterwards.
  assert.equal(txs(REQ, RES).length, 6);
});

test('parser: a gzip-compressed request body is decoded (at every split), a bomb stays bounded', () => {
  const text = Buffer.from('name=value&user=admin');
  const gz = zlib.gzipSync(text);
  const req = concat(
    bytes(`POST /f HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`),
    gz,
  );
  const res = bytes('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  for (let cut = 0; cut <= req.length; cut++) {
    const t = parseSplit(req, res, [cut]);
    assert.equal(Buffer.from(t[0]!.requestBody).toString(), text.toString(), `cut at ${cut}`);
    assert.equal(t[0]!.requestBodyLength, gz.length);
  }
  const bomb = zlib.gzipSync(Buffer.alloc(20 * 1024 * 1024), { level: 9 });
  const big = concat(
    bytes(`POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`),
    bomb,
  );
  const t = parseSplit(big, res);
  assert.equal(t[0]!.requestBody.length, 4096);
  assert.equal(t[0]!.requestBodyTruncated, true);
});
