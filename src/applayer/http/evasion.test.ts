/**
 * libhtp's lenient HTTP/1.x rules (github.com/noxxi/http-evader style evasions): each case is the
 * bytes of a request and a response, the body Vigil must hand to detection, and the events; every
 * case also gives the same transactions whatever byte it is cut at.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import type { HttpOptions, HttpTransaction } from './parser.js';
import { bytes, concat, parseSplit, summary } from './test-util.js';

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const GET = bytes('GET /eicar.txt HTTP/1.1\r\nHost: evader.example.com\r\n\r\n');
const RAW_DEFLATE = zlib.deflateRawSync(Buffer.from(EICAR));
const GZ = zlib.gzipSync(Buffer.from(EICAR));

/** `n` bytes of `s` per chunk, as chunked transfer coding with CRLF line ends. */
function chunked(s: string, n: number, sizeSuffix = ''): string {
  let out = '';
  for (let i = 0; i < s.length; i += n) {
    const part = s.slice(i, i + n);
    out += `${part.length.toString(16)}${sizeSuffix}\r\n${part}\r\n`;
  }
  return out + '0\r\n\r\n';
}

/**
 * Parses `req` / `res` whole, runs `check` on the transactions, then asserts that every single cut
 * of either stream (and a cut at every byte) gives the same transactions.
 */
function each(req: Uint8Array, res: Uint8Array, check: (t: HttpTransaction[]) => void, opts: HttpOptions = {}): void {
  const whole = parseSplit(req, res, [], [], opts);
  check(whole);
  const want = JSON.stringify(whole.map(summary));
  for (let k = 1; k < res.length; k++) {
    assert.equal(JSON.stringify(parseSplit(req, res, [], [k], opts).map(summary)), want, `response cut at ${k}`);
  }
  for (let k = 1; k < req.length; k++) {
    assert.equal(JSON.stringify(parseSplit(req, res, [k], [], opts).map(summary)), want, `request cut at ${k}`);
  }
  const every = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const all = parseSplit(req, res, every(req.length), every(res.length), opts);
  assert.equal(JSON.stringify(all.map(summary)), want, 'cut at every byte');
}

const body = (tx: HttpTransaction | undefined): string => Buffer.from(tx!.responseBody).toString('latin1');
const reqBody = (tx: HttpTransaction | undefined): string => Buffer.from(tx!.requestBody).toString('latin1');

/** A response with the given header lines (raw, line ends included) and body. */
function resp(head: string, payload: Uint8Array | string = EICAR, status = 'HTTP/1.1 200 ok\r\n'): Uint8Array {
  return concat(bytes(status + head), typeof payload === 'string' ? bytes(payload) : payload);
}

// ---------------------------------------------------------------- chunked transfer coding

test('evasion: chunk size lines take any junk after the hex digits', () => {
  // `f\x0b`: a vertical tab after the size (http-evader 012); `5 ; ext`, `5xyz` likewise.
  each(GET, resp('Transfer-Encoding: chunked\r\n\r\n', chunked(EICAR, 15, '\x0b')), (t) => {
    assert.equal(body(t[0]), EICAR);
    assert.deepEqual(t[0]!.events, []);
  });
  each(GET, resp('Transfer-Encoding: chunked\r\n\r\n', '5 ; a=b\r\nhello\r\n5xyz\r\nworld\r\n0\r\n\r\n'), (t) => {
    assert.equal(body(t[0]), 'helloworld');
  });
});

test('evasion: control-only lines before a chunk size are skipped, data end lines dropped', () => {
  each(
    GET,
    resp(
      'Transfer-Encoding: chunked\r\n\r\n',
      '\r\n \t\r\n4\r\nabcd\r\n' + // empty and blank lines before the size
        '\x0b\x0c 2\r\nef' + // VT, FF, space before the size
        'GARBAGE\r\n' + // whatever follows the data up to the LF is dropped
        '0\r\n\r\n',
    ),
    (t) => {
      assert.equal(body(t[0]), 'abcdef');
      assert.equal(t[0]!.responseComplete, true);
    },
  );
});

