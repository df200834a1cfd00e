/**
 * Behaviour detectors: stateful detectors over packets, finished flows and application records
 * (port scans, floods, brute force, exfiltration, DNS tunnelling, beaconing). Each detector is
 * one file exporting a `BehaviorFactory`, registered in registry.ts. They run where the flow
 * table runs (one per pipeline shard; shards split traffic by IP pair, see `BehaviorContext.shards`).
 */
import type { PacketBatch } from '../../capture/batch.js';
import type { DecodedBatch } from '../../decode/batch.js';
import type { FlowRecord } from '../../flow/table.js';
import type { AppRecord } from '../../applayer/app-layer.js';
import type { BehaviorConfig } from './config.js';

/** Alert types behaviour detectors raise (a subset of the taxonomy in src/alerts/taxonomy.ts). */
export type BehaviorType = 'port_scan' | 'dos' | 'brute_force' | 'data_exfiltration' | 'malware' | 'recon' | 'policy';

export type BehaviorSeverity = 'low' | 'medium' | 'high' | 'critical';

/** One behaviour alert. Addresses are strings: alerts are rare, formatting happens only here. */
export interface BehaviorAlert {
  /** Capture time of the packet (or flow end / record) that crossed the threshold. */
  tsUs: number;
  /** Identity like a rule's: sid in Vigil's behaviour range 9200000-9299999 (one per alert kind), rev. */
  sid: number;
  rev: number;
  /** Human-readable signature, e.g. "VIGIL BEHAVIOR TCP SYN port scan". */
  msg: string;
  type: BehaviorType;
  severity: BehaviorSeverity;
  /** MITRE ATT&CK technique ids, e.g. ['T1046']. */
  mitre: string[];
  /** Attacker / victim as the detector sees them (src = the party doing the behaviour). */
  srcIp: string;
  dstIp: string;
  /** 0 when not tied to one port. */
  srcPort: number;
  dstPort: number;
  /** IP protocol number (6, 17, 1, 58) or 0 when mixed. */
  proto: number;
  ipVer: 4 | 6;
  /** Flow the alert was raised on, 0 when it summarises several flows. */
  flowId: number;
  /**
   * Evidence: counts, rates, sampled ports, window... Written to EVE alert.metadata as arrays of
   * strings (Suricata's convention), e.g. { distinct_ports: [1000], sample_ports: [22, 80, 443], window_s: [60] }.
   */
  evidence: Record<string, ReadonlyArray<string | number>>;
}

export interface BehaviorContext {
  cfg: BehaviorConfig;
  /**
   * Pipeline shards (workers). Traffic is split by IP pair, so a detector that aggregates across
   * pairs (one source to many destinations, many sources to one destination) sees about 1/shards
   * of such a pattern and scales those thresholds by it; per-pair aggregates are exact.
   */
  shards: number;
  /**
   * Whether an address is in $HOME_NET (the configured address group; RFC 1918 by default), for
   * detectors that care about direction (internal -> external exfiltration, beaconing out).
   * Words as in DecodedBatch.src/dst (IPv4 in word 0).
   */
  isHome(ipVer: number, words: Uint32Array, off: number): boolean;
  /** isHome for an address string (not for the packet path). */
  isHomeIp(ip: string): boolean;
  emit(a: BehaviorAlert): void;
}

/**
 * A detector. Hooks are optional. `packets` runs once per batch after decoding and flow tracking,
 * over the DecodedBatch columns (indexed loops, numeric keys; format addresses only for alerts,
 * e.g. with formatIp from src/flow/key.ts). `tick` runs after each batch with the capture time of
 * its last packet, to expire windows. State must be bounded (cap tables; evict oldest).
 */
export interface BehaviorDetector {
  readonly name: string;
  packets?(pkts: PacketBatch, dec: DecodedBatch): void;
  flowEnd?(rec: FlowRecord): void;
  app?(rec: AppRecord): void;
  tick?(nowUs: number): void;
  /** End of input: report what is pending (e.g. a slow scan whose window is still open). */
  finish?(nowUs: number): void;
}

export type BehaviorFactory = (ctx: BehaviorContext) => BehaviorDetector;
