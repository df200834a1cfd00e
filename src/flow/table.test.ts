import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER, TCP_FLAG } from '../decode/batch.js';
import { communityIdFromStrings } from './key.js';
import { synthBatch } from './synth.js';
import type { SynthPacket } from './synth.js';
import { FEATURE_NAMES } from './features.js';
import { FlowTable } from './table.js';
import type { FlowOptions, FlowRecord } from './table.js';

const T0 = 1_700_000_000_000_000; // packet time base, microseconds
const S = 1_000_000; // one second in microseconds
const { SYN, ACK, FIN, RST, PSH } = TCP_FLAG;

function setup(opts: FlowOptions = {}): {
  table: FlowTable;
  recs: FlowRecord[];
  run: (list: SynthPacket[]) => ReturnType<typeof synthBatch>;
} {
  const recs: FlowRecord[] = [];
  const table = new FlowTable(opts, (r) => recs.push(r));
  const run = (list: SynthPacket[]): ReturnType<typeof synthBatch> => {
    const b = synthBatch(list);
    table.process(b.pkts, b.dec);
    return b;
  };
  return { table, recs, run };
}

const C = '192.168.1.10';
const SV = '10.0.0.80';
const toS = (ts: number, flags: number, payload = 0): SynthPacket => ({
  ts,
  src: C,
  dst: SV,
  sport: 40000,
  dport: 80,
  flags,
  payload,
});
const toC = (ts: number, flags: number, payload = 0): SynthPacket => ({
  ts,
  src: SV,
  dst: C,
  sport: 80,
  dport: 40000,
  flags,
  payload,
});

test('both directions of a TCP connection share one flow; the SYN sender is the client', () => {
  const { table, recs, run } = setup();
  const { dec } = run([
    toS(T0, SYN),
    toC(T0 + 1000, SYN | ACK),
    toS(T0 + 2000, ACK),
    toS(T0 + 3000, PSH | ACK, 100),
    toC(T0 + 4000, ACK, 1000),
  ]);
  assert.deepEqual([...dec.flowSlot], [0, 0, 0, 0, 0]);
  assert.deepEqual([...dec.flowDir], [0, 1, 0, 0, 1]);
  assert.equal(table.activeFlows, 1);
  assert.equal(table.totalFlows, 1);
  table.flush();
  assert.equal(recs.length, 1);
  const r = recs[0]!;
  assert.equal(r.srcIp, C);
  assert.equal(r.dstIp, SV);
  assert.equal(r.srcPort, 40000);
  assert.equal(r.dstPort, 80);
  assert.equal(r.proto, 6);
  assert.equal(r.pktsToServer, 3);
  assert.equal(r.pktsToClient, 2);
  // Frame bytes: 14 Ethernet + 20 IPv4 + 20 TCP + payload.
  assert.equal(r.bytesToServer, 54 * 3 + 100);
  assert.equal(r.bytesToClient, 54 * 2 + 1000);
  assert.equal(r.startUs, T0);
  assert.equal(r.endUs, T0 + 4000);
  assert.equal(r.state, 'established');
  assert.deepEqual(r.tcp, {
    flags: SYN | ACK | PSH,
    flagsTs: SYN | ACK | PSH,
    flagsTc: SYN | ACK,
    state: 'established',
  });
  assert.equal(r.reason, 'shutdown');
  assert.equal(r.communityId, communityIdFromStrings(C, SV, 6, 40000, 80));
  assert.equal(r.alerted, false);
  assert.ok(r.flowId > 0 && Number.isSafeInteger(r.flowId));
  assert.deepEqual(r.vlan, []);
  assert.equal(table.activeFlows, 0);
});

test('a SYN-ACK seen first makes its sender the server (midstream pick-up)', () => {
  const { table, recs, run } = setup();
  const { dec } = run([toC(T0, SYN | ACK), toS(T0 + 10, ACK)]);
  assert.deepEqual([...dec.flowDir], [1, 0]);
  table.flush();
  assert.equal(recs[0]!.srcIp, C);
  assert.equal(recs[0]!.dstPort, 80);
  assert.equal(recs[0]!.pktsToClient, 1);
});

