/**
 * Training engine of the small neural networks (mlp.ts, cnn.ts), by hand on typed arrays: dense,
 * conv1d, ReLU and max-pool layers with a softmax cross-entropy head, mini-batch Adam with L2
 * weight decay, early stopping on a held-out validation share. Forward passes use the scorer's
 * own layer code (src/detect/classify/nn-layers.ts), so what is trained is what is scored.
 *
 * Why not TensorFlow.js: measured on this 2-core machine (under the load of other jobs), tfjs's
 * wasm backend trained a 80-64-32-8 MLP at ~8,500 rows/s per epoch and cannot train a conv1d at
 * all (no Conv2DBackpropFilter kernel); a conv1d written with slice/concat/matMul ran at ~600
 * rows/s, and the cpu backend took 54 min for two epochs of 20,000 rows. This engine trains the
 * same nets several times faster (docs/ml-neural.md has the figures) and is seeded and
 * deterministic. tfjs serves as the reference in the tests instead.
 */
import { CONV1D, DENSE, MAXPOOL1D, RELU, layerForward, softmaxInPlace } from '../detect/classify/nn-layers.js';
import type { Layer, LayerJson } from '../detect/classify/nn-layers.js';
import type { ScalerSpec } from '../detect/classify/model.js';
import { MlError } from './errors.js';
import { applyScaler, fitScaler } from './preprocess.js';
import { Rng } from './tree-common.js';

/** Architecture of one layer before training (weights are created by the engine). */
export type LayerShape =
  | { kind: 'dense'; in: number; out: number }
  | { kind: 'conv1d'; length: number; in: number; out: number; kernel: number }
  | { kind: 'relu'; size: number }
  | { kind: 'maxpool1d'; length: number; channels: number; pool: number };

export interface FitOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L2 penalty (scikit-learn MLPClassifier's alpha): gradient += alpha · w / batch. */
  alpha: number;
  /** Share of rows held out (stratified) to pick the best epoch and stop early; 0 = none. */
  validationFraction: number;
  /** Epochs without a better validation loss before stopping. */
  patience: number;
  seed: number;
  onProgress?: (fraction: number) => void;
}

export interface FitResult {
  layers: LayerJson[];
  /** Epochs run, the epoch whose weights were kept (1-based), its validation loss (or training loss). */
  epochsRun: number;
  bestEpoch: number;
  bestLoss: number;
  validationRows: number;
}

/** A layer with its gradient and Adam state. */
export interface TLayer extends Layer {
  gw: Float64Array;
  gb: Float64Array;
  mw: Float64Array;
  vw: Float64Array;
  mb: Float64Array;
  vb: Float64Array;
}

const EMPTY = new Float64Array(0);

/** Allocate layers with Glorot-uniform weights (Keras's default) and zero biases, seeded. */
function makeLayers(shapes: readonly LayerShape[], rng: Rng): TLayer[] {
  return shapes.map((s) => {
    let l: Layer;
    let fanIn = 0;
    let fanOut = 0;
    if (s.kind === 'dense') {
      l = {
        kind: DENSE,
        inSize: s.in,
        outSize: s.out,
        a: s.in,
        b: s.out,
        len: 0,
        k: 0,
        w: new Float64Array(s.in * s.out),
        bias: new Float64Array(s.out),
      };
      fanIn = s.in;
      fanOut = s.out;
    } else if (s.kind === 'conv1d') {
      const outLen = s.length - s.kernel + 1;
      l = {
        kind: CONV1D,
        inSize: s.length * s.in,
        outSize: outLen * s.out,
        a: s.in,
        b: s.out,
        len: s.length,
        k: s.kernel,
        w: new Float64Array(s.kernel * s.in * s.out),
        bias: new Float64Array(s.out),
      };
      fanIn = s.kernel * s.in;
      fanOut = s.kernel * s.out;
    } else if (s.kind === 'relu') {
      l = { kind: RELU, inSize: s.size, outSize: s.size, a: 0, b: 0, len: 0, k: 0, w: EMPTY, bias: EMPTY };
    } else {
      const outLen = Math.floor(s.length / s.pool);
      l = {
        kind: MAXPOOL1D,
        inSize: s.length * s.channels,
        outSize: outLen * s.channels,
        a: s.channels,
        b: s.channels,
        len: s.length,
        k: s.pool,
        w: EMPTY,
        bias: EMPTY,
      };
    }
    if (l.w.length > 0) {
      const lim = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < l.w.length; i++) l.w[i] = (rng.next() * 2 - 1) * lim;
    }
    const z = (n: number): Float64Array => (n === 0 ? EMPTY : new Float64Array(n));
    return {
      ...l,
      gw: z(l.w.length),
      gb: z(l.bias.length),
      mw: z(l.w.length),
      vw: z(l.w.length),
      mb: z(l.bias.length),
      vb: z(l.bias.length),
    };
  });
}

