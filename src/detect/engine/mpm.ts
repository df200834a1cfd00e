/**
 * Multi-pattern prefilter: which rules' fast patterns occur in a buffer (ASCII case-insensitive).
 *
 * Aho-Corasick over case-folded bytes, laid out in typed arrays:
 * - States are numbered breadth-first. The first `denseStates` (the root and the shallowest states,
 *   where a scan spends most of its time) have a full DFA row: 256 Int32 transitions indexed by the
 *   raw byte, failure transitions resolved and case folding built in (the columns of `A` and `a`
 *   are equal). The budget keeps that table cache-sized.
 * - Deeper ("sparse") states work on byte-equivalence classes (every byte in some folded pattern
 *   has its own class, upper and lower case share one, all other bytes share class 0) and have a
 *   record [failure target, key, value]. With one child (the usual case: the rest of a pattern)
 *   key/value are its class and target, so a step reads one record. With more, key points into a
 *   double array: edge (s, c) lives at slot base + c with chk[slot] === c. Bases are distinct, so a
 *   class match proves the slot is s's (an owner t with the same class at that slot would need the
 *   same base), and chk is one byte per slot. A miss follows failure links until an edge or a dense
 *   row answers: amortised O(1) per byte (each failure hop lowers the depth, each byte raises it by
 *   at most one).
 * - A transition value packs its target: bit 0 = the target reports ids, bit 1 = the target is
 *   sparse; then dense targets hold their row offset (state << 8) from bit 2, sparse targets their
 *   state number. The dense step is one table read and an add per byte.
 * - The scan is bound by load latency (each step needs the previous state), so ranges of QUAD_MIN
 *   bytes or more are scanned as four quarters at once: four independent chains of table reads
 *   overlap in the CPU. Each chain then runs on past its quarter only while its state's string
 *   starts before the quarter's end; from there on it is in the same state as the next chain
 *   (usually after a few bytes).
 * - The inner loop is dense steps only (a table read per chain and one test of the packed flag
 *   bits of all four): sparse steps and reports, rare with a cache-sized dense prefix, are handled
 *   outside it. A call to the sparse step inside the loop made it 1.5-2x slower (register spills).
 * - Each state lists only its own ids (offset/count into one Int32Array) plus an output link to the
 *   nearest proper suffix state with ids, so memory stays linear even for nested patterns (`a`, `aa`,
 *   `aaa`, ...).
 *
 * The textbook full DFA (dense rows for every state) is the `full-dfa` layout of
 * bench/micro/mpm.ts. It needs 1 KB per state (~500 MB for 25,000 random patterns of 4..40 bytes,
 * ~200 MB for ET Open's 23,600 fast patterns) and gained at most 10-20 % (uniformly random text,
 * some ET Open runs over capture data) while losing on random bytes and up to 4x on traffic made of
 * pattern prefixes: rows of deep states are visited rarely and then miss the cache. Dense rows
 * indexed by byte rather than by class save a table read per byte: 10-40 % faster in the same bench
 * while this layout was chosen.
 */

/** Longest pattern kept: longer patterns are truncated to their first 255 bytes by `add`. */
export const MPM_MAX_PATTERN = 255;

/**
 * Default cap on dense DFA entries (256 per dense state, Int32 each: 1 MB): the root and 1,023
 * states, which with ET Open's port-group sets covers depths 0-2 and some of depth 3, where
 * 99 % of capture bytes leave the automaton (bench/micro/mpm-capture.ts). Against 64 K entries
 * (the earlier default, chosen with bench/micro/mpm.ts before the dense-only inner loop) it scans
 * port-group sets over capture payloads 1.4-2x faster; 512 K and 1 M entries gained nothing more
 * there. Automatons above MPM_BIG_STATES states (a whole protocol's or HTTP body's fast patterns)
 * get a tenth of their states, up to MPM_BIG_DENSE_BUDGET entries (4 MB): 1.4x faster on response
 * bodies with 2,000 patterns (40,000 states) than with 1 MB.
 */
export const MPM_DEFAULT_DENSE_BUDGET = 256 * 1024;
const MPM_BIG_STATES = 10 * 1024;
const MPM_BIG_DENSE_BUDGET = 1024 * 1024;

