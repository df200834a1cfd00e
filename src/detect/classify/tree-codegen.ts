/**
 * Random forest trees compiled to JavaScript: each tree becomes one function of nested
 * `if (x[o + F] <= T)` over a block of rows, so the walk is a chain of compare-and-branch on
 * constants instead of dependent loads from the node arrays (the feature, threshold and child of the
 * next node are in the code, not in memory). Only the validated flat arrays go into the source:
 * feature indices are integers checked against the feature count and thresholds finite numbers
 * printed with String(), which round-trips a double exactly, so predictions are bit-identical to the
 * array walk. Trees that are too large or deep for this (compile time, memory, V8 stops optimising
 * very large functions) take the binned walk (tree-bins.ts) or the array walk; the caller decides
 * per tree.
 */
import type { FlatTrees } from './flat-trees.js';

/**
 * Per-tree node limit. V8 does not optimise a function whose bytecode is too large (~60 KB), and
 * unoptimised, the code is 3x slower than the array walk: measured, trees of ≤ 3,200 nodes were
 * optimised and most of 3,300–6,100 were not; 2,000 keeps a margin (flow-dataset trees: ~100–950).
 */
export const CODEGEN_MAX_TREE_NODES = 2000;
/** Whole-forest limit on compiled nodes, bounding compile time and code memory. */
export const CODEGEN_MAX_TOTAL_NODES = 200_000;
/** Nesting limit: deeper source risks the parser's stack; such trees keep the array walk. */
export const CODEGEN_MAX_DEPTH = 200;

/**
 * Scores rows [0, nb) of the prepared block `x` (stride d) with one tree: adds its leaf to
 * out[oo + r * C ...] (1 to the class of a pure leaf, else the leaf row of `value`).
 */
export type CompiledTree = (
  x: Float64Array,
  nb: number,
  d: number,
  out: Float64Array,
  oo: number,
  value: Float64Array,
) => void;

/**
 * Source of the nested ifs for the tree rooted at `root`, setting `L` to the leaf code
 * (left[leaf]: -(class + 1) for a pure leaf, else the leaf's offset in `value`). Null when the
 * tree is over `maxNodes` emitted nodes or CODEGEN_MAX_DEPTH levels (shared children are emitted
 * once per path, so the count is of emitted nodes, which bounds the source even for a DAG).
 */
export function treeSource(t: FlatTrees, root: number, maxNodes: number): { src: string; nodes: number } | null {
  const { feature, threshold, left } = t;
  const parts: string[] = [];
  let emitted = 0;
  const emit = (node: number, depth: number): boolean => {
    if (++emitted > maxNodes || depth > CODEGEN_MAX_DEPTH) return false;
    const f = feature[node]!;
    if (f < 0) {
      parts.push(`L=${left[node]!};`);
      return true;
    }
    const th = threshold[node]!;
    // Validated at load; checked again because this text becomes code.
    if (!Number.isInteger(f) || !Number.isFinite(th)) return false;
    parts.push(`if(x[o+${f}]<=${String(th)}){`);
    if (!emit(left[node]!, depth + 1)) return false;
    parts.push('}else{');
    if (!emit(left[node]! + 1, depth + 1)) return false;
    parts.push('}');
    return true;
  };
  return emit(root, 0) ? { src: parts.join(''), nodes: emitted } : null;
}

/**
 * Compile the forest's trees for `C` classes (leaf codes as the random forest scorer sets them in
 * `left`). Entry k is null where tree k is not compiled: skip[k] set (the caller scores it another
 * way), too large, over the forest budget, or code generation unavailable (e.g. node
 * --disallow-code-generation-from-strings).
 */
