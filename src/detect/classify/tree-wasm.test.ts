import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../../test/fuzz/prng.js';
import { chainTree, forestFile as file, randomTree } from '../../../test/helpers/random-forest.js';
import type { Tree } from '../../../test/helpers/random-forest.js';
import { flattenTrees, prepareBlock } from './flat-trees.js';
import type { ModelFile } from './model.js';
import { BINNED_MIN_TREE_NODES, binnedBlockRows, buildRandomForest } from './random-forest.js';
import type { RandomForestOptions } from './random-forest.js';
import { binForest, binRows } from './tree-bins.js';
import { buildBinnedWasm } from './tree-wasm.js';
import type { WasmKernelOptions } from './tree-wasm.js';

/** Probabilities of `opts` against the array walk's, value by value (Object.is: bit for bit). */
function assertSame(f: ModelFile, x: Float64Array, n: number, opts: RandomForestOptions, why: string): void {
  const C = f.classes.length;
  const a = new Float64Array(n * C);
  const b = new Float64Array(n * C);
  buildRandomForest(f, { compile: false }).predictProba!(x, n, a);
  buildRandomForest(f, opts).predictProba!(x, n, b);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`${why}: value ${i}: ${a[i]} vs ${b[i]}`);
}

/** The kernel's layout for these trees (asserting one is built). */
function layoutOf(trees: Tree[], d: number, C: number, opts: WasmKernelOptions = {}): string {
  const flat = flattenTrees(trees, d, C, 'test');
  const bf = binForest(flat, d);
  assert.ok(bf !== null);
  const w = buildBinnedWasm(flat, bf, d, C, 256, 1024, opts);
  assert.ok(w !== null, 'WebAssembly kernel built');
  return w.nodes;
}

const KERNELS: WasmKernelOptions[] = [
  {},
  { lanes: 1 },
  { lanes: 3 },
  { lanes: 16 },
  { simd: false },
  { perTree: true },
  { perTree: true, lanes: 5 },
  { unroll: 2 },
  { unroll: 3, lanes: 3, perTree: true },
  { nodes: 'i64' },
  { nodes: 'i64', lanes: 16, simd: false },
  { binRows: 1 },
  { binRows: 3, lanes: 5 },
];

test('the wasm kernel scores as the array walk: layouts, lanes, SIMD on and off, 1 to 300 classes', () => {
  const rnd = mulberry32(5);
  // 300 classes: pure leaves of class 255 and above keep their class in LEAFC, not the node word.
  for (const [C, distinct] of [
    [1, 40],
    [3, 200],
    [8, 200],
    [5, 3],
    [300, 40],
  ] as const) {
    const d = 6;
    // 200 thresholds per feature: the unrolled bin search (129–255 edges); 40 or 3: the loop.
    const pool = Array.from({ length: distinct }, () => (rnd() - 0.5) * 100);
    const pick = (): number => pool[Math.floor(rnd() * pool.length)]!;
    const trees = [
      randomTree(rnd, d, C, 3000, pick),
      randomTree(rnd, d, C, 1, pick), // a lone leaf: the root is a leaf
      randomTree(rnd, d, C, 700, pick, { split: 0.9 }),
      randomTree(rnd, d, C, 3, pick),
    ];
    assert.equal(layoutOf(trees, d, C), 'carry4');
    const f = file(trees, d, C);
    for (const n of C > 8 ? [301] : [1, 7, 8, 9, 301]) {
      const x = new Float64Array(n * d);
      for (let i = 0; i < x.length; i++) {
        const u = rnd();
        x[i] = u < 0.5 ? pick() : u < 0.55 ? Number.NaN : u < 0.58 ? -0 : (rnd() - 0.5) * 120;
      }
      assertSame(f, x, n, { maxTreeNodes: 0, binned: true, wasm: false }, `JavaScript, C ${C}, ${n} rows`);
      for (const k of KERNELS)
        assertSame(f, x, n, { maxTreeNodes: 0, binned: true, wasm: k }, `${JSON.stringify(k)}, C ${C}, ${n} rows`);
    }
  }
});

test('the wasm bins are the JavaScript bins: thresholds, their neighbours, ±0, ±Infinity', () => {
  const ths = [-1e300, -2.5, -5e-324, -0, 0, 5e-324, 1 / 3, 0.1, 1e21, 2 ** 53 + 2];
  const t = chainTree(ths);
  const flat = flattenTrees([t], 1, 2, 'test');
  const bf = binForest(flat, 1)!;
  const xs = [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, -Number.MAX_VALUE, Number.MAX_VALUE];
  for (const th of ths) {
    const b = new Float64Array([th]);
    const i = new BigInt64Array(b.buffer);
    xs.push(th);
    // Neighbours one ulp away (the bit pattern ± 1; ±0 give the smallest subnormals or NaN).
    for (const step of [1n, -1n]) {
      i[0] = new BigInt64Array(new Float64Array([th]).buffer)[0]! + step;
      if (!Number.isNaN(b[0])) xs.push(b[0]!);
    }
  }
  const n = xs.length;
  const w = buildBinnedWasm(flat, bf, 1, 2, 256, 256);
  assert.ok(w !== null);
  // Staged as the scorer does (prepareBlock: ±Infinity become 0).
  prepareBlock(Float64Array.from(xs), 0, n, 1, undefined, w.rows);
  w.bin(n, 0);
  const js = new Uint8Array(n);
  binRows(bf, w.rows, n, 1, js, 0);
  assert.deepEqual([...w.bins.subarray(0, n)], [...js]);
  // Unprepared values too (the kernel's search is the same `!(x <= e)`).
  w.rows.set(xs);
  w.bin(n, 0);
  binRows(bf, w.rows, n, 1, js, 0);
  assert.deepEqual([...w.bins.subarray(0, n)], [...js]);
  assert.equal(w.bins[1], 9, '+Infinity passes every edge (-0 and 0 are one: 9 distinct)');
});

