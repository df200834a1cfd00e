/**
 * Files carried in HTTP request bodies, as Suricata finds them (app-layer-htp.c): a POST whose
 * Content-Type has a `boundary=` is `multipart/form-data`, and each part whose Content-Disposition
 * has a `filename` is a file (name from it, content the part's bytes); any other POST body and
 * every PUT body is one file named by the URI path.
 *
 * Works on the request body the parser kept (after chunked decoding and decompression, up to
 * `request-body-limit`), so parts split across TCP segments arrive whole. A part whose closing
 * delimiter lies beyond the kept bytes, or a body cut by the limit or by the connection's end, is
 * a TRUNCATED file: not hashed, not stored (its hash would be of bytes Vigil never saw).
 */
import { HTTP_EVENT } from './events.js';
import type { HttpTransaction } from './parser.js';

/** One file of a request body. */
export interface HttpFile {
  /** From the part's Content-Disposition `filename`, or the URI path for a raw body. */
  name: string;
  /** The file's bytes that were kept (all of them when `complete`). */
  data: Uint8Array;
  /** Bytes on the wire: `data.length`, or more for a raw body cut at the limit. */
  size: number;
  /** All bytes seen and the file closed: it is hashed and may be stored. */
  complete: boolean;
}

/** Parts looked at per body at most (bounds the work on a body of empty parts). */
export const MAX_MULTIPART_PARTS = 100;
/** Longest boundary accepted (Suricata's HTP_BOUNDARY_MAX); RFC 2046 allows 70. */
const MAX_BOUNDARY = 200;

const NONE: readonly HttpFile[] = [];
/** Files per transaction, computed once (the file store and EVE both ask). */
const cache = new WeakMap<HttpTransaction, readonly HttpFile[]>();

/**
 * The `name=` parameter of a header value such as `multipart/form-data; boundary="x y"`: split at
 * `;` outside quotes, name compared without case, surrounding quotes dropped. null when absent.
 */
export function headerParam(value: string, name: string): string | null {
  const want = name.toLowerCase() + '=';
  let start = 0;
  let quoted = false;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 59;
    if (c === 34 && (i === 0 || value.charCodeAt(i - 1) !== 92)) quoted = !quoted;
    if (c !== 59 || (quoted && i < value.length)) continue;
    const tok = value.slice(start, i).trim();
    start = i + 1;
    if (tok.length > want.length - 1 && tok.slice(0, want.length).toLowerCase() === want) {
      let v = tok.slice(want.length).trim();
      if (v.startsWith('"')) v = v.slice(1);
      if (v.endsWith('"')) v = v.slice(0, -1);
      return v;
    }
  }
  return null;
}

/** The boundary of a multipart Content-Type, null when there is none or it is unusable. */
export function multipartBoundary(contentType: string): string | null {
  const b = headerParam(contentType, 'boundary');
  return b === null || b.length === 0 || b.length >= MAX_BOUNDARY ? null : b;
}

/** A part's file name: `filename=`, else RFC 6266's `filename*=charset''pct-encoded`; null when none. */
function partFileName(headers: string): string | null {
  for (const line of headers.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
    const v = line.slice(colon + 1).replace(/\r$/, '');
    const plain = headerParam(v, 'filename');
    if (plain !== null) return plain;
    const ext = headerParam(v, 'filename*');
    if (ext === null) return null;
    const q = ext.indexOf("''");
    const enc = q >= 0 ? ext.slice(q + 2) : ext;
    try {
      return decodeURIComponent(enc);
    } catch {
      // Bad percent-encoding: the name as sent.
      return enc;
    }
  }
  return null;
}

/** Length of the longest end of `data` that is a start of `delim` (a delimiter cut by the limit). */
function partialDelimiter(data: Uint8Array, delim: Buffer): number {
  for (let k = Math.min(data.length, delim.length - 1); k > 0; k--) {
    let ok = true;
    for (let j = 0; j < k && ok; j++) ok = data[data.length - k + j] === delim[j];
    if (ok) return k;
  }
  return 0;
}

