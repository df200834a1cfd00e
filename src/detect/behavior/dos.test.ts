import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowTable } from '../../flow/table.js';
import { synthBatch } from '../../flow/synth.js';
import type { SynthPacket } from '../../flow/synth.js';
import { TCP_FLAG } from '../../decode/batch.js';
import type { HttpRecord } from '../../applayer/app-layer.js';
import { defaultBehaviorConfig } from './config.js';
import { createDos } from './dos.js';
import type { BehaviorAlert } from './types.js';

const T0 = 1_700_000_000_000_000;
const S = 1_000_000;
const { SYN, ACK, RST, PSH } = TCP_FLAG;
const ATT = '10.0.0.66';
const VIC = '10.0.0.10';

/** Flow table + detector, fed like the pipeline does (decode -> flows -> behaviour -> tick). */
function harness(params: Record<string, number> = {}, shards = 1) {
  const cfg = defaultBehaviorConfig();
  Object.assign(cfg.params['dos']!, params);
  const alerts: BehaviorAlert[] = [];
  const det = createDos({ cfg, shards, emit: (a) => alerts.push(a), isHome: () => true, isHomeIp: () => true });
  const flows = new FlowTable({ maxFlows: 65536, features: false, communityId: false }, (rec) => det.flowEnd!(rec));
  let last = T0;
  const feed = (list: SynthPacket[]): void => {
    list.sort((a, b) => a.ts - b.ts);
    for (let o = 0; o < list.length; o += 1024) {
      const chunk = list.slice(o, o + 1024);
      const { pkts, dec } = synthBatch(chunk);
      flows.process(pkts, dec);
      det.packets!(pkts, dec);
      last = chunk[chunk.length - 1]!.ts;
      det.tick!(last);
    }
  };
  const end = (): void => {
    flows.flush();
    det.finish!(last);
  };
  return { alerts, feed, end, det };
}

function tcp(
  ts: number,
  src: string,
  dst: string,
  sport: number,
  dport: number,
  flags: number,
  payload?: Uint8Array | number,
): SynthPacket {
  return { ts, src, dst, sport, dport, proto: 6, flags, payload };
}

const text = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** hping3-style SYN flood: a new source port per SYN; the target answers SYN-ACK, the source's kernel RST. */
function synFlood(
  list: SynthPacket[],
  t0: number,
  perS: number,
  seconds: number,
  opts: { spoof?: boolean; complete?: boolean } = {},
): void {
  const n = perS * seconds;
  for (let k = 0; k < n; k++) {
    const ts = t0 + Math.floor((k * S) / perS);
    const src = opts.spoof === true ? `10.${1 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}` : ATT;
    const sport = 1024 + (k % 60000);
    list.push(tcp(ts, src, VIC, sport, 80, SYN));
    list.push(tcp(ts + 50, VIC, src, 80, sport, SYN | ACK));
    if (opts.complete === true) list.push(tcp(ts + 100, src, VIC, sport, 80, ACK));
    else if (opts.spoof !== true) list.push(tcp(ts + 100, src, VIC, sport, 80, RST));
  }
}

function ev(a: BehaviorAlert, k: string): ReadonlyArray<string | number> {
  return a.evidence[k] ?? [];
}

test('SYN flood: many SYNs to one service, none completed; one alert with rate and half-open ratio', () => {
  const h = harness();
  const list: SynthPacket[] = [];
  synFlood(list, T0, 1000, 3);
  h.feed(list);
  h.end();
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0]!;
  assert.equal(a.type, 'dos');
  assert.equal(a.severity, 'high');
  assert.equal(a.sid, 9200201);
  assert.ok(a.mitre.includes('T1498.001'));
  assert.equal(a.srcIp, ATT);
  assert.equal(a.dstIp, VIC);
  assert.equal(a.dstPort, 80);
  assert.equal(ev(a, 'half_open_ratio')[0], 1);
  assert.equal(ev(a, 'distinct_sources')[0], 1);
  assert.ok(Number(ev(a, 'syn_per_s')[0]) >= 100);
  // Raised as soon as the window holds 100/s x 5 s SYNs: half a second in.
  assert.ok(a.tsUs > T0 + 0.45 * S && a.tsUs < T0 + 0.55 * S, String(a.tsUs - T0));
});

