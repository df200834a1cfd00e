/**
 * Tree ensembles in flat typed arrays, shared by the random forest, gradient boosting and
 * isolation forest scorers: every node of every tree in one set of arrays (feature, threshold,
 * left child; the right child is always left + 1), walked with an indexed loop — no objects or
 * recursion per flow. Loading validates the JSON completely, so a corrupt model is refused with a
 * ModelError instead of misbehaving on the packet path.
 */
import { ModelError } from './model.js';
import type { ScalerSpec } from './model.js';

export interface FlatTrees {
  /** Feature index of an internal node; -1 for a leaf. */
  feature: Int32Array;
  /** Internal node: go left when value ≤ threshold. Leaf: the leaf value (gradient boosting). */
  threshold: Float64Array;
  /** Internal node: global index of the left child. Leaf: offset of its row in `value` (or 0). */
  left: Int32Array;
  /** Leaf rows (random forest class distributions), already offset per tree. */
  value: Float64Array;
  /** Global index of each tree's root. */
  roots: Int32Array;
  /** Extra per-node integer column when asked for (isolation forest: training rows in the node). */
  extra: Int32Array | null;
}

function isIntArray(v: unknown, lo: number, hi: number): v is number[] {
  if (!Array.isArray(v)) return false;
  for (const e of v) if (typeof e !== 'number' || !Number.isInteger(e) || e < lo || e > hi) return false;
  return true;
}

function isFiniteArray(v: unknown): v is number[] {
  if (!Array.isArray(v)) return false;
  for (const e of v) if (typeof e !== 'number' || !Number.isFinite(e)) return false;
  return true;
}

/**
 * Flatten and validate `trees` (params.trees: [{feature, threshold, left, value?, <extra>?}]).
 * `leafWidth` > 0: leaves point (via `left`) at `leafWidth` values of the tree's own `value`
 * array; 0: leaves carry their value in `threshold` and `value` is not used.
 */
export function flattenTrees(
  trees: unknown,
  d: number,
  leafWidth: number,
  what: string,
  extraName: string | null = null,
): FlatTrees {
  if (!Array.isArray(trees) || trees.length === 0)
    throw new ModelError(`${what}: params.trees must be a non-empty list`);
  let nodes = 0;
  let values = 0;
  for (let t = 0; t < trees.length; t++) {
    const tr = trees[t] as Record<string, unknown> | null;
    const bad = (why: string): ModelError => new ModelError(`${what}: tree ${t} ${why}`);
    if (tr === null || typeof tr !== 'object') throw bad('is not an object');
    const { feature, threshold, left } = tr as { feature: unknown; threshold: unknown; left: unknown };
    if (!isIntArray(feature, -1, d - 1)) throw bad(`has a feature index outside 0..${d - 1}`);
    const nn = feature.length;
    if (nn === 0) throw bad('has no nodes');
    if (!isFiniteArray(threshold) || threshold.length !== nn) throw bad('has missing or non-finite thresholds');
    if (!isIntArray(left, 0, 0x7fffffff) || left.length !== nn) throw bad('has missing or invalid child indices');
    let nv = 0;
    if (leafWidth > 0) {
      const value = tr['value'];
      if (!isFiniteArray(value)) throw bad('has missing or non-finite leaf values');
      nv = value.length;
    }
    if (extraName !== null && (!isIntArray(tr[extraName], 0, 0x7fffffff) || (tr[extraName] as number[]).length !== nn))
      throw bad(`has a missing or invalid ${extraName} list`);
    for (let i = 0; i < nn; i++) {
      const l = left[i]!;
      if (feature[i]! >= 0) {
        // Children after their parent: walks always end (no cycles), and stay inside the tree.
        if (l <= i || l + 1 >= nn) throw bad(`node ${i} has children outside the tree`);
      } else if (leafWidth > 0 && l + leafWidth > nv) throw bad(`leaf ${i} points outside its values`);
    }
    nodes += nn;
    values += nv;
  }
  const out: FlatTrees = {
    feature: new Int32Array(nodes),
    threshold: new Float64Array(nodes),
    left: new Int32Array(nodes),
    value: new Float64Array(values),
    roots: new Int32Array(trees.length),
    extra: extraName === null ? null : new Int32Array(nodes),
  };
  let nb = 0;
  let vb = 0;
  for (let t = 0; t < trees.length; t++) {
    const tr = trees[t] as { feature: number[]; threshold: number[]; left: number[]; value?: number[] };
    const nn = tr.feature.length;
    out.roots[t] = nb;
    for (let i = 0; i < nn; i++) {
      const f = tr.feature[i]!;
      out.feature[nb + i] = f;
      out.threshold[nb + i] = tr.threshold[i]!;
      out.left[nb + i] = f >= 0 ? nb + tr.left[i]! : leafWidth > 0 ? vb + tr.left[i]! : 0;
    }
    if (out.extra !== null) out.extra.set((tr as unknown as Record<string, number[]>)[extraName!]!, nb);
    if (leafWidth > 0) {
      out.value.set(tr.value!, vb);
      vb += tr.value!.length;
    }
    nb += nn;
  }
  return out;
}

