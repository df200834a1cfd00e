/**
 * Mpm.scan in WebAssembly, for the payload prefilter (Detector.prescan) and the stream-seam scans.
 *
 * The module (wasm/mpm-scan.c) runs the same walk as the JavaScript scan over the same automaton,
 * so it finds the same ids (test: wasm-scan.test.ts), at about half the cost per byte
 * (docs/performance.md, session 11). It works on this thread's WebAssembly arena
 * (src/util/wasm-arena.ts): the capture reader's buffer is there, so payloads are scanned in place,
 * and each detector's scanner copies there the tables of every automaton it scans with (on first
 * use, transitions repacked so that dense rows take 16 bits where they fit: session 12) plus its
 * `seen`/`out` arrays.
 * A scanner's blocks go back to the arena when the scanner is garbage-collected (a rule reload
 * drops the old detector and with it its scanner).
 *
 * Where there is no arena (WebAssembly unavailable, VIGIL_WASM_SCAN=0) `create` returns null and
 * the detector keeps the JavaScript scan, as it does for batches whose bytes are not in the arena
 * (worker threads, live capture, in-memory captures).
 */
import type { Mpm } from './mpm.js';
import { MPM_SCAN_WASM } from './wasm/mpm-scan.wasm.js';
import { wasmArena } from '../../util/wasm-arena.js';
import type { WasmArena } from '../../util/wasm-arena.js';
import { wasmApi } from '../../util/webassembly.js';

type ScanFn = (
  desc: number,
  buf: number,
  start: number,
  end: number,
  out: number,
  outLen: number,
  seen: number,
  gen: number,
) => number;

/** chk is probed at base + class; pad past its end with 0xff, never a class (as undefined in JS). */
const CHK_PAD = 256;

/**
 * A transition of mpm.ts (dense targets as their row offset, state << 8, from bit 2; sparse ones
 * as their state) repacked as (state << 2) | flags, as mpm-scan.c reads it. Free double-array
 * slots (0) stay 0.
 */
function repack(v: number): number {
  const state = (v & 2) !== 0 ? v >>> 2 : v >>> 10;
  return (state << 2) | (v & 3);
}

/** The module instantiated on this thread's arena (one per thread, shared by its scanners). */
let scanFn: ScanFn | null | undefined;

function instance(arena: WasmArena): ScanFn | null {
  if (scanFn === undefined) {
    scanFn = null;
    const api = wasmApi();
    try {
      if (api !== null) {
        const m = new api.Module(Buffer.from(MPM_SCAN_WASM, 'base64'));
        scanFn = new api.Instance(m, { env: { memory: arena.memory } }).exports['scan'] as ScanFn;
      }
    } catch {
      scanFn = null;
    }
  }
  return scanFn;
}

/** Blocks [offset, bytes] a scanner holds; freed when the scanner is collected. */
type Blocks = [number, number][];
const collected = new FinalizationRegistry<{ arena: WasmArena; blocks: Blocks }>(({ arena, blocks }) => {
  for (const [off, n] of blocks) arena.free(off, n);
});

export class WasmScanner {
  private readonly arena: WasmArena;
  private readonly scanFn: ScanFn;
  private readonly descs = new Map<Mpm, number>();
  private readonly blocks: Blocks = [];
  private seenOff = 0;
  private outOff = 0;
  /** Entries of seen and out (the largest idCapacity of the automatons copied in). */
  private idCap = 0;
  private gen = 0;

  private constructor(arena: WasmArena, scanFn: ScanFn) {
    this.arena = arena;
    this.scanFn = scanFn;
    collected.register(this, { arena, blocks: this.blocks });
  }

  /** A scanner on this thread's arena, or null when there is none. */
  static create(): WasmScanner | null {
    const arena = wasmArena();
    if (arena === null) return null;
    const fn = instance(arena);
    return fn === null ? null : new WasmScanner(arena, fn);
  }

  /** A block of the arena for the caller's bytes (held until the scanner goes), or -1. */
  scratch(bytes: number): number {
    return this.take(bytes);
  }

  /** The whole arena as bytes (for offsets from `scratch`). */
  get bytes(): Buffer {
    return this.arena.u8;
  }

  /** The ids found by the last scan are `out()[outIndex, + n)`; valid until the next scan. */
  out(): Int32Array {
    return this.arena.i32;
  }