test('SYN flood from spoofed random sources', () => {
  const h = harness();
  const list: SynthPacket[] = [];
  synFlood(list, T0, 1000, 2, { spoof: true });
  h.feed(list);
  h.end();
  assert.equal(h.alerts.length, 1);
  assert.ok(Number(ev(h.alerts[0]!, 'distinct_sources')[0]) > 300);
});

test('SYN near misses: a busy server that completes handshakes, a browser burst, a SYN port scan, a slow rate', () => {
  const h = harness();
  const list: SynthPacket[] = [];
  synFlood(list, T0, 600, 5, { complete: true });
  for (let k = 0; k < 30; k++) list.push(tcp(T0 + 10 * S + k, '10.0.0.20', VIC, 50000 + k, 443, SYN));
  // nmap -sS of 1000 ports in 0.2 s: many SYNs, each to another port.
  for (let p = 1; p <= 1000; p++) list.push(tcp(T0 + 20 * S + p * 200, ATT, '10.0.0.11', 51603, p, SYN));
  // 90 half-open SYNs per second for 20 s: under 100/s.
  for (let k = 0; k < 1800; k++)
    list.push(tcp(T0 + 30 * S + Math.floor((k * S) / 90), ATT, '10.0.0.12', 2000 + k, 80, SYN));
  h.feed(list);
  h.end();
  assert.deepEqual(h.alerts, []);
});

test('episodes: a continuing flood alerts once, a new flood after the cool-down alerts again', () => {
  const h = harness();
  const list: SynthPacket[] = [];
  synFlood(list, T0, 500, 20);
  synFlood(list, T0 + 40 * S, 500, 3); // 20 s after the first ended: same episode (cool-down 60 s)
  synFlood(list, T0 + 150 * S, 500, 3);
  h.feed(list);
  h.end();
  assert.equal(h.alerts.length, 2);
  assert.ok(h.alerts[1]!.tsUs > T0 + 150 * S);
});

test('UDP flood: one-way packets to one host; replies, a lower rate and DNS lookups are not', () => {
  const h = harness();
  const list: SynthPacket[] = [];
  // 3000 pps for 4 s: 12,000 packets, above 2000/s averaged over the 5 s window.
  for (let k = 0; k < 12000; k++) {
    list.push({
      ts: T0 + Math.floor(k * (S / 3000)),
      src: ATT,
      dst: VIC,
      sport: 1024 + (k % 50000),
      dport: 53,
      proto: 17,
      payload: 120,
    });
  }
  // 3000 pps both ways for 4 s (a busy media or game server).
  for (let k = 0; k < 12000; k++) {
    const ts = T0 + 30 * S + Math.floor(k * (S / 3000));
    list.push({ ts, src: '10.0.0.20', dst: '10.0.0.11', sport: 40000, dport: 5004, proto: 17, payload: 160 });
    list.push({ ts: ts + 10, src: '10.0.0.11', dst: '10.0.0.20', sport: 5004, dport: 40000, proto: 17, payload: 160 });
  }
  // 1500 pps one-way for 4 s: under 2000/s.
  for (let k = 0; k < 6000; k++) {
    list.push({
      ts: T0 + 50 * S + Math.floor(k * (S / 1500)),
      src: ATT,
      dst: '10.0.0.12',
      sport: 999,
      dport: 7,
      proto: 17,
      payload: 64,
    });
  }
  for (let k = 0; k < 120; k++) {
    list.push({
      ts: T0 + k * 500_000,
      src: '10.0.0.21',
      dst: '10.0.0.53',
      sport: 30000 + k,
      dport: 53,
      proto: 17,
      payload: 40,
    });
  }
  h.feed(list);
  h.end();
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0]!;
  assert.equal(a.sid, 9200202);
  assert.equal(a.dstIp, VIC);
  assert.equal(a.dstPort, 53);
  assert.equal(a.proto, 17);
  assert.equal(ev(a, 'reply_ratio')[0], 0);
  assert.ok(Number(ev(a, 'packets_per_s')[0]) >= 2000);
});

