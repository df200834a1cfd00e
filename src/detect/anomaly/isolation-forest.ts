/**
 * Isolation Forest scorer: s(x) = 2^(−E[h(x)] / c(ψ)) in [0, 1], where h is the path length to
 * x's leaf in each tree plus c(rows in that leaf) (Liu, Ting and Zhou 2008), and an explanation
 * of a score: the features whose splits isolated the row. Trained by
 * src/ml/isolation-forest.ts; the serialized form is in docs/ml-models.md.
 *
 * Explanation: a split that sends the row from a node of `a` training rows into a child of `b`
 * rows narrows its company by log2(a/b) bits; an outlier is cut off from most of the sample by
 * one or two early splits, which then carry most of the weight, while a normal row spreads small
 * reductions over many splits. Weights are summed per feature over all trees and normalised to 1.
 */
import type { ModelFile, ScoringModel } from '../classify/model.js';
import { ModelError } from '../classify/model.js';
import { BLOCK_ROWS, checkScaler, flattenTrees, prepareBlock, walkToLeaf } from '../classify/flat-trees.js';

/** Euler–Mascheroni constant, for the harmonic number H(i) ≈ ln(i) + γ. */
const EULER_GAMMA = 0.5772156649015329;

/**
 * c(n): the average path length of an unsuccessful binary-search-tree search among n rows, the
 * normaliser of the score and the leaf adjustment (0 for n ≤ 1, 1 for n = 2).
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

/** One feature's share of a row's isolation. */
export interface FeatureWeight {
  feature: string;
  weight: number;
}

/** The scorer object: a ScoringModel with `score` and `explain`. */
export interface IsolationForestModel extends ScoringModel {
  score(x: Float64Array, n: number, out: Float64Array): void;
  /** Features that isolated `row` (raw values, the model's feature order), weights summing to 1, largest first. */
  explain(row: Float64Array): FeatureWeight[];
  /** Threshold from training (contamination), or 0.5. */
  readonly threshold: number;
}

/** Scorer factory (registered in scorers.ts); throws ModelError on corrupt params. */
export const isolationForestScorer = (file: ModelFile): IsolationForestModel => {
  const what = 'isolation_forest model';
  const p = file.params as { subsample?: unknown; threshold?: unknown; trees?: unknown } | null;
  if (p === null || typeof p !== 'object') throw new ModelError(`${what}: params missing`);
  const psi = p.subsample;
  if (typeof psi !== 'number' || !Number.isInteger(psi) || psi < 2)
    throw new ModelError(`${what}: params.subsample must be an integer ≥ 2`);
  const thr = p.threshold ?? 0.5;
  if (typeof thr !== 'number' || !(thr >= 0 && thr <= 1))
    throw new ModelError(`${what}: params.threshold must be in [0, 1]`);
  const d = file.features.length;
  checkScaler(file.scaler, what);
  const t = flattenTrees(p.trees, d, 0, what, 'size');
  const { feature, threshold, left, roots } = t;
  const size = t.extra!;
  for (let i = 0; i < feature.length; i++) {
    // Leaves hold a path length: a depth plus c(rows), never negative.
    if (feature[i]! < 0 && threshold[i]! < 0) throw new ModelError(`${what}: negative leaf path length`);
    if (feature[i]! >= 0 && (size[left[i]!]! > size[i]! || size[left[i]! + 1]! > size[i]!))
      throw new ModelError(`${what}: node sizes grow from parent to child`);
  }
  const nTrees = roots.length;
  const norm = -1 / (nTrees * averagePathLength(psi));
  const scaler = file.scaler;
  const rows = new Float64Array(BLOCK_ROWS * d);
  const acc = new Float64Array(BLOCK_ROWS);
  const weights = new Float64Array(d);

  return {
    type: 'isolation_forest',
    features: file.features,
    classes: file.classes,
    threshold: thr,
    score(x: Float64Array, n: number, out: Float64Array): void {
      for (let r0 = 0; r0 < n; r0 += BLOCK_ROWS) {
        const r1 = Math.min(n, r0 + BLOCK_ROWS);
        const nb = r1 - r0;
        prepareBlock(x, r0, r1, d, scaler, rows);
        acc.fill(0, 0, nb);
        for (let k = 0; k < nTrees; k++) {
          const root = roots[k]!;
          for (let r = 0; r < nb; r++) {
            acc[r]! += threshold[walkToLeaf(t, root, rows, r * d)]!;
          }
        }
        for (let r = 0; r < nb; r++) out[r0 + r] = Math.pow(2, acc[r]! * norm);
      }
    },
    explain(row: Float64Array): FeatureWeight[] {
      prepareBlock(row, 0, 1, d, scaler, rows);
      weights.fill(0);
      for (let k = 0; k < nTrees; k++) {
        let node = roots[k]!;
        let f = feature[node]!;
        while (f >= 0) {
          const next = rows[f]! <= threshold[node]! ? left[node]! : left[node]! + 1;
          const a = size[node]!;
          const b = size[next]!;
          if (b > 0 && b < a) weights[f]! += Math.log2(a / b);
          node = next;
          f = feature[node]!;
        }
      }
      let total = 0;
      for (let j = 0; j < d; j++) total += weights[j]!;
      const res: FeatureWeight[] = [];
      if (total <= 0) return res;
      for (let j = 0; j < d; j++)
        if (weights[j]! > 0) res.push({ feature: file.features[j]!, weight: weights[j]! / total });
      res.sort((u, v) => v.weight - u.weight);
      return res;
    },
  };
};