export function compileForest(
  t: FlatTrees,
  C: number,
  maxTreeNodes = CODEGEN_MAX_TREE_NODES,
  skip: Uint8Array | null = null,
): (CompiledTree | null)[] {
  const out: (CompiledTree | null)[] = [];
  let budget = CODEGEN_MAX_TOTAL_NODES;
  // Row stride of the warm-up rows: one past the largest feature index any tree splits on.
  let d = 1;
  for (let i = 0; i < t.feature.length; i++) if (t.feature[i]! >= d) d = t.feature[i]! + 1;
  for (let k = 0; k < t.roots.length; k++) {
    const tree =
      budget > 0 && (skip === null || skip[k] !== 1)
        ? treeSource(t, t.roots[k]!, Math.min(maxTreeNodes, budget))
        : null;
    if (tree === null) {
      out.push(null);
      continue;
    }
    budget -= tree.nodes;
    const body =
      `for(let r=0;r<nb;r++){const o=r*d;let L=0;${tree.src}` +
      `const q=oo+r*${C};if(L<0)out[q-L-1]+=1;else for(let c=0;c<${C};c++)out[q+c]+=value[L+c];}`;
    let fn: CompiledTree;
    try {
      // The source holds only validated integers and finite numbers (treeSource), never model text.
      fn = new Function('x', 'nb', 'd', 'out', 'oo', 'value', body) as CompiledTree;
    } catch {
      out.push(null);
      continue;
    }
    warmTree(t, t.roots[k]!, C, d, fn);
    out.push(fn);
  }
  return out;
}

/**
 * One row per leaf of the tree at `root` that reaches that leaf (stride `d`, depth-first leaf
 * order), from the path's bounds per feature: the upper bound where there is one (`x <= t` holds),
 * else a value above the lower bound; unconstrained features are 0. Leaves whose path bounds
 * conflict (unreachable) get no row. Stops after `maxRows` rows (a shared subtree is walked once
 * per path; compiled trees have at most as many paths as emitted nodes).
 */
export function leafRows(
  t: FlatTrees,
  root: number,
  d: number,
  maxRows = CODEGEN_MAX_TREE_NODES,
): { rows: Float64Array; n: number } {
  const { feature, threshold, left } = t;
  const lo = new Float64Array(d).fill(-Infinity);
  const hi = new Float64Array(d).fill(Infinity);
  const rows: number[] = [];
  let n = 0;
  const walk = (node: number, depth: number): void => {
    if (n >= maxRows) return;
    const f = feature[node]!;
    if (f < 0) {
      for (let j = 0; j < d; j++) {
        const h = hi[j]!;
        const l = lo[j]!;
        rows.push(h !== Infinity ? h : l !== -Infinity ? l + Math.max(1, Math.abs(l)) : 0);
      }
      n++;
      return;
    }
    if (depth > CODEGEN_MAX_DEPTH) return;
    const th = threshold[node]!;
    const h = hi[f]!;
    const l = lo[f]!;
    if (th > l) {
      hi[f] = Math.min(h, th);
      walk(left[node]!, depth + 1);
      hi[f] = h;
    }
    if (th < h) {
      lo[f] = Math.max(l, th);
      walk(left[node]! + 1, depth + 1);
      lo[f] = l;
    }
  };
  walk(root, 0);
  return { rows: Float64Array.from(rows), n };
}

/**
 * Run a freshly compiled tree over one row per leaf (twice: V8 allocates a function's feedback
 * only after its first stretch of execution), so every branch has type feedback before the
 * optimising compiler sees the function. Without this, each branch first taken in optimised code
 * deoptimised it ("insufficient type feedback") and it was recompiled: on the bench capture the
 * default forest's 50 trees deoptimised 77 times and its first 50,000 flows cost ~45 µs each
 * instead of ~1.5 (2.5 s of a 2 M-packet analyze, docs/ml-models.md). Outputs go to a scratch array.
 */
function warmTree(t: FlatTrees, root: number, C: number, d: number, fn: CompiledTree): void {
  const { rows, n } = leafRows(t, root, d);
  if (n === 0) return;
  const out = new Float64Array(n * C);
  for (let rep = 0; rep < 2; rep++) fn(rows, n, d, out, 0, t.value);
}