test('per-destination thresholds are divided by shards', () => {
  const run = (shards: number): number => {
    const h = harness({}, shards);
    const list: SynthPacket[] = [];
    for (let k = 0; k < 6000; k++) {
      list.push({
        ts: T0 + Math.floor(k * (S / 1500)),
        src: ATT,
        dst: VIC,
        sport: 999,
        dport: 7,
        proto: 17,
        payload: 64,
      });
    }
    h.feed(list);
    h.end();
    return h.alerts.length;
  };
  assert.equal(run(1), 0);
  assert.equal(run(2), 1);
});

test('ICMP flood; 20 pings and a burst of ICMP errors are not', () => {
  const h = harness();
  const list: SynthPacket[] = [];
  for (let k = 0; k < 1500; k++)
    list.push({ ts: T0 + Math.floor(k * (S / 500)), src: ATT, dst: VIC, proto: 1, icmpType: 8, payload: 56 });
  for (let k = 0; k < 20; k++) {
    list.push({ ts: T0 + k * S, src: '10.0.0.22', dst: '10.0.0.1', proto: 1, icmpType: 8, payload: 56 });
    list.push({ ts: T0 + k * S + 300, src: '10.0.0.1', dst: '10.0.0.22', proto: 1, icmpType: 0, payload: 56 });
  }
  for (let k = 0; k < 3000; k++) {
    list.push({
      ts: T0 + 10 * S + Math.floor(k * (S / 1000)),
      src: VIC,
      dst: '10.0.0.23',
      proto: 1,
      icmpType: 3,
      icmpCode: 3,
      payload: 28,
    });
  }
  h.feed(list);
  h.end();
  assert.equal(h.alerts.length, 1);
  assert.equal(h.alerts[0]!.sid, 9200203);
  assert.equal(h.alerts[0]!.proto, 1);
  assert.equal(h.alerts[0]!.srcIp, ATT);
});

function httpRec(ts: number, src: string, dst = VIC): HttpRecord {
  return {
    kind: 'http',
    slot: 0,
    tsUs: ts,
    flow: { flowId: 1, srcIp: src, dstIp: dst, srcPort: 50000, dstPort: 80, proto: 6 },
    tx: {} as HttpRecord['tx'],
  };
}

test('HTTP flood: request rate per client and server; refreshes, page loads and a busy client are not', () => {
  const h = harness();
  for (let k = 0; k < 1000; k++) h.det.app!(httpRec(T0 + k * 5000, ATT)); // 200 req/s
  // A user refreshing every 3 s for a minute.
  for (let k = 0; k < 20; k++) h.det.app!(httpRec(T0 + k * 3 * S, '10.0.0.20'));
  // A page with 30 assets loaded every 20 s.
  for (let p = 0; p < 5; p++)
    for (let k = 0; k < 31; k++) h.det.app!(httpRec(T0 + p * 20 * S + k * 30_000, '10.0.0.21'));
  // An API client at 25 requests/s for 30 s (under 30/s).
  for (let k = 0; k < 750; k++) h.det.app!(httpRec(T0 + k * 40_000, '10.0.0.22'));
  h.det.finish!(T0 + 60 * S);
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0]!;
  assert.equal(a.sid, 9200204);
  assert.deepEqual(a.mitre, ['T1499.002']);
  assert.equal(a.srcIp, ATT);
  assert.equal(ev(a, 'requests')[0], 300);
  assert.equal(ev(a, 'window_s')[0], 10);
});

/**
 * `conns` connections from `src` to VIC:80 opened 50 ms apart; each sends `first`, then `more`
 * every `every` seconds until `until` seconds; the server answers after `answerS` (never if 0).
 */
