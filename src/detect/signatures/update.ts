/**
 * Rule management in the manner of suricata-update: read rule sources (files, directories,
 * .tar.gz archives, http(s) URLs), merge them by gid:sid, apply enable.conf / disable.conf /
 * drop.conf / modify.conf, test-load the result with the real parser and compiler, and write one
 * merged file atomically. The CLI (`vigil rules update`) is a thin layer over runUpdate.
 *
 * Filter semantics follow suricata-update's main.py and matchers.py (1.3): per rule, disable
 * matchers run first (only on enabled rules), then enable matchers (only on disabled rules, so
 * enable.conf wins over disable.conf), then drop filters (never on noalert rules), then modify
 * filters, which rewrite the formatted line (`# ` prefixed when disabled).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { CompileError, compileRule } from '../engine/compile.js';
import { enableLinearFallback } from '../engine/regex.js';
import { parseRule, splitOptions } from './parser.js';
import type { RuleVars } from './vars.js';

/** Largest download accepted from a URL source (the ET Open tarball is about 5 MiB). */
export const MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024;
/** Largest uncompressed archive (ET Open unpacks to about 45 MiB). */
export const MAX_ARCHIVE_BYTES = 256 * 1024 * 1024;
/** Most members read from one tar archive. */
export const MAX_ARCHIVE_MEMBERS = 10_000;
/** Default time allowed for one URL download, connection to last byte. */
export const FETCH_TIMEOUT_MS = 60_000;

export type RulesUpdateErrorCode =
  'VIGIL_RULES_SOURCE_UNREADABLE' | 'VIGIL_RULES_CONF_INVALID' | 'VIGIL_RULES_WRITE_FAILED';

/** A source or filter file that cannot be used, or an output that cannot be written. */
export class RulesUpdateError extends Error {
  constructor(
    readonly code: RulesUpdateErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Archives

/** One regular file read from an archive. */
export interface ArchiveMember {
  name: string;
  data: Buffer;
}

function cString(b: Buffer, start: number, len: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

/** A tar numeric field: octal text, or GNU base-256 when the high bit of the first byte is set. */
function tarNumber(b: Buffer, start: number, len: number): number {
  if ((b[start]! & 0x80) !== 0) {
    let v = b[start]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[start + i]!;
    return v;
  }
  const t = cString(b, start, len).trim();
  return t === '' ? 0 : /^[0-7]+$/.test(t) ? parseInt(t, 8) : NaN;
}

/**
 * Regular files of a tar archive (ustar, GNU long names, pax `path`). Throws on a bad header
 * checksum, a member running past the end, or more than `maxMembers` members.
 */
export function readTar(buf: Buffer, maxMembers = MAX_ARCHIVE_MEMBERS): ArchiveMember[] {
  const out: ArchiveMember[] = [];
  let off = 0;
  let longName: string | null = null;
  let members = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (tarNumber(h, 148, 8) !== sum) throw new Error(`bad tar header checksum at offset ${off}`);
    const size = tarNumber(h, 124, 12);
    if (!Number.isFinite(size) || off + 512 + size > buf.length)
      throw new Error(`tar member at offset ${off} runs past the end of the archive`);
    if (++members > maxMembers) throw new Error(`more than ${maxMembers} tar members`);
    const data = buf.subarray(off + 512, off + 512 + size);
    const type = String.fromCharCode(h[156]!);
    let name = cString(h, 0, 100);
    if (h.toString('latin1', 257, 262) === 'ustar') {
      const prefix = cString(h, 345, 155);
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = cString(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      // pax records: "LEN key=value\n"; only the path matters here.
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (m) longName = m[1]!;
      continue;
    }
    if (longName !== null) name = longName;
    longName = null;
    if (type === '0' || type === '\0' || type === '7') out.push({ name, data });
  }
  return out;
}

/** gunzip (bounded by `maxBytes` of output) and read the tar inside. */
export function readTarGz(buf: Buffer, maxBytes = MAX_ARCHIVE_BYTES): ArchiveMember[] {
  let tar: Buffer;
  try {
    tar = zlib.gunzipSync(buf, { maxOutputLength: maxBytes });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ERR_BUFFER_TOO_LARGE' ? `archive larger than ${maxBytes} bytes unpacked` : (e as Error).message,
      { cause: e },
    );
  }
  return readTar(tar);
}

// ---------------------------------------------------------------------------------------------
// Sources

/** One rule file as read from a source. */
export interface SourceFile {
  /** The --source argument, redacted for display (see displaySource). */
  source: string;
  /** The file's path: as found on disk, inside the archive, or the URL's last path segment. */
  path: string;
  /** The file name (basename), which `group:` matches. */
  group: string;
  text: string;
}

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
  maxArchiveBytes: number;
}

const DEFAULT_LIMITS: FetchLimits = {
  timeoutMs: FETCH_TIMEOUT_MS,
  maxBytes: MAX_DOWNLOAD_BYTES,
  maxArchiveBytes: MAX_ARCHIVE_BYTES,
};

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/**
 * A source as shown in reports and the output header: URLs lose credentials, query and all but
 * the last path segment, since subscription rulesets carry their secret code in the path.
 */
export function displaySource(location: string): string {
  if (!isUrl(location)) return location;
  try {
    const u = new URL(location);
    const last = u.pathname.split('/').pop() ?? '';
    return `${u.protocol}//${u.host}/${u.pathname.split('/').length > 2 ? '.../' : ''}${last}`;
  } catch {
    return location;
  }
}

/** Download with a timeout and a size cap. */
export async function fetchBytes(url: string, limits: FetchLimits = DEFAULT_LIMITS): Promise<Buffer> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    const res = await fetch(url, { signal, redirect: 'follow', headers: { 'user-agent': 'vigil-rules-update' } });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? 'NaN');
    if (declared > limits.maxBytes) {
      await res.body?.cancel();
      throw new Error(`larger than ${limits.maxBytes} bytes`);
    }
    const chunks: Buffer[] = [];
    let n = 0;
    if (res.body !== null) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        n += value.byteLength;
        if (n > limits.maxBytes) {
          await reader.cancel();
          throw new Error(`larger than ${limits.maxBytes} bytes`);
        }
        chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      }
    }
    return Buffer.concat(chunks, n);
  } catch (e) {
    if (signal.aborted) throw new Error(`timed out after ${limits.timeoutMs / 1000} s`, { cause: e });
    // fetch() reports network failures as "fetch failed" with the reason in `cause`.
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    // Errno codes (ECONNREFUSED) are the clearest; undici's own codes (UND_ERR_*) are not.
    const code = cause?.code?.startsWith('UND_') === true ? undefined : cause?.code;
    throw new Error(code ?? cause?.message ?? (e as Error).message, { cause: e });
  }
}

