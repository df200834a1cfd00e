/**
 * Live capture in `vigil serve` (issue 7): with CAPTURE_ENABLED=true the live sensor
 * (src/pipeline/live-sensor.ts: a supervised tcpdump child feeding the packet engine) runs on
 * CAPTURE_INTERFACE; its alerts are stored through a BatchWriter (one transaction per batch, at
 * most 250 ms late) and published on the hub (`new_alert`); its counters become the per-minute
 * traffic series (addTrafficStats) and traffic_update. /api/health reports the capture state, the
 * reason when it is not running, and the kernel drop counters.
 *
 * Off by default, as Suricata captures only when told which interface to watch: capturing `any`
 * (management traffic included) with raised privileges is not something to do unasked. When off,
 * a one-time probe (`tcpdump -d`) tells /api/health whether turning it on would work.
 *
 * The sensor runs in a worker thread (src/pipeline/live-thread.ts) unless `inline` is set: a flood
 * keeps that thread busy, not the API's. When the active models change (ServerModels 'change'),
 * the sensor swaps in an engine built from the new configuration while capture goes on.
 */
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import { liveConfigFromEnv, probeCapture } from '../capture/live.js';
import type { CaptureAvailability, LiveCaptureParams, RetryPolicy, SessionOpener } from '../capture/live.js';
import type { AlertRecord } from '../detect/engine/detector.js';
import { applyEnv, defaultConfig } from '../pipeline/config.js';
import type { EngineConfig } from '../pipeline/config.js';
import { startLiveSensor } from '../pipeline/live-sensor.js';
import type { LiveSensorHandle, LiveSensorOptions, LiveSensorStats } from '../pipeline/live-sensor.js';
import { startLiveSensorThread } from '../pipeline/live-thread.js';
import type { LiveSensorThread } from '../pipeline/live-thread.js';
import { toStoredAlertInput } from '../store/alert-input.js';
import { FileStore } from '../output/filestore.js';
import type { FileStoreSpec } from '../output/filestore.js';
import { fileStoreSpecOf, storeAppFiles } from '../output/filestore-app.js';
import { BatchWriter } from '../store/batch-writer.js';
import type { FlowRecord } from '../flow/table.js';
import type { Repository } from '../store/repository.js';
import { nowUs } from '../store/time.js';
import type { AlertInsertResult, StoredAlertInput, TrafficStatInput } from '../store/types.js';
import type { CaptureStatus, ServerExtension } from './context.js';
import type { ServerHub, TrafficSnapshot } from './hub.js';

/** How often counters are added to the per-minute traffic rows (each write adds the delta). */
export const TRAFFIC_FLUSH_MS = 15_000;

export interface LiveExtensionOptions {
  hub: ServerHub;
  /** CAPTURE_ENABLED and CAPTURE_INTERFACE (the server configuration's). */
  enabled: boolean;
  interface: string;
  /** Environment for the other CAPTURE_* and SNIFFER_RETRY_* settings (default process.env). */
  env?: Record<string, string | undefined>;
  /** Engine configuration (default: `vigil analyze`'s, with the original's variables applied). */
  engineConfig?: () => EngineConfig;
  /** Tests: a fake capture session, a faster stats/flush cadence. */
  opener?: SessionOpener;
  statsIntervalMs?: number;
  trafficFlushMs?: number;
  /** Probe the capture when disabled (default true; tests turn it off). */
  probe?: boolean;
  /** Run the sensor on the main thread instead of a worker thread (tests, the bench's comparison). */
  inline?: boolean;
  /** Tests: another worker entry (a wrapper around src/pipeline/live-worker.js). */
  workerUrl?: URL;
  /** The server's models (ServerModels): on 'change' the running sensor takes the new configuration. */
  models?: { on(event: 'change', fn: () => void): unknown; off(event: 'change', fn: () => void): unknown };
  /** Finished flows wanted on this thread (live samples, the anomaly baseline), and which ones. */
  flows?: { onFlow: (f: FlowRecord) => void; sample: () => { first: number; rate: number } | null };
}

