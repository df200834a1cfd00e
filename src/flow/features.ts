/**
 * Flow features: the CICFlowMeter set, named exactly as the corrected CIC-IDS2017 CSV columns
 * (../shared/data/datasets/cicids2017, columns `Flow Duration` .. `Total TCP Flow Time`), then
 * Vigil's extras. This module owns the feature list and its order; docs/features.md defines every
 * feature. Accumulators live in one Float64Array (struct of arrays, `STRIDE` doubles per flow
 * slot) that grows with the flow table's high-water mark; nothing is allocated per packet.
 */

/** CIC-IDS2017 (corrected release) feature columns, in CSV order. */
const CIC_NAMES = [
  'Flow Duration',
  'Total Fwd Packet',
  'Total Bwd packets',
  'Total Length of Fwd Packet',
  'Total Length of Bwd Packet',
  'Fwd Packet Length Max',
  'Fwd Packet Length Min',
  'Fwd Packet Length Mean',
  'Fwd Packet Length Std',
  'Bwd Packet Length Max',
  'Bwd Packet Length Min',
  'Bwd Packet Length Mean',
  'Bwd Packet Length Std',
  'Flow Bytes/s',
  'Flow Packets/s',
  'Flow IAT Mean',
  'Flow IAT Std',
  'Flow IAT Max',
  'Flow IAT Min',
  'Fwd IAT Total',
  'Fwd IAT Mean',
  'Fwd IAT Std',
  'Fwd IAT Max',
  'Fwd IAT Min',
  'Bwd IAT Total',
  'Bwd IAT Mean',
  'Bwd IAT Std',
  'Bwd IAT Max',
  'Bwd IAT Min',
  'Fwd PSH Flags',
  'Bwd PSH Flags',
  'Fwd URG Flags',
  'Bwd URG Flags',
  'Fwd RST Flags',
  'Bwd RST Flags',
  'Fwd Header Length',
  'Bwd Header Length',
  'Fwd Packets/s',
  'Bwd Packets/s',
  'Packet Length Min',
  'Packet Length Max',
  'Packet Length Mean',
  'Packet Length Std',
  'Packet Length Variance',
  'FIN Flag Count',
  'SYN Flag Count',
  'RST Flag Count',
  'PSH Flag Count',
  'ACK Flag Count',
  'URG Flag Count',
  'CWR Flag Count',
  'ECE Flag Count',
  'Down/Up Ratio',
  'Average Packet Size',
  'Fwd Segment Size Avg',
  'Bwd Segment Size Avg',
  'Fwd Bytes/Bulk Avg',
  'Fwd Packet/Bulk Avg',
  'Fwd Bulk Rate Avg',
  'Bwd Bytes/Bulk Avg',
  'Bwd Packet/Bulk Avg',
  'Bwd Bulk Rate Avg',
  'Subflow Fwd Packets',
  'Subflow Fwd Bytes',
  'Subflow Bwd Packets',
  'Subflow Bwd Bytes',
  'FWD Init Win Bytes',
  'Bwd Init Win Bytes',
  'Fwd Act Data Pkts',
  'Fwd Seg Size Min',
  'Active Mean',
  'Active Std',
  'Active Max',
  'Active Min',
  'Idle Mean',
  'Idle Std',
  'Idle Max',
  'Idle Min',
  'ICMP Code',
  'ICMP Type',
  'Total TCP Flow Time',
] as const;

/** Vigil's extras, after the CIC set. `Dst Port` and `Protocol` are named as the CSV's columns. */
const EXTRA_NAMES = [
  'Dst Port',
  'Protocol',
  'Payload Entropy Fwd',
  'Payload Entropy Bwd',
  'Src Distinct Dst Ports',
  'Src Distinct Dst Hosts',
] as const;

/** Every feature, in vector order: the CIC set, then the extras. */
export const FEATURE_NAMES: readonly string[] = Object.freeze([...CIC_NAMES, ...EXTRA_NAMES]);

/** Number of CIC features (they come first in FEATURE_NAMES). */
export const CIC_FEATURE_COUNT: number = CIC_NAMES.length;

/** Index of a feature in FEATURE_NAMES (for consumers that pick single values). */
export const FEATURE_INDEX: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, i])),
);

// ---- Aliases -------------------------------------------------------------------------------------

