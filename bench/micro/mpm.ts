/**
 * Multi-pattern prefilter (src/detect/engine/mpm.ts): build time, memory and scan MB/s.
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/out && node /tmp/out/bench/micro/mpm.js
 *   MPM_COUNTS=5000,25000 MPM_TRIALS=400 MPM_DENSE_BUDGET=262144 node /tmp/out/bench/micro/mpm.js
 *
 * Synthetic sets are random-ish like ET Open fast patterns: 4..40 bytes, four in five printable
 * ASCII, one in five arbitrary bytes. They are scanned in 2 KB buffers of three kinds: random bytes
 * (like TLS payload), printable text, and "prefix soup" (concatenated random prefixes of the
 * patterns, which keeps the automaton deep and hits failure links: a worst case).
 *
 * If the shared data directory is there ($VIGIL_SHARED_DIR, else ../shared beside the repo), the ET Open rules
 * give a real set (per rule the fast_pattern content, else the longest positive content) scanned
 * over 2 KB slices of a capture file (headers and payloads as they come).
 *
 * Each set is built three ways: the default dense budget (or MPM_DENSE_BUDGET), a full DFA
 * (skipped above 256 K states) and root-only dense rows, which shows what the budget buys against
 * both ends. Scan rates are the best of MPM_TRIALS short trials of 64 buffers each (after 16 warm-up
 * buffers): on a shared machine the best trial is the least disturbed one. Build time is the best
 * of three builds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../test/fuzz/prng.js';
import { MPM_DEFAULT_DENSE_BUDGET, MpmBuilder } from '../../src/detect/engine/mpm.js';
import type { Mpm } from '../../src/detect/engine/mpm.js';

// Compiled to dist/bench/micro/ (or any --outDir): also try ../shared from the working directory.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SHARED =
  process.env['VIGIL_SHARED_DIR'] ??
  [path.resolve(ROOT, '..', 'shared'), path.resolve(process.cwd(), '..', 'shared')].find((d) => fs.existsSync(d)) ??
  path.resolve(ROOT, '..', 'shared');
const COUNTS = (process.env['MPM_COUNTS'] ?? '1000,5000,15000,25000').split(',').map(Number);
const TRIALS = Number(process.env['MPM_TRIALS'] ?? 200);
const BUDGET = Number(process.env['MPM_DENSE_BUDGET'] ?? MPM_DEFAULT_DENSE_BUDGET);
/** Full DFA layout only up to this many states (1 KB each), so the bench itself stays bounded. */
const FULL_DFA_LIMIT = 256 * 1024;
/** Buffers per timed trial: short trials, best of many, find the undisturbed time slices. */
const TRIAL = 64;
const BUF = 2048;
const NBUF = 512;

function synthetic(count: number, seed: number): Uint8Array[] {
  const rnd = mulberry32(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const out: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const p = new Uint8Array(4 + int(37));
    const binary = int(5) === 0;
    for (let i = 0; i < p.length; i++) p[i] = binary ? int(256) : 0x20 + int(95);
    out.push(p);
  }
  return out;
}

function buffers(kind: string, pats: Uint8Array[], seed: number): Uint8Array[] {
  const rnd = mulberry32(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const out: Uint8Array[] = [];
  for (let b = 0; b < NBUF; b++) {
    const a = new Uint8Array(BUF);
    if (kind === 'random') for (let i = 0; i < BUF; i++) a[i] = int(256);
    else if (kind === 'text') for (let i = 0; i < BUF; i++) a[i] = 0x20 + int(95);
    else {
      for (let i = 0; i < BUF;) {
        const p = pats[int(pats.length)]!;
        const n = Math.min(1 + int(p.length), BUF - i);
        a.set(p.subarray(0, n), i);
        i += n;
      }
    }
    out.push(a);
  }
  return out;
}

/** Content string of a rule (`abc|0d 0a|def`, backslash escapes) as bytes. */
function contentBytes(s: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < s.length;) {
    const ch = s[i]!;
    if (ch === '|') {
      const j = s.indexOf('|', i + 1);
      const hex = s.slice(i + 1, j < 0 ? s.length : j).trim();
      for (const h of hex.split(/\s+/)) if (h !== '') bytes.push(parseInt(h, 16) & 0xff);
      i = j < 0 ? s.length : j + 1;
    } else if (ch === '\\' && i + 1 < s.length) {
      bytes.push(s.charCodeAt(i + 1) & 0xff);
      i += 2;
    } else {
      bytes.push(s.charCodeAt(i) & 0xff);
      i++;
    }
  }
  return Uint8Array.from(bytes);
}

