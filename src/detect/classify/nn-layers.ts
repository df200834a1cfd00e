/**
 * Shared pieces of the linear and neural scorers (linear.ts, mlp.ts, cnn.ts): parameter checks,
 * row preparation, softmax, and a small layer interpreter (dense, conv1d, relu, maxpool1d, then a
 * softmax) on typed arrays, so scoring needs no training library. Weights use TensorFlow.js
 * layouts (dense kernel in × out, conv1d kernel kernel × in × out, channels last), so the same
 * numbers can be loaded into a tfjs model to check the hand inference against it (nn tests).
 * The serialized form is documented in docs/ml-neural.md.
 */
import { prepareBlock } from './flat-trees.js';
import { ModelError } from './model.js';
import type { ScalerSpec } from './model.js';

/** Rows prepared (copied, cleaned, scaled) at a time: bounded scratch memory per scorer. */
export const BLOCK_ROWS = 256;

/** Largest layer width or parameter count accepted from a file (bounds allocation on load). */
const MAX_SIZE = 1 << 24;

// The model contract's input preparation (non-finite -> 0, then the scaler) is shared with the trees.
export { prepareBlock };

/** Check a scaler's numbers (checkModelFile checks only its sizes). */
export function checkScalerNumbers(s: ScalerSpec | undefined, what: string): void {
  if (s === undefined) return;
  for (const v of [...s.center, ...s.scale])
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelError(`${what}: scaler has non-finite numbers`);
}

/** `v` as `len` finite numbers, or a ModelError naming `what`. */
export function finiteArray(v: unknown, len: number, what: string): Float64Array {
  if (!Array.isArray(v)) throw new ModelError(`${what} is missing or not a list`);
  if (v.length !== len) throw new ModelError(`${what} has ${v.length} numbers, expected ${len}`);
  const out = new Float64Array(len);
  for (let i = 0; i < len; i++) {
    const e: unknown = v[i];
    // A NaN or Infinity saved as JSON comes back as null.
    if (typeof e !== 'number' || !Number.isFinite(e)) throw new ModelError(`${what}[${i}] is not a finite number`);
    out[i] = e;
  }
  return out;
}

/** `v` as an integer in [lo, hi], or a ModelError naming `what`. */
export function intParam(v: unknown, lo: number, hi: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
    throw new ModelError(`${what} must be an integer in [${lo}, ${hi}] (got ${JSON.stringify(v) ?? 'nothing'})`);
  return v;
}

/** params as an object, or a ModelError. */
export function paramsObject(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ModelError(`${what}: params missing`);
  return v as Record<string, unknown>;
}

/** Softmax of z[o .. o+k) in place (max subtracted first, so large logits do not overflow). */
export function softmaxInPlace(z: Float64Array, o: number, k: number): void {
  let m = z[o]!;
  for (let c = 1; c < k; c++) if (z[o + c]! > m) m = z[o + c]!;
  let s = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp(z[o + c]! - m);
    z[o + c] = e;
    s += e;
  }
  const inv = 1 / s;
  for (let c = 0; c < k; c++) z[o + c]! *= inv;
}

// ---- Layers ------------------------------------------------------------------------------------

/** Serialized layers (params.layers); sizes are explicit so a file is checked before use. */
export type LayerJson =
  | { kind: 'dense'; in: number; out: number; weights: number[]; bias: number[] }
  | { kind: 'conv1d'; length: number; in: number; out: number; kernel: number; weights: number[]; bias: number[] }
  | { kind: 'relu' }
  | { kind: 'maxpool1d'; length: number; channels: number; pool: number };

export const DENSE = 0;
export const CONV1D = 1;
export const RELU = 2;
export const MAXPOOL1D = 3;

/** A checked layer: numeric kind, sizes, weights as typed arrays. */
export interface Layer {
  kind: number;
  inSize: number;
  outSize: number;
  /** dense: in, out. conv1d: in/out channels, input length, kernel. maxpool1d: channels, length, pool. */
  a: number;
  b: number;
  len: number;
  k: number;
  w: Float64Array;
  bias: Float64Array;
}

const EMPTY = new Float64Array(0);

