/**
 * Multi-pattern prefilter with the API and semantics of {@link Mpm} (src/detect/engine/mpm.ts):
 * which ids' patterns occur in a buffer, ASCII case-insensitive, patterns truncated to 255 bytes.
 * Instead of an automaton it filters on hashed q-grams and verifies candidates directly:
 *
 * - `first`, 64 KB indexed by two RAW bytes (b[i] << 8 | b[i+1]; every case variant of a folded
 *   pair is set, so the hot loop does no folding), holds flags: a 1-byte pattern equals b[i], a
 *   2-byte pattern equals the pair, a 3-byte or a longer pattern starts with it. Most positions
 *   are one byte read, a shift and one table read.
 * - On a flag, the folded key of the pattern's first min(len, 4) bytes is hashed into the table of
 *   that length class; its bucket is a contiguous range of entries (sorted at build time) holding
 *   the key (rejects hash collisions at once), id, length and offset of the folded pattern bytes.
 *   An entry whose id is already seen in this scan is skipped before the byte comparison.
 *
 * Same results as Mpm for every input (fastmpm.test.ts runs one property test against both).
 */
import { MPM_MAX_PATTERN } from './mpm.js';
import type { MpmBuilderOptions } from './mpm.js';

export { MPM_MAX_PATTERN };

/** Flags in `first`: which length classes can start at a position. */
const F1 = 1;
const F2 = 2;
const F3 = 4;
const F4 = 8;
const SHORT = F1 | F2 | F3;

/** Filter bits per long pattern (>= 4 bytes): ~1/16 of positions pass by chance at most. */
const FILTER_BITS_PER_PATTERN = 64;
/** Filter size bounds (log2 bits): 8 KB minimum, 512 KB maximum. */
const FILTER_MIN_LOG = 18;
const FILTER_MAX_LOG = 22;

/** ASCII case fold table (A-Z to a-z). */
const FOLD = new Uint8Array(256);
for (let b = 0; b < 256; b++) FOLD[b] = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;

/** Bucket of a folded key in a table of 2^bits buckets (Fibonacci hashing). */
function bucketOf(key: number, bits: number): number {
  return Math.imul(key, 0x9e3779b1) >>> (32 - bits);
}

/** Collects patterns; {@link FastMpmBuilder.build} turns them into an immutable {@link FastMpm}. */
export class FastMpmBuilder {
  private readonly patterns: Uint8Array[] = [];
  private readonly ids: number[] = [];

  /** Options are validated like MpmBuilder's and otherwise unused (no automaton to lay out). */
  constructor(options: MpmBuilderOptions = {}) {
    const d = options.denseBudget ?? 0;
    const a = options.packAttempts ?? 0;
    if (!(d >= 0)) throw new RangeError(`mpm: denseBudget must be >= 0, got ${d}`);
    if (!(a >= 0)) throw new RangeError(`mpm: packAttempts must be >= 0, got ${a}`);
  }

  /** Same contract as {@link MpmBuilder.add}: copies, folds, truncates to 255 bytes. */
  add(pattern: Uint8Array, id: number): void {
    if (pattern.length === 0) throw new RangeError('mpm: empty pattern');
    if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw new RangeError(`mpm: bad pattern id ${id}`);
    const n = Math.min(pattern.length, MPM_MAX_PATTERN);
    const p = new Uint8Array(n);
    for (let i = 0; i < n; i++) p[i] = FOLD[pattern[i]!]!;
    this.patterns.push(p);
    this.ids.push(id);
  }

