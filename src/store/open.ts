/**
 * Opening the store: the backend from the configuration, migrations applied, the repository ready.
 *
 *   VIGIL_DATABASE_URL=postgres://user:pass@host:5432/db   PostgreSQL
 *   VIGIL_DATABASE_URL=sqlite:/var/lib/vigil/vigil.db      SQLite at that path
 *   (unset)                                                SQLite at $VIGIL_DATA_DIR/vigil.db (./data)
 */
import path from 'node:path';
import { StoreError } from './errors.js';
import type { Migration } from './migrations/migrate.js';
import { migrate } from './migrations/migrate.js';
import { POSTGRES_MIGRATIONS } from './migrations/postgres.js';
import { SQLITE_MIGRATIONS } from './migrations/sqlite.js';
import { openPostgresDb } from './postgres/db.js';
import type { Repository } from './repository.js';
import { DEFAULT_DEDUP_WINDOW_S } from './repository.js';
import { SqlRepository } from './sql-repository.js';
import { openSqliteDb } from './sqlite/db.js';

export const DEFAULT_DATA_DIR = './data';
export const SQLITE_FILE = 'vigil.db';

export type StoreConfig =
  | { backend: 'sqlite'; file: string; dedupWindowS: number }
  | { backend: 'postgres'; url: string; dedupWindowS: number; poolMax?: number };

/**
 * The store configuration from the environment (VIGIL_DATABASE_URL, VIGIL_DATA_DIR,
 * ALERT_DEDUP_WINDOW). Throws VIGIL_STORE_CONFIG with a one-line reason.
 */
export function storeConfigFromEnv(env: Record<string, string | undefined> = process.env): StoreConfig {
  const w = env['ALERT_DEDUP_WINDOW'];
  let dedupWindowS = DEFAULT_DEDUP_WINDOW_S;
  if (w !== undefined && w !== '') {
    dedupWindowS = Number(w);
    if (!Number.isFinite(dedupWindowS) || dedupWindowS < 0)
      throw new StoreError('VIGIL_STORE_CONFIG', `ALERT_DEDUP_WINDOW must be a number of seconds >= 0, got "${w}"`);
  }
  const url = env['VIGIL_DATABASE_URL'];
  if (url !== undefined && url !== '') return { ...parseDatabaseUrl(url), dedupWindowS };
  const dir =
    env['VIGIL_DATA_DIR'] !== undefined && env['VIGIL_DATA_DIR'] !== '' ? env['VIGIL_DATA_DIR'] : DEFAULT_DATA_DIR;
  return { backend: 'sqlite', file: path.join(dir, SQLITE_FILE), dedupWindowS };
}

/** postgres:// and postgresql:// URLs, or sqlite:PATH (sqlite::memory: for a throwaway store). */
export function parseDatabaseUrl(
  url: string,
): { backend: 'sqlite'; file: string } | { backend: 'postgres'; url: string } {
  if (/^postgres(ql)?:\/\//i.test(url)) return { backend: 'postgres', url };
  const m = /^sqlite:(?:\/\/)?(.+)$/i.exec(url);
  if (m !== null) return { backend: 'sqlite', file: m[1]! };
  // Never echo the URL: it may hold a password.
  throw new StoreError(
    'VIGIL_STORE_CONFIG',
    'VIGIL_DATABASE_URL must start with postgres://, postgresql:// or sqlite:',
  );
}

export interface OpenOptions {
  /** Migrations to apply instead of the built-in ones (tests). */
  migrations?: readonly Migration[];
}

/** Open the configured backend and bring its schema up to date. */
export async function openRepository(cfg: StoreConfig, opts: OpenOptions = {}): Promise<Repository> {
  if (cfg.backend === 'sqlite') {
    const db = openSqliteDb({ file: cfg.file });
    try {
      const version = await migrate(db, opts.migrations ?? SQLITE_MIGRATIONS);
      return new SqlRepository(db, version, { dedupWindowS: cfg.dedupWindowS });
    } catch (e) {
      await db.close();
      throw e;
    }
  }
  const db = await openPostgresDb({ url: cfg.url, ...(cfg.poolMax !== undefined ? { max: cfg.poolMax } : {}) });
  try {
    const version = await migrate(db, opts.migrations ?? POSTGRES_MIGRATIONS);
    return new SqlRepository(db, version, { dedupWindowS: cfg.dedupWindowS });
  } catch (e) {
    await db.close();
    throw e;
  }
}
