import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { PacketBatch } from '../../src/capture/batch.js';
import { CaptureError } from '../../src/capture/errors.js';
import { openCaptureBuffer } from '../../src/capture/open.js';
import { tempDir } from '../helpers/paths.js';
import { defaultCaptureSeeds, fuzzCaptureReaders } from './capture-fuzz.js';

const TIME_LIMIT_MS = process.env['CI'] ? 30_000 : 3_000;

test('capture fuzz: random, truncated and mutated inputs never throw, hang or break invariants', () => {
  const dir = tempDir('vigil-fuzz-');
  try {
    const res = fuzzCaptureReaders(1_000_000_000, 0x5eed, { timeLimitMs: TIME_LIMIT_MS, tempDir: dir });
    assert.ok(res.iterations > 100, `only ${res.iterations} iterations`);
    assert.equal(res.firstFailure, null);
    assert.equal(res.exceptions, 0);
    assert.equal(res.hangs, 0);
    assert.equal(res.violations, 0);
    assert.ok(res.packets > 0 && res.readErrors > 0 && res.openErrors > 0, JSON.stringify(res));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // Fresh readers still decode valid input afterwards.
  const small = defaultCaptureSeeds()[0]!;
  const r = openCaptureBuffer(small);
  let n = 0;
  const batch = new PacketBatch();
  for (let k = r.next(batch); k > 0; k = r.next(batch)) n += k;
  assert.ok(n > 0);
  assert.equal(r.error, null);
});

test('capture fuzz is reproducible for a seed', () => {
  const a = fuzzCaptureReaders(300, 42);
  const b = fuzzCaptureReaders(300, 42);
  assert.deepEqual(a, b);
  assert.equal(a.iterations, 300);
});

interface Unit {
  start: number;
  end: number;
  packet: boolean;
}

/** Header length and the records (pcap) or blocks (pcapng) of a well-formed capture, either byte order. */
function layout(buf: Buffer): { header: number; units: Unit[] } {
  const units: Unit[] = [];
  if (buf.readUInt32LE(0) === 0x0a0d0d0a) {
    let le = true;
    for (let p = 0; p < buf.length;) {
      const type = buf.readUInt32LE(p);
      if (type === 0x0a0d0d0a) le = buf.readUInt32LE(p + 8) === 0x1a2b3c4d;
      const t = le ? type : buf.readUInt32BE(p);
      const len = le ? buf.readUInt32LE(p + 4) : buf.readUInt32BE(p + 4);
      units.push({ start: p, end: p + len, packet: t === 2 || t === 3 || t === 6 });
      p += len;
    }
    return { header: units[0]!.end, units };
  }
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
  for (let p = 24; p < buf.length;) {
    const len = 16 + (le ? buf.readUInt32LE(p + 8) : buf.readUInt32BE(p + 8));
    units.push({ start: p, end: p + len, packet: true });
    p += len;
  }
  return { header: 24, units };
}

test('capture truncated at every offset: packets before the cut, error exactly when mid-record', () => {
  const seeds = defaultCaptureSeeds().filter((s) => s.length < 4096);
  assert.ok(seeds.length >= 4);
  const batch = new PacketBatch(3);
  for (const [si, full] of seeds.entries()) {
    const { header, units } = layout(full);
    assert.equal(units.at(-1)!.end, full.length, `seed ${si} layout`);
    for (let cut = 0; cut <= full.length; cut++) {
      const input = full.subarray(0, cut);
      if (cut < header) {
        assert.throws(() => openCaptureBuffer(input), CaptureError, `seed ${si} cut ${cut}`);
        continue;
      }
      const r = openCaptureBuffer(input);
      let n = 0;
      for (let k = r.next(batch), calls = 0; k > 0 && calls < 10000; k = r.next(batch), calls++) n += k;
      const inside = units.filter((u) => u.packet && u.end <= cut).length;
      const broken = units.find((u) => u.start < cut && cut < u.end);
      assert.equal(n, inside, `seed ${si} cut ${cut}: packets`);
      if (broken === undefined) assert.equal(r.error, null, `seed ${si} cut ${cut}: clean end`);
      else assert.equal(r.error?.offset, broken.start, `seed ${si} cut ${cut}: error offset`);
    }
  }
});