/**
 * Check serialized layers against the input width and class count: every size must chain, the
 * last layer must output one value per class, weights must be finite and of the right length.
 * `allowed` restricts the kinds (an mlp has no convolutions).
 */
export function buildLayers(
  v: unknown,
  inputSize: number,
  nClasses: number,
  allowed: readonly string[],
  what: string,
): Layer[] {
  if (!Array.isArray(v) || v.length === 0) throw new ModelError(`${what}: params.layers must be a non-empty list`);
  const layers: Layer[] = [];
  let size = inputSize;
  v.forEach((raw: unknown, i) => {
    const w = `${what}: layer ${i}`;
    if (raw === null || typeof raw !== 'object') throw new ModelError(`${w} is not an object`);
    const l = raw as Record<string, unknown>;
    const kind = l['kind'];
    if (typeof kind !== 'string' || !allowed.includes(kind))
      throw new ModelError(`${w}: kind ${JSON.stringify(kind)} is not one of ${allowed.join(', ')}`);
    if (kind === 'dense') {
      const a = intParam(l['in'], 1, MAX_SIZE, `${w}.in`);
      const b = intParam(l['out'], 1, MAX_SIZE, `${w}.out`);
      if (a !== size) throw new ModelError(`${w}: dense input ${a} does not match the ${size} values before it`);
      if (a * b > MAX_SIZE) throw new ModelError(`${w}: too many weights`);
      layers.push({
        kind: DENSE,
        inSize: a,
        outSize: b,
        a,
        b,
        len: 0,
        k: 0,
        w: finiteArray(l['weights'], a * b, `${w}.weights`),
        bias: finiteArray(l['bias'], b, `${w}.bias`),
      });
      size = b;
    } else if (kind === 'conv1d') {
      const len = intParam(l['length'], 1, MAX_SIZE, `${w}.length`);
      const a = intParam(l['in'], 1, MAX_SIZE, `${w}.in`);
      const b = intParam(l['out'], 1, MAX_SIZE, `${w}.out`);
      const k = intParam(l['kernel'], 1, len, `${w}.kernel`);
      if (len * a !== size)
        throw new ModelError(`${w}: conv1d input ${len}×${a} does not match the ${size} values before it`);
      if (k * a * b > MAX_SIZE || (len - k + 1) * b > MAX_SIZE) throw new ModelError(`${w}: too large`);
      layers.push({
        kind: CONV1D,
        inSize: size,
        outSize: (len - k + 1) * b,
        a,
        b,
        len,
        k,
        w: finiteArray(l['weights'], k * a * b, `${w}.weights`),
        bias: finiteArray(l['bias'], b, `${w}.bias`),
      });
      size = (len - k + 1) * b;
    } else if (kind === 'relu') {
      layers.push({ kind: RELU, inSize: size, outSize: size, a: 0, b: 0, len: 0, k: 0, w: EMPTY, bias: EMPTY });
    } else {
      const len = intParam(l['length'], 1, MAX_SIZE, `${w}.length`);
      const c = intParam(l['channels'], 1, MAX_SIZE, `${w}.channels`);
      const k = intParam(l['pool'], 1, len, `${w}.pool`);
      if (len * c !== size)
        throw new ModelError(`${w}: maxpool1d input ${len}×${c} does not match the ${size} values before it`);
      const outLen = Math.floor(len / k);
      layers.push({ kind: MAXPOOL1D, inSize: size, outSize: outLen * c, a: c, b: c, len, k, w: EMPTY, bias: EMPTY });
      size = outLen * c;
    }
  });
  if (size !== nClasses) throw new ModelError(`${what}: the last layer gives ${size} values for ${nClasses} classes`);
  return layers;
}

/** Widest activation of a network (scratch size). */
export function maxWidth(layers: readonly Layer[]): number {
  let m = 0;
  for (const l of layers) m = Math.max(m, l.inSize, l.outSize);
  return m;
}

/**
 * A dense map of one window: dst[do_ + j] = bias[j] + Σ_i src[so + i] · w[i · nOut + j] for
 * i < win, j < nOut (weights in × out, the tfjs kernel layout). Four outputs per pass with the
 * sums in locals: one store per output instead of one per multiply-add — 2-3× faster than the
 * row-by-row outer product (micro bench in docs/ml-neural.md).
 */
