/**
 * WebAssembly kernel for the binned walk (tree-bins.ts): the rows' bins, the lockstep walk of a
 * block of rows down one tree, and each leaf added to its row, in a module generated here as bytes
 * by a tiny encoder (no toolchain, nothing to build). Wasm loads need no bounds check each (guard
 * pages) and the walk is straight-line code over locals, where V8's typed-array walk checks and
 * converts at every load; measured 1.7–2.4× the JavaScript binned walk (docs/ml-models.md).
 *
 * Nodes are 4 bytes (carry4): feature << 24 | (left child's slot / 2) << 9 | (255 - threshold
 * rank). Adding the row's bin to the word carries into bit 8 exactly when bin > rank, and bits
 * 8–23 of the sum are then the next node's slot: a step is a load, a byte load, an add, a shift and
 * a mask. Each tree is laid out anew for it (root in slot 1, children in slots 2m, 2m + 1, pairs
 * depth-first), so it needs ≤ 65,535 nodes and ≤ 256 features; other forests take the i64 layout
 * (tree-bins.ts's 8-byte nodes, one load each), and without WebAssembly or its memory the
 * JavaScript walk runs instead.
 *
 * The forest's constants (addresses, feature and class counts) are baked into the module as
 * immediates: one module per forest, compiled synchronously when the scorer is built (a few KB).
 *
 * Results are bit-identical to the JavaScript path: the same bins (`!(x <= e)` per edge, as
 * `f64.le` + `i32.eqz`), the same leaves, and each leaf added to its row in the same tree order with
 * IEEE f64 adds (`f64.add` and `f64x2.add` round exactly as JS `+`).
 */
import type { FlatTrees } from './flat-trees.js';
import type { BinnedForest } from './tree-bins.js';
import { wasmApi } from '../../util/webassembly.js';
import type { WasmMemory } from '../../util/webassembly.js';

/** Node layouts (bench/micro/rf-score.ts measures both: RF_WASM). */
export type WasmNodeLayout = 'carry4' | 'i64';

export interface WasmKernelOptions {
  /** Rows walked in lockstep (default WASM_LANES). */
  lanes?: number;
  /**
   * Node layout: carry4 (4 bytes, the default; trees of ≤ 65,535 nodes and ≤ 256 features) or
   * i64 (tree-bins.ts's 8-byte pair in one load; any forest, the fallback).
   */
  nodes?: WasmNodeLayout;
  /** f64x2 adds for the leaves that are not pure (default true). */
  simd?: boolean;
  /**
   * carry4: one walk function per tree, its offset folded into the loads (default false: measured
   * within the noise, 1.01–1.07×, for a module 100× larger).
   */
  perTree?: boolean;
  /** Lockstep steps per leaf test (default WASM_UNROLL). */
  unroll?: number;
  /** Rows binned together, interleaved (default BIN_ROWS; 1: one by one). */
  binRows?: number;
}

/**
 * Lanes in lockstep: measured 4 to 16 on the synthetic forest (bench/micro/rf-score.ts, RF_WASM):
 * 4 clearly slower (0.74×), 6 to 12 within the noise, 16 no better.
 */
export const WASM_LANES = 8;
/** Lockstep steps per leaf test: 2 measured within the noise (bench/micro/rf-score.ts, RF_WASM). */
export const WASM_UNROLL = 1;
/**
 * Rows binned together (interleaved searches) when a feature has 129–255 edges: measured on the
 * synthetic forest (bench/micro/rf-score.ts, RF_WASM=carry4:8:binN), against one by one, 2 rows
 * 1.03–1.05×, 4 1.06–1.15×, 8 1.20–1.29×, 16 no better than 8 (binning alone, one tree); the whole
 * forest 1.14–1.20×.
 */
export const BIN_ROWS = 8;

/** Largest wasm memory asked for (bytes): 32-bit addresses, and a bound on what a model may take. */
const WASM_MAX_BYTES = 1 << 30;
const PAGE = 65536;
const LEAF = 0xff;
/** carry4 leaf word's top byte when the class is not there (a leaf that is not pure, or class ≥ 255). */
const PURE_NONE = 0xff;

