/**
 * The flow sink of `vigil analyze` (see src/pipeline/sink.ts): counts flows, aggregates top
 * talkers and, with --eve, formats EVE flow lines — in the worker where each flow ends.
 */
import type { AppRecord } from '../applayer/app-layer.js';
import type { FlowRecord } from '../flow/table.js';
import type { FlowSink } from '../pipeline/sink.js';
import { dnsEvents, flowEvent, ftpEvent, httpEvent, sshEvent, tlsEvent } from './eve.js';
import { TalkerTable } from './talkers.js';
import type { TalkerEntry } from './talkers.js';

export interface AnalyzeSinkOptions {
  eve: boolean;
  host: string;
}

export interface AnalyzeSinkResult {
  flows: number;
  talkers: TalkerEntry[];
}

class AnalyzeSink implements FlowSink {
  private flows = 0;
  private readonly talkers = new TalkerTable();
  private eve = '';

  constructor(private readonly opts: AnalyzeSinkOptions) {}

  flow(rec: FlowRecord): void {
    this.flows++;
    this.talkers.add(rec);
    if (this.opts.eve) this.eve += JSON.stringify(flowEvent(rec, this.opts.host)) + '\n';
  }

  app(rec: AppRecord): void {
    if (!this.opts.eve) return;
    if (rec.kind === 'http') this.eve += JSON.stringify(httpEvent(rec, this.opts.host)) + '\n';
    else if (rec.kind === 'tls') this.eve += JSON.stringify(tlsEvent(rec, this.opts.host)) + '\n';
    else if (rec.kind === 'ssh') this.eve += JSON.stringify(sshEvent(rec, this.opts.host)) + '\n';
    else if (rec.kind === 'ftp') this.eve += JSON.stringify(ftpEvent(rec, this.opts.host)) + '\n';
    else for (const ev of dnsEvents(rec, this.opts.host)) this.eve += JSON.stringify(ev) + '\n';
  }

  /** EVE lines since the last drain. */
  drain(): string | null {
    if (this.eve.length === 0) return null;
    const out = this.eve;
    this.eve = '';
    return out;
  }

  finish(): AnalyzeSinkResult {
    return { flows: this.flows, talkers: this.talkers.entries() };
  }
}

export function createSink(options: unknown): FlowSink {
  return new AnalyzeSink(options as AnalyzeSinkOptions);
}
