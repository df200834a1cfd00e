/**
 * What the live sensor teaches the models (issue 6): an anomaly baseline from the first N flows of
 * a live run, and a trickle of live flows kept as unlabeled training samples for analysts to label.
 *
 * - Baseline (ANOMALY_BASELINE_FLOWS = N, default 0 = off): when no anomaly model is active, the
 *   first N finished flows with a feature vector are taken as normal traffic and an Isolation
 *   Forest is trained on them as a training job (src/jobs/training-job.ts: worker thread, saved as
 *   the next model-store version, recorded, activated), after which every engine scores flows with
 *   it (ServerModels 'change'). The usual baseline caveat: traffic during those flows is assumed
 *   normal; an attack in progress becomes part of normal.
 * - Live samples (LIVE_TRAINING_SAMPLES_PER_HOUR, default 120; 0 = off): a uniform random sample
 *   of finished flows (LIVE_SAMPLE_RATE of them leave the sensor's thread, default 0.05), at most
 *   that many per hour and LIVE_TRAINING_SAMPLES_MAX (default 50,000) in the store, written in
 *   batches as unlabeled samples with source `live` and the flow's 5-tuple and times.
 */
import type { FastifyInstance } from 'fastify';
import type { FlowRecord } from '../flow/table.js';
import type { TrainingJobQueue, TrainingJobView } from '../jobs/training-job.js';
import { BENIGN_LABEL, FEATURE_SET_ID, SampleMatrix, flowSampleMeta } from '../ml/samples.js';
import type { Repository } from '../store/repository.js';
import { ConfigError } from './config.js';
import { envNumber } from './env-num.js';
import type { ServerExtension } from './context.js';
import type { ServerModels } from './models.js';

type Env = Record<string, string | undefined>;

export interface LiveLearningSettings {
  baselineFlows: number;
  samplesPerHour: number;
  samplesMax: number;
  sampleRate: number;
}

const num = envNumber;

export function liveLearningSettingsFromEnv(env: Env = process.env): LiveLearningSettings {
  const baseline = num(env, 'ANOMALY_BASELINE_FLOWS', 0, 0, 1_000_000, true);
  if (baseline > 0 && baseline < 100)
    throw new ConfigError(`ANOMALY_BASELINE_FLOWS must be 0 (off) or at least 100, got "${baseline}"`);
  return {
    baselineFlows: baseline,
    samplesPerHour: num(env, 'LIVE_TRAINING_SAMPLES_PER_HOUR', 120, 0, 1_000_000, true),
    samplesMax: num(env, 'LIVE_TRAINING_SAMPLES_MAX', 50_000, 0, 100_000_000, true),
    sampleRate: num(env, 'LIVE_SAMPLE_RATE', 0.05, 0.0001, 1, false),
  };
}

/** Samples written per insert, and at least this often (ms) when fewer are waiting. */
const WRITE_BATCH = 50;
const WRITE_EVERY_MS = 30_000;
const HOUR_MS = 3_600_000;

export interface LiveLearningOptions extends LiveLearningSettings {
  models: ServerModels;
  /** The training extension's job queue (null until the server is ready). */
  queue: () => TrainingJobQueue | null;
  now?: () => number;
}

export interface LiveLearning extends ServerExtension {
  /** For the live extension: finished flows, and which ones it should send. */
  flows: { onFlow: (f: FlowRecord) => void; sample: () => { first: number; rate: number } | null };
  /** The baseline job once it was submitted (tests, status). */
  baselineJob(): TrainingJobView | null;
  /** Resolves with the baseline job when it is submitted. */
  whenBaseline(): Promise<TrainingJobView>;
  /** Write the samples waiting (tests, shutdown). */
  flush(): Promise<void>;
}

