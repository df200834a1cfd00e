/**
 * Preprocessing fitted on training rows only (docs/ml.md, "Preprocessing"): row/column subsets,
 * standard and robust scaling (a ScalerSpec the scorer applies at run time), class weights,
 * SMOTE-style oversampling and feature selection.
 */
import type { ScalerSpec } from '../detect/classify/model.js';
import { MlError } from './errors.js';
import { makeRng } from './split.js';
import type { Dataset } from './types.js';

/** A copy of the given rows (all columns). */
export function takeRows(ds: Dataset, rows: Int32Array): Dataset {
  const d = ds.d;
  const x = new Float64Array(rows.length * d);
  const y = new Int32Array(rows.length);
  const ts = ds.ts !== undefined ? new Float64Array(rows.length) : undefined;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    x.set(ds.x.subarray(r * d, r * d + d), i * d);
    y[i] = ds.y[r]!;
    if (ts !== undefined) ts[i] = ds.ts![r]!;
  }
  const out: Dataset = { x, n: rows.length, d, features: ds.features, y, classes: ds.classes };
  if (ts !== undefined) out.ts = ts;
  return out;
}

/** A copy with the given columns, in that order. */
export function takeColumns(ds: Dataset, cols: Int32Array | readonly number[]): Dataset {
  const d = cols.length;
  const x = new Float64Array(ds.n * d);
  for (let r = 0; r < ds.n; r++) {
    const o = r * ds.d;
    for (let j = 0; j < d; j++) x[r * d + j] = ds.x[o + cols[j]!]!;
  }
  const out: Dataset = { ...ds, x, d, features: Array.from(cols, (j) => ds.features[j]!) };
  return out;
}

/**
 * Columns of `ds` holding the given feature names, in the order of `names`. Throws MlError listing
 * the names the data lacks.
 */
export function columnsFor(ds: Dataset, names: readonly string[]): Int32Array {
  const at = new Map(ds.features.map((f, j) => [f, j]));
  const missing = names.filter((n) => !at.has(n));
  if (missing.length > 0)
    throw new MlError(
      'VIGIL_ML_DATA_INVALID',
      `the data lacks ${missing.length} feature(s) the model uses: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}`,
    );
  return Int32Array.from(names, (n) => at.get(n)!);
}

// ---- Scaling -------------------------------------------------------------------------------------

/** Linear-interpolation quantile of sorted values (numpy's default, as scikit-learn's RobustScaler). */
function quantileSorted(v: Float64Array, q: number): number {
  if (v.length === 0) return 0;
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(v.length - 1, lo + 1);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}

/**
 * Fit a scaler on all rows of `ds`: `standard` = mean and population standard deviation
 * (scikit-learn's StandardScaler), `robust` = median and inter-quartile range (RobustScaler with
 * the 25-75 range). A zero scale (a constant column) is stored as 1, so the column becomes 0 - its
 * centre, never a division by zero.
 */
export function fitScaler(ds: Dataset, kind: ScalerSpec['kind']): ScalerSpec {
  const { n, d, x } = ds;
  const center = new Array<number>(d).fill(0);
  const scale = new Array<number>(d).fill(1);
  if (kind === 'standard') {
    for (let j = 0; j < d; j++) {
      // Two passes: mean, then squared deviations (accurate for large values such as byte rates).
      let s = 0;
      for (let r = 0; r < n; r++) s += x[r * d + j]!;
      const mean = n > 0 ? s / n : 0;
      let q = 0;
      for (let r = 0; r < n; r++) {
        const e = x[r * d + j]! - mean;
        q += e * e;
      }
      const sd = n > 0 ? Math.sqrt(q / n) : 0;
      center[j] = mean;
      scale[j] = sd > 0 && Number.isFinite(sd) ? sd : 1;
    }
  } else {
    const col = new Float64Array(n);
    for (let j = 0; j < d; j++) {
      for (let r = 0; r < n; r++) col[r] = x[r * d + j]!;
      col.sort();
      const iqr = quantileSorted(col, 0.75) - quantileSorted(col, 0.25);
      center[j] = quantileSorted(col, 0.5);
      scale[j] = iqr > 0 ? iqr : 1;
    }
  }
  return { kind, center, scale };
}

/** Apply a scaler in place (the same arithmetic as the scorer's prepareRows). */
export function applyScaler(x: Float64Array, n: number, d: number, s: ScalerSpec): void {
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) {
      const sc = s.scale[j]!;
      x[o + j] = (x[o + j]! - s.center[j]!) / (sc === 0 ? 1 : sc);
    }
  }
}

/**
 * Compose two scalers: applying `first` then `second` equals applying the result once
 * ((x - c1) / s1 - c2) / s2 = (x - (c1 + c2 s1)) / (s1 s2). Used when a trainer returns its own
 * scaler for data this pipeline already scaled, since a model file holds one.
 */
export function composeScalers(first: ScalerSpec, second: ScalerSpec): ScalerSpec {
  const s1 = first.scale.map((v) => (v === 0 ? 1 : v));
  const s2 = second.scale.map((v) => (v === 0 ? 1 : v));
  return {
    kind: first.kind,
    center: first.center.map((c, j) => c + second.center[j]! * s1[j]!),
    scale: s1.map((v, j) => v * s2[j]!),
  };
}