test('several blocks, and compiled trees mixed with binned ones, add up in tree order', () => {
  const rnd = mulberry32(21);
  // 200 features: a binned block of 1 MB is 5,120 rows: 11,000 rows are three.
  const d = 200;
  const C = 3;
  const n = 11_000;
  const blockBytes = 1 << 20;
  assert.ok(n > 2 * binnedBlockRows(d, blockBytes));
  const pool = Array.from({ length: 150 }, () => (rnd() - 0.5) * 10);
  const pick = (): number => pool[Math.floor(rnd() * pool.length)]!;
  const trees = [
    randomTree(rnd, 30, C, 60, pick),
    randomTree(rnd, 30, C, BINNED_MIN_TREE_NODES + 400, pick, { split: 0.9 }),
    randomTree(rnd, 30, C, 200, pick),
    randomTree(rnd, 30, C, BINNED_MIN_TREE_NODES + 900, pick, { split: 0.9 }),
  ];
  const x = Float64Array.from({ length: n * d }, () => (rnd() < 0.5 ? pick() : (rnd() - 0.5) * 12));
  const f = file(trees, d, C);
  assertSame(f, x, n, { maxTreeNodes: 0, binned: true, blockBytes }, 'all binned');
  // binned: true with the default compile limit: the small trees compiled, the rest binned.
  assertSame(f, x, n, { binned: true, blockBytes }, 'compiled + binned');
  assertSame(
    f,
    x,
    n,
    { binned: true, wasm: { perTree: true }, blockBytes },
    'compiled + binned, one function per tree',
  );
});

test('trees over 65,535 nodes or over 256 features take the i64 layout, same probabilities', () => {
  const rnd = mulberry32(8);
  const C = 2;
  // A chain of 33,000 splits (66,001 nodes) on few thresholds: too many slots for carry4.
  const pool = [-1, 0, 1, 2];
  const big: Tree = { feature: [], threshold: [], left: [], value: [1, 0, 0, 1] };
  for (let i = 0; i < 33_000; i++) {
    big.feature.push(i % 3, -1);
    big.threshold.push(pool[i % 4]! + i / 33_000, 0);
    big.left.push(2 * i + 1, (i % 2) * 2);
  }
  big.feature.push(-1);
  big.threshold.push(0);
  big.left.push(0);
  // Distinct thresholds are many here: bound them to ≤ 255 per feature (85 values × 3 features).
  for (let i = 0; i < big.threshold.length; i += 2) big.threshold[i] = Math.floor((big.threshold[i]! + 1) * 20) / 20;
  assert.equal(layoutOf([big], 3, C), 'i64');
  const n = 200;
  const x = Float64Array.from({ length: n * 3 }, () => (rnd() - 0.2) * 3);
  assertSame(file([big], 3, C), x, n, { maxTreeNodes: 0, binned: true }, '66,001 nodes');
  const d = 300;
  const pick = (): number => Math.floor(rnd() * 20) / 4;
  const wide = [randomTree(rnd, d, C, 900, pick)];
  assert.equal(layoutOf(wide, d, C), 'i64');
  const xw = Float64Array.from({ length: n * d }, () => rnd() * 5);
  assertSame(file(wide, d, C), xw, n, { maxTreeNodes: 0, binned: true }, '300 features');
});

test('without WebAssembly the JavaScript binned walk runs, same probabilities', () => {
  const rnd = mulberry32(13);
  const d = 4;
  const C = 3;
  const pick = (): number => Math.floor(rnd() * 100) / 10;
  const trees = [randomTree(rnd, d, C, 2000, pick)];
  const flat = flattenTrees(trees, d, C, 'test');
  const g = globalThis as { WebAssembly?: unknown };
  const saved = g.WebAssembly;
  try {
    g.WebAssembly = undefined;
    assert.equal(buildBinnedWasm(flat, binForest(flat, d)!, d, C, 256, 256), null);
    const n = 100;
    const x = Float64Array.from({ length: n * d }, () => rnd() * 10);
    assertSame(file(trees, d, C), x, n, { maxTreeNodes: 0, binned: true }, 'no WebAssembly');
  } finally {
    g.WebAssembly = saved;
  }
});

test('shared subtrees (a valid DAG) take the i64 layout, same probabilities', () => {
  // Layer k has two nodes, both splitting into layer k + 1: 2^40 root-to-leaf paths.
  const layers = 40;
  const t: Tree = { feature: [0], threshold: [0], left: [1], value: [1, 0, 0, 1] };
  for (let k = 0; k < layers; k++) {
    const next = 1 + 2 * (k + 1);
    const last = k === layers - 1;
    t.feature.push(last ? -1 : 0, last ? -1 : 0);
    t.threshold.push(k, k + 0.5);
    t.left.push(last ? 0 : next, last ? 2 : next);
  }
  assert.equal(layoutOf([t], 1, 2), 'i64');
  const x = Float64Array.from({ length: 90 }, (_, i) => i / 2 - 2);
  assertSame(file([t], 1, 2), x, 90, { maxTreeNodes: 0, binned: true }, 'dag');
});
