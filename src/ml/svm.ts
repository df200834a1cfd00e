/**
 * Linear support vector machine (`svm`), one-vs-rest, solved by dual coordinate descent with
 * shrinking — LIBLINEAR's solver for L2-regularized hinge / squared-hinge loss (Hsieh et al.,
 * "A Dual Coordinate Descent Method for Large-scale Linear SVM", ICML 2008), which is what
 * scikit-learn's LinearSVC runs. Per class c, with labels t_i = +1 (class c) / −1 (the rest):
 *
 *   minimize  ½ ||w||² + C Σ_i s_i · loss(t_i (w·x_i + b))      loss = max(0, 1 − m) or its square
 *
 * The intercept is an extra constant feature of value 1 (LIBLINEAR's bias, so it is regularized
 * like the weights, as in LinearSVC with intercept_scaling = 1). Two classes train one machine.
 *
 * Probabilities: an SVM gives margins, not probabilities. They come from a softmax over the
 * classes' margins with one fitted scale (temperature scaling, Guo et al., "On Calibration of
 * Modern Neural Networks", 2017): P(c) = softmax(T · f)_c, T fitted by minimizing the log-loss of
 * out-of-fold margins (`calibrationFolds`-fold cross validation, so T is not fitted on margins the
 * machines have already overfitted). One shared scale keeps the decision of the SVM itself — the
 * class with the largest margin, as scikit-learn's LinearSVC predicts — while giving probabilities
 * a confidence threshold can use. (Per-class Platt sigmoids normalized to 1 were tried first: they
 * move the argmax toward frequent classes and cost 0.02–0.06 macro-F1 on CIC-IDS2017 and NSL-KDD.)
 * Two classes: one machine, P(second class) = sigmoid(T · f). Scored by
 * src/detect/classify/linear.ts; parameters in docs/ml-neural.md.
 */
import { MlError } from './errors.js';
import { boolParam, standardizeRows } from './nn-train.js';
import { labeledRows } from './random-forest.js';
import { Rng, numParam } from './tree-common.js';
import type { Dataset, TrainOptions, Trainer, TrainerEntry } from './types.js';

/** Hyper-parameters (docs/ml-neural.md). */
export const SVM_DEFAULTS: Record<string, number | string | boolean> = {
  C: 1,
  /**
   * `squared_hinge` (the L2-SVM, scikit-learn LinearSVC's default, so the bench compares like with
   * like) or `hinge` (the classic L1-loss SVM). On CIC-IDS2017 / NSL-KDD they are within 0.02.
   */
  loss: 'squared_hinge',
  /**
   * Passes over the data per machine at most. 200: on the three public datasets macro-F1 after 200
   * passes is that of 1,000 (LinearSVC's limit) within ±0.03 either way, at a fraction of the time
   * on classes that are not separable (they never meet tol).
   */
  maxIter: 200,
  /** Stop when the projected-gradient spread falls below this (LIBLINEAR's eps). */
  tol: 0.1,
  /** Folds of the out-of-fold margins the probability scale is fitted on; 0 = training margins. */
  calibrationFolds: 2,
  /** Fit a standard scaler on the training rows (see nn-train.ts standardizeRows). */
  standardize: true,
};

interface DcdOptions {
  C: number;
  squared: boolean;
  maxIter: number;
  tol: number;
}

/**
 * One binary machine on rows `rows` (t_i = +1 when y === pos). Returns w (d weights then the
 * bias) and whether it converged. LIBLINEAR's solve_l2r_l1l2_svc, with per-row C_i = C · s_i.
 */
