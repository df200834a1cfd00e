import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LAYER, PFLAG } from './batch.js';
import { Decoder } from './decode.js';
import { eth, ipv4, ipv6, run, tcp, udp, v4Pseudo, withChecksum } from './test-packets.js';

/** A UDP datagram of `n` payload bytes (byte k = k & 0xff) with a valid checksum. */
function bigUdp(n: number): number[] {
  const payload = Array.from({ length: n }, (_, k) => k & 0xff);
  return withChecksum(udp(4000, 5000, payload), 6, v4Pseudo(17, n + 8));
}

/** IPv4 fragments of `l4` (the IP payload) cut at the given byte offsets (multiples of 8). */
function v4Frags(l4: number[], cuts: number[], id = 77): number[][] {
  const bounds = [0, ...cuts, l4.length];
  const out: number[][] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const s = bounds[k]!;
    const more = k + 2 < bounds.length;
    out.push([...eth(0x0800), ...ipv4(17, l4.slice(s, bounds[k + 1]), { id, frag: (more ? 0x2000 : 0) | (s >> 3) })]);
  }
  return out;
}

test('defrag: IPv4 fragments in order are rebuilt into out.alt and decoded', () => {
  const l4 = bigUdp(3000);
  const frags = v4Frags(l4, [1480, 2960]);
  const { out, events } = run(frags, { options: { checksumValidation: true } });
  assert.ok(out.layers[0]! & LAYER.FRAGMENT);
  assert.equal(out.layers[0]! & LAYER.UDP, 0); // no L4 decode of a non-final fragment
  assert.equal(out.proto[0], 17);
  assert.equal(out.src[0], 0x0a000001);
  assert.ok(out.layers[1]! & LAYER.FRAGMENT);
  const l = out.layers[2]!;
  assert.ok(l & LAYER.REASSEMBLED && l & LAYER.UDP && !(l & LAYER.FRAGMENT));
  assert.equal(out.bufSel[2], 1);
  assert.equal(out.ipLen[2], 20 + 3008);
  assert.equal(out.payLen[2], 3000);
  assert.equal(out.sport[2], 4000);
  const alt = out.bytesOf(2, Buffer.alloc(0));
  assert.equal(alt[out.payOff[2]! + 2999], 2999 & 0xff);
  assert.equal(out.pflags[2]! & (PFLAG.BAD_L4_CSUM | PFLAG.BAD_IP_CSUM), 0); // rebuilt checksums verify
  assert.equal(events['defrag.ipv4.fragments'], 3);
  assert.equal(events['defrag.ipv4.reassembled'], 1);
});

test('defrag: out of order, the completing fragment carries the datagram', () => {
  const frags = v4Frags(bigUdp(2000), [800, 1600]);
  const { out } = run([frags[2]!, frags[0]!, frags[1]!]);
  assert.ok(out.layers[0]! & LAYER.FRAGMENT);
  assert.ok(out.layers[1]! & LAYER.FRAGMENT);
  assert.ok(out.layers[2]! & LAYER.REASSEMBLED && out.layers[2]! & LAYER.UDP);
  assert.equal(out.payLen[2], 2000);
});

test('defrag: overlapping fragments, first wins, flagged', () => {
  const l4 = bigUdp(64);
  const evil = [...l4];
  for (let k = 16; k < 32; k++) evil[k] = 0xee; // different bytes at 16..31
  const a = [...eth(0x0800), ...ipv4(17, l4.slice(0, 32), { id: 9, frag: 0x2000 })]; // 0..31, MF
  const b = [...eth(0x0800), ...ipv4(17, evil.slice(16, 48), { id: 9, frag: 0x2000 | 2 })]; // 16..47 overlaps
  const c = [...eth(0x0800), ...ipv4(17, l4.slice(48), { id: 9, frag: 6 })]; // 48..71, last
  const { out, events } = run([a, b, c]);
  assert.ok(out.pflags[1]! & PFLAG.FRAG_OVERLAP);
  assert.ok(out.layers[2]! & LAYER.REASSEMBLED);
  assert.ok(out.pflags[2]! & PFLAG.FRAG_OVERLAP);
  const alt = out.bytesOf(2, Buffer.alloc(0));
  const l4Off = out.l4Off[2]!;
  assert.deepEqual([...alt.subarray(l4Off, l4Off + 72)], l4); // the first copy of bytes 16..31 kept
  assert.equal(events['decoder.ipv4.frag_overlap'], 1);
});

