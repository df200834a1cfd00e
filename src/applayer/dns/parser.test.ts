import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DnsTcpStream,
  formatIpv6,
  isDnsError,
  parseDnsMessage,
  probeDns,
  shannonEntropy,
  type DnsMessage,
} from './parser.js';
import { QUERY, RESPONSE, bytes, labels, name, parseErr, parseOk, tcpFrames } from './test-util.js';

const HDR_Q1 = '0000 0100 0001 0000 0000 0000'; // id 0, RD, one question, no records

test('query: header, question, EDNS OPT with an option', () => {
  const m = parseOk(QUERY);
  assert.equal(m.id, 0x1234);
  assert.deepEqual(m.flags, {
    raw: 0x0100,
    qr: false,
    opcode: 0,
    aa: false,
    tc: false,
    rd: true,
    ra: false,
    z: false,
    ad: false,
    cd: false,
    rcode: 0,
  });
  assert.deepEqual([m.qdcount, m.ancount, m.nscount, m.arcount], [1, 0, 0, 1]);
  assert.deepEqual(m.questions, [{ name: 'www.example.com', type: 1, class: 1, labelCount: 3, longestLabel: 7 }]);
  const opt = m.additionals[0]!;
  assert.equal(opt.name, '');
  assert.equal(opt.type, 41);
  assert.equal(opt.class, 4096);
  assert.equal(opt.ttl, 0x8000);
  assert.deepEqual(opt.rdata, { kind: 'opt', options: [{ code: 10, data: bytes('0102030405060708') }] });
  assert.equal(m.length, QUERY.length);
});

test('response: every decoded record type, compression pointers', () => {
  const m = parseOk(RESPONSE);
  assert.equal(m.flags.qr, true);
  assert.equal(m.flags.aa, true);
  assert.equal(m.flags.ra, true);
  const a = m.answers.map((r) => [r.name, r.type, r.ttl, r.rdata]);
  assert.deepEqual(a, [
    ['www.example.com', 5, 300, { kind: 'name', name: 'web.example.com' }],
    ['www.example.com', 1, 60, { kind: 'address', address: '93.184.216.34', bytes: bytes('5db8d822') }],
    [
      'www.example.com',
      28,
      60,
      {
        kind: 'address',
        address: '2606:2800:220:1:248:1893:25c8:1946',
        bytes: bytes('26062800022000010248189325c81946'),
      },
    ],
    ['example.com', 15, 3600, { kind: 'mx', preference: 10, exchange: 'mail.example.com' }],
    ['example.com', 2, 3600, { kind: 'name', name: 'ns1.example.com' }],
    ['example.com', 16, 3600, { kind: 'txt', strings: ['v=spf1', '-all'] }],
    ['4.3.2.1.in-addr.arpa', 12, 3600, { kind: 'name', name: 'www.example.com' }],
    [
      '_sip._udp.example.com',
      33,
      3600,
      { kind: 'srv', priority: 10, weight: 5, port: 5060, target: 'sip.example.com' },
    ],
  ]);
  assert.deepEqual(m.authorities[0]!.rdata, {
    kind: 'soa',
    mname: 'ns1.example.com',
    rname: 'hostmaster.example.com',
    serial: 0x78a0f835,
    refresh: 7200,
    retry: 3600,
    expire: 1209600,
    minimum: 300,
  });
  assert.deepEqual(m.additionals[0]!.rdata, { kind: 'opt', options: [] });
  assert.equal(m.additionals[0]!.class, 1232);
});

test('unknown types keep the rdata length; a large TTL stays unsigned', () => {
  const m = parseOk(
    bytes(
      '0001 8180 0000 0001 0000 0000', // response, one answer
      name('x'),
      '00fe 0001', // type 254 (MAILA), IN
      'ffffffff', // ttl 2^32-1
      '0003 aabbcc', // rdlength 3, rdata
    ),
  );
  assert.equal(m.answers[0]!.ttl, 0xffffffff);
  assert.deepEqual(m.answers[0]!.rdata, { kind: 'raw', length: 3 });
});

test('names: pointer loops and bad pointers are errors, not hangs', () => {
  // qname is a pointer to itself.
  assert.equal(parseErr(bytes(HDR_Q1, 'c00c', '0001 0001')).error, 'dns.name_pointer_loop');
  // two pointers pointing at each other.
  assert.equal(parseErr(bytes(HDR_Q1, 'c00e c00c', '0001 0001')).error, 'dns.name_pointer_loop');
  // a label, then a pointer back to it: www.www.www... forever.
  assert.equal(parseErr(bytes(HDR_Q1, labels('www'), 'c00c', '0001 0001')).error, 'dns.name_pointer_loop');
  // with longer labels the length cap is reached first.
  assert.equal(parseErr(bytes(HDR_Q1, labels('a'.repeat(60)), 'c00c', '0001 0001')).error, 'dns.name_too_long');
  // pointer beyond the message.
  assert.equal(parseErr(bytes(HDR_Q1, 'c0ff', '0001 0001')).error, 'dns.bad_pointer');
  // pointer cut in half.
  assert.equal(parseErr(bytes(HDR_Q1, 'c0')).error, 'dns.truncated');
  // reserved label types 01 and 10.
  assert.equal(parseErr(bytes(HDR_Q1, '41 61 00', '0001 0001')).error, 'dns.bad_label_type');
  assert.equal(parseErr(bytes(HDR_Q1, '81 61 00', '0001 0001')).error, 'dns.bad_label_type');
});

