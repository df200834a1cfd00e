/**
 * Histogram gradient boosting trainer (as scikit-learn's HistGradientBoostingClassifier and
 * LightGBM/XGBoost "hist"): features binned into ≤ 255 quantile bins once; each iteration fits one
 * regression tree per class (one in all for two classes) to the gradients and hessians of the
 * log-loss — logistic for two classes, softmax for more — grown leaf-wise (best gain first) up to
 * `maxLeafNodes` leaves. A node's histogram of (gradient, hessian, count) per bin gives every
 * split's gain in one pass over the bins; the larger child's histogram is the parent's minus the
 * smaller child's, so only the smaller child's rows are read. Split gain and leaf values follow
 * XGBoost's second-order formulas with L2 regularisation λ:
 *   gain = G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ),   leaf = −learningRate · G/(H+λ).
 * Early stopping on a stratified validation share stops when the validation loss has not improved
 * by `tol` for `nIterNoChange` iterations. The bin edges become raw-value thresholds, so the
 * scorer (src/detect/classify/gradient-boosting.ts) needs no bins. Documented in docs/ml-models.md.
 */
import type { Dataset, TrainOptions, Trainer, TrainerEntry } from './types.js';
import { MlError } from './errors.js';
import { GrowFloat64, GrowInt32, Rng, binColumns, binOf, fitBinEdges, numParam } from './tree-common.js';
import { labeledRows } from './random-forest.js';
import { TreePool, threadCount } from './tree-pool.js';

export const GRADIENT_BOOSTING_DEFAULTS: Record<string, number | string | boolean> = {
  /** Boosting iterations at most (scikit-learn: max_iter=100). */
  maxIter: 100,
  /** Shrinkage of every tree's leaves (learning_rate=0.1). */
  learningRate: 0.1,
  /** Leaves per tree at most (max_leaf_nodes=31); 0 = no limit. */
  maxLeafNodes: 31,
  /** Depth limit; 0 = none (max_depth=None). */
  maxDepth: 0,
  /** Rows per leaf at least (min_samples_leaf=20). */
  minSamplesLeaf: 20,
  /**
   * L2 regularisation λ of leaf values (scikit-learn's default is 0). With λ = 0 a leaf of a rare
   * class has a hessian near 0 and its Newton step −G/H explodes: on CIC-IDS2017 (16 classes, the
   * smallest with 11 rows) scikit-learn's validation loss diverges and early stopping ends at
   * iteration 11 with macro-F1 0.75. λ = 0.1, chosen with bench:sklearn over the four datasets,
   * trains to 0.985 there while staying within seed noise of λ = 0 where it does not diverge
   * (NSL-KDD); λ = 1 (XGBoost's default) costs NSL-KDD 0.03 macro-F1.
   */
  l2: 0.1,
  /** Bins per feature (max_bins=255). */
  maxBins: 255,
  /** "auto" = on when there are more than 10,000 rows (as scikit-learn), true or false. */
  earlyStopping: 'auto',
  /** Share of rows held out (stratified) to watch the loss for early stopping. */
  validationFraction: 0.1,
  /** Stop after this many iterations without an improvement of more than `tol`. */
  nIterNoChange: 10,
  tol: 1e-7,
  /**
   * Worker threads for multi-class data (the classes' trees of one iteration grow in parallel);
   * 0 = one per core when the data is large enough to gain, 1 = the calling thread.
   */
  threads: 0,
};

/** Rows × features × classes below which worker start-up costs more than it saves. */
const PARALLEL_MIN_WORK = 4_000_000;

/** Hessian floor of a child (scikit-learn's min_hessian_to_split). */
const MIN_HESSIAN = 1e-3;
/** Histogram stride per feature: 256 bins × (gradient, hessian, count). */
const HSTRIDE = 256 * 3;

export interface BoostHyper {
  maxLeafNodes: number;
  maxDepth: number;
  minSamplesLeaf: number;
  l2: number;
  learningRate: number;
}

