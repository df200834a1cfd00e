import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOUBLE, logisticOnnx, sigmoidOnnx, unknownOpOnnx } from '../../../test/helpers/onnx-writer.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, ModelError } from './model.js';
import type { ModelFile, ScalerSpec } from './model.js';
import { onnxScorer, readOnnxInfo } from './onnx.js';
import { loadScoringModel } from './load.js';
import { SCORERS } from './scorers.js';

const D = 6;
const K = 3;
/** Weights W (d × k, row-major) and b of a 3-class logistic model. */
const W = Array.from({ length: D * K }, (_, i) => Math.sin(i * 1.7) * 0.8);
const B = [0.2, -0.1, 0.05];

function rows(n: number, seed: number): Float64Array {
  return Float64Array.from({ length: n * D }, (_, i) => Math.sin(i * 0.37 + seed) * 3);
}

/** The same model in JS: softmax(x·W + b) after the optional scaler. */
function reference(x: Float64Array, n: number, scaler?: ScalerSpec): Float64Array {
  const out = new Float64Array(n * K);
  for (let r = 0; r < n; r++) {
    const z = B.slice();
    for (let j = 0; j < D; j++) {
      let v = x[r * D + j]!;
      if (!Number.isFinite(v)) v = 0;
      if (scaler !== undefined) v = (v - scaler.center[j]!) / scaler.scale[j]!;
      for (let c = 0; c < K; c++) z[c]! += v * W[j * K + c]!;
    }
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    for (let c = 0; c < K; c++) out[r * K + c] = e[c]! / s;
  }
  return out;
}

function sidecar(params: Record<string, unknown>, over: Partial<ModelFile> = {}): ModelFile {
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    type: 'onnx',
    features: Array.from({ length: D }, (_, i) => `f${i}`),
    classes: ['benign', 'dos', 'scan'],
    benignClass: 'benign',
    params,
    ...over,
  };
}

/** Temporary model directories, removed when the file's tests are done. */
const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const tempModelDir = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-onnx-'));
  dirs.push(d);
  return d;
};

/** A model directory with model.onnx (and model.json when a sidecar is given). */
function modelDir(onnx: Uint8Array, file?: ModelFile): string {
  const dir = tempModelDir();
  fs.writeFileSync(path.join(dir, 'model.onnx'), onnx);
  if (file !== undefined) fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(file));
  return dir;
}

function maxDiff(a: Float64Array, b: Float64Array): number {
  assert.equal(a.length, b.length);
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!));
  return w;
}

test('a MatMul+Add+Softmax ONNX model scores as the same weights computed in JS', async () => {
  const dir = modelDir(logisticOnnx(W, B, D));
  const m = onnxScorer(sidecar({ file: 'model.onnx' }), dir);
  await m.ready();
  assert.deepEqual(
    m.graph.inputs.map((i) => [i.name, i.elemType, i.dims]),
    [['X', 1, ['N', D]]],
  );
  const n = 500;
  const x = rows(n, 1);
  x[3] = Number.NaN;
  x[10] = Number.POSITIVE_INFINITY;
  const p = await m.predictProbaAsync(x, n);
  assert.ok(maxDiff(p, reference(x, n)) < 1e-5, `max difference ${maxDiff(p, reference(x, n))}`);
  assert.ok(Number.isNaN(x[3]!), 'caller rows untouched');
  assert.equal((await m.predictProbaAsync(new Float64Array(0), 0)).length, 0);
});

test('the sidecar scaler is applied before the graph; double inputs work', async () => {
  const scaler: ScalerSpec = { kind: 'standard', center: [1, 0, -1, 2, 0, 0], scale: [2, 1, 0.5, 4, 1, 3] };
  const dir = modelDir(logisticOnnx(W, B, D, { type: DOUBLE }));
  const m = onnxScorer(sidecar({ file: 'model.onnx' }, { scaler }), dir);
  const x = rows(50, 2);
  const p = await m.predictProbaAsync(x, 50);
  // Double precision end to end.
  assert.ok(maxDiff(p, reference(x, 50, scaler)) < 1e-12);
});

test('params.output reads raw scores (logits) and applies the softmax', async () => {
  const dir = modelDir(logisticOnnx(W, B, D));
  const m = onnxScorer(sidecar({ file: 'model.onnx', output: 'logits' }), dir);
  const x = rows(40, 3);
  assert.ok(maxDiff(await m.predictProbaAsync(x, 40), reference(x, 40)) < 1e-5);
});