test('evasion: a chunk size over 2^31-1 is ignored as libhtp does', () => {
  each(GET, resp('Transfer-Encoding: chunked\r\n\r\n', '80000000\r\n3\r\nabc\r\n0\r\n\r\n'), (t) => {
    assert.equal(body(t[0]), 'abc');
  });
});

test('evasion: no chunk size where one is due makes the rest of the response its body', () => {
  // HTTP/1.0, chunked and Content-Length, a plain body (http-evader 045): no line end at all.
  each(GET, resp('Transfer-Encoding: chunked\r\nContent-length: 68\r\n\r\n', EICAR, 'HTTP/1.0 200 ok\r\n'), (t) => {
    assert.equal(body(t[0]), EICAR);
    assert.deepEqual(t[0]!.events, ['http.response_chunked_old_proto', 'http.invalid_response_chunk_len']);
    assert.equal(t[0]!.responseComplete, true);
  });
  // A size line that starts with a hex digit but is not one: found at its LF, kept as body.
  each(GET, resp('Transfer-Encoding: chunked\r\n\r\n', '4\r\nabcd\r\nzz top\r\nrest'), (t) => {
    assert.equal(body(t[0]), 'abcdzz top\r\nrest');
    assert.deepEqual(t[0]!.events, ['http.invalid_response_chunk_len']);
  });
});

// ---------------------------------------------------------------- Transfer-Encoding

test('evasion: any Transfer-Encoding containing "chunked" is chunked', () => {
  for (const te of ['chunkedx', '\xc2\x84chunked', 'gzip, ChUnKeD']) {
    each(GET, resp(`Transfer-Encoding: ${te}\r\n\r\n`, chunked(EICAR, 5)), (t) => {
      assert.equal(body(t[0]), EICAR, te);
      assert.deepEqual(t[0]!.events, ['http.response_abnormal_transfer_encoding']);
    });
  }
});

test('evasion: repeated Transfer-Encoding headers count as one list, chunked wins over Content-Length', () => {
  // http-evader 083: `chunked` then `lalala` (the last one alone is not chunked).
  const head = 'Transfer-Encoding: chunked\r\nTransfer-Encoding: lalala\r\nContent-length: 68\r\n\r\n';
  each(GET, resp(head, chunked(EICAR, 5)), (t) => {
    assert.equal(body(t[0]), EICAR);
    assert.deepEqual(t[0]!.events, ['http.response_abnormal_transfer_encoding']);
  });
});

test('evasion: a Transfer-Encoding without chunked leaves the Content-Length in charge', () => {
  each(GET, resp('Transfer-Encoding: identity\r\nContent-Length: 5\r\n\r\n', 'helloHTTP/1.1 200 ok\r\n\r\n'), (t) => {
    assert.equal(body(t[0]), 'hello');
    assert.deepEqual(t[0]!.events, ['http.invalid_transfer_encoding_value_in_response']);
  });
});

test('evasion: request Transfer-Encoding containing "chunked" is chunked too', () => {
  const req = bytes('POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n3\x0b\r\nabc\r\n0\r\n\r\n');
  each(req, bytes('HTTP/1.1 204 No Content\r\n\r\n'), (t) => {
    assert.equal(reqBody(t[0]), 'abc');
    assert.equal(t[0]!.requestComplete, true);
  });
});

// ---------------------------------------------------------------- header lines

test('evasion: folded values, also after a bare CR or a NUL, continue the header', () => {
  const cases = [
    'Transfer-Encoding: \r\n chunked\r\n', // http-evader 073
    'Transfer-Encoding: \r chunked\r\n', // bare CR line end (076)
    'Transfer-Encoding:\n\x00chunked\r\n', // a NUL folds (307)
    'Transfer-Encoding: \n\t chunked\r\n',
  ];
  for (const h of cases) {
    each(GET, resp(`Connection: close\r\n${h}Yet-another-header: foo\r\n\r\n`, chunked(EICAR, 4)), (t) => {
      assert.equal(body(t[0]), EICAR, JSON.stringify(h));
      assert.deepEqual(t[0]!.responseHeaders[1], ['Transfer-Encoding', 'chunked']);
    });
  }
});

