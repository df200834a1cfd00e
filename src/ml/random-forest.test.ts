import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../detect/classify/model.js';
import type { ModelFile } from '../detect/classify/model.js';
import { randomForestScorer } from '../detect/classify/random-forest.js';
import { RANDOM_FOREST_DEFAULTS, resolveMaxFeatures, trainRandomForest } from './random-forest.js';
import { Rng } from './tree-common.js';
import type { Dataset } from './types.js';

/**
 * Four Gaussian blobs in 2-D, labelled XOR-wise (no single axis separates the classes), plus
 * `noise` uninformative columns: a forest must combine the two informative features.
 */
function xorData(n: number, noise: number, seed: number): Dataset {
  const rng = new Rng(seed, 99);
  const d = 2 + noise;
  const x = new Float64Array(n * d);
  const y = new Int32Array(n);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  for (let i = 0; i < n; i++) {
    const a = rng.int(2);
    const b = rng.int(2);
    x[i * d] = (a === 1 ? 3 : -3) + gauss() * 0.7;
    x[i * d + 1] = (b === 1 ? 3 : -3) + gauss() * 0.7;
    for (let j = 2; j < d; j++) x[i * d + j] = gauss() * 5;
    y[i] = a ^ b;
  }
  return { x, n, d, features: Array.from({ length: d }, (_, j) => `f${j}`), y, classes: ['benign', 'attack'] };
}

function modelFile(ds: Dataset, params: unknown): ModelFile {
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: 'random_forest',
    features: ds.features,
    classes: ds.classes,
    benignClass: ds.classes[0]!,
    params,
  };
}

function accuracy(proba: Float64Array, y: Int32Array, n: number, k: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let j = 1; j < k; j++) if (proba[i * k + j]! > proba[i * k + b]!) b = j;
    if (b === y[i]) ok++;
  }
  return ok / n;
}

test('random forest learns an XOR of two features among noise columns', async () => {
  const train = xorData(2000, 6, 1);
  const test2 = xorData(1000, 6, 2);
  const out = await trainRandomForest(train, { params: { trees: 30, threads: 1 }, seed: 7 });
  assert.equal(out.type, 'random_forest');
  const m = randomForestScorer(modelFile(train, out.params));
  const proba = new Float64Array(test2.n * 2);
  m.predictProba!(test2.x, test2.n, proba);
  assert.ok(accuracy(proba, test2.y, test2.n, 2) > 0.97, 'held-out accuracy');
  for (let i = 0; i < test2.n; i++) assert.ok(Math.abs(proba[i * 2]! + proba[i * 2 + 1]! - 1) < 1e-9);
});

test('same seed, same forest; thread count does not change it; another seed does', async () => {
  const ds = xorData(600, 3, 3);
  const a = await trainRandomForest(ds, { params: { trees: 8, threads: 1 }, seed: 11 });
  const b = await trainRandomForest(ds, { params: { trees: 8, threads: 2 }, seed: 11 });
  const c = await trainRandomForest(ds, { params: { trees: 8, threads: 1 }, seed: 12 });
  // Compared as strings with ok(): a failing deepEqual would print megabytes of trees.
  assert.ok(JSON.stringify(a.params) === JSON.stringify(b.params), 'threads 1 vs 2');
  assert.ok(JSON.stringify(a.params) !== JSON.stringify(c.params), 'seed 11 vs 12');
});

test('a saved forest reloads and gives identical probabilities', async () => {
  const ds = xorData(800, 4, 4);
  const out = await trainRandomForest(ds, { params: { trees: 10, threads: 1 }, seed: 5 });
  const before = randomForestScorer(modelFile(ds, out.params));
  const saved = JSON.stringify(modelFile(ds, out.params));
  const after = randomForestScorer(JSON.parse(saved) as ModelFile);
  const q = xorData(300, 4, 5);
  const p1 = new Float64Array(q.n * 2);
  const p2 = new Float64Array(q.n * 2);
  before.predictProba!(q.x, q.n, p1);
  after.predictProba!(q.x, q.n, p2);
  assert.deepEqual(Array.from(p2), Array.from(p1));
});

