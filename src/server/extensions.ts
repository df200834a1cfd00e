/**
 * The extensions `vigil serve` runs on top of the REST API: PCAP analysis, the test routes (when
 * enabled), live capture and Socket.IO, sharing one ServerHub. Their own settings come from the
 * environment (the original's names where it had them); a bad value stops start-up with a
 * one-line ConfigError, like the rest of the configuration.
 */
import { EventEmitter } from 'node:events';
import { defaultConfig } from '../pipeline/config.js';
import type { EngineConfig } from '../pipeline/config.js';
import { FileStoreError } from '../output/filestore.js';
import { fileStoreSpecOf } from '../output/filestore-app.js';
import { analyzeExtension } from './analyze.js';
import { ConfigError } from './config.js';
import { envNumber } from './env-num.js';
import type { ServerConfig } from './config.js';
import type { CaptureStatus, ServerExtension } from './context.js';
import { ServerHub } from './hub.js';
import { liveCaptureExtension } from './live.js';
import { liveLearningExtension, liveLearningSettingsFromEnv } from './live-learning.js';
import type { LiveLearningSettings } from './live-learning.js';
import { ServerModels } from './models.js';
import { ServerRules, ruleSourceFromEnv, rulesExtension } from './rules.js';
import type { LiveExtensionOptions } from './live.js';
import { pcapExtension } from './pcap.js';
import type { PcapExtensionOptions } from './pcap.js';
import { DEFAULT_BROADCAST_INTERVAL_S, DEFAULT_MAX_ALERTS_PER_S, realtimeExtension } from './realtime.js';
import { testRoutesEnabled, testRoutesExtension } from './test-routes.js';
import { trainingExtension } from './training.js';
import type { TrainingExtensionOptions } from './training.js';

type Env = Record<string, string | undefined>;

export interface ExtensionSettings {
  /** WEBSOCKET_BROADCAST_INTERVAL, seconds (0.5..300, default 3). */
  broadcastIntervalS: number;
  /** WEBSOCKET_MAX_ALERTS_PER_S (1..100000, default 200). */
  maxAlertsPerSecond: number;
  /** PCAP_JOB_CONCURRENCY (1..64, default 1). */
  pcapConcurrency: number;
  /** VIGIL_TEST_ROUTES, else on only with NODE_ENV=development. */
  testRoutes: boolean;
  /** ANOMALY_BASELINE_FLOWS, LIVE_TRAINING_SAMPLES_PER_HOUR, LIVE_TRAINING_SAMPLES_MAX, LIVE_SAMPLE_RATE. */
  liveLearning: LiveLearningSettings;
  /** PCAP_TRAINING_SAMPLES: flows of a PCAP analysis kept as unlabeled training samples (0..1e6, default 5000). */
  pcapTrainingSamples: number;
  /** TRAINING_MAX_SAMPLES: labeled samples a training run reads at most (10..10e6, default 100000). */
  trainingMaxSamples: number;
  /** TRAINING_TIMEOUT_S: a training job is stopped after this many seconds (0 = none, default 1800). */
  trainingTimeoutS: number;
  /** TRAINING_IMPORT_MAX_MB: largest CSV import (1..10240, default 50). */
  trainingImportMaxMb: number;
  /** TRAINING_SCHEDULE_HOURS: retrain the active store models this often (0 = off, default; at most 576). */
  trainingScheduleHours: number;
}

const num = envNumber;

