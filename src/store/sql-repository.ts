/**
 * The repository's logic, written once over the driver adapter (db.ts) for SQLite and PostgreSQL.
 * The SQL is the common subset of both dialects (ON CONFLICT upserts, RETURNING, TRUE/FALSE,
 * integer division); what differs lives in the adapters.
 */
import crypto from 'node:crypto';
import type { ColumnSpec, Db, Queryable, SqlParam } from './db.js';
import { StoreError } from './errors.js';
import type { Repository } from './repository.js';
import { COUNT_CAP, DEFAULT_LIMIT, MAX_LIMIT } from './repository.js';
import { isoUs, isoUsOrNull, nowUs } from './time.js';
import type {
  ActivityListQuery,
  AlertFilter,
  AlertHistoryQuery,
  AlertInsertResult,
  AlertListQuery,
  AlertNote,
  AlertPage,
  AlertPageJson,
  AlertPatch,
  AlertSelector,
  AlertSeverity,
  AlertSortField,
  AlertStatus,
  AlertSummary,
  ApiToken,
  ApiTokenInput,
  HistoryBucket,
  LabelCount,
  ModelInput,
  ModelKind,
  ModelRecord,
  PcapAnalysis,
  PcapAnalysisInput,
  PcapAnalysisPatch,
  PcapListQuery,
  PcapStatus,
  RetentionPolicy,
  RetentionResult,
  SampleListQuery,
  Setting,
  StoreHealth,
  StoredAlert,
  StoredAlertInput,
  TrafficStatInput,
  TrafficStatPoint,
  TrafficStatsQuery,
  TrafficTotals,
  TrainingSample,
  TrainingSampleInput,
  User,
  UserActivity,
  UserActivityInput,
  UserCredentials,
  UserInput,
  UserPatch,
} from './types.js';
import { ALERT_SEVERITIES, ALERT_STATUSES, PCAP_STATUSES, SEVERITY_RANK } from './types.js';

/** Rows changed per statement by bulk deletes, bulk resolves and retention (short write locks). */
const CHUNK = 5000;
/** Distinct dedup keys looked up per query. */
const DEDUP_LOOKUP_CHUNK = 1000;
/** Buckets an alert history may span (a year of hours). */
const MAX_HISTORY_BUCKETS = 366 * 24;
const DEFAULT_STATS_MINUTES = 1440;
const MAX_STATS_MINUTES = 31 * 1440;
const DAY_US = 86_400_000_000;
const MINUTE_US = 60_000_000;

/** Sort field -> column (a whitelist: the value is pasted into SQL). */
const SORT_COLUMN: Readonly<Record<AlertSortField, string>> = {
  timestamp: 'ts_us',
  severity: 'severity_rank',
  type: 'type',
};

/** Alert columns of lists (the EVE record stays in alert_raw). */
const ALERT_COLS =
  'id, ts_us, type, severity, detector, gid, signature_id, rev, message, category, source_ip, source_port, ' +
  'destination_ip, destination_port, protocol, app_proto, flow_id, community_id, sensor, status, resolved, ' +
  'resolved_at_us, resolved_by, acknowledged_at_us, acknowledged_by, assignee, notes, hit_count, first_seen_us, ' +
  'last_seen_us, metadata, evidence, mitre, analysis_id';

/**
 * The API's alert object (alertOf without `raw`, same keys in the same order) as JSON text built by
 * the database: the list route sends it as is, instead of creating 34 values per row in
 * JavaScript, converting them and serialising them again (3.8 vs 0.6 ms of CPU per page of 100 on
 * SQLite). Times as isoUs prints them. A test compares both forms on every field.
 */
export function alertJsonSql(dialect: 'sqlite' | 'postgres'): string {
  const pg = dialect === 'postgres';
  const iso = (c: string): string =>
    pg
      ? `to_char(to_timestamp(${c} / 1000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '.' || lpad((${c} % 1000000)::text, 6, '0') || 'Z'`
      : `strftime('%Y-%m-%dT%H:%M:%S', ${c} / 1000000, 'unixepoch') || printf('.%06dZ', ${c} % 1000000)`;
  const isoOrNull = (c: string): string => `CASE WHEN ${c} IS NULL THEN NULL ELSE ${iso(c)} END`;
  // SQLite: json() marks text as JSON so json_object nests it; PostgreSQL's columns are jsonb.
  const doc = (c: string, empty: string | null): string =>
    pg
      ? empty === null
        ? c
        : `coalesce(${c}, '${empty}'::jsonb)`
      : empty === null
        ? `json(${c})`
        : `json(coalesce(${c}, '${empty}'))`;
  const bool = (e: string): string => (pg ? `(${e})` : `json(CASE WHEN ${e} THEN 'true' ELSE 'false' END)`);
  const fields: [string, string][] = [
    ['id', 'id'],
    ['timestamp', iso('ts_us')],
    ['type', 'type'],
    ['severity', 'severity'],
    ['detector', 'detector'],
    ['gid', 'gid'],
    ['signature_id', 'signature_id'],
    ['rev', 'rev'],
    ['message', 'message'],
    ['category', 'category'],
    ['source_ip', 'source_ip'],
    ['source_port', 'source_port'],
    ['destination_ip', 'destination_ip'],
    ['destination_port', 'destination_port'],
    ['protocol', 'protocol'],
    ['app_proto', 'app_proto'],
    ['flow_id', 'flow_id'],
    ['community_id', 'community_id'],
    ['sensor', 'sensor'],
    ['status', 'status'],
    ['resolved', bool('resolved')],
    ['resolved_at', isoOrNull('resolved_at_us')],
    ['resolved_by', 'resolved_by'],
    ['acknowledged', bool('acknowledged_at_us IS NOT NULL')],
    ['acknowledged_at', isoOrNull('acknowledged_at_us')],
    ['acknowledged_by', 'acknowledged_by'],
    ['assignee', 'assignee'],
    ['notes', doc('notes', '[]')],
    ['count', 'hit_count'],
    ['first_seen', iso('first_seen_us')],
    ['last_seen', iso('last_seen_us')],
    ['metadata', doc('metadata', '{}')],
    ['evidence', doc('evidence', null)],
    ['mitre', doc('mitre', '[]')],
    ['analysis_id', 'analysis_id'],
  ];
  const args = fields.map(([k, e]) => `'${k}', ${e}`).join(', ');
  return pg ? `json_build_object(${args})::text` : `json_object(${args})`;
}

const ALERT_INSERT: readonly ColumnSpec[] = [
  { name: 'ts_us', pg: 'bigint' },
  { name: 'type', pg: 'text' },
  { name: 'severity', pg: 'text' },
  { name: 'severity_rank', pg: 'integer' },
  { name: 'detector', pg: 'text' },
  { name: 'gid', pg: 'integer' },
  { name: 'signature_id', pg: 'bigint' },
  { name: 'rev', pg: 'integer' },
  { name: 'message', pg: 'text' },
  { name: 'category', pg: 'text' },
  { name: 'source_ip', pg: 'text' },
  { name: 'source_port', pg: 'integer' },
  { name: 'destination_ip', pg: 'text' },
  { name: 'destination_port', pg: 'integer' },
  { name: 'protocol', pg: 'text' },
  { name: 'app_proto', pg: 'text' },
  { name: 'flow_id', pg: 'bigint' },
  { name: 'community_id', pg: 'text' },
  { name: 'sensor', pg: 'text' },
  { name: 'hit_count', pg: 'bigint' },
  { name: 'first_seen_us', pg: 'bigint' },
  { name: 'last_seen_us', pg: 'bigint' },
  { name: 'dedup_key', pg: 'text' },
  { name: 'metadata', pg: 'jsonb' },
  { name: 'evidence', pg: 'jsonb' },
  { name: 'mitre', pg: 'jsonb' },
  { name: 'analysis_id', pg: 'text' },
  { name: 'created_at_us', pg: 'bigint' },
];
const HIT_COL = ALERT_INSERT.findIndex((c) => c.name === 'hit_count');
const LAST_SEEN_COL = ALERT_INSERT.findIndex((c) => c.name === 'last_seen_us');
const RAW_INSERT: readonly ColumnSpec[] = [
  { name: 'alert_id', pg: 'bigint' },
  { name: 'raw', pg: 'text' },
];
const SAMPLE_INSERT: readonly ColumnSpec[] = [
  { name: 'created_at_us', pg: 'bigint' },
  { name: 'features', pg: 'bytea' },
  { name: 'label', pg: 'text' },
  { name: 'source', pg: 'text' },
  { name: 'feature_set', pg: 'text' },
  { name: 'labeled_at_us', pg: 'bigint' },
  { name: 'labeled_by', pg: 'text' },
  { name: 'metadata', pg: 'jsonb' },
];

type Bool = boolean | number;
/** JSON columns: TEXT on SQLite (a string), JSONB on PostgreSQL (parsed by the driver). */
type Json = unknown;

