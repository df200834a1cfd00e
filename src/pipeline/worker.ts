/**
 * Worker-thread entry: runs a PacketEngine over batches the reader thread copies into shared
 * slots, and sends finished flow records back with each acknowledgement.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PacketBatch } from '../capture/batch.js';
import type { FlowRecord } from '../flow/table.js';
import { PacketEngine } from './engine.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');

let pending: FlowRecord[] = [];
const engine = new PacketEngine(init.cfg, (rec) => pending.push(rec), init.capacity, init.workerId);
const batches = init.slots.map((s) => new PacketBatch(init.capacity, Buffer.from(s.data), s.columns));

port.on('message', (msg: ToWorker) => {
  try {
    if (msg.kind === 'batch') {
      const b = batches[msg.slot]!;
      b.count = msg.count;
      engine.process(b);
      const out: FromWorker = { kind: 'done', slot: msg.slot, flows: pending };
      pending = [];
      port.postMessage(out);
    } else {
      engine.finish();
      const out: FromWorker = { kind: 'finished', flows: pending, counters: engine.counters() };
      pending = [];
      port.postMessage(out);
    }
  } catch (e) {
    // Decoders never throw on bad packets; this is an internal fault, reported rather than hidden.
    port.postMessage({ kind: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