// ---- encoder -------------------------------------------------------------------------------

function uleb(out: number[], v: number): void {
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

function sleb(out: number[], v: number): void {
  // v is a 32-bit integer here.
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

const I32 = 0x7f;
const I64 = 0x7e;
const F64 = 0x7c;

/** One function body under construction: locals (all i32 or i64 beyond the params) and code. */
class Body {
  readonly code: number[] = [];
  private readonly locals: number[] = [];
  constructor(private readonly nParams: number) {}
  local(type = I32): number {
    this.locals.push(type);
    return this.nParams + this.locals.length - 1;
  }
  op(...b: number[]): this {
    this.code.push(...b);
    return this;
  }
  get(i: number): this {
    return this.localOp(0x20, i);
  }
  set(i: number): this {
    return this.localOp(0x21, i);
  }
  tee(i: number): this {
    return this.localOp(0x22, i);
  }
  private localOp(opc: number, i: number): this {
    this.code.push(opc);
    uleb(this.code, i);
    return this;
  }
  i32(v: number): this {
    this.code.push(0x41);
    sleb(this.code, v | 0);
    return this;
  }
  f64(v: number): this {
    this.code.push(0x44);
    const b = new Uint8Array(new Float64Array([v]).buffer);
    for (const x of b) this.code.push(x);
    return this;
  }
  /** A load or store opcode (or SIMD prefix sequence) with its memarg. */
  mem(opc: number[], align: number, offset: number): this {
    this.code.push(...opc);
    uleb(this.code, align);
    uleb(this.code, offset);
    return this;
  }
  br(op: number, depth: number): this {
    this.code.push(op);
    uleb(this.code, depth);
    return this;
  }
  encode(): number[] {
    const out: number[] = [];
    const groups: [number, number][] = [];
    for (const t of this.locals) {
      const g = groups[groups.length - 1];
      if (g !== undefined && g[1] === t) g[0]++;
      else groups.push([1, t]);
    }
    uleb(out, groups.length);
    for (const [n, t] of groups) {
      uleb(out, n);
      out.push(t);
    }
    append(out, this.code);
    out.push(0x0b);
    const sized: number[] = [];
    uleb(sized, out.length);
    return sized.concat(out);
  }
}

// Opcodes used.
const BLOCK = 0x02;
const LOOP = 0x03;
const IF = 0x04;
const ELSE = 0x05;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const VOID = 0x40;
const SELECT = 0x1b;
const I64_CONST = 0x42;
const I32_LOAD = [0x28];
const I64_LOAD = [0x29];
const F64_LOAD = [0x2b];
const I32_LOAD8_U = [0x2d];
const F64_STORE = [0x39];
const I32_STORE8 = [0x3a];
const V128_LOAD = [0xfd, 0x00];
const V128_STORE = [0xfd, 0x0b];
const F64X2_ADD = [0xfd, 0xf0, 0x01];
const I32_EQZ = 0x45;
const I32_EQ = 0x46;
const I32_NE = 0x47;
const I32_LT_S = 0x48;
const I32_LT_U = 0x49;
const I32_GT_U = 0x4b;
const I32_GE_U = 0x4f;
const F64_LE = 0x65;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_MUL = 0x6c;
const I32_AND = 0x71;
const I32_OR = 0x72;
const I32_XOR = 0x73;
const I32_SHL = 0x74;
const I32_SHR_U = 0x76;
const I64_SHR_U = 0x88;
const I32_WRAP = 0xa7;
const F64_ADD = 0xa0;

function append(out: number[], b: readonly number[]): void {
  // A loop, not push(...b): module bodies can exceed the engine's argument count limit.
  for (let i = 0; i < b.length; i++) out.push(b[i]!);
}

function section(out: number[], id: number, body: number[]): void {
  out.push(id);
  uleb(out, body.length);
  append(out, body);
}

function str(out: number[], s: string): void {
  uleb(out, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

/**
 * A module importing memory e.m of exactly `pages` pages and exporting the given functions, all
 * of type (i32, i32) -> ().
 */
function encodeModule(pages: number, fns: { name: string; body: Body }[]): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  section(out, 1, [1, 0x60, 2, I32, I32, 0]);
  const imp: number[] = [1];
  str(imp, 'e');
  str(imp, 'm');
  imp.push(0x02, 0x01);
  uleb(imp, pages);
  uleb(imp, pages);
  section(out, 2, imp);
  const fsec: number[] = [];
  uleb(fsec, fns.length);
  for (let i = 0; i < fns.length; i++) fsec.push(0);
  section(out, 3, fsec);
  const exp: number[] = [];
  uleb(exp, fns.length);
  fns.forEach((f, i) => {
    str(exp, f.name);
    exp.push(0x00);
    uleb(exp, i);
  });
  section(out, 7, exp);
  const code: number[] = [];
  uleb(code, fns.length);
  for (const f of fns) append(code, f.body.encode());
  section(out, 10, code);
  return Uint8Array.from(out);
}

// ---- kernel --------------------------------------------------------------------------------

interface Layout {
  d: number;
  C: number;
  lanes: number;
  nodes: WasmNodeLayout;
  simd: boolean;
  unroll: number;
  binRows: number;
  /** Byte addresses of the areas. */
  NODES: number;
  LEAFC: number;
  VALS: number;
  META: number;
  EDGES: number;
  ROWS: number;
  BINS: number;
  OUT: number;
}

/**
 * Adds the leaf whose LEAFC address (less the `leafc` offset) is pushed by `leafAddr` to the block
 * row whose OUT byte offset is in local `o`: a code < 0 is ~(class · 8) of a pure leaf (+1), else
 * the byte offset of its row in VALS.
 */
function emitAddLeaf(
  b: Body,
  L: Layout,
  leafAddr: () => void,
  leafc: number,
  o: number,
  code: number,
  word: number | null,
): void {
  if (word !== null) {
    // carry4: a pure leaf's class is in its word's top byte (PURE_NONE: look in LEAFC), so most
    // leaves cost no second load (a cache miss: LEAFC is as large as the nodes).
    b.get(word).i32(24).op(I32_SHR_U).tee(code).i32(PURE_NONE).op(I32_NE, IF, VOID);
    b.get(o).get(code).i32(3).op(I32_SHL, I32_ADD).tee(code);
    b.get(code).mem(F64_LOAD, 3, L.OUT).f64(1).op(F64_ADD).mem(F64_STORE, 3, L.OUT);
    b.op(ELSE);
  }
  leafAddr();
  b.mem(I32_LOAD, 2, leafc).tee(code).i32(0).op(I32_LT_S, IF, VOID);
  b.get(o).get(code).i32(-1).op(I32_XOR, I32_ADD).tee(code);
  b.get(code).mem(F64_LOAD, 3, L.OUT).f64(1).op(F64_ADD).mem(F64_STORE, 3, L.OUT);
  b.op(ELSE);
  let c = 0;
  if (L.simd)
    for (; c + 2 <= L.C; c += 2) {
      b.get(o)
        .get(o)
        .mem(V128_LOAD, 3, L.OUT + 8 * c);
      b.get(code).mem(V128_LOAD, 3, L.VALS + 8 * c);
      b.op(...F64X2_ADD).mem(V128_STORE, 3, L.OUT + 8 * c);
    }
  for (; c < L.C; c++) {
    b.get(o)
      .get(o)
      .mem(F64_LOAD, 3, L.OUT + 8 * c);
    b.get(code).mem(F64_LOAD, 3, L.VALS + 8 * c);
    b.op(F64_ADD).mem(F64_STORE, 3, L.OUT + 8 * c);
  }
  b.op(END);
  if (word !== null) b.op(END);
}

/**
 * walk(tree, nb): rows [0, nb) of BINS down one tree, adding each row's leaf to OUT; `lanes` rows
 * in lockstep (leaves loop on themselves), then the rest one by one. `tree` is the tree's byte
 * offset in NODES (carry4) or its root's node index (i64). With `base` set (carry4), the function
 * serves that one tree: its offset is folded into the loads' constant offsets and `tree` unused.
 *
 * carry4 step: w = node word; n = ((w + bins[row + (w >>> 24)]) >>> 6) & 0x3fffc, the byte offset
 * of the next node (see the node words in buildBinnedWasm); a leaf's low byte is 0.
 * i64 step: (child, word) = node n (tree-bins.ts's pair, one load);
 * n = child + (bins[row + (word >> 8)] > (word & 255)); a leaf's low byte is 255.
 */
function walkBody(L: Layout, base: number | null): Body {
  const b = new Body(2);
  const TREE = 0;
  const NB = 1;
  const K = L.lanes;
  const carry = L.nodes === 'carry4';
  const r = b.local();
  const xb = b.local();
  const tb = b.local();
  const o = b.local();
  const code = b.local();
  const acc = b.local();
  const n: number[] = [];
  const w: number[] = [];
  const x: number[] = [];
  for (let i = 0; i < K; i++) {
    n.push(b.local());
    w.push(b.local());
    x.push(b.local());
  }
  const v = carry ? -1 : b.local(I64);
  const nodesAt = L.NODES + (base ?? 0);
  const leafcAt = L.LEAFC + (base ?? 0);
  if (base === null) b.get(TREE).set(tb);
  const step = (ni: number, wi: number, xi: number): void => {
    if (carry) {
      if (base === null) b.get(tb).get(ni).op(I32_ADD);
      else b.get(ni);
      b.mem(I32_LOAD, 2, nodesAt).tee(wi);
      b.get(xi).get(wi).i32(24).op(I32_SHR_U, I32_ADD).mem(I32_LOAD8_U, 0, L.BINS);
      b.op(I32_ADD).i32(6).op(I32_SHR_U).i32(0x3fffc).op(I32_AND).set(ni);
    } else {
      b.get(ni).i32(3).op(I32_SHL).mem(I64_LOAD, 3, L.NODES).tee(v);
      b.op(I64_CONST, 32, I64_SHR_U, I32_WRAP).set(wi);
      b.get(v).op(I32_WRAP);
      b.get(xi).get(wi).i32(8).op(I32_SHR_U, I32_ADD).mem(I32_LOAD8_U, 0, L.BINS);
      b.get(wi).i32(LEAF).op(I32_AND, I32_GT_U, I32_ADD).set(ni);
    }
  };
  /** Pushes "some lane's node (before the step) was internal" for the words in `ws`. */
  const anyInternal = (ws: number[]): void => {
    b.get(ws[0]!);
    if (carry) {
      for (let i = 1; i < ws.length; i++) b.get(ws[i]!).op(I32_OR);
      b.i32(LEAF).op(I32_AND);
    } else {
      for (let i = 1; i < ws.length; i++) b.get(ws[i]!).op(I32_AND);
      b.i32(LEAF).op(I32_AND).i32(LEAF).op(I32_NE);
    }
  };
  const leafAddr = (ni: number) => (): void => {
    if (!carry) b.get(ni).i32(2).op(I32_SHL);
    else if (base === null) b.get(tb).get(ni).op(I32_ADD);
    else b.get(ni);
  };
  // carry4 starts at slot 1 (byte 4) of its tree; i64 at the root.
  const rootInit = (ni: number): void => {
    if (carry) b.i32(4).set(ni);
    else b.get(tb).set(ni);
  };

  // Lockstep groups. A step leaves a lane on its leaf, so the pass that finds every lane was
  // already on a leaf changes nothing and ends the loop.
  b.i32(0).set(r);
  b.op(BLOCK, VOID, LOOP, VOID);
  b.get(r).i32(K).op(I32_ADD).get(NB).op(I32_GT_U).br(BR_IF, 1);
  b.get(r).i32(L.d).op(I32_MUL).set(xb);
  for (let i = 0; i < K; i++) {
    b.get(xb)
      .i32(i * L.d)
      .op(I32_ADD)
      .set(x[i]!);
    rootInit(n[i]!);
  }
  b.op(LOOP, VOID);
  // `unroll` steps per leaf test: a lane on a leaf stays there, so only the last step's words
  // need testing (folded lane by lane into acc: OR for carry4, AND for i64).
  for (let u = 1; u < L.unroll; u++) for (let i = 0; i < K; i++) step(n[i]!, w[i]!, x[i]!);
  for (let i = 0; i < K; i++) {
    step(n[i]!, w[i]!, x[i]!);
    if (i === 0) b.get(w[0]!).set(acc);
    else
      b.get(acc)
        .get(w[i]!)
        .op(carry ? I32_OR : I32_AND)
        .set(acc);
  }
  anyInternal([acc]);
  b.br(BR_IF, 0);
  b.op(END);
  for (let i = 0; i < K; i++) {
    b.get(r)
      .i32(i)
      .op(I32_ADD)
      .i32(8 * L.C)
      .op(I32_MUL)
      .set(o);
    emitAddLeaf(b, L, leafAddr(n[i]!), leafcAt, o, code, carry ? w[i]! : null);
  }
  b.get(r).i32(K).op(I32_ADD).set(r);
  b.br(BR, 0);
  b.op(END, END);

  // The rest, one row at a time.
  const n0 = n[0]!;
  const x0 = x[0]!;
  b.op(BLOCK, VOID, LOOP, VOID);
  b.get(r).get(NB).op(I32_GE_U).br(BR_IF, 1);
  b.get(r).i32(L.d).op(I32_MUL).set(x0);
  rootInit(n0);
  b.op(LOOP, VOID);
  step(n0, w[0]!, x0);
  anyInternal([w[0]!]);
  b.br(BR_IF, 0);
  b.op(END);
  b.get(r)
    .i32(8 * L.C)
    .op(I32_MUL)
    .set(o);
  emitAddLeaf(b, L, leafAddr(n0), leafcAt, o, code, carry ? w[0]! : null);
  b.get(r).i32(1).op(I32_ADD).set(r);
  b.br(BR, 0);
  b.op(END, END);
  return b;
}

/**
 * bin(nb, at): rows [0, nb) of ROWS (f64, stride d) into BINS from row `at` on, as binRows in
 * tree-bins.ts. META holds per feature: edges byte address (less EDGES), edge count, first step.
 */
function binBody(L: Layout): Body {
  const b = new Body(2);
  const NB = 0;
  const AT = 1;
  const j = b.local();
  const r = b.local();
  const eo = b.local();
  const cnt = b.local();
  const s = b.local();
  const k = b.local();
  const xo = b.local();
  const bo = b.local();
  const vv = b.local(F64);
  const stride = 8 * L.d;
  b.i32(0).set(j);
  b.op(BLOCK, VOID, LOOP, VOID);
  b.get(j).i32(L.d).op(I32_GE_U).br(BR_IF, 1);
  b.get(j)
    .i32(12)
    .op(I32_MUL)
    .tee(eo)
    .mem(I32_LOAD, 2, L.META + 4)
    .set(cnt);
  b.get(eo)
    .mem(I32_LOAD, 2, L.META + 8)
    .set(s);
  b.get(eo).mem(I32_LOAD, 2, L.META).set(eo);
  b.get(j).i32(3).op(I32_SHL).set(xo);
  b.get(AT).i32(L.d).op(I32_MUL).get(j).op(I32_ADD).set(bo);
  b.i32(0).set(r);
  // 129–255 edges (the usual case): the eight steps unrolled on constants, binRows rows at a
  // time (their searches are independent load chains that overlap: one row's eight dependent
  // loads alone left the core waiting), then the rest one by one.
  const vq: number[] = [];
  const kq: number[] = [];
  for (let q = 0; q < L.binRows; q++) {
    vq.push(b.local(F64));
    kq.push(b.local());
  }
  /** Rows K at a time while K remain: bin searches q = 0..K-1 interleaved step by step. */
  const unrolledRows = (K: number): void => {
    b.op(BLOCK, VOID, LOOP, VOID);
    b.get(r).i32(K).op(I32_ADD).get(NB).op(I32_GT_U).br(BR_IF, 1);
    for (let q = 0; q < K; q++) {
      b.get(xo)
        .mem(F64_LOAD, 3, L.ROWS + q * stride)
        .set(vq[q]!);
      b.i32(0).set(kq[q]!);
    }
    // k += st when !(v <= edges[k + st - 1]); k kept times 8 (a byte offset) until the end.
    for (let st = 128, lg = 7; st >= 1; st >>= 1, lg--) {
      for (let q = 0; q < K; q++) {
        b.get(kq[q]!)
          .get(vq[q]!)
          .get(eo)
          .get(kq[q]!)
          .op(I32_ADD)
          .mem(F64_LOAD, 3, L.EDGES + 8 * (st - 1));
        b.op(F64_LE, I32_EQZ)
          .i32(lg + 3)
          .op(I32_SHL, I32_ADD)
          .set(kq[q]!);
      }
    }
    for (let q = 0; q < K; q++) {
      b.get(bo)
        .get(kq[q]!)
        .i32(3)
        .op(I32_SHR_U)
        .tee(kq[q]!)
        .get(cnt)
        .get(kq[q]!)
        .get(cnt)
        .op(I32_LT_U, SELECT)
        .mem(I32_STORE8, 0, L.BINS + q * L.d);
    }
    b.get(xo)
      .i32(K * stride)
      .op(I32_ADD)
      .set(xo);
    b.get(bo)
      .i32(K * L.d)
      .op(I32_ADD)
      .set(bo);
    b.get(r).i32(K).op(I32_ADD).set(r);
    b.br(BR, 0);
    b.op(END, END);
  };
  b.get(s).i32(128).op(I32_EQ, IF, VOID);
  unrolledRows(L.binRows);
  if (L.binRows > 1) unrolledRows(1);
  b.op(ELSE);
  b.op(BLOCK, VOID, LOOP, VOID);
  b.get(r).get(NB).op(I32_GE_U).br(BR_IF, 1);
  b.get(xo).mem(F64_LOAD, 3, L.ROWS).set(vv);
  b.i32(0).set(k);
  const st = b.local();
  b.get(s).set(st);
  b.op(BLOCK, VOID, LOOP, VOID);
  b.get(st).op(I32_EQZ).br(BR_IF, 1);
  b.get(k).get(st).i32(0);
  b.get(vv).get(eo).get(k).get(st).op(I32_ADD).i32(1).op(I32_SUB).i32(3).op(I32_SHL, I32_ADD);
  b.mem(F64_LOAD, 3, L.EDGES).op(F64_LE, I32_EQZ, SELECT, I32_ADD).set(k);
  b.get(st).i32(1).op(I32_SHR_U).set(st);
  b.br(BR, 0);
  b.op(END, END);
  b.get(bo).get(k).get(cnt).get(k).get(cnt).op(I32_LT_U, SELECT).mem(I32_STORE8, 0, L.BINS);
  b.get(xo).i32(stride).op(I32_ADD).set(xo);
  b.get(bo).i32(L.d).op(I32_ADD).set(bo);
  b.get(r).i32(1).op(I32_ADD).set(r);
  b.br(BR, 0);
  b.op(END, END);
  b.op(END);
  b.get(j).i32(1).op(I32_ADD).set(j);
  b.br(BR, 0);
  b.op(END, END);
  return b;
}

// ---- forest --------------------------------------------------------------------------------

export interface BinnedWasm {
  /** Staging rows (f64, stride d) for prepareBlock: `bin` reads them. */
  readonly rows: Float64Array;
  /** Block accumulator (f64, stride C): `walk` adds the leaves here, from row 0. */
  readonly out: Float64Array;
  /** The block's bins (stride d), as binRows in tree-bins.ts writes them. */
  readonly bins: Uint8Array;
  /** The node layout in use. */
  readonly nodes: WasmNodeLayout;
  /** Bins rows [0, nb) of `rows` into the block's bins from row `at` on. */
  bin(nb: number, at: number): void;
  /** Walks rows [0, nb) of the bins down tree k, adding each row's leaf to `out`. */
  walk(k: number, nb: number): void;
}

/**
 * Slots of the carry4 layout: trees one after another, each from its slot 0 (unused), root in
 * slot 1, every internal node's two children in slots 2m, 2m + 1 — pairs allocated depth-first
 * (a subtree's pairs close together; breadth-first measured no better, slower on the walk alone,
 * and so did pairs placed cache line by cache line, three levels per line: 0.96–1.27× the
 * depth-first walk, 2026-11-27). Null when a tree needs
 * more than 65,536 slots (16-bit slot numbers) or shares a subtree (a valid DAG: its paths can be
 * exponentially many, and a node needs one slot).
 */
function carrySlots(t: FlatTrees): { slotOf: Int32Array; treeSlot: Int32Array; nSlots: number } | null {
  const { feature, left, roots } = t;
  const nNodes = feature.length;
  const nTrees = roots.length;
  const slotOf = new Int32Array(nNodes);
  const treeSlot = new Int32Array(nTrees);
  const stack: number[] = [];
  let nSlots = 0;
  for (let k = 0; k < nTrees; k++) {
    const root = roots[k]!;
    const size = (k + 1 < nTrees ? roots[k + 1]! : nNodes) - root;
    if (size + 1 > 0x10000) return null;
    treeSlot[k] = nSlots;
    slotOf[root] = nSlots + 1;
    let next = nSlots + 2;
    stack.length = 0;
    stack.push(root);
    while (stack.length > 0) {
      const u = stack.pop()!;
      if (feature[u]! < 0) continue;
      const l = left[u]!;
      // Every slot is ≥ 1: a pair with one already was reached before.
      if (slotOf[l] !== 0) return null;
      slotOf[l] = next;
      slotOf[l + 1] = next + 1;
      next += 2;
      stack.push(l + 1, l);
    }
    nSlots += size + 1;
  }
  return { slotOf, treeSlot, nSlots };
}

/**
 * The wasm kernel for the binned forest `bf` of `t` (after random-forest.ts rewrote pure leaves:
 * `left` = -(class + 1)), or null when WebAssembly (or SIMD, when asked) is unavailable or the
 * memory cannot be had. `rowsCap` float rows are staged, `binCap` rows binned per block.
 */
export function buildBinnedWasm(
  t: FlatTrees,
  bf: BinnedForest,
  d: number,
  C: number,
  rowsCap: number,
  binCap: number,
  opts: WasmKernelOptions = {},
): BinnedWasm | null {
  const api = wasmApi();
  if (api === null) return null;
  const lanes = Math.max(1, Math.floor(opts.lanes ?? WASM_LANES));
  const simd = opts.simd ?? true;
  const { feature, left, value, roots } = t;
  const nNodes = feature.length;
  const nTrees = roots.length;
  const slots = opts.nodes !== 'i64' && d <= 256 ? carrySlots(t) : null;
  const carry = slots !== null;
  const layout: WasmNodeLayout = carry ? 'carry4' : 'i64';
  const perTree = carry && opts.perTree === true;
  const nSlots = slots?.nSlots ?? nNodes;
  // Value rows of the leaves that are not pure, deduplicated by their offset in `value`.
  const valAt = new Map<number, number>();
  for (let i = 0; i < nNodes; i++)
    if (feature[i]! < 0 && left[i]! >= 0 && !valAt.has(left[i]!)) valAt.set(left[i]!, valAt.size);
  const align = (v: number): number => Math.ceil(v / 16) * 16;
  const NODES = 0;
  const LEAFC = align(NODES + (carry ? 4 : 8) * nSlots);
  const VALS = align(LEAFC + 4 * nSlots);
  const META = align(VALS + 8 * C * valAt.size);
  const EDGES = align(META + 12 * d);
  const ROWS = align(EDGES + 8 * bf.edges.length);
  const BINS = align(ROWS + 8 * d * rowsCap);
  const OUT = align(BINS + d * binCap);
  const end = OUT + 8 * C * binCap;
  if (end > WASM_MAX_BYTES) return null;
  const pages = Math.ceil(end / PAGE);
  const unroll = Math.max(1, Math.floor(opts.unroll ?? WASM_UNROLL));
  const binRows = Math.max(1, Math.floor(opts.binRows ?? BIN_ROWS));
  const L: Layout = {
    d,
    C,
    lanes,
    nodes: layout,
    simd,
    unroll,
    binRows,
    NODES,
    LEAFC,
    VALS,
    META,
    EDGES,
    ROWS,
    BINS,
    OUT,
  };
  const fns = [{ name: 'bin', body: binBody(L) }];
  if (perTree) for (let k = 0; k < nTrees; k++) fns.push({ name: `w${k}`, body: walkBody(L, 4 * slots.treeSlot[k]!) });
  else fns.push({ name: 'walk', body: walkBody(L, null) });
  const bytes = encodeModule(pages, fns);
  let mem: WasmMemory;
  let exports: Record<string, unknown>;
  try {
    if (!api.validate(bytes)) return null;
    mem = new api.Memory({ initial: pages, maximum: pages });
    exports = new api.Instance(new api.Module(bytes), { e: { m: mem } }).exports;
  } catch (e) {
    // No memory (RangeError) or no SIMD (CompileError): the JavaScript walk is the fallback.
    if (e instanceof RangeError || (api.CompileError !== undefined && e instanceof api.CompileError)) return null;
    throw e;
  }
  const buf = mem.buffer;
  const bn = bf.nodes;
  const leafc = new Int32Array(buf, LEAFC, nSlots);
  const code = (l: number): number => (l < 0 ? ~((-l - 1) * 8) : valAt.get(l)! * 8 * C);
  if (carry) {
    // Internal: feature << 24 | (left slot / 2) << 9 | (255 - rank): bin + 255 - rank carries into
    // bit 8 exactly when bin > rank (rank ≤ 254, so the low byte is not 0). Leaf: class << 24 |
    // slot << 8 (PURE_NONE for the class when not pure), low byte 0: no bin carries into bit 8, the
    // walk stays on it (the top byte only picks which bin byte is added).
    const { slotOf, treeSlot } = slots;
    const nodes = new Int32Array(buf, NODES, nSlots);
    for (let k = 0; k < nTrees; k++) {
      const tb = treeSlot[k]!;
      const r1 = k + 1 < nTrees ? roots[k + 1]! : nNodes;
      for (let i = roots[k]!; i < r1; i++) {
        const sl = slotOf[i]!;
        const wd = bn[2 * i + 1]!;
        if (feature[i]! < 0) {
          const l = left[i]!;
          nodes[sl] = ((l < 0 && -l - 1 < PURE_NONE ? -l - 1 : PURE_NONE) << 24) | ((sl - tb) << 8);
          leafc[sl] = code(left[i]!);
        } else nodes[sl] = ((wd >> 8) << 24) | (((slotOf[left[i]!]! - tb) >> 1) << 9) | (LEAF - (wd & LEAF));
      }
    }
  } else {
    new Int32Array(buf, NODES, 2 * nNodes).set(bn);
    for (let i = 0; i < nNodes; i++) if (feature[i]! < 0) leafc[i] = code(left[i]!);
  }
  const vals = new Float64Array(buf, VALS, C * valAt.size);
  for (const [vo, idx] of valAt) for (let c = 0; c < C; c++) vals[idx * C + c] = value[vo + c]!;
  // Bin tables.
  const meta = new Int32Array(buf, META, 3 * d);
  for (let j = 0; j < d; j++) {
    meta[3 * j] = 8 * bf.edgeStart[j]!;
    meta[3 * j + 1] = bf.edgeCount[j]!;
    meta[3 * j + 2] = bf.firstStep[j]!;
  }
  new Float64Array(buf, EDGES, bf.edges.length).set(bf.edges);
  const bin = exports['bin'] as (nb: number, at: number) => void;
  let walk: (k: number, nb: number) => void;
  if (perTree) {
    const ws = Array.from({ length: nTrees }, (_, k) => exports[`w${k}`] as (tree: number, nb: number) => void);
    walk = (k, nb) => ws[k]!(0, nb);
  } else {
    const w = exports['walk'] as (tree: number, nb: number) => void;
    const tree = carry ? Int32Array.from(slots.treeSlot, (s) => 4 * s) : roots;
    walk = (k, nb) => w(tree[k]!, nb);
  }
  return {
    rows: new Float64Array(buf, ROWS, d * rowsCap),
    out: new Float64Array(buf, OUT, C * binCap),
    bins: new Uint8Array(buf, BINS, d * binCap),
    nodes: layout,
    bin,
    walk,
  };
}
