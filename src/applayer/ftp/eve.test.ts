import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { SHARED_DIR } from '../../../test/helpers/paths.js';
import { ftpEveObject } from './eve.js';
import { FtpTransaction, MAX_LINE } from './parser.js';
import { parseSession } from './test-util.js';

const require = createRequire(import.meta.url);
// ajv's 2020-12 build, as test/golden/eve-schema.test.ts loads it.
const Ajv2020 = require('ajv/dist/2020') as new (opts: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null };
};
const schemaPath = path.join(SHARED_DIR, 'data', 'eve-schema', 'schema.json');

const session = (): FtpTransaction[] =>
  parseSession([
    [1, '220 Lab FTP ready.\r\n'],
    [0, 'USER ftpuser\r\nPASS wrong\r\n'],
    [1, '331 Username ok, send password.\r\n530 Authentication failed.\r\n'],
    [0, 'FEAT\r\n'],
    [1, '211-Features:\r\n EPSV\r\n211 End\r\n'],
    [0, 'PASV\r\nEPRT |1|10.0.0.1|40001|\r\n'],
    [1, '227 Entering Passive Mode (10,0,0,2,195,80).\r\n200 ok\r\n'],
    [0, `STOR ${'A'.repeat(MAX_LINE)}\r\nLIST\r\n`],
    [1, '150 Here comes the listing.\r\n'],
  ]).txs;

test('eve: Suricata field names', () => {
  const o = session().map((t) => ftpEveObject(t));
  assert.deepEqual(o[0], {
    reply: ['Lab FTP ready.'],
    completion_code: ['220'],
    reply_truncated: false,
    reply_received: 'yes',
  });
  assert.deepEqual(o[2], {
    command: 'PASS',
    command_data: 'wrong', // logged as Suricata does (see docs/applayer-ftp.md)
    command_truncated: false,
    reply: ['Authentication failed.'],
    completion_code: ['530'],
    reply_truncated: false,
    reply_received: 'yes',
  });
  assert.deepEqual(o[3], {
    command: 'FEAT',
    reply: ['Features:', ' EPSV', 'End'],
    completion_code: ['211', '211'],
    reply_truncated: false,
    reply_received: 'yes',
  });
  assert.equal(o[4]?.['dynamic_port'], 50000);
  assert.equal(o[4]?.['mode'], 'passive');
  assert.equal(o[5]?.['dynamic_port'], 40001);
  assert.equal(o[5]?.['mode'], 'active');
  assert.equal(o[6]?.['command_truncated'], true);
  assert.deepEqual(o[6]?.['completion_code'], ['150']); // 1xx, then nothing: LIST waits
  assert.deepEqual(o[7], { command: 'LIST', reply_received: 'no' });
});

test(
  'eve: ftp records validate against the Suricata EVE schema',
  { skip: !fs.existsSync(schemaPath) && 'schema missing' },
  () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as object);
    const txs = session();
    txs.push(new FtpTransaction(99)); // nothing parsed
    for (const tx of txs) {
      const ev = {
        timestamp: '2026-11-26T10:30:18.312528+0000',
        event_type: 'ftp',
        src_ip: '10.0.0.1',
        src_port: 40000,
        dest_ip: '10.0.0.2',
        dest_port: 21,
        proto: 'TCP',
        ftp: ftpEveObject(tx),
      };
      assert.ok(validate(ev), JSON.stringify(validate.errors));
    }
  },
);
