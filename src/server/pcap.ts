/**
 * PCAP analysis over the API (issue 7): upload (multipart field `file`, pcap or pcapng, streamed
 * to a file under the data directory, never held whole in memory; PCAP_MAX_UPLOAD_MB, default
 * 200), then a job on the PcapJobQueue (src/jobs/pcap-analysis.ts) whose alerts are stored with the
 * analysis id and published on the hub (Socket.IO `new_alert`), and whose progress becomes
 * `pcap_progress`. Reads: the list, one analysis with its summary and alerts, the last result,
 * statistics. Analysts upload, viewers read, admins delete. Rate limits as the original's: upload
 * 8/minute, last result 20/minute.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { detectCaptureFormat } from '../capture/open.js';
import { PcapJobQueue } from '../jobs/pcap-analysis.js';
import type { PcapJobQueueOptions } from '../jobs/pcap-analysis.js';
import type { PcapAnalysis, PcapStatus } from '../store/types.js';
import { PCAP_STATUSES } from '../store/types.js';
import type { ServerExtension } from './context.js';
import { principalOf } from './context.js';
import { ApiError, badRequest, notFound } from './errors.js';
import type { ServerHub } from './hub.js';
import { alertSchema, anyObject, errorResponses, errorSchema } from './schemas.js';

export interface PcapExtensionOptions {
  hub: ServerHub;
  /** Where uploads are written while they wait for their job (default: DATA_DIR/uploads). */
  uploadDir?: string;
  /** PCAP_JOB_CONCURRENCY (default 1). */
  concurrency?: number;
  /** Passed to the queue (tests: faster progress events, an engine configuration). */
  queueOptions?: Partial<
    Pick<PcapJobQueueOptions, 'progressIntervalMs' | 'engineConfig' | 'rules' | 'sensor' | 'trainingSamples'>
  >;
}

/** Analyses the stats route aggregates over (the most recent completed ones): bounded work. */
const STATS_WINDOW = 200;
/** How long DELETE waits for a cancelled running job to stop (it checks between batches). */
const CANCEL_WAIT_MS = 30_000;

const ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: ID_PATTERN, description: 'Analysis id (a UUID)' } },
} as const;

const analysisSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    analysis_id: { type: 'string' },
    filename: { type: 'string' },
    status: { type: 'string', enum: PCAP_STATUSES },
    progress: { type: 'number' },
    summary: { type: ['object', 'null'], additionalProperties: true },
    error: { type: ['string', 'null'] },
  },
} as const;

interface ListQuery {
  status?: PcapStatus;
  limit: number;
  offset: number;
}

interface DetailQuery {
  alerts_limit: number;
  alerts_offset: number;
}

/** An analysis row as the API returns it: the row plus `analysis_id` (the upload's answer names it so). */
function view(a: PcapAnalysis): Record<string, unknown> {
  return { analysis_id: a.id, ...a };
}

/** Name as the client sent it, reduced to a safe display name (never used as a path). */
function displayName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  // Control characters would garble logs and the dashboard.
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\x00-\x1f\x7f]/g, '').slice(0, 255);
  return clean === '' ? 'upload.pcap' : clean;
}

