import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../../test/fuzz/prng.js';
import { FastMpmBuilder } from './fastmpm.js';
import { MPM_MAX_PATTERN, MpmBuilder } from './mpm.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** What both matchers share: the engine only uses this surface. */
interface Matcher {
  readonly idCapacity: number;
  readonly patternCount: number;
  scan(buf: Uint8Array, off: number, len: number, out: Int32Array, seen: Uint32Array, gen: number): number;
}
interface Builder {
  add(pattern: Uint8Array, id: number): void;
  build(): Matcher;
}

const IMPLS: [string, () => Builder][] = [
  ['Mpm', () => new MpmBuilder()],
  ['Mpm root-only', () => new MpmBuilder({ denseBudget: 0 })],
  ['FastMpm', () => new FastMpmBuilder()],
];

function build(make: () => Builder, pats: [Uint8Array | string, number][]): Matcher {
  const b = make();
  for (const [p, id] of pats) b.add(typeof p === 'string' ? enc(p) : p, id);
  return b.build();
}

function ids(m: Matcher, buf: Uint8Array | string, off = 0, len?: number): number[] {
  const b = typeof buf === 'string' ? enc(buf) : buf;
  const out = new Int32Array(Math.max(1, m.idCapacity));
  const seen = new Uint32Array(m.idCapacity);
  const n = m.scan(b, off, len ?? b.length - off, out, seen, 1);
  return Array.from(out.subarray(0, n)).sort((x, y) => x - y);
}

test('FastMpm: no patterns, case folding of ASCII letters only, 0x00/0xff, nested patterns', () => {
  const e = new FastMpmBuilder().build();
  assert.equal(e.idCapacity, 0);
  assert.deepEqual(ids(e, 'anything'), []);
  assert.deepEqual(ids(e, new Uint8Array(0)), []);
  for (const [name, make] of IMPLS) {
    const m = build(make, [
      ['GET ', 1],
      ['user-agent', 2],
      ['[x', 3],
      [new Uint8Array([0xc9]), 4],
      ['he', 5],
      ['she', 6],
      ['hers', 7],
      [new Uint8Array([0xff, 0x00, 0xff]), 8],
    ]);
    assert.deepEqual(ids(m, 'get / HTTP/1.1\r\nUSER-Agent: x'), [1, 2], name);
    assert.deepEqual(ids(m, 'gEt {x'), [1], name);
    assert.deepEqual(ids(m, '[X'), [3], name);
    assert.deepEqual(ids(m, new Uint8Array([0xe9, 0xc9])), [4], name);
    assert.deepEqual(ids(m, new Uint8Array([0xe9])), [], name);
    assert.deepEqual(ids(m, 'uSHErs'), [5, 6, 7], name);
    assert.deepEqual(ids(m, new Uint8Array([0xff, 0x00, 0xff])), [8], name);
    assert.deepEqual(ids(m, 'GET'), [], name); // pattern longer than the range
  }
});

test('FastMpm: off/len clipping, validation, truncation to 255 bytes, copied input', () => {
  const m = build(
    () => new FastMpmBuilder(),
    [
      ['abc', 1],
      ['z', 2],
      ['abcdefgh', 3],
    ],
  );
  const b = enc('zabcz');
  assert.deepEqual(ids(m, b, 1, 3), [1]);
  assert.deepEqual(ids(m, b, 1, 2), []);
  assert.deepEqual(ids(m, b, 2, 3), [2]);
  assert.deepEqual(ids(m, b, 5, 0), []);
  assert.deepEqual(ids(m, b, 4, 1), [2]);
  assert.deepEqual(ids(m, b, 3, 100), [2]);
  assert.deepEqual(ids(m, b, -2, 3), [2]);
  assert.deepEqual(ids(m, enc('xxabcdefg'), 0, 9), [1]);
  const fb = new FastMpmBuilder();
  assert.throws(() => fb.add(new Uint8Array(0), 1), RangeError);
  assert.throws(() => fb.add(enc('x'), -1), RangeError);
  assert.throws(() => fb.add(enc('x'), 2 ** 31), RangeError);
  assert.throws(() => fb.add(enc('x'), 1.5), RangeError);
  assert.throws(() => new FastMpmBuilder({ denseBudget: Number.NaN }), RangeError);
  const long = new Uint8Array(300).fill(0x61);
  long[299] = 0x62;
  const hay = new Uint8Array(MPM_MAX_PATTERN).fill(0x41);
  const m2 = build(() => new FastMpmBuilder(), [[long, 5]]);
  assert.deepEqual(ids(m2, hay), [5]);
  assert.deepEqual(ids(m2, hay.subarray(1)), []);
  fb.add(long, 2 ** 31 - 1);
  const big = fb.build();
  assert.equal(big.idCapacity, 2 ** 31);
  assert.throws(() => big.scan(hay, 0, hay.length, new Int32Array(1), new Uint32Array(1), 1), RangeError);
  const p = enc('abcdef');
  const b3 = new FastMpmBuilder();
  b3.add(p, 1);
  p[0] = 0x7a;
  assert.deepEqual(ids(b3.build(), 'abcdef'), [1]);
});

