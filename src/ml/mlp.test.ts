import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelFile } from '../detect/classify/model.js';
import { loadScoringModel } from '../detect/classify/load.js';
import { blobs, modelFile } from '../../test/helpers/ml-data.js';
import { MlError } from './errors.js';
import { MLP_TRAINER, mlpShapes, trainMlp } from './mlp.js';
import { cnnShapes } from './cnn.js';
import { NetBatch, initLayers } from './nn-train.js';
import type { LayerShape } from './nn-train.js';
import { Rng } from './tree-common.js';
import { TRAINERS } from './trainers.js';
import type { Dataset } from './types.js';

/**
 * Backpropagation against finite differences: every weight and bias of every layer, central
 * differences of the batch loss (1/nb) Σ s_i CE_i.
 */
function gradientCheck(shapes: LayerShape[], d: number, k: number, seed: number): number {
  const layers = initLayers(shapes, d, k, seed);
  const nb = 5;
  const net = new NetBatch(layers, d, k, nb);
  const rng = new Rng(seed);
  const x = Float64Array.from({ length: nb * d }, () => (rng.next() - 0.5) * 4);
  const y = Int32Array.from({ length: nb }, (_, i) => i % k);
  const sw = Float64Array.from({ length: nb }, (_, i) => 0.5 + i);
  const idx = Int32Array.from({ length: nb }, (_, i) => i);
  // Non-zero biases so ReLUs and pools are not all at their kinks.
  for (const l of layers) for (let i = 0; i < l.bias.length; i++) l.bias[i] = (rng.next() - 0.5) * 0.2;
  const lossAt = (): number => {
    net.load(x, idx, 0, nb);
    net.forward(nb);
    return net.loss(nb, y, sw, idx, 0)[0] / nb;
  };
  lossAt();
  net.backward(nb, y, sw, idx, 0);
  let worst = 0;
  const h = 1e-6;
  for (const l of layers)
    for (const [p, g] of [
      [l.w, l.gw],
      [l.bias, l.gb],
    ] as const) {
      const analytic = g.slice();
      for (let i = 0; i < p.length; i++) {
        const v = p[i]!;
        p[i] = v + h;
        const up = lossAt();
        p[i] = v - h;
        const down = lossAt();
        p[i] = v;
        const num = (up - down) / (2 * h);
        worst = Math.max(worst, Math.abs(num - analytic[i]!) / Math.max(1e-3, Math.abs(num) + Math.abs(analytic[i]!)));
      }
    }
  return worst;
}

test('backpropagation matches finite differences (dense, ReLU, conv1d, max-pool, weighted rows)', () => {
  assert.ok(gradientCheck(mlpShapes(7, [6, 5], 3), 7, 3, 1) < 1e-5);
  assert.ok(gradientCheck(cnnShapes(13, [3, 4], 3, 2, [5], 3), 13, 3, 2) < 1e-5);
  assert.ok(gradientCheck(cnnShapes(9, [2], 2, 1, [], 4), 9, 4, 3) < 1e-5);
});

/** Two classes on concentric rings: not linearly separable, easy for a small MLP. */
function rings(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = new Float64Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    const r = (c === 0 ? 1 : 2.5) + (rng.next() - 0.5) * 0.6;
    const t = rng.next() * 2 * Math.PI;
    x[i * 2] = r * Math.cos(t) * 1000;
    x[i * 2 + 1] = r * Math.sin(t);
    y[i] = c;
  }
  return { x, n, d: 2, y, features: ['a', 'b'], classes: ['benign', 'attack'] };
}

function accuracy(f: ModelFile, ds: Dataset): number {
  const m = loadScoringModelFromFile(f);
  const k = ds.classes.length;
  const p = new Float64Array(ds.n * k);
  m.predictProba!(ds.x, ds.n, p);
  let right = 0;
  for (let i = 0; i < ds.n; i++) {
    let b = 0;
    for (let c = 1; c < k; c++) if (p[i * k + c]! > p[i * k + b]!) b = c;
    if (b === ds.y[i]) right++;
  }
  return right / ds.n;
}

