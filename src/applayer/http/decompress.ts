/**
 * Bounded decompression of HTTP bodies (Content-Encoding gzip / deflate) with node:zlib.
 *
 * The output never exceeds `limit + SLACK` bytes whatever the input (decompression bombs): zlib's
 * `maxOutputLength` aborts a run as soon as its output passes the bound, and node's sync path works
 * in `chunkSize` steps, so each run costs at most about `limit + SLACK + chunkSize` bytes of output.
 * When the whole body decompresses to more than the bound, a binary search finds the longest input
 * prefix whose output (decoded with Z_SYNC_FLUSH, which accepts a cut stream) stays within it; one
 * input byte yields at most 1,032 output bytes (a 258-byte match per 2 bits), so with SLACK above
 * that the prefix's output covers the first `limit` bytes exactly.
 */
import zlib from 'node:zlib';

/** Output margin over `limit` used while searching (see the module comment). */
const SLACK = 4096;
/** zlib output step: small, so an aborted run does little wasted work. */
const CHUNK = 16 * 1024;

/** Content codings handled. */
export type Coding = 'gzip' | 'deflate';

/** Result of `decompressBounded`. */
export interface Decompressed {
  /** The first `limit` decoded bytes at most. */
  data: Uint8Array;
  /** The decoded body is longer than `limit` (bytes dropped). */
  truncated: boolean;
  /** The input is not valid for its coding (nothing decoded at all). */
  error: boolean;
}

/** True when `e` is zlib's "output larger than maxOutputLength" error. */
function isTooLarge(e: unknown): boolean {
  return (e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
}

/** One bounded run; throws on overflow or data errors. */
function run(coding: Coding, raw: boolean, input: Uint8Array, max: number): Buffer {
  const opts = { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: max, chunkSize: CHUNK };
  if (coding === 'gzip') return zlib.gunzipSync(input, opts);
  return raw ? zlib.inflateRawSync(input, opts) : zlib.inflateSync(input, opts);
}

/** Decodes `input` (a whole or cut body) into at most `limit` bytes. Never throws. */
export function decompressBounded(coding: Coding, input: Uint8Array, limit: number): Decompressed {
  if (input.length === 0) return { data: new Uint8Array(0), truncated: false, error: false };
  // deflate: the zlib-wrapped form (RFC 9110 8.4.1.2) first, then raw deflate as browsers accept.
  for (let attempt = 0; attempt < 2; attempt++) {
    const raw = attempt === 1;
    try {
      const out = run(coding, raw, input, limit);
      return { data: Uint8Array.from(out), truncated: false, error: false };
    } catch (e) {
      if (isTooLarge(e)) return searchPrefix(coding, raw, input, limit);
      if (coding === 'gzip') break;
    }
  }
  return { data: new Uint8Array(0), truncated: false, error: true };
}

/** Binary search for the longest input prefix decoding to at most `limit + SLACK` bytes. */
function searchPrefix(coding: Coding, raw: boolean, input: Uint8Array, limit: number): Decompressed {
  let lo = 0;
  let hi = input.length; // the whole input overflows
  let best: Buffer | null = null;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    try {
      best = run(coding, raw, input.subarray(0, mid), limit + SLACK);
      lo = mid;
    } catch {
      // overflow (or a data error further on): the answer is a shorter prefix
      hi = mid;
    }
  }
  const n = best === null ? 0 : Math.min(best.length, limit);
  const data = new Uint8Array(n);
  if (best !== null) data.set(best.subarray(0, n));
  return { data, truncated: true, error: false };
}
