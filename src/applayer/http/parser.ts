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
 */
import { decompressBounded } from './decompress.js';
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
  /** Decode the URI path twice (see uri.ts); default true. */
  doubleDecode?: boolean;
  /** Called with each finished transaction; without it they queue for `drain()`. */
  onTransaction?: (tx: HttpTransaction) => void;
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
const ST_CHUNK_END = 5; // the CRLF after chunk data
const ST_TRAILERS = 6;
const ST_BODY_CLOSE = 7; // response body delimited by connection close
const ST_DEAD = 8; // abandoned (or tunnelled): bytes ignored

const CODING_NONE = 0;
const CODING_GZIP = 1;
const CODING_DEFLATE = 2;

/** Parse state of one direction. */
class Side {
  state = ST_LINE;
  /** Bytes of a line cut by a chunk boundary (grown up to the cap, allocated on first need). */
  line: Buffer | null = null;
  lineLen = 0;
  /** Discarding the rest of an over-long header line. */
  skipping = false;
  /** Bytes left in the current Content-Length body or chunk. */
  remaining = 0;
  tx: HttpTransaction | null = null;
  /** Headers seen in the current message (kept or not). */
  headerCount = 0;
  /** Response: a 1xx was seen, the final response belongs to the same transaction. */
  continuing = false;
  body: Uint8Array | null = null;
  stored = 0;
  dropped = false;
  coding = CODING_NONE;
  tsUs = 0;
  constructor(readonly isRequest: boolean) {}
}

function isSpace(c: number | undefined): boolean {
  return c === 32 || c === 9;
}

