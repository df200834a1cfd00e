/**
 * Multi-layer perceptron trainer (`mlp`): dense layers with ReLU, a softmax output, trained with
 * mini-batch Adam and early stopping by the hand-written engine in nn-train.ts (why not
 * TensorFlow.js: see there and docs/ml-neural.md). Scored by src/detect/classify/mlp.ts.
 */
import type { LayerShape } from './nn-train.js';
import { boolParam, fitNetwork, fitParams, intListParam, standardizeRows } from './nn-train.js';
import { MlError } from './errors.js';
import { labeledRows } from './random-forest.js';
import { numParam } from './tree-common.js';
import type { Dataset, TrainOptions, Trainer, TrainerEntry } from './types.js';

/** Hyper-parameters (docs/ml-neural.md). */
export const MLP_DEFAULTS: Record<string, number | string | boolean> = {
  /** Hidden layer widths, comma-separated. */
  hidden: '128,64',
  /** Fit a standard scaler on the training rows (see nn-train.ts standardizeRows). */
  standardize: true,
  epochs: 60,
  batchSize: 64,
  learningRate: 0.001,
  alpha: 0.0001,
  validationFraction: 0.1,
  patience: 8,
};

/** Layer shapes of an mlp: d → hidden... (ReLU after each) → k. */
export function mlpShapes(d: number, hidden: readonly number[], k: number): LayerShape[] {
  const shapes: LayerShape[] = [];
  let size = d;
  for (const h of hidden) {
    shapes.push({ kind: 'dense', in: size, out: h }, { kind: 'relu', size: h });
    size = h;
  }
  shapes.push({ kind: 'dense', in: size, out: k });
  return shapes;
}

export const trainMlp: Trainer = async (ds: Dataset, opts: TrainOptions) => {
  const p = opts.params;
  const num = (name: string): number => numParam(p, MLP_DEFAULTS, name);
  const hidden = intListParam(p['hidden'] ?? MLP_DEFAULTS['hidden'], 'hidden', true);
  const fit = fitParams(num, opts.seed >>> 0, opts.onProgress);
  const standardize = boolParam(p['standardize'] ?? MLP_DEFAULTS['standardize'], 'standardize');
  const rows = labeledRows(ds, opts.weights);
  const { y, sw, n } = rows;
  if (n === 0) throw new MlError('VIGIL_ML_DATA_INVALID', 'mlp needs labeled rows');
  const k = ds.classes.length;
  const { x, scaler } = standardizeRows(rows.x, n, ds.d, standardize);
  const r = await fitNetwork(mlpShapes(ds.d, hidden, k), x, y, sw, n, ds.d, k, fit);
  return {
    type: 'mlp',
    ...(scaler !== undefined ? { scaler } : {}),
    params: {
      nClasses: k,
      layers: r.layers,
      fit: { epochsRun: r.epochsRun, bestEpoch: r.bestEpoch, bestLoss: r.bestLoss, validationRows: r.validationRows },
    },
  };
};

export const MLP_TRAINER: TrainerEntry = { type: 'mlp', supervised: true, train: trainMlp, defaults: MLP_DEFAULTS };
