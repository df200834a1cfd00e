import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probeTls } from './probe.js';

const b = (...v: number[]): Uint8Array => Uint8Array.from(v);

test('probe: handshake record with a hello', () => {
  // type 22, version 3.1, length 0x00c8, ClientHello
  assert.equal(probeTls(b(22, 3, 1, 0, 200, 1), 0, 6), 'yes');
  assert.equal(probeTls(b(22, 3, 3, 0, 90, 2), 0, 6), 'yes'); // ServerHello
  assert.equal(probeTls(b(9, 22, 3, 0, 0, 200, 1), 1, 6), 'yes'); // offset honoured, SSL 3.0
  assert.equal(probeTls(b(22, 3, 0, 0, 200, 1), 0, 6), 'yes');
  assert.equal(probeTls(b(22), 0, 1), 'need_more');
  assert.equal(probeTls(b(22, 3, 1, 0), 0, 4), 'need_more');
  assert.equal(probeTls(b(22, 3, 1, 0, 200), 0, 5), 'need_more');
  assert.equal(probeTls(b(), 0, 0), 'need_more');
});

test('probe: other bytes are rejected', () => {
  assert.equal(probeTls(b(23, 3, 3, 0, 10, 1), 0, 6), 'no'); // application data
  assert.equal(probeTls(b(22, 2, 0, 0, 10, 1), 0, 6), 'no'); // version 2.0
  assert.equal(probeTls(b(22, 3, 5, 0, 10, 1), 0, 6), 'no'); // version 3.5
  assert.equal(probeTls(b(22, 3, 1, 0xff, 0xff, 1), 0, 6), 'no'); // record too long
  assert.equal(probeTls(b(22, 3, 1, 0, 2, 1), 0, 6), 'no'); // too short for a hello
  assert.equal(probeTls(b(22, 3, 1, 0, 200, 11), 0, 6), 'no'); // Certificate first
  assert.equal(probeTls(Uint8Array.from(Buffer.from('GET / HTTP/1.1')), 0, 14), 'no');
  assert.equal(probeTls(b(0x80, 0x2e, 2, 3, 1), 0, 5), 'no'); // SSLv2 format, not a ClientHello
  assert.equal(probeTls(b(0x80, 0x2e, 1, 3, 9), 0, 5), 'no'); // SSLv2 format, unknown version
  assert.equal(probeTls(b(22, 3), 0, 5), 'no'); // range past the buffer
});

test('probe: SSLv2-format ClientHello (SSLv2, or offering SSL 3.0 / TLS)', () => {
  assert.equal(probeTls(b(0x80, 0x67, 1, 3, 1), 0, 5), 'yes');
  assert.equal(probeTls(b(0x80, 0x2e, 1, 0, 2), 0, 5), 'yes');
  assert.equal(probeTls(b(0x80, 0x67, 1), 0, 3), 'need_more');
  assert.equal(probeTls(b(0x80, 0x08, 1, 3, 1), 0, 5), 'no'); // too short for a hello
});
