import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../detect/classify/model.js';
import type { ModelFile } from '../detect/classify/model.js';
import { isolationForestScorer } from '../detect/anomaly/isolation-forest.js';
import { ISOLATION_FOREST_DEFAULTS, trainIsolationForest } from './isolation-forest.js';
import { Rng } from './tree-common.js';
import type { Dataset } from './types.js';

/** n rows of d standard normal features (a "baseline" of normal traffic). */
function normal(n: number, d: number, seed: number): Dataset {
  const rng = new Rng(seed, 3);
  const x = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++) x[i] = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  return {
    x,
    n,
    d,
    features: Array.from({ length: d }, (_, j) => `f${j}`),
    y: new Int32Array(n).fill(-1),
    classes: [],
  };
}

function file(ds: Dataset, params: unknown): ModelFile {
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: 'isolation_forest',
    features: ds.features,
    classes: [],
    benignClass: null,
    params,
  };
}

test('outliers score high, inliers low, every score in [0, 1]', async () => {
  const ds = normal(4000, 4, 1);
  const out = await trainIsolationForest(ds, { params: {}, seed: 1 });
  const m = isolationForestScorer(file(ds, out.params));
  const q = normal(1000, 4, 2);
  const s = new Float64Array(q.n);
  m.score(q.x, q.n, s);
  const sorted = Float64Array.from(s).sort();
  const median = sorted[q.n >> 1]!;
  for (const v of s) assert.ok(v >= 0 && v <= 1);
  assert.ok(median < 0.5, `inlier median ${median}`);
  // Far out on every feature: isolated in a split or two. Far out on one of four: less so (one
  // split in four uses that feature; scikit-learn scores this point 0.52), still above the median.
  const far = new Float64Array(2);
  m.score(Float64Array.of(6, -6, 6, 6, 0, 9, 0, 0), 2, far);
  assert.ok(far[0]! > 0.7 && far[0]! > sorted[q.n - 1]!, `outlier ${far[0]}`);
  assert.ok(far[1]! > median + 0.05, `one-feature outlier ${far[1]}`);
});

test('the explanation names the feature that isolated the row', async () => {
  const ds = normal(3000, 5, 3);
  const m = isolationForestScorer(file(ds, (await trainIsolationForest(ds, { params: {}, seed: 4 })).params));
  const top = m.explain(Float64Array.of(0.1, -0.2, 0, 12, 0.3));
  assert.equal(top[0]!.feature, 'f3');
  assert.ok(top[0]!.weight > 0.5, `weight ${top[0]!.weight}`);
  const sum = top.reduce((a, t) => a + t.weight, 0);
  assert.ok(Math.abs(sum - 1) < 1e-9);
  for (let i = 1; i < top.length; i++) assert.ok(top[i - 1]!.weight >= top[i]!.weight);
});

test('contamination sets the threshold as that upper quantile of the training scores', async () => {
  const ds = normal(2000, 3, 5);
  const out = await trainIsolationForest(ds, { params: { contamination: 0.05 }, seed: 1 });
  const p = out.params as { threshold: number };
  const m = isolationForestScorer(file(ds, out.params));
  assert.equal(m.threshold, p.threshold);
  const s = new Float64Array(ds.n);
  m.score(ds.x, ds.n, s);
  let above = 0;
  for (const v of s) if (v > p.threshold) above++;
  assert.ok(Math.abs(above / ds.n - 0.05) < 0.005, `share above ${above / ds.n}`);
  // "auto" leaves calibration to the training pipeline: no threshold saved, the scorer uses 0.5.
  const auto = await trainIsolationForest(ds, { params: {}, seed: 1 });
  assert.equal((auto.params as { threshold?: number }).threshold, undefined);
  assert.equal(isolationForestScorer(file(ds, auto.params)).threshold, 0.5);
});

test('subsample ψ and tree count; deterministic; reloads with identical scores', async () => {
  const ds = normal(1000, 3, 6);
  const a = await trainIsolationForest(ds, { params: { trees: 20, maxSamples: 64 }, seed: 9 });
  const b = await trainIsolationForest(ds, { params: { trees: 20, maxSamples: 64 }, seed: 9 });
  assert.ok(JSON.stringify(a.params) === JSON.stringify(b.params));
  const p = a.params as { subsample: number; trees: { size: number[]; feature: number[] }[] };
  assert.equal(p.subsample, 64);
  assert.equal(p.trees.length, 20);
  for (const t of p.trees) {
    assert.equal(t.size[0], 64);
    // Height limit ceil(log2 64) = 6: at most 2^7 - 1 nodes.
    assert.ok(t.feature.length <= 127);
  }
  const s1 = new Float64Array(ds.n);
  const s2 = new Float64Array(ds.n);
  isolationForestScorer(file(ds, a.params)).score(ds.x, ds.n, s1);
  isolationForestScorer(JSON.parse(JSON.stringify(file(ds, a.params))) as ModelFile).score(ds.x, ds.n, s2);
  assert.deepEqual(Array.from(s2), Array.from(s1));
});

test('fewer rows than ψ: every row in every tree; labels are ignored', async () => {
  const ds = normal(50, 2, 7);
  const labeled: Dataset = { ...ds, y: new Int32Array(50).fill(1), classes: ['benign', 'attack'] };
  const a = await trainIsolationForest(ds, { params: { trees: 5 }, seed: 1 });
  const b = await trainIsolationForest(labeled, { params: { trees: 5 }, seed: 1 });
  assert.equal((a.params as { subsample: number }).subsample, 50);
  assert.ok(JSON.stringify(a.params) === JSON.stringify(b.params));
});

test('defaults are the paper’s and bad options are refused', async () => {
  assert.equal(ISOLATION_FOREST_DEFAULTS['trees'], 100);
  assert.equal(ISOLATION_FOREST_DEFAULTS['maxSamples'], 256);
  const ds = normal(100, 2, 1);
  await assert.rejects(trainIsolationForest(ds, { params: { contamination: 0.9 }, seed: 1 }), {
    code: 'VIGIL_ML_OPTIONS_INVALID',
  });
  await assert.rejects(trainIsolationForest(normal(1, 2, 1), { params: {}, seed: 1 }), {
    code: 'VIGIL_ML_DATA_INVALID',
  });
});
