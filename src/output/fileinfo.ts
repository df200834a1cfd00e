/**
 * EVE `fileinfo` for files carried over HTTP: the response body, and the files of request bodies
 * (multipart uploads, raw POST/PUT bodies; src/applayer/http/files.ts), as Suricata treats them:
 * name from Content-Disposition or the URI path, size, type from magic bytes, and md5/sha1/sha256
 * when the whole file was kept (bodies beyond the body limits are TRUNCATED and not hashed).
 */
import { createHash } from 'node:crypto';
import type { HttpFile } from '../applayer/http/files.js';
import type { HttpTransaction } from '../applayer/http/parser.js';
import { magicOf } from '../util/magic.js';
import type { StoreResult } from './filestore.js';

export { magicOf };

/** File name: Content-Disposition `filename=` (quoted or not), else the URI path. */
export function httpFileName(tx: HttpTransaction): string {
  for (const [n, v] of tx.responseHeaders) {
    if (n.toLowerCase() !== 'content-disposition') continue;
    const m = /filename\*?\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(v);
    if (m) return (m[1] ?? m[2] ?? '').replace(/^UTF-8''/i, '');
  }
  const q = tx.uri.indexOf('?');
  return q >= 0 ? tx.uri.slice(0, q) : tx.uri;
}

/** Whether the response body is a whole file (all its bytes kept): only those are hashed and stored. */
export function httpFileComplete(tx: HttpTransaction): boolean {
  return tx.responseComplete && !tx.responseBodyTruncated;
}

/**
 * The `fileinfo` object of an HTTP response body, null when the response carried none. `store`:
 * what the file store did with it (`stored`, `file_id`), `sids`: the `filestore` rules behind it.
 */
export function httpFileinfoObject(
  tx: HttpTransaction,
  store?: StoreResult,
  sids?: readonly number[],
): Record<string, unknown> | null {
  if (tx.responseBodyLength === 0 && tx.responseBody.length === 0) return null;
  const body = tx.responseBody;
  const complete = httpFileComplete(tx);
  const o: Record<string, unknown> = { filename: httpFileName(tx) };
  if (sids !== undefined && sids.length > 0) o['sid'] = sids.slice();
  o['gaps'] = false;
  const magic = magicOf(body);
  if (magic !== '') o['magic'] = magic;
  o['state'] = complete ? 'CLOSED' : 'TRUNCATED';
  if (complete) {
    o['md5'] = createHash('md5').update(body).digest('hex');
    o['sha1'] = createHash('sha1').update(body).digest('hex');
    o['sha256'] = store?.sha256 ?? createHash('sha256').update(body).digest('hex');
  }
  o['stored'] = store?.stored === true;
  if (store?.fileId !== undefined) o['file_id'] = store.fileId;
  o['size'] = complete ? body.length : Math.max(body.length, tx.responseBodyLength);
  o['tx_id'] = tx.id;
  return o;
}

/**
 * The `fileinfo` object of one request-body file of `tx` (see httpRequestFiles), with the same
 * fields and rules as a response's: hashes only for a complete file.
 */
export function httpRequestFileinfoObject(
  tx: HttpTransaction,
  file: HttpFile,
  store?: StoreResult,
  sids?: readonly number[],
): Record<string, unknown> {
  const o: Record<string, unknown> = { filename: file.name };
  if (sids !== undefined && sids.length > 0) o['sid'] = sids.slice();
  o['gaps'] = false;
  const magic = magicOf(file.data);
  if (magic !== '') o['magic'] = magic;
  o['state'] = file.complete ? 'CLOSED' : 'TRUNCATED';
  if (file.complete) {
    o['md5'] = createHash('md5').update(file.data).digest('hex');
    o['sha1'] = createHash('sha1').update(file.data).digest('hex');
    o['sha256'] = store?.sha256 ?? createHash('sha256').update(file.data).digest('hex');
  }
  o['stored'] = store?.stored === true;
  if (store?.fileId !== undefined) o['file_id'] = store.fileId;
  o['size'] = file.size;
  o['tx_id'] = tx.id;
  return o;
}
