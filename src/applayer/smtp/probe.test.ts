import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probeSmtp, SMTP_PROBE_WINDOW } from './probe.js';
import { probeFtp } from '../ftp/probe.js';

const b = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const p = (s: string, dir: 0 | 1): string => probeSmtp(b(s), 0, s.length, dir);

test('probe: EHLO/HELO to the server', () => {
  assert.equal(p('EHLO client.example.com\r\n', 0), 'yes');
  assert.equal(p('helo x\r\n', 0), 'yes'); // case-insensitive
  assert.equal(p('EHLO\r\n', 0), 'yes');
  assert.equal(p('HELO\n', 0), 'yes');
  assert.equal(p('EHL', 0), 'need_more');
  assert.equal(p('EHLO', 0), 'need_more');
  assert.equal(p('EHLO\r', 0), 'need_more');
  assert.equal(p('EHLOX', 0), 'no');
  assert.equal(p('USER ftp\r\n', 0), 'no');
  assert.equal(p('GET / HTTP/1.1\r\n', 0), 'no');
  assert.equal(p('\x16\x03\x01', 0), 'no');
  assert.equal(probeSmtp(b('xxEHLO a\r\n'), 2, 8, 0), 'yes'); // offset honoured
  assert.equal(probeSmtp(b('EHLO '), 3, 5, 0), 'no'); // range past the buffer
  assert.equal(probeSmtp(b(''), 0, 0, 0), 'need_more');
});

test('probe: a 220 greeting naming SMTP to the client', () => {
  assert.equal(p('220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n', 1), 'yes');
  assert.equal(p('220-mx.example.org esmtp ready\r\n', 1), 'yes');
  assert.equal(p('220 mx.google.com ESMTP d15sm986283wfl.6\r\n', 1), 'yes');
  assert.equal(p('220 host Microsoft ESMTP MAIL Service ready at Tue, 12 Dec 2023\r\n', 1), 'yes');
  assert.equal(p('220 smtp', 1), 'yes'); // "smtp" in a host name counts too
  assert.equal(p('22', 1), 'need_more');
  assert.equal(p('220', 1), 'need_more');
  assert.equal(p('220 mail.exa', 1), 'need_more'); // the line is not complete yet
  assert.equal(p('220 mail.example.org ES', 1), 'need_more');
  assert.equal(p('2200', 1), 'no');
  assert.equal(p('221 bye\r\n', 1), 'no');
  assert.equal(p('554 no service\r\n', 1), 'no');
  assert.equal(p('SSH-2.0-OpenSSH_9.6\r\n', 1), 'no');
  // Long partial line without SMTP: no more than the app layer can buffer is asked for.
  assert.equal(p('220 ' + 'x'.repeat(SMTP_PROBE_WINDOW), 1), 'no');
});

test('probe: FTP and SMTP greetings are told apart', () => {
  const ftp = [
    '220 (vsFTPd 3.0.3)\r\n',
    '220 ProFTPD Server (Debian) [::ffff:10.0.0.2]\r\n',
    '220-FileZilla Server\r\n',
  ];
  for (const g of ftp) {
    assert.equal(p(g, 1), 'no', g);
    assert.equal(probeFtp(b(g), 0, g.length, 1), 'yes', g);
  }
  // probeFtp also says yes to an SMTP greeting: probeSmtp must run first.
  const smtp = '220 mail.example.org ESMTP Postfix\r\n';
  assert.equal(p(smtp, 1), 'yes');
  // To the server the first commands differ: FTP has no EHLO/HELO, SMTP sessions do not start with USER.
  assert.equal(probeFtp(b('EHLO c\r\n'), 0, 8, 0), 'no');
  assert.equal(p('USER anonymous\r\n', 0), 'no');
});