/** Sparse state numbers and double-array bases are 29-bit fields of a transition value. */
const MAX_FIELD = 1 << 29;

/** Dense row offsets (state << 8) must fit the same 29 bits. */
const MAX_DENSE_ENTRIES = MAX_FIELD - 256;

/** Children lists longer than this are binary-searched instead of scanned (build time only). */
const LINEAR_CHILDREN = 8;

/** Marks a free double-array slot (classes are at most 230: 256 bytes less 26 folded letters). */
const FREE = 255;

/**
 * Double-array packing: free slots tried per state before it is placed past the end, and failed
 * tries after which a free slot is skipped by later searches. Enough for a well-filled array in
 * well under a second for 25,000 patterns (bench/micro/mpm.ts prints build time and memory).
 */
const PACK_ATTEMPTS = 512;
const SLOT_TRIES = 8;

/**
 * From this length on, four chains (quarters); shorter ranges run one chain (bench/micro/mpm-capture.ts:
 * two chains on 64-255 bytes were no faster than one, 0.9-1.2x). That is with the table in cache;
 * callers scanning short buffers with cold tables pass a lower `quadMin` (MPM_COLD_QUAD_MIN).
 */
const QUAD_MIN = 256;
/**
 * Four chains from this length on, for scans whose table is mostly out of cache (a transaction
 * buffer's automaton, touched once per transaction): the chains' misses overlap. Transaction
 * prefilter scans of the ET Open run (2 M capture, 478,000 scans, 62 MB): 461-475 ms with 256,
 * 397-428 with 48, 393 with 24 (docs/performance.md, session 15).
 */
export const MPM_COLD_QUAD_MIN = 32;

export interface MpmBuilderOptions {
  /**
   * Maximum dense transition entries (256 per dense state) for this automaton; the root row is
   * always dense. Default {@link MPM_DEFAULT_DENSE_BUDGET}, more for big automatons (see there).
   * 0 means "root only" (tests use it to
   * exercise the sparse path); Infinity means "full DFA" (capped at 2^29 entries, 2 GB).
   */
  denseBudget?: number;
  /**
   * Free slots tried per sparse state while packing the double array before appending it at the
   * end (default 512). Trades build time against memory only; tests set 0 for the append path.
   */
  packAttempts?: number;
}