  /** Index into out() of the last scan's first id. */
  get outIndex(): number {
    return this.outOff >>> 2;
  }

  /** Bytes of arena this scanner holds. */
  get memoryBytes(): number {
    let n = 0;
    for (const [, b] of this.blocks) n += b;
    return n;
  }

  /** The descriptor of mpm's tables in the arena, copying them there on first use; -1 if no room. */
  desc(mpm: Mpm): number {
    const known = this.descs.get(mpm);
    if (known !== undefined) return known;
    const t = mpm.tablesForWasm();
    // Transitions as (state << 2) | flags (mpm-scan.c); dense rows in 16 bits when every target
    // in them fits (dense states are the shallowest, so their targets are low-numbered states
    // even in large automatons).
    let top = 0;
    for (let k = 0; k < t.dense.length; k++) top = Math.max(top, repack(t.dense[k]!));
    const wide = top > 0xffff ? 1 : 0;
    const dense = wide === 1 ? new Int32Array(t.dense.length) : new Uint16Array(t.dense.length);
    for (let k = 0; k < dense.length; k++) dense[k] = repack(t.dense[k]!);
    const rec = Int32Array.from(t.rec);
    for (let k = 0; k < rec.length; k += 3) {
      rec[k] = repack(rec[k]!);
      // Key -1 (no child) or >= 256 (double array): the value is unused (0).
      if (rec[k + 1]! >= 0 && rec[k + 1]! < 256) rec[k + 2] = repack(rec[k + 2]!);
    }
    const nxt = t.nxt.map(repack);
    const arrays: [Int32Array | Uint16Array | Uint8Array, number][] = [
      [dense, 0],
      [rec, 0],
      [t.depth, 0],
      [t.chk, CHK_PAD],
      [nxt, 0],
      [t.classOf, 0],
      [t.outStart, 0],
      [t.outIds, 0],
      [t.outLink, 0],
    ];
    const fields: number[] = [];
    for (const [a, pad] of arrays) {
      const off = this.take(a.byteLength + pad);
      if (off < 0) return this.noRoom(mpm);
      const u8 = this.arena.u8;
      u8.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), off);
      if (pad > 0) u8.fill(0xff, off + a.byteLength, off + a.byteLength + pad);
      fields.push(off);
    }
    fields.push(t.denseStates, wide);
    const d = this.take(4 * fields.length);
    if (d < 0) return this.noRoom(mpm);
    const i32 = this.arena.i32;
    for (let k = 0; k < fields.length; k++) i32[(d >>> 2) + k] = fields[k]!;
    if (mpm.idCapacity > this.idCap) {
      // New seen/out areas (the old ones stay with the scanner): seen starts zeroed, gen at 1.
      const cap = mpm.idCapacity;
      const seen = this.take(4 * cap);
      const out = this.take(4 * cap);
      if (seen < 0 || out < 0) return this.noRoom(mpm);
      this.arena.u32.fill(0, seen >>> 2, (seen >>> 2) + cap);
      this.idCap = cap;
      this.seenOff = seen;
      this.outOff = out;
      this.gen = 0;
    }
    this.descs.set(mpm, d);
    return d;
  }

  /**
   * Scan arena bytes [start, start + len) with the automaton of descriptor `d` (from `desc`, not
   * -1); returns the number of distinct ids, at out()[outIndex, + n).
   */
  scan(d: number, start: number, len: number): number {
    let g = (this.gen + 1) >>> 0;
    if (g === 0) {
      this.arena.u32.fill(0, this.seenOff >>> 2, (this.seenOff >>> 2) + this.idCap);
      g = 1;
    }
    this.gen = g;
    // The module addresses bytes as buf + i; buf is the range's start, i from 0.
    return this.scanFn(d, start, 0, len, this.outOff, this.idCap, this.seenOff, g | 0);
  }

  /** An automaton whose tables do not fit: remembered as -1 so the caller scans it in JavaScript. */
  private noRoom(mpm: Mpm): number {
    this.descs.set(mpm, -1);
    return -1;
  }

  private take(bytes: number): number {
    const off = this.arena.alloc(bytes);
    if (off >= 0) this.blocks.push([off, bytes]);
    return off;
  }
}
