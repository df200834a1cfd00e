import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchWriter } from './batch-writer.js';

/** A write function whose calls complete when the test says so. */
function gatedWriter() {
  const calls: { items: number[]; done: () => void; fail: (e: Error) => void }[] = [];
  const write = (items: number[]): Promise<number> =>
    new Promise((resolve, reject) => {
      calls.push({ items, done: () => resolve(items.length), fail: reject });
    });
  return { calls, write };
}

test('a full batch is written at once; writes never overlap and keep arrival order', async () => {
  const g = gatedWriter();
  const written: number[][] = [];
  const w = new BatchWriter<number, number>({
    write: g.write,
    onWritten: (items) => written.push(items),
    maxBatch: 3,
    intervalMs: 60_000,
  });
  for (let i = 0; i < 7; i++) w.push(i);
  // One write in flight (the first 3); the rest wait for it.
  assert.deepEqual(
    g.calls.map((c) => c.items),
    [[0, 1, 2]],
  );
  assert.equal(w.pending, 4);
  g.calls[0]!.done();
  await new Promise<void>((r) => setImmediate(r));
  assert.deepEqual(
    g.calls.map((c) => c.items),
    [
      [0, 1, 2],
      [3, 4, 5],
    ],
  );
  const closing = w.close();
  g.calls[1]!.done();
  await new Promise<void>((r) => setImmediate(r));
  g.calls[2]!.done();
  await closing;
  assert.deepEqual(written, [[0, 1, 2], [3, 4, 5], [6]]);
  assert.deepEqual([w.written, w.pending, w.errors, w.dropped], [7, 0, 0, 0]);
  w.push(99);
  assert.equal(w.dropped, 1, 'nothing is accepted after close');
});

test('a partial batch is written after the interval', async () => {
  let resolveWrite!: (items: string[]) => void;
  const wrote = new Promise<string[]>((r) => (resolveWrite = r));
  const w = new BatchWriter<string>({
    write: (items) => {
      resolveWrite(items);
      return Promise.resolve();
    },
    maxBatch: 100,
    intervalMs: 5,
  });
  w.push('a');
  w.push('b');
  assert.deepEqual(await wrote, ['a', 'b']);
  await w.close();
});

test('failures are counted and reported, the queue is bounded, writing goes on', async () => {
  const g = gatedWriter();
  const errors: unknown[] = [];
  const w = new BatchWriter<number, number>({
    write: g.write,
    onError: (e) => errors.push(e),
    maxBatch: 2,
    maxPending: 4,
    intervalMs: 60_000,
  });
  for (let i = 0; i < 8; i++) w.push(i);
  // [0,1] in flight; 2..7 queued, bounded to the newest 4.
  assert.deepEqual([w.pending, w.dropped], [4, 2]);
  g.calls[0]!.fail(new Error('database is down'));
  await new Promise<void>((r) => setImmediate(r));
  assert.equal(w.errors, 1);
  assert.match(String(errors[0]), /database is down/);
  assert.deepEqual(g.calls[1]!.items, [4, 5]);
  const f = w.flush();
  g.calls[1]!.done();
  await new Promise<void>((r) => setImmediate(r));
  g.calls[2]!.done();
  await f;
  assert.deepEqual([w.written, w.pending], [4, 0]);
});
