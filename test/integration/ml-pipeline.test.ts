/**
 * The model stage in `vigil analyze`: models trained by `vigil train` on labeled captures score the
 * flows of a run and raise `detector: classifier` / `detector: anomaly` alerts; `--no-ml` turns
 * them off; unusable models stop the run with the file and the reason. The shipped default model
 * is active in the default configuration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SHARED_DIR, tempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/reference.js';

const scan = path.join(SHARED_DIR, 'corpus', 'port_scan.pcap');
const benign = path.join(SHARED_DIR, 'corpus', 'benign.pcap');
const have = fs.existsSync(scan) && fs.existsSync(benign);

interface Eve {
  event_type: string;
  alert?: { signature_id: number; metadata?: Record<string, string[]> };
}
const modelAlerts = (f: string, detector: string): Eve[] =>
  fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Eve)
    .filter((e) => e.event_type === 'alert' && e.alert!.metadata?.['detector']?.[0] === detector);

/** Signatures and behaviour off, so every alert left comes from the models. */
const ONLY_ML = ['--no-builtin-rules', '--set', 'behavior.enabled=no', '--workers', '1'];

test('a trained classifier alerts on the flows it recognises; --no-ml silences it', { skip: !have }, async () => {
  const dir = tempDir();
  const model = path.join(dir, 'rf');
  const t = await runCli(['train', '--data', scan, '--model', 'random_forest', '--out', model, '--param', 'trees=10']);
  assert.equal(t.code, 0, t.stderr);
  const eve = path.join(dir, 'eve.json');
  const r = await runCli([
    'analyze',
    scan,
    '--json',
    '--eve',
    eve,
    ...ONLY_ML,
    '--set',
    `ml.classifier.model=${model}`,
    '--set',
    'ml.limit-seconds=0',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const sum = JSON.parse(r.stdout) as { flows: number; ml: Record<string, unknown>; alerts: number };
  assert.equal(sum.ml['classifier'], 'random_forest');
  assert.equal(sum.ml['flows_scored'], sum.flows);
  const alerts = modelAlerts(eve, 'classifier');
  // Most scan flows are recognised (it was trained on them); each alert says why.
  assert.ok(alerts.length > sum.flows / 2, `${alerts.length} classifier alerts for ${sum.flows} flows`);
  assert.equal(alerts.length, sum.alerts);
  for (const a of alerts) {
    const m = a.alert!.metadata!;
    assert.deepEqual(m['vigil_type'], ['port_scan']);
    assert.deepEqual(m['predicted_class'], ['port_scan']);
    assert.ok(Number(m['confidence']![0]) >= 0.9);
    assert.ok((m['top_features'] ?? []).length > 0, 'classifier alerts name their top features');
  }
  // The limiter folds a sweep into one alert per attacker and victim per window.
  const limited = await runCli(['analyze', scan, '--json', ...ONLY_ML, '--set', `ml.classifier.model=${model}`]);
  const ls = JSON.parse(limited.stdout) as { alerts: number; ml: Record<string, number> };
  assert.ok(ls.alerts > 0 && ls.alerts < alerts.length / 10, `${ls.alerts} alerts with the limiter`);
  assert.equal(ls.alerts + ls.ml['alerts_limited']!, alerts.length);
  const off = await runCli(['analyze', scan, '--json', ...ONLY_ML, '--set', `ml.classifier.model=${model}`, '--no-ml']);
  const os = JSON.parse(off.stdout) as { alerts: number; ml: Record<string, unknown> };
  assert.equal(os.alerts, 0);
  assert.equal(os.ml['classifier'], null);
});

test('an Isolation Forest baseline from a benign capture flags the scan as anomalous', { skip: !have }, async () => {
  const dir = tempDir();
  const model = path.join(dir, 'if');
  const t = await runCli([
    'train',
    '--data',
    benign,
    '--model',
    'isolation_forest',
    '--out',
    model,
    '--test-size',
    '0',
  ]);
  assert.equal(t.code, 0, t.stderr);
  const eve = path.join(dir, 'eve.json');
  const r = await runCli([
    'analyze',
    scan,
    '--json',
    '--eve',
    eve,
    ...ONLY_ML,
    '--set',
    'ml.classifier.model=none',
    '--set',
    `ml.anomaly.model=${model}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const alerts = modelAlerts(eve, 'anomaly');
  assert.ok(alerts.length > 0);
  for (const a of alerts) {
    const m = a.alert!.metadata!;
    assert.deepEqual(m['vigil_type'], ['anomaly']);
    assert.ok(Number(m['score']![0]) >= Number(m['threshold']![0]));
    assert.ok(m['top_features']!.length > 0);
  }
  // An Isolation Forest is not a classifier.
  const wrong = await runCli(['analyze', scan, '--set', `ml.classifier.model=${model}`]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /isolation_forest model cannot serve as the classifier/);
});

test('the shipped default model is active by default; a corrupt model stops the run with its reason', async () => {
  const tiny = path.join(SHARED_DIR, 'corpus', 'xss.pcap');
  if (!fs.existsSync(tiny)) return;
  const r = await runCli(['analyze', tiny, '--json', '--workers', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { ml: Record<string, unknown> }).ml['classifier'], 'random_forest');
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'model.json'), '{"format": "vigil-model", "ver');
  const bad = await runCli(['analyze', tiny, '--set', `ml.classifier.model=${dir}`]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /model\.json is not valid JSON/);
  const missing = await runCli(['analyze', tiny, '--set', `ml.classifier.model=${path.join(dir, 'nope')}`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no model in .*nope/);
  const thr = await runCli(['analyze', tiny, '--set', 'ml.classifier.confidence-threshold=1.5']);
  assert.notEqual(thr.code, 0);
  assert.match(thr.stderr, /confidence-threshold/);
});
