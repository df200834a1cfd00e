import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, binColumns, binOf, fitBinEdges } from './tree-common.js';

test('few distinct values: one bin each, edges at the midpoints', () => {
  // One feature: 0, -0, 1, 5 (repeated); -0 and 0 are one value.
  const x = Float64Array.from([0, -0, 1, 5, 5, 1, 0, 5]);
  const [e] = fitBinEdges(x, 8, 1, 256, 1);
  assert.deepEqual(Array.from(e!), [0.5, 3]);
  const codes = binColumns(x, 8, 1, [e!]);
  assert.deepEqual(Array.from(codes), [0, 0, 1, 2, 2, 1, 0, 2]);
});

test('many distinct values: at most maxBins bins of similar counts, a heavy value alone', () => {
  const n = 10_000;
  const rng = new Rng(1);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = i < 3000 ? 0 : rng.next() * 1000;
  const [e] = fitBinEdges(x, n, 1, 64, 1);
  assert.ok(e!.length <= 63);
  for (let i = 1; i < e!.length; i++) assert.ok(e![i]! > e![i - 1]!);
  const codes = binColumns(x, n, 1, [e!]);
  const counts = new Array<number>(64).fill(0);
  for (const c of codes) counts[c]!++;
  assert.equal(counts[0], 3000); // the zeros, and only them
  for (let b = 1; b <= e!.length; b++) assert.ok(counts[b]! > 60 && counts[b]! < 220, `bin ${b}: ${counts[b]}`);
});

test('bin b holds exactly the values ≤ edges[b] and > edges[b-1]', () => {
  const e = Float64Array.from([1.5, 2.5, 10]);
  for (const [v, b] of [
    [-5, 0],
    [1.5, 0],
    [1.6, 1],
    [2.5, 1],
    [9.99, 2],
    [10, 2],
    [10.01, 3],
  ] as const)
    assert.equal(binOf(e, v), b, `value ${v}`);
});

test('the RNG is reproducible per (seed, stream) and uniform enough', () => {
  const a = new Rng(42, 3);
  const b = new Rng(42, 3);
  const c = new Rng(42, 4);
  const sa = Array.from({ length: 5 }, () => a.u32());
  assert.deepEqual(
    sa,
    Array.from({ length: 5 }, () => b.u32()),
  );
  assert.notDeepEqual(
    sa,
    Array.from({ length: 5 }, () => c.u32()),
  );
  const r = new Rng(7);
  const hist = new Array<number>(10).fill(0);
  for (let i = 0; i < 100_000; i++) hist[r.int(10)]!++;
  for (const h of hist) assert.ok(Math.abs(h - 10_000) < 500);
});
