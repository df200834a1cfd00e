/**
 * The small driver adapter the SQL core (sql-repository.ts) runs on: SQLite (sqlite/db.ts) and
 * PostgreSQL (postgres/db.ts). SQL is written once with `?` placeholders; the PostgreSQL adapter
 * numbers them. The few places where the dialects differ are methods here (bulk insert, list
 * parameters, count estimates), so the repository logic exists once and behaves the same on both.
 */

/** A bound parameter. Booleans become 0/1 on SQLite; arrays only through `listParam`. */
export type SqlParam = string | number | boolean | null | Buffer | readonly unknown[];

export interface Queryable {
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** Column of a bulk insert: its name and its PostgreSQL type (for typed array parameters). */
export interface ColumnSpec {
  name: string;
  pg: 'bigint' | 'integer' | 'text' | 'boolean' | 'jsonb' | 'double precision' | 'bytea';
}

export interface Db extends Queryable {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Suffix of a SELECT that reads a row the transaction then rewrites (PostgreSQL: FOR UPDATE, so
   * a concurrent read-modify-write waits; SQLite: empty, its transactions already exclude writers).
   */
  readonly forUpdate: string;
  /**
   * Run `fn` in a transaction: committed when it resolves, rolled back when it throws. Other calls
   * on the Db wait until it ends (SQLite has one connection; PostgreSQL uses a pooled client).
   */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /**
   * A condition `column IN (list)` with one parameter, whatever the list's length (SQLite:
   * json_each over a JSON text; PostgreSQL: `= ANY(array)`), so the statement text stays the same
   * and is prepared once.
   */
  inList(column: string): string;
  listParam(values: readonly (string | number)[]): SqlParam;
  /**
   * Insert rows (values in `cols` order) through `q`; returns the new ids in row order when
   * `idColumn` is given (the table's identity column).
   */
  insertMany(
    q: Queryable,
    table: string,
    cols: readonly ColumnSpec[],
    rows: readonly SqlParam[][],
    idColumn?: string,
  ): Promise<number[]>;
  /** The planner's row estimate for a SELECT, or null when the backend has none (SQLite). */
  estimateRows(sql: string, params: readonly SqlParam[]): Promise<number | null>;
  /** Serialise schema changes of concurrent processes (PostgreSQL advisory lock), inside a tx. */
  lockSchema(q: Queryable): Promise<void>;
  /** Is this driver error a unique-constraint violation? */
  isUniqueViolation(e: unknown): boolean;
  close(): Promise<void>;
}
