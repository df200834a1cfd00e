/**
 * Beaconing (command-and-control check-ins) detector, after RITA: the start times of connections
 * from an internal host ($HOME_NET) to one external destination and port. Malware checks in on a
 * timer, so the intervals between its connections cluster tightly around the period; people and
 * most software connect irregularly. A series alerts when it has enough connections and the
 * intervals' dispersion (median absolute deviation / median) is low. Connection sizes are reported
 * and raise the severity when they are consistent too (not required: tasking and uploads vary).
 *
 * Connections are taken from finished flow records (so retransmitted SYNs are one connection, and
 * failed check-ins to a dead server count too). Not counted: TCP flows without a client SYN
 * (midstream, or the continuation of a long flow after the active timeout), DNS and NTP (periodic
 * by design; DNS tunnels are the DNS detector's job), ICMP. Internal destinations only when
 * `include_internal` is set (internal monitoring agents post on a timer). One alert per series;
 * a series ends after `max_interval_s` without a connection. Thresholds: docs/behavior.md.
 */
import type { FlowRecord } from '../../flow/table.js';
import type { BehaviorContext, BehaviorDetector, BehaviorSeverity } from './types.js';

export const BEACONING_NAME = 'beaconing';

/** Defaults (documented in docs/behavior.md). */
export const BEACONING_DEFAULTS: Readonly<Record<string, number>> = Object.freeze({
  /** Connections (after merging those closer than min_interval_s) needed before a series is judged. */
  min_connections: 6,
  /** Largest interval dispersion, MAD / median of the intervals (0.1: within about ±20 % of the period). */
  max_jitter: 0.1,
  /** Connections closer than this are one check-in; a median interval below it is not a beacon, seconds. */
  min_interval_s: 2,
  /** Longest period considered; a gap longer than this ends a series, seconds. */
  max_interval_s: 3600,
  /** 1: also judge connections to internal ($HOME_NET) destinations. */
  include_internal: 0,
  /** 1: also judge DNS (port 53 or recognised DNS) and NTP (UDP 123) flows. */
  include_dns_ntp: 0,
});

const SID = 9200501;
/** Connection starts kept per series (the newest). */
const MAX_SERIES = 64;
/** Series kept at most; the least recently active is evicted. */
const MAX_KEYS = 16384;
const TCP_SYN = 0x02;
/**
 * All intervals but the worst eighth must lie within SPREAD_FACTOR * max_jitter of the median;
 * SPREAD_FACTOR_SHORT while a series has fewer than twice min_connections check-ins, where chance
 * regularity is likelier. Chosen by simulation (series judged at every connection): Poisson
 * connection times pass 0.03 %, log-normal (sigma 0.5, human-like) 0.8 %, while beacons with
 * ±10 % jitter pass from the sixth check-in and ±20 % in 80 % of 10-check-in series.
 */
const SPREAD_FACTOR = 2.5;
const SPREAD_FACTOR_SHORT = 2;

class Series {
  /** Connection start times, ascending, and each connection's client bytes and duration. */
  starts: number[] = [];
  sizes: number[] = [];
  durations: number[] = [];
  alerted = false;
  lastUs = 0;

  constructor(
    readonly src: string,
    readonly dst: string,
    readonly dport: number,
    readonly proto: number,
  ) {}
}

