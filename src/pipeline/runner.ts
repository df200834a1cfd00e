/**
 * Runs a capture through the pipeline: inline in this thread with one worker, or sharded across
 * worker threads by a symmetric IP-pair hash (src/pipeline/shard.ts) with several. Finished flow
 * records are delivered to `onFlow` on this thread in either case.
 */
import { Worker } from 'node:worker_threads';
import { BATCH_PACKETS, PacketBatch } from '../capture/batch.js';
import type { CaptureReader, ReadError } from '../capture/reader.js';
import type { FlowRecord } from '../flow/table.js';
import type { EngineConfig } from './config.js';
import { PacketEngine, mergeCounters } from './engine.js';
import type { EngineCounters } from './engine.js';
import { shardHash } from './shard.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

export interface RunOptions {
  cfg: EngineConfig;
  workers: number;
  /** Stop after this many packets; 0 = no limit. */
  maxPackets: number;
  onFlow: (rec: FlowRecord) => void;
  /** Called after each batch with the input position, for progress display. */
  onProgress?: (position: number, size: number, packets: number) => void;
}

export interface RunResult {
  counters: EngineCounters;
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
  const res = opts.workers <= 1 ? runInline(reader, opts, limit) : await runSharded(reader, opts, limit, opts.workers);
  res.wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return res;
}

function runInline(reader: CaptureReader, opts: RunOptions, limit: number): RunResult {
  const engine = new PacketEngine(opts.cfg, opts.onFlow, BATCH_PACKETS);
  const batch = new PacketBatch(BATCH_PACKETS);
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
    seen += batch.count;
    opts.onProgress?.(reader.position, reader.size, seen);
    if (truncated || seen >= limit) {
      truncated = truncated || reader.next(batch) > 0;
      break;
    }
  }
  engine.finish();
  return { counters: engine.counters(), readError: reader.error, truncatedByLimit: truncated, wallSeconds: 0 };
}

interface Shard {
  worker: Worker;
  init: WorkerInit;
  views: { data: Buffer; batch: PacketBatch }[];
  free: number[];
  /** Slot being filled, -1 when none. */
  cur: number;
  used: number;
  waiting: (() => void) | null;
  finished: Promise<EngineCounters>;
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
    const init: WorkerInit = { cfg: opts.cfg, workerId: w, capacity, slots };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
    const shard: Shard = {
      worker,
      init,
      views: slots.map((s) => {
        const data = Buffer.from(s.data);
        return { data, batch: new PacketBatch(capacity, data, s.columns) };
      }),
      free: slots.map((_, i) => i),
      cur: -1,
      used: 0,
      waiting: null,
      finished: Promise.resolve(null as unknown as EngineCounters),
    };
    shard.finished = new Promise<EngineCounters>((resolve, reject) => {
      worker.on('message', (msg: FromWorker) => {
        if (msg.kind === 'error') {
          failure = new Error(`pipeline worker failed: ${msg.message}`);
          reject(failure);
          shard.waiting?.();
          return;
        }
        for (let i = 0; i < msg.flows.length; i++) opts.onFlow(msg.flows[i]!);
        if (msg.kind === 'done') {
          shard.free.push(msg.slot);
          const wake = shard.waiting;
          shard.waiting = null;
          wake?.();
        } else {
          resolve(msg.counters);
        }
      });
      worker.on('error', (e) => {
        failure = e;
        reject(e);
        shard.waiting?.();
      });
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
    sh.cur = sh.free.shift()!;
    sh.views[sh.cur]!.batch.count = 0;
    sh.used = 0;
  };

  const batch = new PacketBatch(capacity);
  let seen = 0;
  let truncated = false;
  try {
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
        buf.copy(view.data, sh.used, off, off + len);
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
    const counters = await Promise.all(shards.map((s) => s.finished));
    return {
      counters: mergeCounters(counters),
      readError: reader.error,
      truncatedByLimit: truncated,
      wallSeconds: 0,
    };
  } finally {
    await Promise.all(shards.map((s) => s.worker.terminate()));
  }
}