/** The PCAP routes and job queue, as a server extension. */
export function pcapExtension(opts: PcapExtensionOptions): ServerExtension & { queue(): PcapJobQueue | null } {
  let queue: PcapJobQueue | null = null;
  return {
    name: 'pcap',
    queue: () => queue,
    async close() {
      // Cancels queued and running jobs (rows end `failed`, "cancelled") and waits for them.
      await queue?.close();
    },
    routes: async (app: FastifyInstance) => {
      const ctx = app.vigil;
      const cfg = ctx.config;
      const repo = ctx.repo;
      const uploadDir = opts.uploadDir ?? path.join(cfg.dataDir, 'uploads');
      await fs.promises.mkdir(uploadDir, { recursive: true, mode: 0o700 });
      const q = new PcapJobQueue({
        repo: opts.hub.publishingRepository(repo, 'pcap'),
        concurrency: opts.concurrency ?? 1,
        maxPackets: cfg.pcap.maxPackets,
        timeoutS: cfg.pcap.timeoutS,
        ...opts.queueOptions,
      });
      queue = q;
      // Rows left queued/running by a previous process can never finish: say so.
      const recovered = await q.recoverInterrupted();
      if (recovered > 0) app.log.warn({ recovered }, 'marked PCAP analyses interrupted by the last stop as failed');
      q.on('progress', (p) => opts.hub.emit('pcap_progress', p));
      q.on('status', (s) => opts.hub.emit('pcap_status', s));

      // Scoped to these routes: only the upload route accepts multipart bodies.
      await app.register(multipart, {
        limits: { fileSize: cfg.pcap.maxUploadBytes, files: 1, fields: 10, parts: 20, fieldSize: 1024 },
      });

      app.post(
        '/api/pcap/analyze',
        {
          config: { access: 'analyst', rateLimit: '8 per minute' },
          schema: {
            summary: 'Upload a capture (multipart field "file", pcap or pcapng) and queue its analysis',
            tags: ['pcap'],
            consumes: ['multipart/form-data'],
            response: {
              202: {
                type: 'object',
                required: ['analysis_id', 'status'],
                additionalProperties: true,
                properties: {
                  analysis_id: { type: 'string' },
                  status: { type: 'string', enum: PCAP_STATUSES },
                  filename: { type: 'string' },
                  size_bytes: { type: 'integer' },
                  url: { type: 'string' },
                },
              },
              ...errorResponses,
              413: errorSchema,
              415: errorSchema,
            },
          },
        },
        async (req, reply) => {
          if (!req.isMultipart())
            throw new ApiError(
              'VIGIL_API_UNSUPPORTED_MEDIA_TYPE',
              'send the capture as multipart/form-data in the field "file"',
            );
          const part = await req.file();
          if (part === undefined) throw badRequest('no file in the upload: send the capture in the field "file"');
          if (part.fieldname !== 'file') {
            part.file.resume();
            throw badRequest(`the capture goes in the field "file", not "${part.fieldname}"`);
          }
          const tmp = path.join(uploadDir, `${randomUUID()}.upload`);
          let keep = false;
          try {
            const tooLarge = (): ApiError =>
              new ApiError(
                'VIGIL_API_PAYLOAD_TOO_LARGE',
                `the capture is larger than the upload limit of ${cfg.pcap.maxUploadBytes} bytes (PCAP_MAX_UPLOAD_MB)`,
              );
            try {
              // Streamed to disk chunk by chunk; busboy stops at the size limit.
              await pipeline(part.file, fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
            } catch (e) {
              if ((e as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE' || part.file.truncated) throw tooLarge();
              throw e;
            }
            // The stream ends quietly at the limit (it only errors for some consumers): check the flag.
            if (part.file.truncated) throw tooLarge();
            const head = Buffer.alloc(4);
            const fd = await fs.promises.open(tmp, 'r');
            let size: number;
            try {
              size = (await fd.stat()).size;
              await fd.read(head, 0, 4, 0);
            } finally {
              await fd.close();
            }
            try {
              detectCaptureFormat(head, Math.min(size, 4));
            } catch (e) {
              throw new ApiError('VIGIL_API_UNSUPPORTED_MEDIA_TYPE', `not a capture file: ${(e as Error).message}`);
            }
            const filename = displayName(part.filename);
            const user = principalOf(req).user.username;
            const row = await q.submit({ path: tmp, filename, createdBy: user, removeFile: true });
            keep = true;
            await ctx.audit(req, 'pcap.upload', 'pcap_analysis', row.id, { filename, size_bytes: size });
            const url = `/api/pcap/analyses/${row.id}`;
            return reply
              .code(202)
              .header('location', url)
              .send({ analysis_id: row.id, status: row.status, filename, size_bytes: size, url });
          } finally {
            // The job owns (and removes) the file once submitted; anything else leaves no trace.
            if (!keep) await fs.promises.rm(tmp, { force: true });
          }
        },
      );

      app.get<{ Querystring: ListQuery }>(
        '/api/pcap/analyses',
        {
          config: { access: 'viewer' },
          schema: {
            summary: 'List PCAP analyses, newest first',
            tags: ['pcap'],
            querystring: {
              type: 'object',
              additionalProperties: false,
              properties: {
                status: { type: 'string', enum: PCAP_STATUSES },
                limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
                offset: { type: 'integer', minimum: 0, maximum: 100_000_000, default: 0 },
              },
            },
            response: {
              200: {
                type: 'object',
                properties: {
                  analyses: { type: 'array', items: analysisSchema },
                  total: { type: 'integer' },
                  limit: { type: 'integer' },
                  offset: { type: 'integer' },
                },
              },
              ...errorResponses,
            },
          },
        },
        async (req) => {
          const { status, limit, offset } = req.query;
          const r = await repo.listPcapAnalyses({ ...(status !== undefined ? { status } : {}), limit, offset });
          return { analyses: r.analyses.map(view), total: r.total, limit, offset };
        },
      );

      const detail = async (a: PcapAnalysis, q: DetailQuery): Promise<Record<string, unknown>> => {
        const page = await repo.listAlerts({
          analysisId: a.id,
          limit: Math.max(1, q.alerts_limit),
          offset: q.alerts_offset,
          sort: 'timestamp',
          order: 'asc',
        });
        const s = a.summary ?? {};
        return {
          ...view(a),
          protocol_distribution: s['protocols'] ?? {},
          top_talkers: s['top_talkers'] ?? [],
          alerts_by_type: s['alerts_by_type'] ?? {},
          alerts: q.alerts_limit === 0 ? [] : page.alerts,
          alerts_total: page.total,
          alerts_total_exact: page.total_exact,
          alerts_limit: q.alerts_limit,
          alerts_offset: q.alerts_offset,
        };
      };
      const detailQuery = {
        type: 'object',
        additionalProperties: false,
        properties: {
          alerts_limit: { type: 'integer', minimum: 0, maximum: 1000, default: 100 },
          alerts_offset: { type: 'integer', minimum: 0, maximum: 100_000_000, default: 0 },
        },
      } as const;
      const detailSchema = {
        ...analysisSchema,
        properties: {
          ...analysisSchema.properties,
          alerts: { type: 'array', items: alertSchema },
          alerts_total: { type: 'integer' },
        },
      } as const;

      app.get<{ Params: { id: string }; Querystring: DetailQuery }>(
        '/api/pcap/analyses/:id',
        {
          config: { access: 'viewer' },
          schema: {
            summary: 'One analysis: status, progress, summary (protocols, top talkers, alerts by type) and its alerts',
            tags: ['pcap'],
            params: idParams,
            querystring: detailQuery,
            response: { 200: detailSchema, ...errorResponses, 404: errorSchema },
          },
        },
        async (req) => {
          const a = await repo.getPcapAnalysis(req.params.id);
          if (a === null) throw notFound(`no PCAP analysis ${req.params.id}`);
          return detail(a, req.query);
        },
      );

      app.get<{ Querystring: DetailQuery & { status: PcapStatus } }>(
        '/api/pcap/last',
        {
          config: { access: 'viewer', rateLimit: '20 per minute' },
          schema: {
            summary: 'The most recent analysis (default: the last completed one); null when there is none',
            tags: ['pcap'],
            querystring: {
              ...detailQuery,
              properties: {
                ...detailQuery.properties,
                status: { type: 'string', enum: PCAP_STATUSES, default: 'completed' },
              },
            },
            response: {
              200: {
                type: 'object',
                required: ['analysis'],
                properties: { analysis: { anyOf: [{ type: 'null' }, detailSchema] } },
              },
              ...errorResponses,
            },
          },
        },
        async (req) => {
          const a = await repo.lastPcapAnalysis(req.query.status);
          return { analysis: a === null ? null : await detail(a, req.query) };
        },
      );

      app.get(
        '/api/pcap/stats',
        {
          config: { access: 'viewer' },
          schema: {
            summary: 'Analyses by status, the queue, the limits, and totals over recent completed analyses',
            tags: ['pcap'],
            response: { 200: anyObject, ...errorResponses },
          },
        },
        async () => {
          const counts = await repo.pcapAnalysisCounts();
          const recent = await repo.listPcapAnalyses({ status: 'completed', limit: STATS_WINDOW });
          const totals = { analyses: 0, packets: 0, bytes: 0, flows: 0, alerts: 0 };
          const byType: Record<string, number> = {};
          const protocols: Record<string, number> = {};
          const add = (into: Record<string, number>, from: unknown): void => {
            if (typeof from !== 'object' || from === null) return;
            for (const [k, v] of Object.entries(from)) if (typeof v === 'number') into[k] = (into[k] ?? 0) + v;
          };
          for (const a of recent.analyses) {
            const s = a.summary ?? {};
            totals.analyses++;
            for (const k of ['packets', 'bytes', 'flows', 'alerts'] as const) {
              const v = s[k];
              if (typeof v === 'number') totals[k] += v;
            }
            add(byType, s['alerts_by_type']);
            add(protocols, s['protocols']);
          }
          const last = await repo.lastPcapAnalysis();
          return {
            counts,
            total: Object.values(counts).reduce((x, y) => x + y, 0),
            queue: { ...q.counts(), concurrency: q.config.concurrency },
            limits: {
              max_upload_bytes: cfg.pcap.maxUploadBytes,
              max_packets: cfg.pcap.maxPackets,
              timeout_s: cfg.pcap.timeoutS,
            },
            recent: { window: STATS_WINDOW, ...totals, alerts_by_type: byType, protocols },
            last_analysis_at: last?.created_at ?? null,
          };
        },
      );

      app.delete<{ Params: { id: string } }>(
        '/api/pcap/analyses/:id',
        {
          config: { access: 'admin' },
          schema: {
            summary: 'Delete an analysis and its alerts (a queued or running one is cancelled first)',
            tags: ['pcap'],
            params: idParams,
            response: {
              200: { type: 'object', properties: { deleted: { type: 'boolean' }, id: { type: 'string' } } },
              ...errorResponses,
              404: errorSchema,
            },
          },
        },
        async (req) => {
          const id = req.params.id;
          const a = await repo.getPcapAnalysis(id);
          if (a === null) throw notFound(`no PCAP analysis ${id}`);
          if (q.cancel(id)) {
            // Wait for the job to stop writing, so no alert of it lands after the delete.
            const done = q.wait(id);
            let timer: NodeJS.Timeout | undefined;
            const timeout = new Promise<void>((r) => (timer = setTimeout(r, CANCEL_WAIT_MS)));
            await Promise.race([done, timeout]);
            clearTimeout(timer);
          }
          const deleted = await repo.deletePcapAnalysis(id);
          if (!deleted) throw notFound(`no PCAP analysis ${id}`);
          await ctx.audit(req, 'pcap.delete', 'pcap_analysis', id, { filename: a.filename, status: a.status });
          return { deleted: true, id };
        },
      );
    },
  };
}
