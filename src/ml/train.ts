/**
 * Training orchestration (docs/ml.md, "Training"), model-agnostic: load data -> split -> feature
 * selection on the training rows -> scaler fitted on the training rows -> class balance -> the
 * trainer registered for the type (TRAINERS) -> a ModelFile -> evaluation of the held-out rows
 * through the scorer registered for the type (SCORERS), built from the exact JSON that is saved, so
 * what is measured is what runs -> model.json + metrics.json.
 *
 * The saved model is the one trained on the training split and measured on the test split (not
 * retrained on all rows), so its metrics describe it. `--test-size 0` trains on every row and
 * measures nothing; `--test-data FILE` trains on every row of --data and measures on FILE.
 */
import { driftReference, driftScores, sampleRows } from './drift.js';
import fs from 'node:fs';
import { scoringModelFromFile } from '../detect/classify/load.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, checkModelFile } from '../detect/classify/model.js';
import type { ModelFile, ModelType, ScalerSpec, ScoringModel } from '../detect/classify/model.js';
import { typeForClass } from '../detect/classify/stage.js';
import { checkEncoding, isBenignLabel, loadCsv, subsetEncoding } from './csv.js';
import type { CategoricalMode, DataEncoding, LoadedData } from './csv.js';
import { MlError } from './errors.js';
import { computeMetrics, meanStd } from './metrics.js';
import type { Metrics } from './metrics.js';
import { loadPcapDataset } from './pcap-labels.js';
import {
  applyScaler,
  balancedWeights,
  classCounts,
  columnsFor,
  composeScalers,
  fitScaler,
  selectFeatures,
  smote,
  takeColumns,
  takeRows,
} from './preprocess.js';
import { stratifiedKFold, stratifiedSplit, timeSplit } from './split.js';
import type { Split } from './split.js';
import { TRAINERS } from './trainers.js';
import type { Dataset, TrainerEntry } from './types.js';

/** Rows scored per call when evaluating (bounded memory; the scorer may scale its input in place). */
const SCORE_CHUNK = 4096;
/** Anomaly models: share of benign training rows allowed above the calibrated threshold, unless the trainer says. */
export const DEFAULT_CONTAMINATION = 0.01;
/** Bins of the stored anomaly-score distribution of the training rows (for display). */
const SCORE_BINS = 20;

export type Progress = (stage: 'load' | 'train' | 'score' | 'cv', fraction: number) => void;

export interface DataOptions {
  labelColumn?: string;
  categorical?: CategoricalMode;
  encoding?: DataEncoding;
  classes?: readonly string[];
  maxRows?: number;
  /** Pipeline workers for captures. */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
}

/** True when `p` is a capture (by name or by its first bytes), or a directory without CSVs. */
export function isCaptureData(p: string): boolean {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    throw new MlError('VIGIL_ML_DATA_INVALID', `cannot read ${p}: ${(e as Error).message}`);
  }
  if (st.isDirectory()) return !fs.readdirSync(p).some((n) => /\.(csv|txt)$/i.test(n));
  if (/\.pcap(ng)?$/i.test(p)) return true;
  const head = Buffer.alloc(4);
  const fd = fs.openSync(p, 'r');
  try {
    fs.readSync(fd, head, 0, 4, 0);
  } finally {
    fs.closeSync(fd);
  }
  const m = head.readUInt32LE(0);
  // pcap (both byte orders, µs and ns) and pcapng section header block.
  return m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1 || m === 0x0a0d0d0a;
}

/** Load a CSV (file or directory) or captures with truth files. */
export async function loadData(p: string, o: DataOptions = {}): Promise<LoadedData> {
  if (isCaptureData(p)) return loadPcapDataset(p, { workers: o.workers, classes: o.classes, onProgress: o.onProgress });
  return loadCsv(p, {
    labelColumn: o.labelColumn,
    categorical: o.categorical,
    encoding: o.encoding,
    classes: o.classes,
    maxRows: o.maxRows,
    onProgress: o.onProgress,
  });
}

