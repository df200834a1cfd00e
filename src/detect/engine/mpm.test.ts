import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../../test/fuzz/prng.js';
import { MPM_MAX_PATTERN, MpmBuilder } from './mpm.js';
import type { Mpm, MpmBuilderOptions } from './mpm.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function build(pats: [Uint8Array | string, number][], opts?: MpmBuilderOptions): Mpm {
  const b = new MpmBuilder(opts);
  for (const [p, id] of pats) b.add(typeof p === 'string' ? enc(p) : p, id);
  return b.build();
}

/** Sorted distinct ids found in buf[off, off+len) with fresh scratch. */
function ids(m: Mpm, buf: Uint8Array | string, off = 0, len?: number): number[] {
  const b = typeof buf === 'string' ? enc(buf) : buf;
  const out = new Int32Array(Math.max(1, m.idCapacity));
  const seen = new Uint32Array(m.idCapacity);
  const n = m.scan(b, off, len ?? b.length - off, out, seen, 1);
  return Array.from(out.subarray(0, n)).sort((x, y) => x - y);
}

// Default; root-only dense rows (everything else in the double array), also with every state
// appended at the end of the double array; forced full DFA.
const LAYOUTS: MpmBuilderOptions[] = [
  {},
  { denseBudget: 0 },
  { denseBudget: 0, packAttempts: 0 },
  { denseBudget: Infinity },
];

test('no patterns: scan finds nothing, also on empty buffers', () => {
  const m = new MpmBuilder().build();
  assert.equal(m.patternCount, 0);
  assert.equal(m.idCapacity, 0);
  assert.deepEqual(ids(m, 'anything at all'), []);
  assert.deepEqual(ids(m, new Uint8Array(0)), []);
  assert.ok(m.memoryBytes > 0);
});

test('case-insensitive for ASCII letters only', () => {
  for (const o of LAYOUTS) {
    const m = build(
      [
        ['GET ', 1],
        ['user-agent', 2],
        ['[x', 3], // 0x5b must not match 0x7b '{'
        [new Uint8Array([0xc9]), 4], // non-ASCII: no folding to 0xe9
      ],
      o,
    );
    assert.deepEqual(ids(m, 'get /index HTTP/1.1\r\nUSER-Agent: x'), [1, 2]);
    assert.deepEqual(ids(m, 'gEt {x'), [1]);
    assert.deepEqual(ids(m, '[X'), [3]);
    assert.deepEqual(ids(m, new Uint8Array([0xe9, 0xc9])), [4]);
    assert.deepEqual(ids(m, new Uint8Array([0xe9])), []);
  }
});

test('prefixes, suffixes and nested patterns (he/she/his/hers, a/aa/aaa)', () => {
  for (const o of LAYOUTS) {
    const m = build(
      [
        ['he', 1],
        ['she', 2],
        ['his', 3],
        ['hers', 4],
        ['a', 10],
        ['aa', 11],
        ['aaa', 12],
      ],
      o,
    );
    assert.deepEqual(ids(m, 'ushers'), [1, 2, 4]);
    assert.deepEqual(ids(m, 'hishe'), [1, 2, 3]);
    assert.deepEqual(ids(m, 'his he'), [1, 3]);
    assert.deepEqual(ids(m, 'xaax'), [10, 11]);
    assert.deepEqual(ids(m, 'aaaa'), [10, 11, 12]);
    assert.deepEqual(ids(m, 'h'), []);
  }
});

test('1-byte patterns and bytes 0x00 / 0xff', () => {
  for (const o of LAYOUTS) {
    const m = build(
      [
        [new Uint8Array([0x00]), 1],
        [new Uint8Array([0xff]), 2],
        [new Uint8Array([0xff, 0x00, 0xff]), 3],
        [new Uint8Array([0x00, 0x00]), 4],
      ],
      o,
    );
    assert.deepEqual(ids(m, new Uint8Array([0x01, 0x00, 0x02])), [1]);
    assert.deepEqual(ids(m, new Uint8Array([0xff, 0x00, 0xff])), [1, 2, 3]);
    assert.deepEqual(ids(m, new Uint8Array([0xfe, 0x00, 0x00])), [1, 4]);
    assert.deepEqual(ids(m, new Uint8Array([0xfe, 0x01])), []);
  }
});

