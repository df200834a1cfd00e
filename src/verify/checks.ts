/**
 * Evaluating suricata-verify `checks` against EVE records, with the semantics of the upstream
 * runner (OISF/suricata-verify run.py: `find_value`, `FilterCheck.match`), so a case passes here
 * exactly when it would pass there. Differences are deliberate and documented in docs/verify.md:
 * a missing key never matches (upstream, a missing key equals YAML `null`), and filters may use
 * `lt`/`gt` bounds besides `count`.
 */

/** Returned by {@link findValue} when the path does not exist in the record. */
export const MISSING: unique symbol = Symbol('missing');

/** The operators upstream recognises as the last path part; the value is the object before it. */
const OPERATORS = ['__contains', '__find', '__startswith', '__endswith'] as const;
type Operator = (typeof OPERATORS)[number];

/** One path part: a name and the `[n]` indices after it (`vlan[0]`, `a[0][1]`). */
const PART_RE = /^(.*?)((?:\[\d+\])+)$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Python's `len()`: code points of a string, items of a list, keys of a dict; -1 otherwise (as upstream). */
function pyLen(v: unknown): number {
  if (typeof v === 'string') {
    let n = 0;
    for (const _ of v) n++;
    return n;
  }
  if (Array.isArray(v)) return v.length;
  if (isRecord(v)) return Object.keys(v).length;
  return -1;
}

/**
 * The value at a dotted path such as `alert.signature_id`, `vlan[0]` or `metadata.flowvars[0].x`;
 * `x.__len` is the length of `x`. Stops before a trailing operator part (`http.url.__find`).
 * Returns {@link MISSING} when a name is absent or an index is out of range.
 */
export function findValue(obj: unknown, key: string): unknown {
  let cur = obj;
  for (const part of key.split('.')) {
    if (part === '__len') return pyLen(cur);
    if ((OPERATORS as readonly string[]).includes(part)) break;
    const m = PART_RE.exec(part);
    const name = m ? m[1]! : part;
    if (!isRecord(cur) || !Object.hasOwn(cur, name)) return MISSING;
    cur = cur[name];
    if (m) {
      for (const ix of m[2]!.slice(1, -1).split('][')) {
        const i = Number(ix);
        if (Array.isArray(cur) && i < cur.length) cur = cur[i];
        else if (typeof cur === 'string' && i < cur.length) cur = [...cur][i];
        else return MISSING;
        if (cur === undefined) return MISSING;
      }
    }
  }
  return cur;
}

/**
 * Python's `==` between a YAML value (PyYAML types) and a JSON value: numbers compare by value
 * (1 == 1.0), booleans equal 1 and 0 (`True == 1`), strings never equal numbers ('12' != 12),
 * lists and dicts compare item by item. A YAML timestamp (Date) never equals a JSON string.
 */
export function pyEquals(a: unknown, b: unknown): boolean {
  const na = typeof a === 'number' || typeof a === 'boolean';
  const nb = typeof b === 'number' || typeof b === 'boolean';
  if (na || nb) return na && nb && Number(a) === Number(b);
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a === null || a === undefined || b === null || b === undefined) return a === b;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!pyEquals(a[i], b[i])) return false;
    return true;
  }
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!Object.hasOwn(b, k) || !pyEquals(a[k], b[k])) return false;
    return true;
  }
  return false;
}

function operatorOf(key: string): Operator | null {
  for (const op of OPERATORS) if (key.endsWith(op)) return op;
  return null;
}