export function extensionSettingsFromEnv(env: Env = process.env): ExtensionSettings {
  let testRoutes: boolean;
  try {
    testRoutes = testRoutesEnabled(env);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  return {
    broadcastIntervalS: num(env, 'WEBSOCKET_BROADCAST_INTERVAL', DEFAULT_BROADCAST_INTERVAL_S, 0.5, 300, false),
    maxAlertsPerSecond: num(env, 'WEBSOCKET_MAX_ALERTS_PER_S', DEFAULT_MAX_ALERTS_PER_S, 1, 100_000, true),
    pcapConcurrency: num(env, 'PCAP_JOB_CONCURRENCY', 1, 1, 64, true),
    testRoutes,
    liveLearning: liveLearningSettingsFromEnv(env),
    pcapTrainingSamples: num(env, 'PCAP_TRAINING_SAMPLES', 5000, 0, 1_000_000, true),
    trainingMaxSamples: num(env, 'TRAINING_MAX_SAMPLES', 100_000, 10, 10_000_000, true),
    trainingTimeoutS: num(env, 'TRAINING_TIMEOUT_S', 1800, 0, 7 * 86_400, true),
    trainingImportMaxMb: num(env, 'TRAINING_IMPORT_MAX_MB', 50, 1, 10_240, false),
    // 576 h (24 days) is the longest interval a Node timer takes.
    trainingScheduleHours: num(env, 'TRAINING_SCHEDULE_HOURS', 0, 0, 576, false),
  };
}

export interface ServeExtensions {
  hub: ServerHub;
  /** Active models and the model store (DATA_DIR/models), shared by every engine the server starts. */
  models: ServerModels;
  /** The compiled ruleset every engine shares; reloaded on SIGHUP and POST /api/rules/reload. */
  rules: ServerRules;
  extensions: ServerExtension[];
  captureStatus: () => CaptureStatus;
  pcap: ReturnType<typeof pcapExtension>;
  live: ReturnType<typeof liveCaptureExtension>;
  realtime: ReturnType<typeof realtimeExtension>;
  training: ReturnType<typeof trainingExtension>;
  /** The live anomaly baseline and live training samples. */
  learning: ReturnType<typeof liveLearningExtension>;
}

export interface ServeExtensionOptions {
  env?: Env;
  settings?: Partial<ExtensionSettings>;
  /** Tests: passed to the PCAP and live extensions. */
  pcap?: Partial<Omit<PcapExtensionOptions, 'hub'>>;
  live?: Partial<Omit<LiveExtensionOptions, 'hub' | 'enabled' | 'interface'>>;
  /** Tests: how often socket tokens are checked again. */
  revalidateMs?: number;
  /** Tests: passed to the training extension. */
  training?: Partial<Omit<TrainingExtensionOptions, 'models'>>;
}

/** Everything `vigil serve` plugs into buildServer (`extensions` and `captureStatus`). */
export function serveExtensions(cfg: ServerConfig, o: ServeExtensionOptions = {}): ServeExtensions {
  const env = o.env ?? process.env;
  const s = { ...extensionSettingsFromEnv(env), ...o.settings };
  const hub = new ServerHub();
  const models = new ServerModels({ dataDir: cfg.dataDir, env });
  // VIGIL_FILE_STORE: a directory that cannot be used stops start-up with its reason; the store
  // prepared here (under the data directory) is the one the live sensor and the PCAP jobs share.
  // Another bad engine setting does not stop start-up: the routes and health report it (503).
  let fileStore: EngineConfig['fileStore'] | null;
  try {
    fileStore = models.engineConfig().fileStore;
  } catch {
    fileStore = null;
  }
  try {
    if (fileStore !== null) fileStoreSpecOf(fileStore, cfg.dataDir);
  } catch (e) {
    if (e instanceof FileStoreError) throw new ConfigError(e.message);
    throw e;
  }
  // Compiled once here (a broken ruleset stops start-up with its errors), then shared.
  // Rule compilation reads only the detection settings (no environment variable sets them).
  const rules = new ServerRules(ruleSourceFromEnv(cfg.dataDir, env), defaultConfig);
  const engineChanges = new EventEmitter<{ change: [] }>();
  models.on('change', () => engineChanges.emit('change'));
  rules.on('change', () => engineChanges.emit('change'));
  const engineConfig = (): ReturnType<ServerModels['engineConfig']> => {
    const c = rules.applyTo(models.engineConfig());
    // Community IDs are only written to EVE files, which the server does not produce.
    c.flow.communityId = false;
    return c;
  };
  const pcap = pcapExtension({
    hub,
    concurrency: s.pcapConcurrency,
    ...o.pcap,
    queueOptions: {
      engineConfig,
      rules: () => rules.current(),
      trainingSamples: s.pcapTrainingSamples,
      ...o.pcap?.queueOptions,
    },
  });
  // Declared before the live extension uses it; the training queue is looked up when needed.
  let trainingQueue: () => ReturnType<ReturnType<typeof trainingExtension>['queue']> = () => null;
  const learning = liveLearningExtension({ models, ...s.liveLearning, queue: () => trainingQueue() });
  const live = liveCaptureExtension({
    flows: learning.flows,
    hub,
    enabled: cfg.capture.enabled,
    interface: cfg.capture.interface,
    env,
    // The worker compiles the server's rule files itself (rules cannot cross threads).
    engineConfig: () => rules.applyTo(models.engineConfig()),
    // A model activation or a rule reload reconfigures the running live sensor.
    models: engineChanges,
    ...o.live,
  });
  const realtime = realtimeExtension({
    hub,
    broadcastIntervalS: s.broadcastIntervalS,
    maxAlertsPerSecond: s.maxAlertsPerSecond,
    pcapQueue: () => pcap.queue()?.counts() ?? null,
    ...(o.revalidateMs !== undefined ? { revalidateMs: o.revalidateMs } : {}),
  });
  const training = trainingExtension({
    models,
    maxSamples: s.trainingMaxSamples,
    timeoutS: s.trainingTimeoutS,
    maxImportBytes: Math.round(s.trainingImportMaxMb * 1024 * 1024),
    scheduleHours: s.trainingScheduleHours,
    ...o.training,
  });
  trainingQueue = () => training.queue();
  // Socket.IO `training_progress`: every state and progress change of a training job.
  training.events.on('progress', (p) => realtime.io()?.emit('training_progress', p));
  // Closed in reverse: Socket.IO first, then capture (flushes its alerts), then the PCAP jobs.
  const extensions: ServerExtension[] = [
    pcap,
    analyzeExtension({ models, liveMl: () => live.sensor()?.counters().ml ?? null }),
    rulesExtension(rules),
  ];
  extensions.push(training);
  if (s.testRoutes) extensions.push(testRoutesExtension({ hub }));
  // Learning before live: its store is ready when the first flows arrive, and it writes the last
  // samples after the sensor stopped.
  extensions.push(learning, live, realtime);
  return { hub, models, rules, learning, extensions, captureStatus: live.status, pcap, live, realtime, training };
}
