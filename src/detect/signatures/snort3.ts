/**
 * Snort 3 rule syntax, rewritten to the Suricata form the keyword parsers understand, so that a
 * Snort 3 rule yields the same ParsedRule structures (a ContentMatch with its buffer and modifiers)
 * as the equivalent Suricata rule. The differences handled:
 * - content modifiers inside the option: `content:"abc",nocase,depth 5,fast_pattern;`
 * - `http_*` keywords are sticky buffers written before the contents (`http_uri; content:"/x";`),
 *   where in Suricata syntax `content:"/x"; http_uri;` is a modifier of the content before it;
 * - `http_header:field user-agent` names one header; `bufferlen` is Suricata's `bsize`.
 * Everything else (`service`, `rem`, `gid`, pcre, byte_*, flow, flowbits, ...) passes unchanged.
 */

/** One option as split from the rule text. */
export interface RawOption {
  keyword: string;
  raw: string | null;
}

export type Dialect = 'suricata' | 'snort3';

/** A rewrite that failed: the Snort keyword at fault and why. */
export interface Snort3Error {
  keyword: string;
  error: string;
}

/** Snort 3 sticky buffers -> the Suricata sticky buffer keyword. */
export const SNORT3_STICKY: Record<string, string> = {
  http_uri: 'http.uri',
  http_raw_uri: 'http.uri.raw',
  http_header: 'http.header',
  http_raw_header: 'http.header.raw',
  http_method: 'http.method',
  http_client_body: 'http.request_body',
  http_cookie: 'http.cookie',
  http_stat_code: 'http.stat_code',
  http_stat_msg: 'http.stat_msg',
  http_version: 'http.protocol',
  http_raw_request: 'http.request_line',
  http_raw_status: 'http.response_line',
  pkt_data: 'pkt_data',
  file_data: 'file.data',
  base64_data: 'base64_data',
  // The payload before service normalisation (telnet, ...); the payload here is never normalised.
  raw_data: 'pkt_data',
};

/** `http_header:field <name>` -> the Suricata buffer holding that header's value. */
const HEADER_FIELDS: Record<string, string> = {
  'user-agent': 'http.user_agent',
  host: 'http.host',
  cookie: 'http.cookie',
  referer: 'http.referer',
  'content-type': 'http.content_type',
  'content-length': 'http.content_len',
  accept: 'http.accept',
  'accept-encoding': 'http.accept_enc',
  'accept-language': 'http.accept_lang',
  connection: 'http.connection',
  location: 'http.location',
  server: 'http.server',
};

/** Options that read the current buffer, so a sticky keyword followed by one is used as a buffer. */
const BUFFER_READERS = new Set([
  'content',
  'pcre',
  'bufferlen',
  'isdataat',
  'byte_test',
  'byte_jump',
  'byte_extract',
  'byte_math',
]);

/** Index just past the closing quote of the pattern in `!"..."`, or -1 when it is not quoted. */
function quotedEnd(raw: string): number {
  let i = raw.startsWith('!') ? 1 : 0;
  while (i < raw.length && raw[i] === ' ') i++;
  if (raw[i] !== '"') return -1;
  for (i++; i < raw.length; i++) {
    if (raw[i] === '\\') i++;
    else if (raw[i] === '"') return i + 1;
  }
  return -1;
}

/** True when a content value carries Snort 3 modifiers after the pattern (`"abc",nocase`). */
function hasCommaModifiers(raw: string | null): boolean {
  if (raw === null) return false;
  const end = quotedEnd(raw);
  return end > 0 && raw.slice(end).trimStart().startsWith(',');
}

/**
 * Decide the rule's dialect. Snort 3 when the header has no addresses (`alert http (...)`), or an
 * option is Snort-3-only: `service`, `bufferlen`, `http_header:field`, a content with comma
 * modifiers, or an `http_*`/`raw_data` keyword used as a buffer (no content before it in the current
 * buffer, and the next option reads a buffer). Otherwise Suricata (which also covers Snort 2).
 */
