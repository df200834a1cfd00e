/**
 * Worker-thread entry for tree trainers (started by tree-pool.ts; the calling thread runs the same
 * builders for its share): builds the requested trees
 * from the shared training data in `workerData` and posts each back with its typed arrays
 * transferred (no copy).
 *  - random_forest: task t = forest tree t.
 *  - gradient_boosting: task k = this iteration's tree for class k, grown on the shared gradients
 *    and hessians; its leaf values are added to column k of the shared raw scores (each task owns
 *    its column, so workers never write the same element).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ForestTreeBuilder } from './random-forest.js';
import type { ForestData, ForestHyper } from './random-forest.js';
import { BoostTreeGrower } from './gradient-boosting.js';
import type { BoostShared } from './gradient-boosting.js';

const port = parentPort!;
const job = workerData as { kind: string };

function send(task: number, t: Record<string, Int32Array | Float64Array>): void {
  const moved = Object.values(t).map((a) => a.buffer as ArrayBuffer);
  port.postMessage({ task, ...t }, moved);
}

let build: (task: number) => Record<string, Int32Array | Float64Array>;
if (job.kind === 'random_forest') {
  const j = workerData as { data: ForestData; hyper: ForestHyper };
  const builder = new ForestTreeBuilder(j.data, j.hyper);
  build = (task) => ({ ...builder.build(task) });
} else if (job.kind === 'gradient_boosting') {
  const j = workerData as BoostShared;
  const grower = new BoostTreeGrower(j.codes, j.n, j.d, j.nbins, j.hp);
  const { n, K } = j;
  build = (k) => ({
    ...grower.grow(j.grad.subarray(k * n, (k + 1) * n), j.hess.subarray(k * n, (k + 1) * n), j.raw, K, k),
  });
} else throw new Error(`unknown tree task kind ${job.kind}`);

port.on('message', (msg: { task: number }) => send(msg.task, build(msg.task)));
