/**
 * Shared pieces of the tree trainers (random forest, gradient boosting, isolation forest): a
 * seeded RNG, quantile binning of features into at most 256 bins (one byte per value), and
 * growable typed arrays. Off the packet path.
 */
import { MlError } from './errors.js';

/**
 * Small fast seeded PRNG (sfc32, seeded through splitmix32). Every tree gets its own stream
 * from (seed, tree index), so results do not depend on how trees are spread over threads.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    let s = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n), n ≤ 2^32 (multiply-shift; bias below 2^-32·n, irrelevant here). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** Number of bins per feature at most (codes are one byte). */
export const MAX_BINS = 256;

/** Rows sampled to place the bin edges (scikit-learn's HistGradientBoosting uses 2e5 too). */
const BIN_SUBSAMPLE = 200_000;

/**
 * Per feature, the split thresholds between consecutive bins: a value v falls in bin
 * `#{edges e : e < v}`, so "bin ≤ b" is exactly "v ≤ edges[b]" and a split found on bins turns
 * into a raw-value threshold that the scorer compares without binning.
 * Edges are midpoints between distinct sample values: every distinct value gets its own bin when
 * there are at most `maxBins`, else bins hold roughly equal counts (quantiles).
 */
export function fitBinEdges(x: Float64Array, n: number, d: number, maxBins: number, seed: number): Float64Array[] {
  const bins = Math.max(2, Math.min(MAX_BINS, maxBins | 0));
  let rows: Int32Array | null = null;
  if (n > BIN_SUBSAMPLE) {
    // Partial Fisher-Yates: a uniform subsample without replacement.
    const rng = new Rng(seed, 0x5eed);
    const perm = new Int32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    for (let i = 0; i < BIN_SUBSAMPLE; i++) {
      const j = i + rng.int(n - i);
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
    rows = perm.subarray(0, BIN_SUBSAMPLE);
  }
  const m = rows === null ? n : rows.length;
  // Transpose first: gathering one column straight from the row-major matrix misses the cache
  // on every value.
  const cols = new Float64Array(m * d);
  for (let i = 0; i < m; i++) {
    const o = (rows === null ? i : rows[i]!) * d;
    for (let f = 0; f < d; f++) {
      const v = x[o + f]!;
      cols[f * m + i] = v === v ? v : 0;
    }
  }
  const out: Float64Array[] = [];
  const uniq = new Float64Array(m);
  const cnt = new Int32Array(m);
  const few = new FewDistinct(bins);
  for (let f = 0; f < d; f++) {
    const col = cols.subarray(f * m, (f + 1) * m);
    // Most flow features (flags, counts, ports of one service) have few distinct values: one
    // hashing pass finds them without sorting the column.
    const small = few.collect(col);
    if (small !== null) {
      const e = new Float64Array(Math.max(0, small.length - 1));
      for (let i = 0; i + 1 < small.length; i++) e[i] = midpoint(small[i]!, small[i + 1]!);
      out.push(e);
      continue;
    }
    col.sort();
    // Distinct values and how many rows hold each.
    let nd = 0;
    for (let i = 0; i < m; i++) {
      if (nd > 0 && col[i] === uniq[nd - 1]) cnt[nd - 1]!++;
      else {
        uniq[nd] = col[i]!;
        cnt[nd] = 1;
        nd++;
      }
    }
    const edges: number[] = [];
    if (nd <= bins) {
      for (let i = 0; i + 1 < nd; i++) edges.push(midpoint(uniq[i]!, uniq[i + 1]!));
    } else {
      // Quantile edges: close a bin after the distinct value where the cumulative count passes
      // the next k/bins mark, so heavy values (e.g. many zeros) get a bin of their own.
      let cum = 0;
      let k = 1;
      for (let i = 0; i + 1 < nd && k < bins; i++) {
        cum += cnt[i]!;
        if (cum >= (k * m) / bins) {
          edges.push(midpoint(uniq[i]!, uniq[i + 1]!));
          while (k < bins && cum >= (k * m) / bins) k++;
        }
      }
    }
    out.push(Float64Array.from(edges));
  }
  return out;
}

/**
 * The distinct values of a column when there are at most `limit` of them (sorted), else null:
 * an open-addressing set keyed by the value's bits, cleared between columns.
 */
class FewDistinct {
  private readonly keys: Float64Array;
  private readonly used: Uint8Array;
  private readonly bits = new Float64Array(1);
  private readonly words = new Uint32Array(this.bits.buffer);
  private readonly mask: number;

  constructor(private readonly limit: number) {
    let size = 4;
    while (size < limit * 4) size *= 2;
    this.keys = new Float64Array(size);
    this.used = new Uint8Array(size);
    this.mask = size - 1;
  }

  collect(col: Float64Array): Float64Array | null {
    const { keys, used, bits, words, mask } = this;
    used.fill(0);
    let count = 0;
    for (let i = 0; i < col.length; i++) {
      const v = col[i]! === 0 ? 0 : col[i]!; // -0 and 0 are one value
      bits[0] = v;
      let h = Math.imul(words[0]! ^ Math.imul(words[1]!, 0x9e3779b1), 0x85ebca6b);
      h = (h ^ (h >>> 15)) & mask;
      while (used[h] === 1 && keys[h] !== v) h = (h + 1) & mask;
      if (used[h] === 1) continue;
      if (++count > this.limit) return null;
      used[h] = 1;
      keys[h] = v;
    }
    const out = new Float64Array(count);
    let k = 0;
    for (let h = 0; h <= mask; h++) if (used[h] === 1) out[k++] = keys[h]!;
    return out.sort();
  }
}

function midpoint(a: number, b: number): number {
  const m = a + (b - a) / 2;
  // a < m ≤ b can fail for huge or adjacent doubles; fall back to a so "≤ edge" keeps a on the left.
  return m > a && m < b ? m : a;
}

/** Bin of v: the number of edges strictly below it (binary search). */
export function binOf(edges: Float64Array, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Codes of n rows, column-major (`codes[f * n + i]`): the split search reads one feature of many
 * rows at a time. `into` may be a view over a SharedArrayBuffer for the worker threads.
 */
export function binColumns(
  x: Float64Array,
  n: number,
  d: number,
  edges: readonly Float64Array[],
  into?: Uint8Array,
): Uint8Array {
  const codes = into ?? new Uint8Array(n * d);
  // Row-major reads, strided byte writes: d output lines stay cached, the input streams once.
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let f = 0; f < d; f++) {
      const v = x[o + f]!;
      codes[f * n + i] = binOf(edges[f]!, v === v ? v : 0);
    }
  }
  return codes;
}

