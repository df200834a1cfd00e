import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../../test/fuzz/prng.js';
import { forestFile as file, randomTree as anyTree } from '../../../test/helpers/random-forest.js';
import type { Tree } from '../../../test/helpers/random-forest.js';
import { flattenTrees, walkToLeaf } from './flat-trees.js';
import type { ModelFile, ScalerSpec } from './model.js';
import { buildRandomForest } from './random-forest.js';
import type { RandomForestOptions } from './random-forest.js';
import { binForest } from './tree-bins.js';
import { CODEGEN_MAX_DEPTH, CODEGEN_MAX_TREE_NODES, compileForest, leafRows, treeSource } from './tree-codegen.js';

/** Awkward thresholds: exact printing of these decides whether the compiled trees agree. */
const ODD = [0, -0, 0.1, 1 / 3, -2.5e-8, 5e-324, -1.7976931348623157e308, 1e21, 123456789.12345679, 2 ** 53 + 2];

/** A random tree whose thresholds (a third of them awkward) are also collected for the rows. */
function randomTree(rnd: () => number, d: number, C: number, maxNodes: number, thresholds: number[]): Tree {
  const pick = (): number => {
    const th = rnd() < 0.3 ? ODD[Math.floor(rnd() * ODD.length)]! : (rnd() - 0.5) * 10 ** Math.floor(rnd() * 8 - 3);
    thresholds.push(th);
    return th;
  };
  return anyTree(rnd, d, C, maxNodes, pick, { split: 0.6, pure: 0.6 });
}

/** Rows hitting thresholds exactly, beside them, NaN/±Infinity and random values. */
function randomRows(rnd: () => number, n: number, d: number, thresholds: number[]): Float64Array {
  const x = new Float64Array(n * d);
  for (let i = 0; i < x.length; i++) {
    const u = rnd();
    const th = thresholds[Math.floor(rnd() * thresholds.length)] ?? 0;
    if (u < 0.3) x[i] = th;
    else if (u < 0.4) x[i] = th + th * 1e-15;
    else if (u < 0.45) x[i] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][Math.floor(rnd() * 3)]!;
    else x[i] = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 8 - 3);
  }
  return x;
}

/**
 * The array walk's probabilities against the default scorer's, every tree binned (tree-bins.ts)
 * and a mix of compiled and binned trees (`mixAt`: largest compiled tree), value by value
 * (Object.is: bit-identical incl. -0).
 */
function assertSame(f: ModelFile, x: Float64Array, n: number, why: string, mixAt = 100): void {
  const C = f.classes.length;
  const a = new Float64Array(n * C);
  const before = Float64Array.from(x);
  buildRandomForest(f, { compile: false }).predictProba!(x, n, a);
  const others: [string, RandomForestOptions][] = [
    ['default', {}],
    ['all binned', { maxTreeNodes: 0, binned: true }],
    ['compiled and binned', { maxTreeNodes: mixAt, binned: true }],
  ];
  for (const [how, opts] of others) {
    const b = new Float64Array(n * C);
    buildRandomForest(f, opts).predictProba!(x, n, b);
    for (let i = 0; i < a.length; i++)
      if (!Object.is(a[i], b[i])) assert.fail(`${why}, ${how}: value ${i}: ${a[i]} vs ${b[i]}`);
  }
  assert.deepEqual(x, before, `${why}: the caller's rows were modified`);
}

test('compiled and binned trees score exactly as the array walk on random forests and rows', () => {
  const rnd = mulberry32(20261127);
  let binnable = 0;
  for (let it = 0; it < 60; it++) {
    const d = 1 + Math.floor(rnd() * 12);
    const C = 1 + Math.floor(rnd() * 6);
    const thresholds: number[] = [];
    const trees = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () =>
      randomTree(rnd, d, C, 1 + Math.floor(rnd() * 300), thresholds),
    );
    const scaler: ScalerSpec | undefined =
      it % 3 === 0
        ? {
            kind: 'standard',
            center: Array.from({ length: d }, () => rnd() - 0.5),
            scale: Array.from({ length: d }, (_, j) => (j === 0 ? 0 : rnd() * 3)),
          }
        : undefined;
    const f = file(trees, d, C, scaler);
    // Every tree here is small enough to compile: the comparison is of the compiled code.
    const flat = flattenTrees(trees, d, C, 'test');
    assert.ok(compileForest(flat, C).every((fn) => fn !== null));
    if (binForest(flat, d) !== null) binnable++;
    const n = 1 + Math.floor(rnd() * 600); // over two blocks sometimes
    assertSame(f, randomRows(rnd, n, d, thresholds), n, `forest ${it}`);
  }
  // The others (over 255 distinct thresholds on a feature) keep the array walk: checked too.
  assert.ok(binnable >= 40, `${binnable} of 60 forests binnable`);
});

