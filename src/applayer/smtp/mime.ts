/**
 * Streaming MIME message parser for SMTP (RFC 5322 headers, RFC 2045/2046 multipart bodies,
 * RFC 2047 and RFC 2231 file names), fed the message bytes of one transaction in any pieces.
 *
 * Lines are found with `indexOf` and handled in place; a line cut between two writes is copied into
 * a buffer of MIME_LINE_BUFFER bytes, and a longer one is handed on in fragments, so a message
 * with a megabyte-long base64 line still decodes whole and memory stays bounded. Header values are
 * kept up to MAX_HEADER_VALUE bytes; decoded part contents up to the configured limits (their size
 * is still counted and, when asked, hashed in full). Nothing throws.
 */
import { createHash, type Hash } from 'node:crypto';
import { SMTP_EVENT, type SmtpEvent } from './events.js';

/** Bytes of a line cut between two writes kept before it is handled as fragments. */
export const MIME_LINE_BUFFER = 4096;
/** Message headers kept per transaction. */
export const MAX_HEADERS = 128;
/** Header name length before smtp.mime_long_header_name (Suricata's MAX_HEADER_NAME). */
export const MAX_HEADER_NAME = 75;
/** Header value bytes kept (Suricata's `header-value-depth` default); longer: smtp.mime_long_header_value. */
export const MAX_HEADER_VALUE = 2000;
/** Leaf parts (attachments and text bodies) recorded per message. */
export const MAX_PARTS = 64;
/** Nested multiparts followed; a deeper one is kept as an opaque leaf. */
export const MAX_MIME_DEPTH = 16;
/** Boundary length allowed by RFC 2046 5.1.1; a longer one raises smtp.mime_long_boundary. */
export const MAX_BOUNDARY = 70;
/** Longest boundary still honoured (beyond it the multipart is kept as one opaque leaf). */
const MAX_BOUNDARY_KEPT = 254;
/** File name characters kept; a longer one raises smtp.mime_long_filename. */
export const MAX_FILENAME = 255;
/** URLs kept per message. */
export const MAX_URLS = 64;
/** RFC 5322 2.1.1 line limit (998 + CRLF); a longer line raises smtp.mime_long_line. */
export const MAX_LINE_LEN = 998;
/** RFC 2045 6.7/6.8 encoded line limit; a longer base64 or QP line raises smtp.mime_long_enc_line. */
export const MAX_ENC_LINE_LEN = 76;
/** Parameters read from one Content-Type or Content-Disposition value. */
const MAX_PARAMS = 32;

const EMPTY = new Uint8Array(0);
const CRLF = Buffer.from('\r\n', 'latin1');
const PAD = Buffer.from('=', 'latin1');
/** Decoded bytes collected before one store copy and hash update (a 10 MB base64 attachment: 8 KiB ran 2x the per-line flush). */
const SCRATCH_SIZE = 8192;

/** One message header: name lowercased, value unfolded, trimmed, decoded as UTF-8 (lossy). */
export interface SmtpHeader {
  name: string;
  value: string;
}

/** A leaf MIME part: an attachment (it has a file name) or a text body. */
export class SmtpPart {
  /** File name from Content-Disposition `filename` or Content-Type `name` (RFC 2231/2047 decoded). */
  filename = '';
  /** Content-Type value lowercased (`image/png`), '' when absent. */
  contentType = '';
  /** Content-Type `charset` parameter, lowercased. */
  charset = '';
  /** Content-Transfer-Encoding lowercased (`base64`), '' when absent. */
  encoding = '';
  /** Decoded bytes seen (all of them, kept or not). */
  size = 0;
  /** The first decoded bytes, up to the file / body limit (file.data). */
  data: Uint8Array = EMPTY;
  /** Some decoded bytes were not kept (`size > data.length`). */
  truncated = false;
  /** The part ended with a boundary or with the message; false when the session was cut. */
  complete = false;
  /** Hex digests of all decoded bytes (attachments, with the `hashFiles` option), '' otherwise. */
  md5 = '';
  sha1 = '';
  sha256 = '';

  constructor(readonly attachment: boolean) {}
}

