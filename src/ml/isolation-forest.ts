/**
 * Isolation Forest trainer (Liu, Ting and Zhou 2008; as scikit-learn's IsolationForest): each
 * tree isolates a random subsample of ψ rows by random splits (a random non-constant feature, a
 * threshold uniform between its minimum and maximum in the node) up to depth ceil(log2 ψ). A
 * leaf stores depth + c(rows left in it), the expected further path length, so the scorer
 * (src/detect/anomaly/isolation-forest.ts) computes s(x) = 2^(−E[h(x)] / c(ψ)) with one walk per
 * tree. Node sizes are kept for explanations. A numeric `contamination` sets the anomaly
 * threshold to the (1 − contamination) quantile of the training rows' scores. Unsupervised: labels
 * are ignored. Documented in docs/ml-models.md.
 */
import type { Dataset, TrainOptions, Trainer, TrainerEntry } from './types.js';
import { MlError } from './errors.js';
import { GrowFloat64, GrowInt32, Rng, numParam } from './tree-common.js';
import { averagePathLength, isolationForestScorer } from '../detect/anomaly/isolation-forest.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../detect/classify/model.js';

export const ISOLATION_FOREST_DEFAULTS: Record<string, number | string | boolean> = {
  /** Number of trees (scikit-learn: n_estimators=100; the paper: 100). */
  trees: 100,
  /** Rows per tree, ψ (the paper and scikit-learn: 256; fewer when the data has fewer rows). */
  maxSamples: 256,
  /**
   * Share of the training (baseline) rows expected to be anomalous, in (0, 0.5]: the threshold
   * becomes that upper quantile of the training rows' scores (params.threshold). "auto": no
   * threshold in the model; `vigil train` calibrates one on the baseline (its default
   * contamination), and the scorer falls back to 0.5 (the paper's and scikit-learn's cut-off).
   */
  contamination: 'auto',
};

/** Serialized tree: leaves carry their path length (depth + c(size)) in `threshold`. */
export interface IsolationTreeJson {
  feature: number[];
  threshold: number[];
  left: number[];
  /** Training rows that reached each node (for explanations). */
  size: number[];
}

export const trainIsolationForest: Trainer = async (ds: Dataset, opts: TrainOptions) => {
  const p = opts.params;
  const D = ISOLATION_FOREST_DEFAULTS;
  const trees = Math.floor(numParam(p, D, 'trees'));
  if (!(trees >= 1)) throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'trees must be at least 1');
  const { n, d, x } = ds;
  if (n < 2) throw new MlError('VIGIL_ML_DATA_INVALID', 'isolation forest needs at least 2 rows');
  const psi = Math.max(2, Math.min(n, Math.floor(numParam(p, D, 'maxSamples'))));
  const cRaw = p['contamination'] ?? D['contamination']!;
  let contamination: number | 'auto' = 'auto';
  if (cRaw !== 'auto') {
    const c = typeof cRaw === 'string' ? Number(cRaw) : cRaw;
    if (typeof c !== 'number' || !(c > 0 && c <= 0.5))
      throw new MlError(
        'VIGIL_ML_OPTIONS_INVALID',
        `contamination must be "auto" or in (0, 0.5] (got ${String(cRaw)})`,
      );
    contamination = c;
  }
  const maxDepth = Math.ceil(Math.log2(psi));
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const idx = new Int32Array(psi);
  const fperm = new Int32Array(d);
  const out: IsolationTreeJson[] = [];
  for (let t = 0; t < trees; t++) {
    const rng = new Rng(opts.seed >>> 0, t);
    // Subsample without replacement (partial Fisher-Yates over a persistent permutation).
    for (let i = 0; i < psi; i++) {
      const j = i + rng.int(n - i);
      const v = perm[j]!;
      perm[j] = perm[i]!;
      perm[i] = v;
      idx[i] = v;
    }
    out.push(buildIsolationTree(x, d, idx, maxDepth, rng, fperm));
    opts.onProgress?.((t + 1) / trees);
  }
  const params: { subsample: number; contamination: number | 'auto'; threshold?: number; trees: IsolationTreeJson[] } =
    {
      subsample: psi,
      contamination,
      trees: out,
    };
  if (contamination !== 'auto') {
    // Threshold = the (1 − contamination) quantile of the training rows' own scores.
    const scorer = isolationForestScorer({
      format: MODEL_FORMAT,
      version: MODEL_FORMAT_VERSION,
      type: 'isolation_forest',
      features: ds.features,
      classes: [],
      benignClass: null,
      params,
    });
    const scores = new Float64Array(n);
    scorer.score(x, n, scores);
    scores.sort();
    params.threshold = scores[Math.min(n - 1, Math.max(0, Math.round((1 - contamination) * (n - 1))))]!;
  }
  return { type: 'isolation_forest', params };
};

