/**
 * Runs a capture through the pipeline: inline in this thread with one worker, or sharded across
 * worker threads by a symmetric IP-pair hash (src/pipeline/shard.ts) with several. Finished flows
 * go to the run's sink (src/pipeline/sink.ts) where they end; the sink's drained output is
 * delivered to `onDrain` on this thread in either case.
 */
import { Worker } from 'node:worker_threads';
import { BATCH_PACKETS, PacketBatch } from '../capture/batch.js';
import type { CaptureReader, ReadError } from '../capture/reader.js';
import type { LoadedRules, RuleLoadReport } from '../detect/engine/load.js';
import type { EngineConfig } from './config.js';
import { PacketEngine, mergeCounters } from './engine.js';
import type { EngineCounters } from './engine.js';
import { copyBytes } from '../util/bytes.js';
import { shardHash } from './shard.js';
import { loadSink } from './sink.js';
import type { SinkSpec } from './sink.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

export interface RunOptions {
  cfg: EngineConfig;
  /** Rules already loaded in this thread (used by the inline engine; workers load their own). */
  rules?: LoadedRules;
  /** With several workers: how worker 0's ruleset loaded, as soon as it has (the workers load it). */
  onRules?: (report: RuleLoadReport) => void;
  workers: number;
  /** Stop after this many packets; 0 = no limit. */
  maxPackets: number;
  sink: SinkSpec;
  /** Receives each non-null drain() output of the sink(s). */
  onDrain: (data: unknown) => void;
  /** Called after each batch with the input position, for progress display. */
  onProgress?: (position: number, size: number, packets: number) => void;
  /**
   * The capture file `reader` reads. With several workers, each worker then reads the file itself
   * and keeps its own shard (runFileSharded); without it the reader thread copies packets to them.
   */
  file?: string;
}

export interface RunResult {
  counters: EngineCounters;
  /** finish() output of each sink (one per worker). */
  sinkResults: unknown[];
  readError: ReadError | null;
  /** True when --max-packets stopped the run before the end of the input. */
  truncatedByLimit: boolean;
  wallSeconds: number;
}

/** Packet-byte storage per worker slot; a slot is dispatched when it is full in bytes or packets. */
const SLOT_BYTES = 4 * 1024 * 1024;
/** Slots per worker: enough to keep a worker busy while the reader fills the next one. */
const SLOTS_PER_WORKER = 4;

export async function runCapture(reader: CaptureReader, opts: RunOptions): Promise<RunResult> {
  const t0 = process.hrtime.bigint();
  const limit = opts.maxPackets > 0 ? opts.maxPackets : Number.POSITIVE_INFINITY;
  const res =
    opts.workers <= 1
      ? await runInline(reader, opts, limit)
      : opts.file !== undefined
        ? await runFileSharded(reader, opts.file, opts, limit, opts.workers)
        : await runSharded(reader, opts, limit, opts.workers);
  res.wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return res;
}

async function runInline(reader: CaptureReader, opts: RunOptions, limit: number): Promise<RunResult> {
  const sink = await loadSink(opts.sink);
  const engine = new PacketEngine(opts.cfg, sink, BATCH_PACKETS, 0, opts.rules);
  const batch = new PacketBatch(BATCH_PACKETS);
  const drain = (): void => {
    const d = sink.drain();
    if (d !== null) opts.onDrain(d);
  };
  let seen = 0;
  let truncated = false;
  for (;;) {
    const n = reader.next(batch);
    if (n === 0) break;
    if (seen + n > limit) {
      batch.count = limit - seen;
      truncated = true;
    }
    engine.process(batch);
    drain();
    seen += batch.count;
    opts.onProgress?.(reader.position, reader.size, seen);
    if (truncated || seen >= limit) {
      truncated = truncated || reader.next(batch) > 0;
      break;
    }
  }
  engine.finish();
  await engine.settle();
  drain();
  return {
    counters: engine.counters(),
    sinkResults: [sink.finish()],
    readError: reader.error,
    truncatedByLimit: truncated,
    wallSeconds: 0,
  };
}