test('other first packets make their sender the client, even from a well-known port', () => {
  const { table, recs, run } = setup();
  run([{ ts: T0, src: SV, dst: C, sport: 53, dport: 5353, proto: 17 }]);
  table.flush();
  assert.equal(recs[0]!.srcIp, SV);
  assert.equal(recs[0]!.srcPort, 53);
});

test('non-IP packets and unreassembled fragments are not flow packets', () => {
  const { table, run } = setup();
  const b = synthBatch([
    { ts: T0, src: C, dst: SV, sport: 1, dport: 2, proto: 17 },
    { ts: T0, src: C, dst: SV, proto: 17, layers: LAYER.FRAGMENT },
    { ts: T0, src: C, dst: SV, sport: 1, dport: 2, proto: 17, layers: LAYER.FRAGMENT | LAYER.REASSEMBLED },
    { ts: T0, src: C, dst: SV, sport: 1, dport: 2, proto: 17 },
  ]);
  b.dec.ipVer[3] = 0; // e.g. ARP
  table.process(b.pkts, b.dec);
  assert.deepEqual([...b.dec.flowSlot], [0, -1, 0, -1]);
  assert.equal(table.stats()['not_flow_packets'], 2);
  void run;
});

test('VLAN ids and IP version separate flows; records report them', () => {
  const { table, recs, run } = setup();
  const { dec } = run([
    { ts: T0, src: C, dst: SV, sport: 1, dport: 2, proto: 17 },
    { ts: T0, src: C, dst: SV, sport: 1, dport: 2, proto: 17, vlan: 100 },
    { ts: T0, src: C, dst: SV, sport: 1, dport: 2, proto: 17, vlan: (100 << 12) | 200 },
    { ts: T0, src: '2001:db8::1', dst: '2001:db8:0:0:1::2', sport: 1, dport: 2, proto: 17 },
    { ts: T0, src: '2001:db8:0:0:1::2', dst: '2001:db8::1', sport: 2, dport: 1, proto: 17 },
  ]);
  assert.deepEqual([...dec.flowSlot], [0, 1, 2, 3, 3]);
  table.flush();
  assert.deepEqual(
    recs.map((r) => r.vlan),
    [[], [100], [100, 200], []],
  );
  const v6 = recs[3]!;
  assert.equal(v6.ipVer, 6);
  assert.equal(v6.srcIp, '2001:db8::1');
  assert.equal(v6.dstIp, '2001:db8::1:0:0:2');
  assert.equal(v6.state, 'established');
});

test('ICMP echo request and reply form one flow keyed by addresses', () => {
  const { table, recs, run } = setup();
  run([
    { ts: T0, src: C, dst: SV, proto: 1, icmpType: 8, hdrLen: 8, payload: 56 },
    { ts: T0 + 500, src: SV, dst: C, proto: 1, icmpType: 0, hdrLen: 8, payload: 56 },
  ]);
  table.flush();
  assert.equal(recs.length, 1);
  const r = recs[0]!;
  assert.equal(r.icmpType, 8);
  assert.equal(r.icmpCode, 0);
  assert.equal(r.responseIcmpType, 0);
  assert.equal(r.srcPort, 0);
  assert.equal(r.communityId, communityIdFromStrings(C, SV, 1, 8, 0));
});

