/**
 * Linear model scorers: `logistic_regression` (multinomial: softmax of W·x + b) and `svm` (linear,
 * one-vs-rest margins f = W·x + b turned into probabilities by a softmax of T·f with the fitted
 * temperature T, so the most likely class is the one with the largest margin, as the SVM decides). Trained by src/ml/logistic-regression.ts and src/ml/svm.ts; serialized params in
 * docs/ml-neural.md. One dot product per class and row, on typed arrays.
 */
import type { ModelFile, ScoringModel } from './model.js';
import { ModelError } from './model.js';
import {
  BLOCK_ROWS,
  checkScalerNumbers,
  finiteArray,
  intParam,
  paramsObject,
  prepareBlock,
  softmaxInPlace,
} from './nn-layers.js';

/** A feature's share in the predicted class's score (linear models; see explain). */
export interface LinearContribution {
  feature: string;
  /** w·x of the feature for the predicted class, minus its mean over the classes. */
  weight: number;
}

/** Linear scorer: a ScoringModel with predictProba and an explanation of one row. */
export interface LinearModel extends ScoringModel {
  predictProba(x: Float64Array, n: number, out: Float64Array): void;
  /** Features by contribution to the row's most likely class, largest first (raw row, model order). */
  explain(row: Float64Array): LinearContribution[];
}

/**
 * Build the scorer for a `logistic_regression` or `svm` ModelFile; throws ModelError on params
 * of the wrong shape or non-finite numbers.
 */
export function linearScorer(file: ModelFile): LinearModel {
  const type = file.type;
  if (type !== 'logistic_regression' && type !== 'svm') throw new ModelError(`not a linear model (${type})`);
  const what = `${type} model`;
  const p = paramsObject(file.params, what);
  const k = file.classes.length;
  const d = file.features.length;
  if (intParam(p['nClasses'], 1, 1 << 16, `${what}: params.nClasses`) !== k || k < 2)
    throw new ModelError(`${what}: params.nClasses does not match the ${k} classes (at least 2)`);
  // An svm on two classes keeps one margin (class 1 against class 0); otherwise one per class.
  const m = type === 'svm' && k === 2 ? 1 : k;
  const w = finiteArray(p['weights'], m * d, `${what}: params.weights`);
  const b = finiteArray(p['intercepts'], m, `${what}: params.intercepts`);
  let temperature = -1;
  if (type === 'svm') {
    const t = p['temperature'];
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0)
      throw new ModelError(`${what}: params.temperature must be a finite number ≥ 0`);
    temperature = t;
  }
  checkScalerNumbers(file.scaler, what);
  const scaler = file.scaler;
  const rows = new Float64Array(BLOCK_ROWS * d);
  const z = new Float64Array(Math.max(m, 2));

  /** Probabilities of the prepared row at rows[ro ..] into out[oo ..]. */
  const rowProba = (ro: number, out: Float64Array, oo: number): void => {
    // Four classes per pass over the row (each value loaded once per four dot products).
    let c = 0;
    for (; c + 4 <= m; c += 4) {
      let s0 = b[c]!;
      let s1 = b[c + 1]!;
      let s2 = b[c + 2]!;
      let s3 = b[c + 3]!;
      const w0 = c * d;
      const w1 = w0 + d;
      const w2 = w1 + d;
      const w3 = w2 + d;
      for (let j = 0; j < d; j++) {
        const v = rows[ro + j]!;
        s0 += w[w0 + j]! * v;
        s1 += w[w1 + j]! * v;
        s2 += w[w2 + j]! * v;
        s3 += w[w3 + j]! * v;
      }
      z[c] = s0;
      z[c + 1] = s1;
      z[c + 2] = s2;
      z[c + 3] = s3;
    }
    for (; c < m; c++) {
      let s = b[c]!;
      const wo = c * d;
      for (let j = 0; j < d; j++) s += w[wo + j]! * rows[ro + j]!;
      z[c] = s;
    }
    if (temperature < 0) {
      for (let c = 0; c < k; c++) out[oo + c] = z[c]!;
      softmaxInPlace(out, oo, k);
      return;
    }
    if (m === 1) {
      // Two classes: softmax of (0, T·f) = sigmoid(T·f).
      const p1 = sigmoid(temperature * z[0]!);
      out[oo] = 1 - p1;
      out[oo + 1] = p1;
      return;
    }
    for (let c = 0; c < k; c++) out[oo + c] = temperature * z[c]!;
    softmaxInPlace(out, oo, k);
  };
  const one = new Float64Array(k);

  return {
    type,
    features: file.features,
    classes: file.classes,
    predictProba(x: Float64Array, n: number, out: Float64Array): void {
      for (let r0 = 0; r0 < n; r0 += BLOCK_ROWS) {
        const r1 = Math.min(n, r0 + BLOCK_ROWS);
        prepareBlock(x, r0, r1, d, scaler, rows);
        for (let r = 0; r < r1 - r0; r++) rowProba(r * d, out, (r0 + r) * k);
      }
    },
    explain(row: Float64Array): LinearContribution[] {
      prepareBlock(row, 0, 1, d, scaler, rows);
      rowProba(0, one, 0);
      let best = 0;
      for (let c = 1; c < k; c++) if (one[c]! > one[best]!) best = c;
      // The margin used for the class: its own row, or for a binary svm ±the single margin.
      const wc = m === 1 ? 0 : best;
      const sign = m === 1 && best === 0 ? -1 : 1;
      const res: LinearContribution[] = [];
      for (let j = 0; j < d; j++) {
        // Relative to the mean over classes (softmax is unchanged by a shift common to all classes).
        let mean = 0;
        if (m > 1) {
          for (let c = 0; c < m; c++) mean += w[c * d + j]!;
          mean /= m;
        }
        res.push({ feature: file.features[j]!, weight: sign * (w[wc * d + j]! - mean) * rows[j]! });
      }
      return res.sort((a, b2) => b2.weight - a.weight);
    },
  };
}

/** The logistic function 1 / (1 + e^-t), computed without overflow. */
export function sigmoid(t: number): number {
  return t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t));
}
