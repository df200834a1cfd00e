import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isGrease, ja4String } from './ja3.js';
import { TlsConnection } from './parser.js';
import {
  alpnExt,
  clientHelloBody,
  ext,
  handshake,
  list16,
  parseSplit,
  record,
  sniExt,
  tls12Exchange,
} from './test-util.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sha12 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 12);

test('ja3: GREASE values (RFC 8701) are recognised', () => {
  for (let i = 0; i < 16; i++) assert.ok(isGrease(i * 0x1010 + 0x0a0a));
  assert.ok(!isGrease(0x0a1a));
  assert.ok(!isGrease(0x000a));
  assert.ok(!isGrease(0xc02b));
});

test('ja3: ClientHello and ServerHello strings leave GREASE out', () => {
  const { cli, srv } = tls12Exchange();
  const { info } = parseSplit(cli, srv);
  // version, ciphers (0x1a1a dropped), extensions (0x2a2a dropped), groups (0x3a3a dropped), formats
  assert.equal(info.ja3, '771,49195-49199-156-10,0-23-10-11-13-16,29-23-24,0');
  assert.equal(info.ja3Hash, md5(info.ja3));
  assert.equal(info.ja3s, '771,49199,65281-23-16');
  assert.equal(info.ja3sHash, md5(info.ja3s));
});

test('ja3: a hello without extensions has empty fields', () => {
  const body = clientHelloBody(0x0301, [0x002f], []).slice(0, -2); // drop the extensions length
  const c = new TlsConnection();
  const rec = Uint8Array.from(record(22, handshake(1, body)));
  c.feed(0, rec, 0, rec.length, 0);
  assert.equal(c.info.ja3, '769,47,,,');
  assert.equal(c.info.ja4, 't10i010000_' + sha12('002f') + '_000000000000');
});

test('ja4: the FoxIO reference Chrome hello gives t13d1516h2_8daaf6152771_e5627efa2ab1', () => {
  // Cipher and extension order as a browser sends them (JA4 sorts both); GREASE first.
  const ciphers = [
    0x4a4a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d,
    0x002f, 0x0035,
  ];
  const sigs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
  const exts = [
    ext(0x0a0a, []), // GREASE
    sniExt('example.com'),
    ext(0x0017, []),
    ext(0xff01, [0]),
    ext(0x000a, list16([0x1a1a, 0x001d, 0x0017, 0x0018])),
    ext(0x000b, [1, 0]),
    ext(0x0023, []),
    alpnExt(['h2', 'http/1.1']),
    ext(0x0005, [1, 0, 0, 0, 0]),
    ext(0x000d, list16(sigs)),
    ext(0x0012, []),
    ext(0x0033, [0, 0]),
    ext(0x002d, [1, 1]),
    ext(0x002b, list16([0x2a2a, 0x0304, 0x0303], 1)),
    ext(0x001b, [2, 0, 2]),
    ext(0x4469, [0, 0]),
    ext(0x0015, [0, 0, 0]), // padding
  ];
  const rec = Uint8Array.from(record(22, handshake(1, clientHelloBody(0x0303, ciphers, exts))));
  const c = new TlsConnection();
  c.feed(0, rec, 0, rec.length, 0);
  assert.ok(c.info.clientHello);
  assert.equal(c.info.ja4, 't13d1516h2_8daaf6152771_e5627efa2ab1');
  assert.equal(ja4String(c.info), c.info.ja4);
});

test('ja4: no SNI, no ALPN, non-alphanumeric ALPN', () => {
  const { cli, srv } = tls12Exchange();
  const { info } = parseSplit(cli, srv);
  // 4 ciphers, 6 extensions (SNI and ALPN counted, not hashed), ALPN h2, TLS 1.2 from legacy_version
  assert.equal(
    info.ja4,
    't12d0406h2_' + sha12('000a,009c,c02b,c02f') + '_' + sha12('000a,000b,000d,0017_0403,0804,0401'),
  );
  const body = clientHelloBody(0x0303, [0x1301], [alpnExt(['\x01x\xab'])]);
  const rec = Uint8Array.from(record(22, handshake(1, body)));
  const c = new TlsConnection();
  c.feed(0, rec, 0, rec.length, 0);
  assert.equal(c.info.ja4.slice(0, 10), 't12i0101' + '0b'); // hex 01..ab: first and last digit
});
