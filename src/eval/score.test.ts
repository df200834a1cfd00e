import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  combineScores,
  labelType,
  NO_TYPE,
  parseEveAlertLine,
  parseEveAlerts,
  parseEveTimestamp,
  parseTruth,
  scoreCapture,
} from './score.js';
import type { EveAlert, TruthEvent } from './score.js';
import { EvalError } from './errors.js';

const ATT = '10.66.0.66';
const VIC = '10.66.0.10';
const CLIENT = '10.66.0.20';

/** Event helper: times in seconds. */
const ev = (label: string, start: number, end: number, src = ATT, dst = VIC): TruthEvent => ({
  label,
  src,
  dst,
  start,
  end,
});
/** Alert helper: time in seconds (converted to exact microseconds). */
const al = (type: string | null, tS: number, src = ATT, dst = VIC): EveAlert => ({
  tsUs: Math.round(tS * 1e6),
  src,
  dst,
  type,
});

test('an alert of the right type inside the window detects the event', () => {
  const s = scoreCapture([ev('xss', 1000, 1001)], [al('xss', 1000.5)]);
  assert.equal(s.events, 1);
  assert.equal(s.typed, 1);
  assert.equal(s.atAll, 1);
  assert.equal(s.fpAlerts, 0);
  assert.equal(s.alerts, 1);
  assert.deepEqual(s.labels, { xss: { events: 1, typed: 1, atAll: 1 } });
  assert.deepEqual(s.outcomes[0]!.typesInWindow, ['xss']);
});

test('an alert from victim to attacker (reversed direction) links the pair', () => {
  const s = scoreCapture([ev('port_scan', 1000, 1010)], [al('port_scan', 1005, VIC, ATT)]);
  assert.equal(s.typed, 1);
  assert.equal(s.fpAlerts, 0);
});

test('window edges: start - 5 s and end + 60 s are inside, one microsecond beyond is not', () => {
  const events = [ev('dos', 1000, 1010)];
  for (const [t, inside] of [
    [995, true],
    [994.999999, false],
    [1070, true],
    [1070.000001, false],
  ] as const) {
    const s = scoreCapture(events, [al('dos', t)]);
    assert.equal(s.typed, inside ? 1 : 0, `alert at ${t}`);
    assert.equal(s.fpAlerts, inside ? 0 : 1, `alert at ${t}`);
  }
});

test('window edges hold for real epoch times with sub-microsecond truth (float rounding)', () => {
  // Truth times carry 7 decimals; an alert exactly at start - 5 s (to the microsecond) counts.
  const start = 1795689140.1986847;
  const s = scoreCapture([ev('xss', start, start + 0.02)], [al('xss', 1795689135.198685)]);
  assert.equal(s.typed, 1);
  const early = scoreCapture([ev('xss', start, start + 0.02)], [al('xss', 1795689135.198684)]);
  assert.equal(early.typed, 0);
});

test('one alert serves one event: two overlapping events need two alerts', () => {
  const events = [ev('xss', 1000, 1001), ev('xss', 1002, 1003)];
  const one = scoreCapture(events, [al('xss', 1002.5)]);
  assert.equal(one.typed, 1);
  assert.equal(one.atAll, 1);
  assert.equal(one.fpAlerts, 0);
  const two = scoreCapture(events, [al('xss', 1002.5), al('xss', 1002.6)]);
  assert.equal(two.typed, 2);
});

test('a flood of alerts for one event: surplus alerts are neither detections nor false positives', () => {
  const alerts = Array.from({ length: 50 }, (_, i) => al('dos', 1000 + i * 0.01));
  const s = scoreCapture([ev('dos', 1000, 1003)], alerts);
  assert.equal(s.typed, 1);
  assert.equal(s.fpAlerts, 0);
  assert.equal(s.alerts, 50);
});

test('maximum matching: the result does not depend on event or alert order', () => {
  // A1 (t=50) fits both events; A2 (t=120) fits only E2. Greedy "E2 takes the earliest alert"
  // would leave E1 undetected; the matching finds E1-A1, E2-A2.
  const e1 = ev('sql_injection', 0, 10); // window [-5, 70]
  const e2 = ev('sql_injection', 40, 100); // window [35, 160]
  const a1 = al('sql_injection', 50);
  const a2 = al('sql_injection', 120);
  for (const events of [
    [e1, e2],
    [e2, e1],
  ]) {
    for (const alerts of [
      [a1, a2],
      [a2, a1],
    ]) {
      const s = scoreCapture(events, alerts);
      assert.equal(s.typed, 2);
      assert.equal(s.atAll, 2);
    }
  }
});

