/**
 * The flow sink of `vigil analyze` (see src/pipeline/sink.ts): counts flows, aggregates top
 * talkers and, with --eve, formats EVE flow lines — in the worker where each flow ends.
 */
import type { AppRecord } from '../applayer/app-layer.js';
import type { FlowRecord } from '../flow/table.js';
import type { FlowSink } from '../pipeline/sink.js';
import type { AlertRecord } from '../detect/engine/detector.js';
import type { AlertEveOptions } from './eve.js';
import {
  alertEvent,
  dnsEvents,
  httpFileinfoEvent,
  httpRequestFileinfoEvents,
  smtpEvents,
  flowEvent,
  ftpEvent,
  httpEvent,
  sshEvent,
  tlsEvent,
} from './eve.js';
import { TalkerTable } from './talkers.js';
import { FileStore } from './filestore.js';
import type { FileStoreCounters, FileStoreSpec, StoreResult } from './filestore.js';
import { storeHttpRequestFiles, storeHttpResponse, storeSmtpAttachments } from './filestore-app.js';
import { AlertDeduplicator } from '../alerts/dedup.js';
import type { TalkerEntry } from './talkers.js';

export interface AnalyzeSinkOptions {
  eve: boolean;
  host: string;
  /** Write IPv6 addresses compressed; Suricata's default (false) writes all eight groups. */
  ipv6Compress?: boolean;
  /** Extra alert fields (packet, payload, MACs). */
  alert?: AlertEveOptions;
  /** ALERT_DEDUP_WINDOW in seconds: alerts folded as they would be when stored (0 = none). */
  dedupWindow?: number;
  /** The file store (file-store.enabled), prepared by the caller; absent = off. */
  fileStore?: FileStoreSpec;
}

/** `fe80::1` -> `fe80:0000:0000:0000:0000:0000:0000:0001` (Suricata's EVE default). */
export function expandIpv6(ip: string): string {
  if (!ip.includes(':')) return ip;
  // An IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const tail4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (tail4) {
    const [a, b, c, d] = tail4.slice(1).map(Number) as [number, number, number, number];
    ip = ip.slice(0, tail4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const halves = ip.split('::');
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length > 1 && halves[1] !== '' ? halves[1]!.split(':') : [];
  const fill = halves.length > 1 ? new Array<string>(8 - head.length - tail.length).fill('0') : [];
  return [...head, ...fill, ...tail].map((g) => g.padStart(4, '0')).join(':');
}

export interface AnalyzeSinkResult {
  flows: number;
  alerts: number;
  /** Alerts left after deduplication (what the store would keep). */
  alertsDeduplicated: number;
  /** Alerts by Vigil type (src/alerts/taxonomy.ts). */
  alertsByType: Record<string, number>;
  talkers: TalkerEntry[];
  /** File store counters (absent when the store is off). */
  fileStore?: FileStoreCounters;
}

class AnalyzeSink implements FlowSink {
  private flows = 0;
  private alerts = 0;
  private alertsDeduplicated = 0;
  private readonly dedup: AlertDeduplicator;
  private readonly alertsByType: Record<string, number> = {};
  private readonly talkers = new TalkerTable();
  private eve = '';
  /** null when file-store is off: one null check per HTTP/SMTP record, nothing else. */
  private readonly files: FileStore | null;

  constructor(private readonly opts: AnalyzeSinkOptions) {
    this.dedup = new AlertDeduplicator(opts.dedupWindow ?? 0);
    this.files = opts.fileStore !== undefined ? new FileStore(opts.fileStore) : null;
  }

  /** One EVE line, with addresses in the configured IPv6 form. */
  private line(ev: Record<string, unknown>): string {
    if (this.opts.ipv6Compress !== true) {
      if (typeof ev['src_ip'] === 'string') ev['src_ip'] = expandIpv6(ev['src_ip']);
      if (typeof ev['dest_ip'] === 'string') ev['dest_ip'] = expandIpv6(ev['dest_ip']);
    }
    return JSON.stringify(ev) + '\n';
  }

  flow(rec: FlowRecord): void {
    this.flows++;
    this.talkers.add(rec);
    if (this.opts.eve) this.eve += this.line(flowEvent(rec, this.opts.host));
  }

  app(rec: AppRecord): void {
    const files = this.files;
    let httpStore: StoreResult | undefined;
    let uploadStore: (StoreResult | undefined)[] | undefined;
    let smtpStore: (StoreResult | undefined)[] | undefined;
    if (files !== null) {
      if (rec.kind === 'http') {
        uploadStore = storeHttpRequestFiles(files, rec);
        httpStore = storeHttpResponse(files, rec);
      } else if (rec.kind === 'smtp') smtpStore = storeSmtpAttachments(files, rec);
    }
    if (!this.opts.eve) return;
    if (rec.kind === 'http') {
      this.eve += this.line(httpEvent(rec, this.opts.host));
      // Request files close before the response's (Suricata logs them in that order).
      for (const ev of httpRequestFileinfoEvents(rec, this.opts.host, uploadStore)) this.eve += this.line(ev);
      const fi = httpFileinfoEvent(rec, this.opts.host, httpStore);
      if (fi !== null) this.eve += this.line(fi);
    } else if (rec.kind === 'tls') this.eve += this.line(tlsEvent(rec, this.opts.host));
    else if (rec.kind === 'ssh') this.eve += this.line(sshEvent(rec, this.opts.host));
    else if (rec.kind === 'ftp') this.eve += this.line(ftpEvent(rec, this.opts.host));
    else if (rec.kind === 'smtp')
      for (const ev of smtpEvents(rec, this.opts.host, smtpStore)) this.eve += this.line(ev);
    else for (const ev of dnsEvents(rec, this.opts.host)) this.eve += this.line(ev);
  }

  alert(rec: AlertRecord): void {
    this.alerts++;
    const k = rec.vigilType ?? 'policy';
    this.alertsByType[k] = (this.alertsByType[k] ?? 0) + 1;
    // Alerts of a source/destination pair meet in one shard, so per-shard folding is exact.
    if (this.dedup.add(k, rec.gid, rec.sid, rec.srcIp, rec.dstIp, rec.tsUs).isNew) this.alertsDeduplicated++;
    if (this.opts.eve) this.eve += this.line(alertEvent(rec, this.opts.host, this.opts.alert));
  }

  /** EVE lines since the last drain. */
  drain(): string | null {
    if (this.eve.length === 0) return null;
    const out = this.eve;
    this.eve = '';
    return out;
  }

  finish(): AnalyzeSinkResult {
    return {
      flows: this.flows,
      alerts: this.alerts,
      alertsDeduplicated: this.alertsDeduplicated,
      alertsByType: this.alertsByType,
      talkers: this.talkers.entries(),
      ...(this.files !== null ? { fileStore: this.files.counters } : {}),
    };
  }
}

export function createSink(options: unknown): FlowSink {
  return new AnalyzeSink(options as AnalyzeSinkOptions);
}