test('sample weights move an impure leaf towards the weighted class', async () => {
  // One binary feature: at x = 1 there are 10 benign rows and 5 attack rows, which no split
  // can separate. Unweighted the leaf says P(attack) = 1/3; attack rows weighted 4× say 2/3.
  const n = 105;
  const x = new Float64Array(n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i < 90 ? 0 : 1;
    y[i] = i < 100 ? 0 : 1;
  }
  const ds: Dataset = { x, n, d: 1, features: ['f0'], y, classes: ['benign', 'attack'] };
  const params = { trees: 1, bootstrap: false, threads: 1 };
  const w = new Float64Array(n).map((_, i) => (y[i] === 1 ? 4 : 1));
  const plain = randomForestScorer(modelFile(ds, (await trainRandomForest(ds, { params, seed: 1 })).params));
  const weighted = randomForestScorer(
    modelFile(ds, (await trainRandomForest(ds, { params, seed: 1, weights: w })).params),
  );
  const p = new Float64Array(2);
  plain.predictProba!(Float64Array.of(1), 1, p);
  assert.ok(Math.abs(p[1]! - 1 / 3) < 1e-12);
  weighted.predictProba!(Float64Array.of(1), 1, p);
  assert.ok(Math.abs(p[1]! - 2 / 3) < 1e-12);
});

test('unlabeled rows (-1) are left out of training', async () => {
  const ds = xorData(400, 0, 6);
  // The same points again, unlabeled: the forest must be exactly the labeled rows' forest.
  const n = ds.n * 2;
  const x = new Float64Array(n * 2);
  x.set(ds.x);
  x.set(ds.x, ds.n * 2);
  const y = new Int32Array(n).fill(-1);
  y.set(ds.y);
  const withUnlabeled: Dataset = { ...ds, x, n, y };
  const a = await trainRandomForest(ds, { params: { trees: 3, threads: 1 }, seed: 2 });
  const b = await trainRandomForest(withUnlabeled, { params: { trees: 3, threads: 1 }, seed: 2 });
  assert.ok(JSON.stringify(a.params) === JSON.stringify(b.params));
});

test('thresholds are raw values: scoring needs no bins and agrees with the training split', async () => {
  // Values 0..9; attack iff value ≥ 5: the single split must sit between 4 and 5.
  const n = 200;
  const x = new Float64Array(n).map((_, i) => i % 10);
  const y = new Int32Array(n).map((_, i) => (i % 10 >= 5 ? 1 : 0));
  const ds: Dataset = { x, n, d: 1, features: ['f0'], y, classes: ['benign', 'attack'] };
  const out = await trainRandomForest(ds, { params: { trees: 1, bootstrap: false, threads: 1 }, seed: 1 });
  const tree = (out.params as { trees: { feature: number[]; threshold: number[] }[] }).trees[0]!;
  assert.equal(tree.feature[0], 0);
  assert.equal(tree.threshold[0], 4.5);
  const m = randomForestScorer(modelFile(ds, out.params));
  const p = new Float64Array(4);
  m.predictProba!(Float64Array.of(4.49, 4.51), 2, p);
  assert.deepEqual(Array.from(p), [1, 0, 0, 1]);
});

test('maxFeatures resolves names, fractions and counts', () => {
  assert.equal(resolveMaxFeatures('sqrt', 80), 8);
  assert.equal(resolveMaxFeatures('log2', 80), 6);
  assert.equal(resolveMaxFeatures('all', 80), 80);
  assert.equal(resolveMaxFeatures(0.5, 80), 40);
  assert.equal(resolveMaxFeatures(12, 80), 12);
  assert.throws(() => resolveMaxFeatures('many', 80), /maxFeatures/);
  assert.equal(RANDOM_FOREST_DEFAULTS['trees'], 100);
});

test('bad hyper-parameters are refused with VIGIL_ML_OPTIONS_INVALID', async () => {
  const ds = xorData(50, 0, 1);
  await assert.rejects(trainRandomForest(ds, { params: { trees: 0 }, seed: 1 }), { code: 'VIGIL_ML_OPTIONS_INVALID' });
  await assert.rejects(trainRandomForest(ds, { params: { trees: 'lots' }, seed: 1 }), {
    code: 'VIGIL_ML_OPTIONS_INVALID',
  });
});