/** One fast pattern per active ET Open rule, or null when the rules are not there. */
function etOpen(): Uint8Array[] | null {
  const dir = path.join(SHARED, 'data', 'rules', 'et-open');
  if (!fs.existsSync(dir)) return null;
  const out: Uint8Array[] = [];
  const re = /content:\s*(!?)"((?:[^"\\]|\\.)*)"\s*;([^]*?)(?=content:|$)/g;
  for (const f of fs.readdirSync(dir).sort()) {
    if (!f.endsWith('.rules')) continue;
    for (const line of fs.readFileSync(path.join(dir, f), 'latin1').split('\n')) {
      if (!line.startsWith('alert')) continue;
      let best: Uint8Array | null = null;
      let fast: Uint8Array | null = null;
      for (const m of line.matchAll(re)) {
        if (m[1] === '!') continue;
        const b = contentBytes(m[2]!);
        if (b.length === 0) continue;
        if (/\bfast_pattern\b/.test(m[3]!)) fast = b;
        if (best === null || b.length > best.length) best = b;
      }
      const p = fast ?? best;
      if (p !== null) out.push(p);
    }
  }
  return out;
}

/** 2 KB slices spread over a capture file, or null. */
function captureSlices(): Uint8Array[] | null {
  for (const name of ['tr-benign.pcap', 'benign_tricky.pcap', 'mixed.pcap']) {
    const file = path.join(SHARED, 'corpus', name);
    if (!fs.existsSync(file)) continue;
    const data = fs.readFileSync(file);
    const step = Math.max(BUF, Math.floor(data.length / NBUF / BUF) * BUF);
    const out: Uint8Array[] = [];
    for (let o = 0; o + BUF <= data.length && out.length < NBUF; o += step)
      out.push(Uint8Array.from(data.subarray(o, o + BUF)));
    return out;
  }
  return null;
}

function build(pats: Uint8Array[], denseBudget: number): { m: Mpm; ms: number } {
  let best = Infinity;
  let m: Mpm | null = null;
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    const b = new MpmBuilder({ denseBudget });
    for (let i = 0; i < pats.length; i++) b.add(pats[i]!, i);
    m = b.build();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { m: m!, ms: best };
}

function scanRate(m: Mpm, bufs: Uint8Array[]): { mbps: number; idsPerBuf: number } {
  const out = new Int32Array(Math.max(1, m.idCapacity));
  const seen = new Uint32Array(m.idCapacity);
  let gen = 0;
  let ids = 0;
  for (const b of bufs) ids += m.scan(b, 0, b.length, out, seen, ++gen);
  let best = 0;
  for (let t = 0; t < TRIALS; t++) {
    const o = (t * TRIAL) % (bufs.length - TRIAL + 1);
    for (let k = o; k < o + 16; k++) m.scan(bufs[k]!, 0, BUF, out, seen, ++gen);
    const t0 = process.hrtime.bigint();
    for (let k = o; k < o + TRIAL; k++) m.scan(bufs[k]!, 0, BUF, out, seen, ++gen);
    const us = Number(process.hrtime.bigint() - t0) / 1e3;
    best = Math.max(best, (TRIAL * BUF) / us); // bytes per µs = MB/s
  }
  return { mbps: best, idsPerBuf: ids / bufs.length };
}

function report(label: string, pats: Uint8Array[], sets: [string, Uint8Array[]][]): void {
  const first = build(pats, BUDGET);
  const fm = first.m;
  console.log(
    `${label} ${fm.patternCount} patterns: ${fm.stateCount} states, ${fm.classCount} classes, ` +
      `full DFA ${((fm.stateCount * 1024) / 2 ** 20).toFixed(0)} MB`,
  );
  const layouts: [string, number][] = [['default', BUDGET]];
  if (fm.denseStates < fm.stateCount && fm.stateCount <= FULL_DFA_LIMIT) layouts.push(['full-dfa', Infinity]);
  layouts.push(['root-only', 0]);
  for (const [name, budget] of layouts) {
    const { m, ms } = name === 'default' ? first : build(pats, budget);
    const rates = sets.map(([k, b]) => {
      const r = scanRate(m, b);
      return `${k} ${r.mbps.toFixed(0)} MB/s (${r.idsPerBuf.toFixed(1)} ids)`;
    });
    console.log(
      `  ${name.padEnd(9)} build ${ms.toFixed(0).padStart(4)} ms  mem ${(m.memoryBytes / 2 ** 20).toFixed(1).padStart(5)} MB  ` +
        `dense ${String(m.denseStates).padStart(6)}  ${rates.join(', ')}`,
    );
  }
}

console.log(`node ${process.version}, ${BUF}-byte buffers, best of ${TRIALS} trials, dense budget ${BUDGET}`);
for (const count of COUNTS) {
  const pats = synthetic(count, count);
  report('synthetic', pats, [
    ['random', buffers('random', pats, 1)],
    ['text', buffers('text', pats, 2)],
    ['prefix-soup', buffers('prefix', pats, 3)],
  ]);
}
const et = etOpen();
const slices = captureSlices();
if (et !== null && slices !== null) {
  for (const count of [5000, 15000, et.length]) {
    if (count > et.length) continue;
    report('ET Open', et.slice(0, count), [
      ['capture', slices],
      ['random', buffers('random', et, 1)],
    ]);
  }
} else console.log(`(ET Open rules or capture not found under ${SHARED}: real set skipped)`);
