/**
 * SQLite schema migrations (see migrate.ts). Keep the same tables, columns and indexes as
 * postgres.ts (but one partial index, noted below): the repository's SQL is shared. Times are INTEGER microseconds since the epoch,
 * booleans 0/1, JSON as TEXT, feature vectors as BLOB (float64, little-endian).
 *
 * Alert indexes follow the list's filters, each ending with the time so that
 * `WHERE <filter> ORDER BY ts_us DESC LIMIT n` reads n index entries and stops (the rowid, the
 * tie-break, is part of every SQLite index). Severity is indexed (and filtered) by its rank, so
 * the same index serves "severity = x, newest first" and "sorted by severity".
 */
import type { Migration } from './migrate.js';

const V1 = `
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY,
  ts_us INTEGER NOT NULL,
  type TEXT NOT NULL,
  severity TEXT NOT NULL,
  severity_rank INTEGER NOT NULL,
  detector TEXT NOT NULL,
  gid INTEGER NOT NULL,
  signature_id INTEGER NOT NULL,
  rev INTEGER NOT NULL,
  message TEXT NOT NULL,
  category TEXT NOT NULL,
  source_ip TEXT NOT NULL,
  source_port INTEGER,
  destination_ip TEXT NOT NULL,
  destination_port INTEGER,
  protocol TEXT NOT NULL,
  app_proto TEXT,
  flow_id INTEGER,
  community_id TEXT,
  sensor TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open',
  resolved INTEGER NOT NULL DEFAULT 0,
  resolved_at_us INTEGER,
  resolved_by TEXT,
  acknowledged_at_us INTEGER,
  acknowledged_by TEXT,
  assignee TEXT,
  notes TEXT NOT NULL DEFAULT '[]',
  hit_count INTEGER NOT NULL DEFAULT 1,
  first_seen_us INTEGER NOT NULL,
  last_seen_us INTEGER NOT NULL,
  dedup_key TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  evidence TEXT,
  mitre TEXT NOT NULL DEFAULT '[]',
  analysis_id TEXT REFERENCES pcap_analyses(id) ON DELETE CASCADE,
  created_at_us INTEGER NOT NULL
);
CREATE INDEX alerts_ts ON alerts (ts_us);
CREATE INDEX alerts_type_ts ON alerts (type, ts_us);
CREATE INDEX alerts_rank_ts ON alerts (severity_rank, ts_us);
CREATE INDEX alerts_type_rank_ts ON alerts (type, severity_rank, ts_us);
CREATE INDEX alerts_resolved_ts ON alerts (resolved, ts_us);
CREATE INDEX alerts_resolved_type_ts ON alerts (resolved, type, ts_us);
CREATE INDEX alerts_resolved_rank_ts ON alerts (resolved, severity_rank, ts_us);
CREATE INDEX alerts_source_ts ON alerts (source_ip, ts_us);
CREATE INDEX alerts_destination_ts ON alerts (destination_ip, ts_us);
CREATE INDEX alerts_detector_ts ON alerts (detector, ts_us);
CREATE INDEX alerts_analysis_ts ON alerts (analysis_id, ts_us);
CREATE INDEX alerts_dedup ON alerts (dedup_key, last_seen_us);
-- (No partial index for the critical list as on PostgreSQL: SQLite's planner prefers
-- alerts_resolved_ts for it even with statistics, so it would only cost writes.)

-- The EVE record of each alert, apart so that scans of alerts (summary, history) stay compact.
CREATE TABLE alert_raw (
  alert_id INTEGER PRIMARY KEY REFERENCES alerts(id) ON DELETE CASCADE,
  raw TEXT NOT NULL
);

CREATE TABLE traffic_stats (
  minute_us INTEGER NOT NULL,
  sensor TEXT NOT NULL,
  packets INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  flows INTEGER NOT NULL DEFAULT 0,
  alerts INTEGER NOT NULL DEFAULT 0,
  dropped INTEGER NOT NULL DEFAULT 0,
  tcp INTEGER NOT NULL DEFAULT 0,
  udp INTEGER NOT NULL DEFAULT 0,
  icmp INTEGER NOT NULL DEFAULT 0,
  other INTEGER NOT NULL DEFAULT 0,
  protocols TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (minute_us, sensor)
);

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at_us INTEGER NOT NULL,
  updated_at_us INTEGER NOT NULL,
  last_login_us INTEGER
);

CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('api_key', 'session')),
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  created_at_us INTEGER NOT NULL,
  last_used_us INTEGER,
  expires_us INTEGER,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, kind);

CREATE TABLE user_activities (
  id INTEGER PRIMARY KEY,
  ts_us INTEGER NOT NULL,
  username TEXT,
  action TEXT NOT NULL,
  resource TEXT,
  resource_id TEXT,
  details TEXT,
  ip TEXT
);
CREATE INDEX user_activities_ts ON user_activities (ts_us);
CREATE INDEX user_activities_user_ts ON user_activities (username, ts_us);

CREATE TABLE pcap_analyses (
  id TEXT PRIMARY KEY,
  filename TEXT NOT NULL,
  size_bytes INTEGER,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  progress REAL NOT NULL DEFAULT 0,
  summary TEXT,
  error TEXT,
  created_by TEXT,
  created_at_us INTEGER NOT NULL,
  started_at_us INTEGER,
  finished_at_us INTEGER
);
CREATE INDEX pcap_analyses_created ON pcap_analyses (created_at_us);
CREATE INDEX pcap_analyses_status_created ON pcap_analyses (status, created_at_us);

CREATE TABLE training_samples (
  id INTEGER PRIMARY KEY,
  created_at_us INTEGER NOT NULL,
  features BLOB NOT NULL,
  label TEXT,
  source TEXT NOT NULL,
  feature_set TEXT NOT NULL,
  labeled_at_us INTEGER,
  labeled_by TEXT,
  metadata TEXT
);
CREATE INDEX training_samples_label ON training_samples (label, id);
CREATE INDEX training_samples_set_label ON training_samples (feature_set, label);

CREATE TABLE models (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('anomaly', 'classifier')),
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  algorithm TEXT NOT NULL,
  created_at_us INTEGER NOT NULL,
  metrics TEXT,
  params TEXT,
  artifact_path TEXT,
  feature_set TEXT,
  samples INTEGER,
  active INTEGER NOT NULL DEFAULT 0,
  UNIQUE (name, version)
);
CREATE UNIQUE INDEX models_one_active ON models (kind) WHERE active = TRUE;

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at_us INTEGER NOT NULL,
  updated_by TEXT
);
`;

export const SQLITE_MIGRATIONS: readonly Migration[] = [{ version: 1, name: 'initial schema', sql: V1 }];