/** One isolation tree over rows `idx` of x (row-major, d columns), grown depth-first. */
function buildIsolationTree(
  x: Float64Array,
  d: number,
  idx: Int32Array,
  maxDepth: number,
  rng: Rng,
  fperm: Int32Array,
): IsolationTreeJson {
  const feature = new GrowInt32(64);
  const threshold = new GrowFloat64(64);
  const left = new GrowInt32(64);
  const size = new GrowInt32(64);
  const stack = new GrowInt32(64); // (start, end, depth, node)
  const newNode = (rows: number): number => {
    feature.push(-1);
    threshold.push(0);
    left.push(0);
    return size.push(rows);
  };
  for (let f = 0; f < d; f++) fperm[f] = f;
  stack.push(0);
  stack.push(idx.length);
  stack.push(0);
  stack.push(newNode(idx.length));
  while (stack.length > 0) {
    const node = stack.a[--stack.length]!;
    const depth = stack.a[--stack.length]!;
    const e = stack.a[--stack.length]!;
    const s = stack.a[--stack.length]!;
    let f = -1;
    let lo = 0;
    let hi = 0;
    if (depth < maxDepth && e - s > 1) {
      // A random feature that is not constant in the node (constant ones are skipped, as in
      // scikit-learn; if all are constant the node is a leaf).
      for (let k = 0; k < d; k++) {
        const j = k + rng.int(d - k);
        const c = fperm[j]!;
        fperm[j] = fperm[k]!;
        fperm[k] = c;
        lo = Infinity;
        hi = -Infinity;
        for (let i = s; i < e; i++) {
          let v = x[idx[i]! * d + c]!;
          if (v - v !== 0) v = 0;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        if (hi > lo) {
          f = c;
          break;
        }
      }
    }
    if (f < 0) {
      const rows = e - s;
      threshold.a[node] = depth + averagePathLength(rows);
      continue;
    }
    let thr = lo + rng.next() * (hi - lo);
    if (!(thr < hi)) thr = lo; // rounding up to hi would send every row left
    let i = s;
    let j = e - 1;
    while (i <= j) {
      let v = x[idx[i]! * d + f]!;
      if (v - v !== 0) v = 0;
      if (v <= thr) i++;
      else {
        const t = idx[i]!;
        idx[i] = idx[j]!;
        idx[j] = t;
        j--;
      }
    }
    const l = newNode(i - s);
    const r = newNode(e - i);
    feature.a[node] = f;
    threshold.a[node] = thr;
    left.a[node] = l;
    stack.push(i);
    stack.push(e);
    stack.push(depth + 1);
    stack.push(r);
    stack.push(s);
    stack.push(i);
    stack.push(depth + 1);
    stack.push(l);
  }
  return {
    feature: Array.from(feature.toArray()),
    threshold: Array.from(threshold.toArray()),
    left: Array.from(left.toArray()),
    size: Array.from(size.toArray()),
  };
}

export const ISOLATION_FOREST_TRAINER: TrainerEntry = {
  type: 'isolation_forest',
  supervised: false,
  train: trainIsolationForest,
  defaults: ISOLATION_FOREST_DEFAULTS,
};
