/**
 * Inspection buffers: where each sticky buffer's bytes come from (the packet, an HTTP transaction,
 * a DNS message, a TLS handshake, SSH banners) and which direction they belong to. A rule's
 * buffers decide whether it is a packet rule or a transaction rule and for which protocol.
 */
import { createHash } from 'node:crypto';
import type { HttpTransaction } from '../../applayer/http/parser.js';
import type { TransformSpec } from '../signatures/keywords/common.js';
import { toLower } from './inspect.js';

/** Where a buffer lives: the packet, or a transaction of an application protocol. */
export type BufferScope = 'pkt' | 'http' | 'dns' | 'tls' | 'ssh' | 'smtp';
/** Direction of the data: to server (request), to client (response), or either (per rule flow). */
export type BufferDir = 'ts' | 'tc' | 'both';

export interface BufferDef {
  scope: BufferScope;
  dir: BufferDir;
  /** Several values per transaction (each inspected separately: DNS queries, TLS certificates). */
  multi?: boolean;
}

export const BUFFERS: Record<string, BufferDef> = {
  payload: { scope: 'pkt', dir: 'both' },
  'ipv4.hdr': { scope: 'pkt', dir: 'both' },
  'ipv6.hdr': { scope: 'pkt', dir: 'both' },
  'tcp.hdr': { scope: 'pkt', dir: 'both' },
  'udp.hdr': { scope: 'pkt', dir: 'both' },
  'icmpv4.hdr': { scope: 'pkt', dir: 'both' },
  'icmpv6.hdr': { scope: 'pkt', dir: 'both' },
  'http.uri': { scope: 'http', dir: 'ts' },
  'http.uri.raw': { scope: 'http', dir: 'ts' },
  'http.method': { scope: 'http', dir: 'ts' },
  'http.request_line': { scope: 'http', dir: 'ts' },
  'http.protocol': { scope: 'http', dir: 'both' },
  'http.header': { scope: 'http', dir: 'both' },
  'http.header.raw': { scope: 'http', dir: 'both' },
  'http.header_names': { scope: 'http', dir: 'both' },
  'http.start': { scope: 'http', dir: 'both' },
  'http.host': { scope: 'http', dir: 'ts' },
  'http.host.raw': { scope: 'http', dir: 'ts' },
  'http.user_agent': { scope: 'http', dir: 'ts' },
  'http.cookie': { scope: 'http', dir: 'both' },
  'http.referer': { scope: 'http', dir: 'ts' },
  'http.accept': { scope: 'http', dir: 'ts' },
  'http.accept_enc': { scope: 'http', dir: 'ts' },
  'http.accept_lang': { scope: 'http', dir: 'ts' },
  'http.connection': { scope: 'http', dir: 'both' },
  'http.content_type': { scope: 'http', dir: 'both' },
  'http.content_len': { scope: 'http', dir: 'both' },
  'http.request_body': { scope: 'http', dir: 'ts' },
  'http.response_body': { scope: 'http', dir: 'tc' },
  'file.data': { scope: 'http', dir: 'both' },
  'http.stat_code': { scope: 'http', dir: 'tc' },
  'http.stat_msg': { scope: 'http', dir: 'tc' },
  'http.response_line': { scope: 'http', dir: 'tc' },
  'http.location': { scope: 'http', dir: 'tc' },
  'http.server': { scope: 'http', dir: 'tc' },
  'dns.query': { scope: 'dns', dir: 'ts', multi: true },
  'tls.sni': { scope: 'tls', dir: 'ts' },
  'ja3.hash': { scope: 'tls', dir: 'ts' },
  'ja3.string': { scope: 'tls', dir: 'ts' },
  'ja3s.hash': { scope: 'tls', dir: 'tc' },
  'tls.cert_subject': { scope: 'tls', dir: 'tc' },
  'tls.cert_issuer': { scope: 'tls', dir: 'tc' },
  'tls.cert_serial': { scope: 'tls', dir: 'tc' },
  'tls.certs': { scope: 'tls', dir: 'tc', multi: true },
  'ssh.proto': { scope: 'ssh', dir: 'both' },
  'ssh.software': { scope: 'ssh', dir: 'both' },
};

