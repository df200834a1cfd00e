/**
 * Records and queries of the repository (src/store/repository.ts).
 *
 * Conventions: records read back from the store use snake_case field names, the JSON the REST API
 * returns (so routes can pass them through); inputs and options are camelCase TypeScript objects.
 * Times are stored as integer microseconds since the Unix epoch (the precision of packet and EVE
 * timestamps; the same column type on SQLite and PostgreSQL), taken as `...Us` numbers and
 * returned as ISO 8601 strings with microseconds (`2026-11-26T10:30:18.312528Z`).
 */

export type AlertSeverity = 'low' | 'medium' | 'high' | 'critical';
export const ALERT_SEVERITIES: readonly AlertSeverity[] = ['low', 'medium', 'high', 'critical'];
/** Sort rank of a severity (stored beside the text so ORDER BY severity follows an index). */
export const SEVERITY_RANK: Readonly<Record<AlertSeverity, number>> = { low: 1, medium: 2, high: 3, critical: 4 };

export type AlertStatus = 'open' | 'acknowledged' | 'resolved';
export const ALERT_STATUSES: readonly AlertStatus[] = ['open', 'acknowledged', 'resolved'];

// ---- alerts --------------------------------------------------------------------------------------

/** One alert to store (see alert-input.ts for the mapping from the pipeline's AlertRecord). */
export interface StoredAlertInput {
  /** Capture time of the alert's packet. */
  tsUs: number;
  type: string;
  severity: AlertSeverity;
  detector: string;
  gid: number;
  signatureId: number;
  rev: number;
  message: string;
  category: string;
  sourceIp: string;
  sourcePort: number | null;
  destinationIp: string;
  destinationPort: number | null;
  /** EVE `proto` name: TCP, UDP, ICMP, ... */
  protocol: string;
  appProto: string | null;
  flowId: number | null;
  communityId: string | null;
  /** Sensor name (EVE `host`). */
  sensor: string;
  /** EVE alert.metadata: key -> values. */
  metadata: Record<string, string[]>;
  /** What the detector observed (pcre captures, flow counters, ...), when any. */
  evidence: Record<string, unknown> | null;
  mitre: string[];
  /** The alert's EVE record as written to eve.json. */
  raw: Record<string, unknown> | null;
  /** The PCAP analysis that raised it (null for live capture). */
  analysisId?: string | null;
}

export interface AlertNote {
  at: string;
  by: string | null;
  text: string;
}

export interface StoredAlert {
  id: number;
  timestamp: string;
  type: string;
  severity: AlertSeverity;
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
  status: AlertStatus;
  resolved: boolean;
  resolved_at: string | null;
  resolved_by: string | null;
  acknowledged: boolean;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  assignee: string | null;
  notes: AlertNote[];
  /** Occurrences folded into this row by deduplication (1 = a single alert). */
  count: number;
  first_seen: string;
  last_seen: string;
  metadata: Record<string, string[]>;
  evidence: Record<string, unknown> | null;
  mitre: string[];
  analysis_id: string | null;
  /** The EVE record (getAlert only; lists leave it out to stay small). */
  raw?: Record<string, unknown> | null;
}

/** Filters of the alert list and the bulk operations. Unset fields do not filter. */
export interface AlertFilter {
  type?: string | readonly string[];
  severity?: AlertSeverity | readonly AlertSeverity[];
  status?: AlertStatus | readonly AlertStatus[];
  resolved?: boolean;
  detector?: string | readonly string[];
  sourceIp?: string;
  destinationIp?: string;
  /** Either side. */
  ip?: string;
  sensor?: string;
  /** Alerts of one PCAP analysis; null: live alerts only. */
  analysisId?: string | null;
  /** Inclusive range on the alert time. */
  fromUs?: number;
  toUs?: number;
}

/** Sort columns the list accepts (each backed by an index). */
export const ALERT_SORT_FIELDS = ['timestamp', 'severity', 'type'] as const;
export type AlertSortField = (typeof ALERT_SORT_FIELDS)[number];

export interface AlertListQuery extends AlertFilter {
  /** 1..MAX_LIMIT, default DEFAULT_LIMIT. */
  limit?: number;
  offset?: number;
  sort?: AlertSortField;
  order?: 'asc' | 'desc';
}