/** Check that consecutive shapes chain (a programming error otherwise). */
function checkChain(layers: readonly TLayer[], d: number, k: number): void {
  let size = d;
  for (const l of layers) {
    if (l.inSize !== size)
      throw new MlError('VIGIL_ML_OPTIONS_INVALID', `network layers do not chain (${l.inSize} after ${size})`);
    size = l.outSize;
    if (size < 1)
      throw new MlError(
        'VIGIL_ML_OPTIONS_INVALID',
        'the network shrinks its input to nothing (too few features for the convolutions and pooling)',
      );
  }
  if (size !== k) throw new MlError('VIGIL_ML_OPTIONS_INVALID', `network output ${size} does not match ${k} classes`);
}

/**
 * Parameter gradients of a dense or conv1d layer over a batch: every (row, position) pair is one
 * window of `win` inputs (a dense row: the whole input; a conv position: in[t·in .. (t+k)·in))
 * mapped to `nOut` outputs. gw[q·nOut + f] += Σ in[window q] · δ[f]; gb[f] += Σ δ[f]. The sums run
 * over the batch in locals, four outputs at a time, so each gradient is stored once per batch
 * rather than once per row (and ReLU zeros in the input are skipped).
 */
function paramGrads(l: TLayer, inp: Float64Array, dl: Float64Array, nb: number): void {
  const conv = l.kind === CONV1D;
  const nOut = l.b;
  const win = conv ? l.k * l.a : l.a;
  const T = conv ? l.len - l.k + 1 : 1;
  const step = conv ? l.a : 0;
  const inSize = l.inSize;
  const outSize = l.outSize;
  const gw = l.gw;
  const gb = l.gb;
  for (let r = 0; r < nb; r++)
    for (let t = 0; t < T; t++) {
      const o = r * outSize + t * nOut;
      for (let f = 0; f < nOut; f++) gb[f]! += dl[o + f]!;
    }
  for (let q = 0; q < win; q++) {
    let f = 0;
    for (; f + 4 <= nOut; f += 4) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let r = 0; r < nb; r++) {
        const io = r * inSize + q;
        const oo = r * outSize + f;
        for (let t = 0; t < T; t++) {
          const v = inp[io + t * step]!;
          if (v === 0) continue;
          const o = oo + t * nOut;
          s0 += v * dl[o]!;
          s1 += v * dl[o + 1]!;
          s2 += v * dl[o + 2]!;
          s3 += v * dl[o + 3]!;
        }
      }
      const g = q * nOut + f;
      gw[g]! += s0;
      gw[g + 1]! += s1;
      gw[g + 2]! += s2;
      gw[g + 3]! += s3;
    }
    for (; f < nOut; f++) {
      let s0 = 0;
      for (let r = 0; r < nb; r++)
        for (let t = 0; t < T; t++) s0 += inp[r * inSize + t * step + q]! * dl[r * outSize + t * nOut + f]!;
      gw[q * nOut + f]! += s0;
    }
  }
}

/**
 * Gradient w.r.t. a layer's input for one row: `dOut` at go (the layer's output gradient) →
 * `dIn` at gi. `inp`/`outp` are the layer's input and output activations at io/oo.
 */