/** Original CIC-IDS2017 MachineLearningCVE / TrafficLabelling spellings (trimmed) that differ from ours. */
const CIC2017_ORIGINAL: Readonly<Record<string, string>> = {
  'Destination Port': 'Dst Port',
  'Total Fwd Packets': 'Total Fwd Packet',
  'Total Backward Packets': 'Total Bwd packets',
  'Total Length of Fwd Packets': 'Total Length of Fwd Packet',
  'Total Length of Bwd Packets': 'Total Length of Bwd Packet',
  'Min Packet Length': 'Packet Length Min',
  'Max Packet Length': 'Packet Length Max',
  'CWE Flag Count': 'CWR Flag Count',
  'Avg Fwd Segment Size': 'Fwd Segment Size Avg',
  'Avg Bwd Segment Size': 'Bwd Segment Size Avg',
  // A duplicate column of Fwd Header Length in the original CSVs (a CICFlowMeter bug).
  'Fwd Header Length.1': 'Fwd Header Length',
  'Fwd Avg Bytes/Bulk': 'Fwd Bytes/Bulk Avg',
  'Fwd Avg Packets/Bulk': 'Fwd Packet/Bulk Avg',
  'Fwd Avg Bulk Rate': 'Fwd Bulk Rate Avg',
  'Bwd Avg Bytes/Bulk': 'Bwd Bytes/Bulk Avg',
  'Bwd Avg Packets/Bulk': 'Bwd Packet/Bulk Avg',
  'Bwd Avg Bulk Rate': 'Bwd Bulk Rate Avg',
  Init_Win_bytes_forward: 'FWD Init Win Bytes',
  Init_Win_bytes_backward: 'Bwd Init Win Bytes',
  act_data_pkt_fwd: 'Fwd Act Data Pkts',
  min_seg_size_forward: 'Fwd Seg Size Min',
};

/** CSE-CIC-IDS2018 spellings (CICFlowMeter-V3 output) that differ from ours. */
const CIC2018: Readonly<Record<string, string>> = {
  'Tot Fwd Pkts': 'Total Fwd Packet',
  'Tot Bwd Pkts': 'Total Bwd packets',
  'TotLen Fwd Pkts': 'Total Length of Fwd Packet',
  'TotLen Bwd Pkts': 'Total Length of Bwd Packet',
  'Fwd Pkt Len Max': 'Fwd Packet Length Max',
  'Fwd Pkt Len Min': 'Fwd Packet Length Min',
  'Fwd Pkt Len Mean': 'Fwd Packet Length Mean',
  'Fwd Pkt Len Std': 'Fwd Packet Length Std',
  'Bwd Pkt Len Max': 'Bwd Packet Length Max',
  'Bwd Pkt Len Min': 'Bwd Packet Length Min',
  'Bwd Pkt Len Mean': 'Bwd Packet Length Mean',
  'Bwd Pkt Len Std': 'Bwd Packet Length Std',
  'Flow Byts/s': 'Flow Bytes/s',
  'Flow Pkts/s': 'Flow Packets/s',
  'Fwd IAT Tot': 'Fwd IAT Total',
  'Bwd IAT Tot': 'Bwd IAT Total',
  'Fwd Header Len': 'Fwd Header Length',
  'Bwd Header Len': 'Bwd Header Length',
  'Fwd Pkts/s': 'Fwd Packets/s',
  'Bwd Pkts/s': 'Bwd Packets/s',
  'Pkt Len Min': 'Packet Length Min',
  'Pkt Len Max': 'Packet Length Max',
  'Pkt Len Mean': 'Packet Length Mean',
  'Pkt Len Std': 'Packet Length Std',
  'Pkt Len Var': 'Packet Length Variance',
  'FIN Flag Cnt': 'FIN Flag Count',
  'SYN Flag Cnt': 'SYN Flag Count',
  'RST Flag Cnt': 'RST Flag Count',
  'PSH Flag Cnt': 'PSH Flag Count',
  'ACK Flag Cnt': 'ACK Flag Count',
  'URG Flag Cnt': 'URG Flag Count',
  'CWE Flag Count': 'CWR Flag Count',
  'CWR Flag Cnt': 'CWR Flag Count',
  'ECE Flag Cnt': 'ECE Flag Count',
  'Pkt Size Avg': 'Average Packet Size',
  'Fwd Seg Size Avg': 'Fwd Segment Size Avg',
  'Bwd Seg Size Avg': 'Bwd Segment Size Avg',
  'Fwd Byts/b Avg': 'Fwd Bytes/Bulk Avg',
  'Fwd Pkts/b Avg': 'Fwd Packet/Bulk Avg',
  'Fwd Blk Rate Avg': 'Fwd Bulk Rate Avg',
  'Bwd Byts/b Avg': 'Bwd Bytes/Bulk Avg',
  'Bwd Pkts/b Avg': 'Bwd Packet/Bulk Avg',
  'Bwd Blk Rate Avg': 'Bwd Bulk Rate Avg',
  'Subflow Fwd Pkts': 'Subflow Fwd Packets',
  'Subflow Fwd Byts': 'Subflow Fwd Bytes',
  'Subflow Bwd Pkts': 'Subflow Bwd Packets',
  'Subflow Bwd Byts': 'Subflow Bwd Bytes',
  'Init Fwd Win Byts': 'FWD Init Win Bytes',
  'Init Bwd Win Byts': 'Bwd Init Win Bytes',
};

