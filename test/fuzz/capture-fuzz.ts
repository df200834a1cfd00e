/**
 * Property fuzzing of the capture readers (STYLE.md, Tests: fuzz). Inputs: random bytes, real
 * small pcap/pcapng files truncated at random offsets, and the same files with random mutations
 * (byte and bit flips, "interesting" 32-bit lengths, spliced chunks). Properties: opening throws
 * only `CaptureError`; `next()` never throws; every packet lies inside `batch.buf`; the reader
 * ends within a bounded number of calls and stays ended; and, when `tempDir` is given, reading
 * the same bytes from a file through a tiny buffer gives exactly the in-memory result.
 *
 * Reused by the bench script (`fuzzCaptureReaders(1_000_000, seed)`); deterministic per seed.
 */
import * as fs from 'node:fs';
import { mulberry32 } from './prng.js';
import * as path from 'node:path';
import { PacketBatch } from '../../src/capture/batch.js';
import type { CaptureReader } from '../../src/capture/reader.js';
import { CaptureError } from '../../src/capture/errors.js';
import { openCaptureBuffer, openCaptureFile } from '../../src/capture/open.js';
import { FIXTURES_DIR, SHARED_DIR } from '../helpers/paths.js';

export interface CaptureFuzzOptions {
  /** Stop early once this much wall time has passed (the result says how many iterations ran). */
  timeLimitMs?: number;
  /** Inputs to truncate and mutate (default: the capture fixtures plus a few small shared captures). */
  seeds?: Buffer[];
  /** A writable directory: every 16th case is also read from a file with a tiny buffer and compared. */
  tempDir?: string;
}

export interface CaptureFuzzResult {
  /** Cases run. */
  iterations: number;
  /** Exceptions that escaped (anything but `CaptureError` from opening). */
  exceptions: number;
  /** Readers that did not finish within the call bound. */
  hangs: number;
  /** Broken batch invariants or file/memory disagreements. */
  violations: number;
  /** Cases rejected at open (`CaptureError`), and cases that ended with `reader.error`. */
  openErrors: number;
  readErrors: number;
  packets: number;
  /** Description of the first failure with its iteration, for reproduction; null when none. */
  firstFailure: string | null;
}

export { mulberry32 } from './prng.js';

/** The default seed inputs: committed fixtures, and small shared captures when present. */
export function defaultCaptureSeeds(): Buffer[] {
  const files = [
    path.join(FIXTURES_DIR, 'capture', 'small.pcap'),
    path.join(FIXTURES_DIR, 'capture', 'small.pcapng'),
    path.join(FIXTURES_DIR, 'capture', 'multi-if.pcapng'),
    path.join(SHARED_DIR, 'data', 'pcaps', 'chrissanders', 'dns_axfr.pcapng'),
    path.join(SHARED_DIR, 'data', 'community-id', 'pcaps', 'tcp.pcap'),
    path.join(SHARED_DIR, 'data', 'suricata-verify', 'detect-ipopts', 'input.pcap'),
  ];
  const seeds: Buffer[] = [];
  for (const f of files) if (fs.existsSync(f)) seeds.push(fs.readFileSync(f));
  seeds.push(bigEndianPcapNs(), bigEndianPcapng());
  return seeds;
}

/** A big-endian nanosecond pcap with three records (one snaplen-truncated). */
function bigEndianPcapNs(): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32BE(0xa1b23c4d, 0); // magic (ns)
  h.writeUInt16BE(2, 4); // version 2.4
  h.writeUInt16BE(4, 6);
  h.writeUInt32BE(64, 16); // snaplen
  h.writeUInt32BE(101, 20); // LINKTYPE_RAW
  parts.push(h);
  for (let i = 0; i < 3; i++) {
    const r = Buffer.alloc(16 + 20 + i * 20);
    r.writeUInt32BE(1700000000 + i, 0); // ts_sec
    r.writeUInt32BE(123456789, 4); // ts_nsec
    r.writeUInt32BE(20 + i * 20, 8); // caplen
    r.writeUInt32BE(20 + i * 40, 12); // origlen
    r[16] = 0x45;
    parts.push(r);
  }
  return Buffer.concat(parts);
}