test('names: 255 bytes accepted, 256 rejected; label statistics', () => {
  const l63 = 'a'.repeat(63);
  // 3 x (1 + 63) + (1 + 61) + root = 255.
  const ok = `${l63}.${l63}.${l63}.${'b'.repeat(61)}`;
  const m = parseOk(bytes(HDR_Q1, name(ok), '0001 0001'));
  assert.equal(m.questions[0]!.name, ok);
  assert.equal(m.questions[0]!.labelCount, 4);
  assert.equal(m.questions[0]!.longestLabel, 63);
  const long = `${l63}.${l63}.${l63}.${'b'.repeat(62)}`;
  assert.equal(parseErr(bytes(HDR_Q1, name(long), '0001 0001')).error, 'dns.name_too_long');
  // the root name.
  const r = parseOk(bytes(HDR_Q1, '00', '0002 0001'));
  assert.deepEqual(r.questions[0], { name: '', type: 2, class: 1, labelCount: 0, longestLabel: 0 });
});

test('bad rdata: wrong address length, TXT string past rdlength, name past rdlength', () => {
  const hdr = '0001 8180 0000 0001 0000 0000';
  assert.equal(parseErr(bytes(hdr, '00', '0001 0001 00000000 0005 0102030405')).error, 'dns.bad_rdata');
  assert.equal(parseErr(bytes(hdr, '00', '0010 0001 00000000 0002 0561')).error, 'dns.bad_rdata');
  // CNAME whose rdlength (2) ends inside the name.
  assert.equal(parseErr(bytes(hdr, '00', '0005 0001 00000000 0002', labels('ab'), '00')).error, 'dns.bad_rdata');
});

test('truncated at every length: an error, never a throw', () => {
  for (const full of [QUERY, RESPONSE]) {
    for (let n = 0; n < full.length; n++) {
      const r = parseDnsMessage(full, 0, n);
      assert.ok(isDnsError(r), `length ${n}`);
    }
    // the same bytes at an offset inside a larger buffer.
    const wide = bytes('ffff', full, 'ffff');
    assert.deepEqual(parseDnsMessage(wide, 2, full.length), parseOk(full));
  }
  // out-of-range arguments.
  assert.ok(isDnsError(parseDnsMessage(QUERY, QUERY.length + 5, 20)));
  assert.ok(isDnsError(parseDnsMessage(QUERY, -1, 20)));
  assert.deepEqual(parseDnsMessage(QUERY, 0, QUERY.length + 100), parseOk(QUERY));
});

test('fuzz: random and mutated messages never throw; valid input still parses after', () => {
  let seed = 0x9e3779b9;
  const rnd = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const deadline = Date.now() + (process.env['CI'] !== undefined ? 5000 : 1500);
  let runs = 0;
  while (Date.now() < deadline && runs < 200000) {
    const src = rnd() < 0.5 ? RESPONSE : QUERY;
    const b = Uint8Array.from(src);
    const flips = 1 + Math.floor(rnd() * 8);
    for (let i = 0; i < flips; i++) {
      const at = Math.floor(rnd() * b.length);
      // bias towards pointer-like bytes to exercise the name decoder.
      b[at] = rnd() < 0.3 ? 0xc0 | Math.floor(rnd() * 4) : Math.floor(rnd() * 256);
    }
    const n = Math.floor(rnd() * (b.length + 1));
    parseDnsMessage(b, 0, n);
    probeDns(b, 0, n, rnd() < 0.5);
    const r = new Uint8Array(Math.floor(rnd() * 64));
    for (let i = 0; i < r.length; i++) r[i] = Math.floor(rnd() * 256);
    parseDnsMessage(r, 0, r.length);
    runs++;
  }
  assert.ok(runs > 100);
  assert.equal(parseOk(RESPONSE).answers.length, 8);
});