export function liveLearningExtension(o: LiveLearningOptions): LiveLearning {
  const now = o.now ?? Date.now;
  let repo: Repository | null = null;
  let log: FastifyInstance['log'] | null = null;
  // Baseline: wanted only when no anomaly model is active when the sensor starts.
  let baseline: SampleMatrix | null = null;
  let job: TrainingJobView | null = null;
  let submitted: (j: TrainingJobView) => void = () => undefined;
  const baselinePromise = new Promise<TrainingJobView>((r) => (submitted = r));
  // Live samples.
  let received = 0;
  let windowStart = now();
  let inWindow = 0;
  let stored = 0;
  let storedKnown = false;
  let pending: { features: Float64Array; meta: Record<string, unknown> }[] = [];
  let writing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;

  const sample = (): { first: number; rate: number } | null => {
    const wantBaseline = o.baselineFlows > 0 && o.models.active('anomaly').source === 'none';
    if (wantBaseline && baseline === null && job === null) baseline = new SampleMatrix(o.baselineFlows);
    if (!wantBaseline && o.samplesPerHour === 0) return null;
    return { first: wantBaseline ? o.baselineFlows : 0, rate: o.samplesPerHour > 0 ? o.sampleRate : 0 };
  };

  const submitBaseline = (m: SampleMatrix): void => {
    const q = o.queue();
    if (q === null) return;
    try {
      job = q.submit({
        modelType: 'isolation_forest',
        params: {},
        testSize: 0,
        activate: true,
        seed: 42,
        createdBy: 'live-baseline',
        data: { matrix: m, source: `live baseline (the first ${m.n} flows of a live run)` },
      });
      log?.info({ job: job.job_id, flows: m.n }, 'anomaly baseline: training on the first live flows');
      submitted(job);
    } catch (e) {
      log?.error({ err: (e as Error).message }, 'anomaly baseline: the training job was refused');
    }
  };

  const write = (): Promise<void> => {
    const r = repo;
    if (r === null || pending.length === 0) return writing;
    const batch = pending;
    pending = [];
    writing = writing.then(async () => {
      try {
        await r.insertSamples(
          batch.map((s) => ({ features: s.features, source: 'live', featureSet: FEATURE_SET_ID, metadata: s.meta })),
        );
      } catch (e) {
        log?.error({ err: (e as Error).message }, 'storing live training samples failed');
      }
    });
    return writing;
  };

  const keepSample = (f: FlowRecord, sampled: boolean): void => {
    if (o.samplesPerHour === 0 || repo === null || !storedKnown) return;
    // Flows sent for the baseline were not sampled yet: sample them the same way here.
    if (!sampled && Math.random() >= o.sampleRate) return;
    const t = now();
    if (t - windowStart >= HOUR_MS) {
      windowStart = t;
      inWindow = 0;
    }
    if (inWindow >= o.samplesPerHour || stored >= o.samplesMax) return;
    inWindow++;
    stored++;
    pending.push({
      features: Float64Array.from(f.features!),
      meta: flowSampleMeta(f),
    });
    if (pending.length >= WRITE_BATCH) void write();
  };

  const onFlow = (f: FlowRecord): void => {
    if (f.features === null) return;
    const first = received++ < o.baselineFlows;
    const b = baseline;
    if (b !== null && b.n < o.baselineFlows) {
      b.add(f.features, BENIGN_LABEL);
      if (b.n === o.baselineFlows) {
        baseline = null;
        submitBaseline(b);
      }
    }
    keepSample(f, !first);
  };

  return {
    name: 'live-learning',
    attach: async (app) => {
      repo = app.vigil.repo;
      log = app.log;
      if (o.samplesPerHour > 0) {
        // Live samples already stored (by earlier runs) count towards LIVE_TRAINING_SAMPLES_MAX.
        stored = (await repo.listSamples({ source: 'live', limit: 1 })).total;
        storedKnown = true;
        timer = setInterval(() => void write(), WRITE_EVERY_MS);
        timer.unref();
      }
    },
    close: async () => {
      if (timer !== null) clearInterval(timer);
      await write();
    },
    flows: { onFlow, sample },
    baselineJob: () => job,
    whenBaseline: () => baselinePromise,
    flush: () => write(),
  };
}
