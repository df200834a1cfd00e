/** `tls.certs`: every certificate of the server's Certificate message as one value of a multi buffer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule } from '../signatures/parser.js';
import { compileRule } from './compile.js';
import { Detector } from './detector.js';
import type { AlertRecord } from './detector.js';
import type { TlsRecord } from '../../applayer/app-layer.js';
import { MAX_CERTS } from '../../applayer/tls/parser.js';
import {
  TEST_CERT_DER,
  certificateBody,
  ext,
  handshake,
  parseSplit,
  record,
  serverHelloBody,
  tls12Exchange,
} from '../../applayer/tls/test-util.js';

/** A stand-in for an intermediate certificate: DER-looking bytes with a marker inside. */
const OTHER_CERT = Uint8Array.from([0x30, 0x0c, 0x04, 0x0a, ...Buffer.from('INTERMEDIA')]);

/** Server flight: ServerHello (TLS 1.2), Certificate with `ders`, ServerHelloDone. */
function serverFlight(ders: Uint8Array[]): Uint8Array {
  const sh = handshake(2, serverHelloBody(0x0303, 0xc02f, [ext(0xff01, [0])]));
  return Uint8Array.from(record(22, [...sh, ...handshake(11, certificateBody(ders)), ...handshake(14, [])], 0x0303));
}

function tlsRecord(ders: Uint8Array[]): TlsRecord {
  const conn = parseSplit(tls12Exchange().cli, serverFlight(ders), [], [7, 60]);
  const flow = { flowId: 7, srcIp: '10.0.0.1', dstIp: '192.0.2.1', srcPort: 50000, dstPort: 443, proto: 6 };
  return { kind: 'tls', slot: 0, tsUs: 1, flow, info: conn.info };
}

function detector(rules: string[]): { det: Detector; alerts: AlertRecord[] } {
  const alerts: AlertRecord[] = [];
  const compiled = rules.map((t) => {
    const r = parseRule(t);
    if (r.kind !== 'rule') throw new Error(r.reason);
    return compileRule(r, 3);
  });
  const det = new Detector(compiled, {
    appProtoOf: () => 'tls',
    flowIdOf: () => 7,
    countersOf: () => ({ pktsToServer: 1, pktsToClient: 1, bytesToServer: 1, bytesToClient: 1, startUs: 0 }),
    markAlerted: () => undefined,
    onAlert: (a) => void alerts.push(a),
    slotCapacity: 4,
  });
  return { det, alerts };
}

test('the parser keeps each server certificate raw (split records), bounded to MAX_CERTS', () => {
  const info = tlsRecord([TEST_CERT_DER, OTHER_CERT]).info;
  assert.equal(info.certs.length, 2);
  assert.deepEqual(Uint8Array.from(info.certs[0]!), TEST_CERT_DER);
  assert.deepEqual(Uint8Array.from(info.certs[1]!), OTHER_CERT);
  assert.equal(info.cert?.subject, 'C=US, ST=California, O=Example Org, CN=www.example.com');
  const long = tlsRecord(new Array<Uint8Array>(MAX_CERTS + 3).fill(OTHER_CERT)).info;
  assert.equal(long.certChainLength, MAX_CERTS + 3);
  assert.equal(long.certs.length, MAX_CERTS);
});

test('tls.certs matches when any certificate matches; content keywords stay within one certificate', () => {
  const { det, alerts } = detector([
    // In the intermediate only.
    'alert tls any any -> any any (msg:"inter"; flow:to_client; tls.certs; content:"INTERMEDIA"; sid:1;)',
    // In the leaf only (its CN).
    'alert tls any any -> any any (msg:"leaf"; tls.certs; content:"www.example.com"; sid:2;)',
    // Both patterns, but in different certificates: no single buffer has both.
    'alert tls any any -> any any (msg:"split"; tls.certs; content:"INTERMEDIA"; content:"www.example.com"; sid:3;)',
    // Anchored at the start of a certificate: both begin with SEQUENCE (0x30).
    'alert tls any any -> any any (msg:"anchored"; tls.certs; content:"|30 0c 04 0a|"; startswith; sid:4;)',
    'alert tls any any -> any any (msg:"absent"; tls.certs; content:"nothere"; sid:5;)',
  ]);
  det.tx(tlsRecord([TEST_CERT_DER, OTHER_CERT]));
  assert.deepEqual(alerts.map((a) => a.sid).sort(), [1, 2, 4]);
  assert.ok(alerts.every((a) => a.direction === 'to_client' && a.srcIp === '192.0.2.1'));
});

test('no Certificate message (TLS 1.3 encrypts it): tls.certs rules do not match', () => {
  const { det, alerts } = detector(['alert tls any any -> any any (tls.certs; content:"|30|"; sid:1;)']);
  const rec = tlsRecord([]);
  assert.equal(rec.info.certs.length, 0);
  det.tx(rec);
  assert.equal(alerts.length, 0);
});
