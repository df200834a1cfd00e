import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER, PFLAG } from './batch.js';
import { eth, ipv6, run, udp } from './test-packets.js';

test('ipv6: columns from the header, addresses as 4 big-endian words', () => {
  const { out } = run([[...eth(0x86dd), ...ipv6(17, udp(1, 2, [5]), undefined, 7)]]);
  assert.equal(out.ipVer[0], 6);
  assert.deepEqual([...out.src.subarray(0, 4)], [0x20010db8, 0, 0, 1]);
  assert.deepEqual([...out.dst.subarray(0, 4)], [0x20010db8, 0, 0, 2]);
  assert.equal(out.ttl[0], 7);
  assert.equal(out.ipHdrLen[0], 40);
  assert.equal(out.ipLen[0], 49);
  assert.equal(out.payLen[0], 1);
});

test('ipv6: extension chain hop-by-hop, routing, destination options then UDP', () => {
  const chain = [
    43,
    0,
    1,
    4,
    0,
    0,
    0,
    0, // hop-by-hop: next routing, len 0, PadN(4)... (PadN type 1 len 4)
    60,
    0,
    4,
    0,
    0,
    0,
    0,
    0, // routing: next dstopts, len 0, type 4 (SRH), segments left 0
    17,
    0,
    5,
    2,
    0,
    0,
    1,
    0, // dstopts: next UDP, len 0, router alert(5) len 2, PadN len 0
    ...udp(7, 8),
  ];
  chain[2] = 1; // hop-by-hop option: PadN, len 4
  chain[3] = 4;
  const { out, events } = run([[...eth(0x86dd), ...ipv6(0, chain)]]);
  assert.ok(out.layers[0]! & LAYER.UDP);
  assert.equal(out.ipHdrLen[0], 64);
  assert.equal(out.proto[0], 17);
  assert.equal(out.dport[0], 8);
  assert.deepEqual(events, { 'decoder.ipv6.hopopts_only_padding': 1 });
});

test('ipv6: truncated and malformed chains', () => {
  const cutExt = ipv6(0, [17, 0, 1]); // hop-by-hop header of 3 bytes
  const badOpt = ipv6(0, [17, 0, 5, 9, 0, 0, 0, 0, ...udp(1, 2)]); // option length past header
  // atomic fragment header (offset 0, M 0) then a second fragment header
  const dupFh = ipv6(44, [44, 0, 0, 0, 0, 0, 0, 1, 17, 0, 0, 1, 0, 0, 0, 1]);
  const { out, events } = run([cutExt, badOpt, dupFh].map((p) => [...eth(0x86dd), ...p]));
  for (let i = 0; i < 3; i++) assert.ok(out.layers[i]! & LAYER.INVALID, `packet ${i}`);
  assert.equal(events['decoder.ipv6.trunc_exthdr'], 1);
  assert.equal(events['decoder.ipv6.exthdr_invalid_optlen'], 1);
  assert.equal(events['decoder.ipv6.exthdr_dupl_fh'], 1);
  assert.equal(events['decoder.ipv6.exthdr_useless_fh'], 1);
});

test('ipv6: too many extension headers is bounded', () => {
  const ext: number[] = [];
  for (let k = 0; k < 12; k++) ext.push(60, 0, 1, 4, 0, 0, 0, 0); // dstopts chain, PadN(4)
  ext[ext.length - 8] = 17;
  const { out, events } = run([[...eth(0x86dd), ...ipv6(60, [...ext, ...udp(1, 2)])]]);
  assert.ok(out.layers[0]! & LAYER.INVALID);
  assert.equal(events['decoder.ipv6.exthdr_too_many'], 1);
});

test('ipv6: payload length beyond the frame is trunc_pkt, unless the snaplen cut it', () => {
  const p = [...eth(0x86dd), ...ipv6(17, udp(1, 2, [1, 2, 3, 4]))];
  const a = run([p.slice(0, p.length - 2)]);
  assert.equal(a.events['decoder.ipv6.trunc_pkt'], 1);
  const b = run([p.slice(0, p.length - 2)], { origLen: [p.length] });
  assert.deepEqual(b.events, {});
  assert.ok(b.out.pflags[0]! & PFLAG.SNAPLEN_TRUNC);
  assert.equal(b.out.payLen[0], 2);
});

test('ipv6: ESP and No Next Header end the chain as OTHER_IP', () => {
  const { out, events } = run([
    [...eth(0x86dd), ...ipv6(50, [0, 0, 0, 1, 0, 0, 0, 1])],
    [...eth(0x86dd), ...ipv6(59, [1, 2])],
  ]);
  assert.ok(out.layers[0]! & LAYER.OTHER_IP);
  assert.equal(out.proto[0], 50);
  assert.ok(out.layers[1]! & LAYER.OTHER_IP);
  assert.deepEqual(events, { 'decoder.ipv6.data_after_none_header': 1 });
});
