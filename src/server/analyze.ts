/**
 * The `/api/analyze` routes (issue 7): analysis on demand, nothing stored.
 *
 * - `POST /api/analyze` (analyst, 30/min): one packet (raw hex/base64 or fields, as
 *   /api/test/inject-packet takes it) -> its decoded summary, the alerts the built-in rules,
 *   behaviour detectors and active models raise, and the flow it forms with its feature vector
 *   and the models' verdicts.
 * - `POST /api/analyze/bulk` (analyst, 10/min): up to MAX_BULK_PACKETS packets through one engine,
 *   so they form flows: per-flow results, the alerts, and totals.
 * - `POST /api/analyze/flow` (analyst): a feature vector scored by the active classifier and
 *   anomaly model, with the thresholds in force and the features that decided.
 * - `GET /api/analyze/model-info` (viewer): the active models, where they come from, their
 *   training record, the thresholds in force.
 *
 * Each request runs its own small engine (inject.ts), so analysed traffic never mixes with live
 * flows, and its alerts are returned, never stored or broadcast. The models are the server's
 * active ones (ServerModels: the store's active version, else the configured model), cached.
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { AlertGate } from '../alerts/gate.js';
import { LINKTYPE } from '../capture/batch.js';
import { DecodedBatch, LAYER_NAMES, TCP_FLAG } from '../decode/batch.js';
import { Decoder } from '../decode/decode.js';
import { DEFAULT_MODEL_DIR } from '../detect/classify/setup.js';
import { ModelStage, occlusion, typeForClass } from '../detect/classify/stage.js';
import type { LoadedModel } from '../detect/classify/stage.js';
import type { AlertRecord } from '../detect/engine/detector.js';
import { FEATURE_NAMES, canonicalFeatureName } from '../flow/features.js';
import type { FlowRecord } from '../flow/table.js';
import { formatIp } from '../flow/key.js';
import { readDriftReference } from '../ml/drift.js';
import type { ModelRole } from '../ml/store.js';
import { protoName } from '../output/eve.js';
import { protocolCounts, ruleAlertSummary, shadowSummary } from '../pipeline/engine.js';
import type { MlConfig } from '../detect/classify/setup.js';
import { toStoredAlertInput } from '../store/alert-input.js';
import { isoUs, nowUs } from '../store/time.js';
import type { ServerExtension } from './context.js';
import { ApiError, badRequest } from './errors.js';
import type { InjectFields, InjectFrames, InjectRequest } from './inject.js';
import { MAX_INJECT_PACKETS, framesFromFields, framesOf, injectionBatch, runInjection } from './inject.js';
import type { ActiveModelInfo, ServerModels } from './models.js';
import { anyObject, errorResponses } from './schemas.js';

/** Packets one bulk request may analyse (bounded work: one engine, at most this many flows). */
export const MAX_BULK_PACKETS = 1000;
/** Field-built sessions one bulk request may hold (each is up to 10 frames). */
export const MAX_BULK_SESSIONS = 100;
/** Body limit of the bulk route: 1,000 jumbo frames in hex fit (the other routes keep 1 MiB). */
const BULK_BODY_LIMIT = 20 * 1024 * 1024;
/** Sensor name on the returned alerts (they are never stored). */
const ANALYZE_SENSOR = 'vigil-analyze';
/** Features named in a "missing features" message before "... and N more". */
const MISSING_LISTED = 20;
/** Features listed as top_features of a verdict. */
const TOP_FEATURES = 5;

// ---- the active models ---------------------------------------------------------------------------

type Verdicts = { classifier: ClassifierVerdict | null; anomaly: AnomalyVerdict | null };

export interface ClassifierVerdict {
  model_type: string;
  predicted_class: string;
  /** Vigil alert type of the class (`benign` for the benign class). */
  type: string;
  confidence: number;
  probabilities: Record<string, number>;
  benign: boolean;
  /** Whether the model stage would alert: not the benign class and confidence >= the threshold. */
  would_alert: boolean;
  confidence_threshold: number;
  top_features: { feature: string; weight: number }[];
}

export interface AnomalyVerdict {
  model_type: string;
  score: number;
  threshold: number;
  would_alert: boolean;
  top_features: { feature: string; weight: number }[];
}

interface Side {
  role: ModelRole;
  lm: LoadedModel;
  info: ActiveModelInfo;
  /** Column in FEATURE_NAMES of each model feature. */
  map: Int32Array;
}

