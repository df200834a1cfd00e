/**
 * Random forest scoring speed (src/detect/classify/random-forest.ts), in rows per CPU-second
 * (process.cpuUsage, so a loaded machine shows less than wall-clock rates would hide), best of
 * RF_TRIALS (default 5) with the scorers taking turns in each trial (the machine is shared: load
 * changes hurt all of them alike). Scorers:
 *
 * - array walk: every tree walked node by node (compile: false, the reference);
 * - before binning: trees ≤ 2,000 nodes compiled (tree-codegen.ts), larger ones on the array walk
 *   (binned: false, the scorer before tree-bins.ts);
 * - all binned JS: every tree on the binned lockstep walk in JavaScript (tree-bins.ts;
 *   maxTreeNodes 0, wasm: false);
 * - all binned: the same in WebAssembly (tree-wasm.ts, its default kernel);
 * - default: the scorer as shipped (compiled small trees, binned large ones, in WebAssembly);
 * - RF_WASM=layout:lanes[:nosimd][:pertree][:unrollN][:binN],...: wasm kernel variants, every tree binned
 *   (e.g. RF_WASM=i64:8,carry4:16:pertree; see WasmKernelOptions).
 *
 * Also checks that all give identical probabilities on the rows. RF_QUICK=1 times only the binned
 * and later scorers (the array walk of a fully grown forest takes seconds per trial).
 *
 *   npx tsc -p tsconfig.json --outDir dist && node dist/bench/micro/rf-score.js MODEL_DIR [DATA]
 *
 * RF_BLOCKS=bytes,... adds the default scorer with other row-bin block sizes (BINNED_BLOCK_BYTES).
 *
 * RF_MAX_TREE_NODES overrides the default scorer's compile limit (to measure where compiling stops
 * paying; larger trees are then binned or walked as by default). RF_TREES=K scores the first K trees
 * only (to measure where binning starts paying).
 *
 * DATA: a CSV file or directory, or captures with truth files (as `vigil train --data`); its
 * columns are matched to the model's features by name (missing ones are 0). Without DATA, random
 * rows: each feature uniform in [0, 2 × |first threshold on it|] (a crude stand-in for real rows).
 */
import { loadScoringModel } from '../../src/detect/classify/load.js';
import { buildRandomForest } from '../../src/detect/classify/random-forest.js';
import type { ScoringModel } from '../../src/detect/classify/model.js';
import type { WasmNodeLayout } from '../../src/detect/classify/tree-wasm.js';
import { loadData } from '../../src/ml/train.js';
import { checkEncoding } from '../../src/ml/csv.js';
import type { DataEncoding } from '../../src/ml/csv.js';
import { mulberry32 } from '../../test/fuzz/prng.js';

const TRIALS = Math.max(1, Number(process.env['RF_TRIALS'] ?? 5));
/**
 * Rows per timed trial at least (the data is repeated): long enough for the CPU clock's grain.
 * RF_ROWS lowers it for slow forests (the array walk of a fully grown forest: ~15,000 rows/s).
 */
const MIN_ROWS = Math.max(1000, Number(process.env['RF_ROWS'] ?? 200_000));
const MAX_ROWS = 1_000_000;

function randomRows(features: readonly string[], trees: unknown, n: number): Float64Array {
  const d = features.length;
  const scale = new Float64Array(d).fill(1);
  for (const tr of trees as { feature: number[]; threshold: number[] }[])
    for (let i = 0; i < tr.feature.length; i++) {
      const f = tr.feature[i]!;
      if (f >= 0 && scale[f] === 1) scale[f] = 2 * Math.abs(tr.threshold[i]!) || 1;
    }
  const rnd = mulberry32(7);
  const x = new Float64Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = rnd() * scale[i % d]!;
  return x;
}

/** Best rate of each scorer over TRIALS rounds, the scorers taking turns within a round. */
function rates4(scorers: [string, ScoringModel][], x: Float64Array, n: number, C: number): number[] {
  const out = new Float64Array(n * C);
  for (const [, m] of scorers) m.predictProba!(x, Math.min(n, 20_000), out); // warm-up: optimise before timing
  const best = scorers.map(() => 0);
  for (let t = 0; t < TRIALS; t++)
    for (let i = 0; i < scorers.length; i++) {
      const c0 = process.cpuUsage();
      scorers[i]![1].predictProba!(x, n, out);
      const c = process.cpuUsage(c0);
      best[i] = Math.max(best[i]!, n / ((c.user + c.system) / 1e6));
    }
  return best;
}