const EMPTY = Buffer.alloc(0);
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

function headerValue(headers: [string, string][], name: string): string | null {
  let out: string | null = null;
  for (const [n, v] of headers) {
    // Names of another length cannot match: no lower-cased copy of every header name per lookup.
    if (n.length !== name.length || (n !== name && n.toLowerCase() !== name)) continue;
    // Repeated headers are joined with ", " as libhtp does.
    out = out === null ? v : `${out}, ${v}`;
  }
  return out;
}

/** Write latin1 string s into b at o; returns the offset after it. */
function put(b: Buffer, o: number, s: string): number {
  for (let k = 0; k < s.length; k++) b[o + k] = s.charCodeAt(k);
  return o + s.length;
}

function crlf(b: Buffer, o: number): number {
  b[o] = 0x0d;
  b[o + 1] = 0x0a;
  return o + 2;
}

/**
 * `line` CRLF (when `line` is given), then each header as `Name: value` CRLF, then CRLF when
 * `blank`: built byte by byte into one buffer. (A template string turned into a Buffer cost about
 * twice as much: cons-string flattening, then encoding; these are built for every transaction.)
 */
function headBytes(line: string | null, headers: [string, string][], blank: boolean): Buffer {
  let n = (line === null ? 0 : line.length + 2) + (blank ? 2 : 0);
  for (const [k, v] of headers) n += k.length + v.length + 4;
  const b = Buffer.allocUnsafe(n);
  let o = 0;
  if (line !== null) o = crlf(b, put(b, 0, line));
  for (const [k, v] of headers) {
    o = put(b, o, k);
    b[o++] = 0x3a;
    b[o++] = 0x20;
    o = crlf(b, put(b, o, v));
  }
  if (blank) crlf(b, o);
  return b;
}

/** `http.header_names`: CRLF, each name CRLF, CRLF (Suricata's layout). */
function headerNames(headers: [string, string][]): Buffer {
  let n = 4;
  for (const [k] of headers) n += k.length + 2;
  const b = Buffer.allocUnsafe(n);
  let o = crlf(b, 0);
  for (const [k] of headers) o = crlf(b, put(b, o, k));
  crlf(b, o);
  return b;
}

