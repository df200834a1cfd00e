import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_HANDSHAKE_MESSAGE, TlsConnection, type TlsInfo } from './parser.js';
import { TLS_EVENT } from './events.js';
import {
  clientHelloBody,
  ext,
  handshake,
  parseSplit,
  record,
  serverHelloBody,
  sniExt,
  tls12Exchange,
  tls13Exchange,
} from './test-util.js';

/** Everything but the timestamp, comparable with deepEqual. */
function view(info: TlsInfo): Record<string, unknown> {
  const o: Record<string, unknown> = { ...info };
  delete o['tsUs'];
  return o;
}

test('parser: TLS 1.2 hello, certificate, then encrypted', () => {
  const { cli, srv } = tls12Exchange();
  const c = parseSplit(cli, srv);
  const i = c.info;
  assert.ok(i.clientHello && i.serverHello);
  assert.equal(i.sni, 'www.example.com');
  assert.equal(i.clientVersion, 0x0303);
  assert.deepEqual(i.ciphers, [0x1a1a, 0xc02b, 0xc02f, 0x009c, 0x000a]);
  assert.deepEqual(i.extensions, [0x2a2a, 0x0000, 0x0017, 0x000a, 0x000b, 0x000d, 0x0010]);
  assert.deepEqual(i.groups, [0x3a3a, 0x001d, 0x0017, 0x0018]);
  assert.deepEqual(i.ecPointFormats, [0]);
  assert.deepEqual(i.signatureAlgorithms, [0x0403, 0x0804, 0x0401]);
  assert.deepEqual(i.alpns, ['h2', 'http/1.1']);
  assert.equal(i.version, 0x0303);
  assert.equal(i.serverCipher, 0xc02f);
  assert.deepEqual(i.serverExtensions, [0xff01, 0x0017, 0x0010]);
  assert.equal(i.serverAlpn, 'h2');
  assert.equal(i.cert?.subject, 'C=US, ST=California, O=Example Org, CN=www.example.com');
  assert.equal(i.cert?.serial, '00:E2:BC:D5:7B:DA:0E:C5:6F');
  assert.equal(i.certChainLength, 2);
  assert.deepEqual(i.events, []);
  assert.ok(c.done);
});

test('parser: TLS 1.3 version from supported_versions, no certificate', () => {
  const { cli, srv } = tls13Exchange();
  const c = parseSplit(cli, srv);
  assert.equal(c.info.sni, 'tls13.example');
  assert.deepEqual(c.info.supportedVersions, [0x0304, 0x0303]);
  assert.equal(c.info.serverVersion, 0x0303);
  assert.equal(c.info.serverSelectedVersion, 0x0304);
  assert.equal(c.info.version, 0x0304);
  assert.equal(c.info.serverCipher, 0x1301);
  assert.equal(c.info.cert, null);
  assert.ok(c.done);
});

test('parser: every split point (and byte by byte) gives the same info', () => {
  for (const { cli, srv } of [tls12Exchange(), tls13Exchange()]) {
    const want = view(parseSplit(cli, srv).info);
    for (let k = 1; k < cli.length; k++) assert.deepEqual(view(parseSplit(cli, srv, [k]).info), want, `cli cut ${k}`);
    for (let k = 1; k < srv.length; k++)
      assert.deepEqual(view(parseSplit(cli, srv, [], [k]).info), want, `srv cut ${k}`);
    const every = (n: number): number[] => Array.from({ length: n }, (_, j) => j + 1);
    assert.deepEqual(view(parseSplit(cli, srv, every(cli.length), every(srv.length)).info), want);
  }
});

test('parser: a handshake message fragmented over records, several messages in one record', () => {
  const { cli, srv } = tls12Exchange();
  // Re-frame the client's ClientHello (record 0) as 7-byte records.
  const chLen = (cli[3]! << 8) | cli[4]!;
  const msg = [...cli.subarray(5, 5 + chLen)];
  const frags: number[] = [];
  for (let p = 0; p < msg.length; p += 7) frags.push(...record(22, msg.slice(p, p + 7)));
  const c = parseSplit(Uint8Array.from(frags), srv);
  assert.deepEqual(view(c.info), view(parseSplit(cli, srv).info));
});

