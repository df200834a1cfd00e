/**
 * threshold and detection_filter state (Suricata's detect-engine-threshold): counters per rule and
 * tracked entity (source, destination, both, rule, flow) over windows of packet time.
 */
import type { RateSpec } from './compile.js';

interface Entry {
  count: number;
  /** Window start (µs). */
  start: number;
  /** backoff: the next count that alerts. */
  next: number;
  /** both: already alerted in this window. */
  fired: boolean;
}

/** Entries kept at most; beyond it the oldest are dropped (bounded memory under scans). */
const MAX_ENTRIES = 1 << 20;

export class RateTracker {
  private readonly entries = new Map<string, Entry>();

  private key(rule: number, spec: RateSpec, src: string, dst: string, flowId: number): string {
    switch (spec.track) {
      case 'by_src':
        return `${rule}|s|${src}`;
      case 'by_dst':
        return `${rule}|d|${dst}`;
      case 'by_both':
        return `${rule}|b|${src}|${dst}`;
      case 'by_flow':
        return `${rule}|f|${flowId}`;
      default:
        return `${rule}|r`;
    }
  }

  private entry(k: string, spec: RateSpec, tsUs: number): Entry {
    let e = this.entries.get(k);
    const windowUs = spec.seconds * 1e6;
    if (e === undefined || (windowUs > 0 && tsUs - e.start >= windowUs)) {
      if (e === undefined && this.entries.size >= MAX_ENTRIES) {
        const oldest = this.entries.keys().next().value as string;
        this.entries.delete(oldest);
      }
      e = { count: 0, start: tsUs, next: spec.count * (spec.multiplier ?? 1), fired: false };
      this.entries.set(k, e);
    }
    return e;
  }

  /** threshold: whether this match raises an alert. */
  threshold(rule: number, spec: RateSpec, src: string, dst: string, flowId: number, tsUs: number): boolean {
    const e = this.entry(this.key(rule, spec, src, dst, flowId), spec, tsUs);
    e.count++;
    switch (spec.type) {
      case 'limit':
        return e.count <= spec.count;
      case 'threshold':
        if (e.count >= spec.count) {
          e.count = 0;
          return true;
        }
        return false;
      case 'both':
        if (e.count >= spec.count && !e.fired) {
          e.fired = true;
          return true;
        }
        return false;
      case 'backoff':
        if (e.count <= spec.count) return true;
        if (e.count === e.next) {
          e.next *= spec.multiplier ?? 1;
          return true;
        }
        return false;
      default:
        return true;
    }
  }

  /** detection_filter: the rule matches only once `count` matches were seen within `seconds`. */
  detectionFilter(rule: number, spec: RateSpec, src: string, dst: string, flowId: number, tsUs: number): boolean {
    const e = this.entry(this.key(rule, spec, src, dst, flowId), spec, tsUs);
    e.count++;
    return e.count > spec.count;
  }
}
