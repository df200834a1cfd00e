/**
 * DNS tunnelling / DNS exfiltration detector, per (client, registered domain): data smuggled in
 * query names shows as many distinct, long, high-entropy subdomains of one domain from one client
 * (each name carries new data, so names do not repeat and caching does not hide them). Counted in
 * a sliding window over the distinct names; query volume, TXT/NULL share, NXDOMAIN count, label
 * lengths and entropy are reported as evidence. Ordinary lookups (a CDN name asked a few times,
 * DKIM/SPF/DMARC TXT lookups, typo NXDOMAINs, browsing) repeat few names per domain and stay far
 * below the thresholds. Reverse lookups (.arpa) and mDNS are not counted. One alert per episode
 * per key; the episode ends after a quiet window. Thresholds: docs/behavior.md.
 *
 * The registered domain is approximated without the public-suffix list: the last two labels, or
 * three when the second-level label is a common second-level suffix under a two-letter country
 * code (co.uk, com.au, ne.jp...).
 */
import type { AppRecord, DnsRecord } from '../../applayer/app-layer.js';
import type { BehaviorContext, BehaviorDetector, BehaviorSeverity } from './types.js';

export const DNS_TUNNEL_NAME = 'dns_tunnel';

/** Defaults (documented in docs/behavior.md). */
export const DNS_TUNNEL_DEFAULTS: Readonly<Record<string, number>> = Object.freeze({
  /** Sliding window over distinct names, seconds. */
  window_s: 300,
  /** Distinct encoded-looking subdomains of one domain from one client in the window. */
  min_unique: 20,
  /** A subdomain part (labels left of the registered domain, dots excluded) this long or longer... */
  min_sub_len: 24,
  /** ...with at least this Shannon entropy, bits per character, looks encoded. */
  min_entropy: 3.5,
  /** Distinct subdomains of any shape in the window that alone raise an alert (short-label tunnels). */
  volume_unique: 500,
});

const SID = 9200411;
const TYPE_NULL = 10;
const TYPE_TXT = 16;
const RCODE_NXDOMAIN = 3;
/** Keys (client, domain) kept at most; the least recently active is evicted. */
const MAX_KEYS = 16384;
/** Distinct names remembered per key at most (the oldest is replaced). */
const MAX_NAMES = 4096;
/** Reported sample names, and their length cap. */
const SAMPLES = 2;
const SAMPLE_LEN = 100;

/** Second-level labels that are public suffixes under two-letter country codes (co.uk, com.au, ...). */
const SLD_SUFFIX = new Set([
  'co',
  'com',
  'net',
  'org',
  'gov',
  'edu',
  'ac',
  'or',
  'ne',
  'go',
  'gob',
  'gv',
  'mil',
  'nic',
  'ltd',
  'plc',
  'sch',
  'nhs',
  'gen',
  'biz',
  'info',
  'nom',
  'res',
  'ind',
  'firm',
]);

/**
 * Split a lowercased name (no trailing dot) into the offset where its registered domain starts,
 * or -1 when it has no label left of the registered domain.
 */
export function registeredStart(name: string): number {
  const d1 = name.lastIndexOf('.');
  if (d1 <= 0) return -1;
  const d2 = name.lastIndexOf('.', d1 - 1);
  if (d2 < 0) return -1;
  let start = d2 + 1;
  if (d1 - start <= 4 && name.length - d1 - 1 === 2 && SLD_SUFFIX.has(name.slice(start, d1))) {
    const d3 = name.lastIndexOf('.', d2 - 1);
    if (d3 < 0) return -1;
    start = d3 + 1;
  }
  return start;
}

/** The registered domain of a name (the whole name when it is one already). */
export function registeredDomain(name: string): string {
  const n = name.toLowerCase().replace(/\.$/, '');
  const s = registeredStart(n);
  return s < 0 ? n : n.slice(s);
}

const counts = new Int32Array(256);