function loadScoringModelFromFile(f: ModelFile): ReturnType<typeof loadScoringModel>['model'] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-mlp-'));
  try {
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(f));
    // The whole model is read at load; the directory is not needed afterwards.
    return loadScoringModel(dir).model;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('learns a non-linear boundary (rings) from raw, unevenly scaled features', async () => {
  const ds = rings(1200, 1);
  const out = await trainMlp(ds, { params: { hidden: '16,16', epochs: 80 }, seed: 1 });
  assert.ok(out.scaler !== undefined, 'the trainer standardizes and returns its scaler');
  const acc = accuracy(modelFile(ds, out), rings(600, 2));
  assert.ok(acc > 0.95, `held-out accuracy ${acc}`);
  const fit = (out.params as { fit: { bestEpoch: number; epochsRun: number; validationRows: number } }).fit;
  assert.ok(fit.bestEpoch <= fit.epochsRun && fit.validationRows === 120);
});

test('deterministic for a seed; a saved model reloads with identical predictions', async () => {
  const ds = blobs(500, 5, 3, 1);
  const params = { hidden: '8', epochs: 5 };
  const a = await trainMlp(ds, { params, seed: 3 });
  const b = await trainMlp(ds, { params, seed: 3 });
  assert.deepEqual(a, b);
  const c = await trainMlp(ds, { params, seed: 4 });
  assert.notDeepEqual(a.params, c.params);
  const f = modelFile(ds, a);
  const m1 = loadScoringModelFromFile(f);
  const m2 = loadScoringModelFromFile(JSON.parse(JSON.stringify(f)) as ModelFile);
  const x = blobs(200, 5, 3, 9).x;
  const p1 = new Float64Array(600);
  const p2 = new Float64Array(600);
  m1.predictProba!(x, 200, p1);
  m2.predictProba!(x, 200, p2);
  assert.deepEqual(p1, p2);
});

test('class weights shift predictions toward the weighted class', async () => {
  const ds = blobs(600, 3, 2, 5);
  const params = { hidden: '8', epochs: 10, validationFraction: 0 };
  const plain = await trainMlp(ds, { params, seed: 1 });
  const w = Float64Array.from(ds.y, (c) => (c === 1 ? 10 : 1));
  const weighted = await trainMlp(ds, { params, seed: 1, weights: w });
  const share = (out: typeof plain): number => {
    const m = loadScoringModelFromFile(modelFile(ds, out));
    const p = new Float64Array(ds.n * 2);
    m.predictProba!(ds.x, ds.n, p);
    let ones = 0;
    for (let i = 0; i < ds.n; i++) if (p[i * 2 + 1]! > p[i * 2]!) ones++;
    return ones / ds.n;
  };
  assert.ok(share(weighted) > share(plain) + 0.02, `${share(weighted)} vs ${share(plain)}`);
});

test('bad parameters are refused; registered in TRAINERS', async () => {
  const ds = blobs(50, 3, 2, 1);
  const bad: Record<string, number | string>[] = [
    { hidden: '8,x' },
    { hidden: '0' },
    { epochs: 0 },
    { batchSize: 0 },
    { learningRate: 0 },
    { alpha: -1 },
    { validationFraction: 0.95 },
    { patience: 0 },
  ];
  for (const params of bad)
    await assert.rejects(
      trainMlp(ds, { params, seed: 1 }),
      (e: unknown) => e instanceof MlError && e.code === 'VIGIL_ML_OPTIONS_INVALID',
      JSON.stringify(params),
    );
  assert.ok(TRAINERS.includes(MLP_TRAINER));
  // An empty hidden list is a (multinomial logistic) network with no hidden layer.
  const out = await trainMlp(ds, { params: { hidden: '', epochs: 2 }, seed: 1 });
  assert.equal((out.params as { layers: unknown[] }).layers.length, 1);
});
