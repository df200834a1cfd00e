/**
 * PostgreSQL adapter (node-postgres pool). Bulk inserts send one typed array per column
 * (`INSERT ... SELECT * FROM unnest($1::bigint[], ...)`): a batch is one statement with a fixed
 * number of parameters whatever its size.
 */
import pg from 'pg';
import type { ColumnSpec, Db, Queryable, SqlParam } from '../db.js';
import { StoreError, errorMessage } from '../errors.js';

/** Pooled connections: the API's concurrent reads plus the ingest writer. */
const POOL_MAX = 10;
/** Rows per bulk INSERT statement (bounds the size of one message to the server). */
const INSERT_CHUNK = 5000;
/** Advisory lock key held while migrations run, so two starting servers migrate one at a time. */
const SCHEMA_LOCK_KEY = 0x5649_4731; // "VIG1"

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * bigint and numeric (sum() of bigint) as JS numbers: the store's integers (microsecond times,
 * counters, ids) stay below 2^53. Set per pool, not globally, so other pg users are unaffected.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID || oid === NUMERIC_OID
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** `?` placeholders -> `$1..$n` (the repository's SQL has no `?` inside literals). */
const numbered = new Map<string, string>();
function toPg(sql: string): string {
  let out = numbered.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    if (numbered.size > 4096) numbered.clear();
    numbered.set(sql, out);
  }
  return out;
}

function handle(c: pg.Pool | pg.PoolClient): Queryable {
  return {
    all: async <T>(sql: string, params: readonly SqlParam[] = []) =>
      (await c.query(toPg(sql), params as unknown[])).rows as T[],
    get: async <T>(sql: string, params: readonly SqlParam[] = []) =>
      (await c.query(toPg(sql), params as unknown[])).rows[0] as T | undefined,
    run: async (sql: string, params: readonly SqlParam[] = []) =>
      (await c.query(toPg(sql), params as unknown[])).rowCount ?? 0,
    exec: async (sql: string) => {
      await c.query(sql);
    },
  };
}

export interface PostgresOptions {
  url: string;
  max?: number;
}

export async function openPostgresDb(opts: PostgresOptions): Promise<PostgresDb> {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? POOL_MAX,
    types: TYPES,
    connectionTimeoutMillis: 10_000,
    application_name: 'vigil',
  });
  const db = new PostgresDb(pool);
  try {
    await pool.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new StoreError('VIGIL_STORE_UNAVAILABLE', `cannot connect to PostgreSQL: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  return db;
}

export class PostgresDb implements Db {
  readonly dialect = 'postgres' as const;
  readonly forUpdate = ' FOR UPDATE';
  private readonly root: Queryable;
  /** Errors of idle pooled connections (the server restarted, the network dropped). */
  idleErrors = 0;
  lastIdleError: string | null = null;

  constructor(readonly pool: pg.Pool) {
    this.root = handle(pool);
    // An idle client's error would otherwise crash the process; the pool replaces the client.
    pool.on('error', (e) => {
      this.idleErrors++;
      this.lastIdleError = e.message;
    });
  }

  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.root.all<T>(sql, params);
  }

  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    return this.root.get<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlParam[]): Promise<number> {
    return this.root.run(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.root.exec(sql);
  }

  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        const r = await fn(handle(client));
        await client.query('COMMIT');
        return r;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch {
          // The connection is unusable; it is destroyed on release instead of returned to the pool.
          broken = true;
        }
        throw e;
      }
    } finally {
      client.release(broken);
    }
  }

  inList(column: string): string {
    return `${column} = ANY(?)`;
  }

  listParam(values: readonly (string | number)[]): SqlParam {
    return values;
  }

  async insertMany(
    q: Queryable,
    table: string,
    cols: readonly ColumnSpec[],
    rows: readonly SqlParam[][],
    idColumn?: string,
  ): Promise<number[]> {
    const ids: number[] = [];
    if (rows.length === 0) return ids;
    if (idColumn !== undefined) {
      // Ids first, so results map to input rows without relying on the order of RETURNING.
      const got = await q.all<{ id: number }>(
        `SELECT nextval(pg_get_serial_sequence('${table}', '${idColumn}')) AS id FROM generate_series(1, ?)`,
        [rows.length],
      );
      for (const r of got) ids.push(r.id);
    }
    const all: ColumnSpec[] = idColumn === undefined ? [...cols] : [{ name: idColumn, pg: 'bigint' }, ...cols];
    const sql =
      `INSERT INTO ${table} (${all.map((c) => c.name).join(', ')}) SELECT * FROM unnest(` +
      all.map((c) => `?::${c.pg}[]`).join(', ') +
      ')';
    for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
      const end = Math.min(rows.length, start + INSERT_CHUNK);
      const arrays: unknown[][] = all.map(() => new Array<unknown>(end - start));
      for (let i = start; i < end; i++) {
        const row = rows[i]!;
        let c = 0;
        if (idColumn !== undefined) arrays[c++]![i - start] = ids[i];
        for (let k = 0; k < row.length; k++) arrays[c++]![i - start] = row[k];
      }
      await q.run(sql, arrays);
    }
    return ids;
  }

  async estimateRows(sql: string, params: readonly SqlParam[]): Promise<number | null> {
    const r = await this.root.get<{ 'QUERY PLAN': { Plan: { 'Plan Rows': number } }[] }>(
      `EXPLAIN (FORMAT JSON) ${sql}`,
      params,
    );
    const rows = r?.['QUERY PLAN'][0]?.Plan['Plan Rows'];
    return typeof rows === 'number' ? Math.round(rows) : null;
  }

  async lockSchema(q: Queryable): Promise<void> {
    await q.all('SELECT pg_advisory_xact_lock(?)', [SCHEMA_LOCK_KEY]);
  }

  isUniqueViolation(e: unknown): boolean {
    return (e as { code?: unknown } | null)?.code === '23505';
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
