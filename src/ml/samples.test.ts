import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURE_INDEX, FEATURE_NAMES } from '../flow/features.js';
import type { LoadedData } from './csv.js';
import { MlError } from './errors.js';
import {
  FEATURE_SET_ID,
  SampleMatrix,
  csvToSamples,
  normalizeLabel,
  quotas,
  readiness,
  typeOfLabel,
  vectorOf,
} from './samples.js';

const D = FEATURE_NAMES.length;

test('the feature-set id names the feature list', () => {
  assert.match(FEATURE_SET_ID, new RegExp(`^flow-${D}-[0-9a-f]{12}$`));
});

test('labels: trimmed, benign spellings unified, bad ones refused; types as the classifier maps them', () => {
  assert.equal(normalizeLabel('  DoS Hulk '), 'DoS Hulk');
  for (const b of ['BENIGN', 'Benign', 'normal']) assert.equal(normalizeLabel(b), 'benign');
  for (const bad of ['', '   ', 'a\nb', 'x'.repeat(65)]) assert.throws(() => normalizeLabel(bad), MlError);
  assert.equal(typeOfLabel('Portscan'), 'port_scan');
  assert.equal(typeOfLabel('benign'), 'benign');
  assert.equal(typeOfLabel('something new'), 'anomaly');
});

test('vectorOf: arrays in FEATURE_NAMES order, objects by any CICFlowMeter spelling; missing is NaN', () => {
  const arr = Array.from({ length: D }, (_, i) => (i === 3 ? null : i));
  const v = vectorOf(arr);
  assert.equal(v[2], 2);
  assert.ok(Number.isNaN(v[3]!));
  assert.throws(() => vectorOf([1, 2]), /FEATURE_NAMES order/);
  // The original CIC-IDS2017 spelling lands on Vigil's name.
  const o = vectorOf({ 'Total Fwd Packets': 7, 'Dst Port': 443 });
  assert.equal(o[FEATURE_INDEX['Total Fwd Packet']!], 7);
  assert.equal(o[FEATURE_INDEX['Dst Port']!], 443);
  assert.ok(Number.isNaN(o[FEATURE_INDEX['Flow Duration']!]!));
  assert.throws(() => vectorOf({ 'Not A Feature': 1 }), /unknown feature/);
});

test('SampleMatrix: features most rows have, rows that have them all; classes benign first', () => {
  const m = new SampleMatrix(2);
  const full = (k: number): Float64Array => Float64Array.from({ length: D }, (_, j) => j + k);
  for (let k = 0; k < 19; k++) m.add(full(k), k % 2 === 0 ? 'dos' : 'benign');
  // One sparse sample (two features): its row is skipped, the columns stay.
  m.add(vectorOf({ 'Flow Duration': 1, 'Dst Port': 2 }), 'port_scan');
  const l = m.build();
  assert.equal(l.ds.n, 19);
  assert.equal(l.ds.d, D);
  assert.equal(l.stats.skippedRows, 1);
  assert.deepEqual(l.ds.classes, ['benign', 'dos']);
  assert.equal(l.benignClass, 'benign');
  assert.deepEqual(l.stats.classCounts, { dos: 10, benign: 9 });
  assert.equal(l.ds.x[1 * D + 5], 6);
  // A feature half the rows lack is dropped, not padded.
  const h = new SampleMatrix();
  for (let k = 0; k < 10; k++) {
    const v = full(k);
    if (k % 2 === 0) v[FEATURE_INDEX['Payload Entropy Fwd']!] = NaN;
    h.add(v, 'x');
  }
  const hl = h.build();
  assert.deepEqual(hl.stats.droppedColumns, ['Payload Entropy Fwd']);
  assert.equal(hl.ds.d, D - 1);
  assert.equal(hl.ds.n, 10);
});

test('csvToSamples: flow columns mapped, other data refused', () => {
  const ok: LoadedData = {
    ds: {
      x: Float64Array.from({ length: 2 * 12 }, (_, i) => i),
      n: 2,
      d: 12,
      features: [...FEATURE_NAMES.slice(0, 11), 'weird'],
      y: Int32Array.from([0, 1]),
      classes: ['BENIGN', 'PortScan'],
    },
    encoding: { format: 'cicflowmeter', labelColumn: 'Label', columns: [] },
    benignClass: 'BENIGN',
    stats: {
      files: [],
      format: 'cicflowmeter',
      rows: 2,
      skippedRows: 0,
      droppedColumns: [],
      replaced: { posInf: 0, negInf: 0, nan: 0, nonNumeric: 0 },
      classCounts: {},
    },
  };
  const s = csvToSamples(ok);
  assert.deepEqual(s.labels, ['benign', 'PortScan']);
  assert.equal(s.mapped.length, 11);
  assert.deepEqual(s.ignored, ['weird']);
  assert.equal(s.x[D + 1], 13);
  assert.ok(Number.isNaN(s.x[20]!));
  const kdd = { ...ok, ds: { ...ok.ds, features: ok.ds.features.map((_, i) => `col${i}`) } };
  assert.throws(() => csvToSamples(kdd), /flow features/);
});

test('readiness and quotas', () => {
  assert.match(readiness({}, 'random_forest').reason!, /0 labeled/);
  assert.match(readiness({ dos: 20 }, 'random_forest').reason!, /two labels/);
  assert.equal(readiness({ dos: 20, benign: 2 }, 'random_forest').ready, true);
  assert.match(readiness({ dos: 20 }, 'isolation_forest').reason!, /benign/);
  assert.equal(readiness({ benign: 10 }, 'isolation_forest').ready, true);
  // Small classes whole, the rest share what is left.
  assert.deepEqual(quotas({ a: 5, b: 1000, c: 1000 }, 105), { a: 5, b: 50, c: 50 });
  assert.deepEqual(quotas({ a: 5, b: 7 }, 100), { a: 5, b: 7 });
});
