/**
 * Random forest trainer (Breiman 2001, as scikit-learn's RandomForestClassifier): CART trees on
 * Gini impurity, each grown on a bootstrap sample with `sqrt(d)` candidate features per node,
 * fully grown by default; class probabilities are the mean of the leaves' weighted class
 * distributions. Splits are searched on features binned into ≤ 256 quantile bins (one byte per
 * value, one histogram pass per candidate feature instead of a sort), and the chosen bin edge
 * becomes a raw-value threshold, so scoring (src/detect/classify/random-forest.ts) needs no bins.
 * Trees are built on worker threads (tree-pool.ts). Hyper-parameters and the serialized form are
 * documented in docs/ml-models.md.
 */
import type { Dataset, TrainOptions, Trainer, TrainerEntry } from './types.js';
import { MlError } from './errors.js';
import { GrowFloat64, GrowInt32, Rng, binColumns, fitBinEdges, numParam } from './tree-common.js';
import { runTreeTasks, shared, threadCount } from './tree-pool.js';

export const RANDOM_FOREST_DEFAULTS: Record<string, number | string | boolean> = {
  /** Number of trees (scikit-learn: n_estimators=100). */
  trees: 100,
  /** Maximum depth; 0 = unlimited (grown until pure or too small, as scikit-learn's default). */
  maxDepth: 0,
  /** A node needs at least this many distinct rows to be split. */
  minSamplesSplit: 2,
  /** Each child keeps at least this many distinct rows. */
  minSamplesLeaf: 1,
  /** Candidate features per node: "sqrt", "log2", "all", a fraction in (0, 1] or a count. */
  maxFeatures: 'sqrt',
  /** Draw each tree's rows with replacement (n draws); false = every tree sees all rows. */
  bootstrap: true,
  /** Quantile bins per feature (≤ 256). */
  maxBins: 256,
  /** Worker threads; 0 = one per core when the data is large enough to gain, 1 = the calling thread. */
  threads: 0,
};

/** Training data as the tree builder sees it (shared with worker threads). */
export interface ForestData {
  /** Column-major bin codes: `codes[f * n + i]`. */
  codes: Uint8Array;
  y: Int32Array;
  /** Per-row sample weights, or null for 1. */
  sw: Float64Array | null;
  n: number;
  d: number;
  nClasses: number;
}

export interface ForestHyper {
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  maxFeatures: number;
  bootstrap: boolean;
  seed: number;
}

/** One tree in flat arrays. Internal node: feature ≥ 0, children at left and left + 1. */
export interface BuiltForestTree {
  feature: Int32Array;
  /** Split bin of internal nodes (the threshold is the feature's edge at that bin). */
  bin: Int32Array;
  /** Internal node: left child; leaf: offset of its class distribution in `value`. */
  left: Int32Array;
  /** Leaf class distributions, `nClasses` values each; rows 0..C-1 are the one-hot (pure) leaves. */
  value: Float64Array;
}

/** Bins used by a node at most this many: insertion-sort them rather than walk all 256 bins. */
const SORT_TOUCHED = 48;

/**
 * Builds trees one after another with scratch memory reused between them. Nodes are grown
 * depth-first from an explicit stack over a row index array partitioned in place; the class and
 * weight of each row travel with its index so the split search reads only the feature codes.
 */
export class ForestTreeBuilder {
  private readonly idx: Int32Array;
  private readonly ys: Int32Array;
  private readonly ws: Float64Array;
  private readonly counts: Int32Array;
  private readonly hist: Float64Array;
  private readonly cnt: Int32Array;
  private readonly touched: Int32Array;
  private readonly fperm: Int32Array;
  private readonly fpos: Int32Array;
  private readonly leftW: Float64Array;
  private readonly bestLeft: Float64Array;
  /** Spare row arrays for the stable partition. */
  private readonly spIdx: Int32Array;
  private readonly spY: Int32Array;
  private readonly spW: Float64Array;
  /** Class weight totals of all nodes (C per node) of the tree being built. */
  private tot: Float64Array = new Float64Array(0);
  /** Best split of the node being split so far, and Σ (class total)² of that node. */
  private bestScore = -Infinity;
  private bestF = -1;
  private bestB = 0;
  private sumSq = 0;
  private minLeaf = 1;