/** The models of one request: loaded once, with the thresholds in force and why a side is absent. */
export interface Scoring {
  ml: MlConfig;
  classifier: Side | null;
  anomaly: Side | null;
  reasons: Record<ModelRole, string | null>;
  errors: Record<ModelRole, string | null>;
  info: Record<ModelRole, ActiveModelInfo>;
  confidenceThreshold: number;
  anomalyThreshold: number;
  anomalyThresholdSource: 'config' | 'calibrated' | 'default';
}

/** The display name of a model: the store version, `default` for the shipped one, else the directory's name. */
export function modelName(info: ActiveModelInfo): string | null {
  if (info.dir === null) return null;
  if (info.version !== null) return info.version;
  return path.resolve(info.dir) === path.resolve(DEFAULT_MODEL_DIR) ? 'default' : path.basename(info.dir);
}

/** An error message without the server's directory layout (the model's name stands for its path). */
function scrub(msg: string, info: ActiveModelInfo): string {
  if (info.dir === null) return msg;
  const name = modelName(info) ?? 'model';
  return msg.split(path.resolve(info.dir)).join(name).split(info.dir).join(name);
}

export function scoringOf(models: ServerModels): Scoring {
  let ml: MlConfig;
  let info: Record<ModelRole, ActiveModelInfo>;
  try {
    ml = models.engineConfig().ml;
    info = { classifier: models.active('classifier'), anomaly: models.active('anomaly') };
  } catch (e) {
    // A bad ML setting in the environment (CLASSIFICATION_CONFIDENCE_THRESHOLD=abc): say which, not a 500.
    throw new ApiError('VIGIL_API_UNAVAILABLE', `the model configuration is invalid: ${(e as Error).message}`);
  }
  const reasons: Record<ModelRole, string | null> = { classifier: null, anomaly: null };
  const errors: Record<ModelRole, string | null> = { classifier: null, anomaly: null };
  const side = (role: ModelRole): Side | null => {
    const a = info[role];
    if (a.dir === null) {
      reasons[role] = !ml.enabled
        ? 'model scoring is off (CLASSIFICATION_ENABLED=false) and no model is active in the model store'
        : role === 'classifier'
          ? 'no classifier is active (CLASSIFICATION_MODEL_PATH=none and none activated in the model store)'
          : 'no anomaly model is active (set ANOMALY_MODEL_PATH or train and activate an isolation_forest model)';
      return null;
    }
    let lm: LoadedModel | null;
    try {
      lm = models.loaded(role);
    } catch (e) {
      errors[role] = scrub((e as Error).message, a);
      reasons[role] = `the active ${role} model (${modelName(a)}) cannot be loaded: ${errors[role]}`;
      return null;
    }
    if (lm === null) {
      reasons[role] = `no ${role} model is active`;
      return null;
    }
    const isAnomaly = lm.file.type === 'isolation_forest';
    if (isAnomaly !== (role === 'anomaly')) {
      errors[role] = `a ${lm.file.type} model cannot serve as the ${role}`;
      reasons[role] = `the active ${role} model (${modelName(a)}) is unusable: ${errors[role]}`;
      return null;
    }
    const map = new Int32Array(lm.file.features.length);
    lm.file.features.forEach((f, k) => (map[k] = FEATURE_NAMES.indexOf(f)));
    return { role, lm, info: a, map };
  };
  const classifier = side('classifier');
  const anomaly = side('anomaly');
  const cal = anomaly?.lm.file.training?.['threshold'];
  const anomalyThresholdSource =
    ml.anomalyThreshold !== null ? 'config' : typeof cal === 'number' ? 'calibrated' : 'default';
  return {
    ml,
    classifier,
    anomaly,
    reasons,
    errors,
    info,
    confidenceThreshold: ml.confidenceThreshold,
    anomalyThreshold: ml.anomalyThreshold ?? (typeof cal === 'number' ? cal : 0.5),
    anomalyThresholdSource,
  };
}

