/**
 * The alert stage of the pipeline: every alert (signature or behaviour) passes here before the
 * sink. Drops whitelisted addresses and completes the taxonomy metadata (src/alerts/taxonomy.ts).
 */
import type { AlertRecord } from '../detect/engine/detector.js';
import { enrichAlert } from './taxonomy.js';
import type { AlertClass } from './taxonomy.js';
import { IpWhitelist } from './whitelist.js';

export class AlertGate {
  private readonly whitelist: IpWhitelist;
  /** Rule metadata array -> enriched copy and class: a rule's alerts share one array. */
  private readonly cache = new WeakMap<readonly string[], { meta: string[]; cls: AlertClass }>();
  dropped = 0;

  constructor(whitelist: readonly string[]) {
    this.whitelist = new IpWhitelist(whitelist);
  }

  /** The alert's class, or null when it is dropped (whitelisted). Sets the taxonomy metadata. */
  pass(a: AlertRecord): AlertClass | null {
    if (this.whitelist.size > 0 && (this.whitelist.has(a.srcIp) || this.whitelist.has(a.dstIp))) {
      this.dropped++;
      return null;
    }
    let hit = this.cache.get(a.metadata);
    if (hit === undefined) {
      const orig = a.metadata;
      const cls = enrichAlert(a);
      hit = { meta: a.metadata, cls };
      this.cache.set(orig, hit);
    }
    a.metadata = hit.meta;
    a.vigilType = hit.cls.type;
    a.vigilSeverity = hit.cls.severity;
    return hit.cls;
  }
}