export function trainBinarySvm(
  x: Float64Array,
  d: number,
  y: Int32Array,
  pos: number,
  sw: Float64Array | null,
  rows: Int32Array,
  o: DcdOptions,
  rng: Rng,
): { w: Float64Array; converged: boolean; iterations: number } {
  const l = rows.length;
  const w = new Float64Array(d + 1);
  const alpha = new Float64Array(l);
  const qd = new Float64Array(l);
  const diag = new Float64Array(l);
  const upper = new Float64Array(l);
  const t = new Int8Array(l);
  const index = new Int32Array(l);
  for (let s = 0; s < l; s++) {
    const i = rows[s]!;
    const ci = o.C * (sw === null ? 1 : sw[i]!);
    // Squared hinge: no upper bound, a diagonal 1/(2 C_i); hinge: box [0, C_i].
    diag[s] = o.squared ? (ci > 0 ? 0.5 / ci : Infinity) : 0;
    upper[s] = o.squared ? Infinity : ci;
    let q = 1; // the bias feature
    const xo = i * d;
    for (let j = 0; j < d; j++) q += x[xo + j]! * x[xo + j]!;
    qd[s] = q + diag[s]!;
    t[s] = y[i] === pos ? 1 : -1;
    index[s] = s;
  }
  let active = l;
  let pgMaxOld = Infinity;
  let pgMinOld = -Infinity;
  let iter = 0;
  let converged = false;
  while (iter < o.maxIter) {
    let pgMax = -Infinity;
    let pgMin = Infinity;
    for (let s = 0; s < active; s++) {
      const j = s + rng.int(active - s);
      const tmp = index[s]!;
      index[s] = index[j]!;
      index[j] = tmp;
    }
    for (let s = 0; s < active; s++) {
      const a = index[s]!;
      if (!(qd[a]! < Infinity)) continue; // a zero-weight row under squared hinge never moves
      const i = rows[a]!;
      const xo = i * d;
      const ti = t[a]!;
      let m = w[d]!;
      for (let j = 0; j < d; j++) m += w[j]! * x[xo + j]!;
      const G = ti * m - 1 + alpha[a]! * diag[a]!;
      let PG = 0;
      const al = alpha[a]!;
      if (al === 0) {
        if (G > pgMaxOld) {
          // Shrink: at the bound and likely to stay there.
          active--;
          index[s] = index[active]!;
          index[active] = a;
          s--;
          continue;
        }
        if (G < 0) PG = G;
      } else if (al === upper[a]!) {
        if (G < pgMinOld) {
          active--;
          index[s] = index[active]!;
          index[active] = a;
          s--;
          continue;
        }
        if (G > 0) PG = G;
      } else PG = G;
      if (PG > pgMax) pgMax = PG;
      if (PG < pgMin) pgMin = PG;
      if (Math.abs(PG) > 1e-12) {
        const na = Math.min(Math.max(al - G / qd[a]!, 0), upper[a]!);
        const delta = (na - al) * ti;
        alpha[a] = na;
        for (let j = 0; j < d; j++) w[j]! += delta * x[xo + j]!;
        w[d]! += delta;
      }
    }
    iter++;
    if (pgMax - pgMin <= o.tol) {
      if (active === l) {
        converged = true;
        break;
      }
      // Converged on the active set: check all rows once more without shrinking.
      active = l;
      pgMaxOld = Infinity;
      pgMinOld = -Infinity;
      continue;
    }
    pgMaxOld = pgMax <= 0 ? Infinity : pgMax;
    pgMinOld = pgMin >= 0 ? -Infinity : pgMin;
  }
  return { w, converged, iterations: iter };
}

/**
 * The temperature T ≥ 0 minimizing Σ s_i · (log Σ_c exp(T f_ic) − T f_i,y_i) over margins f
 * (n × m, row-major; m = 1: two classes, the first class's margin is 0). The loss is convex in T
 * (its second derivative is a variance), so Newton's method with a bisection fallback converges.
 */
export function fitTemperature(f: Float64Array, m: number, y: Int32Array, sw: Float64Array | null): number {
  const n = y.length;
  const w = m === 1 ? 2 : m;
  const z = new Float64Array(w);
  // L'(T) = Σ s (E_p[f] − f_y), L''(T) = Σ s Var_p[f].
  const derivs = (T: number): [number, number] => {
    let g = 0;
    let h = 0;
    for (let i = 0; i < n; i++) {
      const si = sw === null ? 1 : sw[i]!;
      if (m === 1) {
        z[0] = 0;
        z[1] = f[i]!;
      } else for (let c = 0; c < m; c++) z[c] = f[i * m + c]!;
      let mx = -Infinity;
      for (let c = 0; c < w; c++) if (T * z[c]! > mx) mx = T * z[c]!;
      let sum = 0;
      let e1 = 0;
      let e2 = 0;
      for (let c = 0; c < w; c++) {
        const e = Math.exp(T * z[c]! - mx);
        sum += e;
        e1 += e * z[c]!;
        e2 += e * z[c]! * z[c]!;
      }
      const mean = e1 / sum;
      const fy = m === 1 ? (y[i] === 1 ? z[1]! : 0) : z[y[i]!]!;
      g += si * (mean - fy);
      h += si * Math.max(0, e2 / sum - mean * mean);
    }
    return [g, h];
  };
  // Bracket the root of L' in [lo, hi]: L' < 0 at 0 unless the margins are useless.
  let lo = 0;
  let hi = 1;
  if (derivs(0)[0] >= 0) return 0;
  for (let i = 0; i < 60 && derivs(hi)[0] < 0; i++) {
    lo = hi;
    hi *= 2;
  }
  let T = (lo + hi) / 2;
  for (let it = 0; it < 100; it++) {
    const [g, h] = derivs(T);
    if (Math.abs(g) <= 1e-9 * n) break;
    if (g < 0) lo = T;
    else hi = T;
    const next = h > 0 ? T - g / h : NaN;
    // Newton when it stays inside the bracket, else bisection.
    T = next > lo && next < hi ? next : (lo + hi) / 2;
    if (hi - lo < 1e-12 * hi) break;
  }
  return T;
}