interface AlertRow {
  id: number;
  ts_us: number;
  type: string;
  severity: string;
  detector: string;
  gid: number;
  signature_id: number;
  rev: number;
  message: string;
  category: string;
  source_ip: string;
  source_port: number | null;
  destination_ip: string;
  destination_port: number | null;
  protocol: string;
  app_proto: string | null;
  flow_id: number | null;
  community_id: string | null;
  sensor: string;
  status: string;
  resolved: Bool;
  resolved_at_us: number | null;
  resolved_by: string | null;
  acknowledged_at_us: number | null;
  acknowledged_by: string | null;
  assignee: string | null;
  notes: Json;
  hit_count: number;
  first_seen_us: number;
  last_seen_us: number;
  metadata: Json;
  evidence: Json;
  mitre: Json;
  analysis_id: string | null;
  raw?: string | null;
}

interface TrafficRow {
  minute_us: number;
  sensor: string;
  packets: number;
  bytes: number;
  flows: number;
  alerts: number;
  dropped: number;
  tcp: number;
  udp: number;
  icmp: number;
  other: number;
  protocols: Json;
}

interface PcapRow {
  id: string;
  filename: string;
  size_bytes: number | null;
  status: string;
  progress: number;
  summary: Json;
  error: string | null;
  created_by: string | null;
  created_at_us: number;
  started_at_us: number | null;
  finished_at_us: number | null;
}

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  role: string;
  disabled: Bool;
  created_at_us: number;
  updated_at_us: number;
  last_login_us: number | null;
}

interface TokenRow {
  id: number;
  user_id: number;
  kind: string;
  name: string;
  prefix: string;
  created_at_us: number;
  last_used_us: number | null;
  expires_us: number | null;
  revoked: Bool;
}

interface ActivityRow {
  id: number;
  ts_us: number;
  username: string | null;
  action: string;
  resource: string | null;
  resource_id: string | null;
  details: Json;
  ip: string | null;
}

interface SampleRow {
  id: number;
  created_at_us: number;
  features: Buffer | Uint8Array;
  label: string | null;
  source: string;
  feature_set: string;
  labeled_at_us: number | null;
  labeled_by: string | null;
  metadata: Json;
}

interface ModelRow {
  id: number;
  kind: string;
  name: string;
  version: number;
  algorithm: string;
  created_at_us: number;
  metrics: Json;
  params: Json;
  artifact_path: string | null;
  feature_set: string | null;
  samples: number | null;
  active: Bool;
}

interface SettingRow {
  key: string;
  value: Json;
  updated_at_us: number;
  updated_by: string | null;
}

/** A dedup group while a batch is stored: a row already in the table or one of the batch's new rows. */
interface Group {
  /** Existing row id, or -1 for a new row (id known after the insert). */
  id: number;
  /** Index in the batch's new rows, or -1. */
  newRow: number;
  firstUs: number;
  lastUs: number;
  count: number;
  /** Occurrences added to an existing row by this batch. */
  added: number;
}

const truthy = (v: Bool): boolean => v === true || v === 1;
const clampInt = (v: number | undefined, def: number, lo: number, hi: number): number =>
  v === undefined || !Number.isFinite(v) ? def : Math.min(hi, Math.max(lo, Math.trunc(v)));

/**
 * The key deduplication groups by: src/alerts/dedup.ts's (type, gid:sid, source, destination),
 * scoped to the PCAP analysis for uploaded captures (an analysis' alerts never fold into live ones).
 */
export function dedupKey(a: StoredAlertInput): string {
  const k = `${a.type}|${a.gid}:${a.signatureId}|${a.sourceIp}|${a.destinationIp}`;
  return a.analysisId === undefined || a.analysisId === null ? k : `pcap:${a.analysisId}|${k}`;
}

/** float64 little-endian bytes (NaN and infinities survive, which JSON would not carry). */
function encodeFeatures(f: ArrayLike<number>): Buffer {
  const buf = Buffer.allocUnsafe(f.length * 8);
  for (let i = 0; i < f.length; i++) buf.writeDoubleLE(f[i]!, i * 8);
  return buf;
}

function decodeFeatures(b: Buffer | Uint8Array): number[] {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const out = new Array<number>(buf.length >>> 3);
  for (let i = 0; i < out.length; i++) out[i] = buf.readDoubleLE(i * 8);
  return out;
}

export interface SqlRepositoryOptions {
  /** ALERT_DEDUP_WINDOW in seconds; 0 stores every alert as its own row. */
  dedupWindowS: number;
}

/** How long "more than COUNT_CAP alerts match this filter" (and its estimate) is reused. */
const BIG_COUNT_TTL_MS = 10_000;
const BIG_COUNT_MAX_ENTRIES = 256;

export class SqlRepository implements Repository {
  readonly backend: 'sqlite' | 'postgres';
  private readonly dedupWindowUs: number;
  /**
   * Filters known to match more than COUNT_CAP alerts, with the estimate shown for them. The capped
   * count of such a filter reads 10,001 index entries per page request (3–9 ms on PostgreSQL at 1M
   * alerts, the largest part of the list query); a dashboard pages and refreshes the same filter,
   * so the answer is kept briefly. Inserts only add matches, so the fact stays true until a write
   * that can remove matches (update, resolve, delete, retention: `shrinking`); writes by other
   * processes on a shared PostgreSQL are bounded by the TTL.
   */
  /** Select list of listAlertsJson. */
  private readonly alertJson: string;
  private readonly bigCounts = new Map<string, { atMs: number; gen: number; est: number }>();
  private shrinkGen = 0;

