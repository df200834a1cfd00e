/**
 * The live sensor in a worker thread (issue 7): the same capture and engine as
 * src/pipeline/live-sensor.ts, run by src/pipeline/live-worker.ts, behind the surface the server
 * uses (stop, stats, counters, reconfigure, onAlert/onFlow/onPackets/onStats). The main thread
 * only receives results, one message per turn of the worker's loop, so heavy traffic keeps the
 * worker busy while the API's event loop stays free.
 *
 * - stats() answers at once from the latest snapshot the worker sent (with every update, every
 *   capture state change and every `statsIntervalMs`).
 * - A worker that dies (an uncaught exception, out of memory) is reported in the capture state
 *   (`restarting`, then `failed` past `retry.maxRetries`, reason `capture_failed` with the message)
 *   and started again with the capture's backoff policy; its tcpdump child is killed. Counters stay
 *   cumulative; the flows it held are lost with it.
 * - stop() asks the worker to stop capturing and finish every flow; the alerts and flows that
 *   raises are delivered through the callbacks before stop() resolves.
 * - With `opener` (tests), capture sessions are opened on this thread and relayed to the worker,
 *   so a fake session drives the worker's engine.
 */
import { Worker } from 'node:worker_threads';
import type { PacketBatch } from '../capture/batch.js';
import type { FileStoreSpec } from '../output/filestore.js';
import { DEFAULT_RETRY, REAL_TIMERS, backoffDelayS } from '../capture/live.js';
import type { CaptureSession, LiveState, LiveUnavailableReason, RetryPolicy, Timers } from '../capture/live.js';
import { defaultConfig } from './config.js';
import type { EngineConfig } from './config.js';
import { mergeCounters } from './engine.js';
import type { EngineCounters } from './engine.js';
import type { LiveSensorHandle, LiveSensorOptions, LiveSensorStats } from './live-sensor.js';
import type {
  FromLiveWorker,
  LiveSnapshot,
  LiveWorkerInit,
  RelayedBatch,
  ToLiveWorker,
} from './live-worker-protocol.js';

export interface LiveSensorThreadOptions extends Omit<LiveSensorOptions, 'rules' | 'timers'> {
  /** Clock and timers of the worker restart backoff (tests). */
  timers?: Timers;
  /** Longest wait for the worker to finish its flows at stop, ms (default 30,000); then it is terminated. */
  stopTimeoutMs?: number;
  /** Tests: another worker entry (one that wraps live-worker.js). */
  workerUrl?: URL;
  /** The file store: the worker writes wanted HTTP/SMTP files itself (records stay in the worker). */
  fileStore?: FileStoreSpec;
}

export interface LiveSensorThread extends LiveSensorHandle {
  /** The current worker (null between a crash and its restart, and after stop). */
  readonly worker: Worker | null;
  /** Workers that died unexpectedly. */
  readonly crashes: number;
  /** Resolves with the stats once `pred` holds; checked on every message from the worker. */
  waitFor(pred: (s: LiveSensorStats) => boolean): Promise<LiveSensorStats>;
}

const KERNEL_ZERO = { received: 0, dropped: 0, ifdropped: 0 };

function zeroCounters(): EngineCounters {
  return mergeCounters([]);
}

function emptyStats(iface: string, filter: string): LiveSensorStats {
  return {
    capture: {
      state: 'starting',
      interface: iface,
      filter,
      reason: null,
      message: null,
      linkType: null,
      packets: 0,
      bytes: 0,
      kernel: { ...KERNEL_ZERO },
      restarts: 0,
      batchErrors: 0,
      lastBatchError: null,
      attempts: 0,
      startedAt: null,
      nextRetryAt: null,
    },
    engine: {
      packets: 0,
      bytes: 0,
      flows_active: 0,
      flows_total: 0,
      alerts: 0,
      protocols: {},
      decoder_events: {},
      errors: 0,
      last_error: null,
    },
  };
}

