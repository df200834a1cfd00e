/**
 * SQLite adapter (better-sqlite3): one connection, WAL, prepared statements cached by SQL text.
 *
 * better-sqlite3 is synchronous, so a query blocks the event loop for its duration (short for the
 * indexed queries the repository issues). A transaction spans awaits, though, and another caller
 * must not run inside it: while one is open, calls from outside wait for it (`busy`).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ColumnSpec, Db, Queryable, SqlParam } from '../db.js';
import { StoreError, errorMessage } from '../errors.js';

/** Prepared statements kept (the repository's SQL is a small, fixed set plus filter combinations). */
const STATEMENT_CACHE = 512;

/**
 * Page cache of the connection: 64 MiB keeps the alert indexes of ~1M rows in memory (SQLite's
 * default is 2 MiB); chosen with bench/store-alerts.ts.
 */
const CACHE_KIB = 65_536;

/** Rows sampled per index by ANALYZE (keeps `PRAGMA optimize` to milliseconds on large tables). */
const ANALYSIS_LIMIT = 1000;
/** Commits between `PRAGMA optimize` runs (with 1,000-alert batches: every 200,000 alerts). */
const OPTIMIZE_EVERY = 200;

type Stmt = Database.Statement<unknown[], unknown>;

export interface SqliteOptions {
  /** Database file, or ':memory:'. Its directory is created when missing. */
  file: string;
}

export function openSqliteDb(opts: SqliteOptions): SqliteDb {
  let db: Database.Database;
  try {
    if (opts.file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(opts.file)), { recursive: true });
    db = new Database(opts.file);
    // WAL: readers do not block the writer; FULL: a committed batch survives a power cut
    // (DESIGN.md: "a crash loses at most the last batch, never committed data").
    if (opts.file !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma(`cache_size = -${CACHE_KIB}`);
    // Planner statistics: bounded sampling, refreshed at open and every OPTIMIZE_EVERY commits
    // (SQLite's advice for long-lived connections), so plans follow the data as it grows.
    db.pragma(`analysis_limit = ${ANALYSIS_LIMIT}`);
    db.pragma('optimize = 0x10002');
  } catch (e) {
    throw new StoreError('VIGIL_STORE_UNAVAILABLE', `cannot open SQLite database ${opts.file}: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  return new SqliteDb(db);
}

/** better-sqlite3 binds no booleans: 0/1 as SQLite stores them. */
function bindable(params: readonly SqlParam[]): unknown[] {
  let out: unknown[] | null = null;
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    if (typeof v === 'boolean') {
      out ??= params.slice();
      out[i] = v ? 1 : 0;
    }
  }
  return out ?? (params as unknown[]);
}

export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  readonly forUpdate = '';
  private readonly stmts = new Map<string, Stmt>();
  /** Settles when the open transaction ends; null when none is open. */
  private busy: Promise<void> | null = null;
  private commits = 0;
  /** Runs immediately: the handle given to a transaction's callback. */
  private readonly direct: Queryable;

  constructor(readonly raw: Database.Database) {
    this.direct = {
      all: <T>(sql: string, params: readonly SqlParam[] = []) => Promise.resolve(this.allNow<T>(sql, params)),
      get: <T>(sql: string, params: readonly SqlParam[] = []) => Promise.resolve(this.getNow<T>(sql, params)),
      run: (sql: string, params: readonly SqlParam[] = []) => Promise.resolve(this.runNow(sql, params)),
      exec: (sql: string) => {
        this.raw.exec(sql);
        return Promise.resolve();
      },
    };
  }

  private stmt(sql: string): Stmt {
    let s = this.stmts.get(sql);
    if (s === undefined) {
      if (this.stmts.size >= STATEMENT_CACHE) this.stmts.clear();
      s = this.raw.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private allNow<T>(sql: string, params: readonly SqlParam[]): T[] {
    const s = this.stmt(sql);
    if (!s.reader) {
      s.run(...bindable(params));
      return [];
    }
    return s.all(...bindable(params)) as T[];
  }

  private getNow<T>(sql: string, params: readonly SqlParam[]): T | undefined {
    const s = this.stmt(sql);
    if (!s.reader) {
      s.run(...bindable(params));
      return undefined;
    }
    return s.get(...bindable(params)) as T | undefined;
  }

  private runNow(sql: string, params: readonly SqlParam[]): number {
    return this.stmt(sql).run(...bindable(params)).changes;
  }

  async all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    // The wait and the call stay in one synchronous step, so no transaction starts in between.
    while (this.busy !== null) await this.busy;
    return this.allNow<T>(sql, params);
  }

  async get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    while (this.busy !== null) await this.busy;
    return this.getNow<T>(sql, params);
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    while (this.busy !== null) await this.busy;
    return this.runNow(sql, params);
  }

  async exec(sql: string): Promise<void> {
    while (this.busy !== null) await this.busy;
    this.raw.exec(sql);
  }

  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    while (this.busy !== null) await this.busy;
    let release!: () => void;
    this.busy = new Promise<void>((r) => (release = r));
    try {
      // IMMEDIATE takes the write lock now, so a second process fails fast (busy_timeout) rather
      // than deadlocking on a read-to-write upgrade.
      this.raw.exec('BEGIN IMMEDIATE');
      try {
        const r = await fn(this.direct);
        this.raw.exec('COMMIT');
        if (++this.commits % OPTIMIZE_EVERY === 0) this.raw.pragma('optimize');
        return r;
      } catch (e) {
        if (this.raw.inTransaction) this.raw.exec('ROLLBACK');
        throw e;
      }
    } finally {
      this.busy = null;
      release();
    }
  }

  inList(column: string): string {
    return `${column} IN (SELECT value FROM json_each(?))`;
  }

  listParam(values: readonly (string | number)[]): SqlParam {
    return JSON.stringify(values);
  }

  insertMany(
    q: Queryable,
    table: string,
    cols: readonly ColumnSpec[],
    rows: readonly SqlParam[][],
    idColumn?: string,
  ): Promise<number[]> {
    void q; // one connection: the open transaction is this connection's
    const sql = `INSERT INTO ${table} (${cols.map((c) => c.name).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
    const s = this.stmt(sql);
    const ids: number[] = idColumn === undefined ? [] : new Array<number>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = s.run(...bindable(rows[i]!));
      if (idColumn !== undefined) ids[i] = Number(r.lastInsertRowid);
    }
    return Promise.resolve(ids);
  }

  estimateRows(): Promise<number | null> {
    return Promise.resolve(null);
  }

  lockSchema(): Promise<void> {
    // BEGIN IMMEDIATE already holds the database's write lock.
    return Promise.resolve();
  }

  isUniqueViolation(e: unknown): boolean {
    const code = (e as { code?: unknown } | null)?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  }

  async close(): Promise<void> {
    while (this.busy !== null) await this.busy;
    if (!this.raw.open) return;
    // Refreshes the planner statistics the queries depend on (SQLite's advice for long-lived connections).
    this.raw.pragma('optimize');
    this.raw.close();
  }
}
