/**
 * Rule compiler: a ParsedRule becomes a CompiledRule the detector can run — header matchers,
 * per-packet checks, one inspection program per buffer, flow-state operations and the fast
 * pattern. A keyword the matcher cannot evaluate is a compile error (the rule is skipped with the
 * keyword named), never ignored.
 */
import type { ParsedRule } from '../signatures/parser.js';
import type { AddressExpr } from '../signatures/address.js';
import type { PortExpr } from '../signatures/ports.js';
import type { ContentMatch, PcreMatch, TransformSpec, UintCompare } from '../signatures/keywords/common.js';
import { BUFFERS } from './buffers.js';
import type { BufferDir, BufferScope } from './buffers.js';
import type { InspectOp, NumOrVar } from './inspect.js';
import { toLower } from './inspect.js';
import { foldCase, hasBackreference, unsafeRegexReason } from './regex.js';
import type { DatasetKw, IprepKw } from '../signatures/keywords/intel.js';
import type { MlClassKw, MlCompare } from '../signatures/keywords/ml.js';
import type { FilestoreSpec } from '../signatures/keywords/file.js';
import { DatasetError, datasetFor, existingDatasetType, hasReputationData, repCategory } from './datasets.js';
import type { Dataset, DatasetType } from './datasets.js';

/** Address words: IPv4 in word 0; IPv6 in words 0..3. */
export type AddrMatch = (v6: boolean, w: Uint32Array, o: number) => boolean;
export type PortMatch = (port: number) => boolean;

export const FLOW_TO_SERVER = 1;
export const FLOW_TO_CLIENT = 2;
export const FLOW_ESTABLISHED = 4;
export const FLOW_NOT_ESTABLISHED = 8;
export const FLOW_STATELESS = 16;
export const FLOW_ONLY_STREAM = 32;
export const FLOW_NO_STREAM = 64;
export const FLOW_ONLY_FRAG = 128;
export const FLOW_NO_FRAG = 256;

/** A check on the packet's headers (ttl, flags, dsize, ...), evaluated by the detector. */
export type PacketCheck =
  | { k: 'flags'; modifier: string; bits: number; ignored: number }
  | { k: 'fragbits'; modifier: string; bits: number; ignored: number }
  | { k: 'cmp'; field: PacketField; op: string; a: number; b: number }
  | { k: 'ip_proto'; op: string; proto: number }
  | { k: 'sameip' }
  | { k: 'ipopts'; opt: string }
  | { k: 'stream_size'; side: string; op: string; value: number }
  | { k: 'iprep'; side: 'src' | 'dst' | 'both' | 'any'; cat: number; op: '<' | '>' | '='; value: number };

export type PacketField =
  | 'dsize'
  | 'ttl'
  | 'itype'
  | 'icode'
  | 'icmp_id'
  | 'icmp_seq'
  | 'tcp.mss'
  | 'tos'
  | 'id'
  | 'window'
  | 'seq'
  | 'ack'
  | 'fragoffset';

/** One buffer's inspection program. */
export interface BufferProg {
  /** Canonical buffer name ('payload' for packet/stream payload). */
  buffer: string;
  transforms: TransformSpec[];
  ops: InspectOp[];
}

export interface BitOp {
  cmd: string;
  names: string[];
  any: boolean;
}

export interface IntOp {
  name: string;
  op: string;
  value: number | string | null;
}

export interface XbitOp {
  cmd: string;
  name: string;
  track: string;
  expire: number | null;
}

/**
 * Model conditions (ml.* keywords): checked on the flow's model verdict when the flow ends, by the
 * engine, not per packet. `secondOpinion`: no condition, the alert waits for the verdict and is
 * lowered one severity step when the classifier is confident the flow is benign.
 */
export interface MlCheck {
  cls: MlClassKw | null;
  confidence: MlCompare | null;
  anomaly: MlCompare | null;
  secondOpinion: boolean;
}

export interface RateSpec {
  type: string;
  track: string;
  count: number;
  seconds: number;
  multiplier: number | null;
}

