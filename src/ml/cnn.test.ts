import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cnnScorer } from '../detect/classify/cnn.js';
import type { LayerJson } from '../detect/classify/nn-layers.js';
import { modelFile } from '../../test/helpers/ml-data.js';
import { tfPredict, tfReady } from '../../test/helpers/tfjs-reference.js';
import { CNN_TRAINER, cnnShapes, trainCnn } from './cnn.js';
import { MlError } from './errors.js';
import { Rng } from './tree-common.js';
import { TRAINERS } from './trainers.js';
import type { Dataset } from './types.js';

test('layer shapes: conv (valid) → relu → pool per block, flatten, dense, output', () => {
  const s = cnnShapes(83, [16, 32], 3, 2, [32], 5);
  assert.deepEqual(
    s.map((l) => l.kind),
    ['conv1d', 'relu', 'maxpool1d', 'conv1d', 'relu', 'maxpool1d', 'dense', 'relu', 'dense'],
  );
  // 83 → conv 81 → pool 40 → conv 38 → pool 19; 19 × 32 = 608 into the dense layer.
  assert.deepEqual(s[6], { kind: 'dense', in: 608, out: 32 });
  assert.throws(
    () => cnnShapes(6, [4, 4], 3, 2, [], 2),
    (e: unknown) => e instanceof MlError && /6 features are too few/.test(e.message),
  );
});

/** Class 1 when a run of three high values appears anywhere in the 20 features; noise otherwise. */
function bumps(n: number, seed: number): Dataset {
  const d = 20;
  const rng = new Rng(seed);
  const x = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = rng.next();
    if (i % 2 === 1) {
      const at = rng.int(d - 2);
      for (let u = 0; u < 3; u++) x[i * d + at + u] = 2 + rng.next();
      y[i] = 1;
    } else {
      // Decoys: isolated high values, never three in a row.
      for (let t = 0; t < 3; t++) x[i * d + rng.int(d / 4) * 4] = 2 + rng.next();
    }
  }
  return { x, n, d, y, features: Array.from({ length: d }, (_, j) => `f${j}`), classes: ['benign', 'attack'] };
}

test('learns a pattern wherever it sits in the feature vector; trained weights score as in TensorFlow.js', async () => {
  const ds = bumps(1500, 1);
  const out = await trainCnn(ds, { params: { filters: '8,8', dense: '16', epochs: 40 }, seed: 2 });
  const f = modelFile(ds, out);
  const m = cnnScorer(JSON.parse(JSON.stringify(f)));
  const test = bumps(600, 3);
  const p = new Float64Array(test.n * 2);
  m.predictProba!(test.x, test.n, p);
  let right = 0;
  for (let i = 0; i < test.n; i++) if ((p[i * 2 + 1]! > 0.5 ? 1 : 0) === test.y[i]) right++;
  assert.ok(right / test.n > 0.95, `held-out accuracy ${right / test.n}`);

  // The same (scaled) rows through tfjs with the trained weights.
  await tfReady();
  const s = out.scaler!;
  const xs = test.x.slice();
  for (let i = 0; i < xs.length; i++) xs[i] = (xs[i]! - s.center[i % 20]!) / s.scale[i % 20]!;
  const ref = tfPredict((out.params as { layers: LayerJson[] }).layers, xs, test.n, 20);
  let worst = 0;
  for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i]! - ref[i]!));
  assert.ok(worst < 1e-5, `max difference ${worst}`);
});

test('deterministic for a seed; bad parameters refused; registered', async () => {
  const ds = bumps(200, 4);
  const params = { filters: '4', dense: '', epochs: 3 };
  assert.deepEqual(await trainCnn(ds, { params, seed: 1 }), await trainCnn(ds, { params, seed: 1 }));
  const bad: Record<string, number | string>[] = [
    { filters: '' },
    { kernel: 0 },
    { pool: 0 },
    { kernel: 30 },
    { dense: '-3' },
  ];
  for (const p of bad)
    await assert.rejects(
      trainCnn(ds, { params: p, seed: 1 }),
      (e: unknown) => e instanceof MlError && e.code === 'VIGIL_ML_OPTIONS_INVALID',
      JSON.stringify(p),
    );
  assert.ok(TRAINERS.includes(CNN_TRAINER));
});
