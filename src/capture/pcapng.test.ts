import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PacketBatch, LINKTYPE } from './batch.js';
import type { CaptureReader } from './reader.js';
import { openCaptureBuffer, openCaptureFile } from './open.js';
import { CaptureError } from './errors.js';
import { tempDir } from '../../test/helpers/paths.js';

// ---- Block builders (draft-ietf-opsawg-pcapng section 3.1: type, total length, body, total length)

function w32(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
}

function w16(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}

function padded(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}

/** A generic block; `len` overrides the leading total length, `trail` the trailing copy. */
function block(type: number, body: Buffer, le = true, len?: number, trail?: number): Buffer {
  const p = padded(body);
  const total = 12 + p.length;
  return Buffer.concat([
    w32(type, le), // block type
    w32(len ?? total, le), // block total length
    p, // body, padded to 32 bits
    w32(trail ?? total, le), // block total length (again)
  ]);
}

/** Option: code(2) length(2) value padded to 32 bits. */
function opt(code: number, value: Buffer, le = true): Buffer {
  return Buffer.concat([w16(code, le), w16(value.length, le), padded(value)]);
}

const OPT_END = Buffer.alloc(4); // opt_endofopt: code 0, length 0

/** Section Header Block. */
function shb(le = true, major = 1): Buffer {
  return block(
    0x0a0d0d0a,
    Buffer.concat([
      w32(0x1a2b3c4d, le), // byte-order magic
      w16(major, le), // major version
      w16(0, le), // minor version
      Buffer.alloc(8, 0xff), // section length: -1 (unknown)
      opt(4, Buffer.from('vigil-test'), le), // shb_userappl
      OPT_END,
    ]),
    le,
  );
}

/** Interface Description Block. */
function idb(link: number, snaplen: number, options: Buffer[] = [], le = true): Buffer {
  return block(
    1,
    Buffer.concat([
      w16(link, le), // linktype
      w16(0, le), // reserved
      w32(snaplen, le), // snaplen
      ...options,
      ...(options.length > 0 ? [OPT_END] : []),
    ]),
    le,
  );
}

/** Enhanced Packet Block. */
function epb(ifId: number, hi: number, lo: number, data: Buffer, origLen = data.length, le = true): Buffer {
  return block(
    6,
    Buffer.concat([
      w32(ifId, le), // interface id
      w32(hi, le), // timestamp (high)
      w32(lo, le), // timestamp (low)
      w32(data.length, le), // captured packet length
      w32(origLen, le), // original packet length
      padded(data), // packet data
      opt(1, Buffer.from('hi'), le), // opt_comment
      OPT_END,
    ]),
    le,
  );
}

/** Simple Packet Block: original length, then data (captured length implied). */
function spb(origLen: number, data: Buffer, le = true): Buffer {
  return block(3, Buffer.concat([w32(origLen, le), data]), le);
}

/** Obsolete Packet Block. */
function pb(ifId: number, hi: number, lo: number, data: Buffer, origLen = data.length, le = true): Buffer {
  return block(
    2,
    Buffer.concat([
      w16(ifId, le), // interface id
      w16(0, le), // drops count
      w32(hi, le), // timestamp (high)
      w32(lo, le), // timestamp (low)
      w32(data.length, le), // captured length
      w32(origLen, le), // packet length
      padded(data),
    ]),
    le,
  );
}

/** A 64-bit timestamp in interface units, split into the (high, low) words. */
function split(units: bigint): [number, number] {
  return [Number(units >> 32n), Number(units & 0xffffffffn)];
}

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

