import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER, PFLAG } from '../batch.js';
import { V4_DST, V4_SRC, eth, ipv4, ipv6, run, tcp, udp } from '../test-packets.js';

const OUTER_SRC = [192, 0, 2, 1];
const OUTER_DST = [192, 0, 2, 2];

function outer(gre: number[]): number[] {
  return [...eth(0x0800), ...ipv4(47, gre, { src: OUTER_SRC, dst: OUTER_DST })];
}

test('gre v0: IPv4 payload, with key and sequence bits; columns describe the inner packet', () => {
  const gre = [
    0x30,
    0x00, // K and S set, version 0
    0x08,
    0x00, // protocol IPv4
    0,
    0,
    0,
    42, // key
    0,
    0,
    0,
    1, // sequence
    ...ipv4(6, tcp(1111, 80), { src: V4_SRC, dst: V4_DST }),
  ];
  const { out } = run([outer(gre)]);
  const l = out.layers[0]!;
  assert.ok(l & LAYER.GRE && l & LAYER.TCP && l & LAYER.IPV4);
  assert.ok(out.pflags[0]! & PFLAG.TUNNELED);
  assert.equal(out.src[0], 0x0a000001); // inner source
  assert.equal(out.dport[0], 80);
  assert.equal(out.l3Off[0], 3 + 14 + 20 + 12);
});

test('gre v0: checksum bit, transparent Ethernet bridging, IPv6', () => {
  const csum = [0x80, 0x00, 0x86, 0xdd, 0, 0, 0, 0, ...ipv6(17, udp(1, 2))]; // C set: checksum + reserved
  const teb = [0x00, 0x00, 0x65, 0x58, ...eth(0x0800), ...ipv4(17, udp(3, 4))];
  const { out } = run([outer(csum), outer(teb)]);
  assert.equal(out.ipVer[0], 6);
  assert.ok(out.layers[0]! & LAYER.UDP);
  assert.ok(out.layers[1]! & LAYER.UDP);
  assert.equal(out.dport[1], 4);
});

test('gre: malformed headers raise the version0/version1 events', () => {
  const { out, events } = run([
    outer([0x00, 0x00]), // too small
    outer([0x01, 0x00, 0x08, 0x00]), // recursion control set
    outer([0x00, 0x08, 0x08, 0x00]), // reserved flag bits
    outer([0x30, 0x00, 0x08, 0x00, 0, 0]), // K+S but header cut
    outer([0x00, 0x03, 0x08, 0x00]), // version 3
    outer([0x10, 0x01, 0x88, 0x0b, 0, 0, 0, 0]), // v1 without key
  ]);
  for (let i = 0; i < 6; i++) assert.ok(out.layers[i]! & LAYER.INVALID, `packet ${i}`);
  assert.deepEqual(events, {
    'decoder.gre.pkt_too_small': 1,
    'decoder.gre.version0_recur': 1,
    'decoder.gre.version0_flags': 1,
    'decoder.gre.version0_hdr_too_big': 1,
    'decoder.gre.wrong_version': 1,
    'decoder.gre.version1_no_key': 1,
  });
});

test('gre v1 (PPTP): key, sequence, PPP then IPv4', () => {
  const gre = [
    0x30,
    0x81, // K, S; A; version 1
    0x88,
    0x0b, // protocol PPP
    0x00,
    0x30,
    0x00,
    0x07, // payload length, call id
    0,
    0,
    0,
    5, // sequence
    0,
    0,
    0,
    4, // acknowledgement
    0xff,
    0x03,
    0x00,
    0x21, // PPP address, control, protocol IPv4
    ...ipv4(17, udp(9, 10)),
  ];
  const { out } = run([outer(gre)]);
  assert.ok(out.layers[0]! & LAYER.UDP);
  assert.equal(out.dport[0], 10);
});

test('tunnels nest at most 3 levels deep', () => {
  let pkt = ipv4(17, udp(1, 2));
  for (let k = 0; k < 5; k++) pkt = ipv4(47, [0x00, 0x00, 0x08, 0x00, ...pkt]);
  const { out, events } = run([[...eth(0x0800), ...pkt]]);
  assert.equal(out.layers[0]! & LAYER.UDP, 0);
  assert.equal(events['decoder.too_many_layers'], 1);
  assert.ok(out.pflags[0]! & PFLAG.TUNNELED);
});
