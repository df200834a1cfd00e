/** Messages between the reader thread and pipeline worker threads. */
import type { EngineConfig } from './config.js';
import type { EngineCounters } from './engine.js';
import type { SinkSpec } from './sink.js';

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
}

/** Reader -> worker. */
export type ToWorker = { kind: 'batch'; slot: number; count: number } | { kind: 'finish' };

/** Worker -> reader. `data` is the sink's drain() output. */
export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'done'; slot: number; data: unknown }
  | { kind: 'finished'; data: unknown; result: unknown; counters: EngineCounters }
  | { kind: 'error'; message: string };