  constructor(
    private readonly data: ForestData,
    private readonly hyper: ForestHyper,
  ) {
    const { n, d, nClasses } = data;
    this.idx = new Int32Array(n);
    this.ys = new Int32Array(n);
    this.ws = new Float64Array(n);
    this.spIdx = new Int32Array(n);
    this.spY = new Int32Array(n);
    this.spW = new Float64Array(n);
    this.counts = new Int32Array(n);
    this.hist = new Float64Array(256 * nClasses);
    this.cnt = new Int32Array(256);
    this.touched = new Int32Array(256);
    this.fperm = new Int32Array(d);
    this.fpos = new Int32Array(d);
    for (let f = 0; f < d; f++) this.fperm[f] = this.fpos[f] = f;
    this.leftW = new Float64Array(nClasses);
    this.bestLeft = new Float64Array(nClasses);
  }

  build(treeIndex: number): BuiltForestTree {
    const { codes, y, sw, n, d, nClasses: C } = this.data;
    const h = this.hyper;
    const rng = new Rng(h.seed, treeIndex);
    const { idx, ys, ws, counts, fperm, fpos, bestLeft } = this;

    // Each tree starts from the same feature order, so it depends on (seed, tree) only, not on
    // which trees this builder (thread) built before.
    for (let f = 0; f < d; f++) fperm[f] = fpos[f] = f;
    counts.fill(h.bootstrap ? 0 : 1);
    if (h.bootstrap) for (let i = 0; i < n; i++) counts[rng.int(n)]!++;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const c = counts[i]!;
      if (c === 0) continue;
      const w = sw === null ? c : c * sw[i]!;
      if (!(w > 0)) continue;
      idx[m] = i;
      ys[m] = y[i]!;
      ws[m] = w;
      m++;
    }

    const feature = new GrowInt32();
    const bin = new GrowInt32();
    const left = new GrowInt32();
    const value = new GrowFloat64(C * C + 64);
    for (let c = 0; c < C; c++) for (let k = 0; k < C; k++) value.push(c === k ? 1 : 0);
    const tot = new GrowFloat64(64 * C); // class weight totals per node
    // (start, end, depth, node, constOff, constCnt): the node's rows and the features known to be
    // constant in it (a run of `constPool`), which its subtree never examines again.
    const stack = new GrowInt32(384);
    const constPool = new GrowInt32(Math.max(64, d));

    const newNode = (): number => {
      feature.push(-1);
      bin.push(0);
      left.push(0);
      tot.grow((feature.length + 1) * C);
      return feature.length - 1;
    };
    const root = newNode();
    for (let i = 0; i < m; i++) tot.a[root * C + ys[i]!]! += ws[i]!;
    stack.push(0);
    stack.push(m);
    stack.push(0);
    stack.push(root);
    stack.push(0);
    stack.push(0);

    const maxDepth = h.maxDepth > 0 ? h.maxDepth : Number.MAX_SAFE_INTEGER;
    const minLeaf = Math.max(1, h.minSamplesLeaf);
    this.minLeaf = minLeaf;
    const minSplit = Math.max(2, h.minSamplesSplit, 2 * minLeaf);
    const mtry = Math.max(1, Math.min(d, h.maxFeatures));

