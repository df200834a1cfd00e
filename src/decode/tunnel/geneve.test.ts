import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER, PFLAG } from '../batch.js';
import { eth, eventNames, ipv4, ipv6, run, tcp, udp } from '../test-packets.js';

/** A Geneve header: version 0, `opts` (whole 4-byte words), protocol type, VNI 0x2500. */
function geneve(type: number, opts: number[] = [], flags = 0, res = 0): number[] {
  assert.equal(opts.length % 4, 0);
  return [opts.length / 4, flags, type >> 8, type & 0xff, 0x00, 0x25, 0x00, res, ...opts];
}

/** Two 8-byte options (class 0x0108, type 0, length 1 word), as in Suricata's decoder tests. */
const OPTS = [0x01, 0x08, 0x00, 0x01, 0x11, 0x11, 0x11, 0x11, 0x01, 0x08, 0x00, 0x01, 0x11, 0x11, 0x11, 0x11];

const INNER_V4 = ipv4(17, udp(53, 12345, [1, 2, 3, 4]), { src: [10, 96, 0, 10], dst: [185, 27, 115, 6] });

function outer(sport: number, dport: number, payload: number[]): number[] {
  return [...eth(0x0800), ...ipv4(17, udp(sport, dport, payload))];
}

test('geneve: UDP 6081 carrying IPv4 (with options) decodes the inner packet', () => {
  const { out, decoder: d } = run([outer(49152, 6081, [...geneve(0x0800, OPTS), ...INNER_V4])]);
  const l = out.layers[0]!;
  assert.ok(l & LAYER.GENEVE && l & LAYER.UDP && l & LAYER.IPV4);
  assert.ok(out.pflags[0]! & PFLAG.TUNNELED);
  assert.equal(out.src[0], 0x0a60000a); // inner 10.96.0.10
  assert.equal(out.sport[0], 53);
  assert.equal(out.dport[0], 12345);
  assert.deepEqual(eventNames(d), []);
});

test('geneve: Ethernet (with an inner VLAN tag) and IPv6 payloads; the source port counts too', () => {
  const vlanEth = [...eth(0x8100).slice(0, 12), 0x81, 0x00, 0x00, 0xad, 0x08, 0x00];
  const a = run([outer(6081, 40000, [...geneve(0x6558, OPTS), ...vlanEth, ...INNER_V4])]);
  assert.ok(a.out.layers[0]! & LAYER.GENEVE && a.out.layers[0]! & LAYER.VLAN);
  assert.equal(a.out.sport[0], 53);
  const b = run([outer(40000, 6081, [...geneve(0x86dd), ...ipv6(6, tcp(1234, 80))])]);
  assert.ok(b.out.layers[0]! & LAYER.GENEVE && b.out.layers[0]! & LAYER.IPV6 && b.out.layers[0]! & LAYER.TCP);
  assert.equal(b.out.ipVer[0], 6);
  assert.equal(b.out.dport[0], 80);
});

test('geneve: a header Suricata would not decode leaves the datagram plain UDP', () => {
  const bad: [string, number[]][] = [
    ['version 1', [0x40, ...geneve(0x0800).slice(1), ...INNER_V4]],
    ['reserved flag bits', [...geneve(0x0800, [], 0x01), ...INNER_V4]],
    ['reserved byte', [...geneve(0x0800, [], 0, 7), ...INNER_V4]],
    // Option area of 2 words holding one option that claims 3 (4 + 2 * 4 bytes).
    ['options not adding up', [2, 0, 0x08, 0x00, 0, 0x25, 0, 0, 0x01, 0x08, 0x00, 0x02, 0, 0, 0, 0, ...INNER_V4]],
    ['header longer than the datagram', [0x3f, 0, 0x08, 0x00, 0, 0x25, 0, 0]],
    ['shorter than a header', [0, 0, 0x08]],
  ];
  for (const [why, payload] of bad) {
    const { out, decoder: d } = run([outer(49152, 6081, payload)]);
    assert.equal(out.layers[0]! & LAYER.GENEVE, 0, why);
    assert.equal(out.dport[0], 6081, why);
    assert.equal(out.pflags[0]! & PFLAG.TUNNELED, 0, why);
    assert.deepEqual(eventNames(d), [], why);
  }
});

test('geneve: an unknown protocol type is an event; ARP is not decoded further', () => {
  const u = run([outer(49152, 6081, [...geneve(0x88cc), 1, 2, 3, 4])]);
  assert.ok(u.out.layers[0]! & LAYER.GENEVE && u.out.layers[0]! & LAYER.INVALID);
  assert.deepEqual(eventNames(u.decoder), ['decoder.geneve.unknown_payload_type']);
  const a = run([outer(49152, 6081, [...geneve(0x0806), ...new Array<number>(28).fill(0)])]);
  assert.ok(a.out.layers[0]! & LAYER.GENEVE);
  assert.equal(a.out.layers[0]! & LAYER.INVALID, 0);
  assert.equal(a.out.dport[0], 6081);
});

test('geneve: ports are configurable (none turns the decoder off)', () => {
  const pkt = outer(49152, 7000, [...geneve(0x0800), ...INNER_V4]);
  assert.equal(run([pkt]).out.layers[0]! & LAYER.GENEVE, 0);
  assert.ok(run([pkt], { options: { genevePorts: [7000] } }).out.layers[0]! & LAYER.GENEVE);
  const std = outer(49152, 6081, [...geneve(0x0800), ...INNER_V4]);
  assert.equal(run([std], { options: { genevePorts: [] } }).out.layers[0]! & LAYER.GENEVE, 0);
});