export interface CompiledRule {
  /** Position in evaluation order (set by the detector). */
  id: number;
  sid: number;
  gid: number;
  rev: number;
  msg: string;
  action: string;
  classtype: string | null;
  /** The classtype's description (EVE alert.category), '' without classtype. */
  category: string;
  priority: number;
  noalert: boolean;
  target: 'src_ip' | 'dest_ip' | null;
  metadata: string[];
  /** IP protocol (0 = any). */
  proto: number;
  /** icmp rules match ICMPv4 and ICMPv6. */
  icmp: boolean;
  /** Required application protocols (any of), null = none required. */
  appProtos: string[] | null;
  /**
   * app-layer-protocol checks (all must hold). `mode` picks the detected protocol compared:
   * the packet's direction (default), to_server, to_client, either, final (the flow's), original.
   */
  appChecks: { negated: boolean; proto: string; mode: string }[];
  /**
   * Only app-layer-protocol (with flow direction, flowbits set): Suricata's protocol-detection-only
   * rule, evaluated only on a packet where a direction's detection concluded.
   */
  pdOnly: boolean;
  /** 'pkt' for packet rules, else the protocol whose transactions the rule inspects. */
  scope: BufferScope;
  /** For transaction rules: the side(s) inspected. */
  txDir: BufferDir;
  src: AddrMatch | null;
  dst: AddrMatch | null;
  sp: PortMatch | null;
  dp: PortMatch | null;
  bidir: boolean;
  flow: number;
  checks: PacketCheck[];
  progs: BufferProg[];
  /** Fast pattern: index into progs and the pattern bytes (lowercased), null when the rule has none. */
  fast: { prog: number; pat: Uint8Array } | null;
  flowbitChecks: BitOp[];
  flowbitActions: BitOp[];
  flowints: IntOp[];
  xbits: XbitOp[];
  threshold: RateSpec | null;
  detectionFilter: RateSpec | null;
  /** threshold.config suppressions with an address: an alert whose tracked address matches is dropped. */
  suppress: { track: string; match: AddrMatch | null }[];
  /** tls.version values (any of). */
  tlsVersions: number[];
  /** ssh.protoversion / ssh.softwareversion checks. */
  sshChecks: { field: 'proto' | 'software'; value: string }[];
  /**
   * TCP payload inspection: 'pkt' packet payloads only (`tcp-pkt`, `flow:no_stream`), 'stream'
   * reassembled stream data only (`tcp-stream`, `flow:only_stream`), 'both' (plain `tcp`/`ip`).
   */
  streamMode: 'pkt' | 'stream' | 'both';
  /** No content/pcre/byte/packet checks: only addresses, ports and protocol (Suricata's IP-only rules). */
  ipOnly: boolean;
  /** IPv4 ranges of the source and destination (for the IP-only index). */
  srcV4: number[];
  dstV4: number[];
  /** Source and destination port ranges (for the port groups). */
  spRanges: number[];
  dpRanges: number[];
  /** ml.* keywords, null without. */
  ml: MlCheck | null;
  /**
   * `filestore`: which files of a match to store, bit 1 request (to server) and bit 2 response
   * (to client); `flow` for the ssn/flow scopes (every later file of the flow too). null without.
   */
  filestore: { bits: number; flow: boolean } | null;
  /**
   * An HTTP-scope rule whose only transaction buffer is `file.data` and whose protocol allows SMTP
   * (`alert tcp`, `service:http,smtp`): it also inspects mail attachments (the SMTP group).
   */
  smtpFiles: boolean;
  text: string;
}

const PROTO: Record<string, { proto: number; app: string | null }> = {
  ip: { proto: 0, app: null },
  tcp: { proto: 6, app: null },
  'tcp-pkt': { proto: 6, app: null },
  'tcp-stream': { proto: 6, app: null },
  udp: { proto: 17, app: null },
  icmp: { proto: 1, app: null },
  http: { proto: 6, app: 'http' },
  http1: { proto: 6, app: 'http' },
  tls: { proto: 6, app: 'tls' },
  ssh: { proto: 6, app: 'ssh' },
  ftp: { proto: 6, app: 'ftp' },
  smtp: { proto: 6, app: 'smtp' },
  dns: { proto: 0, app: 'dns' },
};

/** Keywords that only describe the rule, or whose effect is already in the matches. */
const PASSIVE = new Set([
  'msg',
  'sid',
  'rev',
  'gid',
  'classtype',
  'priority',
  'reference',
  'metadata',
  'target',
  'noalert',
  'tag',
  'rem',
  'nocase',
  'offset',
  'depth',
  'distance',
  'within',
  'startswith',
  'endswith',
  'fast_pattern',
  'rawbytes',
]);

const CMP_FIELDS = new Set<string>([
  'dsize',
  'ttl',
  'itype',
  'icode',
  'icmp_id',
  'icmp_seq',
  'tcp.mss',
  'tos',
  'id',
  'window',
  'seq',
  'ack',
  'fragoffset',
]);

export class CompileError extends Error {
  constructor(
    message: string,
    readonly group: string = message,
  ) {
    super(message);
  }
}

type Leaf =
  | { kind: 'ipv4'; net: number; prefix: number }
  | { kind: 'ipv4-range'; lo: number; hi: number }
  | { kind: 'ipv6'; words: [number, number, number, number]; prefix: number };

function leafMatch(l: Leaf): AddrMatch {
  if (l.kind === 'ipv4') {
    const mask = l.prefix === 0 ? 0 : (0xffffffff << (32 - l.prefix)) >>> 0;
    const net = (l.net & mask) >>> 0;
    return (v6, w, o) => !v6 && (w[o]! & mask) >>> 0 === net;
  }
  if (l.kind === 'ipv4-range') {
    const { lo, hi } = l;
    return (v6, w, o) => !v6 && w[o]! >= lo && w[o]! <= hi;
  }
  const words = l.words;
  const prefix = l.prefix;
  return (v6, w, o) => {
    if (!v6) return false;
    let left = prefix;
    for (let k = 0; k < 4 && left > 0; k++) {
      const bits = left >= 32 ? 32 : left;
      const mask = bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
      if ((w[o + k]! & mask) >>> 0 !== (words[k]! & mask) >>> 0) return false;
      left -= bits;
    }
    return true;
  };
}

