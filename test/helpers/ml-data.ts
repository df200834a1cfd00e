/**
 * TEST ONLY: small seeded datasets and model files for the linear and neural trainers' tests.
 * Never imported by src/.
 */
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../../src/detect/classify/model.js';
import type { ModelFile } from '../../src/detect/classify/model.js';
import type { Dataset } from '../../src/ml/types.js';

/** Seeded normal numbers (Box-Muller over mulberry32). */
function gauss(seed: number): () => number {
  let a = seed >>> 0;
  const u = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/**
 * k Gaussian blobs in d dimensions: class c's centre is `sep` along the axes j ≡ c (mod k), unit
 * noise (2.5: overlapping; 8: separable); feature j is then multiplied by scale · (j + 1).
 */
export function blobs(n: number, d: number, k: number, seed: number, scale = 1, sep = 2.5): Dataset {
  const g = gauss(seed);
  const x = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    y[i] = c;
    for (let j = 0; j < d; j++) x[i * d + j] = (g() + (j % k === c ? sep : 0)) * scale * (j + 1);
  }
  return {
    x,
    n,
    d,
    y,
    features: Array.from({ length: d }, (_, j) => `f${j}`),
    classes: Array.from({ length: k }, (_, c) => (c === 0 ? 'benign' : `attack${c}`)),
  };
}

export function modelFile(
  ds: Dataset,
  out: { type: ModelFile['type']; params: unknown; scaler?: ModelFile['scaler'] },
): ModelFile {
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: out.type,
    features: ds.features,
    classes: ds.classes,
    benignClass: ds.classes[0]!,
    ...(out.scaler !== undefined ? { scaler: out.scaler } : {}),
    params: out.params,
  };
}
