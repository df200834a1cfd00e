/**
 * Training samples as the server stores them (docs/server.md, "Training"): one flow feature vector
 * in FEATURE_NAMES order per sample, a free-text label (or none), a source. This module turns
 * samples into a training Dataset and CSV imports into sample vectors, and decides whether the
 * labeled samples are enough to train a model type.
 *
 * - The feature-set id names the feature list a vector follows (a hash of FEATURE_NAMES), so
 *   vectors written before the list changes are never mixed with newer ones.
 * - Labels are free text (1..64 characters, no control characters), trimmed; every benign spelling
 *   (`BENIGN`, `normal`, ...) is stored as `benign`, so a CSV import and a manual label agree.
 *   A label maps to the Vigil alert type a model raises for it as typeForClass does (`DoS Hulk`
 *   -> dos); that type is shown beside it, the label itself is kept.
 * - A feature a sample lacks is NaN (a CICFlowMeter CSV has no payload entropy). A model trained on
 *   samples uses the features at least KEEP_FEATURE_SHARE of the rows have (the others are left
 *   out and reported as dropped), then only the rows that have all of them (the rest are counted as
 *   skipped), rather than inventing values: one sparse manual sample cannot strip the feature set.
 */
import { createHash } from 'node:crypto';
import { typeForClass } from '../detect/classify/stage.js';
import { FEATURE_INDEX, FEATURE_NAMES, canonicalFeatureName } from '../flow/features.js';
import { isBenignLabel } from './csv.js';
import type { DataEncoding, LoadedData } from './csv.js';
import { MlError } from './errors.js';
import type { Dataset } from './types.js';

/** Identifier of the live feature list (src/flow/features.ts): its length and a hash of the names. */
export const FEATURE_SET_ID = `flow-${FEATURE_NAMES.length}-${createHash('sha256')
  .update(FEATURE_NAMES.join('\n'))
  .digest('hex')
  .slice(0, 12)}`;

/** The stored label of every benign spelling. */
export const BENIGN_LABEL = 'benign';
export const MAX_LABEL_LENGTH = 64;
/** Labeled samples a model needs at least (a test split of fewer rows measures nothing useful). */
export const MIN_TRAIN_SAMPLES = 10;
/** Rows a supervised class needs at least (one to train on, one to test). */
export const MIN_CLASS_SAMPLES = 2;
/** A CSV must map at least this many columns onto flow features to be imported as samples. */
export const MIN_MAPPED_FEATURES = 10;
/** A feature is used for training when at least this share of the labeled rows has a value for it. */
export const KEEP_FEATURE_SHARE = 0.9;

const D = FEATURE_NAMES.length;

/** A trimmed, validated label; benign spellings become `benign`. Throws MlError VIGIL_ML_DATA_INVALID. */
export function normalizeLabel(raw: string): string {
  const t = raw.trim();
  if (t === '') throw new MlError('VIGIL_ML_DATA_INVALID', 'a label must not be empty');
  if (t.length > MAX_LABEL_LENGTH)
    throw new MlError('VIGIL_ML_DATA_INVALID', `a label has at most ${MAX_LABEL_LENGTH} characters`);
  // Control characters would garble logs, CSV exports and the dashboard.
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(t))
    throw new MlError('VIGIL_ML_DATA_INVALID', 'a label must not contain control characters');
  return isBenignLabel(t) ? BENIGN_LABEL : t;
}

/** The Vigil alert type a model raises for a label (`benign` for benign). */
export function typeOfLabel(label: string): string {
  return label === BENIGN_LABEL ? BENIGN_LABEL : typeForClass(label);
}

/**
 * A feature vector in FEATURE_NAMES order from an array (exactly D numbers; null = missing) or an
 * object keyed by feature name (any CICFlowMeter spelling; absent features are missing, NaN).
 */
export function vectorOf(v: readonly (number | null)[] | Record<string, number | null>): Float64Array {
  const out = new Float64Array(D).fill(NaN);
  if (Array.isArray(v)) {
    if (v.length !== D)
      throw new MlError(
        'VIGIL_ML_DATA_INVALID',
        `a feature array has ${D} values (FEATURE_NAMES order), got ${v.length}`,
      );
    for (let i = 0; i < D; i++) out[i] = v[i] ?? NaN;
    return out;
  }
  let known = 0;
  const unknown: string[] = [];
  for (const [k, val] of Object.entries(v)) {
    const name = canonicalFeatureName(k) ?? k;
    const j = FEATURE_INDEX[name];
    if (j === undefined) {
      unknown.push(k);
      continue;
    }
    out[j] = val ?? NaN;
    known++;
  }
  if (unknown.length > 0)
    throw new MlError(
      'VIGIL_ML_DATA_INVALID',
      `unknown feature name(s): ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''} (see docs/features.md)`,
    );
  if (known === 0) throw new MlError('VIGIL_ML_DATA_INVALID', 'no feature values given');
  return out;
}

