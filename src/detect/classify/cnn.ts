/**
 * 1-D convolutional network scorer — the role the original's pre-trained SecIDS-CNN played: the
 * feature vector is read as a sequence of length `features` with one channel, through conv1d,
 * ReLU and max-pool layers, then dense layers and a softmax. Inference runs by hand on typed
 * arrays (nn-layers.ts, shared with the mlp scorer). Trained by src/ml/cnn.ts; serialized params in
 * docs/ml-neural.md.
 */
import type { ModelFile, ScoringModel } from './model.js';
import { ModelError } from './model.js';
import { networkScorer } from './mlp.js';

/** `cnn` scorer (registered in scorers.ts). */
export const cnnScorer = (file: ModelFile): ScoringModel => {
  if (file.type !== 'cnn') throw new ModelError(`not a cnn model (${file.type})`);
  return networkScorer(file);
};
