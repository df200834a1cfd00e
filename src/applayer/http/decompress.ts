/**
 * Bounded, tolerant decompression of HTTP bodies (Content-Encoding gzip / deflate, stacked layers)
 * with node:zlib, after libhtp (Suricata's `decompressors.rs`), which is as lax as browsers:
 *
 * - gzip: the header is parsed here and skipped (reserved flag bits, FEXTRA, FNAME, FCOMMENT and
 *   FHCRC are accepted without checks); the deflate data after it is inflated raw; the CRC32 /
 *   ISIZE trailer and anything after the end of the deflate stream are ignored.
 * - deflate: raw deflate (RFC 1951) first, as libhtp does; zlib-wrapped data fails that at once.
 * - A coding that fails without output is retried as the next one of gzip -> deflate -> zlib ->
 *   gzip (a "gzip" body that is really deflate decodes); when none works the bytes pass through
 *   unchanged. A coding that fails after producing output keeps that output (libhtp stops there).
 * - Several layers (`Content-Encoding: gzip, deflate`) are undone last-applied first.
 *
 * The output never exceeds `limit + SLACK` bytes per run whatever the input (decompression bombs):
 * zlib's `maxOutputLength` aborts a run as soon as its output passes the bound, and node's sync path
 * works in `chunkSize` steps, so each run costs at most about `limit + SLACK + chunkSize` bytes of
 * output. When the whole input decodes to more than the bound, or is corrupt part way, a binary
 * search finds the longest input prefix that decodes (with Z_SYNC_FLUSH, which accepts a cut
 * stream) within the bound; one input byte yields at most 1,032 output bytes (a 258-byte match per
 * 2 bits), so with SLACK above that the prefix's output covers the first `limit` bytes exactly.
 */
import zlib from 'node:zlib';

/** Output margin over `limit` used while searching (see the module comment). */
const SLACK = 4096;
/** zlib output step: small, so an aborted run does little wasted work. */
const CHUNK = 16 * 1024;

/** Content codings handled: gzip, raw deflate, zlib-wrapped deflate. */
export type Coding = 'gzip' | 'deflate' | 'zlib';

/** Result of a decode. */
export interface Decompressed {
  /** The first `limit` decoded bytes at most. */
  data: Uint8Array;
  /** The decoded body is longer than `limit` (bytes dropped). */
  truncated: boolean;
  /** Some layer was not valid for its coding: its output stops at the error, or it passed through raw. */
  error: boolean;
}

/** One attempt's outcome (`data` may be longer than the limit by up to SLACK). */
interface Attempt {
  data: Buffer;
  truncated: boolean;
  error: boolean;
}

const EMPTY = Buffer.alloc(0);
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const GZIP_BAD = -1;
const GZIP_SHORT = -2;

/** True when `e` is zlib's "output larger than maxOutputLength" error. */
function isTooLarge(e: unknown): boolean {
  return (e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
}

/**
 * Offset of the deflate data after a gzip header (RFC 1952 section 2.3), GZIP_BAD when the magic or
 * method is wrong, GZIP_SHORT when the input ends inside the header. Flags are honoured but nothing
 * is verified (header CRC, reserved bits), like libhtp's GzipBufWriter.
 */
export function gzipHeaderEnd(b: Uint8Array): number {
  const magic = [0x1f, 0x8b, 0x08];
  for (let i = 0; i < 3; i++) {
    if (i >= b.length) return GZIP_SHORT;
    if (b[i] !== magic[i]) return GZIP_BAD;
  }
  if (b.length < 10) return GZIP_SHORT;
  const flags = b[3]!;
  let i = 10;
  if (flags & FEXTRA) {
    if (i + 2 > b.length) return GZIP_SHORT;
    i += 2 + (b[i]! | (b[i + 1]! << 8));
  }
  if (flags & FNAME) {
    const z = b.indexOf(0, i);
    if (z < 0) return GZIP_SHORT;
    i = z + 1;
  }
  if (flags & FCOMMENT) {
    const z = b.indexOf(0, i);
    if (z < 0) return GZIP_SHORT;
    i = z + 1;
  }
  if (flags & FHCRC) i += 2;
  return i > b.length ? GZIP_SHORT : i;
}

/** One bounded run; throws on overflow or data errors. */
function run(zlibWrapped: boolean, input: Uint8Array, max: number): Buffer {
  const opts = { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(1, max), chunkSize: CHUNK };
  return zlibWrapped ? zlib.inflateSync(input, opts) : zlib.inflateRawSync(input, opts);
}

/** Binary search for the longest input prefix decoding without error to at most `limit + SLACK` bytes. */
function searchPrefix(zlibWrapped: boolean, input: Uint8Array, limit: number): Buffer {
  let lo = 0;
  let hi = input.length; // the whole input fails
  let best: Buffer = EMPTY;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    try {
      best = run(zlibWrapped, input.subarray(0, mid), limit + SLACK);
      lo = mid;
    } catch {
      // overflow or a data error within the prefix: the answer is a shorter one
      hi = mid;
    }
  }
  return best;
}