test('parser: HelloRetryRequest, then the real ServerHello', () => {
  const hrrRandom = [...Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex')];
  const hrr = handshake(2, serverHelloBody(0x0303, 0x1302, [ext(0x002b, [3, 4])], hrrRandom));
  const sh = handshake(2, serverHelloBody(0x0303, 0x1301, [ext(0x002b, [3, 4])]));
  const srv = Uint8Array.from([...record(22, hrr, 0x0303), ...record(22, sh, 0x0303)]);
  const c = new TlsConnection();
  c.feed(1, srv, 0, srv.length, 5);
  assert.ok(c.info.helloRetry);
  assert.equal(c.info.serverCipher, 0x1301);
  assert.equal(c.info.version, 0x0304);
});

test('parser: record and handshake anomalies stop the side with an event', () => {
  const c1 = new TlsConnection();
  const bad = Uint8Array.from([99, 3, 1, 0, 1, 0]); // content type 99
  c1.feed(0, bad, 0, bad.length, 0);
  assert.deepEqual(c1.info.events, [TLS_EVENT.INVALID_RECORD_TYPE]);
  const c2 = new TlsConnection();
  const big = Uint8Array.from([22, 3, 3, 0x60, 0x00]); // 24576-byte record
  c2.feed(0, big, 0, big.length, 0);
  assert.deepEqual(c2.info.events, [TLS_EVENT.RECORD_OVERFLOW]);
  const c3 = new TlsConnection();
  const huge = MAX_HANDSHAKE_MESSAGE + 1;
  const hs = Uint8Array.from(record(22, [11, huge >> 16, (huge >> 8) & 0xff, huge & 0xff]));
  c3.feed(1, hs, 0, hs.length, 0);
  assert.deepEqual(c3.info.events, [TLS_EVENT.HANDSHAKE_INVALID_LENGTH]);
  // A truncated ClientHello body inside a complete message.
  const c4 = new TlsConnection();
  const trunc = Uint8Array.from(record(22, handshake(1, clientHelloBody(0x0303, [0x002f], []).slice(0, 50))));
  c4.feed(0, trunc, 0, trunc.length, 0);
  assert.deepEqual(c4.info.events, [TLS_EVENT.INVALID_HANDSHAKE_MESSAGE]);
  assert.equal(c4.info.clientHello, false);
  // Two SNI extensions: the first is kept.
  const c5 = new TlsConnection();
  const two = Uint8Array.from(
    record(22, handshake(1, clientHelloBody(0x0303, [0x002f], [sniExt('a.example'), sniExt('b.example')]))),
  );
  c5.feed(0, two, 0, two.length, 0);
  assert.equal(c5.info.sni, 'a.example');
  assert.deepEqual(c5.info.events, [TLS_EVENT.MULTIPLE_SNI_EXTENSIONS]);
});

test('parser: ignores bad arguments', () => {
  const c = new TlsConnection();
  c.feed(0, new Uint8Array(4), 2, 5, 0);
  c.feed(0, new Uint8Array(4), -1, 2, 0);
  c.feed(0, new Uint8Array(4), 0, 0, 0);
  assert.equal(c.done, false);
  assert.deepEqual(c.info.events, []);
});

test('parser: truncated, mutated and random input never throws, memory stays capped', () => {
  const { cli, srv } = tls12Exchange();
  let seed = 12345;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let n = 0; n <= cli.length; n++) parseSplit(cli.subarray(0, n), srv.subarray(0, Math.min(n, srv.length)));
  for (let i = 0; i < 2000; i++) {
    const a = Uint8Array.from(cli);
    const b = Uint8Array.from(srv);
    for (let k = 0; k < 4; k++) {
      a[rnd() % a.length] = rnd() & 0xff;
      b[rnd() % b.length] = rnd() & 0xff;
    }
    parseSplit(a, b, [rnd() % a.length], [rnd() % b.length]);
  }
  for (let i = 0; i < 500; i++) {
    const r = new Uint8Array(1 + (rnd() % 300));
    for (let k = 0; k < r.length; k++) r[k] = rnd() & 0xff;
    r[0] = 22; // mostly past the record type check
    r[1] = 3;
    parseSplit(r, r);
  }
  // Valid input still parses afterwards.
  assert.equal(parseSplit(cli, srv).info.sni, 'www.example.com');
});

