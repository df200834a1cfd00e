import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER } from '../batch.js';
import { ipv4, ipv6, run, udp } from '../test-packets.js';

test('sll: Linux cooked v1 header (16 bytes) then IPv4', () => {
  const sll = [
    0x00,
    0x00, // packet type: to us
    0x00,
    0x01, // ARPHRD_ETHER
    0x00,
    0x06, // address length
    1,
    2,
    3,
    4,
    5,
    6,
    0,
    0, // address (8 bytes)
    0x08,
    0x00, // protocol: IPv4
  ];
  const { out } = run([[...sll, ...ipv4(17, udp(5, 6))]], { linkType: 113 });
  assert.ok(out.layers[0]! & LAYER.SLL);
  assert.ok(out.layers[0]! & LAYER.UDP);
  assert.equal(out.dport[0], 6);
});

test('sll2: Linux cooked v2 header (20 bytes) then IPv6', () => {
  const sll2 = [
    0x86,
    0xdd, // protocol: IPv6
    0x00,
    0x00, // reserved
    0,
    0,
    0,
    2, // interface index
    0x00,
    0x01, // ARPHRD_ETHER
    0x04, // packet type: outgoing
    0x06, // address length
    1,
    2,
    3,
    4,
    5,
    6,
    0,
    0, // address
  ];
  const { out } = run([[...sll2, ...ipv6(17, udp(7, 8))]], { linkType: 276 });
  assert.ok(out.layers[0]! & LAYER.SLL2);
  assert.ok(out.layers[0]! & LAYER.IPV6);
  assert.equal(out.ipVer[0], 6);
  assert.equal(out.sport[0], 7);
});

test('sll/sll2: short headers raise their pkt_too_small events', () => {
  const a = run([[0, 0, 0, 1]], { linkType: 113 });
  const b = run([[0x08, 0x00, 0, 0]], { linkType: 276 });
  assert.equal(a.events['decoder.sll.pkt_too_small'], 1);
  assert.equal(b.events['decoder.sll2.pkt_too_small'], 1);
  assert.ok(a.out.layers[0]! & LAYER.INVALID);
});
