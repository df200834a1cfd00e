import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../../test/fuzz/prng.js';
import { chainTree, forestFile as file, randomTree } from '../../../test/helpers/random-forest.js';
import { flattenTrees } from './flat-trees.js';
import type { ModelFile } from './model.js';
import { BINNED_MIN_TREE_NODES, binnedBlockRows, buildRandomForest } from './random-forest.js';
import { BINNED_MAX_THRESHOLDS, binForest, binRows, walkBinned } from './tree-bins.js';

/** The array walk against every tree on the binned walk, value by value. */
function assertBinnedSame(f: ModelFile, x: Float64Array, n: number, why: string): void {
  const C = f.classes.length;
  const a = new Float64Array(n * C);
  const b = new Float64Array(n * C);
  buildRandomForest(f, { compile: false }).predictProba!(x, n, a);
  buildRandomForest(f, { maxTreeNodes: 0, binned: true }).predictProba!(x, n, b);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`${why}: value ${i}: ${a[i]} vs ${b[i]}`);
}

/** Next double above / below v (finite v). */
function nextUp(v: number): number {
  if (v === 0) return 5e-324;
  const b = new Float64Array([v]);
  const i = new BigInt64Array(b.buffer);
  i[0] = i[0]! + (v > 0 ? 1n : -1n);
  return b[0]!;
}
const nextDown = (v: number): number => -nextUp(-v);

test('bins decide as the float64 comparison: thresholds, their neighbours, ±0, ±Infinity, NaN', () => {
  const ths = [-1e300, -2.5, -5e-324, -0, 0, 5e-324, 1 / 3, 0.1, 1e21, 2 ** 53 + 2];
  const t = chainTree(ths);
  const flat = flattenTrees([t], 1, 2, 'test');
  const b = binForest(flat, 1)!;
  assert.ok(b !== null);
  const xs = [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN];
  for (const th of ths) xs.push(th, nextUp(th), nextDown(th));
  const x = Float64Array.from(xs);
  const bins = new Uint8Array(x.length);
  binRows(b, x, x.length, 1, bins, 0);
  const leaf = new Int32Array(x.length);
  walkBinned(b.nodes, bins, 1, 0, x.length, leaf);
  for (let r = 0; r < x.length; r++) {
    // The reference: the array walk on the raw value (NaN <= t is false: right at every node).
    let node = 0;
    while (flat.feature[node]! >= 0) node = x[r]! <= flat.threshold[node]! ? flat.left[node]! : flat.left[node]! + 1;
    assert.equal(leaf[r], node, `x = ${x[r]}`);
  }
  // NaN passes every edge (-0 and 0 are one edge: 9 distinct thresholds).
  assert.equal(bins[2], 9);
});

test('binned forests score as the array walk over several blocks, row counts not a multiple of 8', () => {
  const rnd = mulberry32(77);
  // Wide rows make the binned block small: 1,300 rows are several blocks.
  const d = 3000;
  const C = 4;
  assert.ok(binnedBlockRows(d) < 1300 / 2);
  // 200 thresholds: the unrolled search (129–255 edges per feature) is used.
  const pool = Array.from({ length: 200 }, () => (rnd() - 0.5) * 100);
  const pick = (): number => pool[Math.floor(rnd() * pool.length)]!;
  const trees = [
    randomTree(rnd, 20, C, 3000, pick),
    randomTree(rnd, 20, C, 1, pick), // a lone leaf: the root is a leaf
    randomTree(rnd, 20, C, 500, pick),
  ];
  const f = file(trees, d, C);
  for (const n of [1, 7, 8, 9, 1300]) {
    const x = new Float64Array(n * d);
    for (let i = 0; i < x.length; i++) {
      const u = rnd();
      x[i] = u < 0.4 ? pick() : u < 0.45 ? Number.NaN : (rnd() - 0.5) * 120;
    }
    assertBinnedSame(f, x, n, `${n} rows`);
  }
});

test('a feature with more distinct thresholds than a byte holds keeps the array walk', () => {
  const rnd = mulberry32(3);
  const d = 2;
  const C = 3;
  let next = 0;
  const tree = randomTree(rnd, d, C, 4 * (BINNED_MAX_THRESHOLDS + 10) * d, () => next++);
  const flat = flattenTrees([tree], d, C, 'test');
  assert.equal(binForest(flat, d), null);
  const n = 300;
  const x = Float64Array.from({ length: n * d }, () => Math.floor(rnd() * next) - 0.5);
  assertBinnedSame(file([tree], d, C), x, n, 'too many thresholds');
});

test('by default large trees are binned, small ones compiled: same probabilities as the array walk', () => {
  const rnd = mulberry32(11);
  const d = 3;
  const C = 3;
  const pool = Array.from({ length: 100 }, () => (rnd() - 0.5) * 10);
  const pick = (): number => pool[Math.floor(rnd() * pool.length)]!;
  // One tree over BINNED_MIN_TREE_NODES pays for binning 3 features; the small ones are compiled.
  const trees = [
    randomTree(rnd, d, C, 60, pick),
    randomTree(rnd, d, C, BINNED_MIN_TREE_NODES + 400, pick, { split: 0.9 }),
    randomTree(rnd, d, C, 200, pick),
  ];
  assert.ok(trees[1]!.feature.length >= BINNED_MIN_TREE_NODES);
  assert.ok(binForest(flattenTrees(trees, d, C, 'test'), d) !== null);
  const n = 700;
  const x = Float64Array.from({ length: n * d }, () => (rnd() < 0.5 ? pick() : (rnd() - 0.5) * 12));
  const a = new Float64Array(n * C);
  const b = new Float64Array(n * C);
  buildRandomForest(file(trees, d, C), { compile: false }).predictProba!(x, n, a);
  buildRandomForest(file(trees, d, C)).predictProba!(x, n, b);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`value ${i}: ${a[i]} vs ${b[i]}`);
});