interface Totals {
  packets: number;
  bytes: number;
  flows: number;
  alerts: number;
  dropped: number;
  protocols: Record<string, number>;
  /** Flows per application protocol (http, dns, tls, ...). */
  app?: Record<string, number>;
}

const ZERO: Totals = { packets: 0, bytes: 0, flows: 0, alerts: 0, dropped: 0, protocols: {}, app: {} };

function totalsOf(s: LiveSensorStats, appLayer: Record<string, number>): Totals {
  const k = s.capture.kernel;
  const app: Record<string, number> = {};
  for (const [key, v] of Object.entries(appLayer)) if (key.endsWith('_flows')) app[key.slice(0, -6)] = v;
  return {
    app,
    packets: s.engine.packets,
    bytes: s.engine.bytes,
    flows: s.engine.flows_total,
    alerts: s.engine.alerts,
    dropped: k.dropped + k.ifdropped,
    protocols: s.engine.protocols,
  };
}

/** The per-minute row for what happened between two snapshots of the counters. */
export function trafficDelta(prev: Totals, cur: Totals, tsUs: number, sensor: string): TrafficStatInput | null {
  const d = (a: number, b: number): number => Math.max(0, a - b);
  const p = (k: string): number => d(cur.protocols[k] ?? 0, prev.protocols[k] ?? 0);
  const row: TrafficStatInput = {
    tsUs,
    sensor,
    packets: d(cur.packets, prev.packets),
    bytes: d(cur.bytes, prev.bytes),
    flows: d(cur.flows, prev.flows),
    alerts: d(cur.alerts, prev.alerts),
    dropped: d(cur.dropped, prev.dropped),
    tcp: p('tcp'),
    udp: p('udp'),
    icmp: p('icmp') + p('icmpv6'),
  };
  row.other = Math.max(0, row.packets! - row.tcp! - row.udp! - row.icmp!);
  const app: Record<string, number> = {};
  for (const [k, v] of Object.entries(cur.app ?? {})) {
    const x = d(v, prev.app?.[k] ?? 0);
    if (x > 0) app[k] = x;
  }
  if (Object.keys(app).length > 0) row.protocols = app;
  if (row.packets === 0 && row.dropped === 0 && row.alerts === 0) return null;
  return row;
}

export interface LiveExtension extends ServerExtension {
  /** For buildServer's captureStatus option. */
  status(): CaptureStatus;
  /** The running sensor: a LiveSensorThread unless `inline`. */
  sensor(): LiveSensorHandle | null;
  /** Settles once the reconfiguration after the latest model change is done (tests). */
  reconfigured(): Promise<void>;
  /** Write pending alerts and traffic counters now (tests, shutdown). */
  flush(): Promise<void>;
}

