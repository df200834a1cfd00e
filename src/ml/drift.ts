/**
 * Drift: how far the data a model now scores has moved from the data it was trained on, as the
 * population stability index (PSI) of each feature and of the model's score. Training stores a
 * reference in the model file (`training.drift_reference`: decile edges of every feature on a
 * sample of the training rows, the share of rows per bin, and the same for the score); a
 * DriftMonitor bins new rows with those edges and reports PSI = Σ (q − p) · ln(q / p).
 *
 * Reading (the usual credit-scoring rule of thumb): < 0.1 stable, 0.1–0.25 moderate shift,
 * > 0.25 significant shift — retrain or check the sensor.
 */

/** Bins per feature (deciles). */
export const DRIFT_BINS = 10;
/** Training rows sampled for the reference (evenly spaced). */
export const DRIFT_SAMPLE_ROWS = 20_000;
/** Shares are floored at this before the logarithm, so an empty bin does not make PSI infinite. */
const EPS = 1e-4;
export const PSI_MODERATE = 0.1;
export const PSI_SIGNIFICANT = 0.25;

/** One distribution: a value v falls in the first bin i with v ≤ edges[i], else the last bin. */
export interface BinnedDistribution {
  edges: number[];
  p: number[];
}

export interface DriftReference {
  rows: number;
  /** Per model feature (names as the model's features). */
  features: Record<string, BinnedDistribution>;
  /** `attack_probability` (1 − P(benign), or the top class's probability) or `anomaly_score`. */
  score_kind: 'attack_probability' | 'anomaly_score';
  score: BinnedDistribution;
}

export interface DriftReport {
  rows: number;
  /** PSI per feature, largest first (at most `top`). */
  features: { feature: string; psi: number }[];
  score_psi: number | null;
  /** Largest of the feature PSIs and the score PSI, read with the thresholds above. */
  status: 'stable' | 'moderate' | 'significant' | 'no_data';
}

function binOf(edges: readonly number[], v: number): number {
  // Linear: at most DRIFT_BINS - 1 edges.
  for (let i = 0; i < edges.length; i++) if (v <= edges[i]!) return i;
  return edges.length;
}

/** Decile edges of `values` (distinct, ascending) and the share of values per resulting bin. */
export function distribution(values: Float64Array): BinnedDistribution {
  const clean = Float64Array.from(values, (v) => (Number.isFinite(v) ? v : 0)).sort();
  const edges: number[] = [];
  const n = clean.length;
  for (let k = 1; k < DRIFT_BINS && n > 0; k++) {
    const e = clean[Math.min(n - 1, Math.floor((k * n) / DRIFT_BINS))]!;
    if (edges.length === 0 || e > edges[edges.length - 1]!) edges.push(e);
  }
  return { edges, p: shares(edges, clean) };
}

function shares(edges: readonly number[], values: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    counts[binOf(edges, Number.isFinite(v) ? v : 0)]!++;
  }
  const n = values.length;
  return counts.map((c) => (n > 0 ? c / n : 0));
}

/** Fixed score bins over [0, 1] (tenths), so scores of different runs compare bin by bin. */
export function scoreDistribution(scores: Float64Array): BinnedDistribution {
  const edges = Array.from({ length: DRIFT_BINS - 1 }, (_, i) => (i + 1) / DRIFT_BINS);
  return { edges, p: shares(edges, scores) };
}

/** PSI of observed shares `q` against reference shares `p` (same bins). */
export function psi(p: readonly number[], q: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const a = Math.max(EPS, p[i]!);
    const b = Math.max(EPS, q[i] ?? 0);
    s += (b - a) * Math.log(b / a);
  }
  return s;
}

/** A copy of an evenly spaced sample of up to `max` rows of a row-major matrix (all rows when n ≤ max). */
export function sampleRows(
  x: Float64Array,
  n: number,
  d: number,
  max = DRIFT_SAMPLE_ROWS,
): { x: Float64Array; n: number } {
  if (n <= max) return { x: x.slice(0, n * d), n };
  const out = new Float64Array(max * d);
  for (let i = 0; i < max; i++) {
    const r = Math.floor((i * n) / max);
    out.set(x.subarray(r * d, (r + 1) * d), i * d);
  }
  return { x: out, n: max };
}

