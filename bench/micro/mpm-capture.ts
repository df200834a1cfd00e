/**
 * Prefilter scan on real traffic (src/detect/engine/mpm.ts), old vs new: the ET Open payload fast
 * patterns that TCP packets to and from port 80 meet (the detector's port groups for those
 * directions, approximated from the rules' ports and `flow`), and the HTTP response-body
 * (`file.data`) fast patterns, scanned over the TCP payloads of the corpus captures in that
 * direction (bodies approximated by the server's payloads).
 *
 *   npx tsc -p tsconfig.json --outDir /tmp/out && node /tmp/out/bench/micro/mpm-capture.js
 *   MPM_OLD=/tmp/old/src/detect/engine/mpm.js node /tmp/out/bench/micro/mpm-capture.js
 *
 * MPM_OLD is mpm.js of another build (e.g. the previous commit compiled to /tmp/old); without it
 * the current code is compared with itself at the previous default dense budget (64 K entries).
 * Each variant scans the same slices of SLICE payloads back to back, best of 3 per slice; the
 * figure is the median of the per-slice time ratios (new / old), which a busy machine disturbs
 * far less than absolute rates. Absolute MB/s (best slice) are printed for orientation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDetectRules } from '../../src/detect/engine/load.js';
import { withDefaultVars } from '../../src/detect/signatures/vars.js';
import { FLOW_TO_CLIENT, FLOW_TO_SERVER } from '../../src/detect/engine/compile.js';
import type { CompiledRule } from '../../src/detect/engine/compile.js';
import * as current from '../../src/detect/engine/mpm.js';

interface MpmLike {
  idCapacity: number;
  stateCount: number;
  denseStates: number;
  memoryBytes: number;
  scan(buf: Uint8Array, off: number, len: number, out: Int32Array, seen: Uint32Array, gen: number): number;
}
interface MpmModule {
  MpmBuilder: new (o?: { denseBudget?: number }) => { add(p: Uint8Array, id: number): void; build(): MpmLike };
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SHARED =
  process.env['VIGIL_SHARED_DIR'] ??
  [path.resolve(ROOT, '..', 'shared'), path.resolve(process.cwd(), '..', 'shared')].find((d) => fs.existsSync(d)) ??
  path.resolve(ROOT, '..', 'shared');
const SLICE = Number(process.env['MPM_SLICE'] ?? 100);
const SLICES = Number(process.env['MPM_SLICES'] ?? 60);
const PORT = 80;

/** TCP payloads of the corpus pcaps (Ethernet, IPv4, classic pcap), to and from PORT. */
function payloads(): { toServer: Uint8Array[]; toClient: Uint8Array[] } {
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  const dir = path.join(SHARED, 'corpus');
  for (const f of fs.readdirSync(dir).sort()) {
    if (!f.endsWith('.pcap')) continue;
    const d = fs.readFileSync(path.join(dir, f));
    if (d.length < 24 || d.readUInt32LE(0) !== 0xa1b2c3d4 || d.readUInt32LE(20) !== 1) continue;
    for (let o = 24; o + 16 <= d.length;) {
      const cap = d.readUInt32LE(o + 8);
      const p = o + 16;
      o = p + cap;
      if (o > d.length || cap < 54 || d.readUInt16BE(p + 12) !== 0x0800) continue;
      const ip = p + 14;
      const ihl = (d[ip]! & 15) * 4;
      if (d[ip + 9] !== 6) continue;
      const tcp = ip + ihl;
      const end = Math.min(o, ip + d.readUInt16BE(ip + 2));
      const thl = (d[tcp + 12]! >> 4) * 4;
      if (tcp + thl >= end) continue;
      const pay = Uint8Array.from(d.subarray(tcp + thl, end));
      if (d.readUInt16BE(tcp + 2) === PORT) toServer.push(pay);
      else if (d.readUInt16BE(tcp) === PORT) toClient.push(pay);
    }
  }
  return { toServer, toClient };
}

function allows(ranges: readonly number[], port: number): boolean {
  for (let k = 0; k < ranges.length; k += 2) if (port >= ranges[k]! && port <= ranges[k + 1]!) return true;
  return false;
}

