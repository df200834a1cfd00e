/**
 * Labeled flows from captures with truth files (`vigil train --data FILE.pcap`, with
 * FILE.truth.json beside it; or a directory of such pairs). The capture runs through the packet
 * engine (src/pipeline/runner.ts, application layer and detection off: flows and features only);
 * this module is also the run's sink, collecting each finished flow's features, 5-tuple and times.
 *
 * Labelling rule (docs/ml.md, "Captures with truth files"): a flow takes the label of a truth event
 * when it links the event's `src` and `dst` (either direction) and its [first packet, last packet]
 * overlaps the event's [start, end] (both edges included). When several events match, the one
 * overlapping the flow longest wins (ties: the earlier event in the file). Events labeled `benign`
 * label nothing. `c2` becomes `malware` (the alert type it is scored as). Every other flow is
 * `benign`: background traffic of the lab (ARP, boundary pings, the benign client).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AppRecord } from '../applayer/app-layer.js';
import { CaptureError } from '../capture/errors.js';
import { openCaptureFile } from '../capture/open.js';
import type { AlertRecord } from '../detect/engine/detector.js';
import { BENIGN_LABEL, canonicalIp, parseTruth } from '../eval/score.js';
import type { TruthEvent } from '../eval/score.js';
import { FEATURE_NAMES } from '../flow/features.js';
import type { FlowRecord } from '../flow/table.js';
import { defaultConfig } from '../pipeline/config.js';
import { runCapture } from '../pipeline/runner.js';
import type { FlowSink } from '../pipeline/sink.js';
import { isBenignLabel } from './csv.js';
import type { DataEncoding, LoadedData } from './csv.js';
import { MlError } from './errors.js';
import type { Dataset } from './types.js';

/** Label of flows no attack event covers. */
export const PCAP_BENIGN = 'benign';

/** Per-flow numbers beside the features: src port, dst port, proto, start µs, end µs. */
const META = 5;

/** A batch of finished flows, as drained from the sink (structured-cloneable). */
export interface FlowBatch {
  n: number;
  /** n x FEATURE_NAMES.length. */
  x: Float64Array;
  /** n x META: srcPort, dstPort, proto, startUs, endUs. */
  meta: Float64Array;
  /** 2n: src, dst per flow (client first, as the flow table orients them). */
  ips: string[];
}

const D = FEATURE_NAMES.length;
/** Flows per drained batch buffer before it grows. */
const BATCH_START = 1024;

class FlowCollector implements FlowSink {
  private x = new Float64Array(BATCH_START * D);
  private meta = new Float64Array(BATCH_START * META);
  private ips: string[] = [];
  private n = 0;
  flows = 0;

  flow(rec: FlowRecord): void {
    const f = rec.features;
    if (f === null) return;
    if (this.n * D === this.x.length) {
      const gx = new Float64Array(this.x.length * 2);
      gx.set(this.x);
      this.x = gx;
      const gm = new Float64Array(this.meta.length * 2);
      gm.set(this.meta);
      this.meta = gm;
    }
    // The features are a view into a recycled pool: copy them now.
    this.x.set(f, this.n * D);
    const m = this.n * META;
    this.meta[m] = rec.srcPort;
    this.meta[m + 1] = rec.dstPort;
    this.meta[m + 2] = rec.proto;
    this.meta[m + 3] = rec.startUs;
    this.meta[m + 4] = rec.endUs;
    this.ips.push(rec.srcIp, rec.dstIp);
    this.n++;
    this.flows++;
  }
  app(_rec: AppRecord): void {}
  alert(_rec: AlertRecord): void {}
  drain(): FlowBatch | null {
    if (this.n === 0) return null;
    const out: FlowBatch = {
      n: this.n,
      x: this.x.slice(0, this.n * D),
      meta: this.meta.slice(0, this.n * META),
      ips: this.ips,
    };
    this.n = 0;
    this.ips = [];
    return out;
  }
  finish(): { flows: number } {
    return { flows: this.flows };
  }
}

/** Sink factory for runCapture (this module is the sink module). */
export function createSink(_options: unknown): FlowSink {
  return new FlowCollector();
}

