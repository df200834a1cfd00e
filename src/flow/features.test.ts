import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SHARED_DIR } from '../../test/helpers/paths.js';
import { TCP_FLAG } from '../decode/batch.js';
import { CIC_FEATURE_COUNT, FEATURE_ALIASES, FEATURE_NAMES, canonicalFeatureName } from './features.js';
import { synthBatch } from './synth.js';
import type { SynthPacket } from './synth.js';
import { FlowTable } from './table.js';
import type { FlowOptions, FlowRecord } from './table.js';

const T0 = 1_600_000_000_000_000;
const { SYN, ACK, FIN, PSH } = TCP_FLAG;

function featuresOf(list: SynthPacket[]): { rec: FlowRecord; get: (name: string) => number } {
  const recs: FlowRecord[] = [];
  const table = new FlowTable({}, (r) => recs.push(r));
  const { pkts, dec } = synthBatch(list);
  table.process(pkts, dec);
  table.flush();
  assert.equal(recs.length, 1);
  const rec = recs[0]!;
  const get = (name: string): number => {
    const k = FEATURE_NAMES.indexOf(name);
    assert.ok(k >= 0, name);
    return rec.features![k]!;
  };
  return { rec, get };
}

const C = '192.168.10.5';
const SV = '10.0.0.1';
const fwd = (
  dt: number,
  flags: number,
  win: number,
  hdrLen: number,
  payload: Uint8Array | number = 0,
): SynthPacket => ({
  ts: T0 + dt,
  src: C,
  dst: SV,
  sport: 51000,
  dport: 80,
  flags,
  win,
  hdrLen,
  payload,
});
const bwd = (
  dt: number,
  flags: number,
  win: number,
  hdrLen: number,
  payload: Uint8Array | number = 0,
): SynthPacket => ({
  ts: T0 + dt,
  src: SV,
  dst: C,
  sport: 80,
  dport: 51000,
  flags,
  win,
  hdrLen,
  payload,
});

test('FEATURE_NAMES starts with the corrected CIC-IDS2017 columns, in CSV order', () => {
  const csv = path.join(SHARED_DIR, 'data', 'datasets', 'cicids2017', 'BENIGN.csv');
  if (fs.existsSync(csv)) {
    const header = fs.readFileSync(csv, 'utf8').split('\n', 1)[0]!.trim().split(',');
    const from = header.indexOf('Flow Duration');
    const to = header.indexOf('Label');
    assert.deepEqual(FEATURE_NAMES.slice(0, CIC_FEATURE_COUNT), header.slice(from, to));
  }
  assert.equal(CIC_FEATURE_COUNT, 81);
  assert.equal(new Set(FEATURE_NAMES).size, FEATURE_NAMES.length);
  assert.deepEqual(FEATURE_NAMES.slice(CIC_FEATURE_COUNT), [
    'Dst Port',
    'Protocol',
    'Payload Entropy Fwd',
    'Payload Entropy Bwd',
    'Src Distinct Dst Ports',
    'Src Distinct Dst Hosts',
  ]);
});

test('aliases map CIC-IDS2017 original and CSE-CIC-IDS2018 spellings to our names', () => {
  assert.equal(canonicalFeatureName(' Total Fwd Packets'), 'Total Fwd Packet');
  assert.equal(canonicalFeatureName('Total Backward Packets'), 'Total Bwd packets');
  assert.equal(canonicalFeatureName('Total Length of Fwd Packets'), 'Total Length of Fwd Packet');
  assert.equal(canonicalFeatureName(' Fwd Header Length.1'), 'Fwd Header Length');
  assert.equal(canonicalFeatureName('Init_Win_bytes_forward'), 'FWD Init Win Bytes');
  assert.equal(canonicalFeatureName(' Init_Win_bytes_backward'), 'Bwd Init Win Bytes');
  assert.equal(canonicalFeatureName(' act_data_pkt_fwd'), 'Fwd Act Data Pkts');
  assert.equal(canonicalFeatureName(' min_seg_size_forward'), 'Fwd Seg Size Min');
  assert.equal(canonicalFeatureName(' Avg Fwd Segment Size'), 'Fwd Segment Size Avg');
  assert.equal(canonicalFeatureName('Fwd Avg Bytes/Bulk'), 'Fwd Bytes/Bulk Avg');
  assert.equal(canonicalFeatureName(' CWE Flag Count'), 'CWR Flag Count');
  assert.equal(canonicalFeatureName(' Destination Port'), 'Dst Port');
  assert.equal(canonicalFeatureName('Tot Fwd Pkts'), 'Total Fwd Packet');
  assert.equal(canonicalFeatureName('TotLen Fwd Pkts'), 'Total Length of Fwd Packet');
  assert.equal(canonicalFeatureName('Fwd Pkt Len Max'), 'Fwd Packet Length Max');
  assert.equal(canonicalFeatureName('Flow Byts/s'), 'Flow Bytes/s');
  assert.equal(canonicalFeatureName('Init Fwd Win Byts'), 'FWD Init Win Bytes');
  assert.equal(canonicalFeatureName('Fwd Act Data Pkts'), 'Fwd Act Data Pkts');
  assert.equal(canonicalFeatureName('flow_byts_s'), 'Flow Bytes/s');
  assert.equal(canonicalFeatureName('  flow iat MEAN '), 'Flow IAT Mean');
  assert.equal(canonicalFeatureName('Label'), null);
  assert.equal(canonicalFeatureName('Src IP'), null);
  for (const [k, v] of Object.entries(FEATURE_ALIASES)) assert.ok(FEATURE_NAMES.includes(v), `${k} -> ${v}`);
});

