import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probeHttp } from './probe.js';

const b = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

test('probe: requests by method and space, responses by HTTP/1.', () => {
  assert.equal(probeHttp(b('GET / HTTP/1.1\r\n'), 0, 16, 0), 'yes');
  assert.equal(probeHttp(b('PROPFIND /dav HTTP/1.1'), 0, 22, 0), 'yes');
  assert.equal(probeHttp(b('xxVERSION-CONTROL /'), 2, 17, 0), 'yes'); // offset honoured
  assert.equal(probeHttp(b('GE'), 0, 2, 0), 'need_more');
  assert.equal(probeHttp(b('GET'), 0, 3, 0), 'need_more'); // the space is not there yet
  assert.equal(probeHttp(b('GETX /'), 0, 6, 0), 'no');
  assert.equal(probeHttp(b('SSH-2.0-OpenSSH'), 0, 15, 0), 'no');
  assert.equal(probeHttp(b('\x16\x03\x01'), 0, 3, 0), 'no'); // TLS ClientHello
  assert.equal(probeHttp(b('HTTP/1.1 200 OK'), 0, 15, 1), 'yes');
  assert.equal(probeHttp(b('HTTP/'), 0, 5, 1), 'need_more');
  assert.equal(probeHttp(b('HTTP/2.0 200'), 0, 12, 1), 'no');
  assert.equal(probeHttp(b(''), 0, 0, 1), 'need_more');
});
