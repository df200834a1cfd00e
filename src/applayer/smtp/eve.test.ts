import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { SHARED_DIR } from '../../../test/helpers/paths.js';
import { smtpEveBody, smtpFileinfoObject } from './eve.js';
import { SmtpTransaction } from './parser.js';
import { parseSession, type Segment } from './test-util.js';

const require = createRequire(import.meta.url);
// ajv's 2020-12 build, as test/golden/eve-schema.test.ts loads it.
const Ajv2020 = require('ajv/dist/2020') as new (opts: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null };
};
const schemaPath = path.join(SHARED_DIR, 'data', 'eve-schema', 'schema.json');

const SESSION: Segment[] = [
  [1, '220 mx.example.org ESMTP\r\n'],
  [
    0,
    'EHLO client.example.com\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n',
  ],
  [1, '250 mx\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n'],
  [
    0,
    'From: A <a@example.com>\r\nTo: b@example.org, "C, c" <c@example.org>\r\nCc: d@example.org\r\n' +
      'Subject: Invoice\r\nMessage-ID: <m1@example.com>\r\nX-Mailer: Mailer 2\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n' +
      'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nPay at http://pay.example/now\r\n' +
      '--b\r\nContent-Disposition: attachment; filename="invoice.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n' +
      '--b--\r\n.\r\n',
  ],
  [1, '250 queued\r\n'],
  [0, 'MAIL FROM:<x@example.com>\r\nRSET\r\nQUIT\r\n'],
  [1, '250 ok\r\n250 ok\r\n221 bye\r\n'],
];

const txs = (): SmtpTransaction[] => parseSession(SESSION, [[], []], { hashFiles: true }).txs;

test('eve: Suricata field names', () => {
  const [mail, rset] = txs();
  assert.deepEqual(smtpEveBody(mail!), {
    smtp: {
      helo: 'client.example.com',
      mail_from: '<a@example.com>',
      rcpt_to: ['<b@example.org>', '<c@example.org>'],
    },
    email: {
      status: 'PARSE_DONE',
      from: 'A <a@example.com>',
      to: ['b@example.org', '"C, c" <c@example.org>'],
      cc: ['d@example.org'],
      subject: 'Invoice',
      message_id: '<m1@example.com>',
      x_mailer: 'Mailer 2',
      date: 'Mon, 1 Jan 2024 10:00:00 +0000',
      attachment: ['invoice.zip'],
      url: ['http://pay.example/now'],
    },
  });
  // No message: no email object.
  assert.deepEqual(smtpEveBody(rset!), { smtp: { helo: 'client.example.com', mail_from: '<x@example.com>' } });
  assert.deepEqual(smtpFileinfoObject(mail!, mail!.attachments[0]!), {
    filename: 'invoice.zip',
    gaps: false,
    magic: 'Zip archive data', // UEsDBA== is PK\x03\x04
    state: 'CLOSED',
    md5: mail!.attachments[0]!.md5,
    sha1: mail!.attachments[0]!.sha1,
    sha256: mail!.attachments[0]!.sha256,
    stored: false,
    size: 4,
    tx_id: 0,
  });
});

test(
  'eve: smtp and fileinfo records validate against the Suricata EVE schema',
  { skip: !fs.existsSync(schemaPath) && 'schema missing' },
  () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as object);
    const all = txs();
    all.push(new SmtpTransaction(99)); // nothing parsed
    const base = {
      timestamp: '2026-11-26T10:30:18.312528+0000',
      src_ip: '10.0.0.1',
      src_port: 40000,
      dest_ip: '10.0.0.2',
      dest_port: 25,
      proto: 'TCP',
      app_proto: 'smtp',
    };
    for (const tx of all) {
      const body = smtpEveBody(tx);
      const ev = { ...base, event_type: 'smtp', tx_id: tx.id, ...body };
      assert.ok(validate(ev), JSON.stringify(validate.errors));
      for (const a of tx.attachments) {
        const fi = { ...base, event_type: 'fileinfo', ...body, fileinfo: smtpFileinfoObject(tx, a) };
        assert.ok(validate(fi), JSON.stringify(validate.errors));
      }
    }
  },
);
