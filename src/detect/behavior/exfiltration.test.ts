import { test } from 'node:test';
import assert from 'node:assert/strict';
import { synthBatch } from '../../flow/synth.js';
import { FlowTable } from '../../flow/table.js';
import type { SynthPacket } from '../../flow/synth.js';
import { parseIp } from '../../flow/key.js';
import { defaultBehaviorConfig } from './config.js';
import { homeMatcher } from './engine.js';
import { EXFILTRATION_NAME, MAX_PAIRS, PairTable, createExfiltration } from './exfiltration.js';
import type { BehaviorAlert, BehaviorDetector } from './types.js';

const S = 1_000_000;
const T0 = 1_700_000_000 * S;
const INSIDE = '10.77.0.22';
const OUTSIDE = '203.0.113.98';

function setup(
  params: Record<string, number> = {},
  groups: Record<string, string> = {},
): { det: BehaviorDetector; alerts: BehaviorAlert[] } {
  const cfg = defaultBehaviorConfig();
  Object.assign(cfg.params[EXFILTRATION_NAME]!, params);
  const alerts: BehaviorAlert[] = [];
  const isHome = homeMatcher(groups);
  const w = new Uint32Array(4);
  const det = createExfiltration({
    cfg,
    shards: 1,
    emit: (a) => alerts.push(a),
    isHome,
    isHomeIp: (ip) => isHome(parseIp(ip, w, 0), w, 0),
  });
  return { det, alerts };
}

/**
 * A bulk TCP transfer from `from` to `to`: `segs` full segments (1448 bytes of payload) at `gapUs`
 * apart, each acknowledged by a bare ACK (66-byte frame).
 */
function transfer(from: string, to: string, t0: number, segs: number, gapUs: number, dport = 8443): SynthPacket[] {
  const out: SynthPacket[] = [];
  const fromPort = dport === 8443 ? 40000 : dport;
  const toPort = dport === 8443 ? dport : 40000;
  for (let k = 0; k < segs; k++) {
    const ts = t0 + k * gapUs;
    out.push({ ts, src: from, dst: to, sport: fromPort, dport: toPort, flags: 0x18, payload: 1448 });
    out.push({ ts: ts + 100, src: to, dst: from, sport: toPort, dport: fromPort, flags: 0x10, hdrLen: 32 });
  }
  return out;
}

/** Frame bytes of a full segment as synthBatch builds it: Ethernet 14 + IPv4 20 + TCP 20 + 1448. */
const FRAME = 14 + 20 + 20 + 1448;

/** Feed packets in time order in batches of 256, as the pipeline does. */
function feed(det: BehaviorDetector, unsorted: SynthPacket[]): void {
  const list = unsorted.slice().sort((x, y) => x.ts - y.ts);
  for (let k = 0; k < list.length; k += 256) {
    const { pkts, dec } = synthBatch(list.slice(k, k + 256));
    det.packets!(pkts, dec);
    det.tick?.(pkts.tsUs[pkts.count - 1]!);
  }
}

test('a slow upload to an external host alerts while it runs, with volume and asymmetry', () => {
  const { det, alerts } = setup();
  // 60 kB/s for 50 s: 3 MB over one connection.
  const list = transfer(INSIDE, OUTSIDE, T0, 2070, 24_000);
  feed(det, list);
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.type, 'data_exfiltration');
  assert.equal(a.sid, 9200401);
  assert.equal(a.srcIp, INSIDE);
  assert.equal(a.dstIp, OUTSIDE);
  assert.equal(a.dstPort, 8443);
  assert.equal(a.proto, 6);
  assert.deepEqual(a.mitre, ['T1048', 'T1041']);
  // Raised once the window holds 1 MB (about 16 s in), not when the connection ends.
  const k = Math.ceil(1_000_000 / FRAME) - 1;
  assert.equal(a.tsUs, T0 + k * 24_000);
  assert.ok(a.tsUs < list[list.length - 1]!.ts);
  assert.ok(Number(a.evidence['bytes_out']![0]) >= 1_000_000);
  assert.ok(Number(a.evidence['ratio']![0]) > 20);
  assert.deepEqual(a.evidence['window_s'], [600]);
});

test('near misses: a download, a transfer between internal hosts, a symmetric exchange, a small upload', () => {
  const { det, alerts } = setup();
  // 9 MB download: the external host sends, the internal one acknowledges.
  feed(det, transfer(OUTSIDE, INSIDE, T0, 6000, 100, 80));
  // Backup to an internal file server and iperf between internal hosts.
  feed(det, transfer('10.55.0.21', '10.55.0.11', T0, 7000, 100));
  feed(det, transfer('10.77.0.22', '10.77.0.30', T0, 5000, 100));
  // Video call: as much in as out.
  feed(det, [
    ...transfer(INSIDE, '198.51.100.7', T0, 800, 1000),
    ...transfer('198.51.100.7', INSIDE, T0 + 50, 800, 1000),
  ]);
  // 500 kB upload.
  feed(det, transfer(INSIDE, '198.51.100.8', T0, 330, 1000));
  assert.equal(alerts.length, 0);
});