export interface AlertPage {
  alerts: StoredAlert[];
  /** Exact up to COUNT_CAP matching rows; above it an estimate of at least COUNT_CAP + 1. */
  total: number;
  total_exact: boolean;
  limit: number;
  offset: number;
}

/** AlertPage with the alerts as JSON text: the array of StoredAlert (without `raw`) serialised. */
export interface AlertPageJson extends Omit<AlertPage, 'alerts'> {
  alerts: string;
}

export interface AlertInsertResult {
  id: number;
  /** False when the alert was folded into an existing row (count and last_seen updated). */
  isNew: boolean;
  count: number;
}

export interface AlertPatch {
  status?: AlertStatus;
  /** null unassigns. */
  assignee?: string | null;
  /** Appended to the notes. */
  note?: string;
  /** Who made the change (resolved_by, acknowledged_by, the note's author). */
  actor?: string | null;
  nowUs?: number;
}

export type AlertSelector = { ids: readonly number[] } | { filter: AlertFilter };

export interface AlertSummary {
  /** Stored rows. */
  total: number;
  unresolved: number;
  /** Alerts including those folded by deduplication. */
  occurrences: number;
  by_type: Record<string, number>;
  by_severity: Record<AlertSeverity, number>;
  by_status: Record<AlertStatus, number>;
  by_detector: Record<string, number>;
}

export interface HistoryBucket {
  /** Start of the hour or day (UTC). */
  bucket: string;
  count: number;
  occurrences: number;
  low: number;
  medium: number;
  high: number;
  critical: number;
}

export interface AlertHistoryQuery {
  bucket: 'hour' | 'day';
  fromUs: number;
  toUs: number;
  filter?: AlertFilter;
}

// ---- traffic statistics -----------------------------------------------------------------------

/** Counters to add to a minute's row (rows are created on first use). */
export interface TrafficStatInput {
  /** Any time inside the minute. */
  tsUs: number;
  sensor?: string;
  packets?: number;
  bytes?: number;
  flows?: number;
  alerts?: number;
  /** Packets the capture dropped (kernel and interface). */
  dropped?: number;
  tcp?: number;
  udp?: number;
  icmp?: number;
  other?: number;
  /** Application protocols (http, dns, tls, ...): flows or transactions per protocol. */
  protocols?: Record<string, number>;
}

export interface TrafficStatPoint {
  minute: string;
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
  protocols: Record<string, number>;
}

export interface TrafficStatsQuery {
  fromUs?: number;
  toUs?: number;
  sensor?: string;
  /** The latest N minutes of the range (default 1440, at most 44640 = 31 days). */
  limit?: number;
}

export interface TrafficTotals extends Omit<TrafficStatPoint, 'minute' | 'sensor'> {
  minutes: number;
}

// ---- retention ------------------------------------------------------------------------------------

/** Days to keep; 0 or unset keeps forever. */
export interface RetentionPolicy {
  alertsDays?: number;
  trafficStatsDays?: number;
  activitiesDays?: number;
  pcapAnalysesDays?: number;
}

export interface RetentionResult {
  alerts: number;
  traffic_stats: number;
  user_activities: number;
  pcap_analyses: number;
}

// ---- PCAP analyses ------------------------------------------------------------------------------

export type PcapStatus = 'queued' | 'running' | 'completed' | 'failed';
export const PCAP_STATUSES: readonly PcapStatus[] = ['queued', 'running', 'completed', 'failed'];

