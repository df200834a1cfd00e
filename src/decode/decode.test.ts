import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { PacketBatch } from '../capture/batch.js';
import { DecodedBatch, LAYER } from './batch.js';
import { Decoder, KIND_CASES } from './decode.js';
import { DECODER_EVENT_NAMES, EV } from './events.js';
import { eth, ipv4, run, udp } from './test-packets.js';

test('decode: the literal switch cases match the kinds of ctx.ts', () => {
  assert.equal(new Set(KIND_CASES.map((c) => c[1])).size, KIND_CASES.length);
  for (const [kind, literal] of KIND_CASES) assert.equal(kind, literal);
});

test('decode: out.count follows the batch; columns are cleared per packet', () => {
  const d = new Decoder({ checksumValidation: false });
  const out = new DecodedBatch(4);
  run([[...eth(0x0800), ...ipv4(17, udp(1, 2))]], { decoder: d });
  const a = run(
    [
      [...eth(0x0800), ...ipv4(17, udp(1, 2))],
      [1, 2],
    ],
    { decoder: d },
  );
  assert.equal(a.out.count, 2);
  assert.equal(a.out.sport[1], 0);
  assert.equal(a.out.l3Off[1], -1);
  const empty = new PacketBatch(4);
  d.decode(empty, out);
  assert.equal(out.count, 0);
});

test('decode: offsets past the batch buffer are clamped, never read', () => {
  const b = new PacketBatch(2);
  b.buf = Buffer.alloc(10);
  b.count = 2;
  b.off[0] = 8;
  b.capLen[0] = 100;
  b.origLen[0] = 100;
  b.linkType[0] = 1;
  b.off[1] = 1000;
  b.capLen[1] = 5;
  b.linkType[1] = 101;
  const d = new Decoder({ checksumValidation: true });
  const out = new DecodedBatch(2);
  d.decode(b, out);
  assert.equal(d.events[EV.INTERNAL_ERROR], 0);
  assert.equal(out.count, 2);
});

test('events: names are unique, dotted, and eventCounts reports non-zero ones', () => {
  assert.equal(new Set(DECODER_EVENT_NAMES).size, DECODER_EVENT_NAMES.length);
  for (const n of DECODER_EVENT_NAMES) assert.match(n, /^(decoder|defrag)\.[a-z0-9_.]+$/);
  assert.equal(DECODER_EVENT_NAMES[EV.IPV4_TRUNC_PKT], 'decoder.ipv4.trunc_pkt');
  const { decoder } = run([[...eth(0x0800), 0x45]]);
  assert.deepEqual(decoder.eventCounts(), { 'decoder.ipv4.pkt_too_small': 1 });
  assert.equal(decoder.events.length, DECODER_EVENT_NAMES.length);
});

test('decode: out.alt is reused across batches (offsets restart per batch)', () => {
  const d = new Decoder({ checksumValidation: false });
  const frag = (id: number, off: number, more: boolean, data: number[]): number[] => [
    ...eth(0x0800),
    ...ipv4(17, data, { id, frag: (more ? 0x2000 : 0) | off }),
  ];
  const l4 = udp(1, 2, new Array<number>(16).fill(3));
  for (let round = 0; round < 2; round++) {
    const r = run([frag(round + 1, 0, true, l4.slice(0, 16)), frag(round + 1, 2, false, l4.slice(16))], { decoder: d });
    assert.ok(r.out.layers[1]! & LAYER.REASSEMBLED);
    assert.equal(r.out.l3Off[1], 0); // the rebuilt datagram starts out.alt again
  }
});
