import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HttpRecord } from '../applayer/app-layer.js';
import { HttpTransaction } from '../applayer/http/parser.js';
import { defaultConfig } from '../pipeline/config.js';
import { FileStore, FileStoreError } from './filestore.js';
import { fileStoreSpecOf, storeAppFiles, storeHttpRequestFiles } from './filestore-app.js';

function withDir(fn: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-filestore-app-'));
  try {
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A finished PUT of `body` to /up/a.bin, as the HTTP parser hands it over. */
function putRecord(body: Buffer, marks?: number): HttpRecord {
  const tx = new HttpTransaction(0);
  tx.method = 'PUT';
  tx.uri = '/up/a.bin';
  tx.requestBody = body;
  tx.requestBodyLength = body.length;
  tx.requestComplete = true;
  tx.responseComplete = true;
  const flow = { flowId: 1, srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 1234, dstPort: 80, proto: 6 };
  return {
    kind: 'http',
    slot: 0,
    tsUs: 0,
    flow: flow as HttpRecord['flow'],
    tx,
    ...(marks !== undefined ? { fileStore: marks } : {}),
  };
}

test('fileStoreSpecOf: off -> null; one prepared store per directory (shared counters); relative under the base', () => {
  withDir((dir) => {
    const cfg = defaultConfig().fileStore;
    assert.equal(fileStoreSpecOf(cfg, dir), null);
    const on = { ...cfg, enabled: true, dir: 'files' };
    const a = fileStoreSpecOf(on, dir)!;
    assert.equal(a.dir, path.join(dir, 'files'));
    assert.ok(fs.statSync(path.join(dir, 'files', 'ff')).isDirectory());
    const b = fileStoreSpecOf({ ...on, dir: path.join(dir, 'files'), force: true }, '/elsewhere')!;
    assert.equal(b.shared, a.shared, 'the same byte count and file ids');
    assert.equal(b.force, true);
    // A path that cannot be a directory: a one-line FileStoreError.
    fs.writeFileSync(path.join(dir, 'plain'), 'x');
    assert.throws(() => fileStoreSpecOf({ ...on, dir: 'plain' }, dir), FileStoreError);
  });
});

test('storeAppFiles: request files need the request bit (or force); complete ones are written by sha256', () => {
  withDir((dir) => {
    const body = Buffer.from('uploaded bytes');
    const sha = createHash('sha256').update(body).digest('hex');
    const spec = fileStoreSpecOf({ enabled: true, dir, force: false, maxSize: 1 << 20 }, dir)!;
    const files = new FileStore(spec);
    storeAppFiles(files, putRecord(body, 2)); // a response-only mark: not this file
    assert.equal(fs.existsSync(path.join(dir, sha.slice(0, 2), sha)), false);
    assert.deepEqual(storeHttpRequestFiles(files, putRecord(body, 1)), [{ stored: true, fileId: 1, sha256: sha }]);
    assert.deepEqual(fs.readFileSync(path.join(dir, sha.slice(0, 2), sha)), body);
    // Truncated: counted, not written.
    const cut = putRecord(Buffer.from('partial'), 1);
    cut.tx.requestBodyTruncated = true;
    assert.deepEqual(storeHttpRequestFiles(files, cut), [{ stored: false }]);
    assert.equal(files.counters.skipped_truncated, 1);
  });
});