function inputGrad(
  l: TLayer,
  inp: Float64Array,
  io: number,
  outp: Float64Array,
  oo: number,
  dOut: Float64Array,
  go: number,
  dIn: Float64Array,
  gi: number,
): void {
  switch (l.kind) {
    case DENSE:
    case CONV1D: {
      const conv = l.kind === CONV1D;
      const nOut = l.b;
      const win = conv ? l.k * l.a : l.a;
      const T = conv ? l.len - l.k + 1 : 1;
      const step = conv ? l.a : 0;
      const w = l.w;
      if (conv) dIn.fill(0, gi, gi + l.inSize);
      for (let t = 0; t < T; t++) {
        const to = go + t * nOut;
        const ii = gi + t * step;
        // Four inputs per pass over the output gradient (each δ loaded once per four inputs).
        let q = 0;
        for (; q + 4 <= win; q += 4) {
          const w0 = q * nOut;
          const w1 = w0 + nOut;
          const w2 = w1 + nOut;
          const w3 = w2 + nOut;
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          for (let f = 0; f < nOut; f++) {
            const g = dOut[to + f]!;
            s0 += w[w0 + f]! * g;
            s1 += w[w1 + f]! * g;
            s2 += w[w2 + f]! * g;
            s3 += w[w3 + f]! * g;
          }
          if (conv) {
            dIn[ii + q]! += s0;
            dIn[ii + q + 1]! += s1;
            dIn[ii + q + 2]! += s2;
            dIn[ii + q + 3]! += s3;
          } else {
            dIn[ii + q] = s0;
            dIn[ii + q + 1] = s1;
            dIn[ii + q + 2] = s2;
            dIn[ii + q + 3] = s3;
          }
        }
        for (; q < win; q++) {
          const wo = q * nOut;
          let s0 = 0;
          for (let f = 0; f < nOut; f++) s0 += w[wo + f]! * dOut[to + f]!;
          if (conv) dIn[ii + q]! += s0;
          else dIn[ii + q] = s0;
        }
      }
      return;
    }
    case RELU: {
      for (let i = 0; i < l.inSize; i++) dIn[gi + i] = outp[oo + i]! > 0 ? dOut[go + i]! : 0;
      return;
    }
    default: {
      // MAXPOOL1D: the gradient goes to the first maximum of each window, as the forward pass chose.
      const c = l.a;
      const pool = l.k;
      const outLen = Math.floor(l.len / pool);
      dIn.fill(0, gi, gi + l.inSize);
      for (let t = 0; t < outLen; t++) {
        for (let ch = 0; ch < c; ch++) {
          let best = t * pool * c + ch;
          let m = inp[io + best]!;
          for (let u = 1; u < pool; u++) {
            const q = (t * pool + u) * c + ch;
            if (inp[io + q]! > m) {
              m = inp[io + q]!;
              best = q;
            }
          }
          dIn[gi + best] = dOut[go + t * c + ch]!;
        }
      }
    }
  }
}

/** Layers as the JSON the scorer reads. */
export function serialize(layers: readonly TLayer[]): LayerJson[] {
  return layers.map((l): LayerJson => {
    switch (l.kind) {
      case DENSE:
        return { kind: 'dense', in: l.a, out: l.b, weights: Array.from(l.w), bias: Array.from(l.bias) };
      case CONV1D:
        return {
          kind: 'conv1d',
          length: l.len,
          in: l.a,
          out: l.b,
          kernel: l.k,
          weights: Array.from(l.w),
          bias: Array.from(l.bias),
        };
      case RELU:
        return { kind: 'relu' };
      default:
        return { kind: 'maxpool1d', length: l.len, channels: l.a, pool: l.k };
    }
  });
}

/** Stratified hold-out: from each class, floor(count × fraction) random rows (none from classes under 10 rows). */
function validationSplit(y: Int32Array, n: number, k: number, fraction: number, rng: Rng): Uint8Array {
  const isVal = new Uint8Array(n);
  if (fraction <= 0) return isVal;
  const byClass: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < n; i++) byClass[y[i]!]!.push(i);
  for (const rows of byClass) {
    if (rows.length < 10) continue;
    const take = Math.floor(rows.length * fraction);
    for (let i = 0; i < take; i++) {
      const j = i + rng.int(rows.length - i);
      const t = rows[i]!;
      rows[i] = rows[j]!;
      rows[j] = t;
      isVal[rows[i]!] = 1;
    }
  }
  return isVal;
}

/**
 * A network with its batch buffers: activations per layer (acts[0] = the input rows, acts[l + 1]
 * = layer l's output), gradient scratch, Adam state. One per training run.
 */
