import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { DecodedBatch } from './batch.js';

/** Every typed-array column of a DecodedBatch, by name. */
function columns(d: DecodedBatch): [string, ArrayLike<number>][] {
  return Object.entries(d).filter((e): e is [string, ArrayLike<number>] => ArrayBuffer.isView(e[1]));
}

test('clearRange(n) resets packets [0, n) exactly as clear(i) does, and leaves the rest', () => {
  const n = 37;
  const a = new DecodedBatch(64);
  const b = new DecodedBatch(64);
  // Dirty every column of both batches the same way.
  for (const d of [a, b]) {
    for (const [, col] of columns(d)) {
      const c = col as unknown as { length: number; [k: number]: number };
      for (let k = 0; k < c.length; k++) c[k] = (k * 7 + 3) & 0x7f;
    }
  }
  for (let i = 0; i < n; i++) a.clear(i);
  b.clearRange(n);
  const colsA = columns(a);
  const colsB = new Map(columns(b));
  assert.ok(colsA.length > 30);
  for (const [name, col] of colsA) assert.deepEqual(Array.from(colsB.get(name)!), Array.from(col), name);
  // Packets past n are untouched.
  assert.equal(b.layers[n], (n * 7 + 3) & 0x7f);
});