test('features of a hand-made TCP connection match values computed by hand', () => {
  const bwdPayload = new Uint8Array(300);
  for (let k = 0; k < 300; k++) bwdPayload[k] = k & 0xff;
  const { rec, get } = featuresOf([
    fwd(0, SYN, 29200, 40), //                         p1 client SYN, options -> 40-byte header
    bwd(1000, SYN | ACK, 28960, 40), //                p2
    fwd(1500, ACK, 229, 32), //                        p3
    fwd(2500, PSH | ACK, 229, 32, new Uint8Array(100).fill(0x41)), // p4: 100 x 'A'
    bwd(4500, ACK, 227, 32), //                        p5
    bwd(5000, PSH | ACK, 227, 32, bwdPayload), //      p6: bytes 0..255, 0..43
    fwd(8000, FIN | ACK, 229, 32), //                  p7
    bwd(9000, FIN | ACK, 227, 32), //                  p8
    fwd(10000, ACK, 229, 32), //                       p9
  ]);
  assert.equal(rec.tcp!.state, 'closed');
  const close = (name: string, want: number): void =>
    assert.ok(Math.abs(get(name) - want) < 1e-6 * Math.max(1, Math.abs(want)), `${name}: ${get(name)} != ${want}`);
  close('Flow Duration', 10000);
  close('Total Fwd Packet', 5);
  close('Total Bwd packets', 4);
  close('Total Length of Fwd Packet', 100);
  close('Total Length of Bwd Packet', 300);
  close('Fwd Packet Length Max', 100);
  close('Fwd Packet Length Min', 0);
  close('Fwd Packet Length Mean', 20);
  close('Fwd Packet Length Std', Math.sqrt(8000 / 4)); // sample std of 0,0,100,0,0
  close('Bwd Packet Length Max', 300);
  close('Bwd Packet Length Mean', 75);
  close('Bwd Packet Length Std', 150); // sqrt(67500 / 3)
  close('Flow Bytes/s', 400 / 0.01);
  close('Flow Packets/s', 9 / 0.01);
  // Flow IATs: 1000 500 1000 2000 500 3000 1000 1000.
  close('Flow IAT Mean', 1250);
  close('Flow IAT Std', Math.sqrt(5_000_000 / 7));
  close('Flow IAT Max', 3000);
  close('Flow IAT Min', 500);
  // Forward IATs: 1500 1000 5500 2000.
  close('Fwd IAT Total', 10000);
  close('Fwd IAT Mean', 2500);
  close('Fwd IAT Std', Math.sqrt(12_500_000 / 3));
  close('Fwd IAT Max', 5500);
  close('Fwd IAT Min', 1000);
  // Backward IATs: 3500 500 4000.
  close('Bwd IAT Total', 8000);
  close('Bwd IAT Mean', 8000 / 3);
  close('Bwd IAT Std', Math.sqrt(((3500 - 8000 / 3) ** 2 + (500 - 8000 / 3) ** 2 + (4000 - 8000 / 3) ** 2) / 2));
  close('Bwd IAT Max', 4000);
  close('Bwd IAT Min', 500);
  close('Fwd PSH Flags', 1);
  close('Bwd PSH Flags', 1);
  close('Fwd URG Flags', 0);
  close('Fwd RST Flags', 0);
  close('Fwd Header Length', 40 + 4 * 32);
  close('Bwd Header Length', 40 + 3 * 32);
  close('Fwd Packets/s', 500);
  close('Bwd Packets/s', 400);
  close('Packet Length Min', 0);
  close('Packet Length Max', 300);
  close('Packet Length Mean', 400 / 9);
  const variance = (100 * 100 + 300 * 300 - 9 * (400 / 9) ** 2) / 8;
  close('Packet Length Variance', variance);
  close('Packet Length Std', Math.sqrt(variance));
  close('FIN Flag Count', 2);
  close('SYN Flag Count', 2);
  close('RST Flag Count', 0);
  close('PSH Flag Count', 2);
  close('ACK Flag Count', 8);
  close('URG Flag Count', 0);
  close('CWR Flag Count', 0);
  close('ECE Flag Count', 0);
  close('Down/Up Ratio', 0.8);
  close('Average Packet Size', 400 / 9);
  close('Fwd Segment Size Avg', 20);
  close('Bwd Segment Size Avg', 75);
  close('Fwd Bytes/Bulk Avg', 0);
  close('Bwd Bulk Rate Avg', 0);
  // CICFlowMeter's subflow quirk: totals divided by the packet count, integer division.
  close('Subflow Fwd Packets', 0);
  close('Subflow Fwd Bytes', 11);
  close('Subflow Bwd Packets', 0);
  close('Subflow Bwd Bytes', 33);
  close('FWD Init Win Bytes', 29200);
  close('Bwd Init Win Bytes', 227); // last backward window, as CICFlowMeter
  close('Fwd Act Data Pkts', 1);
  close('Fwd Seg Size Min', 32);
  close('Active Mean', 0);
  close('Idle Max', 0);
  close('ICMP Code', -1);
  close('ICMP Type', -1);
  close('Total TCP Flow Time', 10000);
  close('Dst Port', 80);
  close('Protocol', 6);
  close('Payload Entropy Fwd', 0); // one symbol
  close('Payload Entropy Bwd', 8); // first 256 bytes sampled: every value once
  close('Src Distinct Dst Ports', 1);
  close('Src Distinct Dst Hosts', 1);
});