function buildAliases(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(CIC2017_ORIGINAL)) {
    out[k] = v;
    out[' ' + k] = v; // the original CSV headers carry a leading space on most columns
  }
  for (const [k, v] of Object.entries(CIC2018)) out[k] = v;
  // The Python `cicflowmeter` package writes the 2018 names in snake case (flow_byts_s, tot_fwd_pkts, ...).
  for (const [k, v] of Object.entries(CIC2018)) out[k.toLowerCase().replace(/[ /]/g, '_')] = v;
  for (const n of ['Flow Duration', 'Dst Port', 'Protocol', 'Fwd Act Data Pkts', 'Fwd Seg Size Min']) {
    out[n.toLowerCase().replace(/[ /]/g, '_')] = n;
  }
  for (const n of ['Flow IAT Mean', 'Flow IAT Std', 'Flow IAT Max', 'Flow IAT Min'])
    out[n.toLowerCase().replace(/ /g, '_')] = n;
  for (const d of ['Fwd', 'Bwd']) {
    for (const s of ['Mean', 'Std', 'Max', 'Min'])
      out[`${d} IAT ${s}`.toLowerCase().replace(/ /g, '_')] = `${d} IAT ${s}`;
    for (const s of ['PSH', 'URG']) out[`${d}_${s}_flags`.toLowerCase()] = `${d} ${s} Flags`;
  }
  for (const s of ['Mean', 'Std', 'Max', 'Min']) {
    out[`active_${s.toLowerCase()}`] = `Active ${s}`;
    out[`idle_${s.toLowerCase()}`] = `Idle ${s}`;
  }
  out['down_up_ratio'] = 'Down/Up Ratio';
  return out;
}

/**
 * Other tools' and datasets' spellings -> our feature name: the original CIC-IDS2017
 * MachineLearningCVE/TrafficLabelling headers (with and without their leading space),
 * CSE-CIC-IDS2018 headers, and the Python cicflowmeter's snake-case names.
 */
export const FEATURE_ALIASES: Readonly<Record<string, string>> = Object.freeze(buildAliases());

const CANONICAL: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const n of FEATURE_NAMES) m.set(n.toLowerCase(), n);
  for (const [k, v] of Object.entries(FEATURE_ALIASES)) {
    const key = k.trim().toLowerCase();
    if (!m.has(key)) m.set(key, v);
  }
  return m;
})();

/** Our name for a CSV column name (whitespace-trimmed, case-insensitive), or null when it is not a feature. */
export function canonicalFeatureName(name: string): string | null {
  return CANONICAL.get(name.trim().toLowerCase()) ?? null;
}

// ---- Accumulators ------------------------------------------------------------------------------

/** CICFlowMeter's activity timeout (active/idle periods): 5 s, in microseconds. */
export const ACTIVITY_TIMEOUT_US = 5_000_000;
/** CICFlowMeter's bulk idle limit: a gap over 1 s starts a new bulk candidate. */
const BULK_GAP_US = 1_000_000;
/** Payload bytes sampled per direction for entropy, and per packet. */
export const ENTROPY_SAMPLE_BYTES = 1024;
const ENTROPY_PER_PACKET = 256;
/**
 * Entropy histograms allocated at start and added per step when all are in use (each 256 x u16 =
 * 512 B: 2 MB per step), up to two per flow slot, so every direction is measured: a fixed pool made
 * the value depend on how many other flows were sampling and on when ended flows gave theirs back,
 * i.e. on batch boundaries (docs/performance.md). Steps rather than doubling: the bench capture
 * peaks between 16k and 32k histograms, where doubling would allocate up to 8 MB unused.
 */
export const DEFAULT_ENTROPY_POOL = 4096;

// A "stat" block: count, shift K (first value), sum(x-K), sum((x-K)^2), min, max. Shifted sums
// keep the sample variance accurate without a division per update.
const S_N = 0;
const S_K = 1;
const S_S1 = 2;
const S_S2 = 3;
const S_MIN = 4;
const S_MAX = 5;

