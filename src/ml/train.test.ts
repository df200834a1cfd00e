import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { registerTestModels } from '../../test/helpers/centroid-model.js';
import { tempDir } from '../../test/helpers/paths.js';
import { loadScoringModel } from '../detect/classify/load.js';
import { checkEncoding } from './csv.js';
import { MlError } from './errors.js';
import { writeModelDir } from './store.js';
import { TRAINERS } from './trainers.js';
import { loadData, mergeParams, parseParam, predictRows, train, trainerFor } from './train.js';
import type { TrainConfig } from './train.js';
import { makeRng } from './split.js';

const restore = registerTestModels('svm', true);
after(restore);

const dir = tempDir('vigil-train-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * Three Gaussian blobs (BENIGN around 0, DoS around 10, PortScan around -10) in two features, plus a
 * constant column, a text column and a timestamp; `n` rows per class.
 */
function blobs(name: string, n: number, seed: number, extra: (i: number) => string = () => ''): string {
  const rnd = makeRng(seed);
  const g = (): number => (rnd() + rnd() + rnd() - 1.5) * 2;
  const lines = ['Timestamp,Flow Duration,Total Fwd Packet,Const,proto,Label'];
  const centers: [string, number][] = [
    ['BENIGN', 0],
    ['DoS', 10],
    ['PortScan', -10],
  ];
  for (let i = 0; i < n; i++)
    for (const [label, c] of centers) {
      const t = `2017-07-05 10:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(6, '0')}`;
      lines.push(`${t},${c + g()},${c + g()},7,${i % 2 ? 'tcp' : 'udp'},${label}${extra(i)}`);
    }
  const p = path.join(dir, name);
  fs.writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

const base = (data: string, over: Partial<TrainConfig> = {}): TrainConfig => ({
  data,
  model: 'svm',
  params: {},
  testSize: 0.25,
  split: 'stratified',
  seed: 1,
  scaler: 'standard',
  balance: 'none',
  dropConstant: true,
  ...over,
});

test('train -> evaluate on the held-out split through the scorer; saved model reloads with identical predictions', async () => {
  const data = blobs('blobs.csv', 60, 1);
  const r = await train(base(data));
  assert.ok(r.metrics !== null);
  assert.equal(r.metrics.rows, 45);
  assert.ok(r.metrics.macro_f1 > 0.95, String(r.metrics.macro_f1));
  assert.deepEqual(Object.keys(r.metrics.per_class).sort(), ['BENIGN', 'DoS', 'PortScan']);
  assert.ok(r.metrics.roc_auc_ovr_macro! > 0.95 && r.metrics.detection_roc_auc! > 0.95);
  // The model file: contract fields, constant column dropped, class types, scaler, training record.
  const f = r.file;
  assert.deepEqual(f.classes, ['BENIGN', 'DoS', 'PortScan']);
  assert.equal(f.benignClass, 'BENIGN');
  assert.deepEqual(f.features, ['Flow Duration', 'Total Fwd Packet', 'proto=tcp', 'proto=udp']);
  assert.deepEqual(f.classTypes, { DoS: 'dos', PortScan: 'port_scan' });
  assert.equal(f.scaler?.kind, 'standard');
  const t = f.training!;
  assert.deepEqual((t['preprocessing'] as { dropped_constant: string[] }).dropped_constant, ['Const']);
  assert.deepEqual(
    (t['split'] as { train_rows: number; test_rows: number }).train_rows +
      (t['split'] as { test_rows: number }).test_rows,
    180,
  );
  assert.equal((t['metrics'] as { macro_f1: number }).macro_f1, r.metrics.macro_f1);
  assert.deepEqual(
    checkEncoding(t['encoding']).columns.map((c) => c.name),
    f.features,
  );
  // Save, reload, score the same rows: identical probabilities.
  const out = path.join(dir, 'model-a');
  writeModelDir(out, r.file, r.report);
  const lm = loadScoringModel(out);
  const { ds } = await loadData(data, {
    encoding: checkEncoding(lm.file.training!['encoding']),
    classes: lm.file.classes,
  });
  assert.deepEqual(ds.features, f.features);
  const p1 = await predictRows(lm.model, lm.file, ds.x, ds.n);
  const direct = await train(base(data));
  const { scoringModelFromFile } = await import('../detect/classify/load.js');
  const p2 = await predictRows(scoringModelFromFile(direct.file), direct.file, ds.x, ds.n);
  assert.deepEqual(p1.proba, p2.proba);
  assert.deepEqual(p1.pred, p2.pred);
  // predictRows leaves its input alone (scorers scale in place on a copy).
  const before = ds.x.slice();
  await predictRows(lm.model, lm.file, ds.x, ds.n);
  assert.deepEqual(ds.x, before);
});

test('same seed, same model; another seed, another split', async () => {
  const data = blobs('seed.csv', 40, 2);
  const a = await train(base(data, { seed: 5 }));
  const b = await train(base(data, { seed: 5 }));
  assert.deepEqual(a.file.params, b.file.params);
  const c = await train(base(data, { seed: 6 }));
  assert.notDeepEqual(a.file.params, c.file.params);
});

test('options: unknown type and parameter refused; params typed and merged over defaults', async () => {
  assert.throws(
    () => trainerFor('quantum'),
    (e: unknown) => e instanceof MlError && /available: .*svm/.test(e.message),
  );
  const entry = trainerFor('svm');
  assert.deepEqual(mergeParams(entry, { temperature: 2 }), { temperature: 2 });
  assert.throws(
    () => mergeParams(entry, { tempreature: 2 }),
    /unknown parameter "tempreature" for svm \(parameters: temperature\)/,
  );
  assert.throws(() => mergeParams(entry, { temperature: 'hot' }), /expects a number/);
  assert.deepEqual(parseParam('trees=100'), ['trees', 100]);
  assert.deepEqual(parseParam('bootstrap=false'), ['bootstrap', false]);
  assert.deepEqual(parseParam('criterion=gini'), ['criterion', 'gini']);
  assert.throws(() => parseParam('=3'), /NAME=VALUE/);
  await assert.rejects(train(base(blobs('opt.csv', 10, 3), { testSize: 1 })), /test-size/);
});

test('class balance: weights reach the trainer; SMOTE adds rows to minority classes', async () => {
  // Imbalanced: 60 BENIGN, 6 DoS, 6 PortScan.
  const data = blobs('imb.csv', 60, 4);
  const lines = fs.readFileSync(data, 'utf8').trim().split('\n');
  const keep = [lines[0]!, ...lines.slice(1).filter((l, i) => l.endsWith('BENIGN') || i % 30 < 9)];
  fs.writeFileSync(data, keep.join('\n'));
  const entry = TRAINERS.find((t) => t.type === 'svm')!;
  const orig = entry.train;
  let seen: Float64Array | undefined;
  let labels: Int32Array = new Int32Array(0);
  let rows = 0;
  entry.train = async (ds, o) => {
    seen = o.weights;
    labels = ds.y;
    rows = ds.n;
    return orig(ds, o);
  };
  try {
    await train(base(data, { balance: 'weights' }));
    assert.ok(seen !== undefined);
    // Every class carries the same total weight.
    const total = [0, 0, 0];
    labels.forEach((c, i) => (total[c]! += seen![i]!));
    for (const t of total) assert.ok(Math.abs(t - total[0]!) < 1e-9, String(total));
    assert.ok(seen[labels.indexOf(1)]! > seen[labels.indexOf(0)]!);
    const s = await train(base(data, { balance: 'smote' }));
    const added = (s.file.training!['preprocessing'] as { smote_added: Record<string, number> }).smote_added;
    assert.deepEqual(Object.keys(added).sort(), ['DoS', 'PortScan']);
    assert.equal(rows, 3 * 45);
  } finally {
    entry.train = orig;
  }
});

test('cross validation, time-aware split, feature selection, --test-size 0, --test-data', async () => {
  const data = blobs('cv.csv', 30, 5);
  const cv = await train(base(data, { cv: 3 }));
  assert.equal(cv.cv!.folds.length, 3);
  assert.ok(cv.cv!.macro_f1.mean > 0.9);
  const ts = await train(base(data, { split: 'time', testSize: 0.2 }));
  assert.equal((ts.file.training!['split'] as { method: string }).method, 'time');
  assert.equal(ts.metrics!.rows, 18);
  const sel = await train(base(data, { selectK: 2 }));
  assert.deepEqual(sel.file.features, ['Flow Duration', 'Total Fwd Packet']);
  const none = await train(base(data, { testSize: 0 }));
  assert.equal(none.metrics, null);
  const other = blobs('other.csv', 20, 6, (i) => (i === 0 ? '' : ''));
  const td = await train(base(data, { testData: other }));
  assert.equal(td.metrics!.rows, 60);
  assert.equal((td.file.training!['split'] as { test_source: string }).test_source, other);
});

test('anomaly model: trained on benign rows, threshold calibrated, scored as benign vs attack', async () => {
  const data = blobs('anom.csv', 80, 7);
  const r = await train(base(data, { model: 'isolation_forest' }));
  assert.deepEqual(r.file.classes, []);
  assert.equal(r.file.benignClass, null);
  const t = r.file.training!;
  assert.equal(typeof t['threshold'], 'number');
  assert.equal(t['contamination'], 0.05);
  assert.equal(t['train_rows_used'], 60);
  const hist = t['baseline_score_histogram'] as { counts: number[] };
  assert.equal(
    hist.counts.reduce((a, b) => a + b, 0),
    60,
  );
  assert.ok(r.metrics!.roc_auc! > 0.95, String(r.metrics!.roc_auc));
  assert.deepEqual(r.metrics!.confusion_matrix.labels, ['BENIGN', 'attack']);
});

test('a model type with one class in the training rows is refused', async () => {
  const p = path.join(dir, 'one.csv');
  fs.writeFileSync(p, 'a,Label\n1,x\n2,x\n3,x\n');
  await assert.rejects(train(base(p, { testSize: 0 })), /at least two classes/);
});

test('metrics by alert type: class names of two vocabularies compared through their types', async () => {
  const { metricsByType } = await import('./train.js');
  const file = {
    format: 'vigil-model' as const,
    version: 1 as const,
    type: 'svm' as const,
    features: ['a'],
    classes: ['BENIGN', 'DoS Hulk', 'DDoS', 'PortScan'],
    benignClass: 'BENIGN',
    classTypes: { 'DoS Hulk': 'dos', DDoS: 'dos', PortScan: 'port_scan' },
    params: {},
  };
  // Data labeled in the corpus vocabulary, appended after the model's classes.
  const ds = {
    x: new Float64Array(4),
    n: 4,
    d: 1,
    features: ['a'],
    y: Int32Array.from([0, 4, 4, 5]),
    classes: [...file.classes, 'dos', 'xss'],
  };
  const proba = Float64Array.from([0.7, 0.1, 0.1, 0.1, 0.1, 0.5, 0.3, 0.1, 0.2, 0.1, 0.1, 0.6, 0.25, 0.25, 0.25, 0.25]);
  const pred = Int32Array.from([0, 1, 3, 0]);
  const m = metricsByType(file, ds, { pred, proba, score: null, seconds: 0 }, 'BENIGN');
  assert.deepEqual(m.confusion_matrix.labels, ['benign', 'dos', 'port_scan', 'xss']);
  assert.deepEqual(m.confusion_matrix.matrix, [
    [1, 0, 0, 0],
    [0, 1, 1, 0],
    [0, 0, 0, 0],
    [1, 0, 0, 0],
  ]);
  assert.equal(m.per_class['dos']!.recall, 0.5);
  // P(dos) = P(DoS Hulk) + P(DDoS); detection AUC from 1 - P(benign): attacks 0.9, 0.8, 0.75 vs benign 0.3.
  assert.equal(m.detection_roc_auc, 1);
});
