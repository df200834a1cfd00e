import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER } from '../batch.js';
import { eth, ipv4, ipv6, run, udp } from '../test-packets.js';

function pppoe(proto: number[], payload: number[]): number[] {
  const len = proto.length + payload.length;
  return [
    0x11, // version 1, type 1
    0x00, // code: session data
    0x12,
    0x34, // session id
    len >> 8,
    len & 0xff, // length
    ...proto, // PPP protocol
    ...payload,
  ];
}

test('pppoe: session IPv4 (0x0021), IPv6 (0x0057), compressed protocol field', () => {
  const a = [...eth(0x8864), ...pppoe([0x00, 0x21], ipv4(17, udp(1, 2)))];
  const b = [...eth(0x8864), ...pppoe([0x00, 0x57], ipv6(17, udp(1, 2)))];
  const c = [...eth(0x8864), ...pppoe([0x21], ipv4(17, udp(1, 2)))];
  const { out } = run([a, b, c]);
  for (let i = 0; i < 3; i++) assert.ok(out.layers[i]! & LAYER.PPPOE && out.layers[i]! & LAYER.UDP, `packet ${i}`);
  assert.equal(out.ipVer[1], 6);
});

test('pppoe: LCP is other L2; a discovery code is decoder.pppoe.wrong_code', () => {
  const lcp = [...eth(0x8864), ...pppoe([0xc0, 0x21], [1, 1, 0, 4])];
  const padi = [...eth(0x8864), 0x11, 0x09, 0, 0, 0, 0];
  const { out, events } = run([lcp, padi]);
  assert.ok(out.layers[0]! & LAYER.OTHER_L2);
  assert.equal(events['decoder.ppp.unsup_proto'], 1);
  assert.ok(out.layers[1]! & LAYER.INVALID);
  assert.equal(events['decoder.pppoe.wrong_code'], 1);
});

test('ppp link type: address/control then IPv4', () => {
  const { out } = run([[0xff, 0x03, 0x00, 0x21, ...ipv4(17, udp(1, 2))]], { linkType: 9 });
  assert.ok(out.layers[0]! & LAYER.UDP);
});
