/**
 * Multi-layer perceptron scorer: dense and ReLU layers, then a softmax, run by hand on typed
 * arrays (nn-layers.ts) so the packet path loads no TensorFlow. Trained by src/ml/mlp.ts;
 * serialized params in docs/ml-neural.md.
 */
import type { ModelFile, ScoringModel } from './model.js';
import { ModelError } from './model.js';
import {
  BLOCK_ROWS,
  buildLayers,
  checkScalerNumbers,
  intParam,
  maxWidth,
  netPredictProba,
  paramsObject,
} from './nn-layers.js';

/** Layer kinds a file of the given type may hold. */
const KINDS: Record<'mlp' | 'cnn', readonly string[]> = {
  mlp: ['dense', 'relu'],
  cnn: ['conv1d', 'maxpool1d', 'dense', 'relu'],
};

/** Scorer for a layered network (`mlp` or `cnn`); throws ModelError on a malformed file. */
export function networkScorer(file: ModelFile): ScoringModel {
  const type = file.type;
  if (type !== 'mlp' && type !== 'cnn') throw new ModelError(`not a neural network model (${type})`);
  const what = `${type} model`;
  const p = paramsObject(file.params, what);
  const k = file.classes.length;
  const d = file.features.length;
  if (intParam(p['nClasses'], 1, 1 << 16, `${what}: params.nClasses`) !== k || k < 2)
    throw new ModelError(`${what}: params.nClasses does not match the ${k} classes (at least 2)`);
  const layers = buildLayers(p['layers'], d, k, KINDS[type], what);
  checkScalerNumbers(file.scaler, what);
  const scaler = file.scaler;
  const width = maxWidth(layers);
  const rows = new Float64Array(BLOCK_ROWS * d);
  const bufA = new Float64Array(width);
  const bufB = new Float64Array(width);
  return {
    type,
    features: file.features,
    classes: file.classes,
    predictProba(x: Float64Array, n: number, out: Float64Array): void {
      netPredictProba(layers, x, n, d, scaler, rows, bufA, bufB, out);
    },
  };
}

/** `mlp` scorer (registered in scorers.ts). */
export const mlpScorer = (file: ModelFile): ScoringModel => networkScorer(file);
