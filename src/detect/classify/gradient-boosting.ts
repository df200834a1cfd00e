/**
 * Gradient boosting scorer: raw score per class = baseline + the sum of that class's tree leaves
 * (trees cycle through the classes, `treesPerIteration` per boosting iteration), then the logistic
 * function (two classes, one score) or softmax. Trained by src/ml/gradient-boosting.ts; the
 * serialized form is in docs/ml-models.md.
 */
import type { ModelFile, ScorerFactory, ScoringModel } from './model.js';
import { ModelError } from './model.js';
import { BLOCK_ROWS, checkScaler, flattenTrees, prepareBlock, pathFeatureShares, walkToLeaf } from './flat-trees.js';
import type { TreeFeatureShare } from './flat-trees.js';

export const gradientBoostingScorer: ScorerFactory = (file: ModelFile): ScoringModel => {
  const what = 'gradient_boosting model';
  const p = file.params as {
    nClasses?: unknown;
    treesPerIteration?: unknown;
    baseline?: unknown;
    trees?: unknown;
  } | null;
  if (p === null || typeof p !== 'object') throw new ModelError(`${what}: params missing`);
  const C = file.classes.length;
  if (C < 2 || p.nClasses !== C) throw new ModelError(`${what}: params.nClasses does not match the ${C} classes`);
  const K = C === 2 ? 1 : C;
  if (p.treesPerIteration !== K) throw new ModelError(`${what}: params.treesPerIteration must be ${K}`);
  const base = p.baseline;
  if (!Array.isArray(base) || base.length !== K || !base.every((v) => typeof v === 'number' && Number.isFinite(v)))
    throw new ModelError(`${what}: params.baseline must hold ${K} finite numbers`);
  const baseline = Float64Array.from(base as number[]);
  const d = file.features.length;
  checkScaler(file.scaler, what);
  const t = flattenTrees(p.trees, d, 0, what);
  const { threshold, roots } = t;
  const nTrees = roots.length;
  if (nTrees % K !== 0) throw new ModelError(`${what}: tree count is not a multiple of ${K}`);
  const scaler = file.scaler;
  const rows = new Float64Array(BLOCK_ROWS * d);
  const raw = new Float64Array(BLOCK_ROWS * K);

  return {
    type: 'gradient_boosting',
    features: file.features,
    classes: file.classes,
    predictProba(x: Float64Array, n: number, out: Float64Array): void {
      for (let r0 = 0; r0 < n; r0 += BLOCK_ROWS) {
        const r1 = Math.min(n, r0 + BLOCK_ROWS);
        const nb = r1 - r0;
        prepareBlock(x, r0, r1, d, scaler, rows);
        for (let r = 0; r < nb; r++) for (let k = 0; k < K; k++) raw[r * K + k] = baseline[k]!;
        for (let tr = 0; tr < nTrees; tr++) {
          const root = roots[tr]!;
          const k = tr % K;
          for (let r = 0; r < nb; r++) {
            raw[r * K + k]! += threshold[walkToLeaf(t, root, rows, r * d)]!;
          }
        }
        for (let r = 0; r < nb; r++) {
          const o = (r0 + r) * C;
          if (K === 1) {
            const s = 1 / (1 + Math.exp(-raw[r]!));
            out[o] = 1 - s;
            out[o + 1] = s;
            continue;
          }
          let mx = -Infinity;
          for (let k = 0; k < K; k++) if (raw[r * K + k]! > mx) mx = raw[r * K + k]!;
          let z = 0;
          for (let k = 0; k < K; k++) {
            const e = Math.exp(raw[r * K + k]! - mx);
            out[o + k] = e;
            z += e;
          }
          for (let k = 0; k < K; k++) out[o + k]! /= z;
        }
      }
    },
    /** Features on the row's paths through the trees that pushed it towards its most likely class. */
    explain(row: Float64Array): TreeFeatureShare[] {
      const one = new Float64Array(C);
      const x = new Float64Array(d);
      this.predictProba!(row, 1, one);
      let best = 0;
      for (let c = 1; c < C; c++) if (one[c]! > one[best]!) best = c;
      prepareBlock(row, 0, 1, d, scaler, x);
      return pathFeatureShares(t, x, file.features, (k, leaf) => {
        const v = threshold[leaf]!;
        if (K === 1) return best === 1 ? v > 0 : v < 0;
        return k % K === best && v > 0;
      });
    },
  };
};
