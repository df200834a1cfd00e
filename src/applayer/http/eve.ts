/**
 * EVE `http` object of one transaction, with Suricata's field names (output-json-http.c), so tools
 * that read Suricata's http events read Vigil's. Only present values are written, as Suricata does.
 */
import type { HttpHeader, HttpTransaction } from './parser.js';

/** What `httpEveObject` adds beyond the default fields (Suricata's eve-log http options). */
export interface HttpEveOptions {
  /** `request_headers` / `response_headers` arrays (Suricata's `dump-all-headers: both`). */
  dumpAllHeaders?: boolean;
  /** `xff` from X-Forwarded-For (Suricata's `xff.mode: extra-data`). */
  xff?: boolean;
  /** Base64 `http_request_body` / `http_response_body` of the kept bytes (Suricata's `http-body`). */
  bodies?: boolean;
}

function headerArray(h: HttpHeader[]): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (let i = 0; i < h.length; i++) out.push({ name: h[i]![0], value: h[i]![1] });
  return out;
}

/** Drops media-type parameters: `text/html; charset=utf-8` gives `text/html`, as Suricata logs it. */
function mediaType(v: string): string {
  const i = v.indexOf(';');
  return (i >= 0 ? v.slice(0, i) : v).trim();
}

/** The EVE `http` object of `tx` (strings are the latin1 bytes as sent). */
export function httpEveObject(tx: HttpTransaction, opts: HttpEveOptions = {}): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (tx.host !== '') o['hostname'] = tx.host;
  if (tx.hostPort >= 0) o['http_port'] = tx.hostPort;
  if (tx.uriRaw !== '') o['url'] = tx.uriRaw;
  if (tx.userAgent !== '') o['http_user_agent'] = tx.userAgent;
  if (opts.xff === true && tx.xff !== '') o['xff'] = tx.xff;
  if (tx.responseContentType !== '') o['http_content_type'] = mediaType(tx.responseContentType);
  if (tx.referer !== '') o['http_refer'] = tx.referer;
  if (tx.method !== '') o['http_method'] = tx.method;
  if (tx.protocol !== '') o['protocol'] = tx.protocol;
  if (tx.status >= 0) o['status'] = tx.status;
  else if (tx.statusString !== '') o['status_string'] = tx.statusString;
  if (tx.location !== '') o['redirect'] = tx.location;
  // Always present, 0 before any response (Suricata's EveHttpLogJSONBasic sets it unconditionally).
  o['length'] = tx.responseStarted ? tx.responseBodyLength : 0;
  if (opts.bodies === true) {
    if (tx.requestBody.length > 0) o['http_request_body'] = Buffer.from(tx.requestBody).toString('base64');
    if (tx.responseBody.length > 0) o['http_response_body'] = Buffer.from(tx.responseBody).toString('base64');
  }
  if (opts.dumpAllHeaders === true) {
    if (tx.requestHeaders.length > 0) o['request_headers'] = headerArray(tx.requestHeaders);
    if (tx.responseHeaders.length > 0) o['response_headers'] = headerArray(tx.responseHeaders);
  }
  return o;
}
