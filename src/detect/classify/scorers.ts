/** Model scorers by type: a new model type is a scorer file plus one line here. */
import type { ModelType, ScorerFactory } from './model.js';
import { randomForestScorer } from './random-forest.js';
import { gradientBoostingScorer } from './gradient-boosting.js';
import { isolationForestScorer } from '../anomaly/isolation-forest.js';
import { linearScorer } from './linear.js';
import { mlpScorer } from './mlp.js';
import { cnnScorer } from './cnn.js';
import { onnxScorer } from './onnx.js';

export const SCORERS: Partial<Record<ModelType, ScorerFactory>> = {
  // tree models (random_forest, gradient_boosting) and isolation_forest
  random_forest: randomForestScorer,
  gradient_boosting: gradientBoostingScorer,
  isolation_forest: isolationForestScorer,
  // linear and neural models (logistic_regression, svm, mlp, cnn), onnx
  logistic_regression: linearScorer,
  svm: linearScorer,
  mlp: mlpScorer,
  cnn: cnnScorer,
  onnx: onnxScorer,
};
