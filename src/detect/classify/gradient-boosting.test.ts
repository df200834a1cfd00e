import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, ModelError } from './model.js';
import type { ModelFile } from './model.js';
import { gradientBoostingScorer } from './gradient-boosting.js';
import { SCORERS } from './scorers.js';

function model(classes: string[], params: Record<string, unknown>): ModelFile {
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: 'gradient_boosting',
    features: ['a', 'b'],
    classes,
    benignClass: classes[0]!,
    params: { nClasses: classes.length, ...params },
  };
}

/** Binary: baseline 0.5; tree 0 splits a ≤ 1 into leaves -0.3 / 0.7; tree 1 is a single leaf 0.1. */
const binary = (over: Record<string, unknown> = {}): ModelFile =>
  model(['benign', 'attack'], {
    treesPerIteration: 1,
    baseline: [0.5],
    trees: [
      { feature: [0, -1, -1], threshold: [1, -0.3, 0.7], left: [1, 0, 0] },
      { feature: [-1], threshold: [0.1], left: [0] },
    ],
    ...over,
  });

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

test('binary: logistic of baseline plus the leaves reached', () => {
  const m = gradientBoostingScorer(binary());
  const out = new Float64Array(4);
  m.predictProba!(Float64Array.of(1, 0, 1.5, 0), 2, out);
  const p0 = sigmoid(0.5 - 0.3 + 0.1);
  const p1 = sigmoid(0.5 + 0.7 + 0.1);
  assert.ok(Math.abs(out[1]! - p0) < 1e-15 && Math.abs(out[0]! - (1 - p0)) < 1e-15);
  assert.ok(Math.abs(out[3]! - p1) < 1e-15 && Math.abs(out[2]! - (1 - p1)) < 1e-15);
});

test('multi-class: trees cycle through the classes, softmax of the sums', () => {
  // Two iterations × three classes of single-leaf trees: raw = baseline + leaves of its class.
  const leaf = (v: number): unknown => ({ feature: [-1], threshold: [v], left: [0] });
  const m = gradientBoostingScorer(
    model(['benign', 'dos', 'scan'], {
      treesPerIteration: 3,
      baseline: [0, 1, -1],
      trees: [leaf(1), leaf(0), leaf(0), leaf(1), leaf(0.5), leaf(2)],
    }),
  );
  const out = new Float64Array(3);
  m.predictProba!(Float64Array.of(0, 0), 1, out);
  const raw = [2, 1.5, 1];
  const z = raw.reduce((s, r) => s + Math.exp(r), 0);
  raw.forEach((r, k) => assert.ok(Math.abs(out[k]! - Math.exp(r) / z) < 1e-15));
});

test('corrupt or inconsistent params are refused with ModelError', () => {
  const cases: [string, ModelFile][] = [
    ['trees per iteration', binary({ treesPerIteration: 2 })],
    ['baseline length', binary({ baseline: [0, 0] })],
    ['baseline not finite', binary({ baseline: [null] })],
    ['no trees', binary({ trees: [] })],
    ['leaf value lost (NaN saved as null)', binary({ trees: [{ feature: [-1], threshold: [null], left: [0] }] })],
    [
      'tree count not a multiple of the classes',
      model(['a', 'b', 'c'], {
        treesPerIteration: 3,
        baseline: [0, 0, 0],
        trees: [{ feature: [-1], threshold: [0], left: [0] }],
      }),
    ],
    ['one class', model(['only'], { treesPerIteration: 1, baseline: [0], trees: [] })],
  ];
  for (const [why, f] of cases) assert.throws(() => gradientBoostingScorer(f), ModelError, why);
});

test('registered as the gradient_boosting scorer', () => {
  assert.equal(SCORERS.gradient_boosting, gradientBoostingScorer);
});