// Layout of a slot's STRIDE doubles, grouped by what one packet touches: the flow block, the
// packet's direction block, the bulk block (payload packets only), then cold values. Synthetic
// bench, 20k uniformly random flows: 874 -> 656 ns/packet against the earlier flat layout.
const F_LAST = 0; // flow block
const F_FIRST = 1;
const F_ACT_START = 2;
const F_ACT_END = 3;
const F_IAT = 4; // stat block (6)
const F_ACT_DATA = 10; // forward packets with payload, first packet excluded
const F_MIN_SEG = 11; // smallest forward transport header
const F_ENT = 12; // entropy per direction (sum of c log2 c while sampling)
const F_CONN = 14; // connection start (Total TCP Flow Time)
const F_NPKT = 15;
const DIR = 16; // direction blocks: DIR + dir * DIR_SIZE
const DIR_SIZE = 16;
const D_LEN = 0; // stat block (6): payload lengths
const D_IAT = 6; // stat block (6)
const D_LAST = 12;
const D_HDR = 13;
const D_WIN = 14;
const D_ENT_N = 15; // payload bytes sampled for entropy
const BULK = 48; // bulk blocks: BULK + dir * BULK_SIZE
const BULK_SIZE = 8;
const B_DUR = 0;
const B_PKTS = 1;
const B_SIZE = 2;
const B_STATES = 3;
const B_PKT_HELPER = 4;
const B_START_HELPER = 5;
const B_SIZE_HELPER = 6;
const B_LAST_TS = 7;
const ACTIVE = 64; // cold: stat blocks, written on > 5 s gaps only
const IDLE = 70;
const ICMP_TYPE = 76;
const ICMP_CODE = 77;
const SRC_PORTS = 78;
const SRC_HOSTS = 79;
const DPORT = 80;
const PROTO = 81;
/** Doubles per flow slot (a multiple of 8: whole cache lines). */
export const STRIDE = 88;
/** TCP flag counters per slot: 8 per direction, indexed by flag bit (FIN=0 ... CWR=7), int32. */
const FLAG_STRIDE = 16;

function statAdd(f: Float64Array, b: number, x: number): void {
  const n = f[b + S_N]!;
  if (n === 0) {
    f[b + S_K] = x;
    f[b + S_MIN] = x;
    f[b + S_MAX] = x;
  } else {
    if (x < f[b + S_MIN]!) f[b + S_MIN] = x;
    if (x > f[b + S_MAX]!) f[b + S_MAX] = x;
  }
  const d = x - f[b + S_K]!;
  f[b + S_S1] = f[b + S_S1]! + d;
  f[b + S_S2] = f[b + S_S2]! + d * d;
  f[b + S_N] = n + 1;
}

function statSum(f: Float64Array, b: number): number {
  return f[b + S_S1]! + f[b + S_N]! * f[b + S_K]!;
}

function statMean(f: Float64Array, b: number): number {
  const n = f[b + S_N]!;
  return n > 0 ? f[b + S_K]! + f[b + S_S1]! / n : 0;
}

/** Sample variance (n - 1 denominator, as Apache Commons SummaryStatistics), 0 for n < 2. */
function statVar(f: Float64Array, b: number): number {
  const n = f[b + S_N]!;
  if (n < 2) return 0;
  const s1 = f[b + S_S1]!;
  const v = (f[b + S_S2]! - (s1 * s1) / n) / (n - 1);
  return v > 0 ? v : 0;
}

function statOr0(f: Float64Array, b: number, k: number): number {
  return f[b + S_N]! > 0 ? f[b + k]! : 0;
}

/**
 * One direction's bulk update, ported from CICFlowMeter's BasicFlow.updateForwardBulk (with the
 * direction test fixed as in the corrected release, so forward bulks are counted too).
 */
function bulkUpdate(f: Float64Array, b: number, other: number, ts: number, size: number): void {
  // CICFlowMeter runs the reset test below for zero-length packets too; the other direction's
  // last bulk time only grows, so testing it at the next payload packet gives the same result
  // and keeps zero-length packets off this cache line.
  if (f[other + B_LAST_TS]! > f[b + B_START_HELPER]!) f[b + B_START_HELPER] = 0;
  if (f[b + B_START_HELPER] === 0) {
    f[b + B_START_HELPER] = ts;
    f[b + B_PKT_HELPER] = 1;
    f[b + B_SIZE_HELPER] = size;
    f[b + B_LAST_TS] = ts;
  } else if (ts - f[b + B_LAST_TS]! > BULK_GAP_US) {
    f[b + B_START_HELPER] = ts;
    f[b + B_LAST_TS] = ts;
    f[b + B_PKT_HELPER] = 1;
    f[b + B_SIZE_HELPER] = size;
  } else {
    const helper = f[b + B_PKT_HELPER]! + 1;
    f[b + B_PKT_HELPER] = helper;
    f[b + B_SIZE_HELPER] = f[b + B_SIZE_HELPER]! + size;
    if (helper === 4) {
      f[b + B_STATES] = f[b + B_STATES]! + 1;
      f[b + B_PKTS] = f[b + B_PKTS]! + helper;
      f[b + B_SIZE] = f[b + B_SIZE]! + f[b + B_SIZE_HELPER]!;
      f[b + B_DUR] = f[b + B_DUR]! + (ts - f[b + B_START_HELPER]!);
    } else if (helper > 4) {
      f[b + B_PKTS] = f[b + B_PKTS]! + 1;
      f[b + B_SIZE] = f[b + B_SIZE]! + size;
      f[b + B_DUR] = f[b + B_DUR]! + (ts - f[b + B_LAST_TS]!);
    }
    f[b + B_LAST_TS] = ts;
  }
}