/**
 * The leaf (node index) that the row at rows[xo, xo + d) reaches from `root` (array walk: left when
 * x <= threshold, right = left + 1). Shared by the random forest, gradient boosting and Isolation
 * Forest scorers.
 */
export function walkToLeaf(t: FlatTrees, root: number, rows: Float64Array, xo: number): number {
  const { feature, threshold, left } = t;
  let node = root;
  let f = feature[node]!;
  while (f >= 0) {
    node = rows[xo + f]! <= threshold[node]! ? left[node]! : left[node]! + 1;
    f = feature[node]!;
  }
  return node;
}

/** Rows scored per block: the block's rows stay in cache while every tree walks them. */
export const BLOCK_ROWS = 256;

/**
 * Copy rows [r0, r1) into `dst` ready for the trees: NaN and ±Infinity become 0 (the model
 * contract), then the optional scaler. The caller's matrix is left untouched.
 */
export function prepareBlock(
  x: Float64Array,
  r0: number,
  r1: number,
  d: number,
  scaler: ScalerSpec | undefined,
  dst: Float64Array,
): void {
  const base = r0 * d;
  const len = (r1 - r0) * d;
  for (let i = 0; i < len; i++) {
    const v = x[base + i]!;
    dst[i] = v - v === 0 ? v : 0;
  }
  if (scaler === undefined) return;
  for (let r = 0; r < r1 - r0; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) {
      const s = scaler.scale[j]!;
      dst[o + j] = (dst[o + j]! - scaler.center[j]!) / (s === 0 ? 1 : s);
    }
  }
}

/** Check a ScalerSpec's numbers (checkModelFile checks only its sizes). */
export function checkScaler(s: ScalerSpec | undefined, what: string): void {
  if (s === undefined) return;
  if (!isFiniteArray(s.center) || !isFiniteArray(s.scale))
    throw new ModelError(`${what}: scaler has non-finite numbers`);
}

/** A feature and its share of an explanation (shares sum to 1). */
export interface TreeFeatureShare {
  feature: string;
  weight: number;
}

/**
 * Which features decided a row: the splits on the row's path through every tree that `useTree`
 * accepts (e.g. the trees that voted for the predicted class), counted per feature and normalised
 * to shares, largest first. Cheap (one walk per tree) and model-agnostic for tree ensembles; it
 * ranks features by how often they routed this row, not by an exact attribution (no SHAP).
 */
export function pathFeatureShares(
  t: FlatTrees,
  row: Float64Array,
  names: readonly string[],
  useTree: (tree: number, leaf: number) => boolean,
): TreeFeatureShare[] {
  const { feature, threshold, left, roots } = t;
  const counts = new Float64Array(names.length);
  const path: number[] = [];
  let total = 0;
  for (let k = 0; k < roots.length; k++) {
    path.length = 0;
    let node = roots[k]!;
    let f = feature[node]!;
    while (f >= 0) {
      path.push(f);
      node = row[f]! <= threshold[node]! ? left[node]! : left[node]! + 1;
      f = feature[node]!;
    }
    if (!useTree(k, node)) continue;
    for (const j of path) counts[j]! += 1;
    total += path.length;
  }
  const out: TreeFeatureShare[] = [];
  if (total === 0) return out;
  for (let j = 0; j < names.length; j++)
    if (counts[j]! > 0) out.push({ feature: names[j]!, weight: counts[j]! / total });
  return out.sort((a, b) => b.weight - a.weight || (a.feature < b.feature ? -1 : 1));
}
