/**
 * The training routes (issue 7; docs/server.md, "Training"): label, list, import and delete
 * training samples; train models as background jobs (src/jobs/training-job.ts); read evaluation
 * figures, model information, confusion matrices and the training history; activate and roll back
 * model versions. Analysts label, import and train; viewers read; admins delete samples and
 * activate or roll back models (training with `activate: true` included).
 *
 * The model store under DATA_DIR/models (src/ml/store.ts) is the source of truth for versions and
 * which one is active; the store's `models` table mirrors the runs made here with their metrics.
 * After an activation or rollback `models.changed()` makes new engines (PCAP jobs, the live sensor)
 * load the new model. Every GET answers 200 on a fresh data directory (no samples, no models).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ModelFile } from '../detect/classify/model.js';
import type { LoadedModel } from '../detect/classify/stage.js';
import { FEATURE_INDEX, FEATURE_NAMES } from '../flow/features.js';
import {
  DEFAULT_MAX_SAMPLES,
  DEFAULT_TIMEOUT_S,
  MODEL_RECORD_NAME,
  SAMPLE_PAGE,
  TRAINABLE_TYPES,
  TRAINING_STATUSES,
  TrainingJobQueue,
  TrainingQueueFull,
  labeledCounts,
  recordActivation,
} from '../jobs/training-job.js';
import type { TrainableType, TrainingJobView } from '../jobs/training-job.js';
import { loadCsv } from '../ml/csv.js';
import type { DataFormat } from '../ml/csv.js';
import { MlError } from '../ml/errors.js';
import type { Metrics } from '../ml/metrics.js';
import {
  BENIGN_LABEL,
  FEATURE_SET_ID,
  MAX_LABEL_LENGTH,
  csvToSamples,
  normalizeLabel,
  quotas,
  readiness,
  typeOfLabel,
  vectorOf,
} from '../ml/samples.js';
import type { History, ModelRole } from '../ml/store.js';
import { mergeParams, metricsByType, metricsFor, predictRows, trainerFor } from '../ml/train.js';
import type { Predictions } from '../ml/train.js';
import type { Dataset } from '../ml/types.js';
import type { Repository } from '../store/repository.js';
import type { TrainingSample, TrainingSampleInput } from '../store/types.js';
import { DriftInfoCache } from './drift-info.js';
import type { DriftInfo } from './drift-info.js';
import type { ServerExtension } from './context.js';
import { ROLE_RANK, principalOf } from './context.js';
import { ApiError, badRequest, conflict, forbidden, notFound } from './errors.js';
import type { ServerModels } from './models.js';
import { anyObject, errorResponses, errorSchema } from './schemas.js';

export interface TrainingExtensionOptions {
  models: ServerModels;
  /** TRAINING_MAX_SAMPLES: labeled samples a training run reads at most (default 100,000). */
  maxSamples?: number;
  /** TRAINING_TIMEOUT_S (default 1800; 0 = none). */
  timeoutS?: number;
  /** TRAINING_IMPORT_MAX_MB in bytes (default 50 MB). */
  maxImportBytes?: number;
  /** TRAINING_IMPORT_MAX_ROWS: rows per CSV import (default 100,000; more is refused, nothing imported). */
  maxImportRows?: number;
  /** Where CSV uploads wait while they are parsed (default DATA_DIR/uploads). */
  uploadDir?: string;
  /**
   * TRAINING_SCHEDULE_HOURS: retrain the active store models on the labeled samples this often
   * (same type, parameters, split and seed) and activate a run only if its test macro-F1 is not
   * lower than the active model's; 0 (default) = off.
   */
  scheduleHours?: number;
}

export const DEFAULT_IMPORT_MAX_BYTES = 50 * 1024 * 1024;
export const DEFAULT_IMPORT_MAX_ROWS = 100_000;
/** Samples a JSON import carries at most (the 1 MiB body limit allows about that many vectors). */
const JSON_IMPORT_MAX = 1000;
/** Labeled samples scored by `evaluate?data=samples` at most (shared out per label). */
const EVAL_MAX_SAMPLES = 20_000;
/** Sources the statistics count samples of (the ones this server writes). */
const SAMPLE_SOURCES = ['manual', 'import', 'pcap', 'live'] as const;
/** Parsed model.json / metrics.json kept per path (model versions do not change once saved). */
const FILE_CACHE_MAX = 16;

const LABEL_PATTERN = '^[^\\x00-\\x1f\\x7f]*$';
const SOURCE_PATTERN = '^[a-z][a-z0-9_-]{0,31}$';
const VERSION_PATTERN = '^v[1-9][0-9]{0,8}$';

type Json = Record<string, unknown>;

// ---- schemas --------------------------------------------------------------------------------------------

const labelValue = { type: 'string', minLength: 1, maxLength: MAX_LABEL_LENGTH + 16, pattern: LABEL_PATTERN } as const;
const featuresValue = {
  description: `${FEATURE_NAMES.length} numbers in FEATURE_NAMES order (null = missing), or {feature name: value}`,
  anyOf: [
    { type: 'array', maxItems: 512, items: { type: ['number', 'null'] } },
    {
      type: 'object',
      maxProperties: 512,
      minProperties: 1,
      additionalProperties: { type: ['number', 'null'] },
    },
  ],
} as const;
const sampleSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'integer' },
    created_at: { type: 'string' },
    label: { type: ['string', 'null'] },
    type: { type: ['string', 'null'] },
    source: { type: 'string' },
    feature_set: { type: 'string' },
    features: { type: 'array', items: { type: ['number', 'null'] } },
    labeled_at: { type: ['string', 'null'] },
    labeled_by: { type: ['string', 'null'] },
    metadata: { type: ['object', 'null'], additionalProperties: true },
  },
} as const;
const samplePage = {
  type: 'object',
  required: ['samples', 'total', 'limit', 'offset'],
  properties: {
    samples: { type: 'array', items: sampleSchema },
    total: { type: 'integer' },
    limit: { type: 'integer' },
    offset: { type: 'integer' },
  },
} as const;
const pageProps = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  offset: { type: 'integer', minimum: 0, maximum: 100_000_000, default: 0 },
  include_features: { type: 'boolean', default: true, description: 'false: leave the vectors out' },
} as const;
const jobSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    job_id: { type: 'string' },
    status: { type: 'string', enum: TRAINING_STATUSES },
    stage: { type: 'string' },
    percent: { type: 'number' },
    model_type: { type: 'string' },
    version: { type: ['string', 'null'] },
    error: { type: ['string', 'null'] },
  },
} as const;
const modelSelectQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version: {
      type: 'string',
      pattern: VERSION_PATTERN,
      description: 'A model-store version (default: the active model)',
    },
    role: { type: 'string', enum: ['classifier', 'anomaly'], default: 'classifier' },
  },
} as const;