test('duplicate ids: same bytes under several ids, one id on several patterns', () => {
  const m = build([
    ['abc', 7],
    ['abc', 3],
    ['ABC', 3], // same folded bytes and id: one entry
    ['xyz', 3],
    ['q', 9],
  ]);
  assert.equal(m.patternCount, 5);
  assert.equal(m.idCapacity, 10);
  assert.deepEqual(ids(m, '..abc..'), [3, 7]);
  assert.deepEqual(ids(m, 'abc xyz abc xyz'), [3, 7]);
  assert.deepEqual(ids(m, 'xyz'), [3]);
});

test('off/len: range limits, empty ranges, range at and past the buffer end', () => {
  for (const o of LAYOUTS) {
    const m = build(
      [
        ['abc', 1],
        ['z', 2],
      ],
      o,
    );
    const b = enc('zabcz');
    assert.deepEqual(ids(m, b, 1, 3), [1]);
    assert.deepEqual(ids(m, b, 1, 2), []); // 'ab' only
    assert.deepEqual(ids(m, b, 2, 3), [2]); // 'bcz': 'abc' starts before off
    assert.deepEqual(ids(m, b, 5, 0), []);
    assert.deepEqual(ids(m, b, 4, 1), [2]);
    assert.deepEqual(ids(m, b, 3, 100), [2]); // clipped to the buffer
    assert.deepEqual(ids(m, new Uint8Array(0), 0, 0), []);
  }
});

test('add validates and truncates to 255 bytes', () => {
  const b = new MpmBuilder();
  assert.throws(() => b.add(new Uint8Array(0), 1), RangeError);
  assert.throws(() => b.add(enc('x'), -1), RangeError);
  assert.throws(() => b.add(enc('x'), 2 ** 31), RangeError);
  assert.throws(() => b.add(enc('x'), 1.5), RangeError);
  assert.throws(() => new MpmBuilder({ packAttempts: -1 }), RangeError);
  assert.throws(() => new MpmBuilder({ denseBudget: Number.NaN }), RangeError);
  const long = new Uint8Array(300).fill(0x61);
  long[299] = 0x62;
  b.add(long, 2 ** 31 - 1);
  const m = b.build();
  assert.equal(m.idCapacity, 2 ** 31);
  // Only the first 255 bytes are kept: 255 'a's already report it (a documented false positive).
  // With id 2^31-1, `seen` would need 2^31 entries: a short one is refused, not overrun.
  const hay = new Uint8Array(MPM_MAX_PATTERN).fill(0x41);
  assert.throws(() => m.scan(hay, 0, hay.length, new Int32Array(1), new Uint32Array(1), 1), RangeError);
  const m2 = build([[long, 5]]);
  assert.deepEqual(ids(m2, hay), [5]);
  assert.deepEqual(ids(m2, hay.subarray(1)), []);
  // The caller's array is copied: changing it after add does not change the automaton.
  const p = enc('abc');
  const b3 = new MpmBuilder();
  b3.add(p, 1);
  p[0] = 0x7a;
  assert.deepEqual(ids(b3.build(), 'abc'), [1]);
});

test('out fills up: stops and returns out.length', () => {
  const m = build([
    ['a', 0],
    ['b', 1],
    ['c', 2],
  ]);
  const seen = new Uint32Array(m.idCapacity);
  const out = new Int32Array(2);
  assert.equal(m.scan(enc('cab'), 0, 3, out, seen, 1), 2);
  assert.deepEqual(Array.from(out), [2, 0]);
  assert.equal(m.scan(enc('cab'), 0, 3, new Int32Array(0), seen, 2), 0);
  const full = new Int32Array(3);
  assert.equal(m.scan(enc('cab'), 0, 3, full, seen, 3), 3);
  assert.deepEqual(Array.from(full).sort(), [0, 1, 2]);
  // Long range (two chains): 'c' early in the first half, 'a' and 'b' in the second half.
  const long = new Uint8Array(200).fill(0x2e);
  long[10] = 0x63;
  long[150] = 0x61;
  long[160] = 0x62;
  for (const o of LAYOUTS) {
    const ml = build(
      [
        ['a', 0],
        ['b', 1],
        ['c', 2],
      ],
      o,
    );
    const two = new Int32Array(2);
    assert.equal(ml.scan(long, 0, long.length, two, new Uint32Array(3), 1), 2);
    assert.equal(new Set(two).size, 2);
    const one = new Int32Array(1);
    assert.equal(ml.scan(long, 0, long.length, one, new Uint32Array(3), 1), 1);
  }
});

