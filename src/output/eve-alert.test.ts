import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertEvent } from './eve.js';
import { behaviorAlertRecord } from '../detect/behavior/engine.js';

test('alert source/target follow Suricata: target:dest_ip -> source is src_ip; target:src_ip swaps them', () => {
  const rec = behaviorAlertRecord({
    tsUs: 1_700_000_000_000_000,
    sid: 9200101,
    rev: 1,
    msg: 'VIGIL test',
    type: 'port_scan',
    severity: 'medium',
    mitre: [],
    srcIp: '10.0.0.66',
    dstIp: '10.0.0.10',
    srcPort: 40000,
    dstPort: 22,
    proto: 6,
    ipVer: 4,
    flowId: 1,
    evidence: {},
  });
  const ev = alertEvent(rec, 'h') as { src_ip: string; alert: Record<string, { ip: string; port: number }> };
  assert.equal(ev.src_ip, '10.0.0.66');
  assert.deepEqual(ev.alert['source'], { ip: '10.0.0.66', port: 40000 });
  assert.deepEqual(ev.alert['target'], { ip: '10.0.0.10', port: 22 });
  const swapped = alertEvent({ ...rec, target: 'src_ip' }, 'h') as typeof ev;
  assert.deepEqual(swapped.alert['source'], { ip: '10.0.0.10', port: 22 });
  assert.deepEqual(swapped.alert['target'], { ip: '10.0.0.66', port: 40000 });
});

test('alert verdict: present only when configured (eve-log alert verdict: yes), "alert" in IDS mode', () => {
  const rec = behaviorAlertRecord({
    tsUs: 1_700_000_000_000_000,
    sid: 1,
    rev: 1,
    msg: 'VIGIL test',
    type: 'port_scan',
    severity: 'low',
    mitre: [],
    srcIp: '10.0.0.1',
    dstIp: '10.0.0.2',
    srcPort: 1,
    dstPort: 2,
    proto: 6,
    ipVer: 4,
    flowId: 1,
    evidence: {},
  });
  assert.equal(alertEvent(rec, 'h')['verdict'], undefined);
  assert.deepEqual(alertEvent(rec, 'h', { verdict: true })['verdict'], { action: 'alert' });
});
