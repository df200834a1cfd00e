/**
 * Server configuration (`vigil serve`, `vigil config`): defaults, then a config file (YAML or
 * JSON; `--server-config FILE` or VIGIL_CONFIG_FILE), then environment variables, then command-line
 * flags. Environment names follow the original system where they mean the same thing (LOG_LEVEL,
 * CAPTURE_INTERFACE, PCAP_MAX_PACKETS, PCAP_ANALYSIS_TIMEOUT, FLASK_PORT as a last-resort port).
 * Validation stops start-up with a one-line reason (ConfigError); secrets are never echoed.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { DEFAULT_DEDUP_WINDOW_S } from '../store/repository.js';
import type { StoreConfig } from '../store/open.js';
import { DEFAULT_DATA_DIR, SQLITE_FILE, parseDatabaseUrl } from '../store/open.js';
import type { RateLimitRule } from './rate-limit.js';
import { parseLimits } from './rate-limit.js';

export class ConfigError extends Error {
  readonly code = 'VIGIL_SERVER_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** VIGIL_DATABASE_URL; null: SQLite at dataDir/vigil.db. Secret (may hold a password). */
  databaseUrl: string | null;
  /** Seconds within which a repeated alert folds into its row (ALERT_DEDUP_WINDOW). */
  alertDedupWindowS: number;
  /** Password of the `admin` user created on first start; null: a random one, printed once. Secret. */
  adminPassword: string | null;
  /** Browser origins allowed by CORS (exact matches). */
  corsOrigins: string[];
  /** Lifetime of a login session (cookie and bearer token), seconds. */
  sessionTtlS: number;
  /** Set the session cookie's Secure flag (behind TLS). */
  cookieSecure: boolean;
  /** Take the client address from X-Forwarded-For (only behind a trusted reverse proxy). */
  trustProxy: boolean;
  logLevel: LogLevel;
  rateLimit: {
    enabled: boolean;
    /** Limits every route gets unless it has its own (Flask-Limiter's default_limits). */
    defaults: RateLimitRule[];
    /** Only in-process memory for now (one server process). */
    storage: 'memory';
    /** Per-route overrides, `METHOD /path` (as routes are declared) -> limits. */
    routes: Record<string, RateLimitRule[]>;
  };
  /** Read by the live capture (not part of this build yet); reported by /api/health. */
  capture: { enabled: boolean; interface: string };
  /** For PCAP uploads and their jobs (src/jobs/pcap-analysis.ts): 0 = no packet limit / no timeout. */
  pcap: { maxPackets: number; timeoutS: number; maxUploadBytes: number };
}

/** Keys of ServerConfig whose values are secrets (redacted by {@link redactConfig}). */
const SECRET_KEYS = ['databaseUrl', 'adminPassword'] as const;

export const DEFAULT_PORT = 3002;
/** The original's CORS origins (its Next.js dashboard on port 3000). */
export const DEFAULT_CORS_ORIGINS = ['http://localhost:3000', 'http://127.0.0.1:3000'];
/** The original's Flask-Limiter default_limits. */
export const DEFAULT_RATE_LIMITS = '200 per hour; 50 per minute';

export function defaultConfig(): ServerConfig {
  return {
    host: '0.0.0.0',
    port: DEFAULT_PORT,
    dataDir: DEFAULT_DATA_DIR,
    databaseUrl: null,
    alertDedupWindowS: DEFAULT_DEDUP_WINDOW_S,
    adminPassword: null,
    corsOrigins: [...DEFAULT_CORS_ORIGINS],
    sessionTtlS: 12 * 3600,
    cookieSecure: false,
    trustProxy: false,
    logLevel: 'info',
    rateLimit: { enabled: true, defaults: parseLimits(DEFAULT_RATE_LIMITS), storage: 'memory', routes: {} },
    capture: { enabled: false, interface: 'any' },
    // As src/jobs/pcap-analysis.ts: 0 packets = no limit (DESIGN.md; the original capped at 2000).
    pcap: { maxPackets: 0, timeoutS: 300, maxUploadBytes: 200 * 1024 * 1024 },
  };
}

export interface LoadOptions {
  env?: Record<string, string | undefined>;
  /** Config file path (else VIGIL_CONFIG_FILE). */
  file?: string | null;
  /** Command-line values, applied last. */
  overrides?: { port?: number; host?: string; dataDir?: string };
}

