import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowTable } from '../../flow/table.js';
import type { FlowRecord } from '../../flow/table.js';
import { synthBatch } from '../../flow/synth.js';
import type { SynthPacket } from '../../flow/synth.js';
import { TCP_FLAG } from '../../decode/batch.js';
import { defaultBehaviorConfig } from './config.js';
import { KeyTable, createPortScan } from './port-scan.js';
import type { BehaviorAlert } from './types.js';

const T0 = 1_700_000_000_000_000;
const S = 1_000_000;
const { SYN, ACK, RST, FIN, PSH, URG } = TCP_FLAG;
const ATT = '10.0.0.66';
const VIC = '10.0.0.10';

/** A synthetic packet; `os` marks an operating-system SYN (SACK-permitted option present). */
type Pkt = SynthPacket & { os?: boolean };

/** Flow table + detector, fed like the pipeline does (decode -> flows -> behaviour -> tick). */
function harness(params: Record<string, number> = {}, shards = 1) {
  const cfg = defaultBehaviorConfig();
  Object.assign(cfg.params['portscan']!, params);
  const alerts: BehaviorAlert[] = [];
  const det = createPortScan({ cfg, shards, emit: (a) => alerts.push(a), isHome: () => true, isHomeIp: () => true });
  const flows = new FlowTable({ maxFlows: 65536, features: false, communityId: false }, (rec) => det.flowEnd!(rec));
  let last = T0;
  const feed = (list: Pkt[]): void => {
    list.sort((a, b) => a.ts - b.ts);
    for (let o = 0; o < list.length; o += 256) {
      const chunk = list.slice(o, o + 256);
      const { pkts, dec } = synthBatch(chunk);
      for (let i = 0; i < chunk.length; i++) {
        const p = chunk[i]!;
        if (p.os === true) {
          dec.tcpSackOk[i] = 1;
          dec.tcpWscale[i] = 7;
        }
        // ICMP errors: the quoted header is the payload.
        if ((p.proto === 1 || p.proto === 58) && p.icmpType !== 0 && p.icmpType !== 8)
          dec.icmpInnerOff[i] = dec.payOff[i]!;
      }
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
  extra: Partial<Pkt> = {},
): Pkt {
  return { ts, src, dst, sport, dport, proto: 6, flags, ...extra };
}

/** A probe of `port` and the target's answer: 'closed' (RST), 'open' (SYN-ACK, then scanner RST), 'silent'. */
function synProbe(
  list: Pkt[],
  ts: number,
  port: number,
  answer: 'closed' | 'open' | 'silent',
  os = false,
  src = ATT,
  dst = VIC,
): void {
  const sport = os ? 40000 + (port % 20000) : 51603;
  list.push(tcp(ts, src, dst, sport, port, SYN, { os }));
  if (answer === 'closed') list.push(tcp(ts + 100, dst, src, port, sport, RST | ACK));
  if (answer === 'open') {
    list.push(tcp(ts + 100, dst, src, port, sport, SYN | ACK));
    if (os) list.push(tcp(ts + 200, src, dst, sport, port, ACK));
    list.push(tcp(ts + 300, src, dst, sport, port, RST | (os ? ACK : 0)));
  }
}

/** A complete client connection with a request and a response (a normal exchange). */
function session(list: Pkt[], ts: number, src: string, dst: string, sport: number, dport: number): void {
  list.push(tcp(ts, src, dst, sport, dport, SYN, { os: true }));
  list.push(tcp(ts + 100, dst, src, dport, sport, SYN | ACK));
  list.push(tcp(ts + 200, src, dst, sport, dport, ACK));
  list.push(tcp(ts + 300, src, dst, sport, dport, PSH | ACK, { payload: 300 }));
  list.push(tcp(ts + 400, dst, src, dport, sport, PSH | ACK, { payload: 1200 }));
  list.push(tcp(ts + 500, src, dst, sport, dport, FIN | ACK));
  list.push(tcp(ts + 600, dst, src, dport, sport, FIN | ACK));
  list.push(tcp(ts + 700, src, dst, sport, dport, ACK));
}

/** IPv4 header + 8 transport bytes as quoted in an ICMP error. */
function quoted(src: string, dst: string, proto: number, sport: number, dport: number): Uint8Array {
  const b = new Uint8Array(28);
  b[0] = 0x45; // version 4, IHL 5
  b[3] = 28; // total length
  b[8] = 64; // TTL
  b[9] = proto;
  const put = (o: number, ip: string): void => ip.split('.').forEach((x, k) => (b[o + k] = Number(x)));
  put(12, src);
  put(16, dst);
  b[20] = sport >> 8;
  b[21] = sport & 255;
  b[22] = dport >> 8;
  b[23] = dport & 255;
  return b;
}

function unreachable(ts: number, from: string, to: string, q: Uint8Array, type = 3, code = 3): Pkt {
  return { ts, src: from, dst: to, proto: 1, icmpType: type, icmpCode: code, payload: q };
}

function ev(a: BehaviorAlert, k: string): ReadonlyArray<string | number> {
  return a.evidence[k] ?? [];
}

test('SYN scan: one alert per episode with kind, counts, sample ports and failure ratio', () => {
  const h = harness();
  const list: Pkt[] = [];
  for (let p = 1; p <= 200; p++) synProbe(list, T0 + p * 1000, p, p === 22 || p === 80 ? 'open' : 'closed');
  h.feed(list);
  h.end();
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0]!;
  assert.equal(a.type, 'port_scan');
  assert.equal(a.sid, 9200101);
  assert.deepEqual(a.mitre, ['T1046']);
  assert.equal(a.srcIp, ATT);
  assert.equal(a.dstIp, VIC);
  assert.deepEqual(ev(a, 'scan_kind'), ['syn']);
  assert.equal(ev(a, 'distinct_failed_ports')[0], 5);
  assert.deepEqual(ev(a, 'sample_ports'), [1, 2, 3, 4, 5]);
  assert.equal(ev(a, 'failure_ratio')[0], 1);
  assert.equal(ev(a, 'window_s')[0], 60);
  assert.equal(a.tsUs, T0 + 5 * 1000 + 100); // the fifth refusal
});

test('near misses: four refused ports, a browser with 30 parallel connections, passive FTP data ports, retries', () => {
  const h = harness();
  const list: Pkt[] = [];
  for (let p = 1; p <= 4; p++) synProbe(list, T0 + p * S, 8000 + p, 'closed', true);
  for (let k = 0; k < 30; k++) session(list, T0 + 10 * S + k * 10, '10.0.0.20', VIC, 50000 + k, 80);
  // 40 FTP data connections to distinct server ports, each carrying data.
  for (let k = 0; k < 40; k++) session(list, T0 + 20 * S + k * 100_000, '10.0.0.21', VIC, 45000 + k, 30000 + k);
  // 20 passive-FTP data connections for empty listings: the server closes first, nothing sent.
  for (let k = 0; k < 20; k++) {
    const ts = T0 + 25 * S + k * 100_000;
    list.push(tcp(ts, '10.0.0.21', VIC, 46000 + k, 30100 + k, SYN, { os: true }));
    list.push(tcp(ts + 100, VIC, '10.0.0.21', 30100 + k, 46000 + k, SYN | ACK));
    list.push(tcp(ts + 200, '10.0.0.21', VIC, 46000 + k, 30100 + k, ACK));
    list.push(tcp(ts + 300, VIC, '10.0.0.21', 30100 + k, 46000 + k, FIN | ACK));
    list.push(tcp(ts + 400, '10.0.0.21', VIC, 46000 + k, 30100 + k, FIN | ACK));
  }
  // The same closed port refused over and over (a client retrying a down service).
  for (let k = 0; k < 50; k++) synProbe(list, T0 + 30 * S + k * S, 5432, 'closed', true, '10.0.0.22');
  h.feed(list);
  h.end();
  assert.deepEqual(h.alerts, []);
});

test('a different scan kind is a new episode; the same kind alerts again only after a quiet gap', () => {
  const h = harness();
  const list: Pkt[] = [];
  for (let p = 1; p <= 100; p++) synProbe(list, T0 + p * 1000, p, 'closed');
  // connect() scan right after: OS SYNs.
  for (let p = 1; p <= 100; p++) synProbe(list, T0 + 2 * S + p * 1000, p, p === 22 ? 'open' : 'closed', true);
  // Raw SYN probes again 30 s later (same episode) and 100 s later (after a 60 s quiet gap).
  for (let p = 200; p <= 220; p++) synProbe(list, T0 + 30 * S + p * 1000, p, 'closed');
  for (let p = 300; p <= 310; p++) synProbe(list, T0 + 130 * S + p * 1000, p, 'closed');
  h.feed(list);
  h.end();
  assert.deepEqual(
    h.alerts.map((a) => ev(a, 'scan_kind')[0]),
    ['syn', 'connect', 'syn'],
  );
  assert.equal(h.alerts[1]!.sid, 9200102);
  assert.ok(h.alerts[2]!.tsUs > T0 + 130 * S);
});

test('NULL, FIN and XMAS probes are their own kinds', () => {
  const h = harness();
  const list: Pkt[] = [];
  const kinds: Array<[number, number]> = [
    [0, 0],
    [FIN, 1],
    [FIN | PSH | URG, 2],
  ];
  for (const [flags, k] of kinds) {
    for (let p = 1; p <= 8; p++) {
      const ts = T0 + k * 10 * S + p * 1000;
      list.push(tcp(ts, ATT, VIC, 40000 + k, p, flags));
      if (p > 3) list.push(tcp(ts + 100, VIC, ATT, p, 40000 + k, RST | ACK));
    }
  }
  h.feed(list);
  h.end();
  assert.deepEqual(
    h.alerts.map((a) => [ev(a, 'scan_kind')[0], a.sid]),
    [
      ['null', 9200103],
      ['fin', 9200104],
      ['xmas', 9200105],
    ],
  );
});

test('UDP scan through ICMP port unreachables; answered DNS and a traceroute are no scan', () => {
  const h = harness();
  const list: Pkt[] = [];
  const ports = [53, 67, 69, 111, 123, 137, 161, 500];
  ports.forEach((p, k) => {
    const ts = T0 + k * 100_000;
    list.push({ ts, src: ATT, dst: VIC, sport: 61000, dport: p, proto: 17, payload: 8 });
    list.push(unreachable(ts + 50, VIC, ATT, quoted(ATT, VIC, 17, 61000, p)));
  });
  // A client asking a resolver 100 times (answered).
  for (let k = 0; k < 100; k++) {
    const ts = T0 + k * 500_000;
    list.push({ ts, src: '10.0.0.20', dst: '10.0.0.53', sport: 30000 + k, dport: 53, proto: 17, payload: 40 });
    list.push({
      ts: ts + 900,
      src: '10.0.0.53',
      dst: '10.0.0.20',
      sport: 53,
      dport: 30000 + k,
      proto: 17,
      payload: 80,
    });
  }
  // UDP traceroute to 8.8.8.8: 30 probes to rising ports, expired on the way, the last 3 refused.
  for (let k = 0; k < 30; k++) {
    const ts = T0 + 60 * S + k * 100_000;
    const port = 33434 + k;
    list.push({ ts, src: '10.0.0.23', dst: '8.8.8.8', sport: 45000, dport: port, proto: 17, payload: 32 });
    const q = quoted('10.0.0.23', '8.8.8.8', 17, 45000, port);
    if (k < 27) list.push(unreachable(ts + 50, `10.9.0.${1 + Math.floor(k / 3)}`, '10.0.0.23', q, 11, 0));
    else list.push(unreachable(ts + 50, '8.8.8.8', '10.0.0.23', q));
  }
  h.feed(list);
  h.end();
  assert.equal(h.alerts.length, 1, JSON.stringify(h.alerts.map((a) => [a.srcIp, a.msg])));
  const a = h.alerts[0]!;
  assert.equal(a.sid, 9200107);
  assert.equal(a.proto, 17);
  assert.deepEqual(ev(a, 'scan_kind'), ['udp']);
  assert.deepEqual(ev(a, 'sample_ports'), [53, 67, 69, 111, 123]);
});

test('ICMP errors that are not about the source are ignored (PMTU, third-party quotes)', () => {
  const h = harness();
  const list: Pkt[] = [];
  for (let p = 1; p <= 10; p++) {
    const ts = T0 + p * 1000;
    list.push({ ts, src: ATT, dst: VIC, sport: 61000, dport: p, proto: 17, payload: 8 });
    // Fragmentation needed (code 4) is path MTU discovery.
    list.push(unreachable(ts + 50, VIC, ATT, quoted(ATT, VIC, 17, 61000, p), 3, 4));
    // A port unreachable sent to someone other than the quoted sender.
    list.push(unreachable(ts + 60, VIC, '10.0.0.99', quoted(ATT, VIC, 17, 61000, p)));
    list.push({ ts: ts + 70, src: VIC, dst: ATT, sport: p, dport: 61000, proto: 17, payload: 8 });
  }
  h.feed(list);
  h.end();
  assert.deepEqual(h.alerts, []);
});

test('a scan of a filtered host (no answers) is seen when its probes time out', () => {
  const h = harness();
  const list: Pkt[] = [];
  for (let p = 1; p <= 20; p++) synProbe(list, T0 + p * 1000, p, 'silent');
  // A real client retrying a filtered port keeps sending SYNs (more than probe_max_pkts).
  for (let k = 0; k < 7; k++) list.push(tcp(T0 + k * 7 * S, '10.0.0.20', VIC, 50000, 8443, SYN, { os: true }));
  h.feed(list);
  assert.equal(h.alerts.length, 0); // nothing answered yet
  h.end();
  assert.equal(h.alerts.length, 1);
  assert.equal(h.alerts[0]!.srcIp, ATT);
  assert.deepEqual(ev(h.alerts[0]!, 'scan_kind'), ['syn']);
});

test('horizontal sweep of one port over many hosts; threshold divided by shards', () => {
  const sweep = (hosts: number, shards: number): BehaviorAlert[] => {
    const h = harness({}, shards);
    const list: Pkt[] = [];
    for (let k = 1; k <= hosts; k++)
      synProbe(list, T0 + k * 10_000, 445, k % 3 === 0 ? 'open' : 'closed', false, ATT, `10.1.0.${k}`);
    h.feed(list);
    h.end();
    return h.alerts;
  };
  const full = sweep(30, 1);
  assert.equal(full.length, 1);
  assert.equal(full[0]!.sid, 9200112);
  assert.equal(full[0]!.dstPort, 445);
  assert.deepEqual(ev(full[0]!, 'scan_scope'), ['horizontal']);
  assert.equal(ev(full[0]!, 'sample_hosts').length, 10);
  assert.equal(ev(full[0]!, 'hosts_threshold')[0], 25);
  assert.deepEqual(sweep(24, 1), []);
  // With 2 shards each sees about half of a sweep, so 13 hosts suffice per shard.
  assert.equal(sweep(13, 2).length, 1);
  assert.deepEqual(sweep(12, 2), []);
});

test('ping sweep: unanswered echo requests to many hosts; 20 answered pings are not', () => {
  const h = harness();
  const list: Pkt[] = [];
  for (let k = 1; k <= 40; k++)
    list.push({ ts: T0 + k * 10_000, src: ATT, dst: `10.2.0.${k}`, proto: 1, icmpType: 8, payload: 56 });
  for (let k = 0; k < 20; k++) {
    list.push({ ts: T0 + k * S, src: '10.0.0.22', dst: '10.0.0.1', proto: 1, icmpType: 8, payload: 56 });
    list.push({ ts: T0 + k * S + 300, src: '10.0.0.1', dst: '10.0.0.22', proto: 1, icmpType: 0, payload: 56 });
  }
  h.feed(list);
  h.end();
  assert.equal(h.alerts.length, 1);
  assert.equal(h.alerts[0]!.sid, 9200113);
  assert.deepEqual(h.alerts[0]!.mitre, ['T1018']);
});

test('slow scan: few ports per minute over many minutes', () => {
  const run = (ports: number): BehaviorAlert[] => {
    const h = harness();
    const list: Pkt[] = [];
    // One refused port every 20 s: 3 per 60 s window, under the vertical threshold.
    for (let k = 0; k < ports; k++) synProbe(list, T0 + k * 20 * S, 1000 + k, 'closed');
    h.feed(list);
    h.end();
    return h.alerts;
  };
  const a = run(12);
  assert.equal(a.length, 1);
  assert.equal(a[0]!.sid, 9200111);
  assert.deepEqual(ev(a[0]!, 'scan_scope'), ['slow']);
  assert.equal(ev(a[0]!, 'window_s')[0], 600);
  assert.deepEqual(run(9), []);
});

function svcFlow(k: number, appProto: string, opts: { src?: string; port?: number } = {}): FlowRecord {
  const ts = T0 + k * 5 * S;
  return {
    flowId: k + 1,
    ipVer: 4,
    srcIp: opts.src ?? ATT,
    dstIp: VIC,
    srcPort: 40000 + k,
    dstPort: opts.port ?? 80,
    proto: 6,
    vlan: [],
    startUs: ts,
    endUs: ts + 5 * S,
    pktsToServer: 5,
    pktsToClient: 4,
    bytesToServer: 400,
    bytesToClient: 600,
    state: 'closed',
    tcp: { flags: 0x1b, flagsTs: 0x1b, flagsTc: 0x1b, state: 'closed' },
    reason: 'timeout',
    communityId: '',
    slot: 1000 + k,
    appProto,
    alerted: false,
    features: null,
  };
}

test('service probing: one port answering as many protocols; consistent protocols are not', () => {
  const h = harness();
  const protos = ['http', 'failed', 'http', 'tls', 'failed', 'dns', 'http', 'failed', 'ftp', 'failed', 'http'];
  protos.forEach((p, k) => h.det.flowEnd!(svcFlow(k, p)));
  // A client of a database Vigil has no parser for: every connection "failed", consistently.
  for (let k = 0; k < 50; k++) h.det.flowEnd!(svcFlow(k, 'failed', { src: '10.0.0.30', port: 3306 }));
  // A browser: all HTTP.
  for (let k = 0; k < 50; k++) h.det.flowEnd!(svcFlow(k, 'http', { src: '10.0.0.31' }));
  // Four odd connections among many HTTP ones (under the threshold).
  for (let k = 0; k < 40; k++) h.det.flowEnd!(svcFlow(k, k % 10 === 0 ? 'failed' : 'http', { src: '10.0.0.32' }));
  h.det.finish!(T0);
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0]!;
  assert.equal(a.sid, 9200109);
  assert.equal(a.type, 'port_scan');
  assert.equal(a.srcIp, ATT);
  assert.deepEqual(ev(a, 'scan_kind'), ['version']);
  // Raised by the eighth connection, the fifth that does not speak the port's main protocol.
  assert.equal(ev(a, 'connections')[0], 8);
  assert.equal(ev(a, 'mismatched_connections')[0], 5);
  assert.deepEqual(ev(a, 'app_protocols'), ['http:3', 'failed:3', 'tls:1', 'dns:1']);
});

