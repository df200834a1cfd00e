import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linearScorer } from '../detect/classify/linear.js';
import { blobs, modelFile } from '../../test/helpers/ml-data.js';
import { MlError } from './errors.js';
import { SVM_TRAINER, fitTemperature, trainBinarySvm, trainSvm } from './svm.js';
import { Rng } from './tree-common.js';
import { TRAINERS } from './trainers.js';

/** Primal objective ½||w||² + C Σ s_i loss(t_i (w·x_i + b)) with the bias regularized (LIBLINEAR). */
function primal(w: Float64Array, x: Float64Array, t: Int8Array, d: number, C: number, squared: boolean): number {
  let f = 0;
  for (let j = 0; j <= d; j++) f += 0.5 * w[j]! * w[j]!;
  for (let i = 0; i < t.length; i++) {
    let m = w[d]!;
    for (let j = 0; j < d; j++) m += w[j]! * x[i * d + j]!;
    const h = Math.max(0, 1 - t[i]! * m);
    f += C * (squared ? h * h : h);
  }
  return f;
}

test('dual coordinate descent reaches the primal optimum (no random move lowers the objective)', () => {
  const ds = blobs(200, 3, 2, 7, 0.5);
  const rows = Int32Array.from({ length: ds.n }, (_, i) => i);
  const t = Int8Array.from(ds.y, (c) => (c === 1 ? 1 : -1));
  for (const squared of [false, true]) {
    const C = 0.7;
    const r = trainBinarySvm(ds.x, ds.d, ds.y, 1, null, rows, { C, squared, maxIter: 5000, tol: 1e-6 }, new Rng(1));
    assert.ok(r.converged);
    const f0 = primal(r.w, ds.x, t, ds.d, C, squared);
    const rng = new Rng(2);
    for (let trial = 0; trial < 200; trial++) {
      const w2 = r.w.slice();
      for (let j = 0; j <= ds.d; j++) w2[j]! += (rng.next() - 0.5) * 0.02;
      assert.ok(
        primal(w2, ds.x, t, ds.d, C, squared) >= f0 - 1e-6,
        `squared=${squared}: a perturbation improved the optimum`,
      );
    }
  }
});

test('separable classes are all classified right; probabilities sum to 1 and follow the margin', async () => {
  const ds = blobs(600, 6, 4, 3, 0.2, 8);
  const out = await trainSvm(ds, { params: {}, seed: 1 });
  const m = linearScorer(modelFile(ds, out));
  const p = new Float64Array(ds.n * 4);
  m.predictProba(ds.x, ds.n, p);
  let right = 0;
  for (let i = 0; i < ds.n; i++) {
    let b = 0;
    let s = 0;
    for (let c = 0; c < 4; c++) {
      s += p[i * 4 + c]!;
      if (p[i * 4 + c]! > p[i * 4 + b]!) b = c;
    }
    assert.ok(Math.abs(s - 1) < 1e-12);
    if (b === ds.y[i]) right++;
  }
  assert.ok(right / ds.n > 0.99, `accuracy ${right / ds.n}`);
  const params = out.params as { weights: number[]; intercepts: number[]; temperature: number };
  assert.equal(params.weights.length, 4 * 6);
  assert.ok(params.temperature > 0);
  // The most likely class is the one with the largest margin (the SVM's own decision).
  const sc = out.scaler!;
  for (let i = 0; i < 50; i++) {
    const f = [0, 1, 2, 3].map((c) => {
      let v = params.intercepts[c]!;
      for (let j = 0; j < 6; j++) v += params.weights[c * 6 + j]! * ((ds.x[i * 6 + j]! - sc.center[j]!) / sc.scale[j]!);
      return v;
    });
    const pr = Array.from(p.subarray(i * 4, i * 4 + 4));
    assert.equal(pr.indexOf(Math.max(...pr)), f.indexOf(Math.max(...f)));
  }
});