/** Finite numbers for JSON (NaN and ±Infinity have no JSON form); rounded to keep answers short. */
function num(v: number, digits = 6): number | null {
  if (!Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function ranked(r: { feature: string; weight: number }[]): { feature: string; weight: number }[] {
  return r.slice(0, TOP_FEATURES).map((t) => ({ feature: t.feature, weight: num(t.weight) ?? 0 }));
}

/** Rows of a side from full vectors (FEATURE_NAMES order). */
function rowsOf(s: Side, vectors: readonly Float64Array[]): Float64Array {
  const d = s.map.length;
  const rows = new Float64Array(vectors.length * d);
  vectors.forEach((v, r) => {
    for (let k = 0; k < d; k++) rows[r * d + k] = v[s.map[k]!]!;
  });
  return rows;
}

/**
 * Score full feature vectors (FEATURE_NAMES order) with the active models, as the model stage
 * does (same rows, same thresholds), and explain each verdict (the model's own explanation, else
 * occlusion; none for asynchronous ONNX classifiers).
 */
export async function scoreVectors(sc: Scoring, vectors: readonly Float64Array[]): Promise<Verdicts[]> {
  const n = vectors.length;
  const out: Verdicts[] = vectors.map(() => ({ classifier: null, anomaly: null }));
  if (n === 0) return out;
  const c = sc.classifier;
  if (c !== null) {
    const f = c.lm.file;
    const m = c.lm.model;
    const d = c.map.length;
    const k = f.classes.length;
    const rows = rowsOf(c, vectors);
    // Scorers may scale their input in place: they get a copy, explanations the raw rows.
    let probs: Float64Array;
    if (m.predictProba !== undefined) {
      probs = new Float64Array(n * k);
      m.predictProba(rows.slice(), n, probs);
    } else probs = await m.predictProbaAsync!(rows.slice(), n);
    const benign = f.benignClass === null ? -1 : f.classes.indexOf(f.benignClass);
    for (let r = 0; r < n; r++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (probs[r * k + j]! > probs[r * k + best]!) best = j;
      const p = probs[r * k + best]!;
      const cls = f.classes[best]!;
      const probabilities: Record<string, number> = {};
      f.classes.forEach((name, j) => (probabilities[name] = num(probs[r * k + j]!) ?? 0));
      const row = rows.slice(r * d, (r + 1) * d);
      const explained =
        m.explain !== undefined ? m.explain(row) : m.predictProba !== undefined ? occlusion(c.lm, row, best) : [];
      out[r]!.classifier = {
        model_type: f.type,
        predicted_class: cls,
        type: best === benign ? 'benign' : (f.classTypes?.[cls] ?? typeForClass(cls)),
        confidence: num(p) ?? 0,
        probabilities,
        benign: best === benign,
        would_alert: best !== benign && p >= sc.confidenceThreshold,
        confidence_threshold: sc.confidenceThreshold,
        top_features: ranked(explained),
      };
    }
  }
  const a = sc.anomaly;
  if (a !== null && a.lm.model.score !== undefined) {
    const d = a.map.length;
    const rows = rowsOf(a, vectors);
    const scores = new Float64Array(n);
    a.lm.model.score(rows.slice(), n, scores);
    for (let r = 0; r < n; r++) {
      const s = scores[r]!;
      const row = rows.slice(r * d, (r + 1) * d);
      out[r]!.anomaly = {
        model_type: a.lm.file.type,
        score: num(s) ?? 0,
        threshold: sc.anomalyThreshold,
        would_alert: s >= sc.anomalyThreshold,
        top_features: a.lm.model.explain !== undefined ? ranked(a.lm.model.explain(row)) : [],
      };
    }
  }
  return out;
}

// ---- packets, flows, alerts -----------------------------------------------------------------------

const TCP_FLAG_NAMES = Object.entries(TCP_FLAG) as [string, number][];

function tcpFlagNames(f: number): string[] {
  return TCP_FLAG_NAMES.filter(([, bit]) => (f & bit) !== 0).map(([name]) => name);
}

function layerNames(bits: number): string[] {
  return LAYER_NAMES.filter(([, bit]) => (bits & bit) !== 0).map(([name]) => name);
}

export interface PacketSummary {
  index: number;
  length: number;
  layers: string[];
  ip_version: number | null;
  src_ip: string | null;
  dst_ip: string | null;
  protocol: string | null;
  src_port: number | null;
  dst_port: number | null;
  ttl: number | null;
  ip_length: number | null;
  tcp_flags: string[] | null;
  icmp_type: number | null;
  icmp_code: number | null;
  payload_length: number;
  /** Decoder events this packet raised (malformed headers and the like). */
  decoder_events: Record<string, number>;
}

/** Decode each frame on its own (one decoder, so fragments still join) for a per-packet summary. */
export function packetSummaries(input: InjectFrames, tsUs: number): PacketSummary[] {
  const decoder = new Decoder({ checksumValidation: false });
  const dec = new DecodedBatch(1);
  let before: Record<string, number> = {};
  return input.frames.map((f, i) => {
    decoder.decode(injectionBatch({ ...input, frames: [f] }, tsUs + i * 1000), dec);
    const after = decoder.eventCounts();
    const events: Record<string, number> = {};
    for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) events[k] = v - (before[k] ?? 0);
    before = after;
    const v = dec.ipVer[0]!;
    const proto = dec.proto[0]!;
    const ported = proto === 6 || proto === 17 || proto === 132;
    const icmp = proto === 1 || proto === 58;
    return {
      index: i,
      length: f.length,
      layers: layerNames(dec.layers[0]!),
      ip_version: v === 0 ? null : v,
      src_ip: v === 0 ? null : formatIp(v, dec.src, 0),
      dst_ip: v === 0 ? null : formatIp(v, dec.dst, 0),
      protocol: v === 0 ? null : protoName(proto),
      src_port: ported ? dec.sport[0]! : null,
      dst_port: ported ? dec.dport[0]! : null,
      ttl: v === 0 ? null : dec.ttl[0]!,
      ip_length: v === 0 ? null : dec.ipLen[0]!,
      tcp_flags: proto === 6 ? tcpFlagNames(dec.tcpFlags[0]!) : null,
      icmp_type: icmp ? dec.icmpType[0]! : null,
      icmp_code: icmp ? dec.icmpCode[0]! : null,
      payload_length: Math.max(0, dec.payLen[0]!),
      decoder_events: events,
    };
  });
}

/** An alert as the analysis returns it: the alert list's fields plus evidence, no id (not stored). */
export function analysisAlert(a: AlertRecord): Record<string, unknown> {
  const s = toStoredAlertInput(a, { sensor: ANALYZE_SENSOR, raw: false });
  return {
    timestamp: isoUs(s.tsUs),
    type: s.type,
    severity: s.severity,
    detector: s.detector,
    gid: s.gid,
    signature_id: s.signatureId,
    rev: s.rev,
    message: s.message,
    category: s.category,
    source_ip: s.sourceIp,
    source_port: s.sourcePort,
    destination_ip: s.destinationIp,
    destination_port: s.destinationPort,
    protocol: s.protocol,
    app_proto: s.appProto,
    flow_id: s.flowId,
    mitre: s.mitre,
    evidence: s.evidence,
    stored: false,
  };
}

interface FinishedFlow {
  rec: Omit<FlowRecord, 'features'>;
  features: Float64Array | null;
}

export interface FlowResult {
  flow_id: number;
  src_ip: string;
  src_port: number;
  dst_ip: string;
  dst_port: number;
  protocol: string;
  app_proto: string | null;
  state: string;
  tcp_flags: string[] | null;
  start: string;
  end: string;
  duration_s: number;
  packets_to_server: number;
  packets_to_client: number;
  bytes_to_server: number;
  bytes_to_client: number;
  /** Alerts of this analysis on this flow. */
  alerts: number;
  /** The flow feature vector by name (FEATURE_NAMES order); null values are NaN/∞. */
  features: Record<string, number | null> | null;
  classifier: ClassifierVerdict | null;
  anomaly: AnomalyVerdict | null;
}

export interface Analysis {
  frames: number;
  packets: number;
  bytes: number;
  alerts: Record<string, unknown>[];
  flows: FlowResult[];
  decoder_events: Record<string, number>;
  protocols: Record<string, number>;
}

/** Run frames through one engine with the built-in rules and the active models; nothing is stored. */
export async function analyzeFrames(input: InjectFrames, sc: Scoring, tsUs: number): Promise<Analysis> {
  const gate = new AlertGate([]);
  const mlAlerts: AlertRecord[] = [];
  // The model stage as the sensor runs it (same thresholds and limits), fed the injected flows.
  const stage =
    sc.classifier !== null || sc.anomaly !== null
      ? new ModelStage(
          {
            classifier: sc.classifier?.lm ?? null,
            anomaly: sc.anomaly?.lm ?? null,
            confidenceThreshold: sc.ml.confidenceThreshold,
            anomalyThreshold: sc.ml.anomalyThreshold,
            limitSeconds: sc.ml.limitSeconds,
          },
          (a) => {
            if (gate.pass(a) !== null) mlAlerts.push(a);
          },
        )
      : null;
  const flows: FinishedFlow[] = [];
  const r = runInjection(input, tsUs, {
    onFlow: (rec) => {
      stage?.flowEnd(rec);
      // The record's feature vector is a view into a recycled pool: copy it.
      const { features, ...rest } = rec;
      flows.push({ rec: rest, features: features === null ? null : Float64Array.from(features) });
    },
  });
  if (stage !== null) await stage.settle();
  const withFeatures = flows.filter((f) => f.features !== null);
  const verdicts = await scoreVectors(
    sc,
    withFeatures.map((f) => f.features!),
  );
  const byFlow = new Map<FinishedFlow, Verdicts>();
  withFeatures.forEach((f, i) => byFlow.set(f, verdicts[i]!));
  const all = [...r.alerts, ...mlAlerts];
  const perFlow = new Map<number, number>();
  for (const a of all) if (a.flowId !== 0) perFlow.set(a.flowId, (perFlow.get(a.flowId) ?? 0) + 1);
  return {
    frames: input.frames.length,
    packets: r.packets,
    bytes: r.counters.bytes,
    alerts: all.map(analysisAlert),
    flows: flows.map((f) => {
      const v = byFlow.get(f);
      const rec = f.rec;
      let features: Record<string, number | null> | null = null;
      if (f.features !== null) {
        features = {};
        // Unrounded, so posting them to /api/analyze/flow scores exactly this vector.
        for (let j = 0; j < FEATURE_NAMES.length; j++) {
          const x = f.features[j]!;
          features[FEATURE_NAMES[j]!] = Number.isFinite(x) ? x : null;
        }
      }
      return {
        flow_id: rec.flowId,
        src_ip: rec.srcIp,
        src_port: rec.srcPort,
        dst_ip: rec.dstIp,
        dst_port: rec.dstPort,
        protocol: protoName(rec.proto),
        app_proto: rec.appProto !== undefined && rec.appProto !== '' && rec.appProto !== 'failed' ? rec.appProto : null,
        state: rec.tcp?.state ?? rec.state,
        tcp_flags: rec.tcp === undefined ? null : tcpFlagNames(rec.tcp.flags),
        start: isoUs(rec.startUs),
        end: isoUs(rec.endUs),
        duration_s: (rec.endUs - rec.startUs) / 1e6,
        packets_to_server: rec.pktsToServer,
        packets_to_client: rec.pktsToClient,
        bytes_to_server: rec.bytesToServer,
        bytes_to_client: rec.bytesToClient,
        alerts: perFlow.get(rec.flowId) ?? 0,
        features,
        classifier: v?.classifier ?? null,
        anomaly: v?.anomaly ?? null,
      };
    }),
    decoder_events: r.decoder_events,
    protocols: protocolCounts(r.counters),
  };
}

/** Which models answered, or why not (part of every analysis answer). */
function modelsBlock(sc: Scoring): Record<string, unknown> {
  const one = (role: ModelRole): Record<string, unknown> | null => {
    const s = role === 'classifier' ? sc.classifier : sc.anomaly;
    if (s === null) return null;
    return { name: modelName(s.info), source: s.info.source, type: s.lm.file.type };
  };
  return {
    classifier: one('classifier'),
    anomaly: one('anomaly'),
    classifier_reason: sc.reasons.classifier,
    anomaly_reason: sc.reasons.anomaly,
  };
}

// ---- /api/analyze/flow input ------------------------------------------------------------------------

/** A full feature vector (FEATURE_NAMES order) from a request; throws 400 naming what is wrong. */
export function vectorOf(
  input: Record<string, number> | number[],
  required: readonly string[],
): {
  vector: Float64Array;
  given: Set<string>;
} {
  const vector = new Float64Array(FEATURE_NAMES.length);
  if (Array.isArray(input)) {
    if (input.length !== FEATURE_NAMES.length)
      throw badRequest(
        `features as an array must hold ${FEATURE_NAMES.length} numbers in the order of feature_names (GET /api/analyze/model-info); got ${input.length}`,
      );
    input.forEach((v, i) => (vector[i] = v));
    return { vector, given: new Set(FEATURE_NAMES) };
  }
  const given = new Set<string>();
  const unknown: string[] = [];
  for (const [name, v] of Object.entries(input)) {
    const canon = canonicalFeatureName(name);
    if (canon === null) {
      unknown.push(name);
      continue;
    }
    if (given.has(canon)) throw badRequest(`feature "${canon}" is given twice (as "${name}" and another spelling)`);
    given.add(canon);
    vector[FEATURE_NAMES.indexOf(canon)] = v;
  }
  if (unknown.length > 0)
    throw badRequest(
      `unknown features: ${unknown.slice(0, MISSING_LISTED).join(', ')}${unknown.length > MISSING_LISTED ? `, ... (${unknown.length} in all)` : ''}; the names are in feature_names of GET /api/analyze/model-info`,
    );
  const missing = required.filter((f) => !given.has(f));
  if (missing.length > 0)
    throw badRequest(
      `missing features the active models use: ${missing.slice(0, MISSING_LISTED).join(', ')}${missing.length > MISSING_LISTED ? `, ... and ${missing.length - MISSING_LISTED} more` : ''} (${missing.length} of ${required.length})`,
    );
  return { vector, given };
}

// ---- model info --------------------------------------------------------------------------------------

/** Large training entries not worth sending: the CSV encoding and the drift bins (reported as present or not). */
const TRAINING_OMITTED = new Set(['encoding', 'drift_reference']);

function modelInfo(sc: Scoring, role: ModelRole): Record<string, unknown> {
  const info = sc.info[role];
  const s = role === 'classifier' ? sc.classifier : sc.anomaly;
  const base = {
    role,
    source: info.source,
    name: modelName(info),
    version: info.version,
    shipped_default: info.dir !== null && path.resolve(info.dir) === path.resolve(DEFAULT_MODEL_DIR),
    loaded: s !== null,
    error: sc.errors[role],
    reason: sc.reasons[role],
  };
  if (s === null)
    return {
      ...base,
      type: null,
      classes: null,
      benign_class: null,
      class_types: null,
      features: null,
      feature_count: null,
      training: null,
      drift_reference: false,
      threshold: null,
    };
  const f = s.lm.file;
  const training: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f.training ?? {})) if (!TRAINING_OMITTED.has(k)) training[k] = v;
  const classTypes: Record<string, string> = {};
  for (const c of f.classes) classTypes[c] = c === f.benignClass ? 'benign' : (f.classTypes?.[c] ?? typeForClass(c));
  return {
    ...base,
    type: f.type,
    classes: f.classes,
    benign_class: f.benignClass,
    class_types: role === 'classifier' ? classTypes : null,
    features: f.features,
    feature_count: f.features.length,
    scaler: f.scaler?.kind ?? null,
    training: f.training === undefined ? null : training,
    drift_reference: readDriftReference(f.training?.['drift_reference'], f.features) !== null,
    threshold:
      role === 'classifier'
        ? { confidence: sc.confidenceThreshold, source: 'config' }
        : { score: sc.anomalyThreshold, source: sc.anomalyThresholdSource },
  };
}

