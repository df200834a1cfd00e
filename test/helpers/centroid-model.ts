/**
 * TEST ONLY: a nearest-centroid classifier and a distance-from-baseline anomaly model, registered
 * into TRAINERS/SCORERS under an existing type name for the duration of a test, so the training
 * pipeline (src/ml/) can be exercised without depending on the real model implementations. Never
 * imported by src/.
 */
import { prepareRows } from '../../src/detect/classify/model.js';
import type { ModelFile, ModelType, ScorerFactory, ScoringModel } from '../../src/detect/classify/model.js';
import { SCORERS } from '../../src/detect/classify/scorers.js';
import { TRAINERS } from '../../src/ml/trainers.js';
import type { Dataset, TrainerEntry, TrainOptions } from '../../src/ml/types.js';

interface CentroidParams {
  centroids: number[][];
  /** Softmax temperature over negative squared distances. */
  temperature: number;
}

async function trainCentroid(ds: Dataset, opts: TrainOptions): Promise<{ type: ModelType; params: CentroidParams }> {
  const k = ds.classes.length;
  const sum = Array.from({ length: k }, () => new Array<number>(ds.d).fill(0));
  const w = new Array<number>(k).fill(0);
  for (let r = 0; r < ds.n; r++) {
    const c = ds.y[r]!;
    if (c < 0) continue;
    const wr = opts.weights?.[r] ?? 1;
    w[c]! += wr;
    for (let j = 0; j < ds.d; j++) sum[c]![j]! += wr * ds.x[r * ds.d + j]!;
    if (r % 1000 === 0) opts.onProgress?.(r / ds.n);
  }
  const centroids = sum.map((s, c) => s.map((v) => (w[c]! > 0 ? v / w[c]! : 1e9)));
  const t = opts.params['temperature'];
  return { type: currentType, params: { centroids, temperature: typeof t === 'number' ? t : 1 } };
}

let currentType: ModelType = 'svm';

const centroidScorer: ScorerFactory = (file: ModelFile): ScoringModel => {
  const p = file.params as CentroidParams;
  const d = file.features.length;
  if (!Array.isArray(p?.centroids) || p.centroids.some((c) => c.length !== d))
    throw new Error('centroid size mismatch');
  const k = p.centroids.length;
  const flat = Float64Array.from(p.centroids.flat());
  return {
    type: file.type,
    features: file.features,
    classes: file.classes,
    predictProba(x, n, out) {
      prepareRows(x, n, d, file.scaler);
      for (let r = 0; r < n; r++) {
        let max = -Infinity;
        for (let c = 0; c < k; c++) {
          let s = 0;
          for (let j = 0; j < d; j++) {
            const e = x[r * d + j]! - flat[c * d + j]!;
            s += e * e;
          }
          out[r * k + c] = -s / p.temperature;
          if (out[r * k + c]! > max) max = out[r * k + c]!;
        }
        let z = 0;
        for (let c = 0; c < k; c++) z += out[r * k + c] = Math.exp(out[r * k + c]! - max);
        for (let c = 0; c < k; c++) out[r * k + c]! /= z;
      }
    },
  };
};

async function trainBaseline(ds: Dataset): Promise<{ type: ModelType; params: { mean: number[] } }> {
  const mean = new Array<number>(ds.d).fill(0);
  for (let r = 0; r < ds.n; r++) for (let j = 0; j < ds.d; j++) mean[j]! += ds.x[r * ds.d + j]! / ds.n;
  return { type: 'isolation_forest', params: { mean } };
}

const baselineScorer: ScorerFactory = (file: ModelFile): ScoringModel => {
  const mean = (file.params as { mean: number[] }).mean;
  const d = file.features.length;
  return {
    type: file.type,
    features: file.features,
    classes: [],
    score(x, n, out) {
      prepareRows(x, n, d, file.scaler);
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          const e = x[r * d + j]! - mean[j]!;
          s += e * e;
        }
        out[r] = 1 - Math.exp(-s / d);
      }
    },
  };
};

/**
 * Register the centroid classifier as `type` (and the baseline anomaly model as isolation_forest
 * when `anomaly`); returns a function restoring the registries.
 */
export function registerTestModels(type: ModelType = 'svm', anomaly = false): () => void {
  currentType = type;
  const savedTrainers = TRAINERS.slice();
  const savedScorers = { ...SCORERS };
  const put = (e: TrainerEntry): void => {
    const i = TRAINERS.findIndex((t) => t.type === e.type);
    if (i >= 0) TRAINERS.splice(i, 1);
    TRAINERS.push(e);
  };
  put({ type, supervised: true, train: trainCentroid, defaults: { temperature: 1 } });
  SCORERS[type] = centroidScorer;
  if (anomaly) {
    put({ type: 'isolation_forest', supervised: false, train: trainBaseline, defaults: { contamination: 0.05 } });
    SCORERS.isolation_forest = baselineScorer;
  }
  return () => {
    TRAINERS.splice(0, TRAINERS.length, ...savedTrainers);
    for (const k of Object.keys(SCORERS) as ModelType[]) delete SCORERS[k];
    Object.assign(SCORERS, savedScorers);
  };
}
