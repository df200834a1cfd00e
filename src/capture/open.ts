/**
 * Opening captures: detect pcap or pcapng by magic number and return a streaming reader over a
 * file (bounded memory: one reusable read buffer) or over an in-memory buffer (zero-copy).
 */
import * as fs from 'node:fs';
import type { CaptureReader } from './reader.js';
import { CaptureError } from './errors.js';
import { PcapReader, isPcapMagic } from './pcap.js';
import { PcapngReader, PCAPNG_BLOCK } from './pcapng.js';
import { ByteWindow, DEFAULT_BUFFER_SIZE } from './source.js';

export interface OpenCaptureOptions {
  /** Read buffer size in bytes (default 4 MiB, clamped to [64 B, 64 MiB]); it grows to fit one oversized record. */
  bufferSize?: number;
}

/** Which reader a capture's first bytes call for. */
export type CaptureFormat = 'pcap' | 'pcapng';

/**
 * Detect the format from the first bytes of a capture. Throws `CaptureError`
 * (`VIGIL_CAPTURE_EMPTY` for no bytes, `VIGIL_CAPTURE_UNKNOWN_FORMAT` otherwise) when it is neither.
 */
export function detectCaptureFormat(head: Buffer, length: number = head.length): CaptureFormat {
  if (length === 0) throw new CaptureError('VIGIL_CAPTURE_EMPTY', 'capture is empty (0 bytes)');
  if (length < 4) {
    throw new CaptureError('VIGIL_CAPTURE_UNKNOWN_FORMAT', `capture too short to hold a header (${length} bytes)`);
  }
  const magic = head.readUInt32LE(0);
  if (isPcapMagic(magic)) return 'pcap';
  if (magic === PCAPNG_BLOCK.SHB) return 'pcapng';
  if (head[0] === 0x1f && head[1] === 0x8b) {
    throw new CaptureError('VIGIL_CAPTURE_UNKNOWN_FORMAT', 'compressed (gzip) capture: decompress it first');
  }
  const hex = head.subarray(0, 4).toString('hex');
  throw new CaptureError('VIGIL_CAPTURE_UNKNOWN_FORMAT', `not a pcap or pcapng capture (magic ${hex})`);
}

function readerFor(format: CaptureFormat, win: ByteWindow): CaptureReader {
  return format === 'pcap' ? new PcapReader(win) : new PcapngReader(win);
}

/**
 * Open a pcap or pcapng file for streaming. Throws `CaptureError` with a one-line message:
 * `VIGIL_CAPTURE_NOT_FOUND`, `VIGIL_CAPTURE_UNREADABLE` (permissions, a directory, not a regular
 * file), `VIGIL_CAPTURE_EMPTY`, `VIGIL_CAPTURE_UNKNOWN_FORMAT` (including a truncated file header).
 */
export function openCaptureFile(path: string, opts: OpenCaptureOptions = {}): CaptureReader {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new CaptureError('VIGIL_CAPTURE_NOT_FOUND', `capture file not found: ${path}`);
    }
    throw new CaptureError('VIGIL_CAPTURE_UNREADABLE', `cannot open capture file ${path}: ${code ?? String(e)}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      throw new CaptureError(
        'VIGIL_CAPTURE_UNREADABLE',
        `not a regular file: ${path}${st.isDirectory() ? ' (a directory)' : ''}`,
      );
    }
    const head = Buffer.alloc(4);
    let got: number;
    try {
      got = fs.readSync(fd, head, 0, 4, 0);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CaptureError('VIGIL_CAPTURE_UNREADABLE', `cannot read capture file ${path}: ${code ?? String(e)}`);
    }
    let format: CaptureFormat;
    try {
      format = detectCaptureFormat(head, got);
    } catch (e) {
      if (e instanceof CaptureError) throw new CaptureError(e.code, `${path}: ${e.message}`);
      throw e;
    }
    const win = ByteWindow.fromFd(fd, st.size, opts.bufferSize ?? DEFAULT_BUFFER_SIZE);
    try {
      return readerFor(format, win);
    } catch (e) {
      if (e instanceof CaptureError) throw new CaptureError(e.code, `${path}: ${e.message}`);
      throw e;
    }
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/**
 * A reader over a whole capture held in memory (API uploads, tests). Packets are handed out as
 * offsets into `buf` itself, which must not change while the reader is in use. Throws
 * `CaptureError` like {@link openCaptureFile}.
 */
export function openCaptureBuffer(buf: Buffer): CaptureReader {
  return readerFor(detectCaptureFormat(buf), ByteWindow.fromBuffer(buf));
}
