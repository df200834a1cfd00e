/**
 * Hosts the enabled behaviour detectors of one pipeline shard and turns their alerts into the
 * pipeline's AlertRecord (gid 1, Vigil's behaviour sid range, evidence in metadata).
 */
import type { PacketBatch } from '../../capture/batch.js';
import type { DecodedBatch } from '../../decode/batch.js';
import type { FlowRecord } from '../../flow/table.js';
import type { AppRecord } from '../../applayer/app-layer.js';
import type { AlertRecord } from '../engine/detector.js';
import type { BehaviorConfig } from './config.js';
import { BEHAVIOR_DETECTORS } from './registry.js';
import { parseIp } from '../../flow/key.js';
import { parseAddress } from '../signatures/address.js';
import { addressMatcher } from '../engine/compile.js';
import type { BehaviorAlert, BehaviorDetector, BehaviorType } from './types.js';

/** Suricata classification descriptions used as the EVE `category` of behaviour alerts. */
const CATEGORY: Record<BehaviorType, string> = {
  port_scan: 'Detection of a Network Scan',
  dos: 'Detection of a Denial of Service Attack',
  brute_force: 'Attempted User Privilege Gain',
  data_exfiltration: 'Potential Corporate Privacy Violation',
  malware: 'A Network Trojan was detected',
  recon: 'Attempted Information Leak',
  policy: 'Potential Corporate Privacy Violation',
};

/** Categories of the other types models may predict. */
const OTHER_CATEGORY: Record<string, string> = {
  sql_injection: 'Web Application Attack',
  xss: 'Web Application Attack',
  anomaly: 'Detection of a non-standard protocol or event',
};

/** Vigil severity -> Suricata priority (1 = highest). */
const PRIORITY = { critical: 1, high: 1, medium: 2, low: 3 } as const;

/** `detector`: behaviour detectors; 'signature' for indicator-list matches; the model stage's own. */
export function behaviorAlertRecord(
  a: BehaviorAlert,
  detector: 'behavior' | 'signature' | 'classifier' | 'anomaly' = 'behavior',
): AlertRecord {
  const metadata = [`vigil_type ${a.type}`, `detector ${detector}`, `vigil_severity ${a.severity}`];
  for (const t of a.mitre) metadata.push(`mitre_technique_id ${t}`);
  for (const [k, vs] of Object.entries(a.evidence)) for (const v of vs) metadata.push(`${k} ${String(v)}`);
  return {
    kind: 'alert',
    tsUs: a.tsUs,
    pcapCnt: 0,
    flowId: a.flowId,
    srcIp: a.srcIp,
    dstIp: a.dstIp,
    srcPort: a.srcPort,
    dstPort: a.dstPort,
    proto: a.proto,
    ipVer: a.ipVer,
    direction: 'to_server',
    appProto: '',
    action: 'allowed',
    gid: 1,
    sid: a.sid,
    rev: a.rev,
    msg: a.msg,
    classtype: null,
    category: CATEGORY[a.type] ?? OTHER_CATEGORY[a.type] ?? 'Misc Attack',
    severity: PRIORITY[a.severity],
    metadata,
    target: 'dest_ip',
  };
}

/** $HOME_NET as a predicate; an unset or unparsable group means RFC 1918 (Suricata's default). */
export function homeMatcher(groups: Record<string, string>): (ipVer: number, w: Uint32Array, o: number) => boolean {
  let expr = parseAddress('$HOME_NET', groups);
  if (typeof expr === 'string') expr = parseAddress('[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]', {});
  if (typeof expr === 'string') throw new Error(`internal: default HOME_NET does not parse: ${expr}`);
  const m = addressMatcher(expr);
  if (m === null) return () => true;
  return (ipVer, w, o) => m(ipVer === 6, w, o);
}

export class BehaviorEngine {
  private readonly detectors: BehaviorDetector[] = [];
  private readonly withPackets: BehaviorDetector[] = [];
  private readonly withFlows: BehaviorDetector[] = [];
  private readonly withApp: BehaviorDetector[] = [];
  private lastUs = 0;

  /** `addressGroups`: the rule variables (HOME_NET decides what is internal). */
  constructor(
    cfg: BehaviorConfig,
    shards: number,
    addressGroups: Record<string, string>,
    onAlert: (a: AlertRecord) => void,
  ) {
    const emit = (a: BehaviorAlert): void => onAlert(behaviorAlertRecord(a));
    const isHome = homeMatcher(addressGroups);
    const scratch = new Uint32Array(4);
    const isHomeIp = (ip: string): boolean => {
      const v = parseIp(ip, scratch, 0);
      return v !== 0 && isHome(v, scratch, 0);
    };
    for (const entry of BEHAVIOR_DETECTORS) {
      if (cfg.disabled.includes(entry.name)) continue;
      const d = entry.create({ cfg, shards: Math.max(1, shards), emit, isHome, isHomeIp });
      this.detectors.push(d);
      if (d.packets !== undefined) this.withPackets.push(d);
      if (d.flowEnd !== undefined) this.withFlows.push(d);
      if (d.app !== undefined) this.withApp.push(d);
    }
  }

  get size(): number {
    return this.detectors.length;
  }

  packets(pkts: PacketBatch, dec: DecodedBatch): void {
    if (pkts.count === 0) return;
    for (const d of this.withPackets) d.packets!(pkts, dec);
    this.lastUs = pkts.tsUs[pkts.count - 1]!;
    for (const d of this.detectors) d.tick?.(this.lastUs);
  }

  flowEnd(rec: FlowRecord): void {
    for (const d of this.withFlows) d.flowEnd!(rec);
  }

  app(rec: AppRecord): void {
    for (const d of this.withApp) d.app!(rec);
  }

  finish(): void {
    for (const d of this.detectors) d.finish?.(this.lastUs);
  }
}
