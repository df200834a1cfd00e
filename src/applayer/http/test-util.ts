/** Test helpers for the HTTP parser tests (not used by the parser). */
import { HttpConnection, type HttpOptions, type HttpTransaction } from './parser.js';

/** latin1 bytes of `s`. */
export function bytes(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'latin1'));
}

/** Concatenation of byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** A comparable summary of a transaction (everything but timestamps). */
export function summary(tx: HttpTransaction): Record<string, unknown> {
  return {
    id: tx.id,
    method: tx.method,
    uriRaw: tx.uriRaw,
    uri: tx.uri,
    protocol: tx.protocol,
    requestHeaders: tx.requestHeaders,
    host: tx.host,
    hostPort: tx.hostPort,
    userAgent: tx.userAgent,
    cookie: tx.cookie,
    contentType: tx.contentType,
    requestBody: Buffer.from(tx.requestBody).toString('hex'),
    requestBodyLength: tx.requestBodyLength,
    status: tx.status,
    statusMessage: tx.statusMessage,
    responseHeaders: tx.responseHeaders,
    responseBody: Buffer.from(tx.responseBody).toString('hex'),
    responseBodyLength: tx.responseBodyLength,
    requestComplete: tx.requestComplete,
    responseComplete: tx.responseComplete,
    events: tx.events,
  };
}

/** Feeds whole streams, each cut at the given offsets, requests first, then closes. */
export function parseSplit(
  req: Uint8Array,
  res: Uint8Array,
  reqCuts: number[] = [],
  resCuts: number[] = [],
  opts: HttpOptions = {},
): HttpTransaction[] {
  const c = new HttpConnection(opts);
  feedCuts(c, 0, req, reqCuts);
  feedCuts(c, 1, res, resCuts);
  c.close();
  return c.drain();
}

function feedCuts(c: HttpConnection, dir: 0 | 1, data: Uint8Array, cuts: number[]): void {
  let prev = 0;
  for (const cut of [...cuts, data.length]) {
    if (cut > prev) c.feed(dir, data, prev, cut - prev, prev);
    prev = Math.max(prev, cut);
  }
}