test('parser: an SSLv2-format ClientHello is skipped, the TLS server side is parsed', () => {
  // 2-byte header (length 3 + 6 + 3 + 16), CLIENT-HELLO offering TLS 1.0, 1 cipher spec, 16-byte challenge.
  const body = [1, 3, 1, 0, 3, 0, 0, 0, 16, 0x00, 0x00, 0x2f, ...new Array<number>(16).fill(7)];
  const cli = Uint8Array.from([0x80 | (body.length >> 8), body.length & 0xff, ...body]);
  const { srv } = tls12Exchange();
  const c = new TlsConnection();
  c.feed(0, cli, 0, 4, 1);
  c.feed(0, cli, 4, cli.length - 4, 1);
  c.feed(1, srv, 0, srv.length, 2);
  assert.equal(c.info.clientVersion, 0x0301);
  assert.equal(c.info.clientHello, false);
  assert.ok(c.info.serverHello);
  assert.deepEqual(c.info.events, []);
});

test('parser: appData once an application_data record follows the ServerHello, at every split', () => {
  const { cli, srv } = tls12Exchange();
  // The server's CCS, then an application_data record; the client's encrypted Finished is not one.
  const full = parseSplit(cli, srv);
  assert.ok(full.appData);
  for (let cut = 0; cut <= srv.length; cut++) assert.ok(parseSplit(cli, srv, [], [cut]).appData, `cut ${cut}`);
  // Byte by byte: record headers after the ChangeCipherSpec arrive one byte at a time.
  const bytes = Array.from({ length: srv.length }, (_, k) => k);
  assert.ok(parseSplit(cli, srv, [], bytes).appData);
  // Only the client side, up to its encrypted Finished (a handshake record): not yet.
  const c = new TlsConnection();
  c.feed(0, cli, 0, cli.length, 0);
  c.feed(1, srv, 0, srv.length - 10, 0); // everything but the application_data record
  assert.equal(c.appData, false);
  assert.ok(c.done, 'the handshake part still ends at the ChangeCipherSpecs');
  // TLS 1.3: the first encrypted record after the ServerHello and CCS.
  const t = tls13Exchange();
  assert.ok(parseSplit(t.cli, t.srv).appData);
});

test('parser: no appData for early data before the ServerHello, nor after a broken encrypted record', () => {
  const t = tls13Exchange();
  const early = new TlsConnection();
  early.feed(0, t.cli, 0, t.cli.length, 0); // ClientHello, CCS, application_data (0-RTT)
  assert.equal(early.appData, false);
  // After a CCS, something that is not a TLS record header: the side stops, no appData.
  const cli = Uint8Array.from([...record(22, handshake(1, clientHelloBody(0x0303, [0xc02f], []))), ...record(20, [1])]);
  const srv = Uint8Array.from([
    ...record(22, handshake(2, serverHelloBody(0x0303, 0xc02f, [])), 0x0303),
    ...record(20, [1], 0x0303),
    0x47,
    0x45,
    0x54,
    0x20,
    0x2f, // "GET /"
    ...record(23, [1, 2], 0x0303),
  ]);
  assert.equal(parseSplit(cli, srv).appData, false);
});