test('bulk, active and idle features follow CICFlowMeter', () => {
  const u = (dt: number, back: boolean, len: number): SynthPacket =>
    back
      ? { ts: T0 + dt, src: SV, dst: C, sport: 53, dport: 3333, proto: 17, payload: len }
      : { ts: T0 + dt, src: C, dst: SV, sport: 3333, dport: 53, proto: 17, payload: len };
  const { get } = featuresOf([
    u(0, false, 10),
    u(100_000, false, 10),
    u(200_000, false, 10),
    u(300_000, false, 10), // 4th packet within 1 s gaps: a bulk (40 bytes, 300 ms)
    u(400_000, false, 10), // continues it: 50 bytes, 5 packets, 400 ms
    u(6_400_000, false, 10), // 6 s gap: idle period, new bulk candidate
    u(6_500_000, true, 20),
  ]);
  assert.equal(get('Fwd Bytes/Bulk Avg'), 50);
  assert.equal(get('Fwd Packet/Bulk Avg'), 5);
  assert.equal(get('Fwd Bulk Rate Avg'), 125); // 50 bytes / 0.4 s
  assert.equal(get('Bwd Bytes/Bulk Avg'), 0);
  assert.equal(get('Active Mean'), 400_000);
  assert.equal(get('Active Std'), 0);
  assert.equal(get('Idle Mean'), 6_000_000);
  assert.equal(get('Idle Min'), 6_000_000);
  assert.equal(get('Fwd Header Length'), 48);
  assert.equal(get('Bwd Header Length'), 8);
  assert.equal(get('Fwd Seg Size Min'), 8);
  assert.equal(get('FWD Init Win Bytes'), 0);
  assert.equal(get('Fwd Act Data Pkts'), 5); // the first packet is not counted (CICFlowMeter)
  assert.equal(get('Total TCP Flow Time'), 0);
  assert.equal(get('Protocol'), 17);
  assert.equal(get('Dst Port'), 53);
});

test('ICMP flows report type and code, and zero lengths as CICFlowMeter', () => {
  const { get } = featuresOf([
    { ts: T0, src: C, dst: SV, proto: 1, icmpType: 8, icmpCode: 0, payload: 56 },
    { ts: T0 + 18, src: SV, dst: C, proto: 1, icmpType: 0, icmpCode: 0, payload: 56 },
  ]);
  assert.equal(get('ICMP Type'), 8);
  assert.equal(get('ICMP Code'), 0);
  assert.equal(get('Total Length of Fwd Packet'), 0);
  assert.equal(get('Fwd Header Length'), 0);
  assert.equal(get('Flow IAT Mean'), 18);
  assert.equal(get('Src Distinct Dst Ports'), 0); // ICMP has no ports
  assert.equal(get('Src Distinct Dst Hosts'), 1);
});