/** Labeled vectors collected into a training dataset (grows geometrically; no object per row). */
export class SampleMatrix {
  private x: Float64Array;
  private readonly labels: string[] = [];
  n = 0;

  constructor(capacity = 1024) {
    this.x = new Float64Array(Math.max(1, capacity) * D);
  }

  add(features: ArrayLike<number>, label: string): void {
    if (features.length !== D)
      throw new MlError('VIGIL_ML_DATA_INVALID', `a sample has ${features.length} features, the feature set ${D}`);
    if ((this.n + 1) * D > this.x.length) {
      const g = new Float64Array(this.x.length * 2);
      g.set(this.x);
      this.x = g;
    }
    const o = this.n * D;
    for (let j = 0; j < D; j++) this.x[o + j] = features[j]!;
    this.labels.push(label);
    this.n++;
  }

  /**
   * The dataset train() takes: the features KEEP_FEATURE_SHARE of the rows have, the rows that have
   * all of them, classes benign first then sorted (as csv.ts orders them), an identity encoding.
   */
  build(): LoadedData {
    const keep: number[] = [];
    const dropped: string[] = [];
    const need = Math.max(1, Math.ceil(this.n * KEEP_FEATURE_SHARE));
    for (let j = 0; j < D; j++) {
      let have = 0;
      for (let i = 0; i < this.n; i++) if (Number.isFinite(this.x[i * D + j]!)) have++;
      if (have >= need) keep.push(j);
      else dropped.push(FEATURE_NAMES[j]!);
    }
    if (this.n > 0 && keep.length === 0)
      throw new MlError('VIGIL_ML_DATA_INVALID', 'no feature has a value in most labeled samples');
    const d = keep.length;
    const rows: number[] = [];
    for (let i = 0; i < this.n; i++) {
      let ok = true;
      for (let k = 0; k < d && ok; k++) ok = Number.isFinite(this.x[i * D + keep[k]!]!);
      if (ok) rows.push(i);
    }
    const n = rows.length;
    const x = new Float64Array(n * d);
    for (let r = 0; r < n; r++) {
      const i = rows[r]!;
      for (let k = 0; k < d; k++) x[r * d + k] = this.x[i * D + keep[k]!]!;
    }
    const labels = rows.map((i) => this.labels[i]!);
    const counts: Record<string, number> = {};
    for (const l of labels) counts[l] = (counts[l] ?? 0) + 1;
    const names = Object.keys(counts).sort((a, b) =>
      a === BENIGN_LABEL ? -1 : b === BENIGN_LABEL ? 1 : a < b ? -1 : a > b ? 1 : 0,
    );
    const idx = new Map(names.map((c, i) => [c, i]));
    const y = Int32Array.from(labels, (l) => idx.get(l)!);
    const features = keep.map((j) => FEATURE_NAMES[j]!);
    const ds: Dataset = { x, n, d, features, y, classes: names };
    const encoding: DataEncoding = {
      format: 'csv',
      labelColumn: 'label',
      columns: features.map((f) => ({ kind: 'numeric' as const, name: f, source: f, posInf: 0, negInf: 0 })),
    };
    return {
      ds,
      encoding,
      benignClass: names.includes(BENIGN_LABEL) ? BENIGN_LABEL : null,
      stats: {
        files: [],
        format: 'csv',
        rows: n,
        skippedRows: this.n - n,
        droppedColumns: dropped,
        replaced: { posInf: 0, negInf: 0, nan: 0, nonNumeric: 0 },
        classCounts: counts,
      },
    };
  }
}

/** A CSV import as sample vectors (FEATURE_NAMES order, NaN where the CSV has no such column). */
export interface CsvSamples {
  n: number;
  /** n x D. */
  x: Float64Array;
  labels: string[];
  /** Flow features the CSV provided, and those it lacks. */
  mapped: string[];
  missing: string[];
  /** CSV feature columns that are not flow features (left out). */
  ignored: string[];
}

/**
 * Map a loaded CSV (csv.ts) onto the live feature set. Refused (MlError) when fewer than
 * MIN_MAPPED_FEATURES columns are flow features: NSL-KDD or UNSW-NB15 features are not what the
 * flow engine computes, so a model trained on them could not score live traffic.
 */
