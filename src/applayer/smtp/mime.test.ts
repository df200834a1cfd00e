import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../../test/fuzz/prng.js';
import {
  MAX_FILENAME,
  MAX_HEADER_VALUE,
  MAX_HEADERS,
  MAX_MIME_DEPTH,
  MAX_PARTS,
  MimeParser,
  MimeResult,
  decodeEncodedWords,
  parseHeaderParams,
  splitAddresses,
  type MimeLimits,
} from './mime.js';
import { SMTP_EVENT } from './events.js';

const LIMITS: MimeLimits = { fileLimit: 1 << 20, bodyLimit: 1 << 16, dataLimit: 1 << 22, hash: false };

/** Parses `text` (latin1) written in pieces of the given sizes (cycled), then ends it. */
function parse(text: string, pieces: number[] = [], limits = LIMITS, complete = true): MimeResult {
  const r = new MimeResult();
  const p = new MimeParser(r, limits);
  const b = Buffer.from(text, 'latin1');
  let at = 0;
  let k = 0;
  while (at < b.length) {
    const n = pieces.length === 0 ? b.length : pieces[k++ % pieces.length]!;
    p.write(b, at, Math.min(b.length, at + n));
    at += n;
  }
  p.end(complete);
  return r;
}

const text = (u: Uint8Array): string => Buffer.from(u).toString('utf8');
const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

test('mime: header parameters (RFC 2045, 2231, 2047)', () => {
  const ct = parseHeaderParams('Multipart/Mixed; boundary="a b;c"; charset=UTF-8 ; x');
  assert.equal(ct.value, 'multipart/mixed');
  assert.equal(ct.params.get('boundary'), 'a b;c');
  assert.equal(ct.params.get('charset'), 'UTF-8');
  assert.equal(parseHeaderParams('attachment; filename="a\\"b.txt"').params.get('filename'), 'a"b.txt');
  assert.equal(
    parseHeaderParams("attachment; filename*=utf-8''na%C3%AFve%20file.txt").params.get('filename'),
    'naïve file.txt',
  );
  // Continuations, extended and plain mixed; the extended form wins over `filename`.
  assert.equal(
    parseHeaderParams('attachment; filename="x"; filename*0*=utf-8\'\'a%20; filename*1="b.txt"').params.get('filename'),
    'a b.txt',
  );
  assert.equal(parseHeaderParams("a; filename*=iso-8859-1'en'caf%E9").params.get('filename'), 'café');
  // Raw UTF-8 bytes (the header is read as latin1) and RFC 2047 encoded words.
  assert.equal(parseHeaderParams(latin1('a; filename="résumé.pdf"')).params.get('filename'), 'résumé.pdf');
  assert.equal(parseHeaderParams('a; name="=?UTF-8?B?w6kudHh0?="').params.get('name'), 'é.txt');
  assert.equal(decodeEncodedWords('=?iso-8859-1?Q?caf=E9_menu?= =?utf-8?q?=2Etxt?='), 'café menu.txt');
  assert.equal(decodeEncodedWords('plain =?bogus'), 'plain =?bogus');
});

test('mime: address lists split outside quotes and brackets', () => {
  assert.deepEqual(splitAddresses('a@x, "Doe, J" <j@x>,(c, d) e@x ,, <f@x>'), [
    'a@x',
    '"Doe, J" <j@x>',
    '(c, d) e@x',
    '<f@x>',
  ]);
  assert.deepEqual(splitAddresses(''), []);
  assert.deepEqual(splitAddresses('"unterminated, x'), ['"unterminated, x']);
});

const NESTED =
  'From: a@x\r\n' +
  'Content-Type: multipart/mixed; boundary=outer\r\n' +
  '\r\n' +
  '--outer\r\n' +
  'Content-Type: multipart/alternative; boundary="inner"\r\n' +
  '\r\n' +
  'inner preamble\r\n' +
  '--inner\r\n' +
  'Content-Type: text/plain\r\n' +
  '\r\n' +
  'plain line 1\r\n' +
  'plain line 2\r\n' +
  '\r\n' +
  '--inner   \r\n' + // transport padding after the delimiter
  'Content-Type: text/html; charset=utf-8\r\n' +
  'Content-Transfer-Encoding: quoted-printable\r\n' +
  '\r\n' +
  '<a href=3D"http://evil.example/x?a=3D1">x</a> and =\r\n' +
  'http://evil.example/x?a=3D1, again=\r\n' +
  '\r\n' +
  '--inner--\r\n' +
  '--outer\r\n' +
  'Content-Type: application/pdf\r\n' +
  'Content-Disposition: attachment;\r\n' +
  '\tfilename="=?UTF-8?Q?r=C3=A9sum=C3=A9?=.pdf"\r\n' + // folded header, encoded word
  'Content-Transfer-Encoding: base64\r\n' +
  '\r\n' +
  Buffer.from('%PDF-1.4 fake').toString('base64') +
  '\r\n' +
  '--outer--\r\n';

