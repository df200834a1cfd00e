/**
 * StreamReassembler on hand-built batches: the columns the decoder and the flow table would set
 * (flow slot, direction, TCP seq/ack/flags, payload offset/length, IP/TCP lengths), made with the
 * flow layer's synthBatch and the TCP fields filled in here.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { TCP_FLAG } from '../decode/batch.js';
import { synthBatch } from '../flow/synth.js';
import type { SynthPacket } from '../flow/synth.js';
import { STREAM_EVENT, STREAM_EVENT_NAMES, SEGMENT_OVERHEAD, StreamReassembler } from './reassembly.js';
import type { StreamOptions } from './reassembly.js';

const { SYN, ACK, FIN, RST, PSH } = TCP_FLAG;

interface Seg {
  /** 0 client->server, 1 server->client. */
  dir: number;
  seq: number;
  ack?: number;
  flags?: number;
  data?: string | Uint8Array;
  /** TCP payload length on the wire when the capture cut it (> captured bytes). */
  wire?: number;
  slot?: number;
}

/** Collects delivered bytes per slot/direction and checks stream offsets are contiguous. */
class Sink {
  readonly out = new Map<string, number[]>();
  readonly offsets = new Map<string, number>();
  readonly evs: string[] = [];
  readonly r: StreamReassembler;
  constructor(opts: Partial<StreamOptions> = {}) {
    this.r = new StreamReassembler(
      { maxFlows: 8, ...opts },
      (slot, dir, buf, off, len, so) => {
        const k = `${slot}/${dir}`;
        const arr = this.out.get(k) ?? [];
        // Stream offsets never go backwards and never overlap the previous delivery.
        assert.ok(so >= (this.offsets.get(k) ?? 0), `offset ${so} went backwards`);
        this.offsets.set(k, so + len);
        for (let j = 0; j < len; j++) arr.push(buf[off + j]!);
        this.out.set(k, arr);
      },
      (slot, dir, ev) => this.evs.push(`${slot}/${dir} ${STREAM_EVENT_NAMES[ev]}`),
    );
  }
  feed(segs: readonly Seg[]): void {
    const list: SynthPacket[] = segs.map((s) => ({
      ts: 1,
      src: '10.0.0.1',
      dst: '10.0.0.2',
      sport: 1234,
      dport: 80,
      flags: s.flags ?? ACK,
      payload: typeof s.data === 'string' ? Buffer.from(s.data, 'latin1') : s.data,
    }));
    const { pkts, dec } = synthBatch(list);
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i]!;
      dec.tcpSeq[i] = s.seq >>> 0;
      dec.tcpAck[i] = (s.ack ?? 0) >>> 0;
      dec.flowSlot[i] = s.slot ?? 0;
      dec.flowDir[i] = s.dir;
      if (s.wire !== undefined) dec.ipLen[i] = 20 + 20 + s.wire;
    }
    this.r.process(pkts, dec);
  }
  text(dir: number, slot = 0): string {
    return Buffer.from(this.out.get(`${slot}/${dir}`) ?? []).toString('latin1');
  }
}

const C_ISN = 1000;
const S_ISN = 5000;

/** SYN, SYN-ACK, ACK: client data starts at C_ISN + 1, server data at S_ISN + 1. */
function handshake(c = C_ISN, s = S_ISN, slot = 0): Seg[] {
  return [
    { dir: 0, seq: c, flags: SYN, slot },
    { dir: 1, seq: s, ack: c + 1, flags: SYN | ACK, slot },
    { dir: 0, seq: c + 1, ack: s + 1, slot },
  ];
}