/** Int32 array that doubles when full. */
export class GrowInt32 {
  a: Int32Array;
  length = 0;
  constructor(cap = 1024) {
    this.a = new Int32Array(cap);
  }
  push(v: number): number {
    if (this.length === this.a.length) this.grow(this.length + 1);
    this.a[this.length] = v;
    return this.length++;
  }
  /** Ensure room for `size` entries (contents kept). */
  grow(size: number): void {
    if (size <= this.a.length) return;
    const b = new Int32Array(Math.max(size, this.a.length * 2));
    b.set(this.a);
    this.a = b;
  }
  toArray(): Int32Array {
    return this.a.slice(0, this.length);
  }
}

/** Float64 array that doubles when full. */
export class GrowFloat64 {
  a: Float64Array;
  length = 0;
  constructor(cap = 1024) {
    this.a = new Float64Array(cap);
  }
  push(v: number): number {
    if (this.length === this.a.length) this.grow(this.length + 1);
    this.a[this.length] = v;
    return this.length++;
  }
  grow(size: number): void {
    if (size <= this.a.length) return;
    const b = new Float64Array(Math.max(size, this.a.length * 2));
    b.set(this.a);
    this.a = b;
  }
  toArray(): Float64Array {
    return this.a.slice(0, this.length);
  }
}

/** Read a numeric hyper-parameter, falling back to the default; throws MlError on a wrong type. */
export function numParam(
  params: Record<string, number | string | boolean>,
  defaults: Record<string, number | string | boolean>,
  name: string,
): number {
  const v = params[name] ?? defaults[name];
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || Number.isNaN(n))
    throw new MlError('VIGIL_ML_OPTIONS_INVALID', `parameter ${name} must be a number (got ${String(v)})`);
  return n;
}
