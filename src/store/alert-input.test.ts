import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertRecord } from '../detect/engine/detector.js';
import { AlertGate } from '../alerts/gate.js';
import { communityIdFromStrings } from '../flow/key.js';
import { alertEvent } from '../output/eve.js';
import { metadataObject, toStoredAlertInput } from './alert-input.js';

function record(over: Partial<AlertRecord> = {}): AlertRecord {
  return {
    kind: 'alert',
    tsUs: 1_764_151_818_312_528,
    pcapCnt: 4,
    flowId: 77,
    srcIp: '192.0.2.10',
    dstIp: '198.51.100.5',
    srcPort: 51000,
    dstPort: 80,
    proto: 6,
    ipVer: 4,
    direction: 'to_server',
    appProto: 'http',
    action: 'alert',
    gid: 1,
    sid: 2_100_001,
    rev: 3,
    msg: 'ET WEB_SERVER SQL Injection Attempt',
    classtype: 'web-application-attack',
    category: 'Web Application Attack',
    severity: 1,
    metadata: ['affected_product Web_Server', 'vigil_type sql_injection'],
    target: 'dest_ip',
    context: { q: "' or 1=1" },
    flow: { pktsToServer: 3, pktsToClient: 2, bytesToServer: 400, bytesToClient: 900, startUs: 0 },
    ...over,
  };
}

test('a gated signature alert maps to the stored fields, its EVE record and evidence', () => {
  const a = record();
  new AlertGate([]).pass(a);
  const s = toStoredAlertInput(a, { sensor: 'edge-1' });
  assert.equal(s.type, 'sql_injection');
  assert.equal(s.severity, a.vigilSeverity);
  assert.equal(s.detector, 'signature');
  assert.deepEqual(s.mitre, ['T1190']);
  assert.deepEqual(
    [s.tsUs, s.gid, s.signatureId, s.rev, s.message, s.category],
    [a.tsUs, 1, 2_100_001, 3, a.msg, 'Web Application Attack'],
  );
  assert.deepEqual(
    [s.sourceIp, s.sourcePort, s.destinationIp, s.destinationPort, s.protocol, s.appProto, s.flowId, s.sensor],
    ['192.0.2.10', 51000, '198.51.100.5', 80, 'TCP', 'http', 77, 'edge-1'],
  );
  assert.equal(s.communityId, communityIdFromStrings('192.0.2.10', '198.51.100.5', 6, 51000, 80));
  // The stored metadata is EVE's alert.metadata object, so both views agree.
  const eve = alertEvent(a, 'edge-1');
  assert.deepEqual(s.raw, eve);
  assert.deepEqual(s.metadata, (eve['alert'] as { metadata: unknown }).metadata);
  assert.deepEqual(s.evidence, {
    affected_product: ['Web_Server'],
    context: { q: "' or 1=1" },
    flow: { pkts_toserver: 3, pkts_toclient: 2, bytes_toserver: 400, bytes_toclient: 900 },
  });
  assert.equal(s.analysisId, null);
  assert.equal(toStoredAlertInput(a, { sensor: 'x', raw: false, analysisId: 'p1' }).raw, null);
  assert.equal(toStoredAlertInput(a, { sensor: 'x', analysisId: 'p1' }).analysisId, 'p1');
});

test('behaviour metadata, ICMP and records that skipped the gate', () => {
  const beh = record({
    proto: 1,
    srcPort: 0,
    dstPort: 0,
    appProto: 'failed',
    flowId: 0,
    metadata: ['vigil_type dos', 'detector behavior', 'vigil_severity critical', 'pps 90000'],
    context: undefined,
    flow: undefined,
  });
  const s = toStoredAlertInput(beh, { sensor: 's' });
  assert.deepEqual(
    [s.type, s.severity, s.detector, s.protocol, s.sourcePort, s.destinationPort, s.appProto, s.flowId, s.communityId],
    ['dos', 'critical', 'behavior', 'ICMP', null, null, null, null, null],
  );
  assert.deepEqual(s.evidence, { pps: ['90000'] });
  // Without taxonomy: `policy` and the rule priority, as the taxonomy treats unclassified rules.
  const bare = toStoredAlertInput(record({ metadata: [], severity: 2, context: undefined, flow: undefined }), {
    sensor: 's',
  });
  assert.deepEqual(
    [bare.type, bare.severity, bare.detector, bare.evidence, bare.mitre],
    ['policy', 'medium', 'signature', null, []],
  );
});

test('metadataObject splits "key value" strings like EVE and skips malformed ones', () => {
  assert.deepEqual(metadataObject(['a 1', ' a  2 ', 'b x y', 'novalue', ' ']), { a: ['1', '2'], b: ['x y'] });
});
