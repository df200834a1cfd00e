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

/** Vigil severity -> Suricata priority (1 = highest). */
const PRIORITY = { critical: 1, high: 1, medium: 2, low: 3 } as const;

export function behaviorAlertRecord(a: BehaviorAlert): AlertRecord {
  const metadata = [`vigil_type ${a.type}`, 'detector behavior', `vigil_severity ${a.severity}`];
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
    category: CATEGORY[a.type],
    severity: PRIORITY[a.severity],
    metadata,
    target: 'dest_ip',
  };
}

export class BehaviorEngine {
  private readonly detectors: BehaviorDetector[] = [];
  private readonly withPackets: BehaviorDetector[] = [];
  private readonly withFlows: BehaviorDetector[] = [];
  private readonly withApp: BehaviorDetector[] = [];
  private lastUs = 0;

  constructor(cfg: BehaviorConfig, shards: number, onAlert: (a: AlertRecord) => void) {
    const emit = (a: BehaviorAlert): void => onAlert(behaviorAlertRecord(a));
    for (const entry of BEHAVIOR_DETECTORS) {
      if (cfg.disabled.includes(entry.name)) continue;
      const d = entry.create({ cfg, shards: Math.max(1, shards), emit });
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
