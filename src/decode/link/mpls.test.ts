import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER } from '../batch.js';
import { eth, ipv4, ipv6, run, udp } from '../test-packets.js';

/** Label stack entry: label(20) TC(3) S(1) TTL(8). */
function label(value: number, bottom: boolean): number[] {
  return [value >> 12, (value >> 4) & 0xff, ((value & 0xf) << 4) | (bottom ? 1 : 0), 64];
}

test('mpls: a two-label stack then IPv4, one label then IPv6', () => {
  const a = [...eth(0x8847), ...label(100, false), ...label(200, true), ...ipv4(17, udp(1, 2))];
  const b = [...eth(0x8847), ...label(300, true), ...ipv6(17, udp(1, 2))];
  const { out } = run([a, b]);
  assert.ok(out.layers[0]! & LAYER.MPLS && out.layers[0]! & LAYER.UDP);
  assert.equal(out.ipVer[1], 6);
});

test('mpls: truncated stack and non-IP payload', () => {
  const cut = [...eth(0x8847), ...label(100, false), 0, 0];
  const pw = [...eth(0x8847), ...label(100, true), 0x00, 0x00, 0x00, 0x00]; // control word
  const { out, events } = run([cut, pw]);
  assert.ok(out.layers[0]! & LAYER.INVALID);
  assert.equal(events['decoder.mpls.header_too_small'], 1);
  assert.ok(out.layers[1]! & LAYER.OTHER_L2);
  assert.equal(events['decoder.mpls.unknown_payload_type'], 1);
});