test('a closed TCP flow ends after the closed timeout, by packet time', () => {
  const { table, recs, run } = setup();
  run([
    toS(T0, SYN),
    toC(T0 + 10, SYN | ACK),
    toS(T0 + 20, ACK),
    toS(T0 + 30, FIN | ACK),
    toC(T0 + 40, FIN | ACK),
    toS(T0 + 50, ACK),
  ]);
  // Another flow's packet 59 s later: still inside tcp closed timeout (60 s).
  run([{ ts: T0 + 59 * S, src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2, proto: 17 }]);
  run([{ ts: T0 + 59 * S + 1, src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2, proto: 17 }]);
  assert.equal(recs.length, 0);
  run([{ ts: T0 + 61 * S, src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2, proto: 17 }]);
  // Ended during that call; emitted at the start of the next one.
  assert.equal(recs.length, 0);
  assert.equal(table.activeFlows, 1);
  table.releaseEnded();
  assert.equal(recs.length, 1);
  assert.equal(recs[0]!.reason, 'timeout');
  assert.equal(recs[0]!.state, 'closed');
  assert.equal(recs[0]!.tcp!.state, 'closed');
  assert.equal(recs[0]!.endUs, T0 + 50);
});

test('RST closes the connection', () => {
  const { table, recs, run } = setup();
  run([toS(T0, SYN), toC(T0 + 10, RST | ACK)]);
  table.flush();
  assert.equal(recs[0]!.tcp!.state, 'closed');
  assert.equal(recs[0]!.state, 'closed');
});

test('a new SYN on a closed tuple (port reuse) ends the old flow and starts a new one', () => {
  const { table, recs, run } = setup();
  const { dec } = run([toS(T0, SYN), toC(T0 + 10, RST | ACK), toS(T0 + 1000, SYN), toC(T0 + 1010, SYN | ACK)]);
  assert.equal(dec.flowSlot[0], 0);
  assert.equal(dec.flowSlot[1], 0);
  assert.notEqual(dec.flowSlot[2], 0); // the old slot stays reserved until emitted
  assert.equal(dec.flowSlot[3], dec.flowSlot[2]);
  assert.equal(table.totalFlows, 2);
  assert.equal(table.stats()['tcp_reuse'], 1);
  table.flush();
  assert.equal(recs.length, 2);
  assert.equal(recs[0]!.pktsToServer + recs[0]!.pktsToClient, 2);
  assert.equal(recs[1]!.tcp!.state, 'syn_recv');
  assert.notEqual(recs[0]!.flowId, recs[1]!.flowId);
});

test('idle timeouts depend on protocol and state', () => {
  const { table, recs, run } = setup();
  const u = (ts: number, back = false): SynthPacket =>
    back
      ? { ts, src: SV, dst: C, sport: 53, dport: 999, proto: 17 }
      : { ts, src: C, dst: SV, sport: 999, dport: 53, proto: 17 };
  // One-way UDP: new timeout 30 s. A packet 31 s later starts a second flow.
  run([u(T0), u(T0 + 31 * S)]);
  assert.equal(table.totalFlows, 2);
  // Both directions: established timeout 300 s; 200 s of silence keeps the flow.
  run([u(T0 + 32 * S, true), u(T0 + 232 * S)]);
  assert.equal(table.totalFlows, 2);
  table.flush();
  assert.equal(recs.length, 2);
  assert.equal(recs[0]!.reason, 'timeout');
  assert.equal(recs[1]!.state, 'established');
  assert.equal(recs[1]!.pktsToServer, 2);
});

test('timeouts are configurable', () => {
  const { table, recs, run } = setup({ timeouts: { udp: { new: 5 } } });
  run([{ ts: T0, src: C, dst: SV, sport: 1, dport: 2, proto: 17 }]);
  run([{ ts: T0 + 6 * S, src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2, proto: 17 }]);
  table.releaseEnded();
  assert.equal(recs.length, 1);
  assert.equal(recs[0]!.reason, 'timeout');
  assert.throws(() => new FlowTable({ timeouts: { tcp: { new: -1 } } }, () => {}), RangeError);
});

