/** The `filestore` keyword: parsing, direction defaults, and the marks the detector puts on transactions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRule } from '../signatures/parser.js';
import { compileRule } from './compile.js';
import type { CompiledRule } from './compile.js';
import { Detector } from './detector.js';
import type { HttpRecord } from '../../applayer/app-layer.js';
import { bytes, parseSplit } from '../../applayer/http/test-util.js';

function compile(text: string): CompiledRule {
  const r = parseRule(text);
  if (r.kind !== 'rule') throw new Error(r.reason);
  return compileRule(r, 3);
}

const fsOf = (opts: string): CompiledRule['filestore'] =>
  compile(`alert http any any -> any any (${opts} sid:1;)`).filestore;

test('filestore: direction and scope parsed; default direction is the rule own, both without one', () => {
  assert.equal(fsOf('content:"x";'), null);
  assert.deepEqual(fsOf('filestore;'), { bits: 3, flow: false });
  assert.deepEqual(fsOf('flow:to_client; filestore;'), { bits: 2, flow: false });
  assert.deepEqual(fsOf('http.uri; content:"x"; filestore;'), { bits: 1, flow: false });
  assert.deepEqual(fsOf('file.data; content:"x"; flow:to_client; filestore;'), { bits: 2, flow: false });
  assert.deepEqual(fsOf('http.uri; content:"x"; filestore:response;'), { bits: 2, flow: false });
  assert.deepEqual(fsOf('filestore:to_server,tx;'), { bits: 1, flow: false });
  assert.deepEqual(fsOf('filestore:both,ssn;'), { bits: 3, flow: true });
  assert.deepEqual(fsOf('filestore:response,flow;'), { bits: 2, flow: true });
  for (const bad of ['filestore:sideways;', 'filestore:both,packet;', 'filestore:both,tx,file;']) {
    const r = parseRule(`alert http any any -> any any (${bad} sid:1;)`);
    assert.equal(r.kind, 'error', bad);
  }
});

function httpRecord(uri: string, slot = 0): HttpRecord {
  const req = bytes(`GET ${uri} HTTP/1.1\r\nHost: example.com\r\n\r\n`);
  const res = bytes('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nMZ\x90\x00');
  const tx = parseSplit(req, res)[0]!;
  const flow = { flowId: 9, srcIp: '10.0.0.1', dstIp: '192.0.2.1', srcPort: 50000, dstPort: 80, proto: 6 };
  return { kind: 'http', slot, tsUs: 1, flow, tx };
}

function detector(rules: string[]): Detector {
  return new Detector(rules.map(compile), {
    appProtoOf: () => 'http',
    flowIdOf: () => 9,
    countersOf: () => ({ pktsToServer: 1, pktsToClient: 1, bytesToServer: 1, bytesToClient: 1, startUs: 0 }),
    markAlerted: () => undefined,
    onAlert: () => undefined,
    slotCapacity: 4,
  });
}

test('a matching filestore rule marks the transaction (noalert too); tx scope does not carry over', () => {
  const det = detector([
    'alert http any any -> any any (http.uri; content:"/evil.exe"; filestore:response; noalert; sid:10;)',
    'alert http any any -> any any (http.uri; content:"/up"; filestore; sid:11;)',
  ]);
  const a = httpRecord('/evil.exe');
  det.tx(a);
  assert.equal(a.fileStore, 2);
  assert.deepEqual(a.fileStoreRules, [{ sid: 10, bits: 2 }]);
  const b = httpRecord('/other');
  det.tx(b);
  assert.equal(b.fileStore, undefined);
  const c = httpRecord('/up');
  det.tx(c);
  assert.equal(c.fileStore, 1, 'default direction: the request side the rule matched');
});

test('ssn/flow scope marks every later transaction of the flow until the slot is released', () => {
  const det = detector(['alert http any any -> any any (http.uri; content:"/start"; filestore:both,flow; sid:20;)']);
  det.tx(httpRecord('/start'));
  const later = httpRecord('/anything');
  det.tx(later);
  assert.equal(later.fileStore, 3);
  assert.deepEqual(later.fileStoreRules, [{ sid: 20, bits: 3 }]);
  const otherFlow = httpRecord('/anything', 1);
  det.tx(otherFlow);
  assert.equal(otherFlow.fileStore, undefined);
  det.release(0);
  const reused = httpRecord('/anything');
  det.tx(reused);
  assert.equal(reused.fileStore, undefined);
});
