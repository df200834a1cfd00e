/*
 * The multi-pattern scan of mpm.ts (Mpm.scan) in C for WebAssembly: the same tables, the same
 * four-chain walk, the same results. V8 runs the JavaScript loop at about one automaton step per
 * 3-4 ns; compiled ahead of time, without bounds checks, the same steps take less (docs/performance.md).
 *
 * Build (clang and lld from Debian): scripts/build-wasm.sh, which writes mpm-scan.wasm.ts.
 * All tables live in the imported memory at offsets given by a descriptor (see wasm-scan.ts).
 *
 * Transitions are packed as (state << 2) | flags (bit 0: the target reports ids, bit 1: it is
 * sparse); wasm-scan.ts converts mpm.ts's tables (whose dense targets hold their row offset) to
 * this when copying them. Where every target in the dense rows is a state below 2^14 (dense
 * states are the shallowest, so their targets are low-numbered even in large automatons) the
 * rows take 16 bits, half the bytes of 32-bit ones: 13 % less scan time over capture payloads,
 * whose scans are partly bound by the table's cache misses (docs/performance.md, session 12). The
 * walk is compiled once per width (this file includes itself with KERNEL defined).
 */
#ifndef KERNEL
#include <stdint.h>

typedef struct {
  const void *dense; /* uint16_t rows when wide == 0, int32_t rows when wide == 1 */
  const int32_t *rec;
  const uint8_t *depth;
  const uint8_t *chk;
  const int32_t *nxt;
  const uint8_t *classOf;
  const int32_t *outStart;
  const int32_t *outIds;
  const int32_t *outLink;
  int32_t denseStates;
  int32_t wide;
} Desc;

#define QUAD_MIN 256

static inline uint32_t state_of(int32_t v) {
  return (uint32_t)v >> 2;
}

#define ROW(v) (((uint32_t)(v) >> 2) << 8)

/* Report the ids of v's state and of its output-link chain; returns the new count. */
static int32_t report(const Desc *d, int32_t v, int32_t n, int32_t *out, int32_t outLen, uint32_t *seen,
                      uint32_t g) {
  for (int32_t t = (int32_t)state_of(v); t >= 0; t = d->outLink[t]) {
    const int32_t e = d->outStart[t + 1];
    for (int32_t k = d->outStart[t]; k < e; k++) {
      const int32_t id = d->outIds[k];
      if (seen[id] != g) {
        seen[id] = g;
        out[n++] = id;
        if (n == outLen) return n;
      }
    }
  }
  return n;
}

#define KERNEL 1
#define DENSE_T uint16_t
#define FN(name) name##_16
#include __FILE__
#undef DENSE_T
#undef FN
#define DENSE_T int32_t
#define FN(name) name##_32
#include __FILE__

/* Mpm.scan over buf[start, end): distinct ids into out, their count returned. */
__attribute__((export_name("scan"))) int32_t scan(const Desc *d, const uint8_t *buf, int32_t start, int32_t end,
                                                  int32_t *out, int32_t outLen, uint32_t *seen, uint32_t g) {
  return d->wide == 0 ? scan_16(d, buf, start, end, out, outLen, seen, g) : scan_32(d, buf, start, end, out, outLen, seen, g);
}

#else /* KERNEL: the walk for one width of dense rows (DENSE_T), names suffixed by FN */

/* Sparse state s on byte b: its goto edge if any, else failure links down to a dense row. */
static int32_t FN(sparse_step)(const Desc *d, uint32_t s, uint32_t b) {
  const int32_t c = d->classOf[b];
  for (;;) {
    const uint32_t r = (s - (uint32_t)d->denseStates) * 3;
    const int32_t key = d->rec[r + 1];
    if (key == c) return d->rec[r + 2];
    if (key >= 256) {
      /* chk is padded with 0xff (never a class) past its end, as JavaScript reads undefined there. */
      const int32_t k = key - 256 + c;
      if (d->chk[k] == c) return d->nxt[k];
    }
    const int32_t f = d->rec[r];
    if ((f & 2) == 0) return ((const DENSE_T *)d->dense)[ROW(f) + b];
    s = (uint32_t)f >> 2;
  }
}

