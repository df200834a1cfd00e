/**
 * Random forest scorer: the mean of the trees' leaf class distributions (as scikit-learn's
 * predict_proba). Rows go through in blocks and trees in the outer loop, so one tree's top levels
 * stay in cache across a block of rows. Each tree takes one of three paths, all bit-identical:
 * compiled to JavaScript (small trees, tree-codegen.ts), the binned lockstep walk (large trees,
 * tree-bins.ts; run by a WebAssembly kernel, tree-wasm.ts, when available) or the array walk (the
 * reference; large trees of forests that cannot be binned).
 * Trained by src/ml/random-forest.ts; the serialized form is in docs/ml-models.md.
 */
import type { ModelFile, ScorerFactory, ScoringModel } from './model.js';
import { ModelError } from './model.js';
import { BLOCK_ROWS, checkScaler, flattenTrees, pathFeatureShares, prepareBlock, walkToLeaf } from './flat-trees.js';
import type { TreeFeatureShare } from './flat-trees.js';
import { compileForest } from './tree-codegen.js';
import { binForest, binRows, walkBinned } from './tree-bins.js';
import type { BinnedForest } from './tree-bins.js';
import { buildBinnedWasm } from './tree-wasm.js';
import type { BinnedWasm, WasmKernelOptions } from './tree-wasm.js';

/**
 * Trees of BINNED_MIN_TREE_NODES or more take the binned walk when their summed log2(node count)
 * (about the node visits per row) reaches this many per feature: binning costs ~8 comparisons per
 * feature and row, the binned walk pays back per visit. Measured (docs/ml-models.md,
 * bench/micro/rf-score.ts): binning starts to pay at ~8 trees of 34,000 nodes or ~12 of 5,700 at
 * 80 features; 2 asks for 11 and 13, a small margin.
 */
export const BINNED_MIN_VISITS_PER_FEATURE = 2;
/**
 * Smaller trees are compiled (or walked) instead: measured, 100 binned trees of ~850 nodes
 * (CIC-IDS2017's forest) scored 0.86–1.19× the array walk against 1.5–2.5× compiled; 40 of
 * ~1,860 nodes 1.18–1.56× binned against 1.04–1.18× compiled (docs/ml-models.md).
 */
export const BINNED_MIN_TREE_NODES = 1500;
/**
 * Bytes of row bins per block on the binned path: thousands of rows per block, so each node a
 * tree loads into cache serves many rows (d bytes per row; 25,600 rows at 80 features). Measured
 * on the synthetic 100-tree forest (bench/micro/rf-score.ts, RF_BLOCKS): 256 KB 0.55×, 1 MB 1.0×,
 * 2 MB 1.12–1.15×, 4 MB 1.09–1.10× (a tree's nodes are fetched once per block; past 2 MB the
 * rows' bins no longer stay in the shared cache).
 */
export const BINNED_BLOCK_BYTES = 2 << 20;

/** Rows per block on the binned path: `blockBytes` of d-byte rows, in whole BLOCK_ROWS, at least one. */
export function binnedBlockRows(d: number, blockBytes = BINNED_BLOCK_BYTES): number {
  return Math.max(BLOCK_ROWS, Math.floor(blockBytes / Math.max(1, d) / BLOCK_ROWS) * BLOCK_ROWS);
}

export interface RandomForestOptions {
  /**
   * Compile trees to JavaScript (tree-codegen.ts; default true). False keeps every tree on the
   * array walk: the reference the compiled path is tested and benchmarked against.
   */
  compile?: boolean;
  /** Largest tree compiled (default CODEGEN_MAX_TREE_NODES); for benchmarks. */
  maxTreeNodes?: number;
  /**
   * Binned walk (tree-bins.ts): true for every tree not compiled, false for none; by default the
   * trees of BINNED_MIN_TREE_NODES or more (not compiled then), when they are enough to pay for
   * binning the rows (BINNED_MIN_VISITS_PER_FEATURE).
   * Ignored when compile is false. For benchmarks and tests.
   */
  binned?: boolean;
  /**
   * The binned walk's WebAssembly kernel (tree-wasm.ts; default true): false keeps it in
   * JavaScript, an object picks the kernel's layout (benchmarks). The JavaScript walk is also the
   * fallback when WebAssembly or its memory is unavailable.
   */
  wasm?: boolean | WasmKernelOptions;
  /** Bytes of row bins per block on the binned path (default BINNED_BLOCK_BYTES); for benchmarks. */
  blockBytes?: number;
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
  const { feature, left, value, roots } = t;
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
  const sizes = new Int32Array(nTrees);
  for (let k = 0; k < nTrees; k++) sizes[k] = (k + 1 < nTrees ? roots[k + 1]! : feature.length) - roots[k]!;
  // Trees for the binned walk (tree-bins.ts). By default the large ones, when there are enough of
  // them to pay for binning the rows (they are then not compiled: measured faster); binned: true
  // takes every tree that is not compiled instead.
  const useBins = new Uint8Array(nTrees);
  let bf: BinnedForest | null = null;
  if (opts.compile !== false && opts.binned === undefined) {
    let visits = 0;
    for (let k = 0; k < nTrees; k++)
      if (sizes[k]! >= BINNED_MIN_TREE_NODES) {
        useBins[k] = 1;
        visits += Math.log2(sizes[k]!);
      }
    bf = visits > 0 && visits >= BINNED_MIN_VISITS_PER_FEATURE * d ? binForest(t, d) : null;
    if (bf === null) useBins.fill(0);
  }
  // Built after the pure-leaf rewrite above: the compiled leaves carry the same codes.
  const fns = opts.compile === false ? [] : compileForest(t, C, opts.maxTreeNodes, useBins);
  const compiled = fns.some((fn) => fn !== null) ? fns : null;
  if (opts.binned === true) {
    for (let k = 0; k < nTrees; k++) if (compiled === null || compiled[k] === null) useBins[k] = 1;
    bf = binForest(t, d);
    if (bf === null) useBins.fill(0);
  }
  let nBinned = 0;
  for (let k = 0; k < nTrees; k++) nBinned += useBins[k]!;
  if (nBinned === 0) bf = null;
  const allBinned = nBinned === nTrees;
  const bigRows = binnedBlockRows(d, opts.blockBytes);
  // One block is scored at a time: BLOCK_ROWS rows, or bigRows when some trees are binned (then
  // the other trees see the whole block too, so each row still adds its trees in order k: the sums
  // stay bit-identical). With every tree binned, the float rows are only a staging area.
  const blockRows = nBinned > 0 ? bigRows : BLOCK_ROWS;
  const rowsCap = allBinned ? BLOCK_ROWS : blockRows;
  const wk: BinnedWasm | null =
    bf !== null && opts.wasm !== false
      ? buildBinnedWasm(t, bf, d, C, rowsCap, bigRows, typeof opts.wasm === 'object' ? opts.wasm : {})
      : null;
  // With the wasm kernel, rows are staged and leaves added in its memory (block rows from 0), and
  // it keeps its own copy of the nodes: the JavaScript one can go.
  if (wk !== null) bf = null;
  const rows = wk !== null ? wk.rows : new Float64Array(rowsCap * d);
  const bins = bf !== null ? new Uint8Array(bigRows * d) : new Uint8Array(0);
  const leafOf = new Int32Array(bf !== null ? bigRows : 0);