/** C_LOG_C[c] = c * log2(c): entropy from counts without a logarithm per bin. */
const C_LOG_C = (() => {
  const t = new Float64Array(ENTROPY_SAMPLE_BYTES + 1);
  for (let c = 2; c <= ENTROPY_SAMPLE_BYTES; c++) t[c] = c * Math.log2(c);
  return t;
})();

/**
 * C_LOG_C_STEP[c] = C_LOG_C[c + 1] - C_LOG_C[c], the change of the sum when a count goes from c
 * to c + 1: one table read per sampled byte instead of two (same doubles, so same sums).
 */
const C_LOG_C_STEP = (() => {
  const t = new Float64Array(ENTROPY_SAMPLE_BYTES);
  for (let c = 0; c < ENTROPY_SAMPLE_BYTES; c++) t[c] = C_LOG_C[c + 1]! - C_LOG_C[c]!;
  return t;
})();

/**
 * Shannon entropy in bits per byte of `n` sampled bytes given S = sum over byte values of
 * c * log2(c), kept up to date while sampling: H = log2(n) - S / n.
 */
function entropyOf(n: number, sumClogC: number): number {
  if (n <= 0) return 0;
  const h = Math.log2(n) - sumClogC / n;
  return h > 0 ? h : 0;
}

export interface FlowFeatureStats {
  /** Entropy histograms allocated (the pool's size: grows by doubling, never shrinks). */
  entropyHistograms: number;
  /** Accumulator slots allocated (grows by doubling up to the table's slot count). */
  featureSlots: number;
}

/**
 * Per-flow feature accumulators for every slot of a flow table. The table calls `init` when a
 * flow starts, `update` for each packet (including the first), and `finish` when it ends.
 */
export class FlowFeatures {
  private f: Float64Array;
  private flags: Int32Array;
  private slots: number;
  private readonly maxSlots: number;
  // Entropy histogram pool: per slot and direction the histogram index (-1 none).
  private readonly histOf: Int32Array;
  /** Histogram h is at (h & chunkMask) * 256 in histChunks[h >>> chunkShift]. */
  private readonly histChunks: Uint16Array[] = [];
  private readonly chunkShift: number;
  private readonly chunkMask: number;
  /** Free stack of histogram indexes; its length is the number allocated. */
  private freeHist: Int32Array;
  private freeHistTop = 0;

  /** `entropyPool`: histograms allocated at start and per step (see DEFAULT_ENTROPY_POOL), rounded up to a power of two. */
  constructor(maxSlots: number, entropyPool = DEFAULT_ENTROPY_POOL) {
    this.maxSlots = maxSlots;
    this.slots = Math.min(maxSlots, 1024);
    this.f = new Float64Array(this.slots * STRIDE);
    this.flags = new Int32Array(this.slots * FLAG_STRIDE);
    this.histOf = new Int32Array(maxSlots * 2).fill(-1);
    let shift = 0;
    while (1 << shift < entropyPool && shift < 20) shift++;
    this.chunkShift = shift;
    this.chunkMask = (1 << shift) - 1;
    this.freeHist = new Int32Array(0);
    this.growHist();
  }

  stats(): FlowFeatureStats {
    return { entropyHistograms: this.freeHist.length, featureSlots: this.slots };
  }

  /**
   * Add a step of histograms (called when none is free; not per packet). At most two per flow slot
   * are ever in use, which bounds the pool at 2 x maxSlots (+ one step).
   */
  private growHist(): void {
    const n = this.freeHist.length;
    const step = this.chunkMask + 1;
    this.histChunks.push(new Uint16Array(step * 256));
    // The stack is empty (every histogram is in use): it now holds the new ones, lowest on top.
    const free = new Int32Array(n + step);
    for (let k = 0; k < step; k++) free[k] = n + step - 1 - k;
    this.freeHist = free;
    this.freeHistTop = step;
  }

  /** Make room for slots [0, n) (called by the table when its high-water mark grows; not per packet). */
  ensure(n: number): void {
    if (n <= this.slots) return;
    let s = this.slots;
    while (s < n) s *= 2;
    if (s > this.maxSlots) s = this.maxSlots;
    const g = new Float64Array(s * STRIDE);
    g.set(this.f);
    this.f = g;
    const fl = new Int32Array(s * FLAG_STRIDE);
    fl.set(this.flags);
    this.flags = fl;
    this.slots = s;
  }