function readAll(r: CaptureReader, capacity = 1024): Pkt[] {
  const batch = new PacketBatch(capacity);
  const pkts: Pkt[] = [];
  for (let guard = 0; guard < 100000; guard++) {
    const n = r.next(batch);
    if (n === 0) break;
    for (let i = 0; i < n; i++) {
      const off = batch.off[i]!;
      const cap = batch.capLen[i]!;
      assert.ok(off + cap <= batch.buf.length);
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
  return pkts;
}

const T0 = 1700000000123456n; // µs

for (const le of [true, false]) {
  test(`pcapng ${le ? 'little' : 'big'}-endian: SHB, IDB, EPBs`, () => {
    const file = Buffer.concat([
      shb(le),
      idb(LINKTYPE.ETHERNET, 65535, [], le),
      epb(0, ...split(T0), bytes(60, 1), 60, le),
      epb(0, ...split(T0 + 1n), bytes(61, 2), 1514, le),
    ]);
    const r = openCaptureBuffer(file);
    assert.equal(r.format, 'pcapng');
    const pkts = readAll(r);
    assert.equal(r.error, null);
    assert.equal(pkts.length, 2);
    assert.deepEqual(pkts[0], {
      data: bytes(60, 1),
      capLen: 60,
      origLen: 60,
      tsUs: Number(T0),
      linkType: 1,
      ifIndex: 0,
    });
    assert.equal(pkts[1]!.tsUs, Number(T0) + 1);
    assert.equal(pkts[1]!.origLen, 1514);
    assert.deepEqual(pkts[1]!.data, bytes(61, 2));
    assert.equal(r.position, file.length);
  });
}

test('pcapng two interfaces with different link types', () => {
  const file = Buffer.concat([
    shb(),
    idb(LINKTYPE.ETHERNET, 65535),
    idb(LINKTYPE.RAW, 65535),
    epb(1, ...split(T0), bytes(20)),
    epb(0, ...split(T0), bytes(14)),
    epb(1, ...split(T0), bytes(21)),
  ]);
  const pkts = readAll(openCaptureBuffer(file));
  assert.deepEqual(
    pkts.map((p) => [p.ifIndex, p.linkType, p.capLen]),
    [
      [1, LINKTYPE.RAW, 20],
      [0, LINKTYPE.ETHERNET, 14],
      [1, LINKTYPE.RAW, 21],
    ],
  );
});

test('pcapng if_tsresol: 10^-9, 10^-3, 2^-20, 2^-32 and if_tsoffset', () => {
  const ns = 1730145002900383409n;
  const file = Buffer.concat([
    shb(),
    idb(1, 0, [opt(9, Buffer.from([9]))]), // if 0: nanoseconds
    idb(1, 0, [opt(9, Buffer.from([3]))]), // if 1: milliseconds
    idb(1, 0, [opt(9, Buffer.from([0x80 | 20]))]), // if 2: 2^-20 s
    idb(1, 0, [opt(9, Buffer.from([0x80 | 32]))]), // if 3: 2^-32 s
    idb(1, 0, [opt(14, Buffer.from([100, 0, 0, 0, 0, 0, 0, 0]))]), // if 4: µs, +100 s offset
    idb(1, 0, [opt(14, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))]), // if 5: -1 s
    epb(0, ...split(ns), bytes(1)),
    epb(1, ...split(1730145002900n), bytes(1)),
    epb(2, ...split((1730145002n << 20n) + 524288n), bytes(1)), // + half a second
    epb(3, ...split((1730145002n << 32n) + 1n), bytes(1)), // + 2^-32 s: rounds down to 0 µs
    epb(4, ...split(T0), bytes(1)),
    epb(5, ...split(T0), bytes(1)),
  ]);
  const pkts = readAll(openCaptureBuffer(file));
  assert.deepEqual(
    pkts.map((p) => p.tsUs),
    [
      1730145002900383,
      1730145002900000,
      1730145002500000,
      1730145002000000,
      Number(T0) + 100_000_000,
      Number(T0) - 1_000_000,
    ],
  );
});

test('pcapng Simple Packet Block: interface 0, snaplen applies, time of the previous packet', () => {
  const file = Buffer.concat([
    shb(),
    idb(LINKTYPE.RAW, 64),
    epb(0, ...split(T0), bytes(20)),
    spb(100, bytes(64, 5)), // 100-byte packet cut to the 64-byte snaplen
    spb(30, bytes(30, 6)),
  ]);
  const pkts = readAll(openCaptureBuffer(file));
  assert.equal(pkts.length, 3);
  assert.deepEqual(pkts[1], {
    data: bytes(64, 5),
    capLen: 64,
    origLen: 100,
    tsUs: Number(T0),
    linkType: LINKTYPE.RAW,
    ifIndex: 0,
  });
  assert.deepEqual(pkts[2]!.data, bytes(30, 6));
  // An SPB without an interface is corruption.
  const r = openCaptureBuffer(Buffer.concat([shb(), spb(4, bytes(4))]));
  assert.equal(readAll(r).length, 0);
  assert.match(r.error?.reason ?? '', /simple packet block before any interface/);
});

test('pcapng legacy Packet Block (type 2)', () => {
  const file = Buffer.concat([shb(), idb(1, 0), idb(LINKTYPE.NULL, 0), pb(1, ...split(T0), bytes(33), 40)]);
  const pkts = readAll(openCaptureBuffer(file));
  assert.deepEqual(pkts, [
    { data: bytes(33), capLen: 33, origLen: 40, tsUs: Number(T0), linkType: LINKTYPE.NULL, ifIndex: 1 },
  ]);
});

test('pcapng unknown and uninteresting blocks are skipped by length', () => {
  const file = Buffer.concat([
    shb(),
    block(4, Buffer.concat([w16(1, true), w16(8, true), Buffer.from([10, 0, 0, 1]), Buffer.from('a\0\0\0')])), // NRB
    idb(1, 0),
    block(0x00000bad, bytes(17)), // custom block
    epb(0, ...split(T0), bytes(10)),
    block(5, Buffer.alloc(20)), // ISB
    block(0x0000000a, bytes(40)), // DSB
    block(0x40000bad, Buffer.alloc(0)), // custom (no copy), empty body
    epb(0, ...split(T0), bytes(11)),
  ]);
  const r = openCaptureBuffer(file);
  assert.deepEqual(
    readAll(r).map((p) => p.capLen),
    [10, 11],
  );
  assert.equal(r.error, null);
});

test('pcapng new section switches byte order and resets interfaces', () => {
  const file = Buffer.concat([
    shb(true),
    idb(LINKTYPE.ETHERNET, 0, [], true),
    idb(LINKTYPE.ETHERNET, 0, [], true),
    epb(1, ...split(T0), bytes(10), 10, true),
    shb(false),
    idb(LINKTYPE.RAW, 0, [], false),
    epb(0, ...split(T0 + 5n), bytes(12), 12, false),
  ]);
  const r = openCaptureBuffer(file);
  const pkts = readAll(r);
  assert.deepEqual(
    pkts.map((p) => [p.ifIndex, p.linkType, p.capLen, p.tsUs]),
    [
      [1, LINKTYPE.ETHERNET, 10, Number(T0)],
      [0, LINKTYPE.RAW, 12, Number(T0) + 5],
    ],
  );
  assert.equal(r.error, null);
  // Interface 1 no longer exists in the second section.
  const bad = Buffer.concat([
    shb(true),
    idb(1, 0),
    idb(1, 0),
    shb(false),
    idb(1, 0, [], false),
    epb(1, 0, 0, bytes(4), 4, false),
  ]);
  const r2 = openCaptureBuffer(bad);
  assert.equal(readAll(r2).length, 0);
  assert.match(r2.error?.reason ?? '', /packet on undefined interface 1/);
});

test('pcapng truncated block: earlier packets, then error at the block start', () => {
  const head = Buffer.concat([shb(), idb(1, 0), epb(0, ...split(T0), bytes(50))]);
  const last = epb(0, ...split(T0), bytes(1514));
  const file = Buffer.concat([head, last.subarray(0, 100)]);
  const r = openCaptureBuffer(file);
  assert.equal(readAll(r).length, 1);
  assert.deepEqual(r.error, { offset: head.length, reason: `truncated block: 100 of ${last.length} bytes present` });
  const r2 = openCaptureBuffer(Buffer.concat([head, last.subarray(0, 7)]));
  assert.equal(readAll(r2).length, 1);
  assert.deepEqual(r2.error, { offset: head.length, reason: 'truncated block header: 7 of 12 bytes present' });
});

test('pcapng bad block lengths', () => {
  const head = Buffer.concat([shb(), idb(1, 0), epb(0, 0, 0, bytes(8))]);
  const cases: [Buffer, RegExp][] = [
    [block(6, Buffer.alloc(40), true, 7), /^invalid block length 7$/],
    [block(6, Buffer.alloc(40), true, 8), /^invalid block length 8$/],
    [block(0x0bad, Buffer.alloc(40), true, 54), /^invalid block length 54$/],
    [block(6, Buffer.alloc(40), true, undefined, 48), /^block trailing length 48 differs from 52$/],
    [block(0x0bad, Buffer.alloc(40), true, undefined, 48), /^block trailing length 48 differs from 52$/],
    [block(6, Buffer.alloc(8)), /^invalid packet block length 20$/],
    [epb(0, 0, 0, bytes(8)).fill(0xff, 20, 24), /^packet capture length 4294967295 exceeds block length/],
    [block(6, Buffer.alloc(40), true, 0x7ffffffc), /^block too large/],
    [Buffer.concat([shb().subarray(0, 8), Buffer.from([1, 2, 3, 4]), shb().subarray(12)]), /^invalid byte-order magic/],
    [shb(true, 2), /^unsupported pcapng version 2\.0$/],
  ];
  for (const [bad, re] of cases) {
    const r = openCaptureBuffer(Buffer.concat([head, bad, epb(0, 0, 0, bytes(8))]));
    assert.equal(readAll(r).length, 1, String(re));
    assert.equal(r.error?.offset, head.length, String(re));
    assert.match(r.error?.reason ?? '', re);
  }
});

test('pcapng from a file with a tiny buffer: large skipped blocks, packets split across refills', () => {
  const parts: Buffer[] = [shb(), idb(1, 0), idb(LINKTYPE.RAW, 0)];
  for (let i = 0; i < 200; i++) {
    parts.push(epb(i & 1, ...split(T0 + BigInt(i)), bytes(i % 97, i)));
    if (i % 50 === 0) parts.push(block(0x0bad, bytes(5000, i))); // bigger than the buffer: skipped unbuffered
  }
  const file = Buffer.concat(parts);
  const dir = tempDir();
  const p = path.join(dir, 'split.pcapng');
  fs.writeFileSync(p, file);
  const mem = readAll(openCaptureBuffer(file), 5);
  const r = openCaptureFile(p, { bufferSize: 256 });
  const disk = readAll(r, 5);
  assert.equal(r.error, null);
  assert.equal(r.position, file.length);
  r.close();
  assert.equal(disk.length, 200);
  assert.deepEqual(disk, mem);
  // A big skipped block cut short at the end of the file.
  const cut = Buffer.concat([shb(), idb(1, 0), epb(0, 0, 0, bytes(3)), block(0x0bad, bytes(5000)).subarray(0, 3000)]);
  fs.writeFileSync(p, cut);
  const r2 = openCaptureFile(p, { bufferSize: 256 });
  assert.equal(readAll(r2).length, 1);
  assert.match(r2.error?.reason ?? '', /^truncated block: \d+ of 5012 bytes present$/);
  r2.close();
  fs.rmSync(dir, { recursive: true });
});

test('pcapng broken first section header is an open-time error', () => {
  const cases: [Buffer, RegExp][] = [
    [shb().subarray(0, 20), /^truncated pcapng section header: 20 of \d+ bytes present$/],
    [Buffer.concat([shb().subarray(0, 8), Buffer.from([9, 9, 9, 9]), shb().subarray(12)]), /byte-order magic/],
    [block(0x0a0d0d0a, w32(0x1a2b3c4d, true)), /invalid pcapng section header block length 16/],
    [shb(true, 2), /unsupported pcapng version 2\.0/],
  ];
  for (const [buf, re] of cases) {
    assert.throws(
      () => openCaptureBuffer(buf),
      (e: unknown) => e instanceof CaptureError && e.code === 'VIGIL_CAPTURE_UNKNOWN_FORMAT' && re.test(e.message),
      String(re),
    );
  }
  // A section header with nothing after it: an empty but valid capture.
  const r = openCaptureBuffer(shb());
  assert.equal(readAll(r).length, 0);
  assert.equal(r.error, null);
});
