import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FlowRecord } from '../../flow/table.js';
import { parseIp } from '../../flow/key.js';
import { defaultBehaviorConfig } from './config.js';
import { homeMatcher } from './engine.js';
import { BEACONING_NAME, beaconStats, createBeaconing, mad, median } from './beaconing.js';
import type { BehaviorAlert, BehaviorDetector } from './types.js';

const S = 1_000_000;
const T0 = 1_700_000_000 * S;
const HOST = '10.77.0.25';
const C2 = '203.0.113.66';

function setup(params: Record<string, number> = {}): { det: BehaviorDetector; alerts: BehaviorAlert[] } {
  const cfg = defaultBehaviorConfig();
  Object.assign(cfg.params[BEACONING_NAME]!, params);
  const alerts: BehaviorAlert[] = [];
  const isHome = homeMatcher({});
  const w = new Uint32Array(4);
  const det = createBeaconing({
    cfg,
    shards: 1,
    emit: (a) => alerts.push(a),
    isHome,
    isHomeIp: (ip) => isHome(parseIp(ip, w, 0), w, 0),
  });
  return { det, alerts };
}

let nextId = 1;
function conn(
  start: number,
  opts: {
    src?: string;
    dst?: string;
    dport?: number;
    proto?: number;
    durS?: number;
    bytes?: number;
    syn?: boolean;
  } = {},
): FlowRecord {
  const proto = opts.proto ?? 6;
  const flagsTs = opts.syn === false ? 0x18 : 0x1b;
  return {
    flowId: nextId++,
    ipVer: 4,
    srcIp: opts.src ?? HOST,
    dstIp: opts.dst ?? C2,
    srcPort: 40000 + (nextId % 20000),
    dstPort: opts.dport ?? 80,
    proto,
    vlan: [],
    startUs: start,
    endUs: start + (opts.durS ?? 0.2) * S,
    pktsToServer: 6,
    pktsToClient: 5,
    bytesToServer: opts.bytes ?? 600,
    bytesToClient: 900,
    state: 'closed',
    tcp: proto === 6 ? { flags: 0x1b, flagsTs, flagsTc: 0x1b, state: 'closed' } : undefined,
    reason: 'timeout',
    communityId: '',
    slot: 0,
    appProto: proto === 6 ? 'http' : undefined,
    alerted: false,
    features: null,
  } as FlowRecord;
}

/** Deterministic pseudo-random generator (xorshift32), values in [0, 1). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** A standard normal variate (Box-Muller). */
function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** Flow records are handed over when flows end, a closed TCP flow 60 s later: deliver in that order. */
function deliver(det: BehaviorDetector, flows: FlowRecord[]): void {
  for (const f of flows.slice().sort((a, b) => a.endUs + 60 * S - (b.endUs + 60 * S) || a.startUs - b.startUs))
    det.flowEnd!(f);
}

test('median, MAD and interval statistics', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(mad([1, 2, 3, 4, 100]), 1);
  const st = beaconStats([0, 10, 20, 20.5, 30, 40, 1000], 2, 100);
  // 20.5 is merged into 20 (closer than 2); 1000 follows a gap over 100 and starts a new run.
  assert.equal(st.count, 1);
  const st2 = beaconStats([0, 10, 20, 20.5, 30, 40], 2, 100);
  assert.equal(st2.count, 5);
  assert.deepEqual(st2.intervals, [10, 10, 10, 10]);
  assert.equal(st2.jitter, 0);
});

test('a jittered HTTP beacon (60 s ± 10 %) alerts at the sixth check-in with its statistics', () => {
  const { det, alerts } = setup();
  const r = rng(42);
  const flows: FlowRecord[] = [];
  let t = T0;
  for (let k = 0; k < 20; k++) {
    flows.push(conn(t, { bytes: k % 4 === 3 ? 1800 : 600 }));
    t += 60 * S * (1 + 0.1 * (2 * r() - 1));
  }
  deliver(det, flows);
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.type, 'malware');
  assert.equal(a.sid, 9200501);
  assert.equal(a.srcIp, HOST);
  assert.equal(a.dstIp, C2);
  assert.equal(a.dstPort, 80);
  assert.deepEqual(a.mitre, ['T1071', 'T1071.001']);
  assert.deepEqual(a.evidence['connections'], [6]);
  const mean = Number(a.evidence['mean_interval_s']![0]);
  assert.ok(mean > 54 && mean < 66, `mean ${mean}`);
  assert.ok(Number(a.evidence['jitter']![0]) <= 0.1);
  assert.equal(a.tsUs, flows[5]!.endUs);
  // Every fourth check-in carries more data: sizes still mostly consistent.
  assert.deepEqual(a.evidence['median_bytes_out'], [600]);
});