// ---- routes ----------------------------------------------------------------------------------------

const port = { type: 'integer', minimum: 0, maximum: 65535 } as const;
const ip = { type: 'string', maxLength: 64 } as const;
const hexOrBase64 = { type: 'string', minLength: 1, maxLength: 40_000 } as const;
const encoding = { type: 'string', enum: ['hex', 'base64'], description: 'Default: hex when only hex digits' } as const;
const link = {
  type: 'string',
  enum: ['ethernet', 'raw'],
  description: 'Default: raw (bare IP) when the first byte looks like an IP header, else Ethernet',
} as const;
const fieldsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['src_ip', 'dst_ip', 'protocol'],
  properties: {
    src_ip: ip,
    dst_ip: ip,
    protocol: { type: 'string', enum: ['tcp', 'udp', 'icmp'] },
    src_port: port,
    dst_port: port,
    payload: { type: 'string', maxLength: 9216 },
    payload_hex: { type: 'string', maxLength: 18_432 },
    payload_base64: { type: 'string', maxLength: 12_288 },
    session: { type: 'boolean', description: 'TCP: wrap the payload in a whole session (default true)' },
    response: { type: 'string', maxLength: 9216 },
  },
} as const;

interface BulkBody {
  packets?: string[];
  encoding?: 'hex' | 'base64';
  link?: 'ethernet' | 'raw';
  sessions?: InjectFields[];
}