type Env = Record<string, string | undefined>;

/** The effective configuration. Throws ConfigError with a one-line reason. */
export function loadServerConfig(opts: LoadOptions = {}): ServerConfig {
  const env = opts.env ?? process.env;
  const cfg = defaultConfig();
  const file = opts.file ?? nonEmpty(env['VIGIL_CONFIG_FILE']);
  if (file !== null) applyFile(cfg, file);
  applyEnv(cfg, env);
  const o = opts.overrides ?? {};
  if (o.port !== undefined) cfg.port = port(String(o.port), '--port');
  if (o.host !== undefined) cfg.host = o.host;
  if (o.dataDir !== undefined) cfg.dataDir = o.dataDir;
  if (cfg.dataDir === '') throw new ConfigError('the data directory must not be empty');
  if (cfg.databaseUrl !== null) parseOrConfigError(cfg.databaseUrl);
  return cfg;
}

function parseOrConfigError(url: string): ReturnType<typeof parseDatabaseUrl> {
  try {
    return parseDatabaseUrl(url);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

/** The store backend of a configuration. */
export function storeConfigOf(cfg: ServerConfig): StoreConfig {
  if (cfg.databaseUrl !== null) return { ...parseOrConfigError(cfg.databaseUrl), dedupWindowS: cfg.alertDedupWindowS };
  return { backend: 'sqlite', file: path.join(cfg.dataDir, SQLITE_FILE), dedupWindowS: cfg.alertDedupWindowS };
}

/** A copy with secrets replaced (set ones by "[redacted]", the URL's password only). */
export function redactConfig(cfg: ServerConfig): Record<string, unknown> {
  const out: Record<string, unknown> = JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>;
  for (const k of SECRET_KEYS) if (out[k] !== null && out[k] !== undefined) out[k] = '[redacted]';
  if (cfg.databaseUrl !== null) out['databaseUrl'] = redactUrl(cfg.databaseUrl);
  const rl = out['rateLimit'] as { defaults: RateLimitRule[]; routes: Record<string, RateLimitRule[]> };
  // Limits print in the notation they are configured in.
  (out['rateLimit'] as Record<string, unknown>)['defaults'] = formatLimits(rl.defaults);
  const routes: Record<string, string> = {};
  for (const [k, v] of Object.entries(rl.routes)) routes[k] = formatLimits(v);
  (out['rateLimit'] as Record<string, unknown>)['routes'] = routes;
  return out;
}

/** postgres://user:secret@host/db -> postgres://user:[redacted]@host/db (anything unparsable: fully). */
export function redactUrl(url: string): string {
  if (/^sqlite:/i.test(url)) return url;
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = 'redacted';
    return u.toString().replace(':redacted@', ':[redacted]@');
  } catch {
    return '[redacted]';
  }
}

export function formatLimits(rules: readonly RateLimitRule[]): string {
  return rules.map((r) => `${r.max} per ${r.windowS} second${r.windowS === 1 ? '' : 's'}`).join('; ');
}

// ---- environment ------------------------------------------------------------------------------------------

function nonEmpty(v: string | undefined): string | null {
  return v === undefined || v.trim() === '' ? null : v.trim();
}

function applyEnv(cfg: ServerConfig, env: Env): void {
  // FLASK_PORT is the original's name; VIGIL_PORT wins, then PORT (the usual PaaS variable).
  for (const name of ['FLASK_PORT', 'PORT', 'VIGIL_PORT']) {
    const v = nonEmpty(env[name]);
    if (v !== null) cfg.port = port(v, name);
  }
  const str = (name: string, set: (v: string) => void): void => {
    const v = nonEmpty(env[name]);
    if (v !== null) set(v);
  };
  str('VIGIL_HOST', (v) => (cfg.host = v));
  str('VIGIL_DATA_DIR', (v) => (cfg.dataDir = v));
  str('VIGIL_DATABASE_URL', (v) => (cfg.databaseUrl = v));
  str('ALERT_DEDUP_WINDOW', (v) => (cfg.alertDedupWindowS = num(v, 'ALERT_DEDUP_WINDOW', 0, 86_400 * 365)));
  // The password is taken as is (spaces included); only an empty value means unset.
  const pw = env['VIGIL_ADMIN_PASSWORD'];
  if (pw !== undefined && pw !== '') cfg.adminPassword = adminPassword(pw, 'VIGIL_ADMIN_PASSWORD');
  str('VIGIL_CORS_ORIGINS', (v) => (cfg.corsOrigins = origins(v.split(','), 'VIGIL_CORS_ORIGINS')));
  str('VIGIL_SESSION_TTL', (v) => (cfg.sessionTtlS = int(v, 'VIGIL_SESSION_TTL', 60, 366 * 86_400)));
  str('VIGIL_COOKIE_SECURE', (v) => (cfg.cookieSecure = bool(v, 'VIGIL_COOKIE_SECURE')));
  str('VIGIL_TRUST_PROXY', (v) => (cfg.trustProxy = bool(v, 'VIGIL_TRUST_PROXY')));
  str('LOG_LEVEL', (v) => (cfg.logLevel = logLevel(v, 'LOG_LEVEL')));
  str('RATE_LIMIT_ENABLED', (v) => (cfg.rateLimit.enabled = bool(v, 'RATE_LIMIT_ENABLED')));
  str('RATE_LIMIT_DEFAULT', (v) => (cfg.rateLimit.defaults = limits(v, 'RATE_LIMIT_DEFAULT')));
  str('RATE_LIMIT_STORAGE', (v) => (cfg.rateLimit.storage = storage(v, 'RATE_LIMIT_STORAGE')));
  str('CAPTURE_ENABLED', (v) => (cfg.capture.enabled = bool(v, 'CAPTURE_ENABLED')));
  str('CAPTURE_INTERFACE', (v) => (cfg.capture.interface = v));
  str('PCAP_MAX_PACKETS', (v) => (cfg.pcap.maxPackets = int(v, 'PCAP_MAX_PACKETS', 0, Number.MAX_SAFE_INTEGER)));
  str('PCAP_ANALYSIS_TIMEOUT', (v) => (cfg.pcap.timeoutS = int(v, 'PCAP_ANALYSIS_TIMEOUT', 0, 86_400)));
  str('PCAP_MAX_UPLOAD_MB', (v) => (cfg.pcap.maxUploadBytes = int(v, 'PCAP_MAX_UPLOAD_MB', 1, 65_536) * 1024 * 1024));
}

// ---- file ------------------------------------------------------------------------------------------------

const FILE_KEYS: Record<string, (cfg: ServerConfig, v: unknown, where: string) => void> = {
  host: (c, v, w) => (c.host = text(v, w)),
  port: (c, v, w) => (c.port = port(String(intOf(v, w)), w)),
  dataDir: (c, v, w) => (c.dataDir = text(v, w)),
  databaseUrl: (c, v, w) => (c.databaseUrl = v === null ? null : text(v, w)),
  alertDedupWindowS: (c, v, w) => (c.alertDedupWindowS = num(String(numOf(v, w)), w, 0, 86_400 * 365)),
  adminPassword: (c, v, w) => (c.adminPassword = v === null ? null : adminPassword(text(v, w), w)),
  corsOrigins: (c, v, w) => (c.corsOrigins = origins(list(v, w), w)),
  sessionTtlS: (c, v, w) => (c.sessionTtlS = int(String(intOf(v, w)), w, 60, 366 * 86_400)),
  cookieSecure: (c, v, w) => (c.cookieSecure = boolOf(v, w)),
  trustProxy: (c, v, w) => (c.trustProxy = boolOf(v, w)),
  logLevel: (c, v, w) => (c.logLevel = logLevel(text(v, w), w)),
  rateLimit: (c, v, w) => {
    const o = object(v, w, ['enabled', 'defaults', 'storage', 'routes']);
    if (o['enabled'] !== undefined) c.rateLimit.enabled = boolOf(o['enabled'], `${w}.enabled`);
    if (o['defaults'] !== undefined)
      c.rateLimit.defaults = limits(text(o['defaults'], `${w}.defaults`), `${w}.defaults`);
    if (o['storage'] !== undefined) c.rateLimit.storage = storage(text(o['storage'], `${w}.storage`), `${w}.storage`);
    if (o['routes'] !== undefined) {
      const r = object(o['routes'], `${w}.routes`, null);
      for (const [k, lim] of Object.entries(r)) {
        if (!/^(GET|POST|PUT|PATCH|DELETE) \/\S*$/.test(k))
          throw new ConfigError(`${w}.routes: key "${k}" must be "METHOD /path", e.g. "DELETE /api/alerts/:id"`);
        c.rateLimit.routes[k] = limits(text(lim, `${w}.routes.${k}`), `${w}.routes.${k}`);
      }
    }
  },
  capture: (c, v, w) => {
    const o = object(v, w, ['enabled', 'interface']);
    if (o['enabled'] !== undefined) c.capture.enabled = boolOf(o['enabled'], `${w}.enabled`);
    if (o['interface'] !== undefined) c.capture.interface = text(o['interface'], `${w}.interface`);
  },
  pcap: (c, v, w) => {
    const o = object(v, w, ['maxPackets', 'timeoutS', 'maxUploadBytes']);
    if (o['maxPackets'] !== undefined)
      c.pcap.maxPackets = int(String(intOf(o['maxPackets'], w)), `${w}.maxPackets`, 0, Number.MAX_SAFE_INTEGER);
    if (o['timeoutS'] !== undefined) c.pcap.timeoutS = int(String(intOf(o['timeoutS'], w)), `${w}.timeoutS`, 0, 86_400);
    if (o['maxUploadBytes'] !== undefined)
      c.pcap.maxUploadBytes = int(String(intOf(o['maxUploadBytes'], w)), `${w}.maxUploadBytes`, 1, 2 ** 40);
  },
};

function applyFile(cfg: ServerConfig, file: string): void {
  let textIn: string;
  try {
    textIn = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let doc: unknown;
  try {
    // YAML is a superset of JSON: one parser for both.
    doc = YAML.parse(textIn);
  } catch (e) {
    throw new ConfigError(`config file ${file} is not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return;
  const o = object(doc, file, Object.keys(FILE_KEYS));
  for (const [k, v] of Object.entries(o)) FILE_KEYS[k]!(cfg, v, `${file}: ${k}`);
}

// ---- value checks ------------------------------------------------------------------------------------------

function port(v: string, name: string): number {
  return int(v, name, 0, 65_535);
}

function int(v: string, name: string, min: number, max: number): number {
  const n = /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

function num(v: string, name: string, min: number, max: number): number {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new ConfigError(`${name} must be a number from ${min} to ${max}, got "${v}"`);
  return n;
}

function bool(v: string, name: string): boolean {
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  throw new ConfigError(`${name} must be true or false, got "${v}"`);
}

const LEVELS: Record<string, LogLevel> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
  silent: 'silent',
};

function logLevel(v: string, name: string): LogLevel {
  const l = LEVELS[v.trim().toLowerCase()];
  if (l === undefined) throw new ConfigError(`${name} must be one of ${Object.keys(LEVELS).join(', ')}, got "${v}"`);
  return l;
}

function limits(v: string, name: string): RateLimitRule[] {
  try {
    return parseLimits(v);
  } catch (e) {
    throw new ConfigError(`${name}: ${(e as Error).message}`);
  }
}

function storage(v: string, name: string): 'memory' {
  // Flask-Limiter's storage URI spelling is accepted too.
  if (v === 'memory' || v === 'memory://') return 'memory';
  throw new ConfigError(`${name} must be "memory" (the only storage of this build), got "${v}"`);
}

function adminPassword(v: string, name: string): string {
  if (v.length < 8) throw new ConfigError(`${name} must be at least 8 characters long`);
  return v;
}

function origins(items: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (const raw of items) {
    const s = raw.trim();
    if (s === '') continue;
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw new ConfigError(`${name}: "${s}" is not an origin like http://host:port`);
    }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== s.replace(/\/$/, ''))
      throw new ConfigError(`${name}: "${s}" is not an origin like http://host:port (no path)`);
    out.push(u.origin);
  }
  return out;
}

function text(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${where} must be a non-empty string`);
  return v;
}

function intOf(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  throw new ConfigError(`${where} must be an integer`);
}

function numOf(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new ConfigError(`${where} must be a number`);
}

function boolOf(v: unknown, where: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return bool(v, where);
  throw new ConfigError(`${where} must be true or false`);
}

function list(v: unknown, where: string): string[] {
  if (typeof v === 'string') return v.split(',');
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new ConfigError(`${where} must be a list of strings`);
}

function object(v: unknown, where: string, keys: readonly string[] | null): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${where} must be a mapping`);
  const o = v as Record<string, unknown>;
  if (keys !== null)
    for (const k of Object.keys(o))
      if (!keys.includes(k)) throw new ConfigError(`${where}: unknown key "${k}" (known: ${keys.join(', ')})`);
  return o;
}