test('seen/gen: each id once per scan, reported again in the next scan', () => {
  const m = build([
    ['ab', 4],
    ['b', 2],
    ['ab', 0],
  ]);
  const seen = new Uint32Array(m.idCapacity);
  const out = new Int32Array(16);
  const hay = enc('abababab bbb');
  let gen = 0;
  for (let round = 0; round < 3; round++) {
    gen++;
    const n = m.scan(hay, 0, hay.length, out, seen, gen);
    assert.equal(n, 3);
    assert.deepEqual(Array.from(out.subarray(0, n)).sort(), [0, 2, 4]);
  }
  // Same gen again: everything counts as already reported.
  assert.equal(m.scan(hay, 0, hay.length, out, seen, gen), 0);
  // A different buffer with a new gen reports only what it contains.
  gen++;
  assert.equal(m.scan(enc('xbx'), 0, 3, out, seen, gen), 1);
  assert.equal(out[0], 2);
  // gen is used modulo 2^32.
  seen.fill(0);
  assert.equal(m.scan(hay, 0, hay.length, out, seen, 2 ** 32 + 5), 3);
  assert.equal(m.scan(hay, 0, hay.length, out, seen, 5), 0);
  assert.throws(() => m.scan(hay, 0, hay.length, out, new Uint32Array(2), 1), RangeError);
});

test('long buffers: occurrences across the quarter boundaries, at both ends, odd lengths', () => {
  for (const o of LAYOUTS) {
    const m = build(
      [
        ['abcdefghij', 1],
        ['xy', 2],
        ['q', 3],
        ['zzzz', 4],
      ],
      o,
    );
    for (const len of [64, 65, 100, 101, 255, 256, 257, 258, 259, 1000, 2048, 2049]) {
      // The scan splits at the middle (one chain below 256 bytes) or at the quarters.
      const q = len >> 2;
      for (const cut of [q, 2 * q, 3 * q, len >> 1]) {
        for (let at = cut - 10; at <= cut; at++) {
          const b = new Uint8Array(len).fill(0x2e);
          b.set(enc('ABCdefGHIJ'), at); // ends just before the cut, crosses it, or starts there
          assert.deepEqual(ids(m, b), [1], `len ${len} at ${at}`);
        }
      }
      const b = new Uint8Array(len).fill(0x7a); // all 'z': ends in the same output state each byte
      b[0] = 0x71;
      b[len - 2] = 0x78;
      b[len - 1] = 0x79;
      assert.deepEqual(ids(m, b), [2, 3, 4], `len ${len}`);
      b[len - 1] = 0x71;
      assert.deepEqual(ids(m, b, 1), [3, 4], `len ${len}`);
    }
  }
});

test('a pattern longer than a quarter, crossing two quarter boundaries', () => {
  const long = new Uint8Array(150);
  for (let i = 0; i < long.length; i++) long[i] = 0x41 + (i % 26);
  for (const o of LAYOUTS) {
    const b = new MpmBuilder(o);
    b.add(long, 7);
    b.add(enc('nop'), 8);
    const m = b.build();
    for (const len of [256, 300, 401]) {
      for (const at of [0, 20, 60, (len >> 2) - 1, len - long.length]) {
        const buf = new Uint8Array(len).fill(0x2e);
        buf.set(long, at);
        assert.deepEqual(ids(m, buf), [7, 8], `len ${len} at ${at}`);
        buf[at + 149] = 0x2e; // last byte gone: only the short pattern inside remains
        assert.deepEqual(ids(m, buf), [8], `len ${len} at ${at} truncated`);
      }
    }
  }
});