    while (stack.length > 0) {
      const constCnt = stack.a[--stack.length]!;
      const constOff = stack.a[--stack.length]!;
      const node = stack.a[--stack.length]!;
      const depth = stack.a[--stack.length]!;
      const e = stack.a[--stack.length]!;
      const s = stack.a[--stack.length]!;
      const tb = node * C;
      const T = tot.a;
      this.tot = T;
      let W = 0;
      let present = 0;
      let only = 0;
      for (let c = 0; c < C; c++) {
        const t = T[tb + c]!;
        W += t;
        if (t > 0) {
          present++;
          only = c;
        }
      }
      const nRows = e - s;
      let bestF = -1;
      let bestB = 0;
      // Runs of constPool past this node's list belong to finished subtrees (depth-first order).
      constPool.length = constOff + constCnt;
      let nConst = constCnt;
      if (depth < maxDepth && nRows >= minSplit && present > 1) {
        this.bestScore = -Infinity;
        this.bestF = -1;
        this.sumSq = 0;
        for (let c = 0; c < C; c++) this.sumSq += T[tb + c]! * T[tb + c]!;
        let visited = 0;
        // Known constants to the front of fperm; candidates are drawn from the rest.
        for (let q = 0; q < constCnt; q++) {
          const f = constPool.a[constOff + q]!;
          const pf = fpos[f]!;
          const g = fperm[q]!;
          fperm[pf] = g;
          fpos[g] = pf;
          fperm[q] = f;
          fpos[f] = q;
        }
        for (let k = constCnt; k < d && visited < mtry; k++) {
          // Partial Fisher-Yates: draw candidate features without replacement; features constant
          // in this node do not count towards mtry (as in scikit-learn).
          const j = k + rng.int(d - k);
          const f = fperm[j]!;
          const g = fperm[k]!;
          fperm[j] = g;
          fpos[g] = j;
          fperm[k] = f;
          fpos[f] = k;
          if (this.evalFeature(f, s, e, tb, W)) {
            constPool.push(f);
            nConst++;
          } else visited++;
        }
        bestF = this.bestF;
        bestB = this.bestB;
      }
      if (bestF < 0) {
        // Leaf: pure leaves share the one-hot rows; others store their normalised distribution.
        if (present <= 1) left.a[node] = only * C;
        else {
          left.a[node] = value.length;
          for (let c = 0; c < C; c++) value.push(T[tb + c]! / W);
        }
        continue;
      }
      // Partition rows, stably: bin ≤ bestB to the left (in place), the rest through the spare
      // arrays; children's totals summed exactly on the way. Stable keeps every node's rows in
      // ascending order, so the split search reads each feature column front to back (consecutive
      // rows share cache lines, the prefetcher follows): split search -21 % CPU against swapping
      // from both ends (10 synthetic trees, one thread), with the same trees (the histograms are
      // the same sums).
      const col = bestF * n;
      const { spIdx, spY, spW } = this;
      let i = s;
      let nr = 0;
      bestLeft.fill(0);
      for (let q = s; q < e; q++) {
        const row = idx[q]!;
        const yq = ys[q]!;
        const wq = ws[q]!;
        if (codes[col + row]! <= bestB) {
          bestLeft[yq]! += wq;
          idx[i] = row;
          ys[i] = yq;
          ws[i] = wq;
          i++;
        } else {
          spIdx[nr] = row;
          spY[nr] = yq;
          spW[nr] = wq;
          nr++;
        }
      }
      idx.set(spIdx.subarray(0, nr), i);
      ys.set(spY.subarray(0, nr), i);
      ws.set(spW.subarray(0, nr), i);
      const l = newNode();
      const r = newNode();
      feature.a[node] = bestF;
      bin.a[node] = bestB;
      left.a[node] = l;
      const T2 = tot.a;
      for (let c = 0; c < C; c++) T2[l * C + c] = bestLeft[c]!;
      for (let q = i; q < e; q++) T2[r * C + ys[q]!]! += ws[q]!;
      stack.push(i);
      stack.push(e);
      stack.push(depth + 1);
      stack.push(r);
      stack.push(constOff);
      stack.push(nConst);
      stack.push(s);
      stack.push(i);
      stack.push(depth + 1);
      stack.push(l);
      stack.push(constOff);
      stack.push(nConst);
    }
    return { feature: feature.toArray(), bin: bin.toArray(), left: left.toArray(), value: value.toArray() };
  }

  /**
   * Best Gini split of rows [s, e) on feature f (node totals at `tb` of `tot`, weight W), kept in
   * bestScore/bestF/bestB when it beats them. Returns true when f is constant in the node.
   */
  private evalFeature(f: number, s: number, e: number, tb: number, W: number): boolean {
    const { codes, n, nClasses: C } = this.data;
    const { idx, ys, ws, hist, cnt, touched, leftW } = this;
    const T = this.tot;
    const minLeaf = this.minLeaf;
    const nRows = e - s;
    const col = f * n;
    // Histogram of the node's rows over this feature's bins; `touched` lists the bins used, so
    // deep nodes with few rows never walk all 256 bins.
    let nt = 0;
    for (let i = s; i < e; i++) {
      const b = codes[col + idx[i]!]!;
      if (cnt[b]!++ === 0) touched[nt++] = b;
      hist[b * C + ys[i]!]! += ws[i]!;
    }
    if (nt === 1) {
      const b = touched[0]!;
      for (let c = 0; c < C; c++) hist[b * C + c] = 0;
      cnt[b] = 0;
      return true;
    }
    if (nt <= SORT_TOUCHED) {
      for (let q = 1; q < nt; q++) {
        const v = touched[q]!;
        let r = q - 1;
        while (r >= 0 && touched[r]! > v) {
          touched[r + 1] = touched[r]!;
          r--;
        }
        touched[r + 1] = v;
      }
    } else {
      let lo = 255;
      let hi = 0;
      for (let q = 0; q < nt; q++) {
        const v = touched[q]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      let k = 0;
      for (let b = lo; b <= hi; b++) if (cnt[b]! > 0) touched[k++] = b;
    }
    // Gini: minimising W_L·G_L + W_R·G_R is maximising Σ L_c²/W_L + Σ R_c²/W_R. Both sums are
    // updated for the classes a bin holds only (most bins of a deep node hold one or two).
    leftW.fill(0);
    let WL = 0;
    let nl = 0;
    let sl = 0;
    let sr = this.sumSq;
    for (let q = 0; q + 1 < nt; q++) {
      const b = touched[q]!;
      nl += cnt[b]!;
      const hb = b * C;
      for (let c = 0; c < C; c++) {
        const v = hist[hb + c]!;
        if (v === 0) continue;
        const l = leftW[c]!;
        sl += v * (2 * l + v);
        sr += v * (v - 2 * (T[tb + c]! - l));
        leftW[c] = l + v;
        WL += v;
      }
      if (nl < minLeaf) continue;
      if (nRows - nl < minLeaf) break;
      const WR = W - WL;
      if (!(WL > 0 && WR > 0)) continue;
      const score = sl / WL + sr / WR;
      if (score > this.bestScore) {
        this.bestScore = score;
        this.bestF = f;
        this.bestB = b;
      }
    }
    for (let q = 0; q < nt; q++) {
      const b = touched[q]!;
      cnt[b] = 0;
      for (let c = 0; c < C; c++) hist[b * C + c] = 0;
    }
    return false;
  }
}

