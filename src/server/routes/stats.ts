/**
 * Statistics from the store: the per-minute traffic series, protocol distribution, connection
 * (flow) counts, anomaly alerts and a real-time snapshot. Live flow-table views (debug active
 * connections) need the capture and answer empty with the reason until it exists.
 */
import type { FastifyInstance } from 'fastify';
import { nowUs } from '../../store/time.js';
import type { TrafficStatsQuery } from '../../store/types.js';
import { alertPageSchema, anyObject, errorResponses, rangeOf } from '../schemas.js';

const MINUTE_US = 60_000_000;
/** Minutes one request may cover (31 days, the store's own cap). */
const MAX_MINUTES = 44_640;

const rangeProps = {
  start_date: { type: 'string', maxLength: 40, description: 'ISO 8601 (inclusive)' },
  end_date: { type: 'string', maxLength: 40, description: 'ISO 8601 (inclusive)' },
  sensor: { type: 'string', maxLength: 256 },
} as const;

interface RangeQuery {
  start_date?: string;
  end_date?: string;
  sensor?: string;
  minutes: number;
}

/** A traffic query: the given range, else the last `minutes` minutes. */
function trafficQuery(q: RangeQuery): TrafficStatsQuery {
  const r = rangeOf(q.start_date, q.end_date);
  const out: TrafficStatsQuery = { limit: q.minutes };
  out.toUs = r.toUs ?? nowUs();
  out.fromUs = r.fromUs ?? out.toUs - q.minutes * MINUTE_US;
  if (q.sensor !== undefined) out.sensor = q.sensor;
  return out;
}

function minutesProp(def: number): Record<string, unknown> {
  return { type: 'integer', minimum: 1, maximum: MAX_MINUTES, default: def };
}

export async function statsRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.vigil;
  const repo = ctx.repo;

  app.get<{ Querystring: RangeQuery }>(
    '/api/stats/traffic',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Traffic per minute and totals (default: the last 60 minutes)',
        tags: ['stats'],
        querystring: { type: 'object', properties: { ...rangeProps, minutes: minutesProp(60) } },
        response: {
          200: { type: 'object', properties: { points: { type: 'array', items: anyObject }, totals: anyObject } },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const q = trafficQuery(req.query);
      const { limit: _l, ...range } = q;
      const [points, totals] = await Promise.all([repo.trafficStats(q), repo.trafficTotals(range)]);
      return { points, totals };
    },
  );

  app.get<{ Querystring: RangeQuery }>(
    '/api/stats/protocols',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Transport and application protocol distribution (default: the last 24 hours)',
        tags: ['stats'],
        querystring: { type: 'object', properties: { ...rangeProps, minutes: minutesProp(1440) } },
        response: { 200: anyObject, ...errorResponses },
      },
    },
    async (req) => {
      const { limit: _l, ...range } = trafficQuery(req.query);
      const t = await repo.trafficTotals(range);
      return {
        packets: t.packets,
        transport: { tcp: t.tcp, udp: t.udp, icmp: t.icmp, other: t.other },
        application: t.protocols,
        minutes: t.minutes,
      };
    },
  );

  app.get<{ Querystring: RangeQuery }>(
    '/api/stats/connections',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Flows per minute and in total (default: the last 60 minutes)',
        tags: ['stats'],
        querystring: { type: 'object', properties: { ...rangeProps, minutes: minutesProp(60) } },
        response: { 200: anyObject, ...errorResponses },
      },
    },
    async (req) => {
      const q = trafficQuery(req.query);
      const { limit: _l, ...range } = q;
      const [points, totals] = await Promise.all([repo.trafficStats(q), repo.trafficTotals(range)]);
      const capture = ctx.captureStatus();
      return {
        total_flows: totals.flows,
        per_minute: points.map((p) => ({ minute: p.minute, sensor: p.sensor, flows: p.flows })),
        // The live flow table's size needs the capture; null until it runs.
        active: capture.state === 'running' ? (capture.stats?.['active_flows'] ?? null) : null,
      };
    },
  );

  app.get<{
    Querystring: { limit: number; offset: number; start_date?: string; end_date?: string; resolved?: boolean };
  }>(
    '/api/stats/anomalies',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Anomaly alerts (type anomaly), newest first',
        tags: ['stats'],
        querystring: {
          type: 'object',
          properties: {
            start_date: rangeProps.start_date,
            end_date: rangeProps.end_date,
            resolved: { type: 'boolean' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, maximum: 100_000_000, default: 0 },
          },
        },
        response: { 200: alertPageSchema, ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query;
      return repo.listAlerts({
        type: 'anomaly',
        ...rangeOf(q.start_date, q.end_date),
        ...(q.resolved !== undefined ? { resolved: q.resolved } : {}),
        limit: q.limit,
        offset: q.offset,
      });
    },
  );

  app.get(
    '/api/stats/realtime',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Snapshot: the last minute of traffic, recent alert counts, capture state',
        tags: ['stats'],
        response: { 200: anyObject, ...errorResponses },
      },
    },
    async () => {
      const now = nowUs();
      const [minute, lastMinute, lastHour] = await Promise.all([
        repo.trafficTotals({ fromUs: now - MINUTE_US, toUs: now }),
        repo.alertSummary({ fromUs: now - MINUTE_US, toUs: now }),
        repo.alertSummary({ fromUs: now - 60 * MINUTE_US, toUs: now }),
      ]);
      return {
        timestamp: new Date(Math.floor(now / 1000)).toISOString(),
        packets_per_second: minute.packets / 60,
        bytes_per_second: minute.bytes / 60,
        flows_last_minute: minute.flows,
        dropped_last_minute: minute.dropped,
        alerts_last_minute: lastMinute.occurrences,
        alerts_last_hour: lastHour.occurrences,
        unresolved_last_hour: lastHour.unresolved,
        by_severity_last_hour: lastHour.by_severity,
        capture: ctx.captureStatus(),
      };
    },
  );

  app.get(
    '/api/stats/debug/active-connections',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'The live flow table (needs live capture)',
        tags: ['stats'],
        response: { 200: anyObject, ...errorResponses },
      },
    },
    async () => {
      const capture = ctx.captureStatus();
      return {
        connections: [],
        count: 0,
        available: false,
        reason: capture.state === 'running' ? 'the capture does not expose its flow table yet' : capture.reason,
      };
    },
  );
}
