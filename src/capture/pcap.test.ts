import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PacketBatch, LINKTYPE } from './batch.js';
import type { CaptureReader } from './reader.js';
import { openCaptureBuffer, openCaptureFile } from './open.js';
import { CaptureError } from './errors.js';
import { tempDir } from '../../test/helpers/paths.js';

/** Magic numbers as written in the file's own byte order. */
const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_KUZ = 0xa1b2cd34;

interface HeaderOpts {
  le?: boolean;
  magic?: number;
  snaplen?: number;
  link?: number;
}

/** Classic pcap file header, 24 bytes, in the byte order `le`. */
function fileHeader(o: HeaderOpts = {}): Buffer {
  const le = o.le ?? true;
  const b = Buffer.alloc(24);
  const w32 = (v: number, at: number): number => (le ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  const w16 = (v: number, at: number): number => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  w32(o.magic ?? MAGIC_US, 0); // magic a1b2c3d4 (µs) / a1b23c4d (ns) / a1b2cd34, written in file order
  w16(2, 4); // version_major
  w16(4, 6); // version_minor
  w32(0, 8); // thiszone
  w32(0, 12); // sigfigs
  w32(o.snaplen ?? 65535, 16); // snaplen
  w32(o.link ?? LINKTYPE.ETHERNET, 20); // linktype (low 16 bits) + FCS flags (top bits)
  return b;
}

/** Record header (16 bytes) + data. */
function record(
  sec: number,
  frac: number,
  data: Buffer,
  origLen = data.length,
  le = true,
  capLen = data.length,
): Buffer {
  const h = Buffer.alloc(16);
  const w32 = (v: number, at: number): number => (le ? h.writeUInt32LE(v, at) : h.writeUInt32BE(v, at));
  w32(sec, 0); // ts_sec
  w32(frac, 4); // ts_usec or ts_nsec
  w32(capLen, 8); // incl_len (caplen)
  w32(origLen, 12); // orig_len
  return Buffer.concat([h, data]);
}

/** `n` bytes counting up from `seed` (recognisable packet contents). */
function bytes(n: number, seed = 0): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (seed + i) & 0xff;
  return b;
}

interface Pkt {
  data: Buffer;
  capLen: number;
  origLen: number;
  tsUs: number;
  linkType: number;
  ifIndex: number;
}

/** Drain a reader (batches of `capacity`), copying each packet out. */
function readAll(r: CaptureReader, capacity = 1024): { pkts: Pkt[]; calls: number[] } {
  const batch = new PacketBatch(capacity);
  const pkts: Pkt[] = [];
  const calls: number[] = [];
  for (let guard = 0; guard < 100000; guard++) {
    const n = r.next(batch);
    calls.push(n);
    assert.equal(batch.count, n);
    if (n === 0) break;
    for (let i = 0; i < n; i++) {
      const off = batch.off[i]!;
      const cap = batch.capLen[i]!;
      assert.ok(off + cap <= batch.buf.length, 'packet inside the batch buffer');
      pkts.push({
        data: Buffer.from(batch.buf.subarray(off, off + cap)),
        capLen: cap,
        origLen: batch.origLen[i]!,
        tsUs: batch.tsUs[i]!,
        linkType: batch.linkType[i]!,
        ifIndex: batch.ifIndex[i]!,
      });
    }
  }
  return { pkts, calls };
}