test('the window slides: 1 MB spread over an hour does not alert, the same in a minute does', () => {
  const { det, alerts } = setup();
  // 700 segments (about 1.06 MB) over 3500 s: about 180 kB per 10-minute window.
  feed(det, transfer(INSIDE, OUTSIDE, T0, 700, 5 * S));
  assert.equal(alerts.length, 0);
  feed(det, transfer(INSIDE, '198.51.100.9', T0 + 4000 * S, 700, 80_000));
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.dstIp, '198.51.100.9');
});

test('one alert per episode; after a quiet window a new transfer alerts again', () => {
  const { det, alerts } = setup();
  feed(det, transfer(INSIDE, OUTSIDE, T0, 3000, 1000));
  assert.equal(alerts.length, 1);
  feed(det, transfer(INSIDE, OUTSIDE, T0 + 700 * S, 3000, 1000));
  assert.equal(alerts.length, 2);
});

test('config override: min_bytes_out, min_ratio and HOME_NET', () => {
  const small = setup({ min_bytes_out: 100_000 });
  feed(small.det, transfer(INSIDE, '198.51.100.8', T0, 330, 1000));
  assert.equal(small.alerts.length, 1);
  const ratio = setup({ min_ratio: 100 });
  feed(ratio.det, transfer(INSIDE, OUTSIDE, T0, 2000, 1000));
  assert.equal(ratio.alerts.length, 0);
  // With HOME_NET set to the 10.55.0.0/24 office, the file server 10.77.0.30 is outside it.
  const home = setup({}, { HOME_NET: '[10.55.0.0/24]' });
  feed(home.det, transfer('10.55.0.21', '10.77.0.30', T0, 2000, 1000));
  assert.equal(home.alerts.length, 1);
});

test('IPv6 pairs are tracked like IPv4', () => {
  const { det, alerts } = setup({}, { HOME_NET: '[fd00::/8]' });
  feed(det, transfer('fd00::22', '2001:db8::98', T0, 1500, 1000));
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.srcIp, 'fd00::22');
  assert.equal(alerts[0]!.dstIp, '2001:db8::98');
  assert.equal(alerts[0]!.ipVer, 6);
});

test('pair table: find, insert, remove keep probe chains intact; the pool is capped', () => {
  const t = new PairTable(64);
  const a = new Uint32Array(4);
  const b = new Uint32Array(4);
  const ids: number[] = [];
  for (let k = 0; k < 64; k++) {
    a[0] = 0x0a000000 + k;
    b[0] = 0xcb007100;
    const h = PairTable.hashOf(4, a, 0, b, 0) & 0x7; // force collisions: 8 home positions
    ids.push(t.insert(h, 4, a, 0, b, 0));
  }
  assert.equal(t.size, 64);
  a[0] = 0x0a0000ff;
  assert.equal(t.insert(1, 4, a, 0, b, 0), -1);
  for (let k = 0; k < 64; k += 2) t.remove(ids[k]!);
  for (let k = 0; k < 64; k++) {
    a[0] = 0x0a000000 + k;
    const h = PairTable.hashOf(4, a, 0, b, 0) & 0x7;
    assert.equal(t.find(h, 4, a, 0, b, 0), k % 2 === 0 ? -1 : ids[k], `pair ${k}`);
  }
});

test('state is bounded: more pairs than the cap evicts idle ones and keeps detecting', () => {
  const { det, alerts } = setup();
  const list: SynthPacket[] = [];
  for (let k = 0; k < MAX_PAIRS + 5000; k++)
    list.push({
      ts: T0 + k * 10,
      src: INSIDE,
      dst: `198.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`,
      sport: 1,
      dport: 443,
      payload: 10,
    });
  feed(det, list);
  feed(det, transfer(INSIDE, OUTSIDE, T0 + 10 * S, 1000, 1000));
  assert.equal(alerts.length, 1);
});

test('with the flow table: the per-slot cache classifies each flow once and survives slot reuse', () => {
  const { det, alerts } = setup();
  // Short flow timeouts so slots are freed and reused by the next flows.
  const flows = new FlowTable(
    { features: false, communityId: false, timeouts: { tcp: { new: 1, established: 1, closed: 1 } } },
    () => {},
  );
  const run = (list: SynthPacket[]): void => {
    const sorted = list.slice().sort((x, y) => x.ts - y.ts);
    for (let k = 0; k < sorted.length; k += 256) {
      const { pkts, dec } = synthBatch(sorted.slice(k, k + 256));
      flows.process(pkts, dec);
      det.packets!(pkts, dec);
      det.tick?.(pkts.tsUs[pkts.count - 1]!);
    }
  };
  // An internal backup first; its slots are then reused by a download and an upload.
  run(transfer('10.55.0.21', '10.55.0.11', T0, 3000, 1000));
  run(transfer('198.51.100.44', INSIDE, T0 + 10 * S, 3000, 1000, 80));
  assert.equal(alerts.length, 0);
  run(transfer(INSIDE, OUTSIDE, T0 + 20 * S, 3000, 1000));
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.srcIp, INSIDE);
  // The transfer's own ACKs were counted as inbound.
  assert.ok(Number(alerts[0]!.evidence['bytes_in']![0]) > 0);
});
