/**
 * A live sensor: the supervised capture of src/capture/live.ts feeding the same PacketEngine that
 * `vigil analyze` runs (decode, flows, reassembly, app layer, rules, behaviour detectors, ML),
 * inline on this thread. Results leave through callbacks; nothing here knows about the server.
 * `vigil serve` runs it inside a worker thread (src/pipeline/live-thread.ts), so the engine never
 * holds up the API's event loop.
 *
 * It lives in pipeline/ rather than capture/ because capture code must not import the engine
 * (STYLE.md, dependency direction).
 */
import type { AppRecord } from '../applayer/app-layer.js';
import type { PacketBatch } from '../capture/batch.js';
import { LiveCapture } from '../capture/live.js';
import type { LiveCaptureParams, LiveCaptureStats, RetryPolicy, SessionOpener, Timers } from '../capture/live.js';
import type { AlertRecord } from '../detect/engine/detector.js';
import type { LoadedRules } from '../detect/engine/load.js';
import type { FlowRecord } from '../flow/table.js';
import { BATCH_PACKETS } from '../capture/batch.js';
import { defaultConfig } from './config.js';
import type { EngineConfig } from './config.js';
import { PacketEngine, mergeCounters, protocolCounts } from './engine.js';
import type { EngineCounters } from './engine.js';
import type { FlowSink } from './sink.js';

export interface LiveSensorOptions {
  /** Interface name, `any` for all. */
  interface: string;
  /** BPF filter ('' = everything). */
  filter?: string;
  /** Other capture parameters (snaplen, kernel buffer, immediate mode, tcpdump path). */
  params?: Partial<Omit<LiveCaptureParams, 'interface' | 'filter'>>;
  retry?: Partial<RetryPolicy>;
  /** Engine configuration (default: defaultConfig(), as `vigil analyze` without options). */
  engineConfig?: EngineConfig;
  /** Rules already loaded (else the engine loads the configured ones). */
  rules?: LoadedRules;
  onAlert?: (a: AlertRecord) => void;
  onFlow?: (f: FlowRecord) => void;
  /**
   * Which finished flows reach onFlow (default: all): only flows with a feature vector, the first
   * `first` of them, then each with probability `rate`. Bounds what a worker clones per flow.
   */
  flowSample?: { first: number; rate: number };
  onApp?: (r: AppRecord) => void;
  /** After each batch went through the engine: its packet count (traffic counters, tests). */
  onPackets?: (n: number) => void;
  /** Periodic statistics (every statsIntervalMs) and capture state changes. */
  onStats?: (s: LiveSensorStats) => void;
  /** Default 5000; 0 = only on state changes. Also the kernel-counter poll interval. */
  statsIntervalMs?: number;
  /** Tests: a fake capture session and clock. */
  opener?: SessionOpener;
  timers?: Timers;
}

export interface LiveSensorStats {
  capture: LiveCaptureStats;
  engine: {
    packets: number;
    bytes: number;
    flows_active: number;
    flows_total: number;
    alerts: number;
    protocols: Record<string, number>;
    decoder_events: Record<string, number>;
    /** Exceptions from the engine on a batch (a bug; the batch is skipped, capture goes on). */
    errors: number;
    last_error: string | null;
  };
}

/** What the server needs of a sensor, inline or in a worker thread. */
export interface LiveSensorHandle {
  /** Stop capturing, end every flow (their records and alerts are delivered) and resolve. */
  stop(): Promise<void>;
  stats(): LiveSensorStats;
  /** The engine's full counters (as `vigil analyze` reports them), cumulative over reconfigurations. */
  counters(): EngineCounters;
  /**
   * Swap in an engine built from `cfg` (a new model, new rules) while capture goes on: the new
   * engine is built first (on failure the old one stays and this rejects), then the old one ends
   * its flows (their records and alerts are delivered). Counters stay cumulative.
   */
  reconfigure(cfg: EngineConfig): Promise<void>;
}

export interface LiveSensor extends LiveSensorHandle {
  readonly capture: LiveCapture;
}

