/**
 * One WebAssembly memory per thread, shared by the capture reader's buffer and the detectors'
 * WebAssembly scan tables, so the payload prefilter scans packets where the reader put them.
 *
 * Why: copying each batch into a WebAssembly memory before scanning it cost the rest of the
 * pipeline more than the faster scan saved (an extra pass over every byte, and the copy's cache
 * footprint); reading the file straight into the memory the scan module sees removes the copy
 * (docs/performance.md, session 11).
 *
 * The memory has a fixed size and never grows: growing a WebAssembly memory detaches its
 * ArrayBuffer, which would empty the reader's `Buffer` under it. A shared (SharedArrayBuffer)
 * memory would grow safely, but Node copies out of shared buffers about 2x slower (relaxed
 * atomic copies), which the packet path pays on every segment it stores. The pages are only
 * reserved: those never touched cost no resident memory. When the arena is full, callers fall
 * back to plain buffers and the JavaScript scan. Blocks are allocated first-fit from a free list
 * and handed back with `free`. VIGIL_WASM_SCAN=0 turns the arena (and with it the WebAssembly
 * scan) off; where WebAssembly is unavailable it is off anyway.
 */
import { wasmApi } from './webassembly.js';
import type { WasmMemory } from './webassembly.js';

/** Below this offset: the WebAssembly modules' own data and stack (scripts/build-wasm.sh). */
export const ARENA_RESERVED = 65536;
/**
 * Size of the arena: 512 MiB of address space, resident only where used (ET Open on the bench
 * capture: 10 MB of tables and scan areas, 18 MB before dense rows took 16 bits, plus the 4 MB
 * read buffer).
 */
const ARENA_PAGES = 8192;

export class WasmArena {
  readonly memory: WasmMemory;
  /** Views of the whole memory (it never grows, so they stay valid). */
  readonly u8: Buffer;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  private readonly size: number;
  /** Free blocks [offset, size], sorted by offset, neighbours merged. */
  private readonly freeList: [number, number][] = [];
  private top = ARENA_RESERVED;

  constructor(memory: WasmMemory) {
    this.memory = memory;
    this.size = memory.buffer.byteLength;
    this.u8 = Buffer.from(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
    this.u32 = new Uint32Array(memory.buffer);
  }

  /** Offset of `buf`'s first byte in this memory, or -1 when it lives elsewhere. */
  offsetOf(buf: Uint8Array): number {
    return buf.buffer === this.memory.buffer ? buf.byteOffset : -1;
  }

  /** A block of `bytes` (8-aligned, contents undefined), or -1 when the arena has no room. */
  alloc(bytes: number): number {
    const size = Math.max(8, (bytes + 7) & ~7);
    const fl = this.freeList;
    for (let k = 0; k < fl.length; k++) {
      const [off, len] = fl[k]!;
      if (len < size) continue;
      if (len === size) fl.splice(k, 1);
      else fl[k] = [off + size, len - size];
      return off;
    }
    const off = this.top;
    if (off + size > this.size) return -1;
    this.top = off + size;
    return off;
  }

  /** Hand back a block from `alloc` (its size as asked then). */
  free(off: number, bytes: number): void {
    const size = Math.max(8, (bytes + 7) & ~7);
    const fl = this.freeList;
    let k = 0;
    while (k < fl.length && fl[k]![0] < off) k++;
    fl.splice(k, 0, [off, size]);
    // Merge with the next block, then with the previous one.
    if (k + 1 < fl.length && off + size === fl[k + 1]![0]) {
      fl[k] = [off, size + fl[k + 1]![1]];
      fl.splice(k + 1, 1);
    }
    if (k > 0 && fl[k - 1]![0] + fl[k - 1]![1] === off) {
      fl[k - 1] = [fl[k - 1]![0], fl[k - 1]![1] + fl[k]![1]];
      fl.splice(k, 1);
    }
    // A free block at the top goes back to the bump pointer.
    const last = fl[fl.length - 1];
    if (last !== undefined && last[0] + last[1] === this.top) {
      this.top = last[0];
      fl.pop();
    }
  }

  /** Bytes allocated and not freed (reserved area included). */
  get usedBytes(): number {
    let free = 0;
    for (const [, len] of this.freeList) free += len;
    return this.top - free;
  }
}

let arena: WasmArena | null | undefined;

/** This thread's arena if something has made it, else null (never makes one). */
export function currentArena(): WasmArena | null {
  return arena ?? null;
}

/** This thread's arena, made on first use; null when WebAssembly memory is unavailable or turned off. */
export function wasmArena(): WasmArena | null {
  if (arena === undefined) {
    arena = null;
    const api = wasmApi();
    if (process.env['VIGIL_WASM_SCAN'] !== '0' && api !== null) {
      try {
        arena = new WasmArena(new api.Memory({ initial: ARENA_PAGES, maximum: ARENA_PAGES }));
      } catch {
        arena = null;
      }
    }
  }
  return arena;
}

/** Arena blocks behind buffers that were dropped without `release` (a backstop for unclosed readers). */
const orphans = new FinalizationRegistry<{ a: WasmArena; off: number; n: number; freed: boolean }>((h) => {
  if (!h.freed) h.a.free(h.off, h.n);
  h.freed = true;
});

/**
 * A read buffer of n bytes in this thread's arena (so prescan can scan its packets in place), or a
 * plain Buffer when there is no arena or no room. `release` hands the block back (idempotent); a
 * buffer dropped without it is handed back when it is garbage-collected. Callers must not keep
 * views of it past `release`.
 */
export function arenaBuffer(n: number): { buf: Buffer; release: () => void } {
  const a = wasmArena();
  const off = a === null ? -1 : a.alloc(n);
  if (a === null || off < 0) return { buf: Buffer.allocUnsafe(n), release: () => {} };
  const buf = Buffer.from(a.memory.buffer, off, n);
  const h = { a, off, n, freed: false };
  orphans.register(buf, h, h);
  return {
    buf,
    release: () => {
      if (h.freed) return;
      h.freed = true;
      orphans.unregister(h);
      a.free(off, n);
    },
  };
}
