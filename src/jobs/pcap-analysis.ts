/**
 * PCAP analysis jobs (issue 7, PCAP routes): an uploaded capture runs through the packet engine
 * `vigil analyze` uses (default configuration: built-in rules, behaviour detectors, ML), one job
 * at a time by default, with progress events, PCAP_MAX_PACKETS and PCAP_ANALYSIS_TIMEOUT, and its
 * results written through the store: the pcap_analyses row (queued -> running -> completed |
 * failed, with a summary shaped like `vigil analyze --json`) and the alerts, tagged with the
 * analysis id.
 *
 * The engine is driven here batch by batch, yielding to the event loop after each, rather than
 * through runCapture (which reads a whole file synchronously): the server stays responsive, the
 * timeout and cancellation are checked between batches, and progress events get delivered while
 * the job runs.
 *
 * Outcomes (docs/pcap-jobs.md):
 * - the whole file read: `completed`;
 * - a truncated or corrupt file: `completed` with the packets before the damage, the reader's
 *   `{offset, reason}` in summary.errors and a one-line `error`;
 * - PCAP_MAX_PACKETS or PCAP_ANALYSIS_TIMEOUT reached: `completed` with summary.truncated = true
 *   and summary.truncated_reason `max_packets` | `timeout` (partial results are still results);
 * - not a capture, unreadable, cancelled, or an internal error: `failed` with `error`.
 *
 * A completed analysis also stores finished flows' feature vectors as unlabeled training samples
 * (source `pcap`; metadata: analysis id, 5-tuple, times, the alert types raised on the flow as a
 * suggested label), a uniform sample of at most PCAP_TRAINING_SAMPLES flows (default 5000, 0: none),
 * so analysts can label real traffic (docs/server.md, "Training").
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { BATCH_PACKETS, PacketBatch } from '../capture/batch.js';
import { openCaptureFile } from '../capture/open.js';
import type { CaptureReader } from '../capture/reader.js';
import type { AppRecord } from '../applayer/app-layer.js';
import type { AlertRecord } from '../detect/engine/detector.js';
import { loadDetectRules } from '../detect/engine/load.js';
import type { LoadedRules } from '../detect/engine/load.js';
import { AlertDeduplicator } from '../alerts/dedup.js';
import { applyEnv, defaultConfig } from '../pipeline/config.js';
import type { EngineConfig } from '../pipeline/config.js';
import { PacketEngine, detectSpec, protocolCounts } from '../pipeline/engine.js';
import type { FlowSink } from '../pipeline/sink.js';
import { TalkerTable } from '../output/talkers.js';
import { FileStore } from '../output/filestore.js';
import type { FileStoreCounters } from '../output/filestore.js';
import { fileStoreSpecOf, storeAppFiles } from '../output/filestore-app.js';
import { FEATURE_SET_ID, flowSampleMeta } from '../ml/samples.js';
import { makeRng } from '../ml/split.js';
import { toStoredAlertInput } from '../store/alert-input.js';
import type { Repository } from '../store/repository.js';
import type { PcapAnalysis, PcapStatus, StoredAlertInput, TrainingSampleInput } from '../store/types.js';

/** Defaults: PCAP_MAX_PACKETS 0 = no limit (DESIGN.md), PCAP_ANALYSIS_TIMEOUT 300 s (the original's). */
export const DEFAULT_MAX_PACKETS = 0;
export const DEFAULT_TIMEOUT_S = 300;
/** Alerts written per insertAlerts call (one transaction each). */
const ALERT_CHUNK = 500;
/** Finished jobs kept in memory for wait(); older ones are in the store only. */
const KEEP_FINISHED = 1000;
/** PCAP_TRAINING_SAMPLES default: flows kept per analysis as unlabeled training samples. */
export const DEFAULT_TRAINING_SAMPLES = 5000;
/** Training samples written per insertSamples call. */
const SAMPLE_CHUNK = 500;
/** Flows whose alert types are remembered for the samples' suggested labels (bounded memory on floods). */
const ALERT_FLOWS_MAX = 100_000;
/** Alert types remembered per flow. */
const ALERT_TYPES_PER_FLOW = 8;

export interface PcapJobConfig {
  /** Jobs running at once (PCAP_JOB_CONCURRENCY, default 1: a job already uses a core). */
  concurrency: number;
  /** PCAP_MAX_PACKETS: stop after this many packets; 0 = no limit. */
  maxPackets: number;
  /** PCAP_ANALYSIS_TIMEOUT in seconds of wall time per job; 0 = none. */
  timeoutS: number;
}

