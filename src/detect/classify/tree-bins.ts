/**
 * Binned walk for large random forest trees (too large to compile, tree-codegen.ts). A fully grown
 * tree on noisy data (tens of thousands of nodes, depth ~35) does not fit the L1/L2 caches with
 * 16 bytes per node plus 8 bytes per row value, and the array walk waits on a cache miss and a
 * mispredicted branch at nearly every level. Here:
 *
 * - every row value becomes a one-byte bin: its rank among the forest's distinct thresholds on that
 *   feature (bin(x) = how many of them are < x). A Vigil-trained forest has at most 255 per feature
 *   (one set of ≤ 256 quantile bins per feature for all trees), so a row is `d` bytes instead of
 *   8·d and a block of thousands of rows stays in cache;
 * - a node is two int32 (child, feature << 8 | rank of its threshold): `x <= t` is exactly
 *   `bin(x) <= rank(t)`, so the result is bit-identical to comparing the float64 values;
 * - leaves point at themselves with rank 255 (no bin exceeds 255), so eight rows walk one tree in
 *   lockstep without branching on the comparison: eight independent load chains overlap their
 *   cache misses, and the loop ends when all eight reached a leaf.
 *
 * Forests with more than 255 distinct thresholds on a feature (not trained by Vigil) keep the
 * array walk.
 */
import type { FlatTrees } from './flat-trees.js';

/** Largest number of distinct thresholds per feature that fits a one-byte bin (rank ≤ 254). */
export const BINNED_MAX_THRESHOLDS = 255;
/** Leaf marker in a node word's low byte: no bin exceeds 255, so a leaf always "goes left" to itself. */
const LEAF = 0xff;

export interface BinnedForest {
  /** Per feature, its distinct thresholds ascending, padded with +Infinity to a power of two. */
  edges: Float64Array;
  /** Start of feature j's edges in `edges`. */
  edgeStart: Int32Array;
  /** Number of real (unpadded) edges of feature j. */
  edgeCount: Int32Array;
  /** Half the padded length of feature j's edges: the first step of its binary search (0: none). */
  firstStep: Int32Array;
  /**
   * Per node (global index as in FlatTrees), two int32: child, word. Internal node: left child
   * (right = left + 1) and feature << 8 | threshold rank. Leaf: itself and LEAF.
   */
  nodes: Int32Array;
}

/**
 * Bin tables and node words for the forest `t` with `d` features, or null when a feature has more
 * than BINNED_MAX_THRESHOLDS distinct thresholds (or `d` does not fit the node word).
 */
export function binForest(t: FlatTrees, d: number): BinnedForest | null {
  const { feature, threshold, left } = t;
  if (d >= 1 << 23) return null;
  const lists: number[][] = Array.from({ length: d }, () => []);
  for (let i = 0; i < feature.length; i++) {
    const f = feature[i]!;
    if (f >= 0) lists[f]!.push(threshold[i]!);
  }
  const uniq: number[][] = [];
  for (const l of lists) {
    l.sort((a, b) => a - b);
    // === merges -0 and 0, which compare equal to every row value.
    const u: number[] = [];
    for (const v of l) if (u.length === 0 || u[u.length - 1] !== v) u.push(v);
    if (u.length > BINNED_MAX_THRESHOLDS) return null;
    uniq.push(u);
  }
  const edgeStart = new Int32Array(d);
  const edgeCount = new Int32Array(d);
  const firstStep = new Int32Array(d);
  let total = 0;
  for (let j = 0; j < d; j++) {
    // At least one +Infinity pad, so the search below never passes the real edges for a number.
    let p = 1;
    while (p < uniq[j]!.length + 1) p <<= 1;
    edgeStart[j] = total;
    edgeCount[j] = uniq[j]!.length;
    firstStep[j] = p >> 1;
    total += p;
  }
  const edges = new Float64Array(total).fill(Number.POSITIVE_INFINITY);
  for (let j = 0; j < d; j++) edges.set(uniq[j]!, edgeStart[j]!);
  const nodes = new Int32Array(2 * feature.length);
  for (let i = 0; i < feature.length; i++) {
    const f = feature[i]!;
    if (f < 0) {
      nodes[2 * i] = i;
      nodes[2 * i + 1] = LEAF;
      continue;
    }
    // The threshold's index among its feature's edges (it is one of them).
    const u = uniq[f]!;
    const th = threshold[i]!;
    let lo = 0;
    let hi = u.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (th <= u[m]!) hi = m;
      else lo = m + 1;
    }
    nodes[2 * i] = left[i]!;
    nodes[2 * i + 1] = (f << 8) | lo;
  }
  return { edges, edgeStart, edgeCount, firstStep, nodes };
}

/**
 * Bins of rows [0, nb) of the prepared block `x` (stride d) into `bins` from row `at` on:
 * bin = the number of the feature's edges e with !(x <= e), so NaN (never passed by
 * prepareBlock) would get every edge and go right at every node, as in the array walk.
 */