test('the active timeout splits long flows, keeping the orientation', () => {
  const { table, recs, run } = setup({ timeouts: { active: 10 } });
  const list: SynthPacket[] = [];
  for (let k = 0; k < 25; k++) list.push(k % 2 === 0 ? toS(T0 + k * S, ACK, 10) : toC(T0 + k * S, ACK, 10));
  run(list);
  table.flush();
  assert.equal(recs.length, 3);
  assert.deepEqual(
    recs.map((r) => [r.startUs - T0, r.endUs - T0, r.srcIp, r.reason]),
    [
      [0, 9 * S, C, 'timeout'],
      [10 * S, 19 * S, C, 'timeout'],
      [20 * S, 24 * S, C, 'shutdown'],
    ],
  );
  // Continuations carry the connection start into Total TCP Flow Time.
  const names = FEATURE_NAMES;
  const tt = names.indexOf('Total TCP Flow Time');
  const fd = names.indexOf('Flow Duration');
  assert.equal(recs[2]!.features![fd], 4 * S);
  assert.equal(recs[2]!.features![tt], 24 * S);
  assert.equal(table.stats()['active_timeout'], 2);
});

test('at maxFlows the least recently seen flow is evicted with reason forced', () => {
  const { table, recs, run } = setup({ maxFlows: 4 });
  const f = (k: number, ts: number): SynthPacket => ({ ts, src: C, dst: SV, sport: 1000 + k, dport: 53, proto: 17 });
  run([f(0, T0), f(1, T0 + 1), f(2, T0 + 2), f(3, T0 + 3), f(0, T0 + 4)]); // flow 1 is now the stalest
  run([f(4, T0 + 5)]);
  assert.equal(table.activeFlows, 4);
  assert.equal(table.evicted, 1);
  run([f(5, T0 + 6)]);
  assert.equal(table.evicted, 2);
  assert.equal(recs.length, 1);
  table.releaseEnded();
  assert.deepEqual(
    recs.map((r) => [r.srcPort, r.reason]),
    [
      [1001, 'forced'],
      [1002, 'forced'],
    ],
  );
  assert.ok(table.activeFlows <= 4);
  assert.equal(table.stats()['emergency_entered'], 1);
});

test('the index survives many inserts and deletions (backward-shift deletion)', () => {
  const { table, recs, run } = setup({ maxFlows: 4096, features: false });
  const f = (k: number, ts: number): SynthPacket => ({
    ts,
    src: `10.${k >> 8}.${k & 255}.1`,
    dst: SV,
    sport: 5000,
    dport: 53,
    proto: 17,
  });
  const first: SynthPacket[] = [];
  for (let k = 0; k < 3000; k++) first.push(f(k, T0 + k));
  run(first);
  assert.equal(table.activeFlows, 3000);
  // Refresh the even flows at +20 s, then let the odd ones expire (new timeout 30 s) at +40 s.
  const even: SynthPacket[] = [];
  for (let k = 0; k < 3000; k += 2) even.push(f(k, T0 + 20 * S + k));
  run(even);
  run([f(9999, T0 + 40 * S)]);
  table.releaseEnded();
  assert.equal(recs.length, 1500);
  assert.ok(recs.every((r) => r.reason === 'timeout' && r.pktsToServer === 1));
  // Every even flow is still found: no new flows are created for them.
  const again: SynthPacket[] = [];
  for (let k = 0; k < 3000; k += 2) again.push(f(k, T0 + 41 * S));
  const total = table.totalFlows;
  run(again);
  assert.equal(table.totalFlows, total);
  table.flush();
  const evenRecs = recs.filter((r) => r.reason === 'shutdown' && r.srcPort === 5000);
  assert.ok(evenRecs.every((r) => r.pktsToServer === 3 || r.srcIp === f(9999, 0).src));
});