/** What a message yields; SmtpTransaction extends it. */
export class MimeResult {
  /** Message (top-level) headers in order, up to MAX_HEADERS. */
  headers: SmtpHeader[] = [];
  /** Header values (first occurrence), '' or [] when absent. To and Cc are split at commas. */
  from = '';
  to: string[] = [];
  cc: string[] = [];
  subject = '';
  messageId = '';
  xMailer = '';
  date = '';
  /** Parts with a file name (or `Content-Disposition: attachment`), in message order. */
  attachments: SmtpPart[] = [];
  /** Other leaf parts (text bodies), in message order. */
  bodies: SmtpPart[] = [];
  /** `http://` and `https://` URLs found in kept text bodies, deduplicated, up to MAX_URLS. */
  urls: string[] = [];
  /** '' without a message; PARSE_DONE, or where a cut message stopped (HEADER_STARTED, BODY_STARTED), or PARSE_ERROR. */
  mimeStatus = '';
  /** Anomalies, each once, in the order seen. */
  events: SmtpEvent[] = [];
  private seen = 0;

  /** Records `ev` once. */
  addEvent(ev: SmtpEvent): void {
    if (!this.events.includes(ev)) this.events.push(ev);
  }

  /** A message header: keeps the fields logged, flags a repeated one (RFC 5322 3.6: at most once). */
  topHeader(name: string, value: string): void {
    let bit: number;
    switch (name) {
      case 'from':
        bit = 1;
        if (this.seen & bit) break;
        this.from = value;
        break;
      case 'to':
        bit = 2;
        if (this.seen & bit) break;
        this.to = splitAddresses(value);
        break;
      case 'cc':
        bit = 4;
        if (this.seen & bit) break;
        this.cc = splitAddresses(value);
        break;
      case 'subject':
        bit = 8;
        if (this.seen & bit) break;
        this.subject = value;
        break;
      case 'message-id':
        bit = 16;
        if (this.seen & bit) break;
        this.messageId = value;
        break;
      case 'date':
        bit = 32;
        if (this.seen & bit) break;
        this.date = value;
        break;
      case 'x-mailer':
        if (this.xMailer === '') this.xMailer = value;
        return;
      default:
        return;
    }
    // A second From/To/Subject is a known display-spoofing trick: clients show one, filters check another.
    if (this.seen & bit) this.addEvent(SMTP_EVENT.DUPLICATE_FIELDS);
    this.seen |= bit;
  }
}

/** Limits and options of one message. */
export interface MimeLimits {
  /** Decoded bytes kept per attachment. */
  fileLimit: number;
  /** Decoded bytes kept per text body. */
  bodyLimit: number;
  /** Decoded bytes kept per message over all parts. */
  dataLimit: number;
  /** Hash every attachment in full (md5, sha1, sha256). */
  hash: boolean;
}

/**
 * Splits an address list at commas outside quotes, angle brackets, parentheses and brackets
 * (Suricata splits at every comma, breaking `"Doe, Jane" <jane@x>`), trimming each entry.
 */
export function splitAddresses(v: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (quoted) {
      if (c === 92)
        i++; // backslash escape
      else if (c === 34) quoted = false;
      continue;
    }
    if (c === 34) quoted = true;
    else if (c === 60 || c === 40 || c === 91) depth++;
    else if ((c === 62 || c === 41 || c === 93) && depth > 0) depth--;
    else if (c === 44 && depth === 0) {
      const s = v.slice(start, i).trim();
      if (s !== '') out.push(s);
      start = i + 1;
    }
  }
  const s = v.slice(start).trim();
  if (s !== '') out.push(s);
  return out;
}

// ------------------------------------------------------------------ header parameters