/** Thrown by pcapJobConfigFromEnv for a bad value; the message names the variable. */
export class PcapJobConfigError extends Error {
  readonly code = 'VIGIL_PCAP_JOB_CONFIG' as const;
}

/** PCAP_MAX_PACKETS, PCAP_ANALYSIS_TIMEOUT and PCAP_JOB_CONCURRENCY from the environment. */
export function pcapJobConfigFromEnv(env: Record<string, string | undefined> = process.env): PcapJobConfig {
  const int = (name: string, dflt: number, min: number): number => {
    const v = env[name];
    if (v === undefined || v.trim() === '') return dflt;
    if (!/^\d+$/.test(v.trim()) || Number(v) < min)
      throw new PcapJobConfigError(`${name} must be an integer >= ${min}, got "${v}"`);
    return Number(v);
  };
  return {
    concurrency: int('PCAP_JOB_CONCURRENCY', 1, 1),
    maxPackets: int('PCAP_MAX_PACKETS', DEFAULT_MAX_PACKETS, 0),
    timeoutS: int('PCAP_ANALYSIS_TIMEOUT', DEFAULT_TIMEOUT_S, 0),
  };
}

/** The analysis summary stored with the row: `vigil analyze --json`'s keys plus the job's. */
export interface PcapAnalysisSummary {
  packets: number;
  bytes: number;
  flows: number;
  alerts: number;
  alerts_by_type: Record<string, number>;
  alerts_deduplicated: number;
  /** Alert rows written (new rows; the others folded into them by the store's dedup window). */
  alerts_stored: number;
  duration_s: number;
  packets_per_s: number;
  errors: { offset: number; reason: string }[];
  file: string;
  format: string;
  capture_span_s: number;
  protocols: Record<string, number>;
  top_talkers: { ip: string; packets: number; bytes: number; flows: number }[];
  decoder_events: Record<string, number>;
  app_layer: Record<string, number>;
  stream_events: Record<string, number>;
  flow_stats: Record<string, number>;
  truncated: boolean;
  truncated_reason: 'max_packets' | 'timeout' | 'cancelled' | null;
  truncated_by_max_packets: boolean;
  max_packets: number;
  timeout_s: number;
  /** Progress updates the store refused (the job went on). */
  progress_write_errors: number;
  /** Bytes of the file read (the whole file unless truncated). */
  input_bytes: number;
  /** Finished flows stored as unlabeled training samples (PCAP_TRAINING_SAMPLES). */
  training_samples: number;
  /** Why storing them failed (the analysis itself still completed), else null. */
  training_samples_error: string | null;
  size_bytes: number;
  rules: { loaded: number; skipped: number };
  /** With the file store on (VIGIL_FILE_STORE): its directory and what this job did with files. */
  file_store?: FileStoreCounters & { dir: string };
}

export interface PcapProgress {
  analysis_id: string;
  packets: number;
  /** Bytes of the file read so far, of `total_bytes`. */
  bytes: number;
  total_bytes: number;
  /** 0..100 */
  percent: number;
  alerts: number;
}

export interface PcapJobResult {
  analysis_id: string;
  status: Extract<PcapStatus, 'completed' | 'failed'>;
  error: string | null;
  summary: PcapAnalysisSummary | null;
}

export interface PcapSubmitInput {
  /** The capture on disk (an upload already written to a temp file). */
  path: string;
  /** Name shown in the API (default: the path's base name). */
  filename?: string;
  createdBy?: string | null;
  /** Delete `path` when the job ends (uploads). */
  removeFile?: boolean;
}

export interface PcapJobQueueOptions extends Partial<PcapJobConfig> {
  repo: Repository;
  /** Engine configuration per job (default: defaultConfig() with the environment applied). */
  engineConfig?: () => EngineConfig;
  /**
   * The compiled ruleset a job starts with (the server's, shared and reloadable); default: each
   * job compiles the configured rule files itself.
   */
  rules?: () => LoadedRules;
  /** Sensor name on stored alerts (default: the engine configuration's). */
  sensor?: string;
  /** Minimum ms between progress events and progress writes (default 500). */
  progressIntervalMs?: number;
  /** PCAP_TRAINING_SAMPLES: finished flows kept as unlabeled training samples (default 5000; 0: none). */
  trainingSamples?: number;
  /** Wall clock in ms (tests). */
  now?: () => number;
}