export interface TrainConfig {
  /** Data path (CSV, directory, captures); with `loaded`, only a description of the data for the record. */
  data: string;
  /** Data already in memory (the server's training samples): used instead of reading `data`. */
  loaded?: LoadedData;
  /** Evaluate on this file instead of a hold-out of `data`. */
  testData?: string;
  labelColumn?: string;
  model: ModelType;
  /** Trainer parameters (merged over the trainer's defaults; an unknown name is refused). */
  params: Record<string, number | string | boolean>;
  /** Hold-out share in [0, 1); 0 = train on everything, no test metrics. */
  testSize: number;
  split: 'stratified' | 'time';
  seed: number;
  scaler: 'standard' | 'robust' | 'none';
  balance: 'none' | 'weights' | 'smote';
  /** Drop columns constant in the training rows. */
  dropConstant: boolean;
  /** Keep the k features with the highest mutual information with the class. */
  selectK?: number;
  /** Features never to use (names as in the data, case-insensitive), e.g. ports a lab capture fixes. */
  excludeFeatures?: string[];
  categorical?: CategoricalMode;
  /** Stratified k-fold cross validation (k >= 2) before the final fit. */
  cv?: number;
  maxRows?: number;
  workers?: number;
  onProgress?: Progress;
}

export interface CvSummary {
  k: number;
  folds: { accuracy: number; macro_f1: number; weighted_f1: number }[];
  accuracy: { mean: number; std: number };
  macro_f1: { mean: number; std: number };
  weighted_f1: { mean: number; std: number };
}

export interface TrainResult {
  file: ModelFile;
  /** Test metrics; null with --test-size 0 and no --test-data. */
  metrics: Metrics | null;
  cv: CvSummary | null;
  /** What metrics.json holds. */
  report: Record<string, unknown>;
}

/** The trainer registered for a type, or MlError listing the registered ones. */
export function trainerFor(type: string): TrainerEntry {
  const e = TRAINERS.find((t) => t.type === type);
  if (e === undefined) {
    const known = TRAINERS.map((t) => t.type).join(', ') || 'none registered';
    throw new MlError('VIGIL_ML_OPTIONS_INVALID', `unknown model type "${type}" (available: ${known})`);
  }
  return e;
}

/** Trainer parameters: defaults overridden by `given`; a name the trainer does not document is refused. */
export function mergeParams(
  entry: TrainerEntry,
  given: Record<string, number | string | boolean>,
): Record<string, number | string | boolean> {
  const out = { ...entry.defaults };
  for (const [k, v] of Object.entries(given)) {
    if (!(k in entry.defaults)) {
      const known = Object.keys(entry.defaults).join(', ') || 'none';
      throw new MlError(
        'VIGIL_ML_OPTIONS_INVALID',
        `unknown parameter "${k}" for ${entry.type} (parameters: ${known})`,
      );
    }
    const d = entry.defaults[k];
    if (typeof d === 'number' && typeof v !== 'number')
      throw new MlError(
        'VIGIL_ML_OPTIONS_INVALID',
        `parameter "${k}" of ${entry.type} expects a number, got "${String(v)}"`,
      );
    if (typeof d === 'boolean' && typeof v !== 'boolean')
      throw new MlError(
        'VIGIL_ML_OPTIONS_INVALID',
        `parameter "${k}" of ${entry.type} expects true or false, got "${String(v)}"`,
      );
    out[k] = typeof d === 'string' ? String(v) : v;
  }
  return out;
}

/** `k=v` -> a number when numeric, a boolean for true/false, else the string. */
export function parseParam(kv: string): [string, number | string | boolean] {
  const eq = kv.indexOf('=');
  if (eq <= 0) throw new MlError('VIGIL_ML_OPTIONS_INVALID', `--param expects NAME=VALUE, got "${kv}"`);
  const k = kv.slice(0, eq).trim();
  const v = kv.slice(eq + 1).trim();
  if (v === 'true') return [k, true];
  if (v === 'false') return [k, false];
  const n = Number(v);
  return [k, v !== '' && Number.isFinite(n) ? n : v];
}

