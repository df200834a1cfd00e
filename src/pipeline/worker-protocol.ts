/** Messages between the reader thread and pipeline worker threads. */
import type { FlowRecord } from '../flow/table.js';
import type { EngineConfig } from './config.js';
import type { EngineCounters } from './engine.js';

export interface WorkerInit {
  cfg: EngineConfig;
  /** Distinct per worker: makes flow ids unique across workers. */
  workerId: number;
  capacity: number;
  /** One entry per slot: packet bytes and column storage, both SharedArrayBuffers. */
  slots: { data: SharedArrayBuffer; columns: SharedArrayBuffer }[];
}

/** Reader -> worker. */
export type ToWorker = { kind: 'batch'; slot: number; count: number } | { kind: 'finish' };

/** Worker -> reader. */
export type FromWorker =
  | { kind: 'done'; slot: number; flows: FlowRecord[] }
  | { kind: 'finished'; flows: FlowRecord[]; counters: EngineCounters }
  | { kind: 'error'; message: string };
