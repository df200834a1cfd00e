import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probeFtp } from './probe.js';

const b = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

test('probe: greeting to the client, a known command to the server', () => {
  assert.equal(probeFtp(b('220 Lab FTP ready.\r\n'), 0, 20, 1), 'yes');
  assert.equal(probeFtp(b('220-Welcome\r\n'), 0, 13, 1), 'yes'); // multi-line greeting
  assert.equal(probeFtp(b('22'), 0, 2, 1), 'need_more');
  assert.equal(probeFtp(b('220'), 0, 3, 1), 'need_more'); // separator not there yet
  assert.equal(probeFtp(b('2200'), 0, 4, 1), 'no');
  assert.equal(probeFtp(b('SSH-2.0-OpenSSH'), 0, 15, 1), 'no');
  assert.equal(probeFtp(b('HTTP/1.1 200 OK'), 0, 15, 1), 'no');
  assert.equal(probeFtp(b('USER ftpuser\r\n'), 0, 14, 0), 'yes');
  assert.equal(probeFtp(b('user anonymous\r\n'), 0, 16, 0), 'yes'); // case-insensitive
  assert.equal(probeFtp(b('xxFEAT\r\n'), 2, 6, 0), 'yes'); // offset honoured, CRLF after the name
  assert.equal(probeFtp(b('SYST\n'), 0, 5, 0), 'yes'); // bare LF
  assert.equal(probeFtp(b('AUTH'), 0, 4, 0), 'need_more');
  assert.equal(probeFtp(b('SYST\r'), 0, 5, 0), 'need_more');
  assert.equal(probeFtp(b('SYST\rX'), 0, 6, 0), 'no');
  assert.equal(probeFtp(b('USERX'), 0, 5, 0), 'no');
  assert.equal(probeFtp(b('GET / HTTP/1.1'), 0, 14, 0), 'no');
  assert.equal(probeFtp(b('\x16\x03\x01'), 0, 3, 0), 'no'); // TLS ClientHello
  assert.equal(probeFtp(b(''), 0, 0, 0), 'need_more');
  assert.equal(probeFtp(b('USER '), 3, 5, 0), 'no'); // range past the buffer
});