test('markAlerted is reported, flow ids are unique and include the worker id', () => {
  const { table, recs, run } = setup({ workerId: 3 });
  const { dec } = run([toS(T0, SYN), { ts: T0, src: C, dst: SV, sport: 1, dport: 2, proto: 17 }]);
  table.markAlerted(dec.flowSlot[1]!);
  const id0 = table.flowIdOf(dec.flowSlot[0]!);
  table.flush();
  assert.equal(recs[0]!.flowId, id0);
  assert.equal(recs[0]!.alerted, false);
  assert.equal(recs[1]!.alerted, true);
  assert.notEqual(recs[0]!.flowId, recs[1]!.flowId);
  for (const r of recs) assert.equal(Math.floor(r.flowId / 4096) % 256, 3);
});

test('the index grows with the live flows and every flow is still found', () => {
  const { table, recs, run } = setup({ maxFlows: 20000, features: false });
  const f = (k: number, ts: number): SynthPacket => ({
    ts,
    src: `10.${k >> 8}.${k & 255}.2`,
    dst: SV,
    sport: 6000,
    dport: 53,
    proto: 17,
  });
  // 12,000 live flows: the index starts small and doubles several times on the way.
  for (let b = 0; b < 12; b++) {
    const list: SynthPacket[] = [];
    for (let k = b * 1000; k < (b + 1) * 1000; k++) list.push(f(k, T0 + k));
    run(list);
  }
  assert.equal(table.activeFlows, 12000);
  for (let b = 0; b < 12; b++) {
    const list: SynthPacket[] = [];
    for (let k = b * 1000; k < (b + 1) * 1000; k++) list.push(f(k, T0 + S + k));
    run(list);
  }
  assert.equal(table.totalFlows, 12000);
  table.flush();
  assert.equal(recs.length, 12000);
  assert.ok(recs.every((r) => r.pktsToServer === 2 && r.reason === 'shutdown'));
});

test('the sweep over deadline blocks ends the same flows in the same batches as the per-slot test', () => {
  // Timeouts with a fraction of a microsecond turn the deadline column off (per-slot test); with
  // whole-microsecond packet times they end exactly the same flows as the default timeouts.
  const e = 1e-7;
  const frac = {
    tcp: { new: 60 + e, established: 600 + e, closed: 60 + e },
    udp: { new: 30 + e, established: 300 + e, closed: e },
    icmp: { new: 30 + e, established: 300 + e, closed: e },
    default: { new: 30 + e, established: 300 + e, closed: e },
  };
  const a = setup({ features: false });
  const b = setup({ features: false, timeouts: frac });
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  let ts = T0;
  const log = (recs: FlowRecord[], batch: number, out: string[]): void => {
    for (const r of recs.splice(0)) out.push(`${batch} ${r.flowId} ${r.reason} ${r.endUs} ${r.pktsToServer}`);
  };
  const outA: string[] = [];
  const outB: string[] = [];
  for (let batch = 0; batch < 120; batch++) {
    const list: SynthPacket[] = [];
    // Mostly small steps (partial sweeps), sometimes a jump of up to 10 minutes.
    ts += rnd(10) === 0 ? rnd(600) * S : rnd(2000) * 1000;
    const n = batch === 60 ? 8000 : 300;
    for (let k = 0; k < n; k++) {
      const host = batch === 60 ? 20000 + k : rnd(9000);
      const tcp = host % 3 === 0;
      list.push({
        ts: ts + k,
        src: `10.1.${host >> 8}.${host & 255}`,
        dst: SV,
        sport: 7000 + (host % 7),
        dport: tcp ? 80 : 53,
        proto: tcp ? 6 : 17,
        flags: tcp ? [SYN, ACK, FIN | ACK, RST][rnd(4)] : 0,
      });
    }
    a.run(list);
    b.run(list);
    log(a.recs, batch, outA);
    log(b.recs, batch, outB);
  }
  a.table.flush();
  b.table.flush();
  log(a.recs, 999, outA);
  log(b.recs, 999, outB);
  assert.ok(outA.length > 9000);
  assert.ok(outA.some((l) => l.includes('timeout')));
  assert.deepEqual(outA, outB);
});
