import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER } from '../batch.js';
import { ipv4, ipv6, run, udp } from '../test-packets.js';

test('chdlc: address, control, protocol then IPv4 / IPv6', () => {
  const v4 = [0x0f, 0x00, 0x08, 0x00, ...ipv4(17, udp(1, 2))]; // unicast, control 0, IPv4
  const v6 = [0x8f, 0x00, 0x86, 0xdd, ...ipv6(17, udp(1, 2))]; // broadcast, control 0, IPv6
  const slarp = [0x8f, 0x00, 0x80, 0x35, 0, 0, 0, 2]; // SLARP keepalive
  const { out } = run([v4, v6, slarp], { linkType: 104 });
  assert.ok(out.layers[0]! & LAYER.CHDLC && out.layers[0]! & LAYER.UDP);
  assert.equal(out.ipVer[1], 6);
  assert.ok(out.layers[2]! & LAYER.OTHER_L2);
});

test('chdlc: shorter than 4 bytes is decoder.chdlc.pkt_too_small', () => {
  const { events } = run([[0x0f, 0x00]], { linkType: 104 });
  assert.equal(events['decoder.chdlc.pkt_too_small'], 1);
});