test('evasion: a response line "  token: value" after a fold character is its own header', () => {
  // http-evader 268: folding would hide Transfer-Encoding inside Connection's value.
  const res = resp('Connection: close\r\n Transfer-Encoding: chunked\r\nX: y\r\n\r\n', chunked(EICAR, 4));
  each(GET, res, (t) => {
    assert.equal(body(t[0]), EICAR);
    assert.deepEqual(t[0]!.responseHeaders, [
      ['Connection', 'close'],
      ['Transfer-Encoding', 'chunked'],
      ['X', 'y'],
    ]);
  });
  // In a request the same line is a continuation (libhtp looks ahead only in responses).
  const req = bytes('GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n Content-Length: 3\r\n\r\n');
  each(req, bytes(''), (t) => {
    assert.deepEqual(t[0]!.requestHeaders[1], ['X-A', 'a Content-Length: 3']);
    assert.equal(t[0]!.requestBodyLength, 0);
  });
});

test('evasion: header names lose any libhtp whitespace, a first folded line is a header', () => {
  // http-evader 321 (form feed before the colon) and 233 (space before the colon).
  for (const name of ['Content-Encoding\x0c', 'Content-Encoding ', 'content-encoding\t']) {
    each(GET, resp(`${name}:gzip\r\nContent-length: ${GZ.length}\r\n\r\n`, GZ), (t) => {
      assert.equal(body(t[0]), EICAR, JSON.stringify(name));
    });
  }
  const req = bytes('GET / HTTP/1.1\r\n Host: h\r\n\r\n');
  each(req, bytes(''), (t) => {
    assert.deepEqual(t[0]!.requestHeaders, [['Host', 'h']]);
    assert.equal(t[0]!.host, 'h');
    assert.deepEqual(t[0]!.events, ['http.invalid_request_field_folding']);
  });
});

test('evasion: response header lines end at a bare CR and at LF CR', () => {
  each(GET, resp('Content-Length: 3\rX-A: 1\n\rX-B: 2\r\n\r\n', 'abc'), (t) => {
    assert.deepEqual(
      t[0]!.responseHeaders.map((h) => h[0]),
      ['Content-Length', 'X-A', 'X-B'],
    );
    assert.equal(body(t[0]), 'abc');
  });
  // http-evader 410: `\n\r` ends the last header, `\r\n` the headers.
  each(GET, resp('Connection: close\r\nContent-length: 68\n\r\r\n', EICAR), (t) => {
    assert.equal(body(t[0]), EICAR);
  });
});

test('evasion: \\n\\r\\r\\n followed by an empty line is one line end (deformed)', () => {
  // http-evader 415: the headers end at the second empty line, the gzip body follows.
  const res = resp(`Content-Encoding: gzip\r\nContent-length: ${GZ.length}\n\r\r\n\r\n`, GZ);
  each(GET, res, (t) => assert.equal(body(t[0]), EICAR));
  const lf = resp(`Content-length: 3\n\r\r\n\nabc`, '');
  each(GET, lf, (t) => assert.equal(body(t[0]), 'abc'));
  // Requests: `\n\r\r\n` then an empty line, or `\n\r` and `\r\n` when data follows.
  each(bytes('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\n\r\r\n\r\nab'), bytes(''), (t) => {
    assert.equal(reqBody(t[0]), 'ab');
  });
  each(bytes('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\n\r\r\nab'), bytes(''), (t) => {
    assert.equal(reqBody(t[0]), 'ab');
  });
});

test('evasion: Content-Length digits with junk around them still frame the body', () => {
  each(GET, resp('Content-Length: 3abc\r\n\r\n', 'abcHTTP/1.1 204 x\r\n\r\n'), (t) => {
    assert.equal(body(t[0]), 'abc');
    assert.deepEqual(t[0]!.events, ['http.invalid_content_length_field_in_response']);
  });
});

// ---------------------------------------------------------------- status lines