export function detectDialect(opts: RawOption[], headerless: boolean): Dialect {
  if (headerless) return 'snort3';
  let contentInBuffer = false;
  for (let i = 0; i < opts.length; i++) {
    const { keyword: k, raw } = opts[i]!;
    if (k === 'service' || k === 'bufferlen') return 'snort3';
    if (k === 'content' || k === 'uricontent') {
      if (hasCommaModifiers(raw)) return 'snort3';
      contentInBuffer = true;
      continue;
    }
    const sticky = SNORT3_STICKY[k];
    if (sticky === undefined) continue;
    if (k.startsWith('http_') && raw !== null) return 'snort3';
    // pkt_data, file_data and base64_data are sticky in both dialects.
    if (k === 'pkt_data' || k === 'file_data' || k === 'base64_data') {
      contentInBuffer = false;
      continue;
    }
    const next = opts[i + 1];
    if (!contentInBuffer && next !== undefined && BUFFER_READERS.has(next.keyword)) return 'snort3';
  }
  return 'suricata';
}

/** Split `"pat",mod,mod N` into the content option and Suricata modifier options. */
function expandContent(raw: string): RawOption[] | string {
  const end = quotedEnd(raw);
  if (end < 0) return [{ keyword: 'content', raw }];
  const rest = raw.slice(end).trim();
  const out: RawOption[] = [{ keyword: 'content', raw: raw.slice(0, end) }];
  if (rest === '') return out;
  if (!rest.startsWith(',')) return `unexpected text after the pattern: "${rest.slice(0, 40)}"`;
  let fpOffset: string | null = null;
  let fpLength: string | null = null;
  let fastPattern = false;
  for (const part of rest.slice(1).split(',')) {
    const m = /^\s*([a-z_]+)(?:\s+(\S+))?\s*$/.exec(part);
    if (!m) return `bad content option "${part.trim()}"`;
    const [, name, val] = m as unknown as [string, string, string | undefined];
    switch (name) {
      case 'nocase':
      case 'fast_pattern':
        if (val !== undefined) return `${name} takes no value`;
        if (name === 'fast_pattern') fastPattern = true;
        else out.push({ keyword: name, raw: null });
        break;
      case 'offset':
      case 'depth':
      case 'distance':
      case 'within':
        if (val === undefined) return `${name} needs a value`;
        out.push({ keyword: name, raw: val });
        break;
      case 'fast_pattern_offset':
        if (val === undefined) return `${name} needs a value`;
        fpOffset = val;
        break;
      case 'fast_pattern_length':
        if (val === undefined) return `${name} needs a value`;
        fpLength = val;
        break;
      default:
        return `unknown content option "${name}"`;
    }
  }
  // Snort 3 spells Suricata's fast_pattern:<offset>,<length> as two options.
  if (fpOffset !== null || fpLength !== null) {
    if (fpOffset === null || fpLength === null) return 'fast_pattern_offset and fast_pattern_length go together';
    out.push({ keyword: 'fast_pattern', raw: `${fpOffset},${fpLength}` });
  } else if (fastPattern) out.push({ keyword: 'fast_pattern', raw: null });
  return out;
}

/** Snort 3's inclusive range `a<=>b` as Suricata's exclusive `a-1<>b+1` (other forms are the same). */
function inclusiveRange(v: string): string {
  const m = /^(\d+)\s*<=>\s*(\d+)$/.exec(v);
  if (!m) return v;
  const a = Number(m[1]);
  const b = Number(m[2]);
  if (a === b) return String(a);
  return a === 0 ? `<=${b}` : `${a - 1}<>${b + 1}`;
}

/** Snort 3 stream_size direction -> Suricata's side: to_server counts what the client sent. */
const STREAM_SIDES: Record<string, string> = {
  to_server: 'client',
  to_client: 'server',
  both: 'both',
  either: 'either',
};