test('thresholds come from ctx.cfg.params', () => {
  const run = (params: Record<string, number>, ports: number): number => {
    const h = harness(params);
    const list: Pkt[] = [];
    for (let p = 1; p <= ports; p++) synProbe(list, T0 + p * 1000, p, 'closed');
    h.feed(list);
    h.end();
    return h.alerts.length;
  };
  assert.equal(run({}, 6), 1);
  assert.equal(run({ vertical_failed_ports: 10, slow_ports: 100 }, 6), 0);
  assert.equal(run({ vertical_failed_ports: 10, slow_ports: 100 }, 10), 1);
});

test('KeyTable: lookups, backward-shift deletion and eviction stay consistent with a Map', () => {
  const t = new KeyTable(64, 2);
  const ref = new Map<string, number>();
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let step = 0; step < 20000; step++) {
    const a = rnd(100);
    const b = rnd(3);
    t.key[0] = a;
    t.key[1] = b;
    const name = `${a}/${b}`;
    const op = rnd(3);
    if (op === 0) {
      const e = t.get(step);
      if (ref.has(name)) assert.equal(e, ref.get(name));
      else {
        assert.equal(t.created, true);
        // An eviction may have dropped another key.
        for (const [k, v] of ref) if (v === e || !t.live(v)) ref.delete(k);
        ref.set(name, e);
      }
    } else if (op === 1) {
      assert.equal(t.find(), ref.get(name) ?? -1);
    } else {
      const e = t.find();
      if (e >= 0) {
        t.remove(e);
        ref.delete(name);
      }
    }
    assert.ok(t.size <= 64);
    assert.equal(t.size, ref.size);
  }
  assert.ok(t.evicted > 0);
});
