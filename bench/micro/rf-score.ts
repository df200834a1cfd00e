/**
 * Random forest scoring speed (src/detect/classify/random-forest.ts): the array walk against the
 * compiled trees (tree-codegen.ts), in rows per CPU-second (process.cpuUsage, so a loaded machine
 * shows less than wall-clock rates would hide), best of RF_TRIALS (default 5). Also checks that both
 * paths give identical probabilities on the rows.
 *
 *   npx tsc -p tsconfig.json --outDir dist && node dist/bench/micro/rf-score.js MODEL_DIR [DATA]
 *
 * RF_MAX_TREE_NODES overrides the per-tree compile limit (to measure where compiling stops paying).
 *
 * DATA: a CSV file or directory, or captures with truth files (as `vigil train --data`); its
 * columns are matched to the model's features by name (missing ones are 0). Without DATA, random
 * rows: each feature uniform in [0, 2 × |first threshold on it|] (a crude stand-in for real rows).
 */
import { loadScoringModel } from '../../src/detect/classify/load.js';
import { buildRandomForest } from '../../src/detect/classify/random-forest.js';
import type { ScoringModel } from '../../src/detect/classify/model.js';
import { loadData } from '../../src/ml/train.js';
import { checkEncoding } from '../../src/ml/csv.js';
import type { DataEncoding } from '../../src/ml/csv.js';
import { mulberry32 } from '../../test/fuzz/prng.js';

const TRIALS = Math.max(1, Number(process.env['RF_TRIALS'] ?? 5));
/** Rows per timed trial at least (the data is repeated): long enough for the CPU clock's grain. */
const MIN_ROWS = 200_000;
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

function rate(m: ScoringModel, x: Float64Array, n: number, C: number): number {
  const out = new Float64Array(n * C);
  m.predictProba!(x, Math.min(n, 4096), out); // warm-up: optimise before timing
  let best = 0;
  for (let t = 0; t < TRIALS; t++) {
    const c0 = process.cpuUsage();
    m.predictProba!(x, n, out);
    const c = process.cpuUsage(c0);
    best = Math.max(best, n / ((c.user + c.system) / 1e6));
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
  const trees = (file.params as { trees: { feature: number[] }[] }).trees;
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
  const walk = buildRandomForest(file, { compile: false });
  const c0 = process.cpuUsage();
  const maxTreeNodes =
    process.env['RF_MAX_TREE_NODES'] !== undefined ? Number(process.env['RF_MAX_TREE_NODES']) : undefined;
  const comp = buildRandomForest(file, { maxTreeNodes });
  const cb = process.cpuUsage(c0);
  const a = new Float64Array(n * C);
  const b = new Float64Array(n * C);
  walk.predictProba!(x, n, a);
  comp.predictProba!(x, n, b);
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) diff++;
  console.log(`build (flatten + compile): ${((cb.user + cb.system) / 1000).toFixed(0)} ms CPU`);
  console.log(`identical probabilities: ${diff === 0 ? 'yes' : `NO (${diff} values differ)`}`);
  const rw = rate(walk, x, n, C);
  const rc = rate(comp, x, n, C);
  const f = (v: number): string => Math.round(v).toLocaleString('en-US');
  console.log(`array walk: ${f(rw)} rows/CPU-s (best of ${TRIALS})`);
  console.log(`compiled:   ${f(rc)} rows/CPU-s (best of ${TRIALS}), ${(rc / rw).toFixed(2)}x`);
  if (diff !== 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exitCode = 1;
});
