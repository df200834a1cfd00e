/**
 * Classification metrics (docs/ml.md, "Metrics"), following scikit-learn's definitions:
 *
 * - accuracy: share of rows predicted right.
 * - per class: precision = TP / predicted (0 when never predicted, scikit-learn's zero_division=0),
 *   recall = TP / support, F1 their harmonic mean (0 when both are 0), support = true rows.
 * - macro F1: the mean F1 over the classes present in the TRUE labels of the evaluated rows (a class
 *   the model predicts but that is absent from the test set does not dilute it; a true class the
 *   model never learned counts with F1 0). Weighted F1: F1 weighted by support.
 * - ROC-AUC (rank statistic, ties averaged): `roc_auc` for a binary model (positive = not the benign
 *   class, score = its probability; for an anomaly model the anomaly score), `roc_auc_ovr_macro`
 *   one-vs-rest averaged over true classes the model has a probability for, and `detection_roc_auc`
 *   attack-vs-benign with score 1 - P(benign), for any model with a benign class.
 * - Confusion matrix: rows = true class, columns = predicted class, both in `labels` order (the
 *   model's classes, then classes found only in the test data).
 */

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Metrics {
  rows: number;
  accuracy: number;
  macro_f1: number;
  weighted_f1: number;
  macro_precision: number;
  macro_recall: number;
  /** Classes present in the true labels or the predictions. */
  per_class: Record<string, ClassMetrics>;
  confusion_matrix: { labels: string[]; matrix: number[][] };
  roc_auc: number | null;
  roc_auc_ovr_macro: number | null;
  detection_roc_auc: number | null;
}

export interface MetricsInput {
  /** True class per row (index into `classes`). */
  yTrue: Int32Array;
  /** Predicted class per row. */
  yPred: Int32Array;
  classes: readonly string[];
  /** Class probabilities, rows x `probaClasses` (the first probaClasses entries of `classes`). */
  proba?: Float64Array;
  probaClasses?: number;
  /** Per-row score of the positive (attack) class for a binary/anomaly model. */
  positiveScore?: Float64Array;
  benignClass?: string | null;
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/**
 * Area under the ROC curve of `score` for rows where `pos` is 1 against rows where it is 0 (the
 * Mann-Whitney U statistic, tied scores sharing their average rank). Null when either side is empty.
 */
export function rocAuc(score: Float64Array, pos: Uint8Array): number | null {
  const n = score.length;
  let np = 0;
  for (let i = 0; i < n; i++) np += pos[i]!;
  const nn = n - np;
  if (np === 0 || nn === 0) return null;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => score[a]! - score[b]!);
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && score[order[j]!] === score[order[i]!]) j++;
    const avg = (i + 1 + j) / 2; // ranks i+1 .. j
    for (let k = i; k < j; k++) if (pos[order[k]!] === 1) rankSum += avg;
    i = j;
  }
  return (rankSum - (np * (np + 1)) / 2) / (np * nn);
}