/**
 * Several workers over a capture file: each reads the whole file and keeps the packets its IP-pair
 * shard owns (the same choice the reader thread makes in runSharded), so this thread reads nothing
 * and no packet is copied between threads; a worker's packets stay in its own WebAssembly arena,
 * where the payload prefilter scans them. Reading and parsing every record twice costs less than
 * the copy and hand-over it replaces (docs/performance.md "Session 14"). `reader` only supplies the
 * file size for progress; the workers report read errors (the same in each: worker 0's is kept).
 */
async function runFileSharded(
  reader: CaptureReader,
  file: string,
  opts: RunOptions,
  limit: number,
  nWorkers: number,
): Promise<RunResult> {
  type Finished = Extract<FromWorker, { kind: 'finished' }>;
  const workers: Worker[] = [];
  const finished: Promise<Finished>[] = [];
  try {
    for (let w = 0; w < nWorkers; w++) {
      const init: WorkerInit = {
        cfg: opts.cfg,
        workerId: w,
        shards: nWorkers,
        capacity: BATCH_PACKETS,
        sink: opts.sink,
        slots: [],
        file: { path: file, limit: Number.isFinite(limit) ? limit : 0 },
      };
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
      workers.push(worker);
      finished.push(
        new Promise<Finished>((resolve, reject) => {
          worker.on('message', (msg: FromWorker) => {
            switch (msg.kind) {
              case 'error':
                reject(new Error(`pipeline worker failed: ${msg.message}`));
                return;
              case 'rules':
                opts.onRules?.(msg.report);
                return;
              case 'progress':
                opts.onProgress?.(msg.position, reader.size, msg.packets);
                return;
              case 'done':
                if (msg.data !== null) opts.onDrain(msg.data);
                return;
              case 'finished':
                if (msg.data !== null) opts.onDrain(msg.data);
                resolve(msg);
                return;
              default:
                return;
            }
          });
          worker.on('error', reject);
          // After 'finished' this is a no-op; before it, the worker died without saying why.
          worker.on('exit', (code) => reject(new Error(`pipeline worker exited (code ${code})`)));
        }),
      );
    }
    const done = await Promise.all(finished);
    return {
      counters: mergeCounters(done.map((d) => d.counters)),
      sinkResults: done.map((d) => d.result),
      readError: done[0]!.readError ?? null,
      truncatedByLimit: done[0]!.truncated ?? false,
      wallSeconds: 0,
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

interface Shard {
  worker: Worker;
  views: { data: Buffer; batch: PacketBatch }[];
  free: number[];
  /** Slot being filled, -1 when none. */
  cur: number;
  used: number;
  waiting: (() => void) | null;
  ready: Promise<void>;
  finished: Promise<{ counters: EngineCounters; result: unknown }>;
}

async function runSharded(
  reader: CaptureReader,
  opts: RunOptions,
  limit: number,
  nWorkers: number,
): Promise<RunResult> {
  const capacity = BATCH_PACKETS;
  const shards: Shard[] = [];
  let failure: Error | null = null;
  for (let w = 0; w < nWorkers; w++) {
    const slots: WorkerInit['slots'] = [];
    for (let s = 0; s < SLOTS_PER_WORKER; s++) {
      slots.push({
        data: new SharedArrayBuffer(SLOT_BYTES),
        columns: new SharedArrayBuffer(PacketBatch.columnBytes(capacity)),
      });
    }
    const init: WorkerInit = { cfg: opts.cfg, workerId: w, shards: nWorkers, capacity, sink: opts.sink, slots };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
    let onReady: () => void = () => undefined;
    const shard: Shard = {
      worker,
      views: slots.map((s) => {
        const data = Buffer.from(s.data);
        return { data, batch: new PacketBatch(capacity, data, s.columns) };
      }),
      free: slots.map((_, i) => i),
      cur: -1,
      used: 0,
      waiting: null,
      ready: new Promise<void>((r) => (onReady = r)),
      finished: Promise.resolve({ counters: null as unknown as EngineCounters, result: null }),
    };
    shard.finished = new Promise((resolve, reject) => {
      const die = (e: Error): void => {
        failure = e;
        reject(e);
        onReady();
        const wake = shard.waiting;
        shard.waiting = null;
        wake?.();
      };
      worker.on('message', (msg: FromWorker) => {
        if (msg.kind === 'ready') {
          onReady();
          return;
        }
        if (msg.kind === 'error') {
          die(new Error(`pipeline worker failed: ${msg.message}`));
          return;
        }
        if (msg.kind === 'rules') {
          opts.onRules?.(msg.report);
          return;
        }
        if (msg.kind === 'progress') return; // file mode only
        if (msg.data !== null) opts.onDrain(msg.data);
        if (msg.kind === 'done') {
          shard.free.push(msg.slot);
          const wake = shard.waiting;
          shard.waiting = null;
          wake?.();
        } else {
          resolve({ counters: msg.counters, result: msg.result });
        }
      });
      worker.on('error', die);
    });
    shard.finished.catch(() => undefined);
    shards.push(shard);
  }

  const dispatch = (sh: Shard): void => {
    if (sh.cur < 0) return;
    const b = sh.views[sh.cur]!.batch;
    const msg: ToWorker = { kind: 'batch', slot: sh.cur, count: b.count };
    sh.worker.postMessage(msg);
    sh.cur = -1;
  };
  const acquire = async (sh: Shard): Promise<void> => {
    while (sh.free.length === 0) {
      if (failure) throw failure;
      await new Promise<void>((r) => (sh.waiting = r));
    }
    if (failure) throw failure;
    sh.cur = sh.free.shift()!;
    sh.views[sh.cur]!.batch.count = 0;
    sh.used = 0;
  };

  try {
    await Promise.all(shards.map((s) => s.ready));
    if (failure) throw failure;
    const batch = new PacketBatch(capacity);
    let seen = 0;
    let truncated = false;
    outer: for (;;) {
      const n = reader.next(batch);
      if (n === 0) break;
      const buf = batch.buf;
      for (let i = 0; i < n; i++) {
        if (seen >= limit) {
          truncated = true;
          break outer;
        }
        const off = batch.off[i]!;
        // A record larger than a slot (possible only in pcapng) is cut to the slot size.
        const len = Math.min(batch.capLen[i]!, SLOT_BYTES);
        const sh = shards[shardHash(buf, off, len, batch.linkType[i]!) % nWorkers]!;
        if (sh.cur < 0) await acquire(sh);
        let view = sh.views[sh.cur]!;
        if (view.batch.count === capacity || sh.used + len > SLOT_BYTES) {
          dispatch(sh);
          await acquire(sh);
          view = sh.views[sh.cur]!;
        }
        const dst = view.batch;
        const j = dst.count++;
        copyBytes(buf, off, len, view.data, sh.used);
        dst.off[j] = sh.used;
        dst.capLen[j] = len;
        dst.origLen[j] = batch.origLen[i]!;
        dst.tsUs[j] = batch.tsUs[i]!;
        dst.linkType[j] = batch.linkType[i]!;
        dst.ifIndex[j] = batch.ifIndex[i]!;
        sh.used += len;
        seen++;
      }
      opts.onProgress?.(reader.position, reader.size, seen);
    }
    if (!truncated && seen >= limit && limit !== Number.POSITIVE_INFINITY) truncated = reader.next(batch) > 0;
    for (const sh of shards) {
      dispatch(sh);
      const fin: ToWorker = { kind: 'finish' };
      sh.worker.postMessage(fin);
    }
    const done = await Promise.all(shards.map((s) => s.finished));
    return {
      counters: mergeCounters(done.map((d) => d.counters)),
      sinkResults: done.map((d) => d.result),
      readError: reader.error,
      truncatedByLimit: truncated,
      wallSeconds: 0,
    };
  } finally {
    await Promise.all(shards.map((s) => s.worker.terminate()));
  }
}
