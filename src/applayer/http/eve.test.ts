import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { SHARED_DIR } from '../../../test/helpers/paths.js';
import { httpEveObject } from './eve.js';
import { bytes, parseSplit } from './test-util.js';

const require = createRequire(import.meta.url);
// ajv's 2020-12 build, as test/golden/eve-schema.test.ts loads it.
const Ajv2020 = require('ajv/dist/2020') as new (opts: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null };
};
const schemaPath = path.join(SHARED_DIR, 'data', 'eve-schema', 'schema.json');

const REQ = bytes(
  'POST /login?next=%2F HTTP/1.1\r\nHost: Shop.Example:8443\r\nUser-Agent: Mozilla/5.0\r\n' +
    'Referer: http://shop.example/\r\nX-Forwarded-For: 203.0.113.9\r\nContent-Length: 3\r\n\r\nu=1' +
    'GET /x HTTP/1.1\r\nHost: h\r\n\r\n',
);
const RES = bytes(
  'HTTP/1.1 302 Found\r\nLocation: /home\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Length: 4\r\n\r\nmove' +
    'HTTP/1.1 2XX Odd\r\nContent-Length: 0\r\n\r\n',
);

test('eve: Suricata field names', () => {
  const [tx] = parseSplit(REQ, RES);
  assert.deepEqual(httpEveObject(tx!), {
    hostname: 'shop.example',
    http_port: 8443,
    url: '/login?next=%2F',
    http_user_agent: 'Mozilla/5.0',
    http_content_type: 'text/html',
    http_refer: 'http://shop.example/',
    http_method: 'POST',
    protocol: 'HTTP/1.1',
    status: 302,
    redirect: '/home',
    length: 4,
  });
  const full = httpEveObject(tx!, { dumpAllHeaders: true, xff: true, bodies: true });
  assert.equal(full['xff'], '203.0.113.9');
  assert.equal(full['http_request_body'], Buffer.from('u=1').toString('base64'));
  assert.deepEqual((full['request_headers'] as unknown[])[0], { name: 'Host', value: 'Shop.Example:8443' });
  // A request without a response still logs length 0, as Suricata does.
  const [lone] = parseSplit(bytes('GET /only HTTP/1.1\r\nHost: h\r\n\r\n'), bytes(''));
  assert.deepEqual(httpEveObject(lone!), {
    hostname: 'h',
    url: '/only',
    http_method: 'GET',
    protocol: 'HTTP/1.1',
    length: 0,
  });
});

test(
  'eve: http records validate against the Suricata EVE schema',
  { skip: !fs.existsSync(schemaPath) && 'schema missing' },
  () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as object);
    const txs = [...parseSplit(REQ, RES), ...parseSplit(bytes('GET / HTTP/1.1\r\n\r\n'), bytes(''))];
    assert.equal(txs.length, 3);
    for (const tx of txs) {
      for (const opts of [{}, { dumpAllHeaders: true, xff: true, bodies: true }]) {
        const ev = {
          timestamp: '2024-01-01T00:00:00.000000+0000',
          event_type: 'http',
          src_ip: '10.0.0.1',
          src_port: 40000,
          dest_ip: '10.0.0.2',
          dest_port: 80,
          proto: 'TCP',
          tx_id: tx.id,
          http: httpEveObject(tx, opts),
        };
        assert.ok(validate(ev), JSON.stringify(validate.errors));
      }
    }
  },
);
