import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRng, stratifiedKFold, stratifiedSplit, timeSplit } from './split.js';

/** Labels: class c repeated counts[c] times, interleaved by position. */
function labels(counts: number[]): Int32Array {
  const y: number[] = [];
  counts.forEach((n, c) => {
    for (let i = 0; i < n; i++) y.push(c);
  });
  return Int32Array.from(y);
}

const countOf = (y: Int32Array, rows: Int32Array, c: number): number => rows.filter((r) => y[r] === c).length;

test('makeRng is deterministic per seed and uniform-ish in [0, 1)', () => {
  const a = makeRng(7);
  const b = makeRng(7);
  const xs = Array.from({ length: 10000 }, () => a());
  assert.deepEqual(
    xs.slice(0, 5),
    Array.from({ length: 5 }, () => b()),
  );
  assert.ok(xs.every((v) => v >= 0 && v < 1));
  const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02, String(mean));
  assert.notDeepEqual(makeRng(8)(), makeRng(7)());
});

test('stratifiedSplit: per-class proportions, disjoint and complete, rare classes on both sides, one-row class trains', () => {
  const y = labels([100, 50, 3, 2, 1]);
  const s = stratifiedSplit(y, 0.2, 1);
  assert.equal(s.train.length + s.test.length, y.length);
  const all = new Set([...s.train, ...s.test]);
  assert.equal(all.size, y.length);
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((c) => countOf(y, s.test, c)),
    [20, 10, 1, 1, 0],
  );
  // Sorted ascending (keeps the data's order within each part).
  assert.ok(s.train.every((v, i) => i === 0 || v > s.train[i - 1]!));
  // Same seed, same split; another seed, another split.
  assert.deepEqual(stratifiedSplit(y, 0.2, 1), s);
  assert.notDeepEqual(Array.from(stratifiedSplit(y, 0.2, 2).test), Array.from(s.test));
  assert.throws(() => stratifiedSplit(y, 1, 1), /between 0 and 1/);
});

test('timeSplit: the latest rows are the test set; missing timestamps are refused', () => {
  const y = Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  const ts = Float64Array.from([9, 1, 8, 2, 7, 3, 6, 4, 5, 0]);
  const s = timeSplit(y, ts, 0.3);
  assert.deepEqual(Array.from(s.test), [0, 2, 4]); // times 9, 8, 7
  const maxTrain = Math.max(...Array.from(s.train, (r) => ts[r]!));
  assert.ok(Array.from(s.test).every((r) => ts[r]! > maxTrain));
  ts[3] = NaN;
  assert.throws(() => timeSplit(y, ts, 0.3), /no timestamp/);
});

test('stratifiedKFold: every row tested exactly once, folds balanced, classes spread', () => {
  const y = labels([50, 23, 7]);
  const folds = stratifiedKFold(y, 5, 3);
  assert.equal(folds.length, 5);
  const seen = new Int32Array(y.length);
  for (const f of folds) {
    for (const r of f.test) seen[r]!++;
    assert.equal(f.train.length + f.test.length, y.length);
    assert.ok(f.test.length === 16 || f.test.length === 16, String(f.test.length));
    assert.equal(countOf(y, f.test, 0), 10);
    const c1 = countOf(y, f.test, 1);
    assert.ok(c1 === 4 || c1 === 5, String(c1));
    const c2 = countOf(y, f.test, 2);
    assert.ok(c2 === 1 || c2 === 2, String(c2));
    const tr = new Set(f.train);
    assert.ok(Array.from(f.test).every((r) => !tr.has(r)));
  }
  assert.ok(seen.every((v) => v === 1));
  assert.throws(() => stratifiedKFold(y, 1, 0), /k >= 2/);
});
