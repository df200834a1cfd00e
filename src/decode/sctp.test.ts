import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER } from './batch.js';
import { eth, ipv4, run } from './test-packets.js';

test('sctp: ports from the common header; short header is decoder.sctp.pkt_too_small', () => {
  const common = [
    0x0b,
    0x59, // source port 2905
    0x0b,
    0x59, // destination port 2905
    0,
    0,
    0,
    1, // verification tag
    0,
    0,
    0,
    0, // checksum
    1,
    0,
    0,
    4, // INIT chunk header (not parsed)
  ];
  const { out, events } = run([
    [...eth(0x0800), ...ipv4(132, common)],
    [...eth(0x0800), ...ipv4(132, common.slice(0, 8))],
  ]);
  assert.ok(out.layers[0]! & LAYER.SCTP);
  assert.equal(out.sport[0], 2905);
  assert.equal(out.payLen[0], 4);
  assert.ok(out.layers[1]! & LAYER.INVALID);
  assert.deepEqual(events, { 'decoder.sctp.pkt_too_small': 1 });
});
