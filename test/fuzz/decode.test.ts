/**
 * Fuzz properties of the packet decoders (decode-fuzz.ts): random bytes, every truncation of
 * real and synthetic packets, and mutations, for every link type. Time-capped: ~3 s, 30 s under CI.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { fuzzDecoders, fuzzSeeds } from './decode-fuzz.js';

const TIME_MS = process.env['CI'] ? 30_000 : 3_000;

test('decoders: no exception or internal error on random, truncated and mutated packets', () => {
  assert.ok(fuzzSeeds().length > 100);
  const r = fuzzDecoders(50_000_000, 0xc0ffee, TIME_MS);
  assert.ok(r.iterations > 10_000, `ran ${r.iterations} iterations`);
  assert.equal(r.exceptions, 0);
  assert.equal(r.outOfBounds, 0, 'offsets and lengths stay inside the packet');
  assert.ok(r.defragPeakBytes <= r.defragMaxBytes, 'defrag memory within its cap');
  assert.equal(r.divergent, 0, 'still decodes valid packets like a fresh decoder');
});

test('decoders: fuzzing is reproducible for a seed', () => {
  const a = fuzzDecoders(3_000, 42);
  const b = fuzzDecoders(3_000, 42);
  assert.deepEqual(a, b);
});