  /**
   * Start a flow in `slot`. `connStartUs` is the start of the connection (earlier than `tsUs` for
   * a continuation after the active timeout); `srcPorts`/`srcHosts` are the client's distinct
   * destination counts at flow start, this flow included (-1 when not tracked): the features' values.
   */
  init(
    slot: number,
    tsUs: number,
    proto: number,
    dport: number,
    icmpType: number,
    icmpCode: number,
    connStartUs: number,
    srcPorts: number,
    srcHosts: number,
  ): void {
    const f = this.f;
    const b = slot * STRIDE;
    f.fill(0, b, b + STRIDE);
    this.flags.fill(0, slot * FLAG_STRIDE, slot * FLAG_STRIDE + FLAG_STRIDE);
    f[b + F_FIRST] = tsUs;
    f[b + F_LAST] = tsUs;
    f[b + F_ACT_START] = tsUs;
    f[b + F_ACT_END] = tsUs;
    f[b + F_CONN] = connStartUs;
    f[b + ICMP_TYPE] = proto === 1 || proto === 58 ? icmpType : -1;
    f[b + ICMP_CODE] = proto === 1 || proto === 58 ? icmpCode : -1;
    f[b + SRC_PORTS] = srcPorts;
    f[b + SRC_HOSTS] = srcHosts;
    f[b + PROTO] = proto;
    f[b + DPORT] = dport;
    this.releaseHist(slot, 0);
    this.releaseHist(slot, 1);
  }

  /**
   * Account one packet. `plen`: transport payload length (CICFlowMeter's packet length),
   * `hlen`: transport header length, `win`: TCP window (0 otherwise). `buf[payOff, payOff+capLen)`
   * holds the captured payload bytes sampled for entropy (`capLen` 0 to skip).
   */
  update(
    slot: number,
    dir: number,
    tsUs: number,
    plen: number,
    hlen: number,
    flags: number,
    win: number,
    buf: Uint8Array,
    payOff: number,
    capLen: number,
  ): void {
    const f = this.f;
    const b = slot * STRIDE;
    const npkt = f[b + F_NPKT]!;
    f[b + F_NPKT] = npkt + 1;
    if (npkt > 0) {
      statAdd(f, b + F_IAT, tsUs - f[b + F_LAST]!);
      // Active/idle periods, as CICFlowMeter's updateActiveIdleTime (called for every packet in
      // the released code; the last active period is not recorded, matching the data).
      const end = f[b + F_ACT_END]!;
      if (tsUs - end > ACTIVITY_TIMEOUT_US) {
        const act = end - f[b + F_ACT_START]!;
        if (act > 0) statAdd(f, b + ACTIVE, act);
        statAdd(f, b + IDLE, tsUs - end);
        f[b + F_ACT_START] = tsUs;
      }
      f[b + F_ACT_END] = tsUs;
    }
    f[b + F_LAST] = tsUs;
    const d = b + DIR + dir * DIR_SIZE;
    const nDir = f[d + D_LEN + S_N]!;
    if (nDir > 0) statAdd(f, d + D_IAT, tsUs - f[d + D_LAST]!);
    f[d + D_LAST] = tsUs;
    statAdd(f, d + D_LEN, plen);
    f[d + D_HDR] = f[d + D_HDR]! + hlen;
    if (dir === 0) {
      if (nDir === 0) {
        f[d + D_WIN] = win;
        f[b + F_MIN_SEG] = hlen;
      } else if (hlen < f[b + F_MIN_SEG]!) f[b + F_MIN_SEG] = hlen;
      if (npkt > 0 && plen >= 1) f[b + F_ACT_DATA] = f[b + F_ACT_DATA]! + 1;
    } else {
      // CICFlowMeter overwrites the backward "initial" window on every backward packet; the
      // corrected CIC-IDS2017 data shows the same (Bwd Init Win Bytes is mostly a scaled window).
      f[d + D_WIN] = win;
    }
    if (flags !== 0) {
      const fl = this.flags;
      const fb = slot * FLAG_STRIDE + dir * 8;
      for (let k = 0; k < 8; k++) if ((flags & (1 << k)) !== 0) fl[fb + k]!++;
    }
    if (plen > 0) bulkUpdate(f, b + BULK + dir * BULK_SIZE, b + BULK + (1 - dir) * BULK_SIZE, tsUs, plen);
    // Entropy sample: the first ENTROPY_SAMPLE_BYTES payload bytes per direction, at most
    // ENTROPY_PER_PACKET from one packet, so the per-packet cost stays bounded.
    if (capLen > 0) {
      const have = f[d + D_ENT_N]!;
      if (have < ENTROPY_SAMPLE_BYTES) this.sample(slot, dir, d, have, buf, payOff, capLen);
    }
  }