/** Bytes of a latin1 string (one char per byte) decoded in `charset` (UTF-8 unless latin1/ASCII). */
function decodeCharset(bytes: Buffer, charset: string): string {
  const cs = charset.toLowerCase();
  if (cs === 'iso-8859-1' || cs === 'latin1' || cs === 'us-ascii' || cs === 'ascii' || cs === 'windows-1252') {
    return bytes.toString('latin1');
  }
  return bytes.toString('utf8');
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** RFC 2231 `%XX` decoding of a latin1 string into bytes. */
function percentBytes(s: string): Buffer {
  const out = Buffer.allocUnsafe(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    if (c === 37 && i + 2 < s.length && hexVal(s.charCodeAt(i + 1)) >= 0 && hexVal(s.charCodeAt(i + 2)) >= 0) {
      out[n++] = hexVal(s.charCodeAt(i + 1)) * 16 + hexVal(s.charCodeAt(i + 2));
      i += 2;
    } else out[n++] = c;
  }
  return out.subarray(0, n);
}

/** RFC 2047 encoded words (`=?utf-8?B?...?=`) decoded; other text taken as UTF-8 bytes. */
export function decodeEncodedWords(s: string): string {
  const re = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;
  let out = '';
  let last = 0;
  let prevWord = false;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const between = s.slice(last, m.index);
    // Whitespace between two adjacent encoded words is dropped (RFC 2047 6.2).
    if (!(prevWord && /^[ \t]*$/.test(between))) out += Buffer.from(between, 'latin1').toString('utf8');
    const cs = m[1]!.replace(/\*.*$/, ''); // RFC 2231 5: charset*lang
    const text = m[3]!;
    let bytes: Buffer;
    if (m[2] === 'B' || m[2] === 'b') bytes = Buffer.from(text, 'base64');
    else bytes = percentBytes(text.replace(/_/g, ' ').replace(/=/g, '%'));
    out += decodeCharset(bytes, cs);
    last = m.index + m[0].length;
    prevWord = true;
  }
  if (last === 0) return Buffer.from(s, 'latin1').toString('utf8');
  return out + Buffer.from(s.slice(last), 'latin1').toString('utf8');
}

/**
 * Parses `value; name=val; name="quoted"` (a latin1 string): the lowercased main value and the
 * parameters by lowercased name, with RFC 2231 extended (`name*=utf-8''a%20b`) and continued
 * (`name*0=`, `name*1*=`) parameters assembled and decoded to UTF-8.
 */
export function parseHeaderParams(raw: string): { value: string; params: Map<string, string> } {
  const n = raw.length;
  let i = raw.indexOf(';');
  if (i < 0) i = n;
  const value = raw.slice(0, i).trim().toLowerCase();
  const plain = new Map<string, string>();
  // name -> sections (index -> [value, extended])
  const sections = new Map<string, [string, boolean][]>();
  let count = 0;
  while (i < n && count < MAX_PARAMS) {
    i++; // ';'
    while (i < n && (raw.charCodeAt(i) === 32 || raw.charCodeAt(i) === 9)) i++;
    const eq = i;
    let j = i;
    while (j < n && raw.charCodeAt(j) !== 61 && raw.charCodeAt(j) !== 59) j++;
    const name = raw.slice(eq, j).trim().toLowerCase();
    if (j >= n || raw.charCodeAt(j) === 59) {
      i = j;
      continue;
    }
    j++; // '='
    while (j < n && (raw.charCodeAt(j) === 32 || raw.charCodeAt(j) === 9)) j++;
    let v = '';
    if (j < n && raw.charCodeAt(j) === 34) {
      j++;
      while (j < n && raw.charCodeAt(j) !== 34) {
        if (raw.charCodeAt(j) === 92 && j + 1 < n) j++;
        v += raw[j];
        j++;
      }
      j++; // closing quote
      while (j < n && raw.charCodeAt(j) !== 59) j++;
    } else {
      const s = j;
      while (j < n && raw.charCodeAt(j) !== 59) j++;
      v = raw.slice(s, j).trim();
    }
    i = j;
    count++;
    if (name === '') continue;
    const star = name.indexOf('*');
    if (star < 0) {
      if (!plain.has(name)) plain.set(name, v);
      continue;
    }
    const base = name.slice(0, star);
    const rest = name.slice(star + 1); // '', '0', '0*', '1'
    const ext = rest === '' || rest.endsWith('*');
    const idx = rest === '' ? 0 : parseInt(rest, 10);
    if (!(idx >= 0 && idx < 64)) continue;
    let list = sections.get(base);
    if (list === undefined) {
      list = [];
      sections.set(base, list);
    }
    list[idx] = [v, ext];
  }
  const params = new Map<string, string>();
  for (const [k, v] of plain) params.set(k, decodeEncodedWords(v));
  for (const [base, list] of sections) {
    // Extended form wins over the plain one (RFC 2231 4.1: MUA choice; most prefer it).
    let charset = 'utf-8';
    const parts: Buffer[] = [];
    for (let k = 0; k < list.length; k++) {
      const sec = list[k];
      if (sec === undefined) break; // sections must be contiguous
      const ext = sec[1];
      let v = sec[0];
      if (ext && k === 0) {
        const q1 = v.indexOf("'");
        const q2 = q1 < 0 ? -1 : v.indexOf("'", q1 + 1);
        if (q2 >= 0) {
          if (q1 > 0) charset = v.slice(0, q1);
          v = v.slice(q2 + 1);
        }
      }
      parts.push(ext ? percentBytes(v) : Buffer.from(v, 'latin1'));
    }
    if (parts.length > 0) params.set(base, decodeCharset(Buffer.concat(parts), charset));
  }
  return { value, params };
}

