import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../../test/fuzz/prng.js';
import { MpmBuilder } from './mpm.js';
import type { Mpm, MpmBuilderOptions } from './mpm.js';
import { WasmScanner } from './wasm-scan.js';

function jsIds(m: Mpm, buf: Uint8Array, off: number, len: number): number[] {
  const out = new Int32Array(Math.max(1, m.idCapacity));
  const seen = new Uint32Array(Math.max(1, m.idCapacity));
  const n = m.scan(buf, off, len, out, seen, 1);
  return Array.from(out.subarray(0, n)).sort((x, y) => x - y);
}

/** Copy buf[from, to) into a block of the scanner's arena; returns the block's offset. */
function load(w: WasmScanner, buf: Uint8Array, from: number, to: number): number {
  const at = w.scratch(Math.max(1, to - from));
  assert.ok(at >= 0);
  w.bytes.set(buf.subarray(from, to), at);
  return at;
}

function wasmIds(w: WasmScanner, m: Mpm, off: number, len: number): number[] {
  const d = w.desc(m);
  assert.ok(d >= 0);
  const n = w.scan(d, off, len);
  const at = w.outIndex;
  return Array.from(w.out().subarray(at, at + n)).sort((x, y) => x - y);
}

test('WebAssembly scan: same ids as the JavaScript scan on random automatons, layouts and ranges', () => {
  const w = WasmScanner.create();
  assert.ok(w !== null, 'WebAssembly is available in Node');
  const rnd = mulberry32(0x3a5);
  const int = (n: number): number => Math.floor(rnd() * n);
  // A small alphabet makes overlaps, nested patterns, sparse states and failure chains common.
  const alphabet = [0x61, 0x62, 0x41, 0x42, 0x63, 0x00, 0xff, 0x7a];
  const pick = (n: number): Uint8Array => {
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i++) a[i] = alphabet[int(alphabet.length)]!;
    return a;
  };
  let nonEmpty = 0;
  let automatons = 0;
  for (let iter = 0; iter < 1500; iter++) {
    const pats: [Uint8Array, number][] = [];
    const count = 1 + int(30);
    for (let k = 0; k < count; k++) pats.push([pick(1 + int(int(3) === 0 ? 12 : 4)), int(60)]);
    // Short ranges (one chain), and ranges past QUAD_MIN (four chains and their continuations).
    const buf = pick(iter % 3 === 0 ? int(256) : 256 + int(2000));
    const from = int(Math.min(64, buf.length + 1));
    const base = load(w, buf, from, buf.length);
    const layouts: MpmBuilderOptions[] = [{ denseBudget: 0, packAttempts: int(3) }, { denseBudget: int(80) }, {}];
    for (const opts of layouts) {
      const b = new MpmBuilder(opts);
      for (const [p, id] of pats) b.add(p, id);
      const m = b.build();
      automatons++;
      // Several ranges per automaton, each scanned twice (seen generations must not leak).
      for (let r = 0; r < 3; r++) {
        const off = from + int(buf.length - from + 1);
        const len = int(buf.length - off + 1);
        const want = jsIds(m, buf, off, len);
        if (want.length > 0) nonEmpty++;
        assert.deepEqual(wasmIds(w, m, base + off - from, len), want, `iter ${iter} ${JSON.stringify(opts)} r${r}`);
        assert.deepEqual(wasmIds(w, m, base + off - from, len), want, `iter ${iter} again`);
      }
    }
  }
  assert.ok(nonEmpty > 3000, `overlaps too rare: ${nonEmpty}`);
  // Every automaton's tables were copied in once.
  assert.ok(w.memoryBytes > automatons * 1024, `memory ${w.memoryBytes}`);
});

test('WebAssembly scan: a large automaton, a growing data area and planted patterns', () => {
  const w = WasmScanner.create()!;
  const rnd = mulberry32(7);
  const int = (n: number): number => Math.floor(rnd() * n);
  const b = new MpmBuilder();
  const pats: Uint8Array[] = [];
  for (let k = 0; k < 5000; k++) {
    const p = new Uint8Array(2 + int(30));
    for (let i = 0; i < p.length; i++) p[i] = int(256);
    pats.push(p);
    b.add(p, k);
  }
  const m = b.build();
  for (const size of [300, 70_000, 3_000_000]) {
    const buf = new Uint8Array(size);
    for (let i = 0; i < size; i++) buf[i] = int(256);
    // Planted at least 32 bytes apart (patterns are at most 31 bytes), so none hides another.
    const planted = Math.min(40, Math.floor(size / 32));
    const stride = Math.floor(size / planted);
    for (let k = 0; k < planted; k++) buf.set(pats[int(pats.length)]!, k * stride);
    const at = load(w, buf, 0, size);
    const want = jsIds(m, buf, 0, size);
    assert.ok(want.length >= planted - 1, `planted patterns found: ${want.length} of ${planted}`);
    assert.deepEqual(wasmIds(w, m, at, size), want, `size ${size}`);
  }
});

test('WebAssembly scan: full-DFA automatons at the 16-bit limit (2^14 states) and one state past it', () => {
  const w = WasmScanner.create()!;
  const rnd = mulberry32(11);
  const int = (n: number): number => Math.floor(rnd() * n);
  // 64 patterns of 255 bytes with distinct first bytes (64 * 255 states) and one of `last`
  // bytes: 16,321 + last states with the root. Every state has a dense row (full DFA), so the
  // rows hold transitions to the highest-numbered states: 16-bit rows hold states up to 16,383.
  for (const last of [63, 64]) {
    const b = new MpmBuilder({ denseBudget: Infinity });
    const pats: Uint8Array[] = [];
    for (let k = 0; k <= 64; k++) {
      const p = new Uint8Array(k < 64 ? 255 : last);
      for (let i = 0; i < p.length; i++) p[i] = int(256);
      p[0] = 0x80 + k; // no case folding, distinct first bytes
      pats.push(p);
      b.add(p, k);
    }
    const m = b.build();
    assert.equal(m.stateCount, 16_321 + last);
    const buf = new Uint8Array(40_000);
    for (let i = 0; i < buf.length; i++) buf[i] = int(256);
    // Every pattern (the highest-numbered states are their ends), then prefixes of some: the scan
    // walks deep states and fails back out of them.
    for (let k = 0; k < 65; k++) buf.set(pats[k]!, 300 * k + 3);
    for (let k = 1; k < 65; k += 2) buf.set(pats[k]!.subarray(0, 200), 20_000 + 300 * (k >> 1));
    const at = load(w, buf, 0, buf.length);
    for (const [off, len] of [
      [0, buf.length],
      [0, 200],
      [3, 255],
      [19_900, 3000],
    ] as const) {
      const want = jsIds(m, buf, off, len);
      assert.deepEqual(wasmIds(w, m, at + off, len), want, `last ${last} range ${off}+${len}`);
    }
    assert.equal(jsIds(m, buf, 0, buf.length).length, 65);
  }
});

test('WebAssembly scan: seen generation wrap clears the seen area', () => {
  const w = WasmScanner.create()!;
  const b = new MpmBuilder();
  b.add(new TextEncoder().encode('abc'), 3);
  const m = b.build();
  const buf = new TextEncoder().encode('xxabcxx');
  const at = load(w, buf, 0, buf.length);
  // Force the generation counter to its last value: the next scans wrap to 0, then restart at 1.
  (w as unknown as { gen: number }).gen = 0xfffffffe;
  for (let k = 0; k < 4; k++) assert.deepEqual(wasmIds(w, m, at, buf.length), [3], `scan ${k}`);
});
