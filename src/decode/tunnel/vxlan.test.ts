import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER, PFLAG } from '../batch.js';
import { eth, ipv4, run, tcp, udp } from '../test-packets.js';

const VXLAN = [
  0x08, // flags: I (VNI valid)
  0,
  0,
  0, // reserved
  0x00,
  0x10,
  0x00, // VNI 4096
  0, // reserved
];

test('vxlan: UDP port 4789 decapsulates to the inner Ethernet frame', () => {
  const inner = [...eth(0x0800), ...ipv4(6, tcp(5555, 22), { src: [172, 16, 0, 1], dst: [172, 16, 0, 2] })];
  const { out } = run([[...eth(0x0800), ...ipv4(17, udp(49152, 4789, [...VXLAN, ...inner]))]]);
  const l = out.layers[0]!;
  assert.ok(l & LAYER.VXLAN && l & LAYER.TCP && l & LAYER.UDP);
  assert.ok(out.pflags[0]! & PFLAG.TUNNELED);
  assert.equal(out.proto[0], 6);
  assert.equal(out.src[0], 0xac100001);
  assert.equal(out.dport[0], 22);
});

test('vxlan: ports are configurable; without the I flag the datagram stays UDP', () => {
  const inner = [...eth(0x0800), ...ipv4(17, udp(1, 2))];
  const noFlag = [0, 0, 0, 0, 0, 0, 1, 0, ...inner];
  const a = run([[...eth(0x0800), ...ipv4(17, udp(9, 4789, noFlag))]]);
  assert.equal(a.out.layers[0]! & LAYER.VXLAN, 0);
  assert.equal(a.out.dport[0], 4789);
  const b = run([[...eth(0x0800), ...ipv4(17, udp(9, 8472, [...VXLAN, ...inner]))]], {
    options: { vxlanPorts: [8472] },
  });
  assert.ok(b.out.layers[0]! & LAYER.VXLAN);
  assert.equal(b.out.dport[0], 2);
});