/** Truth file of a capture: NAME.pcap(ng) -> NAME.truth.json. */
export const truthFileOf = (capture: string): string => capture.replace(/\.pcap(ng)?$/i, '') + '.truth.json';

/** Pre-processed truth events for fast matching. */
interface Ev {
  label: string;
  a: string;
  b: string;
  startUs: number;
  endUs: number;
}

/** The dataset label of a truth label (`c2` is scored as `malware`). */
export const flowLabelOf = (label: string): string => (label === 'c2' ? 'malware' : label);

/**
 * Label flows by the rule in the header. `ips` holds src, dst per flow; `startUs`/`endUs` its times.
 */
export function labelFlows(
  events: readonly TruthEvent[],
  ips: readonly string[],
  startUs: Float64Array,
  endUs: Float64Array,
): string[] {
  const evs: Ev[] = events
    .filter((e) => e.label !== BENIGN_LABEL)
    .map((e) => ({
      label: flowLabelOf(e.label),
      a: canonicalIp(e.src),
      b: canonicalIp(e.dst),
      // Seconds to µs, rounded so an edge equal to a packet time compares equal.
      startUs: Math.round(e.start * 1e6),
      endUs: Math.round(e.end * 1e6),
    }));
  // Events per unordered address pair.
  const byPair = new Map<string, number[]>();
  const pairKey = (x: string, y: string): string => (x < y ? `${x}|${y}` : `${y}|${x}`);
  evs.forEach((e, i) => {
    const k = pairKey(e.a, e.b);
    const l = byPair.get(k);
    if (l === undefined) byPair.set(k, [i]);
    else l.push(i);
  });
  const n = startUs.length;
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    out[i] = PCAP_BENIGN;
    const cand = byPair.get(pairKey(canonicalIp(ips[2 * i]!), canonicalIp(ips[2 * i + 1]!)));
    if (cand === undefined) continue;
    let best = -1;
    let bestOverlap = -1;
    for (const e of cand) {
      const ev = evs[e]!;
      const lo = Math.max(ev.startUs, startUs[i]!);
      const hi = Math.min(ev.endUs, endUs[i]!);
      if (hi < lo) continue;
      if (hi - lo > bestOverlap) {
        bestOverlap = hi - lo;
        best = e;
      }
    }
    if (best >= 0) out[i] = evs[best]!.label;
  }
  return out;
}

/** Captures of `data`: the file itself, or every *.pcap/*.pcapng with a truth file in a directory. */
export function captureFiles(data: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(data);
  } catch (e) {
    throw new MlError('VIGIL_ML_DATA_INVALID', `cannot read ${data}: ${(e as Error).message}`);
  }
  if (!st.isDirectory()) return [data];
  const out = fs
    .readdirSync(data)
    .filter((n) => /\.pcap(ng)?$/i.test(n) && fs.existsSync(path.join(data, truthFileOf(n))))
    .sort()
    .map((n) => path.join(data, n));
  if (out.length === 0) throw new MlError('VIGIL_ML_DATA_INVALID', `${data}: no *.pcap with a .truth.json beside it`);
  return out;
}

export interface PcapImportOptions {
  /** Pipeline worker threads (default 1: the capture is read once, flows are cheap to label). */
  workers?: number;
  /** Initial class list (a model's), as in CsvImportOptions. */
  classes?: readonly string[];
  /** Bytes read of all captures, and their total. */
  onProgress?: (done: number, total: number) => void;
}