test('in-order delivery in both directions, no copy of the packet bytes needed', () => {
  const k = new Sink();
  k.feed([
    ...handshake(),
    { dir: 0, seq: C_ISN + 1, ack: S_ISN + 1, flags: ACK | PSH, data: 'GET / HTTP/1.1\r\n' },
    { dir: 0, seq: C_ISN + 17, ack: S_ISN + 1, flags: ACK | PSH, data: 'Host: a\r\n\r\n' },
    { dir: 1, seq: S_ISN + 1, ack: C_ISN + 28, flags: ACK | PSH, data: 'HTTP/1.1 200 OK\r\n' },
    { dir: 1, seq: S_ISN + 18, ack: C_ISN + 28, flags: ACK | FIN, data: '\r\n' },
    { dir: 0, seq: C_ISN + 28, ack: S_ISN + 21, flags: ACK | FIN },
  ]);
  assert.equal(k.text(0), 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.equal(k.text(1), 'HTTP/1.1 200 OK\r\n\r\n');
  assert.deepEqual(k.evs, []);
  assert.equal(k.r.streamOffset(0, 0), 27);
  assert.equal(k.r.stats()['delivered_bytes'], 27 + 19);
});

test('out-of-order segments are buffered, then delivered once the hole is filled', () => {
  const k = new Sink();
  k.feed([...handshake(), { dir: 0, seq: C_ISN + 7, data: 'CCC' }, { dir: 0, seq: C_ISN + 4, data: 'BBB' }]);
  assert.equal(k.text(0), '');
  assert.equal(k.r.stats()['segments'], 2);
  assert.equal(k.r.stats()['reassembly_memuse'], 6 + 2 * SEGMENT_OVERHEAD);
  k.feed([{ dir: 0, seq: C_ISN + 1, data: 'AAA' }]);
  assert.equal(k.text(0), 'AAABBBCCC');
  assert.equal(k.r.stats()['segments'], 0);
  assert.equal(k.r.stats()['reassembly_memuse'], 0);
  assert.deepEqual(k.evs, []);
});

test('overlap with buffered bytes: same data is no event, different data raises one and the first bytes win', () => {
  const k = new Sink();
  k.feed([
    ...handshake(),
    { dir: 0, seq: C_ISN + 5, data: 'efgh' },
    { dir: 0, seq: C_ISN + 3, data: 'cdef' }, // overlaps "ef" with the same bytes
  ]);
  assert.deepEqual(k.evs, []);
  k.feed([{ dir: 0, seq: C_ISN + 7, data: 'XYij' }]); // "gh" rewritten as "XY": evasion attempt
  assert.deepEqual(k.evs, ['0/0 stream.reassembly_overlap_different_data']);
  k.feed([{ dir: 0, seq: C_ISN + 1, data: 'ab' }]);
  assert.equal(k.text(0), 'abcdefghij');
  assert.equal(k.r.events[STREAM_EVENT.OVERLAP_DIFFERENT_DATA], 1);
  assert.ok(k.r.stats()['overlap']! >= 2);
});

test('retransmissions and partial retransmissions deliver each byte once', () => {
  const k = new Sink();
  k.feed([
    ...handshake(),
    { dir: 0, seq: C_ISN + 1, data: 'hello ' },
    { dir: 0, seq: C_ISN + 1, data: 'hello ' }, // full retransmission
    { dir: 0, seq: C_ISN + 4, data: 'lo world' }, // partial: "lo " already delivered
  ]);
  assert.equal(k.text(0), 'hello world');
  assert.equal(k.r.stats()['retransmissions'], 1);
  assert.deepEqual(k.evs, []);
});

test('sequence numbers wrap at 2^32', () => {
  const k = new Sink();
  const isn = 0xfffffffa;
  k.feed([
    ...handshake(isn),
    { dir: 0, seq: 0x00000003, data: 'World' }, // ahead, past the wrap
    { dir: 0, seq: 0xfffffffb, data: 'Hello, ' }, // 0xfffffffb..0x00000001
    { dir: 0, seq: 0x00000002, data: ' ' },
  ]);
  assert.equal(k.text(0), 'Hello,  World');
  assert.deepEqual(k.evs, []);
});

test('ACK beyond the next expected byte skips the hole and delivers buffered data', () => {
  const k = new Sink();
  k.feed([
    ...handshake(),
    { dir: 0, seq: C_ISN + 1, data: 'aaaa' },
    // "bbbb" at +5 was lost by the capture.
    { dir: 0, seq: C_ISN + 9, data: 'cccc' },
    { dir: 1, seq: S_ISN + 1, ack: C_ISN + 13 }, // server acknowledges everything
    { dir: 0, seq: C_ISN + 13, data: 'dd' },
  ]);
  assert.equal(k.text(0), 'aaaaccccdd');
  assert.deepEqual(k.evs, ['0/0 stream.reassembly_seq_gap']);
  assert.equal(k.r.stats()['gap_bytes'], 4);
  assert.equal(k.r.streamOffset(0, 0), 14);
  assert.ok(k.r.hadGap(0, 0));
  assert.ok(!k.r.hadGap(0, 1));
});

test('ACK beyond with nothing buffered skips to the acknowledged byte', () => {
  const k = new Sink();
  k.feed([
    ...handshake(),
    { dir: 1, seq: S_ISN + 1, ack: C_ISN + 101 }, // 100 unseen bytes acknowledged
    { dir: 0, seq: C_ISN + 101, data: 'next' },
  ]);
  assert.equal(k.text(0), 'next');
  assert.equal(k.r.streamOffset(0, 0), 104);
  assert.equal(k.r.events[STREAM_EVENT.SEQ_GAP], 1);
});

test('depth: delivery stops after `depth` bytes, one event, later data ignored', () => {
  const k = new Sink({ depth: 10 });
  k.feed([
    ...handshake(),
    { dir: 0, seq: C_ISN + 13, data: 'zzzz' }, // buffered, freed at the depth
    { dir: 0, seq: C_ISN + 1, data: '12345678' },
    { dir: 0, seq: C_ISN + 9, data: 'abcd' },
    { dir: 0, seq: C_ISN + 17, data: 'more' },
    { dir: 0, seq: C_ISN + 100, data: 'far' },
    { dir: 1, seq: S_ISN + 1, data: 'server' },
  ]);
  assert.equal(k.text(0), '12345678ab');
  assert.equal(k.text(1), 'server');
  assert.deepEqual(k.evs, ['0/0 stream.reassembly_depth_reached']);
  assert.equal(k.r.stats()['segments'], 0);
  assert.equal(k.r.stats()['reassembly_memuse'], 0);
});

test('depth 0 is unlimited', () => {
  const k = new Sink({ depth: 0 });
  const big = Buffer.alloc(3000, 0x41);
  k.feed([...handshake(), { dir: 0, seq: C_ISN + 1, data: big }, { dir: 0, seq: C_ISN + 3001, data: big }]);
  assert.equal(k.text(0).length, 6000);
});

test('maxSegments caps buffered segments per direction', () => {
  const k = new Sink({ maxSegments: 2 });
  k.feed([
    ...handshake(),
    { dir: 0, seq: C_ISN + 3, data: 'b' },
    { dir: 0, seq: C_ISN + 5, data: 'd' },
    { dir: 0, seq: C_ISN + 7, data: 'f' }, // third: dropped
    { dir: 1, seq: S_ISN + 3, data: 'x' }, // the other direction has its own cap
  ]);
  assert.deepEqual(k.evs, ['0/0 stream.reassembly_insert_limit']);
  assert.equal(k.r.stats()['segments'], 3);
});

test('memcap caps buffered bytes across flows', () => {
  const cap = 2 * (100 + SEGMENT_OVERHEAD);
  const k = new Sink({ memcap: cap });
  const d = Buffer.alloc(100, 0x61);
  k.feed([
    ...handshake(C_ISN, S_ISN, 0),
    ...handshake(C_ISN, S_ISN, 1),
    { dir: 0, seq: C_ISN + 11, data: d, slot: 0 },
    { dir: 0, seq: C_ISN + 11, data: d, slot: 1 },
    { dir: 0, seq: C_ISN + 211, data: d, slot: 1 }, // over the memcap: dropped
  ]);
  assert.deepEqual(k.evs, ['1/0 stream.reassembly_insert_memcap']);
  const st = k.r.stats();
  assert.equal(st['reassembly_memuse'], cap);
  assert.equal(st['reassembly_memuse_max'], cap);
  // Releasing a flow frees its share.
  k.r.release(0, false);
  assert.equal(k.r.stats()['reassembly_memuse'], cap / 2);
});

test('midstream off: data without a seen handshake is ignored', () => {
  const k = new Sink();
  k.feed([
    { dir: 0, seq: 777, ack: 1, data: 'GET /' },
    { dir: 0, seq: C_ISN, flags: SYN, slot: 1 }, // SYN only, no SYN-ACK: not reassembled yet
    { dir: 0, seq: C_ISN + 1, data: 'early', slot: 1 },
  ]);
  assert.equal(k.text(0), '');
  assert.equal(k.text(0, 1), '');
  assert.equal(k.r.stats()['no_handshake_ignored'], 2);
});

test('midstream on: the first data segment of a direction sets its start', () => {
  const k = new Sink({ midstream: true });
  k.feed([
    { dir: 0, seq: 777, ack: 1, data: 'GET /' },
    { dir: 1, seq: 9, ack: 782, data: 'HTTP' },
    { dir: 0, seq: 782, ack: 13, data: ' x' },
  ]);
  assert.equal(k.text(0), 'GET / x');
  assert.equal(k.text(1), 'HTTP');
  assert.equal(k.r.stats()['midstream_pickups'], 2);
});

test('release delivers buffered data beyond a hole (gap event) and frees memory', () => {
  const k = new Sink();
  k.feed([...handshake(), { dir: 0, seq: C_ISN + 1, data: 'ab' }, { dir: 0, seq: C_ISN + 6, data: 'fg' }]);
  assert.ok(k.r.stats()['reassembly_memuse']! > 0);
  k.r.release(0);
  k.offsets.clear();
  assert.equal(k.text(0), 'abfg');
  assert.deepEqual(k.evs, ['0/0 stream.reassembly_seq_gap']);
  assert.equal(k.r.stats()['reassembly_memuse'], 0);
  assert.equal(k.r.stats()['segments'], 0);
  // The slot starts afresh for the next flow.
  k.feed([...handshake(9, 99), { dir: 0, seq: 10, data: 'new' }]);
  assert.equal(k.text(0), 'abfgnew');
  assert.equal(k.r.streamOffset(0, 0), 3);
});

test('release(slot, false) drops buffered data silently', () => {
  const k = new Sink();
  k.feed([...handshake(), { dir: 0, seq: C_ISN + 6, data: 'fg' }]);
  k.r.release(0, false);
  assert.equal(k.text(0), '');
  assert.deepEqual(k.evs, []);
  assert.equal(k.r.stats()['reassembly_memuse'], 0);
});

test('snaplen-truncated payload: captured bytes delivered, the rest is a gap', () => {
  const k = new Sink();
  k.feed([
    ...handshake(),
    { dir: 0, seq: C_ISN + 1, data: 'abcd', wire: 10 }, // 6 bytes cut by the snaplen
    { dir: 0, seq: C_ISN + 11, data: 'next' },
  ]);
  assert.equal(k.text(0), 'abcdnext');
  assert.deepEqual(k.evs, ['0/0 stream.reassembly_seq_gap']);
  assert.equal(k.r.streamOffset(0, 0), 14);
});

test('SYN data, RST data and a SYN-ACK with a wrong ACK', () => {
  const k = new Sink();
  k.feed([
    { dir: 0, seq: C_ISN, flags: SYN, data: 'tfo' },
    { dir: 1, seq: S_ISN, ack: 42, flags: SYN | ACK },
    { dir: 0, seq: C_ISN + 1, flags: RST, data: 'rst' },
  ]);
  assert.equal(k.text(0), '');
  assert.equal(k.r.stats()['syn_data_ignored'], 1);
  assert.deepEqual(k.evs, ['0/1 stream.3whs_synack_with_wrong_ack', '0/0 stream.rst_with_data']);
});

test('segments far out of window are dropped with an event', () => {
  const k = new Sink();
  k.feed([...handshake(), { dir: 0, seq: C_ISN + 1 + 0x50000000, data: 'x' }]);
  assert.deepEqual(k.evs, ['0/0 stream.est_packet_out_of_window']);
  assert.equal(k.r.stats()['segments'], 0);
});

test('slots beyond maxFlows are counted and ignored', () => {
  const k = new Sink({ maxFlows: 1 });
  k.feed([{ dir: 0, seq: 1, flags: SYN, slot: 3 }]);
  assert.equal(k.r.stats()['bad_slot'], 1);
});

test('eventCounts names every event', () => {
  const k = new Sink();
  const c = k.r.eventCounts();
  assert.equal(Object.keys(c).length, STREAM_EVENT_NAMES.length);
  for (const n of STREAM_EVENT_NAMES) assert.ok(n.startsWith('stream.'));
});

/** xorshift32: reproducible randomness for the property test. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

test('property: shuffled, duplicated and overlapping segments rebuild the stream exactly', () => {
  for (let round = 0; round < 200; round++) {
    const rnd = rng(round + 1);
    const size = 1 + Math.floor(rnd() * 4000);
    const data = Buffer.alloc(size);
    for (let j = 0; j < size; j++) data[j] = Math.floor(rnd() * 256);
    const isn = Math.floor(rnd() * 4294967296) >>> 0; // wraps in some rounds
    // Split at random points; some segments are re-sent with extra overlap on either side.
    const segs: Seg[] = [];
    for (let at = 0; at < size;) {
      const n = Math.min(size - at, 1 + Math.floor(rnd() * 300));
      segs.push({ dir: 0, seq: (isn + 1 + at) >>> 0, data: data.subarray(at, at + n) });
      if (rnd() < 0.3) {
        const a = Math.max(0, at - Math.floor(rnd() * 50));
        const b = Math.min(size, at + n + Math.floor(rnd() * 50));
        segs.push({ dir: 0, seq: (isn + 1 + a) >>> 0, data: data.subarray(a, b) });
      }
      at += n;
    }
    // Shuffle within a window of 8 segments (reordering as on a real path).
    for (let j = 0; j < segs.length; j++) {
      const w = Math.min(segs.length - 1, j + Math.floor(rnd() * 8));
      const t = segs[j]!;
      segs[j] = segs[w]!;
      segs[w] = t;
    }
    const k = new Sink({ depth: 0 });
    k.feed(handshake(isn));
    // Feed in batches of random size.
    for (let j = 0; j < segs.length;) {
      const n = 1 + Math.floor(rnd() * 16);
      k.feed(segs.slice(j, j + n));
      j += n;
    }
    assert.ok(Buffer.from(k.out.get('0/0') ?? []).equals(data), `round ${round}`);
    assert.deepEqual(k.evs, [], `round ${round}`);
    assert.equal(k.r.stats()['segments'], 0);
    assert.equal(k.r.stats()['reassembly_memuse'], 0);
  }
});

test('TCP Fast Open: SYN data joins the stream only when the SYN-ACK acknowledges it', () => {
  const acked = new Sink();
  acked.feed([
    { dir: 0, seq: C_ISN, flags: SYN, data: 'GET /a ' },
    { dir: 1, seq: S_ISN, ack: C_ISN + 8, flags: SYN | ACK },
    { dir: 0, seq: C_ISN + 8, ack: S_ISN + 1, flags: ACK | PSH, data: 'HTTP/1.0\r\n\r\n' },
  ]);
  assert.equal(acked.text(0), 'GET /a HTTP/1.0\r\n\r\n');
  assert.deepEqual(acked.evs, []);
  // The server acknowledges only the SYN (ISN + 1): the data was not accepted and is resent.
  const refused = new Sink();
  refused.feed([
    { dir: 0, seq: C_ISN, flags: SYN, data: 'GET /a ' },
    { dir: 1, seq: S_ISN, ack: C_ISN + 1, flags: SYN | ACK },
    { dir: 0, seq: C_ISN + 1, ack: S_ISN + 1, flags: ACK | PSH, data: 'GET /b HTTP/1.0\r\n\r\n' },
  ]);
  assert.equal(refused.text(0), 'GET /b HTTP/1.0\r\n\r\n');
});