test('label c2 is scored as type malware', () => {
  assert.equal(labelType('c2'), 'malware');
  assert.equal(labelType('xss'), 'xss');
  const s = scoreCapture(
    [ev('c2', 1000, 1100), ev('malware', 1200, 1201)],
    [al('malware', 1050), al('malware', 1200.5)],
  );
  assert.equal(s.typed, 2);
  assert.deepEqual(s.labels, { c2: { events: 1, typed: 1, atAll: 1 }, malware: { events: 1, typed: 1, atAll: 1 } });
  assert.equal(s.outcomes[0]!.type, 'malware');
  // An alert typed "c2" is not in the taxonomy: it links the pair but is not the right type.
  const wrong = scoreCapture([ev('c2', 1000, 1100)], [al('c2', 1050)]);
  assert.equal(wrong.typed, 0);
  assert.equal(wrong.atAll, 1);
});

test('wrong type: detected at all, not typed, and not a false positive', () => {
  const s = scoreCapture([ev('sql_injection', 1000, 1001)], [al('xss', 1000.5)]);
  assert.equal(s.typed, 0);
  assert.equal(s.atAll, 1);
  assert.equal(s.fpAlerts, 0);
  assert.deepEqual(s.outcomes[0]!.typesInWindow, ['xss']);
});

test('an alert without vigil_type can detect at all only', () => {
  const s = scoreCapture([ev('xss', 1000, 1001)], [al(null, 1000.5)]);
  assert.equal(s.typed, 0);
  assert.equal(s.atAll, 1);
  assert.deepEqual(s.alertsByType, { [NO_TYPE]: 1 });
});

test('typed detections stay detected at all (the at-all matching grows the typed one)', () => {
  // E1 (xss) and E2 (sqli) overlap on one pair. A (xss) fits both, B (recon) fits only E1.
  // Typed: E1-A. Growing the at-all matching moves E1 onto B so that E2 can take A: both are
  // detected at all, and E1 keeps its typed detection.
  const e1 = ev('xss', 0, 10); // [-5, 70]
  const e2 = ev('sql_injection', 5, 10); // [0, 70]
  const s = scoreCapture([e2, e1], [al('xss', 8), al('recon', -4)]);
  assert.equal(s.typed, 1);
  assert.equal(s.atAll, 2);
  for (const o of s.outcomes) if (o.typed) assert.ok(o.atAll);
});

test('false positives: other pairs, benign events, outside windows', () => {
  const events = [ev('brute_force', 1000, 1100), ev('benign', 1000, 1100, CLIENT, VIC)];
  const alerts = [
    al('brute_force', 1050), // detection
    al('brute_force', 1050, CLIENT, VIC), // benign client's pair: FP
    al('recon', 1050, ATT, '10.66.0.99'), // attacker but another host: FP
    al('recon', 2000), // attack pair, long after the window: FP
  ];
  const s = scoreCapture(events, alerts);
  assert.equal(s.events, 1);
  assert.equal(s.benignEvents, 1);
  assert.equal(s.typed, 1);
  assert.equal(s.fpAlerts, 3);
  assert.deepEqual(s.fpByType, { brute_force: 1, recon: 2 });
  assert.deepEqual(s.alertsByType, { brute_force: 2, recon: 2 });
});

test('benign-only capture: no events, every alert is a false positive', () => {
  const events = [ev('benign', 1000, 1001, CLIENT, VIC), ev('benign', 1005, 1006, CLIENT, VIC)];
  const s = scoreCapture(events, [al('xss', 1000.5, CLIENT, VIC), al('dos', 1003, CLIENT, VIC)]);
  assert.equal(s.events, 0);
  assert.equal(s.benignEvents, 2);
  assert.equal(s.fpAlerts, 2);
  assert.deepEqual(s.labels, {});
  assert.deepEqual(s.outcomes, []);
  const t = combineScores([s]);
  assert.equal(t.typedRecall, null);
  assert.equal(t.fpAlerts, 2);
});