export function computeMetrics(inp: MetricsInput): Metrics {
  const { yTrue, yPred, classes } = inp;
  const n = yTrue.length;
  const k = classes.length;
  const cm = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    cm[t]![p]!++;
    if (t === p) correct++;
  }
  const perClass: Record<string, ClassMetrics> = {};
  let sumF1 = 0;
  let sumP = 0;
  let sumR = 0;
  let present = 0;
  let weighted = 0;
  for (let c = 0; c < k; c++) {
    let support = 0;
    let predicted = 0;
    for (let j = 0; j < k; j++) {
      support += cm[c]![j]!;
      predicted += cm[j]![c]!;
    }
    if (support === 0 && predicted === 0) continue;
    const tp = cm[c]![c]!;
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[classes[c]!] = { precision: round6(precision), recall: round6(recall), f1: round6(f1), support };
    if (support > 0) {
      present++;
      sumF1 += f1;
      sumP += precision;
      sumR += recall;
      weighted += f1 * support;
    }
  }

  const benign = inp.benignClass != null ? classes.indexOf(inp.benignClass) : -1;
  let rocBinary: number | null = null;
  let ovr: number | null = null;
  let detection: number | null = null;
  const kp = inp.probaClasses ?? 0;
  if (inp.positiveScore !== undefined) {
    const pos = new Uint8Array(n);
    for (let i = 0; i < n; i++) pos[i] = benign >= 0 ? (yTrue[i] !== benign ? 1 : 0) : yTrue[i] === 1 ? 1 : 0;
    rocBinary = rocAuc(inp.positiveScore, pos);
    if (benign >= 0) detection = rocBinary;
  }
  if (inp.proba !== undefined && kp >= 2) {
    const proba = inp.proba;
    const col = new Float64Array(n);
    const pos = new Uint8Array(n);
    if (kp === 2 && rocBinary === null) {
      const p = benign === 0 ? 1 : benign === 1 ? 0 : 1;
      for (let i = 0; i < n; i++) {
        col[i] = proba[i * kp + p]!;
        pos[i] = benign >= 0 ? (yTrue[i] !== benign ? 1 : 0) : yTrue[i] === p ? 1 : 0;
      }
      rocBinary = rocAuc(col, pos);
    }
    if (kp > 2) {
      let sum = 0;
      let m = 0;
      for (let c = 0; c < kp; c++) {
        for (let i = 0; i < n; i++) {
          col[i] = proba[i * kp + c]!;
          pos[i] = yTrue[i] === c ? 1 : 0;
        }
        const a = rocAuc(col, pos);
        if (a !== null) {
          sum += a;
          m++;
        }
      }
      ovr = m > 0 ? sum / m : null;
    }
    if (benign >= 0 && benign < kp && detection === null) {
      for (let i = 0; i < n; i++) {
        col[i] = 1 - proba[i * kp + benign]!;
        pos[i] = yTrue[i] !== benign ? 1 : 0;
      }
      detection = rocAuc(col, pos);
    }
  }
  const r = (v: number | null): number | null => (v === null ? null : round6(v));
  return {
    rows: n,
    accuracy: n > 0 ? round6(correct / n) : 0,
    macro_f1: present > 0 ? round6(sumF1 / present) : 0,
    weighted_f1: n > 0 ? round6(weighted / n) : 0,
    macro_precision: present > 0 ? round6(sumP / present) : 0,
    macro_recall: present > 0 ? round6(sumR / present) : 0,
    per_class: perClass,
    confusion_matrix: { labels: [...classes], matrix: cm },
    roc_auc: r(rocBinary),
    roc_auc_ovr_macro: r(ovr),
    detection_roc_auc: r(detection),
  };
}

/** Mean and (population) standard deviation of a metric over folds. */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  if (values.length === 0) return { mean: 0, std: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const v = values.reduce((a, b) => a + (b - mean) * (b - mean), 0) / values.length;
  return { mean: round6(mean), std: round6(Math.sqrt(v)) };
}

/** A fixed-width text report: per-class table, averages, confusion matrix. */
export function formatMetrics(m: Metrics): string {
  const names = Object.keys(m.per_class);
  const w = Math.max(12, ...names.map((s) => s.length));
  const f = (v: number): string => v.toFixed(4).padStart(9);
  let s = `${'class'.padEnd(w)}  precision    recall        f1   support\n`;
  for (const c of names) {
    const p = m.per_class[c]!;
    s += `${c.padEnd(w)}  ${f(p.precision)} ${f(p.recall)} ${f(p.f1)} ${String(p.support).padStart(9)}\n`;
  }
  s += `\naccuracy     ${m.accuracy.toFixed(4)}   (${m.rows} rows)\n`;
  s += `macro F1     ${m.macro_f1.toFixed(4)}   (over the classes present in the true labels)\n`;
  s += `weighted F1  ${m.weighted_f1.toFixed(4)}\n`;
  if (m.roc_auc !== null) s += `ROC-AUC      ${m.roc_auc.toFixed(4)}\n`;
  if (m.roc_auc_ovr_macro !== null) s += `ROC-AUC OvR  ${m.roc_auc_ovr_macro.toFixed(4)}   (macro, one-vs-rest)\n`;
  if (m.detection_roc_auc !== null && m.roc_auc === null)
    s += `detection ROC-AUC ${m.detection_roc_auc.toFixed(4)}   (attack vs benign)\n`;
  // Confusion matrix over the classes that occur (true or predicted).
  const labels = m.confusion_matrix.labels;
  const used = labels.map((_, i) => i).filter((i) => m.per_class[labels[i]!] !== undefined);
  if (used.length > 0 && used.length <= 20) {
    const cw = Math.max(6, ...used.map((i) => String(Math.max(...m.confusion_matrix.matrix[i]!)).length + 1));
    const names = used.map((i, j) => `[${j}] ${labels[i]!}`);
    const lw = Math.max(...names.map((n) => n.length)) + 2;
    s += `\nconfusion matrix (rows: true, columns: predicted)\n`;
    s += ' '.repeat(lw) + used.map((_, j) => `[${j}]`.padStart(cw)).join('') + '\n';
    used.forEach((i, j) => {
      const row = m.confusion_matrix.matrix[i]!;
      s += `${names[j]!.padEnd(lw)}${used.map((c) => String(row[c]!).padStart(cw)).join('')}\n`;
    });
  }
  return s;
}
