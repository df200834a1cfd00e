/**
 * Batches writes to the store (DESIGN.md: "Writes are batched; a crash loses at most the last
 * batch"): items are queued and written in one transaction when `maxBatch` are waiting or
 * `intervalMs` after the first one, whichever comes first. `close()` writes what is pending.
 *
 * Bounded: beyond `maxPending` queued items (the database is down or too slow) the oldest are
 * dropped and counted in `dropped`. A failed write is counted in `errors` (the batch is lost, as a
 * crash would lose it) and reported to `onError`; writing continues with the next batch.
 */

export interface BatchWriterOptions<T, R> {
  write: (items: T[]) => Promise<R>;
  /** Called after each successful write, with the items and the write's result. */
  onWritten?: (items: T[], result: R) => void;
  onError?: (e: unknown, items: T[]) => void;
  /** Items per write (default 1000). */
  maxBatch?: number;
  /** Longest wait before a partial batch is written, ms (default 250: live alerts appear within it). */
  intervalMs?: number;
  /** Queued items kept at most (default 100,000). */
  maxPending?: number;
}

export class BatchWriter<T, R = unknown> {
  private queue: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The write in progress (writes never overlap, so batches commit in arrival order). */
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly maxBatch: number;
  private readonly intervalMs: number;
  private readonly maxPending: number;
  written = 0;
  dropped = 0;
  errors = 0;

  constructor(private readonly opts: BatchWriterOptions<T, R>) {
    this.maxBatch = Math.max(1, opts.maxBatch ?? 1000);
    this.intervalMs = Math.max(0, opts.intervalMs ?? 250);
    this.maxPending = Math.max(this.maxBatch, opts.maxPending ?? 100_000);
  }

  get pending(): number {
    return this.queue.length;
  }

  push(item: T): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    this.queue.push(item);
    if (this.queue.length > this.maxPending) {
      const over = this.queue.length - this.maxPending;
      this.queue.splice(0, over);
      this.dropped += over;
    }
    if (this.queue.length >= this.maxBatch) this.kick();
    else if (this.timer === null) this.timer = setTimeout(() => this.kick(), this.intervalMs);
  }

  /** Write everything queued so far; resolves when it is committed (or failed and counted). */
  async flush(): Promise<void> {
    for (;;) {
      if (this.running !== null) await this.running;
      else if (this.queue.length > 0) this.kick();
      else return;
    }
  }

  /** Stop accepting items and write the pending ones. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private kick(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.running !== null || this.queue.length === 0) return;
    const items = this.queue.splice(0, this.maxBatch);
    this.running = this.opts
      .write(items)
      .then(
        (r) => {
          this.written += items.length;
          try {
            this.opts.onWritten?.(items, r);
          } catch (e) {
            // A failing listener must not stop the writer; it is counted and reported like a write error.
            this.errors++;
            this.opts.onError?.(e, items);
          }
        },
        (e: unknown) => {
          this.errors++;
          this.opts.onError?.(e, items);
        },
      )
      .finally(() => {
        this.running = null;
        if (this.queue.length >= this.maxBatch) this.kick();
        else if (this.queue.length > 0 && this.timer === null && !this.closed)
          this.timer = setTimeout(() => this.kick(), this.intervalMs);
      });
  }
}
