/** Messages between the reader thread and pipeline worker threads. */
import type { ReadError } from '../capture/reader.js';
import type { EngineConfig } from './config.js';
import type { EngineCounters } from './engine.js';
import type { SinkSpec } from './sink.js';
import type { RuleLoadReport } from '../detect/engine/load.js';

export interface WorkerInit {
  cfg: EngineConfig;
  /** Distinct per worker: makes flow ids unique across workers. */
  workerId: number;
  /** Workers in the run. */
  shards: number;
  capacity: number;
  sink: SinkSpec;
  /** One entry per slot: packet bytes and column storage, both SharedArrayBuffers. */
  slots: { data: SharedArrayBuffer; columns: SharedArrayBuffer }[];
  /**
   * Set when the worker reads the capture file itself (runner.ts, runFileSharded): every worker
   * reads all of it and keeps its shard's packets; no slots. `limit`: packets of the capture to
   * read at most (0 = all).
   */
  file?: { path: string; limit: number };
}

/** Reader -> worker. */
export type ToWorker = { kind: 'batch'; slot: number; count: number } | { kind: 'finish' };

/** Worker -> reader. `data` is the sink's drain() output. */
export type FromWorker =
  | { kind: 'ready' }
  /** Worker 0, once its engine is built: how its ruleset loaded (every worker loads the same). */
  | { kind: 'rules'; report: RuleLoadReport }
  | { kind: 'done'; slot: number; data: unknown }
  /** File mode: worker 0's reading position now and then, for the progress bar. */
  | { kind: 'progress'; position: number; packets: number }
  | {
      kind: 'finished';
      data: unknown;
      result: unknown;
      counters: EngineCounters;
      /** File mode: where the worker's reader stopped short, and whether --max-packets cut the capture. */
      readError?: ReadError | null;
      truncated?: boolean;
    }
  | { kind: 'error'; message: string };
