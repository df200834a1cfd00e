/**
 * Multinomial logistic regression (`logistic_regression`) with an L2 penalty, fitted by L-BFGS on
 * typed arrays — scikit-learn's LogisticRegression(solver='lbfgs') objective:
 *
 *   minimize  (1/n) Σ_i s_i · (−log softmax(W x_i + b)[y_i])  +  ||W||² / (2 C n)
 *
 * (s_i the row weights, 1 without class balancing; the intercepts b are not penalized). The data
 * must be scaled (the training pipeline's standard scaler by default). Scored by
 * src/detect/classify/linear.ts; parameters in docs/ml-neural.md.
 */
import { MlError } from './errors.js';
import { boolParam, standardizeRows } from './nn-train.js';
import { labeledRows } from './random-forest.js';
import { numParam } from './tree-common.js';
import type { Dataset, TrainOptions, Trainer, TrainerEntry } from './types.js';

/** Hyper-parameters (docs/ml-neural.md). */
export const LOGISTIC_REGRESSION_DEFAULTS: Record<string, number | string | boolean> = {
  /** Inverse regularization strength (scikit-learn's C). */
  C: 1,
  /**
   * L-BFGS iterations at most. 200: on CIC-IDS2017, NSL-KDD and UNSW-NB15 macro-F1 stops moving
   * (±0.01) after 100–300 iterations; scikit-learn's default is 100 (docs/ml-neural.md).
   */
  maxIter: 200,
  /** Stop when the largest gradient component is below this (the objective is a mean). */
  tol: 1e-5,
  /** L-BFGS memory (correction pairs kept). */
  memory: 10,
  /** Fit a standard scaler on the training rows (see nn-train.ts standardizeRows). */
  standardize: true,
};

/** A smooth objective: value and gradient at `theta` (gradient written into `g`). */
export type Objective = (theta: Float64Array, g: Float64Array) => number;

export interface LbfgsResult {
  f: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
}

/**
 * Minimize `fn` from `theta` (updated in place) with L-BFGS (Nocedal & Wright, algorithm 7.4:
 * the two-loop recursion with H0 = (s·y / y·y) I) and a backtracking Armijo line search; a pair
 * with s·y ≤ 0 is not stored, which keeps the implicit Hessian positive definite. Stops when
 * max |g| ≤ tol, when the relative decrease falls under 1e-12 for 3 iterations, or at maxIter.
 */