/** Candidate features per node from the `maxFeatures` parameter. */
export function resolveMaxFeatures(v: number | string | boolean, d: number): number {
  if (v === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(d)));
  if (v === 'log2') return Math.max(1, Math.floor(Math.log2(d)));
  if (v === 'all' || v === true) return d;
  const x = typeof v === 'string' ? Number(v) : v;
  if (typeof x !== 'number' || !(x > 0))
    throw new MlError(
      'VIGIL_ML_OPTIONS_INVALID',
      `maxFeatures must be sqrt, log2, all, a fraction or a count (got ${String(v)})`,
    );
  return x <= 1 && !Number.isInteger(x) ? Math.max(1, Math.floor(x * d)) : Math.min(d, Math.floor(x));
}

/** Rows with a label, as (x, y, weights) of the labeled subset. */
export function labeledRows(
  ds: Dataset,
  weights: Float64Array | undefined,
): { x: Float64Array; y: Int32Array; sw: Float64Array | null; n: number } {
  let n = 0;
  for (let i = 0; i < ds.n; i++) if (ds.y[i]! >= 0) n++;
  if (n === ds.n) return { x: ds.x, y: ds.y, sw: weights ?? null, n };
  const x = new Float64Array(n * ds.d);
  const y = new Int32Array(n);
  const sw = weights === undefined ? null : new Float64Array(n);
  let k = 0;
  for (let i = 0; i < ds.n; i++) {
    if (ds.y[i]! < 0) continue;
    x.set(ds.x.subarray(i * ds.d, (i + 1) * ds.d), k * ds.d);
    y[k] = ds.y[i]!;
    if (sw !== null) sw[k] = weights![i]!;
    k++;
  }
  return { x, y, sw, n };
}