  /** Build the matcher. Works with 0 patterns (a scan then finds nothing). */
  build(): FastMpm {
    const pats = this.patterns;
    const ids = this.ids;
    // Distinct (folded bytes, id) pairs: duplicates would only be verified twice.
    const uniq = new Map<string, { p: Uint8Array; id: number }>();
    let idCapacity = 0;
    for (let k = 0; k < pats.length; k++) {
      const p = pats[k]!;
      const id = ids[k]!;
      if (id + 1 > idCapacity) idCapacity = id + 1;
      uniq.set(`${id}:${Buffer.from(p).toString('latin1')}`, { p, id });
    }
    const list = [...uniq.values()];
    const counts = [0, 0, 0, 0, 0];
    for (const e of list) counts[Math.min(e.p.length, 4)]!++;
    // Buckets per class: a power of two >= 2 entries per bucket slot, at least 16.
    const bits = [0, 8, 0, 0, 0];
    for (let c = 2; c <= 4; c++) {
      let b = 4;
      while (1 << b < 2 * counts[c]!) b++;
      bits[c] = b;
    }
    let fb = FILTER_MIN_LOG;
    while (fb < FILTER_MAX_LOG && 1 << fb < FILTER_BITS_PER_PATTERN * counts[4]!) fb++;
    if (fb < bits[4]!) bits[4] = fb;
    const filter = new Int32Array(1 << (fb - 5));
    const keyOf = (p: Uint8Array): number => {
      let k = 0;
      for (let i = 0; i < Math.min(p.length, 4); i++) k = (k << 8) | p[i]!;
      return k;
    };
    const bucket = (p: Uint8Array): number =>
      p.length === 1 ? p[0]! : bucketOf(keyOf(p), bits[Math.min(p.length, 4)]!);
    // Sort by class then bucket: each bucket becomes a contiguous range of entries.
    list.sort((x, y) => Math.min(x.p.length, 4) - Math.min(y.p.length, 4) || bucket(x.p) - bucket(y.p));

    const ne = list.length;
    const entKey = new Int32Array(ne);
    const entLen = new Uint8Array(ne);
    const entOff = new Int32Array(ne);
    const entId = new Int32Array(ne);
    let bytesLen = 0;
    for (const e of list) if (e.p.length > 4) bytesLen += e.p.length;
    const bytes = new Uint8Array(bytesLen);
    const starts: Int32Array[] = [new Int32Array(1)];
    for (let c = 1; c <= 4; c++) starts.push(new Int32Array((1 << bits[c]!) + 1));
    const first = new Uint8Array(65536);
    let w = 0;
    for (let k = 0; k < ne; k++) {
      const { p, id } = list[k]!;
      const c = Math.min(p.length, 4);
      entKey[k] = keyOf(p);
      entLen[k] = p.length;
      entId[k] = id;
      if (p.length > 4) {
        bytes.set(p, w);
        entOff[k] = w;
        w += p.length;
      }
      starts[c]![bucket(p) + 1]!++;
      if (c === 1) {
        first.fill(F1, p[0]! << 8, (p[0]! << 8) + 256);
      } else if (c < 4) {
        first[(p[0]! << 8) | p[1]!]! |= c === 2 ? F2 : F3;
      } else {
        first[(p[0]! << 8) | p[1]!]! |= F4;
        const h = bucketOf(entKey[k]!, fb);
        filter[h >>> 5]! |= 1 << (h & 31);
      }
    }
    // Counts to starts: class c's buckets index the entries after those of shorter classes.
    let base = 0;
    for (let c = 1; c <= 4; c++) {
      const s = starts[c]!;
      s[0] = base;
      for (let h = 1; h < s.length; h++) s[h]! += s[h - 1]!;
      base += counts[c]!;
    }
    // 1-byte patterns are found at the last position too (no pair there): a raw-byte table.
    const one = new Uint8Array(256);
    for (let b = 0; b < 256; b++) one[b] = starts[1]![FOLD[b]! + 1]! > starts[1]![FOLD[b]!]! ? 1 : 0;
    return new FastMpm({
      patternCount: pats.length,
      idCapacity,
      first,
      one,
      filter,
      filterLog: fb,
      starts,
      bits,
      entKey,
      entLen,
      entOff,
      entId,
      bytes,
    });
  }
}

interface FastMpmTables {
  patternCount: number;
  idCapacity: number;
  first: Uint8Array;
  one: Uint8Array;
  filter: Int32Array;
  filterLog: number;
  starts: Int32Array[];
  bits: number[];
  entKey: Int32Array;
  entLen: Uint8Array;
  entOff: Int32Array;
  entId: Int32Array;
  bytes: Uint8Array;
}

/** Immutable matcher built by {@link FastMpmBuilder}; keeps no scan state, so it can be shared. */
export class FastMpm {
  /** Number of `add` calls that went into this matcher (duplicates included). */
  readonly patternCount: number;
  /** One more than the largest id added (size for `seen`); 0 when there are no patterns. */
  readonly idCapacity: number;
  /** Approximate memory in bytes (sum of its typed arrays). */
  readonly memoryBytes: number;

  private readonly first: Uint8Array;
  private readonly one: Uint8Array;
  private readonly filter: Int32Array;
  private readonly filterLog: number;
  private readonly s1: Int32Array;
  private readonly s2: Int32Array;
  private readonly s3: Int32Array;
  private readonly s4: Int32Array;
  private readonly b2: number;
  private readonly b3: number;
  private readonly b4: number;
  private readonly entKey: Int32Array;
  private readonly entLen: Uint8Array;
  private readonly entOff: Int32Array;
  private readonly entId: Int32Array;
  private readonly bytes: Uint8Array;

  /** @internal Use {@link FastMpmBuilder.build}. */
  constructor(t: FastMpmTables) {
    this.patternCount = t.patternCount;
    this.idCapacity = t.idCapacity;
    this.first = t.first;
    this.one = t.one;
    this.filter = t.filter;
    this.filterLog = t.filterLog;
    this.s1 = t.starts[1]!;
    this.s2 = t.starts[2]!;
    this.s3 = t.starts[3]!;
    this.s4 = t.starts[4]!;
    this.b2 = t.bits[2]!;
    this.b3 = t.bits[3]!;
    this.b4 = t.bits[4]!;
    this.entKey = t.entKey;
    this.entLen = t.entLen;
    this.entOff = t.entOff;
    this.entId = t.entId;
    this.bytes = t.bytes;
    let m = t.first.byteLength + t.one.byteLength + t.filter.byteLength + t.bytes.byteLength;
    for (const s of t.starts) m += s.byteLength;
    m += t.entKey.byteLength + t.entLen.byteLength + t.entOff.byteLength + t.entId.byteLength;
    this.memoryBytes = m;
  }