export async function lbfgs(
  fn: Objective,
  theta: Float64Array,
  o: { maxIter: number; tol: number; memory: number; onIter?: (it: number) => void },
): Promise<LbfgsResult> {
  const p = theta.length;
  const m = Math.max(1, o.memory | 0);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(m);
  let g = new Float64Array(p);
  let gNew = new Float64Array(p);
  const dir = new Float64Array(p);
  const trial = new Float64Array(p);
  let f = fn(theta, g);
  let evaluations = 1;
  const gmax = (v: Float64Array): number => {
    let a = 0;
    for (let i = 0; i < v.length; i++) a = Math.max(a, Math.abs(v[i]!));
    return a;
  };
  let stall = 0;
  let it = 0;
  let converged = gmax(g) <= o.tol;
  for (; it < o.maxIter && !converged; it++) {
    // Two-loop recursion: dir = -H g.
    for (let i = 0; i < p; i++) dir[i] = -g[i]!;
    const h = S.length;
    for (let j = h - 1; j >= 0; j--) {
      const s = S[j]!;
      let a = 0;
      for (let i = 0; i < p; i++) a += s[i]! * dir[i]!;
      a *= rho[j]!;
      alpha[j] = a;
      const yj = Y[j]!;
      for (let i = 0; i < p; i++) dir[i]! -= a * yj[i]!;
    }
    if (h > 0) {
      const s = S[h - 1]!;
      const yv = Y[h - 1]!;
      let sy = 0;
      let yy = 0;
      for (let i = 0; i < p; i++) {
        sy += s[i]! * yv[i]!;
        yy += yv[i]! * yv[i]!;
      }
      const gamma = sy / yy;
      for (let i = 0; i < p; i++) dir[i]! *= gamma;
    }
    for (let j = 0; j < h; j++) {
      const yj = Y[j]!;
      let b = 0;
      for (let i = 0; i < p; i++) b += yj[i]! * dir[i]!;
      b *= rho[j]!;
      const s = S[j]!;
      const c = alpha[j]! - b;
      for (let i = 0; i < p; i++) dir[i]! += c * s[i]!;
    }
    let slope = 0;
    for (let i = 0; i < p; i++) slope += g[i]! * dir[i]!;
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < p; i++) dir[i] = -g[i]!;
      slope = 0;
      for (let i = 0; i < p; i++) slope -= g[i]! * g[i]!;
    }
    // First step (no curvature known yet): a unit-length move; then the quasi-Newton step 1.
    let t = h === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    let fNew = Infinity;
    let ok = false;
    for (let ls = 0; ls < 40; ls++) {
      for (let i = 0; i < p; i++) trial[i] = theta[i]! + t * dir[i]!;
      fNew = fn(trial, gNew);
      evaluations++;
      if (Number.isFinite(fNew) && fNew <= f + 1e-4 * t * slope) {
        ok = true;
        break;
      }
      t *= 0.5;
    }
    if (!ok) break; // no decrease possible at this precision: as good as it gets
    const s = new Float64Array(p);
    const yv = new Float64Array(p);
    let sy = 0;
    for (let i = 0; i < p; i++) {
      s[i] = trial[i]! - theta[i]!;
      yv[i] = gNew[i]! - g[i]!;
      sy += s[i]! * yv[i]!;
    }
    if (sy > 1e-12) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
    }
    theta.set(trial);
    const rel = (f - fNew) / Math.max(Math.abs(f), Math.abs(fNew), 1);
    f = fNew;
    const tg = g;
    g = gNew;
    gNew = tg;
    stall = rel < 1e-12 ? stall + 1 : 0;
    converged = gmax(g) <= o.tol || stall >= 3;
    o.onIter?.(it + 1);
    // Let progress output and signals through now and then.
    if ((it & 15) === 15) await new Promise<void>((r) => setImmediate(r));
  }
  return { f, iterations: it, evaluations, converged };
}

