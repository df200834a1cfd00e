import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FixedWindowLimiter, MAX_KEYS, parseLimits } from './rate-limit.js';

test('parseLimits reads Flask-Limiter notation', () => {
  assert.deepEqual(parseLimits('200 per hour; 50 per minute'), [
    { max: 200, windowS: 3600 },
    { max: 50, windowS: 60 },
  ]);
  assert.deepEqual(parseLimits('10/minute'), [{ max: 10, windowS: 60 }]);
  assert.deepEqual(parseLimits('5 per 30 seconds, 1000 per day'), [
    { max: 5, windowS: 30 },
    { max: 1000, windowS: 86_400 },
  ]);
  for (const bad of ['', 'ten per minute', '10 per fortnight', '0 per minute', '10 per 0 minutes', '10'])
    assert.throws(() => parseLimits(bad), /rate limit/, bad);
});

test('two fixed windows: the minute refuses first, the hour after its count; refusals do not count', () => {
  const l = new FixedWindowLimiter();
  const rules = parseLimits('5 per hour; 3 per minute');
  const t0 = 1_000_000;
  for (let i = 0; i < 3; i++) assert.equal(l.hit('a', 'r', rules, t0 + i).allowed, true);
  const d = l.hit('a', 'r', rules, t0 + 10_000);
  assert.equal(d.allowed, false);
  assert.equal(d.retryAfterS, 50);
  // Next minute: two more fit the hour, then the hour refuses until its end.
  assert.equal(l.hit('a', 'r', rules, t0 + 60_000).allowed, true);
  assert.equal(l.hit('a', 'r', rules, t0 + 60_001).allowed, true);
  const h = l.hit('a', 'r', rules, t0 + 120_000);
  assert.equal(h.allowed, false);
  assert.equal(h.retryAfterS, 3600 - 120);
  // Other clients and routes have their own counters.
  assert.equal(l.hit('b', 'r', rules, t0 + 120_000).allowed, true);
  assert.equal(l.hit('a', 'r2', rules, t0 + 120_000).allowed, true);
  assert.equal(l.hit('a', 'r', rules, t0 + 3_600_000).allowed, true);
});

test('the key table stays bounded', () => {
  const l = new FixedWindowLimiter();
  const rules = parseLimits('1 per hour');
  for (let i = 0; i < MAX_KEYS + 500; i++) l.hit(`c${i}`, 'r', rules, 0);
  assert.ok(l.size <= MAX_KEYS);
  // Expired windows are swept first.
  l.hit('late', 'r', rules, 3_600_001);
  assert.ok(l.size <= MAX_KEYS);
});