interface FlowBody {
  features: Record<string, number> | number[];
}

/** Frames of a bulk request (throws 400 with the reason). */
export function bulkFrames(b: BulkBody): InjectFrames {
  const given = (b.packets !== undefined ? 1 : 0) + (b.sessions !== undefined ? 1 : 0);
  if (given !== 1) throw badRequest('give exactly one of packets or sessions');
  if (b.packets !== undefined) {
    if (b.packets.length > MAX_BULK_PACKETS)
      throw badRequest(
        `at most ${MAX_BULK_PACKETS} packets per bulk request (got ${b.packets.length}); split them, or upload a capture to POST /api/pcap/analyze`,
      );
    return framesOf(
      {
        packets: b.packets,
        ...(b.encoding !== undefined ? { encoding: b.encoding } : {}),
        ...(b.link !== undefined ? { link: b.link } : {}),
      },
      MAX_BULK_PACKETS,
    );
  }
  if (b.encoding !== undefined || b.link !== undefined) throw badRequest('encoding and link apply to packets only');
  const sessions = b.sessions!;
  if (sessions.length > MAX_BULK_SESSIONS)
    throw badRequest(`at most ${MAX_BULK_SESSIONS} sessions per bulk request (got ${sessions.length})`);
  const frames: Buffer[] = [];
  sessions.forEach((s, i) => {
    try {
      frames.push(...framesFromFields(s));
    } catch (e) {
      throw badRequest(`sessions[${i}]: ${(e as Error).message}`);
    }
  });
  if (frames.length > MAX_BULK_PACKETS)
    throw badRequest(`the sessions make ${frames.length} packets; at most ${MAX_BULK_PACKETS} per bulk request`);
  return { frames, linkType: LINKTYPE.ETHERNET, midstream: false };
}

