import type { PacketBatch } from './batch.js';

/** Where and why a capture stopped being readable. `offset` is the byte offset in the file. */
export interface ReadError {
  offset: number;
  reason: string;
}

/**
 * A streaming capture reader. Memory is bounded by its read buffer, whatever the file size.
 * `next` never throws: on a truncated or corrupt file it returns the packets it could read,
 * then 0, and sets `error`.
 */
export interface CaptureReader {
  readonly format: 'pcap' | 'pcapng';
  /**
   * Fill `batch` with up to `batch.capacity` packets (sets `batch.count`, and `batch.buf` may be
   * replaced by the reader's own buffer). Returns the number of packets; 0 at end of input.
   * The batch contents are valid until the next call.
   */
  next(batch: PacketBatch): number;
  /** Set once the reader hit a problem it cannot read past. */
  readonly error: ReadError | null;
  /** Bytes of input consumed so far (for progress). */
  readonly position: number;
  /** Total input size in bytes when known (files), else -1. */
  readonly size: number;
  close(): void;
}
