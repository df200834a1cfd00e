/**
 * A sliding window over the bytes of a capture, from a file descriptor or an in-memory buffer.
 *
 * Readers parse `buf[start, end)`; `base` is the input offset of `buf[0]`. For a file the window is
 * a reusable buffer refilled with positioned reads, so memory stays bounded whatever the file size;
 * for an in-memory input the window is the caller's buffer itself (never written to).
 *
 * Refilling moves the unread tail to the front of the buffer, which invalidates offsets handed out
 * earlier: readers call {@link ByteWindow.fill} only before they put the first packet in a batch.
 */
import * as fs from 'node:fs';
import { arenaBuffer } from '../util/wasm-arena.js';

/** Default read buffer: a batch of full-size Ethernet frames fits several times over. */
export const DEFAULT_BUFFER_SIZE = 4 * 1024 * 1024;
/** Smallest read buffer accepted (tests use small buffers to split records across refills). */
export const MIN_BUFFER_SIZE = 64;
/**
 * The read buffer grows to hold one oversized record or block, up to this size; a record that
 * claims more is treated as corruption (no real link carries 64 MiB frames).
 */
export const MAX_BUFFER_SIZE = 64 * 1024 * 1024;

export class ByteWindow {
  /** Bytes of the window; replaced when it grows. */
  buf: Buffer;
  /** A DataView over `buf` (header fields are read through it: fastest in the capture micro bench). */
  view: DataView;
  /** First unread byte in `buf`. */
  start = 0;
  /** End of valid bytes in `buf`. */
  end: number;
  /** Input offset of `buf[0]`. */
  base = 0;
  /** Input size in bytes (-1 when unknown). */
  readonly size: number;
  /** Set when a read failed; the input is treated as ending there. */
  ioError: string | null = null;
  private fd: number;
  private readonly fromFile: boolean;
  /** Hands `buf` back to the WebAssembly arena when it came from there (see fromFd). */
  private release: () => void;

  private constructor(buf: Buffer, end: number, fd: number, size: number, release: () => void = () => {}) {
    this.buf = buf;
    this.release = release;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.end = end;
    this.fd = fd;
    this.fromFile = fd >= 0;
    this.size = size;
  }

  /** A window over an open file descriptor (the window owns it and closes it in `close`). */
  static fromFd(fd: number, size: number, bufferSize: number = DEFAULT_BUFFER_SIZE): ByteWindow {
    const n = Math.min(MAX_BUFFER_SIZE, Math.max(MIN_BUFFER_SIZE, Math.floor(bufferSize)));
    // In the WebAssembly arena, so the payload prefilter scans the packets in place (no copy).
    const { buf, release } = arenaBuffer(n);
    return new ByteWindow(buf, 0, fd, size, release);
  }

  /** A window over a whole in-memory input (zero-copy). */
  static fromBuffer(buf: Buffer): ByteWindow {
    return new ByteWindow(buf, buf.length, -1, buf.length);
  }

  /** Input offset of the first unread byte. */
  get position(): number {
    return this.base + this.start;
  }

  /**
   * Make at least `need` unread bytes available (`need` <= MAX_BUFFER_SIZE), reading more input
   * and moving the unread tail to the front. Returns the bytes available, less than `need` only
   * at the end of input (or after a read error, see `ioError`).
   */
  fill(need: number): number {
    if (!this.fromFile || this.fd < 0) return this.end - this.start;
    if (this.start > 0) {
      if (this.end > this.start) this.buf.copyWithin(0, this.start, this.end);
      this.base += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    if (need > this.buf.length) {
      let len = this.buf.length * 2;
      while (len < need) len *= 2;
      const grown = Buffer.allocUnsafe(Math.min(len, MAX_BUFFER_SIZE));
      this.buf.copy(grown, 0, 0, this.end);
      this.release();
      this.release = () => {};
      this.buf = grown;
      this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
    }
    while (this.end < need && this.ioError === null) {
      let n: number;
      try {
        n = fs.readSync(this.fd, this.buf, this.end, this.buf.length - this.end, this.base + this.end);
      } catch (e) {
        this.ioError = `read failed: ${e instanceof Error ? e.message : String(e)}`;
        break;
      }
      if (n <= 0) break;
      this.end += n;
    }
    return this.end - this.start;
  }

  /**
   * Advance past `len` unread bytes, some of which may not have been read yet (large blocks the
   * reader does not parse are skipped without buffering them). Returns false when the input ends
   * first (nothing is consumed then).
   */
  skip(len: number): boolean {
    if (len <= this.end - this.start) {
      this.start += len;
      return true;
    }
    if (!this.fromFile) return false;
    const target = this.base + this.start + len;
    if (this.size >= 0 && target > this.size) return false;
    this.base = target;
    this.start = 0;
    this.end = 0;
    return true;
  }

  /**
   * Copy `dst.length` bytes starting `rel` bytes after the first unread byte into `dst`, reading
   * them from the file if they are not buffered (used for the trailer of a block that is skipped
   * unbuffered). Returns false when the input does not hold them.
   */
  peek(rel: number, dst: Buffer): boolean {
    const from = this.start + rel;
    if (from + dst.length <= this.end) {
      this.buf.copy(dst, 0, from, from + dst.length);
      return true;
    }
    if (!this.fromFile || this.fd < 0) return false;
    try {
      return fs.readSync(this.fd, dst, 0, dst.length, this.base + from) === dst.length;
    } catch (e) {
      this.ioError = `read failed: ${e instanceof Error ? e.message : String(e)}`;
      return false;
    }
  }

  /** Release the file descriptor (idempotent). */
  close(): void {
    if (this.fd >= 0) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // Closing a descriptor we opened can only fail if it is already gone: nothing to do.
      }
      this.fd = -1;
    }
    this.release();
    this.start = 0;
    this.end = 0;
  }
}