// ---- Class imbalance -----------------------------------------------------------------------------

/** Rows per class (length = classes.length). */
export function classCounts(y: Int32Array, k: number): Int32Array {
  const c = new Int32Array(k);
  for (let i = 0; i < y.length; i++) if (y[i]! >= 0) c[y[i]!]!++;
  return c;
}

/**
 * Per-row weights for class balance (scikit-learn's class_weight='balanced'):
 * w(c) = n / (classes present x rows of c), so every class carries the same total weight.
 */
export function balancedWeights(y: Int32Array, k: number): Float64Array {
  const counts = classCounts(y, k);
  let present = 0;
  let n = 0;
  for (let c = 0; c < k; c++) {
    if (counts[c]! > 0) present++;
    n += counts[c]!;
  }
  const w = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const c = y[i]!;
    w[i] = c >= 0 ? n / (present * counts[c]!) : 0;
  }
  return w;
}

/** SMOTE neighbours per seed row. */
export const SMOTE_K = 5;
/** Candidate neighbours searched per class at most (a random sample of a large class), bounding the O(m^2) search. */
export const SMOTE_POOL = 4000;
/** Bytes the oversampled matrix may take; beyond it every class's synthetic count is scaled down. */
export const SMOTE_MAX_BYTES = 512 * 1024 * 1024;

export interface SmoteResult {
  ds: Dataset;
  /** Synthetic rows added per class. */
  added: Record<string, number>;
}

/**
 * SMOTE (Chawla et al. 2002, as imbalanced-learn's default `not majority` strategy): every class
 * smaller than the largest is grown to its size with synthetic rows, each on the segment between
 * a random row of the class and one of its SMOTE_K nearest neighbours in the class (Euclidean, so
 * run it on scaled data). A one-row class is duplicated. When the result would exceed
 * SMOTE_MAX_BYTES, all synthetic counts are scaled down by the same factor. Seeded.
 */
export function smote(ds: Dataset, seed: number): SmoteResult {
  const { d, x } = ds;
  const k = ds.classes.length;
  const counts = classCounts(ds.y, k);
  let major = 0;
  for (let c = 0; c < k; c++) if (counts[c]! > major) major = counts[c]!;
  const want = new Float64Array(k);
  let extra = 0;
  for (let c = 0; c < k; c++) {
    if (counts[c]! > 0 && counts[c]! < major) want[c] = major - counts[c]!;
    extra += want[c]!;
  }
  const maxRows = Math.floor(SMOTE_MAX_BYTES / (8 * Math.max(1, d)));
  if (ds.n + extra > maxRows) {
    const f = Math.max(0, maxRows - ds.n) / extra;
    for (let c = 0; c < k; c++) want[c] = Math.floor(want[c]! * f);
  }
  let total = 0;
  for (let c = 0; c < k; c++) total += want[c]!;
  const n2 = ds.n + total;
  const nx = new Float64Array(n2 * d);
  nx.set(x.subarray(0, ds.n * d));
  const ny = new Int32Array(n2);
  ny.set(ds.y.subarray(0, ds.n));
  const rnd = makeRng(seed);
  const added: Record<string, number> = {};
  let o = ds.n;
  const rowsOf: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < ds.n; i++) if (ds.y[i]! >= 0) rowsOf[ds.y[i]!]!.push(i);
  for (let c = 0; c < k; c++) {
    const g = want[c]!;
    if (g === 0) continue;
    added[ds.classes[c]!] = g;
    const rows = rowsOf[c]!;
    const m = rows.length;
    // Neighbour candidates: the whole class, or a random sample of SMOTE_POOL rows.
    let pool = rows;
    if (m > SMOTE_POOL) {
      const a = rows.slice();
      for (let i = 0; i < SMOTE_POOL; i++) {
        const j = i + Math.floor(rnd() * (a.length - i));
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
      }
      pool = a.slice(0, SMOTE_POOL);
    }
    const kk = Math.min(SMOTE_K, pool.length - 1);
    const cache = new Map<number, Int32Array>();
    const dist = new Float64Array(pool.length);
    const order = new Int32Array(pool.length);
    for (let s = 0; s < g; s++, o++) {
      const i = rows[Math.floor(rnd() * m)]!;
      ny[o] = c;
      const xi = i * d;
      if (kk <= 0) {
        nx.set(x.subarray(xi, xi + d), o * d);
        continue;
      }
      let nb = cache.get(i);
      if (nb === undefined) {
        for (let p = 0; p < pool.length; p++) {
          const q = pool[p]! * d;
          let s2 = 0;
          for (let j = 0; j < d; j++) {
            const e = x[xi + j]! - x[q + j]!;
            s2 += e * e;
          }
          // The row itself (distance 0 at its own index) is excluded below.
          dist[p] = pool[p] === i ? Infinity : s2;
          order[p] = p;
        }
        order.sort((a, b) => dist[a]! - dist[b]! || a - b);
        nb = Int32Array.from(order.subarray(0, kk), (p) => pool[p]!);
        cache.set(i, nb);
      }
      const q = nb[Math.floor(rnd() * nb.length)]! * d;
      const gap = rnd();
      const w = o * d;
      for (let j = 0; j < d; j++) nx[w + j] = x[xi + j]! + gap * (x[q + j]! - x[xi + j]!);
    }
  }
  return { ds: { x: nx, n: n2, d, features: ds.features, y: ny, classes: ds.classes }, added };
}