test('evasion: lines before the status line: short or followed by "H" skipped', () => {
  const rest = 'HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n' + chunked(EICAR, 4);
  for (const junk of [' \t\r\n', ' foobar\r\n', '\n\r', '\r\n\r\n', 'ab\n']) {
    each(GET, bytes(junk + rest), (t) => {
      assert.equal(t.length, 1, JSON.stringify(junk));
      assert.equal(t[0]!.status, 200);
      assert.equal(body(t[0]), EICAR);
      assert.deepEqual(t[0]!.events, []);
    });
  }
});

test('evasion: a status line may start with whitespace or NUL and any-case "http"', () => {
  each(GET, bytes('\x00 http/1.1 200 ok\r\nContent-Length: 2\r\n\r\nok'), (t) => {
    assert.equal(t[0]!.status, 200);
    assert.equal(t[0]!.responseProtocol, 'http/1.1');
    assert.equal(body(t[0]), 'ok');
    assert.deepEqual(t[0]!.events, []);
  });
  each(GET, bytes('HTTP/2.0 0200 ok\r\nContent-Length: 0\r\n\r\n'), (t) => {
    assert.equal(t[0]!.status, 200);
    assert.deepEqual(t[0]!.events, ['http.response_invalid_protocol']);
  });
});

test('evasion: other lines before a status line are body, kept undecoded', () => {
  // Body-like lines (the one before the status line, followed by 'H', is skipped), then the
  // status line of the same response, whose gzip body is decoded after them.
  const res = concat(
    bytes('junk line\r\nmore junk\rskipped\nHTTP/1.1 200 ok\r\nContent-Encoding: gzip\r\n'),
    bytes(`Content-Length: ${GZ.length}\r\n\r\n`),
    GZ,
  );
  each(GET, res, (t) => {
    assert.equal(t.length, 1);
    assert.equal(t[0]!.status, 200);
    assert.equal(body(t[0]), 'junk line\r\nmore junk\r' + EICAR);
    assert.deepEqual(t[0]!.events, ['http.response_invalid_protocol']);
  });
  // Only such lines (an HTTP/0.9 style answer): the body runs to the end of the connection.
  each(GET, bytes('<html>hello\n<b>world</b>'), (t) => {
    assert.equal(body(t[0]), '<html>hello\n<b>world</b>');
    assert.equal(t[0]!.responseComplete, true);
    assert.deepEqual(t[0]!.events, ['http.response_invalid_protocol']);
  });
});

// ---------------------------------------------------------------- 1xx and 101

test('evasion: 101 and 1xx responses with a Content-Length have that body', () => {
  for (const st of ['101 ok', '102 ok', '100 Continue']) {
    const res = bytes(`HTTP/1.1 ${st}\r\nContent-length: 68\r\n\r\n${EICAR}HTTP/1.1 200 ok\r\n\r\n`);
    each(GET, res, (t) => {
      assert.equal(t[0]!.status, Number(st.slice(0, 3)));
      assert.equal(body(t[0]), EICAR, st);
    });
  }
  // Without a body announced 101 still switches protocols.
  each(GET, bytes('HTTP/1.1 101 Switching\r\nUpgrade: x\r\n\r\nHTTP/1.1 200 ok\r\n\r\n'), (t) => {
    assert.equal(t.length, 1);
    assert.equal(t[0]!.status, 101);
  });
});

// ---------------------------------------------------------------- Content-Encoding

test('evasion: Content-Encoding lists are read token by token (split at commas and spaces)', () => {
  const cases: [string, string[]][] = [
    ['Content-Encoding:deflate,\r\n', []], // 122
    ['Content-Encoding:deflate\r\n ,\r\n \r\n', []], // 124: folded list
    ['Content-Encoding:identity,deflate\r\n', []], // 143
    ['Content-Encoding: X-DEFLATE\r\n', []],
    ['Content-Encoding: x deflate\r\n', ['http.abnormal_ce_header']], // 167 with deflate
    ['Content-Encoding: mydeflate\r\n', ['http.abnormal_ce_header']],
  ];
  for (const [h, ev] of cases) {
    each(GET, resp(`Content-length: ${RAW_DEFLATE.length}\r\n${h}\r\n`, RAW_DEFLATE), (t) => {
      assert.equal(body(t[0]), EICAR, JSON.stringify(h));
      assert.deepEqual(t[0]!.events, ev, JSON.stringify(h));
    });
  }
  each(GET, resp(`Content-length: ${GZ.length}\r\nContent-Encoding:x gzip\r\n\r\n`, GZ), (t) => {
    assert.equal(body(t[0]), EICAR);
  });
});