/**
 * The files of a multipart body `body` with boundary `boundary`; `whole`: the body is complete
 * (not cut by the limit or the connection's end). Delimiters count at the start of a line only
 * (RFC 2046 section 5.1.1: CRLF "--" boundary); the CRLF before one belongs to it, not to the data.
 */
export function multipartFiles(body: Uint8Array, boundary: string, whole: boolean): HttpFile[] {
  const b = Buffer.from(body.buffer, body.byteOffset, body.length);
  const delim = Buffer.from('--' + boundary, 'latin1');
  const out: HttpFile[] = [];
  let p = b.indexOf(delim);
  for (let parts = 0; p >= 0 && parts < MAX_MULTIPART_PARTS; parts++) {
    const q = p + delim.length;
    if (b[q] === 45 && b[q + 1] === 45) break; // close-delimiter: the form ends
    const lf = b.indexOf(10, q);
    if (lf < 0) break; // cut inside the delimiter line
    // Part headers end at the first empty line (CRLF CRLF; a bare LF is tolerated, as browsers never send it).
    let line = lf + 1;
    let dataStart = -1;
    while (line < b.length) {
      const e = b.indexOf(10, line);
      if (e < 0) break;
      if (e === line || (e === line + 1 && b[line] === 13)) {
        dataStart = e + 1;
        break;
      }
      line = e + 1;
    }
    if (dataStart < 0) break; // cut inside the part headers: no file was opened
    const name = partFileName(b.toString('latin1', lf + 1, dataStart));
    // The next delimiter at the start of a line.
    let next = b.indexOf(delim, dataStart);
    while (next >= 0 && !(next === dataStart || b[next - 1] === 10)) next = b.indexOf(delim, next + 1);
    if (next < 0) {
      // Not closed within the kept bytes: TRUNCATED, minus a delimiter cut at the end.
      if (name !== null) {
        const tail = b.subarray(dataStart);
        const nl = Buffer.concat([Buffer.from('\r\n'), delim]);
        const data = whole ? tail : tail.subarray(0, tail.length - partialDelimiter(tail, nl));
        out.push({ name, data, size: data.length, complete: false });
      }
      break;
    }
    let end = next === dataStart ? next : next - 1;
    if (end > dataStart && b[end - 1] === 13) end--;
    // A part without filename is a form field, not a file; an empty file input sends filename="" and no bytes.
    if (name !== null && !(name === '' && end === dataStart)) {
      out.push({ name, data: b.subarray(dataStart, end), size: end - dataStart, complete: true });
    }
    p = next;
  }
  return out;
}

/** The URI path (query dropped): Suricata's name for a raw POST or PUT body. */
function uriPath(tx: HttpTransaction): string {
  const q = tx.uri.indexOf('?');
  return q >= 0 ? tx.uri.slice(0, q) : tx.uri;
}

/** The files of a transaction's request body (empty for GET and other methods, or no body). */
export function httpRequestFiles(tx: HttpTransaction): readonly HttpFile[] {
  const hit = cache.get(tx);
  if (hit !== undefined) return hit;
  let files: readonly HttpFile[] = NONE;
  const post = tx.method === 'POST';
  if ((post || tx.method === 'PUT') && (tx.requestBodyLength > 0 || tx.requestBody.length > 0)) {
    const whole = !tx.requestBodyTruncated && !tx.events.includes(HTTP_EVENT.REQUEST_INCOMPLETE);
    const boundary = post ? multipartBoundary(tx.contentType) : null;
    if (boundary !== null) files = multipartFiles(tx.requestBody, boundary, whole);
    else {
      const data = tx.requestBody;
      files = [
        {
          name: uriPath(tx),
          data,
          size: whole ? data.length : Math.max(data.length, tx.requestBodyLength),
          complete: whole,
        },
      ];
    }
  }
  cache.set(tx, files);
  return files;
}
