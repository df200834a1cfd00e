/**
 * Training jobs (docs/server.md, "Training"): `POST /api/training/train` queues one; it reads the
 * labeled training samples of the live feature set from the store (at most TRAINING_MAX_SAMPLES,
 * shared out per label so rare classes stay whole), trains with src/ml/train.ts in a worker thread
 * (the event loop stays free: nothing of the fit runs on the server's thread), saves the run as the
 * next version of the model store, records it in the store's `models` table with its metrics, and,
 * when asked, activates it.
 *
 * - One job runs at a time (a fit keeps the cores busy); at most `maxQueued` wait, more are refused.
 * - States: queued -> running -> completed | failed (with the reason: too few samples, one class, a
 *   trainer error, TRAINING_TIMEOUT_S, the server stopping). Progress: stage and percent, as events.
 * - Jobs live in memory (the last KEEP_FINISHED); the runs they produced are in the model store and
 *   the models table, which is what the history route reads.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { ModelType } from '../detect/classify/model.js';
import type { Metrics } from '../ml/metrics.js';
import { FEATURE_SET_ID, SampleMatrix, quotas, readiness } from '../ml/samples.js';
import { roleOf } from '../ml/store.js';
import type { ModelRole, ModelStore, RunRecord } from '../ml/store.js';
import type { Repository } from '../store/repository.js';
import type { ModelRecord } from '../store/types.js';
import type { TrainingWorkerInput, TrainingWorkerMessage } from './training-worker.js';

/** Model types the API trains (ONNX models are imported, not trained). */
export const TRAINABLE_TYPES = [
  'random_forest',
  'gradient_boosting',
  'logistic_regression',
  'svm',
  'mlp',
  'cnn',
  'isolation_forest',
] as const satisfies readonly ModelType[];
export type TrainableType = (typeof TRAINABLE_TYPES)[number];

export type TrainingStatus = 'queued' | 'running' | 'completed' | 'failed';
export const TRAINING_STATUSES: readonly TrainingStatus[] = ['queued', 'running', 'completed', 'failed'];

/** Name of the API's runs in the `models` table; `version` there is the store's vN number. */
export const MODEL_RECORD_NAME = 'vigil';
/** TRAINING_MAX_SAMPLES default: 100,000 x 87 features is 70 MB of matrix, trained in minutes. */
export const DEFAULT_MAX_SAMPLES = 100_000;
/** TRAINING_TIMEOUT_S default. */
export const DEFAULT_TIMEOUT_S = 1800;
const DEFAULT_MAX_QUEUED = 4;
const KEEP_FINISHED = 100;
/** Samples read per store query: a page takes 10-25 ms of the server's thread on SQLite (decoding). */
export const SAMPLE_PAGE = 250;

export interface TrainingRequest {
  modelType: TrainableType;
  params: Record<string, number | string | boolean>;
  /** Hold-out share in [0, 1). */
  testSize: number;
  activate: boolean;
  /**
   * Scheduled retraining: activate only when the new run's test macro-F1 is at least this (the
   * active model's), so a retrain never replaces a better model.
   */
  activateIfMacroF1AtLeast?: number;
  seed: number;
  createdBy: string | null;
  /**
   * Train on these rows instead of the stored labeled samples (the live baseline: the first flows
   * of a live run), with `source` naming them in the run's record.
   */
  data?: { matrix: SampleMatrix; source: string };
}

/** A job as the API shows it. */
export interface TrainingJobView {
  job_id: string;
  status: TrainingStatus;
  stage: 'queued' | 'loading' | 'training' | 'scoring' | 'saving' | 'done';
  percent: number;
  model_type: TrainableType;
  role: ModelRole;
  params: Record<string, number | string | boolean>;
  test_size: number;
  activate: boolean;
  created_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Samples trained and tested on, per label. */
  samples: number | null;
  classes: Record<string, number> | null;
  /** Labeled samples read but left out: they lack a feature most samples have. */
  skipped_samples: number | null;
  /** Features left out because some sample lacks them. */
  dropped_features: string[] | null;
  version: string | null;
  model_id: number | null;
  activated: boolean;
  activation_error: string | null;
  /** Why a conditional (scheduled) activation did not happen. */
  activation_skipped: string | null;
  metrics: { accuracy: number; macro_f1: number; weighted_f1: number; roc_auc: number | null; rows: number } | null;
  error: string | null;
}