/** A node while the tree grows. */
interface GrowNode {
  id: number;
  start: number;
  end: number;
  depth: number;
  g: number;
  h: number;
  /** Histogram buffer (from the pool) while the node may still be split. */
  hist: Float64Array | null;
  gain: number;
  feature: number;
  bin: number;
  gl: number;
  hl: number;
}

/** Flat tree with bin thresholds; leaves carry their (shrunk) value. */
export interface BinTree {
  feature: Int32Array;
  bin: Int32Array;
  left: Int32Array;
  value: Float64Array;
}

/** What the boosting workers share (tree-worker.ts): training codes, gradients, raw scores. */
export interface BoostShared {
  kind: 'gradient_boosting';
  codes: Uint8Array;
  n: number;
  d: number;
  nbins: Int32Array;
  hp: BoostHyper;
  K: number;
  /** K × n, class-major. */
  grad: Float64Array;
  hess: Float64Array;
  /** n × K. */
  raw: Float64Array;
}

/**
 * Grows one tree per call on the training rows' codes (column-major), reusing histogram buffers
 * and row scratch between calls.
 */
export class BoostTreeGrower {
  private readonly idx: Int32Array;
  private readonly gO: Float64Array;
  private readonly hO: Float64Array;
  private readonly pool: Float64Array[] = [];

  constructor(
    private readonly codes: Uint8Array,
    private readonly n: number,
    private readonly d: number,
    private readonly nbins: Int32Array,
    private readonly hp: BoostHyper,
  ) {
    this.idx = new Int32Array(n);
    this.gO = new Float64Array(n);
    this.hO = new Float64Array(n);
  }

  private takeHist(): Float64Array {
    const h = this.pool.pop();
    if (h !== undefined) {
      h.fill(0);
      return h;
    }
    return new Float64Array(this.d * HSTRIDE);
  }

  /** Sum (g, h, 1) of rows [s, e) into `hist`, per feature and bin. */
  private buildHist(hist: Float64Array, g: Float64Array, h: Float64Array, s: number, e: number, whole: boolean): void {
    const { codes, n, d, idx, gO, hO } = this;
    const m = e - s;
    // Gather the node's gradients once so the per-feature passes read them in order.
    if (!whole)
      for (let i = 0; i < m; i++) {
        const r = idx[s + i]!;
        gO[i] = g[r]!;
        hO[i] = h[r]!;
      }
    const gs = whole ? g : gO;
    const hs = whole ? h : hO;
    for (let f = 0; f < d; f++) {
      const col = f * n;
      const hb = f * HSTRIDE;
      if (whole) {
        for (let i = 0; i < m; i++) {
          const o = hb + codes[col + i]! * 3;
          hist[o]! += gs[i]!;
          hist[o + 1]! += hs[i]!;
          hist[o + 2]! += 1;
        }
      } else {
        for (let i = 0; i < m; i++) {
          const o = hb + codes[col + idx[s + i]!]! * 3;
          hist[o]! += gs[i]!;
          hist[o + 1]! += hs[i]!;
          hist[o + 2]! += 1;
        }
      }
    }
  }

  /** Best split of `node` from its histogram (gain ≤ 0 when none is allowed). */
  private findSplit(node: GrowNode): void {
    const { d, nbins, hp } = this;
    const hist = node.hist!;
    const lam = hp.l2;
    const cnt = node.end - node.start;
    const minLeaf = Math.max(1, hp.minSamplesLeaf);
    node.gain = 0;
    node.feature = -1;
    if (cnt < 2 * minLeaf || (hp.maxDepth > 0 && node.depth >= hp.maxDepth)) return;
    const G = node.g;
    const H = node.h;
    const parent = (G * G) / (H + lam);
    let best = 0;
    for (let f = 0; f < d; f++) {
      const hb = f * HSTRIDE;
      const nb = nbins[f]!;
      let gl = 0;
      let hl = 0;
      let cl = 0;
      for (let b = 0; b + 1 < nb; b++) {
        const o = hb + b * 3;
        gl += hist[o]!;
        hl += hist[o + 1]!;
        cl += hist[o + 2]!;
        if (cl < minLeaf) continue;
        if (cnt - cl < minLeaf) break;
        const hr = H - hl;
        if (hl < MIN_HESSIAN || hr < MIN_HESSIAN) continue;
        const gr = G - gl;
        const gain = (gl * gl) / (hl + lam) + (gr * gr) / (hr + lam) - parent;
        if (gain > best) {
          best = gain;
          node.feature = f;
          node.bin = b;
          node.gl = gl;
          node.hl = hl;
        }
      }
    }
    node.gain = best;
  }

