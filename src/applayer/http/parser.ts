/**
 * Incremental HTTP/1.x parser over in-order reassembled TCP bytes, one `HttpConnection` per flow.
 *
 * Each direction is a state machine fed arbitrary chunks: a message may be cut at any byte and
 * several pipelined messages may sit in one chunk. Lines are found with `indexOf` on the chunk and
 * parsed in place; only a line cut by a chunk boundary is copied, into a per-direction buffer that
 * grows up to the line cap. Bodies are copied up to their limits only. Every buffer and queue is
 * capped; malformed input records a named event on the transaction (see events.ts) and the parser
 * carries on, skips the line, or abandons that direction. Nothing throws.
 *
 * Responses are matched to requests in order (pipelining). A transaction is delivered when both its
 * request and its response are complete, or when the connection is closed, in request order.
 *
 * Where the RFC leaves room, the parser follows libhtp (Suricata's HTTP library) so that the bodies
 * it hands to detection are the ones browsers see; docs/applayer-http.md lists those rules.
 */
import { decodeLayers, type Coding } from './decompress.js';
import { HTTP_EVENT, type HttpEvent } from './events.js';
import { normalizeUri, splitHostPort } from './uri.js';

/** Longest request or status line kept (bytes, CRLF excluded); longer: event and that side abandoned. */
export const MAX_REQUEST_LINE = 8 * 1024;
/** Longest header (or trailer, or chunk-size) line; longer: event and the line skipped. */
export const MAX_HEADER_LINE = 16 * 1024;
/** Headers kept per message; further ones are dropped with an event. */
export const MAX_HEADERS = 100;
/** Requests waiting for their response; beyond it the oldest is delivered unanswered. */
export const MAX_PENDING_TX = 64;
/** Default bytes of request body kept (Suricata's `request-body-limit` default, 4 KiB). */
export const DEFAULT_REQUEST_BODY_LIMIT = 4096;
/** Default bytes of decoded response body kept (Suricata's `response-body-limit`, 4 KiB). */
export const DEFAULT_RESPONSE_BODY_LIMIT = 4096;
/** Default bytes of compressed response body buffered for decompression. */
export const DEFAULT_COMPRESSED_BODY_LIMIT = 64 * 1024;
/** Default content-coding layers undone (Suricata's `response-body-decompress-layer-limit`, 2). */
export const DEFAULT_DECOMPRESS_LAYER_LIMIT = 2;
/** Largest chunk size accepted (libhtp's limit); a larger size line is ignored. */
const MAX_CHUNK_SIZE = 0x7fffffff;

/** One header as sent: name and value as latin1 strings (one char per byte, so raw bytes survive). */
export type HttpHeader = [name: string, value: string];

/** Parser options. */
export interface HttpOptions {
  /** Request body bytes kept per transaction (the total is still counted). */
  requestBodyLimit?: number;
  /** Response body bytes kept, after chunked decoding and decompression. */
  responseBodyLimit?: number;
  /** Compressed response body bytes buffered for decompression. */
  compressedBodyLimit?: number;
  /**
   * Content codings undone when Content-Encoding lists several (`gzip, deflate`); more are left
   * encoded with `http.too_many_encoding_layers`. Default 2, like Suricata.
   */
  decompressLayerLimit?: number;
  /** Decode the URI path twice (see uri.ts); default true. */
  doubleDecode?: boolean;
  /** Called with each finished transaction; without it they queue for `drain()`. */
  onTransaction?: (tx: HttpTransaction) => void;
  /**
   * Called once per transaction when its request is complete (line, headers and body), before the
   * response may be: detection inspects the request side then, as Suricata does, instead of when
   * the whole transaction ends. The object is the one later passed to `onTransaction`.
   */
  onRequest?: (tx: HttpTransaction) => void;
}

const EMPTY = new Uint8Array(0);
/** A protocol/version token such as `SIP/2.0` or `RTSP/1.0`. */
const OTHER_PROTOCOL = /^[A-Z][A-Z0-9+.-]*\/[0-9]+(\.[0-9]+)?$/;

/** One request/response exchange. Strings are latin1; absent values are '' and -1. */
export class HttpTransaction {
  /** Index of the transaction in its connection, from 0. */
  readonly id: number;
  /** Time of the request line (µs). */
  tsUs = 0;
  /** Time of the status line (µs), -1 without response. */
  responseTsUs = -1;
  method = '';
  /** The request-target as sent. */
  uriRaw = '';
  /** The normalised URI (uri.ts). */
  uri = '';
  /** The query string decoded (`%XX` and `+`), for parameter inspection. */
  queryDecoded = '';
  /** Request protocol (`HTTP/1.1`), '' for an HTTP/0.9 request. */
  protocol = '';
  requestHeaders: HttpHeader[] = [];
  /** Host from an absolute URI, else the Host header: lowercased, without port. */
  host = '';
  /** Port from the URI or Host header, -1 when none. */
  hostPort = -1;
  userAgent = '';
  /** All Cookie headers joined with `; `. */
  cookie = '';
  /** Request Content-Type. */
  contentType = '';
  referer = '';
  xff = '';
  /** The first `requestBodyLimit` bytes of the request body (after chunked decoding). */
  requestBody: Uint8Array = EMPTY;
  /** Request body length on the wire after chunked decoding (all of it, not just the kept part). */
  requestBodyLength = 0;
  /** Status code, -1 when none or not three digits. */
  status = -1;
  /** Status code token as sent. */
  statusString = '';
  statusMessage = '';
  responseProtocol = '';
  responseHeaders: HttpHeader[] = [];
  responseContentType = '';
  /** Location header. */
  location = '';
  /** Content-Encoding header of the response, lowercased. */
  contentEncoding = '';
  /** The first `responseBodyLimit` bytes of the response body, dechunked and decompressed. */
  responseBody: Uint8Array = EMPTY;
  /** Response message length after chunked decoding, before decompression (Suricata's `length`). */
  responseBodyLength = 0;
  /** Some body was not kept (over a limit). */
  requestBodyTruncated = false;
  responseBodyTruncated = false;
  requestComplete = false;
  responseComplete = false;
  /** A status line was matched to this transaction. */
  responseStarted = false;
  /** Anomalies, each once, in the order seen. */
  events: HttpEvent[] = [];