/** Flows of the captures, labeled from their truth files; `ts` is each flow's start (µs). */
export async function loadPcapDataset(data: string | string[], opts: PcapImportOptions = {}): Promise<LoadedData> {
  const files = Array.isArray(data) ? data : captureFiles(data);
  const truths = files.map((f) => {
    const tp = truthFileOf(f);
    let doc: unknown;
    try {
      doc = JSON.parse(fs.readFileSync(tp, 'utf8')) as unknown;
    } catch (e) {
      throw new MlError(
        'VIGIL_ML_DATA_INVALID',
        `cannot read truth file ${tp} (next to ${f}): ${(e as Error).message}`,
      );
    }
    try {
      return parseTruth(doc, tp);
    } catch (e) {
      throw new MlError('VIGIL_ML_DATA_INVALID', (e as Error).message);
    }
  });
  let total = 0;
  for (const f of files) total += fs.statSync(f).size;
  let before = 0;

  const xs: Float64Array[] = [];
  const labels: string[] = [];
  const starts: number[] = [];
  const warnings: string[] = [];
  for (let fi = 0; fi < files.length; fi++) {
    const file = files[fi]!;
    let reader;
    try {
      reader = openCaptureFile(file);
    } catch (e) {
      if (e instanceof CaptureError) throw new MlError('VIGIL_ML_DATA_INVALID', e.message);
      throw e;
    }
    const cfg = defaultConfig();
    // Flows and features only: what the model stage sees of a flow does not depend on detection.
    cfg.appLayer = false;
    cfg.flow.communityId = false;
    const batches: FlowBatch[] = [];
    try {
      const res = await runCapture(reader, {
        cfg,
        workers: opts.workers ?? 1,
        maxPackets: 0,
        sink: { module: import.meta.url, options: null },
        onDrain: (b) => batches.push(b as FlowBatch),
        onProgress: opts.onProgress ? (pos) => opts.onProgress!(before + pos, total) : undefined,
      });
      if (res.readError !== null)
        warnings.push(`${file}: ${res.readError.reason} at offset ${res.readError.offset}; used the flows before it`);
    } finally {
      reader.close();
    }
    before += fs.statSync(file).size;
    for (const b of batches) {
      const s = new Float64Array(b.n);
      const e = new Float64Array(b.n);
      for (let i = 0; i < b.n; i++) {
        s[i] = b.meta[i * META + 3]!;
        e[i] = b.meta[i * META + 4]!;
        starts.push(s[i]!);
      }
      for (const l of labelFlows(truths[fi]!, b.ips, s, e)) labels.push(l);
      xs.push(b.x);
    }
  }
  const n = labels.length;
  if (n === 0) throw new MlError('VIGIL_ML_DATA_INVALID', `${files.join(', ')}: no flows`);
  const x = new Float64Array(n * D);
  let o = 0;
  for (const b of xs) {
    x.set(b, o);
    o += b.length;
  }
  // Classes: the given list (a model's, whose indices must not move), else benign first, then the
  // others sorted (as the CSV import).
  const classes = [...(opts.classes ?? [])];
  let benignName = classes.find((c) => isBenignLabel(c)) ?? null;
  if (benignName === null && labels.includes(PCAP_BENIGN)) {
    benignName = PCAP_BENIGN;
    classes.push(PCAP_BENIGN);
  }
  for (const c of [...new Set(labels)].sort()) if (c !== PCAP_BENIGN && !classes.includes(c)) classes.push(c);
  const idx = new Map(classes.map((c, i) => [c, i]));
  const y = new Int32Array(n);
  const classCounts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const l = labels[i] === PCAP_BENIGN ? (benignName ?? PCAP_BENIGN) : labels[i]!;
    y[i] = idx.get(l)!;
    classCounts[l] = (classCounts[l] ?? 0) + 1;
  }
  const ds: Dataset = { x, n, d: D, features: [...FEATURE_NAMES], y, classes, ts: Float64Array.from(starts) };
  // Flow features are finite; the encoding records identity replacements so evaluate can reuse it.
  const encoding: DataEncoding = {
    format: 'pcap',
    labelColumn: 'truth',
    columns: FEATURE_NAMES.map((f) => ({ kind: 'numeric' as const, name: f, source: f, posInf: 0, negInf: 0 })),
  };
  return {
    ds,
    encoding,
    benignClass: benignName,
    stats: {
      files,
      format: 'pcap',
      rows: n,
      skippedRows: 0,
      droppedColumns: [],
      replaced: { posInf: 0, negInf: 0, nan: 0, nonNumeric: 0 },
      classCounts,
      warnings,
    },
  };
}