  /**
   * Grow a tree on gradients `g` and hessians `h` (length n) and add its leaf values to column
   * `k` of `raw` (n × K) for the training rows.
   */
  grow(g: Float64Array, h: Float64Array, raw: Float64Array, K: number, k: number): BinTree {
    const { n, idx, codes, hp } = this;
    for (let i = 0; i < n; i++) idx[i] = i;
    const feature = new GrowInt32(64);
    const bin = new GrowInt32(64);
    const left = new GrowInt32(64);
    const value = new GrowFloat64(64);
    const add = (): number => {
      feature.push(-1);
      bin.push(0);
      left.push(0);
      return value.push(0);
    };
    let G = 0;
    let H = 0;
    for (let i = 0; i < n; i++) {
      G += g[i]!;
      H += h[i]!;
    }
    const root: GrowNode = {
      id: add(),
      start: 0,
      end: n,
      depth: 0,
      g: G,
      h: H,
      hist: this.takeHist(),
      gain: 0,
      feature: -1,
      bin: 0,
      gl: 0,
      hl: 0,
    };
    this.buildHist(root.hist!, g, h, 0, n, true);
    this.findSplit(root);
    const open: GrowNode[] = [root];
    const leaves: GrowNode[] = [];
    const maxLeaves = hp.maxLeafNodes > 0 ? hp.maxLeafNodes : Number.MAX_SAFE_INTEGER;
    while (open.length > 0 && leaves.length + open.length < maxLeaves) {
      // Leaf-wise: split the open node with the largest gain.
      let bi = -1;
      for (let q = 0; q < open.length; q++) if (open[q]!.gain > 0 && (bi < 0 || open[q]!.gain > open[bi]!.gain)) bi = q;
      if (bi < 0) break;
      const node = open[bi]!;
      open.splice(bi, 1);
      const col = node.feature * n;
      let i = node.start;
      let j = node.end - 1;
      while (i <= j) {
        if (codes[col + idx[i]!]! <= node.bin) i++;
        else {
          const t = idx[i]!;
          idx[i] = idx[j]!;
          idx[j] = t;
          j--;
        }
      }
      const l: GrowNode = {
        id: add(),
        start: node.start,
        end: i,
        depth: node.depth + 1,
        g: node.gl,
        h: node.hl,
        hist: null,
        gain: 0,
        feature: -1,
        bin: 0,
        gl: 0,
        hl: 0,
      };
      const r: GrowNode = { ...l, id: add(), start: i, end: node.end, g: node.g - node.gl, h: node.h - node.hl };
      feature.a[node.id] = node.feature;
      bin.a[node.id] = node.bin;
      left.a[node.id] = l.id;
      // Histogram subtraction: read the smaller child's rows, derive the larger one.
      const [small, large] = l.end - l.start <= r.end - r.start ? [l, r] : [r, l];
      small.hist = this.takeHist();
      this.buildHist(small.hist, g, h, small.start, small.end, false);
      const ph = node.hist!;
      const sh = small.hist;
      for (let q = 0; q < ph.length; q++) ph[q]! -= sh[q]!;
      large.hist = ph;
      node.hist = null;
      this.findSplit(l);
      this.findSplit(r);
      for (const c of [l, r]) {
        if (c.gain > 0) open.push(c);
        else {
          this.pool.push(c.hist!);
          c.hist = null;
          leaves.push(c);
        }
      }
    }
    for (const c of open) {
      this.pool.push(c.hist!);
      c.hist = null;
      leaves.push(c);
    }
    for (const c of leaves) {
      const v = (-hp.learningRate * c.g) / (c.h + hp.l2);
      value.a[c.id] = v;
      for (let q = c.start; q < c.end; q++) raw[idx[q]! * K + k]! += v;
    }
    return { feature: feature.toArray(), bin: bin.toArray(), left: left.toArray(), value: value.toArray() };
  }
}