test('a [batch, features, 1] input (Keras Conv1D style) and a fixed batch of 1 are fed correctly', async () => {
  const x = rows(30, 4);
  for (const o of [{ seq: true }, { batch: 1 }]) {
    const m = onnxScorer(sidecar({ file: 'model.onnx' }), modelDir(logisticOnnx(W, B, D, o)));
    assert.ok(maxDiff(await m.predictProbaAsync(x, 30), reference(x, 30)) < 1e-5, JSON.stringify(o));
  }
});

test('two classes from one column: a probability, or a logit through the sigmoid', async () => {
  const w = [0.5, -1, 0.25, 0, 2, -0.5];
  const dir = modelDir(sigmoidOnnx(w, 0.1, D));
  const x = rows(20, 5);
  const expect = new Float64Array(40);
  for (let r = 0; r < 20; r++) {
    let z = 0.1;
    for (let j = 0; j < D; j++) z += x[r * D + j]! * w[j]!;
    const p = 1 / (1 + Math.exp(-z));
    expect[2 * r] = 1 - p;
    expect[2 * r + 1] = p;
  }
  const two = { classes: ['benign', 'attack'], benignClass: 'benign' };
  for (const params of [{ probabilities: 'p' }, { output: 'z' }]) {
    const m = onnxScorer(sidecar({ file: 'model.onnx', ...params }, two), dir);
    assert.ok(maxDiff(await m.predictProbaAsync(x, 20), expect) < 1e-5, JSON.stringify(params));
  }
});

test('loadScoringModel: the model embedded in model.json (base64) loads and reloads identically', async () => {
  const file = sidecar({ data: Buffer.from(logisticOnnx(W, B, D)).toString('base64') });
  const dir = tempModelDir();
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(file));
  const a = loadScoringModel(dir).model;
  const b = loadScoringModel(dir).model;
  const x = rows(64, 6);
  const pa = await a.predictProbaAsync!(x, 64);
  assert.deepEqual(pa, await b.predictProbaAsync!(x, 64));
  assert.ok(maxDiff(pa, reference(x, 64)) < 1e-5);
  assert.equal(SCORERS.onnx, onnxScorer);
});

test('corrupt, truncated, foreign or mismatched model files are refused at load with a clear reason', () => {
  const good = logisticOnnx(W, B, D);
  const refuse = (
    bytes: Uint8Array,
    re: RegExp,
    params: Record<string, unknown> = { file: 'model.onnx' },
    over: Partial<ModelFile> = {},
  ): void => {
    const dir = modelDir(bytes);
    assert.throws(
      () => onnxScorer(sidecar(params, over), dir),
      (e: unknown) => e instanceof ModelError && re.test(e.message),
      `expected ${String(re)}`,
    );
  };
  refuse(good.subarray(0, good.length - 7), /not a valid ONNX file \(.*(truncated|past the end)/);
  refuse(new TextEncoder().encode('{"not": "onnx"}'), /not a valid ONNX file/);
  refuse(
    Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff),
    /not a valid ONNX file/,
  );
  refuse(new Uint8Array(0), /not a valid ONNX file \(no ir_version or no graph/);
  refuse(
    good,
    /does not hold the 7 features/,
    { file: 'model.onnx' },
    { features: Array.from({ length: 7 }, (_, i) => `f${i}`) },
  );
  refuse(good, /no input "x" in the graph \(inputs: X\)/, { file: 'model.onnx', input: 'x' });
  refuse(good, /no output "proba" in the graph \(outputs: probabilities, logits\)/, {
    file: 'model.onnx',
    probabilities: 'proba',
  });
  refuse(good, /not both/, { file: 'model.onnx', probabilities: 'probabilities', output: 'logits' });
  refuse(good, /no output with 4 class columns/, { file: 'model.onnx' }, { classes: ['a', 'b', 'c', 'd'] });
  refuse(good, /missing\.onnx not found/, { file: 'missing.onnx' });
  refuse(good, /exactly one of "file"/, {});
  refuse(good, /exactly one of "file"/, { file: 'model.onnx', data: 'AAAA' });
  refuse(good, /params.data must be the base64/, { data: 'not base64!' });
  refuse(logisticOnnx(W, B, D, { batch: 4 }), /fixed batch of 4/);
  assert.throws(() => onnxScorer(sidecar({ file: 'model.onnx' })), /is relative and no model directory was given/);
  assert.throws(() => readOnnxInfo(Uint8Array.from([0x0a, 0xff])), ModelError);
});

test('a graph ONNX Runtime cannot load: ready() and scoring reject with a ModelError', async () => {
  const m = onnxScorer(sidecar({ file: 'model.onnx' }), modelDir(unknownOpOnnx(D, K)));
  await assert.rejects(
    m.ready(),
    (e: unknown) => e instanceof ModelError && /ONNX Runtime cannot load it/.test(e.message),
  );
  await assert.rejects(m.predictProbaAsync(rows(2, 1), 2), ModelError);
});
