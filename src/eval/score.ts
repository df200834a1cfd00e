/**
 * Corpus scoring (DESIGN.md, "Evaluation data"): truth events of a labeled capture against the
 * EVE alerts Vigil raised on it. Pure: no files, no processes; `vigil eval` feeds it.
 *
 * - An attack event (label other than `benign`; `c2` scores as type `malware`) is detected with
 *   the right type when an alert of that type links its `src` and `dst`, in either direction,
 *   with a timestamp inside [start - 5 s, end + 60 s] (both edges included).
 * - Each alert counts for one event at most: the events detected are a maximum bipartite matching
 *   of events to alerts (augmenting paths), so the figure does not depend on alert order. Twelve
 *   XSS requests need twelve alerts; a flood may raise many, and the surplus is not penalised.
 * - "Detected at all" is the same matching over alerts of any type, grown from the typed matching,
 *   so every event detected with its type also counts as detected at all (typed <= at-all, per
 *   event and per label) and the one-alert-per-event rule holds here too.
 * - An alert linking no attack event's address pair inside that event's window is a false
 *   positive, whatever its type. An alert inside some attack window that ends up unmatched (a
 *   flood's surplus, a second alert for one request) is neither a detection nor a false positive.
 */
import net from 'node:net';
import { EvalError } from './errors.js';

/** Seconds before an event's start that an alert still counts (clock skew, tool start-up). */
export const WINDOW_BEFORE_S = 5;
/** Seconds after an event's end that an alert still counts (flow-end and windowed detectors). */
export const WINDOW_AFTER_S = 60;
/** The truth label of normal traffic: never an event to detect. */
export const BENIGN_LABEL = 'benign';

/** One truth event (`NAME.truth.json`); times in unix epoch seconds. */
export interface TruthEvent {
  label: string;
  src: string;
  dst: string;
  start: number;
  end: number;
}

/** What scoring needs of an EVE `alert` record. */
export interface EveAlert {
  /** Packet time, unix epoch microseconds. */
  tsUs: number;
  src: string;
  dst: string;
  /** `alert.metadata.vigil_type[0]`; null when the alert carries none. */
  type: string | null;
}

/** Result for one attack event, in truth-file order. */
export interface EventOutcome {
  /** Position in the truth file's `events` array. */
  index: number;
  label: string;
  /** The alert type that detects it (`labelType(label)`). */
  type: string;
  src: string;
  dst: string;
  start: number;
  end: number;
  typed: boolean;
  atAll: boolean;
  /** Types of the alerts linking the pair inside the window, sorted (matched or not). */
  typesInWindow: string[];
}

export interface LabelScore {
  events: number;
  typed: number;
  atAll: number;
}

export interface CaptureScore {
  /** Attack events (benign ones excluded). */
  events: number;
  typed: number;
  atAll: number;
  /** Benign truth events (not scored; shown for context). */
  benignEvents: number;
  alerts: number;
  fpAlerts: number;
  /** Per truth label (attack labels only), in order of first appearance. */
  labels: Record<string, LabelScore>;
  alertsByType: Record<string, number>;
  fpByType: Record<string, number>;
  outcomes: EventOutcome[];
}

export interface TotalScore {
  events: number;
  typed: number;
  atAll: number;
  alerts: number;
  fpAlerts: number;
  /** Per truth label, sorted by label. */
  labels: Record<string, LabelScore>;
  fpByType: Record<string, number>;
  /** typed / events; null when there is no attack event. */
  typedRecall: number | null;
  atAllRecall: number | null;
}

/** Key used for alerts without `vigil_type` in the per-type counts. */
export const NO_TYPE = '(none)';

/** The alert type that detects an event of this label: `c2` is scored as `malware`. */
export function labelType(label: string): string {
  return label === 'c2' ? 'malware' : label;
}

/** Address in one spelling per address: IPv6 compressed and lower-case (EVE may use either). */
export function canonicalIp(ip: string): string {
  const s = ip.trim();
  if (net.isIPv6(s)) return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  return s;
}

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Epoch microseconds of an EVE timestamp (`2026-11-26T10:30:18.312528+0000`; `Z` and `+00:00`
 * accepted), computed in integers so no microsecond is lost to float parsing; digits past the
 * sixth are dropped. Null when the text is not such a timestamp.
 */
