/**
 * HTTP/1.x probing parser: recognises HTTP by content on any port (ports are only a hint), as
 * Suricata's probing parsers do. To the server, a request starts with a known method followed by
 * a space; to the client, a response starts with `HTTP/1.`.
 */

/** Result of a probe: recognised, rejected, or too few bytes to tell. */
export type ProbeResult = 'yes' | 'no' | 'need_more';

/** Methods recognised at the start of a to-server stream: RFC 9110, PATCH, WebDAV and its extensions. */
export const HTTP_METHODS: readonly string[] = [
  'GET',
  'POST',
  'HEAD',
  'PUT',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'CONNECT',
  'PATCH',
  // WebDAV (RFC 4918), versioning (RFC 3253), ACL (RFC 3744), binding (RFC 5842), CalDAV (RFC 4791)
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'SEARCH',
  'REPORT',
  'CHECKOUT',
  'CHECKIN',
  'UNCHECKOUT',
  'MERGE',
  'MKACTIVITY',
  'MKWORKSPACE',
  'VERSION-CONTROL',
  'BASELINE-CONTROL',
  'LABEL',
  'UPDATE',
  'ACL',
  'BIND',
  'UNBIND',
  'REBIND',
  'MKCALENDAR',
  'ORDERPATCH',
];

/** Each method followed by its space, as bytes (built once). */
const METHOD_BYTES: readonly Uint8Array[] = HTTP_METHODS.map((m) => Uint8Array.from(Buffer.from(m + ' ', 'latin1')));
const RESPONSE_PREFIX = Uint8Array.from(Buffer.from('HTTP/1.', 'latin1'));

/** Compares `pat` with `buf[off..off+len)`: 1 full match, 0 a prefix of it (need more), -1 mismatch. */
function matchPrefix(buf: Uint8Array, off: number, len: number, pat: Uint8Array): number {
  const n = len < pat.length ? len : pat.length;
  for (let i = 0; i < n; i++) if (buf[off + i] !== pat[i]) return -1;
  return n === pat.length ? 1 : 0;
}

/**
 * Probes the first bytes of one direction of a TCP stream.
 * @param dir 0 = to server (request), 1 = to client (response)
 */
export function probeHttp(buf: Uint8Array, off: number, len: number, dir: 0 | 1): ProbeResult {
  if (len <= 0) return 'need_more';
  if (dir === 1) {
    const r = matchPrefix(buf, off, len, RESPONSE_PREFIX);
    return r === 1 ? 'yes' : r === 0 ? 'need_more' : 'no';
  }
  let more = false;
  for (let i = 0; i < METHOD_BYTES.length; i++) {
    const r = matchPrefix(buf, off, len, METHOD_BYTES[i]!);
    if (r === 1) return 'yes';
    if (r === 0) more = true;
  }
  return more ? 'need_more' : 'no';
}
