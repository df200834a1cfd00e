import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER } from '../batch.js';
import { ipv4, ipv6, run, udp } from '../test-packets.js';

test('raw: link types 101, 228, 229, 12, 14 pick IPv4/IPv6 by version nibble', () => {
  for (const linkType of [101, 228, 229, 12, 14]) {
    const { out } = run([ipv4(17, udp(1, 2)), ipv6(17, udp(3, 4))], { linkType });
    assert.ok(out.layers[0]! & LAYER.RAW);
    assert.equal(out.ipVer[0], 4);
    assert.equal(out.ipVer[1], 6);
    assert.equal(out.l3Off[0], 3); // no link header
  }
});

test('raw: another version nibble is decoder.ipraw.invalid_ip_version', () => {
  const { out, events } = run([[0x50, 0, 0, 0]], { linkType: 101 });
  assert.ok(out.layers[0]! & LAYER.INVALID);
  assert.equal(events['decoder.ipraw.invalid_ip_version'], 1);
});

test('unknown link type: counted, other L2, no exception', () => {
  const { out, events } = run([[1, 2, 3]], { linkType: 147 });
  assert.ok(out.layers[0]! & LAYER.OTHER_L2);
  assert.equal(events['decoder.unknown_linktype'], 1);
});
