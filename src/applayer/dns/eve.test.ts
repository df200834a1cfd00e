import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { SHARED_DIR } from '../../../test/helpers/paths.js';
import { dnsEveObjects, dnsRcodeName, dnsTypeName } from './eve.js';
import { QUERY, RESPONSE, bytes, name, parseOk } from './test-util.js';

const require = createRequire(import.meta.url);
// ajv's 2020-12 build, as test/golden/eve-schema.test.ts loads it.
const Ajv2020 = require('ajv/dist/2020') as new (opts: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null };
};
const schemaPath = path.join(SHARED_DIR, 'data', 'eve-schema', 'schema.json');

// NXDOMAIN response with the TC and Z bits, a TXT answer without strings and an unknown type.
const ODD = bytes(
  '0007', // id
  '8243', // flags: QR, TC, Z, rcode 3
  '0001 0002 0000 0001', // one question, two answers, one additional
  name('nope.test'),
  '0010 0001', // TXT IN
  'c00c 0010 0001 00000005 0000', // TXT with no strings
  'c00c 00ff 0001 00000005 0002 0102', // type 255 (ANY) rdata 2 bytes
  '00 0029 1000 00000000 0008 0008 0004 00011800', // OPT with an ECS option (code 8)
);

test('eve: request', () => {
  assert.deepEqual(dnsEveObjects(parseOk(QUERY), { txId: 4 }), [
    {
      version: 3,
      type: 'request',
      tx_id: 4,
      id: 0x1234,
      flags: '100',
      rd: true,
      opcode: 0,
      rcode: 'NOERROR',
      queries: [{ rrname: 'www.example.com', rrtype: 'A' }],
      additionals: [{ rrname: '', rrtype: 'OPT', ttl: 0x8000, opt: [{ code: 10, data: '0102030405060708' }] }],
    },
  ]);
});

test('eve: response, detailed and grouped', () => {
  const [o] = dnsEveObjects(parseOk(RESPONSE));
  assert.deepEqual(o, {
    version: 3,
    type: 'response',
    tx_id: 0,
    id: 0x1234,
    flags: '8580',
    qr: true,
    aa: true,
    rd: true,
    ra: true,
    opcode: 0,
    rcode: 'NOERROR',
    queries: [{ rrname: 'www.example.com', rrtype: 'A' }],
    answers: [
      { rrname: 'www.example.com', rrtype: 'CNAME', ttl: 300, rdata: 'web.example.com' },
      { rrname: 'www.example.com', rrtype: 'A', ttl: 60, rdata: '93.184.216.34' },
      { rrname: 'www.example.com', rrtype: 'AAAA', ttl: 60, rdata: '2606:2800:0220:0001:0248:1893:25c8:1946' },
      { rrname: 'example.com', rrtype: 'MX', ttl: 3600, rdata: 'mail.example.com' },
      { rrname: 'example.com', rrtype: 'NS', ttl: 3600, rdata: 'ns1.example.com' },
      { rrname: 'example.com', rrtype: 'TXT', ttl: 3600, rdata: 'v=spf1' },
      { rrname: 'example.com', rrtype: 'TXT', ttl: 3600, rdata: '-all' },
      { rrname: '4.3.2.1.in-addr.arpa', rrtype: 'PTR', ttl: 3600, rdata: 'www.example.com' },
      {
        rrname: '_sip._udp.example.com',
        rrtype: 'SRV',
        ttl: 3600,
        srv: { priority: 10, weight: 5, port: 5060, name: 'sip.example.com' },
      },
    ],
    grouped: {
      CNAME: ['web.example.com'],
      A: ['93.184.216.34'],
      AAAA: ['2606:2800:0220:0001:0248:1893:25c8:1946'],
      MX: ['mail.example.com'],
      NS: ['ns1.example.com'],
      TXT: ['v=spf1', '-all'],
      PTR: ['www.example.com'],
      SRV: [{ priority: 10, weight: 5, port: 5060, name: 'sip.example.com' }],
    },
    authorities: [
      {
        rrname: 'example.com',
        rrtype: 'SOA',
        ttl: 3600,
        soa: {
          mname: 'ns1.example.com',
          rname: 'hostmaster.example.com',
          serial: 0x78a0f835,
          refresh: 7200,
          retry: 3600,
          expire: 1209600,
          minimum: 300,
        },
      },
    ],
  });
  const only = dnsEveObjects(parseOk(RESPONSE), { grouped: false, detailed: false })[0]!;
  assert.equal(only['answers'], undefined);
  assert.equal(only['grouped'], undefined);
});

test('eve: flags, rcode names, unknown types, non-printable bytes', () => {
  const [o] = dnsEveObjects(parseOk(ODD));
  assert.equal(o!['flags'], '8243');
  assert.equal(o!['tc'], true);
  assert.equal(o!['z'], true);
  assert.equal(o!['rcode'], 'NXDOMAIN');
  assert.deepEqual(o!['answers'], [
    { rrname: 'nope.test', rrtype: 'TXT', ttl: 5 },
    { rrname: 'nope.test', rrtype: 'ANY', ttl: 5 },
  ]);
  assert.equal(o!['grouped'], undefined);
  assert.deepEqual(o!['additionals'], [{ rrname: '', rrtype: 'OPT', ttl: 0, opt: [{ code: 8, data: '00011800' }] }]);
  assert.equal(dnsTypeName(65280), '65280');
  assert.equal(dnsRcodeName(5), 'REFUSED');
  assert.equal(dnsRcodeName(15), '15');
  const bin = parseOk(bytes('0001 0000 0001 0000 0000 0000', '02 0a ff 00', '0001 0001'));
  assert.deepEqual(dnsEveObjects(bin)[0]!['queries'], [{ rrname: '\\x0a\\xff', rrtype: 'A' }]);
});

test(
  'eve: dns records validate against the Suricata EVE schema',
  { skip: !fs.existsSync(schemaPath) && 'schema missing' },
  () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as object);
    for (const msg of [QUERY, RESPONSE, ODD]) {
      for (const opts of [{}, { grouped: false }, { detailed: false }]) {
        for (const dns of dnsEveObjects(parseOk(msg), opts)) {
          const ev = {
            timestamp: '2026-11-26T10:30:18.312528+0000',
            event_type: 'dns',
            src_ip: '10.0.0.1',
            src_port: 53000,
            dest_ip: '10.0.0.53',
            dest_port: 53,
            proto: 'UDP',
            dns,
          };
          assert.ok(validate(ev), JSON.stringify(validate.errors));
        }
      }
    }
  },
);
