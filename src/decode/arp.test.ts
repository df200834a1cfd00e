import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER } from './batch.js';
import { eth, run } from './test-packets.js';

const request = [
  0x00,
  0x01, // hardware type Ethernet
  0x08,
  0x00, // protocol type IPv4
  6, // hardware size
  4, // protocol size
  0x00,
  0x01, // opcode request
  1,
  2,
  3,
  4,
  5,
  6, // sender MAC
  10,
  0,
  0,
  1, // sender IP
  0,
  0,
  0,
  0,
  0,
  0, // target MAC
  10,
  0,
  0,
  2, // target IP
];

test('arp: request decodes as LAYER.ARP without IP columns', () => {
  const { out, events } = run([[...eth(0x0806), ...request]]);
  assert.ok(out.layers[0]! & LAYER.ARP);
  assert.equal(out.ipVer[0], 0);
  assert.deepEqual(events, {});
});

test('arp: truncated, bad sizes, odd opcode', () => {
  const badH = [...request];
  badH[4] = 8;
  const op = [...request];
  op[7] = 0x77;
  const { out, events } = run([
    [...eth(0x0806), ...request.slice(0, 20)],
    [...eth(0x0806), ...badH],
    [...eth(0x0806), ...op],
  ]);
  assert.ok(out.layers[0]! & LAYER.INVALID);
  assert.ok(out.layers[1]! & LAYER.INVALID);
  assert.equal(out.layers[2]! & LAYER.INVALID, 0);
  assert.deepEqual(events, {
    'decoder.arp.pkt_too_small': 1,
    'decoder.arp.invalid_hardware_size': 1,
    'decoder.arp.unsupported_opcode': 1,
  });
});