export class NetBatch {
  readonly acts: Float64Array[];
  private gA: Float64Array;
  private gB: Float64Array;
  private readonly prob: Float64Array;
  private step = 0;

  constructor(
    readonly layers: TLayer[],
    readonly d: number,
    readonly k: number,
    readonly batch: number,
  ) {
    this.acts = [new Float64Array(batch * d), ...layers.map((l) => new Float64Array(batch * l.outSize))];
    let width = Math.max(d, k);
    for (const l of layers) width = Math.max(width, l.inSize, l.outSize);
    // Gradient w.r.t. each layer's output for the whole batch (ping-pong between layers).
    this.gA = new Float64Array(batch * width);
    this.gB = new Float64Array(batch * width);
    this.prob = new Float64Array(k);
  }

  /** Copy rows idx[s .. s+nb) of x into the input buffer. */
  load(x: Float64Array, idx: ArrayLike<number>, s: number, nb: number): void {
    const d = this.d;
    for (let r = 0; r < nb; r++) {
      const i = idx[s + r]!;
      this.acts[0]!.set(x.subarray(i * d, i * d + d), r * d);
    }
  }

  /** Forward the first nb loaded rows; logits end in acts[L]. */
  forward(nb: number): void {
    const L = this.layers.length;
    for (let li = 0; li < L; li++) {
      const l = this.layers[li]!;
      const src = this.acts[li]!;
      const dst = this.acts[li + 1]!;
      for (let r = 0; r < nb; r++) layerForward(l, src, r * l.inSize, dst, r * l.outSize);
    }
  }

  /** Σ weight · cross-entropy of the nb forwarded rows (labels y[idx[s + r]]), and Σ weight. */
  loss(nb: number, y: Int32Array, sw: Float64Array | null, idx: ArrayLike<number>, s: number): [number, number] {
    const k = this.k;
    const outp = this.acts[this.layers.length]!;
    const prob = this.prob;
    let loss = 0;
    let wsum = 0;
    for (let r = 0; r < nb; r++) {
      const i = idx[s + r]!;
      for (let c = 0; c < k; c++) prob[c] = outp[r * k + c]!;
      softmaxInPlace(prob, 0, k);
      const wi = sw === null ? 1 : sw[i]!;
      loss -= wi * Math.log(Math.max(prob[y[i]!]!, 1e-300));
      wsum += wi;
    }
    return [loss, wsum];
  }

  /**
   * Gradients of (1/nb) Σ weight · cross-entropy over the nb forwarded rows into each layer's
   * gw/gb (zeroed first): backpropagation layer by layer over the whole batch.
   */
  backward(nb: number, y: Int32Array, sw: Float64Array | null, idx: ArrayLike<number>, s: number): void {
    const layers = this.layers;
    const L = layers.length;
    const k = this.k;
    for (const l of layers) {
      l.gw.fill(0);
      l.gb.fill(0);
    }
    const outp = this.acts[L]!;
    let dl = this.gA;
    let dn = this.gB;
    for (let r = 0; r < nb; r++) {
      const i = idx[s + r]!;
      // d(loss)/d(logits) of the softmax cross-entropy: p − onehot, times the row's weight / batch.
      const scale = (sw === null ? 1 : sw[i]!) / nb;
      const o = r * k;
      for (let c = 0; c < k; c++) dl[o + c] = outp[o + c]!;
      softmaxInPlace(dl, o, k);
      dl[o + y[i]!]! -= 1;
      for (let c = 0; c < k; c++) dl[o + c]! *= scale;
    }
    for (let li = L - 1; li >= 0; li--) {
      const l = layers[li]!;
      const inp = this.acts[li]!;
      if (l.kind === DENSE || l.kind === CONV1D) paramGrads(l, inp, dl, nb);
      if (li === 0) break;
      const out = this.acts[li + 1]!;
      for (let r = 0; r < nb; r++)
        inputGrad(l, inp, r * l.inSize, out, r * l.outSize, dl, r * l.outSize, dn, r * l.inSize);
      const t = dl;
      dl = dn;
      dn = t;
    }
  }