// ---- helpers --------------------------------------------------------------------------------------------

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Rows scored between two yields to the event loop (a few ms of work for a forest). */
const SCORE_SLICE = 1024;

/** predictRows in slices with yields in between, so scoring 20,000 samples never stalls the server. */
async function predictChunked(lm: LoadedModel, x: Float64Array, n: number): Promise<Predictions> {
  const file = lm.file;
  const d = file.features.length;
  const k = file.classes.length;
  const out: Predictions = { pred: new Int32Array(n), proba: null, score: null, seconds: 0 };
  for (let r0 = 0; r0 < n; r0 += SCORE_SLICE) {
    const m = Math.min(SCORE_SLICE, n - r0);
    const p = await predictRows(lm.model, file, x.subarray(r0 * d, (r0 + m) * d), m);
    out.pred.set(p.pred, r0);
    if (p.proba !== null) (out.proba ??= new Float64Array(n * k)).set(p.proba, r0 * k);
    if (p.score !== null) (out.score ??= new Float64Array(n)).set(p.score, r0);
    out.seconds += p.seconds;
    await yieldToLoop();
  }
  return out;
}

/** The model store's directory is named DATA_DIR/models in messages: clients never see server paths. */
const scrubber =
  (storeDir: string) =>
  (msg: string): string =>
    msg.split(storeDir).join('DATA_DIR/models');

/** ML errors as API errors: bad data or options 400, a refused model or store problem 409. */
function apiErrorOf(e: unknown, scrub: (m: string) => string = (m) => m): unknown {
  if (!(e instanceof MlError)) return e;
  if (e.code === 'VIGIL_ML_DATA_INVALID' || e.code === 'VIGIL_ML_OPTIONS_INVALID') return badRequest(scrub(e.message));
  return conflict(scrub(e.message));
}

function sampleView(s: TrainingSample, withFeatures: boolean): Json {
  const { features, ...rest } = s;
  return {
    ...rest,
    type: s.label === null ? null : typeOfLabel(s.label),
    // JSON has no NaN: a missing feature is null.
    ...(withFeatures ? { features: features.map((v) => (Number.isFinite(v) ? v : null)) } : {}),
  };
}

/** A small cache of parsed JSON files, keyed by path and modification time. */
class JsonCache {
  private readonly m = new Map<string, { mtimeMs: number; value: unknown }>();
  read(file: string): unknown {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      return null;
    }
    const hit = this.m.get(file);
    if (hit !== undefined && hit.mtimeMs === st.mtimeMs) return hit.value;
    let value: unknown;
    try {
      value = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    } catch {
      value = null;
    }
    if (this.m.size >= FILE_CACHE_MAX) this.m.delete(this.m.keys().next().value!);
    this.m.set(file, { mtimeMs: st.mtimeMs, value });
    return value;
  }
}

interface SelectedModel {
  role: ModelRole;
  source: 'store' | 'config' | 'none';
  version: string | null;
  dir: string | null;
}

/** What one scheduled retraining did per role: the queued job, or why none. */
export interface RetrainOutcome {
  role: ModelRole;
  job: TrainingJobView | null;
  skipped: string | null;
}

/** Progress of training jobs, for Socket.IO (`training_progress`). */
export interface TrainingEvents {
  progress: [TrainingJobView];
}

