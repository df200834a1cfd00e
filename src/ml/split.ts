/**
 * Train/test splits (docs/ml.md, "Splits"): seeded stratified hold-out, time-aware hold-out and
 * stratified k-fold. All return row indices (sorted ascending, so a subset keeps the data's order)
 * and are reproducible from the seed.
 */
import { MlError } from './errors.js';

/** A seeded PRNG (mulberry32): uniform in [0, 1). Same seed, same sequence, on every platform. */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle in place. */
export function shuffle(a: Int32Array, rnd: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

export interface Split {
  train: Int32Array;
  test: Int32Array;
}

/** Rows of each class (labels < 0, unlabeled, are left out). */
function rowsByClass(y: Int32Array): Int32Array[] {
  let k = 0;
  for (let i = 0; i < y.length; i++) if (y[i]! + 1 > k) k = y[i]! + 1;
  const counts = new Int32Array(k);
  for (let i = 0; i < y.length; i++) if (y[i]! >= 0) counts[y[i]!]!++;
  const out = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(k);
  for (let i = 0; i < y.length; i++) {
    const c = y[i]!;
    if (c >= 0) out[c]![fill[c]!++] = i;
  }
  return out;
}

function sorted(parts: Int32Array[]): Int32Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Int32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out.sort();
}

function checkFraction(testSize: number): void {
  if (!(testSize > 0 && testSize < 1))
    throw new MlError('VIGIL_ML_OPTIONS_INVALID', `test size must be between 0 and 1 (exclusive), got ${testSize}`);
}

/**
 * Stratified hold-out: each class contributes round(count x testSize) of its rows, chosen at
 * random, to the test set, at least one and never all when it has two rows or more (so every class
 * with two rows is both trained on and tested); a class with one row goes to training.
 */
export function stratifiedSplit(y: Int32Array, testSize: number, seed: number): Split {
  checkFraction(testSize);
  const rnd = makeRng(seed);
  const train: Int32Array[] = [];
  const test: Int32Array[] = [];
  for (const rows of rowsByClass(y)) {
    const c = rows.length;
    if (c === 0) continue;
    shuffle(rows, rnd);
    let t = Math.round(c * testSize);
    if (c >= 2) t = Math.min(c - 1, Math.max(1, t));
    else t = 0;
    test.push(rows.subarray(0, t));
    train.push(rows.subarray(t));
  }
  return { train: sorted(train), test: sorted(test) };
}

/**
 * Time-aware hold-out: rows ordered by capture time (ties by row order), the last testSize of them
 * are the test set, so a model is measured on traffic later than any it learned from. Unlabeled
 * rows are left out.
 */
export function timeSplit(y: Int32Array, ts: Float64Array, testSize: number): Split {
  checkFraction(testSize);
  let n = 0;
  for (let i = 0; i < y.length; i++) if (y[i]! >= 0) n++;
  const idx = new Int32Array(n);
  n = 0;
  for (let i = 0; i < y.length; i++) if (y[i]! >= 0) idx[n++] = i;
  for (let i = 0; i < idx.length; i++) {
    if (!Number.isFinite(ts[idx[i]!]!))
      throw new MlError(
        'VIGIL_ML_DATA_INVALID',
        `row ${idx[i]!} has no timestamp: a time-aware split needs one on every row`,
      );
  }
  const order = Array.from(idx).sort((a, b) => ts[a]! - ts[b]! || a - b);
  const t = Math.max(1, Math.min(n - 1, Math.round(n * testSize)));
  return { train: Int32Array.from(order.slice(0, n - t)).sort(), test: Int32Array.from(order.slice(n - t)).sort() };
}

/**
 * Stratified k-fold: each class's rows are shuffled and dealt round-robin to the folds, starting
 * where the previous class stopped, so fold sizes differ by one row at most and each class is spread
 * as evenly as its count allows. Fold f's test rows are its own; its training rows are all others.
 */
export function stratifiedKFold(y: Int32Array, k: number, seed: number): Split[] {
  if (!Number.isInteger(k) || k < 2)
    throw new MlError('VIGIL_ML_OPTIONS_INVALID', `k-fold needs k >= 2 folds, got ${k}`);
  const rnd = makeRng(seed);
  const fold = new Int32Array(y.length).fill(-1);
  let next = 0;
  for (const rows of rowsByClass(y)) {
    shuffle(rows, rnd);
    for (let i = 0; i < rows.length; i++) {
      fold[rows[i]!] = next;
      next = (next + 1) % k;
    }
  }
  const out: Split[] = [];
  for (let f = 0; f < k; f++) {
    let nt = 0;
    let nr = 0;
    for (let i = 0; i < fold.length; i++) {
      if (fold[i] === f) nt++;
      else if (fold[i]! >= 0) nr++;
    }
    const test = new Int32Array(nt);
    const train = new Int32Array(nr);
    nt = 0;
    nr = 0;
    for (let i = 0; i < fold.length; i++) {
      if (fold[i] === f) test[nt++] = i;
      else if (fold[i]! >= 0) train[nr++] = i;
    }
    out.push({ train, test });
  }
  return out;
}
