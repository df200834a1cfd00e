/**
 * Indicator lists: IP addresses and CIDR blocks, domains, URLs, JA3/JA3S and JA4 fingerprints, file
 * hashes (md5/sha1/sha256), one per line. Reads plain lists, Suricata IP reputation files
 * (`ip,category,score`: the first field is used) and Suricata dataset files (string sets are
 * base64 per line; md5/sha256/ip sets are plain). Each line's type is recognised from its form;
 * lines that are none of these are counted and reported, never fatal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseIp } from '../../flow/key.js';

export type IndicatorKind = 'malware' | 'policy';

export class IndicatorError extends Error {
  readonly code = 'VIGIL_INDICATORS_INVALID';
}

/** IPv4/IPv6 addresses and CIDR blocks. */
export class IpIndicatorSet {
  private readonly exact4 = new Set<number>();
  private readonly exact6 = new Set<string>();
  private readonly blocks: { ver: 4 | 6; words: Uint32Array; bits: number; text: string }[] = [];
  size = 0;

  /** Add "a.b.c.d", "x::y" or a CIDR block; false when the text is not one. */
  add(text: string): boolean {
    const slash = text.indexOf('/');
    const words = new Uint32Array(4);
    const ver = parseIp(slash < 0 ? text : text.slice(0, slash), words, 0);
    if (ver === 0) return false;
    const max = ver === 4 ? 32 : 128;
    const bitsText = slash < 0 ? String(max) : text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > max) return false;
    const bits = Number(bitsText);
    if (bits === max) {
      if (ver === 4) this.exact4.add(words[0]! >>> 0);
      else this.exact6.add(Array.from(words).join(':'));
    } else this.blocks.push({ ver, words, bits, text });
    this.size++;
    return true;
  }

  /** The matching entry's text (the address itself or its block), or null. */
  match(ver: number, w: Uint32Array, o: number, text: () => string): string | null {
    if (ver === 4 ? this.exact4.has(w[o]! >>> 0) : this.exact6.size > 0 && this.exact6.has(key6(w, o))) return text();
    for (const b of this.blocks) if (b.ver === ver && inBlock(w, o, b.words, b.bits)) return b.text;
    return null;
  }
}

function key6(w: Uint32Array, o: number): string {
  return `${w[o]! >>> 0}:${w[o + 1]! >>> 0}:${w[o + 2]! >>> 0}:${w[o + 3]! >>> 0}`;
}

function inBlock(w: Uint32Array, o: number, net: Uint32Array, bits: number): boolean {
  let left = bits;
  for (let k = 0; k < 4 && left > 0; k++) {
    const take = Math.min(32, left);
    const mask = take === 32 ? 0xffffffff : ~(0xffffffff >>> take) >>> 0;
    if ((w[o + k]! & mask) >>> 0 !== (net[k]! & mask) >>> 0) return false;
    left -= take;
  }
  return true;
}

export interface IndicatorList {
  /** Name alerts cite: the file name without directory. */
  name: string;
  file: string;
  kind: IndicatorKind;
  ips: IpIndicatorSet;
  /** Lowercase domains without a trailing dot; a domain also matches its subdomains. */
  domains: Set<string>;
  /** URLs as lowercase host -> path prefixes (scheme and port dropped; query kept as written). */
  urls: Map<string, string[]>;
  /** 32-hex values: JA3/JA3S hashes or file md5s (the form cannot tell them apart). */
  md5s: Set<string>;
  /** sha1 / sha256 file hashes (lowercase hex). */
  hashes: Set<string>;
  ja4: Set<string>;
  entries: number;
  /** Lines not recognised (line number and text, first 20). */
  rejected: { line: number; text: string }[];
  rejectedCount: number;
}

const JA4 = /^[tqd][0-9a-z]{2}[di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/i;
const DOMAIN = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z][a-z0-9-]{0,62}$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parse a list spec `[malware:|policy:]PATH`. */
export function parseIndicatorSpec(spec: string): { kind: IndicatorKind; file: string } {
  const m = /^(malware|policy):(.+)$/.exec(spec.trim());
  return m ? { kind: m[1] as IndicatorKind, file: m[2]! } : { kind: 'malware', file: spec.trim() };
}

/** Load one list file. Throws IndicatorError when the file cannot be read. */
export function loadIndicatorList(spec: string): IndicatorList {
  const { kind, file } = parseIndicatorSpec(spec);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new IndicatorError(`cannot read indicator list ${file}: ${(e as Error).message}`);
  }
  const list = parseIndicatorText(text, path.basename(file), kind);
  list.file = file;
  return list;
}

export function parseIndicatorText(text: string, name: string, kind: IndicatorKind): IndicatorList {
  const list: IndicatorList = {
    name,
    file: name,
    kind,
    ips: new IpIndicatorSet(),
    domains: new Set(),
    urls: new Map(),
    md5s: new Set(),
    hashes: new Set(),
    ja4: new Set(),
    entries: 0,
    rejected: [],
    rejectedCount: 0,
  };
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    let t = lines[n]!.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';')) continue;
    // CSV or annotated lines (iprep "ip,cat,score", "value # comment"): the first field.
    t = t.split(/[,\s]/)[0]!;
    if (addIndicator(list, t) || (BASE64.test(t) && t.length >= 4 && addIndicator(list, decodePrintable(t) ?? ''))) {
      list.entries++;
      continue;
    }
    list.rejectedCount++;
    if (list.rejected.length < 20) list.rejected.push({ line: n + 1, text: t.slice(0, 80) });
  }
  return list;
}

/** A base64 value decoded, when it decodes to printable ASCII (Suricata dataset string sets). */
function decodePrintable(b64: string): string | null {
  const s = Buffer.from(b64, 'base64').toString('latin1');
  return s !== '' && /^[\x21-\x7e]+$/.test(s) ? s : null;
}

function addIndicator(list: IndicatorList, raw: string): boolean {
  const t = raw.trim();
  if (t === '') return false;
  if (/^[0-9a-f]{32}$/i.test(t)) return add(list.md5s, t.toLowerCase());
  if (/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i.test(t)) return add(list.hashes, t.toLowerCase());
  if (JA4.test(t)) return add(list.ja4, t.toLowerCase());
  if (list.ips.add(t)) return true;
  const url = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^/?#\s:]+)(?::\d+)?([/?].*)$/i.exec(t);
  if (url !== null && DOMAIN.test(url[1]!.replace(/\.$/, '')) && (t.includes('://') || url[2]!.length > 1)) {
    const host = url[1]!.toLowerCase().replace(/\.$/, '');
    const paths = list.urls.get(host) ?? [];
    paths.push(url[2]!);
    list.urls.set(host, paths);
    return true;
  }
  const dom = t
    .replace(/^\*?\./, '')
    .replace(/\.$/, '')
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  if (DOMAIN.test(dom)) return add(list.domains, dom.toLowerCase());
  return false;
}

function add(set: Set<string>, v: string): true {
  set.add(v);
  return true;
}

/** The listed domain `name` falls under (itself or a parent), or null. */
export function domainMatch(domains: ReadonlySet<string>, name: string): string | null {
  if (domains.size === 0 || name === '') return null;
  let d = name.toLowerCase().replace(/\.$/, '');
  for (;;) {
    if (domains.has(d)) return d;
    const dot = d.indexOf('.');
    if (dot < 0) return null;
    d = d.slice(dot + 1);
  }
}
