/**
 * Alerts: list with filters, history, summary, critical, one alert, triage (PATCH), deletion and
 * bulk operations. Viewers read, analysts triage, admins delete. Per-route rate limits are the
 * original's (delete 10/minute, bulk delete 5/minute, bulk resolve 10/minute).
 */
import type { FastifyInstance } from 'fastify';
import { ALERT_SORT_FIELDS } from '../../store/types.js';
import type { AlertPatch, AlertSelector, AlertSortField, AlertStatus } from '../../store/types.js';
import { principalOf } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import type { AlertFilterQuery } from '../schemas.js';
import {
  alertFilterOf,
  alertFilterProps,
  alertPageSchema,
  alertSchema,
  anyObject,
  errorResponses,
  errorSchema,
  idParams,
  isEmptyFilter,
  parseDateUs,
} from '../schemas.js';

const HOUR_US = 3_600_000_000;
const DAY_US = 24 * HOUR_US;
/** Buckets one history request may ask for (a year of hours). */
const MAX_BUCKETS = 8784;
/** Ids one bulk request may name. */
const MAX_BULK_IDS = 10_000;

interface ListQuery extends AlertFilterQuery {
  limit: number;
  offset: number;
  sort: AlertSortField;
  order: 'asc' | 'desc';
}

interface HistoryQuery extends AlertFilterQuery {
  bucket: 'hour' | 'day';
  hours?: number;
}

interface BulkBody {
  ids?: number[];
  filter?: AlertFilterQuery;
  all?: boolean;
}

const bulkBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ids: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_BULK_IDS,
      items: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    },
    filter: { type: 'object', additionalProperties: false, properties: alertFilterProps },
    all: { type: 'boolean', description: 'Required with an empty filter: every alert' },
  },
} as const;

/** A bulk request selects by ids or by a filter; an empty filter only with all=true. */
function selectorOf(b: BulkBody): AlertSelector {
  if (b.ids !== undefined && b.filter !== undefined) throw badRequest('give ids or filter, not both');
  if (b.ids !== undefined) return { ids: b.ids };
  if (b.filter === undefined) throw badRequest('give ids or filter');
  const filter = alertFilterOf(b.filter);
  if (isEmptyFilter(filter) && b.all !== true) throw badRequest('an empty filter selects every alert: add "all": true');
  return { filter };
}