test('probeDns: sane headers only', () => {
  assert.equal(probeDns(QUERY, 0, QUERY.length, false), true);
  assert.equal(probeDns(RESPONSE, 0, RESPONSE.length, false), true);
  const framed = tcpFrames(QUERY);
  assert.equal(probeDns(framed, 0, framed.length, true), true);
  // TCP: the first segment may hold only the start of the message.
  assert.equal(probeDns(framed, 0, 20, true), true);
  assert.equal(probeDns(QUERY, 0, QUERY.length, true), false); // no length prefix
  const http = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(probeDns(http, 0, http.length, false), false);
  assert.equal(probeDns(http, 0, http.length, true), false);
  // query without questions; opcode 6; rcode in a query; counts larger than the bytes.
  assert.equal(probeDns(bytes('0000 0100 0000 0000 0000 0000 00 0001 0001'), 0, 17, false), false);
  assert.equal(probeDns(bytes('0000 3100 0001 0000 0000 0000', name('a'), '0001 0001'), 0, 19, false), false);
  assert.equal(probeDns(bytes('0000 0103 0001 0000 0000 0000', name('a'), '0001 0001'), 0, 19, false), false);
  assert.equal(probeDns(bytes('0000 0100 0001 0005 0000 0000', name('a'), '0001 0001'), 0, 19, false), false);
  assert.equal(probeDns(bytes('0000 0100 0011 0000 0000 0000'), 0, 12, false), false); // 17 questions
  // a response with no questions (mDNS announcements) is fine; a bad first name is not.
  assert.equal(probeDns(bytes('0000 8400 0000 0000 0000 0000'), 0, 12, false), true);
  assert.equal(probeDns(bytes(HDR_Q1, 'c00c 0001 0001'), 0, 18, false), false);
  assert.equal(probeDns(QUERY, 0, 11, false), false);
});

function summary(ms: DnsMessage[]): unknown[] {
  return ms.map((m) => [m.id, m.questions[0]?.name, m.answers.length]);
}

test('TCP framing: split at every byte, byte by byte, several messages per chunk', () => {
  const stream = tcpFrames(QUERY, RESPONSE, QUERY);
  const want = summary([parseOk(QUERY), parseOk(RESPONSE), parseOk(QUERY)]);
  const whole = new DnsTcpStream();
  assert.deepEqual(summary(whole.feed(stream, 0, stream.length)), want);
  for (let cut = 0; cut <= stream.length; cut++) {
    const s = new DnsTcpStream();
    const got = [...s.feed(stream, 0, cut), ...s.feed(stream, cut, stream.length - cut)];
    assert.deepEqual(summary(got), want, `cut at ${cut}`);
    assert.equal(s.errors, 0);
  }
  const s = new DnsTcpStream();
  const got: DnsMessage[] = [];
  for (let i = 0; i < stream.length; i++) got.push(...s.feed(stream, i, 1));
  assert.deepEqual(summary(got), want);
  assert.equal(s.messages, 3);
});

test('TCP framing: bad frames are counted and skipped; reset drops a partial frame', () => {
  const s = new DnsTcpStream();
  const junk = bytes('0000', '0003 abcdef'); // empty frame, 3-byte frame (no header)
  const stream = bytes(junk, tcpFrames(QUERY));
  assert.equal(s.feed(stream, 0, stream.length).length, 1);
  assert.equal(s.errors, 2);
  const f = tcpFrames(RESPONSE);
  assert.equal(s.feed(f, 0, 10).length, 0);
  s.reset();
  assert.equal(s.feed(f, 0, f.length).length, 1);
  // a maximal frame prefix is buffered without complaint (bounded by 2 + 65535).
  const big = new Uint8Array(2 + 65535);
  big[0] = 0xff;
  big[1] = 0xff;
  big[6] = 0xff; // qdcount 0xff00: more questions than bytes
  const t = new DnsTcpStream();
  assert.equal(t.feed(big, 0, 1000).length, 0);
  assert.equal(t.feed(big, 1000, big.length - 1000).length, 0);
  assert.equal(t.errors, 1);
});

test('shannonEntropy and formatIpv6', () => {
  assert.equal(shannonEntropy(''), 0);
  assert.equal(shannonEntropy('aaaa'), 0);
  assert.equal(shannonEntropy('ab'), 1);
  assert.equal(shannonEntropy('abcd'), 2);
  assert.ok(Math.abs(shannonEntropy('google') - 1.9183) < 1e-3);
  assert.equal(formatIpv6(bytes('20010db8000000000000000000000001'), 0), '2001:db8::1');
  assert.equal(formatIpv6(new Uint8Array(16), 0), '::');
  assert.equal(formatIpv6(bytes('20010db8000000010000000000000000'), 0), '2001:db8:0:1::');
  assert.equal(formatIpv6(bytes('20010db8000000010001000100010001'), 0), '2001:db8:0:1:1:1:1:1');
  assert.equal(formatIpv6(bytes('00000000000000000000ffffc0000201'), 0), '::ffff:c000:201');
});