/** ET Open fast patterns: payload rules a packet to / from PORT meets, and HTTP response-body rules. */
function sets(): [string, Uint8Array[], 0 | 1][] {
  const dir = path.join(SHARED, 'data', 'rules', 'et-open');
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.rules'))
    .sort()
    .map((f) => path.join(dir, f));
  const rules = loadDetectRules({
    ruleFiles: files,
    vars: withDefaultVars(),
    classificationFile: null,
    thresholdFile: null,
  }).rules;
  const ts: Uint8Array[] = [];
  const tc: Uint8Array[] = [];
  const body: Uint8Array[] = [];
  const payloadRule = (r: CompiledRule): boolean =>
    r.scope === 'pkt' && r.fast !== null && r.progs[r.fast.prog]!.buffer === 'payload' && !r.icmp;
  for (const r of rules) {
    if (r.fast === null) continue;
    const prog = r.progs[r.fast.prog]!;
    if (payloadRule(r) && prog.transforms.length === 0 && (r.proto === 0 || r.proto === 6)) {
      if (!(r.flow & FLOW_TO_CLIENT) && (r.bidir || allows(r.dpRanges, PORT))) ts.push(r.fast.pat);
      if (!(r.flow & FLOW_TO_SERVER) && (r.bidir || allows(r.spRanges, PORT))) tc.push(r.fast.pat);
    }
    if (
      r.scope === 'http' &&
      prog.transforms.length === 0 &&
      r.txDir !== 'ts' &&
      (prog.buffer === 'file.data' || prog.buffer === 'http.response_body')
    )
      body.push(r.fast.pat);
  }
  return [
    ['payload to port 80', ts, 0],
    ['payload from port 80', tc, 1],
    ['response bodies', body, 1],
  ];
}

function build(m: MpmModule, pats: Uint8Array[], denseBudget?: number): MpmLike {
  const b = new m.MpmBuilder(denseBudget === undefined ? {} : { denseBudget });
  for (let i = 0; i < pats.length; i++) b.add(pats[i]!.subarray(0, 255), i);
  return b.build();
}

function compare(label: string, a: MpmLike, b: MpmLike, data: Uint8Array[]): void {
  const cap = Math.max(a.idCapacity, b.idCapacity, 1);
  const out = new Int32Array(cap);
  const seen = new Uint32Array(cap);
  let gen = 0;
  let differ = 0;
  const seenA = new Uint32Array(cap);
  const outA = new Int32Array(cap);
  for (const p of data) {
    const na = a.scan(p, 0, p.length, outA, seenA, ++gen);
    const nb = b.scan(p, 0, p.length, out, seen, gen);
    if (na !== nb) differ++;
  }
  const ratios: number[] = [];
  let bestA = 0;
  let bestB = 0;
  for (let s = 0; s < SLICES; s++) {
    const from = (s * SLICE) % Math.max(1, data.length - SLICE);
    let bytes = 0;
    for (let k = from; k < from + SLICE && k < data.length; k++) bytes += data[k]!.length;
    let ta = Infinity;
    let tb = Infinity;
    for (let rep = 0; rep < 3; rep++) {
      let t0 = process.hrtime.bigint();
      for (let k = from; k < from + SLICE && k < data.length; k++)
        a.scan(data[k]!, 0, data[k]!.length, outA, seenA, ++gen);
      ta = Math.min(ta, Number(process.hrtime.bigint() - t0));
      t0 = process.hrtime.bigint();
      for (let k = from; k < from + SLICE && k < data.length; k++) b.scan(data[k]!, 0, data[k]!.length, out, seen, gen);
      tb = Math.min(tb, Number(process.hrtime.bigint() - t0));
    }
    ratios.push(tb / ta);
    bestA = Math.max(bestA, (bytes * 1e3) / ta);
    bestB = Math.max(bestB, (bytes * 1e3) / tb);
  }
  ratios.sort((x, y) => x - y);
  console.log(
    `  ${label.padEnd(28)} new/old ${ratios[ratios.length >> 1]!.toFixed(2)}  ` +
      `(old ${bestA.toFixed(0)} MB/s, ${(a.memoryBytes / 2 ** 20).toFixed(1)} MB; ` +
      `new ${bestB.toFixed(0)} MB/s, ${(b.memoryBytes / 2 ** 20).toFixed(1)} MB, dense ${b.denseStates}/${b.stateCount})` +
      (differ > 0 ? `  ${differ} buffers with different hit counts!` : ''),
  );
}

const oldPath = process.env['MPM_OLD'];
const old: MpmModule | null = oldPath === undefined ? null : ((await import(path.resolve(oldPath))) as MpmModule);
const { toServer, toClient } = payloads();
console.log(
  `node ${process.version}; ${toServer.length} payloads to port ${PORT}, ${toClient.length} from it; ` +
    `median of ${SLICES} slices of ${SLICE} payloads; old = ${oldPath ?? 'current code, dense budget 64 K'}`,
);
for (const [name, pats, side] of sets()) {
  const data = side === 0 ? toServer : toClient;
  const neu = build(current, pats);
  const base = old === null ? build(current, pats, 64 * 1024) : build(old, pats);
  console.log(`${name}: ${pats.length} patterns, ${neu.stateCount} states`);
  compare('all payloads', base, neu, data);
  compare(
    'payloads of 256 B or more',
    base,
    neu,
    data.filter((p) => p.length >= 256),
  );
  compare(
    'payloads under 256 B',
    base,
    neu,
    data.filter((p) => p.length < 256),
  );
  if (old !== null) compare('new code at 64 K budget', build(current, pats, 64 * 1024), neu, data);
}
