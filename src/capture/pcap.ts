/**
 * Classic pcap reader (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/), streaming over a
 * {@link ByteWindow}. File header: magic(4) version(2+2) thiszone(4) sigfigs(4) snaplen(4)
 * linktype(4); record header: ts_sec(4) ts_usec_or_nsec(4) caplen(4) origlen(4), then caplen bytes.
 * Both byte orders, µs and ns timestamps, and Kuznetzov's "modified" pcap (24-byte record headers).
 */
import type { PacketBatch } from './batch.js';
import type { CaptureReader, ReadError } from './reader.js';
import { CaptureError } from './errors.js';
import { MAX_BUFFER_SIZE, type ByteWindow } from './source.js';

/** Magic numbers as read little-endian from the first four bytes. */
export const PCAP_MAGIC = {
  /** a1b2c3d4 written big-endian / little-endian, microsecond timestamps. */
  US_BE: 0xd4c3b2a1,
  US_LE: 0xa1b2c3d4,
  /** a1b23c4d: nanosecond timestamps. */
  NS_BE: 0x4d3cb2a1,
  NS_LE: 0xa1b23c4d,
  /** a1b2cd34: Alexey Kuznetzov's patched libpcap (record header + ifindex, protocol, pkt_type). */
  KUZ_BE: 0x34cdb2a1,
  KUZ_LE: 0xa1b2cd34,
} as const;

export const PCAP_FILE_HEADER_LEN = 24;

/**
 * libpcap rejects records longer than this for nearly every link type (MAXIMUM_SNAPLEN); a larger
 * caplen is accepted only if the file header's snaplen announces it.
 */
export const PCAP_MAX_SANE_CAPLEN = 262144;

/** True when the first four bytes (read little-endian) are a classic pcap magic. */
export function isPcapMagic(magicLe: number): boolean {
  switch (magicLe) {
    case PCAP_MAGIC.US_BE:
    case PCAP_MAGIC.US_LE:
    case PCAP_MAGIC.NS_BE:
    case PCAP_MAGIC.NS_LE:
    case PCAP_MAGIC.KUZ_BE:
    case PCAP_MAGIC.KUZ_LE:
      return true;
    default:
      return false;
  }
}

function u32le(b: Buffer, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
}