test('Src Distinct Dst Ports/Hosts count what the client contacted before and with the flow', () => {
  const recs: FlowRecord[] = [];
  const table = new FlowTable({}, (r) => recs.push(r));
  const list: SynthPacket[] = [];
  for (let p = 1; p <= 200; p++)
    list.push({ ts: T0 + p, src: C, dst: `10.0.${p % 20}.1`, sport: 40000, dport: p, flags: SYN });
  const { pkts, dec } = synthBatch(list);
  table.process(pkts, dec);
  table.flush();
  assert.equal(recs.length, 200);
  const kp = FEATURE_NAMES.indexOf('Src Distinct Dst Ports');
  const kh = FEATURE_NAMES.indexOf('Src Distinct Dst Hosts');
  for (const r of recs) {
    // Counted at the flow's start (this flow included): the p-th probe has seen p ports and
    // min(p, 20) hosts, whatever came after it. Linear counting is within a few per cent.
    const p = r.dstPort;
    const ports = r.features![kp]!;
    const hosts = r.features![kh]!;
    assert.ok(Math.abs(ports - p) <= Math.max(1, 0.1 * p), `flow ${p}: ports ${ports}`);
    assert.ok(Math.abs(hosts - Math.min(p, 20)) <= 2, `flow ${p}: hosts ${hosts}`);
  }
});

/** Run `list` through a fresh table in batches of `size` packets; every record, slot left out. */
function recordsInBatches(list: readonly SynthPacket[], size: number, opts: FlowOptions): string[] {
  const out: string[] = [];
  const table = new FlowTable(opts, (r) => {
    const { slot: _slot, features, ...rest } = r;
    out.push(JSON.stringify({ ...rest, features: Array.from(features!) }));
  });
  for (let k = 0; k < list.length; k += size) {
    const { pkts, dec } = synthBatch(list.slice(k, k + size));
    table.process(pkts, dec);
  }
  table.flush();
  return out.sort();
}

test('flow records do not depend on batch boundaries (entropy pool, distinct counts, end reason)', () => {
  // A scanner, clients sending payload on more flows than the initial entropy pool holds, and
  // gaps longer than the UDP timeout, so flows end by the sweep, by lookup and at shutdown.
  let seed = 987654321;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const list: SynthPacket[] = [];
  let ts = T0;
  for (let k = 0; k < 3000; k++) {
    ts += rnd(50) === 0 ? 40_000_000 : rnd(3000);
    const r = rnd(3);
    if (r === 0) {
      list.push({ ts, src: C, dst: `10.0.${rnd(30)}.1`, sport: 40000, dport: 1 + rnd(2000), flags: SYN });
    } else {
      const host = rnd(40);
      const payload = new Uint8Array(1 + rnd(300));
      for (let b = 0; b < payload.length; b++) payload[b] = rnd(host + 2);
      const up = rnd(2) === 0;
      const cl = `172.16.0.${host}`;
      const sv = `10.9.0.${rnd(5)}`;
      const sport = 30000 + rnd(60);
      list.push(
        up
          ? { ts, src: cl, dst: sv, sport, dport: 53, proto: 17, payload }
          : { ts, src: sv, dst: cl, sport: 53, dport: sport, proto: 17, payload },
      );
    }
  }
  const opts: FlowOptions = { entropyPool: 2, timeouts: { udp: { new: 30, established: 30 } } };
  const whole = recordsInBatches(list, list.length, opts);
  assert.ok(whole.length > 500, `${whole.length} flows`);
  assert.ok(whole.some((l) => l.includes('"reason":"timeout"')));
  assert.ok(whole.some((l) => l.includes('"reason":"shutdown"')));
  // No direction went unmeasured although the pool started with two histograms.
  const kf = FEATURE_NAMES.indexOf('Payload Entropy Fwd');
  assert.ok(whole.every((l) => (JSON.parse(l) as { features: number[] }).features[kf]! >= 0));
  for (const size of [1, 7, 256, 1000])
    assert.deepEqual(recordsInBatches(list, size, opts), whole, `batches of ${size}`);
});

test('features can be turned off', () => {
  const recs: FlowRecord[] = [];
  const table = new FlowTable({ features: false }, (r) => recs.push(r));
  const { pkts, dec } = synthBatch([fwd(0, SYN, 1, 20)]);
  table.process(pkts, dec);
  table.flush();
  assert.equal(recs[0]!.features, null);
});