for (const le of [true, false]) {
  const order = le ? 'little-endian' : 'big-endian';

  test(`pcap µs ${order}: fields, timestamps and bytes of each record`, () => {
    const file = Buffer.concat([
      fileHeader({ le, magic: MAGIC_US }),
      record(1700000000, 123456, bytes(60, 1), 60, le),
      record(1700000001, 999999, bytes(42, 7), 42, le),
    ]);
    if (!le) assert.deepEqual([...file.subarray(0, 4)], [0xa1, 0xb2, 0xc3, 0xd4]);
    const r = openCaptureBuffer(file);
    assert.equal(r.format, 'pcap');
    assert.equal(r.size, file.length);
    assert.equal(r.position, 24);
    const { pkts } = readAll(r);
    assert.equal(pkts.length, 2);
    assert.deepEqual(pkts[0], {
      data: bytes(60, 1),
      capLen: 60,
      origLen: 60,
      tsUs: 1700000000123456,
      linkType: 1,
      ifIndex: 0,
    });
    assert.equal(pkts[1]!.tsUs, 1700000001999999);
    assert.deepEqual(pkts[1]!.data, bytes(42, 7));
    assert.equal(r.error, null);
    assert.equal(r.position, file.length);
  });

  test(`pcap ns ${order}: nanoseconds rounded down to µs`, () => {
    const file = Buffer.concat([
      fileHeader({ le, magic: MAGIC_NS }),
      record(1730145002, 900383409, bytes(20), 20, le),
      record(1730145002, 999, bytes(20), 20, le),
    ]);
    const { pkts } = readAll(openCaptureBuffer(file));
    assert.deepEqual(
      pkts.map((p) => p.tsUs),
      [1730145002900383, 1730145002000000],
    );
  });
}

test('pcap link type: FCS length and flag bits in the top of the field are masked off', () => {
  // FCS length 2 (bits 28-31) and the F bit (bit 27) over LINKTYPE_RAW.
  const file = Buffer.concat([fileHeader({ link: 0x28000000 | LINKTYPE.RAW }), record(1, 0, bytes(20))]);
  const { pkts } = readAll(openCaptureBuffer(file));
  assert.equal(pkts[0]!.linkType, LINKTYPE.RAW);
});

test('pcap snaplen-truncated packet (caplen < origlen) is normal', () => {
  const file = Buffer.concat([fileHeader({ snaplen: 60 }), record(5, 6, bytes(60), 1514)]);
  const r = openCaptureBuffer(file);
  const { pkts } = readAll(r);
  assert.equal(pkts.length, 1);
  assert.equal(pkts[0]!.capLen, 60);
  assert.equal(pkts[0]!.origLen, 1514);
  assert.equal(r.error, null);
});

test('pcap header only: no packets, no error', () => {
  const r = openCaptureBuffer(fileHeader());
  assert.deepEqual(readAll(r).calls, [0]);
  assert.equal(r.error, null);
});

test('pcap truncated packet record: earlier packets, then error at the record', () => {
  const full = record(1, 0, bytes(100));
  const cut = record(2, 0, bytes(1514)).subarray(0, 16 + 60); // 60 of 1514 data bytes
  const file = Buffer.concat([fileHeader(), full, cut]);
  const r = openCaptureBuffer(file);
  const { pkts, calls } = readAll(r);
  assert.equal(pkts.length, 1);
  assert.equal(calls.at(-1), 0);
  assert.deepEqual(r.error, { offset: 24 + full.length, reason: 'truncated packet record: 60 of 1514 bytes present' });
  assert.equal(r.next(new PacketBatch()), 0, 'stays at the end');
});

test('pcap truncated record header', () => {
  const file = Buffer.concat([fileHeader(), record(1, 0, bytes(10)), Buffer.alloc(5)]);
  const r = openCaptureBuffer(file);
  assert.equal(readAll(r).pkts.length, 1);
  assert.deepEqual(r.error, { offset: 24 + 26, reason: 'truncated record header: 5 of 16 bytes present' });
});

test('pcap corrupt lengths: caplen > origlen, and an absurd caplen', () => {
  const a = Buffer.concat([fileHeader(), record(1, 0, bytes(10)), record(1, 0, bytes(40), 30)]);
  const ra = openCaptureBuffer(a);
  assert.equal(readAll(ra).pkts.length, 1);
  assert.equal(ra.error?.offset, 50);
  assert.match(ra.error?.reason ?? '', /capture length 40 exceeds original length 30/);

  const hdr = record(1, 0, Buffer.alloc(0), 0xfffffff0, true, 0xffffff00);
  const rb = openCaptureBuffer(Buffer.concat([fileHeader(), hdr, bytes(100)]));
  assert.equal(readAll(rb).pkts.length, 0);
  assert.equal(rb.error?.offset, 24);
  assert.match(rb.error?.reason ?? '', /^invalid packet capture length 4294967040/);
});