test('trees over the size or depth limits keep the array walk, with the same results', () => {
  const rnd = mulberry32(5);
  const d = 4;
  const C = 3;
  const thresholds: number[] = [];
  const small = randomTree(rnd, d, C, 50, thresholds);
  const big = randomTree(rnd, d, C, CODEGEN_MAX_TREE_NODES + 500, thresholds);
  // A chain deeper than the nesting limit: each right child splits again.
  const deep: Tree = { feature: [], threshold: [], left: [], value: [1, 0, 0, 0, 1, 0] };
  for (let i = 0; i < CODEGEN_MAX_DEPTH + 5; i++) {
    deep.feature.push(i % d, -1);
    deep.threshold.push(i, 0);
    deep.left.push(2 * i + 1, 0);
  }
  deep.feature.push(-1);
  deep.threshold.push(0);
  deep.left.push(3);
  for (let i = 0; i < CODEGEN_MAX_DEPTH + 5; i++) thresholds.push(i);
  const trees = [small, big, deep, small];
  assert.ok(big.feature.length > CODEGEN_MAX_TREE_NODES);
  const compiled = compileForest(flattenTrees(trees, d, C, 'test'), C);
  assert.deepEqual(
    compiled.map((fn) => fn !== null),
    [true, false, false, true],
  );
  assertSame(file(trees, d, C), randomRows(rnd, 700, d, thresholds), 700, 'fallback');
});

test('shared subtrees (a valid DAG) cannot blow up the generated source', () => {
  // Layer k has two nodes, both splitting into layer k + 1: 2^60 root-to-leaf paths.
  const layers = 60;
  const t: Tree = { feature: [0], threshold: [0], left: [1], value: [1, 0] };
  for (let k = 0; k < layers; k++) {
    const next = 1 + 2 * (k + 1);
    const last = k === layers - 1;
    t.feature.push(last ? -1 : 0, last ? -1 : 0);
    t.threshold.push(k, k);
    t.left.push(last ? 0 : next, last ? 0 : next);
  }
  const flat = flattenTrees([t], 1, 2, 'test');
  assert.equal(treeSource(flat, 0, CODEGEN_MAX_TREE_NODES), null);
  assert.deepEqual(compileForest(flat, 2), [null]);
  assertSame(file([t], 1, 2), Float64Array.from([-1, 0, 10, 59, 100, Number.NaN]), 6, 'dag');
});

test('warm-up rows: one per reachable leaf, each reaching its own leaf', () => {
  const rnd = mulberry32(77);
  for (let it = 0; it < 40; it++) {
    const d = 1 + Math.floor(rnd() * 6);
    const thresholds: number[] = [];
    const flat = flattenTrees([randomTree(rnd, d, 3, 1 + Math.floor(rnd() * 400), thresholds)], d, 3, 'test');
    const { rows, n } = leafRows(flat, 0, d);
    const leaves = new Set<number>();
    for (let r = 0; r < n; r++) leaves.add(walkToLeaf(flat, 0, rows, r * d));
    assert.equal(leaves.size, n, `tree ${it}: every row reaches a different leaf`);
    let total = 0;
    for (let i = 0; i < flat.feature.length; i++) if (flat.feature[i]! < 0) total++;
    assert.ok(n <= total && n >= 1);
  }
  // A complete tree splitting on a new feature at each level: every leaf is reachable, so each gets a row.
  const depth = 6;
  const t: Tree = { feature: [], threshold: [], left: [], value: [1, 0] };
  for (let i = 0; i < 2 ** (depth + 1) - 1; i++) {
    const level = Math.floor(Math.log2(i + 1));
    const leaf = level === depth;
    t.feature.push(leaf ? -1 : level);
    t.threshold.push(leaf ? 0 : (i % 5) - 2.5);
    t.left.push(leaf ? 0 : 2 * i + 1);
  }
  const flat = flattenTrees([t], depth, 2, 'test');
  const { rows, n } = leafRows(flat, 0, depth);
  assert.equal(n, 2 ** depth);
  const leaves = new Set<number>();
  for (let r = 0; r < n; r++) leaves.add(walkToLeaf(flat, 0, rows, r * depth));
  assert.equal(leaves.size, 2 ** depth);
  // The row budget bounds a DAG's paths.
  assert.equal(leafRows(flat, 0, depth, 5).n, 5);
});
