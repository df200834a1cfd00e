/**
 * The model stage of the pipeline: scores every finished flow with the active classifier and the
 * anomaly model (Isolation Forest), in batches, and raises `detector: classifier` alerts (the
 * predicted class's type) and `detector: anomaly` alerts (type `anomaly`, with the features that
 * isolated the flow). Runs in each pipeline shard, fed by flow-end records.
 */
import type { FlowRecord } from '../../flow/table.js';
import { FEATURE_NAMES } from '../../flow/features.js';
import type { AlertRecord } from '../engine/detector.js';
import { behaviorAlertRecord } from '../behavior/engine.js';
import type { BehaviorType } from '../behavior/types.js';
import type { ModelFile, ScoringModel } from './model.js';
import { ModelError } from './model.js';

/** Rows scored at once (amortises the call; bounded latency: also flushed per input batch). */
const BATCH_ROWS = 256;
const CLASSIFIER_SID = 9400000;
const ANOMALY_SID = 9500000;

export interface LoadedModel {
  file: ModelFile;
  model: ScoringModel;
}

export interface ModelStageOptions {
  classifier: LoadedModel | null;
  anomaly: LoadedModel | null;
  /** Minimum class probability for a classifier alert (CLASSIFICATION_CONFIDENCE_THRESHOLD). */
  confidenceThreshold: number;
  /** Anomaly score threshold; null = the model's calibrated threshold (training.threshold), else 0.5. */
  anomalyThreshold: number | null;
  /**
   * Seconds during which a further alert of one class (or of the anomaly detector) is folded when
   * it shares the source or the destination with one already raised; 0 = every flow alerts.
   */
  limitSeconds?: number;
  /** A candidate classifier scored without alerts, compared with the active one (shadow mode). */
  shadow?: LoadedModel | null;
}

/**
 * Per-flow verdicts for flows someone waits on (rules with ml.* keywords): `wants` is asked per
 * scored flow, `verdict` called for those it accepts, once both models scored the flow.
 * `cls`/`type` are null and `confidence` NaN without a classifier; `anomalyScore` NaN without an
 * anomaly model.
 */
export interface VerdictSink {
  wants(flowId: number): boolean;
  verdict(
    flowId: number,
    cls: string | null,
    type: string | null,
    confidence: number,
    benign: boolean,
    anomalyScore: number,
  ): void;
}

/**
 * A candidate classifier scored next to the active one without raising alerts (shadow mode): how
 * often it would alert, and how its verdicts compare with the active model's, flow by flow.
 */
export interface ShadowStats {
  flows: number;
  /** Flows it would have alerted on (non-benign at the confidence threshold). */
  wouldAlert: number;
  /** Flows where its verdict (benign, or the alert type it would raise) equals the active model's. */
  agree: number;
  /** `active type -> shadow type` -> flows, for flows where they differ (`benign` for none). */
  disagreements: Record<string, number>;
}

/** Keys remembered by the alert limiter before old ones are swept. */
const LIMIT_KEYS_MAX = 65536;

/** Vigil type for a class name when the model does not say (CIC-IDS2017, NSL-KDD, UNSW-NB15 names). */
export function typeForClass(name: string): string {
  const n = name.toLowerCase();
  if (/sql/.test(n)) return 'sql_injection';
  if (/xss|cross.?site/.test(n)) return 'xss';
  if (/port.?scan|portsweep|ipsweep|satan|nmap|probe|reconnaissance|scan/.test(n)) return 'port_scan';
  if (/patator|brute|guess_passwd|ftp_write|password/.test(n)) return 'brute_force';
  if (/dos|ddos|hulk|goldeneye|slowloris|slowhttp|neptune|smurf|teardrop|back|pod|land|flood/.test(n)) return 'dos';
  if (/exfil/.test(n)) return 'data_exfiltration';
  if (/bot|c2|malware|backdoor|worm|trojan|infiltration|shellcode|exploit|heartbleed|rootkit/.test(n)) return 'malware';
  return 'anomaly';
}

/** Column of each model feature in FEATURE_NAMES; throws ModelError when the flow engine lacks one. */
function featureMap(file: ModelFile): Int32Array {
  const idx = new Int32Array(file.features.length);
  const missing: string[] = [];
  file.features.forEach((f, k) => {
    const j = FEATURE_NAMES.indexOf(f);
    if (j < 0) missing.push(f);
    idx[k] = j;
  });
  if (missing.length > 0)
    throw new ModelError(
      `model uses features the flow engine does not compute (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}); it can score CSV data but not live flows`,
    );
  return idx;
}

interface Side {
  lm: LoadedModel;
  map: Int32Array;
  d: number;
  rows: Float64Array;
  out: Float64Array;
}

