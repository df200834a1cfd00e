/**
 * pcapng reader (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/), streaming over a
 * {@link ByteWindow}. Every block: type(4) total_length(4) body total_length(4). Handled: Section
 * Header (either byte order; a new section may switch it and resets the interfaces), Interface
 * Description (link type, snaplen, if_tsresol, if_tsoffset), Enhanced, Simple and the obsolete
 * Packet Block. Other blocks (name resolution, statistics, decryption secrets, custom, ...) are
 * skipped by length without being buffered.
 */
import type { PacketBatch } from './batch.js';
import type { CaptureReader, ReadError } from './reader.js';
import { CaptureError } from './errors.js';
import { MAX_BUFFER_SIZE, type ByteWindow } from './source.js';

/** Block type numbers. */
export const PCAPNG_BLOCK = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  /** Obsolete Packet Block. */
  PB: 0x00000002,
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
  DSB: 0x0000000a,
} as const;

/** Byte-order magic of the Section Header Block. */
export const PCAPNG_BOM = 0x1a2b3c4d;

/** Interfaces per section: `PacketBatch.ifIndex` is 16 bits wide. */
export const PCAPNG_MAX_INTERFACES = 65536;

const OPT_END = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

/** How an interface's timestamp units become microseconds (exact integer paths where possible). */
const TS_MUL = 0; // units per second divides 10^6: multiply
const TS_DIV = 1; // units per second = d * 10^6 with small integer d: exact split division
const TS_POW2 = 2; // units per second = 2^n, n <= 32: split seconds and fraction
const TS_FLOAT = 3; // anything else: floating point (may be off by 1 µs)

const TWO32 = 4294967296;

function u32le(b: Buffer, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
}