  private sample(slot: number, dir: number, d: number, have: number, buf: Uint8Array, off: number, len: number): void {
    const f = this.f;
    // While sampling, F_ENT + dir holds sum(c log2 c) over the histogram; at the end, the entropy.
    const entOff = slot * STRIDE + F_ENT + dir;
    let h = this.histOf[slot * 2 + dir]!;
    if (h < 0) {
      if (this.freeHistTop === 0) this.growHist();
      h = this.freeHist[--this.freeHistTop]!;
      this.histOf[slot * 2 + dir] = h;
      const lo = (h & this.chunkMask) * 256;
      this.histChunks[h >>> this.chunkShift]!.fill(0, lo, lo + 256);
      f[entOff] = 0;
    }
    let take = ENTROPY_SAMPLE_BYTES - have;
    if (take > ENTROPY_PER_PACKET) take = ENTROPY_PER_PACKET;
    if (take > len) take = len;
    const hist = this.histChunks[h >>> this.chunkShift]!;
    const base = (h & this.chunkMask) * 256;
    const end = off + take;
    let sum = f[entOff]!;
    for (let p = off; p < end; p++) {
      const k = base + buf[p]!;
      const c = hist[k]!;
      hist[k] = c + 1;
      sum += C_LOG_C_STEP[c]!;
    }
    const n = have + take;
    f[d + D_ENT_N] = n;
    if (n >= ENTROPY_SAMPLE_BYTES) {
      f[entOff] = entropyOf(n, sum);
      this.releaseHist(slot, dir);
    } else f[entOff] = sum;
  }

  private releaseHist(slot: number, dir: number): void {
    const h = this.histOf[slot * 2 + dir]!;
    if (h < 0) return;
    this.freeHist[this.freeHistTop++] = h;
    this.histOf[slot * 2 + dir] = -1;
  }