/** IPv4 ranges as sorted, disjoint [lo, hi] pairs, plus a predicate for IPv6. */
export interface AddrSet {
  v4: number[];
  v6: ((w: Uint32Array, o: number) => boolean) | null;
  v6All: boolean;
}

const FULL: AddrSet = { v4: [0, 0xffffffff], v6: null, v6All: true };

function normalise(r: number[]): number[] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i]!, r[i + 1]!]);
  pairs.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    const n = out.length;
    if (n > 0 && lo <= out[n - 1]! + 1) out[n - 1] = Math.max(out[n - 1]!, hi);
    else out.push(lo, hi);
  }
  return out;
}

function complement(r: number[], max = 0xffffffff): number[] {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i]! > next) out.push(next, r[i]! - 1);
    next = r[i + 1]! + 1;
  }
  if (next <= max) out.push(next, max);
  return out;
}

/** Sorted, disjoint ranges a ∩ b. */
function intersect(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i]!, b[j]!);
    const hi = Math.min(a[i + 1]!, b[j + 1]!);
    if (lo <= hi) out.push(lo, hi);
    if (a[i + 1]! < b[j + 1]!) i += 2;
    else j += 2;
  }
  return out;
}

/** A port expression as sorted, disjoint [lo, hi] pairs (list and negation as for addresses). */
export function portRanges(e: PortExpr): number[] {
  switch (e.kind) {
    case 'any':
      return [0, 65535];
    case 'not':
      return complement(portRanges(e.expr), 65535);
    case 'list': {
      let pos: number[] = [];
      let neg: number[] = [];
      let anyPos = false;
      for (const it of e.items) {
        if (it.kind === 'not') neg = neg.concat(portRanges(it.expr));
        else {
          anyPos = true;
          pos = pos.concat(portRanges(it));
        }
      }
      if (!anyPos) pos = [0, 65535];
      return intersect(normalise(pos), complement(normalise(neg), 65535));
    }
    default: {
      const { lo, hi } = e as { kind: 'range'; lo: number; hi: number };
      return [Math.min(lo, hi), Math.max(lo, hi)];
    }
  }
}

function v6Pred(s: AddrSet): (w: Uint32Array, o: number) => boolean {
  if (s.v6All) return () => true;
  return s.v6 ?? (() => false);
}

/** An address expression as IPv4 range set and IPv6 predicate (Suricata list semantics). */
export function addressSet(e: AddressExpr): AddrSet {
  switch (e.kind) {
    case 'any':
      return FULL;
    case 'not': {
      const inner = addressSet(e.expr);
      const p = v6Pred(inner);
      return {
        v4: complement(inner.v4),
        v6: inner.v6All ? null : (w, o) => !p(w, o),
        v6All: inner.v6 === null && !inner.v6All,
      };
    }
    case 'list': {
      // Positive items united, minus the negated ones; only negations means "anything but".
      let pos: number[] = [];
      let neg: number[] = [];
      const pos6: ((w: Uint32Array, o: number) => boolean)[] = [];
      const neg6: ((w: Uint32Array, o: number) => boolean)[] = [];
      let pos6All = false;
      let neg6All = false;
      let anyPos = false;
      for (const it of e.items) {
        if (it.kind === 'not') {
          const m = addressSet(it.expr);
          neg = neg.concat(m.v4);
          if (m.v6All) neg6All = true;
          else if (m.v6 !== null) neg6.push(m.v6);
        } else {
          anyPos = true;
          const m = addressSet(it);
          pos = pos.concat(m.v4);
          if (m.v6All) pos6All = true;
          else if (m.v6 !== null) pos6.push(m.v6);
        }
      }
      if (!anyPos) {
        pos = [0, 0xffffffff];
        pos6All = true;
      }
      // positives minus negatives = positives ∩ complement(negatives)
      const out = intersect(normalise(pos), complement(normalise(neg)));
      if (neg6All) return { v4: out, v6: null, v6All: false };
      const p6 = pos6All
        ? (): boolean => true
        : pos6.length === 0
          ? null
          : (w: Uint32Array, o: number): boolean => pos6.some((f) => f(w, o));
      if (p6 === null) return { v4: out, v6: null, v6All: false };
      if (neg6.length === 0) return pos6All ? { v4: out, v6: null, v6All: true } : { v4: out, v6: p6, v6All: false };
      return { v4: out, v6: (w, o) => p6(w, o) && !neg6.some((f) => f(w, o)), v6All: false };
    }
    default: {
      const l = e as Leaf;
      if (l.kind === 'ipv4') {
        const size = 2 ** (32 - l.prefix);
        const lo = Math.floor(l.net / size) * size;
        return { v4: [lo, lo + size - 1], v6: null, v6All: false };
      }
      if (l.kind === 'ipv4-range') return { v4: [Math.min(l.lo, l.hi), Math.max(l.lo, l.hi)], v6: null, v6All: false };
      const m = leafMatch(l);
      return { v4: [], v6: (w, o) => m(true, w, o), v6All: false };
    }
  }
}

/** Addresses an IPv4 range set covers. */
export function coverage(r: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < r.length; i += 2) n += r[i + 1]! - r[i]! + 1;
  return n;
}