function slowConns(
  list: SynthPacket[],
  src: string,
  conns: number,
  first: string,
  more: string,
  every: number,
  until: number,
  answerS = 0,
): void {
  for (let c = 0; c < conns; c++) {
    const t = T0 + c * 50_000;
    const sp = 40000 + c;
    list.push(tcp(t, src, VIC, sp, 80, SYN));
    list.push(tcp(t + 100, VIC, src, 80, sp, SYN | ACK));
    list.push(tcp(t + 200, src, VIC, sp, 80, ACK));
    list.push(tcp(t + 300, src, VIC, sp, 80, PSH | ACK, text(first)));
    for (let s = every; more !== '' && s <= until; s += every)
      list.push(tcp(t + s * S, src, VIC, sp, 80, PSH | ACK, text(more)));
    if (answerS > 0) list.push(tcp(t + answerS * S, VIC, src, 80, sp, PSH | ACK, 200));
  }
  // Another client's packets keep packet time moving.
  for (let s = 0; s <= until + 2; s++)
    list.push({
      ts: T0 + s * S + 7,
      src: '10.0.0.40',
      dst: '10.0.0.53',
      sport: 5353,
      dport: 53,
      proto: 17,
      payload: 30,
    });
}

test('slowloris: many concurrent requests whose headers never complete', () => {
  const h = harness();
  const list: SynthPacket[] = [];
  slowConns(list, ATT, 50, 'GET /?1 HTTP/1.1\r\nHost: v\r\n', 'X-a: b\r\n', 8, 30);
  h.feed(list);
  h.end();
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0]!;
  assert.equal(a.sid, 9200205);
  assert.deepEqual(a.mitre, ['T1499.002']);
  assert.equal(a.srcIp, ATT);
  assert.equal(a.dstPort, 80);
  assert.ok(Number(ev(a, 'concurrent_stalled_requests')[0]) >= 20);
  assert.ok(a.tsUs >= T0 + 10 * S && a.tsUs < T0 + 13 * S, String(a.tsUs - T0));
});

test('slow POST: a complete header and a body that trickles in', () => {
  const h = harness();
  const list: SynthPacket[] = [];
  slowConns(list, ATT, 30, 'POST /c HTTP/1.1\r\nHost: v\r\nContent-Length: 4096\r\n\r\n', 'aaaaaaaaaa', 5, 30);
  h.feed(list);
  h.end();
  assert.equal(h.alerts.length, 1);
  assert.equal(h.alerts[0]!.sid, 9200205);
});

test('slow HTTP near misses: long polls, 15 stalled requests, a Redis client blocking, answered requests', () => {
  const run = (fill: (l: SynthPacket[]) => void): BehaviorAlert[] => {
    const h = harness();
    const list: SynthPacket[] = [];
    fill(list);
    h.feed(list);
    h.end();
    return h.alerts;
  };
  assert.deepEqual(
    run((l) => slowConns(l, ATT, 50, 'GET /poll HTTP/1.1\r\nHost: v\r\n\r\n', '', 0, 40, 30)),
    [],
  );
  assert.deepEqual(
    run((l) => slowConns(l, ATT, 15, 'GET / HTTP/1.1\r\nHost: v\r\n', 'X-a: b\r\n', 8, 30)),
    [],
  );
  assert.deepEqual(
    run((l) => slowConns(l, ATT, 50, '*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$2\r\n30\r\n', '', 0, 40, 30)),
    [],
  );
  // A browser's 30 parallel requests, answered at once.
  assert.deepEqual(
    run((l) => slowConns(l, '10.0.0.20', 30, 'GET /a.css HTTP/1.1\r\nHost: v\r\n\r\n', '', 0, 20, 0.01)),
    [],
  );
});

test('thresholds come from ctx.cfg.params', () => {
  const syn = harness({ syn_rate: 2000 });
  const l1: SynthPacket[] = [];
  synFlood(l1, T0, 1000, 3);
  syn.feed(l1);
  syn.end();
  assert.deepEqual(syn.alerts, []);
  const slow = harness({ slow_conns: 60 });
  const l2: SynthPacket[] = [];
  slowConns(l2, ATT, 50, 'GET / HTTP/1.1\r\n', 'X-a: b\r\n', 8, 30);
  slow.feed(l2);
  slow.end();
  assert.deepEqual(slow.alerts, []);
  const http = harness({ http_rps: 5 });
  for (let k = 0; k < 60; k++) http.det.app!(httpRec(T0 + k * 100_000, ATT));
  assert.equal(http.alerts.length, 1);
});