export async function alertRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.vigil;
  const repo = ctx.repo;

  app.get<{ Querystring: ListQuery }>(
    '/api/alerts',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'List alerts (filters, paging, sorting)',
        tags: ['alerts'],
        querystring: {
          type: 'object',
          properties: {
            ...alertFilterProps,
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, maximum: 100_000_000, default: 0 },
            sort: { type: 'string', enum: ALERT_SORT_FIELDS, default: 'timestamp' },
            order: { type: 'string', enum: ['asc', 'desc'], default: 'desc' },
          },
        },
        response: { 200: alertPageSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const p = await repo.listAlertsJson({
        ...alertFilterOf(q),
        limit: q.limit,
        offset: q.offset,
        sort: q.sort,
        order: q.order,
      });
      // The hottest route: the database serialises the alerts (sql-repository.ts alertJsonSql), so
      // the page is sent without building and serialising 100 objects of 34 fields here. The
      // schema still documents the answer in /api/docs.
      return reply
        .type('application/json; charset=utf-8')
        .send(
          `{"alerts":${p.alerts},"total":${p.total},"total_exact":${p.total_exact},"limit":${p.limit},"offset":${p.offset}}`,
        );
    },
  );

  app.get<{ Querystring: HistoryQuery }>(
    '/api/alerts/history',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Alerts per hour or day (default: the last 24 hours, or 30 days by day)',
        tags: ['alerts'],
        querystring: {
          type: 'object',
          properties: {
            ...alertFilterProps,
            bucket: { type: 'string', enum: ['hour', 'day'], default: 'hour' },
            hours: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_BUCKETS,
              description: 'Range ending now (or at end_date)',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              bucket: { type: 'string' },
              start: { type: 'string' },
              end: { type: 'string' },
              history: { type: 'array', items: anyObject },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const { start_date, end_date, ...rest } = q;
      const width = q.bucket === 'hour' ? HOUR_US : DAY_US;
      const toUs = end_date !== undefined ? parseDateUs(end_date, 'end_date', true) : Date.now() * 1000;
      let fromUs: number;
      if (start_date !== undefined) {
        if (q.hours !== undefined) throw badRequest('give start_date or hours, not both');
        fromUs = parseDateUs(start_date, 'start_date');
      } else
        fromUs = toUs - (q.hours !== undefined ? q.hours * HOUR_US : q.bucket === 'hour' ? DAY_US : 30 * DAY_US) + 1;
      if (fromUs > toUs) throw badRequest('start_date must not be after end_date');
      if ((toUs - fromUs) / width > MAX_BUCKETS) throw badRequest(`the range spans more than ${MAX_BUCKETS} buckets`);
      const history = await repo.alertHistory({ bucket: q.bucket, fromUs, toUs, filter: alertFilterOf(rest) });
      return {
        bucket: q.bucket,
        start: new Date(Math.floor(fromUs / 1000)).toISOString(),
        end: new Date(Math.floor(toUs / 1000)).toISOString(),
        history,
      };
    },
  );

  app.get<{ Querystring: AlertFilterQuery }>(
    '/api/alerts/summary',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Counts by type, severity, status and detector',
        tags: ['alerts'],
        querystring: { type: 'object', properties: alertFilterProps },
        response: { 200: anyObject, ...errorResponses },
      },
    },
    async (req) => repo.alertSummary(alertFilterOf(req.query)),
  );

  app.get<{ Querystring: { limit: number; hours?: number } }>(
    '/api/alerts/critical',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Unresolved critical and high alerts, newest first',
        tags: ['alerts'],
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
            hours: { type: 'integer', minimum: 1, maximum: 87_600, description: 'Only the last N hours' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { alerts: { type: 'array', items: alertSchema }, count: { type: 'integer' } },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const { limit, hours } = req.query;
      const alerts = await repo.criticalAlerts({
        limit,
        ...(hours !== undefined ? { sinceUs: Date.now() * 1000 - hours * HOUR_US } : {}),
      });
      return { alerts, count: alerts.length };
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/alerts/:id',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'One alert, with its EVE record',
        tags: ['alerts'],
        params: idParams,
        response: { 200: alertSchema, 404: errorSchema, ...errorResponses },
      },
    },
    async (req) => {
      const a = await repo.getAlert(req.params.id);
      if (a === null) throw notFound(`no alert ${req.params.id}`);
      return a;
    },
  );

  app.patch<{
    Params: { id: number };
    Body: {
      action?: 'resolve' | 'reopen' | 'acknowledge';
      status?: AlertStatus;
      resolved?: boolean;
      assignee?: string | null;
      note?: string;
    };
  }>(
    '/api/alerts/:id',
    {
      config: { access: 'analyst' },
      schema: {
        summary: 'Triage: resolve / reopen / acknowledge (action, status or resolved), assign, annotate',
        tags: ['alerts'],
        params: idParams,
        body: {
          type: 'object',
          minProperties: 1,
          additionalProperties: false,
          properties: {
            action: { type: 'string', enum: ['resolve', 'reopen', 'acknowledge'] },
            status: { type: 'string', enum: ['open', 'acknowledged', 'resolved'] },
            resolved: { type: 'boolean', description: "The original's field: true resolves, false reopens" },
            assignee: { type: ['string', 'null'], minLength: 1, maxLength: 100 },
            note: { type: 'string', minLength: 1, maxLength: 4000 },
          },
        },
        response: { 200: alertSchema, 404: errorSchema, ...errorResponses },
      },
    },
    async (req) => {
      const b = req.body;
      const wanted = new Set<AlertStatus>();
      if (b.action !== undefined)
        wanted.add(b.action === 'resolve' ? 'resolved' : b.action === 'reopen' ? 'open' : 'acknowledged');
      if (b.status !== undefined) wanted.add(b.status);
      if (b.resolved !== undefined) wanted.add(b.resolved ? 'resolved' : 'open');
      if (wanted.size > 1) throw badRequest('action, status and resolved disagree');
      const patch: AlertPatch = { actor: principalOf(req).user.username };
      const status = [...wanted][0];
      if (status !== undefined) patch.status = status;
      if (b.assignee !== undefined) patch.assignee = b.assignee;
      if (b.note !== undefined) patch.note = b.note;
      const a = await repo.updateAlert(req.params.id, patch);
      if (a === null) throw notFound(`no alert ${req.params.id}`);
      await ctx.audit(req, 'alert.update', 'alert', a.id, {
        ...(status !== undefined ? { status } : {}),
        ...(b.assignee !== undefined ? { assignee: b.assignee } : {}),
        ...(b.note !== undefined ? { note: true } : {}),
      });
      return a;
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/api/alerts/:id',
    {
      config: { access: 'admin', rateLimit: '10 per minute' },
      schema: {
        summary: 'Delete an alert',
        tags: ['alerts'],
        params: idParams,
        response: { 200: anyObject, 404: errorSchema, ...errorResponses },
      },
    },
    async (req) => {
      if (!(await repo.deleteAlert(req.params.id))) throw notFound(`no alert ${req.params.id}`);
      await ctx.audit(req, 'alert.delete', 'alert', req.params.id, null);
      return { ok: true, id: req.params.id };
    },
  );

  app.post<{ Body: BulkBody }>(
    '/api/alerts/bulk-delete',
    {
      config: { access: 'admin', rateLimit: '5 per minute' },
      schema: {
        summary: 'Delete alerts by ids or by filter',
        tags: ['alerts'],
        body: bulkBody,
        response: { 200: { type: 'object', properties: { deleted: { type: 'integer' } } }, ...errorResponses },
      },
    },
    async (req) => {
      const sel = selectorOf(req.body);
      const deleted = await repo.deleteAlerts(sel);
      await ctx.audit(req, 'alert.bulk_delete', 'alert', null, { ...selectorDetails(req.body), deleted });
      return { deleted };
    },
  );

  app.post<{ Body: BulkBody }>(
    '/api/alerts/bulk-resolve',
    {
      config: { access: 'analyst', rateLimit: '10 per minute' },
      schema: {
        summary: 'Resolve alerts by ids or by filter',
        tags: ['alerts'],
        body: bulkBody,
        response: { 200: { type: 'object', properties: { resolved: { type: 'integer' } } }, ...errorResponses },
      },
    },
    async (req) => {
      const sel = selectorOf(req.body);
      const resolved = await repo.resolveAlerts(sel, principalOf(req).user.username);
      await ctx.audit(req, 'alert.bulk_resolve', 'alert', null, { ...selectorDetails(req.body), resolved });
      return { resolved };
    },
  );
}

/** What the audit log keeps of a bulk selection (ids capped so one entry stays small). */
function selectorDetails(b: BulkBody): Record<string, unknown> {
  if (b.ids !== undefined) return { ids: b.ids.slice(0, 100), id_count: b.ids.length };
  return { filter: b.filter ?? {}, all: b.all === true };
}