export function median(v: number[]): number {
  const s = v.slice().sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return 0;
  return n % 2 === 1 ? s[(n - 1) >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** Median absolute deviation from the median. */
export function mad(v: number[], med: number = median(v)): number {
  return median(v.map((x) => Math.abs(x - med)));
}

/** Statistics of a series of connection starts (µs, ascending) as judged by the detector. */
export interface BeaconStats {
  /** Check-ins after merging starts closer than minIntervalUs, within the latest run without a gap over maxIntervalUs. */
  count: number;
  /** Index in `starts` of the first check-in of that run. */
  from: number;
  intervals: number[];
  medianUs: number;
  meanUs: number;
  /** MAD / median. */
  jitter: number;
  /**
   * Relative deviation from the median that all intervals but the worst eighth stay within (a
   * missed or extra check-in is tolerated once the series is long enough). With few intervals the
   * MAD alone is noisy: five random (Poisson) intervals pass MAD/median <= 0.1 about 3 % of the
   * time (see SPREAD_FACTOR).
   */
  spread: number;
  /** Standard deviation / mean. */
  cv: number;
}

export function beaconStats(starts: number[], minIntervalUs: number, maxIntervalUs: number): BeaconStats {
  const kept: number[] = [];
  let from = 0;
  let last = -Infinity;
  for (let k = 0; k < starts.length; k++) {
    const t = starts[k]!;
    if (t - last < minIntervalUs) continue;
    if (t - last > maxIntervalUs) {
      kept.length = 0;
      from = k;
    }
    kept.push(t);
    last = t;
  }
  const intervals: number[] = [];
  for (let k = 1; k < kept.length; k++) intervals.push(kept[k]! - kept[k - 1]!);
  const med = median(intervals);
  let mean = 0;
  for (const x of intervals) mean += x;
  mean = intervals.length > 0 ? mean / intervals.length : 0;
  let varSum = 0;
  for (const x of intervals) varSum += (x - mean) * (x - mean);
  const sd = intervals.length > 0 ? Math.sqrt(varSum / intervals.length) : 0;
  let spread = Infinity;
  if (med > 0) {
    const dev = intervals.map((x) => Math.abs(x - med) / med).sort((a, b) => a - b);
    spread = dev[dev.length - 1 - Math.floor(dev.length / 8)]!;
  }
  return {
    count: kept.length,
    from,
    intervals,
    medianUs: med,
    meanUs: mean,
    jitter: med > 0 ? mad(intervals, med) / med : Infinity,
    spread,
    cv: mean > 0 ? sd / mean : Infinity,
  };
}

export function createBeaconing(ctx: BehaviorContext): BehaviorDetector {
  const p = { ...BEACONING_DEFAULTS, ...ctx.cfg.params[BEACONING_NAME] };
  const minConn = Math.max(3, Math.round(p['min_connections']!));
  const maxJitter = p['max_jitter']!;
  const minIntervalUs = p['min_interval_s']! * 1e6;
  const maxIntervalUs = Math.max(1, p['max_interval_s']!) * 1e6;
  const includeInternal = p['include_internal']! > 0;
  const includeDnsNtp = p['include_dns_ntp']! > 0;
  const series = new Map<string, Series>();
  let lastSweepUs = 0;

  function judge(s: Series, tsUs: number): void {
    const st = beaconStats(s.starts, minIntervalUs, maxIntervalUs);
    if (st.count < minConn || st.medianUs < minIntervalUs) return;
    const band = (st.count < 2 * minConn ? SPREAD_FACTOR_SHORT : SPREAD_FACTOR) * maxJitter;
    if (st.jitter > maxJitter || st.spread > band) return;
    // A beacon is a short check-in compared with its period (long flows cut by the active timeout are not).
    const durations = s.durations.slice(st.from);
    if (median(durations) > 0.5 * st.medianUs) return;
    s.alerted = true;
    const sizes = s.sizes.slice(st.from);
    const sizeMed = median(sizes);
    const sizeJitter = sizeMed > 0 ? mad(sizes, sizeMed) / sizeMed : 0;
    const first = s.starts[st.from]!;
    const lastStart = s.starts[s.starts.length - 1]!;
    const severity: BehaviorSeverity = sizeJitter <= 0.1 ? 'high' : 'medium';
    const r3 = (x: number): number => Math.round(x * 1000) / 1000;
    ctx.emit({
      tsUs,
      sid: SID,
      rev: 1,
      msg: 'VIGIL BEHAVIOR Periodic beaconing to an external host (possible C2)',
      type: 'malware',
      severity,
      mitre: ['T1071', 'T1071.001'],
      srcIp: s.src,
      dstIp: s.dst,
      srcPort: 0,
      dstPort: s.dport,
      proto: s.proto,
      ipVer: s.src.includes(':') ? 6 : 4,
      flowId: 0,
      evidence: {
        connections: [st.count],
        mean_interval_s: [r3(st.meanUs / 1e6)],
        median_interval_s: [r3(st.medianUs / 1e6)],
        jitter: [r3(st.jitter)],
        spread: [r3(st.spread)],
        cv: [r3(st.cv)],
        window_s: [Math.round((lastStart - first) / 1e5) / 10],
        median_bytes_out: [Math.round(sizeMed)],
        size_jitter: [r3(sizeJitter)],
      },
    });
  }

  return {
    name: BEACONING_NAME,

    flowEnd(rec: FlowRecord): void {
      const proto = rec.proto;
      if (proto !== 6 && proto !== 17) return;
      if (proto === 6 && (rec.tcp === undefined || (rec.tcp.flagsTs & TCP_SYN) === 0)) return;
      if (!includeDnsNtp && (rec.appProto === 'dns' || rec.dstPort === 53 || (proto === 17 && rec.dstPort === 123)))
        return;
      if (!ctx.isHomeIp(rec.srcIp)) return;
      if (!includeInternal && ctx.isHomeIp(rec.dstIp)) return;
      const id = `${rec.srcIp}|${rec.dstIp}|${proto}|${rec.dstPort}`;
      let s = series.get(id);
      if (s !== undefined) {
        series.delete(id);
        // A new series after a long silence.
        if (rec.startUs - s.lastUs > maxIntervalUs) s = undefined;
      }
      if (s === undefined) {
        if (series.size >= MAX_KEYS) {
          const oldest = series.keys().next().value;
          if (oldest !== undefined) series.delete(oldest);
        }
        s = new Series(rec.srcIp, rec.dstIp, rec.dstPort, proto);
      }
      series.set(id, s);
      if (rec.startUs > s.lastUs) s.lastUs = rec.startUs;
      // Flow records end in end-time order: insert by start time.
      let at = s.starts.length;
      while (at > 0 && s.starts[at - 1]! > rec.startUs) at--;
      s.starts.splice(at, 0, rec.startUs);
      s.sizes.splice(at, 0, rec.bytesToServer);
      s.durations.splice(at, 0, rec.endUs - rec.startUs);
      if (s.starts.length > MAX_SERIES) {
        s.starts.shift();
        s.sizes.shift();
        s.durations.shift();
      }
      if (!s.alerted) judge(s, rec.endUs);
    },

    tick(nowUs: number): void {
      if (nowUs - lastSweepUs < 10e6) return;
      lastSweepUs = nowUs;
      // Map order is least recently active first.
      for (const [id, s] of series) {
        if (nowUs - s.lastUs <= maxIntervalUs + 600e6) break;
        series.delete(id);
      }
    },
  };
}