export interface PcapAnalysis {
  id: string;
  filename: string;
  size_bytes: number | null;
  status: PcapStatus;
  /** 0..1 */
  progress: number;
  summary: Record<string, unknown> | null;
  error: string | null;
  created_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface PcapAnalysisInput {
  /** Default: a random UUID. */
  id?: string;
  filename: string;
  sizeBytes?: number | null;
  createdBy?: string | null;
  nowUs?: number;
}

export interface PcapAnalysisPatch {
  status?: PcapStatus;
  progress?: number;
  summary?: Record<string, unknown> | null;
  error?: string | null;
  /** Time of the change (started_at when it starts running, finished_at when it ends). */
  nowUs?: number;
}

export interface PcapListQuery {
  status?: PcapStatus;
  limit?: number;
  offset?: number;
}

// ---- users, API keys, sessions ------------------------------------------------------------------

export type UserRole = 'admin' | 'analyst' | 'viewer';
export const USER_ROLES: readonly UserRole[] = ['admin', 'analyst', 'viewer'];

export interface User {
  id: number;
  username: string;
  role: UserRole;
  disabled: boolean;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

/** A user with the password hash, for the login check only (never returned by the API). */
export interface UserCredentials extends User {
  password_hash: string;
}

export interface UserInput {
  username: string;
  passwordHash: string;
  role: UserRole;
  nowUs?: number;
}

export interface UserPatch {
  role?: UserRole;
  passwordHash?: string;
  disabled?: boolean;
  lastLoginUs?: number;
  nowUs?: number;
}

/** `api_key`: a bearer key for automation; `session`: a login token (cookie or bearer). */
export type TokenKind = 'api_key' | 'session';

export interface ApiToken {
  id: number;
  user_id: number;
  kind: TokenKind;
  name: string;
  /** First characters of the key, to recognise it in a list. */
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked: boolean;
}

export interface ApiTokenInput {
  userId: number;
  kind: TokenKind;
  name: string;
  /** Hash of the secret (the secret itself is never stored). */
  tokenHash: string;
  prefix: string;
  expiresUs?: number | null;
  nowUs?: number;
}

// ---- audit log --------------------------------------------------------------------------------------

export interface UserActivity {
  id: number;
  timestamp: string;
  username: string | null;
  action: string;
  resource: string | null;
  resource_id: string | null;
  details: Record<string, unknown> | null;
  ip: string | null;
}

export interface UserActivityInput {
  username?: string | null;
  action: string;
  resource?: string | null;
  resourceId?: string | null;
  details?: Record<string, unknown> | null;
  ip?: string | null;
  tsUs?: number;
}

export interface ActivityListQuery {
  username?: string;
  action?: string;
  fromUs?: number;
  toUs?: number;
  limit?: number;
  offset?: number;
}

// ---- training samples and models -------------------------------------------------------------------

export interface TrainingSample {
  id: number;
  created_at: string;
  /** Feature values in the order of the feature set (NaN and infinities kept). */
  features: number[];
  /** null: unlabeled. */
  label: string | null;
  /** Where it came from: import, live, pcap, manual, ... */
  source: string;
  /** Identifier of the feature list the vector follows (src/flow/features.ts). */
  feature_set: string;
  labeled_at: string | null;
  labeled_by: string | null;
  metadata: Record<string, unknown> | null;
}

export interface TrainingSampleInput {
  features: ArrayLike<number>;
  label?: string | null;
  source: string;
  featureSet: string;
  metadata?: Record<string, unknown> | null;
  labeledBy?: string | null;
  nowUs?: number;
}

export interface SampleListQuery {
  /** A label; null: unlabeled samples only. */
  label?: string | null;
  labeled?: boolean;
  source?: string;
  featureSet?: string;
  /** Keyset paging for training: samples with a larger id, in id order. */
  afterId?: number;
  limit?: number;
  offset?: number;
}

export interface LabelCount {
  label: string | null;
  count: number;
}

export type ModelKind = 'anomaly' | 'classifier';

export interface ModelRecord {
  id: number;
  kind: ModelKind;
  name: string;
  version: number;
  algorithm: string;
  created_at: string;
  metrics: Record<string, unknown> | null;
  params: Record<string, unknown> | null;
  artifact_path: string | null;
  feature_set: string | null;
  samples: number | null;
  active: boolean;
}

export interface ModelInput {
  kind: ModelKind;
  name: string;
  /** Default: one more than the name's highest version. */
  version?: number;
  algorithm: string;
  metrics?: Record<string, unknown> | null;
  params?: Record<string, unknown> | null;
  artifactPath?: string | null;
  featureSet?: string | null;
  samples?: number | null;
  nowUs?: number;
}

// ---- settings -----------------------------------------------------------------------------------------

export interface Setting {
  key: string;
  value: unknown;
  updated_at: string;
  updated_by: string | null;
}

export interface StoreHealth {
  ok: boolean;
  backend: 'sqlite' | 'postgres';
  schema_version: number;
  latency_ms: number;
  error?: string;
}