/** The score a drift reference tracks, per row: attack probability for classifiers, the anomaly score. */
export function driftScores(
  proba: Float64Array | null,
  score: Float64Array | null,
  n: number,
  k: number,
  benign: number,
): Float64Array {
  if (score !== null) return score.subarray(0, n);
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    if (benign >= 0) out[r] = 1 - proba![r * k + benign]!;
    else {
      let m = 0;
      for (let j = 0; j < k; j++) m = Math.max(m, proba![r * k + j]!);
      out[r] = m;
    }
  }
  return out;
}

/** Build the reference from raw rows (model feature order) and their scores. */
export function driftReference(
  x: Float64Array,
  n: number,
  features: readonly string[],
  scores: Float64Array,
  kind: DriftReference['score_kind'],
): DriftReference {
  const d = features.length;
  const col = new Float64Array(n);
  const out: Record<string, BinnedDistribution> = {};
  for (let j = 0; j < d; j++) {
    for (let r = 0; r < n; r++) col[r] = x[r * d + j]!;
    out[features[j]!] = distribution(col);
  }
  return { rows: n, features: out, score_kind: kind, score: scoreDistribution(scores) };
}

/** Check a stored reference (from a model file); null when absent or malformed. */
export function readDriftReference(v: unknown, features: readonly string[]): DriftReference | null {
  const r = v as Partial<DriftReference> | null | undefined;
  if (r === null || r === undefined || typeof r !== 'object' || typeof r.features !== 'object' || r.features === null)
    return null;
  const ok = (b: unknown): b is BinnedDistribution => {
    const x = b as BinnedDistribution | null;
    return (
      x !== null &&
      typeof x === 'object' &&
      Array.isArray(x.edges) &&
      Array.isArray(x.p) &&
      x.p.length === x.edges.length + 1 &&
      x.edges.every((e) => typeof e === 'number') &&
      x.p.every((e) => typeof e === 'number')
    );
  };
  for (const f of features) if (!ok((r.features as Record<string, unknown>)[f])) return null;
  if (!ok(r.score)) return null;
  return r as DriftReference;
}

/** Counts rows per reference bin as they are scored; report() gives the PSIs. */
export class DriftMonitor {
  private readonly counts: Float64Array[];
  private readonly scoreCounts: Float64Array;
  private readonly edges: number[][];
  rows = 0;

  constructor(
    private readonly ref: DriftReference,
    private readonly features: readonly string[],
  ) {
    this.edges = features.map((f) => ref.features[f]!.edges);
    this.counts = this.edges.map((e) => new Float64Array(e.length + 1));
    this.scoreCounts = new Float64Array(ref.score.edges.length + 1);
  }

  /** One raw row (model feature order) and its drift score. */
  add(x: Float64Array, offset: number, score: number): void {
    for (let j = 0; j < this.edges.length; j++) {
      const v = x[offset + j]!;
      this.counts[j]![binOf(this.edges[j]!, Number.isFinite(v) ? v : 0)]!++;
    }
    this.scoreCounts[binOf(this.ref.score.edges, score)]!++;
    this.rows++;
  }

  report(top = 10): DriftReport {
    if (this.rows === 0) return { rows: 0, features: [], score_psi: null, status: 'no_data' };
    const q = (c: Float64Array): number[] => Array.from(c, (v) => v / this.rows);
    const feats = this.features
      .map((f, j) => ({ feature: f, psi: round(psi(this.ref.features[f]!.p, q(this.counts[j]!))) }))
      .sort((a, b) => b.psi - a.psi || (a.feature < b.feature ? -1 : 1));
    const s = round(psi(this.ref.score.p, q(this.scoreCounts)));
    const worst = Math.max(s, feats[0]?.psi ?? 0);
    return {
      rows: this.rows,
      features: feats.slice(0, top),
      score_psi: s,
      status: worst > PSI_SIGNIFICANT ? 'significant' : worst >= PSI_MODERATE ? 'moderate' : 'stable',
    };
  }
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