// ------------------------------------------------------------------ decoding tables

/** base64 alphabet value, -1 whitespace, -2 '=', -3 invalid. */
const B64 = (() => {
  const t = new Int8Array(256).fill(-3);
  const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < 64; i++) t[a.charCodeAt(i)] = i;
  t[32] = t[9] = t[13] = t[10] = -1;
  t[61] = -2;
  return t;
})();

const ST_HEADER = 0;
const ST_BODY = 1;
const ST_DONE = 2;

const ENC_IDENTITY = 0;
const ENC_BASE64 = 1;
const ENC_QP = 2;

const URL_RE = /https?:\/\/[^\s<>"'`()[\]{}\\^|]+/gi;

/** Parses one message into a MimeResult. */
export class MimeParser {
  private state = ST_HEADER;
  /** The headers being read are the message's own (not a part's). */
  private top = true;
  /** Boundaries of the open multiparts, outermost first. */
  private readonly bounds: string[] = [];
  // Line assembly.
  private lineBuf: Buffer | null = null;
  private lineLen = 0;
  /** The next bytes continue a line already handed on in fragments. */
  private midLine = false;
  private curLineLen = 0;
  // The header being read.
  private hActive = false;
  private hName = '';
  private hVal: Buffer | null = null;
  private hValLen = 0;
  private hOver = false;
  // The entity whose headers are read.
  private ctType = '';
  private ctBoundary = '';
  private ctName = '';
  private ctCharset = '';
  private dispType = '';
  private dispFilename = '';
  private cte = '';
  // The leaf part being decoded (null: content skipped, as preambles and epilogues are).
  private part: SmtpPart | null = null;
  private enc = ENC_IDENTITY;
  private store: Uint8Array | null = null;
  private storeLen = 0;
  private limit = 0;
  private hashes: Hash[] | null = null;
  /** A line ended in an identity/QP part: CRLF is written if more content follows (RFC 2046 5.1.1). */
  private eolPending = false;
  private b64 = 0;
  private b64n = 0;
  private qp = 0;
  private qpHex = 0;
  private qpHexChar = 0;
  private readonly scratch: Uint8Array;
  private scratchLen = 0;
  /** Bytes kept over the message's finished parts. */
  private stored = 0;
  private partCount = 0;
  /** Bytes written (the message size). */
  size = 0;

  constructor(
    private readonly result: MimeResult,
    private readonly limits: MimeLimits,
    scratch?: Uint8Array,
  ) {
    this.scratch = scratch !== undefined && scratch.length >= 16 ? scratch : new Uint8Array(SCRATCH_SIZE);
  }

  /** Whether the message has ended (`end` or `abort` was called). */
  get done(): boolean {
    return this.state === ST_DONE;
  }

  /** Feeds message bytes `b[s, e)` (dot-unstuffed DATA lines or BDAT chunk bytes). */
  write(b: Buffer, s: number, e: number): void {
    if (this.state === ST_DONE || e <= s) return;
    this.size += e - s;
    let p = s;
    while (p < e) {
      let lf = b.indexOf(10, p);
      if (lf >= e) lf = -1;
      if (lf < 0) {
        this.append(b, p, e);
        return;
      }
      if (this.lineLen === 0) {
        let le = lf;
        if (le > p && b[le - 1] === 13) le--;
        this.line(b, p, le, !this.midLine, true);
      } else {
        this.append(b, p, lf);
        let n = this.lineLen;
        if (n > 0 && this.lineBuf![n - 1] === 13) n--;
        this.lineLen = 0;
        this.line(this.lineBuf!, 0, n, !this.midLine, true);
      }
      this.midLine = false;
      p = lf + 1;
    }
  }

  /** The message ended: `complete` false when the session was cut before its end. */
  end(complete: boolean): void {
    if (this.state === ST_DONE) return;
    if (this.lineLen > 0) {
      const n = this.lineLen;
      this.lineLen = 0;
      this.line(this.lineBuf!, 0, n, !this.midLine, true);
    }
    const inHeaders = this.state === ST_HEADER && this.top;
    if (this.state === ST_HEADER) this.finishHeader();
    this.finishLeaf(complete);
    if (complete && this.bounds.length > 0) this.result.addEvent(SMTP_EVENT.MIME_MALFORMED_MSG); // unclosed multipart
    this.result.mimeStatus = complete ? 'PARSE_DONE' : inHeaders ? 'HEADER_STARTED' : 'BODY_STARTED';
    this.close();
  }

  /** The message was abandoned (a new one started before its end). */
  abort(): void {
    if (this.state === ST_DONE) return;
    if (this.state === ST_HEADER) this.finishHeader();
    this.finishLeaf(false);
    this.result.mimeStatus = 'PARSE_ERROR';
    this.result.addEvent(SMTP_EVENT.MIME_PARSE_FAILED);
    this.close();
  }

  private close(): void {
    this.state = ST_DONE;
    this.lineBuf = null;
    this.hVal = null;
    this.bounds.length = 0;
  }

  /** Appends `b[s, e)` to the line buffer, handing full buffers on as fragments. */
  private append(b: Buffer, s: number, e: number): void {
    while (s < e) {
      if (this.lineBuf === null) this.lineBuf = Buffer.allocUnsafe(MIME_LINE_BUFFER);
      const room = MIME_LINE_BUFFER - this.lineLen;
      const n = e - s < room ? e - s : room;
      b.copy(this.lineBuf, this.lineLen, s, s + n);
      this.lineLen += n;
      s += n;
      if (this.lineLen === MIME_LINE_BUFFER) {
        // Keep a trailing CR back: it may be the first half of the CRLF.
        let k = this.lineLen;
        if (this.lineBuf[k - 1] === 13) k--;
        this.line(this.lineBuf, 0, k, !this.midLine, false);
        this.midLine = true;
        if (k < this.lineLen) {
          this.lineBuf[0] = 13;
          this.lineLen = 1;
        } else this.lineLen = 0;
      }
    }
  }

  /** One line `b[s, e)` (EOL excluded), or a fragment of one: `first` starts it, `last` ends it. */
  private line(b: Buffer, s: number, e: number, first: boolean, last: boolean): void {
    if (this.state === ST_DONE) return;
    if (first) this.curLineLen = 0;
    this.curLineLen += e - s;
    if (last && this.curLineLen > MAX_LINE_LEN) this.result.addEvent(SMTP_EVENT.MIME_LONG_LINE);
    if (
      first &&
      this.bounds.length > 0 &&
      e - s >= 2 &&
      b[s] === 45 &&
      b[s + 1] === 45 &&
      this.boundary(b, s, e, last)
    ) {
      return;
    }
    if (this.state === ST_HEADER) this.headerLine(b, s, e, first, last);
    else this.bodyLine(b, s, e, first, last);
  }

  /** Handles `--boundary` / `--boundary--` of an open multipart; false when the line is none. */
  private boundary(b: Buffer, s: number, e: number, last: boolean): boolean {
    for (let d = this.bounds.length - 1; d >= 0; d--) {
      const bd = this.bounds[d]!;
      const after = s + 2 + bd.length;
      if (after > e) continue;
      let k = 0;
      while (k < bd.length && b[s + 2 + k] === bd.charCodeAt(k)) k++;
      if (k < bd.length) continue;
      let close = false;
      if (after + 1 < e && b[after] === 45 && b[after + 1] === 45) close = true;
      else {
        // Only transport padding may follow a delimiter (RFC 2046 5.1.1).
        let q = after;
        while (q < e && (b[q] === 32 || b[q] === 9)) q++;
        if (q < e || !last) continue;
      }
      if (this.state === ST_HEADER) this.finishHeader();
      this.finishLeaf(true);
      if (d < this.bounds.length - 1) {
        this.result.addEvent(SMTP_EVENT.MIME_MALFORMED_MSG); // an inner multipart was not closed
        this.bounds.length = d + 1;
      }
      if (close) {
        this.bounds.length = d; // the epilogue follows, skipped
        this.state = ST_BODY;
      } else {
        this.state = ST_HEADER;
        this.top = false;
        this.resetEntity();
      }
      return true;
    }
    return false;
  }

  private resetEntity(): void {
    this.ctType = '';
    this.ctBoundary = '';
    this.ctName = '';
    this.ctCharset = '';
    this.dispType = '';
    this.dispFilename = '';
    this.cte = '';
  }

  // ---------------------------------------------------------------- headers

  private headerLine(b: Buffer, s: number, e: number, first: boolean, last: boolean): void {
    if (!first) {
      if (this.hActive) this.appendValue(b, s, e);
      return;
    }
    if (e === s && last) {
      this.headersDone();
      return;
    }
    const c = b[s]!;
    if ((c === 32 || c === 9) && this.hActive) {
      this.appendValue(b, s, e); // folded line (RFC 5322 2.2.3): unfolding keeps the whitespace
      return;
    }
    this.finishHeader();
    let colon = b.indexOf(58, s);
    if (colon >= e) colon = -1;
    if (colon <= s) {
      // Not a header: the headers are missing or broken; the line starts the body.
      this.result.addEvent(SMTP_EVENT.MIME_MALFORMED_MSG);
      this.headersDone();
      this.bodyLine(b, s, e, first, last);
      return;
    }
    let name = b.toString('latin1', s, colon).trim();
    if (name.length > MAX_HEADER_NAME) {
      this.result.addEvent(SMTP_EVENT.MIME_LONG_HEADER_NAME);
      name = name.slice(0, MAX_HEADER_NAME);
    }
    this.hName = name.toLowerCase();
    this.hActive = true;
    this.hValLen = 0;
    this.hOver = false;
    this.appendValue(b, colon + 1, e);
  }

  private appendValue(b: Buffer, s: number, e: number): void {
    if (this.hVal === null) this.hVal = Buffer.allocUnsafe(MAX_HEADER_VALUE);
    const room = MAX_HEADER_VALUE - this.hValLen;
    let n = e - s;
    if (n > room) {
      n = room;
      this.hOver = true;
    }
    if (n <= 0) return;
    b.copy(this.hVal, this.hValLen, s, s + n);
    this.hValLen += n;
  }

  private finishHeader(): void {
    if (!this.hActive) return;
    this.hActive = false;
    if (this.hOver) this.result.addEvent(SMTP_EVENT.MIME_LONG_HEADER_VALUE);
    const buf = this.hVal!;
    const name = this.hName;
    if (name === 'content-type' || name === 'content-disposition' || name === 'content-transfer-encoding') {
      const raw = buf.toString('latin1', 0, this.hValLen);
      if (name === 'content-transfer-encoding') this.cte = raw.trim().toLowerCase();
      else {
        const { value, params } = parseHeaderParams(raw);
        if (name === 'content-type') {
          this.ctType = value;
          this.ctBoundary = params.get('boundary') ?? '';
          this.ctName = params.get('name') ?? '';
          this.ctCharset = (params.get('charset') ?? '').toLowerCase();
        } else {
          this.dispType = value;
          this.dispFilename = params.get('filename') ?? '';
        }
      }
    }
    if (!this.top) return;
    if (this.result.headers.length >= MAX_HEADERS) {
      this.result.addEvent(SMTP_EVENT.MIME_TOO_MANY_HEADERS);
      return;
    }
    const value = buf.toString('utf8', 0, this.hValLen).trim();
    this.result.headers.push({ name, value });
    this.result.topHeader(name, value);
  }

  /** The blank line after an entity's headers. */
  private headersDone(): void {
    this.finishHeader();
    this.state = ST_BODY;
    this.top = false;
    if (this.ctType.startsWith('multipart/')) {
      const bd = this.ctBoundary;
      if (bd === '') this.result.addEvent(SMTP_EVENT.MIME_MALFORMED_MSG);
      else {
        if (bd.length > MAX_BOUNDARY) this.result.addEvent(SMTP_EVENT.MIME_LONG_BOUNDARY);
        if (this.bounds.length >= MAX_MIME_DEPTH) this.result.addEvent(SMTP_EVENT.MIME_TOO_MANY_PARTS);
        else if (bd.length <= MAX_BOUNDARY_KEPT) {
          this.bounds.push(bd);
          return; // the preamble follows, skipped
        }
      }
    }
    // message/rfc822 and other types are kept as opaque leaves.
    this.startLeaf();
  }

  // ---------------------------------------------------------------- bodies

  private startLeaf(): void {
    let filename = this.dispFilename !== '' ? this.dispFilename : this.ctName;
    if (filename.length > MAX_FILENAME) {
      this.result.addEvent(SMTP_EVENT.MIME_LONG_FILENAME);
      filename = filename.slice(0, MAX_FILENAME);
    }
    const attachment = filename !== '' || this.dispType === 'attachment';
    // A message without body (headers only) records no part.
    if (this.partCount >= MAX_PARTS) {
      this.result.addEvent(SMTP_EVENT.MIME_TOO_MANY_PARTS);
      return;
    }
    this.partCount++;
    const part = new SmtpPart(attachment);
    part.filename = filename;
    part.contentType = this.ctType;
    part.charset = this.ctCharset;
    part.encoding = this.cte;
    (attachment ? this.result.attachments : this.result.bodies).push(part);
    this.part = part;
    this.enc = this.cte === 'base64' ? ENC_BASE64 : this.cte === 'quoted-printable' ? ENC_QP : ENC_IDENTITY;
    const room = this.limits.dataLimit - this.stored;
    const lim = attachment ? this.limits.fileLimit : this.limits.bodyLimit;
    this.limit = room < lim ? (room > 0 ? room : 0) : lim;
    this.store = null;
    this.storeLen = 0;
    this.hashes = attachment && this.limits.hash ? [createHash('md5'), createHash('sha1'), createHash('sha256')] : null;
    this.eolPending = false;
    this.b64 = this.b64n = 0;
    this.qp = 0;
  }

  private bodyLine(b: Buffer, s: number, e: number, first: boolean, last: boolean): void {
    if (this.part === null) return;
    if (last && this.enc !== ENC_IDENTITY && this.curLineLen > MAX_ENC_LINE_LEN) {
      this.result.addEvent(SMTP_EVENT.MIME_LONG_ENC_LINE);
    }
    // Decoded bytes collect in the scratch buffer, flushed when full or at the part's end: one
    // store copy and hash update per 8 KiB instead of per line.
    if (this.enc === ENC_BASE64) {
      this.decodeBase64(b, s, e);
      return;
    }
    if (first && this.eolPending) {
      this.eolPending = false;
      if (this.enc === ENC_QP) {
        this.out(13);
        this.out(10);
      } else this.sink(CRLF, 0, 2);
    }
    if (this.enc === ENC_IDENTITY) {
      this.sink(b, s, e);
      if (last) this.eolPending = true;
      return;
    }
    this.decodeQp(b, s, e);
    if (last) {
      if (this.qp === 1)
        this.qp = 0; // '=' at the end: soft line break
      else {
        if (this.qp === 2) this.qpInvalid();
        this.eolPending = true;
      }
    }
  }

  private decodeBase64(b: Buffer, s: number, e: number): void {
    // Hot loop (attachments are mostly base64): output bytes written straight into the scratch buffer.
    let acc = this.b64;
    let n = this.b64n;
    const out = this.scratch;
    const room = out.length - 3;
    let o = this.scratchLen;
    for (let i = s; i < e; i++) {
      const v = B64[b[i]!]!;
      if (v >= 0) {
        acc = (acc << 6) | v;
        if (++n === 4) {
          if (o > room) {
            this.scratchLen = o;
            this.flushScratch();
            o = 0;
          }
          out[o] = acc >>> 16;
          out[o + 1] = acc >>> 8;
          out[o + 2] = acc;
          o += 3;
          acc = 0;
          n = 0;
        }
      } else if (v === -2) {
        // Padding closes the quantum; encoders that concatenate parts may continue after it.
        this.scratchLen = o;
        if (n === 2) this.out((acc >>> 4) & 0xff);
        else if (n === 3) {
          this.out((acc >>> 10) & 0xff);
          this.out((acc >>> 2) & 0xff);
        } else if (n === 1) this.result.addEvent(SMTP_EVENT.MIME_INVALID_BASE64);
        o = this.scratchLen;
        acc = 0;
        n = 0;
      } else if (v === -3) this.result.addEvent(SMTP_EVENT.MIME_INVALID_BASE64);
    }
    this.scratchLen = o;
    this.b64 = acc;
    this.b64n = n;
  }

  private decodeQp(b: Buffer, s: number, e: number): void {
    for (let i = s; i < e; i++) {
      const c = b[i]!;
      if (this.qp === 0) {
        if (c === 61) this.qp = 1;
        else this.out(c);
      } else if (this.qp === 1) {
        const h = hexVal(c);
        if (h >= 0) {
          this.qpHex = h;
          this.qpHexChar = c;
          this.qp = 2;
        } else {
          this.result.addEvent(SMTP_EVENT.MIME_INVALID_QP);
          this.out(61);
          this.qp = 0;
          i--; // this byte again, as plain text
        }
      } else {
        const h = hexVal(c);
        if (h >= 0) {
          this.out(this.qpHex * 16 + h);
          this.qp = 0;
        } else {
          this.qpInvalid();
          i--;
        }
      }
    }
  }

  /** `=X` not followed by a second hex digit: kept literally. */
  private qpInvalid(): void {
    this.result.addEvent(SMTP_EVENT.MIME_INVALID_QP);
    this.out(61);
    this.out(this.qpHexChar);
    this.qp = 0;
  }

  private out(c: number): void {
    if (this.scratchLen === this.scratch.length) this.flushScratch();
    this.scratch[this.scratchLen++] = c;
  }

  private flushScratch(): void {
    if (this.scratchLen === 0) return;
    const n = this.scratchLen;
    this.scratchLen = 0;
    this.sink(this.scratch, 0, n);
  }

  /** Decoded bytes `b[s, e)` of the current part: counted, hashed, kept up to the limit. */
  private sink(b: Uint8Array, s: number, e: number): void {
    const part = this.part;
    if (part === null || e <= s) return;
    const n = e - s;
    part.size += n;
    if (this.hashes !== null) {
      const view = b.subarray(s, e);
      for (const h of this.hashes) h.update(view);
    }
    const room = this.limit - this.storeLen;
    if (room <= 0) return;
    const k = n < room ? n : room;
    let store = this.store;
    const need = this.storeLen + k;
    if (store === null || store.length < need) {
      const grown = new Uint8Array(Math.min(this.limit, Math.max(4096, need * 2)));
      if (store !== null) grown.set(store.subarray(0, this.storeLen));
      this.store = store = grown;
    }
    store.set(b.subarray(s, s + k), this.storeLen);
    this.storeLen = need;
  }

  /** Ends the current leaf part, if any. */
  private finishLeaf(complete: boolean): void {
    const part = this.part;
    if (part === null) return;
    if (this.enc === ENC_BASE64) {
      if (this.b64n === 1) this.result.addEvent(SMTP_EVENT.MIME_INVALID_BASE64);
      else if (this.b64n > 1) this.decodeBase64(PAD, 0, 1); // unpadded tail
    } else if (this.enc === ENC_QP && this.qp !== 0) {
      if (this.qp === 2) this.qpInvalid();
      else this.qp = 0; // '=' at the very end: a soft break
    }
    this.flushScratch();
    part.data = this.store === null ? EMPTY : this.store.subarray(0, this.storeLen);
    part.truncated = part.size > this.storeLen;
    part.complete = complete;
    if (this.hashes !== null) {
      part.md5 = this.hashes[0]!.digest('hex');
      part.sha1 = this.hashes[1]!.digest('hex');
      part.sha256 = this.hashes[2]!.digest('hex');
    }
    if (!part.attachment && (part.contentType === '' || part.contentType.startsWith('text/'))) this.urls(part);
    this.stored += this.storeLen;
    this.part = null;
    this.store = null;
    this.hashes = null;
    this.eolPending = false;
  }

  private urls(part: SmtpPart): void {
    const urls = this.result.urls;
    if (part.data.length === 0 || urls.length >= MAX_URLS) return;
    const text = Buffer.from(part.data.buffer, part.data.byteOffset, part.data.length).toString('latin1');
    URL_RE.lastIndex = 0;
    for (let m = URL_RE.exec(text); m !== null && urls.length < MAX_URLS; m = URL_RE.exec(text)) {
      const u = m[0].replace(/[.,;:!?]+$/, '');
      if (!urls.includes(u)) urls.push(u);
    }
  }
}