  /** One Adam step (Kingma & Ba, bias-corrected); L2 as scikit-learn's MLP: gradient += alpha · w / nb. */
  adam(lr0: number, alpha: number, nb: number): void {
    const b1 = 0.9;
    const b2 = 0.999;
    const eps = 1e-8;
    this.step++;
    const lr = (lr0 * Math.sqrt(1 - Math.pow(b2, this.step))) / (1 - Math.pow(b1, this.step));
    const decay = alpha / nb;
    for (const l of this.layers) {
      const { w, gw, mw, vw, bias, gb, mb, vb } = l;
      for (let i = 0; i < w.length; i++) {
        const g = gw[i]! + decay * w[i]!;
        mw[i] = b1 * mw[i]! + (1 - b1) * g;
        vw[i] = b2 * vw[i]! + (1 - b2) * g * g;
        w[i]! -= (lr * mw[i]!) / (Math.sqrt(vw[i]!) + eps);
      }
      for (let i = 0; i < bias.length; i++) {
        const g = gb[i]!;
        mb[i] = b1 * mb[i]! + (1 - b1) * g;
        vb[i] = b2 * vb[i]! + (1 - b2) * g * g;
        bias[i]! -= (lr * mb[i]!) / (Math.sqrt(vb[i]!) + eps);
      }
    }
  }

  /** Weighted mean cross-entropy of rows idx (forwarded in batches). */
  meanLoss(x: Float64Array, y: Int32Array, sw: Float64Array | null, idx: ArrayLike<number>): number {
    let loss = 0;
    let wsum = 0;
    for (let s = 0; s < idx.length; s += this.batch) {
      const nb = Math.min(this.batch, idx.length - s);
      this.load(x, idx, s, nb);
      this.forward(nb);
      const [l, w] = this.loss(nb, y, sw, idx, s);
      loss += l;
      wsum += w;
    }
    return wsum > 0 ? loss / wsum : 0;
  }
}

/** Layers from shapes with seeded initial weights, checked to chain from d inputs to k outputs. */
export function initLayers(shapes: readonly LayerShape[], d: number, k: number, seed: number): TLayer[] {
  const layers = makeLayers(shapes, new Rng(seed, 0x1a17));
  checkChain(layers, d, k);
  return layers;
}

/**
 * Train a network on n rows of d features (labels 0..k-1, optional per-row weights). The rows
 * must already be scaled. Returns the weights of the epoch with the lowest validation loss
 * (training loss without a validation share).
 */
