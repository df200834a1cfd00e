/**
 * 1-D convolutional network trainer (`cnn`), the role the original's SecIDS-CNN played: the
 * feature vector is a sequence of `d` positions with one channel; blocks of conv1d ("valid", stride
 * 1) + ReLU + max-pool, then flatten (channels last), dense + ReLU layers and a softmax. Trained
 * by the hand-written engine in nn-train.ts (TensorFlow.js's wasm backend has no conv1d gradient;
 * docs/ml-neural.md). Scored by src/detect/classify/cnn.ts.
 *
 * A convolution over a feature vector assumes neighbouring features are related; in CICFlowMeter
 * order they mostly are (forward/backward lengths, IATs, flags come in runs), which is what
 * SecIDS-CNN relied on. The dense layers after the flatten still see every position.
 */
import type { LayerShape } from './nn-train.js';
import { boolParam, fitNetwork, fitParams, intListParam, standardizeRows } from './nn-train.js';
import { MlError } from './errors.js';
import { labeledRows } from './random-forest.js';
import { numParam } from './tree-common.js';
import type { Dataset, TrainOptions, Trainer, TrainerEntry } from './types.js';

/** Hyper-parameters (docs/ml-neural.md). */
export const CNN_DEFAULTS: Record<string, number | string | boolean> = {
  /** Filters per convolution block, comma-separated (one block each). */
  filters: '8,16',
  kernel: 3,
  pool: 2,
  /** Dense hidden widths after the flatten, comma-separated (may be empty: "" ). */
  dense: '32',
  /** Fit a standard scaler on the training rows (see nn-train.ts standardizeRows). */
  standardize: true,
  epochs: 30,
  batchSize: 64,
  learningRate: 0.001,
  alpha: 0.0001,
  validationFraction: 0.1,
  patience: 5,
};

/** Layer shapes of the cnn; throws MlError when the input is too short for the blocks. */
export function cnnShapes(
  d: number,
  filters: readonly number[],
  kernel: number,
  pool: number,
  dense: readonly number[],
  k: number,
): LayerShape[] {
  const shapes: LayerShape[] = [];
  let len = d;
  let ch = 1;
  for (const f of filters) {
    if (len - kernel + 1 < 1 || Math.floor((len - kernel + 1) / pool) < 1)
      throw new MlError(
        'VIGIL_ML_OPTIONS_INVALID',
        `cnn: ${d} features are too few for ${filters.length} blocks of kernel ${kernel} and pool ${pool}`,
      );
    const outLen = len - kernel + 1;
    shapes.push({ kind: 'conv1d', length: len, in: ch, out: f, kernel }, { kind: 'relu', size: outLen * f });
    len = outLen;
    ch = f;
    if (pool > 1) {
      shapes.push({ kind: 'maxpool1d', length: len, channels: ch, pool });
      len = Math.floor(len / pool);
    }
  }
  let size = len * ch;
  for (const h of dense) {
    shapes.push({ kind: 'dense', in: size, out: h }, { kind: 'relu', size: h });
    size = h;
  }
  shapes.push({ kind: 'dense', in: size, out: k });
  return shapes;
}

export const trainCnn: Trainer = async (ds: Dataset, opts: TrainOptions) => {
  const p = opts.params;
  const num = (name: string): number => numParam(p, CNN_DEFAULTS, name);
  const filters = intListParam(p['filters'] ?? CNN_DEFAULTS['filters'], 'filters');
  const dense = intListParam(p['dense'] ?? CNN_DEFAULTS['dense'], 'dense', true);
  const kernel = Math.floor(num('kernel'));
  const pool = Math.floor(num('pool'));
  if (!(kernel >= 1)) throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'kernel must be at least 1');
  if (!(pool >= 1)) throw new MlError('VIGIL_ML_OPTIONS_INVALID', 'pool must be at least 1 (1 = no pooling)');
  const fit = fitParams(num, opts.seed >>> 0, opts.onProgress);
  const standardize = boolParam(p['standardize'] ?? CNN_DEFAULTS['standardize'], 'standardize');
  const rows = labeledRows(ds, opts.weights);
  const { y, sw, n } = rows;
  if (n === 0) throw new MlError('VIGIL_ML_DATA_INVALID', 'cnn needs labeled rows');
  const k = ds.classes.length;
  const { x, scaler } = standardizeRows(rows.x, n, ds.d, standardize);
  const shapes = cnnShapes(ds.d, filters, kernel, pool, dense, k);
  const r = await fitNetwork(shapes, x, y, sw, n, ds.d, k, fit);
  return {
    type: 'cnn',
    ...(scaler !== undefined ? { scaler } : {}),
    params: {
      nClasses: k,
      layers: r.layers,
      fit: { epochsRun: r.epochsRun, bestEpoch: r.bestEpoch, bestLoss: r.bestLoss, validationRows: r.validationRows },
    },
  };
};

export const CNN_TRAINER: TrainerEntry = { type: 'cnn', supervised: true, train: trainCnn, defaults: CNN_DEFAULTS };