export function binRows(b: BinnedForest, x: Float64Array, nb: number, d: number, bins: Uint8Array, at: number): void {
  const { edges, edgeStart, edgeCount, firstStep } = b;
  for (let j = 0; j < d; j++) {
    const o = edgeStart[j]!;
    const cnt = edgeCount[j]!;
    const s0 = firstStep[j]!;
    const bo = at * d + j;
    if (s0 === 128) {
      // 129–255 edges, the usual case for a Vigil forest: the eight steps unrolled.
      for (let r = 0; r < nb; r++) {
        const v = x[r * d + j]!;
        // Branchless binary search: the edges passed form a prefix (they are ascending).
        let k = 128 & -+!(v <= edges[o + 127]!);
        k += 64 & -+!(v <= edges[o + k + 63]!);
        k += 32 & -+!(v <= edges[o + k + 31]!);
        k += 16 & -+!(v <= edges[o + k + 15]!);
        k += 8 & -+!(v <= edges[o + k + 7]!);
        k += 4 & -+!(v <= edges[o + k + 3]!);
        k += 2 & -+!(v <= edges[o + k + 1]!);
        k += 1 & -+!(v <= edges[o + k]!);
        bins[bo + r * d] = k < cnt ? k : cnt;
      }
      continue;
    }
    for (let r = 0; r < nb; r++) {
      const v = x[r * d + j]!;
      let k = 0;
      for (let s = s0; s > 0; s >>= 1) k += s & -+!(v <= edges[o + k + s - 1]!);
      bins[bo + r * d] = k < cnt ? k : cnt;
    }
  }
}

/**
 * Walk rows [0, nb) of `bins` (stride d) down the tree rooted at `root`; leaf[r] = the leaf
 * reached (global node index). Eight rows at a time in lockstep (see the header).
 */
export function walkBinned(
  nodes: Int32Array,
  bins: Uint8Array,
  d: number,
  root: number,
  nb: number,
  leaf: Int32Array,
): void {
  const wr = nodes[2 * root + 1]!;
  let r = 0;
  for (; r + 8 <= nb; r += 8) {
    const x0 = r * d;
    const x1 = x0 + d;
    const x2 = x1 + d;
    const x3 = x2 + d;
    const x4 = x3 + d;
    const x5 = x4 + d;
    const x6 = x5 + d;
    const x7 = x6 + d;
    let n0 = root;
    let n1 = root;
    let n2 = root;
    let n3 = root;
    let n4 = root;
    let n5 = root;
    let n6 = root;
    let n7 = root;
    let w0 = wr;
    let w1 = wr;
    let w2 = wr;
    let w3 = wr;
    let w4 = wr;
    let w5 = wr;
    let w6 = wr;
    let w7 = wr;
    // Rows that reached a leaf stay on it; depth bounds the loop (children come after parents).
    while ((w0 & w1 & w2 & w3 & w4 & w5 & w6 & w7 & LEAF) !== LEAF) {
      n0 = nodes[2 * n0]! + +(bins[x0 + (w0 >> 8)]! > (w0 & LEAF));
      n1 = nodes[2 * n1]! + +(bins[x1 + (w1 >> 8)]! > (w1 & LEAF));
      n2 = nodes[2 * n2]! + +(bins[x2 + (w2 >> 8)]! > (w2 & LEAF));
      n3 = nodes[2 * n3]! + +(bins[x3 + (w3 >> 8)]! > (w3 & LEAF));
      n4 = nodes[2 * n4]! + +(bins[x4 + (w4 >> 8)]! > (w4 & LEAF));
      n5 = nodes[2 * n5]! + +(bins[x5 + (w5 >> 8)]! > (w5 & LEAF));
      n6 = nodes[2 * n6]! + +(bins[x6 + (w6 >> 8)]! > (w6 & LEAF));
      n7 = nodes[2 * n7]! + +(bins[x7 + (w7 >> 8)]! > (w7 & LEAF));
      w0 = nodes[2 * n0 + 1]!;
      w1 = nodes[2 * n1 + 1]!;
      w2 = nodes[2 * n2 + 1]!;
      w3 = nodes[2 * n3 + 1]!;
      w4 = nodes[2 * n4 + 1]!;
      w5 = nodes[2 * n5 + 1]!;
      w6 = nodes[2 * n6 + 1]!;
      w7 = nodes[2 * n7 + 1]!;
    }
    leaf[r] = n0;
    leaf[r + 1] = n1;
    leaf[r + 2] = n2;
    leaf[r + 3] = n3;
    leaf[r + 4] = n4;
    leaf[r + 5] = n5;
    leaf[r + 6] = n6;
    leaf[r + 7] = n7;
  }
  for (; r < nb; r++) {
    const xo = r * d;
    let n = root;
    let w = wr;
    while ((w & LEAF) !== LEAF) {
      n = nodes[2 * n]! + +(bins[xo + (w >> 8)]! > (w & LEAF));
      w = nodes[2 * n + 1]!;
    }
    leaf[r] = n;
  }
}