  /** Array walk of rows [0, nb) of `rows` down tree k, adding each leaf to out from row r0 on. */
  const walkRows = (k: number, nb: number, r0: number, out: Float64Array): void => {
    const root = roots[k]!;
    for (let r = 0; r < nb; r++) {
      addLeaf(walkToLeaf(t, root, rows, r * d), (r0 + r) * C, out);
    }
  };
  /** Adds leaf `node`'s class distribution to out[oo ...] (1 to the class of a pure leaf). */
  const addLeaf = (node: number, oo: number, out: Float64Array): void => {
    const vo = left[node]!;
    if (vo < 0) out[oo - vo - 1]! += 1;
    else for (let c = 0; c < C; c++) out[oo + c]! += value[vo + c]!;
  };

  /** One block of rows on the wasm kernel: its `out` collects every tree's leaves, then copied. */
  const wasmBlock = (w: BinnedWasm, x: Float64Array, r0: number, nb: number, out: Float64Array): void => {
    const acc = w.out;
    acc.fill(0, 0, nb * C);
    if (allBinned)
      for (let s0 = 0; s0 < nb; s0 += BLOCK_ROWS) {
        const s1 = Math.min(nb, s0 + BLOCK_ROWS);
        prepareBlock(x, r0 + s0, r0 + s1, d, scaler, rows);
        w.bin(s1 - s0, s0);
      }
    else {
      prepareBlock(x, r0, r0 + nb, d, scaler, rows);
      w.bin(nb, 0);
    }
    for (let k = 0; k < nTrees; k++) {
      if (useBins[k] === 1) {
        w.walk(k, nb);
        continue;
      }
      const fn = compiled === null ? null : compiled[k]!;
      if (fn !== null) fn(rows, nb, d, acc, 0, value);
      else walkRows(k, nb, 0, acc);
    }
    out.set(acc.subarray(0, nb * C), r0 * C);
  };

  return {
    type: 'random_forest',
    features: file.features,
    classes: file.classes,
    predictProba(x: Float64Array, n: number, out: Float64Array): void {
      out.fill(0, 0, n * C);
      for (let r0 = 0; r0 < n; r0 += blockRows) {
        const r1 = Math.min(n, r0 + blockRows);
        const nb = r1 - r0;
        if (wk !== null) {
          wasmBlock(wk, x, r0, nb, out);
          continue;
        }
        if (bf !== null && allBinned)
          for (let s0 = 0; s0 < nb; s0 += BLOCK_ROWS) {
            const s1 = Math.min(nb, s0 + BLOCK_ROWS);
            prepareBlock(x, r0 + s0, r0 + s1, d, scaler, rows);
            binRows(bf, rows, s1 - s0, d, bins, s0);
          }
        else {
          prepareBlock(x, r0, r1, d, scaler, rows);
          if (bf !== null) binRows(bf, rows, nb, d, bins, 0);
        }
        for (let k = 0; k < nTrees; k++) {
          if (bf !== null && useBins[k] === 1) {
            walkBinned(bf.nodes, bins, d, roots[k]!, nb, leafOf);
            for (let r = 0; r < nb; r++) addLeaf(leafOf[r]!, (r0 + r) * C, out);
            continue;
          }
          const fn = compiled === null ? null : compiled[k]!;
          if (fn !== null) fn(rows, nb, d, out, r0 * C, value);
          else walkRows(k, nb, r0, out);
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
