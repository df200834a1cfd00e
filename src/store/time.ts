/** Times in the store: integer microseconds since the epoch in columns, ISO 8601 strings in records. */
import { eveTimestamp } from '../util/time.js';

/** `2026-11-26T10:30:18.312528Z` (UTC, microseconds; parses with `new Date()`). */
export function isoUs(us: number): string {
  return eveTimestamp(us).slice(0, -5) + 'Z';
}

export function isoUsOrNull(us: number | null | undefined): string | null {
  return us === null || us === undefined ? null : isoUs(us);
}

/** The wall clock in microseconds (for times the store sets itself: created_at, resolved_at, ...). */
export function nowUs(): number {
  return Date.now() * 1000;
}
