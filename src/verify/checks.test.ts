import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import {
  MISSING,
  compactJson,
  countMatches,
  describeExpectation,
  describeFailure,
  evaluateChecks,
  expectationHolds,
  findValue,
  isAlertFilter,
  matchEvent,
  nearMiss,
  parseVersion,
  pyEquals,
  unmetRequirement,
} from './checks.js';
import type { CheckSpec } from './checks.js';

const ALERT = {
  event_type: 'alert',
  src_port: 80,
  proto: 'TCP',
  alert: { signature_id: 1, gid: 1, rev: 1, signature: 'TEST', category: '', severity: 3, action: 'allowed' },
  vlan: [1111, 22],
  metadata: { flowvars: [{ ubuntu: '8.1' }], nested: [[1, 2]] },
  tcp: { tcp_flags: '1b', tcp_flags_tc: '12', syn: true },
  http: { url: '/cgi-bin/cart32.exe', hostname: 'www.net1.bg' },
  packet: 'AAEC',
  app_proto: null,
};

test('findValue: dotted keys, indices, __len, operators, missing', () => {
  assert.equal(findValue(ALERT, 'event_type'), 'alert');
  assert.equal(findValue(ALERT, 'alert.signature_id'), 1);
  assert.equal(findValue(ALERT, 'vlan[0]'), 1111);
  assert.equal(findValue(ALERT, 'vlan[1]'), 22);
  assert.equal(findValue(ALERT, 'metadata.flowvars[0].ubuntu'), '8.1');
  assert.equal(findValue(ALERT, 'metadata.nested[0][1]'), 2);
  assert.deepEqual(findValue(ALERT, 'alert'), ALERT.alert);
  assert.equal(findValue(ALERT, 'app_proto'), null, 'a JSON null is present');
  // __len: Python's len(), -1 for a number (as upstream).
  assert.equal(findValue(ALERT, 'packet.__len'), 4);
  assert.equal(findValue(ALERT, 'vlan.__len'), 2);
  assert.equal(findValue(ALERT, 'alert.__len'), 7);
  assert.equal(findValue(ALERT, 'src_port.__len'), -1);
  assert.equal(findValue({ s: 'ü€' }, 's.__len'), 2);
  // An operator part ends the path: the caller applies it to the object before it.
  assert.equal(findValue(ALERT, 'http.url.__find'), '/cgi-bin/cart32.exe');
  // Missing: absent names, out-of-range or non-list indices, walking into a scalar or null.
  assert.equal(findValue(ALERT, 'flow'), MISSING);
  assert.equal(findValue(ALERT, 'alert.nope'), MISSING);
  assert.equal(findValue(ALERT, 'vlan[2]'), MISSING);
  assert.equal(findValue(ALERT, 'alert[0]'), MISSING);
  assert.equal(findValue(ALERT, 'src_port.x'), MISSING);
  assert.equal(findValue(ALERT, 'app_proto.x'), MISSING);
  assert.equal(findValue(ALERT, 'flow.__len'), MISSING);
  assert.equal(findValue(null, 'a'), MISSING);
  assert.equal(findValue(ALERT, 'vlan.0'), MISSING, 'lists are indexed with [n] only');
});

