import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, ModelError } from '../classify/model.js';
import type { ModelFile } from '../classify/model.js';
import { SCORERS } from '../classify/scorers.js';
import { averagePathLength, isolationForestScorer } from './isolation-forest.js';

/**
 * One hand-written tree over (rate, port), ψ = 8 training rows:
 *   node 0 (8 rows): rate ≤ 100 ? node 1 : node 2 (1 row, depth 1)
 *   node 1 (7 rows): port ≤ 1024 ? node 3 (6 rows, depth 2) : node 4 (1 row, depth 2)
 * Leaves hold depth + c(rows).
 */
function model(over: Record<string, unknown> = {}): ModelFile {
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: 'isolation_forest',
    features: ['rate', 'port'],
    classes: [],
    benignClass: null,
    params: {
      subsample: 8,
      trees: [
        {
          feature: [0, 1, -1, -1, -1],
          threshold: [100, 1024, 1 + averagePathLength(1), 2 + averagePathLength(6), 2 + averagePathLength(1)],
          left: [1, 3, 0, 0, 0],
          size: [8, 7, 1, 6, 1],
        },
      ],
      ...over,
    },
  };
}

test('c(n): 0 for one row, 1 for two, 2H(n-1) - 2(n-1)/n beyond', () => {
  assert.equal(averagePathLength(1), 0);
  assert.equal(averagePathLength(2), 1);
  assert.ok(Math.abs(averagePathLength(256) - 10.244770920116851) < 1e-9);
});

test('score is 2^(-E[h]/c(ψ))', () => {
  const m = isolationForestScorer(model());
  const out = new Float64Array(3);
  m.score(Float64Array.of(5000, 80, 50, 80, 50, 6000), 3, out);
  const c8 = averagePathLength(8);
  assert.ok(Math.abs(out[0]! - 2 ** (-1 / c8)) < 1e-15);
  assert.ok(Math.abs(out[1]! - 2 ** (-(2 + averagePathLength(6)) / c8)) < 1e-15);
  assert.ok(Math.abs(out[2]! - 2 ** (-2 / c8)) < 1e-15);
  assert.ok(out[0]! > out[2]! && out[2]! > out[1]!);
});

test('explain: log2 of how much each split narrowed the row’s company, normalised', () => {
  const m = isolationForestScorer(model());
  // rate 5000: 8 → 1 rows in one split on rate (3 bits): all weight on rate.
  assert.deepEqual(m.explain(Float64Array.of(5000, 80)), [{ feature: 'rate', weight: 1 }]);
  // rate 50, port 6000: 8 → 7 on rate, then 7 → 1 on port.
  const e = m.explain(Float64Array.of(50, 6000));
  const r = Math.log2(8 / 7);
  const p = Math.log2(7);
  assert.equal(e[0]!.feature, 'port');
  assert.ok(Math.abs(e[0]!.weight - p / (r + p)) < 1e-12);
  assert.ok(Math.abs(e[1]!.weight - r / (r + p)) < 1e-12);
});

test('threshold: params.threshold when set, else 0.5', () => {
  assert.equal(isolationForestScorer(model()).threshold, 0.5);
  assert.equal(isolationForestScorer(model({ threshold: 0.62 })).threshold, 0.62);
});

test('corrupt params are refused with ModelError', () => {
  const t = (model().params as { trees: Record<string, unknown>[] }).trees[0]!;
  const cases: [string, ModelFile][] = [
    ['subsample missing', model({ subsample: undefined })],
    ['subsample 1', model({ subsample: 1 })],
    ['threshold out of range', model({ threshold: 2 })],
    ['sizes missing', model({ trees: [{ ...t, size: undefined }] })],
    ['child larger than parent', model({ trees: [{ ...t, size: [8, 9, 1, 6, 1] }] })],
    ['negative path length', model({ trees: [{ ...t, threshold: [100, 1024, -1, 2, 2] }] })],
    ['cycle', model({ trees: [{ ...t, left: [1, 0, 0, 0, 0] }] })],
  ];
  for (const [why, f] of cases) assert.throws(() => isolationForestScorer(f), ModelError, why);
});

test('registered as the isolation_forest scorer', () => {
  assert.equal(SCORERS.isolation_forest, isolationForestScorer);
});
