import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { parseCertificate } from './x509.js';
import { TEST_CERT_DER } from './test-util.js';

test('x509: subject, issuer, serial, validity and fingerprint', () => {
  const c = parseCertificate(TEST_CERT_DER, 0, TEST_CERT_DER.length);
  assert.deepEqual(c, {
    subject: 'C=US, ST=California, O=Example Org, CN=www.example.com',
    issuer: 'C=US, ST=California, O=Example Org, CN=www.example.com',
    serial: '00:E2:BC:D5:7B:DA:0E:C5:6F', // the INTEGER bytes as sent, leading zero included
    notBefore: '2026-11-26T13:27:35',
    notAfter: '2036-11-23T13:27:35',
    fingerprint: 'ca:68:f9:73:33:a4:da:56:8a:c0:8c:67:dc:d8:56:99:b0:65:06:0d',
  });
  // Cross-check with OpenSSL through node:crypto.
  const x = new X509Certificate(TEST_CERT_DER);
  assert.equal(c!.fingerprint, x.fingerprint.toLowerCase());
  assert.equal(c!.subject, x.subject.split('\n').join(', '));
  assert.equal(new Date(c!.notAfter + 'Z').getTime(), new Date(x.validTo).getTime());
});

test('x509: an offset inside a larger buffer', () => {
  const b = new Uint8Array(TEST_CERT_DER.length + 10);
  b.set(TEST_CERT_DER, 7);
  assert.equal(parseCertificate(b, 7, TEST_CERT_DER.length)?.serial, '00:E2:BC:D5:7B:DA:0E:C5:6F');
});

test('x509: truncated and mutated DER give null or a result, never throw', () => {
  for (let n = 0; n < TEST_CERT_DER.length; n++) assert.equal(parseCertificate(TEST_CERT_DER, 0, n), null);
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let i = 0; i < 3000; i++) {
    const m = Uint8Array.from(TEST_CERT_DER);
    for (let k = 0; k < 3; k++) m[rnd() % m.length] = rnd() & 0xff;
    parseCertificate(m, 0, m.length);
  }
  assert.equal(parseCertificate(TEST_CERT_DER, 5, TEST_CERT_DER.length), null); // out of bounds
});