async function main(): Promise<void> {
  const [dir, data] = process.argv.slice(2);
  if (dir === undefined) {
    console.error('usage: node dist/bench/micro/rf-score.js MODEL_DIR [DATA]');
    process.exitCode = 2;
    return;
  }
  const { file } = loadScoringModel(dir);
  if (file.type !== 'random_forest') throw new Error(`${dir}: not a random_forest model (${file.type})`);
  const d = file.features.length;
  const C = file.classes.length;
  const params = file.params as { trees: { feature: number[] }[] };
  if (process.env['RF_TREES'] !== undefined) params.trees = params.trees.slice(0, Number(process.env['RF_TREES']));
  const trees = params.trees;
  const nodes = trees.reduce((s, t) => s + t.feature.length, 0);
  let x: Float64Array;
  let n: number;
  if (data !== undefined) {
    const enc = file.training?.['encoding'];
    const encoding: DataEncoding | undefined = enc !== undefined ? checkEncoding(enc) : undefined;
    const { ds } = await loadData(data, { encoding: encoding?.format === 'pcap' ? undefined : encoding });
    const col = file.features.map((f) => ds.features.indexOf(f));
    const base = Math.min(ds.n, MAX_ROWS);
    n = Math.min(MAX_ROWS, Math.ceil(MIN_ROWS / base) * base);
    x = new Float64Array(n * d);
    for (let r = 0; r < n; r++)
      for (let j = 0; j < d; j++) x[r * d + j] = col[j]! >= 0 ? ds.x[(r % base) * ds.d + col[j]!]! : 0;
    console.log(`${data}: ${ds.n} rows (${col.filter((c) => c < 0).length} model features missing), timed on ${n}`);
  } else {
    n = MIN_ROWS;
    x = randomRows(file.features, trees, n);
    console.log(`random rows: ${n}`);
  }
  console.log(`model ${dir}: ${trees.length} trees, ${nodes} nodes, ${d} features, ${C} classes`);
  const env = (k: string): number | undefined => (process.env[k] !== undefined ? Number(process.env[k]) : undefined);
  const c0 = process.cpuUsage();
  const def = buildRandomForest(file, {
    maxTreeNodes: env('RF_MAX_TREE_NODES'),
  });
  const cb = process.cpuUsage(c0);
  const scorers: [string, ScoringModel][] = [
    ['array walk', buildRandomForest(file, { compile: false })],
    ['before binning', buildRandomForest(file, { binned: false })],
    ['all binned JS', buildRandomForest(file, { maxTreeNodes: 0, binned: true, wasm: false })],
    ['all binned', buildRandomForest(file, { maxTreeNodes: 0, binned: true })],
    ['default', def],
  ];
  // RF_WASM=layout:lanes[:nosimd][:pertree][:unrollN][:binN],... adds wasm kernel variants (tree-wasm.ts) on every tree.
  for (const v of (process.env['RF_WASM'] ?? '').split(',').filter((e) => e !== '')) {
    const [nodes, lanes, ...flags] = v.split(':');
    const wasm = {
      nodes: nodes as WasmNodeLayout,
      lanes: Number(lanes ?? 8),
      simd: !flags.includes('nosimd'),
      perTree: flags.includes('pertree'),
      unroll: Number(flags.find((f) => /^unroll\d+$/.test(f))?.slice(6) ?? 1),
      binRows: Number(flags.find((f) => /^bin\d+$/.test(f))?.slice(3) ?? NaN) || undefined,
    };
    scorers.push([`wasm ${v}`, buildRandomForest(file, { maxTreeNodes: 0, binned: true, wasm })]);
  }
  // RF_BLOCKS=bytes,... adds the default scorer with other bin block sizes (BINNED_BLOCK_BYTES).
  for (const v of (process.env['RF_BLOCKS'] ?? '').split(',').filter((e) => e !== ''))
    scorers.push([`block ${v}`, buildRandomForest(file, { blockBytes: Number(v) })]);
  console.log(`build (flatten + compile + bins): ${((cb.user + cb.system) / 1000).toFixed(0)} ms CPU`);
  const ref = new Float64Array(n * C);
  const got = new Float64Array(n * C);
  scorers[0]![1].predictProba!(x, n, ref);
  let diff = 0;
  for (const [name, m] of scorers.slice(1)) {
    m.predictProba!(x, n, got);
    let dm = 0;
    for (let i = 0; i < ref.length; i++) if (!Object.is(ref[i], got[i])) dm++;
    if (dm > 0) console.log(`${name}: NOT identical to the array walk (${dm} values differ)`);
    diff += dm;
  }
  console.log(`identical probabilities: ${diff === 0 ? 'yes' : 'NO'}`);
  // RF_QUICK=1: time only the binned and default scorers (the slow ones still checked above).
  const timed = process.env['RF_QUICK'] === '1' ? scorers.slice(2) : scorers;
  const rates = rates4(timed, x, n, C);
  const f = (v: number): string => Math.round(v).toLocaleString('en-US');
  for (let i = 0; i < timed.length; i++)
    console.log(
      `${timed[i]![0].padEnd(15)} ${f(rates[i]!).padStart(9)} rows/CPU-s (best of ${TRIALS}), ${(rates[i]! / rates[0]!).toFixed(2)}x the ${timed[0]![0]}`,
    );
  if (diff !== 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exitCode = 1;
});