/** Start a live sensor. Throws only for an engine configuration that cannot load (rule files). */
export function startLiveSensor(opts: LiveSensorOptions): LiveSensor {
  const cfg = opts.engineConfig ?? defaultConfig();
  let alerts = 0;
  let featureFlows = 0;
  let errors = 0;
  let lastError: string | null = null;
  const sink: FlowSink = {
    flow:
      opts.flowSample === undefined
        ? (rec) => opts.onFlow?.(rec)
        : (rec) => {
            if (rec.features === null) return;
            if (featureFlows++ < opts.flowSample!.first || Math.random() < opts.flowSample!.rate) opts.onFlow?.(rec);
          },
    app: (rec) => opts.onApp?.(rec),
    alert: (rec) => {
      alerts++;
      opts.onAlert?.(rec);
    },
    drain: () => null,
    finish: () => null,
  };
  let engine = new PacketEngine(cfg, sink, BATCH_PACKETS, 0, opts.rules);
  // Counters of engines replaced by reconfigure(), so the totals never go back.
  let retired: EngineCounters | null = null;
  let retiredFlows = 0;
  let generation = 0;
  const counters = (): EngineCounters =>
    retired === null ? engine.counters() : mergeCounters([retired, engine.counters()]);
  const stats = (): LiveSensorStats => {
    const c = counters();
    return {
      capture: capture.stats(),
      engine: {
        packets: c.packets,
        bytes: c.bytes,
        flows_active: engine.flows.activeFlows,
        flows_total: retiredFlows + engine.flows.totalFlows,
        alerts,
        protocols: protocolCounts(c),
        decoder_events: c.decoderEvents,
        errors,
        last_error: lastError,
      },
    };
  };
  const interval = opts.statsIntervalMs ?? 5000;
  const capture = new LiveCapture({
    params: { ...opts.params, interface: opts.interface, filter: opts.filter ?? '' },
    retry: opts.retry,
    countersIntervalMs: interval,
    opener: opts.opener,
    timers: opts.timers,
    onBatch: (b: PacketBatch) => {
      try {
        engine.process(b);
      } catch (e) {
        // Never let one bad batch stop the sensor: count it and keep capturing.
        errors++;
        lastError = e instanceof Error ? e.message : String(e);
      }
      opts.onPackets?.(b.count);
    },
    onState: () => opts.onStats?.(stats()),
  });
  let timer: NodeJS.Timeout | null = null;
  if (interval > 0 && opts.onStats !== undefined) {
    const cb = opts.onStats;
    timer = setInterval(() => cb(stats()), interval);
    timer.unref();
  }
  capture.start();
  let stopped: Promise<void> | null = null;
  /** Old engines still settling (asynchronous model scoring after finish()). */
  const settling = new Set<Promise<void>>();
  const retire = (old: PacketEngine): void => {
    old.finish();
    const c = old.counters();
    retired = retired === null ? c : mergeCounters([retired, c]);
    retiredFlows += old.flows.totalFlows;
    const p = old.settle().finally(() => settling.delete(p));
    settling.add(p);
  };
  return {
    capture,
    stats,
    counters,
    reconfigure: async (next: EngineConfig) => {
      if (stopped !== null) throw new Error('the sensor is stopped');
      // New rules or models only (a rule reload, a model activation): swapped inside the running
      // engine, so open flows carry on with their stream and parser state. Throws, changing
      // nothing, when they do not load.
      if (engine.reconfigureInPlace(next)) return;
      // Build first: a model or rule file that does not load leaves the running engine in place.
      // A distinct workerId per engine keeps flow ids of successive engines apart.
      generation = (generation + 1) & 0xff;
      const fresh = new PacketEngine(next, sink, BATCH_PACKETS, generation);
      const old = engine;
      engine = fresh;
      retire(old);
      await Promise.all(settling);
    },
    stop: () => {
      stopped ??= (async () => {
        if (timer !== null) clearInterval(timer);
        await capture.stop();
        engine.finish();
        // The ML stage may score asynchronously (ONNX): wait for it, and for replaced engines.
        await engine.settle();
        await Promise.all(settling);
      })();
      return stopped;
    },
  };
}
