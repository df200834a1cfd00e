/**
 * JSON schemas shared by the routes, and the helpers that turn validated query values into store
 * filters (dates, IP addresses, comma lists). Plain JSON Schema: Fastify validates with Ajv and
 * @fastify/swagger publishes them in the OpenAPI document.
 */
import net from 'node:net';
import type { AlertFilter, AlertSeverity, AlertStatus } from '../store/types.js';
import { badRequest } from './errors.js';

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

/** Error responses every authenticated route can give. */
export const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  429: errorSchema,
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
} as const;

const NAME_LIST = '^[A-Za-z0-9_.:-]+(,[A-Za-z0-9_.:-]+)*$';
const SEV = '(low|medium|high|critical)';
const STATUS = '(open|acknowledged|resolved)';

/** Filters of the alert list, summary, history and bulk operations (query-string names). */
export const alertFilterProps = {
  type: { type: 'string', maxLength: 512, pattern: NAME_LIST, description: 'Alert type(s), comma-separated' },
  severity: { type: 'string', maxLength: 64, pattern: `^${SEV}(,${SEV})*$`, description: 'Severity(ies)' },
  status: { type: 'string', maxLength: 64, pattern: `^${STATUS}(,${STATUS})*$` },
  resolved: { type: 'boolean' },
  detector: { type: 'string', maxLength: 256, pattern: NAME_LIST },
  source_ip: { type: 'string', maxLength: 64, description: 'IPv4 or IPv6 address' },
  destination_ip: { type: 'string', maxLength: 64 },
  ip: { type: 'string', maxLength: 64, description: 'Either side' },
  sensor: { type: 'string', maxLength: 256 },
  // The pattern of the PCAP routes' ids (src/server/pcap.ts): a UUID in practice.
  analysis_id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Alerts of one PCAP analysis' },
  start_date: { type: 'string', maxLength: 40, description: 'ISO 8601 date or date-time (inclusive)' },
  end_date: { type: 'string', maxLength: 40, description: 'ISO 8601 date or date-time (inclusive)' },
} as const;

export interface AlertFilterQuery {
  type?: string;
  severity?: string;
  status?: string;
  resolved?: boolean;
  detector?: string;
  source_ip?: string;
  destination_ip?: string;
  ip?: string;
  sensor?: string;
  analysis_id?: string;
  start_date?: string;
  end_date?: string;
}

export const alertSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'integer' },
    type: { type: 'string' },
    severity: { type: 'string', enum: ['low', 'medium', 'high', 'critical'] },
    detector: { type: 'string' },
    timestamp: { type: 'string' },
    source_ip: { type: 'string' },
    destination_ip: { type: 'string' },
    status: { type: 'string', enum: ['open', 'acknowledged', 'resolved'] },
    resolved: { type: 'boolean' },
    message: { type: 'string' },
    count: { type: 'integer' },
  },
} as const;

export const alertPageSchema = {
  type: 'object',
  required: ['alerts', 'total', 'total_exact', 'limit', 'offset'],
  properties: {
    alerts: { type: 'array', items: alertSchema },
    total: { type: 'integer' },
    total_exact: { type: 'boolean' },
    limit: { type: 'integer' },
    offset: { type: 'integer' },
  },
} as const;

export const userSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'integer' },
    username: { type: 'string' },
    role: { type: 'string', enum: ['admin', 'analyst', 'viewer'] },
    disabled: { type: 'boolean' },
  },
} as const;

/** Any JSON object (responses whose shape is the store's record, documented in docs/server.md). */
export const anyObject = { type: 'object', additionalProperties: true } as const;

// ---- query helpers ------------------------------------------------------------------------------------

/** Microseconds of an ISO 8601 date or date-time; a bare date as end of range means its last µs. */
export function parseDateUs(v: string, name: string, endOfDay = false): number {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v);
  // Date.parse accepts odd strings ("1", "March 7"): only ISO 8601 shapes go through.
  if (!dateOnly && !/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(v))
    throw badRequest(`${name} must be an ISO 8601 date or date-time, got "${v}"`);
  const ms = Date.parse(dateOnly ? `${v}T00:00:00Z` : v.replace(' ', 'T'));
  if (!Number.isFinite(ms)) throw badRequest(`${name} is not a valid date: "${v}"`);
  return dateOnly && endOfDay ? (ms + 86_400_000) * 1000 - 1 : ms * 1000;
}

export function checkIp(v: string, name: string): string {
  if (net.isIP(v) === 0) throw badRequest(`${name} must be an IPv4 or IPv6 address, got "${v}"`);
  return v;
}

function list<T extends string>(v: string): T | T[] {
  const parts = v.split(',') as T[];
  return parts.length === 1 ? parts[0]! : parts;
}

/** The store filter of validated query values (throws 400 for bad IPs, dates, empty ranges). */
export function alertFilterOf(q: AlertFilterQuery): AlertFilter {
  const f: AlertFilter = {};
  if (q.type !== undefined) f.type = list(q.type);
  if (q.severity !== undefined) f.severity = list<AlertSeverity>(q.severity);
  if (q.status !== undefined) f.status = list<AlertStatus>(q.status);
  if (q.resolved !== undefined) f.resolved = q.resolved;
  if (q.detector !== undefined) f.detector = list(q.detector);
  if (q.source_ip !== undefined) f.sourceIp = checkIp(q.source_ip, 'source_ip');
  if (q.destination_ip !== undefined) f.destinationIp = checkIp(q.destination_ip, 'destination_ip');
  if (q.ip !== undefined) f.ip = checkIp(q.ip, 'ip');
  if (q.sensor !== undefined) f.sensor = q.sensor;
  if (q.analysis_id !== undefined) f.analysisId = q.analysis_id;
  const range = rangeOf(q.start_date, q.end_date);
  if (range.fromUs !== undefined) f.fromUs = range.fromUs;
  if (range.toUs !== undefined) f.toUs = range.toUs;
  return f;
}

export function rangeOf(start: string | undefined, end: string | undefined): { fromUs?: number; toUs?: number } {
  const r: { fromUs?: number; toUs?: number } = {};
  if (start !== undefined) r.fromUs = parseDateUs(start, 'start_date');
  if (end !== undefined) r.toUs = parseDateUs(end, 'end_date', true);
  if (r.fromUs !== undefined && r.toUs !== undefined && r.fromUs > r.toUs)
    throw badRequest('start_date must not be after end_date');
  return r;
}

export function isEmptyFilter(f: AlertFilter): boolean {
  return Object.keys(f).length === 0;
}