/** The training routes and job queue, as a server extension. */
export function trainingExtension(opts: TrainingExtensionOptions): ServerExtension & {
  queue(): TrainingJobQueue | null;
  events: EventEmitter<TrainingEvents>;
  /** Run the scheduled retraining now (what the TRAINING_SCHEDULE_HOURS timer calls). */
  retrainNow(): Promise<RetrainOutcome[]>;
} {
  const events = new EventEmitter<TrainingEvents>();
  const models = opts.models;
  const store = models.store;
  const scrub = scrubber(store.dir);
  const mlError = (e: unknown): unknown => apiErrorOf(e, scrub);
  const cache = new JsonCache();
  let queue: TrainingJobQueue | null = null;
  let timer: NodeJS.Timeout | null = null;

  /** Retrain each role whose active model is a store version (trained here), under the same settings. */
  const retrainNow = async (): Promise<RetrainOutcome[]> => {
    const q = queue;
    if (q === null) return [];
    const out: RetrainOutcome[] = [];
    const { h } = historyOf();
    for (const role of ['classifier', 'anomaly'] as const) {
      const skip = (skipped: string): void => void out.push({ role, job: null, skipped });
      const version = h.active[role];
      if (version === null) {
        skip(`no ${role} trained through the API is active`);
        continue;
      }
      if (
        q
          .list()
          .some((j) => j.created_by === 'scheduler' && j.role === role && ['queued', 'running'].includes(j.status))
      ) {
        skip('the previous scheduled run has not finished');
        continue;
      }
      const sel = select({ version });
      const file = modelFileOf(sel);
      const type = file?.type;
      if (file === null || type === undefined || !(TRAINABLE_TYPES as readonly string[]).includes(type)) {
        skip(`the active ${role} (${version}) cannot be retrained here`);
        continue;
      }
      const t = (file.training ?? {}) as { hyperparameters?: Json; split?: { test_size?: number; seed?: number } };
      const test = testMetricsOf(sel);
      const ready = readiness(await labeledCounts(ctxRepo!), type);
      if (!ready.ready) {
        skip(ready.reason!);
        continue;
      }
      try {
        const job = q.submit({
          modelType: type as TrainableType,
          params: (t.hyperparameters ?? {}) as Record<string, number | string | boolean>,
          testSize: t.split?.test_size !== undefined && t.split.test_size > 0 ? t.split.test_size : 0.2,
          seed: t.split?.seed ?? 42,
          activate: false,
          // No test metrics to beat (trained without a test split): never replaced automatically.
          activateIfMacroF1AtLeast: test?.macro_f1 ?? Number.POSITIVE_INFINITY,
          createdBy: 'scheduler',
        });
        out.push({ role, job, skipped: null });
      } catch (e) {
        skip((e as Error).message);
      }
    }
    return out;
  };
  let ctxRepo: Repository | null = null;

  /** The model a read route is about: ?version=, else the active one of the role. 404 for an unknown version. */
  const select = (q: { version?: string; role?: ModelRole }): SelectedModel => {
    if (q.version !== undefined) {
      const dir = store.versionDir(q.version);
      if (!fs.existsSync(path.join(dir, 'model.json'))) throw notFound(`no model version ${q.version}`);
      const file = cache.read(path.join(dir, 'model.json')) as ModelFile | null;
      const role: ModelRole = file?.type === 'isolation_forest' ? 'anomaly' : 'classifier';
      return { role, source: 'store', version: q.version, dir };
    }
    const a = models.active(q.role ?? 'classifier');
    return { role: a.role, source: a.source, version: a.version, dir: a.dir };
  };
  const drift = new DriftInfoCache();
  /** Recent traffic's drift against the model's training data (never fails the route). */
  const driftOf = async (dir: string): Promise<DriftInfo | { status: 'error'; reason: string }> => {
    if (ctxRepo === null) return { status: 'error', reason: 'the store is not open' };
    try {
      return await drift.of(ctxRepo, dir);
    } catch (e) {
      return { status: 'error', reason: (e as Error).message.replaceAll(store.dir, 'DATA_DIR/models') };
    }
  };
  const modelFileOf = (m: SelectedModel): ModelFile | null =>
    m.dir === null ? null : (cache.read(path.join(m.dir, 'model.json')) as ModelFile | null);
  const testMetricsOf = (m: SelectedModel): Metrics | null => {
    if (m.dir === null) return null;
    const r = cache.read(path.join(m.dir, 'metrics.json')) as { test?: Metrics | null } | null;
    return r?.test ?? null;
  };
  const historyOf = (): { h: History; error: string | null } => {
    try {
      return { h: store.history(), error: null };
    } catch (e) {
      // A corrupt history.json: reported, the routes still answer (the configured models are used).
      return {
        h: {
          format: 'vigil-model-store',
          version: 1,
          runs: [],
          active: { classifier: null, anomaly: null },
          stacks: { classifier: [], anomaly: [] },
          events: [],
        },
        error: scrub((e as Error).message),
      };
    }
  };

  return {
    name: 'training',
    events,
    queue: () => queue,
    retrainNow,
    async close() {
      if (timer !== null) clearInterval(timer);
      await queue?.close();
    },
    routes: async (app: FastifyInstance) => {
      const ctx = app.vigil;
      const repo = ctx.repo;
      const uploadDir = opts.uploadDir ?? path.join(ctx.config.dataDir, 'uploads');
      await fs.promises.mkdir(uploadDir, { recursive: true, mode: 0o700 });
      const maxImportBytes = opts.maxImportBytes ?? DEFAULT_IMPORT_MAX_BYTES;
      const maxImportRows = opts.maxImportRows ?? DEFAULT_IMPORT_MAX_ROWS;
      const q = new TrainingJobQueue({
        repo,
        store,
        maxSamples: opts.maxSamples ?? DEFAULT_MAX_SAMPLES,
        timeoutS: opts.timeoutS ?? DEFAULT_TIMEOUT_S,
        onActivated: () => models.changed(),
      });
      queue = q;
      ctxRepo = repo;
      const hours = opts.scheduleHours ?? 0;
      if (hours > 0) {
        timer = setInterval(() => {
          retrainNow().then(
            (r) =>
              app.log.info(
                { retrain: r.map((o) => ({ role: o.role, job: o.job?.job_id, skipped: o.skipped })) },
                'scheduled retraining',
              ),
            (e: unknown) => app.log.error({ err: e }, 'scheduled retraining failed'),
          );
        }, hours * 3_600_000);
        // The schedule never keeps the process alive on its own.
        timer.unref();
      }
      q.on('progress', (v) => events.emit('progress', v));
      q.on('done', (v) => {
        if (v.status === 'failed') app.log.warn({ job: v.job_id, error: v.error }, 'training job failed');
        else app.log.info({ job: v.job_id, version: v.version, metrics: v.metrics }, 'training job completed');
      });

      await app.register(multipart, {
        limits: { fileSize: maxImportBytes, files: 1, fields: 10, parts: 20, fieldSize: 1024 },
      });

      // ---- samples ------------------------------------------------------------------------------------

      app.post<{
        Body: {
          sample_id?: number;
          label?: string | null;
          features?: (number | null)[] | Record<string, number | null>;
          metadata?: Json;
        };
      }>(
        '/api/training/label',
        {
          config: { access: 'analyst', rateLimit: '20 per minute' },
          schema: {
            summary:
              'Label a sample ({sample_id, label}; label null clears it) or add a labeled sample ({features, label})',
            tags: ['training'],
            body: {
              type: 'object',
              additionalProperties: false,
              properties: {
                sample_id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
                label: { anyOf: [labelValue, { type: 'null' }] },
                features: featuresValue,
                metadata: { type: 'object', maxProperties: 32, additionalProperties: true },
              },
            },
            response: {
              200: { type: 'object', properties: { sample: sampleSchema, created: { type: 'boolean' } } },
              201: { type: 'object', properties: { sample: sampleSchema, created: { type: 'boolean' } } },
              ...errorResponses,
              404: errorSchema,
            },
          },
        },
        async (req, reply) => {
          const b = req.body ?? {};
          const user = principalOf(req).user.username;
          if ((b.sample_id === undefined) === (b.features === undefined))
            throw badRequest('give either sample_id (label an existing sample) or features (add a labeled sample)');
          if (b.label === undefined) throw badRequest('label is required (null clears the label of sample_id)');
          let label: string | null;
          try {
            label = b.label === null ? null : normalizeLabel(b.label);
          } catch (e) {
            throw mlError(e);
          }
          if (b.sample_id !== undefined) {
            if (b.metadata !== undefined) throw badRequest('metadata is only accepted with features (a new sample)');
            const s = await repo.labelSample(b.sample_id, label, user);
            if (s === null) throw notFound(`no training sample ${b.sample_id}`);
            await ctx.audit(req, label === null ? 'training.unlabel' : 'training.label', 'training_sample', s.id, {
              label,
            });
            return { sample: sampleView(s, true), created: false };
          }
          if (label === null) throw badRequest('a new sample needs a label');
          let vec: Float64Array;
          try {
            vec = vectorOf(b.features!);
          } catch (e) {
            throw mlError(e);
          }
          const [id] = await repo.insertSamples([
            {
              features: vec,
              label,
              source: 'manual',
              featureSet: FEATURE_SET_ID,
              metadata: b.metadata ?? null,
              labeledBy: user,
            },
          ]);
          const s = await repo.getSample(id!);
          await ctx.audit(req, 'training.add', 'training_sample', id!, { label });
          return reply.code(201).send({ sample: sampleView(s!, true), created: true });
        },
      );

      interface DataQuery {
        label?: string;
        labeled?: boolean;
        source?: string;
        feature_set?: string;
        limit: number;
        offset: number;
        include_features: boolean;
      }
      app.get<{ Querystring: DataQuery }>(
        '/api/training/data',
        {
          config: { access: 'viewer' },
          schema: {
            summary: 'Training samples, oldest first: filters label, labeled, source, feature_set',
            tags: ['training'],
            querystring: {
              type: 'object',
              additionalProperties: false,
              properties: {
                label: labelValue,
                labeled: { type: 'boolean' },
                source: { type: 'string', pattern: SOURCE_PATTERN },
                feature_set: { type: 'string', maxLength: 64, description: 'default: every feature set' },
                ...pageProps,
              },
            },
            response: { 200: samplePage, ...errorResponses },
          },
        },
        async (req) => {
          const x = req.query;
          let label: string | undefined;
          if (x.label !== undefined) {
            try {
              label = normalizeLabel(x.label);
            } catch (e) {
              throw mlError(e);
            }
            if (x.labeled === false) throw badRequest('label and labeled=false contradict each other');
          }
          const r = await repo.listSamples({
            ...(label !== undefined ? { label } : {}),
            ...(x.labeled !== undefined ? { labeled: x.labeled } : {}),
            ...(x.source !== undefined ? { source: x.source } : {}),
            ...(x.feature_set !== undefined ? { featureSet: x.feature_set } : {}),
            limit: x.limit,
            offset: x.offset,
          });
          return {
            samples: r.samples.map((s) => sampleView(s, x.include_features)),
            total: r.total,
            limit: x.limit,
            offset: x.offset,
          };
        },
      );

      app.get<{ Querystring: Omit<DataQuery, 'label' | 'labeled'> }>(
        '/api/training/data/unlabeled',
        {
          config: { access: 'viewer' },
          schema: {
            summary: 'Unlabeled samples to label (PCAP analyses add them), with their suggested label',
            tags: ['training'],
            querystring: {
              type: 'object',
              additionalProperties: false,
              properties: {
                source: { type: 'string', pattern: SOURCE_PATTERN },
                feature_set: { type: 'string', maxLength: 64 },
                ...pageProps,
              },
            },
            response: { 200: samplePage, ...errorResponses },
          },
        },
        async (req) => {
          const x = req.query;
          const r = await repo.listSamples({
            label: null,
            ...(x.source !== undefined ? { source: x.source } : {}),
            ...(x.feature_set !== undefined ? { featureSet: x.feature_set } : {}),
            limit: x.limit,
            offset: x.offset,
          });
          return {
            samples: r.samples.map((s) => ({
              ...sampleView(s, x.include_features),
              suggested_label: (s.metadata?.['suggested_label'] as string | null | undefined) ?? null,
            })),
            total: r.total,
            limit: x.limit,
            offset: x.offset,
          };
        },
      );

      app.post<{
        Body?: {
          samples: {
            features: (number | null)[] | Record<string, number | null>;
            label?: string | null;
            metadata?: Json;
          }[];
        };
      }>(
        '/api/training/import',
        {
          config: { access: 'analyst', rateLimit: '10 per minute' },
          schema: {
            summary:
              'Import samples: a CSV upload (multipart field "file"; fields label_column, format) or JSON {samples: [{features, label}]}',
            tags: ['training'],
            consumes: ['application/json', 'multipart/form-data'],
            body: {
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['samples'],
                    properties: {
                      samples: {
                        type: 'array',
                        minItems: 1,
                        maxItems: JSON_IMPORT_MAX,
                        items: {
                          type: 'object',
                          additionalProperties: false,
                          required: ['features'],
                          properties: {
                            features: featuresValue,
                            label: { anyOf: [labelValue, { type: 'null' }] },
                            metadata: { type: 'object', maxProperties: 32, additionalProperties: true },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
            response: { 201: anyObject, ...errorResponses, 413: errorSchema, 415: errorSchema },
          },
        },
        async (req, reply) => {
          const user = principalOf(req).user.username;
          if (req.isMultipart()) {
            const r = await importCsv(req, user);
            await ctx.audit(req, 'training.import', 'training_sample', null, {
              rows: r['imported'],
              format: r['format'],
              filename: r['filename'],
            });
            return reply.code(201).send(r);
          }
          const body = req.body;
          if (body === undefined)
            throw new ApiError(
              'VIGIL_API_UNSUPPORTED_MEDIA_TYPE',
              'send a CSV as multipart/form-data in the field "file", or JSON {"samples": [...]}',
            );
          const inputs: TrainingSampleInput[] = [];
          const labels: Record<string, number> = {};
          body.samples.forEach((s, i) => {
            try {
              const label = s.label === undefined || s.label === null ? null : normalizeLabel(s.label);
              inputs.push({
                features: vectorOf(s.features),
                label,
                source: 'import',
                featureSet: FEATURE_SET_ID,
                metadata: s.metadata ?? null,
                labeledBy: label === null ? null : user,
              });
              const k = label ?? '(unlabeled)';
              labels[k] = (labels[k] ?? 0) + 1;
            } catch (e) {
              const a = mlError(e);
              throw a instanceof ApiError ? badRequest(`samples[${i}]: ${a.message}`) : a;
            }
          });
          const ids = await repo.insertSamples(inputs);
          await ctx.audit(req, 'training.import', 'training_sample', null, { rows: ids.length, format: 'json' });
          return reply.code(201).send({
            imported: ids.length,
            format: 'json',
            source: 'import',
            feature_set: FEATURE_SET_ID,
            labels,
            first_id: ids[0] ?? null,
            last_id: ids.at(-1) ?? null,
          });
        },
      );

      /** A CSV upload: streamed to a file, parsed with csv.ts, inserted in one call (all or nothing). */
      const importCsv = async (req: FastifyRequest, user: string): Promise<Json> => {
        const tmp = path.join(uploadDir, `${randomUUID()}.csv`);
        const fields: Record<string, string> = {};
        let filename: string | null = null;
        try {
          const tooLarge = (): ApiError =>
            new ApiError(
              'VIGIL_API_PAYLOAD_TOO_LARGE',
              `the CSV is larger than the import limit of ${maxImportBytes} bytes (TRAINING_IMPORT_MAX_MB)`,
            );
          for await (const part of req.parts()) {
            if (part.type === 'file') {
              if (part.fieldname !== 'file' || filename !== null) {
                part.file.resume();
                throw badRequest(`the CSV goes in the field "file", not "${part.fieldname}"`);
              }
              filename = (part.filename ?? 'upload.csv').split(/[\\/]/).pop()!.slice(0, 255);
              try {
                await pipeline(part.file, fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
              } catch (e) {
                if ((e as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE' || part.file.truncated) throw tooLarge();
                throw e;
              }
              if (part.file.truncated) throw tooLarge();
            } else {
              if (!['label_column', 'format'].includes(part.fieldname))
                throw badRequest(`unknown field "${part.fieldname}" (accepted: file, label_column, format)`);
              fields[part.fieldname] = String(part.value).trim();
            }
          }
          if (filename === null) throw badRequest('no file in the upload: send the CSV in the field "file"');
          const format = fields['format'];
          const formats = ['auto', 'cicflowmeter', 'nsl-kdd', 'unsw-nb15', 'csv'];
          if (format !== undefined && !formats.includes(format))
            throw badRequest(`format must be one of ${formats.join(', ')}, got "${format}"`);
          const labelColumn = fields['label_column'];
          if (labelColumn !== undefined && (labelColumn === '' || labelColumn.length > 128))
            throw badRequest('label_column must be a column name of 1 to 128 characters');
          let samples;
          let stats;
          try {
            const loaded = await loadCsv(tmp, {
              ...(labelColumn !== undefined ? { labelColumn } : {}),
              maxRows: maxImportRows + 1,
            });
            stats = loaded.stats;
            if (format !== undefined && format !== 'auto' && format !== stats.format)
              throw badRequest(`the file looks like ${stats.format} data, not ${format}`);
            if (loaded.ds.n > maxImportRows)
              throw badRequest(
                `the CSV has more than ${maxImportRows} rows (TRAINING_IMPORT_MAX_ROWS); split it, nothing was imported`,
              );
            if (loaded.ds.n === 0) throw badRequest('the CSV has no labeled rows');
            samples = csvToSamples(loaded);
          } catch (e) {
            const a = mlError(e);
            // csv.ts names the file: the temporary path means nothing to the client.
            throw a instanceof ApiError ? new ApiError(a.code, a.message.split(tmp).join(filename)) : a;
          }
          const D = FEATURE_NAMES.length;
          const inputs: TrainingSampleInput[] = new Array<TrainingSampleInput>(samples.n);
          const labels: Record<string, number> = {};
          for (let i = 0; i < samples.n; i++) {
            const label = samples.labels[i]!;
            labels[label] = (labels[label] ?? 0) + 1;
            inputs[i] = {
              features: samples.x.subarray(i * D, (i + 1) * D),
              label,
              source: 'import',
              featureSet: FEATURE_SET_ID,
              metadata: { file: filename, row: i + 1 },
              labeledBy: user,
            };
          }
          // One call is one transaction: a failure leaves nothing behind.
          const ids = await repo.insertSamples(inputs);
          return {
            imported: ids.length,
            filename,
            format: stats.format as DataFormat,
            label_column: labelColumn ?? null,
            source: 'import',
            feature_set: FEATURE_SET_ID,
            labels,
            skipped_rows: stats.skippedRows,
            mapped_features: samples.mapped.length,
            missing_features: samples.missing,
            ignored_columns: samples.ignored,
            first_id: ids[0] ?? null,
            last_id: ids.at(-1) ?? null,
          };
        } finally {
          await fs.promises.rm(tmp, { force: true });
        }
      };

      app.delete<{ Params: { id: number } }>(
        '/api/training/data/:id',
        {
          config: { access: 'admin' },
          schema: {
            summary: 'Delete a training sample',
            tags: ['training'],
            params: {
              type: 'object',
              required: ['id'],
              properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
            },
            response: {
              200: { type: 'object', properties: { deleted: { type: 'boolean' }, id: { type: 'integer' } } },
              ...errorResponses,
              404: errorSchema,
            },
          },
        },
        async (req) => {
          const id = req.params.id;
          const s = await repo.getSample(id);
          if (s === null || !(await repo.deleteSample(id))) throw notFound(`no training sample ${id}`);
          await ctx.audit(req, 'training.delete', 'training_sample', id, { label: s.label, source: s.source });
          return { deleted: true, id };
        },
      );

      app.get(
        '/api/training/statistics',
        {
          config: { access: 'viewer' },
          schema: {
            summary: 'Samples per label and source, the feature set, and whether each model type can be trained',
            tags: ['training'],
            response: { 200: anyObject, ...errorResponses },
          },
        },
        async () => {
          const current = await repo.sampleCounts(FEATURE_SET_ID);
          const all = await repo.sampleCounts();
          const sum = (l: { count: number }[]): number => l.reduce((a, c) => a + c.count, 0);
          const labeled = current.filter((c) => c.label !== null);
          // Labeled counts of the live feature set: the rows just read, not a second query.
          const counts: Record<string, number> = Object.fromEntries(labeled.map((c) => [c.label!, c.count]));
          const bySource: Record<string, number> = {};
          for (const src of SAMPLE_SOURCES) {
            const n = (await repo.listSamples({ source: src, featureSet: FEATURE_SET_ID, limit: 1 })).total;
            if (n > 0) bySource[src] = n;
          }
          const ready: Record<string, { ready: boolean; reason: string | null }> = {};
          for (const t of TRAINABLE_TYPES) {
            const r = readiness(counts, t);
            ready[t] = { ready: r.ready, reason: r.reason };
          }
          return {
            total: sum(current),
            labeled: sum(labeled),
            unlabeled: sum(current) - sum(labeled),
            by_label: labeled.map((c) => ({ label: c.label, type: typeOfLabel(c.label!), count: c.count })),
            by_source: bySource,
            feature_set: { id: FEATURE_SET_ID, features: FEATURE_NAMES.length },
            other_feature_sets: sum(all) - sum(current),
            ready_to_train: ready['random_forest']!.ready,
            reason: ready['random_forest']!.reason,
            ready,
            max_samples: q.maxSamples,
            jobs: q.counts(),
          };
        },
      );

      // ---- training jobs ------------------------------------------------------------------------------

      app.post<{
        Body: {
          model_type: TrainableType;
          params?: Record<string, number | string | boolean>;
          test_size: number;
          activate: boolean;
          seed: number;
        };
      }>(
        '/api/training/train',
        {
          config: { access: 'analyst', rateLimit: '20 per minute' },
          schema: {
            summary: 'Train a model on the labeled samples as a background job (202); activate needs the admin role',
            tags: ['training'],
            body: {
              type: 'object',
              additionalProperties: false,
              required: ['model_type'],
              properties: {
                model_type: { type: 'string', enum: TRAINABLE_TYPES },
                params: {
                  type: 'object',
                  maxProperties: 32,
                  additionalProperties: { anyOf: [{ type: 'number' }, { type: 'string' }, { type: 'boolean' }] },
                  description: "The trainer's parameters (docs/ml-models.md)",
                },
                test_size: { type: 'number', minimum: 0, maximum: 0.9, default: 0.2 },
                activate: { type: 'boolean', default: false },
                seed: { type: 'integer', minimum: 0, maximum: 2_147_483_647, default: 42 },
              },
            },
            response: { 202: jobSchema, ...errorResponses, 409: errorSchema },
          },
        },
        async (req, reply) => {
          const b = req.body;
          const p = principalOf(req);
          if (b.activate && ROLE_RANK[p.user.role] < ROLE_RANK.admin)
            throw forbidden('activating a model needs the admin role (train without activate, then ask an admin)');
          let params: Record<string, number | string | boolean>;
          try {
            // Checked now, so a typo is a 400 rather than a failed job.
            mergeParams(trainerFor(b.model_type), b.params ?? {});
            params = b.params ?? {};
          } catch (e) {
            throw mlError(e);
          }
          const r = readiness(await labeledCounts(repo), b.model_type);
          if (!r.ready) throw badRequest(`cannot train yet: ${r.reason}`);
          let job: TrainingJobView;
          try {
            job = q.submit({
              modelType: b.model_type,
              params,
              testSize: b.test_size,
              activate: b.activate,
              seed: b.seed,
              createdBy: p.user.username,
            });
          } catch (e) {
            if (e instanceof TrainingQueueFull) throw conflict(e.message);
            throw e;
          }
          await ctx.audit(req, 'training.train', 'training_job', job.job_id, {
            model_type: b.model_type,
            activate: b.activate,
            samples: r.labeled,
          });
          const url = `/api/training/jobs/${job.job_id}`;
          return reply
            .code(202)
            .header('location', url)
            .send({ ...job, url });
        },
      );

      app.get(
        '/api/training/jobs',
        {
          config: { access: 'viewer' },
          schema: {
            summary: 'Recent training jobs (this process), newest first',
            tags: ['training'],
            response: {
              200: { type: 'object', properties: { jobs: { type: 'array', items: jobSchema }, queue: anyObject } },
              ...errorResponses,
            },
          },
        },
        async () => ({ jobs: q.list(), queue: q.counts() }),
      );

      app.get<{ Params: { id: string } }>(
        '/api/training/jobs/:id',
        {
          config: { access: 'viewer' },
          schema: {
            summary: 'One training job: status, stage, percent, version, metrics, error',
            tags: ['training'],
            params: {
              type: 'object',
              required: ['id'],
              properties: { id: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' } },
            },
            response: { 200: jobSchema, ...errorResponses, 404: errorSchema },
          },
        },
        async (req) => {
          const j = q.get(req.params.id);
          if (j === null) throw notFound(`no training job ${req.params.id} (jobs are kept in memory until restart)`);
          return j;
        },
      );

      // ---- models: evaluation, metrics, information, history ----------------------------------------

      app.get<{ Querystring: { version?: string; role: ModelRole; data: 'test' | 'samples'; by_type: boolean } }>(
        '/api/training/evaluate',
        {
          config: { access: 'viewer' },
          schema: {
            summary:
              "A model's test metrics (default: the active classifier); data=samples re-scores it on the labeled samples",
            tags: ['training'],
            querystring: {
              ...modelSelectQuery,
              properties: {
                ...modelSelectQuery.properties,
                data: { type: 'string', enum: ['test', 'samples'], default: 'test' },
                by_type: { type: 'boolean', default: false, description: 'samples: compare by alert type' },
              },
            },
            response: { 200: anyObject, ...errorResponses, 404: errorSchema },
          },
        },
        async (req) => {
          const sel = select(req.query);
          const file = modelFileOf(sel);
          const base = { version: sel.version, role: sel.role, source: sel.source, type: file?.type ?? null };
          if (req.query.data === 'test') {
            const m = testMetricsOf(sel);
            return {
              ...base,
              data: 'test',
              rows: m?.rows ?? 0,
              metrics: m,
              reason: sel.dir === null ? `no ${sel.role} model` : m === null ? 'the model has no test metrics' : null,
            };
          }
          if (sel.dir === null)
            return { ...base, data: 'samples', rows: 0, metrics: null, reason: `no ${sel.role} model` };
          let lm: LoadedModel;
          try {
            lm = sel.source === 'store' && sel.version !== null ? store.load(sel.version) : models.loaded(sel.role)!;
          } catch (e) {
            throw mlError(e);
          }
          const r = await evaluateOnSamples(lm, req.query.by_type);
          return { ...base, data: 'samples', ...r };
        },
      );

      /** Score the labeled samples (up to EVAL_MAX_SAMPLES, shared per label) with a model. */
      const evaluateOnSamples = async (lm: LoadedModel, byType: boolean): Promise<Json> => {
        const file = lm.file;
        const cols = file.features.map((f) => FEATURE_INDEX[f] ?? -1);
        const counts = await labeledCounts(repo);
        const take = quotas(counts, EVAL_MAX_SAMPLES);
        const d = file.features.length;
        let total = 0;
        for (const v of Object.values(take)) total += v;
        const x = new Float64Array(total * d);
        const labels: string[] = [];
        let skipped = 0;
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
            for (const s of samples) {
              const o = labels.length * d;
              let ok = true;
              for (let k = 0; k < d && ok; k++) {
                const v = cols[k]! < 0 ? NaN : s.features[cols[k]!]!;
                x[o + k] = v;
                ok = Number.isFinite(v);
              }
              // A sample without a feature the model uses cannot be scored fairly.
              if (ok) labels.push(label);
              else skipped++;
            }
            got += samples.length;
            after = samples[samples.length - 1]!.id;
            // Reading and scoring run on the server's thread: let other requests in between pages.
            await yieldToLoop();
          }
        }
        const n = labels.length;
        if (n === 0)
          return {
            rows: 0,
            skipped,
            metrics: null,
            reason: skipped > 0 ? 'no labeled sample has every feature the model uses' : 'no labeled samples',
          };
        // Model classes first (their indices are the model's), then labels it does not know.
        const benign = file.benignClass ?? (file.type === 'isolation_forest' ? BENIGN_LABEL : null);
        const classes = [...file.classes];
        const norm = (l: string): string => (l === BENIGN_LABEL && benign !== null ? benign : l);
        for (const l of labels) if (!classes.includes(norm(l))) classes.push(norm(l));
        const idx = new Map(classes.map((c, i) => [c, i]));
        const ds: Dataset = {
          x: x.subarray(0, n * d),
          n,
          d,
          features: [...file.features],
          y: Int32Array.from(labels, (l) => idx.get(norm(l))!),
          classes,
        };
        let p: Predictions;
        try {
          p = await predictChunked(lm, ds.x, n);
        } catch (e) {
          throw mlError(e);
        }
        const metrics = byType ? metricsByType(file, ds, p, benign) : metricsFor(file, ds, p, benign);
        return { rows: n, skipped, capped: Object.values(counts).reduce((a, b) => a + b, 0) > n + skipped, metrics };
      };

      app.get<{ Querystring: { version?: string; role: ModelRole } }>(
        '/api/training/metrics',
        {
          config: { access: 'viewer' },
          schema: {
            summary:
              "Headline and per-class test metrics of the active models (or ?version=), and recent runs' metrics",
            tags: ['training'],
            querystring: modelSelectQuery,
            response: { 200: anyObject, ...errorResponses, 404: errorSchema },
          },
        },
        async (req) => {
          const one = (sel: SelectedModel): Json => {
            const m = testMetricsOf(sel);
            const file = modelFileOf(sel);
            return {
              version: sel.version,
              source: sel.source,
              type: file?.type ?? null,
              metrics:
                m === null
                  ? null
                  : {
                      rows: m.rows,
                      accuracy: m.accuracy,
                      macro_f1: m.macro_f1,
                      weighted_f1: m.weighted_f1,
                      macro_precision: m.macro_precision,
                      macro_recall: m.macro_recall,
                      roc_auc: m.roc_auc,
                      detection_roc_auc: m.detection_roc_auc,
                      per_class: m.per_class,
                    },
            };
          };
          const { h, error } = historyOf();
          const recent = h.runs
            .slice(-20)
            .reverse()
            .map((r) => ({
              version: r.version,
              created: r.created,
              type: r.type,
              role: r.role,
              metrics: r.metrics ?? null,
            }));
          if (req.query.version !== undefined) {
            const sel = select(req.query);
            return { models: { [sel.role]: one(sel) }, runs: recent, store_error: error };
          }
          return {
            models: { classifier: one(select({ role: 'classifier' })), anomaly: one(select({ role: 'anomaly' })) },
            runs: recent,
            store_error: error,
          };
        },
      );

      app.get(
        '/api/training/model-info',
        {
          config: { access: 'viewer' },
          schema: {
            summary: 'The active model of each role: type, classes, features, training data, metrics, drift reference',
            tags: ['training'],
            response: { 200: anyObject, ...errorResponses },
          },
        },
        async () => {
          const info = async (role: ModelRole): Promise<Json> => {
            const sel = select({ role });
            const base = { role, source: sel.source, version: sel.version };
            if (sel.dir === null) return { ...base, type: null, reason: `no ${role} model is configured or active` };
            const file = modelFileOf(sel);
            if (file === null)
              return { ...base, type: null, error: `cannot read the model ${sel.version ?? path.basename(sel.dir)}` };
            const t = (file.training ?? {}) as Json;
            const m = testMetricsOf(sel);
            const rec = sel.version === null ? null : historyOf().h.runs.find((r) => r.version === sel.version);
            return {
              ...base,
              name: sel.source === 'config' ? path.basename(sel.dir) : sel.version,
              type: file.type,
              classes: file.classes,
              class_types: file.classTypes ?? {},
              benign_class: file.benignClass,
              feature_count: file.features.length,
              features: file.features,
              trained_at: (t['created'] as string | undefined) ?? rec?.created ?? null,
              training_data: t['data'] ?? null,
              split: t['split'] ?? null,
              hyperparameters: t['hyperparameters'] ?? null,
              train_seconds: t['train_seconds'] ?? null,
              threshold: t['threshold'] ?? null,
              metrics:
                m === null
                  ? ((t['metrics'] as Json | undefined) ?? null)
                  : {
                      rows: m.rows,
                      accuracy: m.accuracy,
                      macro_f1: m.macro_f1,
                      weighted_f1: m.weighted_f1,
                      roc_auc: m.roc_auc,
                    },
              drift_reference: t['drift_reference'] !== undefined && t['drift_reference'] !== null,
              drift: await driftOf(sel.dir),
              note: rec?.note ?? null,
            };
          };
          const { h, error } = historyOf();
          return {
            models: { classifier: await info('classifier'), anomaly: await info('anomaly') },
            store: { versions: h.runs.length, active: h.active, error },
            feature_set: { id: FEATURE_SET_ID, features: FEATURE_NAMES.length },
          };
        },
      );

      app.get<{ Querystring: { version?: string; role: ModelRole } }>(
        '/api/training/confusion-matrix',
        {
          config: { access: 'viewer' },
          schema: {
            summary: 'Confusion matrix of a model on its test rows (rows: true class, columns: predicted)',
            tags: ['training'],
            querystring: modelSelectQuery,
            response: {
              200: {
                type: 'object',
                required: ['labels', 'matrix'],
                additionalProperties: true,
                properties: {
                  labels: { type: 'array', items: { type: 'string' } },
                  matrix: { type: 'array', items: { type: 'array', items: { type: 'integer' } } },
                  rows: { type: 'integer' },
                  version: { type: ['string', 'null'] },
                },
              },
              ...errorResponses,
              404: errorSchema,
            },
          },
        },
        async (req) => {
          const sel = select(req.query);
          const m = testMetricsOf(sel);
          const cm = m?.confusion_matrix ?? { labels: [], matrix: [] };
          return {
            version: sel.version,
            role: sel.role,
            source: sel.source,
            labels: cm.labels,
            matrix: cm.matrix,
            rows: cm.matrix.reduce((a, r) => a + r.reduce((x, y) => x + y, 0), 0),
          };
        },
      );

      app.get<{ Querystring: { limit: number; role?: ModelRole } }>(
        '/api/training/history',
        {
          config: { access: 'viewer' },
          schema: {
            summary: 'Training runs (newest first) with metrics and the active flag, activation events, recent jobs',
            tags: ['training'],
            querystring: {
              type: 'object',
              additionalProperties: false,
              properties: {
                limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
                role: { type: 'string', enum: ['classifier', 'anomaly'] },
              },
            },
            response: { 200: anyObject, ...errorResponses },
          },
        },
        async (req) => {
          const { limit, role } = req.query;
          const { h, error } = historyOf();
          const rows = new Map((await repo.listModels({ name: MODEL_RECORD_NAME })).map((m) => [`v${m.version}`, m]));
          const runs = h.runs
            .filter((r) => role === undefined || r.role === role)
            .slice(-limit)
            .reverse()
            .map((r) => {
              const row = rows.get(r.version);
              return {
                ...r,
                active: h.active[r.role] === r.version,
                metrics: r.metrics ?? null,
                model_id: row?.id ?? null,
                samples: row?.samples ?? r.rows ?? null,
                params: row?.params ?? null,
              };
            });
          const events = h.events
            .filter((e) => role === undefined || e.role === role)
            .slice(-limit)
            .reverse();
          return {
            runs,
            total: h.runs.filter((r) => role === undefined || r.role === role).length,
            active: h.active,
            events,
            jobs: q.list().slice(0, 20),
            store_error: error,
          };
        },
      );

      // ---- activation ---------------------------------------------------------------------------------

      app.post<{ Params: { version: string } }>(
        '/api/training/models/:version/activate',
        {
          config: { access: 'admin' },
          schema: {
            summary: 'Make a model version the active one of its role (refused, active unchanged, if it does not load)',
            tags: ['training'],
            params: {
              type: 'object',
              required: ['version'],
              properties: { version: { type: 'string', pattern: VERSION_PATTERN } },
            },
            response: { 200: anyObject, ...errorResponses, 404: errorSchema, 409: errorSchema },
          },
        },
        async (req) => {
          const version = req.params.version;
          if (!fs.existsSync(store.versionDir(version))) throw notFound(`no model version ${version}`);
          const before = historyOf().h.active;
          let role: ModelRole;
          try {
            const lm = store.activate(version);
            role = lm.file.type === 'isolation_forest' ? 'anomaly' : 'classifier';
          } catch (e) {
            throw mlError(e);
          }
          await recordActivation(repo, version);
          models.changed();
          await ctx.audit(req, 'training.activate', 'model', version, { role, previous: before[role] });
          return { version, role, active: true, previous: before[role] };
        },
      );

      app.post<{ Querystring: { role: ModelRole } }>(
        '/api/training/rollback',
        {
          config: { access: 'admin' },
          schema: {
            summary: 'Re-activate the version active before the current one of a role (default classifier)',
            tags: ['training'],
            querystring: {
              type: 'object',
              additionalProperties: false,
              properties: { role: { type: 'string', enum: ['classifier', 'anomaly'], default: 'classifier' } },
            },
            response: { 200: anyObject, ...errorResponses, 409: errorSchema },
          },
        },
        async (req) => {
          const role = req.query.role;
          const before = historyOf().h.active[role];
          let version: string | null;
          try {
            store.rollback(role);
            version = store.history().active[role];
          } catch (e) {
            throw mlError(e);
          }
          if (version !== null) await recordActivation(repo, version);
          models.changed();
          await ctx.audit(req, 'training.rollback', 'model', version, { role, previous: before });
          return { role, version, previous: before };
        },
      );
    },
  };
}