/** Rule files in `buf`: a tar or tar.gz archive (its *.rules members, by path) or rule text. */
function filesFromBytes(buf: Buffer, source: string, name: string, limits: FetchLimits): SourceFile[] {
  let members: ArchiveMember[] | null = null;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) members = readTarGz(buf, limits.maxArchiveBytes);
  else if (buf.length >= 512 && buf.toString('latin1', 257, 262) === 'ustar') members = readTar(buf);
  if (members === null) return [{ source, path: name, group: path.posix.basename(name), text: decodeText(buf) }];
  return members
    .filter((m) => m.name.endsWith('.rules'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((m) => ({ source, path: m.name, group: path.posix.basename(m.name), text: decodeText(m.data) }));
}

const decodeText = (b: Buffer): string => b.toString('utf8').replace(/^\uFEFF/, '');

/**
 * Read one source: a rule file, a directory (its *.rules files, sorted by name), a tar/tar.gz
 * archive (its *.rules members) or an http(s) URL to either. Throws RulesUpdateError.
 */
export async function readSource(location: string, limits: Partial<FetchLimits> = {}): Promise<SourceFile[]> {
  const lim: FetchLimits = { ...DEFAULT_LIMITS, ...limits };
  const shown = displaySource(location);
  const fail = (why: string): RulesUpdateError =>
    new RulesUpdateError('VIGIL_RULES_SOURCE_UNREADABLE', `cannot read source ${shown}: ${why}`);
  if (isUrl(location)) {
    let buf: Buffer;
    try {
      buf = await fetchBytes(location, lim);
    } catch (e) {
      throw fail((e as Error).message);
    }
    const name = decodeURIComponent(new URL(location).pathname.split('/').pop() ?? '') || 'download.rules';
    try {
      return filesFromBytes(buf, shown, name, lim);
    } catch (e) {
      throw fail((e as Error).message);
    }
  }
  try {
    if (fs.statSync(location).isDirectory()) {
      const names = fs
        .readdirSync(location)
        .filter((n) => n.endsWith('.rules') && fs.statSync(path.join(location, n)).isFile())
        .sort();
      return names.map((n) => {
        const p = path.join(location, n);
        return { source: shown, path: p, group: n, text: decodeText(fs.readFileSync(p)) };
      });
    }
    return filesFromBytes(fs.readFileSync(location), shown, location, lim);
  } catch (e) {
    throw fail((e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
}

// ---------------------------------------------------------------------------------------------
// Rules as suricata-update sees them: identity, state and text, not full semantics

/** One rule of the merged set. */
export interface RuleEntry {
  gid: number;
  sid: number;
  rev: number;
  action: string;
  msg: string;
  /** `metadata` entries, e.g. `deployment Perimeter`. */
  metadata: string[];
  /** `noalert;` or `flowbits:noalert;` (drop.conf leaves these alone, as suricata-update does). */
  noalert: boolean;
  /** The rule text without any leading `#`. */
  text: string;
  /** False when the rule is commented out. */
  enabled: boolean;
  source: string;
  path: string;
  group: string;
  /** 1-based line where the rule starts in its file. */
  line: number;
}

type RuleIdentity = Pick<RuleEntry, 'gid' | 'sid' | 'rev' | 'action' | 'msg' | 'metadata' | 'noalert'>;

/**
 * The identity of a rule (`action ... (options)` with a sid), or why the text is not one. This is
 * deliberately shallow: rules the engine cannot load are still carried through and reported by
 * the test load, exactly as suricata-update carries rules its Suricata may reject.
 */
export function ruleIdentity(text: string): RuleIdentity | string {
  const open = text.indexOf('(');
  if (open < 0 || !text.endsWith(')')) return 'not a rule: no (options)';
  const head = text.slice(0, open).trim().split(/\s+/);
  const action = head[0] ?? '';
  if (!/^[a-z]+$/.test(action) || head.length < 2) return 'not a rule: no action and protocol';
  const opts = splitOptions(text.slice(open + 1, -1));
  if (typeof opts === 'string') return `not a rule: ${opts}`;
  const id: RuleIdentity = { gid: 1, sid: -1, rev: 0, action, msg: '', metadata: [], noalert: false };
  for (const o of opts) {
    const raw = o.raw ?? '';
    switch (o.keyword) {
      case 'sid':
      case 'gid':
      case 'rev':
        if (!/^\d+$/.test(raw)) return `not a rule: bad ${o.keyword}`;
        id[o.keyword] = Number(raw);
        break;
      case 'msg':
        id.msg = raw.replace(/^"(.*)"$/s, '$1');
        break;
      case 'metadata':
        for (const m of raw.split(',')) if (m.trim() !== '') id.metadata.push(m.trim());
        break;
      case 'noalert':
        id.noalert = true;
        break;
      case 'flowbits':
        if (raw.trim().toLowerCase() === 'noalert') id.noalert = true;
        break;
    }
  }
  if (id.sid < 0) return 'not a rule: no sid';
  return id;
}

/** An uncommented line that is not a rule: reported, then left out of the output. */
export interface InvalidLine {
  path: string;
  line: number;
  reason: string;
}

/**
 * Rules in a file, including commented-out ones (`# alert ...`, which enable.conf can turn on).
 * Other comments are dropped; uncommented lines that are not rules come back in `invalid`.
 */
export function parseRulesText(file: SourceFile): {
  rules: RuleEntry[];
  invalid: InvalidLine[];
} {
  const rules: RuleEntry[] = [];
  const invalid: InvalidLine[] = [];
  const lines = file.text.split(/\r?\n/);
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!;
    if (buf === '') start = i + 1;
    // A commented multi-line rule has `#` on its continuation lines too.
    else if (buf.trimStart().startsWith('#')) l = l.replace(/^\s*#/, '');
    if (l.endsWith('\\') && i + 1 < lines.length) {
      buf += l.slice(0, -1);
      continue;
    }
    const t = (buf + l).trim();
    buf = '';
    if (t === '') continue;
    const commented = t.startsWith('#');
    const text = commented ? t.replace(/^[#\s]+/, '') : t;
    const id = ruleIdentity(text);
    if (typeof id === 'string') {
      if (!commented) invalid.push({ path: file.path, line: start, reason: id });
      continue;
    }
    rules.push({
      ...id,
      text,
      enabled: !commented,
      source: file.source,
      path: file.path,
      group: file.group,
      line: start,
    });
  }
  return { rules, invalid };
}

const ruleKey = (r: { gid: number; sid: number }): string => `${r.gid}:${r.sid}`;

/**
 * Merge files in order. A later rule with the same gid:sid replaces the earlier one in its
 * position (a warning says which), so later sources override earlier ones.
 */
export function mergeRules(files: SourceFile[]): { rules: RuleEntry[]; invalid: InvalidLine[]; warnings: string[] } {
  const map = new Map<string, RuleEntry>();
  const invalid: InvalidLine[] = [];
  const warnings: string[] = [];
  for (const f of files) {
    const p = parseRulesText(f);
    invalid.push(...p.invalid);
    for (const r of p.rules) {
      const k = ruleKey(r);
      const old = map.get(k);
      if (old !== undefined)
        warnings.push(`rule ${k} from ${r.path}:${r.line} overrides the one from ${old.path}:${old.line}`);
      map.set(k, r);
    }
  }
  return { rules: [...map.values()], invalid, warnings };
}

/** A rule as written to the output: commented out when disabled, as suricata-update does. */
export const formatRule = (r: RuleEntry): string => (r.enabled ? r.text : `# ${r.text}`);

// ---------------------------------------------------------------------------------------------
// Matchers and filter files

export type RuleMatcher = (r: RuleEntry) => boolean;

/** Python's fnmatch (case-sensitive, as on POSIX): `*`, `?`, `[seq]`, `[!seq]`. */
export function globRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      // As fnmatch.translate: a `]` right after `[` or `[!` is a member, not the end.
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      const close = pattern.indexOf(']', j);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close).replace(/[\\[\]]/g, '\\$&');
      if (body.startsWith('!')) body = '^' + body.slice(1);
      else if (body.startsWith('^')) body = '\\' + body;
      out += `[${body}]`;
      i = close;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^(?:${out})$`, 's');
}

/**
 * Translate a Python `re` pattern to a JavaScript RegExp: leading inline flags (`(?i)`, `(?s)`,
 * `(?m)`), named groups `(?P<n>...)` / `(?P=n)`, and `\A` / `\Z`. Throws on what JS cannot take.
 */
export function pythonRegExp(src: string, flags: string): RegExp {
  let f = flags;
  let s = src;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(s);
  if (inline) {
    for (const c of inline[1]!) {
      if (c === 'i' || c === 'm' || c === 's') f += f.includes(c) ? '' : c;
      else if (c !== 'u' && c !== 'a') throw new Error(`inline flag (?${c}) not supported`);
    }
    s = s.slice(inline[0].length);
  }
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[i + 1] ?? '';
      out += n === 'A' ? '^' : n === 'Z' ? '$' : c + n;
      i++;
    } else if (s.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (s.startsWith('(?P=', i)) {
      const close = s.indexOf(')', i);
      if (close < 0) throw new Error('unterminated (?P=');
      out += `\\k<${s.slice(i + 4, close)}>`;
      i = close;
    } else out += c;
  }
  return new RegExp(out, f);
}

/**
 * Parse a matcher as suricata-update does, first form that fits: `*`; `sid`, `gid:sid` or
 * `gid:sid:rev` (comma-separated lists allowed); `re:REGEX` (case-insensitive search of the rule
 * text); `filename:GLOB` (the file's path); `group:GLOB` or `NAME.rules` (the file name, with or
 * without `.rules`); `metadata:KEY VALUE` (case-insensitive). Returns the reason when none fits.
 */
export function parseMatcher(spec: string): RuleMatcher | string {
  const s = spec.trim();
  if (s === '*') return () => true;
  const ids = s.split(',').map((e) => e.trim().split(':'));
  if (ids.every((p) => p.length <= 3 && p.every((x) => /^\d+$/.test(x)))) {
    const want = ids.map((p) => p.map(Number));
    return (r) =>
      want.some((p) =>
        p.length === 1 ? r.gid === 1 && r.sid === p[0] : r.gid === p[0] && r.sid === p[1] && (p[2] ?? r.rev) === r.rev,
      );
  }
  if (s.startsWith('re:')) {
    let re: RegExp;
    try {
      re = pythonRegExp(s.slice(3).trim(), 'i');
    } catch (e) {
      return `bad regular expression: ${(e as Error).message}`;
    }
    return (r) => re.test(r.text);
  }
  if (s.startsWith('filename:')) {
    const g = globRegExp(s.slice(9).trim());
    return (r) => g.test(r.path);
  }
  if (s.startsWith('group:') || s.endsWith('.rules')) {
    const g = globRegExp((s.startsWith('group:') ? s.slice(6) : s).trim());
    return (r) => g.test(r.group) || g.test(r.group.replace(/\.[^.]*$/, ''));
  }
  if (s.startsWith('metadata:')) {
    const kv = /^(\S+) +(.+)$/.exec(s.slice(9).trim());
    if (!kv) return 'metadata: needs a key and a value';
    const key = kv[1]!.toLowerCase();
    const value = kv[2]!.trim().toLowerCase();
    return (r) =>
      r.metadata.some((m) => {
        const sp = m.indexOf(' ');
        return (
          sp > 0 &&
          m.slice(0, sp).trim().toLowerCase() === key &&
          m
            .slice(sp + 1)
            .trim()
            .toLowerCase() === value
        );
      });
  }
  return `unrecognised matcher "${s.slice(0, 60)}"`;
}

/** Significant lines of a filter file: blank and `#` lines skipped, ` #` comments cut. */
function confLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t === '' || t.startsWith('#')) continue;
    const cut = t.indexOf(' #');
    out.push({ line: i + 1, text: cut < 0 ? t : t.slice(0, cut) });
  }
  return out;
}

const confError = (file: string, line: number, why: string): RulesUpdateError =>
  new RulesUpdateError('VIGIL_RULES_CONF_INVALID', `${file}:${line}: ${why}`);

/**
 * Parse enable.conf, disable.conf or drop.conf: one matcher per line. Unlike suricata-update,
 * which logs and skips a line it cannot parse, a bad line is an error: a typo must not silently
 * leave a rule on.
 */
export function parseMatcherConf(text: string, file: string): RuleMatcher[] {
  return confLines(text).map(({ line, text: t }) => {
    const m = parseMatcher(t);
    if (typeof m === 'string') throw confError(file, line, m);
    return m;
  });
}

/** A modify.conf line: matching rules have `apply` run over their formatted line. */
export interface ModifyFilter {
  match: RuleMatcher;
  apply(line: string): string;
}

/** shlex.split in POSIX mode, as suricata-update tokenises modify.conf lines. */
export function shellSplit(s: string): string[] | string {
  const out: string[] = [];
  let cur = '';
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else if (c === "'") {
      const close = s.indexOf("'", i + 1);
      if (close < 0) return 'no closing quotation';
      cur += s.slice(i + 1, close);
      has = true;
      i = close;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        // Inside double quotes a backslash escapes only `"` and `\` (Python's shlex).
        if (s[j] === '\\' && (s[j + 1] === '"' || s[j + 1] === '\\')) j++;
        cur += s[j];
      }
      if (j >= s.length) return 'no closing quotation';
      has = true;
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= s.length) return 'no escaped character';
      cur += s[++i];
      has = true;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

/**
 * Expand a Python re.sub template for one match: `\1`..`\99`, `\g<n>`, `\g<name>`, and the
 * escapes `\n \t \r \f \v \a \b \\`; a group that did not take part gives ''.
 */
function expandTemplate(
  tpl: string,
  groups: (string | undefined)[],
  named: Record<string, string | undefined>,
): string {
  let out = '';
  for (let i = 0; i < tpl.length; i++) {
    const c = tpl[i]!;
    if (c !== '\\' || i + 1 >= tpl.length) {
      out += c;
      continue;
    }
    const n = tpl[++i]!;
    if (/[1-9]/.test(n)) {
      let num = n;
      if (/\d/.test(tpl[i + 1] ?? '') && Number(n + tpl[i + 1]) < groups.length) num += tpl[++i];
      if (Number(num) >= groups.length) throw new Error(`invalid group reference ${num}`);
      out += groups[Number(num)] ?? '';
    } else if (n === 'g' && tpl[i + 1] === '<') {
      const close = tpl.indexOf('>', i);
      if (close < 0) throw new Error('missing > in \\g<');
      const ref = tpl.slice(i + 2, close);
      if (/^\d+$/.test(ref)) {
        if (Number(ref) >= groups.length) throw new Error(`invalid group reference ${ref}`);
        out += groups[Number(ref)] ?? '';
      } else {
        if (!(ref in named)) throw new Error(`unknown group name ${ref}`);
        out += named[ref] ?? '';
      }
      i = close;
    } else {
      const esc: Record<string, string> = {
        n: '\n',
        t: '\t',
        r: '\r',
        f: '\f',
        v: '\v',
        a: '\x07',
        b: '\b',
        '\\': '\\',
      };
      out += esc[n] ?? `\\${n}`;
    }
  }
  return out;
}

/** re.sub(pattern, template, s): every non-overlapping match replaced. */
export function pythonSub(re: RegExp, tpl: string, s: string): string {
  const g = re.flags.includes('g') ? re : new RegExp(re.source, re.flags + 'g');
  return s.replace(g, (...args: unknown[]) => {
    const last = args[args.length - 1];
    const named = typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : {};
    const tail = typeof last === 'object' && last !== null ? 3 : 2;
    const groups = args.slice(0, args.length - tail) as (string | undefined)[];
    return expandTemplate(tpl, groups, named);
  });
}

/**
 * Parse modify.conf: `MATCHER "FROM" "TO"` (FROM a Python regex, TO with `\1` back-references),
 * Oinkmaster's `modifysid MATCHER "FROM" | "TO"` (with `${1}`), and `metadata-add MATCHER KEY
 * VALUE`. `\$` stands for `$`, as in suricata-update.
 */
export function parseModifyConf(text: string, file: string): ModifyFilter[] {
  const out: ModifyFilter[] = [];
  for (const { line, text: raw } of confLines(text)) {
    const t = raw.replace(/\\\$/g, '$');
    const tokens = shellSplit(t);
    if (typeof tokens === 'string') throw confError(file, line, tokens);
    const matcherOf = (spec: string): RuleMatcher => {
      const m = parseMatcher(spec);
      if (typeof m === 'string') throw confError(file, line, m);
      return m;
    };
    if (tokens[0] === 'metadata-add') {
      if (tokens.length !== 4) throw confError(file, line, 'metadata-add needs a matcher, a key and a value');
      const add = `; metadata: ${tokens[2]} ${tokens[3]};)`;
      out.push({ match: matcherOf(tokens[1]!), apply: (l) => l.replace(/;\s*\)$/, add) });
      continue;
    }
    let spec: string, from: string, to: string;
    if (tokens.length === 3) [spec, from, to] = tokens as [string, string, string];
    else if (tokens.length > 4 && tokens[0] === 'modifysid') [spec, from, to] = [tokens[1]!, tokens[2]!, tokens[4]!];
    else throw confError(file, line, 'expected MATCHER "FROM" "TO"');
    let re: RegExp;
    try {
      re = pythonRegExp(from, 'g');
    } catch (e) {
      throw confError(file, line, `bad regular expression: ${(e as Error).message}`);
    }
    const tpl = to.replace(/\$\{(\d+)\}/g, '\\$1');
    // Check the template once against the pattern's group count, so a bad reference fails here.
    const groupCount = new RegExp(`${re.source}|`, re.flags.replace('g', '')).exec('')!.length - 1;
    try {
      expandTemplate(tpl, new Array<undefined>(groupCount + 1).fill(undefined), {});
    } catch (e) {
      if (!/unknown group name/.test((e as Error).message)) throw confError(file, line, (e as Error).message);
    }
    out.push({ match: matcherOf(spec), apply: (l) => pythonSub(re, tpl, l) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Applying filters

export interface Filters {
  enable: RuleMatcher[];
  disable: RuleMatcher[];
  drop: RuleMatcher[];
  modify: ModifyFilter[];
}

export interface FilterCounts {
  /** Disabled rules that enable.conf turned on (commented out in the source, or by disable.conf). */
  enabledByConf: number;
  /** Enabled rules that disable.conf turned off. */
  disabledByConf: number;
  /** Rules drop.conf matched (their action is now `drop`). */
  dropped: number;
  /** Rules whose text modify.conf changed. */
  modified: number;
}

/** Re-read a modified line into the entry; false (entry untouched) when it is no longer a rule. */
function reparse(r: RuleEntry, line: string): boolean {
  const t = line.trim();
  const commented = t.startsWith('#');
  const text = commented ? t.replace(/^[#\s]+/, '') : t;
  const id = ruleIdentity(text);
  if (typeof id === 'string') return false;
  Object.assign(r, id, { text, enabled: !commented });
  return true;
}

/**
 * Apply the filters to every rule in place, in suricata-update's order: disable, enable, drop,
 * modify. A modification that leaves no valid rule is refused with a warning.
 */
export function applyFilters(rules: RuleEntry[], f: Filters, warnings: string[] = []): FilterCounts {
  const c: FilterCounts = { enabledByConf: 0, disabledByConf: 0, dropped: 0, modified: 0 };
  for (const r of rules) {
    for (const m of f.disable)
      if (r.enabled && m(r)) {
        r.enabled = false;
        c.disabledByConf++;
      }
    let enabled = false;
    for (const m of f.enable)
      if (!r.enabled && m(r)) {
        r.enabled = true;
        enabled = true;
      }
    if (enabled) c.enabledByConf++;
    let dropped = false;
    for (const m of f.drop)
      if (!r.noalert && m(r)) {
        r.text = r.text.replace(/^\w+/, 'drop');
        r.action = 'drop';
        dropped = true;
      }
    if (dropped) c.dropped++;
    let modified = false;
    for (const m of f.modify) {
      if (!m.match(r)) continue;
      const before = formatRule(r);
      const after = m.apply(before);
      if (after === before) continue;
      if (reparse(r, after)) modified = true;
      else warnings.push(`modify.conf: rule ${ruleKey(r)} would no longer be a rule, left unchanged: ${after}`);
    }
    if (modified) c.modified++;
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Test load, diff, output

export interface SkippedEntry {
  rule: RuleEntry;
  reason: string;
  group: string;
}

/**
 * Parse every enabled rule with the engine's parser and (unless `compile` is false) compile it,
 * as `vigil analyze` will; returns the loaded count and each skip with its reason.
 */
export function testLoad(
  rules: RuleEntry[],
  vars?: RuleVars,
  compile = true,
): { loaded: number; skipped: SkippedEntry[] } {
  enableLinearFallback();
  let loaded = 0;
  const skipped: SkippedEntry[] = [];
  for (const rule of rules) {
    if (!rule.enabled) continue;
    const p = parseRule(rule.text, vars);
    if (p.kind === 'error') {
      skipped.push({ rule, reason: p.reason, group: p.group });
      continue;
    }
    if (compile) {
      try {
        compileRule(p, 3);
      } catch (e) {
        if (!(e instanceof CompileError)) throw e;
        skipped.push({ rule, reason: e.message, group: e.group });
        continue;
      }
    }
    loaded++;
  }
  return { loaded, skipped };
}

export interface RuleDiff {
  /** gid:sid keys. */
  added: string[];
  removed: string[];
  /** Text or enabled state differs. */
  changed: string[];
}

/** What replacing the previous output text (null: none) with `rules` changes. */
export function diffRules(previous: string | null, rules: RuleEntry[]): RuleDiff {
  const old = new Map<string, string>();
  if (previous !== null) {
    const p = parseRulesText({ source: '', path: '', group: '', text: previous });
    for (const r of p.rules) old.set(ruleKey(r), formatRule(r));
  }
  const d: RuleDiff = { added: [], removed: [], changed: [] };
  const now = new Set<string>();
  for (const r of rules) {
    const k = ruleKey(r);
    now.add(k);
    const o = old.get(k);
    if (o === undefined) d.added.push(k);
    else if (o !== formatRule(r)) d.changed.push(k);
  }
  for (const k of old.keys()) if (!now.has(k)) d.removed.push(k);
  return d;
}

/** The merged file: a short header, then every rule in the order it came in. */
export function formatRules(rules: RuleEntry[], sources: string[]): string {
  const enabled = rules.filter((r) => r.enabled).length;
  let s = '# Written by `vigil rules update`; edits here are lost on the next update.\n';
  s += `# ${rules.length} rules, ${enabled} enabled, from: ${sources.join(' ')}\n`;
  for (const r of rules) s += formatRule(r) + '\n';
  return s;
}

/**
 * Write `data` to `file` atomically: a temporary file in the same directory, fsync, rename over
 * the target, fsync the directory. Readers see the old or the new file, never a partial one.
 */
export function writeFileAtomic(file: string, data: string): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | null = null;
  try {
    fs.mkdirSync(dir, { recursive: true });
    let mode = 0o644;
    try {
      mode = fs.statSync(file).mode & 0o777;
    } catch {
      // No previous file: the default mode.
    }
    fd = fs.openSync(tmp, 'wx', mode);
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // The temporary file was never created (e.g. the directory is unusable): nothing to remove.
    }
    throw new RulesUpdateError(
      'VIGIL_RULES_WRITE_FAILED',
      `cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  // The rename is durable only once the directory entry is on disk. Some file systems cannot
  // fsync a directory (EINVAL); the rename itself has still happened there.
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR')
      throw new RulesUpdateError(
        'VIGIL_RULES_WRITE_FAILED',
        `cannot sync directory ${dir}: ${code ?? (e as Error).message}`,
      );
  }
}

// ---------------------------------------------------------------------------------------------
// The whole update

export interface UpdateOptions {
  /** Paths or URLs, in order: later ones override earlier ones. */
  sources: string[];
  enableConf?: string | null;
  disableConf?: string | null;
  dropConf?: string | null;
  modifyConf?: string | null;
  output: string;
  /** Compile enabled rules (default true); parsing always runs. */
  test?: boolean;
  dryRun?: boolean;
  vars?: RuleVars;
  limits?: Partial<FetchLimits>;
}

/** The report `vigil rules update --json` prints. */
export interface UpdateReport {
  sources: { source: string; files: number; rules: number }[];
  total: number;
  enabled: number;
  disabled: number;
  enabled_by_conf: number;
  disabled_by_conf: number;
  dropped: number;
  modified: number;
  /** Uncommented lines that are not rules (left out). */
  invalid: number;
  loaded: number;
  skipped: number;
  skipped_by_reason: Record<string, number>;
  output: string;
  changes: { added: number; removed: number; changed: number };
  written: boolean;
  dry_run: boolean;
  /** Why nothing was written (empty on success). */
  errors: string[];
}

export interface UpdateResult {
  report: UpdateReport;
  rules: RuleEntry[];
  skipped: SkippedEntry[];
  invalid: InvalidLine[];
  diff: RuleDiff;
  warnings: string[];
}

function readConf(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new RulesUpdateError(
      'VIGIL_RULES_CONF_INVALID',
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

/** Skip reasons grouped, most frequent first (as `vigil rules check` prints them). */
export function countReasons(skipped: { group: string }[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const s of skipped) counts.set(s.group, (counts.get(s.group) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

/**
 * Read, merge, filter, test-load and (unless a dry run, and only when at least one rule loads)
 * write atomically. Unreadable sources and bad filter files throw RulesUpdateError before anything
 * is written; a ruleset that does not load comes back with `report.errors` and `written: false`.
 */
export async function runUpdate(opts: UpdateOptions): Promise<UpdateResult> {
  const filters: Filters = {
    enable: opts.enableConf ? parseMatcherConf(readConf(opts.enableConf), opts.enableConf) : [],
    disable: opts.disableConf ? parseMatcherConf(readConf(opts.disableConf), opts.disableConf) : [],
    drop: opts.dropConf ? parseMatcherConf(readConf(opts.dropConf), opts.dropConf) : [],
    modify: opts.modifyConf ? parseModifyConf(readConf(opts.modifyConf), opts.modifyConf) : [],
  };
  const files: SourceFile[] = [];
  const perSource: UpdateReport['sources'] = [];
  for (const s of opts.sources) {
    const got = await readSource(s, opts.limits);
    files.push(...got);
    perSource.push({ source: displaySource(s), files: got.length, rules: 0 });
  }
  const merged = mergeRules(files);
  for (const [i, s] of opts.sources.entries()) {
    const shown = displaySource(s);
    perSource[i]!.rules = merged.rules.filter((r) => r.source === shown).length;
  }
  const warnings = merged.warnings;
  for (const v of merged.invalid) warnings.push(`${v.path}:${v.line}: ${v.reason}, left out`);
  const counts = applyFilters(merged.rules, filters, warnings);
  const enabled = merged.rules.filter((r) => r.enabled).length;
  const tl = testLoad(merged.rules, opts.vars, opts.test !== false);
  let previous: string | null = null;
  try {
    previous = fs.readFileSync(opts.output, 'utf8');
  } catch {
    // No previous output: everything is new.
  }
  const diff = diffRules(previous, merged.rules);
  const errors: string[] = [];
  if (tl.loaded === 0)
    errors.push(
      enabled === 0
        ? 'no enabled rules: refusing to write an empty ruleset'
        : 'no enabled rule loads: refusing to write',
    );
  let written = false;
  if (errors.length === 0 && opts.dryRun !== true) {
    writeFileAtomic(
      opts.output,
      formatRules(
        merged.rules,
        perSource.map((s) => s.source),
      ),
    );
    written = true;
  }
  const report: UpdateReport = {
    sources: perSource,
    total: merged.rules.length,
    enabled,
    disabled: merged.rules.length - enabled,
    enabled_by_conf: counts.enabledByConf,
    disabled_by_conf: counts.disabledByConf,
    dropped: counts.dropped,
    modified: counts.modified,
    invalid: merged.invalid.length,
    loaded: tl.loaded,
    skipped: tl.skipped.length,
    skipped_by_reason: Object.fromEntries(countReasons(tl.skipped)),
    output: path.resolve(opts.output),
    changes: { added: diff.added.length, removed: diff.removed.length, changed: diff.changed.length },
    written,
    dry_run: opts.dryRun === true,
    errors,
  };
  return { report, rules: merged.rules, skipped: tl.skipped, invalid: merged.invalid, diff, warnings };
}