/** Shannon entropy (bits per character) of s[0, end) without dots. */
export function entropy(s: string, end: number = s.length): number {
  let n = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i) & 0xff;
    if (c === 0x2e) continue;
    counts[c]!++;
    n++;
  }
  if (n === 0) return 0;
  let h = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i) & 0xff;
    const k = counts[c]!;
    if (k === 0) continue;
    const q = k / n;
    h -= q * Math.log2(q);
    counts[c] = 0;
  }
  return h;
}

function fnv(s: string, end: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) {
    h ^= s.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

class Key {
  hashes = new Uint32Array(8);
  seen = new Float64Array(8);
  encoded = new Uint8Array(8);
  n = 0;
  queries = 0;
  txtNull = 0;
  nxdomain = 0;
  sumSubLen = 0;
  sumEntropy = 0;
  maxLabel = 0;
  samples: string[] = [];
  alerted = false;
  firstUs = 0;
  lastUs = 0;
  server = '';
  serverPort = 53;
  proto = 17;

  constructor(
    readonly client: string,
    readonly domain: string,
  ) {}

  reset(tsUs: number): void {
    this.n = this.queries = this.txtNull = this.nxdomain = this.sumSubLen = this.sumEntropy = this.maxLabel = 0;
    this.samples = [];
    this.alerted = false;
    this.firstUs = tsUs;
  }

  /** Index of name hash h, or -1. */
  find(h: number): number {
    for (let k = 0; k < this.n; k++) if (this.hashes[k] === h) return k;
    return -1;
  }

  /** A slot for a new name: a free one (arrays grown up to MAX_NAMES) or the least recently seen. */
  add(h: number): number {
    if (this.n === this.hashes.length && this.n < MAX_NAMES) {
      const cap = Math.min(MAX_NAMES, this.n * 2);
      const hs = new Uint32Array(cap);
      hs.set(this.hashes);
      const sn = new Float64Array(cap);
      sn.set(this.seen);
      const en = new Uint8Array(cap);
      en.set(this.encoded);
      this.hashes = hs;
      this.seen = sn;
      this.encoded = en;
    }
    let at: number;
    if (this.n < this.hashes.length) at = this.n++;
    else {
      at = 0;
      for (let k = 1; k < this.n; k++) if (this.seen[k]! < this.seen[at]!) at = k;
    }
    this.hashes[at] = h;
    return at;
  }
}

export function createDnsTunnel(ctx: BehaviorContext): BehaviorDetector {
  const p = { ...DNS_TUNNEL_DEFAULTS, ...ctx.cfg.params[DNS_TUNNEL_NAME] };
  const windowUs = p['window_s']! * 1e6;
  const minUnique = Math.max(1, p['min_unique']!);
  const minSubLen = p['min_sub_len']!;
  const minEntropy = p['min_entropy']!;
  const volumeUnique = Math.max(1, p['volume_unique']!);
  const keys = new Map<string, Key>();
  let lastSweepUs = 0;

  function raise(k: Key, tsUs: number, unique: number, encoded: number): void {
    k.alerted = true;
    const q = Math.max(1, k.queries);
    const severity: BehaviorSeverity = 'high';
    ctx.emit({
      tsUs,
      sid: SID,
      rev: 1,
      msg: 'VIGIL BEHAVIOR DNS tunnelling (many unique encoded subdomains of one domain)',
      type: 'data_exfiltration',
      severity,
      mitre: ['T1048.003', 'T1071.004'],
      srcIp: k.client,
      dstIp: k.server,
      srcPort: 0,
      dstPort: k.serverPort,
      proto: k.proto,
      ipVer: k.client.includes(':') ? 6 : 4,
      flowId: 0,
      evidence: {
        domain: [k.domain],
        unique_subdomains: [unique],
        encoded_subdomains: [encoded],
        queries: [k.queries],
        mean_subdomain_len: [Math.round((k.sumSubLen / q) * 10) / 10],
        max_label_len: [k.maxLabel],
        mean_entropy: [Math.round((k.sumEntropy / q) * 100) / 100],
        txt_null_queries: [k.txtNull],
        nxdomain: [k.nxdomain],
        window_s: [p['window_s']!],
        span_s: [Math.round((tsUs - k.firstUs) / 1e5) / 10],
        sample_query: k.samples.slice(),
      },
    });
  }

  function query(rec: DnsRecord): void {
    const f = rec.flow;
    // mDNS and LLMNR are link-local service discovery, not resolution through a server.
    if (f.dstPort === 5353 || f.dstPort === 5355) return;
    for (const qn of rec.msg.questions) {
      let name = qn.name.toLowerCase();
      if (name.endsWith('.')) name = name.slice(0, -1);
      if (name.endsWith('.arpa') || name.endsWith('.local')) continue;
      const start = registeredStart(name);
      if (start < 0) continue;
      const subEnd = start - 1;
      const domain = name.slice(start);
      const id = `${f.srcIp}|${domain}`;
      let k = keys.get(id);
      if (k !== undefined) {
        keys.delete(id);
        if (rec.tsUs - k.lastUs > windowUs) k.reset(rec.tsUs);
      } else {
        if (keys.size >= MAX_KEYS) {
          const oldest = keys.keys().next().value;
          if (oldest !== undefined) keys.delete(oldest);
        }
        k = new Key(f.srcIp, domain);
        k.reset(rec.tsUs);
      }
      keys.set(id, k);
      k.lastUs = rec.tsUs;
      k.server = f.dstIp;
      k.serverPort = f.dstPort;
      k.proto = f.proto;
      k.queries++;
      if (qn.type === TYPE_TXT || qn.type === TYPE_NULL) k.txtNull++;
      let subLen = 0;
      let label = 0;
      for (let i = 0; i < subEnd; i++) {
        if (name.charCodeAt(i) === 0x2e) {
          label = 0;
          continue;
        }
        subLen++;
        if (++label > k.maxLabel) k.maxLabel = label;
      }
      const h = entropy(name, subEnd);
      k.sumSubLen += subLen;
      k.sumEntropy += h;
      const nh = fnv(name, subEnd);
      const seenAt = k.find(nh);
      if (seenAt >= 0) {
        k.seen[seenAt] = rec.tsUs;
        continue;
      }
      const at = k.add(nh);
      k.seen[at] = rec.tsUs;
      const enc = subLen >= minSubLen && h >= minEntropy;
      k.encoded[at] = enc ? 1 : 0;
      if (enc && k.samples.length < SAMPLES) k.samples.push(name.slice(0, SAMPLE_LEN));
      if (k.alerted) continue;
      // Distinct names, and encoded ones, seen within the window.
      const since = rec.tsUs - windowUs;
      let unique = 0;
      let encoded = 0;
      for (let j = 0; j < k.n; j++) {
        if (k.seen[j]! < since) continue;
        unique++;
        encoded += k.encoded[j]!;
      }
      if (encoded >= minUnique || unique >= volumeUnique) raise(k, rec.tsUs, unique, encoded);
    }
  }

  function response(rec: DnsRecord): void {
    if (rec.msg.flags.rcode !== RCODE_NXDOMAIN) return;
    const qn = rec.msg.questions[0];
    if (qn === undefined) return;
    // Responses travel server -> client.
    const k = keys.get(`${rec.flow.dstIp}|${registeredDomain(qn.name)}`);
    if (k !== undefined) k.nxdomain++;
  }

  return {
    name: DNS_TUNNEL_NAME,

    app(rec: AppRecord): void {
      if (rec.kind !== 'dns') return;
      if (rec.msg.flags.qr) response(rec);
      else query(rec);
    },

    tick(nowUs: number): void {
      if (nowUs - lastSweepUs < 10e6) return;
      lastSweepUs = nowUs;
      // Map order is least recently active first.
      for (const [id, k] of keys) {
        if (nowUs - k.lastUs <= 2 * windowUs) break;
        keys.delete(id);
      }
    },
  };
}