/** Snort 3 `stream_size:<op>N[,direction]` as Suricata's `<side>,<op>,N` (side = who sent the bytes). */
function streamSize(v: string): string | null {
  const m = /^(<=|>=|<|>|=|!)?\s*(\d+)\s*(?:,\s*(to_server|to_client|both|either))?$/.exec(v.trim());
  if (!m) return null;
  const op = m[1] === undefined ? '=' : m[1] === '!' ? '!=' : m[1];
  const side = STREAM_SIDES[m[3] ?? 'either']!;
  return `${side},${op},${m[2]}`;
}

/** Rewrite a Snort 3 option list into Suricata options; the first option that cannot be is the error. */
export function snort3ToSuricata(opts: RawOption[]): RawOption[] | Snort3Error {
  const out: RawOption[] = [];
  // Whether a sticky buffer other than the payload is selected (bufferlen on the payload is dsize).
  let inBuffer = false;
  for (const o of opts) {
    const { keyword: k, raw } = o;
    if (k === 'content' && raw !== null) {
      const e = expandContent(raw);
      if (typeof e === 'string') return { keyword: k, error: e };
      out.push(...e);
      continue;
    }
    if (k === 'http_header' && raw !== null) {
      const m = /^field\s+(\S+)$/i.exec(raw);
      if (!m) return { keyword: k, error: `unsupported http_header option "${raw.slice(0, 40)}"` };
      const b = HEADER_FIELDS[m[1]!.toLowerCase()];
      if (b === undefined) return { keyword: k, error: `header field ${m[1]!.slice(0, 40)} has no buffer here` };
      out.push({ keyword: b, raw: null });
      inBuffer = true;
      continue;
    }
    const sticky = SNORT3_STICKY[k];
    if (sticky !== undefined) {
      if (raw !== null) return { keyword: k, error: `unsupported ${k} option "${raw.slice(0, 40)}"` };
      out.push({ keyword: sticky, raw: null });
      inBuffer = sticky !== 'pkt_data';
      continue;
    }
    if (k === 'bufferlen') {
      const parts = (raw ?? '').split(',').map((s) => s.trim());
      // `relative` compares the bytes left after the cursor, which bsize cannot express.
      if (parts.length !== 1) return { keyword: k, error: `unsupported bufferlen option "${parts[1] ?? ''}"` };
      out.push({ keyword: inBuffer ? 'bsize' : 'dsize', raw: inclusiveRange(parts[0]!) });
      continue;
    }
    if (k === 'flowbits' && raw !== null) {
      // Snort 3 sets several bits at once with `set,a&b`; Suricata takes one bit per option.
      const m = /^(set|unset|toggle)\s*,\s*(.*&.*)$/.exec(raw);
      if (m) {
        for (const name of m[2]!.split('&')) out.push({ keyword: k, raw: `${m[1]},${name.trim()}` });
        continue;
      }
    }
    if (k === 'tag' && raw !== null) {
      // Snort 3: tag:session|host_src|host_dst,packets N|seconds N|bytes N
      const m = /^(session|host_src|host_dst)\s*,\s*(packets|seconds|bytes)\s+(\d+)$/.exec(raw);
      if (!m) return { keyword: k, error: `expected session|host_src|host_dst,<packets|seconds|bytes> N` };
      const [type, dir] = m[1] === 'session' ? ['session', ''] : ['host', m[1] === 'host_src' ? ',src' : ',dst'];
      out.push({ keyword: k, raw: `${type},${m[3]},${m[2]}${dir}` });
      continue;
    }
    if (k === 'stream_size' && raw !== null) {
      const r = streamSize(raw);
      if (r === null) return { keyword: k, error: `expected [<|>|=|!|<=|>=]N[,to_server|to_client|both|either]` };
      out.push({ keyword: k, raw: r });
      continue;
    }
    out.push(o);
  }
  return out;
}
