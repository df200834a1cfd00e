import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateTracker } from './rate.js';
import type { RateSpec } from './compile.js';

const spec = (
  type: string,
  count: number,
  seconds: number,
  multiplier: number | null = null,
  track = 'by_src',
): RateSpec => ({
  type,
  track,
  count,
  seconds,
  multiplier,
});
const S = 1e6;

/** Which of `n` matches, one per second from t=0, raise an alert. */
function run(s: RateSpec, n: number, every = 1): number[] {
  const t = new RateTracker();
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (t.threshold(1, s, '10.0.0.1', '10.0.0.2', 7, i * every * S)) out.push(i + 1);
  return out;
}

test('threshold types as in Suricata', () => {
  assert.deepEqual(run(spec('limit', 2, 60), 5), [1, 2]);
  assert.deepEqual(run(spec('threshold', 2, 60), 5), [2, 4]);
  assert.deepEqual(run(spec('both', 3, 60), 6), [3]);
  assert.deepEqual(run(spec('backoff', 1, 0, 10), 120), [1, 10, 100]);
  // A new window starts after `seconds`.
  assert.deepEqual(run(spec('limit', 1, 10), 25), [1, 11, 21]);
});

test('tracking separates sources; by_rule does not', () => {
  const t = new RateTracker();
  const s = spec('limit', 1, 60);
  assert.equal(t.threshold(1, s, 'a', 'x', 1, 0), true);
  assert.equal(t.threshold(1, s, 'b', 'x', 1, 0), true);
  assert.equal(t.threshold(1, s, 'a', 'y', 1, 0), false);
  const r = spec('limit', 1, 60, null, 'by_rule');
  assert.equal(t.threshold(2, r, 'a', 'x', 1, 0), true);
  assert.equal(t.threshold(2, r, 'b', 'y', 2, 0), false);
});

test('detection_filter matches only after count matches in the window', () => {
  const t = new RateTracker();
  const s = spec('detection_filter', 3, 60);
  const got = [1, 2, 3, 4, 5].map((i) => t.detectionFilter(1, s, 'a', 'b', 1, i * S));
  assert.deepEqual(got, [false, false, false, true, true]);
});