export function windowForward(
  src: Float64Array,
  so: number,
  win: number,
  w: Float64Array,
  bias: Float64Array,
  nOut: number,
  dst: Float64Array,
  do_: number,
): void {
  let j = 0;
  for (; j + 4 <= nOut; j += 4) {
    let s0 = bias[j]!;
    let s1 = bias[j + 1]!;
    let s2 = bias[j + 2]!;
    let s3 = bias[j + 3]!;
    for (let i = 0; i < win; i++) {
      const v = src[so + i]!;
      const wo = i * nOut + j;
      s0 += v * w[wo]!;
      s1 += v * w[wo + 1]!;
      s2 += v * w[wo + 2]!;
      s3 += v * w[wo + 3]!;
    }
    dst[do_ + j] = s0;
    dst[do_ + j + 1] = s1;
    dst[do_ + j + 2] = s2;
    dst[do_ + j + 3] = s3;
  }
  for (; j < nOut; j++) {
    let s0 = bias[j]!;
    for (let i = 0; i < win; i++) s0 += src[so + i]! * w[i * nOut + j]!;
    dst[do_ + j] = s0;
  }
}

/**
 * One layer forward for one row: `src[so ..]` → `dst[do_ ..]`. Dense: one window of all inputs.
 * conv1d is "valid" (no padding), stride 1, channels last: output position t is a dense map of
 * the contiguous window src[(t)·in .. (t + kernel)·in) with weights kernel × in × out (the tfjs
 * layout). maxpool1d takes windows of `pool` positions with stride `pool` and drops a last partial
 * window (tfjs/Keras "valid" pooling).
 */
export function layerForward(l: Layer, src: Float64Array, so: number, dst: Float64Array, do_: number): void {
  switch (l.kind) {
    case DENSE:
      windowForward(src, so, l.a, l.w, l.bias, l.b, dst, do_);
      return;
    case CONV1D: {
      const cin = l.a;
      const cout = l.b;
      const outLen = l.len - l.k + 1;
      const win = l.k * cin;
      for (let t = 0; t < outLen; t++) windowForward(src, so + t * cin, win, l.w, l.bias, cout, dst, do_ + t * cout);
      return;
    }
    case RELU: {
      for (let i = 0; i < l.inSize; i++) {
        const v = src[so + i]!;
        dst[do_ + i] = v > 0 ? v : 0;
      }
      return;
    }
    default: {
      // MAXPOOL1D
      const c = l.a;
      const pool = l.k;
      const outLen = Math.floor(l.len / pool);
      for (let t = 0; t < outLen; t++) {
        for (let ch = 0; ch < c; ch++) {
          let m = src[so + t * pool * c + ch]!;
          for (let u = 1; u < pool; u++) {
            const v = src[so + (t * pool + u) * c + ch]!;
            if (v > m) m = v;
          }
          dst[do_ + t * c + ch] = m;
        }
      }
    }
  }
}

/**
 * Score n rows through the layers, then softmax, into `out` (n × classes). `bufA`/`bufB` are
 * scratch of at least maxWidth(layers); `rows` receives each prepared block.
 */
export function netPredictProba(
  layers: readonly Layer[],
  x: Float64Array,
  n: number,
  d: number,
  scaler: ScalerSpec | undefined,
  rows: Float64Array,
  bufA: Float64Array,
  bufB: Float64Array,
  out: Float64Array,
): void {
  const k = layers[layers.length - 1]!.outSize;
  for (let r0 = 0; r0 < n; r0 += BLOCK_ROWS) {
    const r1 = Math.min(n, r0 + BLOCK_ROWS);
    prepareBlock(x, r0, r1, d, scaler, rows);
    for (let r = 0; r < r1 - r0; r++) {
      let src = rows;
      let so = r * d;
      let dst = bufA;
      for (let li = 0; li < layers.length; li++) {
        layerForward(layers[li]!, src, so, dst, 0);
        src = dst;
        so = 0;
        dst = dst === bufA ? bufB : bufA;
      }
      const oo = (r0 + r) * k;
      for (let c = 0; c < k; c++) out[oo + c] = src[c]!;
      softmaxInPlace(out, oo, k);
    }
  }
}
