/**
 * Typed errors of the storage layer (STYLE.md, Errors): callers branch on `code`, never on the
 * message. The API maps them to status codes (CONFLICT → 409, INVALID → 400, the rest → 500/503).
 */

/** Stable codes of {@link StoreError}. */
export type StoreErrorCode =
  /** A migration failed; it was rolled back, so the schema is at the previous version. */
  | 'VIGIL_STORE_MIGRATION_FAILED'
  /** The database was migrated by a newer Vigil (a version this build does not know). */
  | 'VIGIL_STORE_SCHEMA_TOO_NEW'
  /** Bad storage configuration (VIGIL_DATABASE_URL, VIGIL_DATA_DIR). */
  | 'VIGIL_STORE_CONFIG'
  /** The database cannot be opened or reached. */
  | 'VIGIL_STORE_UNAVAILABLE'
  /** A unique value already exists (a username, an API key hash, a model name + version). */
  | 'VIGIL_STORE_CONFLICT'
  /** A query the repository refuses (unknown sort column, a row that must exist is missing). */
  | 'VIGIL_STORE_INVALID';

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

/** Message of an unknown thrown value, for wrapping driver errors in one line. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