// ---- Feature selection ---------------------------------------------------------------------------

/** Equal-frequency bins per feature for mutual information. */
export const MI_BINS = 16;

/** Columns whose value is the same in every row (nothing to learn from them). */
export function constantColumns(ds: Dataset): number[] {
  const out: number[] = [];
  for (let j = 0; j < ds.d; j++) {
    const v0 = ds.x[j]!;
    let same = true;
    for (let r = 1; r < ds.n && same; r++) same = ds.x[r * ds.d + j] === v0;
    if (same) out.push(j);
  }
  return out;
}

/**
 * Mutual information (nats) between each feature and the class: the feature is cut into at most
 * MI_BINS equal-frequency bins (cut points from its sorted values; tied values share a bin), then
 * I = sum p(b,c) ln(p(b,c) / (p(b) p(c))).
 */
export function mutualInformation(ds: Dataset): Float64Array {
  const { n, d, x, y } = ds;
  const k = ds.classes.length;
  const out = new Float64Array(d);
  const col = new Float64Array(n);
  const pc = classCounts(y, k);
  let labeled = 0;
  for (let c = 0; c < k; c++) labeled += pc[c]!;
  if (labeled === 0) return out;
  const joint = new Float64Array(MI_BINS * k);
  const cuts = new Float64Array(MI_BINS - 1);
  for (let j = 0; j < d; j++) {
    for (let r = 0; r < n; r++) col[r] = x[r * d + j]!;
    const s = col.slice().sort();
    for (let b = 0; b < MI_BINS - 1; b++) cuts[b] = s[Math.min(n - 1, Math.floor(((b + 1) * n) / MI_BINS))]!;
    joint.fill(0);
    for (let r = 0; r < n; r++) {
      const c = y[r]!;
      if (c < 0) continue;
      const v = col[r]!;
      // Bin = number of cut points <= v (binary search; at most MI_BINS - 1).
      let lo = 0;
      let hi = MI_BINS - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (v < cuts[mid]!) hi = mid;
        else lo = mid + 1;
      }
      joint[lo * k + c]!++;
    }
    let mi = 0;
    for (let b = 0; b < MI_BINS; b++) {
      let pb = 0;
      for (let c = 0; c < k; c++) pb += joint[b * k + c]!;
      if (pb === 0) continue;
      for (let c = 0; c < k; c++) {
        const pj = joint[b * k + c]!;
        if (pj > 0) mi += (pj / labeled) * Math.log((pj * labeled) / (pb * pc[c]!));
      }
    }
    out[j] = mi;
  }
  return out;
}

export interface FeatureSelection {
  /** Kept columns, in data order. */
  columns: number[];
  /** `excluded`: named by the caller (`--exclude-features`). */
  dropped: { constant: string[]; lowScore: string[]; excluded?: string[] };
  /** Mutual information of each kept column (when top-k ran). */
  scores?: Record<string, number>;
}

/**
 * Choose feature columns on training rows: drop constant columns (when `dropConstant`), then keep
 * the `topK` with the highest mutual information with the class (ties by column order).
 */
export function selectFeatures(
  ds: Dataset,
  opts: { dropConstant: boolean; topK?: number; exclude?: readonly string[] },
): FeatureSelection {
  const constant = new Set(opts.dropConstant ? constantColumns(ds) : []);
  const excluded = new Set((opts.exclude ?? []).map((f) => f.trim().toLowerCase()));
  let cols: number[] = [];
  const byUser: string[] = [];
  for (let j = 0; j < ds.d; j++) {
    if (excluded.has(ds.features[j]!.toLowerCase())) byUser.push(ds.features[j]!);
    else if (!constant.has(j)) cols.push(j);
  }
  const sel: FeatureSelection = {
    columns: cols,
    dropped: { constant: [...constant].map((j) => ds.features[j]!), lowScore: [] },
  };
  if (byUser.length > 0) sel.dropped.excluded = byUser;
  if (opts.topK !== undefined && opts.topK > 0 && opts.topK < cols.length) {
    const mi = mutualInformation(ds);
    const ranked = cols.slice().sort((a, b) => mi[b]! - mi[a]! || a - b);
    const keep = new Set(ranked.slice(0, opts.topK));
    sel.dropped.lowScore = cols.filter((j) => !keep.has(j)).map((j) => ds.features[j]!);
    cols = cols.filter((j) => keep.has(j));
    sel.columns = cols;
    sel.scores = Object.fromEntries(cols.map((j) => [ds.features[j]!, Math.round(mi[j]! * 1e6) / 1e6]));
  }
  if (sel.columns.length === 0)
    throw new MlError('VIGIL_ML_DATA_INVALID', 'every feature is constant in the training data');
  return sel;
}