export interface TrainingJobQueueOptions {
  repo: Repository;
  store: ModelStore;
  /** TRAINING_MAX_SAMPLES (default 100,000). */
  maxSamples?: number;
  /** TRAINING_TIMEOUT_S; 0 = none (default 1800). */
  timeoutS?: number;
  maxQueued?: number;
  /** Called after the job activated its model (the server reloads its engines' models). */
  onActivated?: (version: string, role: ModelRole) => void;
}

export interface TrainingJobEvents {
  progress: [TrainingJobView];
  done: [TrainingJobView];
}

/** Thrown by submit when `maxQueued` jobs already wait. */
export class TrainingQueueFull extends Error {
  readonly code = 'VIGIL_TRAINING_QUEUE_FULL' as const;
}

interface Job {
  view: TrainingJobView;
  req: TrainingRequest;
  worker: Worker | null;
  cancelled: string | null;
  done: Promise<TrainingJobView>;
  resolve: (v: TrainingJobView) => void;
}

const headline = (m: Metrics | null): TrainingJobView['metrics'] =>
  m === null
    ? null
    : { accuracy: m.accuracy, macro_f1: m.macro_f1, weighted_f1: m.weighted_f1, roc_auc: m.roc_auc, rows: m.rows };

/** Labeled sample counts of the live feature set (label -> count). */
export async function labeledCounts(repo: Repository, featureSet = FEATURE_SET_ID): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const c of await repo.sampleCounts(featureSet)) if (c.label !== null) out[c.label] = c.count;
  return out;
}

/** The models-table row of a store version (null when the run was not made through the API). */
export async function modelRecordOf(repo: Repository, version: string): Promise<ModelRecord | null> {
  const n = Number(version.slice(1));
  return (await repo.listModels({ name: MODEL_RECORD_NAME })).find((m) => m.version === n) ?? null;
}

/** Mirror an activation of the model store in the models table (the store is the source of truth). */
export async function recordActivation(repo: Repository, version: string): Promise<void> {
  const m = await modelRecordOf(repo, version);
  if (m !== null) await repo.activateModel(m.id);
}

export class TrainingJobQueue extends EventEmitter<TrainingJobEvents> {
  private readonly jobs = new Map<string, Job>();
  private readonly queue: Job[] = [];
  private running: Job | null = null;
  private closed = false;
  readonly maxSamples: number;
  readonly timeoutS: number;
  private readonly maxQueued: number;

  constructor(private readonly opts: TrainingJobQueueOptions) {
    super();
    this.maxSamples = Math.max(1, Math.floor(opts.maxSamples ?? DEFAULT_MAX_SAMPLES));
    this.timeoutS = Math.max(0, opts.timeoutS ?? DEFAULT_TIMEOUT_S);
    this.maxQueued = Math.max(1, opts.maxQueued ?? DEFAULT_MAX_QUEUED);
  }

  /** Queue a training run. Throws TrainingQueueFull when too many wait. */
  submit(req: TrainingRequest): TrainingJobView {
    if (this.closed) throw new Error('the training queue is closed');
    if (this.queue.length >= this.maxQueued)
      throw new TrainingQueueFull(`${this.queue.length} training jobs are already waiting; try again when one ends`);
    let resolve!: (v: TrainingJobView) => void;
    const done = new Promise<TrainingJobView>((r) => (resolve = r));
    const view: TrainingJobView = {
      job_id: randomUUID(),
      status: 'queued',
      stage: 'queued',
      percent: 0,
      model_type: req.modelType,
      role: roleOf(req.modelType),
      params: req.params,
      test_size: req.testSize,
      activate: req.activate,
      created_by: req.createdBy,
      created_at: new Date().toISOString(),
      started_at: null,
      finished_at: null,
      samples: null,
      classes: null,
      skipped_samples: null,
      dropped_features: null,
      version: null,
      model_id: null,
      activated: false,
      activation_error: null,
      activation_skipped: null,
      metrics: null,
      error: null,
    };
    const job: Job = { view, req, worker: null, cancelled: null, done, resolve };
    this.jobs.set(view.job_id, job);
    this.queue.push(job);
    this.forgetOld();
    this.emit('progress', { ...view });
    this.pump();
    return { ...view };
  }

  get(id: string): TrainingJobView | null {
    const j = this.jobs.get(id);
    return j === undefined ? null : { ...j.view };
  }

  /** Recent jobs, newest first. */
  list(): TrainingJobView[] {
    return [...this.jobs.values()].map((j) => ({ ...j.view })).reverse();
  }

