import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER } from '../batch.js';
import { eth, ipv4, run, udp } from '../test-packets.js';

/** 802.1Q/802.1ad tag: TCI (PCP 0, DEI 0, VID) and the next EtherType. */
function tag(vid: number, next: number): number[] {
  return [vid >> 8, vid & 0xff, next >> 8, next & 0xff];
}

test('vlan: single 802.1Q tag sets the vlan column to the id', () => {
  const { out } = run([[...eth(0x8100), ...tag(100, 0x0800), ...ipv4(17, udp(1, 2))]]);
  assert.ok(out.layers[0]! & LAYER.VLAN);
  assert.ok(out.layers[0]! & LAYER.UDP);
  assert.equal(out.vlan[0], 100);
});

test('vlan: QinQ (0x88a8 then 0x8100) gives outer << 12 | inner', () => {
  const { out } = run([[...eth(0x88a8), ...tag(10, 0x8100), ...tag(20, 0x0800), ...ipv4(17, udp(1, 2))]]);
  assert.equal(out.vlan[0], (10 << 12) | 20);
  assert.ok(out.layers[0]! & LAYER.UDP);
});

test('vlan: 0x9100 is accepted; a fourth tag is decoder.vlan.too_many_layers', () => {
  const ok = [...eth(0x9100), ...tag(1, 0x0800), ...ipv4(17, udp(1, 2))];
  const deep = [
    ...eth(0x8100),
    ...tag(1, 0x8100),
    ...tag(2, 0x8100),
    ...tag(3, 0x8100),
    ...tag(4, 0x0800),
    ...ipv4(17, udp(1, 2)),
  ];
  const { out, events } = run([ok, deep]);
  assert.ok(out.layers[0]! & LAYER.UDP);
  assert.ok(out.layers[1]! & LAYER.INVALID);
  assert.equal(events['decoder.vlan.too_many_layers'], 1);
});

test('vlan: truncated tag is decoder.vlan.header_too_small', () => {
  const { out, events } = run([[...eth(0x8100), 0x00, 0x64]]);
  assert.ok(out.layers[0]! & LAYER.INVALID);
  assert.equal(events['decoder.vlan.header_too_small'], 1);
});