test('evasion: stacked codings are undone last first, up to the layer limit', () => {
  // http-evader 151: deflate, then gzip, then deflate again; two headers make one list.
  const x = zlib.deflateRawSync(zlib.gzipSync(zlib.deflateRawSync(Buffer.from(EICAR))));
  const res = resp(
    `Content-length: ${x.length}\r\nContent-Encoding:deflate,gzip\r\nContent-Encoding:deflate\r\n\r\n`,
    x,
  );
  each(GET, res, (t) => assert.equal(body(t[0]), EICAR), { decompressLayerLimit: 3 });
  each(GET, res, (t) => {
    // Suricata's default limit is 2 layers: the third stays encoded.
    assert.notEqual(body(t[0]), EICAR);
    assert.ok(t[0]!.events.includes('http.too_many_encoding_layers'));
  });
});

test('evasion: gzip headers and trailers browsers accept decode', () => {
  const deflated = zlib.deflateRawSync(Buffer.from(EICAR));
  const head = (flags: number, extra = ''): Uint8Array =>
    concat(Uint8Array.from([0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3]), bytes(extra));
  const trailer = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x44, 0, 0, 0]); // wrong CRC32
  const variants: [string, Uint8Array][] = [
    ['FHCRC with a wrong header CRC', concat(head(0x02, '\0\0'), deflated, trailer)], // 195
    ['reserved flag bit', concat(head(0x40), deflated, trailer)], // 218
    ['FEXTRA FNAME FCOMMENT', concat(head(0x1c, '\x03\x00abcname\0comment\0'), deflated, trailer)],
    ['wrong ISIZE, nothing after the data', concat(head(0), deflated)], // 221
    ['deflate data labelled gzip', deflated],
  ];
  for (const [what, gz] of variants) {
    each(GET, resp(`Content-Encoding: gzip\r\nContent-length: ${gz.length}\r\n\r\n`, gz), (t) => {
      assert.equal(body(t[0]), EICAR, what);
      assert.deepEqual(t[0]!.events, [], what);
    });
  }
});

// ---------------------------------------------------------------- request lines

test('evasion: a request line without protocol has headers when more than a line end follows', () => {
  const req = bytes('GET /gen.php?x=1\r\nHost: h\r\nUser-Agent: ua\r\nContent-Length: 2\r\n\r\nab');
  each(req, bytes('HTTP/1.1 200 ok\r\nContent-Length: 0\r\n\r\n'), (t) => {
    assert.equal(t.length, 1);
    assert.equal(t[0]!.protocol, '');
    assert.equal(t[0]!.userAgent, 'ua');
    assert.equal(t[0]!.host, 'h');
    assert.equal(reqBody(t[0]), 'ab');
    assert.deepEqual(t[0]!.events, ['http.request_line_missing_protocol']);
  });
  // HTTP/0.9: the request line, an empty line, then the next request.
  each(bytes('GET /a\r\n\r\nGET /b HTTP/1.0\r\n\r\n'), bytes(''), (t) => {
    assert.deepEqual(
      t.map((x) => [x.uriRaw, x.protocol, x.requestComplete]),
      [
        ['/a', '', true],
        ['/b', 'HTTP/1.0', true],
      ],
    );
  });
  // libhtp reads whatever non-empty follows as headers, even another request line.
  each(bytes('GET /a\nGET /b HTTP/1.0\r\n\r\n'), bytes(''), (t) => {
    assert.equal(t.length, 1);
    assert.deepEqual(t[0]!.events, ['http.request_line_missing_protocol', 'http.request_field_missing_colon']);
  });
  each(bytes('GET /a\r\n'), bytes(''), (t) => {
    assert.equal(t[0]!.requestComplete, true);
    assert.deepEqual(t[0]!.events, []);
  });
});