test('both: out fills up (stops, returns out.length), seen/gen each id once per scan, gen mod 2^32', () => {
  for (const [name, make] of IMPLS) {
    const m = build(make, [
      ['a', 0],
      ['b', 1],
      ['cccc', 2],
    ]);
    const seen = new Uint32Array(m.idCapacity);
    assert.equal(m.scan(enc('ccccab'), 0, 6, new Int32Array(2), seen, 1), 2, name);
    assert.equal(m.scan(enc('ccccab'), 0, 6, new Int32Array(0), seen, 2), 0, name);
    assert.equal(m.scan(enc('ccccab'), 0, 6, new Int32Array(1), seen, 3), 1, name);
    const out = new Int32Array(8);
    const hay = enc('ababcccccccc bbb');
    for (let gen = 10; gen < 13; gen++) assert.equal(m.scan(hay, 0, hay.length, out, seen, gen), 3, name);
    assert.equal(m.scan(hay, 0, hay.length, out, seen, 12), 0, name);
    assert.equal(m.scan(enc('xbx'), 0, 3, out, seen, 13), 1, name);
    assert.equal(out[0], 1);
    seen.fill(0);
    assert.equal(m.scan(hay, 0, hay.length, out, seen, 2 ** 32 + 5), 3, name);
    assert.equal(m.scan(hay, 0, hay.length, out, seen, 5), 0, name);
    assert.throws(() => m.scan(hay, 0, 1, out, new Uint32Array(2), 1), RangeError, name);
  }
});

/** Reference: fold both sides, search each (truncated) pattern with indexOf. */
function naive(pats: [Uint8Array, number][], buf: Uint8Array, off: number, len: number): number[] {
  const fold = (a: Uint8Array): Buffer => Buffer.from(a.map((x) => (x >= 0x41 && x <= 0x5a ? x | 0x20 : x)));
  const hay = fold(buf.subarray(Math.max(0, off), off + len));
  const found = new Set<number>();
  for (const [p, id] of pats) if (hay.indexOf(fold(p.subarray(0, MPM_MAX_PATTERN))) >= 0) found.add(id);
  return [...found].sort((x, y) => x - y);
}

test('property: Mpm and FastMpm match a naive search on random small-alphabet sets', () => {
  const rnd = mulberry32(0xfa57);
  const int = (n: number): number => Math.floor(rnd() * n);
  const alphabet = [0x61, 0x62, 0x41, 0x42, 0x63, 0x00, 0xff];
  const pick = (n: number): Uint8Array => {
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i++) a[i] = alphabet[int(alphabet.length)]!;
    return a;
  };
  const out = new Int32Array(64);
  const seen = new Uint32Array(64);
  const small = new Int32Array(2);
  let gen = 0;
  let nonEmpty = 0;
  for (let iter = 0; iter < 3000; iter++) {
    const pats: [Uint8Array, number][] = [];
    const count = int(16);
    // Lengths 1..40, mostly short so that they overlap often in the buffers.
    for (let k = 0; k < count; k++) pats.push([pick(1 + (int(4) === 0 ? int(40) : int(6))), int(40)]);
    // Sometimes plant a long pattern so long verifications succeed too.
    const buf = pick(iter % 2 === 0 ? int(64) : 64 + int(200));
    if (count > 0 && int(2) === 0) {
      const p = pats[int(count)]![0];
      if (p.length <= buf.length) buf.set(p, int(buf.length - p.length + 1));
    }
    const off = int(buf.length + 1);
    const len = int(buf.length - off + 1);
    const want = naive(pats, buf, off, len);
    if (want.length > 0) nonEmpty++;
    for (const [name, make] of IMPLS) {
      const m = build(make, pats);
      const n = m.scan(buf, off, len, out, seen, ++gen);
      const got = Array.from(out.subarray(0, n)).sort((x, y) => x - y);
      assert.deepEqual(got, want, `iter ${iter} ${name}`);
      // Same gen again: everything already seen.
      assert.equal(m.scan(buf, off, len, out, seen, gen), 0);
      // Full `out`: a prefix of the distinct ids, no duplicates, each one a real match.
      const k = m.scan(buf, off, len, small, seen, ++gen);
      assert.equal(k, Math.min(2, want.length), `iter ${iter} ${name} small out`);
      if (k === 2) assert.notEqual(small[0], small[1]);
      for (let j = 0; j < k; j++) assert.ok(want.includes(small[j]!), `iter ${iter} ${name}`);
    }
  }
  assert.ok(nonEmpty > 1000, `overlaps too rare: ${nonEmpty}`);
});

test('FastMpm: 20,000 random patterns of 4..40 bytes agree with naive search on planted text', () => {
  const rnd = mulberry32(20000);
  const int = (n: number): number => Math.floor(rnd() * n);
  const b = new FastMpmBuilder();
  const pats: [Uint8Array, number][] = [];
  for (let id = 0; id < 20_000; id++) {
    const p = new Uint8Array(4 + int(37));
    const binary = int(5) === 0;
    for (let i = 0; i < p.length; i++) p[i] = binary ? int(256) : 0x20 + int(95);
    pats.push([p, id]);
    b.add(p, id);
  }
  const m = b.build();
  const hay = new Uint8Array(8192);
  for (let i = 0; i < hay.length; i++) hay[i] = 0x20 + int(95);
  for (let k = 0; k < 50; k++) hay.set(pats[int(pats.length)]![0], k * 160);
  const got = ids(m, hay);
  assert.ok(got.length >= 40);
  assert.deepEqual(got, naive(pats, hay, 0, hay.length));
});