/** Rows × trees below which a worker's start-up and warm-up cost more than it saves. */
const PARALLEL_MIN_WORK = 2_000_000;

export const trainRandomForest: Trainer = async (ds: Dataset, opts: TrainOptions) => {
  const p = opts.params;
  const D = RANDOM_FOREST_DEFAULTS;
  const trees = Math.floor(numParam(p, D, 'trees'));
  if (!(trees >= 1)) throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'trees must be at least 1');
  const { x, y, sw, n } = labeledRows(ds, opts.weights);
  if (n === 0) throw new MlError('VIGIL_ML_DATA_INVALID', 'random forest needs labeled rows');
  const d = ds.d;
  const nClasses = ds.classes.length;
  const hyper: ForestHyper = {
    maxDepth: Math.floor(numParam(p, D, 'maxDepth')),
    minSamplesSplit: Math.floor(numParam(p, D, 'minSamplesSplit')),
    minSamplesLeaf: Math.floor(numParam(p, D, 'minSamplesLeaf')),
    maxFeatures: resolveMaxFeatures(p['maxFeatures'] ?? D['maxFeatures']!, d),
    bootstrap: (p['bootstrap'] ?? D['bootstrap']) !== false && p['bootstrap'] !== 'false',
    seed: opts.seed >>> 0,
  };
  const edges = fitBinEdges(x, n, d, numParam(p, D, 'maxBins'), opts.seed);
  const asked = numParam(p, D, 'threads');
  const threads = Math.min(trees, threadCount(asked));
  // Automatic: workers only when the work outweighs their start-up; an explicit count is obeyed.
  const parallel = threads > 1 && (asked > 0 || n * trees >= PARALLEL_MIN_WORK);

  let built: BuiltForestTree[];
  if (parallel) {
    const data: ForestData = {
      codes: binColumns(x, n, d, edges, new Uint8Array(new SharedArrayBuffer(n * d))),
      y: shared(y),
      sw: sw === null ? null : shared(sw),
      n,
      d,
      nClasses,
    };
    const local = new ForestTreeBuilder(data, hyper);
    const res = await runTreeTasks(
      { kind: 'random_forest', data, hyper },
      trees,
      threads,
      (t) => ({ task: t, ...local.build(t) }),
      (k) => opts.onProgress?.(k / trees),
    );
    built = res.map((r) => r as unknown as BuiltForestTree);
  } else {
    const builder = new ForestTreeBuilder({ codes: binColumns(x, n, d, edges), y, sw, n, d, nClasses }, hyper);
    built = [];
    for (let t = 0; t < trees; t++) {
      built.push(builder.build(t));
      opts.onProgress?.((t + 1) / trees);
      // Let progress output and signals through between trees.
      if ((t & 7) === 7) await new Promise<void>((r) => setImmediate(r));
    }
  }
  return {
    type: 'random_forest',
    params: {
      nClasses,
      trees: built.map((t) => serializeForestTree(t, edges)),
    },
  };
};

/** A built tree as the JSON the scorer reads (thresholds are the raw-value bin edges). */
function serializeForestTree(t: BuiltForestTree, edges: readonly Float64Array[]): ForestTreeJson {
  const nn = t.feature.length;
  const threshold = new Array<number>(nn);
  for (let i = 0; i < nn; i++) {
    const f = t.feature[i]!;
    threshold[i] = f < 0 ? 0 : edges[f]![t.bin[i]!]!;
  }
  return { feature: Array.from(t.feature), threshold, left: Array.from(t.left), value: Array.from(t.value) };
}

/** Serialized tree (params.trees[k]); see docs/ml-models.md. */
export interface ForestTreeJson {
  feature: number[];
  threshold: number[];
  left: number[];
  value: number[];
}

export const RANDOM_FOREST_TRAINER: TrainerEntry = {
  type: 'random_forest',
  supervised: true,
  train: trainRandomForest,
  defaults: RANDOM_FOREST_DEFAULTS,
};
