import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tfPredict, tfReady } from '../../../test/helpers/tfjs-reference.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, ModelError } from './model.js';
import type { ModelFile } from './model.js';
import type { LayerJson } from './nn-layers.js';
import { mlpScorer, networkScorer } from './mlp.js';
import { SCORERS } from './scorers.js';

/** Seeded uniform numbers in [-s, s) (mulberry32). */
function rand(seed: number): (s?: number) => number {
  let a = seed >>> 0;
  return (s = 1) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * s;
  };
}

export function denseLayer(r: (s?: number) => number, nIn: number, nOut: number): LayerJson {
  const lim = Math.sqrt(6 / (nIn + nOut));
  return {
    kind: 'dense',
    in: nIn,
    out: nOut,
    weights: Array.from({ length: nIn * nOut }, () => r(lim)),
    bias: Array.from({ length: nOut }, () => r(0.1)),
  };
}

function mlpFile(d: number, hidden: number[], classes: string[], seed: number): ModelFile {
  const r = rand(seed);
  const layers: LayerJson[] = [];
  let size = d;
  for (const h of hidden) {
    layers.push(denseLayer(r, size, h), { kind: 'relu' });
    size = h;
  }
  layers.push(denseLayer(r, size, classes.length));
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: 'mlp',
    features: Array.from({ length: d }, (_, i) => `f${i}`),
    classes,
    benignClass: classes[0]!,
    params: { nClasses: classes.length, layers },
  };
}

test('hand inference equals TensorFlow.js on random inputs (within 1e-5)', async () => {
  await tfReady();
  for (const [d, hidden, k, seed] of [
    [20, [16, 8], 3, 1],
    [83, [128, 64], 16, 2],
    [5, [], 2, 3],
  ] as const) {
    const f = mlpFile(
      d,
      [...hidden],
      Array.from({ length: k }, (_, i) => `c${i}`),
      seed,
    );
    const n = 300;
    const r = rand(seed + 100);
    const x = Float64Array.from({ length: n * d }, () => r(3));
    const out = new Float64Array(n * k);
    mlpScorer(f).predictProba!(x, n, out);
    const ref = tfPredict((f.params as { layers: LayerJson[] }).layers, x, n, d);
    let worst = 0;
    for (let i = 0; i < n * k; i++) worst = Math.max(worst, Math.abs(out[i]! - ref[i]!));
    assert.ok(worst < 1e-5, `d=${d} hidden=${hidden.join(',')}: max difference ${worst}`);
    for (let rr = 0; rr < n; rr++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += out[rr * k + c]!;
      assert.ok(Math.abs(s - 1) < 1e-12);
    }
  }
});

test('non-finite inputs score as 0 and the scaler applies', () => {
  const f = mlpFile(4, [6], ['a', 'b', 'c'], 7);
  const m = mlpScorer(f);
  const a = new Float64Array(3);
  const b = new Float64Array(3);
  m.predictProba!(Float64Array.from([1, Number.NaN, Number.NEGATIVE_INFINITY, 2]), 1, a);
  m.predictProba!(Float64Array.from([1, 0, 0, 2]), 1, b);
  assert.deepEqual(a, b);
  const scaled = mlpScorer({ ...f, scaler: { kind: 'standard', center: [1, 0, 0, 0], scale: [2, 1, 1, 1] } });
  scaled.predictProba!(Float64Array.from([3, 0, 0, 2]), 1, a);
  m.predictProba!(Float64Array.from([1, 0, 0, 2]), 1, b);
  assert.deepEqual(a, b);
});

test('malformed networks are refused with a ModelError', () => {
  const f = mlpFile(4, [6], ['a', 'b', 'c'], 7);
  const layers = (f.params as { layers: LayerJson[] }).layers;
  const withLayers = (l: unknown): ModelFile => ({ ...f, params: { nClasses: 3, layers: l } });
  const cases: [unknown, RegExp][] = [
    [[], /non-empty list/],
    [[{ ...layers[0]!, in: 5 }, ...layers.slice(1)], /dense input 5 does not match the 4 values/],
    [[layers[0], layers[1]], /last layer gives 6 values for 3 classes/],
    [[{ ...layers[0]!, weights: [1, 2] }, ...layers.slice(1)], /weights has 2 numbers, expected 24/],
    [
      [{ kind: 'conv1d', length: 4, in: 1, out: 1, kernel: 1, weights: [1], bias: [0] }],
      /kind "conv1d" is not one of dense, relu/,
    ],
    [[{ kind: 'softmax' }], /kind "softmax"/],
  ];
  for (const [l, re] of cases)
    assert.throws(
      () => mlpScorer(withLayers(l)),
      (e: unknown) => e instanceof ModelError && re.test(e.message),
      String(re),
    );
  assert.throws(() => mlpScorer({ ...f, params: { nClasses: 2, layers } }), /nClasses/);
  assert.throws(() => networkScorer({ ...f, type: 'svm' }), /not a neural network/);
});

test('registered for mlp', () => {
  assert.equal(SCORERS.mlp, mlpScorer);
});
