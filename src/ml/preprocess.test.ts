import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareRows } from '../detect/classify/model.js';
import {
  applyScaler,
  balancedWeights,
  columnsFor,
  composeScalers,
  constantColumns,
  fitScaler,
  mutualInformation,
  selectFeatures,
  smote,
  takeColumns,
  takeRows,
} from './preprocess.js';
import type { Dataset } from './types.js';

function dataset(rows: number[][], y: number[], classes?: string[]): Dataset {
  const d = rows[0]!.length;
  return {
    x: Float64Array.from(rows.flat()),
    n: rows.length,
    d,
    features: Array.from({ length: d }, (_, j) => `f${j}`),
    y: Int32Array.from(y),
    classes: classes ?? [...new Set(y)].sort().map((c) => `c${c}`),
  };
}

const close = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('standard scaler: mean and population std (StandardScaler); constant column scale 1', () => {
  const ds = dataset(
    [
      [1, 10, 5],
      [2, 20, 5],
      [3, 35, 5],
      [4, 35, 5],
      [100, 0, 5],
    ],
    [0, 0, 0, 1, 1],
  );
  const s = fitScaler(ds, 'standard');
  close(s.center[0]!, 22);
  close(s.scale[0]!, Math.sqrt(1522));
  assert.equal(s.scale[2], 1);
  const x = ds.x.slice();
  applyScaler(x, ds.n, ds.d, s);
  let m = 0;
  for (let r = 0; r < ds.n; r++) m += x[r * 3]!;
  close(m / ds.n, 0);
  // The scorer's prepareRows does the same arithmetic.
  const y = ds.x.slice();
  prepareRows(y, ds.n, ds.d, s);
  assert.deepEqual(y, x);
});

test('robust scaler: median and inter-quartile range (RobustScaler, linear interpolation)', () => {
  const ds = dataset(
    [
      [1, 10],
      [2, 20],
      [3, 35],
      [4, 35],
      [100, 0],
    ],
    [0, 0, 0, 1, 1],
  );
  const s = fitScaler(ds, 'robust');
  assert.deepEqual(s.center, [3, 20]);
  assert.deepEqual(s.scale, [2, 25]);
});

test('composeScalers equals applying both in turn', () => {
  const a = { kind: 'standard' as const, center: [1, -2], scale: [2, 0] };
  const b = { kind: 'standard' as const, center: [0.5, 3], scale: [4, 0.5] };
  const x = Float64Array.from([3, 7, -1, 0.25]);
  const two = x.slice();
  applyScaler(two, 2, 2, a);
  applyScaler(two, 2, 2, b);
  const one = x.slice();
  applyScaler(one, 2, 2, composeScalers(a, b));
  for (let i = 0; i < 4; i++) close(one[i]!, two[i]!, 1e-12);
});

test('balanced class weights: n / (classes x count), equal total weight per class', () => {
  const w = balancedWeights(Int32Array.from([0, 0, 0, 1]), 3);
  assert.deepEqual(Array.from(w), [4 / 6, 4 / 6, 4 / 6, 2]);
});

test('smote: minority classes grown to the majority on segments inside the class; seeded; one-row class duplicated', () => {
  const rows: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 20; i++) {
    rows.push([i, 100 + i]);
    y.push(0);
  }
  for (let i = 0; i < 4; i++) {
    rows.push([1000 + i * 10, -i]);
    y.push(1);
  }
  rows.push([7, 7]);
  y.push(2);
  const ds = dataset(rows, y);
  const r = smote(ds, 5);
  assert.deepEqual(r.added, { c1: 16, c2: 19 });
  const counts = [0, 0, 0];
  for (const c of r.ds.y) counts[c]!++;
  assert.deepEqual(counts, [20, 20, 20]);
  for (let i = ds.n; i < r.ds.n; i++) {
    const a = r.ds.x[i * 2]!;
    const b = r.ds.x[i * 2 + 1]!;
    if (r.ds.y[i] === 1) {
      // On a segment between two class-1 rows: x in [1000, 1030] and x/10 + y = 100 on every such segment.
      assert.ok(a >= 1000 && a <= 1030 && b <= 0 && b >= -3);
      close(-(a - 1000) / 10, b, 1e-9);
    } else assert.deepEqual([a, b], [7, 7]);
  }
  assert.deepEqual(smote(ds, 5).ds.x, r.ds.x);
  // The original rows are unchanged and first.
  assert.deepEqual(r.ds.x.subarray(0, ds.n * 2), ds.x);
});

test('feature selection: constant columns dropped, top-k by mutual information', () => {
  const rows: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 200; i++) {
    const c = i % 2;
    // f0 = label (informative), f1 constant, f2 = noise independent of the label, f3 = half-informative.
    rows.push([c, 3, Math.floor(i / 2) % 7, c === 1 || i % 4 === 0 ? 1 : 0]);
    y.push(c);
  }
  const ds = dataset(rows, y);
  assert.deepEqual(constantColumns(ds), [1]);
  const mi = mutualInformation(ds);
  close(mi[0]!, Math.log(2), 1e-9);
  assert.equal(mi[1], 0);
  assert.ok(mi[2]! < 0.05, String(mi[2]));
  assert.ok(mi[3]! > mi[2]! && mi[3]! < mi[0]!);
  const sel = selectFeatures(ds, { dropConstant: true, topK: 2 });
  assert.deepEqual(sel.columns, [0, 3]);
  assert.deepEqual(sel.dropped, { constant: ['f1'], lowScore: ['f2'] });
  assert.deepEqual(selectFeatures(ds, { dropConstant: false }).columns, [0, 1, 2, 3]);
});

test('takeRows / takeColumns / columnsFor', () => {
  const ds = dataset(
    [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ],
    [0, 1, 0],
  );
  const r = takeRows(ds, Int32Array.from([2, 0]));
  assert.deepEqual(Array.from(r.x), [7, 8, 9, 1, 2, 3]);
  assert.deepEqual(Array.from(r.y), [0, 0]);
  const c = takeColumns(ds, columnsFor(ds, ['f2', 'f0']));
  assert.deepEqual(c.features, ['f2', 'f0']);
  assert.deepEqual(Array.from(c.x), [3, 1, 6, 4, 9, 7]);
  assert.throws(() => columnsFor(ds, ['f0', 'nope']), /lacks 1 feature\(s\) the model uses: nope/);
});