export function csvToSamples(l: LoadedData): CsvSamples {
  const { ds } = l;
  const col = new Int32Array(ds.d).fill(-1);
  const mapped: string[] = [];
  const ignored: string[] = [];
  for (let k = 0; k < ds.d; k++) {
    const name = ds.features[k]!;
    const j = FEATURE_INDEX[canonicalFeatureName(name) ?? name];
    if (j === undefined || mapped.includes(FEATURE_NAMES[j]!)) ignored.push(name);
    else {
      col[k] = j;
      mapped.push(FEATURE_NAMES[j]!);
    }
  }
  if (mapped.length < MIN_MAPPED_FEATURES)
    throw new MlError(
      'VIGIL_ML_DATA_INVALID',
      `only ${mapped.length} of the CSV's ${ds.d} feature columns are flow features (at least ${MIN_MAPPED_FEATURES} needed): ` +
        `this ${l.stats.format} data cannot be scored on live flows; train on it with \`vigil train\` instead`,
    );
  const x = new Float64Array(ds.n * D).fill(NaN);
  const labels: string[] = new Array<string>(ds.n);
  const labelOf = ds.classes.map((c) => normalizeLabel(c));
  for (let i = 0; i < ds.n; i++) {
    for (let k = 0; k < ds.d; k++) if (col[k]! >= 0) x[i * D + col[k]!] = ds.x[i * ds.d + k]!;
    labels[i] = labelOf[ds.y[i]!]!;
  }
  return { n: ds.n, x, labels, mapped, missing: FEATURE_NAMES.filter((f) => !mapped.includes(f)), ignored };
}

export interface Readiness {
  ready: boolean;
  /** Why not, in words, when not ready. */
  reason: string | null;
  labeled: number;
  classes: number;
}

/** Whether the labeled sample counts (label -> count) are enough to train `modelType`. */
export function readiness(counts: Readonly<Record<string, number>>, modelType: string): Readiness {
  let labeled = 0;
  for (const c of Object.values(counts)) labeled += c;
  const usable = Object.entries(counts).filter(([, c]) => c >= MIN_CLASS_SAMPLES);
  const r = (reason: string | null): Readiness => ({
    ready: reason === null,
    reason,
    labeled,
    classes: Object.keys(counts).length,
  });
  if (labeled < MIN_TRAIN_SAMPLES)
    return r(`${labeled} labeled sample(s) of the current feature set; at least ${MIN_TRAIN_SAMPLES} are needed`);
  if (modelType === 'isolation_forest') {
    const benign = counts[BENIGN_LABEL] ?? 0;
    if (benign < MIN_TRAIN_SAMPLES)
      return r(
        `an isolation_forest learns normal traffic: ${benign} benign sample(s), at least ${MIN_TRAIN_SAMPLES} needed`,
      );
    return r(null);
  }
  if (usable.length < 2)
    return r(
      `a ${modelType} model needs at least two labels with ${MIN_CLASS_SAMPLES} or more samples each (have ${usable.length}: ${
        usable.map(([l]) => l).join(', ') || 'none'
      })`,
    );
  return r(null);
}

/**
 * How many samples to take of each label when there are more than `max`: the smallest labels
 * whole, the rest share what is left equally, so a rare attack class is never crowded out.
 */
export function quotas(counts: Readonly<Record<string, number>>, max: number): Record<string, number> {
  const entries = Object.entries(counts).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  const out: Record<string, number> = {};
  let left = Math.max(0, Math.floor(max));
  for (let i = 0; i < entries.length; i++) {
    const [label, c] = entries[i]!;
    const take = Math.min(c, Math.floor(left / (entries.length - i)));
    out[label] = take;
    left -= take;
  }
  return out;
}

/** What a stored sample says about the flow it came from: 5-tuple, protocol, times. */
export function flowSampleMeta(rec: {
  flowId: number;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  proto: number;
  appProto?: string | null;
  startUs: number;
  endUs: number;
}): Record<string, unknown> {
  return {
    flow_id: rec.flowId,
    src_ip: rec.srcIp,
    src_port: rec.srcPort,
    dst_ip: rec.dstIp,
    dst_port: rec.dstPort,
    proto: rec.proto,
    app_proto: rec.appProto ?? null,
    start: new Date(rec.startUs / 1000).toISOString(),
    end: new Date(rec.endUs / 1000).toISOString(),
  };
}