/** One `match` entry against a record. */
function matchOne(key: string, expected: unknown, event: unknown): boolean {
  if (key === 'has-key' || key === 'not-has-key') {
    // Upstream tests `find_value(...) is None`, so a JSON null counts as absent here.
    const v = findValue(event, String(expected));
    const present = v !== MISSING && v !== null;
    return key === 'has-key' ? present : !present;
  }
  const val = findValue(event, key);
  if (val === MISSING) return false;
  switch (operatorOf(key)) {
    case '__find':
    case '__contains':
      if (typeof val === 'string') return typeof expected === 'string' && val.includes(expected);
      if (Array.isArray(val)) return val.some((x) => pyEquals(x, expected));
      if (isRecord(val)) return typeof expected === 'string' && Object.hasOwn(val, expected);
      return false;
    case '__startswith':
      return typeof val === 'string' && typeof expected === 'string' && val.startsWith(expected);
    case '__endswith':
      return typeof val === 'string' && typeof expected === 'string' && val.endsWith(expected);
    case null:
      return pyEquals(val, expected);
  }
}

/** True when the record satisfies every entry of a filter's `match` map. */
export function matchEvent(match: Readonly<Record<string, unknown>>, event: unknown): boolean {
  for (const key of Object.keys(match)) if (!matchOne(key, match[key], event)) return false;
  return true;
}

/** The number of records that satisfy `match`. */
export function countMatches(match: Readonly<Record<string, unknown>>, events: readonly unknown[]): number {
  let n = 0;
  for (const e of events) if (matchEvent(match, e)) n++;
  return n;
}

/** What a filter expects of its match count; every bound given must hold. */
export interface Expectation {
  count?: number;
  /** The count must be below this. */
  lt?: number;
  /** The count must be above this. */
  gt?: number;
}

export function expectationHolds(e: Expectation, got: number): boolean {
  return (
    (e.count === undefined || got === e.count) &&
    (e.lt === undefined || got < e.lt) &&
    (e.gt === undefined || got > e.gt)
  );
}

/** "count 2", "< 5", "count 1, > 0". */
export function describeExpectation(e: Expectation): string {
  const parts: string[] = [];
  if (e.count !== undefined) parts.push(`count ${e.count}`);
  if (e.gt !== undefined) parts.push(`> ${e.gt}`);
  if (e.lt !== undefined) parts.push(`< ${e.lt}`);
  return parts.join(', ');
}

/**
 * True for a filter on alert records: `event_type: alert`, or no `event_type` at all but a key
 * under `alert.` (upstream cases such as tcp-5379 match on `alert.signature_id` alone; only alert
 * records carry an `alert` object).
 */
export function isAlertFilter(match: Readonly<Record<string, unknown>>): boolean {
  if (Object.hasOwn(match, 'event_type')) return pyEquals(match['event_type'], 'alert');
  return Object.keys(match).some((k) => k === 'alert' || k.startsWith('alert.') || k.startsWith('alert['));
}

/** A Suricata version; absent parts are 0, or null (any) when compared for equality. */
export interface SuricataVersion {
  major: number;
  minor: number | null;
  patch: number | null;
}

/** Parse "8", "7.0.12", "9.0.0-dev", 6.0 (a YAML float) as upstream does; null when no number leads. */
export function parseVersion(v: unknown, forEquality = false): SuricataVersion | null {
  const m = /^(\d+)\.?(\d+)?\.?(\d+)?/.exec(String(v).trim());
  if (!m) return null;
  const dflt = forEquality ? null : 0;
  return {
    major: Number(m[1]),
    minor: m[2] !== undefined ? Number(m[2]) : dflt,
    patch: m[3] !== undefined ? Number(m[3]) : dflt,
  };
}

function compareVersions(a: SuricataVersion, b: SuricataVersion): number {
  return a.major - b.major || (a.minor ?? 0) - (b.minor ?? 0) || (a.patch ?? 0) - (b.patch ?? 0);
}

function versionMatches(have: SuricataVersion, want: SuricataVersion): boolean {
  return (
    have.major === want.major &&
    (want.minor === null || have.minor === want.minor) &&
    (want.patch === null || have.patch === want.patch)
  );
}

/**
 * Why a check's requirements exclude it for the emulated Suricata `version`, or null when it
 * applies. Version bounds are honoured; a required build feature or any other kind of
 * requirement (script, lambda, os) cannot be satisfied by Vigil and excludes the check.
 */
