/**
 * Matches loaded indicator lists against traffic: flow addresses (once per flow, on its first
 * packet), DNS query names, HTTP host and URL, TLS SNI and JA3/JA3S/JA4, and the hashes of files
 * carried over HTTP. A hit raises a `malware` or `policy` alert (the list's kind) naming the list
 * and the indicator. Runs in each pipeline shard beside the behaviour detectors.
 */
import { createHash } from 'node:crypto';
import type { PacketBatch } from '../../capture/batch.js';
import type { DecodedBatch } from '../../decode/batch.js';
import type { FlowRecord } from '../../flow/table.js';
import { formatIp } from '../../flow/key.js';
import type { AppRecord } from '../../applayer/app-layer.js';
import type { AlertRecord } from '../engine/detector.js';
import { behaviorAlertRecord } from '../behavior/engine.js';
import { domainMatch } from './lists.js';
import type { IndicatorList } from './lists.js';

/** sids 9300000-9399999: indicator matches; sid = base + list index * 10 + what matched. */
const SID_BASE = 9300000;
const ON = { ip: 0, dns: 1, http_host: 2, url: 3, tls_sni: 4, ja3: 5, ja3s: 6, ja4: 7, file: 8 } as const;
type On = keyof typeof ON;

const MITRE: Record<On, string> = {
  ip: 'T1071',
  dns: 'T1071.004',
  http_host: 'T1071.001',
  url: 'T1071.001',
  tls_sni: 'T1071.001',
  ja3: 'T1071.001',
  ja3s: 'T1071.001',
  ja4: 'T1071.001',
  file: 'T1105',
};

export class IndicatorMatcher {
  private readonly ipLists: IndicatorList[];
  private readonly hashLists: IndicatorList[];
  /** Per flow slot: 1 once its addresses were checked. */
  private readonly checked: Uint8Array;
  private readonly words = new Uint32Array(8);
  hits = 0;

  constructor(
    private readonly lists: readonly IndicatorList[],
    slotCapacity: number,
    private readonly onAlert: (a: AlertRecord) => void,
  ) {
    this.ipLists = lists.filter((l) => l.ips.size > 0);
    this.hashLists = lists.filter((l) => l.hashes.size > 0 || l.md5s.size > 0);
    this.checked = new Uint8Array(this.ipLists.length > 0 ? slotCapacity : 0);
  }

  packets(pkts: PacketBatch, dec: DecodedBatch): void {
    if (this.ipLists.length === 0) return;
    const n = pkts.count;
    const checked = this.checked;
    for (let i = 0; i < n; i++) {
      const slot = dec.flowSlot[i]!;
      if (slot < 0 || checked[slot] === 1) continue;
      checked[slot] = 1;
      const ver = dec.ipVer[i]!;
      const o = i * 4;
      for (let k = 0; k < this.ipLists.length; k++) {
        const l = this.ipLists[k]!;
        const s = l.ips.match(ver, dec.src, o, () => formatIp(ver, dec.src, o));
        const d = s === null ? l.ips.match(ver, dec.dst, o, () => formatIp(ver, dec.dst, o)) : null;
        if (s === null && d === null) continue;
        this.hit(l, 'ip', (s ?? d)!, {
          tsUs: pkts.tsUs[i]!,
          srcIp: formatIp(ver, dec.src, o),
          dstIp: formatIp(ver, dec.dst, o),
          srcPort: dec.sport[i]!,
          dstPort: dec.dport[i]!,
          proto: dec.proto[i]!,
          ipVer: ver === 6 ? 6 : 4,
        });
      }
    }
  }

  flowEnd(rec: FlowRecord): void {
    if (rec.slot < this.checked.length) this.checked[rec.slot] = 0;
  }

  app(rec: AppRecord): void {
    const f = rec.flow;
    const where = {
      tsUs: rec.tsUs,
      srcIp: f.srcIp,
      dstIp: f.dstIp,
      srcPort: f.srcPort,
      dstPort: f.dstPort,
      proto: f.proto,
      ipVer: (f.srcIp.includes(':') ? 6 : 4) as 4 | 6,
      flowId: f.flowId,
    };
    if (rec.kind === 'dns') {
      if (rec.msg.flags.qr) return; // the query is enough; its response would repeat the hit
      for (const q of rec.msg.questions) this.domains(q.name, 'dns', where);
    } else if (rec.kind === 'http') {
      const tx = rec.tx;
      const host = tx.host.toLowerCase();
      if (host !== '' && this.domains(host, 'http_host', where)) return;
      if (host !== '') {
        for (const l of this.lists) {
          const paths = l.urls.get(host);
          if (paths === undefined) continue;
          const p = paths.find((x) => tx.uri.startsWith(x));
          if (p !== undefined) this.hit(l, 'url', host + p, where);
        }
      }
      if (this.hashLists.length > 0 && tx.responseComplete && !tx.responseBodyTruncated && tx.responseBody.length > 0) {
        const body = tx.responseBody;
        const md5 = createHash('md5').update(body).digest('hex');
        const sha1 = createHash('sha1').update(body).digest('hex');
        const sha256 = createHash('sha256').update(body).digest('hex');
        for (const l of this.hashLists) {
          const h = l.md5s.has(md5) ? md5 : l.hashes.has(sha1) ? sha1 : l.hashes.has(sha256) ? sha256 : null;
          if (h !== null) this.hit(l, 'file', h, where);
        }
      }
    } else if (rec.kind === 'tls') {
      const info = rec.info;
      if (info.sni !== '' && this.domains(info.sni, 'tls_sni', where)) return;
      for (const l of this.lists) {
        if (info.ja3Hash !== '' && l.md5s.has(info.ja3Hash)) this.hit(l, 'ja3', info.ja3Hash, where);
        else if (info.ja3sHash !== '' && l.md5s.has(info.ja3sHash)) this.hit(l, 'ja3s', info.ja3sHash, where);
        else if (info.ja4 !== '' && l.ja4.has(info.ja4.toLowerCase())) this.hit(l, 'ja4', info.ja4, where);
      }
    }
  }

  /** Check a name against every list's domains; true when one matched. */
  private domains(name: string, on: On, where: Where): boolean {
    let any = false;
    for (const l of this.lists) {
      const d = domainMatch(l.domains, name);
      if (d !== null) {
        this.hit(l, on, d, where, name);
        any = true;
      }
    }
    return any;
  }

  private hit(l: IndicatorList, on: On, indicator: string, where: Where, seen?: string): void {
    this.hits++;
    const idx = this.lists.indexOf(l);
    const evidence: Record<string, string[]> = { indicator_list: [l.name], indicator: [indicator], matched_on: [on] };
    if (seen !== undefined && seen !== indicator) evidence['observed'] = [seen];
    const a = behaviorAlertRecord(
      {
        tsUs: where.tsUs,
        sid: SID_BASE + idx * 10 + ON[on],
        rev: 1,
        msg: `VIGIL IOC ${on.replace('_', ' ')} listed in ${l.name}`,
        type: l.kind,
        severity: l.kind === 'malware' ? 'high' : 'medium',
        mitre: [MITRE[on]],
        srcIp: where.srcIp,
        dstIp: where.dstIp,
        srcPort: where.srcPort,
        dstPort: where.dstPort,
        proto: where.proto,
        ipVer: where.ipVer,
        flowId: where.flowId ?? 0,
        evidence,
      },
      'signature',
    );
    this.onAlert(a);
  }
}

interface Where {
  tsUs: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  proto: number;
  ipVer: 4 | 6;
  flowId?: number;
}