/** Walk a bin tree for one row of row-major codes. */
function leafValue(t: BinTree, codes: Uint8Array, o: number): number {
  let node = 0;
  let f = t.feature[0]!;
  while (f >= 0) {
    node = codes[o + f]! <= t.bin[node]! ? t.left[node]! : t.left[node]! + 1;
    f = t.feature[node]!;
  }
  return t.value[node]!;
}

/** Class probabilities from raw scores (K = 1: logistic for two classes; else softmax). */
function toProba(raw: Float64Array, o: number, K: number, p: Float64Array): void {
  if (K === 1) {
    const s = 1 / (1 + Math.exp(-raw[o]!));
    p[0] = 1 - s;
    p[1] = s;
    return;
  }
  let mx = -Infinity;
  for (let k = 0; k < K; k++) if (raw[o + k]! > mx) mx = raw[o + k]!;
  let z = 0;
  for (let k = 0; k < K; k++) {
    const e = Math.exp(raw[o + k]! - mx);
    p[k] = e;
    z += e;
  }
  for (let k = 0; k < K; k++) p[k]! /= z;
}

/** Stratified hold-out: `frac` of each class's rows (at least one when a class has two or more). */
function stratifiedHoldout(y: Int32Array, n: number, C: number, frac: number, rng: Rng): Uint8Array {
  const isVal = new Uint8Array(n);
  const byClass: number[][] = Array.from({ length: C }, () => []);
  for (let i = 0; i < n; i++) byClass[y[i]!]!.push(i);
  for (const rows of byClass) {
    const m = rows.length;
    if (m < 2) continue;
    const take = Math.min(m - 1, Math.max(1, Math.round(m * frac)));
    for (let i = 0; i < take; i++) {
      const j = i + rng.int(m - i);
      const t = rows[i]!;
      rows[i] = rows[j]!;
      rows[j] = t;
      isVal[rows[i]!] = 1;
    }
  }
  return isVal;
}