export function analyzeExtension(opts: {
  models: ServerModels;
  /** The running live sensor's model counters (scored flows, shadow model, rules with ml.*), or null. */
  liveMl?: () => Record<string, number> | null;
}): ServerExtension {
  const models = opts.models;
  return {
    name: 'analyze',
    routes: async (app: FastifyInstance) => {
      app.post<{ Body: InjectRequest }>(
        '/api/analyze',
        {
          config: { access: 'analyst', rateLimit: '30 per minute' },
          schema: {
            summary:
              'Analyse one packet: decoded summary, alerts, its flow and the models\u2019 verdicts (nothing stored)',
            tags: ['analyze'],
            body: {
              type: 'object',
              additionalProperties: false,
              properties: {
                packet: { ...hexOrBase64, description: 'One raw frame, hex or base64' },
                packets: {
                  type: 'array',
                  minItems: 1,
                  maxItems: MAX_INJECT_PACKETS,
                  items: hexOrBase64,
                  description: 'A few frames of one exchange (use /api/analyze/bulk for more)',
                },
                encoding,
                link,
                fields: fieldsSchema,
              },
            },
            response: { 200: anyObject, ...errorResponses },
          },
        },
        async (req) => {
          const b = req.body;
          if (b === undefined) throw badRequest('give packet, packets or fields');
          const frames = framesOf(b);
          const sc = scoringOf(models);
          const t = nowUs();
          const a = await analyzeFrames(frames, sc, t);
          return {
            analyzed_at: isoUs(t),
            stored: false,
            frames: a.frames,
            packets: packetSummaries(frames, t),
            alerts: a.alerts,
            alerts_count: a.alerts.length,
            flows: a.flows,
            flow: a.flows[0] ?? null,
            decoder_events: a.decoder_events,
            protocols: a.protocols,
            models: modelsBlock(sc),
          };
        },
      );

      app.post<{ Body: BulkBody }>(
        '/api/analyze/bulk',
        {
          config: { access: 'analyst', rateLimit: '10 per minute' },
          bodyLimit: BULK_BODY_LIMIT,
          schema: {
            summary: `Analyse up to ${MAX_BULK_PACKETS} packets in one engine: per-flow features and verdicts, alerts, totals (nothing stored)`,
            tags: ['analyze'],
            body: {
              type: 'object',
              additionalProperties: false,
              properties: {
                packets: {
                  type: 'array',
                  minItems: 1,
                  items: hexOrBase64,
                  description: `Raw frames in capture order, 1 ms apart (at most ${MAX_BULK_PACKETS})`,
                },
                encoding,
                link,
                sessions: {
                  type: 'array',
                  minItems: 1,
                  items: fieldsSchema,
                  description: `Sessions built from fields, one after the other (at most ${MAX_BULK_SESSIONS}, ${MAX_BULK_PACKETS} packets in all)`,
                },
              },
            },
            response: { 200: anyObject, ...errorResponses },
          },
        },
        async (req) => {
          const b = req.body;
          if (b === undefined) throw badRequest('give packets or sessions');
          const frames = bulkFrames(b);
          const sc = scoringOf(models);
          const t = nowUs();
          const a = await analyzeFrames(frames, sc, t);
          const byType: Record<string, number> = {};
          for (const al of a.alerts) byType[al['type'] as string] = (byType[al['type'] as string] ?? 0) + 1;
          const byClass: Record<string, number> = {};
          let anomalous = 0;
          let mlAlerting = 0;
          for (const f of a.flows) {
            if (f.classifier !== null)
              byClass[f.classifier.predicted_class] = (byClass[f.classifier.predicted_class] ?? 0) + 1;
            if (f.anomaly?.would_alert === true) anomalous++;
            if (f.classifier?.would_alert === true || f.anomaly?.would_alert === true) mlAlerting++;
          }
          return {
            analyzed_at: isoUs(t),
            stored: false,
            totals: {
              frames: a.frames,
              packets: a.packets,
              bytes: a.bytes,
              flows: a.flows.length,
              alerts: a.alerts.length,
              alerts_by_type: byType,
              predictions_by_class: byClass,
              flows_over_model_thresholds: mlAlerting,
              anomalous_flows: anomalous,
              protocols: a.protocols,
              decoder_events: a.decoder_events,
            },
            flows: a.flows,
            alerts: a.alerts,
            models: modelsBlock(sc),
          };
        },
      );

      app.post<{ Body: FlowBody }>(
        '/api/analyze/flow',
        {
          config: { access: 'analyst' },
          schema: {
            summary: 'Score a flow feature vector with the active classifier and anomaly model',
            tags: ['analyze'],
            body: {
              type: 'object',
              additionalProperties: false,
              required: ['features'],
              properties: {
                features: {
                  description:
                    'Either {name: number} (feature names as in feature_names of /api/analyze/model-info, or CIC-IDS2017/2018 spellings; every feature the active models use is required) or an array of all feature_names values in that order',
                  anyOf: [
                    { type: 'object', additionalProperties: { type: 'number' }, maxProperties: 512 },
                    { type: 'array', items: { type: 'number' }, maxItems: 512 },
                  ],
                },
              },
            },
            response: { 200: anyObject, ...errorResponses },
          },
        },
        async (req) => {
          const sc = scoringOf(models);
          const required = [
            ...new Set([...(sc.classifier?.lm.file.features ?? []), ...(sc.anomaly?.lm.file.features ?? [])]),
          ];
          const { vector, given } = vectorOf(req.body.features, required);
          const [v] = await scoreVectors(sc, [vector]);
          const used = new Set(required);
          return {
            classifier: v!.classifier,
            classifier_reason: sc.reasons.classifier,
            anomaly: v!.anomaly,
            anomaly_reason: sc.reasons.anomaly,
            would_alert: v!.classifier?.would_alert === true || v!.anomaly?.would_alert === true,
            features_used: used.size,
            ignored_features: [...given].filter((f) => !used.has(f)).length,
            models: modelsBlock(sc),
          };
        },
      );

      app.get(
        '/api/analyze/model-info',
        {
          config: { access: 'viewer' },
          schema: {
            summary: 'The active classifier and anomaly model, their training record and the thresholds in force',
            tags: ['analyze'],
            response: { 200: anyObject, ...errorResponses },
          },
        },
        async () => {
          const sc = scoringOf(models);
          return {
            ml_enabled: sc.ml.enabled,
            classifier: modelInfo(sc, 'classifier'),
            anomaly: modelInfo(sc, 'anomaly'),
            thresholds: {
              confidence: sc.confidenceThreshold,
              anomaly: sc.anomalyThreshold,
              anomaly_source: sc.anomalyThresholdSource,
              limit_seconds: sc.ml.limitSeconds,
            },
            feature_names: FEATURE_NAMES,
            live: liveModelCounters(opts.liveMl?.() ?? null),
          };
        },
      );
    },
  };
}

/**
 * The live sensor's model figures since it started: flows scored, alerts folded, the shadow
 * model beside the active one (flows, would-be alerts, agreement, disagreements by type) and the
 * rules waiting on model verdicts. null when no live sensor runs.
 */
function liveModelCounters(m: Record<string, number> | null): Record<string, unknown> | null {
  if (m === null) return null;
  return {
    flows_scored: m['flows_scored'] ?? 0,
    alerts_limited: m['alerts_limited'] ?? 0,
    shadow: shadowSummary(m),
    rule_alerts: ruleAlertSummary(m),
  };
}