// ---- Scoring -------------------------------------------------------------------------------------

export interface Predictions {
  /** Predicted class per row (anomaly models: 1 = anomaly, 0 = normal). */
  pred: Int32Array;
  /** Classifiers: n x classes probabilities. */
  proba: Float64Array | null;
  /** Anomaly models: the score per row. */
  score: Float64Array | null;
  seconds: number;
}

/** The anomaly threshold a model is used with: its calibrated `training.threshold`, else 0.5 (as the pipeline). */
export const anomalyThreshold = (f: ModelFile): number => {
  const t = f.training?.['threshold'];
  return typeof t === 'number' && Number.isFinite(t) ? t : 0.5;
};

/** Score n rows of raw features (chunked; `x` is not modified). */
export async function predictRows(
  model: ScoringModel,
  file: ModelFile,
  x: Float64Array,
  n: number,
  onProgress?: (fraction: number) => void,
): Promise<Predictions> {
  const d = file.features.length;
  const k = file.classes.length;
  const t0 = process.hrtime.bigint();
  const pred = new Int32Array(n);
  const anomaly = model.score !== undefined && (k === 0 || file.type === 'isolation_forest');
  const proba = anomaly ? null : new Float64Array(n * k);
  const score = anomaly ? new Float64Array(n) : null;
  const chunk = new Float64Array(Math.min(n, SCORE_CHUNK) * d);
  const out = new Float64Array(Math.min(n, SCORE_CHUNK) * Math.max(1, k));
  const thr = anomalyThreshold(file);
  for (let r0 = 0; r0 < n; r0 += SCORE_CHUNK) {
    const m = Math.min(SCORE_CHUNK, n - r0);
    chunk.set(x.subarray(r0 * d, (r0 + m) * d));
    if (anomaly) {
      model.score!(chunk, m, out);
      for (let i = 0; i < m; i++) {
        score![r0 + i] = out[i]!;
        pred[r0 + i] = out[i]! >= thr ? 1 : 0;
      }
    } else {
      let p: Float64Array;
      if (model.predictProba !== undefined) {
        model.predictProba(chunk, m, out);
        p = out;
      } else if (model.predictProbaAsync !== undefined) {
        p = await model.predictProbaAsync(chunk.slice(0, m * d), m);
      } else throw new MlError('VIGIL_ML_MODEL_REFUSED', `the ${file.type} scorer gives no probabilities`);
      proba!.set(p.subarray(0, m * k), r0 * k);
      for (let i = 0; i < m; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (p[i * k + j]! > p[i * k + best]!) best = j;
        pred[r0 + i] = best;
      }
    }
    onProgress?.(Math.min(1, (r0 + m) / n));
  }
  return { pred, proba, score, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/**
 * Metrics of a model on labeled rows. `ds.classes` must start with the model's classes (load the
 * data with `classes: file.classes`). Anomaly models are scored as benign (0) vs attack (1).
 */
export function metricsFor(file: ModelFile, ds: Dataset, p: Predictions, benignClass: string | null): Metrics {
  if (p.score !== null) {
    const benign = benignClass !== null ? ds.classes.indexOf(benignClass) : -1;
    const yTrue = new Int32Array(ds.n);
    for (let i = 0; i < ds.n; i++) yTrue[i] = ds.y[i] === benign ? 0 : 1;
    return computeMetrics({
      yTrue,
      yPred: p.pred,
      classes: [benignClass ?? 'benign', 'attack'],
      positiveScore: p.score,
      benignClass: benignClass ?? 'benign',
    });
  }
  return computeMetrics({
    yTrue: ds.y,
    yPred: p.pred,
    classes: ds.classes,
    proba: p.proba ?? undefined,
    probaClasses: file.classes.length,
    benignClass: file.benignClass,
  });
}

/** The benign pseudo-type of by-type metrics. */
export const BENIGN_TYPE = 'benign';

/**
 * Metrics over Vigil alert types instead of class names (`vigil evaluate --by-type`): a model
 * class maps to its `classTypes` entry (else typeForClass, as the pipeline does), a true label
 * through typeForClass, benign classes to `benign`. Probabilities are summed per type. This
 * compares a model with data labeled in another vocabulary (a CIC-IDS2017 model on the lab
 * corpus: `DoS Hulk` and `dos` are both `dos`).
 */
export function metricsByType(file: ModelFile, ds: Dataset, p: Predictions, benignClass: string | null): Metrics {
  if (p.score !== null) return metricsFor(file, ds, p, benignClass);
  const typeOf = (c: string, model: boolean): string =>
    c === file.benignClass || c === benignClass || isBenignLabel(c)
      ? BENIGN_TYPE
      : ((model ? file.classTypes?.[c] : undefined) ?? typeForClass(c));
  const k = file.classes.length;
  const modelType = file.classes.map((c) => typeOf(c, true));
  const trueType = ds.classes.map((c, i) => (i < k ? modelType[i]! : typeOf(c, false)));
  // Benign first, then the types the model can predict (they have probabilities), then data-only types.
  const order = (a: string, b: string): number =>
    a === BENIGN_TYPE ? -1 : b === BENIGN_TYPE ? 1 : a < b ? -1 : a > b ? 1 : 0;
  const predictable = [...new Set(modelType)].sort(order);
  const types = [...predictable, ...[...new Set(trueType)].filter((t) => !predictable.includes(t)).sort(order)];
  const idx = new Map(types.map((t, i) => [t, i]));
  const yTrue = Int32Array.from(ds.y, (c) => idx.get(trueType[c]!)!);
  const yPred = Int32Array.from(p.pred, (c) => idx.get(modelType[c]!)!);
  const kp = predictable.length;
  let proba: Float64Array | undefined;
  if (p.proba !== null) {
    proba = new Float64Array(ds.n * kp);
    for (let r = 0; r < ds.n; r++)
      for (let j = 0; j < k; j++) proba[r * kp + idx.get(modelType[j]!)!]! += p.proba[r * k + j]!;
  }
  return computeMetrics({
    yTrue,
    yPred,
    classes: types,
    proba,
    probaClasses: proba === undefined ? 0 : kp,
    benignClass: types.includes(BENIGN_TYPE) ? BENIGN_TYPE : null,
  });
}

// ---- One fit -------------------------------------------------------------------------------------

interface FitResult {
  file: ModelFile;
  model: ScoringModel;
  trainSeconds: number;
  trainRows: number;
  smoteAdded: Record<string, number> | null;
  dropped: { constant: string[]; lowScore: string[]; excluded?: string[] };
  miScores: Record<string, number> | null;
}

function quantile(values: Float64Array, q: number): number {
  const s = values.slice().sort();
  if (s.length === 0) return 0.5;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

async function fit(
  ds: Dataset,
  trainRows: Int32Array,
  benignClass: string | null,
  encoding: DataEncoding,
  entry: TrainerEntry,
  params: Record<string, number | string | boolean>,
  cfg: TrainConfig,
  onTrain?: (f: number) => void,
): Promise<FitResult> {
  let train = takeRows(ds, trainRows);
  const sel = selectFeatures(train, {
    dropConstant: cfg.dropConstant,
    topK: cfg.selectK,
    exclude: cfg.excludeFeatures,
  });
  if (sel.columns.length !== train.d) train = takeColumns(train, sel.columns);
  const benign = benignClass !== null ? ds.classes.indexOf(benignClass) : -1;
  if (!entry.supervised && benign >= 0) {
    // An anomaly model learns normal traffic: its baseline is the benign training rows.
    const rows: number[] = [];
    for (let i = 0; i < train.n; i++) if (train.y[i] === benign) rows.push(i);
    if (rows.length === 0) throw new MlError('VIGIL_ML_DATA_INVALID', 'no benign rows to train the anomaly model on');
    train = takeRows(train, Int32Array.from(rows));
  }
  if (entry.supervised) {
    const present = classCounts(train.y, train.classes.length).filter((c) => c > 0).length;
    if (present < 2)
      throw new MlError(
        'VIGIL_ML_DATA_INVALID',
        `a ${entry.type} model needs at least two classes in the training rows`,
      );
  }
  // Raw rows for the drift reference (scaling below works in place).
  const driftSample = sampleRows(train.x, train.n, train.d);
  // The anomaly threshold is calibrated on raw rows (the scorer scales them itself).
  const raw = entry.supervised ? null : train;
  let scaler: ScalerSpec | undefined;
  if (cfg.scaler !== 'none') {
    scaler = fitScaler(train, cfg.scaler);
    // `train` is already a copy (takeRows): scale it in place unless the raw rows are still needed.
    const x = raw === null ? train.x : train.x.slice();
    applyScaler(x, train.n, train.d, scaler);
    train = { ...train, x };
  }
  let weights: Float64Array | undefined;
  let smoteAdded: Record<string, number> | null = null;
  if (entry.supervised && cfg.balance === 'weights') weights = balancedWeights(train.y, train.classes.length);
  if (entry.supervised && cfg.balance === 'smote') {
    const r = smote(train, cfg.seed);
    train = r.ds;
    smoteAdded = r.added;
  }
  const t0 = process.hrtime.bigint();
  const out = await entry.train(train, { params, weights, seed: cfg.seed, onProgress: onTrain });
  const trainSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (out.type !== entry.type)
    throw new MlError('VIGIL_ML_OPTIONS_INVALID', `the ${entry.type} trainer returned a ${out.type} model`);
  const finalScaler =
    out.scaler !== undefined ? (scaler !== undefined ? composeScalers(scaler, out.scaler) : out.scaler) : scaler;
  const classes = entry.supervised ? [...ds.classes] : [];
  const classTypes: Record<string, string> = {};
  for (const c of classes) if (c !== benignClass) classTypes[c] = typeForClass(c);
  const draft: ModelFile = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: entry.type,
    features: [...train.features],
    classes,
    benignClass: entry.supervised ? benignClass : null,
    ...(entry.supervised ? { classTypes } : {}),
    ...(finalScaler !== undefined ? { scaler: finalScaler } : {}),
    params: out.params,
    training: { encoding: subsetEncoding(encoding, train.features) },
  };
  // Score with what is saved: the JSON round trip (NaN would become null, a Float64Array an object).
  let file = checkModelFile(JSON.parse(JSON.stringify(draft)));
  let model = scoringModelFromFile(file);
  if (!entry.supervised) {
    // Calibrate the anomaly threshold on the baseline: the (1 - contamination) quantile of its scores.
    const p = await predictRows(model, file, raw!.x, raw!.n);
    const given = (out.params as Record<string, unknown> | null)?.['threshold'];
    const cont = typeof params['contamination'] === 'number' ? params['contamination'] : DEFAULT_CONTAMINATION;
    const threshold = typeof given === 'number' ? given : quantile(p.score!, 1 - cont);
    const hist = new Array<number>(SCORE_BINS).fill(0);
    for (const s of p.score!) hist[Math.min(SCORE_BINS - 1, Math.max(0, Math.floor(s * SCORE_BINS)))]!++;
    file.training = {
      ...file.training,
      threshold,
      contamination: cont,
      baseline_score_histogram: { bins: SCORE_BINS, range: [0, 1], counts: hist },
    };
    file = checkModelFile(JSON.parse(JSON.stringify(file)));
    model = scoringModelFromFile(file);
  }
  {
    // Reference distributions of the features and of the score, for drift figures later.
    const p = await predictRows(model, file, driftSample.x, driftSample.n);
    const k = file.classes.length;
    const b = file.benignClass === null ? -1 : file.classes.indexOf(file.benignClass);
    const scores = driftScores(p.proba, p.score, driftSample.n, k, b);
    const kind = entry.supervised ? 'attack_probability' : 'anomaly_score';
    file.training = {
      ...file.training,
      drift_reference: driftReference(driftSample.x, driftSample.n, file.features, scores, kind),
    };
    file = checkModelFile(JSON.parse(JSON.stringify(file)));
  }
  return {
    file,
    model,
    trainSeconds,
    trainRows: train.n,
    smoteAdded,
    dropped: sel.dropped,
    miScores: sel.scores ?? null,
  };
}

/** Test rows of `ds` restricted to the model's features. */
function testRowsFor(ds: Dataset, rows: Int32Array | null, file: ModelFile): Dataset {
  const sub = rows === null ? ds : takeRows(ds, rows);
  const cols = columnsFor(sub, file.features);
  return cols.length === sub.d && cols.every((c, i) => c === i) ? sub : takeColumns(sub, cols);
}

// ---- Orchestration -------------------------------------------------------------------------------

const summary = (m: Metrics | null): Record<string, number | null> | null =>
  m === null
    ? null
    : {
        accuracy: m.accuracy,
        macro_f1: m.macro_f1,
        weighted_f1: m.weighted_f1,
        roc_auc: m.roc_auc,
        roc_auc_ovr_macro: m.roc_auc_ovr_macro,
        detection_roc_auc: m.detection_roc_auc,
      };

export async function train(cfg: TrainConfig): Promise<TrainResult> {
  const entry = trainerFor(cfg.model);
  const params = mergeParams(entry, cfg.params);
  if (!(cfg.testSize >= 0 && cfg.testSize < 1))
    throw new MlError('VIGIL_ML_OPTIONS_INVALID', `--test-size must be in [0, 1), got ${cfg.testSize}`);
  const progress = cfg.onProgress;
  const t0 = Date.now();
  const loaded =
    cfg.loaded ??
    (await loadData(cfg.data, {
      labelColumn: cfg.labelColumn,
      categorical: cfg.categorical,
      maxRows: cfg.maxRows,
      workers: cfg.workers,
      onProgress: progress ? (d, t) => progress('load', t > 0 ? d / t : 1) : undefined,
    }));
  const { ds, encoding, benignClass } = loaded;
  const loadSeconds = (Date.now() - t0) / 1000;

  // Cross validation first (each fold a full fit), then the final model.
  let cv: CvSummary | null = null;
  if (cfg.cv !== undefined && cfg.cv > 0) {
    const folds = stratifiedKFold(ds.y, cfg.cv, cfg.seed);
    const per: CvSummary['folds'] = [];
    for (let f = 0; f < folds.length; f++) {
      const fold = folds[f]!;
      const r = await fit(ds, fold.train, benignClass, encoding, entry, params, cfg, (x) =>
        progress?.('cv', (f + x) / folds.length),
      );
      const test = testRowsFor(ds, fold.test, r.file);
      const m = metricsFor(r.file, test, await predictRows(r.model, r.file, test.x, test.n), benignClass);
      per.push({ accuracy: m.accuracy, macro_f1: m.macro_f1, weighted_f1: m.weighted_f1 });
    }
    cv = {
      k: cfg.cv,
      folds: per,
      accuracy: meanStd(per.map((p) => p.accuracy)),
      macro_f1: meanStd(per.map((p) => p.macro_f1)),
      weighted_f1: meanStd(per.map((p) => p.weighted_f1)),
    };
  }

  let split: Split;
  if (cfg.testData !== undefined || cfg.testSize === 0) {
    const all = new Int32Array(ds.n);
    for (let i = 0; i < ds.n; i++) all[i] = i;
    split = { train: all, test: new Int32Array(0) };
  } else if (cfg.split === 'time') {
    if (ds.ts === undefined)
      throw new MlError(
        'VIGIL_ML_DATA_INVALID',
        'a time-aware split needs a timestamp on every row (a Timestamp column, or captures)',
      );
    split = timeSplit(ds.y, ds.ts, cfg.testSize);
  } else split = stratifiedSplit(ds.y, cfg.testSize, cfg.seed);

  const r = await fit(ds, split.train, benignClass, encoding, entry, params, cfg, (x) => progress?.('train', x));
  progress?.('train', 1);

  let metrics: Metrics | null = null;
  let testRows = 0;
  let scoreSeconds = 0;
  let testSource = cfg.data;
  if (cfg.testData !== undefined) {
    testSource = cfg.testData;
    const enc = checkEncoding(r.file.training?.['encoding']);
    const t = await loadData(cfg.testData, {
      labelColumn: cfg.labelColumn,
      encoding: enc.format === 'pcap' ? undefined : enc,
      classes: ds.classes,
      workers: cfg.workers,
    });
    const test = testRowsFor(t.ds, null, r.file);
    const p = await predictRows(r.model, r.file, test.x, test.n, (x) => progress?.('score', x));
    metrics = metricsFor(r.file, test, p, benignClass ?? t.benignClass);
    testRows = test.n;
    scoreSeconds = p.seconds;
  } else if (split.test.length > 0) {
    const test = testRowsFor(ds, split.test, r.file);
    const p = await predictRows(r.model, r.file, test.x, test.n, (x) => progress?.('score', x));
    metrics = metricsFor(r.file, test, p, benignClass);
    testRows = test.n;
    scoreSeconds = p.seconds;
  }

  const dataSummary = {
    source: cfg.data,
    files: loaded.stats.files.length,
    format: loaded.stats.format,
    label_column: encoding.labelColumn,
    rows: ds.n,
    skipped_rows: loaded.stats.skippedRows,
    features_in_data: ds.d,
    classes: loaded.stats.classCounts,
    benign_class: benignClass,
    replaced_values: loaded.stats.replaced,
    dropped_columns: loaded.stats.droppedColumns,
  };
  const record: Record<string, unknown> = {
    ...r.file.training,
    created: new Date().toISOString(),
    data: dataSummary,
    split: {
      method: cfg.testData !== undefined ? 'test-data' : cfg.testSize === 0 ? 'none' : cfg.split,
      test_size: cfg.testSize,
      seed: cfg.seed,
      train_rows: split.train.length,
      test_rows: testRows,
      test_source: testSource,
    },
    preprocessing: {
      scaler: cfg.scaler,
      balance: cfg.balance,
      smote_added: r.smoteAdded,
      drop_constant: cfg.dropConstant,
      dropped_constant: r.dropped.constant,
      select_k: cfg.selectK ?? null,
      dropped_low_mi: r.dropped.lowScore,
      excluded_features: r.dropped.excluded ?? [],
      mutual_information: r.miScores,
    },
    hyperparameters: params,
    train_rows_used: r.trainRows,
    train_seconds: round(r.trainSeconds, 3),
    load_seconds: round(loadSeconds, 3),
    score_rows_per_s: scoreSeconds > 0 ? Math.round(testRows / scoreSeconds) : null,
    metrics: summary(metrics),
    cv: cv === null ? null : { k: cv.k, macro_f1: cv.macro_f1, accuracy: cv.accuracy },
  };
  const file: ModelFile = { ...r.file, training: record };
  const report = {
    model: { type: file.type, features: file.features.length, classes: file.classes },
    data: dataSummary,
    split: record['split'],
    train_seconds: record['train_seconds'],
    score_rows_per_s: record['score_rows_per_s'],
    test: metrics,
    cv,
  };
  return { file, metrics, cv, report };
}

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;
