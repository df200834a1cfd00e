import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER } from '../batch.js';
import { eth, ipv4, run, udp } from '../test-packets.js';

test('ethernet: IPv4/UDP frame decodes through the EtherType table', () => {
  const { out } = run([[...eth(0x0800), ...ipv4(17, udp(1234, 53, [1, 2, 3]))]]);
  assert.equal(out.count, 1);
  assert.equal(out.layers[0]! & (LAYER.ETHERNET | LAYER.IPV4 | LAYER.UDP), LAYER.ETHERNET | LAYER.IPV4 | LAYER.UDP);
  assert.equal(out.l3Off[0], 3 + 14); // run() puts packets at offset 3
  assert.equal(out.sport[0], 1234);
  assert.equal(out.dport[0], 53);
  assert.equal(out.payLen[0], 3);
});

test('ethernet: shorter than 14 bytes is decoder.ethernet.pkt_too_small', () => {
  const { out, events } = run([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08]]);
  assert.ok(out.layers[0]! & LAYER.INVALID);
  assert.equal(events['decoder.ethernet.pkt_too_small'], 1);
});

test('ethernet: trailing padding is ignored (lengths from the IP header)', () => {
  const frame = [...eth(0x0800), ...ipv4(17, udp(1, 2, [0xaa]))];
  const padded = [...frame, ...new Array<number>(60 - frame.length).fill(0)]; // pad to 60 bytes
  const { out, events } = run([padded]);
  assert.equal(out.payLen[0], 1);
  assert.equal(out.ipLen[0], 29);
  assert.deepEqual(events, {});
});

test('ethernet: 802.3 length frames (LLC) are other L2 without an event; unknown EtherTypes are noted', () => {
  const llc = [...eth(0x0026), 0x42, 0x42, 0x03, 0, 0, 0]; // length 38, STP LLC header
  const lldp = [...eth(0x88cc), 0x02, 0x07, 0x04]; // LLDP chassis id TLV start
  const { out, events } = run([llc, lldp]);
  assert.ok(out.layers[0]! & LAYER.OTHER_L2);
  assert.ok(out.layers[1]! & LAYER.OTHER_L2);
  assert.equal(out.layers[1]! & LAYER.INVALID, 0);
  assert.deepEqual(events, { 'decoder.ethernet.unknown_ethertype': 1 });
});