function u32be(b: Buffer, p: number): number {
  return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

function u32(b: Buffer, p: number, le: boolean): number {
  return le ? u32le(b, p) : u32be(b, p);
}

function u16(b: Buffer, p: number, le: boolean): number {
  return le ? b[p]! | (b[p + 1]! << 8) : (b[p]! << 8) | b[p + 1]!;
}

/** Byte order of the section whose SHB starts at `p` (12 bytes present): true LE, false BE, null invalid. */
function shbByteOrder(b: Buffer, p: number): boolean | null {
  if (u32le(b, p + 8) === PCAPNG_BOM) return true;
  if (u32be(b, p + 8) === PCAPNG_BOM) return false;
  return null;
}

/** Why a block of total length `blen` cannot be read (null when it can): at least 12, a multiple of 4. */
function blockLengthProblem(blen: number): string | null {
  if (blen < 12 || (blen & 3) !== 0) return `invalid block length ${blen}`;
  return null;
}

export class PcapngReader implements CaptureReader {
  readonly format = 'pcapng' as const;
  error: ReadError | null = null;
  /** Byte order of the current section. */
  private le = true;
  private nIf = 0;
  private ifLink = new Uint16Array(8);
  private ifSnap = new Uint32Array(8);
  private ifTsKind = new Uint8Array(8);
  /** TS_MUL: factor; TS_DIV: divisor; TS_POW2: n; TS_FLOAT: units per second. */
  private ifTsArg = new Float64Array(8);
  private ifOffUs = new Float64Array(8);
  /** Last packet time seen (Simple Packet Blocks carry none and reuse it, keeping time monotone). */
  private lastTsUs = 0;
  private readonly win: ByteWindow;
  private readonly scratch = Buffer.alloc(4);
  private done = false;

  /** Checks the first Section Header Block; throws `CaptureError` when it is missing or broken. */
  constructor(win: ByteWindow) {
    this.win = win;
    let have = win.fill(12);
    const bad = (msg: string): CaptureError => new CaptureError('VIGIL_CAPTURE_UNKNOWN_FORMAT', msg);
    if (have < 12 || u32le(win.buf, win.start) !== PCAPNG_BLOCK.SHB) {
      if (have >= 4 && u32le(win.buf, win.start) === PCAPNG_BLOCK.SHB) {
        throw bad(`truncated pcapng section header: ${have} of 28 bytes present`);
      }
      throw bad('not a pcapng file (no section header block)');
    }
    const le = shbByteOrder(win.buf, win.start);
    if (le === null) throw bad(`invalid pcapng byte-order magic 0x${u32be(win.buf, win.start + 8).toString(16)}`);
    const blen = u32(win.buf, win.start + 4, le);
    if (blen < 28 || (blen & 3) !== 0 || blen > MAX_BUFFER_SIZE) {
      throw bad(`invalid pcapng section header block length ${blen}`);
    }
    have = win.fill(blen);
    if (have < blen) throw bad(`truncated pcapng section header: ${have} of ${blen} bytes present`);
    const problem = this.shbProblem(win.buf, win.start, blen, le);
    if (problem !== null) throw bad(problem);
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
      if (avail < 12) {
        if (n > 0) break; // refilling moves bytes: hand out this batch first
        win.start = p;
        avail = win.fill(12);
        b = win.buf;
        dv = win.view;
        p = win.start;
        end = win.end;
        if (avail < 12) {
          if (avail > 0) this.fail(win.base + p, `truncated block header: ${avail} of 12 bytes present`);
          else this.finish(win.base + p);
          break;
        }
      }
      let le = this.le;
      const type = dv.getUint32(p, le);
      if (type === PCAPNG_BLOCK.SHB) {
        const order = shbByteOrder(b, p);
        if (order === null) {
          this.fail(win.base + p, `invalid byte-order magic 0x${u32be(b, p + 8).toString(16)}`);
          break;
        }
        le = order;
      }
      const blen = dv.getUint32(p + 4, le);
      const lenProblem = blockLengthProblem(blen);
      if (lenProblem !== null) {
        this.fail(win.base + p, lenProblem);
        break;
      }
      if (
        type !== PCAPNG_BLOCK.EPB &&
        type !== PCAPNG_BLOCK.IDB &&
        type !== PCAPNG_BLOCK.SHB &&
        type !== PCAPNG_BLOCK.SPB &&
        type !== PCAPNG_BLOCK.PB
      ) {
        // Not needed: skip by length (checking the trailing copy), without buffering large blocks.
        if (blen <= avail) {
          if (u32(b, p + blen - 4, le) !== blen) {
            this.fail(win.base + p, `block trailing length ${u32(b, p + blen - 4, le)} differs from ${blen}`);
            break;
          }
          p += blen;
          continue;
        }
        win.start = p;
        const present = (win.size >= 0 ? win.size : win.base + end) - (win.base + p);
        if (present < blen) {
          this.fail(win.base + p, `truncated block: ${present} of ${blen} bytes present`);
          break;
        }
        // One small read for the trailer keeps results independent of the buffer size.
        if (!win.peek(blen - 4, this.scratch)) {
          this.fail(win.base + p, `truncated block: ${present} of ${blen} bytes present`);
          break;
        }
        const trailer = le ? this.scratch.readUInt32LE(0) : this.scratch.readUInt32BE(0);
        if (trailer !== blen) {
          this.fail(win.base + p, `block trailing length ${trailer} differs from ${blen}`);
          break;
        }
        win.skip(blen);
        p = win.start;
        end = win.end;
        continue;
      }
      if (blen > MAX_BUFFER_SIZE) {
        this.fail(win.base + p, `block too large: ${blen} bytes`);
        break;
      }
      if (avail < blen) {
        if (n > 0) break;
        win.start = p;
        avail = win.fill(blen);
        b = win.buf;
        dv = win.view;
        p = win.start;
        end = win.end;
        if (avail < blen) {
          this.fail(win.base + p, `truncated block: ${avail} of ${blen} bytes present`);
          break;
        }
      }
      const trailer = dv.getUint32(p + blen - 4, le);
      if (trailer !== blen) {
        this.fail(win.base + p, `block trailing length ${trailer} differs from ${blen}`);
        break;
      }
      if (type === PCAPNG_BLOCK.EPB || type === PCAPNG_BLOCK.PB) {
        // EPB: if_id(4) ts_high(4) ts_low(4) caplen(4) origlen(4) data options
        // PB:  if_id(2) drops(2) ts_high(4) ts_low(4) caplen(4) origlen(4) data options
        if (blen < 32) {
          this.fail(win.base + p, `invalid packet block length ${blen}`);
          break;
        }
        const rawIf = type === PCAPNG_BLOCK.EPB ? dv.getUint32(p + 8, le) : dv.getUint16(p + 8, le);
        const capLen = dv.getUint32(p + 20, le);
        if (rawIf >= this.nIf) {
          this.fail(win.base + p, `packet on undefined interface ${rawIf}`);
          break;
        }
        const ifId = rawIf | 0; // < 65536 now: keep it a small integer for the array reads below
        if (capLen > blen - 32) {
          this.fail(win.base + p, `packet capture length ${capLen} exceeds block length ${blen}`);
          break;
        }
        const hi = dv.getUint32(p + 12, le);
        const lo = dv.getUint32(p + 16, le);
        // Microsecond and millisecond-style resolutions inline; the rest through toUs.
        const tsUs =
          this.ifTsKind[ifId] === TS_MUL
            ? (hi * TWO32 + lo) * this.ifTsArg[ifId]! + this.ifOffUs[ifId]!
            : this.toUs(ifId, hi, lo);
        offs[n] = p + 28;
        capLens[n] = capLen;
        origLens[n] = dv.getUint32(p + 24, le);
        ts[n] = tsUs;
        links[n] = this.ifLink[ifId]!;
        ifs[n] = ifId;
        n++;
      } else if (type === PCAPNG_BLOCK.SPB) {
        // SPB: origlen(4) data; interface 0, captured length = min(origlen, snaplen, room in block).
        if (blen < 16) {
          this.fail(win.base + p, `invalid simple packet block length ${blen}`);
          break;
        }
        if (this.nIf === 0) {
          this.fail(win.base + p, 'simple packet block before any interface description');
          break;
        }
        const origLen = dv.getUint32(p + 8, le);
        const snap = this.ifSnap[0]!;
        let capLen = blen - 16;
        if (origLen < capLen) capLen = origLen;
        if (snap !== 0 && snap < capLen) capLen = snap;
        offs[n] = p + 12;
        capLens[n] = capLen;
        origLens[n] = origLen;
        ts[n] = n > 0 ? ts[n - 1]! : this.lastTsUs;
        links[n] = this.ifLink[0]!;
        ifs[n] = 0;
        n++;
      } else if (type === PCAPNG_BLOCK.IDB) {
        const problem = this.addInterface(b, p, blen, le);
        if (problem !== null) {
          this.fail(win.base + p, problem);
          break;
        }
      } else {
        const problem = this.shbProblem(b, p, blen, le);
        if (problem !== null) {
          this.fail(win.base + p, problem);
          break;
        }
        this.le = le;
        this.nIf = 0;
      }
      p += blen;
    }
    // Kept per batch, not per packet: storing a double in a field allocates a HeapNumber.
    if (n > 0) this.lastTsUs = ts[n - 1]!;
    win.start = p;
    batch.buf = b;
    batch.count = n;
    return n;
  }

  close(): void {
    this.done = true;
    this.win.close();
  }

  /** SHB body: BOM(4) major(2) minor(2) section_length(8) options. */
  private shbProblem(b: Buffer, p: number, blen: number, le: boolean): string | null {
    if (blen < 28) return `invalid section header block length ${blen}`;
    const trailer = u32(b, p + blen - 4, le);
    if (trailer !== blen) return `block trailing length ${trailer} differs from ${blen}`;
    const major = u16(b, p + 12, le);
    if (major !== 1) return `unsupported pcapng version ${major}.${u16(b, p + 14, le)}`;
    return null;
  }

  /** IDB body: linktype(2) reserved(2) snaplen(4) options. */
  private addInterface(b: Buffer, p: number, blen: number, le: boolean): string | null {
    if (blen < 20) return `invalid interface description block length ${blen}`;
    if (this.nIf >= PCAPNG_MAX_INTERFACES) return `too many interfaces (more than ${PCAPNG_MAX_INTERFACES})`;
    let tsresol = 6;
    let offSec = 0;
    const optEnd = p + blen - 4;
    let q = p + 16;
    // Options: code(2) length(2) value padded to 4. A malformed option list ends option parsing
    // (the packet data stays readable with default resolution), as tshark does.
    while (q + 4 <= optEnd) {
      const code = u16(b, q, le);
      const len = u16(b, q + 2, le);
      if (code === OPT_END || q + 4 + len > optEnd) break;
      if (code === OPT_IF_TSRESOL && len >= 1) tsresol = b[q + 4]!;
      else if (code === OPT_IF_TSOFFSET && len >= 8) {
        // Signed 64-bit seconds.
        const hi = u32(b, le ? q + 8 : q + 4, le) | 0;
        const lo = u32(b, le ? q + 4 : q + 8, le);
        offSec = hi * TWO32 + lo;
      }
      q += 4 + ((len + 3) & ~3);
    }
    const i = this.nIf;
    if (i >= this.ifLink.length) this.growInterfaces();
    this.ifLink[i] = u16(b, p + 8, le);
    this.ifSnap[i] = u32(b, p + 12, le);
    this.ifOffUs[i] = offSec * 1e6;
    // if_tsresol: bit 7 clear = 10^-v seconds, set = 2^-(v & 0x7f) seconds.
    const exp = tsresol & 0x7f;
    if ((tsresol & 0x80) === 0) {
      if (exp <= 6) {
        this.ifTsKind[i] = TS_MUL;
        this.ifTsArg[i] = 10 ** (6 - exp);
      } else if (exp <= 12) {
        this.ifTsKind[i] = TS_DIV;
        this.ifTsArg[i] = 10 ** (exp - 6);
      } else {
        this.ifTsKind[i] = TS_FLOAT;
        this.ifTsArg[i] = 10 ** exp;
      }
    } else if (exp <= 32) {
      this.ifTsKind[i] = TS_POW2;
      this.ifTsArg[i] = exp;
    } else {
      this.ifTsKind[i] = TS_FLOAT;
      this.ifTsArg[i] = 2 ** exp;
    }
    this.nIf = i + 1;
    return null;
  }

  private growInterfaces(): void {
    const n = Math.min(this.ifLink.length * 2, PCAPNG_MAX_INTERFACES);
    const link = new Uint16Array(n);
    link.set(this.ifLink);
    this.ifLink = link;
    const snap = new Uint32Array(n);
    snap.set(this.ifSnap);
    this.ifSnap = snap;
    const kind = new Uint8Array(n);
    kind.set(this.ifTsKind);
    this.ifTsKind = kind;
    const arg = new Float64Array(n);
    arg.set(this.ifTsArg);
    this.ifTsArg = arg;
    const off = new Float64Array(n);
    off.set(this.ifOffUs);
    this.ifOffUs = off;
  }

  /** Timestamp `hi * 2^32 + lo` in interface `i`'s units, as µs since the epoch (rounded down). */
  private toUs(i: number, hi: number, lo: number): number {
    const arg = this.ifTsArg[i]!;
    let us: number;
    switch (this.ifTsKind[i]) {
      case TS_MUL:
        us = (hi * TWO32 + lo) * arg;
        break;
      case TS_DIV: {
        // floor((hi*2^32 + lo) / d) without losing bits: hi = hq*d + hr.
        const hq = Math.floor(hi / arg);
        const hr = hi - hq * arg;
        us = hq * TWO32 + Math.floor((hr * TWO32 + lo) / arg);
        break;
      }
      case TS_POW2: {
        // Seconds = value >> n; fraction = value mod 2^n (n <= 32).
        const div = 2 ** arg;
        const secs = hi * (TWO32 / div) + Math.floor(lo / div);
        const frac = lo % div;
        us = secs * 1e6 + Math.floor((frac * 1e6) / div);
        break;
      }
      default:
        us = Math.floor(((hi * TWO32 + lo) * 1e6) / arg);
    }
    return us + this.ifOffUs[i]!;
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
