import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, ModelError } from './model.js';
import type { ModelFile } from './model.js';
import { buildRandomForest, randomForestScorer } from './random-forest.js';
import { SCORERS } from './scorers.js';

/**
 * Two hand-written trees over features (a, b), classes (benign, dos, scan):
 *   tree 0: a ≤ 10 ? benign (pure) : [b ≤ 0.5 ? dos (pure) : mixed 0/0.5/0.5]
 *   tree 1: b ≤ 100 ? benign (pure) : scan (pure)
 * Leaves point into `value`: rows 0..2 are the one-hot rows, the mixed row starts at 9.
 */
function forest(over: Record<string, unknown> = {}, fileOver: Partial<ModelFile> = {}): ModelFile {
  const oneHot = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: 'random_forest',
    features: ['a', 'b'],
    classes: ['benign', 'dos', 'scan'],
    benignClass: 'benign',
    params: {
      nClasses: 3,
      trees: [
        {
          feature: [0, -1, 1, -1, -1],
          threshold: [10, 0, 0.5, 0, 0],
          left: [1, 0, 3, 3, 9],
          value: [...oneHot, 0, 0.5, 0.5],
        },
        { feature: [1, -1, -1], threshold: [100, 0, 0], left: [1, 0, 6], value: oneHot },
      ],
      ...over,
    },
    ...fileOver,
  };
}

const score = (f: ModelFile, rows: number[][]): number[][] => {
  const m = randomForestScorer(f);
  const x = Float64Array.from(rows.flat());
  const out = new Float64Array(rows.length * 3);
  m.predictProba!(x, rows.length, out);
  return rows.map((_, r) => Array.from(out.subarray(r * 3, r * 3 + 3)));
};

test('probabilities are the mean of the leaves reached (threshold: go left when ≤)', () => {
  assert.deepEqual(
    score(forest(), [
      [10, 100], // left, left: benign + benign
      [10.5, 0.5], // right → b ≤ 0.5 → dos; tree 1 benign
      [11, 101], // right → mixed; tree 1 scan
    ]),
    [
      [1, 0, 0],
      [0.5, 0.5, 0],
      [0, 0.25, 0.75],
    ],
  );
});

test('NaN and ±Infinity are scored as 0, and the caller’s rows are not modified', () => {
  const rows = [
    [Number.NaN, Number.POSITIVE_INFINITY],
    [0, 0],
  ];
  const m = randomForestScorer(forest());
  const x = Float64Array.from(rows.flat());
  const out = new Float64Array(6);
  m.predictProba!(x, 2, out);
  assert.deepEqual(Array.from(out.subarray(0, 3)), Array.from(out.subarray(3, 6)));
  assert.ok(Number.isNaN(x[0]!));
  assert.equal(x[1], Number.POSITIVE_INFINITY);
});

test('a scaler in the model file is applied before the trees', () => {
  // a' = (a - 100) / 10: a = 190 → 9 ≤ 10 goes left (benign) although 190 > 10.
  const f = forest({}, { scaler: { kind: 'standard', center: [100, 0], scale: [10, 1] } });
  assert.deepEqual(score(f, [[190, 0]])[0], [1, 0, 0]);
  assert.deepEqual(score(f, [[220, 0]])[0], [0.5, 0.5, 0]);
});

test('the binned walk (tree-bins.ts) gives the same probabilities, NaN rows included', () => {
  const rows = [
    [10, 100],
    [10.5, 0.5],
    [11, 101],
    [Number.NaN, Number.NaN], // scored as 0: left, left
    [-0, 100.00000000000001],
  ];
  const x = Float64Array.from(rows.flat());
  const a = new Float64Array(rows.length * 3);
  const b = new Float64Array(rows.length * 3);
  buildRandomForest(forest(), { compile: false }).predictProba!(x, rows.length, a);
  buildRandomForest(forest(), { maxTreeNodes: 0, binned: true }).predictProba!(x, rows.length, b);
  assert.deepEqual(b, a);
  assert.deepEqual(Array.from(b.subarray(9, 12)), [1, 0, 0]);
});

test('more rows than one block are all scored', () => {
  const n = 1000;
  const rows = Array.from({ length: n }, (_, i) => [i % 2 === 0 ? 0 : 20, 200]);
  const s = score(forest(), rows);
  for (let i = 0; i < n; i++) assert.deepEqual(s[i], i % 2 === 0 ? [0.5, 0, 0.5] : [0, 0.25, 0.75]);
});

test('corrupt or inconsistent params are refused with ModelError', () => {
  const cases: [string, ModelFile][] = [
    ['no trees', forest({ trees: [] })],
    ['nClasses', forest({ nClasses: 2 })],
    [
      'feature out of range',
      forest({ trees: [{ feature: [2, -1, -1], threshold: [0, 0, 0], left: [1, 0, 0], value: [1, 0, 0] }] }),
    ],
    [
      'child points back (a cycle)',
      forest({ trees: [{ feature: [0, 0, -1], threshold: [0, 0, 0], left: [1, 0, 0], value: [1, 0, 0] }] }),
    ],
    [
      'child past the end',
      forest({ trees: [{ feature: [0, -1], threshold: [0, 0], left: [1, 0], value: [1, 0, 0] }] }),
    ],
    [
      'leaf outside values',
      forest({ trees: [{ feature: [0, -1, -1], threshold: [0, 0, 0], left: [1, 0, 1], value: [1, 0, 0] }] }),
    ],
    [
      'null threshold (NaN saved as JSON)',
      forest({ trees: [{ feature: [-1], threshold: [null], left: [0], value: [1, 0, 0] }] }),
    ],
    ['lengths differ', forest({ trees: [{ feature: [-1], threshold: [0, 0], left: [0], value: [1, 0, 0] }] })],
    ['fractional index', forest({ trees: [{ feature: [0.5], threshold: [0], left: [0], value: [1, 0, 0] }] })],
    ['params missing', { ...forest(), params: null }],
    ['scaler not finite', forest({}, { scaler: { kind: 'standard', center: [0, Number.NaN], scale: [1, 1] } })],
  ];
  for (const [why, f] of cases) assert.throws(() => randomForestScorer(f), ModelError, why);
});

test('registered as the random_forest scorer', () => {
  assert.equal(SCORERS.random_forest, randomForestScorer);
});
