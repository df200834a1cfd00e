/**
 * The pipeline's AlertRecord (src/detect/engine/detector.ts, completed by the alert gate
 * src/alerts/gate.ts) as a StoredAlertInput. Runs where alerts reach the store (the server's
 * store sink), not on the packet path.
 */
import type { AlertRecord } from '../detect/engine/detector.js';
import { communityIdFromStrings, parseIp } from '../flow/key.js';
import { alertEvent, protoName } from '../output/eve.js';
import type { AlertSeverity, StoredAlertInput } from './types.js';
import { SEVERITY_RANK } from './types.js';

/** Metadata keys that carry the taxonomy rather than evidence. */
const TAXONOMY_KEYS = new Set(['vigil_type', 'detector', 'vigil_severity', 'mitre_technique_id']);

/**
 * Rule metadata strings ("key value") as EVE's alert.metadata object (key -> values), as
 * src/output/eve.ts writes it, so the stored metadata equals the EVE record's.
 */
export function metadataObject(meta: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of meta) {
    const t = m.trim();
    const sp = t.indexOf(' ');
    if (sp <= 0) continue;
    const k = t.slice(0, sp);
    (out[k] ??= []).push(t.slice(sp + 1).trim());
  }
  return out;
}

const isSeverity = (s: string | undefined): s is AlertSeverity => s !== undefined && s in SEVERITY_RANK;

/** Suricata priority (1 = highest) -> severity, for a record the gate has not classified. */
function severityOfPriority(p: number): AlertSeverity {
  return p <= 1 ? 'high' : p === 2 ? 'medium' : 'low';
}

const PORTED = new Set([6, 17, 132]);

export interface StoredAlertOptions {
  /** Sensor name (EVE `host`). */
  sensor: string;
  /** The PCAP analysis that raised the alert (null: live capture). */
  analysisId?: string | null;
  /** Keep the EVE record in `raw` (default true). */
  raw?: boolean;
}

/**
 * Map one alert. Type, severity and detector come from the gate's fields (vigilType,
 * vigilSeverity) or the taxonomy metadata it wrote; a record that never passed the gate falls back
 * to `policy`, the rule priority and `signature`, as the taxonomy does for unclassified rules.
 */
export function toStoredAlertInput(a: AlertRecord, opts: StoredAlertOptions): StoredAlertInput {
  const metadata = metadataObject(a.metadata);
  const metaType = metadata['vigil_type']?.[0];
  const metaSeverity = metadata['vigil_severity']?.[0];
  const severity: AlertSeverity = isSeverity(a.vigilSeverity)
    ? a.vigilSeverity
    : isSeverity(metaSeverity)
      ? metaSeverity
      : severityOfPriority(a.severity);
  const ported = PORTED.has(a.proto);
  const evidence: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) if (!TAXONOMY_KEYS.has(k)) evidence[k] = v;
  if (a.context !== undefined) evidence['context'] = a.context;
  if (a.flowvars !== undefined) evidence['flowvars'] = a.flowvars;
  if (a.pktvars !== undefined) evidence['pktvars'] = a.pktvars;
  if (a.flow !== undefined)
    evidence['flow'] = {
      pkts_toserver: a.flow.pktsToServer,
      pkts_toclient: a.flow.pktsToClient,
      bytes_toserver: a.flow.bytesToServer,
      bytes_toclient: a.flow.bytesToClient,
    };
  return {
    tsUs: a.tsUs,
    type: a.vigilType ?? metaType ?? 'policy',
    severity,
    detector: metadata['detector']?.[0] ?? 'signature',
    gid: a.gid,
    signatureId: a.sid,
    rev: a.rev,
    message: a.msg,
    category: a.category,
    sourceIp: a.srcIp,
    sourcePort: ported ? a.srcPort : null,
    destinationIp: a.dstIp,
    destinationPort: ported ? a.dstPort : null,
    protocol: protoName(a.proto),
    appProto: a.appProto !== '' && a.appProto !== 'failed' ? a.appProto : null,
    flowId: a.flowId !== 0 ? a.flowId : null,
    communityId: communityIdOf(a),
    sensor: opts.sensor,
    metadata,
    evidence: Object.keys(evidence).length > 0 ? evidence : null,
    mitre: metadata['mitre_technique_id'] ?? [],
    raw: opts.raw === false ? null : alertEvent(a, opts.sensor),
    analysisId: opts.analysisId ?? null,
  };
}

const words = new Uint32Array(4);

/**
 * Community ID v1 of the alert's flow, so stored alerts join flow records and other tools' data.
 * null for ICMP: alert records carry no ICMP type/code, which the ID hashes.
 */
function communityIdOf(a: AlertRecord): string | null {
  if (a.proto === 1 || a.proto === 58) return null;
  const v = parseIp(a.srcIp, words, 0);
  if (v === 0 || parseIp(a.dstIp, words, 0) !== v) return null;
  return communityIdFromStrings(a.srcIp, a.dstIp, a.proto, a.srcPort, a.dstPort);
}
