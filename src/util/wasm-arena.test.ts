import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ARENA_RESERVED, WasmArena, arenaBuffer, currentArena, wasmArena } from './wasm-arena.js';
import { wasmApi } from './webassembly.js';
import { ByteWindow } from '../capture/source.js';

/** A small arena of `pages` 64 KiB pages, apart from the thread's own. */
function small(pages: number): WasmArena {
  return new WasmArena(new (wasmApi()!.Memory)({ initial: pages, maximum: pages }));
}

test('arena: first-fit blocks above the reserved area, freed blocks merged and reused', () => {
  const a = small(4);
  const x = a.alloc(100);
  const y = a.alloc(1000);
  const z = a.alloc(5);
  assert.equal(x, ARENA_RESERVED);
  assert.equal(y, x + 104); // 8-aligned
  assert.equal(z, y + 1000);
  assert.equal(a.usedBytes, ARENA_RESERVED + 104 + 1000 + 8);
  a.free(x, 100);
  a.free(y, 1000);
  // x and y merged: a block of 1,104 bytes fits where they were.
  assert.equal(a.alloc(1100), x);
  a.free(x, 1100);
  a.free(z, 5);
  // Everything free again: the bump pointer is back at the start.
  assert.equal(a.usedBytes, ARENA_RESERVED);
  assert.equal(a.alloc(8), ARENA_RESERVED);
});

test('arena: full arena answers -1, never grows (so buffers in it stay attached)', () => {
  const a = small(2);
  const buf = a.memory.buffer;
  const big = a.alloc(65536 - 64);
  assert.ok(big >= 0);
  assert.equal(a.alloc(4096), -1);
  assert.equal(a.memory.buffer, buf);
  assert.equal(a.memory.buffer.byteLength, 2 * 65536);
  a.free(big, 65536 - 64);
  assert.ok(a.alloc(4096) >= 0);
});

test('arena: offsetOf tells buffers in the arena from others', () => {
  const a = small(2);
  const off = a.alloc(64);
  const inside = Buffer.from(a.memory.buffer, off, 64);
  assert.equal(a.offsetOf(inside), off);
  assert.equal(a.offsetOf(inside.subarray(10)), off + 10);
  assert.equal(a.offsetOf(Buffer.alloc(64)), -1);
  assert.equal(small(2).offsetOf(inside), -1);
});

test('arenaBuffer: the thread arena holds read buffers; released blocks are reused', () => {
  const first = arenaBuffer(4096);
  const arena = wasmArena();
  assert.ok(arena !== null, 'WebAssembly memory is available in Node');
  assert.equal(currentArena(), arena);
  const at = arena.offsetOf(first.buf);
  assert.ok(at >= ARENA_RESERVED);
  first.buf.fill(7);
  assert.equal(arena.u8[at + 4095], 7);
  first.release();
  first.release(); // idempotent
  const second = arenaBuffer(4096);
  assert.equal(arena.offsetOf(second.buf), at);
  second.release();
  // Larger than the arena: a plain buffer, nothing to release.
  const huge = arenaBuffer(1 << 30);
  assert.equal(arena.offsetOf(huge.buf), -1);
  huge.release();
});

test('ByteWindow over a file reads into the arena and hands its block back on close', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-arena-'));
  try {
    const file = path.join(dir, 'data.bin');
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    fs.writeFileSync(file, data);
    const arena = wasmArena()!;
    const before = arena.usedBytes;
    const win = ByteWindow.fromFd(fs.openSync(file, 'r'), data.length, 65536);
    assert.ok(arena.offsetOf(win.buf) >= ARENA_RESERVED);
    let seen = 0;
    while (win.fill(1000) > 0) {
      const n = win.end - win.start;
      assert.ok(win.buf.subarray(win.start, win.end).equals(data.subarray(seen, seen + n)));
      seen += n;
      win.skip(n);
    }
    assert.equal(seen, data.length);
    // A record bigger than the window: the window grows out of the arena, giving its block back.
    const win2 = ByteWindow.fromFd(fs.openSync(file, 'r'), data.length, 4096);
    assert.ok(arena.offsetOf(win2.buf) >= 0);
    assert.ok(win2.fill(100_000) >= 100_000);
    assert.equal(arena.offsetOf(win2.buf), -1);
    assert.ok(win2.buf.subarray(0, 100_000).equals(data.subarray(0, 100_000)));
    win2.close();
    win.close();
    assert.equal(arena.usedBytes, before);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