interface Pending {
  tsUs: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  proto: number;
  flowId: number;
}

export class ModelStage {
  private readonly cls: Side | null;
  private readonly ano: Side | null;
  /** Shadow classifier (synchronous scorers only), null without. */
  private readonly sh: Side | null;
  private readonly shTypes: string[] = [];
  private readonly shBenign: number = -1;
  readonly shadow: ShadowStats | null;
  private verdicts: VerdictSink | null = null;
  private readonly pending: Pending[] = [];
  private readonly anomalyThreshold: number;
  private readonly classTypes: string[] = [];
  private readonly benign: number;
  /** Asynchronous scorers (ONNX) in flight. */
  private inflight: Promise<void>[] = [];
  /** Alert limiter: `class|s|ip` and `class|d|ip` -> time (µs) of the last alert raised. */
  private readonly lastAlert = new Map<string, number>();
  private readonly limitUs: number;
  scored = 0;
  /** Model alerts folded by the limiter. */
  limited = 0;

  constructor(
    private readonly opts: ModelStageOptions,
    private readonly onAlert: (a: AlertRecord) => void,
  ) {
    const side = (lm: LoadedModel | null): Side | null => {
      if (lm === null) return null;
      const map = featureMap(lm.file);
      const d = map.length;
      const k = Math.max(1, lm.file.classes.length);
      return { lm, map, d, rows: new Float64Array(BATCH_ROWS * d), out: new Float64Array(BATCH_ROWS * k) };
    };
    this.cls = side(opts.classifier);
    this.ano = side(opts.anomaly);
    const shadow = opts.shadow ?? null;
    if (shadow !== null && shadow.model.predictProba === undefined)
      throw new ModelError(`a ${shadow.file.type} model cannot run in shadow mode (asynchronous scorer)`);
    this.sh = side(shadow);
    if (this.sh !== null) {
      const f = this.sh.lm.file;
      for (const c of f.classes) this.shTypes.push(f.classTypes?.[c] ?? typeForClass(c));
      this.shBenign = f.benignClass === null ? -1 : f.classes.indexOf(f.benignClass);
      this.shadow = { flows: 0, wouldAlert: 0, agree: 0, disagreements: {} };
    } else this.shadow = null;
    if (this.cls !== null) {
      const f = this.cls.lm.file;
      for (const c of f.classes) this.classTypes.push(f.classTypes?.[c] ?? typeForClass(c));
      this.benign = f.benignClass === null ? -1 : f.classes.indexOf(f.benignClass);
    } else this.benign = -1;
    const cal = (opts.anomaly?.file.training?.['threshold'] as number | undefined) ?? null;
    this.anomalyThreshold = opts.anomalyThreshold ?? (typeof cal === 'number' ? cal : 0.5);
    this.limitUs = (opts.limitSeconds ?? 0) * 1e6;
  }

  get active(): boolean {
    return this.cls !== null || this.ano !== null || this.sh !== null;
  }

  /** Whether a classifier / an anomaly model is loaded (ml.* rule conditions need them). */
  get hasClassifier(): boolean {
    return this.cls !== null;
  }

  get hasAnomaly(): boolean {
    return this.ano !== null;
  }

  /** Asynchronous scoring (ONNX) still in flight: verdicts may still come. */
  get pendingAsync(): boolean {
    return this.inflight.length > 0;
  }

  /** Report verdicts of the flows `sink.wants` to `sink` (ml.* rule conditions). */
  setVerdictSink(sink: VerdictSink | null): void {
    this.verdicts = sink;
  }

  flowEnd(rec: FlowRecord): void {
    const f = rec.features;
    if (f === null) return;
    const r = this.pending.length;
    for (const s of [this.cls, this.ano, this.sh]) {
      if (s === null) continue;
      const o = r * s.d;
      for (let k = 0; k < s.d; k++) s.rows[o + k] = f[s.map[k]!]!;
    }
    this.pending.push({
      tsUs: rec.endUs,
      srcIp: rec.srcIp,
      dstIp: rec.dstIp,
      srcPort: rec.srcPort,
      dstPort: rec.dstPort,
      proto: rec.proto,
      flowId: rec.flowId,
    });
    if (this.pending.length === BATCH_ROWS) this.flush();
  }