export function unmetRequirement(requires: Readonly<Record<string, unknown>>, version: SuricataVersion): string | null {
  for (const key of Object.keys(requires)) {
    const want = requires[key];
    switch (key) {
      case 'min-version':
      case 'lt-version':
      case 'gt-version':
      case 'version': {
        const v = parseVersion(want, key === 'version');
        if (v === null) return `unreadable ${key} ${String(want)}`;
        const c = compareVersions(version, v);
        const ok =
          key === 'min-version'
            ? c >= 0
            : key === 'lt-version'
              ? c < 0
              : key === 'gt-version'
                ? c > 0
                : versionMatches(version, v);
        if (!ok) return `requires ${key} ${String(want)}`;
        break;
      }
      case 'pcap':
        break;
      case 'env':
        for (const name of Array.isArray(want) ? want : [want]) {
          if (process.env[String(name)] === undefined) return `requires env ${String(name)}`;
        }
        break;
      case 'features':
        return `requires Suricata build feature ${Array.isArray(want) ? want.join(', ') : String(want)}`;
      default:
        return `unsupported requirement ${key}`;
    }
  }
  return null;
}

/** A parsed `checks` entry. */
export type CheckSpec =
  | {
      type: 'filter';
      /** 1-based position in test.yaml's `checks` list. */
      index: number;
      match: Record<string, unknown>;
      expect: Expectation;
      /** Requirements gathered from `requires:`, `min-version`, `lt-version`, `version`, `feature`. */
      requires: Record<string, unknown>;
      /** The EVE file name when not eve.json (Vigil writes only eve.json). */
      filename: string | null;
      comment: string | null;
    }
  | { type: 'other'; index: number; kind: string };

/** The outcome of one check. */
export interface CheckResult {
  /** 1-based position in test.yaml's `checks` list. */
  index: number;
  /** `alert` (a filter on alert records), `non-alert` (any other filter), or the check type (`stats`, `shell`, ...). */
  kind: string;
  /** The filter's `match` map; null for other check types. */
  filter: Record<string, unknown> | null;
  expected: Expectation | null;
  /** Records matched; null when not evaluated. */
  got: number | null;
  /** null when not evaluated (another check type, or excluded by its requirements). */
  ok: boolean | null;
  /** Whether the check decides the case's PASS/FAIL. */
  counted: boolean;
  /** Why the check was not evaluated. */
  note?: string;
  /** The check's own `comment:`, when it has one. */
  comment?: string;
  /**
   * When too few records matched: the keys on which the nearest record (same event_type and
   * signature id, fewest differing keys, at most {@link NEAR_MISS_MAX_KEYS}) differs, to show what to fix.
   */
  closest?: Mismatch[];
}

/** A `match` key on which a record differs; `got` is undefined when the record lacks the key. */
export interface Mismatch {
  key: string;
  expected: unknown;
  got?: unknown;
}

/** Keys a near record must agree on. */
const NEAR_MISS_ANCHORS = ['event_type', 'alert.signature_id'];

/** A record differing in more keys than this is not "near" and is not reported. */
export const NEAR_MISS_MAX_KEYS = 3;

/**
 * The record of the filter's event_type and signature id that fails the fewest other `match` keys
 * (but at least one), with those keys; null when no such record differs in at most
 * {@link NEAR_MISS_MAX_KEYS} keys or the filter has nothing else to differ on.
 */
