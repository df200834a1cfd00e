/**
 * Training-side types (off the packet path). A Dataset is a dense row-major matrix of features
 * with integer labels; trainers turn one into a ModelFile (src/detect/classify/model.ts).
 */
import type { ModelFile, ModelType } from '../detect/classify/model.js';

export interface Dataset {
  /** n rows × d features, row-major. NaN/Infinity already replaced by the loader (documented there). */
  x: Float64Array;
  n: number;
  d: number;
  features: string[];
  /** Class index per row (into `classes`); -1 = unlabeled. */
  y: Int32Array;
  classes: string[];
  /** Optional capture time per row (µs), for time-aware splits. */
  ts?: Float64Array;
}

export interface TrainOptions {
  /** Hyper-parameters by name (trees, maxDepth, learningRate, epochs, ...); trainers document theirs. */
  params: Record<string, number | string | boolean>;
  /** Per-row sample weights (class balancing), or undefined. */
  weights?: Float64Array;
  seed: number;
  /** Progress callback: fraction done in [0, 1]. */
  onProgress?: (fraction: number) => void;
}

/** A trainer produces the `type`/`params` (and optionally scaler) part of a ModelFile. */
export type Trainer = (
  ds: Dataset,
  opts: TrainOptions,
) => Promise<Pick<ModelFile, 'type' | 'params'> & Partial<Pick<ModelFile, 'scaler'>>>;

export interface TrainerEntry {
  type: ModelType;
  /** Supervised (needs labels) or unsupervised (isolation_forest). */
  supervised: boolean;
  train: Trainer;
  /** Defaults of `params`, documented in docs/ml.md. */
  defaults: Record<string, number | string | boolean>;
}