/** Margin of row i for machine w (d weights then the bias). */
function margin(w: Float64Array, x: Float64Array, i: number, d: number): number {
  let m = w[d]!;
  const xo = i * d;
  for (let j = 0; j < d; j++) m += w[j]! * x[xo + j]!;
  return m;
}

export const trainSvm: Trainer = async (ds: Dataset, opts: TrainOptions) => {
  const P = opts.params;
  const D = SVM_DEFAULTS;
  const C = numParam(P, D, 'C');
  const maxIter = Math.floor(numParam(P, D, 'maxIter'));
  const tol = numParam(P, D, 'tol');
  const folds = Math.floor(numParam(P, D, 'calibrationFolds'));
  const loss = String(P['loss'] ?? D['loss']);
  if (!(C > 0)) throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'C must be > 0');
  if (!(maxIter >= 1)) throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'maxIter must be at least 1');
  if (!(tol > 0)) throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'tol must be > 0');
  if (!(folds === 0 || (folds >= 2 && folds <= 10)))
    throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'calibrationFolds must be 0 or in [2, 10]');
  if (loss !== 'hinge' && loss !== 'squared_hinge')
    throw new MlError('VIGIL_ML_OPTIONS_INVALID', `loss must be hinge or squared_hinge (got ${loss})`);
  const standardize = boolParam(P['standardize'] ?? D['standardize'], 'standardize');
  const rows = labeledRows(ds, opts.weights);
  const { y, sw, n } = rows;
  if (n === 0) throw new MlError('VIGIL_ML_DATA_INVALID', 'svm needs labeled rows');
  const d = ds.d;
  const { x, scaler } = standardizeRows(rows.x, n, d, standardize);
  const k = ds.classes.length;
  const m = k === 2 ? 1 : k;
  const posOf = (c: number): number => (m === 1 ? 1 : c);
  const o: DcdOptions = { C, squared: loss === 'squared_hinge', maxIter, tol };
  const seed = opts.seed >>> 0;
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const total = m * (folds + 1);
  let done = 0;
  const tick = async (): Promise<void> => {
    opts.onProgress?.(++done / total);
    await new Promise<void>((r) => setImmediate(r));
  };

  // Out-of-fold margins for the probability scale (stratified folds: rows of each class dealt in turn).
  const oof = folds > 0 ? new Float64Array(n * m) : null;
  if (oof !== null) {
    const fold = new Int32Array(n);
    const frng = new Rng(seed, 0xf01d);
    const byClass: number[][] = Array.from({ length: k }, () => []);
    for (let i = 0; i < n; i++) byClass[y[i]!]!.push(i);
    let next = 0;
    for (const rows of byClass) {
      for (let i = rows.length - 1; i > 0; i--) {
        const j = frng.int(i + 1);
        const t = rows[i]!;
        rows[i] = rows[j]!;
        rows[j] = t;
      }
      for (const r of rows) fold[r] = next++ % folds;
    }
    for (let f = 0; f < folds; f++) {
      const tr: number[] = [];
      const te: number[] = [];
      for (let i = 0; i < n; i++) (fold[i] === f ? te : tr).push(i);
      const trRows = Int32Array.from(tr);
      for (let c = 0; c < m; c++) {
        const r = trainBinarySvm(x, d, y, posOf(c), sw, trRows, o, new Rng(seed, 1000 + f * m + c));
        for (const i of te) oof[i * m + c] = margin(r.w, x, i, d);
        await tick();
      }
    }
  }

  const weights: number[] = [];
  const intercepts: number[] = [];
  let converged = true;
  let iterations = 0;
  const margins = oof ?? new Float64Array(n * m);
  for (let c = 0; c < m; c++) {
    const r = trainBinarySvm(x, d, y, posOf(c), sw, all, o, new Rng(seed, c));
    converged &&= r.converged;
    iterations = Math.max(iterations, r.iterations);
    for (let j = 0; j < d; j++) weights.push(r.w[j]!);
    intercepts.push(r.w[d]!);
    if (oof === null) for (let i = 0; i < n; i++) margins[i * m + c] = margin(r.w, x, i, d);
    await tick();
  }
  const temperature = fitTemperature(margins, m, y.subarray(0, n), sw);
  return {
    type: 'svm',
    ...(scaler !== undefined ? { scaler } : {}),
    params: { nClasses: k, loss, weights, intercepts, temperature, fit: { converged, iterations } },
  };
};

export const SVM_TRAINER: TrainerEntry = { type: 'svm', supervised: true, train: trainSvm, defaults: SVM_DEFAULTS };
