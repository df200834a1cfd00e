import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { SHARED_DIR } from '../../../test/helpers/paths.js';
import { tlsEveObject, tlsVersionName } from './eve.js';
import { TlsConnection } from './parser.js';
import { parseSplit, tls12Exchange, tls13Exchange } from './test-util.js';

const require = createRequire(import.meta.url);
// ajv's 2020-12 build, as test/golden/eve-schema.test.ts loads it.
const Ajv2020 = require('ajv/dist/2020') as new (opts: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null };
};
const schemaPath = path.join(SHARED_DIR, 'data', 'eve-schema', 'schema.json');

test('eve: Suricata field names', () => {
  const { cli, srv } = tls12Exchange();
  const { info } = parseSplit(cli, srv);
  assert.deepEqual(tlsEveObject(info), {
    subject: 'C=US, ST=California, O=Example Org, CN=www.example.com',
    issuerdn: 'C=US, ST=California, O=Example Org, CN=www.example.com',
    serial: '00:E2:BC:D5:7B:DA:0E:C5:6F',
    fingerprint: 'ca:68:f9:73:33:a4:da:56:8a:c0:8c:67:dc:d8:56:99:b0:65:06:0d',
    notbefore: '2026-11-26T13:27:35',
    notafter: '2036-11-23T13:27:35',
    sni: 'www.example.com',
    version: 'TLS 1.2',
    ja3: { hash: info.ja3Hash, string: '771,49195-49199-156-10,0-23-10-11-13-16,29-23-24,0' },
    ja3s: { hash: info.ja3sHash, string: '771,49199,65281-23-16' },
    ja4: info.ja4,
  });
  const ext = tlsEveObject(info, { extended: true });
  assert.deepEqual(ext['client_alpns'], ['h2', 'http/1.1']);
  assert.deepEqual(ext['server_alpns'], ['h2']);
  assert.deepEqual(ext['server_handshake'], { version: 'TLS 1.2', cipher: 0xc02f, exts: [0xff01, 0x0017, 0x0010] });
});

test('eve: version names', () => {
  assert.equal(tlsVersionName(0x0304), 'TLS 1.3');
  assert.equal(tlsVersionName(0x0300), 'SSLv3');
  assert.equal(tlsVersionName(0x7f17), 'TLS 1.3 draft-23');
  assert.equal(tlsVersionName(-1), 'UNDETERMINED');
  assert.equal(tlsVersionName(0x0305), '0x0305');
});

test(
  'eve: tls records validate against the Suricata EVE schema',
  { skip: !fs.existsSync(schemaPath) && 'schema missing' },
  () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as object);
    const infos = [tls12Exchange(), tls13Exchange()].map(({ cli, srv }) => parseSplit(cli, srv).info);
    infos.push(new TlsConnection().info); // nothing parsed
    for (const info of infos) {
      for (const opts of [{}, { extended: true }]) {
        const ev = {
          timestamp: '2026-11-26T10:30:18.312528+0000',
          event_type: 'tls',
          src_ip: '10.0.0.1',
          src_port: 40000,
          dest_ip: '10.0.0.2',
          dest_port: 443,
          proto: 'TCP',
          tls: tlsEveObject(info, opts),
        };
        assert.ok(validate(ev), JSON.stringify(validate.errors));
      }
    }
  },
);