export function parseEveTimestamp(s: string): number | null {
  const m = TS_RE.exec(s);
  if (m === null) return null;
  const [y, mo, d, h, mi, sec] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, sec);
  // Date.UTC rolls 2026-02-31 over into March; refuse it rather than shift the alert.
  if (new Date(ms).getUTCDate() !== d) return null;
  const frac = m[7] === undefined ? 0 : Number((m[7] + '00000').slice(0, 6));
  const z = m[8]!;
  let offsetMin = 0;
  if (z !== 'Z') {
    const digits = z.replace(':', '');
    const oh = Number(digits.slice(1, 3));
    const om = Number(digits.slice(3, 5));
    if (oh > 23 || om > 59) return null;
    offsetMin = (z[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return ms * 1000 + frac - offsetMin * 60_000_000;
}

/** One EVE line: the alert, `'skip'` for other event types and blank lines, `'malformed'` otherwise. */
export function parseEveAlertLine(line: string): EveAlert | 'skip' | 'malformed' {
  // Most lines are flow/http/dns records: skip them without parsing JSON.
  if (!line.includes('"alert"'))
    return line.trim() === '' ? 'skip' : line.trimStart()[0] === '{' ? 'skip' : 'malformed';
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    return 'malformed';
  }
  if (typeof rec !== 'object' || rec === null) return 'malformed';
  const r = rec as Record<string, unknown>;
  if (r['event_type'] !== 'alert') return 'skip';
  const ts = typeof r['timestamp'] === 'string' ? parseEveTimestamp(r['timestamp']) : null;
  const src = r['src_ip'];
  const dst = r['dest_ip'];
  if (ts === null || typeof src !== 'string' || typeof dst !== 'string') return 'malformed';
  let type: string | null = null;
  const alert = r['alert'];
  if (typeof alert === 'object' && alert !== null) {
    const meta = (alert as Record<string, unknown>)['metadata'];
    if (typeof meta === 'object' && meta !== null) {
      const t = (meta as Record<string, unknown>)['vigil_type'];
      if (Array.isArray(t) && typeof t[0] === 'string') type = t[0];
    }
  }
  return { tsUs: ts, src: canonicalIp(src), dst: canonicalIp(dst), type };
}

/** Alerts of an EVE file's lines, and how many lines were neither records nor alerts. */
export function parseEveAlerts(lines: Iterable<string>): { alerts: EveAlert[]; malformed: number } {
  const alerts: EveAlert[] = [];
  let malformed = 0;
  for (const line of lines) {
    const r = parseEveAlertLine(line);
    if (r === 'malformed') malformed++;
    else if (r !== 'skip') alerts.push(r);
  }
  return { alerts, malformed };
}

/**
 * Truth events of a parsed `NAME.truth.json` (`{ "events": [...] }`, or a bare array). Throws
 * EvalError naming `source` and the event when a field is missing or of the wrong kind.
 */
export function parseTruth(doc: unknown, source: string): TruthEvent[] {
  const list = Array.isArray(doc)
    ? (doc as unknown[])
    : typeof doc === 'object' && doc !== null && Array.isArray((doc as Record<string, unknown>)['events'])
      ? ((doc as Record<string, unknown>)['events'] as unknown[])
      : null;
  if (list === null) throw new EvalError('VIGIL_EVAL_TRUTH_INVALID', `${source}: expected {"events": [...]}`);
  const out: TruthEvent[] = [];
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    const bad = (why: string): EvalError => new EvalError('VIGIL_EVAL_TRUTH_INVALID', `${source}: event ${i}: ${why}`);
    if (typeof e !== 'object' || e === null) throw bad('not an object');
    const o = e as Record<string, unknown>;
    for (const k of ['label', 'src', 'dst'] as const) {
      if (typeof o[k] !== 'string' || o[k] === '') throw bad(`"${k}" must be a non-empty string`);
    }
    for (const k of ['start', 'end'] as const) {
      if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) throw bad(`"${k}" must be a number (epoch seconds)`);
    }
    const start = o['start'] as number;
    const end = o['end'] as number;
    if (end < start) throw bad('"end" is before "start"');
    out.push({
      label: o['label'] as string,
      src: canonicalIp(o['src'] as string),
      dst: canonicalIp(o['dst'] as string),
      start,
      end,
    });
  }
  return out;
}

/**
 * Kuhn's augmenting path from event `e`: take a free alert, or move the event holding one of
 * `e`'s alerts to another of its own. Each alert is visited once per search (`seen` stamp), so
 * the recursion is at most as deep as the number of events.
 */
function augment(
  e: number,
  edges: readonly number[][],
  alertOwner: Int32Array,
  eventAlert: Int32Array,
  seen: Int32Array,
  stamp: number,
): boolean {
  const adj = edges[e]!;
  for (let i = 0; i < adj.length; i++) {
    const a = adj[i]!;
    if (alertOwner[a] === -1) {
      alertOwner[a] = e;
      eventAlert[e] = a;
      return true;
    }
  }
  for (let i = 0; i < adj.length; i++) {
    const a = adj[i]!;
    if (seen[a] === stamp) continue;
    seen[a] = stamp;
    if (augment(alertOwner[a]!, edges, alertOwner, eventAlert, seen, stamp)) {
      alertOwner[a] = e;
      eventAlert[e] = a;
      return true;
    }
  }
  return false;
}

const bump = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};

