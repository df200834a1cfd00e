/**
 * Schema migrations: numbered SQL per dialect (sqlite.ts, postgres.ts), applied in order when the
 * store opens and recorded in `schema_migrations`. Each migration runs in its own transaction
 * (DDL is transactional in SQLite and PostgreSQL), so a failing one leaves nothing behind and the
 * schema stays at the previous version; re-opening applies only what is missing.
 *
 * The SQL lives in TypeScript modules rather than .sql files so that the compiled package carries
 * it (tsc copies no other files into dist/).
 */
import type { Db } from '../db.js';
import { StoreError, errorMessage } from '../errors.js';

export interface Migration {
  /** 1, 2, ...: applied in this order, never renumbered once released. */
  version: number;
  name: string;
  sql: string;
}

const CREATE_TABLE =
  'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_us BIGINT NOT NULL)';

/** Apply the pending migrations; returns the schema version. */
export async function migrate(db: Db, migrations: readonly Migration[], nowUs = Date.now() * 1000): Promise<number> {
  const list = [...migrations].sort((a, b) => a.version - b.version);
  for (let i = 1; i < list.length; i++)
    if (list[i]!.version === list[i - 1]!.version)
      throw new StoreError('VIGIL_STORE_MIGRATION_FAILED', `two migrations numbered ${list[i]!.version}`);
  const known = list.length === 0 ? 0 : list[list.length - 1]!.version;

  try {
    await db.tx(async (q) => {
      await db.lockSchema(q);
      await q.exec(CREATE_TABLE);
    });
  } catch (e) {
    throw new StoreError('VIGIL_STORE_MIGRATION_FAILED', `cannot create schema_migrations: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  const top = await db.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  const current = top?.v ?? 0;
  if (current > known)
    throw new StoreError(
      'VIGIL_STORE_SCHEMA_TOO_NEW',
      `database schema is at version ${current}, this Vigil knows up to ${known}: upgrade Vigil`,
    );

  for (const m of list) {
    try {
      await db.tx(async (q) => {
        await db.lockSchema(q);
        // Another process may have applied it while this one waited for the lock.
        const done = await q.get('SELECT version FROM schema_migrations WHERE version = ?', [m.version]);
        if (done !== undefined) return;
        await q.exec(m.sql);
        await q.run('INSERT INTO schema_migrations (version, name, applied_at_us) VALUES (?, ?, ?)', [
          m.version,
          m.name,
          nowUs,
        ]);
      });
    } catch (e) {
      throw new StoreError(
        'VIGIL_STORE_MIGRATION_FAILED',
        `migration ${m.version} (${m.name}) failed and was rolled back: ${errorMessage(e)}`,
        { cause: e },
      );
    }
  }
  return known;
}
