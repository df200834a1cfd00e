import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PacketBatch, LINKTYPE } from './batch.js';
import type { CaptureReader, ReadError } from './reader.js';
import { openCaptureBuffer, openCaptureFile, detectCaptureFormat } from './open.js';
import { CaptureError, type CaptureErrorCode } from './errors.js';
import { FIXTURES_DIR, SHARED_DIR, findFiles, tempDir } from '../../test/helpers/paths.js';

const FIX = path.join(FIXTURES_DIR, 'capture');
const CAPTURE_RE = /\.(pcap|pcapng|cap)$/;

interface Summary {
  count: number;
  /** FNV-1a style hash over every packet's bytes, lengths, timestamp, link type and interface. */
  hash: number;
  error: ReadError | null;
}

function summarize(r: CaptureReader): Summary {
  const batch = new PacketBatch();
  let count = 0;
  let h = 0x811c9dc5;
  for (let guard = 0; guard < 10_000_000; guard++) {
    const n = r.next(batch);
    if (n === 0) break;
    count += n;
    const b = batch.buf;
    for (let i = 0; i < n; i++) {
      const off = batch.off[i]!;
      const end = off + batch.capLen[i]!;
      for (let j = off; j < end; j++) h = Math.imul(h ^ b[j]!, 0x01000193);
      h = Math.imul(h ^ batch.origLen[i]!, 0x01000193);
      h = Math.imul(h ^ (batch.tsUs[i]! % 0x7fffffff), 0x01000193);
      h = Math.imul(h ^ Math.floor(batch.tsUs[i]! / 0x7fffffff), 0x01000193);
      h = Math.imul(h ^ ((batch.linkType[i]! << 16) | batch.ifIndex[i]!), 0x01000193);
    }
  }
  const error = r.error;
  r.close();
  return { count, hash: h >>> 0, error };
}

function throwsCode(fn: () => unknown, code: CaptureErrorCode, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CaptureError, String(e));
    assert.equal(e.code, code);
    assert.ok(!e.message.includes('\n'), 'one-line message');
    if (re) assert.match(e.message, re);
    return true;
  });
}

/** The tools the reference counts come from; tests that need them skip when they are missing. */
function haveTool(name: string): boolean {
  const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
  return r.error === undefined;
}
const HAVE_TOOLS = haveTool('capinfos') && haveTool('tcpdump');

/** capinfos' packet count, or null when capinfos cannot read the file. */
function capinfosCount(file: string): number | null {
  const r = spawnSync('capinfos', ['-c', '-M', '-T', '-r', file], { encoding: 'utf8' });
  const m = /\t(\d+)\s*$/.exec(r.stdout);
  return m ? Number(m[1]) : null;
}

/**
 * tcpdump's view: raw `tcpdump -nn -r FILE | wc -l`, and the lines that start a packet (some
 * dissectors add indented hex lines even without -x, so the raw count can exceed the packets).
 */
function tcpdumpCount(file: string): { lines: number; packets: number } {
  const r = spawnSync('tcpdump', ['-nn', '-r', file], { maxBuffer: 1 << 30 });
  const out = r.stdout;
  let lines = 0;
  let packets = 0;
  let atLineStart = true;
  for (let i = 0; i < out.length; i++) {
    const c = out[i]!;
    if (atLineStart && c !== 0x20 && c !== 0x09 && c !== 0x0a) packets++;
    if (c === 0x0a) lines++;
    atLineStart = c === 0x0a;
  }
  return { lines, packets };
}