  /**
   * Write the feature vector of `slot` (FEATURE_NAMES order) into `out` and release its entropy
   * histograms. Every value depends on the flow's own packets and on what happened before its
   * start (the distinct counts), never on when this is called, so batch boundaries do not show.
   */
  finish(slot: number, out: Float64Array): void {
    const f = this.f;
    const b = slot * STRIDE;
    const df = b + DIR;
    const db = b + DIR + DIR_SIZE;
    const lf = df + D_LEN;
    const lb = db + D_LEN;
    // Entropy of directions still sampling.
    for (let dir = 0; dir < 2; dir++) {
      const h = this.histOf[slot * 2 + dir]!;
      if (h >= 0) {
        f[b + F_ENT + dir] = entropyOf(f[b + DIR + dir * DIR_SIZE + D_ENT_N]!, f[b + F_ENT + dir]!);
        this.releaseHist(slot, dir);
      }
    }
    const fl = this.flags;
    const fb = slot * FLAG_STRIDE;
    const nF = f[lf + S_N]!;
    const nB = f[lb + S_N]!;
    const n = nF + nB;
    const first = f[b + F_FIRST]!;
    const last = f[b + F_LAST]!;
    const dur = last - first;
    const durS = dur / 1e6;
    const sumF = statSum(f, lf);
    const sumB = statSum(f, lb);
    // Whole-flow packet length statistics from the two directions' sums (exact for integers).
    const kF = f[lf + S_K]!;
    const kB = f[lb + S_K]!;
    const sqF = f[lf + S_S2]! + 2 * kF * f[lf + S_S1]! + nF * kF * kF;
    const sqB = f[lb + S_S2]! + 2 * kB * f[lb + S_S1]! + nB * kB * kB;
    const meanAll = n > 0 ? (sumF + sumB) / n : 0;
    let varAll = n > 1 ? (sqF + sqB - n * meanAll * meanAll) / (n - 1) : 0;
    if (varAll < 0) varAll = 0;
    let minAll = 0;
    let maxAll = 0;
    if (nF > 0 && nB > 0) {
      minAll = Math.min(f[lf + S_MIN]!, f[lb + S_MIN]!);
      maxAll = Math.max(f[lf + S_MAX]!, f[lb + S_MAX]!);
    } else if (nF > 0) {
      minAll = f[lf + S_MIN]!;
      maxAll = f[lf + S_MAX]!;
    } else if (nB > 0) {
      minAll = f[lb + S_MIN]!;
      maxAll = f[lb + S_MAX]!;
    }
    const proto = f[b + PROTO]!;
    let o = 0;
    out[o++] = dur; // Flow Duration
    out[o++] = nF; // Total Fwd Packet
    out[o++] = nB; // Total Bwd packets
    out[o++] = sumF; // Total Length of Fwd Packet
    out[o++] = sumB; // Total Length of Bwd Packet
    for (let l = lf; l <= lb; l += DIR_SIZE) {
      out[o++] = statOr0(f, l, S_MAX);
      out[o++] = statOr0(f, l, S_MIN);
      out[o++] = statMean(f, l);
      out[o++] = Math.sqrt(statVar(f, l));
    }
    out[o++] = dur > 0 ? (sumF + sumB) / durS : 0; // Flow Bytes/s
    out[o++] = dur > 0 ? n / durS : 0; // Flow Packets/s
    out[o++] = statMean(f, b + F_IAT);
    out[o++] = Math.sqrt(statVar(f, b + F_IAT));
    out[o++] = statOr0(f, b + F_IAT, S_MAX);
    out[o++] = statOr0(f, b + F_IAT, S_MIN);
    for (let ib = df + D_IAT; ib <= db + D_IAT; ib += DIR_SIZE) {
      out[o++] = statSum(f, ib); // Total
      out[o++] = statMean(f, ib);
      out[o++] = Math.sqrt(statVar(f, ib));
      out[o++] = statOr0(f, ib, S_MAX);
      out[o++] = statOr0(f, ib, S_MIN);
    }
    out[o++] = fl[fb + 3]!; // Fwd PSH Flags
    out[o++] = fl[fb + 8 + 3]!;
    out[o++] = fl[fb + 5]!; // Fwd URG Flags
    out[o++] = fl[fb + 8 + 5]!;
    out[o++] = fl[fb + 2]!; // Fwd RST Flags
    out[o++] = fl[fb + 8 + 2]!;
    out[o++] = f[df + D_HDR]!;
    out[o++] = f[db + D_HDR]!;
    out[o++] = dur > 0 ? nF / durS : 0; // Fwd Packets/s
    out[o++] = dur > 0 ? nB / durS : 0; // Bwd Packets/s
    out[o++] = minAll;
    out[o++] = maxAll;
    out[o++] = meanAll;
    out[o++] = Math.sqrt(varAll);
    out[o++] = varAll;
    // FIN, SYN, RST, PSH, ACK, URG, CWR, ECE (CSV order) from flag-bit counters.
    out[o++] = fl[fb + 0]! + fl[fb + 8 + 0]!;
    out[o++] = fl[fb + 1]! + fl[fb + 8 + 1]!;
    out[o++] = fl[fb + 2]! + fl[fb + 8 + 2]!;
    out[o++] = fl[fb + 3]! + fl[fb + 8 + 3]!;
    out[o++] = fl[fb + 4]! + fl[fb + 8 + 4]!;
    out[o++] = fl[fb + 5]! + fl[fb + 8 + 5]!;
    out[o++] = fl[fb + 7]! + fl[fb + 8 + 7]!;
    out[o++] = fl[fb + 6]! + fl[fb + 8 + 6]!;
    out[o++] = nF > 0 ? nB / nF : 0; // Down/Up Ratio
    out[o++] = meanAll; // Average Packet Size
    out[o++] = nF > 0 ? sumF / nF : 0; // Fwd Segment Size Avg
    out[o++] = nB > 0 ? sumB / nB : 0; // Bwd Segment Size Avg
    for (let k = b + BULK; k <= b + BULK + BULK_SIZE; k += BULK_SIZE) {
      const states = f[k + B_STATES]!;
      const bdur = f[k + B_DUR]!;
      out[o++] = states > 0 ? Math.trunc(f[k + B_SIZE]! / states) : 0;
      out[o++] = states > 0 ? Math.trunc(f[k + B_PKTS]! / states) : 0;
      out[o++] = bdur > 0 ? Math.trunc(f[k + B_SIZE]! / (bdur / 1e6)) : 0;
    }
    // Subflows: the released CICFlowMeter's subflow test has an operator-precedence slip that
    // makes every packet a new subflow, so the values are totals / packet count (integer division);
    // the corrected CIC-IDS2017 data shows exactly this, so we reproduce it.
    out[o++] = n > 0 ? Math.trunc(nF / n) : 0;
    out[o++] = n > 0 ? Math.trunc(sumF / n) : 0;
    out[o++] = n > 0 ? Math.trunc(nB / n) : 0;
    out[o++] = n > 0 ? Math.trunc(sumB / n) : 0;
    out[o++] = f[df + D_WIN]!;
    out[o++] = f[db + D_WIN]!;
    out[o++] = f[b + F_ACT_DATA]!;
    out[o++] = f[b + F_MIN_SEG]!;
    for (let sb = b + ACTIVE; sb <= b + IDLE; sb += IDLE - ACTIVE) {
      out[o++] = statMean(f, sb);
      out[o++] = Math.sqrt(statVar(f, sb));
      out[o++] = statOr0(f, sb, S_MAX);
      out[o++] = statOr0(f, sb, S_MIN);
    }
    out[o++] = f[b + ICMP_CODE]!;
    out[o++] = f[b + ICMP_TYPE]!;
    out[o++] = proto === 6 ? last - f[b + F_CONN]! : 0; // Total TCP Flow Time
    // Extras.
    out[o++] = f[b + DPORT]!;
    out[o++] = proto;
    out[o++] = f[b + F_ENT]!;
    out[o++] = f[b + F_ENT + 1]!;
    // Counted at flow start (see init): reading them again when the record is built made them
    // depend on how many flows the batch boundary let in meanwhile.
    out[o++] = f[b + SRC_PORTS]!;
    out[o] = f[b + SRC_HOSTS]!; // o + 1 === FEATURE_NAMES.length
  }
}