test('IPv6 addresses match whatever their spelling', () => {
  const s = scoreCapture(
    [ev('port_scan', 1000, 1001, '2001:DB8:0:0::66', '2001:db8::a')],
    [al('port_scan', 1000.5, '2001:db8::a', '2001:db8::66')],
  );
  assert.equal(s.typed, 1);
});

test('combineScores sums captures, sorts labels and computes typed recall', () => {
  const a = scoreCapture([ev('xss', 0, 1), ev('xss', 2, 3)], [al('xss', 0.5), al('recon', 500)]);
  const b = scoreCapture([ev('dos', 0, 1), ev('c2', 0, 1, ATT, CLIENT)], [al('port_scan', 0.5)]);
  const t = combineScores([a, b]);
  assert.equal(t.events, 4);
  assert.equal(t.typed, 1);
  assert.equal(t.atAll, 2);
  assert.equal(t.alerts, 3);
  assert.equal(t.fpAlerts, 1);
  assert.deepEqual(Object.keys(t.labels), ['c2', 'dos', 'xss']);
  assert.deepEqual(t.labels['xss'], { events: 2, typed: 1, atAll: 1 });
  assert.deepEqual(t.fpByType, { recon: 1 });
  assert.equal(t.typedRecall, 0.25);
  assert.equal(t.atAllRecall, 0.5);
});

/** Deterministic pseudo-random numbers (xorshift32) for the property test. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/** Maximum matching size by trying every assignment (small cases only). */
function bruteMax(edges: boolean[][], nA: number): number {
  const used = new Array<boolean>(nA).fill(false);
  const go = (e: number): number => {
    if (e === edges.length) return 0;
    let best = go(e + 1);
    for (let a = 0; a < nA; a++) {
      if (!edges[e]![a] || used[a]) continue;
      used[a] = true;
      best = Math.max(best, 1 + go(e + 1));
      used[a] = false;
    }
    return best;
  };
  return go(0);
}

test('property: typed count is the maximum matching, order-free; typed <= at-all <= events', () => {
  const r = rng(12345);
  const types = ['xss', 'dos', 'recon'];
  const hosts = [ATT, VIC, CLIENT];
  for (let round = 0; round < 300; round++) {
    const nE = 1 + Math.floor(r() * 5);
    const nA = Math.floor(r() * 6);
    const events: TruthEvent[] = [];
    for (let i = 0; i < nE; i++) {
      const start = Math.floor(r() * 200);
      events.push(ev(r() < 0.15 ? 'benign' : types[Math.floor(r() * 2)]!, start, start + Math.floor(r() * 30)));
    }
    const alerts: EveAlert[] = [];
    for (let i = 0; i < nA; i++) {
      const src = hosts[Math.floor(r() * 2)]!;
      const dst = src === ATT ? (r() < 0.8 ? VIC : CLIENT) : ATT;
      alerts.push(al(types[Math.floor(r() * 3)]!, Math.floor(r() * 320) - 10, src, dst));
    }
    const s = scoreCapture(events, alerts);
    const attack = events.filter((e) => e.label !== 'benign');
    const fits = (e: TruthEvent, a: EveAlert, typed: boolean): boolean =>
      (!typed || a.type === e.label) &&
      ((a.src === e.src && a.dst === e.dst) || (a.src === e.dst && a.dst === e.src)) &&
      a.tsUs >= (e.start - 5) * 1e6 &&
      a.tsUs <= (e.end + 60) * 1e6;
    const typedEdges = attack.map((e) => alerts.map((a) => fits(e, a, true)));
    const allEdges = attack.map((e) => alerts.map((a) => fits(e, a, false)));
    assert.equal(s.typed, bruteMax(typedEdges, nA), `round ${round}`);
    assert.equal(s.atAll, bruteMax(allEdges, nA), `round ${round}`);
    assert.equal(s.fpAlerts, alerts.filter((a) => !attack.some((e) => fits(e, a, false))).length);
    assert.ok(s.typed <= s.atAll && s.atAll <= s.events);
    for (const o of s.outcomes) if (o.typed) assert.ok(o.atAll);
    const rev = scoreCapture([...events].reverse(), [...alerts].reverse());
    assert.equal(rev.typed, s.typed);
    assert.equal(rev.atAll, s.atAll);
    assert.equal(rev.fpAlerts, s.fpAlerts);
  }
});