/** Parses a decimal Content-Length; -1 when invalid. */
function parseLength(v: string): number {
  const t = v.trim();
  if (!/^[0-9]{1,15}$/.test(t)) return -1;
  return Number(t);
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
  private readonly doubleDecode: boolean;
  private readonly onTransaction: ((tx: HttpTransaction) => void) | null;

  constructor(opts: HttpOptions = {}) {
    this.requestBodyLimit = Math.max(0, opts.requestBodyLimit ?? DEFAULT_REQUEST_BODY_LIMIT);
    this.responseBodyLimit = Math.max(0, opts.responseBodyLimit ?? DEFAULT_RESPONSE_BODY_LIMIT);
    this.compressedBodyLimit = Math.max(0, opts.compressedBodyLimit ?? DEFAULT_COMPRESSED_BODY_LIMIT);
    this.doubleDecode = opts.doubleDecode ?? true;
    this.onTransaction = opts.onTransaction ?? null;
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
    if (req.tx !== null && req.state !== ST_DEAD) {
      req.tx.addEvent(HTTP_EVENT.REQUEST_INCOMPLETE);
      this.endMessage(req);
    }
    if (res.tx !== null && res.state !== ST_DEAD) {
      res.tsUs = tsUs || res.tsUs;
      if (res.state !== ST_BODY_CLOSE) res.tx.addEvent(HTTP_EVENT.RESPONSE_INCOMPLETE);
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
    while (p < end) {
      const st = side.state;
      if (st === ST_DEAD) return;
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
      let lf = b.indexOf(10, p);
      if (lf >= end) lf = -1;
      if (side.skipping) {
        if (lf < 0) return;
        side.skipping = false;
        p = lf + 1;
        continue;
      }
      const cap = st === ST_LINE ? MAX_REQUEST_LINE : MAX_HEADER_LINE;
      if (lf < 0) {
        // +1: the CR of a CRLF cut after the CR is not part of the line
        if (!this.appendLine(side, b, p, end, cap + 1)) this.overflow(side);
        return;
      }
      if (side.lineLen > 0) {
        if (!this.appendLine(side, b, p, lf, cap + 1)) {
          this.overflow(side);
          side.skipping = false;
        } else {
          const n = side.lineLen;
          side.lineLen = 0;
          this.line(side, side.line!, 0, n);
        }
      } else if (lf - p > cap + 1) {
        this.overflow(side);
        side.skipping = false;
      } else {
        this.line(side, b, p, lf);
      }
      p = lf + 1;
    }
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
        const tx = side.isRequest ? this.newTx() : this.matchResponse();
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
  }

  /** One complete line `b[s, e)` (LF excluded). */
  private line(side: Side, b: Buffer, s: number, e: number): void {
    if (e > s && b[e - 1] === 13) e--;
    switch (side.state) {
      case ST_LINE:
        if (e === s) return; // empty lines before a message are ignored (RFC 9112 section 2.2)
        if (side.isRequest) this.requestLine(side, b, s, e);
        else this.statusLine(side, b, s, e);
        return;
      case ST_HEADERS:
        if (e === s) this.headersDone(side);
        else this.headerLine(side, b, s, e);
        return;
      case ST_TRAILERS:
        if (e === s) this.endMessage(side);
        else this.headerLine(side, b, s, e);
        return;
      case ST_CHUNK_END:
        side.state = ST_CHUNK_SIZE;
        // A non-empty line here means the data was longer than declared: read it as the next size.
        if (e !== s) this.chunkSize(side, b, s, e);
        return;
      case ST_CHUNK_SIZE:
        this.chunkSize(side, b, s, e);
        return;
      default:
    }
  }

  // ---------------------------------------------------------------- start lines

  private requestLine(side: Side, b: Buffer, s: number, e: number): void {
    const tx = this.newTx();
    side.tx = tx;
    side.headerCount = 0;
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
    if (tx.protocol === '') {
      // HTTP/0.9 simple request: no headers, no body.
      this.endMessage(side);
      return;
    }
    side.state = ST_HEADERS;
  }

  private statusLine(side: Side, b: Buffer, s: number, e: number): void {
    const tx = side.continuing && side.tx !== null ? side.tx : this.matchResponse();
    side.tx = tx;
    side.continuing = false;
    side.headerCount = 0;
    tx.responseTsUs = side.tsUs;
    const text = b.toString('latin1', s, e);
    if (!text.startsWith('HTTP/')) {
      // Not a status line (an HTTP/0.9 response or another protocol): stop parsing responses.
      tx.addEvent(HTTP_EVENT.RESPONSE_INVALID_PROTOCOL);
      this.abandon(side);
      return;
    }
    let i = text.indexOf(' ');
    if (i < 0) i = text.length;
    tx.responseProtocol = text.slice(0, i);
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    let j = i;
    while (j < text.length && !isSpace(text.charCodeAt(j))) j++;
    tx.statusString = text.slice(i, j);
    tx.statusMessage = text.slice(j).trim();
    tx.status = /^[0-9]{3}$/.test(tx.statusString) ? Number(tx.statusString) : -1;
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
    if (isSpace(b[s])) {
      // obs-fold (RFC 9112 section 5.2): continues the previous value
      const last = side.headerCount > 0 && side.headerCount <= MAX_HEADERS ? list[list.length - 1] : undefined;
      if (last === undefined) {
        tx.addEvent(
          side.isRequest ? HTTP_EVENT.INVALID_REQUEST_FIELD_FOLDING : HTTP_EVENT.INVALID_RESPONSE_FIELD_FOLDING,
        );
        return;
      }
      last[1] = (last[1] + ' ' + b.toString('latin1', s, e).trim()).trim();
      return;
    }
    let colon = b.indexOf(58, s);
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
    let ne = colon;
    while (ne > s && isSpace(b[ne - 1])) ne--;
    list.push([b.toString('latin1', s, ne), b.toString('latin1', colon + 1, e).trim()]);
  }

  private headersDone(side: Side): void {
    if (side.isRequest) this.requestHeadersDone(side);
    else this.responseHeadersDone(side);
  }

  private requestHeadersDone(side: Side): void {
    const tx = side.tx!;
    let te = '';
    let cl = -2;
    let hostHeader: string | null = null;
    const h = tx.requestHeaders;
    for (let i = 0; i < h.length; i++) {
      const [name, value] = h[i]!;
      switch (name.toLowerCase()) {
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
          te = value.toLowerCase();
          break;
        case 'content-length':
          cl = this.contentLength(tx, value, cl, true);
          break;
        default:
      }
    }
    if (hostHeader !== null) {
      const hp = splitHostPort(hostHeader);
      // An absolute URI's authority wins over the Host header (RFC 9112 section 3.2.2).
      if (tx.host === '') {
        tx.host = hp.host;
        tx.hostPort = hp.port;
      } else if (hp.host !== tx.host) tx.addEvent(HTTP_EVENT.HOST_HEADER_AMBIGUOUS);
    } else if (tx.protocol === 'HTTP/1.1' && tx.host === '') tx.addEvent(HTTP_EVENT.MISSING_HOST_HEADER);
    if (te !== '') {
      if (isChunked(te)) {
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
    let te = '';
    let cl = -2;
    const h = tx.responseHeaders;
    tx.responseContentType = '';
    tx.contentEncoding = '';
    tx.location = '';
    for (let i = 0; i < h.length; i++) {
      const [name, value] = h[i]!;
      switch (name.toLowerCase()) {
        case 'content-type':
          tx.responseContentType = value;
          break;
        case 'content-encoding':
          tx.contentEncoding = value.toLowerCase();
          break;
        case 'location':
          tx.location = value;
          break;
        case 'transfer-encoding':
          te = value.toLowerCase();
          break;
        case 'content-length':
          cl = this.contentLength(tx, value, cl, false);
          break;
        default:
      }
    }
    const st = tx.status;
    if (st >= 100 && st < 200 && st !== 101) {
      // Interim response (100 Continue, 103 Early Hints): the final one follows for this request.
      side.continuing = true;
      side.state = ST_LINE;
      return;
    }
    if (st === 101 || (tx.method === 'CONNECT' && st >= 200 && st < 300)) {
      // Protocol switch or tunnel: what follows on both sides is not HTTP/1.x.
      this.abandon(side);
      this.abandon(this.req);
      return;
    }
    const ce = tx.contentEncoding;
    side.coding = ce === 'gzip' || ce === 'x-gzip' ? CODING_GZIP : ce === 'deflate' ? CODING_DEFLATE : CODING_NONE;
    if (tx.method === 'HEAD' || st === 204 || st === 304) {
      this.endMessage(side);
      return;
    }
    if (te !== '') {
      if (isChunked(te)) {
        side.state = ST_CHUNK_SIZE;
        return;
      }
      tx.addEvent(HTTP_EVENT.INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE);
      side.state = ST_BODY_CLOSE;
      return;
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

  /** Folds one Content-Length header into `prev` (-2 none yet, -1 invalid). */
  private contentLength(tx: HttpTransaction, value: string, prev: number, isReq: boolean): number {
    const v = parseLength(value);
    if (v < 0) {
      tx.addEvent(
        isReq
          ? HTTP_EVENT.INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST
          : HTTP_EVENT.INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE,
      );
      return prev === -2 ? -1 : prev;
    }
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

  private chunkSize(side: Side, b: Buffer, s: number, e: number): void {
    let i = s;
    while (i < e && isSpace(b[i])) i++;
    let size = 0;
    let digits = 0;
    for (; i < e; i++) {
      const c = b[i]!;
      const l = c | 0x20;
      const d = c >= 48 && c <= 57 ? c - 48 : l >= 97 && l <= 102 ? l - 87 : -1;
      if (d < 0) break;
      size = size * 16 + d;
      digits++;
    }
    while (i < e && isSpace(b[i])) i++;
    // 13 hex digits stay below 2^53; chunk extensions follow ';' (RFC 9112 section 7.1.1).
    if (digits === 0 || digits > 13 || (i < e && b[i] !== 59)) {
      side.tx!.addEvent(side.isRequest ? HTTP_EVENT.INVALID_REQUEST_CHUNK_LEN : HTTP_EVENT.INVALID_RESPONSE_CHUNK_LEN);
      this.abandon(side);
      return;
    }
    if (size === 0) side.state = ST_TRAILERS;
    else {
      side.remaining = size;
      side.state = ST_CHUNK_DATA;
    }
  }

  /** Counts `n` body bytes at `b[p]` and keeps them up to the limit. */
  private storeBody(side: Side, b: Buffer, p: number, n: number): void {
    const tx = side.tx;
    if (tx === null || n <= 0) return;
    if (side.isRequest) tx.requestBodyLength += n;
    else tx.responseBodyLength += n;
    const cap =
      side.coding !== CODING_NONE
        ? this.compressedBodyLimit
        : side.isRequest
          ? this.requestBodyLimit
          : this.responseBodyLimit;
    const room = cap - side.stored;
    const k = n < room ? n : room;
    if (k < n) side.dropped = true;
    if (k <= 0) return;
    const need = side.stored + k;
    let body = side.body;
    if (body === null || body.length < need) {
      const grown = new Uint8Array(Math.min(cap, Math.max(need, 1024, body === null ? 0 : body.length * 2)));
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
    const body = side.body === null ? EMPTY : side.body.subarray(0, side.stored);
    const dropped = side.dropped;
    const coding = side.coding;
    side.body = null;
    side.stored = 0;
    side.dropped = false;
    side.coding = CODING_NONE;
    if (tx === null) return;
    if (side.isRequest) {
      tx.requestBody = body;
      tx.requestBodyTruncated = dropped;
      tx.requestComplete = true;
      return;
    }
    tx.responseComplete = true;
    if (coding === CODING_NONE) {
      tx.responseBody = body;
      tx.responseBodyTruncated = dropped;
      return;
    }
    const r = decompressBounded(coding === CODING_GZIP ? 'gzip' : 'deflate', body, this.responseBodyLimit);
    if (r.error) {
      tx.addEvent(HTTP_EVENT.GZIP_DECOMPRESSION_FAILED);
      const n = Math.min(body.length, this.responseBodyLimit);
      tx.responseBody = body.subarray(0, n);
      tx.responseBodyTruncated = dropped || n < body.length;
      return;
    }
    tx.responseBody = r.data;
    tx.responseBodyTruncated = r.truncated || dropped;
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

/** `chunked` is the final transfer coding (RFC 9112 section 6.1). */
function isChunked(te: string): boolean {
  const i = te.lastIndexOf(',');
  return te.slice(i + 1).trim() === 'chunked';
}