function addMaps(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** `cur` with the cumulative counters of `base` (earlier workers) added; the rest is cur's. */
export function addSensorStats(base: LiveSensorStats, cur: LiveSensorStats): LiveSensorStats {
  const bc = base.capture;
  const cc = cur.capture;
  const be = base.engine;
  const ce = cur.engine;
  return {
    capture: {
      ...cc,
      packets: bc.packets + cc.packets,
      bytes: bc.bytes + cc.bytes,
      kernel: {
        received: bc.kernel.received + cc.kernel.received,
        dropped: bc.kernel.dropped + cc.kernel.dropped,
        ifdropped: bc.kernel.ifdropped + cc.kernel.ifdropped,
      },
      restarts: bc.restarts + cc.restarts,
      batchErrors: bc.batchErrors + cc.batchErrors,
      lastBatchError: cc.lastBatchError ?? bc.lastBatchError,
    },
    engine: {
      packets: be.packets + ce.packets,
      bytes: be.bytes + ce.bytes,
      flows_active: ce.flows_active,
      flows_total: be.flows_total + ce.flows_total,
      alerts: be.alerts + ce.alerts,
      protocols: addMaps(be.protocols, ce.protocols),
      decoder_events: addMaps(be.decoder_events, ce.decoder_events),
      errors: be.errors + ce.errors,
      last_error: ce.last_error ?? be.last_error,
    },
  };
}

/** Copy a batch's packets into one compact buffer, to transfer to the worker. */
function packBatch(b: PacketBatch): { batch: RelayedBatch; transfer: ArrayBuffer[] } {
  const n = b.count;
  let total = 0;
  for (let i = 0; i < n; i++) total += b.capLen[i]!;
  const buf = new Uint8Array(total);
  const off = new Uint32Array(n);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const s = b.off[i]!;
    const len = b.capLen[i]!;
    buf.set(b.buf.subarray(s, s + len), o);
    off[i] = o;
    o += len;
  }
  const batch: RelayedBatch = {
    count: n,
    buf,
    off,
    capLen: b.capLen.slice(0, n),
    origLen: b.origLen.slice(0, n),
    tsUs: b.tsUs.slice(0, n),
    linkType: b.linkType.slice(0, n),
    ifIndex: b.ifIndex.slice(0, n),
  };
  const transfer = [buf, off, batch.capLen, batch.origLen, batch.tsUs, batch.linkType, batch.ifIndex].map(
    (a) => a.buffer as ArrayBuffer,
  );
  return { batch, transfer };
}

