/**
 * Worker-thread pool for tree trainers: trees are independent (a forest's trees; the per-class trees
 * of one boosting iteration), so each worker builds whole trees from shared (SharedArrayBuffer)
 * training data and hands them back. Tasks go out one at a time to whichever worker is free, and a
 * tree depends only on its task (a forest tree seeds its RNG from (seed, tree index)), so the
 * result is the same for any number of threads.
 */
import { Worker } from 'node:worker_threads';
import os from 'node:os';

/** What a worker sends back per task: the task index and the typed arrays it built. */
export interface TaskResult {
  task: number;
  [key: string]: unknown;
}

/** Threads to use: `requested` when > 0, else the cores Node reports (at least 1). */
export function threadCount(requested: number): number {
  if (requested > 0) return Math.floor(requested);
  return Math.max(1, os.availableParallelism());
}

/** Builds one task's result on the calling thread (same code as the workers run). */
export type LocalBuilder = (task: number) => TaskResult;

/** Tasks queued per worker: the next one is waiting when a worker finishes, even while the
 * calling thread is busy building its own tree and cannot answer at once. */
const IN_FLIGHT = 2;

/**
 * `threads - 1` workers started once with `data` (the worker entry, tree-worker.ts, dispatches on
 * `data.kind`) plus the calling thread, reused for several batches of tasks (boosting runs one
 * batch per iteration). The calling thread takes tasks from the same queue, so it is not idle and
 * one worker start-up (and its JIT warm-up) is saved.
 */
export class TreePool {
  private readonly workers: Worker[] = [];
  private failure: Error | null = null;
  private results: TaskResult[] = [];
  private next = 0;
  private count = 0;
  private done = 0;
  private onDone: ((done: number) => void) | undefined;
  private wake: (() => void) | null = null;

  constructor(
    data: Record<string, unknown>,
    threads: number,
    private readonly local: LocalBuilder,
  ) {
    for (let k = 0; k < threads - 1; k++) {
      const w = new Worker(new URL('./tree-worker.js', import.meta.url), { workerData: data });
      this.workers.push(w);
      w.on('message', (msg: TaskResult) => this.received(w, msg));
      w.on('error', (err) => this.failed(err));
      w.on('exit', (code) => {
        if (code !== 0) this.failed(new Error(`tree worker exited with code ${code}`));
      });
    }
  }

  /** Run tasks 0..count-1; resolves with their results in task order. */
  async run(count: number, onDone?: (done: number) => void): Promise<TaskResult[]> {
    if (this.failure !== null) throw this.failure;
    this.results = new Array<TaskResult>(count);
    this.next = 0;
    this.count = count;
    this.done = 0;
    this.onDone = onDone;
    for (const w of this.workers) for (let q = 0; q < IN_FLIGHT; q++) this.feed(w);
    while (this.next < this.count) {
      const task = this.next++;
      this.record(this.local(task));
      // Let worker results (and their next tasks) through between local trees.
      await new Promise<void>((r) => setImmediate(r));
      if (this.failure !== null) throw this.failure;
    }
    while (this.done < this.count) {
      await new Promise<void>((r) => (this.wake = r));
      if (this.failure !== null) throw this.failure;
    }
    return this.results;
  }

  /** Stop the workers. */
  async close(): Promise<void> {
    const ws = this.workers.splice(0);
    for (const w of ws) w.removeAllListeners('exit');
    await Promise.all(ws.map((w) => w.terminate()));
  }

  private feed(w: Worker): void {
    if (this.next < this.count) w.postMessage({ task: this.next++ });
  }

  private record(r: TaskResult): void {
    this.results[r.task] = r;
    this.done++;
    this.onDone?.(this.done);
    if (this.done === this.count) this.release();
  }

  private release(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private received(w: Worker, msg: TaskResult): void {
    this.record(msg);
    this.feed(w);
  }

  private failed(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.release();
  }
}

/** Run `count` tasks on the calling thread and `threads - 1` workers started for this batch. */
export async function runTreeTasks(
  data: Record<string, unknown>,
  count: number,
  threads: number,
  local: LocalBuilder,
  onDone?: (done: number) => void,
): Promise<TaskResult[]> {
  const pool = new TreePool(data, Math.min(threads, count), local);
  try {
    return await pool.run(count, onDone);
  } finally {
    await pool.close();
  }
}

/** Copy a typed array into shared memory, so workers read it without a copy each. */
export function shared<T extends Uint8Array | Int32Array | Float64Array>(a: T): T {
  const ctor = a.constructor as { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };
  const out = new ctor(new SharedArrayBuffer(a.length * ctor.BYTES_PER_ELEMENT));
  out.set(a);
  return out;
}