test('open errors: not found, directory, empty, too short, unknown magic, gzip, truncated headers', () => {
  const dir = tempDir();
  const p = (name: string, content?: Buffer): string => {
    const f = path.join(dir, name);
    if (content) fs.writeFileSync(f, content);
    return f;
  };
  throwsCode(() => openCaptureFile(p('missing.pcap')), 'VIGIL_CAPTURE_NOT_FOUND', /not found/);
  throwsCode(() => openCaptureFile(dir), 'VIGIL_CAPTURE_UNREADABLE', /directory/);
  throwsCode(() => openCaptureFile(p('empty.pcap', Buffer.alloc(0))), 'VIGIL_CAPTURE_EMPTY', /empty/);
  throwsCode(() => openCaptureFile(p('short.pcap', Buffer.from([0xd4, 0xc3]))), 'VIGIL_CAPTURE_UNKNOWN_FORMAT');
  throwsCode(
    () => openCaptureFile(p('text.pcap', Buffer.from('hello world, not a capture'))),
    'VIGIL_CAPTURE_UNKNOWN_FORMAT',
    /magic 68656c6c/,
  );
  throwsCode(
    () => openCaptureFile(p('x.pcap.gz', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]))),
    'VIGIL_CAPTURE_UNKNOWN_FORMAT',
    /gzip/,
  );
  const pcap = fs.readFileSync(path.join(FIX, 'small.pcap'));
  throwsCode(
    () => openCaptureFile(p('hdr.pcap', pcap.subarray(0, 10))),
    'VIGIL_CAPTURE_UNKNOWN_FORMAT',
    /hdr\.pcap: truncated pcap file header: 10 of 24 bytes present$/,
  );
  const ng = fs.readFileSync(path.join(FIX, 'small.pcapng'));
  throwsCode(
    () => openCaptureFile(p('hdr.pcapng', ng.subarray(0, 6))),
    'VIGIL_CAPTURE_UNKNOWN_FORMAT',
    /truncated pcapng section header/,
  );
  throwsCode(() => openCaptureBuffer(Buffer.alloc(0)), 'VIGIL_CAPTURE_EMPTY');
  throwsCode(() => detectCaptureFormat(Buffer.from([0, 0, 0, 0])), 'VIGIL_CAPTURE_UNKNOWN_FORMAT');
  fs.rmSync(dir, { recursive: true });
});

test('fixtures: small.pcap, small.pcapng (ns resolution), multi-if.pcapng (two link types)', () => {
  const pcap = openCaptureFile(path.join(FIX, 'small.pcap'));
  assert.equal(pcap.format, 'pcap');
  assert.equal(pcap.size, 836);
  const batch = new PacketBatch();
  assert.equal(pcap.next(batch), 8);
  assert.equal(batch.tsUs[0], 1795689139691430);
  assert.equal(batch.capLen[0], 42);
  assert.equal(batch.buf.readUInt16BE(batch.off[0]! + 12), 0x0806, 'first frame is ARP');
  assert.equal(pcap.next(batch), 0);
  assert.equal(pcap.position, 836);
  assert.equal(pcap.error, null);
  pcap.close();

  const ng = openCaptureFile(path.join(FIX, 'small.pcapng'));
  assert.equal(ng.format, 'pcapng');
  assert.equal(ng.next(batch), 8);
  // tshark: 1730145002.900383409, 1730145019.839841464
  assert.equal(batch.tsUs[0], 1730145002900383);
  assert.equal(batch.tsUs[7], 1730145019839841);
  assert.equal(batch.capLen[7], 60);
  ng.close();

  const multi = openCaptureBuffer(fs.readFileSync(path.join(FIX, 'multi-if.pcapng')));
  assert.equal(multi.next(batch), 16);
  const seen = new Set<string>();
  for (let i = 0; i < 16; i++) seen.add(`${batch.ifIndex[i]}:${batch.linkType[i]}`);
  assert.deepEqual([...seen].sort(), [`0:${LINKTYPE.ETHERNET}`, `1:${LINKTYPE.IPV4}`]);
  // mergecap interleaves by time: the raw-IPv4 packets (2024) come first.
  assert.equal(batch.ifIndex[0], 1);
  assert.equal(batch.buf[batch.off[0]!]! >> 4, 4, 'raw IPv4 starts with the version nibble');
});

test('every capture under SHARED_DIR reads to the packet count of capinfos and tcpdump', (t) => {
  const files = [
    ...findFiles(path.join(SHARED_DIR, 'corpus'), CAPTURE_RE),
    ...findFiles(path.join(SHARED_DIR, 'data'), CAPTURE_RE),
  ];
  if (files.length === 0) return t.skip(`no captures under ${SHARED_DIR}`);
  if (!HAVE_TOOLS) return t.skip('capinfos/tcpdump not installed');
  const mismatches: string[] = [];
  for (const f of files) {
    const rel = path.relative(SHARED_DIR, f);
    const want = capinfosCount(f);
    const td = tcpdumpCount(f);
    if (td.lines !== want) t.diagnostic(`${rel}: tcpdump prints ${td.lines} lines for ${want} packets`);
    if (td.packets !== want) mismatches.push(`${rel}: capinfos ${want} vs tcpdump ${td.packets} packet lines`);
    const big = summarize(openCaptureFile(f));
    const small = summarize(openCaptureFile(f, { bufferSize: 4096 }));
    if (big.count !== want || big.error !== null) {
      mismatches.push(`${rel}: read ${big.count} packets (error ${JSON.stringify(big.error)}), capinfos ${want}`);
    }
    if (small.count !== big.count || small.hash !== big.hash) mismatches.push(`${rel}: 4 KiB buffer differs`);
  }
  t.diagnostic(`${files.length} captures checked`);
  assert.deepEqual(mismatches, []);
});