/** A big-endian pcapng: SHB, IDB with if_tsresol 2^-20, EPB, NRB, SPB, PB, custom block. */
function bigEndianPcapng(): Buffer {
  const blk = (type: number, body: Buffer): Buffer => {
    const len = 12 + body.length; // bodies here are already 32-bit aligned
    const b = Buffer.alloc(len);
    b.writeUInt32BE(type, 0);
    b.writeUInt32BE(len, 4);
    body.copy(b, 8);
    b.writeUInt32BE(len, len - 4);
    return b;
  };
  const shb = Buffer.alloc(16);
  shb.writeUInt32BE(0x1a2b3c4d, 0); // byte-order magic
  shb.writeUInt16BE(1, 4); // version 1.0
  shb.fill(0xff, 8, 16); // section length -1
  const idb = Buffer.alloc(20);
  idb.writeUInt16BE(1, 0); // LINKTYPE_ETHERNET
  idb.writeUInt32BE(128, 4); // snaplen
  idb.writeUInt16BE(9, 8); // if_tsresol
  idb.writeUInt16BE(1, 10);
  idb[12] = 0x80 | 20; // 2^-20 s; 3 bytes padding, then opt_endofopt at 16
  const epb = Buffer.alloc(20 + 64);
  epb.writeUInt32BE(0, 0); // interface 0
  epb.writeUInt32BE(0x1000, 4); // ts high
  epb.writeUInt32BE(0x2000, 8); // ts low
  epb.writeUInt32BE(60, 12); // caplen
  epb.writeUInt32BE(60, 16); // origlen
  const spb = Buffer.alloc(4 + 64);
  spb.writeUInt32BE(100, 0); // origlen (snaplen 128 keeps 64 present bytes)
  const pb = Buffer.alloc(20 + 32);
  pb.writeUInt16BE(0, 0); // interface 0
  pb.writeUInt32BE(30, 12); // caplen
  pb.writeUInt32BE(30, 16); // origlen
  return Buffer.concat([
    blk(0x0a0d0d0a, shb),
    blk(1, idb),
    blk(6, epb),
    blk(4, Buffer.alloc(8)), // NRB: just nrb_record_end + padding
    blk(3, spb),
    blk(2, pb),
    blk(0x40000bad, Buffer.alloc(16)),
  ]);
}

const INTERESTING = [0, 1, 4, 7, 8, 11, 12, 16, 28, 32, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff, 0x1a2b3c4d];

function mutate(src: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(src);
  const edits = 1 + Math.floor(rnd() * 8);
  for (let e = 0; e < edits && b.length > 0; e++) {
    const at = Math.floor(rnd() * b.length);
    const kind = Math.floor(rnd() * 5);
    if (kind === 0) b[at] = Math.floor(rnd() * 256);
    else if (kind === 1) b[at] = b[at]! ^ (1 << Math.floor(rnd() * 8));
    else if (kind === 2 && at + 4 <= b.length) {
      const v = INTERESTING[Math.floor(rnd() * INTERESTING.length)]!;
      const aligned = at & ~3;
      if (rnd() < 0.5) b.writeUInt32LE(v >>> 0, aligned);
      else b.writeUInt32BE(v >>> 0, aligned);
    } else if (kind === 3) {
      // Delete a chunk.
      const len = Math.floor(rnd() * 64);
      b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + len))]);
    } else {
      // Duplicate a chunk elsewhere (repeated blocks/records, misaligned copies).
      const from = Math.floor(rnd() * b.length);
      const len = Math.floor(rnd() * 128);
      b = Buffer.concat([b.subarray(0, at), b.subarray(from, from + len), b.subarray(at)]);
    }
  }
  return b;
}

function randomBytes(rnd: () => number, seeds: Buffer[]): Buffer {
  const len = Math.floor(rnd() * 600);
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(rnd() * 256);
  // Half of the time keep a valid file head so the body parsers see the noise.
  if (rnd() < 0.5 && seeds.length > 0) {
    const s = seeds[Math.floor(rnd() * seeds.length)]!;
    const head = s.readUInt32LE(0) === 0x0a0d0d0a ? s.readUInt32LE(4) : 24;
    if (head <= s.length) return Buffer.concat([s.subarray(0, head), b]);
  }
  return b;
}

interface Outcome {
  count: number;
  hash: number;
  errorOffset: number;
  errorReason: string;
}