/** ASCII case fold (A-Z to a-z); other bytes unchanged. */
function fold(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

/** Collects patterns; {@link MpmBuilder.build} turns them into an immutable {@link Mpm}. */
export class MpmBuilder {
  private readonly patterns: Uint8Array[] = [];
  private readonly ids: number[] = [];
  /** null: the default, which depends on the automaton's size. */
  private readonly denseBudget: number | null;
  private readonly packAttempts: number;

  constructor(options: MpmBuilderOptions = {}) {
    const d = options.denseBudget ?? MPM_DEFAULT_DENSE_BUDGET;
    const a = options.packAttempts ?? PACK_ATTEMPTS;
    if (!(d >= 0)) throw new RangeError(`mpm: denseBudget must be >= 0, got ${d}`);
    if (!(a >= 0)) throw new RangeError(`mpm: packAttempts must be >= 0, got ${a}`);
    this.denseBudget = options.denseBudget === undefined ? null : Math.min(d, MAX_DENSE_ENTRIES);
    this.packAttempts = a;
  }

  /**
   * Add a pattern with an id (0 <= id < 2^31). The same bytes may be added under several ids, and
   * the same id may be given to several patterns (it is reported once per scan if any occurs).
   * Patterns longer than {@link MPM_MAX_PATTERN} bytes are truncated to their first 255 bytes: an
   * occurrence of the full pattern implies one of its prefix, so this only adds false positives,
   * which the full rule evaluation removes. The bytes are copied (and case-folded) here.
   * @throws RangeError for an empty pattern or an id outside [0, 2^31).
   */
  add(pattern: Uint8Array, id: number): void {
    if (pattern.length === 0) throw new RangeError('mpm: empty pattern');
    if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw new RangeError(`mpm: bad pattern id ${id}`);
    const n = Math.min(pattern.length, MPM_MAX_PATTERN);
    const p = new Uint8Array(n);
    for (let i = 0; i < n; i++) p[i] = fold(pattern[i]!);
    this.patterns.push(p);
    this.ids.push(id);
  }

  /**
   * Build the matcher. Works with 0 patterns (a scan then finds nothing).
   * @throws RangeError if the patterns hold 2^29 bytes or more (far beyond any rule set).
   */
  build(): Mpm {
    const pats = this.patterns;
    const ids = this.ids;
    const np = pats.length;

    // 1. Byte-equivalence classes, assigned in increasing (folded) byte order so that sorting the
    //    folded patterns by bytes also sorts every node's children by class.
    const used = new Uint8Array(256);
    let maxNodes = 1;
    for (let i = 0; i < np; i++) {
      const p = pats[i]!;
      maxNodes += p.length;
      for (let j = 0; j < p.length; j++) used[p[j]!] = 1;
    }
    if (maxNodes >= MAX_FIELD) throw new RangeError('mpm: too many pattern bytes');
    const classOf = new Uint8Array(256);
    let classCount = 1;
    for (let b = 0; b < 256; b++) if (used[b] === 1) classOf[b] = classCount++;
    for (let b = 0x41; b <= 0x5a; b++) classOf[b] = classOf[b | 0x20]!;
    const byteOfClass = new Uint8Array(classCount); // the (folded) byte of each class but 0
    for (let b = 0; b < 256; b++) if (used[b] === 1) byteOfClass[classOf[b]!] = b;

    // 2. Sort (pattern, id) pairs by bytes then id; equal bytes become one trie path.
    const order = new Int32Array(np);
    for (let i = 0; i < np; i++) order[i] = i;
    order.sort((a, b) => Buffer.compare(pats[a]!, pats[b]!) || ids[a]! - ids[b]!);

    // 3. Trie in DFS order from the sorted list: pattern k shares with pattern k-1 exactly their
    //    longest common prefix, and a new child always has the largest class among its siblings.
    const firstChild = new Int32Array(maxNodes).fill(-1);
    const lastChild = new Int32Array(maxNodes).fill(-1);
    const nextSibling = new Int32Array(maxNodes).fill(-1);
    const edgeClass = new Uint8Array(maxNodes);
    const termStart = new Int32Array(maxNodes).fill(-1); // the node's ids: order[termStart, termEnd)
    const termEnd = new Int32Array(maxNodes);
    const path = new Int32Array(MPM_MAX_PATTERN + 1); // path[d] = node at depth d of the previous pattern
    let nodes = 1;
    let prev: Uint8Array | null = null;
    let uniqueIds = 0;
    for (let k = 0; k < np; k++) {
      const oi = order[k]!;
      const p = pats[oi]!;
      let lcp = 0;
      if (prev !== null) {
        const m = Math.min(prev.length, p.length);
        while (lcp < m && prev[lcp] === p[lcp]) lcp++;
      }
      let node = path[lcp]!;
      for (let d = lcp; d < p.length; d++) {
        const child = nodes++;
        edgeClass[child] = classOf[p[d]!]!;
        if (firstChild[node] === -1) firstChild[node] = child;
        else nextSibling[lastChild[node]!] = child;
        lastChild[node] = child;
        node = child;
        path[d + 1] = child;
      }
      // A node's (pattern, id) pairs are consecutive in `order` and sorted by id: compact the
      // distinct ids in place into order[termStart, termEnd) (writes never pass index k).
      if (termStart[node] === -1) {
        termStart[node] = k;
        termEnd[node] = k;
      }
      const te = termEnd[node]!;
      if (te === termStart[node] || ids[order[te - 1]!] !== ids[oi]) {
        order[te] = oi;
        termEnd[node] = te + 1;
        uniqueIds++;
      }
      prev = p;
    }
    const n = nodes;

    // 4. Renumber breadth-first. The children of each state become a consecutive range of states,
    //    childStart[s] .. childStart[s + 1], in ascending class order.
    const queue = new Int32Array(n);
    const childStart = new Int32Array(n + 1);
    const inClass = new Uint8Array(n);
    const depth = new Uint8Array(n);
    let tail = 1;
    for (let s = 0; s < n; s++) {
      childStart[s] = tail;
      for (let c = firstChild[queue[s]!]!; c !== -1; c = nextSibling[c]!) {
        inClass[tail] = edgeClass[c]!;
        depth[tail] = depth[s]! + 1;
        queue[tail++] = c;
      }
    }
    childStart[n] = n;

    // 5. Own ids per state (BFS order), as offsets into one Int32Array.
    const outStart = new Int32Array(n + 1);
    const outIds = new Int32Array(uniqueIds);
    let idCapacity = 0;
    let w = 0;
    for (let s = 0; s < n; s++) {
      outStart[s] = w;
      const old = queue[s]!;
      const a = termStart[old]!;
      if (a === -1) continue;
      for (let k = a; k < termEnd[old]!; k++) {
        const id = ids[order[k]!]!;
        outIds[w++] = id;
        if (id + 1 > idCapacity) idCapacity = id + 1;
      }
    }
    outStart[n] = w;

    // 6. Failure links in BFS order (a failure target is shallower, so it is already final).
    const fail = new Int32Array(n);
    for (let s = 1; s < n; s++) {
      const c1 = childStart[s + 1]!;
      for (let v = childStart[s]!; v < c1; v++) {
        const c = inClass[v]!;
        let f = fail[s]!;
        let t = findChild(f, c, childStart, inClass);
        while (t < 0 && f !== 0) {
          f = fail[f]!;
          t = findChild(f, c, childStart, inClass);
        }
        fail[v] = t < 0 ? 0 : t;
      }
    }

    // 7. Output links: nearest proper suffix state (via failure links) that has ids of its own.
    const outLink = new Int32Array(n);
    outLink[0] = -1;
    for (let s = 1; s < n; s++) {
      const f = fail[s]!;
      outLink[s] = outStart[f + 1]! > outStart[f]! ? f : outLink[f]!;
    }

    // 8. Packed transition targets (see the file comment).
    const budget =
      this.denseBudget ??
      (n > MPM_BIG_STATES ? Math.min(MPM_BIG_DENSE_BUDGET, 256 * Math.floor(n / 10)) : MPM_DEFAULT_DENSE_BUDGET);
    const denseStates = Math.max(1, Math.min(n, Math.floor(budget / 256)));
    const enc = new Int32Array(n);
    for (let s = 0; s < n; s++) {
      const reports = outStart[s + 1]! > outStart[s]! || outLink[s]! >= 0 ? 1 : 0;
      enc[s] = s < denseStates ? (s << 10) | reports : (s << 2) | 2 | reports;
    }

    // 9. Dense rows: a copy of the failure state's row (shallower, so already built; the root's
    //    row is all root) with the state's own edges on top.
    const dense = new Int32Array(denseStates * 256);
    for (let s = 0; s < denseStates; s++) {
      const row = s << 8;
      if (s !== 0) {
        const fr = fail[s]! << 8;
        dense.copyWithin(row, fr, fr + 256);
      }
      for (let v = childStart[s]!; v < childStart[s + 1]!; v++) {
        const c = inClass[v]!;
        const lower = byteOfClass[c]!;
        dense[row + lower] = enc[v]!;
        if (lower >= 0x61 && lower <= 0x7a) dense[row + (lower ^ 0x20)] = enc[v]!;
      }
    }

    // 10. Sparse states: a record [failure target (packed), key, value] each. One child (the
    //     common case: the tail of a pattern): key = its class, value = its packed target, so a
    //     step reads one record. Two or more: key = 256 + base into the double array. None: -1.
    const sparseCount = n - denseStates;
    const rec = new Int32Array(sparseCount * 3);
    const base = new Int32Array(sparseCount);
    const da = packDoubleArray(denseStates, n, classCount, childStart, inClass, base, this.packAttempts);
    for (let s = denseStates; s < n; s++) {
      const r = (s - denseStates) * 3;
      const c0 = childStart[s]!;
      const kids = childStart[s + 1]! - c0;
      rec[r] = enc[fail[s]!]!;
      rec[r + 1] = kids === 0 ? -1 : kids === 1 ? inClass[c0]! : 256 + base[s - denseStates]!;
      rec[r + 2] = kids === 1 ? enc[c0]! : 0;
    }
    const chk = da.chk;
    const nxt = new Int32Array(chk.length);
    for (let k = 0; k < chk.length; k++) if (chk[k] !== FREE) nxt[k] = enc[da.target[k]!]!;

    return new Mpm({
      patternCount: np,
      idCapacity,
      classCount,
      classOf,
      denseStates,
      dense,
      rec,
      depth,
      chk,
      nxt,
      outStart,
      outIds,
      outLink,
    });
  }
}

/**
 * Place the children of every state s in [from, n) with two or more children at a distinct base
 * (base[s - from]) such that slot base + class is free for each child: first fit over a free
 * list with path compression. Returns chk (class per used slot, FREE elsewhere) trimmed to max
 * base + classCount, so every probe is in range, and the child state per used slot.
 */
function packDoubleArray(
  from: number,
  n: number,
  classCount: number,
  childStart: Int32Array,
  inClass: Uint8Array,
  base: Int32Array,
  attempts: number,
): { chk: Uint8Array; target: Int32Array } {
  let cap = Math.max(0, n - from) + 2 * classCount + 64;
  // chk is checked against the class only, so two states must never share a base (see the file
  // comment); baseUsed enforces it.
  let chk = new Uint8Array(cap).fill(FREE);
  let target = new Int32Array(cap);
  let baseUsed = new Uint8Array(cap);
  let tries = new Uint8Array(cap);
  // nextFree[q] === q: q is a free slot still worth trying; otherwise a pointer further right.
  let nextFree = new Int32Array(cap + 1);
  for (let i = 0; i <= cap; i++) nextFree[i] = i;
  const grow = (need: number): void => {
    if (need <= cap) return;
    let nc = cap * 2;
    while (nc < need) nc *= 2;
    const c2 = new Uint8Array(nc).fill(FREE);
    c2.set(chk);
    chk = c2;
    const t2 = new Int32Array(nc);
    t2.set(target);
    target = t2;
    const b2 = new Uint8Array(nc);
    b2.set(baseUsed);
    baseUsed = b2;
    const r2 = new Uint8Array(nc);
    r2.set(tries);
    tries = r2;
    const f2 = new Int32Array(nc + 1);
    f2.set(nextFree.subarray(0, cap));
    for (let i = cap; i <= nc; i++) f2[i] = i;
    nextFree = f2;
    cap = nc;
  };
  const find = (q: number): number => {
    let r = q;
    while (nextFree[r] !== r) r = nextFree[r]!;
    while (q !== r) {
      const up = nextFree[q]!;
      nextFree[q] = r;
      q = up;
    }
    return r;
  };
  let end = classCount; // slots >= end are free, bases >= end are unused
  for (let s = from; s < n; s++) {
    const c0 = childStart[s]!;
    const c1 = childStart[s + 1]!;
    if (c1 - c0 < 2) continue; // no or one child: kept in the state's record
    const first = inClass[c0]!;
    let b: number;
    let q = find(first);
    for (let att = 0; ; att++) {
      if (q >= end) {
        // Past the used region every slot is free: only the base must be unused.
        while (baseUsed[q - first] === 1) q++;
        b = q - first;
        break;
      }
      const cand = q - first;
      if (baseUsed[cand] === 0) {
        let ok = true;
        for (let v = c0 + 1; v < c1; v++) {
          if (chk[cand + inClass[v]!] !== FREE) {
            ok = false;
            break;
          }
        }
        if (ok) {
          b = cand;
          break;
        }
      }
      // A slot that keeps failing (its neighbours are taken) is dropped from later searches.
      if (++tries[q]! > SLOT_TRIES) nextFree[q] = q + 1;
      q = att >= attempts ? end : find(q + 1);
    }
    grow(b + classCount + 1);
    base[s - from] = b;
    baseUsed[b] = 1;
    for (let v = c0; v < c1; v++) {
      const k = b + inClass[v]!;
      chk[k] = inClass[v]!;
      target[k] = v;
      nextFree[k] = k + 1;
    }
    if (b + classCount > end) end = b + classCount;
  }
  if (end >= MAX_FIELD) throw new RangeError('mpm: automaton too large');
  return { chk: chk.slice(0, end), target };
}

/** Child of s on class c, or -1. Children are consecutive states sorted by class. */
function findChild(s: number, c: number, childStart: Int32Array, inClass: Uint8Array): number {
  let lo = childStart[s]!;
  let hi = childStart[s + 1]!;
  if (hi - lo <= LINEAR_CHILDREN) {
    for (; lo < hi; lo++) if (inClass[lo] === c) return lo;
    return -1;
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const m = inClass[mid]!;
    if (m === c) return mid;
    if (m < c) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

interface MpmTables {
  patternCount: number;
  idCapacity: number;
  classCount: number;
  classOf: Uint8Array;
  denseStates: number;
  dense: Int32Array;
  rec: Int32Array;
  depth: Uint8Array;
  chk: Uint8Array;
  nxt: Int32Array;
  outStart: Int32Array;
  outIds: Int32Array;
  outLink: Int32Array;
}

/** Immutable matcher built by {@link MpmBuilder}; keeps no scan state, so it can be shared. */
export class Mpm {
  /** Number of `add` calls that went into this automaton (duplicates included). */
  readonly patternCount: number;
  /** One more than the largest id added (size for `seen`); 0 when there are no patterns. */
  readonly idCapacity: number;
  /** Approximate memory of the automaton in bytes (sum of its typed arrays). */
  readonly memoryBytes: number;
  /** Automaton states (trie nodes, root included). */
  readonly stateCount: number;
  /** States with a full DFA row: a BFS prefix, all states when the table is a full DFA. */
  readonly denseStates: number;
  /** Byte-equivalence classes (1 + distinct folded bytes used by the patterns). */
  readonly classCount: number;

  private readonly classOf: Uint8Array;
  private readonly dense: Int32Array;
  private readonly rec: Int32Array;
  private readonly depth: Uint8Array;
  private readonly chk: Uint8Array;
  private readonly nxt: Int32Array;
  private readonly outStart: Int32Array;
  private readonly outIds: Int32Array;
  private readonly outLink: Int32Array;

  /** @internal Use {@link MpmBuilder.build}. */
  constructor(t: MpmTables) {
    this.patternCount = t.patternCount;
    this.idCapacity = t.idCapacity;
    this.stateCount = t.depth.length;
    this.denseStates = t.denseStates;
    this.classCount = t.classCount;
    this.classOf = t.classOf;
    this.dense = t.dense;
    this.rec = t.rec;
    this.depth = t.depth;
    this.chk = t.chk;
    this.nxt = t.nxt;
    this.outStart = t.outStart;
    this.outIds = t.outIds;
    this.outLink = t.outLink;
    this.memoryBytes =
      t.classOf.byteLength +
      t.dense.byteLength +
      t.rec.byteLength +
      t.depth.byteLength +
      t.chk.byteLength +
      t.nxt.byteLength +
      t.outStart.byteLength +
      t.outIds.byteLength +
      t.outLink.byteLength;
  }

  /** @internal The tables, for copying into WebAssembly memory (wasm-scan.ts); not to be modified. */
  tablesForWasm(): Pick<
    MpmTables,
    'dense' | 'rec' | 'depth' | 'chk' | 'nxt' | 'classOf' | 'outStart' | 'outIds' | 'outLink' | 'denseStates'
  > {
    const { dense, rec, depth, chk, nxt, classOf, outStart, outIds, outLink, denseStates } = this;
    return { dense, rec, depth, chk, nxt, classOf, outStart, outIds, outLink, denseStates };
  }

  /**
   * Scan buf[off, off+len) (clipped to the buffer) and write every DISTINCT id whose pattern occurs
   * into `out` from index 0; returns how many were written. Matching is ASCII case-insensitive.
   * The order of the ids is unspecified.
   *
   * `seen` (length >= idCapacity, else RangeError) and `gen` replace per-scan clearing: an id is
   * reported only if seen[id] !== gen, and seen[id] is then set to gen. The caller increments gen
   * for each scan; gen is taken modulo 2^32 and must not be 0 while `seen` holds zeros (a fresh
   * array), so start at 1 and, when gen wraps to 0, `seen.fill(0)` and continue at 1.
   *
   * If `out` fills up, the scan stops at once and returns out.length: a result equal to out.length
   * may be incomplete (size `out` to idCapacity to always get every id). The automaton starts at
   * its root on every call, so an occurrence split across two scans is not found.
   *
   * `quadMin`: ranges this long or longer run as four chains (see QUAD_MIN, MPM_COLD_QUAD_MIN);
   * the ids found do not depend on it.
   */
  scan(
    buf: Uint8Array,
    off: number,
    len: number,
    out: Int32Array,
    seen: Uint32Array,
    gen: number,
    quadMin = QUAD_MIN,
  ): number {
    if (seen.length < this.idCapacity) throw new RangeError(`mpm: seen needs ${this.idCapacity} entries`);
    const outLen = out.length;
    if (outLen === 0) return 0;
    const g = gen >>> 0;
    const start = off > 0 ? off : 0;
    const end = Math.min(off + len, buf.length);
    // (At least 4 bytes, so that every quarter is non-empty.)
    if (end - start < Math.max(quadMin, 4)) return this.scanOne(buf, start, end, out, seen, g);
    const dense = this.dense;
    // Four chains, one per quarter (chain k covers [ik, ek) at its own pace), each starting at the
    // root (dense row 0, which reports nothing: patterns are >= 1 byte).
    const quarter = (end - start) >>> 2;
    const e1 = start + quarter;
    const e2 = e1 + quarter;
    const e3 = e2 + quarter;
    const e4 = end;
    let i1 = start;
    let i2 = e1;
    let i3 = e2;
    let i4 = e3;
    let v1 = 0;
    let v2 = 0;
    let v3 = 0;
    let v4 = 0;
    // Runs like 00 00 00 hit the same output state again and again: its ids are all seen already.
    let l1 = -1;
    let l2 = -1;
    let l3 = -1;
    let l4 = -1;
    let n = 0;
    for (;;) {
      let steps = Math.min(e1 - i1, e2 - i2, e3 - i3, e4 - i4);
      if (steps <= 0) break;
      // Fast loop: every chain in a dense state, one table read each, no call (see the file comment).
      let x = 0;
      for (; steps > 0; steps--) {
        v1 = dense[(v1 >>> 2) + buf[i1++]!]!;
        v2 = dense[(v2 >>> 2) + buf[i2++]!]!;
        v3 = dense[(v3 >>> 2) + buf[i3++]!]!;
        v4 = dense[(v4 >>> 2) + buf[i4++]!]!;
        x = (v1 | v2 | v3 | v4) & 3;
        if (x !== 0) break;
      }
      if (x === 0) continue;
      // Slow path: report, and walk sparse chains back to a dense state (or to their end).
      if ((v1 & 3) !== 0) {
        for (;;) {
          if ((v1 & 1) !== 0 && v1 !== l1) {
            l1 = v1;
            n = this.report(v1, n, out, seen, g);
            if (n === outLen) return n;
          }
          if ((v1 & 2) === 0 || i1 >= e1) break;
          v1 = this.sparseStep(v1 >>> 2, buf[i1++]!);
        }
      }
      if ((v2 & 3) !== 0) {
        for (;;) {
          if ((v2 & 1) !== 0 && v2 !== l2) {
            l2 = v2;
            n = this.report(v2, n, out, seen, g);
            if (n === outLen) return n;
          }
          if ((v2 & 2) === 0 || i2 >= e2) break;
          v2 = this.sparseStep(v2 >>> 2, buf[i2++]!);
        }
      }
      if ((v3 & 3) !== 0) {
        for (;;) {
          if ((v3 & 1) !== 0 && v3 !== l3) {
            l3 = v3;
            n = this.report(v3, n, out, seen, g);
            if (n === outLen) return n;
          }
          if ((v3 & 2) === 0 || i3 >= e3) break;
          v3 = this.sparseStep(v3 >>> 2, buf[i3++]!);
        }
      }
      if ((v4 & 3) !== 0) {
        for (;;) {
          if ((v4 & 1) !== 0 && v4 !== l4) {
            l4 = v4;
            n = this.report(v4, n, out, seen, g);
            if (n === outLen) return n;
          }
          if ((v4 & 2) === 0 || i4 >= e4) break;
          v4 = this.sparseStep(v4 >>> 2, buf[i4++]!);
        }
      }
    }
    // Each chain to the end of its quarter, and chains 1-3 on past it (see cont).
    n = this.cont(buf, i4, e4, end, v4, l4, n, out, seen, g);
    if (n !== outLen) n = this.cont(buf, i3, e3, end, v3, l3, n, out, seen, g);
    if (n !== outLen) n = this.cont(buf, i2, e2, end, v2, l2, n, out, seen, g);
    if (n !== outLen) n = this.cont(buf, i1, e1, end, v1, l1, n, out, seen, g);
    return n;
  }

  /** One chain over a short range: the same fast dense loop, sparse steps and reports aside. */
  private scanOne(buf: Uint8Array, start: number, end: number, out: Int32Array, seen: Uint32Array, g: number): number {
    const dense = this.dense;
    const outLen = out.length;
    let n = 0;
    let v = 0;
    let last = -1;
    let i = start;
    while (i < end) {
      while (i < end) {
        v = dense[(v >>> 2) + buf[i++]!]!;
        if ((v & 3) !== 0) break;
      }
      for (;;) {
        if ((v & 1) !== 0 && v !== last) {
          last = v;
          n = this.report(v, n, out, seen, g);
          if (n === outLen) return n;
        }
        if ((v & 2) === 0 || i >= end) break;
        v = this.sparseStep(v >>> 2, buf[i++]!);
      }
    }
    return n;
  }

  /**
   * Run a chain in state v from buf[from] to its `bound` (the end of its own range), then on while
   * its state's string (depth bytes ending at i - 1) starts before `bound`: only it can see
   * occurrences that cross `bound` (the next chain started there at the root). Once the string
   * starts at or after `bound` its state equals that chain's, and it stops. Returns the new count.
   */
  private cont(
    buf: Uint8Array,
    from: number,
    bound: number,
    end: number,
    v: number,
    last: number,
    n: number,
    out: Int32Array,
    seen: Uint32Array,
    g: number,
  ): number {
    const dense = this.dense;
    const depth = this.depth;
    const outLen = out.length;
    for (let i = from; i < end && (i < bound || depth[this.stateOf(v)]! > i - bound); i++) {
      const b = buf[i]!;
      v = (v & 2) === 0 ? dense[(v >>> 2) + b]! : this.sparseStep(v >>> 2, b);
      if ((v & 1) !== 0 && v !== last) {
        last = v;
        n = this.report(v, n, out, seen, g);
        if (n === outLen) return n;
      }
    }
    return n;
  }

  /** State number of a packed transition value. */
  private stateOf(v: number): number {
    return (v & 2) === 0 ? v >>> 10 : v >>> 2;
  }

  /** Sparse state s on byte b: its goto edge if any, else failure links down to a dense row. */
  private sparseStep(s: number, b: number): number {
    const rec = this.rec;
    const chk = this.chk;
    const first = this.denseStates;
    const c = this.classOf[b]!;
    for (;;) {
      const r = (s - first) * 3;
      const key = rec[r + 1]!;
      if (key === c) return rec[r + 2]!;
      if (key >= 256) {
        const k = key - 256 + c;
        if (chk[k] === c) return this.nxt[k]!;
      }
      const f = rec[r]!;
      if ((f & 2) === 0) return this.dense[(f >>> 2) + b]!;
      s = f >>> 2;
    }
  }

  /** Report the ids of v's state and of its output-link chain; returns the new count. */
  private report(v: number, n: number, out: Int32Array, seen: Uint32Array, g: number): number {
    const outStart = this.outStart;
    const outIds = this.outIds;
    const outLink = this.outLink;
    const outLen = out.length;
    for (let t = this.stateOf(v); t >= 0; t = outLink[t]!) {
      const e = outStart[t + 1]!;
      for (let k = outStart[t]!; k < e; k++) {
        const id = outIds[k]!;
        if (seen[id] !== g) {
          seen[id] = g;
          out[n++] = id;
          if (n === outLen) return n;
        }
      }
    }
    return n;
  }
}