export const trainLogisticRegression: Trainer = async (ds: Dataset, opts: TrainOptions) => {
  const P = opts.params;
  const D = LOGISTIC_REGRESSION_DEFAULTS;
  const C = numParam(P, D, 'C');
  const maxIter = Math.floor(numParam(P, D, 'maxIter'));
  const tol = numParam(P, D, 'tol');
  const memory = Math.floor(numParam(P, D, 'memory'));
  if (!(C > 0)) throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'C must be > 0');
  if (!(maxIter >= 1)) throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'maxIter must be at least 1');
  if (!(tol > 0)) throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'tol must be > 0');
  if (!(memory >= 1 && memory <= 100)) throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'memory must be in [1, 100]');
  const standardize = boolParam(P['standardize'] ?? D['standardize'], 'standardize');
  const rows = labeledRows(ds, opts.weights);
  const { y, sw, n } = rows;
  if (n === 0) throw new MlError('VIGIL_ML_DATA_INVALID', 'logistic regression needs labeled rows');
  const d = ds.d;
  const { x, scaler } = standardizeRows(rows.x, n, d, standardize);
  const k = ds.classes.length;
  const nw = k * d;
  const lam = 1 / (C * n);
  const invN = 1 / n;
  const z = new Float64Array(k);

  // theta = [W (k × d, class-major), b (k)].
  const k4 = k & ~3;
  const objective: Objective = (theta, g) => {
    g.fill(0);
    let loss = 0;
    for (let r = 0; r < n; r++) {
      const xo = r * d;
      // Logits, four classes per pass over the row (each x value loaded once per four classes:
      // 1.7-2.5x faster than one class at a time on CIC-IDS2017-sized data).
      let c = 0;
      for (; c < k4; c += 4) {
        let s0 = theta[nw + c]!;
        let s1 = theta[nw + c + 1]!;
        let s2 = theta[nw + c + 2]!;
        let s3 = theta[nw + c + 3]!;
        const w0 = c * d;
        const w1 = w0 + d;
        const w2 = w1 + d;
        const w3 = w2 + d;
        for (let j = 0; j < d; j++) {
          const v = x[xo + j]!;
          s0 += theta[w0 + j]! * v;
          s1 += theta[w1 + j]! * v;
          s2 += theta[w2 + j]! * v;
          s3 += theta[w3 + j]! * v;
        }
        z[c] = s0;
        z[c + 1] = s1;
        z[c + 2] = s2;
        z[c + 3] = s3;
      }
      for (; c < k; c++) {
        let s = theta[nw + c]!;
        const wo = c * d;
        for (let j = 0; j < d; j++) s += theta[wo + j]! * x[xo + j]!;
        z[c] = s;
      }
      let zmax = -Infinity;
      for (c = 0; c < k; c++) if (z[c]! > zmax) zmax = z[c]!;
      let sum = 0;
      for (c = 0; c < k; c++) {
        const e = Math.exp(z[c]! - zmax);
        z[c] = e;
        sum += e;
      }
      const yi = y[r]!;
      const wi = (sw === null ? 1 : sw[r]!) * invN;
      // −log p_y from the shifted exponentials.
      loss -= wi * Math.log(z[yi]! / sum);
      // z becomes the logit gradient wi · (p − onehot).
      const inv = wi / sum;
      for (c = 0; c < k; c++) z[c]! *= inv;
      z[yi]! -= wi;
      for (c = 0; c < k4; c += 4) {
        const e0 = z[c]!;
        const e1 = z[c + 1]!;
        const e2 = z[c + 2]!;
        const e3 = z[c + 3]!;
        const w0 = c * d;
        const w1 = w0 + d;
        const w2 = w1 + d;
        const w3 = w2 + d;
        for (let j = 0; j < d; j++) {
          const v = x[xo + j]!;
          g[w0 + j]! += e0 * v;
          g[w1 + j]! += e1 * v;
          g[w2 + j]! += e2 * v;
          g[w3 + j]! += e3 * v;
        }
        g[nw + c]! += e0;
        g[nw + c + 1]! += e1;
        g[nw + c + 2]! += e2;
        g[nw + c + 3]! += e3;
      }
      for (; c < k; c++) {
        const e = z[c]!;
        const wo = c * d;
        for (let j = 0; j < d; j++) g[wo + j]! += e * x[xo + j]!;
        g[nw + c]! += e;
      }
    }
    let reg = 0;
    for (let i = 0; i < nw; i++) {
      reg += theta[i]! * theta[i]!;
      g[i]! += lam * theta[i]!;
    }
    return loss + 0.5 * lam * reg;
  };

  const theta = new Float64Array(nw + k);
  const res = await lbfgs(objective, theta, {
    maxIter,
    tol,
    memory,
    onIter: (it) => opts.onProgress?.(Math.min(1, it / maxIter)),
  });
  opts.onProgress?.(1);
  return {
    type: 'logistic_regression',
    ...(scaler !== undefined ? { scaler } : {}),
    params: {
      nClasses: k,
      weights: Array.from(theta.subarray(0, nw)),
      intercepts: Array.from(theta.subarray(nw)),
      fit: { loss: res.f, iterations: res.iterations, evaluations: res.evaluations, converged: res.converged },
    },
  };
};

export const LOGISTIC_REGRESSION_TRAINER: TrainerEntry = {
  type: 'logistic_regression',
  supervised: true,
  train: trainLogisticRegression,
  defaults: LOGISTIC_REGRESSION_DEFAULTS,
};
