/**
 * Alert deduplication for stored and displayed alerts (EVE keeps every alert): alerts with the
 * same (type, signature, source, destination) within `windowS` seconds of the group's last alert
 * fold into one entry with a count and first/last seen. Bounded: the oldest groups are dropped
 * beyond `maxGroups`.
 */
export interface DedupEntry {
  key: string;
  count: number;
  firstUs: number;
  lastUs: number;
}

export interface DedupResult {
  /** True when the alert starts a new entry (store it); false when it was folded into one. */
  isNew: boolean;
  entry: DedupEntry;
}

export class AlertDeduplicator {
  private readonly groups = new Map<string, DedupEntry>();

  constructor(
    private readonly windowS: number,
    private readonly maxGroups = 100_000,
  ) {}

  add(type: string, gid: number, sid: number, src: string, dst: string, tsUs: number): DedupResult {
    const key = `${type}|${gid}:${sid}|${src}|${dst}`;
    const e = this.groups.get(key);
    if (e !== undefined && this.windowS > 0 && tsUs - e.lastUs <= this.windowS * 1e6 && tsUs >= e.firstUs) {
      e.count++;
      e.lastUs = Math.max(e.lastUs, tsUs);
      // Keep recently active groups at the end of the Map's insertion order (eviction order).
      this.groups.delete(key);
      this.groups.set(key, e);
      return { isNew: false, entry: e };
    }
    const entry: DedupEntry = { key, count: 1, firstUs: tsUs, lastUs: tsUs };
    this.groups.delete(key);
    this.groups.set(key, entry);
    if (this.groups.size > this.maxGroups) {
      const oldest = this.groups.keys().next().value;
      if (oldest !== undefined) this.groups.delete(oldest);
    }
    return { isNew: true, entry };
  }

  get size(): number {
    return this.groups.size;
  }
}