  constructor(
    private readonly db: Db,
    readonly schemaVersion: number,
    opts: SqlRepositoryOptions,
  ) {
    this.backend = db.dialect;
    this.dedupWindowUs = Math.max(0, opts.dedupWindowS) * 1e6;
    this.alertJson = `${alertJsonSql(this.backend)} AS j`;
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async health(): Promise<StoreHealth> {
    const t0 = performance.now();
    try {
      await this.db.get('SELECT 1 AS one');
      return {
        ok: true,
        backend: this.backend,
        schema_version: this.schemaVersion,
        latency_ms: performance.now() - t0,
      };
    } catch (e) {
      return {
        ok: false,
        backend: this.backend,
        schema_version: this.schemaVersion,
        latency_ms: performance.now() - t0,
        error: e instanceof Error ? e.message : String(e),
      };
    }
  }

  // ---- JSON and boolean columns ------------------------------------------------------------------

  private json<T>(v: Json): T | null {
    if (v === null || v === undefined) return null;
    return (this.backend === 'sqlite' && typeof v === 'string' ? JSON.parse(v) : v) as T;
  }

  private static str(v: unknown): string | null {
    return v === null || v === undefined ? null : JSON.stringify(v);
  }

  // ---- alerts ------------------------------------------------------------------------------------------

  private alertOf(r: AlertRow): StoredAlert {
    const a: StoredAlert = {
      id: r.id,
      timestamp: isoUs(r.ts_us),
      type: r.type,
      severity: r.severity as AlertSeverity,
      detector: r.detector,
      gid: r.gid,
      signature_id: r.signature_id,
      rev: r.rev,
      message: r.message,
      category: r.category,
      source_ip: r.source_ip,
      source_port: r.source_port,
      destination_ip: r.destination_ip,
      destination_port: r.destination_port,
      protocol: r.protocol,
      app_proto: r.app_proto,
      flow_id: r.flow_id,
      community_id: r.community_id,
      sensor: r.sensor,
      status: r.status as AlertStatus,
      resolved: truthy(r.resolved),
      resolved_at: isoUsOrNull(r.resolved_at_us),
      resolved_by: r.resolved_by,
      acknowledged: r.acknowledged_at_us !== null,
      acknowledged_at: isoUsOrNull(r.acknowledged_at_us),
      acknowledged_by: r.acknowledged_by,
      assignee: r.assignee,
      notes: this.json<AlertNote[]>(r.notes) ?? [],
      count: r.hit_count,
      first_seen: isoUs(r.first_seen_us),
      last_seen: isoUs(r.last_seen_us),
      metadata: this.json<Record<string, string[]>>(r.metadata) ?? {},
      evidence: this.json<Record<string, unknown>>(r.evidence),
      mitre: this.json<string[]>(r.mitre) ?? [],
      analysis_id: r.analysis_id,
    };
    if (r.raw !== undefined) a.raw = r.raw === null ? null : (JSON.parse(r.raw) as Record<string, unknown>);
    return a;
  }

  /** WHERE clause (with a leading space, or empty) and its parameters for an alert filter. */
  private alertWhere(f: AlertFilter, extra: string[] = [], extraParams: SqlParam[] = []): [string, SqlParam[]] {
    const c = [...extra];
    const p = [...extraParams];
    const oneOrMany = (col: string, v: string | number | readonly (string | number)[] | undefined): void => {
      if (v === undefined) return;
      if (typeof v === 'string' || typeof v === 'number') {
        c.push(`${col} = ?`);
        p.push(v);
      } else if (v.length === 0) {
        c.push('1 = 0');
      } else if (v.length === 1) {
        c.push(`${col} = ?`);
        p.push(v[0]!);
      } else {
        c.push(this.db.inList(col));
        p.push(this.db.listParam(v));
      }
    };
    oneOrMany('type', f.type);
    // By rank: the indexes hold severity_rank (see the migrations).
    if (f.severity !== undefined)
      oneOrMany(
        'severity_rank',
        typeof f.severity === 'string'
          ? (SEVERITY_RANK[f.severity] ?? 0)
          : f.severity.map((x) => SEVERITY_RANK[x] ?? 0),
      );
    oneOrMany('status', f.status);
    oneOrMany('detector', f.detector);
    if (f.resolved !== undefined) {
      c.push('resolved = ?');
      p.push(f.resolved);
    }
    if (f.sourceIp !== undefined) {
      c.push('source_ip = ?');
      p.push(f.sourceIp);
    }
    if (f.destinationIp !== undefined) {
      c.push('destination_ip = ?');
      p.push(f.destinationIp);
    }
    if (f.ip !== undefined) {
      c.push('(source_ip = ? OR destination_ip = ?)');
      p.push(f.ip, f.ip);
    }
    if (f.sensor !== undefined) {
      c.push('sensor = ?');
      p.push(f.sensor);
    }
    if (f.analysisId === null) c.push('analysis_id IS NULL');
    else if (f.analysisId !== undefined) {
      c.push('analysis_id = ?');
      p.push(f.analysisId);
    }
    if (f.fromUs !== undefined) {
      c.push('ts_us >= ?');
      p.push(f.fromUs);
    }
    if (f.toUs !== undefined) {
      c.push('ts_us <= ?');
      p.push(f.toUs);
    }
    return [c.length === 0 ? '' : ' WHERE ' + c.join(' AND '), p];
  }

  async insertAlerts(inputs: readonly StoredAlertInput[]): Promise<AlertInsertResult[]> {
    if (inputs.length === 0) return [];
    const window = this.dedupWindowUs;
    const created = nowUs();
    return this.db.tx(async (q) => {
      const keys = inputs.map(dedupKey);
      const groups = new Map<string, Group>();
      if (window > 0) await this.loadGroups(q, inputs, keys, groups);

      const rows: SqlParam[][] = [];
      const raws: (string | null)[] = [];
      const newGroups: Group[] = [];
      // Existing rows folded into (kept apart: a later alert of the batch may start a newer group
      // under the same key, replacing this one in `groups`).
      const touched: Group[] = [];
      const resultGroup: Group[] = new Array<Group>(inputs.length);
      const results: AlertInsertResult[] = new Array<AlertInsertResult>(inputs.length);
      for (let i = 0; i < inputs.length; i++) {
        const a = inputs[i]!;
        const key = keys[i]!;
        const g = groups.get(key);
        // The condition of AlertDeduplicator.add (src/alerts/dedup.ts).
        if (g !== undefined && window > 0 && a.tsUs - g.lastUs <= window && a.tsUs >= g.firstUs) {
          g.count++;
          if (a.tsUs > g.lastUs) g.lastUs = a.tsUs;
          if (g.newRow < 0 && g.added++ === 0) touched.push(g);
          resultGroup[i] = g;
          results[i] = { id: g.id, isNew: false, count: g.count };
          continue;
        }
        const ng: Group = { id: -1, newRow: rows.length, firstUs: a.tsUs, lastUs: a.tsUs, count: 1, added: 0 };
        groups.set(key, ng);
        newGroups.push(ng);
        resultGroup[i] = ng;
        results[i] = { id: -1, isNew: true, count: 1 };
        rows.push([
          a.tsUs,
          a.type,
          a.severity,
          SEVERITY_RANK[a.severity] ?? 1,
          a.detector,
          a.gid,
          a.signatureId,
          a.rev,
          a.message,
          a.category,
          a.sourceIp,
          a.sourcePort,
          a.destinationIp,
          a.destinationPort,
          a.protocol,
          a.appProto,
          a.flowId,
          a.communityId,
          a.sensor,
          1, // hit_count, first_seen_us, last_seen_us: set below from the group
          a.tsUs,
          a.tsUs,
          key,
          JSON.stringify(a.metadata),
          SqlRepository.str(a.evidence),
          JSON.stringify(a.mitre),
          a.analysisId ?? null,
          created,
        ]);
        raws.push(a.raw === null ? null : JSON.stringify(a.raw));
      }
      // New rows carry their group's final count and last time (later alerts of the batch folded in).
      for (const g of newGroups) {
        const r = rows[g.newRow]!;
        r[HIT_COL] = g.count;
        r[LAST_SEEN_COL] = g.lastUs;
      }
      const ids = await this.db.insertMany(q, 'alerts', ALERT_INSERT, rows, 'id');
      for (const g of newGroups) g.id = ids[g.newRow]!;
      const rawRows: SqlParam[][] = [];
      for (let k = 0; k < raws.length; k++) if (raws[k] !== null) rawRows.push([ids[k]!, raws[k]!]);
      if (rawRows.length > 0) await this.db.insertMany(q, 'alert_raw', RAW_INSERT, rawRows);
      for (const g of touched)
        await q.run(
          'UPDATE alerts SET hit_count = hit_count + ?, last_seen_us = CASE WHEN last_seen_us < ? THEN ? ELSE last_seen_us END WHERE id = ?',
          [g.added, g.lastUs, g.lastUs, g.id],
        );
      for (let i = 0; i < results.length; i++) if (results[i]!.id < 0) results[i]!.id = resultGroup[i]!.id;
      return results;
    });
  }

  /** The latest unresolved row of each key that the batch's alerts could fold into. */
  private async loadGroups(
    q: Queryable,
    inputs: readonly StoredAlertInput[],
    keys: readonly string[],
    groups: Map<string, Group>,
  ): Promise<void> {
    let minTs = Infinity;
    for (const a of inputs) if (a.tsUs < minTs) minTs = a.tsUs;
    const distinct = [...new Set(keys)];
    // `resolved` is tested here, not in SQL: with it in the WHERE clause SQLite's planner (without
    // statistics) picked a resolved-first index and scanned every open alert per batch.
    const sql =
      'SELECT id, dedup_key, first_seen_us, last_seen_us, hit_count, resolved FROM alerts WHERE ' +
      this.db.inList('dedup_key') +
      ' AND last_seen_us >= ?';
    for (let s = 0; s < distinct.length; s += DEDUP_LOOKUP_CHUNK) {
      const rows = await q.all<{
        id: number;
        dedup_key: string;
        first_seen_us: number;
        last_seen_us: number;
        hit_count: number;
        resolved: Bool;
      }>(sql, [this.db.listParam(distinct.slice(s, s + DEDUP_LOOKUP_CHUNK)), minTs - this.dedupWindowUs]);
      for (const r of rows) {
        if (truthy(r.resolved)) continue;
        const g = groups.get(r.dedup_key);
        // One group per key, as in dedup.ts: the most recently active row.
        if (g === undefined || r.last_seen_us > g.lastUs || (r.last_seen_us === g.lastUs && r.id > g.id))
          groups.set(r.dedup_key, {
            id: r.id,
            newRow: -1,
            firstUs: r.first_seen_us,
            lastUs: r.last_seen_us,
            count: r.hit_count,
            added: 0,
          });
      }
    }
  }

  async listAlerts(q: AlertListQuery = {}): Promise<AlertPage> {
    const p = await this.alertPage<AlertRow>(q, ALERT_COLS);
    return {
      alerts: p.rows.map((r) => this.alertOf(r)),
      total: p.total,
      total_exact: p.total_exact,
      limit: p.limit,
      offset: p.offset,
    };
  }

  async listAlertsJson(q: AlertListQuery = {}): Promise<AlertPageJson> {
    const p = await this.alertPage<{ j: string }>(q, this.alertJson);
    let alerts = '[';
    for (let i = 0; i < p.rows.length; i++) alerts += (i === 0 ? '' : ',') + p.rows[i]!.j;
    return { alerts: alerts + ']', total: p.total, total_exact: p.total_exact, limit: p.limit, offset: p.offset };
  }

  /** One page of alerts (columns `select`) and the total, as listAlerts documents. */
  private async alertPage<R>(
    q: AlertListQuery,
    select: string,
  ): Promise<{ rows: R[]; total: number; total_exact: boolean; limit: number; offset: number }> {
    const limit = clampInt(q.limit, DEFAULT_LIMIT, 1, MAX_LIMIT);
    const offset = clampInt(q.offset, 0, 0, Number.MAX_SAFE_INTEGER);
    const sort = q.sort ?? 'timestamp';
    const col = SORT_COLUMN[sort];
    if (col === undefined) throw new StoreError('VIGIL_STORE_INVALID', `cannot sort alerts by ${String(sort)}`);
    const dir = q.order === 'asc' ? 'ASC' : 'DESC';
    // The tie-breaks follow the main direction so that one index serves the whole ORDER BY.
    const order = col === 'ts_us' ? `ts_us ${dir}, id ${dir}` : `${col} ${dir}, ts_us ${dir}, id ${dir}`;
    const [where, params] = this.alertWhere(q);
    // PostgreSQL: a computed select list (listAlertsJson) goes outside the LIMIT/OFFSET, as it
    // projects the rows an OFFSET skips too (page 10 built 1,000 JSON objects: 46 vs 7 ms). SQLite
    // skips them before projecting; wrapping there only adds a sort (measured ~10 % slower).
    const wrap = select !== ALERT_COLS && this.backend === 'postgres';
    const inner = wrap ? `${ALERT_COLS}, severity_rank` : select;
    let pageSql = `SELECT ${inner} FROM alerts${where} ORDER BY ${order} LIMIT ? OFFSET ?`;
    let pageParams: SqlParam[] = [...params, limit, offset];
    if (q.ip !== undefined && q.sourceIp === undefined && q.destinationIp === undefined) {
      // Either side as two ordered index ranges (source; destination without the rows the first
      // has), each cut at offset + limit, then merged: the single OR reads both ranges whole and
      // sorts them (thousands of rows for a busy scanner; bench/server-alerts.ts).
      const { ip, ...rest } = q;
      const [w1, p1] = this.alertWhere({ ...rest, sourceIp: ip });
      const [w2, p2] = this.alertWhere({ ...rest, destinationIp: ip }, ['source_ip <> ?'], [ip]);
      const cols = `${ALERT_COLS}, severity_rank`;
      const part = (w: string): string => `SELECT * FROM (SELECT ${cols} FROM alerts${w} ORDER BY ${order} LIMIT ?)`;
      pageSql = `SELECT ${inner} FROM (${part(w1)} a UNION ALL ${part(w2)} b) u ORDER BY ${order} LIMIT ? OFFSET ?`;
      pageParams = [...p1, offset + limit, ...p2, offset + limit, limit, offset];
    }
    if (wrap) pageSql = `SELECT ${select} FROM (${pageSql}) p ORDER BY ${order}`;
    const countKey = where + '\u0000' + JSON.stringify(params);
    const big = this.bigCount(countKey);
    const page = this.db.all<R>(pageSql, pageParams);
    if (big !== undefined) {
      const rows = await page;
      // A short page still gives the exact total, as without the remembered count.
      if (rows.length > 0 && rows.length < limit)
        return { rows, total: offset + rows.length, total_exact: true, limit, offset };
      return { rows, total: Math.max(big, offset + rows.length), total_exact: false, limit, offset };
    }
    const gen = this.shrinkGen;
    const count = (): Promise<{ n: number } | undefined> =>
      this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM alerts${where} LIMIT ?) t`, [
        ...params,
        COUNT_CAP + 1,
      ]);
    // PostgreSQL: page and count on two pooled connections at once (the count is wasted on a short
    // page, which is cheap). SQLite: one connection, so count only when the page cannot tell.
    const [rows, counted] = this.backend === 'postgres' ? await Promise.all([page, count()]) : [await page, undefined];
    let total: number;
    let exact = true;
    if (rows.length > 0 && rows.length < limit) total = offset + rows.length;
    else if (rows.length === 0 && offset === 0) total = 0;
    else {
      total = (counted ?? (await count()))?.n ?? 0;
      if (total > COUNT_CAP) {
        exact = false;
        const est = await this.db.estimateRows(`SELECT 1 FROM alerts${where}`, params);
        total = Math.max(est ?? 0, COUNT_CAP + 1);
        this.rememberBigCount(countKey, gen, total);
      }
    }
    return { rows, total, total_exact: exact, limit, offset };
  }

  /** The remembered estimate for a filter known to match more than COUNT_CAP alerts, if still valid. */
  private bigCount(key: string): number | undefined {
    const e = this.bigCounts.get(key);
    if (e === undefined) return undefined;
    if (e.gen === this.shrinkGen && performance.now() - e.atMs < BIG_COUNT_TTL_MS) return e.est;
    this.bigCounts.delete(key);
    return undefined;
  }

  /**
   * Run a write that can make fewer alerts match a filter: remembered counts are dropped when it
   * starts and again when it ends (a count taken while it ran may have seen the old rows).
   */
  private async shrinking<T>(write: () => Promise<T>): Promise<T> {
    this.shrinkGen++;
    try {
      return await write();
    } finally {
      this.shrinkGen++;
    }
  }

  private rememberBigCount(key: string, gen: number, est: number): void {
    // A write that started while the count ran may already have removed matches: not remembered.
    if (gen !== this.shrinkGen) return;
    if (this.bigCounts.size >= BIG_COUNT_MAX_ENTRIES) this.bigCounts.clear();
    this.bigCounts.set(key, { atMs: performance.now(), gen, est });
  }

  async getAlert(id: number): Promise<StoredAlert | null> {
    return this.getAlertVia(this.db, id);
  }

  private async getAlertVia(q: Queryable, id: number): Promise<StoredAlert | null> {
    const r = await q.get<AlertRow>(
      `SELECT ${ALERT_COLS}, (SELECT raw FROM alert_raw WHERE alert_id = alerts.id) AS raw FROM alerts WHERE id = ?`,
      [id],
    );
    return r === undefined ? null : this.alertOf(r);
  }

  async updateAlert(id: number, patch: AlertPatch): Promise<StoredAlert | null> {
    return this.shrinking(async () => {
      const at = patch.nowUs ?? nowUs();
      const actor = patch.actor ?? null;
      return this.db.tx(async (q) => {
        const cur = await q.get<{ notes: Json }>(`SELECT notes FROM alerts WHERE id = ?${this.db.forUpdate}`, [id]);
        if (cur === undefined) return null;
        const sets: string[] = [];
        const p: SqlParam[] = [];
        const set = (col: string, v: SqlParam): void => {
          sets.push(`${col} = ?`);
          p.push(v);
        };
        switch (patch.status) {
          case 'resolved':
            set('status', 'resolved');
            set('resolved', true);
            set('resolved_at_us', at);
            set('resolved_by', actor);
            break;
          case 'acknowledged':
            // Acknowledging a resolved alert reopens it as being handled.
            set('status', 'acknowledged');
            set('resolved', false);
            set('resolved_at_us', null);
            set('resolved_by', null);
            set('acknowledged_at_us', at);
            set('acknowledged_by', actor);
            break;
          case 'open':
            set('status', 'open');
            set('resolved', false);
            set('resolved_at_us', null);
            set('resolved_by', null);
            set('acknowledged_at_us', null);
            set('acknowledged_by', null);
            break;
          case undefined:
            break;
        }
        if (patch.assignee !== undefined) set('assignee', patch.assignee);
        if (patch.note !== undefined) {
          const notes = this.json<AlertNote[]>(cur.notes) ?? [];
          notes.push({ at: isoUs(at), by: actor, text: patch.note });
          set('notes', JSON.stringify(notes));
        }
        if (sets.length > 0) await q.run(`UPDATE alerts SET ${sets.join(', ')} WHERE id = ?`, [...p, id]);
        return this.getAlertVia(q, id);
      });
    });
  }

  async deleteAlert(id: number): Promise<boolean> {
    return this.shrinking(async () => {
      return (await this.db.run('DELETE FROM alerts WHERE id = ?', [id])) > 0;
    });
  }

  /** Repeat `DELETE/UPDATE ... WHERE id IN (SELECT id ... LIMIT CHUNK)` until it changes fewer rows. */
  private async chunked(
    stmt: string,
    where: string,
    params: readonly SqlParam[],
    head: SqlParam[] = [],
  ): Promise<number> {
    const sql = `${stmt} WHERE id IN (SELECT id FROM alerts${where} LIMIT ${CHUNK})`;
    let total = 0;
    for (;;) {
      const n = await this.db.run(sql, [...head, ...params]);
      total += n;
      if (n < CHUNK) return total;
    }
  }

  async deleteAlerts(sel: AlertSelector): Promise<number> {
    return this.shrinking(async () => {
      if ('ids' in sel) {
        if (sel.ids.length === 0) return 0;
        return this.db.run(`DELETE FROM alerts WHERE ${this.db.inList('id')}`, [this.db.listParam(sel.ids)]);
      }
      const [where, params] = this.alertWhere(sel.filter);
      return this.chunked('DELETE FROM alerts', where, params);
    });
  }

  async resolveAlerts(sel: AlertSelector, actor: string | null = null, at = nowUs()): Promise<number> {
    return this.shrinking(async () => {
      const head: SqlParam[] = [true, at, actor];
      const stmt = "UPDATE alerts SET status = 'resolved', resolved = ?, resolved_at_us = ?, resolved_by = ?";
      if ('ids' in sel) {
        if (sel.ids.length === 0) return 0;
        return this.db.run(`${stmt} WHERE ${this.db.inList('id')} AND resolved = ?`, [
          ...head,
          this.db.listParam(sel.ids),
          false,
        ]);
      }
      const [where, params] = this.alertWhere(sel.filter, ['resolved = ?'], [false]);
      return this.chunked(stmt, where, params, head);
    });
  }

  async alertSummary(filter: AlertFilter = {}): Promise<AlertSummary> {
    const [where, params] = this.alertWhere(filter);
    // One scan grouped by every dimension (a few hundred groups at most), folded here.
    const rows = await this.db.all<{
      type: string;
      severity: string;
      status: string;
      detector: string;
      n: number;
      o: number;
    }>(
      `SELECT type, severity, status, detector, COUNT(*) AS n, SUM(hit_count) AS o FROM alerts${where} GROUP BY type, severity, status, detector`,
      params,
    );
    const s: AlertSummary = {
      total: 0,
      unresolved: 0,
      occurrences: 0,
      by_type: {},
      by_severity: { low: 0, medium: 0, high: 0, critical: 0 },
      by_status: { open: 0, acknowledged: 0, resolved: 0 },
      by_detector: {},
    };
    for (const r of rows) {
      s.total += r.n;
      s.occurrences += r.o;
      if (r.status !== 'resolved') s.unresolved += r.n;
      s.by_type[r.type] = (s.by_type[r.type] ?? 0) + r.n;
      if ((ALERT_SEVERITIES as readonly string[]).includes(r.severity))
        s.by_severity[r.severity as AlertSeverity] += r.n;
      if ((ALERT_STATUSES as readonly string[]).includes(r.status)) s.by_status[r.status as AlertStatus] += r.n;
      s.by_detector[r.detector] = (s.by_detector[r.detector] ?? 0) + r.n;
    }
    return s;
  }

  async criticalAlerts(opts: { limit?: number; sinceUs?: number } = {}): Promise<StoredAlert[]> {
    const limit = clampInt(opts.limit, 50, 1, MAX_LIMIT);
    // The predicate is spelled as PostgreSQL's partial index alerts_critical_open spells it. On the
    // text column, not the rank: SQLite would otherwise pick (resolved, severity_rank, ts) and sort
    // every open high/critical alert, where walking (resolved, ts) newest first stops after `limit`.
    const since = opts.sinceUs === undefined ? '' : ' AND ts_us >= ?';
    const params: SqlParam[] = opts.sinceUs === undefined ? [limit] : [opts.sinceUs, limit];
    const rows = await this.db.all<AlertRow>(
      `SELECT ${ALERT_COLS} FROM alerts WHERE resolved = FALSE AND severity IN ('high', 'critical')${since} ORDER BY ts_us DESC, id DESC LIMIT ?`,
      params,
    );
    return rows.map((r) => this.alertOf(r));
  }

  async alertHistory(h: AlertHistoryQuery): Promise<HistoryBucket[]> {
    const width = h.bucket === 'day' ? DAY_US : 3_600_000_000;
    const first = Math.floor(h.fromUs / width);
    const last = Math.floor(h.toUs / width);
    if (last < first) return [];
    if (last - first + 1 > MAX_HISTORY_BUCKETS)
      throw new StoreError('VIGIL_STORE_INVALID', `history spans more than ${MAX_HISTORY_BUCKETS} ${h.bucket}s`);
    const f: AlertFilter = { ...h.filter, fromUs: h.fromUs, toUs: h.toUs };
    const [where, params] = this.alertWhere(f);
    const rows = await this.db.all<{ b: number; severity: string; n: number; o: number }>(
      // CAST: SQLite binds JS numbers as REAL, which would make the division fractional.
      `SELECT CAST(ts_us / ? AS BIGINT) AS b, severity, COUNT(*) AS n, SUM(hit_count) AS o FROM alerts${where} GROUP BY b, severity`,
      [width, ...params],
    );
    const out: HistoryBucket[] = [];
    for (let b = first; b <= last; b++)
      out.push({ bucket: isoUs(b * width), count: 0, occurrences: 0, low: 0, medium: 0, high: 0, critical: 0 });
    for (const r of rows) {
      const e = out[r.b - first];
      if (e === undefined) continue;
      e.count += r.n;
      e.occurrences += r.o;
      if ((ALERT_SEVERITIES as readonly string[]).includes(r.severity)) e[r.severity as AlertSeverity] += r.n;
    }
    return out;
  }

  // ---- traffic statistics ----------------------------------------------------------------------------

  async addTrafficStats(points: readonly TrafficStatInput[]): Promise<void> {
    if (points.length === 0) return;
    // Fold the points per minute and sensor first: one upsert per row.
    const acc = new Map<string, TrafficRow>();
    for (const p of points) {
      const minute = Math.floor(p.tsUs / MINUTE_US) * MINUTE_US;
      const sensor = p.sensor ?? 'local';
      const k = `${minute}|${sensor}`;
      let r = acc.get(k);
      if (r === undefined) {
        r = {
          minute_us: minute,
          sensor,
          packets: 0,
          bytes: 0,
          flows: 0,
          alerts: 0,
          dropped: 0,
          tcp: 0,
          udp: 0,
          icmp: 0,
          other: 0,
          protocols: {},
        };
        acc.set(k, r);
      }
      r.packets += p.packets ?? 0;
      r.bytes += p.bytes ?? 0;
      r.flows += p.flows ?? 0;
      r.alerts += p.alerts ?? 0;
      r.dropped += p.dropped ?? 0;
      r.tcp += p.tcp ?? 0;
      r.udp += p.udp ?? 0;
      r.icmp += p.icmp ?? 0;
      r.other += p.other ?? 0;
      const protos = r.protocols as Record<string, number>;
      if (p.protocols !== undefined)
        for (const [name, n] of Object.entries(p.protocols)) protos[name] = (protos[name] ?? 0) + n;
    }
    await this.db.tx(async (q) => {
      for (const r of acc.values()) {
        // Counters first: the upsert creates or locks the row, so the protocol merge below reads
        // and rewrites it without a concurrent writer in between (PostgreSQL row lock; SQLite's
        // transactions are exclusive anyway).
        await q.run(
          'INSERT INTO traffic_stats (minute_us, sensor, packets, bytes, flows, alerts, dropped, tcp, udp, icmp, other) ' +
            'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (minute_us, sensor) DO UPDATE SET ' +
            'packets = traffic_stats.packets + excluded.packets, bytes = traffic_stats.bytes + excluded.bytes, ' +
            'flows = traffic_stats.flows + excluded.flows, alerts = traffic_stats.alerts + excluded.alerts, ' +
            'dropped = traffic_stats.dropped + excluded.dropped, tcp = traffic_stats.tcp + excluded.tcp, ' +
            'udp = traffic_stats.udp + excluded.udp, icmp = traffic_stats.icmp + excluded.icmp, ' +
            'other = traffic_stats.other + excluded.other',
          [r.minute_us, r.sensor, r.packets, r.bytes, r.flows, r.alerts, r.dropped, r.tcp, r.udp, r.icmp, r.other],
        );
        const add = r.protocols as Record<string, number>;
        if (Object.keys(add).length === 0) continue;
        const cur = await q.get<{ protocols: Json }>(
          'SELECT protocols FROM traffic_stats WHERE minute_us = ? AND sensor = ?',
          [r.minute_us, r.sensor],
        );
        const merged = this.json<Record<string, number>>(cur?.protocols ?? null) ?? {};
        for (const [name, n] of Object.entries(add)) merged[name] = (merged[name] ?? 0) + n;
        await q.run('UPDATE traffic_stats SET protocols = ? WHERE minute_us = ? AND sensor = ?', [
          JSON.stringify(merged),
          r.minute_us,
          r.sensor,
        ]);
      }
    });
  }

  private statsWhere(q: Omit<TrafficStatsQuery, 'limit'>): [string, SqlParam[]] {
    const c: string[] = [];
    const p: SqlParam[] = [];
    if (q.fromUs !== undefined) {
      c.push('minute_us >= ?');
      p.push(Math.floor(q.fromUs / MINUTE_US) * MINUTE_US);
    }
    if (q.toUs !== undefined) {
      c.push('minute_us <= ?');
      p.push(q.toUs);
    }
    if (q.sensor !== undefined) {
      c.push('sensor = ?');
      p.push(q.sensor);
    }
    return [c.length === 0 ? '' : ' WHERE ' + c.join(' AND '), p];
  }

  async trafficStats(q: TrafficStatsQuery = {}): Promise<TrafficStatPoint[]> {
    const limit = clampInt(q.limit, DEFAULT_STATS_MINUTES, 1, MAX_STATS_MINUTES);
    const [where, params] = this.statsWhere(q);
    const rows = await this.db.all<TrafficRow>(
      `SELECT * FROM traffic_stats${where} ORDER BY minute_us DESC, sensor DESC LIMIT ?`,
      [...params, limit],
    );
    rows.reverse();
    return rows.map((r) => ({
      minute: isoUs(r.minute_us),
      sensor: r.sensor,
      packets: r.packets,
      bytes: r.bytes,
      flows: r.flows,
      alerts: r.alerts,
      dropped: r.dropped,
      tcp: r.tcp,
      udp: r.udp,
      icmp: r.icmp,
      other: r.other,
      protocols: this.json<Record<string, number>>(r.protocols) ?? {},
    }));
  }

  async trafficTotals(q: Omit<TrafficStatsQuery, 'limit'> = {}): Promise<TrafficTotals> {
    const [where, params] = this.statsWhere(q);
    const t = await this.db.get<Omit<TrafficTotals, 'protocols'>>(
      'SELECT COUNT(DISTINCT minute_us) AS minutes, COALESCE(SUM(packets), 0) AS packets, COALESCE(SUM(bytes), 0) AS bytes, ' +
        'COALESCE(SUM(flows), 0) AS flows, COALESCE(SUM(alerts), 0) AS alerts, COALESCE(SUM(dropped), 0) AS dropped, ' +
        'COALESCE(SUM(tcp), 0) AS tcp, COALESCE(SUM(udp), 0) AS udp, COALESCE(SUM(icmp), 0) AS icmp, ' +
        `COALESCE(SUM(other), 0) AS other FROM traffic_stats${where}`,
      params,
    );
    const protocols: Record<string, number> = {};
    const rows = await this.db.all<{ protocols: Json }>(
      `SELECT protocols FROM traffic_stats${where}${where === '' ? ' WHERE' : ' AND'} protocols <> '{}'`,
      params,
    );
    for (const r of rows)
      for (const [k, n] of Object.entries(this.json<Record<string, number>>(r.protocols) ?? {}))
        protocols[k] = (protocols[k] ?? 0) + n;
    return {
      minutes: t?.minutes ?? 0,
      packets: t?.packets ?? 0,
      bytes: t?.bytes ?? 0,
      flows: t?.flows ?? 0,
      alerts: t?.alerts ?? 0,
      dropped: t?.dropped ?? 0,
      tcp: t?.tcp ?? 0,
      udp: t?.udp ?? 0,
      icmp: t?.icmp ?? 0,
      other: t?.other ?? 0,
      protocols,
    };
  }

  // ---- retention -----------------------------------------------------------------------------------------

  async applyRetention(policy: RetentionPolicy, at = nowUs()): Promise<RetentionResult> {
    return this.shrinking(async () => {
      const cutoff = (days: number | undefined): number | null =>
        days === undefined || !(days > 0) ? null : at - Math.round(days * DAY_US);
      const out: RetentionResult = { alerts: 0, traffic_stats: 0, user_activities: 0, pcap_analyses: 0 };
      const loop = async (sql: string, params: SqlParam[]): Promise<number> => {
        let total = 0;
        for (;;) {
          const n = await this.db.run(sql, params);
          total += n;
          if (n < CHUNK) return total;
        }
      };
      const a = cutoff(policy.alertsDays);
      // By insertion time and last activity: an uploaded capture's old packet times do not age its
      // alerts out at once, and a group still being hit stays.
      if (a !== null)
        out.alerts = await loop(
          `DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE created_at_us < ? AND last_seen_us < ? LIMIT ${CHUNK})`,
          [a, a],
        );
      const s = cutoff(policy.trafficStatsDays);
      if (s !== null) out.traffic_stats = await this.db.run('DELETE FROM traffic_stats WHERE minute_us < ?', [s]);
      const u = cutoff(policy.activitiesDays);
      if (u !== null)
        out.user_activities = await loop(
          `DELETE FROM user_activities WHERE id IN (SELECT id FROM user_activities WHERE ts_us < ? LIMIT ${CHUNK})`,
          [u],
        );
      const p = cutoff(policy.pcapAnalysesDays);
      if (p !== null)
        out.pcap_analyses = await this.db.run(
          "DELETE FROM pcap_analyses WHERE created_at_us < ? AND status IN ('completed', 'failed')",
          [p],
        );
      return out;
    });
  }

  // ---- PCAP analyses -------------------------------------------------------------------------------------

  private pcapOf(r: PcapRow): PcapAnalysis {
    return {
      id: r.id,
      filename: r.filename,
      size_bytes: r.size_bytes,
      status: r.status as PcapStatus,
      progress: r.progress,
      summary: this.json<Record<string, unknown>>(r.summary),
      error: r.error,
      created_by: r.created_by,
      created_at: isoUs(r.created_at_us),
      started_at: isoUsOrNull(r.started_at_us),
      finished_at: isoUsOrNull(r.finished_at_us),
    };
  }

  async createPcapAnalysis(input: PcapAnalysisInput): Promise<PcapAnalysis> {
    const id = input.id ?? crypto.randomUUID();
    const at = input.nowUs ?? nowUs();
    try {
      await this.db.run(
        "INSERT INTO pcap_analyses (id, filename, size_bytes, status, progress, created_by, created_at_us) VALUES (?, ?, ?, 'queued', 0, ?, ?)",
        [id, input.filename, input.sizeBytes ?? null, input.createdBy ?? null, at],
      );
    } catch (e) {
      throw this.conflict(e, `PCAP analysis ${id} exists`);
    }
    return (await this.getPcapAnalysis(id))!;
  }

  async updatePcapAnalysis(id: string, patch: PcapAnalysisPatch): Promise<PcapAnalysis | null> {
    const at = patch.nowUs ?? nowUs();
    const sets: string[] = [];
    const p: SqlParam[] = [];
    if (patch.status !== undefined) {
      sets.push('status = ?');
      p.push(patch.status);
      if (patch.status === 'running') {
        sets.push('started_at_us = COALESCE(started_at_us, ?)');
        p.push(at);
      }
      if (patch.status === 'completed' || patch.status === 'failed') {
        sets.push('finished_at_us = ?');
        p.push(at);
      }
      if (patch.status === 'completed' && patch.progress === undefined) sets.push('progress = 1');
    }
    if (patch.progress !== undefined) {
      sets.push('progress = ?');
      p.push(Math.min(1, Math.max(0, patch.progress)));
    }
    if (patch.summary !== undefined) {
      sets.push('summary = ?');
      p.push(SqlRepository.str(patch.summary));
    }
    if (patch.error !== undefined) {
      sets.push('error = ?');
      p.push(patch.error);
    }
    if (sets.length > 0) {
      const n = await this.db.run(`UPDATE pcap_analyses SET ${sets.join(', ')} WHERE id = ?`, [...p, id]);
      if (n === 0) return null;
    }
    return this.getPcapAnalysis(id);
  }

  async getPcapAnalysis(id: string): Promise<PcapAnalysis | null> {
    const r = await this.db.get<PcapRow>('SELECT * FROM pcap_analyses WHERE id = ?', [id]);
    return r === undefined ? null : this.pcapOf(r);
  }

  async listPcapAnalyses(q: PcapListQuery = {}): Promise<{ analyses: PcapAnalysis[]; total: number }> {
    const limit = clampInt(q.limit, DEFAULT_LIMIT, 1, MAX_LIMIT);
    const offset = clampInt(q.offset, 0, 0, Number.MAX_SAFE_INTEGER);
    const where = q.status === undefined ? '' : ' WHERE status = ?';
    const params: SqlParam[] = q.status === undefined ? [] : [q.status];
    const rows = await this.db.all<PcapRow>(
      `SELECT * FROM pcap_analyses${where} ORDER BY created_at_us DESC, id DESC LIMIT ? OFFSET ?`,
      [...params, limit, offset],
    );
    const c = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM pcap_analyses${where}`, params);
    return { analyses: rows.map((r) => this.pcapOf(r)), total: c?.n ?? 0 };
  }

  async lastPcapAnalysis(status?: PcapStatus): Promise<PcapAnalysis | null> {
    const page = await this.listPcapAnalyses({ limit: 1, ...(status !== undefined ? { status } : {}) });
    return page.analyses[0] ?? null;
  }

  async pcapAnalysisCounts(): Promise<Record<PcapStatus, number>> {
    const out = { queued: 0, running: 0, completed: 0, failed: 0 };
    const rows = await this.db.all<{ status: string; n: number }>(
      'SELECT status, COUNT(*) AS n FROM pcap_analyses GROUP BY status',
    );
    for (const r of rows)
      if ((PCAP_STATUSES as readonly string[]).includes(r.status)) out[r.status as PcapStatus] = r.n;
    return out;
  }

  async deletePcapAnalysis(id: string): Promise<boolean> {
    // its alerts' analysis_id changes with it
    return this.shrinking(async () => {
      return (await this.db.run('DELETE FROM pcap_analyses WHERE id = ?', [id])) > 0;
    });
  }

  // ---- users and tokens ------------------------------------------------------------------------------

  private conflict(e: unknown, message: string): unknown {
    return this.db.isUniqueViolation(e) ? new StoreError('VIGIL_STORE_CONFLICT', message, { cause: e }) : e;
  }

  private static userOf(r: UserRow): User {
    return {
      id: r.id,
      username: r.username,
      role: r.role as User['role'],
      disabled: truthy(r.disabled),
      created_at: isoUs(r.created_at_us),
      updated_at: isoUs(r.updated_at_us),
      last_login_at: isoUsOrNull(r.last_login_us),
    };
  }

  async createUser(input: UserInput): Promise<User> {
    const at = input.nowUs ?? nowUs();
    let r: { id: number } | undefined;
    try {
      r = await this.db.get<{ id: number }>(
        'INSERT INTO users (username, password_hash, role, disabled, created_at_us, updated_at_us) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
        [input.username, input.passwordHash, input.role, false, at, at],
      );
    } catch (e) {
      throw this.conflict(e, `user ${input.username} exists`);
    }
    return (await this.getUser(r!.id))!;
  }

  async getUser(id: number): Promise<User | null> {
    const r = await this.db.get<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
    return r === undefined ? null : SqlRepository.userOf(r);
  }

  async getUserByUsername(username: string): Promise<User | null> {
    const r = await this.db.get<UserRow>('SELECT * FROM users WHERE username = ?', [username]);
    return r === undefined ? null : SqlRepository.userOf(r);
  }

  async getUserCredentials(username: string): Promise<UserCredentials | null> {
    const r = await this.db.get<UserRow>('SELECT * FROM users WHERE username = ?', [username]);
    return r === undefined ? null : { ...SqlRepository.userOf(r), password_hash: r.password_hash };
  }

  async listUsers(): Promise<User[]> {
    return (await this.db.all<UserRow>('SELECT * FROM users ORDER BY username')).map(SqlRepository.userOf);
  }

  async countUsers(): Promise<number> {
    return (await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM users'))?.n ?? 0;
  }

  async updateUser(id: number, patch: UserPatch): Promise<User | null> {
    const sets: string[] = ['updated_at_us = ?'];
    const p: SqlParam[] = [patch.nowUs ?? nowUs()];
    if (patch.role !== undefined) {
      sets.push('role = ?');
      p.push(patch.role);
    }
    if (patch.passwordHash !== undefined) {
      sets.push('password_hash = ?');
      p.push(patch.passwordHash);
    }
    if (patch.disabled !== undefined) {
      sets.push('disabled = ?');
      p.push(patch.disabled);
    }
    if (patch.lastLoginUs !== undefined) {
      sets.push('last_login_us = ?');
      p.push(patch.lastLoginUs);
    }
    const n = await this.db.run(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`, [...p, id]);
    return n === 0 ? null : this.getUser(id);
  }

  async deleteUser(id: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM users WHERE id = ?', [id])) > 0;
  }

  private static tokenOf(r: TokenRow): ApiToken {
    return {
      id: r.id,
      user_id: r.user_id,
      kind: r.kind as ApiToken['kind'],
      name: r.name,
      prefix: r.prefix,
      created_at: isoUs(r.created_at_us),
      last_used_at: isoUsOrNull(r.last_used_us),
      expires_at: isoUsOrNull(r.expires_us),
      revoked: truthy(r.revoked),
    };
  }

  private static readonly TOKEN_COLS =
    'id, user_id, kind, name, prefix, created_at_us, last_used_us, expires_us, revoked';

  async createApiToken(input: ApiTokenInput): Promise<ApiToken> {
    const at = input.nowUs ?? nowUs();
    let r: TokenRow | undefined;
    try {
      r = await this.db.get<TokenRow>(
        'INSERT INTO api_tokens (user_id, kind, name, token_hash, prefix, created_at_us, expires_us, revoked) ' +
          `VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${SqlRepository.TOKEN_COLS}`,
        [input.userId, input.kind, input.name, input.tokenHash, input.prefix, at, input.expiresUs ?? null, false],
      );
    } catch (e) {
      throw this.conflict(e, 'token hash exists');
    }
    return SqlRepository.tokenOf(r!);
  }

  async findApiToken(tokenHash: string, at = nowUs()): Promise<{ token: ApiToken; user: User } | null> {
    const r = await this.db.get<
      TokenRow & {
        u_username: string;
        u_role: string;
        u_disabled: Bool;
        u_created: number;
        u_updated: number;
        u_login: number | null;
      }
    >(
      'SELECT t.id, t.user_id, t.kind, t.name, t.prefix, t.created_at_us, t.last_used_us, t.expires_us, t.revoked, ' +
        'u.username AS u_username, u.role AS u_role, u.disabled AS u_disabled, u.created_at_us AS u_created, ' +
        'u.updated_at_us AS u_updated, u.last_login_us AS u_login ' +
        'FROM api_tokens t JOIN users u ON u.id = t.user_id ' +
        'WHERE t.token_hash = ? AND t.revoked = ? AND (t.expires_us IS NULL OR t.expires_us > ?) AND u.disabled = ?',
      [tokenHash, false, at, false],
    );
    if (r === undefined) return null;
    return {
      token: SqlRepository.tokenOf(r),
      user: SqlRepository.userOf({
        id: r.user_id,
        username: r.u_username,
        password_hash: '',
        role: r.u_role,
        disabled: r.u_disabled,
        created_at_us: r.u_created,
        updated_at_us: r.u_updated,
        last_login_us: r.u_login,
      }),
    };
  }

  async listApiTokens(userId: number, kind?: ApiToken['kind']): Promise<ApiToken[]> {
    const rows = await this.db.all<TokenRow>(
      `SELECT ${SqlRepository.TOKEN_COLS} FROM api_tokens WHERE user_id = ?${kind === undefined ? '' : ' AND kind = ?'} ORDER BY id`,
      kind === undefined ? [userId] : [userId, kind],
    );
    return rows.map(SqlRepository.tokenOf);
  }

  async revokeApiToken(id: number): Promise<boolean> {
    return (await this.db.run('UPDATE api_tokens SET revoked = ? WHERE id = ? AND revoked = ?', [true, id, false])) > 0;
  }

  async touchApiToken(id: number, at = nowUs()): Promise<void> {
    await this.db.run('UPDATE api_tokens SET last_used_us = ? WHERE id = ?', [at, id]);
  }

  async deleteExpiredTokens(at = nowUs()): Promise<number> {
    // "Expired" as findApiToken reads it (valid while expires_us > now). No index: the table holds
    // the sessions of one TTL plus the keys, and the server sweeps it hourly (token-cleanup.ts).
    return this.db.run("DELETE FROM api_tokens WHERE kind = 'session' AND expires_us <= ?", [at]);
  }

  // ---- audit log -------------------------------------------------------------------------------------------

  private activityOf(r: ActivityRow): UserActivity {
    return {
      id: r.id,
      timestamp: isoUs(r.ts_us),
      username: r.username,
      action: r.action,
      resource: r.resource,
      resource_id: r.resource_id,
      details: this.json<Record<string, unknown>>(r.details),
      ip: r.ip,
    };
  }

  async appendActivity(a: UserActivityInput): Promise<UserActivity> {
    const r = await this.db.get<ActivityRow>(
      'INSERT INTO user_activities (ts_us, username, action, resource, resource_id, details, ip) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
      [
        a.tsUs ?? nowUs(),
        a.username ?? null,
        a.action,
        a.resource ?? null,
        a.resourceId ?? null,
        SqlRepository.str(a.details ?? null),
        a.ip ?? null,
      ],
    );
    return this.activityOf(r!);
  }

  async listActivities(q: ActivityListQuery = {}): Promise<{ activities: UserActivity[]; total: number }> {
    const limit = clampInt(q.limit, DEFAULT_LIMIT, 1, MAX_LIMIT);
    const offset = clampInt(q.offset, 0, 0, Number.MAX_SAFE_INTEGER);
    const c: string[] = [];
    const p: SqlParam[] = [];
    if (q.username !== undefined) {
      c.push('username = ?');
      p.push(q.username);
    }
    if (q.action !== undefined) {
      c.push('action = ?');
      p.push(q.action);
    }
    if (q.fromUs !== undefined) {
      c.push('ts_us >= ?');
      p.push(q.fromUs);
    }
    if (q.toUs !== undefined) {
      c.push('ts_us <= ?');
      p.push(q.toUs);
    }
    const where = c.length === 0 ? '' : ' WHERE ' + c.join(' AND ');
    const rows = await this.db.all<ActivityRow>(
      `SELECT * FROM user_activities${where} ORDER BY ts_us DESC, id DESC LIMIT ? OFFSET ?`,
      [...p, limit, offset],
    );
    const n = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM user_activities${where}`, p);
    return { activities: rows.map((r) => this.activityOf(r)), total: n?.n ?? 0 };
  }

  // ---- training samples ----------------------------------------------------------------------------------

  private sampleOf(r: SampleRow): TrainingSample {
    return {
      id: r.id,
      created_at: isoUs(r.created_at_us),
      features: decodeFeatures(r.features),
      label: r.label,
      source: r.source,
      feature_set: r.feature_set,
      labeled_at: isoUsOrNull(r.labeled_at_us),
      labeled_by: r.labeled_by,
      metadata: this.json<Record<string, unknown>>(r.metadata),
    };
  }

  async insertSamples(inputs: readonly TrainingSampleInput[]): Promise<number[]> {
    if (inputs.length === 0) return [];
    const at = nowUs();
    const rows: SqlParam[][] = inputs.map((s) => {
      const t = s.nowUs ?? at;
      const label = s.label ?? null;
      return [
        t,
        encodeFeatures(s.features),
        label,
        s.source,
        s.featureSet,
        label === null ? null : t,
        label === null ? null : (s.labeledBy ?? null),
        SqlRepository.str(s.metadata ?? null),
      ];
    });
    return this.db.tx((q) => this.db.insertMany(q, 'training_samples', SAMPLE_INSERT, rows, 'id'));
  }

  async getSample(id: number): Promise<TrainingSample | null> {
    const r = await this.db.get<SampleRow>('SELECT * FROM training_samples WHERE id = ?', [id]);
    return r === undefined ? null : this.sampleOf(r);
  }

  async listSamples(q: SampleListQuery = {}): Promise<{ samples: TrainingSample[]; total: number }> {
    const limit = clampInt(q.limit, DEFAULT_LIMIT, 1, MAX_LIMIT);
    const offset = clampInt(q.offset, 0, 0, Number.MAX_SAFE_INTEGER);
    const c: string[] = [];
    const p: SqlParam[] = [];
    if (q.label === null) c.push('label IS NULL');
    else if (q.label !== undefined) {
      c.push('label = ?');
      p.push(q.label);
    }
    if (q.labeled === true) c.push('label IS NOT NULL');
    if (q.labeled === false) c.push('label IS NULL');
    if (q.source !== undefined) {
      c.push('source = ?');
      p.push(q.source);
    }
    if (q.featureSet !== undefined) {
      c.push('feature_set = ?');
      p.push(q.featureSet);
    }
    const where = c.length === 0 ? '' : ' WHERE ' + c.join(' AND ');
    const page = q.afterId !== undefined ? `${where === '' ? ' WHERE' : `${where} AND`} id > ?` : where;
    const rows = await this.db.all<SampleRow>(
      `SELECT * FROM training_samples${page} ORDER BY id LIMIT ? OFFSET ?`,
      q.afterId !== undefined ? [...p, q.afterId, limit, offset] : [...p, limit, offset],
    );
    const n = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM training_samples${where}`, p);
    return { samples: rows.map((r) => this.sampleOf(r)), total: n?.n ?? 0 };
  }

  async labelSample(
    id: number,
    label: string | null,
    actor: string | null = null,
    at = nowUs(),
  ): Promise<TrainingSample | null> {
    const n = await this.db.run(
      'UPDATE training_samples SET label = ?, labeled_at_us = ?, labeled_by = ? WHERE id = ?',
      [label, label === null ? null : at, label === null ? null : actor, id],
    );
    return n === 0 ? null : this.getSample(id);
  }

  async deleteSample(id: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM training_samples WHERE id = ?', [id])) > 0;
  }

  async sampleCounts(featureSet?: string): Promise<LabelCount[]> {
    const rows = await this.db.all<{ label: string | null; n: number }>(
      `SELECT label, COUNT(*) AS n FROM training_samples${featureSet === undefined ? '' : ' WHERE feature_set = ?'} GROUP BY label`,
      featureSet === undefined ? [] : [featureSet],
    );
    return rows
      .map((r) => ({ label: r.label, count: r.n }))
      .sort(
        (a, b) =>
          b.count - a.count ||
          (a.label === null ? 1 : 0) - (b.label === null ? 1 : 0) ||
          String(a.label).localeCompare(String(b.label)),
      );
  }

  // ---- models ----------------------------------------------------------------------------------------------

  private modelOf(r: ModelRow): ModelRecord {
    return {
      id: r.id,
      kind: r.kind as ModelKind,
      name: r.name,
      version: r.version,
      algorithm: r.algorithm,
      created_at: isoUs(r.created_at_us),
      metrics: this.json<Record<string, unknown>>(r.metrics),
      params: this.json<Record<string, unknown>>(r.params),
      artifact_path: r.artifact_path,
      feature_set: r.feature_set,
      samples: r.samples,
      active: truthy(r.active),
    };
  }

  async createModel(m: ModelInput): Promise<ModelRecord> {
    const at = m.nowUs ?? nowUs();
    try {
      return await this.db.tx(async (q) => {
        let version = m.version;
        if (version === undefined) {
          const top = await q.get<{ v: number | null }>('SELECT MAX(version) AS v FROM models WHERE name = ?', [
            m.name,
          ]);
          version = (top?.v ?? 0) + 1;
        }
        const r = await q.get<ModelRow>(
          'INSERT INTO models (kind, name, version, algorithm, created_at_us, metrics, params, artifact_path, feature_set, samples, active) ' +
            'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *',
          [
            m.kind,
            m.name,
            version,
            m.algorithm,
            at,
            SqlRepository.str(m.metrics ?? null),
            SqlRepository.str(m.params ?? null),
            m.artifactPath ?? null,
            m.featureSet ?? null,
            m.samples ?? null,
            false,
          ],
        );
        return this.modelOf(r!);
      });
    } catch (e) {
      throw this.conflict(e, `model ${m.name} version ${String(m.version)} exists`);
    }
  }

  async getModel(id: number): Promise<ModelRecord | null> {
    const r = await this.db.get<ModelRow>('SELECT * FROM models WHERE id = ?', [id]);
    return r === undefined ? null : this.modelOf(r);
  }

  async listModels(q: { kind?: ModelKind; name?: string } = {}): Promise<ModelRecord[]> {
    const c: string[] = [];
    const p: SqlParam[] = [];
    if (q.kind !== undefined) {
      c.push('kind = ?');
      p.push(q.kind);
    }
    if (q.name !== undefined) {
      c.push('name = ?');
      p.push(q.name);
    }
    const rows = await this.db.all<ModelRow>(
      `SELECT * FROM models${c.length === 0 ? '' : ' WHERE ' + c.join(' AND ')} ORDER BY created_at_us DESC, id DESC`,
      p,
    );
    return rows.map((r) => this.modelOf(r));
  }

  async updateModelMetrics(id: number, metrics: Record<string, unknown>): Promise<ModelRecord | null> {
    const n = await this.db.run('UPDATE models SET metrics = ? WHERE id = ?', [JSON.stringify(metrics), id]);
    return n === 0 ? null : this.getModel(id);
  }

  async activateModel(id: number): Promise<ModelRecord | null> {
    return this.db.tx(async (q) => {
      const m = await q.get<{ kind: string }>('SELECT kind FROM models WHERE id = ?', [id]);
      if (m === undefined) return null;
      await q.run('UPDATE models SET active = ? WHERE kind = ? AND active = ? AND id <> ?', [false, m.kind, true, id]);
      await q.run('UPDATE models SET active = ? WHERE id = ?', [true, id]);
      const r = await q.get<ModelRow>('SELECT * FROM models WHERE id = ?', [id]);
      return this.modelOf(r!);
    });
  }

  async activeModel(kind: ModelKind): Promise<ModelRecord | null> {
    const r = await this.db.get<ModelRow>('SELECT * FROM models WHERE kind = ? AND active = ?', [kind, true]);
    return r === undefined ? null : this.modelOf(r);
  }

  async deleteModel(id: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM models WHERE id = ?', [id])) > 0;
  }

  // ---- settings -------------------------------------------------------------------------------------------

  private settingOf(r: SettingRow): Setting {
    return {
      key: r.key,
      // Both dialects: the JSON text of the value (PostgreSQL's jsonb parsed by the driver).
      value: this.backend === 'sqlite' ? JSON.parse(r.value as string) : r.value,
      updated_at: isoUs(r.updated_at_us),
      updated_by: r.updated_by,
    };
  }

  async getSetting(key: string): Promise<Setting | null> {
    const r = await this.db.get<SettingRow>('SELECT * FROM settings WHERE key = ?', [key]);
    return r === undefined ? null : this.settingOf(r);
  }

  async setSetting(key: string, value: unknown, actor: string | null = null, at = nowUs()): Promise<Setting> {
    const r = await this.db.get<SettingRow>(
      'INSERT INTO settings (key, value, updated_at_us, updated_by) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at_us = excluded.updated_at_us, updated_by = excluded.updated_by RETURNING *',
      [key, JSON.stringify(value ?? null), at, actor],
    );
    return this.settingOf(r!);
  }

  async listSettings(): Promise<Setting[]> {
    return (await this.db.all<SettingRow>('SELECT * FROM settings ORDER BY key')).map((r) => this.settingOf(r));
  }

  async deleteSetting(key: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM settings WHERE key = ?', [key])) > 0;
  }
}