test('near misses: a few NTP polls, a user browsing a site, one refreshing a page by hand', () => {
  const { det, alerts } = setup();
  const r = rng(1);
  const flows: FlowRecord[] = [];
  // NTP every 64 s over UDP 123 (not judged), and only four of them.
  for (let k = 0; k < 4; k++) flows.push(conn(T0 + k * 64 * S, { dst: '198.51.100.123', dport: 123, proto: 17 }));
  // Browsing: connections at random times (exponential gaps, mean 40 s) to one server.
  let t = T0;
  for (let k = 0; k < 60; k++) {
    flows.push(conn(t, { dst: '198.51.100.80', dport: 443 }));
    t += -Math.log(1 - r()) * 40 * S;
  }
  // A person reloading a page about every 5 s: human timing is heavy-tailed (log-normal, sigma 0.5).
  t = T0;
  for (let k = 0; k < 30; k++) {
    flows.push(conn(t, { dst: '198.51.100.81' }));
    t += 5 * S * Math.exp(0.5 * gauss(r));
  }
  deliver(det, flows);
  assert.equal(alerts.length, 0);
});

test('near misses: internal monitoring posts, DNS, long flows cut by the active timeout, inbound', () => {
  const { det, alerts } = setup();
  const flows: FlowRecord[] = [];
  for (let k = 0; k < 20; k++) {
    flows.push(conn(T0 + k * 10 * S, { dst: '10.55.0.30', dport: 8086 }));
    flows.push(conn(T0 + k * 30 * S, { dst: '8.8.8.8', dport: 53, proto: 17 }));
    // A long TLS session split every 1800 s: continuation flows have no SYN...
    flows.push(conn(T0 + k * 1800 * S, { dst: '198.51.100.90', dport: 443, durS: 1800, syn: false }));
    // ...and a UDP one, whose pieces last as long as the period.
    flows.push(conn(T0 + k * 1800 * S, { dst: '198.51.100.91', dport: 4500, proto: 17, durS: 1800 }));
    // An external client polling an internal server.
    flows.push(conn(T0 + k * 10 * S, { src: '198.51.100.5', dst: '10.55.0.10' }));
  }
  deliver(det, flows);
  assert.equal(alerts.length, 0);
});

test('random connection times rarely pass: at most 1 % of 200 random series of 12 connections', () => {
  const { det, alerts } = setup();
  const r = rng(99);
  const flows: FlowRecord[] = [];
  for (let s = 0; s < 200; s++) {
    let t = T0;
    for (let k = 0; k < 12; k++) {
      flows.push(conn(t, { dst: `198.51.${100 + (s >> 8)}.${s & 255}` }));
      t += (5 - Math.log(1 - r()) * 60) * S;
    }
  }
  deliver(det, flows);
  // Simulated rate for Poisson series judged at every connection: about 0.03 %.
  assert.ok(alerts.length <= 2, `${alerts.length} alerts`);
});

test('config override: include_internal, min_connections, max_jitter', () => {
  const a = setup({ include_internal: 1 });
  const flows: FlowRecord[] = [];
  for (let k = 0; k < 10; k++) flows.push(conn(T0 + k * 10 * S, { dst: '10.55.0.30', dport: 8086 }));
  deliver(a.det, flows);
  assert.equal(a.alerts.length, 1);

  const few: FlowRecord[] = [];
  for (let k = 0; k < 5; k++) few.push(conn(T0 + k * 20 * S, { dport: 4444 }));
  const b = setup();
  deliver(b.det, few);
  assert.equal(b.alerts.length, 0);
  const c = setup({ min_connections: 5 });
  deliver(c.det, few);
  assert.equal(c.alerts.length, 1);

  // ±60 % jitter passes only with a looser max_jitter.
  const r = rng(5);
  const loose: FlowRecord[] = [];
  let t = T0;
  for (let k = 0; k < 30; k++) {
    loose.push(conn(t));
    t += 10 * S * (1 + 0.6 * (2 * r() - 1));
  }
  const d = setup();
  deliver(d.det, loose);
  assert.equal(d.alerts.length, 0);
  const e = setup({ max_jitter: 0.4 });
  deliver(e.det, loose);
  assert.equal(e.alerts.length, 1);
});

test('one alert per series; a series that resumes after a long silence alerts again', () => {
  const { det, alerts } = setup();
  const flows: FlowRecord[] = [];
  for (let k = 0; k < 30; k++) flows.push(conn(T0 + k * 20 * S));
  const later = T0 + 30 * 20 * S + 2 * 3600 * S;
  for (let k = 0; k < 10; k++) flows.push(conn(later + k * 20 * S));
  deliver(det, flows);
  assert.equal(alerts.length, 2);
});

test('state is bounded: many destinations are evicted oldest first', () => {
  const { det, alerts } = setup();
  for (let k = 0; k < 20000; k++)
    det.flowEnd!(conn(T0 + k * 1000, { dst: `198.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}` }));
  const flows: FlowRecord[] = [];
  for (let k = 0; k < 8; k++) flows.push(conn(T0 + 100 * S + k * 30 * S));
  deliver(det, flows);
  assert.equal(alerts.length, 1);
});