export function nearMiss(match: Readonly<Record<string, unknown>>, events: readonly unknown[]): Mismatch[] | null {
  // Records of another type or another rule are not near, however many other keys agree.
  const anchors: Record<string, unknown> = {};
  for (const k of NEAR_MISS_ANCHORS) if (Object.hasOwn(match, k)) anchors[k] = match[k];
  const keys = Object.keys(match).filter((k) => !Object.hasOwn(anchors, k));
  if (keys.length === 0) return null;
  let best: string[] | null = null;
  let bestEvent: unknown = null;
  for (const e of events) {
    if (!matchEvent(anchors, e)) continue;
    const failed: string[] = [];
    for (const k of keys) {
      if (!matchOne(k, match[k], e)) {
        failed.push(k);
        if (failed.length > NEAR_MISS_MAX_KEYS || (best !== null && failed.length >= best.length)) break;
      }
    }
    if (failed.length === 0 || failed.length > NEAR_MISS_MAX_KEYS) continue;
    if (best === null || failed.length < best.length) {
      best = failed;
      bestEvent = e;
    }
  }
  if (best === null) return null;
  return best.map((key) => {
    const got = findValue(bestEvent, key.endsWith('has-key') ? String(match[key]) : key);
    return got === MISSING ? { key, expected: match[key] } : { key, expected: match[key], got };
  });
}

export interface EvaluateOptions {
  /** The Suricata version whose behaviour is expected (per-check requirements). */
  version: SuricataVersion;
  /** Count non-alert filters towards PASS/FAIL too. */
  allChecks: boolean;
}

/** Evaluate every check of a case against its EVE records. */
export function evaluateChecks(
  checks: readonly CheckSpec[],
  events: readonly unknown[],
  opts: EvaluateOptions,
): CheckResult[] {
  const out: CheckResult[] = [];
  for (const c of checks) {
    if (c.type === 'other') {
      out.push({
        index: c.index,
        kind: c.kind,
        filter: null,
        expected: null,
        got: null,
        ok: null,
        counted: false,
        note: 'not evaluated',
      });
      continue;
    }
    const kind = isAlertFilter(c.match) ? 'alert' : 'non-alert';
    const base = {
      index: c.index,
      kind,
      filter: c.match,
      expected: c.expect,
      ...(c.comment !== null ? { comment: c.comment } : {}),
    };
    const unmet =
      c.filename !== null && c.filename !== 'eve.json'
        ? `reads ${c.filename}, which Vigil does not write`
        : unmetRequirement(c.requires, opts.version);
    if (unmet !== null) {
      out.push({ ...base, got: null, ok: null, counted: false, note: `skipped: ${unmet}` });
      continue;
    }
    const got = countMatches(c.match, events);
    const ok = expectationHolds(c.expect, got);
    const counted = kind === 'alert' || opts.allChecks;
    const tooFew =
      (c.expect.count !== undefined && got < c.expect.count) || (c.expect.gt !== undefined && got <= c.expect.gt);
    const closest = !ok && tooFew ? nearMiss(c.match, events) : null;
    out.push({ ...base, got, ok, counted, ...(closest !== null ? { closest } : {}) });
  }
  return out;
}

/** JSON with long strings cut (a `packet` match is kilobytes of base64). */
export function compactJson(v: unknown, maxString = 48): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'string' && x.length > maxString ? `${x.slice(0, maxString - 8)}...(${x.length} chars)` : x,
  );
}

/**
 * `filter {"event_type":"alert"} expected count 2, got 1`, with the check's comment and, when
 * known, where the nearest record differs: `; closest record: flow.pkts_toserver expected 4, got 3`.
 */
export function describeFailure(r: CheckResult): string {
  const what = r.filter !== null ? `filter ${compactJson(r.filter)}` : r.kind;
  const exp = r.expected !== null ? describeExpectation(r.expected) : '?';
  const comment = r.comment !== undefined ? ` (${r.comment})` : '';
  let s = `${what} expected ${exp}, got ${r.got ?? 'nothing'}${comment}`;
  if (r.closest !== undefined) {
    const diffs = r.closest.map(
      (m) => `${m.key} expected ${compactJson(m.expected)}, got ${'got' in m ? compactJson(m.got) : 'no such key'}`,
    );
    s += `; closest record: ${diffs.join('; ')}`;
  }
  return s;
}