test('defrag: IPv6 fragment header reassembly', () => {
  const payload = udp(
    1,
    2,
    Array.from({ length: 100 }, (_, k) => k),
  );
  const fh = (off: number, more: boolean): number[] => [
    17, // next header: UDP
    0, // reserved
    (off >> 8) & 0xff,
    (off & 0xf8) | (more ? 1 : 0), // offset (bytes, multiple of 8), M flag
    0,
    0,
    0x12,
    0x34, // identification
  ];
  const f1 = [...eth(0x86dd), ...ipv6(44, [...fh(0, true), ...payload.slice(0, 56)])];
  const f2 = [...eth(0x86dd), ...ipv6(44, [...fh(56, false), ...payload.slice(56)])];
  const { out, events } = run([f1, f2]);
  assert.ok(out.layers[0]! & LAYER.FRAGMENT);
  assert.equal(out.ipVer[0], 6);
  assert.ok(out.layers[1]! & LAYER.REASSEMBLED && out.layers[1]! & LAYER.UDP);
  assert.equal(out.ipHdrLen[1], 40); // the fragment header is gone
  assert.equal(out.ipLen[1], 40 + 108);
  assert.equal(out.payLen[1], 100);
  assert.equal(events['defrag.ipv6.reassembled'], 1);
});

test('defrag: tracker cap evicts the oldest datagram; timeouts use packet time', () => {
  const dec = new Decoder({ checksumValidation: false, defragMaxTrackers: 2, defragTimeoutUs: 1_000_000 });
  const first = (id: number): number[] => [
    ...eth(0x0800),
    ...ipv4(17, new Array<number>(8).fill(0), { id, frag: 0x2000 }),
  ];
  const last = (id: number): number[] => [...eth(0x0800), ...ipv4(17, [1, 2, 3, 4], { id, frag: 1 })];
  run([first(1), first(2), first(3), last(1), last(3)], { decoder: dec });
  let ev = dec.eventCounts();
  // id 3 evicts id 1; id 1's late last fragment opens a tracker again, evicting id 2; id 3 completes.
  assert.equal(ev['defrag.max_trackers_reached'], 2);
  assert.equal(ev['defrag.ipv4.reassembled'], 1);
  assert.equal(dec.defragUsage().trackers, 1); // id 1's last fragment started a new tracker
  run([first(4)], { decoder: dec, tsUs: [1_700_000_000_000_000 + 5_000_000] });
  ev = dec.eventCounts();
  assert.ok((ev['defrag.ipv4.timeouts'] ?? 0) >= 1);
});

test('defrag: byte cap drops datagrams and counts defrag.max_frag_hits', () => {
  const dec = new Decoder({ checksumValidation: false, defragMaxBytes: 4000 });
  const pkts: number[][] = [];
  for (let id = 1; id <= 4; id++)
    pkts.push([...eth(0x0800), ...ipv4(17, new Array<number>(1480).fill(id), { id, frag: 0x2000 })]);
  run(pkts, { decoder: dec });
  assert.ok((dec.eventCounts()['defrag.max_frag_hits'] ?? 0) >= 1);
  assert.ok(dec.defragUsage().bytes <= 4000);
});

test('defrag: too large and bad-length fragments are events, not exceptions', () => {
  const tooLarge = [...eth(0x0800), ...ipv4(17, new Array<number>(100).fill(0), { id: 5, frag: 8190 })]; // offset 65520 + 100
  const oddLen = [...eth(0x86dd), ...ipv6(44, [17, 0, 0, 1, 0, 0, 0, 9, 1, 2, 3])]; // M=1 with 3 bytes
  const { out, events } = run([tooLarge, oddLen]);
  assert.ok(out.layers[0]! & LAYER.INVALID);
  assert.equal(events['decoder.ipv4.frag_pkt_too_large'], 1);
  assert.ok(out.layers[1]! & LAYER.INVALID);
  assert.equal(events['decoder.ipv6.frag_invalid_length'], 1);
});

test('defrag: a fragmented TCP segment decodes its header from the rebuilt datagram', () => {
  const seg = tcp(
    1234,
    80,
    Array.from({ length: 40 }, () => 0x41),
    { flags: 0x18 },
  );
  const { out } = run(
    v4Frags(seg, [16]).map((p) => {
      p[14 + 9] = 6; // protocol TCP
      return p;
    }),
  );
  assert.ok(out.layers[1]! & LAYER.TCP);
  assert.equal(out.dport[1], 80);
  assert.equal(out.tcpFlags[1], 0x18);
  assert.equal(out.payLen[1], 40);
});
