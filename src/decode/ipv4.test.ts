import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER, PFLAG } from './batch.js';
import { eth, ipv4, run, udp } from './test-packets.js';

test('ipv4: columns from the header', () => {
  const { out } = run([[...eth(0x0800), ...ipv4(17, udp(1000, 2000, [9, 9]), { ttl: 33 })]]);
  assert.equal(out.ipVer[0], 4);
  assert.equal(out.proto[0], 17);
  assert.equal(out.src[0], 0x0a000001); // 10.0.0.1
  assert.equal(out.dst[0], 0x0a000002);
  assert.equal(out.src[1], 0);
  assert.equal(out.ttl[0], 33);
  assert.equal(out.ipHdrLen[0], 20);
  assert.equal(out.ipLen[0], 30);
  assert.equal(out.l4Off[0], out.l3Off[0]! + 20);
});

test('ipv4: header events (too small, wrong version, hlen, iplen < hlen, truncated)', () => {
  const good = ipv4(17, udp(1, 2));
  const wrongVer = [...good];
  wrongVer[0] = 0x55;
  const smallHlen = [...good];
  smallHlen[0] = 0x44; // IHL 4 = 16 bytes
  const { out, events } = run([
    [...eth(0x0800), ...good.slice(0, 19)],
    [...eth(0x0800), ...wrongVer],
    [...eth(0x0800), ...smallHlen],
    [...eth(0x0800), ...ipv4(17, udp(1, 2), { totalLength: 12 })],
    [...eth(0x0800), ...ipv4(17, udp(1, 2), { totalLength: 100 })],
  ]);
  for (let i = 0; i < 5; i++) assert.ok(out.layers[i]! & LAYER.INVALID, `packet ${i}`);
  assert.deepEqual(events, {
    'decoder.ipv4.pkt_too_small': 1,
    'decoder.ipv4.wrong_ip_version': 1,
    'decoder.ipv4.hlen_too_small': 1,
    'decoder.ipv4.iplen_smaller_than_hlen': 1,
    'decoder.ipv4.trunc_pkt': 1,
  });
});

test('ipv4: a packet cut by the snaplen decodes what is present (SNAPLEN_TRUNC, no event)', () => {
  const full = [...eth(0x0800), ...ipv4(17, udp(53, 1053, new Array<number>(100).fill(7)))];
  const cut = full.slice(0, 14 + 20 + 8 + 10);
  const { out, events } = run([cut], { origLen: [full.length] });
  assert.deepEqual(events, {});
  assert.equal(out.layers[0]! & LAYER.INVALID, 0);
  assert.ok(out.pflags[0]! & PFLAG.SNAPLEN_TRUNC);
  assert.ok(out.layers[0]! & LAYER.UDP);
  assert.equal(out.sport[0], 53);
  assert.equal(out.payLen[0], 10); // bytes present
  assert.equal(out.ipLen[0], 128); // on the wire
});

test('ipv4: options are checked (NOP/EOL ok, bad length, malformed route, duplicate)', () => {
  const ok = ipv4(17, udp(1, 2), { options: [0x94, 0x04, 0x00, 0x00] }); // router alert
  const badLen = ipv4(17, udp(1, 2), { options: [0x07, 0x09, 0x04, 0x00] }); // RR length past header
  const malformed = ipv4(17, udp(1, 2), { options: [0x07, 0x04, 0x04, 0x00] }); // RR: 1 byte of route
  const dup = ipv4(17, udp(1, 2), { options: [0x94, 0x04, 0, 0, 0x94, 0x04, 0, 0] });
  const nops = ipv4(17, udp(1, 2), { options: [0x01, 0x01, 0x01, 0x00] });
  const { out, events } = run([ok, badLen, malformed, dup, nops].map((p) => [...eth(0x0800), ...p]));
  assert.ok(out.layers[0]! & LAYER.UDP);
  assert.ok(out.layers[1]! & LAYER.INVALID);
  assert.ok(out.layers[2]! & LAYER.INVALID);
  assert.ok(out.layers[3]! & LAYER.UDP);
  assert.ok(out.layers[4]! & LAYER.UDP);
  assert.equal(out.ipHdrLen[0], 24);
  assert.deepEqual(events, {
    'decoder.ipv4.opt_invalid_len': 1,
    'decoder.ipv4.opt_malformed': 1,
    'decoder.ipv4.opt_duplicate': 1,
  });
});

test('ipv4: header checksum only checked with checksumValidation', () => {
  const bad = [...eth(0x0800), ...ipv4(17, udp(1, 2), { badChecksum: true })];
  const good = [...eth(0x0800), ...ipv4(17, udp(1, 2))];
  const off = run([bad]);
  assert.equal(off.out.pflags[0], 0);
  const on = run([bad, good], { options: { checksumValidation: true } });
  assert.ok(on.out.pflags[0]! & PFLAG.BAD_IP_CSUM);
  assert.equal(on.out.pflags[1], 0);
  assert.deepEqual(on.events, { 'decoder.ipv4.invalid_checksum': 1 });
});

test('ipv4: other protocols are OTHER_IP; ICMPv6 inside IPv4 is noted', () => {
  const { out, events } = run([
    [...eth(0x0800), ...ipv4(2, [0x11, 0, 0, 0, 0, 0, 0, 0])], // IGMP
    [...eth(0x0800), ...ipv4(58, [128, 0, 0, 0, 0, 0, 0, 0])],
  ]);
  assert.ok(out.layers[0]! & LAYER.OTHER_IP);
  assert.equal(out.proto[0], 2);
  assert.ok(out.layers[1]! & LAYER.OTHER_IP);
  assert.deepEqual(events, { 'decoder.ipv4.icmpv6': 1 });
});
