/**
 * `vigil train` and `vigil evaluate` as a user runs them. The plumbing runs on small CSV fixtures
 * written here, through a test-only nearest-centroid model registered into a child process
 * (test/helpers/centroid-model.ts), so it does not depend on any real model's accuracy; one run
 * on a slice of ../shared/data/datasets/cicids2017 uses a real model type when one is registered.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED_DIR, tempDir } from '../helpers/paths.js';
import { TRAINERS } from '../../src/ml/trainers.js';

/** The CLI of the same build as this test (dist/ or a private --outDir). */
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = tempDir('vigil-train-cli-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A wrapper that registers the test models, then runs the CLI with the remaining arguments. */
const WRAPPER = path.join(dir, 'vigil-with-test-models.mjs');
fs.writeFileSync(
  WRAPPER,
  `import { registerTestModels } from ${JSON.stringify(new URL('../helpers/centroid-model.js', import.meta.url).href)};\n` +
    `registerTestModels('svm', true);\n` +
    `await import(${JSON.stringify(new URL('../../src/cli/main.js', import.meta.url).href)});\n`,
);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(entry: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [entry, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}
const vigil = (args: string[]): Promise<Run> => run(WRAPPER, args);

/**
 * A CICFlowMeter-style CSV (original spellings, leading spaces, identifiers, Infinity/NaN): BENIGN
 * flows are short, DoS long, PortScan one packet.
 */
function fixture(name: string, perClass: number, offset = 0): string {
  const lines = [' Flow ID, Source IP, Destination Port, Flow Duration, Total Fwd Packets, Flow Bytes/s, Label'];
  for (let i = 0; i < perClass; i++) {
    const j = (i * 7 + offset) % 10;
    lines.push(`f${i}a,10.0.0.${i % 250},80,${100 + j},${5 + (j % 3)},${j === 3 ? 'Infinity' : 1000 + j},BENIGN`);
    lines.push(`f${i}b,10.0.1.${i % 250},80,${90000 + j * 10},${200 + j},${j === 4 ? 'NaN' : 50 + j},DoS`);
    lines.push(`f${i}c,10.0.2.${i % 250},${1000 + i},${3 + (j % 2)},1,${j === 5 ? 'Infinity' : 0},PortScan`);
  }
  const p = path.join(dir, name);
  fs.writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

interface Evaluation {
  accuracy: number;
  macro_f1: number;
  weighted_f1: number;
  per_class: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  confusion_matrix: { labels: string[]; matrix: number[][] };
  model: { type: string; features: number; classes: string[] };
}

test('train --json writes model.json + metrics.json; evaluate --json prints the documented keys', async () => {
  const data = fixture('train.csv', 40);
  const out = path.join(dir, 'model');
  const t = await vigil(['train', '--data', data, '--model', 'svm', '--out', out, '--json', '--seed', '3']);
  assert.equal(t.code, 0, t.stderr);
  const rep = JSON.parse(t.stdout) as {
    test: Evaluation;
    split: { train_rows: number; test_rows: number };
    out: string;
    data: { rows: number; replaced_values: { posInf: number; nan: number } };
  };
  assert.equal(rep.data.rows, 120);
  assert.equal(rep.split.train_rows + rep.split.test_rows, 120);
  assert.equal(rep.split.test_rows, 24);
  assert.ok(rep.data.replaced_values.posInf > 0 && rep.data.replaced_values.nan > 0);
  assert.equal(rep.test.macro_f1, 1);
  assert.deepEqual(fs.readdirSync(out).sort(), ['metrics.json', 'model.json']);
  const model = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')) as { features: string[] };
  assert.deepEqual(model.features, ['Dst Port', 'Flow Duration', 'Total Fwd Packet', 'Flow Bytes/s']);

  const test = fixture('test.csv', 10, 5);
  const e = await vigil(['evaluate', '--model', out, '--data', test, '--json']);
  assert.equal(e.code, 0, e.stderr);
  const ev = JSON.parse(e.stdout) as Evaluation;
  for (const k of ['accuracy', 'macro_f1', 'weighted_f1', 'per_class', 'confusion_matrix']) assert.ok(k in ev, k);
  assert.deepEqual(ev.confusion_matrix.labels, ['BENIGN', 'DoS', 'PortScan']);
  assert.equal(
    ev.confusion_matrix.matrix.flat().reduce((a, b) => a + b, 0),
    30,
  );
  assert.equal(ev.per_class['DoS']!.support, 10);
  assert.equal(ev.macro_f1, 1);
  assert.equal(ev.model.type, 'svm');

  // Human output: a per-class table and the averages.
  const h = await vigil(['evaluate', '--model', out, '--data', test]);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /macro F1 +1\.0000/);
  assert.match(h.stdout, /PortScan +1\.0000 +1\.0000 +1\.0000 +10/);
});

test('model store: --store --activate, evaluate through the store, corrupt model refused', async () => {
  const data = fixture('store.csv', 20);
  const store = path.join(dir, 'store');
  const t = await vigil(['train', '--data', data, '--model', 'svm', '--store', store, '--activate', '--json']);
  assert.equal(t.code, 0, t.stderr);
  assert.deepEqual((JSON.parse(t.stdout) as { store: unknown }).store, { dir: store, version: 'v1', active: true });
  const e = await vigil(['evaluate', '--model', store, '--data', data, '--json']);
  assert.equal(e.code, 0, e.stderr);
  fs.writeFileSync(path.join(store, 'v1', 'model.json'), '{"format":"vigil-model",');
  const bad = await vigil(['evaluate', '--model', store, '--data', data]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^vigil: .*model\.json is not valid JSON/);
});

test('usage and input errors: one line, stable exit codes', async () => {
  const data = fixture('err.csv', 5);
  const cases: [string[], number, RegExp][] = [
    [['train', '--model', 'svm', '--out', dir], 2, /--data is required/],
    [
      ['train', '--data', data, '--model', 'quantum', '--out', dir],
      2,
      /unknown model type "quantum" \(available: .*svm/,
    ],
    [['train', '--data', data, '--model', 'svm', '--out', dir, '--param', 'nope=1'], 2, /unknown parameter "nope"/],
    [['train', '--data', data, '--model', 'svm', '--out', dir, '--scaler', 'minmax'], 2, /--scaler expects/],
    [
      ['train', '--data', data, '--model', 'svm', '--out', dir, '--label-column', 'Class'],
      1,
      /no label column "Class"/,
    ],
    [['train', '--data', path.join(dir, 'none.csv'), '--model', 'svm', '--out', dir], 1, /cannot read/],
    [['evaluate', '--model', path.join(dir, 'nomodel'), '--data', data], 1, /no model in .*model\.json not found/],
  ];
  for (const [args, code, re] of cases) {
    const r = await vigil(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

const C2 = path.join(SHARED_DIR, 'corpus', 'tr-c2.pcap');
test('train on a capture with its truth file', { skip: !fs.existsSync(C2) }, async () => {
  const out = path.join(dir, 'pcap-model');
  const r = await vigil(['train', '--data', C2, '--model', 'svm', '--out', out, '--json', '--workers', '1']);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as {
    data: { format: string; classes: Record<string, number> };
    model: { classes: string[] };
  };
  assert.equal(rep.data.format, 'pcap');
  assert.deepEqual(rep.model.classes, ['benign', 'malware']);
  // The model names flow features only, so it can score live flows.
  const model = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')) as { features: string[] };
  const { FEATURE_NAMES } = await import('../../src/flow/features.js');
  assert.ok(model.features.every((f) => FEATURE_NAMES.includes(f)));
});

const CIC = path.join(SHARED_DIR, 'data', 'datasets', 'cicids2017');
const real = TRAINERS.find((t) => t.type === 'random_forest') ?? TRAINERS.find((t) => t.supervised);
test(
  'real data: a slice of CIC-IDS2017 with a real model type',
  { skip: !fs.existsSync(CIC) ? 'no shared datasets' : real === undefined ? 'no real model type registered' : false },
  async () => {
    const slice = path.join(dir, 'cic-slice');
    fs.mkdirSync(slice);
    // The smaller per-label files (about 700 rows): quick, and several classes are rare.
    for (const f of [
      'Botnet.csv',
      'Heartbleed.csv',
      'Infiltration.csv',
      'Web_Attack_-_Brute_Force.csv',
      'Web_Attack_-_XSS.csv',
    ])
      fs.copyFileSync(path.join(CIC, f), path.join(slice, f));
    const out = path.join(dir, 'cic-model');
    const params = real!.type === 'random_forest' ? ['--param', 'trees=20'] : [];
    const r = await run(CLI, ['train', '--data', slice, '--model', real!.type, '--out', out, '--json', ...params]);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as { test: Evaluation; data: { rows: number; format: string } };
    assert.equal(rep.data.format, 'cicflowmeter');
    assert.equal(rep.data.rows, 515 + 11 + 36 + 73 + 18);
    assert.ok(rep.test.macro_f1 > 0.5, String(rep.test.macro_f1));
    const e = await run(CLI, ['evaluate', '--model', out, '--data', path.join(slice, 'Botnet.csv'), '--json']);
    assert.equal(e.code, 0, e.stderr);
    assert.equal((JSON.parse(e.stdout) as Evaluation).per_class['Botnet']!.support, 515);
    // Reloaded from disk, the model gives the figures measured at training time on the same rows.
    const heldOut = path.join(dir, 'held-out.csv');
    fs.copyFileSync(path.join(CIC, 'Web_Attack_-_SQL_Injection.csv'), heldOut);
    const out2 = path.join(dir, 'cic-model-2');
    const r2 = await run(CLI, [
      'train',
      '--data',
      slice,
      '--test-data',
      heldOut,
      '--model',
      real!.type,
      '--out',
      out2,
      '--json',
      ...params,
    ]);
    assert.equal(r2.code, 0, r2.stderr);
    const e2 = await run(CLI, ['evaluate', '--model', out2, '--data', heldOut, '--json']);
    assert.equal(e2.code, 0, e2.stderr);
    const atTraining = (JSON.parse(r2.stdout) as { test: Evaluation }).test;
    const reloaded = JSON.parse(e2.stdout) as Evaluation;
    assert.equal(reloaded.accuracy, atTraining.accuracy);
    assert.deepEqual(reloaded.per_class, atTraining.per_class);
    assert.deepEqual(reloaded.confusion_matrix, atTraining.confusion_matrix);
  },
);
