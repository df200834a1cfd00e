import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeMetrics, formatMetrics, meanStd, rocAuc } from './metrics.js';

const I = (a: number[]): Int32Array => Int32Array.from(a);

test('per-class precision/recall/F1, accuracy, weighted F1 match scikit-learn', () => {
  // sklearn: y_true=[0,0,0,1,1,2], y_pred=[0,0,1,1,2,2]
  // precision [1, .5, .5], recall [.6667, .5, 1], f1 [.8, .5, .6667]; macro .6556, weighted .6778.
  const m = computeMetrics({ yTrue: I([0, 0, 0, 1, 1, 2]), yPred: I([0, 0, 1, 1, 2, 2]), classes: ['a', 'b', 'c'] });
  assert.equal(m.accuracy, 0.666667);
  assert.deepEqual(m.per_class['a'], { precision: 1, recall: 0.666667, f1: 0.8, support: 3 });
  assert.deepEqual(m.per_class['b'], { precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
  assert.deepEqual(m.per_class['c'], { precision: 0.5, recall: 1, f1: 0.666667, support: 1 });
  assert.equal(m.macro_f1, 0.655556);
  assert.equal(m.weighted_f1, 0.677778);
  assert.deepEqual(m.confusion_matrix, {
    labels: ['a', 'b', 'c'],
    matrix: [
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ],
  });
  assert.match(formatMetrics(m), /macro F1 +0\.6556/);
});

test('macro F1 averages over the classes present in the true labels only', () => {
  // Class "c" is predicted once but absent from the truth: it appears in per_class, not in the macro mean.
  const m = computeMetrics({ yTrue: I([0, 0, 1, 1]), yPred: I([0, 2, 1, 1]), classes: ['a', 'b', 'c'] });
  const fa = (2 * 1 * 0.5) / 1.5;
  assert.equal(m.macro_f1, Math.round(((fa + 1) / 2) * 1e6) / 1e6);
  assert.deepEqual(m.per_class['c'], { precision: 0, recall: 0, f1: 0, support: 0 });
  // A true class the model never predicts counts with F1 0.
  const m2 = computeMetrics({ yTrue: I([0, 1]), yPred: I([0, 0]), classes: ['a', 'new'] });
  assert.equal(m2.per_class['new']!.f1, 0);
  assert.equal(m2.macro_f1, Math.round(((2 * 0.5 * 1) / 1.5 / 2) * 1e6) / 1e6);
});

test('rocAuc: perfect, inverted, ties averaged, one-sided null', () => {
  const pos = Uint8Array.from([0, 0, 1, 1]);
  assert.equal(rocAuc(Float64Array.from([0.1, 0.2, 0.8, 0.9]), pos), 1);
  assert.equal(rocAuc(Float64Array.from([0.9, 0.8, 0.2, 0.1]), pos), 0);
  assert.equal(rocAuc(Float64Array.from([0.5, 0.5, 0.5, 0.5]), pos), 0.5);
  // sklearn roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) = 0.75
  assert.equal(rocAuc(Float64Array.from([0.1, 0.4, 0.35, 0.8]), pos), 0.75);
  assert.equal(rocAuc(Float64Array.from([1, 2]), Uint8Array.from([1, 1])), null);
});

test('binary ROC-AUC from probabilities; one-vs-rest macro and detection AUC for multi-class', () => {
  const proba = Float64Array.from([0.9, 0.1, 0.6, 0.4, 0.65, 0.35, 0.2, 0.8]);
  const m = computeMetrics({
    yTrue: I([0, 0, 1, 1]),
    yPred: I([0, 0, 0, 1]),
    classes: ['BENIGN', 'Bot'],
    proba,
    probaClasses: 2,
    benignClass: 'BENIGN',
  });
  assert.equal(m.roc_auc, 0.75);
  const p3 = Float64Array.from([0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.8, 0.7, 0.2, 0.1]);
  const m3 = computeMetrics({
    yTrue: I([0, 1, 2, 0]),
    yPred: I([0, 1, 2, 0]),
    classes: ['benign', 'x', 'y'],
    proba: p3,
    probaClasses: 3,
    benignClass: 'benign',
  });
  assert.equal(m3.roc_auc, null);
  assert.equal(m3.roc_auc_ovr_macro, 1);
  assert.equal(m3.detection_roc_auc, 1);
});

test('meanStd', () => {
  assert.deepEqual(meanStd([1, 2, 3, 4]), { mean: 2.5, std: 1.118034 });
});