export const trainGradientBoosting: Trainer = async (ds: Dataset, opts: TrainOptions) => {
  const p = opts.params;
  const D = GRADIENT_BOOSTING_DEFAULTS;
  const { x, y, sw, n } = labeledRows(ds, opts.weights);
  const d = ds.d;
  const C = ds.classes.length;
  if (C < 2) throw new MlError('VIGIL_ML_DATA_INVALID', 'gradient boosting needs at least two classes');
  if (n === 0) throw new MlError('VIGIL_ML_DATA_INVALID', 'gradient boosting needs labeled rows');
  const maxIter = Math.floor(numParam(p, D, 'maxIter'));
  const hp: BoostHyper = {
    maxLeafNodes: Math.floor(numParam(p, D, 'maxLeafNodes')),
    maxDepth: Math.floor(numParam(p, D, 'maxDepth')),
    minSamplesLeaf: Math.floor(numParam(p, D, 'minSamplesLeaf')),
    l2: numParam(p, D, 'l2'),
    learningRate: numParam(p, D, 'learningRate'),
  };
  if (!(maxIter >= 1)) throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'maxIter must be at least 1');
  if (!(hp.learningRate > 0)) throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'learningRate must be > 0');
  if (!(hp.l2 >= 0)) throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'l2 must be ≥ 0');
  if (hp.maxLeafNodes === 1 || hp.maxLeafNodes < 0)
    throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'maxLeafNodes must be ≥ 2 (or 0)');
  const es = p['earlyStopping'] ?? D['earlyStopping'];
  const early = es === 'auto' ? n > 10_000 : es === true || es === 'true';
  const frac = numParam(p, D, 'validationFraction');
  const nIterNoChange = Math.max(1, Math.floor(numParam(p, D, 'nIterNoChange')));
  const tol = numParam(p, D, 'tol');
  if (early && !(frac > 0 && frac < 1))
    throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'validationFraction must be in (0, 1)');

  const rng = new Rng(opts.seed >>> 0, 0xb005);
  const isVal = early ? stratifiedHoldout(y, n, C, frac, rng) : new Uint8Array(n);
  let nT = 0;
  for (let i = 0; i < n; i++) if (isVal[i] === 0) nT++;
  const nV = n - nT;
  const xT = new Float64Array(nT * d);
  const yT = new Int32Array(nT);
  const wT = new Float64Array(nT);
  const yV = new Int32Array(nV);
  const wV = new Float64Array(nV);
  const xV = new Float64Array(nV * d);
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    const w = sw === null ? 1 : sw[i]!;
    if (isVal[i] === 0) {
      xT.set(x.subarray(i * d, (i + 1) * d), a * d);
      yT[a] = y[i]!;
      wT[a++] = w;
    } else {
      xV.set(x.subarray(i * d, (i + 1) * d), b * d);
      yV[b] = y[i]!;
      wV[b++] = w;
    }
  }

  const edges = fitBinEdges(xT, nT, d, numParam(p, D, 'maxBins'), opts.seed);
  const nbins = new Int32Array(d);
  for (let f = 0; f < d; f++) nbins[f] = edges[f]!.length + 1;
  const K = C === 2 ? 1 : C;
  const asked = numParam(p, D, 'threads');
  const threads = Math.min(K, threadCount(asked));
  const parallel = threads > 1 && (asked > 0 || nT * d * K >= PARALLEL_MIN_WORK);
  // Shared memory when workers grow the trees: they read codes and gradients and add to raw.
  const f64 = (len: number): Float64Array =>
    parallel ? new Float64Array(new SharedArrayBuffer(len * 8)) : new Float64Array(len);
  const codes = binColumns(xT, nT, d, edges, parallel ? new Uint8Array(new SharedArrayBuffer(nT * d)) : undefined);
  // Validation rows row-major, walked one at a time.
  const codesV = new Uint8Array(nV * d);
  for (let i = 0; i < nV; i++)
    for (let f = 0; f < d; f++) {
      const v = xV[i * d + f]!;
      codesV[i * d + f] = binOf(edges[f]!, v === v ? v : 0);
    }

  // Baseline: log-odds (two classes) or log class shares (softmax), from weighted training labels.
  const prior = new Float64Array(C);
  let wsum = 0;
  for (let i = 0; i < nT; i++) {
    prior[yT[i]!]! += wT[i]!;
    wsum += wT[i]!;
  }
  const baseline = new Array<number>(K);
  const clip = (q: number): number => Math.min(1 - 1e-12, Math.max(1e-12, q / wsum));
  if (K === 1) {
    const q = clip(prior[1]!);
    baseline[0] = Math.log(q / (1 - q));
  } else for (let k = 0; k < K; k++) baseline[k] = Math.log(clip(prior[k]!));

  const raw = f64(nT * K);
  const rawV = new Float64Array(nV * K);
  for (let i = 0; i < nT; i++) for (let k = 0; k < K; k++) raw[i * K + k] = baseline[k]!;
  for (let i = 0; i < nV; i++) for (let k = 0; k < K; k++) rawV[i * K + k] = baseline[k]!;
  const grad = f64(K * nT);
  const hess = f64(K * nT);
  const prob = new Float64Array(Math.max(2, K));
  const trees: BinTree[] = [];
  // Validation scores (negative log-loss), the baseline's first, as scikit-learn counts them.
  const valScores: number[] = [];
  const valScore = (): number => {
    let loss = 0;
    let wv = 0;
    for (let i = 0; i < nV; i++) {
      toProba(rawV, i * K, K, prob);
      loss -= wV[i]! * Math.log(Math.max(prob[yV[i]!]!, 1e-300));
      wv += wV[i]!;
    }
    return -loss / Math.max(wv, 1e-300);
  };
  if (early) valScores.push(valScore());
  let iterations = 0;
  let grower: BoostTreeGrower | null = null;
  let pool: TreePool | null = null;
  if (parallel) {
    const nbinsShared = new Int32Array(new SharedArrayBuffer(d * 4));
    nbinsShared.set(nbins);
    const data: BoostShared = {
      kind: 'gradient_boosting',
      codes,
      n: nT,
      d,
      nbins: nbinsShared,
      hp,
      K,
      grad,
      hess,
      raw,
    };
    const local = new BoostTreeGrower(codes, nT, d, nbinsShared, hp);
    pool = new TreePool(data as unknown as Record<string, unknown>, threads, (k) => ({
      task: k,
      ...local.grow(grad.subarray(k * nT, (k + 1) * nT), hess.subarray(k * nT, (k + 1) * nT), raw, K, k),
    }));
  } else grower = new BoostTreeGrower(codes, nT, d, nbins, hp);

  try {
    for (let it = 0; it < maxIter; it++) {
      // Gradients and hessians of the (weighted) log-loss at the current raw scores.
      for (let i = 0; i < nT; i++) {
        toProba(raw, i * K, K, prob);
        const w = wT[i]!;
        const yi = yT[i]!;
        if (K === 1) {
          const q = prob[1]!;
          grad[i] = w * (q - (yi === 1 ? 1 : 0));
          hess[i] = w * Math.max(q * (1 - q), 1e-16);
        } else
          for (let k = 0; k < K; k++) {
            const q = prob[k]!;
            grad[k * nT + i] = w * (q - (yi === k ? 1 : 0));
            hess[k * nT + i] = w * Math.max(q * (1 - q), 1e-16);
          }
      }
      const grown: BinTree[] = [];
      if (pool !== null) for (const r of await pool.run(K)) grown.push(r as unknown as BinTree);
      else
        for (let k = 0; k < K; k++)
          grown.push(grower!.grow(grad.subarray(k * nT, (k + 1) * nT), hess.subarray(k * nT, (k + 1) * nT), raw, K, k));
      for (let k = 0; k < K; k++) {
        const t = grown[k]!;
        trees.push(t);
        for (let i = 0; i < nV; i++) rawV[i * K + k]! += leafValue(t, codesV, i * d);
      }
      iterations++;
      opts.onProgress?.(iterations / maxIter);
      if ((it & 3) === 3) await new Promise<void>((r) => setImmediate(r));
      if (!early) continue;
      // Validation log-loss (weighted); scikit-learn's _should_stop with scoring="loss".
      valScores.push(valScore());
      if (valScores.length > nIterNoChange) {
        const ref = valScores[valScores.length - 1 - nIterNoChange]! + tol;
        let improved = false;
        for (let q = valScores.length - nIterNoChange; q < valScores.length; q++)
          if (valScores[q]! > ref) improved = true;
        if (!improved) break;
      }
    }
  } finally {
    await pool?.close();
  }

  return {
    type: 'gradient_boosting',
    params: {
      nClasses: C,
      treesPerIteration: K,
      baseline,
      iterations,
      trees: trees.map((t) => {
        const nn = t.feature.length;
        const threshold = new Array<number>(nn);
        for (let i = 0; i < nn; i++) {
          const f = t.feature[i]!;
          threshold[i] = f < 0 ? t.value[i]! : edges[f]![t.bin[i]!]!;
        }
        return { feature: Array.from(t.feature), threshold, left: Array.from(t.left) };
      }),
    },
  };
};

export const GRADIENT_BOOSTING_TRAINER: TrainerEntry = {
  type: 'gradient_boosting',
  supervised: true,
  train: trainGradientBoosting,
  defaults: GRADIENT_BOOSTING_DEFAULTS,
};
