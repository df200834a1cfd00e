/**
 * Random forest scorer: the mean of the trees' leaf class distributions (as scikit-learn's
 * predict_proba). Rows go through in blocks and trees in the outer loop, so one tree's top levels
 * stay in cache across a block of rows. Trained by src/ml/random-forest.ts; the serialized form is
 * in docs/ml-models.md.
 */
import type { ModelFile, ScorerFactory, ScoringModel } from './model.js';
import { ModelError } from './model.js';
import { BLOCK_ROWS, checkScaler, flattenTrees, pathFeatureShares, prepareBlock } from './flat-trees.js';
import type { TreeFeatureShare } from './flat-trees.js';
import { compileForest } from './tree-codegen.js';

export interface RandomForestOptions {
  /**
   * Compile trees to JavaScript (tree-codegen.ts; default true). False keeps every tree on the
   * array walk: the reference the compiled path is tested and benchmarked against.
   */
  compile?: boolean;
  /** Largest tree compiled (default CODEGEN_MAX_TREE_NODES); for benchmarks. */
  maxTreeNodes?: number;
}

export const randomForestScorer: ScorerFactory = (file: ModelFile): ScoringModel => buildRandomForest(file);

/** The random forest scorer with options (randomForestScorer uses the defaults). */
export function buildRandomForest(file: ModelFile, opts: RandomForestOptions = {}): ScoringModel {
  const what = 'random_forest model';
  const p = file.params as { nClasses?: unknown; trees?: unknown } | null;
  if (p === null || typeof p !== 'object') throw new ModelError(`${what}: params missing`);
  const C = file.classes.length;
  if (C < 1 || p.nClasses !== C) throw new ModelError(`${what}: params.nClasses does not match the ${C} classes`);
  const d = file.features.length;
  checkScaler(file.scaler, what);
  const t = flattenTrees(p.trees, d, C, what);
  const { feature, threshold, left, value, roots } = t;
  // Pure leaves (one-hot rows; most leaves of a fully grown forest) add 1 to their class instead
  // of a whole row: their `left` becomes -(class + 1).
  for (let i = 0; i < feature.length; i++) {
    if (feature[i]! >= 0) continue;
    const vo = left[i]!;
    let hot = -1;
    let ones = 0;
    let zeros = 0;
    for (let c = 0; c < C; c++) {
      const v = value[vo + c]!;
      if (v === 1) {
        hot = c;
        ones++;
      } else if (v === 0) zeros++;
    }
    if (ones === 1 && zeros === C - 1) left[i] = -(hot + 1);
  }
  const nTrees = roots.length;
  const inv = 1 / nTrees;
  const scaler = file.scaler;
  const rows = new Float64Array(BLOCK_ROWS * d);
  // Built after the pure-leaf rewrite above: the compiled leaves carry the same codes.
  const fns = opts.compile === false ? [] : compileForest(t, C, opts.maxTreeNodes);
  const compiled = fns.some((fn) => fn !== null) ? fns : null;

  return {
    type: 'random_forest',
    features: file.features,
    classes: file.classes,
    predictProba(x: Float64Array, n: number, out: Float64Array): void {
      out.fill(0, 0, n * C);
      for (let r0 = 0; r0 < n; r0 += BLOCK_ROWS) {
        const r1 = Math.min(n, r0 + BLOCK_ROWS);
        const nb = r1 - r0;
        prepareBlock(x, r0, r1, d, scaler, rows);
        for (let k = 0; k < nTrees; k++) {
          const fn = compiled === null ? null : compiled[k]!;
          if (fn !== null) {
            fn(rows, nb, d, out, r0 * C, value);
            continue;
          }
          const root = roots[k]!;
          for (let r = 0; r < nb; r++) {
            const xo = r * d;
            let node = root;
            let f = feature[node]!;
            while (f >= 0) {
              node = rows[xo + f]! <= threshold[node]! ? left[node]! : left[node]! + 1;
              f = feature[node]!;
            }
            const vo = left[node]!;
            const oo = (r0 + r) * C;
            if (vo < 0) out[oo - vo - 1]! += 1;
            else for (let c = 0; c < C; c++) out[oo + c]! += value[vo + c]!;
          }
        }
      }
      for (let i = 0; i < n * C; i++) out[i]! *= inv;
    },
    /** Features on the row's paths through the trees that voted for its most likely class. */
    explain(row: Float64Array): TreeFeatureShare[] {
      const one = new Float64Array(C);
      const x = new Float64Array(d);
      this.predictProba!(row, 1, one);
      let best = 0;
      for (let c = 1; c < C; c++) if (one[c]! > one[best]!) best = c;
      prepareBlock(row, 0, 1, d, scaler, x);
      return pathFeatureShares(t, x, file.features, (_k, leaf) => {
        const vo = left[leaf]!;
        if (vo < 0) return -vo - 1 === best;
        let arg = 0;
        for (let c = 1; c < C; c++) if (value[vo + c]! > value[vo + arg]!) arg = c;
        return arg === best;
      });
    },
  };
}
