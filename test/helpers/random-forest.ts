/**
 * Random forests for the scorer tests (array walk, compiled trees, binned walk, wasm kernel): trees
 * laid out as the trainer does (children after the parent, right = left + 1) and the model file
 * around them.
 */
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../../src/detect/classify/model.js';
import type { ModelFile, ScalerSpec } from '../../src/detect/classify/model.js';

export interface Tree {
  feature: number[];
  threshold: number[];
  left: number[];
  value: number[];
}

export interface RandomTreeOptions {
  /** Chance that a node (other than the root) splits. */
  split?: number;
  /** Chance that a leaf is pure (one class at 1) rather than a distribution over the classes. */
  pure?: number;
}

/** A random tree of at most `maxNodes` nodes over `d` features and `C` classes, thresholds from `pick()`. */
export function randomTree(
  rnd: () => number,
  d: number,
  C: number,
  maxNodes: number,
  pick: () => number,
  opts: RandomTreeOptions = {},
): Tree {
  const split = opts.split ?? 0.7;
  const pureShare = opts.pure ?? 0.5;
  const t: Tree = { feature: [0], threshold: [0], left: [0], value: [] };
  for (let i = 0; i < t.feature.length; i++) {
    if (t.feature.length + 2 <= maxNodes && (i === 0 || rnd() < split)) {
      t.feature[i] = Math.floor(rnd() * d);
      t.threshold[i] = pick();
      t.left[i] = t.feature.length;
      t.feature.push(0, 0);
      t.threshold.push(0, 0);
      t.left.push(0, 0);
      continue;
    }
    t.feature[i] = -1;
    t.threshold[i] = 0;
    t.left[i] = t.value.length;
    const pure = rnd() < pureShare;
    const hot = Math.floor(rnd() * C);
    const row = Array.from({ length: C }, (_, c) => (pure ? (c === hot ? 1 : 0) : rnd()));
    const sum = row.reduce((a, b) => a + b, 0);
    t.value.push(...row.map((v) => v / sum));
  }
  return t;
}

/** The random-forest model file of `trees` (features f0.., classes c0..). */
export function forestFile(trees: Tree[], d: number, C: number, scaler?: ScalerSpec): ModelFile {
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: 'random_forest',
    features: Array.from({ length: d }, (_, j) => `f${j}`),
    classes: Array.from({ length: C }, (_, c) => `c${c}`),
    benignClass: null,
    params: { nClasses: C, trees },
    ...(scaler !== undefined ? { scaler } : {}),
  };
}

/**
 * One feature, one split per threshold in a chain: node 2i splits on ths[i], its left child is a
 * leaf of class 0, its right child the next split (the last a leaf of class 1).
 */
export function chainTree(ths: readonly number[]): Tree {
  const t: Tree = { feature: [], threshold: [], left: [], value: [1, 0, 0, 1] };
  for (let i = 0; i < ths.length; i++) {
    t.feature.push(0, -1);
    t.threshold.push(ths[i]!, 0);
    t.left.push(2 * i + 1, 0);
  }
  t.feature.push(-1);
  t.threshold.push(0);
  t.left.push(2);
  return t;
}