  /** Score what is queued. */
  flush(): void {
    const n = this.pending.length;
    if (n === 0) return;
    const batch = this.pending.splice(0, n);
    this.scored += n;
    let anoScores: Float64Array | null = null;
    if (this.ano !== null && this.ano.lm.model.score !== undefined) {
      const s = this.ano;
      const rows = s.rows.slice(0, n * s.d);
      s.lm.model.score!(s.rows, n, s.out);
      for (let r = 0; r < n; r++) {
        const score = s.out[r]!;
        if (score >= this.anomalyThreshold) this.anomalyAlert(batch[r]!, score, rows.subarray(r * s.d, (r + 1) * s.d));
      }
      if (this.verdicts !== null) anoScores = s.out.slice(0, n);
    }
    const sh = this.sh;
    // The shadow model's best classes, compared with the active model's below.
    let shBest: Int32Array | null = null;
    if (sh !== null) {
      const k = sh.lm.file.classes.length;
      sh.lm.model.predictProba!(sh.rows, n, sh.out);
      shBest = new Int32Array(n);
      const st = this.shadow!;
      st.flows += n;
      for (let r = 0; r < n; r++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (sh.out[r * k + j]! > sh.out[r * k + best]!) best = j;
        // -1: it would not alert (benign or below the confidence threshold).
        const alerts = best !== this.shBenign && sh.out[r * k + best]! >= this.opts.confidenceThreshold;
        shBest[r] = alerts ? best : -1;
        if (alerts) st.wouldAlert++;
      }
    }
    const c = this.cls;
    if (c === null) {
      this.after(batch, null, 0, anoScores, shBest);
      return;
    }
    const k = c.lm.file.classes.length;
    if (c.lm.model.predictProba !== undefined) {
      c.lm.model.predictProba(c.rows, n, c.out);
      this.classify(batch, c.out, k, c.rows);
      this.after(batch, c.out, k, anoScores, shBest);
    } else if (c.lm.model.predictProbaAsync !== undefined) {
      const rows = c.rows.slice(0, n * c.d);
      this.inflight.push(
        c.lm.model.predictProbaAsync(rows, n).then((p) => {
          this.classify(batch, p, k, rows);
          this.after(batch, p, k, anoScores, shBest);
        }),
      );
    }
  }

  /** Once a batch is scored by every model: shadow agreement and the verdicts waited on. */
  private after(
    batch: Pending[],
    probs: Float64Array | null,
    k: number,
    anoScores: Float64Array | null,
    shBest: Int32Array | null,
  ): void {
    const v = this.verdicts;
    if (v === null && shBest === null) return;
    const classes = this.cls?.lm.file.classes ?? [];
    for (let r = 0; r < batch.length; r++) {
      let best = -1;
      let p = NaN;
      if (probs !== null) {
        best = 0;
        for (let j = 1; j < k; j++) if (probs[r * k + j]! > probs[r * k + best]!) best = j;
        p = probs[r * k + best]!;
      }
      if (shBest !== null) {
        const activeAlerts = best >= 0 && best !== this.benign && p >= this.opts.confidenceThreshold;
        const a = activeAlerts ? this.classTypes[best]! : 'benign';
        const sb = shBest[r]!;
        const s = sb >= 0 ? this.shTypes[sb]! : 'benign';
        const st = this.shadow!;
        if (a === s) st.agree++;
        else {
          const key = `${a} -> ${s}`;
          st.disagreements[key] = (st.disagreements[key] ?? 0) + 1;
        }
      }
      if (v === null) continue;
      const pd = batch[r]!;
      if (!v.wants(pd.flowId)) continue;
      v.verdict(
        pd.flowId,
        best >= 0 ? classes[best]! : null,
        best >= 0 ? this.classTypes[best]! : null,
        p,
        best >= 0 && best === this.benign,
        anoScores !== null ? anoScores[r]! : NaN,
      );
    }
  }

  /** Wait for asynchronous scorers. */
  async settle(): Promise<void> {
    this.flush();
    const all = this.inflight;
    this.inflight = [];
    await Promise.all(all);
  }

  private classify(batch: Pending[], probs: Float64Array, k: number, rows: Float64Array | null): void {
    for (let r = 0; r < batch.length; r++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (probs[r * k + j]! > probs[r * k + best]!) best = j;
      const p = probs[r * k + best]!;
      if (best === this.benign || p < this.opts.confidenceThreshold) continue;
      const cls = this.cls!.lm.file.classes[best]!;
      const type = this.classTypes[best]!;
      const pd = batch[r]!;
      const ev: Record<string, string[]> = {
        predicted_class: [cls],
        confidence: [p.toFixed(4)],
        model_type: [this.cls!.lm.file.type],
      };
      const model = this.cls!.lm.model;
      // Explained only when the alert is raised (not limited): extra work per alert, none per flow.
      if (rows !== null && model.predictProba !== undefined && !this.wouldLimit(`classifier:${type}`, pd)) {
        const d = this.cls!.d;
        const row = rows.subarray(r * d, (r + 1) * d);
        topFeatures(ev, model.explain !== undefined ? model.explain(row) : occlusion(this.cls!.lm, row, best));
      }
      this.emit(pd, 'classifier', CLASSIFIER_SID + best, `VIGIL ML classifier: ${cls}`, type, ev);
    }
  }

