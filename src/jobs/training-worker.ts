/**
 * Worker-thread entry of a training job (training-job.ts): runs src/ml/train.ts's train() on the
 * samples handed over in workerData, so the server's event loop never waits on a trainer (the tree
 * trainers start their own pool from here). Messages to the parent: progress (at most every
 * PROGRESS_MS per stage), then exactly one result or error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelFile } from '../detect/classify/model.js';
import type { LoadedData } from '../ml/csv.js';
import type { Metrics } from '../ml/metrics.js';
import { train } from '../ml/train.js';
import type { TrainConfig } from '../ml/train.js';

const PROGRESS_MS = 200;

export interface TrainingWorkerInput {
  loaded: LoadedData;
  /** train()'s configuration without the data and callbacks. */
  cfg: Omit<TrainConfig, 'data' | 'loaded' | 'onProgress'>;
  /** What the training record names as the data source. */
  source: string;
}

export type TrainingWorkerMessage =
  | { kind: 'progress'; stage: string; fraction: number }
  | { kind: 'result'; file: ModelFile; report: Record<string, unknown>; metrics: Metrics | null }
  | { kind: 'error'; code: string | null; message: string };

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const input = workerData as TrainingWorkerInput;
  const last = new Map<string, number>();
  const post = (m: TrainingWorkerMessage): void => port.postMessage(m);
  try {
    const r = await train({
      ...input.cfg,
      data: input.source,
      loaded: input.loaded,
      onProgress: (stage, fraction) => {
        const now = Date.now();
        if (fraction < 1 && now - (last.get(stage) ?? 0) < PROGRESS_MS) return;
        last.set(stage, now);
        post({ kind: 'progress', stage, fraction });
      },
    });
    post({ kind: 'result', file: r.file, report: r.report, metrics: r.metrics });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    post({ kind: 'error', code: typeof code === 'string' ? code : null, message: (e as Error).message });
  }
}

await main();