/** Is `ip` in the sorted disjoint pairs `r`? Binary search. */
export function inRanges(r: Float64Array, ip: number): boolean {
  let lo = 0;
  let hi = (r.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ip < r[2 * mid]!) hi = mid - 1;
    else if (ip > r[2 * mid + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

/** An address expression as a predicate; null for `any`. */
export function addressMatcher(e: AddressExpr): AddrMatch | null {
  if (e.kind === 'any') return null;
  const set = addressSet(e);
  const r = Float64Array.from(set.v4);
  const p6 = v6Pred(set);
  if (r.length === 2 && r[0] === 0 && r[1] === 0xffffffff && set.v6All) return null;
  return (v6, w, o) => (v6 ? p6(w, o) : inRanges(r, w[o]! >>> 0));
}

/** A port expression as a predicate; null for `any`. */
export function portMatcher(e: PortExpr): PortMatch | null {
  switch (e.kind) {
    case 'any':
      return null;
    case 'not': {
      const inner = portMatcher(e.expr);
      if (inner === null) return () => false;
      return (p) => !inner(p);
    }
    case 'list': {
      const pos: PortMatch[] = [];
      const neg: PortMatch[] = [];
      let any = false;
      for (const it of e.items) {
        if (it.kind === 'not') {
          const m = portMatcher(it.expr);
          if (m !== null) neg.push(m);
        } else {
          const m = portMatcher(it);
          if (m === null) any = true;
          else pos.push(m);
        }
      }
      const allNeg = pos.length === 0 && !any;
      return (p) => {
        for (const m of neg) if (m(p)) return false;
        if (any || allNeg) return true;
        for (const m of pos) if (m(p)) return true;
        return false;
      };
    }
    default: {
      const { lo, hi } = e as { kind: 'range'; lo: number; hi: number };
      return lo === hi ? (p) => p === lo : (p) => p >= lo && p <= hi;
    }
  }
}

type Endian = { endian?: string };
const little = (o: Endian): boolean => o.endian === 'little' || o.endian === 'dce';

/** The fast-pattern bytes of a content (its chunk when `fast_pattern:o,l` was given), lowercased. */
function fastBytes(c: ContentMatch): Uint8Array {
  const fp = c.fastPattern;
  const b = Array.isArray(fp) ? c.bytes.subarray(fp[0], fp[0] + fp[1]) : c.bytes;
  return toLower(b);
}

function contentOp(c: ContentMatch): InspectOp {
  const pat = c.nocase ? toLower(c.bytes) : Buffer.from(c.bytes);
  return {
    k: 'content',
    pat,
    nocase: c.nocase,
    negated: c.negated,
    offset: c.offset,
    depth: c.depth,
    distance: c.distance,
    within: c.within,
    relative: c.distance !== null || c.within !== null,
    startswith: c.startswith,
    endswith: c.endswith,
  };
}

function pcreOp(p: PcreMatch): InspectOp {
  const reason = unsafeRegexReason(p.regex);
  if (reason !== null) throw new CompileError(reason);
  let source = p.regex.source;
  let flags = p.regex.flags.replace(/[gy]/g, '');
  // The linear-time fallback engine cannot run `i` patterns: fold case into the pattern instead.
  if (flags.includes('i') && !hasBackreference(source)) {
    source = foldCase(source);
    flags = flags.replace('i', '');
  }
  let re: RegExp;
  try {
    re = new RegExp(source, flags + 'g');
  } catch {
    re = new RegExp(p.regex.source, p.regex.flags.replace(/[gy]/g, '') + 'g');
  }
  // Captures for the alert context: `(?P<alert_NAME>...)` groups, and `/re/,alert:NAME` (groups in order).
  const alertCaps: { group: number | string; key: string; scope: 'alert' | 'flow' | 'pkt' }[] = [];
  for (const m of p.regex.source.matchAll(/\(\?<((alert|flow|pkt)_[A-Za-z0-9_]+)>/g))
    alertCaps.push({ group: m[1]!, key: m[1]!.slice(m[2]!.length + 1), scope: m[2] as 'alert' | 'flow' | 'pkt' });
  (p.captures ?? []).forEach((c, k) => alertCaps.push({ group: k + 1, key: c.name, scope: c.scope }));
  return { k: 'pcre', re, negated: p.negated, relative: p.relative, alertCaps };
}

/** Suricata's evaluation order key: flowbit setters before readers (see detector). */
export function flowbitRank(r: CompiledRule): number {
  const sets = r.flowbitActions.length > 0;
  const reads = r.flowbitChecks.length > 0;
  if (sets && !reads) return 0;
  if (sets && reads) return 1;
  if (reads) return 2;
  return 3;
}

/** Compile a parsed rule. Throws CompileError naming what the matcher does not support. */
export function compileRule(rule: ParsedRule, priority: number): CompiledRule {
  const p = PROTO[rule.protocol];
  if (p === undefined)
    throw new CompileError(`protocol ${rule.protocol} not supported by the matcher`, `protocol ${rule.protocol}`);
  const r: CompiledRule = {
    id: 0,
    sid: rule.sid!,
    gid: rule.gid,
    rev: rule.rev,
    msg: rule.msg,
    action: rule.action,
    classtype: rule.classtype,
    category: '',
    priority,
    noalert: rule.noalert,
    target: rule.target,
    metadata: rule.metadata,
    proto: p.proto,
    icmp: rule.protocol === 'icmp',
    appProtos: p.app === null ? null : [p.app],
    appChecks: [],
    scope: 'pkt',
    txDir: 'both',
    src: addressMatcher(rule.src),
    dst: addressMatcher(rule.dst),
    sp: portMatcher(rule.srcPorts),
    dp: portMatcher(rule.dstPorts),
    bidir: rule.bidirectional,
    flow: 0,
    checks: [],
    progs: [],
    fast: null,
    flowbitChecks: [],
    flowbitActions: [],
    flowints: [],
    xbits: [],
    threshold: null,
    detectionFilter: null,
    suppress: [],
    tlsVersions: [],
    sshChecks: [],
    ipOnly: false,
    streamMode: rule.protocol === 'tcp-pkt' ? 'pkt' : rule.protocol === 'tcp-stream' ? 'stream' : 'both',
    pdOnly: false,
    srcV4: addressSet(rule.src).v4,
    dstV4: addressSet(rule.dst).v4,
    spRanges: portRanges(rule.srcPorts),
    dpRanges: portRanges(rule.dstPorts),
    ml: null,
    filestore: null,
    smtpFiles: false,
    text: rule.text,
  };
  const mlOf = (): MlCheck => (r.ml ??= { cls: null, confidence: null, anomaly: null, secondOpinion: false });
  const progOf = (buffer: string | null, transforms: TransformSpec[] = []): BufferProg => {
    const name = buffer ?? 'payload';
    if (BUFFERS[name] === undefined && name !== 'base64_data')
      throw new CompileError(`buffer ${name} not supported by the matcher`, `buffer ${name}`);
    const key = JSON.stringify(transforms);
    let prog = r.progs.find((g) => g.buffer === name && JSON.stringify(g.transforms) === key);
    if (prog === undefined) {
      prog = { buffer: name, transforms, ops: [] };
      r.progs.push(prog);
    }
    return prog;
  };
  let filestore: FilestoreSpec | null = null;
  let fastContent: { c: ContentMatch; prog: BufferProg } | null = null;
  let bestContent: { c: ContentMatch; prog: BufferProg } | null = null;
  let bestTxContent: { c: ContentMatch; prog: BufferProg } | null = null;
  let sawMatch = false;
  for (const o of rule.options) {
    const kw = o.keyword;
    const v = o.value as Record<string, unknown>;
    if (PASSIVE.has(kw)) continue;
    const def = kw.startsWith('http') || kw.includes('.') || kw === 'file_data' || kw.endsWith('_data');
    switch (kw) {
      case 'content':
      case 'uricontent': {
        const c = o.value as ContentMatch;
        const prog = progOf(c.buffer, c.transforms);
        prog.ops.push(contentOp(c));
        sawMatch = true;
        if (!c.negated) {
          if (c.fastPattern !== false && fastContent === null) fastContent = { c, prog };
          if (bestContent === null || c.bytes.length > bestContent.c.bytes.length) bestContent = { c, prog };
          if (
            prog.buffer !== 'base64_data' &&
            BUFFERS[prog.buffer]!.scope !== 'pkt' &&
            (bestTxContent === null || c.bytes.length > bestTxContent.c.bytes.length)
          )
            bestTxContent = { c, prog };
        }
        continue;
      }
      case 'pcre': {
        const pm = o.value as PcreMatch;
        progOf(pm.buffer, pm.transforms).ops.push(pcreOp(pm));
        sawMatch = true;
        continue;
      }
      case 'byte_test': {
        const b = v as unknown as {
          bytes: NumOrVar;
          negated: boolean;
          op: string;
          value: NumOrVar;
          offset: NumOrVar;
          relative: boolean;
          string: 'hex' | 'dec' | 'oct' | null;
          bitmask: number | null;
          buffer: string | null;
          endian: string;
        };
        progOf(b.buffer).ops.push({
          k: 'byte_test',
          bytes: b.bytes,
          negated: b.negated,
          op: b.op,
          value: b.value,
          offset: b.offset,
          relative: b.relative,
          little: little(b),
          string: b.string,
          bitmask: b.bitmask,
        });
        sawMatch = true;
        continue;
      }
      case 'byte_jump': {
        const b = v as unknown as {
          bytes: NumOrVar;
          offset: NumOrVar;
          relative: boolean;
          string: 'hex' | 'dec' | 'oct' | null;
          bitmask: number | null;
          multiplier: number | null;
          align: number | null;
          fromBeginning: boolean;
          fromEnd: boolean;
          postOffset: number | null;
          buffer: string | null;
          endian: string;
        };
        progOf(b.buffer).ops.push({
          k: 'byte_jump',
          bytes: b.bytes,
          offset: b.offset,
          relative: b.relative,
          little: little(b),
          string: b.string,
          bitmask: b.bitmask,
          multiplier: b.multiplier ?? 1,
          align: b.align !== null,
          fromBeginning: b.fromBeginning,
          fromEnd: b.fromEnd,
          postOffset: b.postOffset ?? 0,
        });
        sawMatch = true;
        continue;
      }
      case 'byte_extract': {
        const b = v as unknown as {
          bytes: number;
          offset: number;
          name: string;
          relative: boolean;
          string: 'hex' | 'dec' | 'oct' | null;
          bitmask: number | null;
          multiplier: number | null;
          align: number | null;
          buffer: string | null;
          endian: string;
        };
        progOf(b.buffer).ops.push({
          k: 'byte_extract',
          bytes: b.bytes,
          offset: b.offset,
          name: b.name,
          relative: b.relative,
          little: little(b),
          string: b.string,
          bitmask: b.bitmask,
          multiplier: b.multiplier ?? 1,
          align: b.align !== null,
        });
        sawMatch = true;
        continue;
      }
      case 'byte_math': {
        const b = v as unknown as {
          bytes: NumOrVar;
          offset: number;
          oper: string;
          rvalue: NumOrVar;
          result: string;
          relative: boolean;
          string: 'hex' | 'dec' | 'oct' | null;
          bitmask: number | null;
          buffer: string | null;
          endian: string;
        };
        progOf(b.buffer).ops.push({
          k: 'byte_math',
          bytes: b.bytes,
          offset: b.offset,
          oper: b.oper,
          rvalue: b.rvalue,
          result: b.result,
          relative: b.relative,
          little: little(b),
          string: b.string,
          bitmask: b.bitmask,
        });
        sawMatch = true;
        continue;
      }
      case 'isdataat': {
        const b = v as unknown as { negated: boolean; value: NumOrVar; relative: boolean; buffer: string | null };
        progOf(b.buffer).ops.push({ k: 'isdataat', value: b.value, negated: b.negated, relative: b.relative });
        sawMatch = true;
        continue;
      }
      case 'bsize': {
        const b = v as unknown as UintCompare & { buffer: string };
        progOf(b.buffer).ops.push({ k: 'bsize', op: b.op, a: b.a, b: b.b });
        sawMatch = true;
        continue;
      }
      case 'urilen': {
        const b = v as unknown as UintCompare & { raw: boolean };
        progOf(b.raw ? 'http.uri.raw' : 'http.uri').ops.push({ k: 'bsize', op: b.op, a: b.a, b: b.b });
        sawMatch = true;
        continue;
      }
      case 'base64_decode': {
        const b = v as unknown as { bytes: number | null; offset: number; relative: boolean; buffer: string | null };
        progOf(b.buffer).ops.push({ k: 'base64_decode', bytes: b.bytes, offset: b.offset, relative: b.relative });
        sawMatch = true;
        continue;
      }
      case 'flow': {
        for (const f of o.value as string[]) {
          const bit = {
            to_server: FLOW_TO_SERVER,
            to_client: FLOW_TO_CLIENT,
            established: FLOW_ESTABLISHED,
            not_established: FLOW_NOT_ESTABLISHED,
            stateless: FLOW_STATELESS,
            only_stream: FLOW_ONLY_STREAM,
            no_stream: FLOW_NO_STREAM,
            only_frag: FLOW_ONLY_FRAG,
            no_frag: FLOW_NO_FRAG,
          }[f];
          if (bit === undefined) throw new CompileError(`flow option ${f} not supported`);
          r.flow |= bit;
        }
        continue;
      }
      case 'flowbits': {
        const b = v as unknown as BitOp;
        if (b.cmd === 'noalert') continue;
        if (b.cmd === 'isset' || b.cmd === 'isnotset') r.flowbitChecks.push(b);
        else r.flowbitActions.push(b);
        continue;
      }
      case 'flowint':
        r.flowints.push(v as unknown as IntOp);
        continue;
      case 'xbits': {
        const b = v as unknown as XbitOp;
        if (b.cmd === 'noalert') continue;
        if (b.track === 'tx') throw new CompileError('xbits track tx not supported', 'xbits track tx');
        r.xbits.push(b);
        continue;
      }
      case 'threshold':
        r.threshold = v as unknown as RateSpec;
        continue;
      case 'detection_filter':
        r.detectionFilter = {
          type: 'detection_filter',
          multiplier: null,
          ...(v as unknown as { track: string; count: number; seconds: number }),
        };
        continue;
      case 'flags':
      case 'tcp.flags': {
        const b = v as unknown as { modifier: string; bits: number; ignored: number };
        r.checks.push({ k: 'flags', modifier: b.modifier, bits: b.bits, ignored: b.ignored });
        if (r.proto === 0) r.proto = 6;
        continue;
      }
      case 'fragbits': {
        const b = v as unknown as { modifier: string; bits: number; ignored: number };
        r.checks.push({ k: 'fragbits', modifier: b.modifier, bits: b.bits, ignored: b.ignored });
        continue;
      }
      case 'ip_proto': {
        const b = v as unknown as { op: string; proto: number };
        r.checks.push({ k: 'ip_proto', op: b.op, proto: b.proto });
        // ip_proto:N narrows an `ip` rule to that protocol (so it is grouped with it).
        if (b.op === '=' && r.proto === 0 && !r.icmp) r.proto = b.proto;
        continue;
      }
      case 'sameip':
        r.checks.push({ k: 'sameip' });
        continue;
      case 'ipopts':
        r.checks.push({ k: 'ipopts', opt: (v as unknown as { opt: string }).opt });
        continue;
      case 'iprep': {
        const b = v as unknown as IprepKw;
        if (!hasReputationData()) throw new CompileError('iprep: no IP reputation data loaded', 'iprep without data');
        const cat = repCategory(b.category);
        if (cat < 0) throw new CompileError(`iprep: unknown category "${b.category}"`, 'iprep category');
        r.checks.push({ k: 'iprep', side: b.side, cat, op: b.op, value: b.value });
        continue;
      }
      case 'dataset': {
        const b = v as unknown as DatasetKw;
        let set: Dataset;
        try {
          const known = b.type ?? existingDatasetType(b.name);
          if (known === null) throw new DatasetError(`dataset ${b.name}: type required where it is first used`);
          set = datasetFor(b.name, known as DatasetType, b.load);
        } catch (e) {
          if (e instanceof DatasetError) throw new CompileError(e.message, 'dataset');
          throw e;
        }
        progOf(b.buffer).ops.push({ k: 'dataset', cmd: b.cmd, set });
        sawMatch = true;
        continue;
      }
      case 'ml.class':
        mlOf().cls = v as unknown as MlClassKw;
        continue;
      case 'ml.confidence':
        mlOf().confidence = v as unknown as MlCompare;
        continue;
      case 'ml.anomaly_score':
        mlOf().anomaly = v as unknown as MlCompare;
        continue;
      case 'ml.second_opinion':
        mlOf().secondOpinion = true;
        continue;
      case 'filestore':
        filestore = o.value as FilestoreSpec;
        continue;
      case 'stream_size': {
        const b = v as unknown as { side: string; op: string; value: number };
        r.checks.push({ k: 'stream_size', side: b.side, op: b.op, value: b.value });
        continue;
      }
      case 'app-layer-protocol': {
        const b = v as unknown as { negated: boolean; proto: string; mode?: string };
        const name = b.proto === 'http1' ? 'http' : b.proto === 'ssl' ? 'tls' : b.proto;
        r.appChecks.push({ negated: b.negated, proto: name, mode: b.mode ?? 'direction' });
        continue;
      }
      case 'service': {
        const list = (o.value as string[]).map((s) => (s === 'ssl' ? 'tls' : s));
        r.appProtos = list;
        continue;
      }
      case 'tls.version':
        r.tlsVersions.push(o.value as number);
        continue;
      case 'ssh.protoversion':
      case 'ssh.softwareversion':
        r.sshChecks.push({
          field: kw === 'ssh.protoversion' ? 'proto' : 'software',
          value: (v as unknown as { value: string }).value,
        });
        continue;
      default:
        break;
    }
    if (CMP_FIELDS.has(kw)) {
      const c = v as unknown as UintCompare;
      r.checks.push({ k: 'cmp', field: kw as PacketField, op: c.op, a: c.a, b: c.b });
      // Suricata's signature mask: dsize with !=, >= (and >, <>, which imply it) requires a
      // payload, so `dsize:!9` does not match empty packets.
      if (kw === 'dsize' && (c.op === '!=' || c.op === '>='))
        r.checks.push({ k: 'cmp', field: 'dsize', op: '>', a: 0, b: 0 });
      continue;
    }
    // Sticky buffers and transforms shape the matches that follow; their effect is in them.
    if (def && typeof o.value === 'string' && (BUFFERS[o.value] !== undefined || o.value === 'base64_data')) {
      progOf(o.value);
      continue;
    }
    if (
      o.value !== null &&
      typeof o.value === 'object' &&
      'name' in (o.value as object) &&
      'arg' in (o.value as object)
    )
      continue;
    if (typeof o.value === 'string' && o.raw === null) continue;
    throw new CompileError(`keyword ${kw} not supported by the matcher`, `matcher: keyword ${kw}`);
  }
  // Drop programs that ended up empty (a sticky buffer named but nothing matched in it still
  // requires the buffer to exist, as in Suricata).
  // Scope: the protocol of the transaction buffers, if any.
  let scope: BufferScope = 'pkt';
  let dir: BufferDir = 'both';
  for (const g of r.progs) {
    if (g.buffer === 'base64_data') continue;
    const d = BUFFERS[g.buffer]!;
    if (d.scope === 'pkt') continue;
    if (scope !== 'pkt' && scope !== d.scope)
      throw new CompileError(`buffers of two protocols (${scope}, ${d.scope}) in one rule`, 'buffers of two protocols');
    scope = d.scope;
    if (d.dir !== 'both') {
      if (dir !== 'both' && dir !== d.dir)
        throw new CompileError('request and response buffers in one rule', 'request and response buffers in one rule');
      dir = d.dir;
    }
  }
  if (scope === 'pkt' && (r.tlsVersions.length > 0 || r.sshChecks.length > 0))
    scope = r.tlsVersions.length > 0 ? 'tls' : 'ssh';
  // file.data is every file-carrying protocol's (Suricata): in a rule for SMTP only (`alert smtp`,
  // Snort's `service:smtp`) the mail's attachments; in one for any protocol (`alert tcp`) or for
  // HTTP and SMTP, HTTP bodies and attachments both (the HTTP scope, plus the SMTP group).
  const onlyFileData = r.progs.every(
    (g) => g.buffer === 'base64_data' || g.buffer === 'file.data' || BUFFERS[g.buffer]!.scope === 'pkt',
  );
  const withPayload = r.progs.some((g) => g.buffer === 'payload');
  if (scope === 'http' && onlyFileData && r.appProtos !== null && r.appProtos.includes('smtp')) {
    if (!r.appProtos.includes('http')) scope = 'smtp';
    else r.smtpFiles = !withPayload;
  } else if (scope === 'http' && onlyFileData && r.appProtos === null) r.smtpFiles = !withPayload;
  if (scope !== 'pkt') {
    // Payload matches in an HTTP rule (ET's `content:"../"; depth:200; http.uri; ...`): Suricata
    // inspects them on the raw stream of the rule's direction as one of the transaction's
    // engines; here on the message rebuilt from the transaction (Detector, httpBuffer 'payload').
    // Header buffers (tcp.hdr, ...), and payloads in other protocols' rules, have no such view.
    for (const g of r.progs)
      if (
        g.buffer !== 'base64_data' &&
        BUFFERS[g.buffer]!.scope === 'pkt' &&
        (g.buffer !== 'payload' || scope !== 'http')
      )
        throw new CompileError(
          'packet and transaction buffers in one rule',
          'packet and transaction buffers in one rule',
        );
    if (r.checks.length > 0)
      throw new CompileError('packet keywords in a transaction rule', 'packet keywords in a transaction rule');
    if (dir === 'both') dir = r.flow & FLOW_TO_CLIENT ? 'tc' : r.flow & FLOW_TO_SERVER ? 'ts' : 'both';
    if ((dir === 'ts' && r.flow & FLOW_TO_CLIENT) || (dir === 'tc' && r.flow & FLOW_TO_SERVER))
      throw new CompileError('flow direction contradicts the buffers', 'flow direction contradicts the buffers');
    if (r.appProtos === null || r.appProtos.includes(scope)) r.appProtos = [scope];
    else
      throw new CompileError(
        `rule protocol ${r.appProtos.join(',')} with ${scope} buffers`,
        'protocol and buffers disagree',
      );
    if (rule.protocol === 'dns' || scope === 'dns') r.proto = 0;
  }
  r.scope = scope;
  r.txDir = dir;
  if (filestore !== null) {
    // Default direction: the rule's own (Suricata's "same as the rule"), both when it has none.
    const d = filestore.dir;
    const ruleBits =
      r.flow & FLOW_TO_CLIENT ? 2 : r.flow & FLOW_TO_SERVER ? 1 : dir === 'tc' ? 2 : dir === 'ts' ? 1 : 3;
    const bits = d === 'request' ? 1 : d === 'response' ? 2 : d === 'both' ? 3 : ruleBits;
    r.filestore = { bits, flow: filestore.scope === 'ssn' || filestore.scope === 'flow' };
  }
  if (r.flow & FLOW_ONLY_STREAM) r.streamMode = 'stream';
  else if (r.flow & FLOW_NO_STREAM) r.streamMode = 'pkt';
  // A transaction rule's fast pattern comes from a transaction buffer when it has a content there,
  // even over a `fast_pattern` on a payload content: any required content is a correct prefilter,
  // and the transaction buffers' automatons are scanned anyway (http.start's shared one), where a
  // payload prefilter would rebuild and scan every message (bodies included) for a few rules.
  const txFastOk = fastContent !== null && (scope === 'pkt' || fastContent.prog.buffer !== 'payload');
  const chosen = scope !== 'pkt' && !txFastOk && bestTxContent !== null ? bestTxContent : (fastContent ?? bestContent);
  if (chosen !== null) r.fast = { prog: r.progs.indexOf(chosen.prog), pat: fastBytes(chosen.c) };
  r.ipOnly =
    !sawMatch &&
    scope === 'pkt' &&
    // iprep is about addresses only: such rules run once per flow direction like Suricata's IP-only rules.
    r.checks.every((c) => c.k === 'iprep') &&
    r.flow === 0 &&
    r.flowbitChecks.length === 0 &&
    r.flowints.length === 0 &&
    r.xbits.length === 0 &&
    r.appProtos === null &&
    r.appChecks.length === 0 &&
    r.progs.length === 0 &&
    r.sp === null &&
    r.dp === null;
  // Suricata's SignatureIsPDOnly: no app protocol from the header or buffers, no payload or
  // packet matches, flow limited to a direction, flowbits only set.
  r.pdOnly =
    r.appChecks.length > 0 &&
    !sawMatch &&
    scope === 'pkt' &&
    r.appProtos === null &&
    r.progs.length === 0 &&
    r.checks.length === 0 &&
    (r.flow & ~(FLOW_TO_SERVER | FLOW_TO_CLIENT)) === 0 &&
    r.flowbitChecks.length === 0 &&
    r.flowbitActions.every((b) => b.cmd === 'set') &&
    r.flowints.length === 0 &&
    r.xbits.length === 0;
  return r;
}
