import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER } from '../batch.js';
import { ipv4, ipv6, run, udp } from '../test-packets.js';

const v4 = ipv4(17, udp(1, 2));
const v6 = ipv6(17, udp(1, 2));

test('null/loop: AF_INET and the three BSD AF_INET6 values, in both byte orders', () => {
  const pkts = [
    [2, 0, 0, 0, ...v4], // AF_INET, little-endian host
    [0, 0, 0, 2, ...v4], // AF_INET, big-endian host
    [24, 0, 0, 0, ...v6], // AF_INET6 NetBSD/OpenBSD
    [0, 0, 0, 28, ...v6], // AF_INET6 FreeBSD, big-endian
    [30, 0, 0, 0, ...v6], // AF_INET6 Darwin
  ];
  for (const linkType of [0, 108]) {
    const { out, events } = run(pkts, { linkType });
    for (let i = 0; i < pkts.length; i++) {
      assert.ok(out.layers[i]! & LAYER.NULL);
      assert.ok(out.layers[i]! & LAYER.UDP, `packet ${i} link ${linkType}`);
      assert.equal(out.ipVer[i], i < 2 ? 4 : 6);
    }
    assert.deepEqual(events, {});
  }
});

test('null: unknown family is decoder.ltnull.unsupported_type (other L2); short is pkt_too_small', () => {
  const { out, events } = run(
    [
      [7, 0, 0, 0, 1, 2],
      [2, 0],
    ],
    { linkType: 0 },
  );
  assert.ok(out.layers[0]! & LAYER.OTHER_L2);
  assert.equal(events['decoder.ltnull.unsupported_type'], 1);
  assert.equal(events['decoder.ltnull.pkt_too_small'], 1);
});
