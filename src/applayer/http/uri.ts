/**
 * Request-URI normalisation, after libhtp's (the parser behind Suricata's `http.uri`):
 * percent-decoding of the path (invalid escapes kept), optional second decoding pass, backslash to
 * slash, `//` collapsed, dot segments removed without climbing above the root, and scheme and host
 * lowercased in an absolute URI. The query string is kept raw in `uri` and decoded separately in
 * `queryDecoded`. Strings are latin1: one character per byte, so no byte is lost.
 */

/** Normalised form of one request URI. */
export interface NormalizedUri {
  /** The normalised URI: [scheme://authority] + path + [?query raw] + [#fragment raw]. */
  uri: string;
  /** The normalised path alone. */
  path: string;
  /** The query string as sent (no leading `?`), '' when none. */
  query: string;
  /** The query percent-decoded with `+` as space (form encoding). */
  queryDecoded: string;
  /** Host of an absolute URI, lowercased, '' otherwise. */
  host: string;
  /** Port of an absolute URI, -1 when absent or invalid. */
  port: number;
  /** The second decoding pass changed the path (`http.double_encoded_uri`). */
  doubleEncoded: boolean;
  /** A `%` not followed by two hex digits was seen (kept as is). */
  invalidEncoding: boolean;
}

/** Options of `normalizeUri`. */
export interface UriOptions {
  /** Decode the path a second time (defeats `%252e` evasion); default true. */
  doubleDecode?: boolean;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** Result flag of the last `percentDecode` call (module-level to avoid a result object). */
let lastInvalid = false;

/**
 * Decodes `%XX` escapes of a latin1 string; an escape that is not two hex digits is kept as is.
 * With `plusToSpace`, `+` becomes a space (application/x-www-form-urlencoded).
 */
export function percentDecode(s: string, plusToSpace = false): string {
  lastInvalid = false;
  if (s.indexOf('%') < 0 && (!plusToSpace || s.indexOf('+') < 0)) return s;
  let out = '';
  let start = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      const h = i + 2 < n ? hexVal(s.charCodeAt(i + 1)) : -1;
      const l = h >= 0 ? hexVal(s.charCodeAt(i + 2)) : -1;
      if (l < 0) {
        lastInvalid = true;
        continue;
      }
      out += s.slice(start, i) + String.fromCharCode((h << 4) | l);
      i += 2;
      start = i + 1;
    } else if (c === 43 && plusToSpace) {
      out += s.slice(start, i) + ' ';
      start = i + 1;
    }
  }
  return out + s.slice(start);
}

/**
 * Removes `.` and `..` segments (RFC 3986 section 5.2.4); `..` never climbs above the root.
 * Empty segments are collapsed first (`//` becomes `/`), as libhtp does.
 */
export function normalizePath(path: string): string {
  if (path.length === 0) return path;
  const abs = path.charCodeAt(0) === 47;
  const parts = path.split('/');
  const out: string[] = [];
  const last = parts.length - 1;
  let trailing = false;
  for (let i = 0; i < parts.length; i++) {
    const seg = parts[i]!;
    if (seg === '' || seg === '.') {
      if (i === last) trailing = true;
      continue;
    }
    if (seg === '..') {
      out.pop();
      if (i === last) trailing = true;
      continue;
    }
    out.push(seg);
  }
  let res = (abs ? '/' : '') + out.join('/');
  if (trailing && out.length > 0) res += '/';
  return res;
}

const ABS_URI = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)/;

/** Normalises a raw request URI (a latin1 string as sent on the request line). */
export function normalizeUri(raw: string, opts: UriOptions = {}): NormalizedUri {
  const doubleDecode = opts.doubleDecode ?? true;
  let prefix = '';
  let host = '';
  let port = -1;
  let rest = raw;
  const m = ABS_URI.exec(raw);
  if (m) {
    const scheme = m[1]!.toLowerCase();
    let authority = m[2]!;
    const at = authority.lastIndexOf('@');
    const userinfo = at >= 0 ? authority.slice(0, at + 1) : '';
    if (at >= 0) authority = authority.slice(at + 1);
    const hp = splitHostPort(authority);
    host = hp.host;
    port = hp.port;
    prefix = scheme + '://' + userinfo + host + (hp.portText !== '' ? ':' + hp.portText : '');
    rest = raw.slice(m[0].length);
  }
  // The query starts at the first raw '?': an encoded %3F does not split (it is path data).
  let q = rest.indexOf('?');
  let frag = '';
  let query = '';
  let path: string;
  if (q >= 0) {
    path = rest.slice(0, q);
    query = rest.slice(q + 1);
  } else {
    q = rest.indexOf('#');
    path = q >= 0 ? rest.slice(0, q) : rest;
    frag = q >= 0 ? rest.slice(q) : '';
  }
  let p = percentDecode(path);
  let invalidEncoding = lastInvalid;
  let doubleEncoded = false;
  if (doubleDecode && p.indexOf('%') >= 0) {
    const p2 = percentDecode(p);
    if (p2 !== p) {
      doubleEncoded = true;
      p = p2;
    }
  }
  if (p.indexOf('\\') >= 0) p = p.replace(/\\/g, '/');
  p = normalizePath(p);
  if (prefix !== '' && p === '') p = '/';
  const queryDecoded = percentDecode(query, true);
  invalidEncoding = invalidEncoding || lastInvalid;
  const uri = prefix + p + (q >= 0 && frag === '' ? '?' + query : frag);
  return { uri, path: p, query, queryDecoded, host, port, doubleEncoded, invalidEncoding };
}

/** Splits `host[:port]` (IPv6 in brackets kept): host lowercased, trailing dot removed. */
export function splitHostPort(s: string): { host: string; port: number; portText: string } {
  let host = s.trim();
  let portText = '';
  const close = host.lastIndexOf(']');
  const colon = host.lastIndexOf(':');
  if (colon > close && (host.charCodeAt(0) === 91 || host.indexOf(':') === colon)) {
    portText = host.slice(colon + 1);
    host = host.slice(0, colon);
  }
  host = host.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  let port = -1;
  if (/^[0-9]{1,5}$/.test(portText)) {
    const v = Number(portText);
    if (v <= 65535) port = v;
  }
  return { host, port, portText };
}