/** Structured cloning turns Buffers into Uint8Arrays; the store and EVE code expect Buffers. */
function asBuffer(u: Uint8Array | undefined): Buffer | undefined {
  return u === undefined || Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

interface Override {
  state: LiveState;
  reason: LiveUnavailableReason | null;
  message: string | null;
  nextRetryAt: number | null;
}

/** Start the live sensor in a worker thread. Never throws: failures show in stats().capture. */
export function startLiveSensorThread(opts: LiveSensorThreadOptions): LiveSensorThread {
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  const timers = opts.timers ?? REAL_TIMERS;
  const filter = opts.filter ?? '';
  const statsIntervalMs = opts.statsIntervalMs ?? 5000;
  let cfg: EngineConfig = opts.engineConfig ?? defaultConfig();
  let worker: Worker | null = null;
  let cur: LiveSnapshot | null = null;
  let base: LiveSensorStats = emptyStats(opts.interface, filter);
  let baseCounters: EngineCounters = zeroCounters();
  let override: Override | null = null;
  let workers = 0;
  let crashes = 0;
  let attempts = 0;
  let readyAt: number | null = null;
  let childPid: number | null = null;
  let retryTimer: unknown = null;
  let stopping = false;
  /** The worker's engine configuration did not load; a reconfigure() may cure it. */
  let fatal = false;
  let stopDone: (() => void) | null = null;
  let stopped: Promise<void> | null = null;
  let lastError: string | null = null;
  let consumerErrors = 0;
  let nextReconf = 0;
  const reconfs = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  const sessions = new Map<number, CaptureSession>();
  let waiters: { pred: (s: LiveSensorStats) => boolean; resolve: (s: LiveSensorStats) => void }[] = [];

  const stats = (): LiveSensorStats => {
    const s = addSensorStats(base, cur?.stats ?? emptyStats(opts.interface, filter));
    // Every worker after the first started a new capture session too.
    s.capture.restarts += Math.max(0, workers - 1);
    if (override !== null) {
      s.capture.state = override.state;
      s.capture.reason = override.reason;
      s.capture.message = override.message;
      s.capture.nextRetryAt = override.nextRetryAt;
    }
    if (lastError !== null) s.engine.last_error = lastError;
    s.engine.errors += consumerErrors;
    return s;
  };

  const changed = (notifyStats: boolean): void => {
    if (notifyStats) opts.onStats?.(stats());
    if (waiters.length === 0) return;
    const s = stats();
    const keep: typeof waiters = [];
    for (const w of waiters)
      if (w.pred(s)) w.resolve(s);
      else keep.push(w);
    waiters = keep;
  };

  const killChild = (): void => {
    if (childPid === null) return;
    try {
      process.kill(childPid, 'SIGKILL');
    } catch {
      // Already gone: nothing to end.
    }
    childPid = null;
  };

  /** Fold a finished worker's counters into the base, so totals never go back. */
  const retire = (): void => {
    if (cur === null) return;
    base = addSensorStats(base, cur.stats);
    baseCounters = mergeCounters([baseCounters, cur.counters]);
    cur = null;
  };

  const relayOpen = (w: Worker, session: number, params: Parameters<NonNullable<typeof opts.opener>>[0]): void => {
    const send = (m: ToLiveWorker, transfer?: ArrayBuffer[]): void => {
      if (worker === w) w.postMessage(m, transfer);
    };
    try {
      const s = opts.opener!(params, {
        onListening: (info) => send({ kind: 'session-listening', session, linkType: info.linkType }),
        onBatch: (b) => {
          const { batch, transfer } = packBatch(b);
          send({ kind: 'session-batch', session, batch }, transfer);
        },
        onCounters: (c) => send({ kind: 'session-counters', session, counters: { ...c } }),
        onExit: (failure) => {
          sessions.delete(session);
          send({
            kind: 'session-exit',
            session,
            failure: failure === null ? null : { reason: failure.reason, message: failure.message },
          });
        },
      });
      sessions.set(session, s);
    } catch (e) {
      send({
        kind: 'session-exit',
        session,
        failure: { reason: 'capture_failed', message: e instanceof Error ? e.message : String(e) },
      });
    }
  };

  const onMessage = (w: Worker, m: FromLiveWorker): void => {
    if (w !== worker) return;
    switch (m.kind) {
      case 'ready':
        cur = m.snapshot;
        readyAt = timers.now();
        override = null;
        changed(true);
        return;
      case 'update': {
        cur = m.snapshot;
        try {
          for (const a of m.alerts) {
            if (a.packet !== undefined) a.packet = asBuffer(a.packet);
            if (a.payload !== undefined) a.payload = asBuffer(a.payload);
            opts.onAlert?.(a);
          }
          for (const f of m.flows) opts.onFlow?.(f);
          for (const r of m.apps) opts.onApp?.(r);
          if (m.packets > 0) opts.onPackets?.(m.packets);
        } catch (e) {
          // A throwing consumer must not take the server down (a worker event is uncaught
          // otherwise); counted like the inline sensor's batch errors.
          consumerErrors++;
          lastError = e instanceof Error ? e.message : String(e);
        }
        changed(m.cause === 'stats');
        return;
      }
      case 'stopped':
        cur = m.snapshot;
        if (m.error !== null) lastError = m.error;
        stopDone?.();
        return;
      case 'reconfigured': {
        const r = reconfs.get(m.id);
        reconfs.delete(m.id);
        if (m.error === null) r?.resolve();
        else r?.reject(new Error(m.error));
        return;
      }
      case 'fatal':
        // Rule or model files that do not load: only a configuration change helps, so no retry.
        override = {
          state: 'unavailable',
          reason: 'invalid_config',
          message: `engine configuration does not load: ${m.message}`,
          nextRetryAt: null,
        };
        fatal = true;
        void w.terminate();
        changed(true);
        return;
      case 'child':
        childPid = m.pid;
        return;
      case 'session-open':
        relayOpen(w, m.session, m.params);
        return;
      case 'session-stop':
        sessions.get(m.session)?.stop();
        return;
      case 'session-request-counters':
        sessions.get(m.session)?.requestCounters();
        return;
    }
  };

  const onExit = (w: Worker, why: string): void => {
    if (w !== worker) return;
    worker = null;
    killChild();
    // Sessions relayed to the dead worker end with it.
    for (const s of [...sessions.values()]) s.stop();
    sessions.clear();
    for (const r of reconfs.values()) r.reject(new Error(`sensor worker exited: ${why}`));
    reconfs.clear();
    if (stopping || fatal) {
      stopDone?.();
      return;
    }
    crashes++;
    lastError = `sensor worker exited: ${why}`;
    retire();
    // A worker that ran long enough was a success: its death starts a fresh series of retries.
    if (readyAt !== null && timers.now() - readyAt >= retry.resetAfterS * 1000) attempts = 0;
    readyAt = null;
    attempts++;
    const message = `sensor worker exited (${why})`;
    if (attempts > retry.maxRetries) {
      override = { state: 'failed', reason: 'capture_failed', message, nextRetryAt: null };
    } else {
      const delayMs = backoffDelayS(retry, attempts) * 1000;
      override = { state: 'restarting', reason: 'capture_failed', message, nextRetryAt: timers.now() + delayMs };
      retryTimer = timers.setTimeout(() => {
        retryTimer = null;
        if (!stopping) spawn();
      }, delayMs);
    }
    changed(true);
  };

  const spawn = (): void => {
    const init: LiveWorkerInit = {
      interface: opts.interface,
      filter,
      params: opts.params ?? {},
      retry: opts.retry ?? {},
      engineConfig: cfg,
      statsIntervalMs,
      flows: opts.onFlow !== undefined,
      ...(opts.flowSample !== undefined ? { flowSample: opts.flowSample } : {}),
      app: opts.onApp !== undefined,
      ...(opts.fileStore !== undefined ? { fileStore: opts.fileStore } : {}),
      relaySessions: opts.opener !== undefined,
    };
    const w = new Worker(opts.workerUrl ?? new URL('./live-worker.js', import.meta.url), { workerData: init });
    worker = w;
    workers++;
    let error: string | null = null;
    w.on('message', (m: FromLiveWorker) => onMessage(w, m));
    w.on('error', (e: Error) => {
      error = e.message;
    });
    w.on('messageerror', (e: Error) => {
      // A message that could not be deserialised: its results are lost, counted.
      consumerErrors++;
      lastError = `sensor worker message lost: ${e.message}`;
    });
    w.on('exit', (code) => onExit(w, error ?? `exit code ${code}`));
  };

  spawn();

  return {
    get worker() {
      return worker;
    },
    get crashes() {
      return crashes;
    },
    stats,
    counters: () => (cur === null ? baseCounters : mergeCounters([baseCounters, cur.counters])),
    waitFor: (pred) => {
      const s = stats();
      if (pred(s)) return Promise.resolve(s);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    reconfigure: (next: EngineConfig) => {
      if (stopping) return Promise.reject(new Error('the sensor is stopped'));
      const w = worker;
      if (w === null || cur === null) {
        // Between a crash and its restart (or before the first ready): the next worker uses it.
        cfg = next;
        if (fatal && w === null) {
          // The configuration that did not load is replaced: try again with the new one.
          fatal = false;
          override = null;
          spawn();
        }
        return Promise.resolve();
      }
      const id = ++nextReconf;
      return new Promise<void>((resolve, reject) => {
        reconfs.set(id, {
          resolve: () => {
            cfg = next;
            resolve();
          },
          reject,
        });
        const m: ToLiveWorker = { kind: 'reconfigure', id, cfg: next };
        w.postMessage(m);
      });
    },
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        if (retryTimer !== null) timers.clearTimeout(retryTimer);
        retryTimer = null;
        const w = worker;
        if (w !== null) {
          const limit = opts.stopTimeoutMs ?? 30_000;
          let timer: NodeJS.Timeout | null = null;
          await new Promise<void>((resolve) => {
            stopDone = resolve;
            timer = setTimeout(() => {
              lastError = `sensor worker did not finish its flows within ${limit} ms; terminated`;
              resolve();
            }, limit);
            const m: ToLiveWorker = { kind: 'stop' };
            w.postMessage(m);
          });
          if (timer !== null) clearTimeout(timer);
          worker = null;
          await w.terminate();
          killChild();
        }
        if (override === null || override.state === 'restarting') {
          override = { state: 'stopped', reason: null, message: null, nextRetryAt: null };
        }
        changed(true);
      })();
      return stopped;
    },
  };
}