/** The Host header value without a trailing `:port` (digits, possibly none), lowercased. */
function hostBytes(h: string): Buffer {
  let end = h.length;
  let k = end - 1;
  while (k >= 0 && h.charCodeAt(k) >= 0x30 && h.charCodeAt(k) <= 0x39) k--;
  if (k >= 0 && h.charCodeAt(k) === 0x3a) end = k;
  const b = Buffer.allocUnsafe(end);
  for (let i = 0; i < end; i++) {
    const c = h.charCodeAt(i) & 0xff;
    b[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
  return b;
}

/**
 * The bytes of an HTTP buffer for one side of a transaction; null when the transaction has no
 * such data (a rule needing it cannot match, as in Suricata).
 */
export function httpBuffer(tx: HttpTransaction, name: string, toServer: boolean): Buffer | null {
  const req = tx.requestHeaders;
  const res = tx.responseHeaders;
  const hdrs = toServer ? req : res;
  switch (name) {
    case 'http.uri':
      return tx.uri === '' ? null : latin1(tx.uri);
    case 'http.uri.raw':
      return tx.uriRaw === '' ? null : latin1(tx.uriRaw);
    case 'http.method':
      return tx.method === '' ? null : latin1(tx.method);
    case 'http.request_line':
      return tx.method === ''
        ? null
        : latin1(`${tx.method} ${tx.uriRaw}${tx.protocol === '' ? '' : ' ' + tx.protocol}`);
    case 'http.protocol': {
      const p = toServer ? tx.protocol : tx.responseProtocol;
      return p === '' ? null : latin1(p);
    }
    case 'http.header':
      return hdrs.length === 0 ? null : headBytes(null, hdrs, false);
    case 'http.header.raw':
      return hdrs.length === 0 ? null : headBytes(null, hdrs, true);
    case 'http.header_names':
      return hdrs.length === 0 ? null : headerNames(hdrs);
    case 'http.start': {
      const line = startLine(tx, toServer);
      return line === '' ? null : headBytes(line, hdrs, true);
    }
    case 'payload': {
      // Payload matches of an HTTP rule (compile.ts): the message as sent, rebuilt — start line,
      // headers, blank line, then the body as far as it was kept (dechunked and decompressed, where
      // Suricata's raw stream would hold the transfer encoding).
      const line = startLine(tx, toServer);
      return line === '' ? null : httpMessage(headBytes(line, hdrs, true), tx, toServer);
    }
    case 'http.host': {
      if (!toServer) return null;
      const h = headerValue(req, 'host');
      return h === null ? (tx.host === '' ? null : latin1(tx.host)) : hostBytes(h);
    }
    case 'http.host.raw': {
      const h = headerValue(req, 'host');
      return h === null ? null : latin1(h);
    }
    case 'http.user_agent':
      return single(req, 'user-agent');
    case 'http.cookie':
      return single(hdrs, toServer ? 'cookie' : 'set-cookie');
    case 'http.referer':
      return single(req, 'referer');
    case 'http.accept':
      return single(req, 'accept');
    case 'http.accept_enc':
      return single(req, 'accept-encoding');
    case 'http.accept_lang':
      return single(req, 'accept-language');
    case 'http.connection':
      return single(hdrs, 'connection');
    case 'http.content_type':
      return single(hdrs, 'content-type');
    case 'http.content_len':
      return single(hdrs, 'content-length');
    case 'http.request_body':
      return tx.requestBody.length === 0
        ? null
        : Buffer.from(tx.requestBody.buffer, tx.requestBody.byteOffset, tx.requestBody.length);
    case 'http.response_body':
      return tx.responseBody.length === 0
        ? null
        : Buffer.from(tx.responseBody.buffer, tx.responseBody.byteOffset, tx.responseBody.length);
    case 'file.data': {
      const b = toServer ? tx.requestBody : tx.responseBody;
      return b.length === 0 ? null : Buffer.from(b.buffer, b.byteOffset, b.length);
    }
    case 'http.stat_code':
      return tx.statusString === '' ? null : latin1(tx.statusString);
    case 'http.stat_msg':
      return tx.statusMessage === '' ? null : latin1(tx.statusMessage);
    case 'http.response_line':
      return tx.responseStarted
        ? latin1(`${tx.responseProtocol} ${tx.statusString}${tx.statusMessage === '' ? '' : ' ' + tx.statusMessage}`)
        : null;
    case 'http.location':
      return single(res, 'location');
    case 'http.server':
      return single(res, 'server');
    default:
      return null;
  }
}

/**
 * The rebuilt message of one side (the `payload` buffer of HTTP rules): `head`, its `http.start`
 * bytes, then the body as kept. Without a body it is `head` itself (callers never write to buffers).
 */
export function httpMessage(head: Buffer, tx: HttpTransaction, toServer: boolean): Buffer {
  const body = toServer ? tx.requestBody : tx.responseBody;
  return body.length === 0 ? head : Buffer.concat([head, body]);
}

/** The request line (to server) or status line of a transaction as sent; '' before it was seen. */
function startLine(tx: HttpTransaction, toServer: boolean): string {
  if (toServer)
    return tx.method === '' ? '' : `${tx.method} ${tx.uriRaw}${tx.protocol === '' ? '' : ' ' + tx.protocol}`;
  return tx.responseStarted
    ? `${tx.responseProtocol} ${tx.statusString}${tx.statusMessage === '' ? '' : ' ' + tx.statusMessage}`
    : '';
}

function single(headers: [string, string][], name: string): Buffer | null {
  const v = headerValue(headers, name);
  return v === null ? null : latin1(v);
}

/** Value of an ASCII hex digit, or -1. */
function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/**
 * `url_decode` (Suricata's transform): `+` becomes a space and `%XX` its byte, left to right in
 * one pass (a decoded `%2B` stays `+`; an invalid escape is kept as it is). Byte-wise rather than
 * through strings and regexes: the built-in rules decode URIs, bodies, cookies and user agents of
 * every request, twice.
 */
export function urlDecode(b: Buffer): Buffer {
  const n = b.length;
  let i = 0;
  while (i < n && b[i] !== 0x25 && b[i] !== 0x2b) i++;
  if (i === n) return b; // nothing to decode: the input itself (callers never write to buffers)
  const o = Buffer.allocUnsafe(n);
  b.copy(o, 0, 0, i);
  let w = i;
  for (; i < n; i++) {
    const c = b[i]!;
    if (c === 0x2b) o[w++] = 0x20;
    else if (c === 0x25 && i + 2 < n && hexVal(b[i + 1]!) >= 0 && hexVal(b[i + 2]!) >= 0) {
      o[w++] = (hexVal(b[i + 1]!) << 4) | hexVal(b[i + 2]!);
      i += 2;
    } else o[w++] = c;
  }
  return o.subarray(0, w);
}

/** Apply a rule's transforms to a buffer (never written to; returned as is where nothing changes). */
export function applyTransforms(buf: Buffer, transforms: readonly TransformSpec[]): Buffer {
  let b = buf;
  for (const t of transforms) {
    switch (t.name) {
      case 'dotprefix':
        b = Buffer.concat([Buffer.from('.'), b]);
        break;
      case 'to_lowercase':
        b = toLower(b);
        break;
      case 'to_uppercase': {
        const o = Buffer.allocUnsafe(b.length);
        for (let i = 0; i < b.length; i++) {
          const c = b[i]!;
          o[i] = c >= 97 && c <= 122 ? c - 32 : c;
        }
        b = o;
        break;
      }
      case 'strip_whitespace':
        b = Buffer.from(b.filter((c) => c !== 32 && !(c >= 9 && c <= 13)));
        break;
      case 'compress_whitespace':
        b = latin1(b.toString('latin1', 0, b.length).replace(/[ \t\n\v\f\r]+/g, ' '));
        break;
      case 'url_decode':
        b = urlDecode(b);
        break;
      case 'to_md5':
      case 'to_sha1':
      case 'to_sha256':
        b = createHash(t.name.slice(3)).update(b).digest();
        break;
      case 'header_lowercase': {
        const s = b
          .toString('latin1', 0, b.length)
          .replace(/(^|\r\n)([^:\r\n]*)/g, (_m, p: string, n: string) => p + n.toLowerCase());
        b = latin1(s);
        break;
      }
      case 'strip_pseudo_headers':
        b = latin1(b.toString('latin1', 0, b.length).replace(/(^|\r\n):[^\r\n]*\r\n/g, '$1'));
        break;
      case 'xor': {
        const key = Buffer.from(t.arg ?? '', 'hex');
        if (key.length === 0) break;
        const o = Buffer.allocUnsafe(b.length);
        for (let i = 0; i < b.length; i++) o[i] = b[i]! ^ key[i % key.length]!;
        b = o;
        break;
      }
      case 'pcrexform': {
        const m = new RegExp(t.arg ?? '').exec(b.toString('latin1', 0, b.length));
        b = m === null ? EMPTY : latin1(m[1] ?? m[0]);
        break;
      }
      default:
        break;
    }
  }
  return b;
}
