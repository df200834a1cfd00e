import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../detect/classify/model.js';
import type { ModelFile } from '../detect/classify/model.js';
import { gradientBoostingScorer } from '../detect/classify/gradient-boosting.js';
import { GRADIENT_BOOSTING_DEFAULTS, trainGradientBoosting } from './gradient-boosting.js';
import { Rng } from './tree-common.js';
import type { Dataset } from './types.js';

/** k Gaussian blobs on a circle in the first two features, plus `noise` uninformative columns. */
function blobs(n: number, k: number, noise: number, seed: number, spread = 0.8): Dataset {
  const rng = new Rng(seed, 7);
  const d = 2 + noise;
  const x = new Float64Array(n * d);
  const y = new Int32Array(n);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  for (let i = 0; i < n; i++) {
    const c = rng.int(k);
    x[i * d] = 4 * Math.cos((2 * Math.PI * c) / k) + gauss() * spread;
    x[i * d + 1] = 4 * Math.sin((2 * Math.PI * c) / k) + gauss() * spread;
    for (let j = 2; j < d; j++) x[i * d + j] = gauss() * 3;
    y[i] = c;
  }
  const classes = Array.from({ length: k }, (_, c) => (c === 0 ? 'benign' : `attack${c}`));
  return { x, n, d, features: Array.from({ length: d }, (_, j) => `f${j}`), y, classes };
}

/** XOR of the signs of two features: needs interactions, which a single split cannot give. */
function xor(n: number, seed: number): Dataset {
  const rng = new Rng(seed, 8);
  const x = new Float64Array(n * 3);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng.next() * 2 - 1;
    const b = rng.next() * 2 - 1;
    x[i * 3] = a;
    x[i * 3 + 1] = b;
    x[i * 3 + 2] = rng.next();
    y[i] = a > 0 !== b > 0 ? 1 : 0;
  }
  return { x, n, d: 3, features: ['a', 'b', 'noise'], y, classes: ['benign', 'attack'] };
}

function file(ds: Dataset, params: unknown): ModelFile {
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: 'gradient_boosting',
    features: ds.features,
    classes: ds.classes,
    benignClass: 'benign',
    params,
  };
}

function accuracy(f: ModelFile, ds: Dataset): number {
  const k = ds.classes.length;
  const p = new Float64Array(ds.n * k);
  gradientBoostingScorer(f).predictProba!(ds.x, ds.n, p);
  let ok = 0;
  for (let i = 0; i < ds.n; i++) {
    let b = 0;
    for (let j = 1; j < k; j++) if (p[i * k + j]! > p[i * k + b]!) b = j;
    if (b === ds.y[i]) ok++;
    let s = 0;
    for (let j = 0; j < k; j++) s += p[i * k + j]!;
    assert.ok(Math.abs(s - 1) < 1e-9);
  }
  return ok / ds.n;
}

test('binary (logistic) boosting learns an XOR, one tree per iteration', async () => {
  const out = await trainGradientBoosting(xor(3000, 1), { params: { earlyStopping: false }, seed: 1 });
  const p = out.params as { treesPerIteration: number; trees: unknown[]; iterations: number };
  assert.equal(p.treesPerIteration, 1);
  assert.equal(p.trees.length, 100);
  assert.ok(accuracy(file(xor(1, 1), out.params), xor(2000, 2)) > 0.95);
});

test('multi-class (softmax) boosting: one tree per class per iteration', async () => {
  const train = blobs(3000, 4, 3, 3);
  const out = await trainGradientBoosting(train, { params: { maxIter: 30, earlyStopping: false }, seed: 1 });
  const p = out.params as { treesPerIteration: number; trees: unknown[]; baseline: number[] };
  assert.equal(p.treesPerIteration, 4);
  assert.equal(p.trees.length, 120);
  assert.equal(p.baseline.length, 4);
  assert.ok(accuracy(file(train, out.params), blobs(2000, 4, 3, 4)) > 0.97);
});

test('early stopping ends when the validation loss stops improving', async () => {
  // Separable blobs: the loss flattens long before 1000 iterations.
  const ds = blobs(3000, 3, 0, 5, 0.3);
  const out = await trainGradientBoosting(ds, {
    params: { maxIter: 1000, earlyStopping: true, learningRate: 0.5 },
    seed: 1,
  });
  const p = out.params as { iterations: number; trees: unknown[] };
  assert.ok(p.iterations < 1000 && p.iterations > 10, `iterations ${p.iterations}`);
  assert.equal(p.trees.length, p.iterations * 3);
});

test('deterministic for a seed and any thread count; a saved model reloads with identical probabilities', async () => {
  const ds = blobs(2500, 3, 2, 6);
  const opts = { params: { maxIter: 15, earlyStopping: true }, seed: 3 };
  const a = await trainGradientBoosting(ds, opts);
  const b = await trainGradientBoosting(ds, opts);
  assert.ok(JSON.stringify(a.params) === JSON.stringify(b.params));
  // The classes' trees of an iteration grown on two worker threads: the same model.
  const c = await trainGradientBoosting(ds, { ...opts, params: { ...opts.params, threads: 2 } });
  assert.ok(JSON.stringify(a.params) === JSON.stringify(c.params), 'threads 1 vs 2');
  const q = blobs(500, 3, 2, 7);
  const p1 = new Float64Array(q.n * 3);
  const p2 = new Float64Array(q.n * 3);
  gradientBoostingScorer(file(ds, a.params)).predictProba!(q.x, q.n, p1);
  gradientBoostingScorer(JSON.parse(JSON.stringify(file(ds, a.params))) as ModelFile).predictProba!(q.x, q.n, p2);
  assert.deepEqual(Array.from(p2), Array.from(p1));
});

test('sample weights shift the prior: the baseline follows the weighted class shares', async () => {
  const ds = xor(400, 9);
  const w = new Float64Array(ds.n).map((_, i) => (ds.y[i] === 1 ? 3 : 1));
  const plain = await trainGradientBoosting(ds, { params: { maxIter: 1, earlyStopping: false }, seed: 1 });
  const weighted = await trainGradientBoosting(ds, {
    params: { maxIter: 1, earlyStopping: false },
    seed: 1,
    weights: w,
  });
  let pos = 0;
  for (let i = 0; i < ds.n; i++) pos += ds.y[i]!;
  const logit = (q: number): number => Math.log(q / (1 - q));
  const b0 = (plain.params as { baseline: number[] }).baseline[0]!;
  const b1 = (weighted.params as { baseline: number[] }).baseline[0]!;
  assert.ok(Math.abs(b0 - logit(pos / ds.n)) < 1e-12);
  assert.ok(Math.abs(b1 - logit((3 * pos) / (3 * pos + ds.n - pos))) < 1e-12);
});

test('defaults follow scikit-learn and bad options are refused', async () => {
  assert.equal(GRADIENT_BOOSTING_DEFAULTS['maxLeafNodes'], 31);
  assert.equal(GRADIENT_BOOSTING_DEFAULTS['learningRate'], 0.1);
  assert.equal(GRADIENT_BOOSTING_DEFAULTS['minSamplesLeaf'], 20);
  const ds = xor(100, 1);
  await assert.rejects(trainGradientBoosting(ds, { params: { learningRate: 0 }, seed: 1 }), {
    code: 'VIGIL_ML_OPTIONS_INVALID',
  });
  await assert.rejects(trainGradientBoosting({ ...ds, classes: ['benign'] }, { params: {}, seed: 1 }), {
    code: 'VIGIL_ML_DATA_INVALID',
  });
});