/** Drain `r` checking invariants. Returns a problem description, or the outcome. */
function drain(r: CaptureReader, batch: PacketBatch, size: number): Outcome | string {
  // Every call that returns packets consumes at least 12 bytes: this bound cannot be reached legitimately.
  const maxCalls = Math.floor(size / 12) + 3;
  let count = 0;
  let h = 0x811c9dc5;
  for (let call = 0; ; call++) {
    if (call > maxCalls) return `no end after ${maxCalls} calls`;
    const n = r.next(batch);
    if (n !== batch.count || n < 0 || n > batch.capacity) return `next() returned ${n}, batch.count ${batch.count}`;
    if (n === 0) break;
    count += n;
    const b = batch.buf;
    for (let i = 0; i < n; i++) {
      const off = batch.off[i]!;
      const cap = batch.capLen[i]!;
      if (off + cap > b.length) return `packet ${count - n + i} [${off}, +${cap}) outside buffer of ${b.length}`;
      for (let j = off; j < off + cap; j++) h = Math.imul(h ^ b[j]!, 0x01000193);
      h = Math.imul(h ^ batch.origLen[i]! ^ (batch.linkType[i]! << 8) ^ batch.ifIndex[i]!, 0x01000193);
      h = Math.imul(h ^ (batch.tsUs[i]! % 1000003), 0x01000193);
    }
  }
  if (r.next(batch) !== 0) return 'next() returned packets after the end';
  if (r.position > size) return `position ${r.position} beyond size ${size}`;
  const e = r.error;
  if (e !== null && (e.offset < 0 || e.offset > size || e.reason.length === 0)) return `bad error ${JSON.stringify(e)}`;
  return { count, hash: h >>> 0, errorOffset: e?.offset ?? -1, errorReason: e?.reason ?? '' };
}

/**
 * Run `iterations` fuzz cases from `seed` (or fewer if `opts.timeLimitMs` runs out first).
 * Never throws; failures are counted and the first one described.
 */
export function fuzzCaptureReaders(iterations: number, seed: number, opts: CaptureFuzzOptions = {}): CaptureFuzzResult {
  const rnd = mulberry32(seed);
  const seeds = opts.seeds ?? defaultCaptureSeeds();
  const deadline = opts.timeLimitMs === undefined ? Infinity : Date.now() + opts.timeLimitMs;
  const batch = new PacketBatch(1 + Math.floor(rnd() * 64));
  const res: CaptureFuzzResult = {
    iterations: 0,
    exceptions: 0,
    hangs: 0,
    violations: 0,
    openErrors: 0,
    readErrors: 0,
    packets: 0,
    firstFailure: null,
  };
  const failed = (kind: string, i: number, what: string): void => {
    if (res.firstFailure === null) res.firstFailure = `${kind} at iteration ${i} (seed ${seed}): ${what}`;
  };
  for (let i = 0; i < iterations; i++) {
    if ((i & 63) === 0 && Date.now() > deadline) break;
    res.iterations++;
    const mode = rnd();
    let input: Buffer;
    if (mode < 0.15 || seeds.length === 0) input = randomBytes(rnd, seeds);
    else {
      const s = seeds[Math.floor(rnd() * seeds.length)]!;
      if (mode < 0.4) input = s.subarray(0, Math.floor(rnd() * (s.length + 1)));
      else input = mutate(s, rnd);
    }
    let mem: Outcome | string | null = null;
    try {
      let r: CaptureReader | null = null;
      try {
        r = openCaptureBuffer(input);
      } catch (e) {
        if (!(e instanceof CaptureError)) throw e;
        res.openErrors++;
      }
      if (r !== null) {
        mem = drain(r, batch, input.length);
        r.close();
      }
    } catch (e) {
      res.exceptions++;
      failed('exception', i, e instanceof Error ? (e.stack ?? e.message) : String(e));
      continue;
    }
    if (typeof mem === 'string') {
      if (mem.startsWith('no end')) res.hangs++;
      else res.violations++;
      failed('violation', i, mem);
      continue;
    }
    if (mem !== null) {
      res.packets += mem.count;
      if (mem.errorOffset >= 0) res.readErrors++;
    }
    if (opts.tempDir !== undefined && (i & 15) === 0) {
      // Differential: the same bytes from a file through a tiny buffer (records span refills).
      const f = path.join(opts.tempDir, `fuzz-${seed}.bin`);
      fs.writeFileSync(f, input);
      let disk: Outcome | string | null = null;
      try {
        let r: CaptureReader | null = null;
        try {
          r = openCaptureFile(f, { bufferSize: 64 + Math.floor(rnd() * 512) });
        } catch (e) {
          if (!(e instanceof CaptureError)) throw e;
        }
        if (r !== null) {
          disk = drain(r, batch, input.length);
          r.close();
        }
      } catch (e) {
        res.exceptions++;
        failed('exception (file)', i, e instanceof Error ? (e.stack ?? e.message) : String(e));
        continue;
      }
      if (JSON.stringify(disk) !== JSON.stringify(mem)) {
        res.violations++;
        failed('file/memory mismatch', i, `${JSON.stringify(disk)} vs ${JSON.stringify(mem)}`);
      }
    }
  }
  return res;
}