  constructor(id: number) {
    this.id = id;
  }

  /** Records `ev` once. */
  addEvent(ev: HttpEvent): void {
    if (!this.events.includes(ev)) this.events.push(ev);
  }
}

// Direction states.
const ST_LINE = 0; // request or status line (leading empty lines skipped)
const ST_HEADERS = 1;
const ST_BODY_LEN = 2; // Content-Length body
const ST_CHUNK_SIZE = 3;
const ST_CHUNK_DATA = 4;
const ST_CHUNK_END = 5; // the rest of the line after chunk data
const ST_TRAILERS = 6;
const ST_BODY_CLOSE = 7; // response body delimited by connection close
const ST_DEAD = 8; // abandoned (or tunnelled): bytes ignored
const ST_NO_PROTOCOL = 9; // after a request line without protocol: HTTP/0.9, or headers follow

// How a line ended. Response start, header and trailer lines also end at a bare CR (libhtp).
const EOL_LF = 0;
const EOL_CRLF = 1;
const EOL_CR = 2;
const EOL_CR_END = 3; // a CR that ended the data so far: its LF may still come
const EOL_NONE = 4; // the connection ended before the line did
const EOL_BYTES = [
  Buffer.from('\n'),
  Buffer.from('\r\n'),
  Buffer.from('\r'),
  Buffer.from('\r'),
  Buffer.alloc(0),
] as const;

const GZIP: readonly Coding[] = ['gzip'];
const DEFLATE: readonly Coding[] = ['deflate'];

/** token characters (RFC 9110 section 5.6.2): visible ASCII except separators. */
const TOKEN = (() => {
  const t = new Uint8Array(256);
  for (let c = 33; c < 127; c++) t[c] = 1;
  for (const ch of '()<>@,;:\\"/[]?={}') t[ch.charCodeAt(0)] = 0;
  return t;
})();

/** Parse state of one direction. */
class Side {
  state = ST_LINE;
  /** Bytes of a line cut by a chunk boundary (grown up to the cap, allocated on first need). */
  line: Buffer | null = null;
  lineLen = 0;
  /** Discarding the rest of an over-long header line. */
  skipping = false;
  /**
   * A byte dropped if it comes next, -1 none: the LF of a CRLF cut after the CR (10), or on the
   * response side the CR of a `\n\r` line end (13), which libhtp reads as one line end.
   */
  skip = -1;
  /** Request: the last line ended in a bare LF (then a `\r\r\n` line is an empty line). */
  prevBareLf = false;
  /** Response: the line being read started with the CR of a `\n\r` line end. */
  lfcr = false;
  /**
   * An empty line after a `\n\r` (`\n\r\r\n`, libhtp's deformed line end) that ends the headers
   * unless another empty line follows, which is then the end instead: 1 waiting, 2 a CR seen.
   */
  pendingEoh = 0;
  /** Bytes left in the current Content-Length body or chunk. */
  remaining = 0;
  tx: HttpTransaction | null = null;
  /** Headers seen in the current message (kept or not). */
  headerCount = 0;
  /** Response: a 1xx or body-like lines were seen, the next status line belongs to the same transaction. */
  continuing = false;
  /** Response: lines that are not a status line were kept as body of `tx` (libhtp, browsers). */
  junkMode = false;
  /** Response: such a line waiting for the next byte (an 'H' after it means it is skipped). */
  junk: Buffer | null = null;
  junkEol = EOL_LF;
  /** Body bytes at the front that came from such lines: kept as they are, not decompressed. */
  rawPrefix = 0;
  /** Response protocol: 9 (HTTP/0.9), 10, 11, -1 when not a valid HTTP version. */
  protoNum = -1;
  body: Uint8Array | null = null;
  stored = 0;
  dropped = false;
  /** Content codings of the response body in header order (undone at its end), null for none. */
  layers: readonly Coding[] | null = null;
  tsUs = 0;
  constructor(readonly isRequest: boolean) {}
}

function isSpace(c: number | undefined): boolean {
  return c === 32 || c === 9;
}

/** libhtp's whitespace: SP, HT, LF, VT, FF, CR (also the bytes skipped before a chunk size). */
function isLws(c: number | undefined): boolean {
  return c === 32 || (c !== undefined && c >= 9 && c <= 13);
}

/** `s` without leading and trailing libhtp whitespace (not JS `trim`, which also drops NBSP). */
function trimLws(s: string): string {
  let a = 0;
  let z = s.length;
  while (a < z && isLws(s.charCodeAt(a))) a++;
  while (z > a && isLws(s.charCodeAt(z - 1))) z--;
  return a === 0 && z === s.length ? s : s.slice(a, z);
}

/** Lowercased, NUL bytes removed: how libhtp compares header names and values ("nocase nozero"). */
function key(s: string): string {
  const l = s.toLowerCase();
  return l.indexOf('\0') < 0 ? l : l.replace(/\0/g, '');
}

