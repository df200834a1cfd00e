import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER, PFLAG } from './batch.js';
import { eth, ipv4, ipv6, run, udp, v4Pseudo, v6Pseudo, withChecksum } from './test-packets.js';

test('udp: ports, payload from the UDP length', () => {
  const { out } = run([[...eth(0x0800), ...ipv4(17, udp(5353, 5353, [1, 2, 3, 4]))]]);
  assert.ok(out.layers[0]! & LAYER.UDP);
  assert.equal(out.l4HdrLen[0], 8);
  assert.equal(out.payLen[0], 4);
});

test('udp: length events (too small packet, length < 8, length > IP payload, length < IP payload)', () => {
  const { out, events } = run(
    [
      ipv4(17, [0, 1, 0, 2]),
      ipv4(17, udp(1, 2, [], 4)),
      ipv4(17, udp(1, 2, [1], 30)),
      ipv4(17, udp(1, 2, [1, 2, 3], 9)),
    ].map((p) => [...eth(0x0800), ...p]),
  );
  assert.ok(out.layers[0]! & LAYER.INVALID);
  assert.ok(out.layers[1]! & LAYER.INVALID);
  assert.ok(out.layers[2]! & LAYER.INVALID);
  assert.equal(out.layers[3]! & LAYER.INVALID, 0);
  assert.equal(out.payLen[3], 1);
  assert.deepEqual(events, {
    'decoder.udp.pkt_too_small': 1,
    'decoder.udp.hlen_too_small': 1,
    'decoder.udp.hlen_invalid': 1,
    'decoder.udp.len_invalid': 1,
  });
});

test('udp: checksums (v4 zero = none; v6 zero is invalid) when enabled', () => {
  const good4 = withChecksum(udp(1, 2, [9, 9, 9]), 6, v4Pseudo(17, 11));
  const none4 = udp(1, 2, [9, 9, 9]);
  const good6 = withChecksum(udp(1, 2, [9]), 6, v6Pseudo(17, 9));
  const zero6 = udp(1, 2, [9]);
  const pkts = [
    [...eth(0x0800), ...ipv4(17, good4)],
    [...eth(0x0800), ...ipv4(17, none4)],
    [...eth(0x86dd), ...ipv6(17, good6)],
    [...eth(0x86dd), ...ipv6(17, zero6)],
  ];
  const { out, events } = run(pkts, { options: { checksumValidation: true } });
  assert.deepEqual(
    [...out.pflags.subarray(0, 4)].map((f) => f & PFLAG.BAD_L4_CSUM),
    [0, 0, 0, PFLAG.BAD_L4_CSUM],
  );
  assert.deepEqual(events, { 'decoder.udp.invalid_checksum': 1 });
});
