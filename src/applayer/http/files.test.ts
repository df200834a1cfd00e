import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { httpRequestFiles, headerParam, multipartBoundary, multipartFiles } from './files.js';
import { HttpConnection } from './parser.js';
import type { HttpOptions, HttpTransaction } from './parser.js';
import { bytes, concat, parseSplit } from './test-util.js';

const RESPONSE = bytes('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);

/** A multipart/form-data body: a plain field, a file part, a second file; CRLF line ends (RFC 7578). */
function form(boundary: string): Uint8Array {
  return concat(
    bytes(`--${boundary}\r\n`),
    bytes('Content-Disposition: form-data; name="comment"\r\n\r\n'),
    bytes('just a field\r\n'),
    bytes(`--${boundary}\r\n`),
    bytes('Content-Disposition: form-data; name="upload"; filename="pic.png"\r\n'),
    bytes('Content-Type: image/png\r\n\r\n'),
    PNG,
    bytes(`\r\n--${boundary}\r\n`),
    bytes('Content-Disposition: form-data; name="doc"; filename="a;b.txt"\r\n\r\n'),
    bytes('hello\r\n--not the boundary\r\n'),
    bytes(`\r\n--${boundary}--\r\n`),
  );
}

/** A request with `body` and the given Content-Type. */
function post(method: string, uri: string, contentType: string, body: Uint8Array): Uint8Array {
  return concat(
    bytes(`${method} ${uri} HTTP/1.1\r\nHost: up.example\r\nContent-Type: ${contentType}\r\n`),
    bytes(`Content-Length: ${body.length}\r\n\r\n`),
    body,
  );
}

function one(req: Uint8Array, cuts: number[] = [], opts: HttpOptions = {}): HttpTransaction {
  const txs = parseSplit(req, RESPONSE, cuts, [], opts);
  assert.equal(txs.length, 1);
  return txs[0]!;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('boundary and filename parameters: quoted, unquoted, case, ; inside quotes', () => {
  assert.equal(multipartBoundary('multipart/form-data; boundary=----WebKitFormBoundaryX'), '----WebKitFormBoundaryX');
  assert.equal(multipartBoundary('multipart/form-data; BOUNDARY="a b;c"'), 'a b;c');
  assert.equal(multipartBoundary('multipart/form-data'), null);
  assert.equal(multipartBoundary('multipart/form-data; boundary=""'), null);
  assert.equal(multipartBoundary(`multipart/form-data; boundary=${'x'.repeat(300)}`), null);
  assert.equal(headerParam('form-data; name="f"; filename="x;y.txt"', 'filename'), 'x;y.txt');
  assert.equal(headerParam('form-data; name="f"', 'filename'), null);
});

test('multipart upload split across segments at every byte of a delimiter: each filename part is a file', () => {
  const body = form('XyZ');
  const req = post('POST', '/upload.php?id=1', 'multipart/form-data; boundary=XyZ', body);
  const head = req.length - body.length;
  // Cuts inside the first delimiter, the part headers, the PNG and the closing delimiter.
  const pngAt = head + Buffer.from(body).indexOf(PNG);
  const cuts = [head + 3, head + 40, pngAt + 2, pngAt + PNG.length + 3, req.length - 5];
  for (const c of [[], cuts, Array.from({ length: req.length }, (_, i) => i)]) {
    const files = httpRequestFiles(one(req, c));
    assert.deepEqual(
      files.map((f) => [f.name, f.complete, f.size]),
      [
        ['pic.png', true, PNG.length],
        ['a;b.txt', true, 'hello\r\n--not the boundary\r\n'.length],
      ],
    );
    assert.equal(sha256(files[0]!.data), sha256(PNG));
  }
});

test('boundary in quotes; a part without filename is not a file', () => {
  const body = concat(
    bytes('--"odd"\r\n'), // not the delimiter: the quotes are not part of the boundary
    bytes('--odd b\r\nContent-Disposition: form-data; name="only-a-field"\r\n\r\nvalue\r\n'),
    bytes('--odd b\r\nContent-Disposition: form-data; name="f"; filename="x.bin"\r\n\r\nDATA\r\n'),
    bytes('--odd b--\r\n'),
  );
  const files = httpRequestFiles(one(post('POST', '/u', 'multipart/form-data; boundary="odd b"', body)));
  assert.deepEqual(
    files.map((f) => [f.name, Buffer.from(f.data).toString(), f.complete]),
    [['x.bin', 'DATA', true]],
  );
  // Only form fields: no files at all. An empty file input (filename="", no bytes) is none either.
  const fields = concat(
    bytes('--B\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'),
    bytes('--B\r\nContent-Disposition: form-data; name="f"; filename=""\r\n\r\n\r\n'),
    bytes('--B--\r\n'),
  );
  assert.deepEqual(httpRequestFiles(one(post('POST', '/u', 'multipart/form-data; boundary=B', fields))), []);
});

test('upload cut by request-body-limit: the cut part is TRUNCATED, parts before it complete', () => {
  const big = Buffer.alloc(3000, 0x41);
  const body = concat(
    bytes('--B\r\nContent-Disposition: form-data; name="s"; filename="small.txt"\r\n\r\nsmall\r\n'),
    bytes('--B\r\nContent-Disposition: form-data; name="b"; filename="big.bin"\r\n\r\n'),
    big,
    bytes('\r\n--B--\r\n'),
  );
  const tx = one(post('POST', '/u', 'multipart/form-data; boundary=B', body), [], { requestBodyLimit: 1000 });
  assert.equal(tx.requestBodyTruncated, true);
  const files = httpRequestFiles(tx);
  assert.equal(files.length, 2);
  assert.deepEqual([files[0]!.name, files[0]!.complete], ['small.txt', true]);
  assert.deepEqual([files[1]!.name, files[1]!.complete], ['big.bin', false]);
  assert.ok(files[1]!.size < big.length && files[1]!.data.every((c) => c === 0x41));
});

test('a delimiter cut by the limit is not file data', () => {
  const body = bytes('--Bnd\r\nContent-Disposition: form-data; name="f"; filename="t"\r\n\r\nabc\r\n--Bn');
  const files = multipartFiles(body, 'Bnd', false);
  assert.deepEqual(
    files.map((f) => [Buffer.from(f.data).toString(), f.complete]),
    [['abc', false]],
  );
  // The same bytes in a complete body with no close-delimiter: the part never closed.
  assert.equal(multipartFiles(body, 'Bnd', true)[0]!.complete, false);
});

test('connection ends inside the upload: TRUNCATED', () => {
  const body = form('Q');
  const req = post('POST', '/u', 'multipart/form-data; boundary=Q', body);
  const c = new HttpConnection();
  const cut = req.length - body.length + Buffer.from(body).indexOf(PNG) + 4;
  c.feed(0, req, 0, cut, 1);
  c.close(2);
  const files = httpRequestFiles(c.drain()[0]!);
  assert.deepEqual(
    files.map((f) => [f.name, f.complete, f.size]),
    [['pic.png', false, 4]],
  );
});

test('PUT body is one file named by the URI path; raw POST too; GET bodies and other methods are not files', () => {
  const put = one(post('PUT', '/dav/report.pdf?v=2', 'application/pdf', bytes('%PDF-1.4 body')));
  assert.deepEqual(
    httpRequestFiles(put).map((f) => [f.name, Buffer.from(f.data).toString(), f.complete, f.size]),
    [['/dav/report.pdf', '%PDF-1.4 body', true, 13]],
  );
  // PUT with a multipart Content-Type is still a raw body (Suricata: PUT bodies are never multipart).
  assert.equal(
    httpRequestFiles(one(post('PUT', '/x', 'multipart/form-data; boundary=B', bytes('--B\r\n'))))[0]!.name,
    '/x',
  );
  const form = one(post('POST', '/login', 'application/x-www-form-urlencoded', bytes('u=a&p=b')));
  assert.deepEqual(
    httpRequestFiles(form).map((f) => f.name),
    ['/login'],
  );
  assert.deepEqual(httpRequestFiles(one(post('GET', '/g', 'text/plain', bytes('x')))), []);
  assert.deepEqual(httpRequestFiles(one(bytes('POST /empty HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n'))), []);
  // A raw body past the limit: TRUNCATED, size the bytes on the wire.
  const big = one(post('PUT', '/big', 'application/octet-stream', Buffer.alloc(5000, 1)), [], {
    requestBodyLimit: 100,
  });
  assert.deepEqual(
    httpRequestFiles(big).map((f) => [f.complete, f.size, f.data.length]),
    [[false, 5000, 100]],
  );
});

test('random and mutated multipart bodies: no throw, files inside the body, part count bounded', () => {
  // A fixed-seed LCG, so a failure reproduces.
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const base = Buffer.from(form('Z9'));
  const pieces = ['--Z9', '\r\n', '--Z9--', '\r\n\r\n', 'filename="f"', 'Content-Disposition: form-data; ', '\n'];
  for (let iter = 0; iter < 2000; iter++) {
    let b: Buffer;
    if (iter % 2 === 0) {
      b = Buffer.from(base);
      for (let k = rnd(8); k >= 0; k--) b[rnd(b.length)] = rnd(256);
      b = b.subarray(0, rnd(b.length + 1));
    } else {
      const parts: Buffer[] = [];
      for (let k = rnd(400); k >= 0; k--) parts.push(Buffer.from(pieces[rnd(pieces.length)]!));
      b = Buffer.concat(parts);
    }
    const files = multipartFiles(b, 'Z9', rnd(2) === 0);
    assert.ok(files.length <= 100);
    for (const f of files) assert.ok(f.data.length <= b.length && f.size === f.data.length);
  }
});