/** Decodes `input` as exactly `coding`, keeping the output before any error. */
function decodeOne(coding: Coding, input: Uint8Array, limit: number): Attempt {
  let data = input;
  if (coding === 'gzip') {
    const h = gzipHeaderEnd(input);
    if (h === GZIP_BAD) return { data: EMPTY, truncated: false, error: true };
    if (h === GZIP_SHORT) return { data: EMPTY, truncated: false, error: false };
    data = input.subarray(h);
  }
  if (data.length === 0) return { data: EMPTY, truncated: false, error: false };
  const wrapped = coding === 'zlib';
  try {
    return { data: run(wrapped, data, limit), truncated: false, error: false };
  } catch (e) {
    const over = isTooLarge(e);
    const best = searchPrefix(wrapped, data, limit);
    return { data: best, truncated: over || best.length > limit, error: !over };
  }
}

/** The retry order after `coding` fails without output (libhtp's restart cycle). */
const RETRY: Record<Coding, readonly Coding[]> = {
  gzip: ['gzip', 'deflate', 'zlib'],
  deflate: ['deflate', 'zlib', 'gzip'],
  zlib: ['zlib', 'gzip', 'deflate'],
};

/** Undoes one layer: `coding`, then the retries, then pass-through. */
function decodeLayer(coding: Coding, input: Uint8Array, limit: number): Attempt {
  const order = RETRY[coding];
  for (let k = 0; k < order.length; k++) {
    const r = decodeOne(order[k]!, input, limit);
    if (!r.error) return r;
    if (k === 0 && r.data.length > 0) return r; // output before the error is kept, no retry
  }
  // Nothing decodes: the bytes pass through as they are.
  const n = Math.min(input.length, limit);
  return { data: Buffer.from(input.subarray(0, n)), truncated: n < input.length, error: true };
}

/**
 * Undoes the content codings `layers` (in header order, so the last one listed is undone first)
 * of `input`: at most `limit` bytes of final output, at most `innerLimit` (+ SLACK) bytes between
 * layers. Never throws.
 */
export function decodeLayers(
  layers: readonly Coding[],
  input: Uint8Array,
  limit: number,
  innerLimit: number = limit,
): Decompressed {
  let data: Uint8Array = input;
  let truncated = false;
  let error = false;
  for (let i = layers.length - 1; i >= 0; i--) {
    if (data.length === 0) break;
    const r = decodeLayer(layers[i]!, data, i === 0 ? limit : innerLimit);
    data = r.data;
    truncated ||= r.truncated;
    error ||= r.error;
  }
  const n = Math.min(data.length, limit);
  const out = new Uint8Array(n);
  out.set(data.subarray(0, n));
  return { data: out, truncated: truncated || n < data.length, error };
}

/** Decodes one layer of `coding` (a whole or cut body) into at most `limit` bytes. Never throws. */
export function decompressBounded(coding: Coding, input: Uint8Array, limit: number): Decompressed {
  return decodeLayers([coding], input, limit);
}