test('mime: nested multiparts, QP html, folded headers, encoded file names', () => {
  const r = parse(NESTED);
  assert.equal(r.mimeStatus, 'PARSE_DONE');
  assert.deepEqual(r.events, []);
  assert.deepEqual(
    r.bodies.map((b) => [b.contentType, text(b.data)]),
    [
      ['text/plain', 'plain line 1\r\nplain line 2\r\n'],
      ['text/html', '<a href="http://evil.example/x?a=1">x</a> and http://evil.example/x?a=1, again'],
    ],
  );
  assert.deepEqual(r.urls, ['http://evil.example/x?a=1']);
  assert.equal(r.attachments.length, 1);
  assert.equal(r.attachments[0]!.filename, 'résumé.pdf');
  assert.equal(r.attachments[0]!.contentType, 'application/pdf');
  assert.equal(text(r.attachments[0]!.data), '%PDF-1.4 fake');
  // The same at any write size.
  for (const pieces of [[1], [2], [3], [7], [64], [1, 100, 5]]) {
    const s = parse(NESTED, pieces);
    assert.deepEqual(
      [s.bodies.map((b) => text(b.data)), s.attachments.map((a) => text(a.data)), s.urls, s.events],
      [r.bodies.map((b) => text(b.data)), r.attachments.map((a) => text(a.data)), r.urls, r.events],
      JSON.stringify(pieces),
    );
  }
});

test('mime: single-part messages, attachments without multipart, no body', () => {
  const r = parse(
    'Subject: x\r\nContent-Type: application/zip; name=a.zip\r\nContent-Transfer-Encoding: BASE64\r\n\r\nUEsDBA==\r\n',
  );
  assert.equal(r.attachments[0]!.filename, 'a.zip');
  assert.deepEqual([...r.attachments[0]!.data], [0x50, 0x4b, 3, 4]);
  const h = parse('Subject: only headers\r\n');
  assert.equal(h.mimeStatus, 'PARSE_DONE');
  assert.equal(h.bodies.length + h.attachments.length, 0);
  // An 8bit body kept as is; the last line's CRLF belongs to the end.
  const b = parse(latin1('Subject: x\r\n\r\nnaïve\r\n\r\nend\r\n'));
  assert.equal(text(b.bodies[0]!.data), 'naïve\r\n\r\nend');
  // Disposition attachment without a name is an attachment without a name.
  const d = parse('Content-Disposition: attachment\r\n\r\nzzz\r\n');
  assert.equal(d.attachments.length, 1);
  assert.equal(d.attachments[0]!.filename, '');
});

