/**
 * The storage interface the server uses (DESIGN.md "Storage"). Two implementations share one SQL
 * core (sql-repository.ts) over a small driver adapter: SQLite (sqlite/, the embedded default) and
 * PostgreSQL (postgres/). Open one with `openRepository` (open.ts).
 *
 * Every method is async (PostgreSQL is); on SQLite the work itself is synchronous and short.
 * Values are trusted: the API validates its inputs first (STYLE.md, "validate at the edges"); the
 * repository only guards what could corrupt data or run unbounded (limits are clamped, sort
 * columns are a whitelist, everything goes through bound parameters).
 */
import type {
  ActivityListQuery,
  AlertFilter,
  AlertHistoryQuery,
  AlertInsertResult,
  AlertListQuery,
  AlertPage,
  AlertPageJson,
  AlertPatch,
  AlertSelector,
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

/** Alert list page size when none is given, and the largest accepted (API contract). */
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/**
 * Counts are exact up to this many matching rows; above it the list reports an estimate with
 * total_exact=false, so a filter matching millions of rows does not cost a full count per page.
 */
export const COUNT_CAP = 10_000;
/** Seconds within which an alert folds into its group's row (the original's ALERT_DEDUP_WINDOW default). */
export const DEFAULT_DEDUP_WINDOW_S = 300;

export interface Repository {
  readonly backend: 'sqlite' | 'postgres';
  /** Schema version after migrations (the highest applied). */
  readonly schemaVersion: number;
  /** Flush and close; pending calls finish first. */
  close(): Promise<void>;
  health(): Promise<StoreHealth>;

  // ---- alerts
  /**
   * Store a batch in one transaction, deduplicating as src/alerts/dedup.ts does: an alert with the
   * same type, gid:sid, source and destination (and PCAP analysis) as an unresolved row whose
   * last_seen is at most the dedup window before it increments that row's count and last_seen.
   * Results are in input order.
   */
  insertAlerts(inputs: readonly StoredAlertInput[]): Promise<AlertInsertResult[]>;
  listAlerts(q?: AlertListQuery): Promise<AlertPage>;
  /** The same page with the alerts serialised by the database (the API's list route sends it as is). */
  listAlertsJson(q?: AlertListQuery): Promise<AlertPageJson>;
  getAlert(id: number): Promise<StoredAlert | null>;
  /** Resolve / reopen / acknowledge (status), assign, annotate. null when the id is unknown. */
  updateAlert(id: number, patch: AlertPatch): Promise<StoredAlert | null>;
  deleteAlert(id: number): Promise<boolean>;
  /** Delete by ids or by filter (an empty filter deletes every alert: the API must guard it). */
  deleteAlerts(sel: AlertSelector): Promise<number>;
  /** Resolve by ids or by filter; returns the rows changed (already resolved ones are left alone). */
  resolveAlerts(sel: AlertSelector, actor?: string | null, nowUs?: number): Promise<number>;
  alertSummary(filter?: AlertFilter): Promise<AlertSummary>;
  /** Unresolved critical and high alerts, newest first. */
  criticalAlerts(opts?: { limit?: number; sinceUs?: number }): Promise<StoredAlert[]>;
  /** Rows and occurrences per hour or day (UTC) over [fromUs, toUs]; empty buckets included. */
  alertHistory(q: AlertHistoryQuery): Promise<HistoryBucket[]>;

  // ---- traffic statistics (per-minute time series)
  /** Add counters to their minute's row (created when missing). */
  addTrafficStats(points: readonly TrafficStatInput[]): Promise<void>;
  trafficStats(q?: TrafficStatsQuery): Promise<TrafficStatPoint[]>;
  trafficTotals(q?: Omit<TrafficStatsQuery, 'limit'>): Promise<TrafficTotals>;

  /** Delete what is older than the policy's days; in chunks, so writers are not blocked long. */
  applyRetention(policy: RetentionPolicy, nowUs?: number): Promise<RetentionResult>;

  // ---- PCAP analyses
  createPcapAnalysis(input: PcapAnalysisInput): Promise<PcapAnalysis>;
  updatePcapAnalysis(id: string, patch: PcapAnalysisPatch): Promise<PcapAnalysis | null>;
  getPcapAnalysis(id: string): Promise<PcapAnalysis | null>;
  listPcapAnalyses(q?: PcapListQuery): Promise<{ analyses: PcapAnalysis[]; total: number }>;
  /** The most recent analysis (of a status, when given). */
  lastPcapAnalysis(status?: PcapStatus): Promise<PcapAnalysis | null>;
  pcapAnalysisCounts(): Promise<Record<PcapStatus, number>>;
  /** Deletes the analysis and its alerts. */
  deletePcapAnalysis(id: string): Promise<boolean>;

  // ---- users and tokens
  /** Throws VIGIL_STORE_CONFLICT when the username exists. */
  createUser(input: UserInput): Promise<User>;
  getUser(id: number): Promise<User | null>;
  getUserByUsername(username: string): Promise<User | null>;
  /** The user with its password hash, for the login check. */
  getUserCredentials(username: string): Promise<UserCredentials | null>;
  listUsers(): Promise<User[]>;
  countUsers(): Promise<number>;
  updateUser(id: number, patch: UserPatch): Promise<User | null>;
  /** Deletes the user's tokens too. */
  deleteUser(id: number): Promise<boolean>;
  /** Throws VIGIL_STORE_CONFLICT when the hash exists. */
  createApiToken(input: ApiTokenInput): Promise<ApiToken>;
  /** A token by its hash, when not revoked, not expired at nowUs and its user is not disabled. */
  findApiToken(tokenHash: string, nowUs?: number): Promise<{ token: ApiToken; user: User } | null>;
  listApiTokens(userId: number, kind?: ApiToken['kind']): Promise<ApiToken[]>;
  revokeApiToken(id: number): Promise<boolean>;
  touchApiToken(id: number, nowUs?: number): Promise<void>;
  /**
   * Delete the login sessions expired at nowUs (revoked ones too, once expired: every session has
   * an expiry); returns how many. API keys stay, expired or not, until an admin deletes them.
   */
  deleteExpiredTokens(nowUs?: number): Promise<number>;

  // ---- audit log
  appendActivity(input: UserActivityInput): Promise<UserActivity>;
  listActivities(q?: ActivityListQuery): Promise<{ activities: UserActivity[]; total: number }>;

  // ---- training samples
  insertSamples(inputs: readonly TrainingSampleInput[]): Promise<number[]>;
  getSample(id: number): Promise<TrainingSample | null>;
  listSamples(q?: SampleListQuery): Promise<{ samples: TrainingSample[]; total: number }>;
  /** Set (or clear, with null) a sample's label. */
  labelSample(id: number, label: string | null, actor?: string | null, nowUs?: number): Promise<TrainingSample | null>;
  deleteSample(id: number): Promise<boolean>;
  /** Samples per label (null = unlabeled), largest first. */
  sampleCounts(featureSet?: string): Promise<LabelCount[]>;

  // ---- models
  /** Throws VIGIL_STORE_CONFLICT when name + version exists. */
  createModel(input: ModelInput): Promise<ModelRecord>;
  getModel(id: number): Promise<ModelRecord | null>;
  listModels(q?: { kind?: ModelKind; name?: string }): Promise<ModelRecord[]>;
  updateModelMetrics(id: number, metrics: Record<string, unknown>): Promise<ModelRecord | null>;
  /** Make the model the active one of its kind (the previous one is deactivated). */
  activateModel(id: number): Promise<ModelRecord | null>;
  activeModel(kind: ModelKind): Promise<ModelRecord | null>;
  deleteModel(id: number): Promise<boolean>;

  // ---- settings (JSON values)
  getSetting(key: string): Promise<Setting | null>;
  setSetting(key: string, value: unknown, actor?: string | null, nowUs?: number): Promise<Setting>;
  listSettings(): Promise<Setting[]>;
  deleteSetting(key: string): Promise<boolean>;
}
