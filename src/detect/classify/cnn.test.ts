import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tfPredict, tfReady } from '../../../test/helpers/tfjs-reference.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, ModelError } from './model.js';
import type { ModelFile } from './model.js';
import type { LayerJson } from './nn-layers.js';
import { cnnScorer } from './cnn.js';
import { SCORERS } from './scorers.js';

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

/** conv(f1,k)+relu+pool → conv(f2,k)+relu+pool → dense(h)+relu → dense(classes), random weights. */
function cnnFile(
  d: number,
  f1: number,
  f2: number,
  kernel: number,
  pool: number,
  h: number,
  k: number,
  seed: number,
): ModelFile {
  const r = rand(seed);
  const arr = (n: number, s: number): number[] => Array.from({ length: n }, () => r(s));
  const layers: LayerJson[] = [];
  let len = d;
  let ch = 1;
  for (const f of [f1, f2]) {
    layers.push({
      kind: 'conv1d',
      length: len,
      in: ch,
      out: f,
      kernel,
      weights: arr(kernel * ch * f, 0.5),
      bias: arr(f, 0.1),
    });
    layers.push({ kind: 'relu' });
    len = len - kernel + 1;
    ch = f;
    layers.push({ kind: 'maxpool1d', length: len, channels: ch, pool });
    len = Math.floor(len / pool);
  }
  layers.push({ kind: 'dense', in: len * ch, out: h, weights: arr(len * ch * h, 0.2), bias: arr(h, 0.1) });
  layers.push({ kind: 'relu' });
  layers.push({ kind: 'dense', in: h, out: k, weights: arr(h * k, 0.3), bias: arr(k, 0.1) });
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: 'cnn',
    features: Array.from({ length: d }, (_, i) => `f${i}`),
    classes: Array.from({ length: k }, (_, i) => `c${i}`),
    benignClass: 'c0',
    params: { nClasses: k, layers },
  };
}

test('hand inference equals TensorFlow.js (conv1d, relu, max-pool, flatten, dense) within 1e-5', async () => {
  await tfReady();
  // Odd lengths exercise the dropped partial pooling window.
  for (const [d, f1, f2, kernel, pool, h, k, seed] of [
    [83, 16, 32, 3, 2, 32, 16, 1],
    [29, 4, 6, 4, 3, 8, 2, 2],
    [10, 3, 3, 2, 1, 5, 4, 3],
  ] as const) {
    const f = cnnFile(d, f1, f2, kernel, pool, h, k, seed);
    const n = 200;
    const r = rand(seed + 50);
    const x = Float64Array.from({ length: n * d }, () => r(3));
    const out = new Float64Array(n * k);
    cnnScorer(f).predictProba!(x, n, out);
    const ref = tfPredict((f.params as { layers: LayerJson[] }).layers, x, n, d);
    let worst = 0;
    for (let i = 0; i < n * k; i++) worst = Math.max(worst, Math.abs(out[i]! - ref[i]!));
    assert.ok(worst < 1e-5, `d=${d} kernel=${kernel} pool=${pool}: max difference ${worst}`);
  }
});

test('a convolution that does not fit the sizes before it is refused', () => {
  const f = cnnFile(12, 2, 2, 3, 2, 4, 3, 4);
  const layers = (f.params as { layers: LayerJson[] }).layers;
  const bad = (l: LayerJson[]): ModelFile => ({ ...f, params: { nClasses: 3, layers: l } });
  assert.throws(
    () =>
      cnnScorer(bad([{ ...(layers[0] as Extract<LayerJson, { kind: 'conv1d' }>), length: 11 }, ...layers.slice(1)])),
    (e: unknown) => e instanceof ModelError && /conv1d input 11×1 does not match the 12 values/.test(e.message),
  );
  assert.throws(
    () =>
      cnnScorer(bad([{ ...(layers[0] as Extract<LayerJson, { kind: 'conv1d' }>), kernel: 13 }, ...layers.slice(1)])),
    /kernel must be an integer in \[1, 12\]/,
  );
  assert.throws(() => cnnScorer({ ...f, type: 'mlp' }), /not a cnn/);
});

test('registered for cnn', () => {
  assert.equal(SCORERS.cnn, cnnScorer);
});