  /** Resolves when the job ends; null for an unknown id. */
  wait(id: string): Promise<TrainingJobView> | null {
    return this.jobs.get(id)?.done ?? null;
  }

  counts(): { queued: number; running: number } {
    return { queued: this.queue.length, running: this.running === null ? 0 : 1 };
  }

  /** Refuse new jobs, fail the waiting ones, stop the running one and wait for it. */
  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) this.finish(j, 'failed', 'cancelled: the server stopped');
    const r = this.running;
    if (r !== null) {
      r.cancelled = 'cancelled: the server stopped';
      await r.worker?.terminate();
      await r.done;
    }
  }

  private forgetOld(): void {
    for (const [id, j] of this.jobs) {
      if (this.jobs.size <= KEEP_FINISHED) break;
      if (j.view.status === 'completed' || j.view.status === 'failed') this.jobs.delete(id);
    }
  }

  private update(job: Job, patch: Partial<TrainingJobView>): void {
    Object.assign(job.view, patch);
    this.emit('progress', { ...job.view });
  }

  private finish(job: Job, status: 'completed' | 'failed', error: string | null): void {
    this.update(job, {
      status,
      error,
      stage: 'done',
      percent: status === 'completed' ? 100 : job.view.percent,
      finished_at: new Date().toISOString(),
    });
    const v = { ...job.view };
    this.emit('done', v);
    job.resolve(v);
  }

  private pump(): void {
    if (this.running !== null || this.closed) return;
    const job = this.queue.shift();
    if (job === undefined) return;
    this.running = job;
    void this.run(job)
      .catch((e: unknown) => {
        if (job.view.status === 'running')
          this.finish(
            job,
            'failed',
            // Viewers read job errors: the store's path on the server is named, not shown.
            job.cancelled ??
              `training failed: ${(e as Error).message.split(this.opts.store.dir).join('DATA_DIR/models')}`,
          );
      })
      .finally(() => {
        this.running = null;
        this.pump();
      });
  }

  /** The labeled samples of the store, shared out per label (null: the job failed or was cancelled). */
  private async readSamples(job: Job): Promise<SampleMatrix | null> {
    const { repo } = this.opts;
    const counts = await labeledCounts(repo);
    const ready = readiness(counts, job.req.modelType);
    if (!ready.ready) {
      this.finish(job, 'failed', ready.reason);
      return null;
    }
    const take = quotas(counts, this.maxSamples);
    const total = Object.values(take).reduce((a, b) => a + b, 0);
    const m = new SampleMatrix(total);
    for (const [label, want] of Object.entries(take)) {
      let after = 0;
      let got = 0;
      while (got < want) {
        const { samples } = await repo.listSamples({
          label,
          featureSet: FEATURE_SET_ID,
          afterId: after,
          limit: Math.min(SAMPLE_PAGE, want - got),
        });
        if (samples.length === 0) break;
        for (const s of samples) m.add(s.features, label);
        got += samples.length;
        after = samples[samples.length - 1]!.id;
        this.update(job, { percent: Math.min(10, Math.round((m.n / Math.max(1, total)) * 10)) });
        if (job.cancelled !== null) {
          this.finish(job, 'failed', job.cancelled);
          return null;
        }
        // SQLite answers synchronously: let requests in between pages.
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    return m;
  }

  private async run(job: Job): Promise<void> {
    const { repo, store } = this.opts;
    const req = job.req;
    this.update(job, { status: 'running', stage: 'loading', started_at: new Date().toISOString() });
    const m = req.data?.matrix ?? (await this.readSamples(job));
    if (m === null) return;
    const loaded = m.build();
    this.update(job, {
      stage: 'training',
      samples: loaded.ds.n,
      classes: loaded.stats.classCounts,
      skipped_samples: loaded.stats.skippedRows,
      dropped_features: loaded.stats.droppedColumns,
    });
    // Labels may have changed since the counts, and rows may lack features: check what is left.
    const again = readiness(loaded.stats.classCounts, req.modelType);
    if (!again.ready) return this.finish(job, 'failed', again.reason);
    const input: TrainingWorkerInput = {
      loaded,
      source: req.data?.source ?? `training_samples (${FEATURE_SET_ID})`,
      cfg: {
        model: req.modelType,
        params: req.params,
        testSize: req.testSize,
        split: 'stratified',
        seed: req.seed,
        scaler: 'standard',
        balance: 'none',
        dropConstant: true,
      },
    };
    const result = await this.train(job, input);
    if (result.kind === 'error') return this.finish(job, 'failed', job.cancelled ?? result.message);
    this.update(job, { stage: 'saving', percent: 95 });
    const metrics = headline(result.metrics);
    const file = result.file;
    const rec: Partial<RunRecord> = {
      data: input.source,
      rows: loaded.ds.n,
      classes: file.classes,
      note: `trained through the API (job ${job.view.job_id}${req.createdBy !== null ? `, by ${req.createdBy}` : ''})`,
      ...(metrics !== null
        ? {
            metrics: {
              accuracy: metrics.accuracy,
              macro_f1: metrics.macro_f1,
              weighted_f1: metrics.weighted_f1,
              roc_auc: metrics.roc_auc,
            },
          }
        : {}),
    };
    const run = store.save(file, result.report, rec);
    let modelId: number | null = null;
    try {
      const row = await repo.createModel({
        kind: run.role,
        name: MODEL_RECORD_NAME,
        version: Number(run.version.slice(1)),
        algorithm: file.type,
        metrics: result.metrics === null ? null : { ...result.metrics },
        params: { ...req.params, test_size: req.testSize, seed: req.seed },
        artifactPath: store.versionDir(run.version),
        featureSet: FEATURE_SET_ID,
        samples: loaded.ds.n,
      });
      modelId = row.id;
    } catch (e) {
      // A row of that version exists (a data directory reused with another database): the store
      // keeps the run either way; the table is a mirror.
      if ((e as { code?: string }).code !== 'VIGIL_STORE_CONFLICT') throw e;
    }
    this.update(job, { version: run.version, model_id: modelId, metrics });
    const floor = req.activateIfMacroF1AtLeast;
    let activate = req.activate;
    if (!activate && floor !== undefined) {
      const f1 = metrics?.macro_f1;
      if (f1 !== undefined && f1 >= floor) activate = true;
      else
        this.update(job, {
          activation_skipped:
            f1 === undefined
              ? 'the run has no test metrics to compare'
              : `macro-F1 ${f1.toFixed(4)} is below the active model's ${floor.toFixed(4)}`,
        });
    }
    if (activate) {
      try {
        store.activate(run.version);
        await recordActivation(repo, run.version);
        this.opts.onActivated?.(run.version, run.role);
        this.update(job, { activated: true });
      } catch (e) {
        // Refused (it does not load): the run is saved, the active model unchanged.
        this.update(job, { activation_error: (e as Error).message.split(store.dir).join('DATA_DIR/models') });
      }
    }
    this.finish(job, 'completed', null);
  }

  /** Run the worker; resolves with its result or error (never rejects for a trainer's error). */
  private train(
    job: Job,
    input: TrainingWorkerInput,
  ): Promise<Extract<TrainingWorkerMessage, { kind: 'result' }> | { kind: 'error'; message: string }> {
    return new Promise((resolve) => {
      const w = new Worker(new URL('./training-worker.js', import.meta.url), { workerData: input });
      job.worker = w;
      let settled = false;
      const settle = (
        r: Extract<TrainingWorkerMessage, { kind: 'result' }> | { kind: 'error'; message: string },
      ): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        job.worker = null;
        void w.terminate();
        resolve(r);
      };
      const timer =
        this.timeoutS > 0
          ? setTimeout(() => {
              job.cancelled = `stopped at TRAINING_TIMEOUT_S (${this.timeoutS} s)`;
              settle({ kind: 'error', message: job.cancelled });
            }, this.timeoutS * 1000)
          : undefined;
      timer?.unref();
      w.on('message', (msg: TrainingWorkerMessage) => {
        if (msg.kind === 'progress') {
          // Loading is done here; the worker's stages: train (and cv) then score.
          const pct =
            msg.stage === 'score' ? 85 + 10 * msg.fraction : msg.stage === 'load' ? 10 : 10 + 75 * msg.fraction;
          this.update(job, {
            stage: msg.stage === 'score' ? 'scoring' : 'training',
            percent: Math.round(Math.max(job.view.percent, pct) * 10) / 10,
          });
        } else if (msg.kind === 'result') settle(msg);
        else settle({ kind: 'error', message: msg.message });
      });
      w.on('error', (e) => settle({ kind: 'error', message: `training worker failed: ${e.message}` }));
      w.on('exit', (code) => settle({ kind: 'error', message: job.cancelled ?? `training worker exited (${code})` }));
    });
  }
}
