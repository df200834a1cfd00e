/** Trainers by model type: a new model type is a trainer file plus one line here. */
import type { TrainerEntry } from './types.js';
import { RANDOM_FOREST_TRAINER } from './random-forest.js';
import { GRADIENT_BOOSTING_TRAINER } from './gradient-boosting.js';
import { ISOLATION_FOREST_TRAINER } from './isolation-forest.js';
import { LOGISTIC_REGRESSION_TRAINER } from './logistic-regression.js';
import { SVM_TRAINER } from './svm.js';
import { MLP_TRAINER } from './mlp.js';
import { CNN_TRAINER } from './cnn.js';

export const TRAINERS: TrainerEntry[] = [
  // tree models (random_forest, gradient_boosting) and isolation_forest
  RANDOM_FOREST_TRAINER,
  GRADIENT_BOOSTING_TRAINER,
  ISOLATION_FOREST_TRAINER,
  // linear and neural models (logistic_regression, svm, mlp, cnn)
  LOGISTIC_REGRESSION_TRAINER,
  SVM_TRAINER,
  MLP_TRAINER,
  CNN_TRAINER,
];
