import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileStore, FileStoreError, mergeFileStoreCounters, prepareFileStore } from './filestore.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function withDir(fn: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-filestore-'));
  try {
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a file is stored as DIR/<sha256[0:2]>/<sha256> with its bytes; an identical one is not rewritten', () => {
  withDir((dir) => {
    const store = new FileStore(prepareFileStore(path.join(dir, 'fs'), true, 1 << 20));
    const data = Buffer.from('MZ\x90\x00 a small executable', 'latin1');
    const r = store.store(data);
    const h = sha(data);
    assert.deepEqual(r, { stored: true, fileId: 1, sha256: h });
    const file = path.join(dir, 'fs', h.slice(0, 2), h);
    assert.deepEqual(fs.readFileSync(file), data);
    // No temp files left beside it.
    assert.deepEqual(fs.readdirSync(path.dirname(file)), [h]);
    const before = fs.statSync(file).mtimeMs;
    fs.utimesSync(file, 1, 1);
    const again = store.store(data, h);
    assert.equal(again.stored, true);
    assert.equal(again.fileId, 2);
    assert.equal(fs.statSync(file).mtimeMs, 1000, 'not rewritten');
    assert.ok(before > 1000);
    assert.equal(store.counters.stored, 1);
    assert.equal(store.counters.duplicates, 1);
    assert.equal(store.counters.bytes_written, data.length);
  });
});

test('max-size caps the directory, counting what earlier runs stored', () => {
  withDir((dir) => {
    const a = Buffer.alloc(600, 1);
    const b = Buffer.alloc(600, 2);
    const c = Buffer.alloc(300, 3);
    const s1 = new FileStore(prepareFileStore(dir, true, 1000));
    assert.equal(s1.store(a).stored, true);
    const r = s1.store(b);
    assert.equal(r.stored, false);
    assert.equal(r.sha256, sha(b));
    assert.equal(s1.counters.skipped_max_size, 1);
    assert.equal(s1.store(c).stored, true); // 900 B in all
    // A second run over the same directory starts from the 900 B already there.
    const s2 = new FileStore(prepareFileStore(dir, true, 1000));
    assert.equal(s2.store(Buffer.alloc(200, 4)).stored, false);
    assert.equal(s2.store(Buffer.alloc(100, 5)).stored, true);
    assert.equal(s2.truncated().stored, false);
    const all = mergeFileStoreCounters([s1.counters, s2.counters]);
    assert.equal(all.stored, 3);
    assert.equal(all.skipped_max_size, 2);
    assert.equal(all.skipped_truncated, 1);
  });
});

test('workers share the cap and the file ids through the shared buffer', () => {
  withDir((dir) => {
    const spec = prepareFileStore(dir, false, 1000);
    const w1 = new FileStore(spec);
    const w2 = new FileStore(spec);
    assert.equal(w1.store(Buffer.alloc(500, 1)).fileId, 1);
    assert.equal(w2.store(Buffer.alloc(500, 2)).fileId, 2);
    assert.equal(w2.store(Buffer.alloc(1, 3)).stored, false);
    // Not forced: only files a filestore rule marked for the direction.
    assert.equal(w1.wants(undefined, 2), false);
    assert.equal(w1.wants(1, 2), false);
    assert.equal(w1.wants(3, 2), true);
  });
});

test('an unusable directory is a clear error', () => {
  withDir((dir) => {
    const file = path.join(dir, 'plain');
    fs.writeFileSync(file, 'x');
    assert.throws(() => prepareFileStore(path.join(file, 'sub'), true, 10), FileStoreError);
  });
});