/** After a fold character, `[SP/HT]* token [SP/HT]* :` starts a new header (libhtp's response look-ahead). */
function looksLikeHeader(b: Buffer, i: number, e: number): boolean {
  while (i < e && isSpace(b[i])) i++;
  const t = i;
  while (i < e && TOKEN[b[i]!] === 1) i++;
  if (i === t) return false;
  while (i < e && isSpace(b[i])) i++;
  return i < e && b[i] === 58;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** The first byte after leading chunk control bytes is not a hex digit: not a chunk size line. */
function badChunkStart(b: Buffer, i: number, e: number): boolean {
  while (i < e && isLws(b[i])) i++;
  return i < e && hexValue(b[i]!) < 0;
}

/** The position of byte `c` in `b[p, end)`, or -1 (native memchr; `indexOf` alone would look past `end`). */
function find(b: Buffer, c: number, p: number, end: number): number {
  const i = b.indexOf(c, p);
  return i >= end ? -1 : i;
}

/**
 * Content-Length as libhtp reads it: the first run of digits, junk around it tolerated (the caller
 * flags it); -1 when there is none or it is absurdly long.
 */
function parseContentLength(v: string): number {
  let i = 0;
  while (i < v.length && !(v.charCodeAt(i) >= 48 && v.charCodeAt(i) <= 57)) i++;
  let j = i;
  while (j < v.length && v.charCodeAt(j) >= 48 && v.charCodeAt(j) <= 57) j++;
  if (j === i || j - i > 15) return -1;
  return Number(v.slice(i, j));
}

/** Response protocol version as libhtp's `parse_protocol` reads it: 9, 10, 11, or -1. */
function protocolNumber(p: string): number {
  const m = /^http\/[0\s]*(\.9|1\.0|1\.1)$/i.exec(p);
  if (m === null) return -1;
  return m[1] === '.9' ? 9 : m[1] === '1.0' ? 10 : 11;
}

/** Status code as libhtp's `parse_status` reads it: digits only, 100 to 999; else -1. */
function parseStatus(s: string): number {
  if (!/^[0-9]{1,4}$/.test(s)) return -1;
  const n = Number(s);
  return n >= 100 && n <= 999 ? n : -1;
}

/** `chunked` appears in a Transfer-Encoding value (libhtp: case-insensitive, NULs ignored, anywhere). */
function hasChunked(te: string): boolean {
  return key(te).includes('chunked');
}

/** One HTTP/1.x connection (both directions of a TCP flow). */
export class HttpConnection {
  private readonly req = new Side(true);
  private readonly res = new Side(false);
  private readonly pending: HttpTransaction[] = [];
  private readonly queue: HttpTransaction[] = [];
  private nextId = 0;
  private closed = false;
  private lastIn: Uint8Array | null = null;
  private lastView: Buffer | null = null;
  private readonly requestBodyLimit: number;
  private readonly responseBodyLimit: number;
  private readonly compressedBodyLimit: number;
  private readonly layerLimit: number;
  private readonly doubleDecode: boolean;
  private readonly onTransaction: ((tx: HttpTransaction) => void) | null;
  private readonly onRequest: ((tx: HttpTransaction) => void) | null;

  constructor(opts: HttpOptions = {}) {
    this.requestBodyLimit = Math.max(0, opts.requestBodyLimit ?? DEFAULT_REQUEST_BODY_LIMIT);
    this.responseBodyLimit = Math.max(0, opts.responseBodyLimit ?? DEFAULT_RESPONSE_BODY_LIMIT);
    this.compressedBodyLimit = Math.max(0, opts.compressedBodyLimit ?? DEFAULT_COMPRESSED_BODY_LIMIT);
    this.layerLimit = Math.max(1, opts.decompressLayerLimit ?? DEFAULT_DECOMPRESS_LAYER_LIMIT);
    this.doubleDecode = opts.doubleDecode ?? true;
    this.onTransaction = opts.onTransaction ?? null;
    this.onRequest = opts.onRequest ?? null;
  }

  /** Finished transactions not yet taken (only used without `onTransaction`). */
  drain(): HttpTransaction[] {
    return this.queue.splice(0, this.queue.length);
  }

  /** Transactions seen but not yet delivered. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * Feeds in-order bytes of one direction.
   * @param dir 0 = client to server (requests), 1 = server to client (responses)
   */
  feed(dir: 0 | 1, buf: Uint8Array, off: number, len: number, tsUs: number): void {
    if (this.closed || len <= 0 || off < 0 || off + len > buf.length) return;
    const side = dir === 0 ? this.req : this.res;
    if (side.state === ST_DEAD) return;
    side.tsUs = tsUs;
    // One Buffer view per call so indexOf stays inside [off, off+len); reused for a recycled buffer.
    let b: Buffer;
    if (buf === this.lastIn && this.lastView !== null) b = this.lastView;
    else {
      b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
      this.lastIn = buf;
      this.lastView = b;
    }
    this.run(side, b, off, off + len);
    this.deliver();
  }

  /** The connection ended: completes a close-delimited response and delivers everything pending. */
  close(tsUs = 0): void {
    if (this.closed) return;
    const req = this.req;
    const res = this.res;
    // An end of headers that waited for more bytes is one: no more come.
    if (req.pendingEoh !== 0) this.endOfHeaders(req);
    if (res.pendingEoh !== 0) this.endOfHeaders(res);
    if (req.tx !== null && req.state !== ST_DEAD) {
      if (req.state !== ST_NO_PROTOCOL) req.tx.addEvent(HTTP_EVENT.REQUEST_INCOMPLETE);
      this.endMessage(req);
    }
    // A last response line without its line end still counts (libhtp); one that is body-like,
    // waiting for its next byte, is body: nothing follows it.
    if (res.state === ST_LINE && res.lineLen > 0) {
      const n = res.lineLen;
      res.lineLen = 0;
      this.line(res, res.line!, 0, n, EOL_NONE, -1);
    }
    if (res.junk !== null && res.state !== ST_DEAD) this.resolveJunk(res, -1);
    if (res.tx !== null && res.state !== ST_DEAD) {
      res.tsUs = tsUs || res.tsUs;
      // Body-like lines without a status line are a complete close-delimited response.
      const closeDelimited = res.state === ST_BODY_CLOSE || (res.state === ST_LINE && res.junkMode);
      if (!closeDelimited) res.tx.addEvent(HTTP_EVENT.RESPONSE_INCOMPLETE);
      this.endMessage(res);
    }
    this.closed = true;
    req.state = ST_DEAD;
    res.state = ST_DEAD;
    req.line = null;
    res.line = null;
    while (this.pending.length > 0) this.emit(this.pending.shift()!);
  }

  // ---------------------------------------------------------------- scanning

  private run(side: Side, b: Buffer, p: number, end: number): void {
    // Next LF and CR at or after p in this chunk, -1 none, -2 not searched yet: each is searched
    // again only once passed, so lines ending in LF never make the CR search run over and over.
    let lfAt = -2;
    let crAt = -2;
    while (p < end) {
      if (side.junk !== null) {
        // The LF of the pending line's CRLF, then the byte that decides (libhtp looks at it raw).
        if (side.skip === 10 && b[p] === 10) {
          side.skip = -1;
          side.junkEol = EOL_CRLF;
          p++;
          continue;
        }
        this.resolveJunk(side, b[p]!);
      }
      if (side.skip >= 0) {
        const sk = side.skip;
        side.skip = -1;
        if (b[p] === sk) {
          side.lfcr = sk === 13;
          p++;
          continue;
        }
      }
      if (side.pendingEoh !== 0) {
        const c = b[p];
        if (c === 10) {
          p++;
          this.endOfHeaders(side);
        } else if (c === 13 && side.pendingEoh === 1) {
          p++;
          side.pendingEoh = 2;
        } else {
          // The deformed line was the end; what follows (and a CR taken while looking) comes after.
          const cr = side.pendingEoh === 2;
          this.endOfHeaders(side);
          if (cr) this.run(side, EOL_BYTES[EOL_CR], 0, 1);
        }
        continue;
      }
      const st = side.state;
      if (st === ST_DEAD) return;
      if (st === ST_NO_PROTOCOL) {
        // libhtp: a request line without protocol is HTTP/0.9 unless more than whitespace follows.
        // Decided on the next byte: a line end means HTTP/0.9 (an empty line is skipped anyway).
        if (b[p] === 10 || b[p] === 13) this.endMessage(side);
        else {
          side.tx!.addEvent(HTTP_EVENT.REQUEST_LINE_MISSING_PROTOCOL);
          side.state = ST_HEADERS;
        }
        continue;
      }
      if (st === ST_BODY_LEN || st === ST_CHUNK_DATA) {
        const n = end - p < side.remaining ? end - p : side.remaining;
        this.storeBody(side, b, p, n);
        p += n;
        side.remaining -= n;
        if (side.remaining === 0) {
          if (st === ST_BODY_LEN) this.endMessage(side);
          else side.state = ST_CHUNK_END;
        }
        continue;
      }
      if (st === ST_BODY_CLOSE) {
        this.storeBody(side, b, p, end - p);
        return;
      }
      if (lfAt !== -1 && lfAt < p) lfAt = find(b, 10, p, end);
      if (st === ST_CHUNK_END) {
        // Whatever is left of the line after chunk data is dropped, unbuffered (libhtp).
        if (lfAt < 0) return;
        side.state = ST_CHUNK_SIZE;
        p = lfAt + 1;
        continue;
      }
      const crEnds = !side.isRequest && (st === ST_LINE || st === ST_HEADERS || st === ST_TRAILERS);
      let q = lfAt;
      if (crEnds) {
        if (crAt !== -1 && crAt < p) crAt = find(b, 13, p, end);
        if (crAt >= 0 && (q < 0 || crAt < q)) q = crAt;
      }
      // The line end: LF, or (response) CR, CRLF; a CR ending the chunk may be followed by its LF.
      let eol = EOL_LF;
      let next = q + 1;
      if (q >= 0 && b[q] === 13) {
        eol = next === end ? EOL_CR_END : EOL_CR;
        if (next < end && b[next] === 10) {
          eol = EOL_CRLF;
          next++;
        }
      }
      if (side.skipping) {
        if (q < 0) return;
        side.skipping = false;
        this.afterLine(side, crEnds, eol);
        p = next;
        continue;
      }
      const cap = st === ST_LINE ? MAX_REQUEST_LINE : MAX_HEADER_LINE;
      if (q < 0) {
        if (st === ST_CHUNK_SIZE && side.lineLen === 0 && badChunkStart(b, p, end)) {
          this.invalidChunk(side, b, p, p);
          continue;
        }
        // +1: the CR of a CRLF cut after the CR is not part of the line
        if (!this.appendLine(side, b, p, end, cap + 1)) this.overflow(side);
        return;
      }
      const ahead = next < end ? b[next]! : -1;
      if (side.lineLen > 0) {
        if (!this.appendLine(side, b, p, q, cap + 1)) {
          this.overflow(side);
          side.skipping = false;
        } else {
          const n = side.lineLen;
          side.lineLen = 0;
          this.line(side, side.line!, 0, n, eol, ahead);
        }
      } else if (q - p > cap + 1) {
        this.overflow(side);
        side.skipping = false;
      } else {
        this.line(side, b, p, q, eol, ahead);
      }
      this.afterLine(side, crEnds, eol);
      p = next;
    }
  }

  /** Arms `skip` after a response line: its CR may be followed by an LF, its LF by a CR. */
  private afterLine(side: Side, crEnds: boolean, eol: number): void {
    if (!crEnds) return;
    if (eol === EOL_CR_END) side.skip = 10;
    else if (eol === EOL_LF) side.skip = 13;
  }

  /** The headers (or trailers) of the current message ended. */
  private endOfHeaders(side: Side): void {
    side.pendingEoh = 0;
    if (side.state === ST_HEADERS) this.headersDone(side);
    else if (side.state === ST_TRAILERS) this.endMessage(side);
  }

  /** Appends `b[s, e)` to the side's line buffer; false when the line would pass `cap`. */
  private appendLine(side: Side, b: Buffer, s: number, e: number, cap: number): boolean {
    const need = side.lineLen + (e - s);
    if (need > cap) {
      side.lineLen = 0;
      return false;
    }
    let line = side.line;
    if (line === null || line.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(cap, Math.max(256, need * 2)));
      if (line !== null) line.copy(grown, 0, 0, side.lineLen);
      side.line = grown;
      line = grown;
    }
    b.copy(line, side.lineLen, s, e);
    side.lineLen = need;
    return true;
  }

  /** A line passed its cap. */
  private overflow(side: Side): void {
    side.lineLen = 0;
    switch (side.state) {
      case ST_LINE: {
        // A status line after a 1xx or body-like lines belongs to the transaction already open.
        const tx = side.isRequest ? this.newTx() : (side.tx ?? this.matchResponse());
        side.tx = tx;
        tx.addEvent(side.isRequest ? HTTP_EVENT.REQUEST_LINE_TOO_LONG : HTTP_EVENT.RESPONSE_LINE_TOO_LONG);
        this.abandon(side);
        return;
      }
      case ST_HEADERS:
      case ST_TRAILERS:
        side.tx?.addEvent(side.isRequest ? HTTP_EVENT.REQUEST_FIELD_TOO_LONG : HTTP_EVENT.RESPONSE_FIELD_TOO_LONG);
        side.skipping = true;
        return;
      default:
        side.tx?.addEvent(
          side.isRequest ? HTTP_EVENT.INVALID_REQUEST_CHUNK_LEN : HTTP_EVENT.INVALID_RESPONSE_CHUNK_LEN,
        );
        this.abandon(side);
    }
  }

  /** Stops parsing this direction: the current message ends here. */
  private abandon(side: Side): void {
    if (side.tx !== null) this.endMessage(side);
    side.state = ST_DEAD;
    side.line = null;
    side.lineLen = 0;
    side.junk = null;
  }

  /**
   * One complete line `b[s, e)`, its end `eol` excluded (an LF-ended line may still end with its
   * CR); `ahead` is the byte after the line end, -1 when not yet seen.
   */
  private line(side: Side, b: Buffer, s: number, e: number, eol: number, ahead: number): void {
    const st = side.state;
    const lfcr = side.lfcr;
    side.lfcr = false;
    if (st === ST_CHUNK_SIZE) {
      this.chunkSize(side, b, s, e);
      return;
    }
    let bareLf = eol === EOL_LF;
    if (e > s && b[e - 1] === 13) {
      e--;
      bareLf = false;
      eol = EOL_CRLF;
    }
    // libhtp reads `\n\r\r\n` as one line end when an empty line follows, else as `\n\r` and an
    // empty line: on the request side a lone CR after a bare LF, on the response side an empty
    // line right after a `\n\r`, waits for the next bytes before it ends the headers.
    let deformed: boolean;
    if (side.isRequest) {
      deformed = side.prevBareLf && st !== ST_LINE && e - s === 1 && b[s] === 13;
      side.prevBareLf = bareLf;
    } else deformed = lfcr && st !== ST_LINE && e === s && (eol === EOL_CRLF || eol === EOL_CR_END);
    if (deformed) {
      side.pendingEoh = 1;
      return;
    }
    switch (st) {
      case ST_LINE:
        if (e === s) return; // empty lines before a message are ignored (RFC 9112 section 2.2)
        if (side.isRequest) this.requestLine(side, b, s, e);
        else this.responseStart(side, b, s, e, eol, ahead);
        return;
      case ST_HEADERS:
        if (e === s) this.headersDone(side);
        else this.headerLine(side, b, s, e);
        return;
      case ST_TRAILERS:
        if (e === s) this.endMessage(side);
        else this.headerLine(side, b, s, e);
        return;
      default:
    }
  }

  // ---------------------------------------------------------------- start lines

  private requestLine(side: Side, b: Buffer, s: number, e: number): void {
    const tx = this.newTx();
    side.tx = tx;
    side.headerCount = 0;
    side.prevBareLf = false;
    tx.tsUs = side.tsUs;
    const text = b.toString('latin1', s, e);
    let i = 0;
    const n = text.length;
    while (i < n && !isSpace(text.charCodeAt(i))) i++;
    tx.method = text.slice(0, i);
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    // The protocol is the last token when it looks like one, so a URI with spaces stays whole.
    let uriEnd = n;
    while (uriEnd > i && isSpace(text.charCodeAt(uriEnd - 1))) uriEnd--;
    const lastSp = Math.max(text.lastIndexOf(' ', uriEnd - 1), text.lastIndexOf('\t', uriEnd - 1));
    const last = lastSp >= i ? text.slice(lastSp + 1, uriEnd) : '';
    // Another protocol's version token (SIP/2.0, RTSP/1.0: scanners probe web servers with them)
    // still ends the request line, and header lines follow, as libhtp parses it.
    if (last.startsWith('HTTP/') || OTHER_PROTOCOL.test(last)) {
      tx.protocol = last;
      uriEnd = lastSp;
      while (uriEnd > i && isSpace(text.charCodeAt(uriEnd - 1))) uriEnd--;
      if (!/^HTTP\/[0-9]\.[0-9]$/.test(tx.protocol)) tx.addEvent(HTTP_EVENT.REQUEST_LINE_INVALID);
    }
    tx.uriRaw = text.slice(i, uriEnd);
    if (tx.method === '' || tx.uriRaw === '') tx.addEvent(HTTP_EVENT.REQUEST_LINE_INVALID);
    const nu = normalizeUri(tx.uriRaw, { doubleDecode: this.doubleDecode });
    tx.uri = nu.uri;
    tx.queryDecoded = nu.queryDecoded;
    if (nu.host !== '') {
      tx.host = nu.host;
      tx.hostPort = nu.port;
    }
    if (nu.doubleEncoded) tx.addEvent(HTTP_EVENT.DOUBLE_ENCODED_URI);
    if (nu.invalidEncoding) tx.addEvent(HTTP_EVENT.URI_INVALID_ENCODING);
    // Without protocol: an HTTP/0.9 simple request (no headers, no body), unless headers follow.
    side.state = tx.protocol === '' ? ST_NO_PROTOCOL : ST_HEADERS;
  }

  /**
   * A non-empty line where a status line is expected. As libhtp (and browsers): leading whitespace
   * and NULs before `http` (any case) are tolerated; any other line is skipped when it is at most 2
   * bytes or the next line starts with 'H', else it is response body (HTTP/0.9 style).
   */
  private responseStart(side: Side, b: Buffer, s: number, e: number, eol: number, ahead: number): void {
    let i = s;
    while (i < e && (isLws(b[i]) || b[i] === 0)) i++;
    if (
      e - i >= 4 &&
      (b[i]! | 0x20) === 0x68 &&
      (b[i + 1]! | 0x20) === 0x74 &&
      (b[i + 2]! | 0x20) === 0x74 &&
      (b[i + 3]! | 0x20) === 0x70
    ) {
      this.statusLine(side, b, i, e);
      return;
    }
    if (e - s <= 2 || ahead === 72) return;
    if (ahead < 0) {
      // The decision needs the next byte: keep a copy of the line until it arrives.
      side.junk = Buffer.from(b.subarray(s, e));
      side.junkEol = eol;
      return;
    }
    this.junkBody(side, b, s, e, eol);
  }

  /** Decides a pending body-like line with the byte after it (-1: the connection ended). */
  private resolveJunk(side: Side, ahead: number): void {
    const j = side.junk!;
    side.junk = null;
    if (ahead !== 72) this.junkBody(side, j, 0, j.length, side.junkEol);
  }

  /** Keeps the line `b[s, e)` and its end as body of the current response, undecoded. */
  private junkBody(side: Side, b: Buffer, s: number, e: number, eol: number): void {
    if (side.tx === null) {
      const tx = this.matchResponse();
      side.tx = tx;
      side.headerCount = 0;
      tx.responseTsUs = side.tsUs;
    }
    if (!side.junkMode) {
      side.tx.addEvent(HTTP_EVENT.RESPONSE_INVALID_PROTOCOL);
      side.junkMode = true;
      side.continuing = true;
      side.layers = null;
    }
    this.storeBody(side, b, s, e - s);
    const end = EOL_BYTES[eol as 0 | 1 | 2 | 3 | 4];
    this.storeBody(side, end, 0, end.length);
  }

  /** A status line `b[s, e)` (leading whitespace skipped), split at whitespace as libhtp does. */
  private statusLine(side: Side, b: Buffer, s: number, e: number): void {
    const tx = side.continuing && side.tx !== null ? side.tx : this.matchResponse();
    side.tx = tx;
    side.continuing = false;
    if (side.junkMode) {
      side.junkMode = false;
      side.rawPrefix = side.stored;
    }
    side.headerCount = 0;
    tx.responseTsUs = side.tsUs;
    const text = b.toString('latin1', s, e);
    const n = text.length;
    let i = 0;
    while (i < n && !isLws(text.charCodeAt(i))) i++;
    tx.responseProtocol = text.slice(0, i);
    while (i < n && isLws(text.charCodeAt(i))) i++;
    let j = i;
    while (j < n && !isLws(text.charCodeAt(j))) j++;
    tx.statusString = text.slice(i, j);
    tx.statusMessage = trimLws(text.slice(j));
    tx.status = parseStatus(tx.statusString);
    side.protoNum = protocolNumber(tx.responseProtocol);
    if (side.protoNum < 0) tx.addEvent(HTTP_EVENT.RESPONSE_INVALID_PROTOCOL);
    if (tx.status < 0) tx.addEvent(HTTP_EVENT.RESPONSE_INVALID_STATUS);
    tx.responseHeaders = [];
    side.state = ST_HEADERS;
  }

  /** The oldest transaction without a response, or a new one for an unmatched response. */
  private matchResponse(): HttpTransaction {
    const p = this.pending;
    for (let i = 0; i < p.length; i++) {
      const tx = p[i]!;
      if (!tx.responseStarted) {
        tx.responseStarted = true;
        return tx;
      }
    }
    const tx = this.newTx();
    tx.addEvent(HTTP_EVENT.UNABLE_TO_MATCH_RESPONSE_TO_REQUEST);
    // No request: the transaction starts with its response.
    tx.tsUs = this.res.tsUs;
    tx.requestComplete = true;
    tx.responseStarted = true;
    return tx;
  }

  private newTx(): HttpTransaction {
    if (this.pending.length >= MAX_PENDING_TX) {
      const old = this.pending.shift()!;
      old.addEvent(HTTP_EVENT.TOO_MANY_TRANSACTIONS);
      if (this.res.tx === old) this.abandon(this.res);
      if (this.req.tx === old) this.abandon(this.req);
      this.emit(old);
    }
    const tx = new HttpTransaction(this.nextId++);
    this.pending.push(tx);
    return tx;
  }

  // ---------------------------------------------------------------- headers

  private headerLine(side: Side, b: Buffer, s: number, e: number): void {
    const tx = side.tx!;
    const list = side.isRequest ? tx.requestHeaders : tx.responseHeaders;
    let from = s;
    const c0 = b[s];
    if (c0 === 32 || c0 === 9 || c0 === 0) {
      // obs-fold (RFC 9112 section 5.2; a NUL folds too in libhtp). On the response side a line
      // reading `token:` after the fold character is a header of its own (libhtp's look-ahead).
      const last = side.headerCount > 0 && side.headerCount <= MAX_HEADERS ? list[list.length - 1] : undefined;
      if (last !== undefined && (side.isRequest || !looksLikeHeader(b, s + 1, e))) {
        const rest = trimLws(b.toString('latin1', s + 1, e));
        if (rest !== '') last[1] = last[1] === '' ? rest : last[1] + ' ' + rest;
        return;
      }
      // Nothing to continue: a header with leading whitespace, as libhtp reads it.
      if (last === undefined) {
        tx.addEvent(
          side.isRequest ? HTTP_EVENT.INVALID_REQUEST_FIELD_FOLDING : HTTP_EVENT.INVALID_RESPONSE_FIELD_FOLDING,
        );
      }
      from = s + 1;
    }
    let colon = b.indexOf(58, from);
    if (colon >= e) colon = -1;
    if (colon < 0) {
      tx.addEvent(side.isRequest ? HTTP_EVENT.REQUEST_FIELD_MISSING_COLON : HTTP_EVENT.RESPONSE_FIELD_MISSING_COLON);
      return;
    }
    side.headerCount++;
    if (side.headerCount > MAX_HEADERS) {
      tx.addEvent(side.isRequest ? HTTP_EVENT.REQUEST_TOO_MANY_HEADERS : HTTP_EVENT.RESPONSE_TOO_MANY_HEADERS);
      return;
    }
    list.push([trimLws(b.toString('latin1', from, colon)), trimLws(b.toString('latin1', colon + 1, e))]);
  }

  private headersDone(side: Side): void {
    if (side.isRequest) this.requestHeadersDone(side);
    else this.responseHeadersDone(side);
  }

  private requestHeadersDone(side: Side): void {
    const tx = side.tx!;
    let te: string | null = null;
    let cl = -2;
    let hostHeader: string | null = null;
    let ce: string | null = null;
    const h = tx.requestHeaders;
    for (let i = 0; i < h.length; i++) {
      const [name, value] = h[i]!;
      switch (key(name)) {
        case 'host':
          if (hostHeader === null) hostHeader = value;
          else if (hostHeader !== value) tx.addEvent(HTTP_EVENT.HOST_HEADER_AMBIGUOUS);
          break;
        case 'user-agent':
          tx.userAgent = value;
          break;
        case 'cookie':
          tx.cookie = tx.cookie === '' ? value : tx.cookie + '; ' + value;
          break;
        case 'content-type':
          tx.contentType = value;
          break;
        case 'referer':
          tx.referer = value;
          break;
        case 'x-forwarded-for':
          tx.xff = value;
          break;
        case 'transfer-encoding':
          // Repeated headers count as one comma-joined value, as in libhtp.
          te = te === null ? value : te + ', ' + value;
          break;
        case 'content-length':
          cl = this.contentLength(tx, value, cl, true);
          break;
        case 'content-encoding':
          ce = ce === null ? value : ce + ', ' + value;
          break;
        default:
      }
    }
    // Compressed request bodies are decoded too (Suricata 7.0.16+), for http.request_body.
    side.layers = ce === null ? null : this.codings(tx, ce);
    if (hostHeader !== null) {
      const hp = splitHostPort(hostHeader);
      // An absolute URI's authority wins over the Host header (RFC 9112 section 3.2.2).
      if (tx.host === '') {
        tx.host = hp.host;
        tx.hostPort = hp.port;
      } else if (hp.host !== tx.host) tx.addEvent(HTTP_EVENT.HOST_HEADER_AMBIGUOUS);
    } else if (tx.protocol === 'HTTP/1.1' && tx.host === '') tx.addEvent(HTTP_EVENT.MISSING_HOST_HEADER);
    if (te !== null) {
      if (hasChunked(te)) {
        side.state = ST_CHUNK_SIZE;
        return;
      }
      tx.addEvent(HTTP_EVENT.INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST);
    }
    if (cl > 0) {
      side.remaining = cl;
      side.state = ST_BODY_LEN;
      return;
    }
    this.endMessage(side);
  }

  private responseHeadersDone(side: Side): void {
    const tx = side.tx!;
    let te: string | null = null;
    let ce: string | null = null;
    let cl = -2;
    const h = tx.responseHeaders;
    tx.responseContentType = '';
    tx.location = '';
    for (let i = 0; i < h.length; i++) {
      const [name, value] = h[i]!;
      switch (key(name)) {
        case 'content-type':
          tx.responseContentType = value;
          break;
        case 'content-encoding':
          ce = ce === null ? value : ce + ', ' + value;
          break;
        case 'location':
          tx.location = value;
          break;
        case 'transfer-encoding':
          te = te === null ? value : te + ', ' + value;
          break;
        case 'content-length':
          cl = this.contentLength(tx, value, cl, false);
          break;
        default:
      }
    }
    tx.contentEncoding = ce === null ? '' : ce.toLowerCase();
    const st = tx.status;
    // A 1xx or 101 announcing a body is read as a response with that body (libhtp: "browsers
    // interpret content sent by the server"); without one a 1xx is interim and 101 switches protocol.
    if (st >= 100 && st < 200 && st !== 101 && te === null && cl <= 0) {
      // Interim response (100 Continue, 103 Early Hints): the final one follows for this request.
      side.continuing = true;
      side.state = ST_LINE;
      return;
    }
    if ((st === 101 && te === null && cl === -2) || (tx.method === 'CONNECT' && st >= 200 && st < 300)) {
      // Protocol switch or tunnel: what follows on both sides is not HTTP/1.x.
      this.abandon(side);
      this.abandon(this.req);
      return;
    }
    side.layers = ce === null ? null : this.codings(tx, ce);
    if (tx.method === 'HEAD' || st === 204 || st === 304) {
      this.endMessage(side);
      return;
    }
    if (te !== null) {
      if (hasChunked(te)) {
        if (key(te) !== 'chunked') tx.addEvent(HTTP_EVENT.RESPONSE_ABNORMAL_TRANSFER_ENCODING);
        if (side.protoNum < 11) tx.addEvent(HTTP_EVENT.RESPONSE_CHUNKED_OLD_PROTO);
        side.state = ST_CHUNK_SIZE;
        return;
      }
      // Not chunked: the Content-Length, if any, still frames the body (libhtp).
      tx.addEvent(HTTP_EVENT.INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE);
    }
    if (cl >= 0) {
      if (cl === 0) this.endMessage(side);
      else {
        side.remaining = cl;
        side.state = ST_BODY_LEN;
      }
      return;
    }
    side.state = ST_BODY_CLOSE;
  }

  /**
   * The codings of a Content-Encoding value, in header order, as libhtp reads it: `gzip`,
   * `x-gzip`, `deflate`, `x-deflate` as such; otherwise a list split at commas and spaces where a
   * token containing "gzip" or "deflate" (any case) is that coding and `identity`, `none`,
   * `inflate` or an unknown token is no coding (unknown ones flagged); each token counts as a
   * layer, up to the layer limit. null when nothing is to be decoded.
   */
  private codings(tx: HttpTransaction, ce: string): readonly Coding[] | null {
    const k = key(ce);
    if (k === 'gzip' || k === 'x-gzip') return GZIP;
    if (k === 'deflate' || k === 'x-deflate') return DEFLATE;
    const out: Coding[] = [];
    let layers = 0;
    const tokens = ce.split(/[, ]/);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t === '') continue;
      if (++layers > this.layerLimit) {
        tx.addEvent(HTTP_EVENT.TOO_MANY_ENCODING_LAYERS);
        break;
      }
      const tk = key(t);
      if (tk.includes('gzip')) {
        if (t !== 'gzip' && t !== 'x-gzip') tx.addEvent(HTTP_EVENT.ABNORMAL_CE_HEADER);
        out.push('gzip');
      } else if (tk.includes('deflate')) {
        if (t !== 'deflate' && t !== 'x-deflate') tx.addEvent(HTTP_EVENT.ABNORMAL_CE_HEADER);
        out.push('deflate');
      } else if (tk !== 'identity' && tk !== 'none' && tk !== 'inflate') {
        // lzma (libhtp decodes it; node has no decoder) and unknown codings stay as they are.
        tx.addEvent(HTTP_EVENT.ABNORMAL_CE_HEADER);
      }
    }
    return out.length === 0 ? null : out;
  }

  /** Folds one Content-Length header into `prev` (-2 none yet, -1 invalid): the first valid one wins. */
  private contentLength(tx: HttpTransaction, value: string, prev: number, isReq: boolean): number {
    const v = parseContentLength(value);
    // Digits with junk around them still count (libhtp), but the field is flagged.
    if (v < 0 || !/^[0-9]+$/.test(value)) {
      tx.addEvent(
        isReq
          ? HTTP_EVENT.INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST
          : HTTP_EVENT.INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE,
      );
    }
    if (v < 0) return prev === -2 ? -1 : prev;
    if (prev === -2 || prev === -1) return v;
    if (prev !== v) {
      tx.addEvent(
        isReq
          ? HTTP_EVENT.DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST
          : HTTP_EVENT.DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE,
      );
    }
    return prev;
  }

  // ---------------------------------------------------------------- bodies

  /**
   * A chunk-size line `b[s, e)` (its CR included), read as libhtp does: leading CR, LF, SP, HT,
   * VT, FF skipped (a line of only those is skipped), hex digits, anything after them ignored
   * (extensions, junk). A size over 2^31-1 makes libhtp ignore the line; no digits is invalid.
   */
  private chunkSize(side: Side, b: Buffer, s: number, e: number): void {
    let i = s;
    while (i < e && isLws(b[i])) i++;
    if (i === e) return;
    let size = 0;
    let digits = 0; // significant digits (leading zeros not counted)
    const start = i;
    for (; i < e; i++) {
      const d = hexValue(b[i]!);
      if (d < 0) break;
      if (digits > 0 || d > 0) digits++;
      if (digits <= 13) size = size * 16 + d; // exact below 2^53
    }
    // No digits, or more than a 64-bit number holds: invalid.
    if (i === start || digits > 16) {
      this.invalidChunk(side, b, s, e);
      return;
    }
    if (digits > 8 || size > MAX_CHUNK_SIZE) return;
    if (size === 0) side.state = ST_TRAILERS;
    else {
      side.remaining = size;
      side.state = ST_CHUNK_DATA;
    }
  }

  /**
   * No chunk size where one is due. A request stops there; a response body continues, unchunked,
   * until the connection closes, starting with the bytes of the bad line `b[s, e)` and its LF
   * (libhtp, so a `Transfer-Encoding: chunked` over a plain body does not hide it).
   */
  private invalidChunk(side: Side, b: Buffer, s: number, e: number): void {
    const tx = side.tx!;
    if (side.isRequest) {
      tx.addEvent(HTTP_EVENT.INVALID_REQUEST_CHUNK_LEN);
      this.abandon(side);
      return;
    }
    tx.addEvent(HTTP_EVENT.INVALID_RESPONSE_CHUNK_LEN);
    side.state = ST_BODY_CLOSE;
    side.lineLen = 0;
    if (e > s) {
      this.storeBody(side, b, s, e - s);
      this.storeBody(side, EOL_BYTES[EOL_LF], 0, 1);
    }
  }

  /** Counts `n` body bytes at `b[p]` and keeps them up to the limit. */
  private storeBody(side: Side, b: Buffer, p: number, n: number): void {
    const tx = side.tx;
    if (tx === null || n <= 0) return;
    if (side.isRequest) tx.requestBodyLength += n;
    else tx.responseBodyLength += n;
    const cap =
      side.layers !== null ? this.compressedBodyLimit : side.isRequest ? this.requestBodyLimit : this.responseBodyLimit;
    const room = cap - side.stored;
    const k = n < room ? n : room;
    if (k < n) side.dropped = true;
    if (k <= 0) return;
    const need = side.stored + k;
    let body = side.body;
    if (body === null || body.length < need) {
      // Not zero-filled (only [0, stored) is ever read), and small ones come from Node's pool: a
      // zeroed Uint8Array per body was most of the body-storing cost with ET Open's body rules.
      const grown = Buffer.allocUnsafe(Math.min(cap, Math.max(need, 1024, body === null ? 0 : body.length * 2)));
      if (body !== null) grown.set(body.subarray(0, side.stored));
      side.body = grown;
      body = grown;
    }
    b.copy(body, side.stored, p, p + k);
    side.stored = need;
  }

  /** The current message of `side` is complete. */
  private endMessage(side: Side): void {
    const tx = side.tx;
    side.state = ST_LINE;
    side.tx = null;
    side.remaining = 0;
    side.skipping = false;
    side.continuing = false;
    side.junkMode = false;
    side.junk = null;
    side.pendingEoh = 0;
    const body = side.body === null ? EMPTY : side.body.subarray(0, side.stored);
    const dropped = side.dropped;
    const layers = side.layers;
    const prefix = Math.min(side.rawPrefix, body.length);
    side.body = null;
    side.stored = 0;
    side.dropped = false;
    side.layers = null;
    side.rawPrefix = 0;
    if (tx === null) return;
    if (side.isRequest) {
      tx.requestComplete = true;
      if (layers === null) {
        tx.requestBody = body;
        tx.requestBodyTruncated = dropped;
      } else {
        const r = decodeLayers(layers, body, this.requestBodyLimit, this.compressedBodyLimit);
        if (r.error) tx.addEvent(HTTP_EVENT.GZIP_DECOMPRESSION_FAILED);
        tx.requestBody = r.data;
        tx.requestBodyTruncated = r.truncated || dropped;
      }
      this.onRequest?.(tx);
      return;
    }
    tx.responseComplete = true;
    const limit = this.responseBodyLimit;
    if (layers === null) {
      const n = Math.min(body.length, limit);
      tx.responseBody = body.subarray(0, n);
      tx.responseBodyTruncated = dropped || n < body.length;
      return;
    }
    // Body-like lines before the status line are kept as they came, ahead of the decoded body.
    const head = Math.min(prefix, limit);
    const r = decodeLayers(layers, body.subarray(prefix), limit - head, this.compressedBodyLimit);
    if (r.error) tx.addEvent(HTTP_EVENT.GZIP_DECOMPRESSION_FAILED);
    if (head === 0) tx.responseBody = r.data;
    else {
      const out = new Uint8Array(head + r.data.length);
      out.set(body.subarray(0, head));
      out.set(r.data, head);
      tx.responseBody = out;
    }
    tx.responseBodyTruncated = r.truncated || dropped || head < prefix;
  }

  // ---------------------------------------------------------------- delivery

  /** Delivers finished transactions from the front, in request order. */
  private deliver(): void {
    const p = this.pending;
    while (p.length > 0 && p[0]!.requestComplete && p[0]!.responseComplete) this.emit(p.shift()!);
  }

  private emit(tx: HttpTransaction): void {
    if (this.onTransaction !== null) this.onTransaction(tx);
    else this.queue.push(tx);
  }
}