  /** Same contract as {@link Mpm.scan} (distinct ids into `out`, seen/gen, stops when out is full). */
  scan(buf: Uint8Array, off: number, len: number, out: Int32Array, seen: Uint32Array, gen: number): number {
    if (seen.length < this.idCapacity) throw new RangeError(`mpm: seen needs ${this.idCapacity} entries`);
    const outLen = out.length;
    if (outLen === 0) return 0;
    const g = gen >>> 0;
    const start = off > 0 ? off : 0;
    const end = Math.min(off + len, buf.length);
    if (end <= start) return 0;
    const first = this.first;
    const filter = this.filter;
    const shift = 32 - this.filterLog;
    const down = this.filterLog - this.b4;
    let n = 0;
    let k = 0; // folded bytes i .. i+3 (i = j - 3), big-endian
    const head = Math.min(end, start + 3);
    for (let j = start; j < head; j++) k = (k << 8) | FOLD[buf[j]!]!;
    // One table read per position i on its first two bytes; most positions stop there.
    for (let j = head; j < end; j++) {
      k = (k << 8) | FOLD[buf[j]!]!;
      const f = first[(k >>> 16) & 0xffff]!;
      if (f === 0) continue;
      if ((f & F4) !== 0) {
        const h = Math.imul(k, 0x9e3779b1) >>> shift;
        if ((filter[h >>> 5]! & (1 << (h & 31))) !== 0) {
          n = this.bucket(this.s4, h >>> down, k, buf, j - 3, end, n, out, seen, g);
          if (n === outLen) return n;
        }
      }
      if ((f & SHORT) !== 0) {
        n = this.verify(buf, j - 3, end, f, n, out, seen, g);
        if (n === outLen) return n;
      }
    }
    // The last positions with a pair but no 4 bytes: only short patterns fit.
    for (let i = Math.max(start, end - 3); i < end - 1; i++) {
      const f = first[(FOLD[buf[i]!]! << 8) | FOLD[buf[i + 1]!]!]! & SHORT;
      if (f !== 0) {
        n = this.verify(buf, i, end, f, n, out, seen, g);
        if (n === outLen) return n;
      }
    }
    // The last position: only a 1-byte pattern fits.
    if (this.one[buf[end - 1]!] === 1)
      n = this.bucket(this.s1, FOLD[buf[end - 1]!]!, FOLD[buf[end - 1]!]!, buf, end - 1, end, n, out, seen, g);
    return n;
  }

  /** Candidates at position i (i + 1 < end) of the length classes in flags f; returns the new count. */
  private verify(
    buf: Uint8Array,
    i: number,
    end: number,
    f: number,
    n: number,
    out: Int32Array,
    seen: Uint32Array,
    g: number,
  ): number {
    const outLen = out.length;
    const f0 = FOLD[buf[i]!]!;
    if ((f & F1) !== 0) {
      n = this.bucket(this.s1, f0, f0, buf, i, end, n, out, seen, g);
      if (n === outLen) return n;
    }
    const k2 = (f0 << 8) | FOLD[buf[i + 1]!]!;
    if ((f & F2) !== 0) {
      n = this.bucket(this.s2, bucketOf(k2, this.b2), k2, buf, i, end, n, out, seen, g);
      if (n === outLen) return n;
    }
    if (i + 2 >= end) return n;
    const k3 = (k2 << 8) | FOLD[buf[i + 2]!]!;
    if ((f & F3) !== 0) {
      return this.bucket(this.s3, bucketOf(k3, this.b3), k3, buf, i, end, n, out, seen, g);
    }
    return n;
  }

  /** Entries of bucket h whose key is `key` and whose bytes occur at i; returns the new count. */
  private bucket(
    starts: Int32Array,
    h: number,
    key: number,
    buf: Uint8Array,
    i: number,
    end: number,
    n: number,
    out: Int32Array,
    seen: Uint32Array,
    g: number,
  ): number {
    const entKey = this.entKey;
    const entId = this.entId;
    const e1 = starts[h + 1]!;
    for (let e = starts[h]!; e < e1; e++) {
      if (entKey[e] !== key) continue;
      const id = entId[e]!;
      if (seen[id] === g) continue;
      const len = this.entLen[e]!;
      if (len > 4) {
        if (i + len > end) continue;
        const bytes = this.bytes;
        const o = this.entOff[e]! - i;
        let k = i + 4;
        const stop = i + len;
        while (k < stop && FOLD[buf[k]!] === bytes[o + k]) k++;
        if (k < stop) continue;
      }
      seen[id] = g;
      out[n++] = id;
      if (n === out.length) return n;
    }
    return n;
  }
}