function u32be(b: Buffer, p: number): number {
  return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

export class PcapReader implements CaptureReader {
  readonly format = 'pcap' as const;
  error: ReadError | null = null;
  /** Link type of every record (low 16 bits of the header field; FCS bits masked off). */
  readonly linkType: number;
  /** Snapshot length from the file header. */
  readonly snaplen: number;
  /** True for nanosecond-resolution files. */
  readonly nanos: boolean;
  /** True when the file is little-endian. */
  readonly littleEndian: boolean;
  /** Version from the file header (informational). */
  readonly versionMajor: number;
  readonly versionMinor: number;
  private readonly win: ByteWindow;
  private readonly recHdrLen: number;
  private readonly maxCapLen: number;
  private done = false;

  /** Parses the file header; throws `CaptureError` when it is missing or truncated. */
  constructor(win: ByteWindow) {
    this.win = win;
    const have = win.fill(PCAP_FILE_HEADER_LEN);
    const b = win.buf;
    const p = win.start;
    if (have < 4) throw new CaptureError('VIGIL_CAPTURE_UNKNOWN_FORMAT', `not a pcap file (${have} bytes)`);
    const magic = u32le(b, p);
    if (!isPcapMagic(magic)) {
      throw new CaptureError('VIGIL_CAPTURE_UNKNOWN_FORMAT', `not a pcap file (magic 0x${magic.toString(16)})`);
    }
    if (have < PCAP_FILE_HEADER_LEN) {
      throw new CaptureError(
        'VIGIL_CAPTURE_UNKNOWN_FORMAT',
        `truncated pcap file header: ${have} of ${PCAP_FILE_HEADER_LEN} bytes present`,
      );
    }
    const le = magic === PCAP_MAGIC.US_LE || magic === PCAP_MAGIC.NS_LE || magic === PCAP_MAGIC.KUZ_LE;
    this.littleEndian = le;
    this.nanos = magic === PCAP_MAGIC.NS_LE || magic === PCAP_MAGIC.NS_BE;
    this.recHdrLen = magic === PCAP_MAGIC.KUZ_LE || magic === PCAP_MAGIC.KUZ_BE ? 24 : 16;
    this.versionMajor = le ? b[p + 4]! | (b[p + 5]! << 8) : (b[p + 4]! << 8) | b[p + 5]!;
    this.versionMinor = le ? b[p + 6]! | (b[p + 7]! << 8) : (b[p + 6]! << 8) | b[p + 7]!;
    this.snaplen = le ? u32le(b, p + 16) : u32be(b, p + 16);
    // The draft puts FCS length and flag bits in the top of this field; the link type is the low 16.
    this.linkType = (le ? u32le(b, p + 20) : u32be(b, p + 20)) & 0xffff;
    this.maxCapLen = Math.min(Math.max(this.snaplen, PCAP_MAX_SANE_CAPLEN), MAX_BUFFER_SIZE - this.recHdrLen);
    win.start += PCAP_FILE_HEADER_LEN;
  }

  get position(): number {
    return this.win.position;
  }

  get size(): number {
    return this.win.size;
  }

  next(batch: PacketBatch): number {
    batch.count = 0;
    if (this.done) return 0;
    const win = this.win;
    const cap = batch.capacity;
    const hl = this.recHdrLen;
    const le = this.littleEndian;
    const nanos = this.nanos;
    const maxCap = this.maxCapLen;
    const link = this.linkType;
    const offs = batch.off;
    const capLens = batch.capLen;
    const origLens = batch.origLen;
    const ts = batch.tsUs;
    const links = batch.linkType;
    const ifs = batch.ifIndex;
    let b = win.buf;
    let dv = win.view;
    let p = win.start;
    let end = win.end;
    let n = 0;
    while (n < cap) {
      let avail = end - p;
      if (avail < hl) {
        if (n > 0) break; // refilling moves bytes: hand out this batch first
        win.start = p;
        avail = win.fill(hl);
        b = win.buf;
        dv = win.view;
        p = win.start;
        end = win.end;
        if (avail < hl) {
          if (avail > 0) this.fail(win.base + p, `truncated record header: ${avail} of ${hl} bytes present`);
          else this.finish(win.base + p);
          break;
        }
      }
      const capLen = dv.getUint32(p + 8, le);
      const origLen = dv.getUint32(p + 12, le);
      if (capLen > maxCap) {
        this.fail(win.base + p, `invalid packet capture length ${capLen} (maximum ${maxCap})`);
        break;
      }
      if (capLen > origLen) {
        this.fail(win.base + p, `packet capture length ${capLen} exceeds original length ${origLen}`);
        break;
      }
      const recLen = hl + capLen;
      if (avail < recLen) {
        if (n > 0) break;
        win.start = p;
        avail = win.fill(recLen);
        b = win.buf;
        dv = win.view;
        p = win.start;
        end = win.end;
        if (avail < recLen) {
          this.fail(win.base + p, `truncated packet record: ${avail - hl} of ${capLen} bytes present`);
          break;
        }
      }
      offs[n] = p + hl;
      capLens[n] = capLen;
      origLens[n] = origLen;
      const frac = dv.getUint32(p + 4, le);
      ts[n] = dv.getUint32(p, le) * 1e6 + (nanos ? Math.floor(frac / 1000) : frac);
      links[n] = link;
      ifs[n] = 0;
      n++;
      p += recLen;
    }
    win.start = p;
    batch.buf = b;
    batch.count = n;
    return n;
  }

  close(): void {
    this.done = true;
    this.win.close();
  }

  private fail(offset: number, reason: string): void {
    this.error = { offset, reason: this.win.ioError ?? reason };
    this.done = true;
  }

  /** Clean end of input, unless a read error cut it short. */
  private finish(offset: number): void {
    if (this.win.ioError !== null) this.error = { offset, reason: this.win.ioError };
    this.done = true;
  }
}