test('a 4 KiB buffer gives the same packets as the default buffer and as reading from memory', (t) => {
  const f = path.join(SHARED_DIR, 'corpus', 'benign_tricky.pcap');
  if (!fs.existsSync(f)) return t.skip('corpus not available');
  const big = summarize(openCaptureFile(f));
  const small = summarize(openCaptureFile(f, { bufferSize: 4096 }));
  const mem = summarize(openCaptureBuffer(fs.readFileSync(f)));
  assert.ok(big.count > 1000);
  assert.deepEqual(small, big);
  assert.deepEqual(mem, big);
});

/** Offsets at which each record (pcap) or block (pcapng) of a well-formed LE file starts. */
function recordStarts(buf: Buffer): number[] {
  const starts: number[] = [];
  if (buf.readUInt32LE(0) === 0x0a0d0d0a) {
    for (let p = 0; p + 12 <= buf.length; p += buf.readUInt32LE(p + 4)) starts.push(p);
  } else {
    for (let p = 24; p + 16 <= buf.length; p += 16 + buf.readUInt32LE(p + 8)) starts.push(p);
  }
  return starts;
}

test('truncated and corrupt real captures: the packets tcpdump reads, then an error', (t) => {
  const sources = [
    path.join(SHARED_DIR, 'corpus', 'xss.pcap'),
    path.join(SHARED_DIR, 'data', 'pcaps', 'chrissanders', 'dns_axfr.pcapng'),
    path.join(SHARED_DIR, 'data', 'pcaps', 'zeek', 'http_cooper-grill-dvwa.pcapng'),
    path.join(FIX, 'small.pcap'),
    // Not multi-if.pcapng: libpcap refuses pcapng files whose interfaces differ in link type.
  ].filter((f) => fs.existsSync(f));
  if (!HAVE_TOOLS) return t.skip('tcpdump not installed');
  const dir = tempDir();
  for (const src of sources) {
    const orig = fs.readFileSync(src);
    const ng = orig.readUInt32LE(0) === 0x0a0d0d0a;
    const starts = recordStarts(orig);
    const mid = starts[Math.floor(starts.length / 2)]!;
    const variants: [string, Buffer, number][] = [];
    variants.push(['cut-mid-record', orig.subarray(0, mid + 21), mid]);
    variants.push(['cut-in-header', orig.subarray(0, mid + 5), mid]);
    const badLen = Buffer.from(orig);
    if (ng)
      badLen.writeUInt32LE(7, mid + 4); // block total length 7
    else badLen.writeUInt32LE(0x7ffffff0, mid + 8); // caplen far beyond any snaplen
    variants.push(['bad-length', badLen, mid]);
    for (const [what, bytes, offset] of variants) {
      const f = path.join(dir, `${what}-${path.basename(src)}`);
      fs.writeFileSync(f, bytes);
      const got = summarize(openCaptureFile(f, { bufferSize: 1024 }));
      const mem = summarize(openCaptureBuffer(bytes));
      const td = tcpdumpCount(f).packets;
      const label = `${path.basename(src)} ${what}`;
      assert.equal(got.count, td, `${label}: tcpdump reads ${td}`);
      assert.equal(got.error?.offset, offset, label);
      assert.ok(got.error.reason.length > 0, label);
      assert.deepEqual(mem, got, label);
    }
    // Ending exactly at a record boundary is a clean end.
    const clean = summarize(openCaptureBuffer(orig.subarray(0, mid)));
    assert.equal(clean.error, null);
  }
  fs.rmSync(dir, { recursive: true });
});
