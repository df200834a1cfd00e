/** Top talkers by bytes (sent + received), aggregated from finished flows: no per-packet work. */
import type { FlowRecord } from '../flow/table.js';

/** [ip, packets, bytes, flows]: compact and structured-cloneable, for merging across workers. */
export type TalkerEntry = [string, number, number, number];

interface Talker {
  packets: number;
  bytes: number;
  flows: number;
}

/** Distinct hosts tracked; past the cap new hosts are not added (counted in `dropped`). */
const MAX_HOSTS = 1 << 18;

export class TalkerTable {
  private readonly hosts = new Map<string, Talker>();
  dropped = 0;

  add(rec: FlowRecord): void {
    const pkts = rec.pktsToServer + rec.pktsToClient;
    const bytes = rec.bytesToServer + rec.bytesToClient;
    this.bump(rec.srcIp, pkts, bytes, 1);
    this.bump(rec.dstIp, pkts, bytes, 1);
  }

  /** Add another table's entries (from another worker). */
  merge(entries: readonly TalkerEntry[]): void {
    for (const [ip, p, b, f] of entries) this.bump(ip, p, b, f);
  }

  entries(): TalkerEntry[] {
    return [...this.hosts.entries()].map(([ip, t]) => [ip, t.packets, t.bytes, t.flows]);
  }

  private bump(ip: string, pkts: number, bytes: number, flows: number): void {
    let t = this.hosts.get(ip);
    if (!t) {
      if (this.hosts.size >= MAX_HOSTS) {
        this.dropped++;
        return;
      }
      t = { packets: 0, bytes: 0, flows: 0 };
      this.hosts.set(ip, t);
    }
    t.packets += pkts;
    t.bytes += bytes;
    t.flows += flows;
  }

  top(n: number): { ip: string; packets: number; bytes: number; flows: number }[] {
    return [...this.hosts.entries()]
      .sort((a, b) => b[1].bytes - a[1].bytes || (a[0] < b[0] ? -1 : 1))
      .slice(0, n)
      .map(([ip, t]) => ({ ip, ...t }));
  }
}