  private anomalyAlert(pd: Pending, score: number, row: Float64Array): void {
    const ev: Record<string, string[]> = {
      score: [score.toFixed(4)],
      threshold: [this.anomalyThreshold.toFixed(4)],
    };
    const model = this.ano!.lm.model;
    if (model.explain !== undefined && !this.wouldLimit('anomaly:anomaly', pd)) topFeatures(ev, model.explain(row));
    this.emit(pd, 'anomaly', ANOMALY_SID, 'VIGIL ML anomalous flow (Isolation Forest)', 'anomaly', ev);
  }

  /** Whether isLimited would fold this alert (without counting it). */
  private wouldLimit(cls: string, pd: Pending): boolean {
    if (this.limitUs <= 0) return false;
    const s = this.lastAlert.get(`${cls}|s|${pd.srcIp}`);
    const d = this.lastAlert.get(`${cls}|d|${pd.dstIp}`);
    return (s !== undefined && pd.tsUs - s < this.limitUs) || (d !== undefined && pd.tsUs - d < this.limitUs);
  }

  /**
   * Suricata's `type limit` tracked by source and by destination at once: a flood from spoofed
   * sources (one victim) and a sweep (one attacker) each alert once per window.
   */
  private isLimited(cls: string, pd: Pending): boolean {
    const m = this.lastAlert;
    const ks = `${cls}|s|${pd.srcIp}`;
    const kd = `${cls}|d|${pd.dstIp}`;
    const ts = pd.tsUs;
    const s = m.get(ks);
    const d = m.get(kd);
    if ((s !== undefined && ts - s < this.limitUs) || (d !== undefined && ts - d < this.limitUs)) {
      this.limited++;
      return true;
    }
    if (m.size >= LIMIT_KEYS_MAX) {
      for (const [k, t] of m) if (ts - t >= this.limitUs) m.delete(k);
      if (m.size >= LIMIT_KEYS_MAX) m.clear();
    }
    m.set(ks, ts);
    m.set(kd, ts);
    return false;
  }

  private emit(
    pd: Pending,
    detector: 'classifier' | 'anomaly',
    sid: number,
    msg: string,
    type: string,
    evidence: Record<string, string[]>,
  ): void {
    if (this.limitUs > 0 && this.isLimited(`${detector}:${type}`, pd)) return;
    this.onAlert(
      behaviorAlertRecord(
        {
          tsUs: pd.tsUs,
          sid,
          rev: 1,
          msg,
          type: type as BehaviorType,
          severity: detector === 'anomaly' ? 'medium' : type === 'malware' ? 'high' : 'medium',
          mitre: [],
          srcIp: pd.srcIp,
          dstIp: pd.dstIp,
          srcPort: pd.srcPort,
          dstPort: pd.dstPort,
          proto: pd.proto,
          ipVer: pd.srcIp.includes(':') ? 6 : 4,
          flowId: pd.flowId,
          evidence,
        },
        detector,
      ),
    );
  }
}

/** The five features with the largest weight, as `name:weight` evidence. */
function topFeatures(ev: Record<string, string[]>, ranked: { feature: string; weight: number }[]): void {
  const top = ranked.slice(0, 5);
  if (top.length > 0) ev['top_features'] = top.map((t) => `${t.feature}:${t.weight.toFixed(3)}`);
}

/**
 * Model-agnostic explanation for classifiers without their own (MLP, CNN): each feature in turn
 * is set to its training mean (the scaler's centre, else 0) and the drop in the predicted class's
 * probability is its weight (occlusion). One batch of d rows per raised alert.
 */
export function occlusion(lm: LoadedModel, row: Float64Array, cls: number): { feature: string; weight: number }[] {
  const d = row.length;
  const k = lm.file.classes.length;
  const x = new Float64Array((d + 1) * d);
  for (let i = 0; i <= d; i++) x.set(row, i * d);
  const center = lm.file.scaler?.center;
  for (let j = 0; j < d; j++) x[(j + 1) * d + j] = center?.[j] ?? 0;
  const out = new Float64Array((d + 1) * k);
  lm.model.predictProba!(x, d + 1, out);
  const base = out[cls]!;
  const res: { feature: string; weight: number }[] = [];
  for (let j = 0; j < d; j++) {
    const drop = base - out[(j + 1) * k + cls]!;
    if (drop > 0) res.push({ feature: lm.file.features[j]!, weight: drop });
  }
  return res.sort((a, b) => b.weight - a.weight);
}
