/**
 * The model contract shared by training (src/ml/, off the packet path) and scoring (here, on the
 * packet path): a model directory holds `model.json` — a ModelFile — and scoring rebuilds a
 * `ScoringModel` from it with plain typed-array code (no training library at run time).
 *
 * Adding a model type: a scorer file here (`<type>.ts` exporting a ScorerFactory, registered in
 * scorers.ts) and a trainer in src/ml/ (registered in src/ml/trainers.ts).
 */

export const MODEL_FORMAT = 'vigil-model';
export const MODEL_FORMAT_VERSION = 1;

export type ModelType =
  'random_forest' | 'gradient_boosting' | 'logistic_regression' | 'svm' | 'mlp' | 'cnn' | 'isolation_forest' | 'onnx';

/** Input scaling applied before the model (fitted on training data). */
export interface ScalerSpec {
  kind: 'standard' | 'robust';
  /** Per input feature: subtract center, divide by scale (scale 0 is treated as 1). */
  center: number[];
  scale: number[];
}

export interface ModelFile {
  format: typeof MODEL_FORMAT;
  version: typeof MODEL_FORMAT_VERSION;
  type: ModelType;
  /**
   * Input feature names in vector order (names from src/flow/features.ts FEATURE_NAMES, so the
   * pipeline can build the vector from a flow; dataset-only columns such as NSL-KDD's are allowed
   * for offline models, which then cannot score live flows).
   */
  features: string[];
  /** Output classes in probability order. For isolation_forest: []. */
  classes: string[];
  /** The class meaning "no attack" (BENIGN/benign/normal), or null. */
  benignClass: string | null;
  /** Vigil alert type per class (e.g. "DoS Hulk" -> "dos"); classes missing here map to "anomaly". */
  classTypes?: Record<string, string>;
  scaler?: ScalerSpec;
  /** Type-specific parameters (trees, weights, layers, ...), as plain JSON (numbers, arrays). */
  params: unknown;
  /** Free-form training record: data source, sizes, hyper-parameters, metrics, time. */
  training?: Record<string, unknown>;
}

/**
 * A loaded model, ready to score. `x` holds `n` rows of `features.length` values (row-major,
 * raw — the scorer applies the scaler); NaN/±Infinity must be tolerated (treated as 0 unless the
 * model says otherwise).
 */
export interface ScoringModel {
  readonly type: ModelType;
  readonly features: readonly string[];
  readonly classes: readonly string[];
  /** Classifiers: class probabilities into `out` (n × classes.length, row-major). */
  predictProba?(x: Float64Array, n: number, out: Float64Array): void;
  /** Isolation forest: anomaly score in [0, 1] per row into `out` (n). */
  score?(x: Float64Array, n: number, out: Float64Array): void;
  /**
   * The features that decided one raw row (model feature order), largest weight first: for
   * classifiers, towards the predicted class; for the anomaly model, what isolated the row.
   */
  explain?(row: Float64Array): { feature: string; weight: number }[];
  /** Models whose runtime is asynchronous (ONNX Runtime): like predictProba, resolved later. */
  predictProbaAsync?(x: Float64Array, n: number): Promise<Float64Array>;
}

export class ModelError extends Error {
  readonly code = 'VIGIL_MODEL_INVALID';
}

export type ScorerFactory = (file: ModelFile) => ScoringModel;

/** Validate the common fields of a parsed model.json (throws ModelError with the reason). */
export function checkModelFile(v: unknown): ModelFile {
  const m = v as Partial<ModelFile> | null;
  if (m === null || typeof m !== 'object') throw new ModelError('model.json is not an object');
  if (m.format !== MODEL_FORMAT) throw new ModelError(`not a Vigil model (format "${String(m.format)}")`);
  if (m.version !== MODEL_FORMAT_VERSION)
    throw new ModelError(
      `model format version ${String(m.version)} is not supported (expected ${MODEL_FORMAT_VERSION})`,
    );
  if (!Array.isArray(m.features) || m.features.length === 0 || !m.features.every((f) => typeof f === 'string'))
    throw new ModelError('model features must be a non-empty list of names');
  if (!Array.isArray(m.classes) || !m.classes.every((c) => typeof c === 'string'))
    throw new ModelError('model classes must be a list of names');
  if (m.scaler !== undefined) {
    const s = m.scaler;
    if (
      !Array.isArray(s.center) ||
      !Array.isArray(s.scale) ||
      s.center.length !== m.features.length ||
      s.scale.length !== m.features.length
    )
      throw new ModelError('scaler size does not match the feature count');
  }
  return m as ModelFile;
}

/** Apply a scaler in place to n rows of d values; NaN and ±Infinity become 0 first. */
export function prepareRows(x: Float64Array, n: number, d: number, scaler: ScalerSpec | undefined): void {
  for (let i = 0; i < n * d; i++) if (!Number.isFinite(x[i]!)) x[i] = 0;
  if (scaler === undefined) return;
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) {
      const s = scaler.scale[j]!;
      x[o + j] = (x[o + j]! - scaler.center[j]!) / (s === 0 ? 1 : s);
    }
  }
}
