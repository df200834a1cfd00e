import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, ModelError } from './model.js';
import type { ModelFile } from './model.js';
import { linearScorer, sigmoid } from './linear.js';
import { SCORERS } from './scorers.js';

/** Features (a, b), three classes; class c's logit = w_c · x + b_c. */
const W = [
  [0.5, -1],
  [2, 0.25],
  [-1, 1],
];
const B = [0.1, -0.3, 0.2];

function lr(over: Record<string, unknown> = {}, fileOver: Partial<ModelFile> = {}): ModelFile {
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: 'logistic_regression',
    features: ['a', 'b'],
    classes: ['benign', 'dos', 'scan'],
    benignClass: 'benign',
    params: { nClasses: 3, weights: W.flat(), intercepts: B, ...over },
    ...fileOver,
  };
}

/** Reference softmax(W x + b), written independently of the scorer. */
function softmaxRef(x: number[]): number[] {
  const z = W.map((w, c) => w[0]! * x[0]! + w[1]! * x[1]! + B[c]!);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

const proba = (f: ModelFile, rows: number[][]): number[][] => {
  const m = linearScorer(f);
  const k = f.classes.length;
  const x = Float64Array.from(rows.flat());
  const out = new Float64Array(rows.length * k);
  m.predictProba(x, rows.length, out);
  return rows.map((_, r) => Array.from(out.subarray(r * k, r * k + k)));
};

const close = (a: number[][], b: number[][], eps = 1e-12): void => {
  assert.equal(a.length, b.length);
  a.forEach((row, i) =>
    row.forEach((v, j) => assert.ok(Math.abs(v - b[i]![j]!) <= eps, `[${i}][${j}] ${v} vs ${b[i]![j]}`)),
  );
};

test('logistic regression: probabilities are the softmax of W·x + b', () => {
  const rows = [
    [0, 0],
    [1, 2],
    [-3, 0.5],
    [100, -100],
  ];
  close(proba(lr(), rows), rows.map(softmaxRef));
  // Large logits do not overflow.
  for (const p of proba(lr(), [[1e6, -1e6]])[0]!) assert.ok(Number.isFinite(p));
});

test('the scaler is applied first, NaN/Infinity count as 0, and the caller rows are not modified', () => {
  const f = lr({}, { scaler: { kind: 'standard', center: [1, 2], scale: [2, 0] } });
  const x = Float64Array.from([5, 3, Number.NaN, Number.POSITIVE_INFINITY]);
  const out = new Float64Array(6);
  linearScorer(f).predictProba(x, 2, out);
  close([Array.from(out.subarray(0, 3)), Array.from(out.subarray(3))], [softmaxRef([2, 1]), softmaxRef([-0.5, -2])]);
  assert.ok(Number.isNaN(x[2]!), 'input untouched');
  assert.equal(x[0], 5);
});

test('blocks: more rows than one scratch block score the same as one at a time', () => {
  const rows = Array.from({ length: 600 }, (_, i) => [Math.sin(i) * 3, Math.cos(i * 0.7) * 2]);
  close(proba(lr(), rows), rows.map(softmaxRef));
});

test('svm: softmax of the margins scaled by the fitted temperature (argmax = largest margin)', () => {
  const f = lr({ temperature: 0.7 }, { type: 'svm' });
  const x = [0.3, -0.7];
  const z = W.map((w, c) => 0.7 * (w[0]! * x[0]! + w[1]! * x[1]! + B[c]!));
  const e = z.map((v) => Math.exp(v - Math.max(...z)));
  const s = e.reduce((a, b) => a + b, 0);
  close(proba(f, [x]), [e.map((v) => v / s)]);
  // Temperature 0: no confidence at all.
  close(proba(lr({ temperature: 0 }, { type: 'svm' }), [x]), [[1 / 3, 1 / 3, 1 / 3]]);
});

test('svm with two classes keeps one margin: P(second class) = sigmoid(T · margin)', () => {
  const f: ModelFile = {
    ...lr(),
    type: 'svm',
    classes: ['benign', 'attack'],
    params: { nClasses: 2, weights: [1, -2], intercepts: [0.5], temperature: 3 },
  };
  const m = 1 * 2 - 2 * 1 + 0.5;
  const p1 = 1 / (1 + Math.exp(-3 * m));
  close(proba(f, [[2, 1]]), [[1 - p1, p1]]);
  assert.ok(Math.abs(sigmoid(1000) - 1) < 1e-12 && sigmoid(-1000) < 1e-300 + 1e-12 && sigmoid(0) === 0.5);
});

test('explain: features ranked by their share of the predicted class', () => {
  const m = linearScorer(lr());
  const e = m.explain(Float64Array.from([3, 0.1]));
  // [3, 0.1] → class dos (logit 5.7); feature a carries it.
  assert.equal(e[0]!.feature, 'a');
  assert.ok(e[0]!.weight > 0);
});

test('bad parameters are refused with a ModelError naming the problem', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ nClasses: 2 }, /nClasses/],
    [{ weights: [1, 2, 3] }, /weights has 3 numbers, expected 6/],
    [{ weights: [1, 2, 3, 4, 5, null] }, /weights\[5\] is not a finite number/],
    [{ intercepts: 'x' }, /intercepts is missing or not a list/],
  ];
  for (const [over, re] of bad)
    assert.throws(
      () => linearScorer(lr(over)),
      (e: unknown) => e instanceof ModelError && re.test(e.message),
    );
  assert.throws(() => linearScorer(lr({}, { type: 'svm' })), /temperature must be a finite number/);
  assert.throws(() => linearScorer(lr({ temperature: -1 }, { type: 'svm' })), /temperature/);
  assert.throws(() => linearScorer({ ...lr(), params: null }), /params missing/);
  assert.throws(
    () => linearScorer(lr({}, { scaler: { kind: 'standard', center: [0, Number.NaN], scale: [1, 1] } })),
    /scaler has non-finite/,
  );
});

test('registered for logistic_regression and svm', () => {
  assert.equal(SCORERS.logistic_regression, linearScorer);
  assert.equal(SCORERS.svm, linearScorer);
});

test('many classes (the four-at-a-time path and its remainder) match an independent softmax', () => {
  const d = 5;
  const k = 7;
  const w = Array.from({ length: k * d }, (_, i) => Math.sin(i * 0.9));
  const b = Array.from({ length: k }, (_, c) => c * 0.1 - 0.3);
  const f: ModelFile = {
    ...lr(),
    features: ['a', 'b', 'c', 'd', 'e'],
    classes: Array.from({ length: k }, (_, c) => `c${c}`),
    params: { nClasses: k, weights: w, intercepts: b },
  };
  const rows = Array.from({ length: 20 }, (_, r) => Array.from({ length: d }, (_, j) => Math.cos(r * 1.3 + j)));
  const ref = rows.map((x) => {
    const z = b.map((bc, c) => bc + x.reduce((a, v, j) => a + v * w[c * d + j]!, 0));
    const e = z.map((v) => Math.exp(v - Math.max(...z)));
    const s = e.reduce((a, v) => a + v, 0);
    return e.map((v) => v / s);
  });
  close(proba(f, rows), ref);
});