export async function fitNetwork(
  shapes: readonly LayerShape[],
  x: Float64Array,
  y: Int32Array,
  sw: Float64Array | null,
  n: number,
  d: number,
  k: number,
  o: FitOptions,
): Promise<FitResult> {
  const rng = new Rng(o.seed, 0x4e4e);
  const layers = initLayers(shapes, d, k, o.seed);
  const B = Math.max(1, Math.min(o.batchSize | 0, n));
  const net = new NetBatch(layers, d, k, B);
  const isVal = validationSplit(y, n, k, o.validationFraction, rng);
  const trainIdx: number[] = [];
  const valIdx: number[] = [];
  for (let i = 0; i < n; i++) (isVal[i] === 1 ? valIdx : trainIdx).push(i);
  const order = Int32Array.from(trainIdx);
  const nt = order.length;
  if (nt === 0) throw new MlError('VIGIL_ML_DATA_INVALID', 'no training rows left after the validation split');
  const evalIdx = valIdx.length > 0 ? Int32Array.from(valIdx) : order;

  const best = layers.map((l) => ({ w: l.w.slice(), bias: l.bias.slice() }));
  let bestLoss = Infinity;
  let bestEpoch = 0;
  let since = 0;
  let epoch = 1;
  for (; epoch <= o.epochs; epoch++) {
    // Seeded Fisher-Yates shuffle of the training rows.
    for (let i = nt - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    for (let s = 0; s < nt; s += B) {
      const nb = Math.min(B, nt - s);
      net.load(x, order, s, nb);
      net.forward(nb);
      net.backward(nb, y, sw, order, s);
      net.adam(o.learningRate, o.alpha, nb);
    }
    const loss = net.meanLoss(x, y, sw, evalIdx);
    if (!Number.isFinite(loss))
      throw new MlError('VIGIL_ML_OPTIONS_INVALID', `training diverged at epoch ${epoch}; lower learningRate`);
    // An improvement must be real (1e-4 relative, as scikit-learn's tol), or patience runs down.
    if (bestEpoch === 0 || loss < bestLoss - 1e-4 * Math.abs(bestLoss)) {
      bestLoss = loss;
      bestEpoch = epoch;
      since = 0;
      layers.forEach((l, i) => {
        best[i]!.w.set(l.w);
        best[i]!.bias.set(l.bias);
      });
    } else if (++since >= o.patience) {
      o.onProgress?.(1);
      break;
    }
    o.onProgress?.(epoch / o.epochs);
    // Let progress output and signals through between epochs.
    await new Promise<void>((r) => setImmediate(r));
  }
  layers.forEach((l, i) => {
    l.w.set(best[i]!.w);
    l.bias.set(best[i]!.bias);
  });
  return {
    layers: serialize(layers),
    epochsRun: Math.min(epoch, o.epochs),
    bestEpoch,
    bestLoss,
    validationRows: valIdx.length,
  };
}

/** A list of positive integers from a parameter: a number (one item) or "128,64". */
export function intListParam(v: number | string | boolean | undefined, name: string, allowEmpty = false): number[] {
  const parts =
    typeof v === 'number'
      ? [v]
      : typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : null;
  const list = parts?.map((s) => Number(s));
  if (
    list === undefined ||
    list.some((e) => !Number.isInteger(e) || e < 1 || e > 65536) ||
    (!allowEmpty && list.length === 0)
  )
    throw new MlError(
      'VIGIL_ML_OPTIONS_INVALID',
      `parameter ${name} must be a comma-separated list of positive integers (got ${String(v)})`,
    );
  return list;
}

/** The FitOptions parameters shared by mlp and cnn, read and range-checked. */
export function fitParams(
  num: (name: string) => number,
  seed: number,
  onProgress: ((f: number) => void) | undefined,
): FitOptions {
  const epochs = Math.floor(num('epochs'));
  const batchSize = Math.floor(num('batchSize'));
  const learningRate = num('learningRate');
  const alpha = num('alpha');
  const validationFraction = num('validationFraction');
  const patience = Math.floor(num('patience'));
  const bad = (m: string): never => {
    throw new MlError('VIGIL_ML_OPTIONS_INVALID', m);
  };
  if (!(epochs >= 1)) bad('epochs must be at least 1');
  if (!(batchSize >= 1)) bad('batchSize must be at least 1');
  if (!(learningRate > 0 && learningRate < 10)) bad('learningRate must be in (0, 10)');
  if (!(alpha >= 0)) bad('alpha must be ≥ 0');
  if (!(validationFraction >= 0 && validationFraction < 0.9)) bad('validationFraction must be in [0, 0.9)');
  if (!(patience >= 1)) bad('patience must be at least 1');
  return {
    epochs,
    batchSize,
    learningRate,
    alpha,
    validationFraction,
    patience,
    seed,
    ...(onProgress ? { onProgress } : {}),
  };
}

/**
 * The `standardize` parameter of the linear and neural trainers: fit a standard scaler (mean,
 * population standard deviation) on the rows the trainer receives and train on a scaled copy.
 * The scaler is returned with the model (vigil train composes it with its own), so the model also
 * works on data nobody scaled — gradient methods need unit-scale inputs, and CICFlowMeter columns
 * span 10 orders of magnitude. On rows `vigil train` already standard-scaled (its default) it is
 * the identity; with `--scaler robust` set standardize=false to keep the robust scaling.
 */
export function standardizeRows(
  x: Float64Array,
  n: number,
  d: number,
  enabled: boolean,
): { x: Float64Array; scaler: ScalerSpec | undefined } {
  if (!enabled) return { x, scaler: undefined };
  const scaler = fitScaler({ x, n, d, features: [], y: new Int32Array(0), classes: [] }, 'standard');
  const copy = x.slice(0, n * d);
  applyScaler(copy, n, d, scaler);
  return { x: copy, scaler };
}

/** A boolean parameter ("true"/"false" strings accepted). */
export function boolParam(v: number | string | boolean | undefined, name: string): boolean {
  if (v === true || v === 'true' || v === 1) return true;
  if (v === false || v === 'false' || v === 0) return false;
  throw new MlError('VIGIL_ML_OPTIONS_INVALID', `parameter ${name} must be true or false (got ${String(v)})`);
}
