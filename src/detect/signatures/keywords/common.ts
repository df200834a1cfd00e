/**
 * Shared types and value helpers for rule keywords. Every keyword lives in a family file under
 * keywords/ and is registered in registry.ts: adding one is an entry in a family file plus one line.
 */

/** How a keyword relates to its neighbours (Suricata's terms). */
export type KeywordKind =
  /** Switches the inspection buffer for what follows (`http.uri;`, `file.data;`). */
  | 'sticky'
  /** Changes the content (or pcre) just before it (`nocase`, `depth`, legacy `http_uri`). */
  | 'modifier'
  /** Changes the sticky buffer just before it (`dotprefix`, `to_lowercase`). */
  | 'transform'
  /** A match or condition of its own (`content`, `flow`, `byte_test`). */
  | 'standalone'
  /** Describes the rule without matching (`msg`, `sid`, `reference`). */
  | 'meta';

/** A `content` match, with its modifiers applied. */
export interface ContentMatch {
  kind: 'content';
  /** The pattern bytes, hex sections decoded. */
  bytes: Uint8Array;
  negated: boolean;
  nocase: boolean;
  /** Absolute offset/depth; a number, or the name of a byte_extract variable. */
  offset: number | string | null;
  depth: number | string | null;
  /** Relative to the previous match. */
  distance: number | string | null;
  within: number | string | null;
  startswith: boolean;
  endswith: boolean;
  /** `fast_pattern` given: true, 'only', or a [offset, length] chunk. */
  fastPattern: false | true | 'only' | [number, number];
  rawbytes: boolean;
  /** The inspection buffer (`http.uri`, ...); null means the packet/stream payload. */
  buffer: string | null;
  /** Transforms applied to the buffer before matching, in order. */
  transforms: TransformSpec[];
}

/** A `pcre` match. */
export interface PcreMatch {
  kind: 'pcre';
  /** The original pattern text between the slashes. */
  pattern: string;
  /** Suricata flags as written (`i`, `s`, `R`, `U`, ...). */
  flags: string;
  negated: boolean;
  relative: boolean;
  /** The JavaScript translation, compiled once (matched against latin1 strings of the buffer). */
  regex: RegExp;
  buffer: string | null;
  transforms: TransformSpec[];
  /** Capture groups stored in variables (`/re/,flow:name`), in group order; the parser always sets it. */
  captures?: PcreCapture[];
}

/** Where a pcre capture group is stored. */
export interface PcreCapture {
  scope: 'pkt' | 'flow' | 'alert';
  name: string;
}

/** A transform (`dotprefix`, `xor:"0d0a"`, `pcrexform:"..."`) with its argument, if any. */
export interface TransformSpec {
  name: string;
  arg: string | null;
}

/** Rule-level fields the meta keywords fill in. */
export interface RuleMeta {
  msg: string;
  sid: number | null;
  rev: number;
  gid: number;
  classtype: string | null;
  priority: number | null;
  references: { system: string; id: string }[];
  metadata: string[];
  target: 'src_ip' | 'dest_ip' | null;
  noalert: boolean;
}

/** State carried through one rule's options, left to right. */
export interface ParseCtx {
  protocol: string;
  meta: RuleMeta;
  /** The current sticky buffer (null = payload). */
  buffer: string | null;
  /** Transforms given after the current sticky buffer. */
  transforms: TransformSpec[];
  /** The last content or pcre, which modifiers apply to. */
  last: ContentMatch | PcreMatch | null;
  /** Names defined by byte_extract so far (usable as offsets and values later in the rule). */
  byteVars: Set<string>;
}

/** A keyword's parse result: a structured value or a reason (never thrown). */
export type KwResult = { value: unknown } | { error: string };

/** One keyword of the rule language. */
export interface KeywordDef {
  name: string;
  kind: KeywordKind;
  /** Whether a value (`kw:value`) is required, forbidden, or optional. */
  value: 'required' | 'none' | 'optional';
  /** Validate `value` (trimmed, null when absent) and return its structured form. */
  parse(value: string | null, ctx: ParseCtx): KwResult;
}

export const fail = (error: string): KwResult => ({ error });
export const ok = (value: unknown): KwResult => ({ value });

/** A decimal (or 0x hex) unsigned integer up to `max`, else null. */
export function parseUint(s: string, max = 0xffffffff): number | null {
  const t = s.trim();
  let n: number;
  if (/^\d+$/.test(t)) n = Number(t);
  else if (/^0x[0-9a-f]+$/i.test(t)) n = parseInt(t.slice(2), 16);
  else return null;
  return Number.isSafeInteger(n) && n <= max ? n : null;
}

/** A signed decimal integer within [min, max], else null. */
export function parseInt32(s: string, min = -0x80000000, max = 0x7fffffff): number | null {
  const t = s.trim();
  if (!/^[-+]?\d+$/.test(t)) return null;
  const n = Number(t);
  return n >= min && n <= max ? n : null;
}

/** A byte_extract variable name. */
export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Strip the double quotes around a value and undo Suricata's escapes (`\"`, `\;`, `\\`, `\:`).
 * Returns null when the value is not a well-formed quoted string.
 */
export function unquote(v: string): string | null {
  if (v.length < 2 || v[0] !== '"' || v[v.length - 1] !== '"') return null;
  let out = '';
  for (let i = 1; i < v.length - 1; i++) {
    const c = v[i]!;
    if (c === '\\') {
      if (i + 1 >= v.length - 1) return null;
      out += v[++i]!;
    } else if (c === '"') return null;
    else out += c;
  }
  return out;
}

/** Split on commas and trim each part. */
export const splitArgs = (v: string): string[] => v.split(',').map((s) => s.trim());

/** Comparison of an unsigned value: `N`, `=N`, `!N`, `<N`, `>N`, `<=N`, `>=N`, `N<>M`, `N-M`. */
export interface UintCompare {
  op: '=' | '!=' | '<' | '>' | '<=' | '>=' | '<>';
  a: number;
  /** Upper bound for `<>` (exclusive both sides, like Suricata), else equal to a. */
  b: number;
}

/** Parse a Suricata unsigned comparison (dsize, ttl, itype, bsize, urilen, ...). */
export function parseUintCompare(s: string, max: number): UintCompare | string {
  const t = s.trim();
  let m = /^(\d+)\s*(?:<>|-)\s*(\d+)$/.exec(t);
  if (m) {
    const a = parseUint(m[1]!, max);
    const b = parseUint(m[2]!, max);
    if (a === null || b === null) return `out of range (max ${max})`;
    if (a >= b) return `empty range ${a}<>${b}`;
    return { op: '<>', a, b };
  }
  m = /^(<=|>=|<|>|=|!)?\s*(\d+)$/.exec(t);
  if (!m) return `expected N, <N, >N, <=N, >=N, !N or N<>M, got "${t}"`;
  const a = parseUint(m[2]!, max);
  if (a === null) return `out of range (max ${max})`;
  const op = m[1] === undefined ? '=' : m[1] === '!' ? '!=' : (m[1] as UintCompare['op']);
  if (op === '<' && a === 0) return '<0 can never match';
  if (op === '>' && a === max) return `>${max} can never match`;
  return { op, a, b: a };
}