/** Reference: fold both sides, search each (truncated) pattern with indexOf. */
function naive(pats: [Uint8Array, number][], buf: Uint8Array, off: number, len: number): number[] {
  const fold = (a: Uint8Array): Buffer => Buffer.from(a.map((x) => (x >= 0x41 && x <= 0x5a ? x | 0x20 : x)));
  const hay = fold(buf.subarray(off, off + len));
  const found = new Set<number>();
  for (const [p, id] of pats) if (hay.indexOf(fold(p.subarray(0, MPM_MAX_PATTERN))) >= 0) found.add(id);
  return [...found].sort((x, y) => x - y);
}

test('property: matches a naive search on random small-alphabet sets', () => {
  const rnd = mulberry32(0x5eed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const alphabet = [0x61, 0x62, 0x41, 0x42, 0x63, 0x00, 0xff];
  const pick = (n: number): Uint8Array => {
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i++) a[i] = alphabet[int(alphabet.length)]!;
    return a;
  };
  const out = new Int32Array(64);
  const seen = new Uint32Array(64);
  let gen = 0;
  let nonEmpty = 0;
  for (let iter = 0; iter < 3000; iter++) {
    const pats: [Uint8Array, number][] = [];
    const count = int(12);
    for (let k = 0; k < count; k++) pats.push([pick(1 + int(int(3) === 0 ? 8 : 4)), int(40)]);
    // Short buffers (one chain) and buffers past the length where the scan runs four chains.
    const buf = pick(iter % 2 === 0 ? int(256) : 256 + int(300));
    const off = int(buf.length + 1);
    const len = int(buf.length - off + 1);
    const want = naive(pats, buf, off, len);
    if (want.length > 0) nonEmpty++;
    // Dense rows from root-only through partial to full, double-array packing short or default.
    for (const opts of [{ denseBudget: 0, packAttempts: int(3) }, { denseBudget: int(60) }, {}]) {
      const b = new MpmBuilder(opts);
      for (const [p, id] of pats) b.add(p, id);
      const m = b.build();
      const n = m.scan(buf, off, len, out, seen, ++gen);
      const got = Array.from(out.subarray(0, n)).sort((x, y) => x - y);
      assert.deepEqual(got, want, `iter ${iter} ${JSON.stringify(opts)}`);
      // Four chains on short ranges too (quarters of a few bytes, patterns spanning several).
      const q = int(40);
      const n4 = m.scan(buf, off, len, out, seen, ++gen, q);
      const got4 = Array.from(out.subarray(0, n4)).sort((x, y) => x - y);
      assert.deepEqual(got4, want, `iter ${iter} ${JSON.stringify(opts)} quadMin ${q}`);
    }
  }
  assert.ok(nonEmpty > 1000, `overlaps too rare: ${nonEmpty}`);
});

test('20,000 random patterns of 4..40 bytes: memory under 150 MB, planted patterns found', () => {
  const rnd = mulberry32(20000);
  const int = (n: number): number => Math.floor(rnd() * n);
  const b = new MpmBuilder();
  const pats: Uint8Array[] = [];
  for (let id = 0; id < 20_000; id++) {
    const p = new Uint8Array(4 + int(37));
    // Mostly printable text like ET Open's fast patterns, one in five binary.
    const binary = int(5) === 0;
    for (let i = 0; i < p.length; i++) p[i] = binary ? int(256) : 0x20 + int(95);
    pats.push(p);
    b.add(p, id);
  }
  const m = b.build();
  assert.equal(m.patternCount, 20_000);
  assert.ok(m.memoryBytes < 150 * 1024 * 1024, `memoryBytes ${m.memoryBytes}`);
  // Plant 50 patterns in a buffer of random bytes: every one of them must be found.
  const hay = new Uint8Array(8192);
  for (let i = 0; i < hay.length; i++) hay[i] = int(256);
  const planted = new Set<number>();
  for (let k = 0; k < 50; k++) {
    const id = int(pats.length);
    const p = pats[id]!;
    hay.set(p, k * 160);
    planted.add(id);
  }
  const got = ids(m, hay);
  for (const id of planted) assert.ok(got.includes(id), `planted id ${id} not found`);
  assert.deepEqual(
    got,
    naive(
      pats.map((p, id) => [p, id]),
      hay,
      0,
      hay.length,
    ),
  );
});