test('two classes train one machine (class 1 against class 0)', async () => {
  const ds = blobs(300, 3, 2, 5, 0.3);
  for (const loss of ['hinge', 'squared_hinge']) {
    const out = await trainSvm(ds, { params: { loss, calibrationFolds: 0 }, seed: 2 });
    const p = out.params as { weights: number[]; intercepts: number[] };
    assert.equal(p.weights.length, 3);
    assert.equal(p.intercepts.length, 1);
    const pr = new Float64Array(ds.n * 2);
    linearScorer(modelFile(ds, out)).predictProba(ds.x, ds.n, pr);
    let right = 0;
    for (let i = 0; i < ds.n; i++) if ((pr[i * 2 + 1]! > 0.5 ? 1 : 0) === ds.y[i]) right++;
    assert.ok(right / ds.n > 0.95, `${loss}: accuracy ${right / ds.n}`);
  }
});

test('the fitted temperature recovers the scale the labels were drawn from', () => {
  const rng = new Rng(3);
  const n = 20000;
  for (const [m, T0] of [
    [3, 1.7],
    [1, 0.6],
  ] as const) {
    const f = new Float64Array(n * m);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const z = m === 1 ? [0, (rng.next() - 0.5) * 8] : [0, 1, 2].map(() => (rng.next() - 0.5) * 4);
      if (m === 1) f[i] = z[1]!;
      else z.forEach((v, c) => (f[i * 3 + c] = v));
      const e = z.map((v) => Math.exp(T0 * v));
      let u = rng.next() * e.reduce((a, b) => a + b, 0);
      let c = 0;
      while (u > e[c]! && c < e.length - 1) u -= e[c++]!;
      y[i] = c;
    }
    const T = fitTemperature(f, m, y, null);
    assert.ok(Math.abs(T - T0) < 0.05 * T0, `m=${m}: T=${T}, drawn with ${T0}`);
  }
  // Margins that say nothing: no confidence.
  assert.equal(fitTemperature(Float64Array.from([1, -1]), 1, Int32Array.from([0, 1]), null), 0);
});

test('row weights act as per-row C: weighting a class pulls the boundary away from it', async () => {
  const ds = blobs(400, 2, 2, 11, 1);
  const base = await trainSvm(ds, { params: { calibrationFolds: 0 }, seed: 1 });
  const heavy = Float64Array.from(ds.y, (c) => (c === 1 ? 20 : 1));
  const weighted = await trainSvm(ds, { params: { calibrationFolds: 0 }, weights: heavy, seed: 1 });
  const recall = (out: typeof base): number => {
    const pr = new Float64Array(ds.n * 2);
    linearScorer(modelFile(ds, out)).predictProba(ds.x, ds.n, pr);
    let tp = 0;
    let pos = 0;
    for (let i = 0; i < ds.n; i++)
      if (ds.y[i] === 1) {
        pos++;
        if (pr[i * 2 + 1]! > 0.5) tp++;
      }
    return tp / pos;
  };
  assert.ok(recall(weighted) > recall(base), `${recall(weighted)} vs ${recall(base)}`);
});

test('same seed, same model; bad parameters refused; registered', async () => {
  const ds = blobs(200, 3, 3, 1);
  assert.deepEqual(
    (await trainSvm(ds, { params: {}, seed: 4 })).params,
    (await trainSvm(ds, { params: {}, seed: 4 })).params,
  );
  const bad: Record<string, number | string>[] = [
    { C: -1 },
    { loss: 'log' },
    { calibrationFolds: 1 },
    { maxIter: 0 },
    { tol: 0 },
  ];
  for (const params of bad)
    await assert.rejects(
      trainSvm(ds, { params, seed: 1 }),
      (e: unknown) => e instanceof MlError && e.code === 'VIGIL_ML_OPTIONS_INVALID',
      JSON.stringify(params),
    );
  assert.ok(TRAINERS.includes(SVM_TRAINER));
});
