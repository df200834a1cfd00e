import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { decodeLayers, decompressBounded, gzipHeaderEnd } from './decompress.js';

const TEXT = Buffer.from('The quick brown fox jumps over the lazy dog. '.repeat(20));
const str = (d: Uint8Array): string => Buffer.from(d).toString('latin1');

test('decompress: gzip header fields are skipped without checks', () => {
  const base = [0x1f, 0x8b, 8];
  assert.equal(gzipHeaderEnd(Uint8Array.from([...base, 0, 0, 0, 0, 0, 0, 3])), 10);
  // FEXTRA (2-byte length), FNAME, FCOMMENT (NUL-ended), FHCRC (2 bytes)
  const all = Uint8Array.from([...base, 0x1e, 0, 0, 0, 0, 0, 3, 2, 0, 9, 9, 0x41, 0, 0x42, 0, 7, 7]);
  assert.equal(gzipHeaderEnd(all), all.length);
  assert.equal(gzipHeaderEnd(all.subarray(0, 14)), -2); // cut inside FNAME
  assert.equal(gzipHeaderEnd(Uint8Array.from([0x1f, 0x8b])), -2);
  assert.equal(gzipHeaderEnd(Uint8Array.from([0x1f, 0x8c, 8])), -1);
  assert.equal(gzipHeaderEnd(Uint8Array.from([0x1f, 0x8b, 7, 0, 0, 0, 0, 0, 0, 0])), -1); // not deflate
});

test('decompress: a corrupt stream keeps what decoded before the error', () => {
  const gz = zlib.gzipSync(TEXT);
  const cut = Uint8Array.from(gz.subarray(0, gz.length - 8)); // no trailer: fine
  assert.equal(str(decompressBounded('gzip', cut, 4096).data), TEXT.toString());
  // Corrupt the middle of a raw stream (stored block: lengths are checked, so this errors).
  const stored = zlib.deflateRawSync(TEXT, { level: 0 });
  const bad = Uint8Array.from(stored);
  bad[2]! ^= 0xff; // LEN no longer matches NLEN
  const r = decodeLayers(['deflate'], Buffer.concat([zlib.deflateRawSync(Buffer.from('x')), bad]), 4096);
  assert.equal(r.error, false); // the first stream ended cleanly: the rest is ignored
  const r2 = decompressBounded('deflate', bad, 4096);
  assert.equal(r2.error, true);
  assert.equal(str(r2.data), str(bad)); // nothing decoded: passed through
});

test('decompress: a failing coding is retried as the next one, else passes through', () => {
  const z = zlib.deflateSync(TEXT); // zlib-wrapped
  const rawD = zlib.deflateRawSync(TEXT);
  for (const [coding, data] of [
    ['gzip', z],
    ['gzip', rawD],
    ['deflate', z],
    ['deflate', zlib.gzipSync(TEXT)],
  ] as const) {
    const r = decompressBounded(coding, data, 4096);
    assert.equal(str(r.data), TEXT.toString(), coding);
    assert.equal(r.error, false);
  }
  const plain = decompressBounded('gzip', Buffer.from('not compressed at all'), 4096);
  assert.equal(str(plain.data), 'not compressed at all');
  assert.equal(plain.error, true);
});

test('decompress: layers are undone last first and bounded', () => {
  const two = zlib.gzipSync(zlib.deflateRawSync(TEXT)); // deflate applied, then gzip
  const r = decodeLayers(['deflate', 'gzip'], two, 100);
  assert.equal(str(r.data), TEXT.toString().slice(0, 100));
  assert.equal(r.truncated, true);
  const bomb = zlib.gzipSync(zlib.gzipSync(Buffer.alloc(20 * 1024 * 1024)));
  const t0 = Date.now();
  const b = decodeLayers(['gzip', 'gzip'], bomb, 4096, 64 * 1024);
  assert.equal(b.data.length, 4096);
  assert.equal(b.truncated, true);
  assert.ok(Date.now() - t0 < 2000);
});
