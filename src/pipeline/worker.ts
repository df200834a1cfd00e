/**
 * Worker-thread entry: runs a PacketEngine over batches the reader thread copies into shared
 * slots, or, for a capture file, over its own shard of the packets it reads from the file itself;
 * finished flows go to the run's sink here, and only its drained output is sent back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PacketBatch } from '../capture/batch.js';
import { openCaptureFile } from '../capture/open.js';
import { PacketEngine } from './engine.js';
import { shardHash } from './shard.js';
import { loadSink } from './sink.js';
import type { FlowSink } from './sink.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');

const fail = (e: unknown): void =>
  port.postMessage({ kind: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });

/** Batches between two progress messages of worker 0 (about 16 k packets). */
const PROGRESS_EVERY = 16;

/**
 * File mode: read the whole capture, keep the packets whose IP-pair hash picks this worker (the
 * reader thread's choice in slot mode, so shards hold the same flows), and process them where the
 * reader put them — no copy, and the payload prefilter scans them in this thread's WebAssembly
 * arena. Each kept packet carries its number in the capture (alerts' pcap_cnt).
 */
async function runFile(file: { path: string; limit: number }, engine: PacketEngine, sink: FlowSink): Promise<void> {
  const reader = openCaptureFile(file.path);
  try {
    const batch = new PacketBatch(init.capacity);
    const numbers = new Float64Array(init.capacity);
    const limit = file.limit > 0 ? file.limit : Number.POSITIVE_INFINITY;
    const { workerId, shards } = init;
    let seen = 0;
    let truncated = false;
    let batches = 0;
    for (;;) {
      const n = reader.next(batch);
      if (n === 0) break;
      let take = n;
      if (seen + n > limit) {
        take = limit - seen;
        truncated = true;
      }
      const buf = batch.buf;
      let k = 0;
      for (let i = 0; i < take; i++) {
        const off = batch.off[i]!;
        const len = batch.capLen[i]!;
        if (shardHash(buf, off, len, batch.linkType[i]!) % shards !== workerId) continue;
        // Compacted in place (k <= i): the bytes stay where the reader put them.
        batch.off[k] = off;
        batch.capLen[k] = len;
        batch.origLen[k] = batch.origLen[i]!;
        batch.tsUs[k] = batch.tsUs[i]!;
        batch.linkType[k] = batch.linkType[i]!;
        batch.ifIndex[k] = batch.ifIndex[i]!;
        numbers[k] = seen + i + 1;
        k++;
      }
      seen += take;
      batch.count = k;
      if (k > 0) engine.process(batch, numbers);
      const data = sink.drain();
      if (data !== null) port!.postMessage({ kind: 'done', slot: -1, data } satisfies FromWorker);
      if (workerId === 0 && ++batches % PROGRESS_EVERY === 0)
        port!.postMessage({ kind: 'progress', position: reader.position, packets: seen } satisfies FromWorker);
      if (truncated || seen >= limit) {
        truncated = truncated || reader.next(batch) > 0;
        break;
      }
    }
    engine.finish();
    await engine.settle();
    const out: FromWorker = {
      kind: 'finished',
      data: sink.drain(),
      result: sink.finish(),
      counters: engine.counters(),
      readError: reader.error,
      truncated,
    };
    port!.postMessage(out);
  } finally {
    reader.close();
  }
}

try {
  const sink = await loadSink(init.sink);
  const engine = new PacketEngine(init.cfg, sink, init.capacity, init.workerId, undefined, init.shards);
  if (init.workerId === 0 && engine.ruleLoad !== null)
    port.postMessage({ kind: 'rules', report: engine.ruleLoad } satisfies FromWorker);
  if (init.file !== undefined) await runFile(init.file, engine, sink);
  const batches = init.slots.map((s) => new PacketBatch(init.capacity, Buffer.from(s.data), s.columns));
  if (init.file === undefined) slotMode(engine, sink, batches);
} catch (e) {
  fail(e);
}

/** Slot mode: batches the reader thread copied into the shared slots, one message each. */
function slotMode(engine: PacketEngine, sink: FlowSink, batches: PacketBatch[]): void {
  port!.on('message', async (msg: ToWorker) => {
    try {
      if (msg.kind === 'batch') {
        const b = batches[msg.slot]!;
        b.count = msg.count;
        engine.process(b);
        const out: FromWorker = { kind: 'done', slot: msg.slot, data: sink.drain() };
        port!.postMessage(out);
      } else {
        engine.finish();
        await engine.settle();
        const data = sink.drain();
        const out: FromWorker = { kind: 'finished', data, result: sink.finish(), counters: engine.counters() };
        port!.postMessage(out);
      }
    } catch (e) {
      // Decoders never throw on bad packets; this is an internal fault, reported rather than hidden.
      fail(e);
    }
  });
  const ready: FromWorker = { kind: 'ready' };
  port!.postMessage(ready);
}
