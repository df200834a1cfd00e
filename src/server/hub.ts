/**
 * The server's in-process event hub: the parts that produce results (PCAP jobs, live capture, the
 * test routes) publish here and the Socket.IO layer (realtime.ts) relays to browsers, so producers
 * never import Socket.IO and the realtime layer never reaches into producers.
 *
 * Stored alerts are published from what the store returned (`insertAlerts` results), so a
 * `new_alert` always names a row that exists: `id`, `count` (occurrences folded into it) and
 * `is_new` (false when the alert folded into an earlier row within the dedup window).
 */
import { EventEmitter } from 'node:events';
import type { PcapProgress } from '../jobs/pcap-analysis.js';
import type { Repository } from '../store/repository.js';
import { isoUs } from '../store/time.js';
import type { AlertInsertResult, PcapStatus, StoredAlertInput } from '../store/types.js';

/** A stored alert as `new_alert` carries it (the list's field names; no raw EVE record). */
export interface AlertEvent {
  id: number;
  is_new: boolean;
  count: number;
  timestamp: string;
  type: string;
  severity: string;
  detector: string;
  gid: number;
  signature_id: number;
  rev: number;
  message: string;
  category: string;
  source_ip: string;
  source_port: number | null;
  destination_ip: string;
  destination_port: number | null;
  protocol: string;
  app_proto: string | null;
  flow_id: number | null;
  sensor: string;
  mitre: string[];
  analysis_id: string | null;
  /** Where it came from: `live`, `pcap` or `test`. */
  source: AlertSource;
}

export type AlertSource = 'live' | 'pcap' | 'test';

/** Traffic counters a live source reports (cumulative since it started). */
export interface TrafficSnapshot {
  packets: number;
  bytes: number;
  flows_active: number;
  flows_total: number;
  alerts: number;
  dropped: number;
  protocols: Record<string, number>;
}

export interface HubEvents {
  alert: [AlertEvent];
  pcap_progress: [PcapProgress];
  pcap_status: [{ analysis_id: string; status: PcapStatus }];
}

export class ServerHub extends EventEmitter<HubEvents> {
  /** Alerts published since start. */
  alertsPublished = 0;
  private trafficSource: (() => TrafficSnapshot | null) | null = null;

  constructor() {
    super();
    // Every socket does not subscribe here (one relay per server), but tests and extensions may.
    this.setMaxListeners(50);
  }

  /** Publish the rows an insertAlerts call returned (results are in input order). */
  publishInserted(
    inputs: readonly StoredAlertInput[],
    results: readonly AlertInsertResult[],
    source: AlertSource,
  ): void {
    const n = Math.min(inputs.length, results.length);
    for (let i = 0; i < n; i++) {
      this.alertsPublished++;
      this.emit('alert', alertEvent(inputs[i]!, results[i]!, source));
    }
  }

  /**
   * The repository as `source` should write through: the same store, with every insertAlerts
   * published. Everything else is the repository's own method.
   */
  publishingRepository(repo: Repository, source: AlertSource): Repository {
    const insertAlerts = async (inputs: readonly StoredAlertInput[]): Promise<AlertInsertResult[]> => {
      const res = await repo.insertAlerts(inputs);
      this.publishInserted(inputs, res, source);
      return res;
    };
    return new Proxy(repo, {
      get(target, prop) {
        if (prop === 'insertAlerts') return insertAlerts;
        const v: unknown = Reflect.get(target, prop, target);
        // Methods run on the real repository (class fields and private state live there).
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  /** The live capture registers its counters here (null: none); traffic_update reads them. */
  setTrafficSource(fn: (() => TrafficSnapshot | null) | null): void {
    this.trafficSource = fn;
  }

  traffic(): TrafficSnapshot | null {
    return this.trafficSource?.() ?? null;
  }
}

export function alertEvent(a: StoredAlertInput, r: AlertInsertResult, source: AlertSource): AlertEvent {
  return {
    id: r.id,
    is_new: r.isNew,
    count: r.count,
    timestamp: isoUs(a.tsUs),
    type: a.type,
    severity: a.severity,
    detector: a.detector,
    gid: a.gid,
    signature_id: a.signatureId,
    rev: a.rev,
    message: a.message,
    category: a.category,
    source_ip: a.sourceIp,
    source_port: a.sourcePort,
    destination_ip: a.destinationIp,
    destination_port: a.destinationPort,
    protocol: a.protocol,
    app_proto: a.appProto,
    flow_id: a.flowId,
    sensor: a.sensor,
    mitre: a.mitre,
    analysis_id: a.analysisId ?? null,
    source,
  };
}