test('mime: a megabyte-long base64 line decodes whole at any write size', () => {
  const data = Buffer.alloc(300_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
  const msg = `Content-Disposition: attachment; filename=big\r\nContent-Transfer-Encoding: base64\r\n\r\n${data.toString('base64')}\r\n`;
  const rnd = mulberry32(7);
  const pieces = Array.from({ length: 50 }, () => 1 + Math.floor(rnd() * 9000));
  for (const p of [[], pieces, [4096], [4097]]) {
    const r = parse(msg, p);
    assert.equal(r.attachments[0]!.size, data.length);
    assert.ok(Buffer.from(r.attachments[0]!.data).equals(data));
    assert.deepEqual(r.events, [SMTP_EVENT.MIME_LONG_LINE, SMTP_EVENT.MIME_LONG_ENC_LINE]);
  }
});

test('mime: quoted-printable edge cases', () => {
  const r = parse('Content-Transfer-Encoding: quoted-printable\r\n\r\n=41=42=\r\nC=3d=3D =ZZ =4\r\nsoft at the end=');
  assert.equal(text(r.bodies[0]!.data), 'ABC== =ZZ =4\r\nsoft at the end');
  assert.deepEqual(r.events, [SMTP_EVENT.MIME_INVALID_QP]);
});

test('mime: base64 oddities', () => {
  const r = parse('Content-Transfer-Encoding: base64\r\n\r\nQUJD\r\nR!E=\r\nRkc\r\n');
  assert.equal(text(r.bodies[0]!.data), 'ABCDFG'); // '!' skipped, "RE=" gives 'D', unpadded tail decoded
  assert.deepEqual(r.events, [SMTP_EVENT.MIME_INVALID_BASE64]);
  const one = parse('Content-Transfer-Encoding: base64\r\n\r\nQUJDR\r\n');
  assert.equal(text(one.bodies[0]!.data), 'ABC');
  assert.deepEqual(one.events, [SMTP_EVENT.MIME_INVALID_BASE64]);
});

test('mime: anomalies and caps', () => {
  const ev = (m: string): string[] => parse(m).events;
  assert.deepEqual(ev(`${'X'.repeat(80)}: v\r\n\r\nb\r\n`), [SMTP_EVENT.MIME_LONG_HEADER_NAME]);
  const lv = parse(`Subject: ${'v'.repeat(MAX_HEADER_VALUE + 10)}\r\n\r\nb\r\n`);
  assert.deepEqual(lv.events, [SMTP_EVENT.MIME_LONG_LINE, SMTP_EVENT.MIME_LONG_HEADER_VALUE]);
  assert.equal(lv.subject.length, MAX_HEADER_VALUE - 1); // the leading space is trimmed
  const bd = 'b'.repeat(80);
  assert.deepEqual(ev(`Content-Type: multipart/mixed; boundary=${bd}\r\n\r\n--${bd}\r\n\r\nx\r\n--${bd}--\r\n`), [
    SMTP_EVENT.MIME_LONG_BOUNDARY,
  ]);
  const fn = parse(`Content-Disposition: attachment; filename="${'f'.repeat(300)}"\r\n\r\nx\r\n`);
  assert.deepEqual(fn.events, [SMTP_EVENT.MIME_LONG_FILENAME]);
  assert.equal(fn.attachments[0]!.filename.length, MAX_FILENAME);
  assert.deepEqual(ev('no headers here\r\nbody\r\n'), [SMTP_EVENT.MIME_MALFORMED_MSG]);
  assert.deepEqual(ev('Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n\r\nx\r\n'), [
    SMTP_EVENT.MIME_MALFORMED_MSG, // never closed
  ]);
  assert.deepEqual(ev('Content-Type: multipart/mixed\r\n\r\nx\r\n'), [SMTP_EVENT.MIME_MALFORMED_MSG]);
  assert.deepEqual(ev('From: a\r\nFrom: b\r\n\r\nx\r\n'), [SMTP_EVENT.DUPLICATE_FIELDS]);
  assert.equal(parse('From: a\r\nFrom: b\r\n\r\nx\r\n').from, 'a');

  let many = '';
  for (let i = 0; i < MAX_HEADERS + 5; i++) many += `X-H${i}: v\r\n`;
  const mh = parse(many + '\r\nx\r\n');
  assert.equal(mh.headers.length, MAX_HEADERS);
  assert.deepEqual(mh.events, [SMTP_EVENT.MIME_TOO_MANY_HEADERS]);

  let parts = 'Content-Type: multipart/mixed; boundary=p\r\n\r\n';
  for (let i = 0; i < MAX_PARTS + 3; i++) parts += `--p\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`;
  const mp = parse(parts + '--p--\r\n');
  assert.equal(mp.bodies.length, MAX_PARTS);
  assert.deepEqual(mp.events, [SMTP_EVENT.MIME_TOO_MANY_PARTS]);

  let deep = '';
  for (let i = 0; i <= MAX_MIME_DEPTH; i++) deep += `Content-Type: multipart/mixed; boundary=d${i}\r\n\r\n--d${i}\r\n`;
  const dp = parse(deep + '\r\nleaf\r\n');
  assert.ok(dp.events.includes(SMTP_EVENT.MIME_TOO_MANY_PARTS));
  assert.equal(dp.bodies.length, 1); // the multipart too deep is kept as an opaque leaf
});

test('mime: kept bytes bounded per part and per message', () => {
  const msg =
    'Content-Type: multipart/mixed; boundary=q\r\n\r\n' +
    '--q\r\n\r\n' +
    'a'.repeat(500) +
    '\r\n--q\r\nContent-Disposition: attachment; filename=f\r\n\r\n' +
    'b'.repeat(500) +
    '\r\n--q\r\nContent-Disposition: attachment; filename=g\r\n\r\n' +
    'c'.repeat(500) +
    '\r\n--q--\r\n';
  const r = parse(msg, [], { fileLimit: 300, bodyLimit: 100, dataLimit: 600, hash: false });
  assert.deepEqual(
    [...r.bodies, ...r.attachments].map((p) => [p.size, p.data.length, p.truncated]),
    [
      [500, 100, true],
      [500, 300, true],
      [500, 200, true], // what is left of the 600 per message
    ],
  );
  // Cut short: the open part is not complete, the status says where it stopped.
  const cut = parse(msg.slice(0, 200), [], LIMITS, false);
  assert.equal(cut.mimeStatus, 'BODY_STARTED');
  assert.equal(cut.bodies[0]!.complete, false);
});