test('pcap caplen above 262144 is accepted when the snaplen announces it (buffer grows)', () => {
  const big = bytes(300000, 3);
  const file = Buffer.concat([fileHeader({ snaplen: 400000 }), record(1, 0, big), record(2, 0, bytes(10))]);
  const dir = tempDir();
  const p = path.join(dir, 'big.pcap');
  fs.writeFileSync(p, file);
  const r = openCaptureFile(p, { bufferSize: 4096 });
  const { pkts } = readAll(r);
  r.close();
  assert.equal(pkts.length, 2);
  assert.deepEqual(pkts[0]!.data, big);
  assert.equal(r.error, null);
  // Without the snaplen, 300000 bytes is beyond libpcap's 262144 maximum: corruption.
  const r2 = openCaptureBuffer(Buffer.concat([fileHeader({ snaplen: 65535 }), record(1, 0, big)]));
  assert.equal(readAll(r2).pkts.length, 0);
  assert.match(r2.error?.reason ?? '', /invalid packet capture length 300000/);
  fs.rmSync(dir, { recursive: true });
});

test("pcap Kuznetzov's modified format: 24-byte record headers", () => {
  const rec = Buffer.concat([
    record(10, 20, Buffer.alloc(0), 30, true, 30).subarray(0, 16),
    Buffer.from([2, 0, 0, 0, 0x00, 0x08, 0, 0]), // ifindex(4) protocol(2) pkt_type(1) pad(1)
    bytes(30),
  ]);
  const { pkts } = readAll(openCaptureBuffer(Buffer.concat([fileHeader({ magic: MAGIC_KUZ }), rec, rec])));
  assert.equal(pkts.length, 2);
  assert.equal(pkts[1]!.tsUs, 10000020);
  assert.deepEqual(pkts[1]!.data, bytes(30));
});

test('pcap batches respect capacity', () => {
  const recs: Buffer[] = [fileHeader()];
  for (let i = 0; i < 5; i++) recs.push(record(i, 0, bytes(8, i)));
  const { pkts, calls } = readAll(openCaptureBuffer(Buffer.concat(recs)), 2);
  assert.deepEqual(calls, [2, 2, 1, 0]);
  assert.deepEqual(
    pkts.map((p) => p.data[0]),
    [0, 1, 2, 3, 4],
  );
});

test('pcap from a file with a tiny buffer: records split across refills stay intact', () => {
  const recs: Buffer[] = [fileHeader()];
  for (let i = 0; i < 300; i++) recs.push(record(i, i, bytes(i % 150, i), (i % 150) + 4));
  const file = Buffer.concat(recs);
  const dir = tempDir();
  const p = path.join(dir, 'split.pcap');
  fs.writeFileSync(p, file);
  const fromMem = readAll(openCaptureBuffer(file), 7).pkts;
  const r = openCaptureFile(p, { bufferSize: 64 }); // smaller than some records: grows
  const fromFile = readAll(r, 7).pkts;
  assert.equal(r.error, null);
  assert.equal(r.position, file.length);
  r.close();
  assert.equal(fromFile.length, 300);
  assert.deepEqual(fromFile, fromMem);
  // Truncate mid-record: same packets up to there, then the error, from a file too.
  fs.writeFileSync(p, file.subarray(0, file.length - 3));
  const r2 = openCaptureFile(p, { bufferSize: 64 });
  assert.equal(readAll(r2).pkts.length, 299);
  assert.match(r2.error?.reason ?? '', /^truncated packet record/);
  r2.close();
  fs.rmSync(dir, { recursive: true });
});

test('pcap close(): next() returns 0 afterwards', () => {
  const r = openCaptureBuffer(Buffer.concat([fileHeader(), record(1, 0, bytes(10))]));
  r.close();
  assert.equal(r.next(new PacketBatch()), 0);
});

test('pcap truncated file header is an open-time error', () => {
  assert.throws(
    () => openCaptureBuffer(fileHeader().subarray(0, 10)),
    (e: unknown) =>
      e instanceof CaptureError &&
      e.code === 'VIGIL_CAPTURE_UNKNOWN_FORMAT' &&
      e.message === 'truncated pcap file header: 10 of 24 bytes present',
  );
});
