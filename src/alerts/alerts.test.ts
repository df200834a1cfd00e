import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAlert, enrichAlert } from './taxonomy.js';
import { IpWhitelist, WhitelistError, parseWhitelistList } from './whitelist.js';
import { AlertDeduplicator } from './dedup.js';
import { AlertGate } from './gate.js';
import type { AlertRecord } from '../detect/engine/detector.js';

function alert(over: Partial<AlertRecord> = {}): AlertRecord {
  return {
    kind: 'alert',
    tsUs: 1_000_000,
    pcapCnt: 1,
    flowId: 1,
    srcIp: '10.0.0.1',
    dstIp: '10.0.0.2',
    srcPort: 1234,
    dstPort: 80,
    proto: 6,
    ipVer: 4,
    direction: 'to_server',
    appProto: 'http',
    action: 'allowed',
    gid: 1,
    sid: 1,
    rev: 1,
    msg: 'test',
    classtype: null,
    category: '',
    severity: 3,
    metadata: [],
    target: null,
    ...over,
  };
}

test('rule metadata names the type, severity and technique', () => {
  const c = classifyAlert(
    alert({ metadata: ['vigil_type xss', 'mitre_technique_id T1059.007', 'vigil_severity high'], severity: 3 }),
  );
  assert.deepEqual(c, { type: 'xss', detector: 'signature', severity: 'high', mitre: ['T1059.007'] });
});

test('without Vigil metadata the message beats the classtype, and priority gives severity', () => {
  const sqli = classifyAlert(
    alert({ msg: 'ET WEB_SPECIFIC_APPS Foo SQL Injection Attempt', classtype: 'web-application-attack', severity: 1 }),
  );
  assert.equal(sqli.type, 'sql_injection');
  assert.equal(sqli.severity, 'high');
  assert.deepEqual(sqli.mitre, ['T1190']);
  const c2 = classifyAlert(
    alert({ msg: 'ET MALWARE Win32/Foo CnC Checkin', classtype: 'trojan-activity', severity: 1 }),
  );
  assert.equal(c2.type, 'malware');
  assert.equal(c2.severity, 'critical');
  const scan = classifyAlert(alert({ msg: 'GPL ICMP PING', classtype: 'misc-activity', severity: 3 }));
  assert.equal(scan.type, 'policy');
  assert.equal(scan.severity, 'low');
  assert.equal(classifyAlert(alert({ msg: 'ET SCAN Nmap', classtype: 'attempted-recon', severity: 2 })).type, 'recon');
});

test('a bogus vigil_type falls back to classification, an unknown one never throws', () => {
  const c = classifyAlert(alert({ metadata: ['vigil_type nonsense'], classtype: 'attempted-dos', severity: 2 }));
  assert.equal(c.type, 'dos');
  assert.equal(c.severity, 'medium');
});

test('enrichAlert adds missing keys to a copy of the metadata', () => {
  const shared = ['created_at 2024_01_01'];
  const a = alert({ metadata: shared, classtype: 'web-application-attack', msg: 'x', severity: 1 });
  enrichAlert(a);
  assert.deepEqual(shared, ['created_at 2024_01_01']);
  assert.deepEqual(a.metadata, [
    'created_at 2024_01_01',
    'vigil_type web_attack',
    'detector signature',
    'vigil_severity high',
    'mitre_technique_id T1190',
  ]);
});

test('whitelist: addresses and CIDR blocks, IPv4 and IPv6; bad entries are errors', () => {
  const w = new IpWhitelist(parseWhitelistList('127.0.0.1, 10.1.0.0/16\n2001:db8::/32'));
  assert.equal(w.has('127.0.0.1'), true);
  assert.equal(w.has('127.0.0.2'), false);
  assert.equal(w.has('10.1.255.3'), true);
  assert.equal(w.has('10.2.0.1'), false);
  assert.equal(w.has('2001:db8:1::5'), true);
  assert.equal(w.has('2001:db9::5'), false);
  assert.equal(w.has('not-an-ip'), false);
  assert.equal(new IpWhitelist(['0.0.0.0/0']).has('8.8.8.8'), true);
  assert.throws(() => new IpWhitelist(['10.0.0.0/33']), WhitelistError);
  assert.throws(() => new IpWhitelist(['10.0.0.300']), WhitelistError);
  assert.throws(() => new IpWhitelist(['10.0.0.0/x']), WhitelistError);
  assert.equal(new IpWhitelist([]).has('10.0.0.1'), false);
});

test('dedup folds repeats within the window of the last alert, per type/signature/pair', () => {
  const d = new AlertDeduplicator(300);
  assert.equal(d.add('xss', 1, 5, 'a', 'b', 0).isNew, true);
  assert.equal(d.add('xss', 1, 5, 'a', 'b', 200e6).isNew, false);
  // 450 s after the first but 250 s after the last: still the same entry.
  const r = d.add('xss', 1, 5, 'a', 'b', 450e6);
  assert.equal(r.isNew, false);
  assert.deepEqual([r.entry.count, r.entry.firstUs, r.entry.lastUs], [3, 0, 450e6]);
  assert.equal(d.add('xss', 1, 5, 'a', 'b', 751e6).isNew, true);
  assert.equal(d.add('xss', 1, 5, 'b', 'a', 751e6).isNew, true);
  assert.equal(d.add('xss', 1, 6, 'a', 'b', 751e6).isNew, true);
  const none = new AlertDeduplicator(0);
  assert.equal(none.add('xss', 1, 5, 'a', 'b', 0).isNew, true);
  assert.equal(none.add('xss', 1, 5, 'a', 'b', 0).isNew, true);
  const small = new AlertDeduplicator(300, 2);
  small.add('t', 1, 1, 'a', 'b', 0);
  small.add('t', 1, 2, 'a', 'b', 0);
  small.add('t', 1, 3, 'a', 'b', 0);
  assert.equal(small.size, 2);
});

test('the gate drops whitelisted alerts and tags the rest', () => {
  const g = new AlertGate(['192.168.0.0/16']);
  assert.equal(g.pass(alert({ srcIp: '192.168.1.1' })), null);
  assert.equal(g.pass(alert({ dstIp: '192.168.1.1' })), null);
  assert.equal(g.dropped, 2);
  const meta = ['vigil_type sql_injection'];
  const a = alert({ metadata: meta });
  const b = alert({ metadata: meta });
  assert.equal(g.pass(a)?.type, 'sql_injection');
  g.pass(b);
  assert.equal(a.vigilType, 'sql_injection');
  assert.equal(a.metadata, b.metadata, 'one enriched copy per rule');
  assert.ok(a.metadata.includes('detector signature'));
});
