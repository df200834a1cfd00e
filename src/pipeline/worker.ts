/**
 * Worker-thread entry: runs a PacketEngine over batches the reader thread copies into shared
 * slots; finished flows go to the run's sink here, and only its drained output is sent back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PacketBatch } from '../capture/batch.js';
import { PacketEngine } from './engine.js';
import { loadSink } from './sink.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');

const fail = (e: unknown): void =>
  port.postMessage({ kind: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });

try {
  const sink = await loadSink(init.sink);
  const engine = new PacketEngine(init.cfg, sink, init.capacity, init.workerId, undefined, init.shards);
  const batches = init.slots.map((s) => new PacketBatch(init.capacity, Buffer.from(s.data), s.columns));
  port.on('message', async (msg: ToWorker) => {
    try {
      if (msg.kind === 'batch') {
        const b = batches[msg.slot]!;
        b.count = msg.count;
        engine.process(b);
        const out: FromWorker = { kind: 'done', slot: msg.slot, data: sink.drain() };
        port.postMessage(out);
      } else {
        engine.finish();
        await engine.settle();
        const data = sink.drain();
        const out: FromWorker = { kind: 'finished', data, result: sink.finish(), counters: engine.counters() };
        port.postMessage(out);
      }
    } catch (e) {
      // Decoders never throw on bad packets; this is an internal fault, reported rather than hidden.
      fail(e);
    }
  });
  const ready: FromWorker = { kind: 'ready' };
  port.postMessage(ready);
} catch (e) {
  fail(e);
}
