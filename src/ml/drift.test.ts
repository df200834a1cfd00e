import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DriftMonitor,
  distribution,
  driftReference,
  driftScores,
  psi,
  readDriftReference,
  sampleRows,
  scoreDistribution,
} from './drift.js';

/** Deterministic pseudo-random values in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('distribution: decile edges with a tenth of the values per bin; ties collapse edges', () => {
  const v = Float64Array.from({ length: 1000 }, (_, i) => i);
  const d = distribution(v);
  assert.equal(d.edges.length, 9);
  assert.equal(d.edges[0], 100);
  for (const p of d.p) assert.ok(Math.abs(p - 0.1) < 0.002, String(p));
  const constant = distribution(new Float64Array(50).fill(3));
  assert.deepEqual(constant.edges, [3]);
  assert.deepEqual(constant.p, [1, 0]);
  assert.deepEqual(scoreDistribution(Float64Array.from([0.05, 0.95, 1])).p, [1 / 3, 0, 0, 0, 0, 0, 0, 0, 0, 2 / 3]);
});

test('psi: 0 for equal shares, grows with the shift, finite with empty bins', () => {
  assert.equal(psi([0.5, 0.5], [0.5, 0.5]), 0);
  const small = psi([0.5, 0.5], [0.55, 0.45]);
  const big = psi([0.5, 0.5], [0.9, 0.1]);
  assert.ok(small > 0 && small < 0.1 && big > 0.25, `${small} ${big}`);
  assert.ok(Number.isFinite(psi([1, 0], [0, 1])));
});

test('monitor: same population is stable, a shifted feature is named and significant', () => {
  const r = rng(7);
  const n = 5000;
  const features = ['a', 'b'];
  const x = Float64Array.from({ length: n * 2 }, () => r() * 100);
  const scores = Float64Array.from({ length: n }, () => r());
  const ref = driftReference(x, n, features, scores, 'attack_probability');
  const same = new DriftMonitor(ref, features);
  const shifted = new DriftMonitor(ref, features);
  const row = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    row[0] = r() * 100;
    row[1] = r() * 100;
    same.add(row, 0, r());
    row[1] = 60 + r() * 100; // b moved up
    shifted.add(row, 0, r());
  }
  const a = same.report();
  assert.equal(a.status, 'stable');
  assert.ok(a.features.every((f) => f.psi < 0.1));
  const b = shifted.report();
  assert.equal(b.status, 'significant');
  assert.equal(b.features[0]!.feature, 'b');
  assert.ok(b.features[0]!.psi > 0.25);
  assert.ok(b.score_psi! < 0.1);
  assert.equal(new DriftMonitor(ref, features).report().status, 'no_data');
});

test('references: round-trip through JSON, malformed ones are ignored; scores and sampling', () => {
  const x = Float64Array.from([1, 2, 3, 4, 5, 6]);
  const ref = driftReference(x, 3, ['f', 'g'], Float64Array.from([0.1, 0.2, 0.3]), 'anomaly_score');
  assert.deepEqual(readDriftReference(JSON.parse(JSON.stringify(ref)), ['f', 'g']), ref);
  assert.equal(readDriftReference(ref, ['f', 'missing']), null);
  assert.equal(readDriftReference({ features: { f: { edges: [1], p: [1] } } }, ['f']), null);
  assert.equal(readDriftReference(undefined, ['f']), null);
  // Attack probability = 1 - P(benign); without a benign class the top probability.
  const proba = Float64Array.from([0.9, 0.1, 0.2, 0.8]);
  assert.deepEqual(Array.from(driftScores(proba, null, 2, 2, 0)), [1 - 0.9, 1 - 0.2]);
  assert.deepEqual(Array.from(driftScores(proba, null, 2, 2, -1)), [0.9, 0.8]);
  const s = sampleRows(
    Float64Array.from({ length: 20 }, (_, i) => i),
    10,
    2,
    5,
  );
  assert.equal(s.n, 5);
  assert.deepEqual(Array.from(s.x.subarray(0, 4)), [0, 1, 4, 5]);
  const all = sampleRows(x, 3, 2);
  all.x[0] = 99;
  assert.equal(x[0], 1, 'a copy, never a view');
});