export function liveCaptureExtension(opts: LiveExtensionOptions): LiveExtension {
  const hub = opts.hub;
  let sensor: LiveSensorHandle | null = null;
  /** The latest reconfiguration (model change); close() waits for it. */
  let reconfiguring: Promise<void> = Promise.resolve();
  let onModelChange: (() => void) | null = null;
  let writer: BatchWriter<StoredAlertInput, AlertInsertResult[]> | null = null;
  let repo: Repository | null = null;
  let sensorName = 'vigil';
  let flushTimer: NodeJS.Timeout | null = null;
  let last: Totals = ZERO;
  let trafficErrors = 0;
  let startError: string | null = null;
  let probe: CaptureAvailability | null = null;
  let stopped = false;

  const flushTraffic = async (): Promise<void> => {
    if (sensor === null || repo === null) return;
    const cur = totalsOf(sensor.stats(), sensor.counters().appLayer);
    const row = trafficDelta(last, cur, nowUs(), sensorName);
    last = cur;
    if (row === null) return;
    try {
      await repo.addTrafficStats([row]);
    } catch {
      // Counted and shown in /api/health; the next flush carries on from the new totals.
      trafficErrors++;
    }
  };

  const status = (): CaptureStatus => {
    if (!opts.enabled) {
      const why =
        probe === null
          ? ''
          : probe.available
            ? ` (capture on "${opts.interface}" would work)`
            : ` (turning it on would fail: ${probe.message})`;
      return {
        enabled: false,
        state: 'unavailable',
        interface: null,
        reason: `live capture is off: set CAPTURE_ENABLED=true to capture on CAPTURE_INTERFACE${why}`,
        code: 'disabled',
      };
    }
    if (sensor === null)
      return {
        enabled: true,
        state: 'unavailable',
        interface: opts.interface,
        reason: startError ?? 'live capture is starting',
        code: startError === null ? null : 'invalid_config',
      };
    const s = sensor.stats();
    const c = s.capture;
    return {
      enabled: true,
      state: c.state,
      interface: c.interface,
      reason: c.state === 'running' ? null : (c.message ?? c.reason ?? null),
      code: c.reason,
      stats: {
        packets: c.packets,
        bytes: c.bytes,
        kernel_received: c.kernel.received,
        kernel_dropped: c.kernel.dropped,
        kernel_ifdropped: c.kernel.ifdropped,
        restarts: c.restarts,
        flows_active: s.engine.flows_active,
        flows_total: s.engine.flows_total,
        alerts: s.engine.alerts,
        engine_errors: s.engine.errors,
        worker_crashes: (sensor as Partial<LiveSensorThread>).crashes ?? 0,
        alerts_written: writer?.written ?? 0,
        alerts_dropped: writer?.dropped ?? 0,
        alert_write_errors: writer?.errors ?? 0,
        traffic_write_errors: trafficErrors,
      },
    };
  };

  const snapshot = (): TrafficSnapshot | null => {
    if (sensor === null) return null;
    const s = sensor.stats();
    return {
      packets: s.engine.packets,
      bytes: s.engine.bytes,
      flows_active: s.engine.flows_active,
      flows_total: s.engine.flows_total,
      alerts: s.engine.alerts,
      dropped: s.capture.kernel.dropped + s.capture.kernel.ifdropped,
      protocols: s.engine.protocols,
    };
  };

  return {
    name: 'live-capture',
    status,
    sensor: () => sensor,
    reconfigured: () => reconfiguring,
    async flush() {
      await writer?.flush();
      await flushTraffic();
    },
    attach(app: FastifyInstance) {
      repo = app.vigil.repo;
      if (!opts.enabled) {
        if (opts.probe !== false)
          void probeCapture({ interface: opts.interface }).then((p) => {
            probe = p;
          });
        return;
      }
      let params: LiveCaptureParams;
      let retry: RetryPolicy;
      let engineCfg: EngineConfig;
      let fileStore: FileStoreSpec | null;
      try {
        ({ params, retry } = liveConfigFromEnv(opts.env ?? process.env));
        engineCfg = opts.engineConfig?.() ?? defaultLiveEngineConfig(opts.env ?? process.env);
        // VIGIL_FILE_STORE: prepared here, so the worker and the PCAP jobs share one cap.
        fileStore = engineCfg.appLayer ? fileStoreSpecOf(engineCfg.fileStore, process.cwd()) : null;
      } catch (e) {
        // A bad CAPTURE_* value: the API still starts; /api/health says which variable.
        startError = e instanceof Error ? e.message : String(e);
        app.log.error({ reason: startError }, 'live capture not started');
        return;
      }
      sensorName = engineCfg.sensorName === 'vigil' ? os.hostname() || 'vigil' : engineCfg.sensorName;
      const store = app.vigil.repo;
      writer = new BatchWriter<StoredAlertInput, AlertInsertResult[]>({
        write: (items) => store.insertAlerts(items),
        onWritten: (items, res) => hub.publishInserted(items, res, 'live'),
        onError: (e) => app.log.error({ err: e }, 'storing live alerts failed'),
      });
      const w = writer;
      const sensorOpts: LiveSensorOptions = {
        interface: opts.interface,
        filter: params.filter,
        params: {
          snaplen: params.snaplen,
          bufferKiB: params.bufferKiB,
          immediate: params.immediate,
          tcpdumpPath: params.tcpdumpPath,
        },
        retry,
        engineConfig: engineCfg,
        onAlert: (a: AlertRecord) => w.push(toStoredAlertInput(a, { sensor: sensorName })),
        ...(fileStore !== null && opts.inline === true ? { onApp: storeHook(new FileStore(fileStore)) } : {}),
        ...flowOptions(opts.flows),
        ...(opts.statsIntervalMs !== undefined ? { statsIntervalMs: opts.statsIntervalMs } : {}),
        ...(opts.opener !== undefined ? { opener: opts.opener } : {}),
        onStats: (s) => {
          if (s.capture.state !== 'running' && s.capture.reason !== null)
            app.log.warn({ state: s.capture.state, reason: s.capture.reason, message: s.capture.message }, 'capture');
        },
      };
      try {
        sensor =
          opts.inline === true
            ? startLiveSensor(sensorOpts)
            : startLiveSensorThread({
                ...sensorOpts,
                ...(fileStore !== null ? { fileStore } : {}),
                ...(opts.workerUrl !== undefined ? { workerUrl: opts.workerUrl } : {}),
              });
      } catch (e) {
        startError = `live capture could not start: ${e instanceof Error ? e.message : String(e)}`;
        app.log.error({ reason: startError }, 'live capture not started');
        return;
      }
      if (opts.models !== undefined) {
        const s = sensor;
        const cfgOf = opts.engineConfig ?? ((): EngineConfig => defaultLiveEngineConfig(opts.env ?? process.env));
        onModelChange = () => {
          // Serialised: each change applies after the previous one; a configuration that does
          // not load leaves the running engine in place.
          reconfiguring = reconfiguring.then(async () => {
            if (stopped) return;
            try {
              await s.reconfigure(cfgOf());
              app.log.info('live capture: engine reconfigured (new models or rules)');
            } catch (e) {
              app.log.error(
                { err: e },
                'live capture: the new configuration does not load; the previous one stays in use',
              );
            }
          });
        };
        opts.models.on('change', onModelChange);
      }
      hub.setTrafficSource(snapshot);
      flushTimer = setInterval(() => void flushTraffic(), opts.trafficFlushMs ?? TRAFFIC_FLUSH_MS);
      flushTimer.unref();
      app.log.info({ interface: opts.interface, filter: params.filter }, 'live capture started');
    },
    async close() {
      if (stopped) return;
      stopped = true;
      if (flushTimer !== null) clearInterval(flushTimer);
      if (onModelChange !== null) opts.models?.off('change', onModelChange);
      await reconfiguring;
      hub.setTrafficSource(null);
      // Stopping ends every flow: their alerts arrive before the writer's last flush.
      await sensor?.stop();
      await writer?.close();
      await flushTraffic();
    },
  };
}

/** On the sensor's own thread: write the wanted files of each finished HTTP/SMTP record. */
function storeHook(files: FileStore): NonNullable<LiveSensorOptions['onApp']> {
  return (r) => storeAppFiles(files, r);
}

/** The sensor options that deliver flows to `flows.onFlow`, when it wants any now. */
function flowOptions(flows: LiveExtensionOptions['flows']): Pick<LiveSensorOptions, 'onFlow' | 'flowSample'> {
  const sample = flows?.sample() ?? null;
  if (flows === undefined || sample === null) return {};
  return { onFlow: flows.onFlow, flowSample: sample };
}

/** `vigil analyze`'s engine defaults with the original's variables (WHITELIST_IPS, ...) applied. */
export function defaultLiveEngineConfig(env: Record<string, string | undefined>): EngineConfig {
  const cfg = defaultConfig();
  applyEnv(cfg, env);
  return cfg;
}