static int32_t FN(scan_one)(const Desc *d, const uint8_t *buf, int32_t i, int32_t end, int32_t *out, int32_t outLen,
                        uint32_t *seen, uint32_t g) {
  const DENSE_T *dense = (const DENSE_T *)d->dense;
  int32_t n = 0;
  int32_t v = 0;
  int32_t last = -1;
  while (i < end) {
    while (i < end) {
      v = dense[ROW(v) + buf[i++]];
      if ((v & 3) != 0) break;
    }
    for (;;) {
      if ((v & 1) != 0 && v != last) {
        last = v;
        n = report(d, v, n, out, outLen, seen, g);
        if (n == outLen) return n;
      }
      if ((v & 2) == 0 || i >= end) break;
      v = FN(sparse_step)(d, (uint32_t)v >> 2, buf[i++]);
    }
  }
  return n;
}

/* A chain from buf[from] to its bound, then on while its state's string starts before bound. */
static int32_t FN(cont)(const Desc *d, const uint8_t *buf, int32_t from, int32_t bound, int32_t end, int32_t v,
                    int32_t last, int32_t n, int32_t *out, int32_t outLen, uint32_t *seen, uint32_t g) {
  for (int32_t i = from; i < end && (i < bound || (int32_t)d->depth[state_of(v)] > i - bound); i++) {
    const uint32_t b = buf[i];
    v = (v & 2) == 0 ? ((const DENSE_T *)d->dense)[ROW(v) + b] : FN(sparse_step)(d, (uint32_t)v >> 2, b);
    if ((v & 1) != 0 && v != last) {
      last = v;
      n = report(d, v, n, out, outLen, seen, g);
      if (n == outLen) return n;
    }
  }
  return n;
}

#define SLOW(v, i, e, l)                                   \
  if ((v & 3) != 0) {                                      \
    for (;;) {                                             \
      if ((v & 1) != 0 && v != l) {                        \
        l = v;                                             \
        n = report(d, v, n, out, outLen, seen, g);         \
        if (n == outLen) return n;                         \
      }                                                    \
      if ((v & 2) == 0 || i >= e) break;                   \
      v = FN(sparse_step)(d, (uint32_t)v >> 2, buf[i++]);  \
    }                                                      \
  }

/* Mpm.scan over buf[start, end): distinct ids into out, their count returned. */
static int32_t FN(scan)(const Desc *d, const uint8_t *buf, int32_t start, int32_t end,
                                                  int32_t *out, int32_t outLen, uint32_t *seen, uint32_t g) {
  if (outLen == 0) return 0;
  if (end - start < QUAD_MIN) return FN(scan_one)(d, buf, start, end, out, outLen, seen, g);
  const DENSE_T *dense = (const DENSE_T *)d->dense;
  const int32_t quarter = (int32_t)((uint32_t)(end - start) >> 2);
  const int32_t e1 = start + quarter, e2 = e1 + quarter, e3 = e2 + quarter, e4 = end;
  int32_t i1 = start, i2 = e1, i3 = e2, i4 = e3;
  int32_t v1 = 0, v2 = 0, v3 = 0, v4 = 0;
  int32_t l1 = -1, l2 = -1, l3 = -1, l4 = -1;
  int32_t n = 0;
  for (;;) {
    int32_t steps = e1 - i1;
    if (e2 - i2 < steps) steps = e2 - i2;
    if (e3 - i3 < steps) steps = e3 - i3;
    if (e4 - i4 < steps) steps = e4 - i4;
    if (steps <= 0) break;
    int32_t x = 0;
    for (; steps > 0; steps--) {
      v1 = dense[ROW(v1) + buf[i1++]];
      v2 = dense[ROW(v2) + buf[i2++]];
      v3 = dense[ROW(v3) + buf[i3++]];
      v4 = dense[ROW(v4) + buf[i4++]];
      x = (v1 | v2 | v3 | v4) & 3;
      if (x != 0) break;
    }
    if (x == 0) continue;
    SLOW(v1, i1, e1, l1)
    SLOW(v2, i2, e2, l2)
    SLOW(v3, i3, e3, l3)
    SLOW(v4, i4, e4, l4)
  }
  n = FN(cont)(d, buf, i4, e4, end, v4, l4, n, out, outLen, seen, g);
  if (n != outLen) n = FN(cont)(d, buf, i3, e3, end, v3, l3, n, out, outLen, seen, g);
  if (n != outLen) n = FN(cont)(d, buf, i2, e2, end, v2, l2, n, out, outLen, seen, g);
  if (n != outLen) n = FN(cont)(d, buf, i1, e1, end, v1, l1, n, out, outLen, seen, g);
  return n;
}

#undef SLOW

#endif