/** Score one capture: its truth events against the alerts Vigil raised on it. */
export function scoreCapture(events: readonly TruthEvent[], alerts: readonly EveAlert[]): CaptureScore {
  const attack: { index: number; ev: TruthEvent; type: string; src: string; dst: string }[] = [];
  let benignEvents = 0;
  for (let i = 0; i < events.length; i++) {
    const ev = events[i]!;
    if (ev.label === BENIGN_LABEL) benignEvents++;
    else attack.push({ index: i, ev, type: labelType(ev.label), src: canonicalIp(ev.src), dst: canonicalIp(ev.dst) });
  }

  // Alerts by time, so each event's window is a binary search plus a scan of the alerts inside it.
  const nA = alerts.length;
  const order = Array.from({ length: nA }, (_, i) => i).sort((x, y) => alerts[x]!.tsUs - alerts[y]!.tsUs || x - y);
  const inWindow = new Uint8Array(nA);
  const typedEdges: number[][] = [];
  const allEdges: number[][] = [];
  const typesInWindow: string[][] = [];
  for (const a of attack) {
    const lo = a.ev.start * 1e6 - WINDOW_BEFORE_S * 1e6;
    const hi = a.ev.end * 1e6 + WINDOW_AFTER_S * 1e6;
    let l = 0;
    let h = nA;
    while (l < h) {
      const mid = (l + h) >>> 1;
      if (alerts[order[mid]!]!.tsUs < lo) l = mid + 1;
      else h = mid;
    }
    const typed: number[] = [];
    const all: number[] = [];
    const types = new Set<string>();
    for (let k = l; k < nA; k++) {
      const idx = order[k]!;
      const al = alerts[idx]!;
      if (al.tsUs > hi) break;
      const linked = (al.src === a.src && al.dst === a.dst) || (al.src === a.dst && al.dst === a.src);
      if (!linked) continue;
      inWindow[idx] = 1;
      all.push(idx);
      types.add(al.type ?? NO_TYPE);
      if (al.type === a.type) typed.push(idx);
    }
    typedEdges.push(typed);
    allEdges.push(all);
    typesInWindow.push([...types].sort());
  }

  // Typed matching first, then grown over alerts of any type: a maximum matching can always be
  // reached from any starting matching, and augmenting never unmatches an event.
  const nE = attack.length;
  const alertOwner = new Int32Array(nA).fill(-1);
  const eventAlert = new Int32Array(nE).fill(-1);
  const seen = new Int32Array(nA);
  let stamp = 0;
  const typedHit = new Uint8Array(nE);
  for (let e = 0; e < nE; e++) {
    if (augment(e, typedEdges, alertOwner, eventAlert, seen, ++stamp)) typedHit[e] = 1;
  }
  // Events still unmatched may now take an alert of another type (or displace a typed match
  // onto another alert of its own; a matched event is never left unmatched).
  for (let e = 0; e < nE; e++) if (eventAlert[e] === -1) augment(e, allEdges, alertOwner, eventAlert, seen, ++stamp);

  const labels: Record<string, LabelScore> = {};
  const outcomes: EventOutcome[] = [];
  let typed = 0;
  let atAll = 0;
  for (let e = 0; e < nE; e++) {
    const a = attack[e]!;
    const isTyped = typedHit[e] === 1;
    const isAtAll = eventAlert[e] !== -1;
    const ls = (labels[a.ev.label] ??= { events: 0, typed: 0, atAll: 0 });
    ls.events++;
    if (isTyped) {
      ls.typed++;
      typed++;
    }
    if (isAtAll) {
      ls.atAll++;
      atAll++;
    }
    outcomes.push({
      index: a.index,
      label: a.ev.label,
      type: a.type,
      src: a.ev.src,
      dst: a.ev.dst,
      start: a.ev.start,
      end: a.ev.end,
      typed: isTyped,
      atAll: isAtAll,
      typesInWindow: typesInWindow[e]!,
    });
  }

  const alertsByType: Record<string, number> = {};
  const fpByType: Record<string, number> = {};
  let fpAlerts = 0;
  for (let i = 0; i < nA; i++) {
    const t = alerts[i]!.type ?? NO_TYPE;
    bump(alertsByType, t);
    if (inWindow[i] === 0) {
      fpAlerts++;
      bump(fpByType, t);
    }
  }
  return { events: nE, typed, atAll, benignEvents, alerts: nA, fpAlerts, labels, alertsByType, fpByType, outcomes };
}

/** Sums over captures, with per-label figures and overall typed recall. */
export function combineScores(scores: readonly CaptureScore[]): TotalScore {
  let events = 0;
  let typed = 0;
  let atAll = 0;
  let alerts = 0;
  let fpAlerts = 0;
  const labels: Record<string, LabelScore> = {};
  const fpByType: Record<string, number> = {};
  for (const s of scores) {
    events += s.events;
    typed += s.typed;
    atAll += s.atAll;
    alerts += s.alerts;
    fpAlerts += s.fpAlerts;
    for (const [k, v] of Object.entries(s.labels)) {
      const l = (labels[k] ??= { events: 0, typed: 0, atAll: 0 });
      l.events += v.events;
      l.typed += v.typed;
      l.atAll += v.atAll;
    }
    for (const [k, n] of Object.entries(s.fpByType)) fpByType[k] = (fpByType[k] ?? 0) + n;
  }
  const sorted: Record<string, LabelScore> = {};
  for (const k of Object.keys(labels).sort()) sorted[k] = labels[k]!;
  return {
    events,
    typed,
    atAll,
    alerts,
    fpAlerts,
    labels: sorted,
    fpByType,
    typedRecall: events === 0 ? null : typed / events,
    atAllRecall: events === 0 ? null : atAll / events,
  };
}