/** Events: 'progress' (PcapProgress), 'status' ({analysis_id, status}), 'done' (PcapJobResult). */
export interface PcapJobQueueEvents {
  progress: [PcapProgress];
  status: [{ analysis_id: string; status: PcapStatus }];
  done: [PcapJobResult];
}

interface Job {
  id: string;
  input: PcapSubmitInput;
  sizeBytes: number;
  cancelled: boolean;
  finished: boolean;
  done: Promise<PcapJobResult>;
  resolve: (r: PcapJobResult) => void;
}

/** The default engine configuration of a job: `vigil analyze`'s, with the original's env variables. */
export function defaultJobEngineConfig(): EngineConfig {
  const cfg = defaultConfig();
  applyEnv(cfg, process.env);
  // Community IDs are only written to EVE files, which jobs do not produce.
  cfg.flow.communityId = false;
  return cfg;
}

export class PcapJobQueue extends EventEmitter<PcapJobQueueEvents> {
  readonly config: PcapJobConfig;
  private readonly repo: Repository;
  private readonly opts: PcapJobQueueOptions;
  private readonly now: () => number;
  private readonly queue: Job[] = [];
  private readonly running = new Map<string, Job>();
  private readonly jobs = new Map<string, Job>();
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: PcapJobQueueOptions) {
    super();
    this.opts = opts;
    this.repo = opts.repo;
    this.now = opts.now ?? Date.now;
    const env = { concurrency: 1, maxPackets: DEFAULT_MAX_PACKETS, timeoutS: DEFAULT_TIMEOUT_S };
    this.config = {
      concurrency: Math.max(1, Math.floor(opts.concurrency ?? env.concurrency)),
      maxPackets: Math.max(0, Math.floor(opts.maxPackets ?? env.maxPackets)),
      timeoutS: Math.max(0, opts.timeoutS ?? env.timeoutS),
    };
  }

  /** Queue a capture: creates its `queued` row and returns it; the job starts when a slot is free. */
  async submit(input: PcapSubmitInput): Promise<PcapAnalysis> {
    if (this.closed) throw new Error('PCAP job queue is closed');
    let sizeBytes = 0;
    try {
      sizeBytes = fs.statSync(input.path).size;
    } catch {
      // Reported when the job opens the file (failed with the reader's one-line reason).
    }
    const filename = input.filename ?? input.path.split(/[\\/]/).pop() ?? input.path;
    const row = await this.repo.createPcapAnalysis({
      filename,
      sizeBytes,
      createdBy: input.createdBy ?? null,
    });
    let resolve!: (r: PcapJobResult) => void;
    const done = new Promise<PcapJobResult>((r) => (resolve = r));
    const job: Job = {
      id: row.id,
      input: { ...input, filename },
      sizeBytes,
      cancelled: false,
      finished: false,
      done,
      resolve,
    };
    this.jobs.set(job.id, job);
    this.queue.push(job);
    this.emit('status', { analysis_id: job.id, status: 'queued' });
    this.pump();
    return row;
  }

  /**
   * Resolves when the job ends (at once for a recently finished one); null for an id this queue
   * does not know (or finished long ago: read the row from the store then).
   */
  wait(id: string): Promise<PcapJobResult> | null {
    return this.jobs.get(id)?.done ?? null;
  }

  /** Cancel a queued or running job (it ends `failed`, error "cancelled"). False when unknown or done. */
  cancel(id: string): boolean {
    const job = this.jobs.get(id);
    if (job === undefined || job.cancelled || job.finished) return false;
    job.cancelled = true;
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      void this.finish(job, { analysis_id: id, status: 'failed', error: 'cancelled before it started', summary: null });
    }
    return true;
  }

  /** Jobs waiting and running. */
  counts(): { queued: number; running: number } {
    return { queued: this.queue.length, running: this.running.size };
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Refuse new jobs, cancel the queued and running ones, and wait for them to end. */
  async close(): Promise<void> {
    this.closed = true;
    for (const j of [...this.queue, ...this.running.values()]) this.cancel(j.id);
    await this.idle();
  }

  /**
   * Mark rows left `queued` or `running` by a previous process (it stopped mid-job) as failed.
   * Call once at start-up, before submitting. Returns the rows changed.
   */
  async recoverInterrupted(): Promise<number> {
    let n = 0;
    for (const status of ['queued', 'running'] as const) {
      const { analyses } = await this.repo.listPcapAnalyses({ status, limit: 1000 });
      for (const a of analyses) {
        if (this.jobs.has(a.id)) continue;
        await this.repo.updatePcapAnalysis(a.id, {
          status: 'failed',
          error: 'interrupted: the server stopped during the analysis',
        });
        n++;
      }
    }
    return n;
  }

  /** Finished jobs are remembered (for wait()) up to KEEP_FINISHED, oldest forgotten first. */
  private forgetOldJobs(): void {
    if (this.jobs.size <= KEEP_FINISHED) return;
    for (const [id, j] of this.jobs) {
      if (this.jobs.size <= KEEP_FINISHED) break;
      if (j.finished) this.jobs.delete(id);
    }
  }

  private pump(): void {
    while (this.running.size < this.config.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running.set(job.id, job);
      void this.run(job)
        .catch((e: unknown) => ({
          analysis_id: job.id,
          status: 'failed' as const,
          error: `internal error: ${e instanceof Error ? e.message : String(e)}`,
          summary: null,
        }))
        .then((r) => this.finish(job, r));
    }
  }

  private async finish(job: Job, r: PcapJobResult): Promise<void> {
    try {
      await this.repo.updatePcapAnalysis(job.id, {
        status: r.status,
        error: r.error,
        summary: r.summary as Record<string, unknown> | null,
      });
    } catch (e) {
      // The store is gone (closing): the result still reaches the waiters.
      r = { ...r, error: r.error ?? `could not store the result: ${(e as Error).message}` };
    }
    if (job.input.removeFile === true) await fs.promises.rm(job.input.path, { force: true }).catch(() => undefined);
    this.running.delete(job.id);
    job.finished = true;
    this.forgetOldJobs();
    this.emit('status', { analysis_id: job.id, status: r.status });
    this.emit('done', r);
    job.resolve(r);
    this.pump();
    if (this.queue.length === 0 && this.running.size === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  private async run(job: Job): Promise<PcapJobResult> {
    const id = job.id;
    if (job.cancelled)
      return { analysis_id: id, status: 'failed', error: 'cancelled before it started', summary: null };
    await this.repo.updatePcapAnalysis(id, { status: 'running', progress: 0 });
    this.emit('status', { analysis_id: id, status: 'running' });
    let reader: CaptureReader;
    try {
      reader = openCaptureFile(job.input.path);
    } catch (e) {
      // CaptureError: not found, unreadable, empty, not pcap/pcapng (one-line message).
      return { analysis_id: id, status: 'failed', error: (e as Error).message, summary: null };
    }
    try {
      return await this.analyse(job, reader);
    } finally {
      reader.close();
    }
  }

  private async analyse(job: Job, reader: CaptureReader): Promise<PcapJobResult> {
    const id = job.id;
    const cfg = (this.opts.engineConfig ?? defaultJobEngineConfig)();
    const sensor = this.opts.sensor ?? cfg.sensorName;
    let rules: LoadedRules | undefined;
    if (cfg.appLayer && (cfg.detect.ruleFiles.length > 0 || cfg.detect.builtinRules))
      rules = this.opts.rules?.() ?? loadDetectRules(detectSpec(cfg));
    const t0 = this.now();
    const sampleCap = Math.max(0, Math.floor(this.opts.trainingSamples ?? DEFAULT_TRAINING_SAMPLES));
    // The server resolves the file store's directory under its data directory (absolute here).
    const storeSpec = cfg.appLayer ? fileStoreSpecOf(cfg.fileStore, process.cwd()) : null;
    const files = storeSpec === null ? null : new FileStore(storeSpec);
    const sink = new JobSink(id, sensor, cfg.alerts.dedupWindow, sampleCap, files);
    const engine = new PacketEngine(cfg, sink, BATCH_PACKETS, 0, rules);
    const batch = new PacketBatch(BATCH_PACKETS);
    const limit = this.config.maxPackets > 0 ? this.config.maxPackets : Number.POSITIVE_INFINITY;
    const deadline = this.config.timeoutS > 0 ? t0 + this.config.timeoutS * 1000 : Number.POSITIVE_INFINITY;
    const interval = this.opts.progressIntervalMs ?? 500;
    let lastProgress = -Infinity;
    let progressWriteErrors = 0;
    let seen = 0;
    let stored = 0;
    let truncatedReason: PcapAnalysisSummary['truncated_reason'] = null;
    const total = reader.size > 0 ? reader.size : job.sizeBytes;
    const progress = async (force: boolean): Promise<void> => {
      const t = this.now();
      if (!force && t - lastProgress < interval) return;
      lastProgress = t;
      const pos = reader.position;
      const percent = total > 0 ? Math.min(100, Math.round((pos / total) * 1000) / 10) : 0;
      this.emit('progress', {
        analysis_id: id,
        packets: seen,
        bytes: pos,
        total_bytes: total,
        percent,
        alerts: sink.alerts,
      });
      // Progress in the row too, for clients that poll. Awaited, so a late write can never land
      // after the final status; a failed write is counted, not worth ending the job for.
      try {
        await this.repo.updatePcapAnalysis(id, { progress: percent / 100 });
      } catch {
        progressWriteErrors++;
      }
    };
    const flushAlerts = async (all: boolean): Promise<void> => {
      while (sink.pending.length >= (all ? 1 : ALERT_CHUNK)) {
        const chunk = sink.pending.splice(0, ALERT_CHUNK);
        const res = await this.repo.insertAlerts(chunk);
        for (const r of res) if (r.isNew) stored++;
      }
    };
    for (;;) {
      if (job.cancelled) {
        truncatedReason = 'cancelled';
        break;
      }
      if (this.now() >= deadline) {
        truncatedReason = 'timeout';
        break;
      }
      const n = reader.next(batch);
      if (n === 0) break;
      if (seen + n > limit) batch.count = limit - seen;
      engine.process(batch);
      seen += batch.count;
      await flushAlerts(false);
      await progress(false);
      if (seen >= limit) {
        if (batch.count < n || reader.next(batch) > 0) truncatedReason = 'max_packets';
        break;
      }
      // Let the server answer requests (and timers fire) between batches.
      await new Promise<void>((r) => setImmediate(r));
    }
    engine.finish();
    const settle = (engine as unknown as { settle?: () => Promise<void> }).settle;
    if (typeof settle === 'function') await settle.call(engine);
    await flushAlerts(true);
    let trainingSamples = 0;
    let trainingSamplesError: string | null = null;
    if (truncatedReason !== 'cancelled') {
      try {
        for (const chunk of sink.trainingSamples(SAMPLE_CHUNK))
          trainingSamples += (await this.repo.insertSamples(chunk)).length;
      } catch (e) {
        // Samples are a by-product: the analysis is still a result.
        trainingSamplesError = (e as Error).message;
      }
    }
    await progress(true);
    const c = engine.counters();
    const wall = (this.now() - t0) / 1000;
    const readError = reader.error;
    const errors = readError !== null ? [{ offset: readError.offset, reason: readError.reason }] : [];
    const summary: PcapAnalysisSummary = {
      packets: c.packets,
      bytes: c.bytes,
      flows: sink.flows,
      alerts: sink.alerts,
      alerts_by_type: sink.alertsByType,
      alerts_deduplicated: sink.alertsDeduplicated,
      alerts_stored: stored,
      duration_s: round(wall, 3),
      packets_per_s: wall > 0 ? Math.round(c.packets / wall) : 0,
      errors,
      file: job.input.filename ?? job.input.path,
      format: reader.format,
      capture_span_s: c.firstTsUs >= 0 ? round((c.lastTsUs - c.firstTsUs) / 1e6, 6) : 0,
      protocols: protocolCounts(c),
      top_talkers: sink.talkers.top(10),
      decoder_events: c.decoderEvents,
      app_layer: c.appLayer,
      stream_events: c.streamEvents,
      flow_stats: c.flow,
      truncated: truncatedReason !== null,
      truncated_reason: truncatedReason,
      truncated_by_max_packets: truncatedReason === 'max_packets',
      max_packets: this.config.maxPackets,
      timeout_s: this.config.timeoutS,
      progress_write_errors: progressWriteErrors,
      input_bytes: reader.position,
      training_samples: trainingSamples,
      training_samples_error: trainingSamplesError,
      size_bytes: total,
      rules: { loaded: rules?.rules.length ?? 0, skipped: rules?.skipped.length ?? 0 },
      ...(files !== null ? { file_store: { dir: files.spec.dir, ...files.counters } } : {}),
    };
    if (truncatedReason === 'cancelled')
      return { analysis_id: id, status: 'failed', error: `cancelled after ${seen} packets`, summary };
    let error: string | null = null;
    if (readError !== null)
      error = `${readError.reason} at offset ${readError.offset}; analysed the ${seen} packets before it`;
    else if (truncatedReason === 'timeout')
      error = `stopped at PCAP_ANALYSIS_TIMEOUT (${this.config.timeoutS} s) after ${seen} packets; results cover those`;
    else if (truncatedReason === 'max_packets')
      error = `stopped at PCAP_MAX_PACKETS (${this.config.maxPackets}); results cover the first ${seen} packets`;
    return { analysis_id: id, status: 'completed', error, summary };
  }
}

function round(x: number, digits: number): number {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}

/** Counts flows and talkers like the analyze sink, and turns alerts into store rows as they come. */
class JobSink implements FlowSink {
  flows = 0;
  alerts = 0;
  alertsDeduplicated = 0;
  readonly alertsByType: Record<string, number> = {};
  readonly talkers = new TalkerTable();
  readonly pending: StoredAlertInput[] = [];
  private readonly dedup: AlertDeduplicator;

  /** Reservoir of finished flows (uniform over the capture), and the alert types seen per flow id. */
  private readonly kept: { features: Float64Array; flowId: number; meta: Record<string, unknown> }[] = [];
  private featureFlows = 0;
  private readonly alertTypes = new Map<number, string[]>();
  private readonly rng = makeRng(1);

  constructor(
    private readonly analysisId: string,
    private readonly sensor: string,
    dedupWindowS: number,
    private readonly sampleCap = 0,
    /** The file store when on: wanted HTTP/SMTP files are written as they finish. */
    private readonly files: FileStore | null = null,
  ) {
    this.dedup = new AlertDeduplicator(dedupWindowS);
  }

  flow(rec: Parameters<FlowSink['flow']>[0]): void {
    this.flows++;
    this.talkers.add(rec);
    if (this.sampleCap > 0 && rec.features !== null) {
      // Reservoir sampling (Vitter's R): every finished flow is equally likely to be kept.
      this.featureFlows++;
      let slot = this.kept.length;
      if (slot >= this.sampleCap) {
        slot = Math.floor(this.rng() * this.featureFlows);
        if (slot >= this.sampleCap) return;
      }
      this.kept[slot] = {
        // The features are a view into a recycled pool: copy them now.
        features: Float64Array.from(rec.features),
        flowId: rec.flowId,
        meta: { analysis_id: this.analysisId, ...flowSampleMeta(rec) },
      };
    }
  }

  /** The kept flows as unlabeled samples, with the alert types of their flow as a suggested label. */
  *trainingSamples(chunk: number): Generator<TrainingSampleInput[]> {
    let out: TrainingSampleInput[] = [];
    for (const k of this.kept) {
      const types = this.alertTypes.get(k.flowId) ?? [];
      out.push({
        features: k.features,
        label: null,
        source: 'pcap',
        featureSet: FEATURE_SET_ID,
        metadata: { ...k.meta, alert_types: types, suggested_label: types[0] ?? null },
      });
      if (out.length >= chunk) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  }

  app(rec: AppRecord): void {
    if (this.files !== null) storeAppFiles(this.files, rec);
  }

  alert(rec: AlertRecord): void {
    this.alerts++;
    const k = rec.vigilType ?? 'policy';
    if (this.sampleCap > 0 && rec.flowId > 0) {
      const t = this.alertTypes.get(rec.flowId);
      if (t === undefined) {
        if (this.alertTypes.size < ALERT_FLOWS_MAX) this.alertTypes.set(rec.flowId, [k]);
      } else if (!t.includes(k) && t.length < ALERT_TYPES_PER_FLOW) t.push(k);
    }
    this.alertsByType[k] = (this.alertsByType[k] ?? 0) + 1;
    if (this.dedup.add(k, rec.gid, rec.sid, rec.srcIp, rec.dstIp, rec.tsUs).isNew) this.alertsDeduplicated++;
    this.pending.push(toStoredAlertInput(rec, { sensor: this.sensor, analysisId: this.analysisId }));
  }

  drain(): null {
    return null;
  }

  finish(): null {
    return null;
  }
}
