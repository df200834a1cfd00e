/**
 * Messages between the main thread and the live sensor's worker thread (src/pipeline/live-worker.ts,
 * src/pipeline/live-thread.ts). Results travel in batches: one `update` per turn of the worker's
 * event loop that produced any, never one message per packet or alert.
 */
import type { AppRecord } from '../applayer/app-layer.js';
import type { KernelCounters, LiveCaptureParams, LiveUnavailableReason, RetryPolicy } from '../capture/live.js';
import type { AlertRecord } from '../detect/engine/detector.js';
import type { FlowRecord } from '../flow/table.js';
import type { FileStoreSpec } from '../output/filestore.js';
import type { EngineConfig } from './config.js';
import type { EngineCounters } from './engine.js';
import type { LiveSensorStats } from './live-sensor.js';

/** workerData of a live sensor worker: structured-cloneable; the worker loads rules and models itself. */
export interface LiveWorkerInit {
  interface: string;
  filter: string;
  params: Partial<Omit<LiveCaptureParams, 'interface' | 'filter'>>;
  retry: Partial<RetryPolicy>;
  engineConfig: EngineConfig;
  /** Periodic stats and kernel-counter poll interval (0 = state changes only). */
  statsIntervalMs: number;
  /** Send finished flow records / application records back (off: they are not cloned at all). */
  flows: boolean;
  /** Which flows are sent (LiveSensorOptions.flowSample); absent: every flow. */
  flowSample?: { first: number; rate: number };
  app: boolean;
  /** The file store (prepared by the main thread, its counters shared with it), absent when off. */
  fileStore?: FileStoreSpec;
  /** Capture sessions are opened by the main thread (a test's fake session) and relayed here. */
  relaySessions: boolean;
}

export interface LiveSnapshot {
  stats: LiveSensorStats;
  counters: EngineCounters;
}

/** A relayed session's batch: the packets packed into one buffer (`off` indexes into it). */
export interface RelayedBatch {
  count: number;
  buf: Uint8Array;
  off: Uint32Array;
  capLen: Uint32Array;
  origLen: Uint32Array;
  tsUs: Float64Array;
  linkType: Uint16Array;
  ifIndex: Uint16Array;
}

/** Main -> worker. */
export type ToLiveWorker =
  | { kind: 'stop' }
  | { kind: 'reconfigure'; id: number; cfg: EngineConfig }
  | { kind: 'session-listening'; session: number; linkType: string }
  | { kind: 'session-batch'; session: number; batch: RelayedBatch }
  | { kind: 'session-counters'; session: number; counters: KernelCounters }
  | { kind: 'session-exit'; session: number; failure: { reason: LiveUnavailableReason; message: string } | null };

/** Why an update was sent: results of packets, a state change or the periodic stats, the end. */
export type UpdateCause = 'results' | 'stats' | 'final';

/** Worker -> main. */
export type FromLiveWorker =
  | { kind: 'ready'; snapshot: LiveSnapshot }
  | {
      kind: 'update';
      cause: UpdateCause;
      alerts: AlertRecord[];
      flows: FlowRecord[];
      apps: AppRecord[];
      /** Packets that went through the engine since the previous update. */
      packets: number;
      snapshot: LiveSnapshot;
    }
  /** `error`: finishing the engine failed (model scoring); what it raised was still sent. */
  | { kind: 'stopped'; snapshot: LiveSnapshot; error: string | null }
  | { kind: 'reconfigured'; id: number; error: string | null }
  /** The engine configuration does not load (rule or model files): not retried. */
  | { kind: 'fatal'; message: string }
  /** The capture tool's process id while it runs (null once it exited): killed if the worker dies. */
  | { kind: 'child'; pid: number | null }
  | { kind: 'session-open'; session: number; params: LiveCaptureParams }
  | { kind: 'session-stop'; session: number }
  | { kind: 'session-request-counters'; session: number };