test("pyEquals follows Python's == between YAML and JSON values", () => {
  assert.ok(pyEquals(1, 1));
  assert.ok(pyEquals(1, 1.0));
  assert.ok(pyEquals(true, 1), 'True == 1');
  assert.ok(pyEquals(false, 0));
  assert.ok(!pyEquals(true, 2));
  assert.ok(!pyEquals('12', 12), "'12' != 12");
  assert.ok(!pyEquals(12, '12'));
  assert.ok(!pyEquals('true', true));
  assert.ok(pyEquals('a', 'a'));
  assert.ok(!pyEquals('a', 'A'));
  assert.ok(pyEquals(null, null));
  assert.ok(!pyEquals(null, 0));
  assert.ok(!pyEquals(null, ''));
  assert.ok(pyEquals([1, 'a', [true]], [1.0, 'a', [1]]));
  assert.ok(!pyEquals([1], [1, 2]));
  assert.ok(!pyEquals([1], { 0: 1 }));
  assert.ok(pyEquals({ a: 1, b: [2] }, { b: [2], a: 1 }));
  assert.ok(!pyEquals({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(!pyEquals({ a: 1 }, { b: 1 }));
  assert.ok(!pyEquals(new Date('2019-01-01'), '2019-01-01'), 'a YAML date is not a JSON string');
  assert.ok(pyEquals(new Date(5), new Date(5)));
});

test('matchEvent: every key must match; missing keys never match', () => {
  assert.ok(matchEvent({}, ALERT));
  assert.ok(matchEvent({ event_type: 'alert', 'alert.signature_id': 1, 'vlan[0]': 1111 }, ALERT));
  assert.ok(!matchEvent({ event_type: 'alert', 'alert.signature_id': 2 }, ALERT));
  assert.ok(!matchEvent({ 'alert.signature_id': '1' }, ALERT), 'a quoted YAML string does not equal a JSON number');
  assert.ok(matchEvent({ 'tcp.tcp_flags_tc': '12', 'tcp.syn': true, 'alert.category': '' }, ALERT));
  assert.ok(!matchEvent({ 'tcp.tcp_flags_tc': 12 }, ALERT));
  assert.ok(!matchEvent({ 'flow.alerted': null }, ALERT), 'missing never equals null');
  assert.ok(!matchEvent({ 'flow.bytes': 0 }, ALERT));
  assert.ok(matchEvent({ app_proto: null }, ALERT), 'a present JSON null equals YAML null');
  assert.ok(!matchEvent({ 'alert.signature_id': 1 }, 'not a record'));
  // has-key / not-has-key (a JSON null counts as absent, as upstream).
  assert.ok(matchEvent({ 'has-key': 'alert.signature' }, ALERT));
  assert.ok(!matchEvent({ 'has-key': 'flow' }, ALERT));
  assert.ok(!matchEvent({ 'has-key': 'app_proto' }, ALERT));
  assert.ok(matchEvent({ 'not-has-key': 'flow' }, ALERT));
  assert.ok(!matchEvent({ 'not-has-key': 'vlan[1]' }, ALERT));
  // String and list operators.
  assert.ok(matchEvent({ 'http.url.__find': 'cart32' }, ALERT));
  assert.ok(!matchEvent({ 'http.url.__find': 'cart33' }, ALERT));
  assert.ok(matchEvent({ 'http.hostname.__startswith': 'www.' }, ALERT));
  assert.ok(matchEvent({ 'http.hostname.__endswith': '.bg' }, ALERT));
  assert.ok(!matchEvent({ 'http.hostname.__endswith': '.de' }, ALERT));
  assert.ok(matchEvent({ 'vlan.__contains': 22 }, ALERT));
  assert.ok(!matchEvent({ 'vlan.__contains': 23 }, ALERT));
  assert.ok(matchEvent({ 'alert.__contains': 'rev' }, ALERT), 'a dict contains its keys');
  assert.ok(!matchEvent({ 'src_port.__startswith': '8' }, ALERT));
  assert.ok(!matchEvent({ 'flow.x.__find': 'a' }, ALERT));
  assert.ok(matchEvent({ 'packet.__len': 4, 'vlan.__len': 2 }, ALERT));
});

test('counts and count/lt/gt expectations', () => {
  const events = [ALERT, { ...ALERT, alert: { ...ALERT.alert, signature_id: 2 } }, { event_type: 'flow' }];
  assert.equal(countMatches({ event_type: 'alert' }, events), 2);
  assert.equal(countMatches({ 'alert.signature_id': 2 }, events), 1);
  assert.equal(countMatches({ event_type: 'dns' }, events), 0);
  assert.ok(expectationHolds({ count: 2 }, 2));
  assert.ok(!expectationHolds({ count: 2 }, 3));
  assert.ok(expectationHolds({ count: 0 }, 0));
  assert.ok(expectationHolds({ lt: 3 }, 2));
  assert.ok(!expectationHolds({ lt: 3 }, 3));
  assert.ok(expectationHolds({ gt: 0 }, 1));
  assert.ok(!expectationHolds({ gt: 1 }, 1));
  assert.ok(expectationHolds({ gt: 1, lt: 5 }, 4));
  assert.ok(!expectationHolds({ gt: 1, lt: 5 }, 5));
  assert.ok(!expectationHolds({ count: 4, lt: 4 }, 4));
  assert.equal(describeExpectation({ count: 1 }), 'count 1');
  assert.equal(describeExpectation({ gt: 1, lt: 5 }), '> 1, < 5');
});

test('isAlertFilter', () => {
  assert.ok(isAlertFilter({ event_type: 'alert' }));
  assert.ok(isAlertFilter({ event_type: 'alert', 'alert.signature_id': 1 }));
  assert.ok(isAlertFilter({ 'alert.signature': 'dsize exact size' }), 'no event_type but alert.* keys');
  assert.ok(!isAlertFilter({ event_type: 'http', 'alert.signature_id': 1 }));
  assert.ok(!isAlertFilter({ event_type: 'flow' }));
  assert.ok(!isAlertFilter({ 'flow.alerted': true }));
  assert.ok(!isAlertFilter({}));
});

test('versions and per-check requirements', () => {
  assert.deepEqual(parseVersion('7.0.12'), { major: 7, minor: 0, patch: 12 });
  assert.deepEqual(parseVersion(8), { major: 8, minor: 0, patch: 0 });
  assert.deepEqual(parseVersion(6.1), { major: 6, minor: 1, patch: 0 });
  assert.deepEqual(parseVersion('9.0.0-dev'), { major: 9, minor: 0, patch: 0 });
  assert.deepEqual(parseVersion('7', true), { major: 7, minor: null, patch: null });
  assert.equal(parseVersion('dev'), null);
  const v = parseVersion('8.0.5')!;
  assert.equal(unmetRequirement({}, v), null);
  assert.equal(unmetRequirement({ 'min-version': '8.0.5' }, v), null);
  assert.equal(unmetRequirement({ 'min-version': 7 }, v), null);
  assert.equal(unmetRequirement({ 'min-version': '8.0.6' }, v), 'requires min-version 8.0.6');
  assert.equal(unmetRequirement({ 'lt-version': '8.0.5' }, v), 'requires lt-version 8.0.5');
  assert.equal(unmetRequirement({ 'lt-version': '8.1' }, v), null);
  assert.equal(unmetRequirement({ 'gt-version': 8 }, v), null);
  assert.equal(unmetRequirement({ 'gt-version': '8.0.5' }, v), 'requires gt-version 8.0.5');
  assert.equal(unmetRequirement({ version: 8 }, v), null, '8 means any 8.x.y');
  assert.equal(unmetRequirement({ version: '8.1' }, v), 'requires version 8.1');
  assert.equal(unmetRequirement({ pcap: false }, v), null);
  assert.match(unmetRequirement({ features: ['HAVE_LUA'] }, v)!, /build feature HAVE_LUA/);
  assert.equal(unmetRequirement({ lambda: 'True' }, v), 'unsupported requirement lambda');
});

const filter = (index: number, match: Record<string, unknown>, count: number, extra = {}): CheckSpec => ({
  type: 'filter',
  index,
  match,
  expect: { count },
  requires: {},
  filename: null,
  comment: null,
  ...extra,
});

test('evaluateChecks: alert filters decide, others are reported', () => {
  const events = [ALERT, { event_type: 'flow' }, { event_type: 'stats' }];
  const checks: CheckSpec[] = [
    filter(1, { event_type: 'alert', 'alert.signature_id': 1 }, 1),
    filter(2, { event_type: 'flow' }, 2),
    { type: 'other', index: 3, kind: 'stats' },
    filter(4, { event_type: 'alert' }, 5, { requires: { 'lt-version': 8 } }),
    filter(5, { event_type: 'alert' }, 9, { filename: 'alert-debug.log' }),
    filter(6, { 'alert.signature_id': 1 }, 0, { comment: 'sid 1 must not fire' }),
  ];
  const version = parseVersion('9.0.0')!;
  const r = evaluateChecks(checks, events, { version, allChecks: false });
  assert.deepEqual(
    r.map((c) => [c.index, c.kind, c.got, c.ok, c.counted]),
    [
      [1, 'alert', 1, true, true],
      [2, 'non-alert', 1, false, false],
      [3, 'stats', null, null, false],
      [4, 'alert', null, null, false],
      [5, 'alert', null, null, false],
      [6, 'alert', 1, false, true],
    ],
  );
  assert.equal(r[2]!.note, 'not evaluated');
  assert.equal(r[3]!.note, 'skipped: requires lt-version 8');
  assert.match(r[4]!.note!, /alert-debug\.log/);
  assert.equal(describeFailure(r[5]!), 'filter {"alert.signature_id":1} expected count 0, got 1 (sid 1 must not fire)');
  assert.equal(describeFailure(r[1]!), 'filter {"event_type":"flow"} expected count 2, got 1');
  const all = evaluateChecks(checks, events, { version, allChecks: true });
  assert.equal(all[1]!.counted, true);
  assert.equal(all[2]!.counted, false, 'other check types never count');
});

test('YAML 1.1 values from test.yaml compare like PyYAML values', () => {
  const doc = parseYaml(
    [
      'alert.signature_id: 1',
      'tcp.tcp_flags: 1b',
      "tcp.tcp_flags_tc: '12'",
      'tcp.syn: yes',
      'metadata.flowvars[0].ubuntu: "8.1"',
      'vlan[0]: 1111',
      'alert.category: ""',
    ].join('\n'),
    { version: '1.1' },
  ) as Record<string, unknown>;
  assert.ok(matchEvent(doc, ALERT));
  const unquoted = parseYaml('metadata.flowvars[0].ubuntu: 8.1', { version: '1.1' }) as Record<string, unknown>;
  assert.ok(!matchEvent(unquoted, ALERT), 'an unquoted 8.1 is a float, not the string "8.1"');
});

test('nearMiss names the keys on which the closest record of the type differs', () => {
  const flow = { event_type: 'flow', src_port: 80, alert: { signature_id: 1 } };
  const other = { ...ALERT, src_port: 81, proto: 'UDP', vlan: [] };
  const events = [flow, other, ALERT];
  assert.deepEqual(nearMiss({ event_type: 'alert', src_port: 80, 'alert.signature_id': 1, vlan: [1] }, events), [
    { key: 'vlan', expected: [1], got: [1111, 22] },
  ]);
  assert.equal(
    nearMiss({ event_type: 'alert', src_port: 80, 'alert.signature_id': 2 }, events),
    null,
    'another rule is not near',
  );
  assert.deepEqual(nearMiss({ event_type: 'alert', 'flow.pkts_toserver': 4, proto: 'TCP' }, events), [
    { key: 'flow.pkts_toserver', expected: 4 },
  ]);
  // Too different (more than NEAR_MISS_MAX_KEYS keys), nothing of the type, or nothing but event_type: no report.
  assert.equal(nearMiss({ event_type: 'alert', a: 1, b: 2, c: 3, d: 4 }, events), null);
  assert.equal(nearMiss({ event_type: 'dns', src_port: 80 }, events), null);
  assert.equal(nearMiss({ event_type: 'alert', 'alert.signature_id': 1 }, events), null);

  const r = evaluateChecks([filter(1, { event_type: 'alert', proto: 'TCP', src_port: 8080 }, 1)], events, {
    version: parseVersion('9')!,
    allChecks: false,
  })[0]!;
  assert.deepEqual(r.closest, [{ key: 'src_port', expected: 8080, got: 80 }]);
  assert.equal(
    describeFailure(r),
    'filter {"event_type":"alert","proto":"TCP","src_port":8080} expected count 1, got 0; ' +
      'closest record: src_port expected 8080, got 80',
  );
  // Too many matches: no near miss to show.
  const many = evaluateChecks([filter(1, { event_type: 'alert', proto: 'TCP' }, 0)], events, {
    version: parseVersion('9')!,
    allChecks: false,
  })[0]!;
  assert.equal(many.closest, undefined);
});

test('compactJson cuts long strings', () => {
  assert.equal(compactJson({ a: 'x'.repeat(10) }), '{"a":"xxxxxxxxxx"}');
  assert.equal(compactJson({ packet: 'A'.repeat(1000) }, 20), `{"packet":"${'A'.repeat(12)}...(1000 chars)"}`);
});
