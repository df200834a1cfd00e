import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelFile } from '../detect/classify/model.js';
import { blobs, modelFile } from '../../test/helpers/ml-data.js';
import { loadScoringModel } from '../detect/classify/load.js';
import { LOGISTIC_REGRESSION_TRAINER, lbfgs, trainLogisticRegression } from './logistic-regression.js';
import { MlError } from './errors.js';
import { TRAINERS } from './trainers.js';

test('L-BFGS finds the minimum of the Rosenbrock function and of a badly scaled quadratic', async () => {
  const rosen = (t: Float64Array, g: Float64Array): number => {
    const [a, b] = [t[0]!, t[1]!];
    g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
    g[1] = 200 * (b - a * a);
    return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
  };
  const t = Float64Array.from([-1.2, 1]);
  const r = await lbfgs(rosen, t, { maxIter: 500, tol: 1e-9, memory: 10 });
  assert.ok(Math.abs(t[0]! - 1) < 1e-6 && Math.abs(t[1]! - 1) < 1e-6, `${t[0]}, ${t[1]} after ${r.iterations}`);
  const scales = [1, 10, 100, 1000, 1e4];
  const q = new Float64Array(5).fill(3);
  await lbfgs(
    (v, g) => {
      let f = 0;
      for (let i = 0; i < 5; i++) {
        f += 0.5 * scales[i]! * (v[i]! - i) ** 2;
        g[i] = scales[i]! * (v[i]! - i);
      }
      return f;
    },
    q,
    { maxIter: 500, tol: 1e-8, memory: 10 },
  );
  q.forEach((v, i) => assert.ok(Math.abs(v - i) < 1e-6, `${i}: ${v}`));
});

test('the fitted weights are the optimum: the gradient of the penalized loss vanishes', async () => {
  // Already unit-scale data, standardize=false, so the weights apply to x directly.
  const ds = blobs(300, 4, 3, 1, 0.3);
  const C = 0.5;
  const sw = Float64Array.from({ length: ds.n }, (_, i) => 1 + (i % 3));
  const out = await trainLogisticRegression(ds, { params: { C, standardize: false, tol: 1e-9 }, weights: sw, seed: 1 });
  assert.equal(out.scaler, undefined);
  const p = out.params as { weights: number[]; intercepts: number[] };
  const { n, d, x, y } = ds;
  const k = 3;
  // Independent gradient of Σ s_i CE_i + ||W||²/(2C) (scikit-learn's objective).
  const gw = new Float64Array(k * d);
  const gb = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const z = p.intercepts.map(
      (b, c) =>
        b + Array.from({ length: d }, (_, j) => p.weights[c * d + j]! * x[i * d + j]!).reduce((a, v) => a + v, 0),
    );
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, v) => a + v, 0);
    for (let c = 0; c < k; c++) {
      const r = sw[i]! * (e[c]! / s - (y[i] === c ? 1 : 0));
      gb[c]! += r;
      for (let j = 0; j < d; j++) gw[c * d + j]! += r * x[i * d + j]!;
    }
  }
  let worst = 0;
  for (let q = 0; q < k * d; q++) worst = Math.max(worst, Math.abs(gw[q]! + p.weights[q]! / C));
  for (let c = 0; c < k; c++) worst = Math.max(worst, Math.abs(gb[c]!));
  assert.ok(worst < 1e-4, `largest gradient component ${worst}`);
});

test('raw, badly scaled data: the trainer standardizes, returns its scaler, and classifies well', async () => {
  const ds = blobs(900, 6, 3, 2, 1e4);
  const out = await trainLogisticRegression(ds, { params: {}, seed: 3 });
  assert.ok(out.scaler !== undefined && out.scaler.kind === 'standard');
  const m = loadFromJson(modelFile(ds, out));
  const pr = new Float64Array(ds.n * 3);
  m.predictProba!(ds.x, ds.n, pr);
  let right = 0;
  for (let i = 0; i < ds.n; i++) {
    let b = 0;
    for (let c = 1; c < 3; c++) if (pr[i * 3 + c]! > pr[i * 3 + b]!) b = c;
    if (b === ds.y[i]) right++;
  }
  assert.ok(right / ds.n > 0.9, `training accuracy ${right / ds.n}`);
});

function loadFromJson(f: ModelFile): ReturnType<typeof loadScoringModel>['model'] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-lr-'));
  try {
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(f));
    // The whole model is read at load; the directory is not needed afterwards.
    return loadScoringModel(dir).model;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('same data and seed give the same model; a saved model reloads with identical predictions', async () => {
  const ds = blobs(400, 5, 4, 4);
  const a = await trainLogisticRegression(ds, { params: {}, seed: 9 });
  const b = await trainLogisticRegression(ds, { params: {}, seed: 9 });
  assert.deepEqual(a.params, b.params);
  const f = modelFile(ds, a);
  const live = loadFromJson(JSON.parse(JSON.stringify(f)) as ModelFile);
  const again = loadFromJson(f);
  const x = blobs(300, 5, 4, 5).x;
  const p1 = new Float64Array(1200);
  const p2 = new Float64Array(1200);
  live.predictProba!(x, 300, p1);
  again.predictProba!(x, 300, p2);
  assert.deepEqual(p1, p2);
});

test('bad parameters are refused with VIGIL_ML_OPTIONS_INVALID; registered in TRAINERS', async () => {
  const ds = blobs(30, 2, 2, 1);
  const bad: Record<string, number | string>[] = [
    { C: 0 },
    { maxIter: 0 },
    { tol: -1 },
    { memory: 0 },
    { standardize: 'maybe' },
    { C: 'x' },
  ];
  for (const params of bad)
    await assert.rejects(
      trainLogisticRegression(ds, { params, seed: 1 }),
      (e: unknown) => e instanceof MlError && e.code === 'VIGIL_ML_OPTIONS_INVALID',
      JSON.stringify(params),
    );
  assert.ok(TRAINERS.includes(LOGISTIC_REGRESSION_TRAINER));
});