test('EVE timestamps parse to exact epoch microseconds', () => {
  const base = Date.UTC(2026, 10, 26, 10, 30, 18) * 1000;
  assert.equal(parseEveTimestamp('2026-11-26T10:30:18.312528+0000'), base + 312528);
  assert.equal(parseEveTimestamp('2026-11-26T10:30:18.000001+0000'), base + 1);
  assert.equal(parseEveTimestamp('2026-11-26T10:30:18.312528Z'), base + 312528);
  assert.equal(parseEveTimestamp('2026-11-26T10:30:18+00:00'), base);
  assert.equal(parseEveTimestamp('2026-11-26T11:30:18.5+0100'), base + 500000);
  assert.equal(parseEveTimestamp('2026-11-26T05:00:18.312528-0530'), base + 312528);
  // Nanoseconds: digits past the sixth are dropped, not rounded.
  assert.equal(parseEveTimestamp('2026-11-26T10:30:18.312528999+0000'), base + 312528);
  for (const bad of ['', '2026-11-26 10:30:18+0000', '2026-13-01T00:00:00+0000', '2026-02-31T00:00:00Z', 'x']) {
    assert.equal(parseEveTimestamp(bad), null, bad);
  }
});

test('EVE lines: alerts parsed, other records skipped, junk counted', () => {
  const alert = JSON.stringify({
    timestamp: '2026-11-26T10:30:18.312528+0000',
    event_type: 'alert',
    src_ip: ATT,
    dest_ip: VIC,
    alert: { signature_id: 1, metadata: { vigil_type: ['xss'], detector: ['signature'] } },
  });
  const noType = JSON.stringify({
    timestamp: '2026-11-26T10:30:18+0000',
    event_type: 'alert',
    src_ip: ATT,
    dest_ip: VIC,
    alert: {},
  });
  const flow = JSON.stringify({ timestamp: '2026-11-26T10:30:18+0000', event_type: 'flow', src_ip: ATT });
  const http = JSON.stringify({ event_type: 'http', http: { url: '/?q="alert"' } });
  const r = parseEveAlertLine(alert);
  assert.deepEqual(r, { tsUs: Date.UTC(2026, 10, 26, 10, 30, 18) * 1000 + 312528, src: ATT, dst: VIC, type: 'xss' });
  assert.equal(parseEveAlertLine(flow), 'skip');
  assert.equal(parseEveAlertLine(http), 'skip');
  assert.equal(parseEveAlertLine(''), 'skip');
  assert.equal(parseEveAlertLine('{"event_type":"alert", broken'), 'malformed');
  assert.equal(parseEveAlertLine(alert.replace('2026-11-26T', 'yesterday ')), 'malformed');
  const all = parseEveAlerts([alert, flow, noType, 'garbage', http]);
  assert.equal(all.alerts.length, 2);
  assert.equal(all.alerts[1]!.type, null);
  assert.equal(all.malformed, 1);
});

test('truth files: the corpus layout and a bare array parse; bad events throw EvalError', () => {
  const doc = { pcap: 'x.pcap', events: [{ ...ev('xss', 1, 2), tool: 'curl', command: 'curl ...' }] };
  assert.deepEqual(parseTruth(doc, 'x.truth.json'), [ev('xss', 1, 2)]);
  assert.deepEqual(parseTruth([ev('dos', 1, 2)], 'y'), [ev('dos', 1, 2)]);
  const cases: unknown[] = [
    {},
    { events: [{ label: 'xss', src: ATT, dst: VIC, start: 1 }] },
    { events: [{ label: '', src: ATT, dst: VIC, start: 1, end: 2 }] },
    { events: [{ label: 'xss', src: ATT, dst: VIC, start: '1', end: 2 }] },
    { events: [{ label: 'xss', src: ATT, dst: VIC, start: 3, end: 2 }] },
    { events: [null] },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseTruth(c, 'bad.truth.json'),
      (e: unknown) =>
        e instanceof EvalError && e.code === 'VIGIL_EVAL_TRUTH_INVALID' && /bad\.truth\.json/.test(e.message),
    );
  }
});
