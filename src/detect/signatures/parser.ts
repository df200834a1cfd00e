/**
 * Suricata rule parser: `action proto src sport -> dst dport (kw; kw:value; ...)`. Snort 3 rules
 * (comma content modifiers, sticky `http_*` buffers, `service`, header-less `alert http (...)`) are
 * recognised per rule and rewritten to the Suricata form first (snort3.ts).
 * parseRule never throws: a rule it cannot fully understand comes back as a RuleParseError whose
 * reason says why (an unsupported keyword is never ignored, so a rule is never mis-evaluated).
 */
import { parseAddress } from './address.js';
import type { AddressExpr } from './address.js';
import type { ContentMatch, ParseCtx, PcreMatch, RuleMeta } from './keywords/common.js';
import { KEYWORDS } from './keywords/registry.js';
import { parsePorts } from './ports.js';
import type { PortExpr } from './ports.js';
import { detectDialect, snort3ToSuricata } from './snort3.js';
import type { Dialect } from './snort3.js';
import { withDefaultVars } from './vars.js';
import type { RuleVars } from './vars.js';

export const ACTIONS = ['alert', 'pass', 'drop', 'reject', 'rejectsrc', 'rejectdst', 'rejectboth'] as const;
export type RuleAction = (typeof ACTIONS)[number];

/** Protocols a rule header may name. */
export const PROTOCOLS = [
  'ip',
  'tcp',
  'udp',
  'icmp',
  'http',
  'dns',
  'tls',
  'ssh',
  'ftp',
  'smtp',
  'tcp-pkt',
  'tcp-stream',
  'ftp-data',
] as const;
export type RuleProtocol = (typeof PROTOCOLS)[number];

/** One option as written, with the keyword's structured value. */
export interface RuleOption {
  keyword: string;
  /** The raw value text (trimmed), null for `kw;`. */
  raw: string | null;
  value: unknown;
}

/** A successfully parsed rule. */
export interface ParsedRule extends RuleMeta {
  kind: 'rule';
  action: RuleAction;
  protocol: RuleProtocol;
  src: AddressExpr;
  srcPorts: PortExpr;
  /** `->` one way, `<>` both ways. */
  bidirectional: boolean;
  dst: AddressExpr;
  dstPorts: PortExpr;
  /** Every option in order. */
  options: RuleOption[];
  /** Content (and uricontent) and pcre matches in order, with their buffers and modifiers. */
  matches: (ContentMatch | PcreMatch)[];
  /** The rule text as given (one line, continuation joined). */
  text: string;
}

/** Why a rule was not loaded. `reason` is a stable one-line string; `group` drops per-rule details. */
export interface RuleParseError {
  kind: 'error';
  reason: string;
  /** The reason without rule-specific detail, for counting (e.g. `invalid value for content`). */
  group: string;
  /** The keyword at fault, when one is. */
  keyword?: string;
}

const err = (reason: string, group = reason, keyword?: string): RuleParseError =>
  keyword === undefined ? { kind: 'error', reason, group } : { kind: 'error', reason, group, keyword };
const syntax = (what: string): RuleParseError => err(`syntax: ${what}`, 'syntax');
const invalid = (kw: string, why: string): RuleParseError =>
  why.startsWith('pcre not supported: ')
    ? err(why, why.replace(/ \(.*$/s, ''), kw)
    : err(`invalid value for ${kw}: ${why}`, `invalid value for ${kw}`, kw);

/** Rules longer than this are refused (Suricata's own limit is 64 KiB per rule). */
export const MAX_RULE_LENGTH = 65536;

/**
 * Split the option list (the text between the parentheses) into keyword/value pairs. `;` ends an
 * option unless escaped with a backslash; the value is everything after the first `:`.
 */
export function splitOptions(body: string): { keyword: string; raw: string | null }[] | string {
  const out: { keyword: string; raw: string | null }[] = [];
  let i = 0;
  const n = body.length;
  while (i < n) {
    while (i < n && /\s/.test(body[i]!)) i++;
    if (i >= n) break;
    let j = i;
    let value: string | null = null;
    let end: number;
    while (j < n && body[j] !== ':' && body[j] !== ';') j++;
    const keyword = body.slice(i, j).trim();
    if (j < n && body[j] === ':') {
      let k = j + 1;
      for (; k < n; k++) {
        const c = body[k];
        if (c === '\\') k++;
        else if (c === ';') break;
      }
      if (k >= n) return `option "${keyword}" not terminated by ;`;
      value = body.slice(j + 1, k).trim();
      end = k;
    } else if (j < n) end = j;
    else return `option "${keyword}" not terminated by ;`;
    if (keyword === '') return 'empty option name';
    if (!/^[A-Za-z0-9_.-]+$/.test(keyword)) return `bad option name "${keyword.slice(0, 40)}"`;
    out.push({ keyword, raw: value });
    i = end + 1;
  }
  return out;
}

/** Split the header on whitespace, keeping `[...]` lists (which may contain spaces) whole. */
function headerTokens(h: string): string[] | null {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of h) {
    if (c === '[') depth++;
    else if (c === ']') depth--;
    if (depth < 0) return null;
    if (depth === 0 && /\s/.test(c)) {
      if (cur !== '') out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (depth !== 0) return null;
  if (cur !== '') out.push(cur);
  return out;
}

/**
 * Parse one rule. `vars` holds address and port groups (Suricata's defaults fill in any that are
 * missing). Never throws.
 */
export function parseRule(text: string, vars?: RuleVars): ParsedRule | RuleParseError {
  try {
    return parseRuleUnsafe(text, withDefaultVars(vars));
  } catch (e) {
    // A bug here must not take the loader down: report it as a skip reason (and a test failure).
    return err(`internal error: ${(e as Error).message}`, 'internal error');
  }
}

/** Options that produce a ContentMatch or PcreMatch for `matches`. */
const MATCH_KEYWORDS = new Set(['content', 'uricontent', 'pcre']);

/** Snort 3 header protocols (service names) that Suricata spells differently. */
const SNORT3_PROTOCOLS: Record<string, string> = { ssl: 'tls' };

/**
 * The rule's dialect: Suricata (also Snort 2) or Snort 3. Exported for tests and tools; parseRule
 * decides it the same way.
 */
export function ruleDialect(text: string): Dialect | null {
  const t = text.trim();
  const open = t.indexOf('(');
  if (open < 0 || !t.endsWith(')')) return null;
  const head = headerTokens(t.slice(0, open));
  const opts = splitOptions(t.slice(open + 1, -1));
  if (head === null || typeof opts === 'string') return null;
  return detectDialect(opts, head.length === 2);
}

function parseRuleUnsafe(input: string, vars: RuleVars): ParsedRule | RuleParseError {
  const text = input.trim();
  if (text.length > MAX_RULE_LENGTH) return syntax('rule longer than 64 KiB');
  const open = text.indexOf('(');
  if (open < 0) return syntax('no option list');
  if (!text.endsWith(')')) return syntax('option list not closed by )');
  const head = headerTokens(text.slice(0, open));
  if (head === null) return syntax('unbalanced brackets in header');
  // Snort 3 service rules have no addresses: `alert http (...)` means any any -> any any.
  const headerless = head.length === 2;
  if (headerless) head.push('any', 'any', '->', 'any', 'any');
  if (head.length !== 7) return syntax(`header has ${head.length} fields, expected 7`);
  const [action, proto, src, sp, dir, dst, dp] = head as [string, string, string, string, string, string, string];
  if (!(ACTIONS as readonly string[]).includes(action)) return syntax(`unknown action "${action.slice(0, 40)}"`);
  // Options are split before the header is checked only to know the dialect; their errors still
  // come after the header's.
  const split = splitOptions(text.slice(open + 1, -1));
  const dialect = typeof split === 'string' ? 'suricata' : detectDialect(split, headerless);
  let protocol = proto.toLowerCase();
  if (dialect === 'snort3') protocol = SNORT3_PROTOCOLS[protocol] ?? protocol;
  if (!(PROTOCOLS as readonly string[]).includes(protocol))
    return err(`unsupported protocol: ${protocol.slice(0, 40)}`);
  if (dir !== '->' && dir !== '<>') return syntax(`bad direction "${dir.slice(0, 40)}"`);
  const srcA = parseAddress(src, vars.addressGroups);
  if (typeof srcA === 'string') return err(`address: ${srcA}`, 'address');
  const dstA = parseAddress(dst, vars.addressGroups);
  if (typeof dstA === 'string') return err(`address: ${dstA}`, 'address');
  const spP = parsePorts(sp, vars.portGroups);
  if (typeof spP === 'string') return err(`port: ${spP}`, 'port');
  const dpP = parsePorts(dp, vars.portGroups);
  if (typeof dpP === 'string') return err(`port: ${dpP}`, 'port');

  if (typeof split === 'string') return syntax(split);
  let opts = split;
  if (dialect === 'snort3') {
    const r = snort3ToSuricata(split);
    if (!Array.isArray(r)) return invalid(r.keyword, r.error);
    opts = r;
  }
  const meta: RuleMeta = {
    msg: '',
    sid: null,
    rev: 0,
    gid: 1,
    classtype: null,
    priority: null,
    references: [],
    metadata: [],
    target: null,
    noalert: false,
  };
  const ctx: ParseCtx = { protocol, meta, buffer: null, transforms: [], last: null, byteVars: new Set() };
  const options: RuleOption[] = [];
  const matches: (ContentMatch | PcreMatch)[] = [];
  for (const { keyword, raw } of opts) {
    const def = KEYWORDS.get(keyword);
    if (def === undefined) return err(`unsupported keyword: ${keyword}`, `unsupported keyword: ${keyword}`, keyword);
    if (def.value === 'required' && (raw === null || raw === '')) return invalid(keyword, 'a value is required');
    if (def.value === 'none' && raw !== null) return invalid(keyword, 'takes no value');
    const r = def.parse(raw, ctx);
    if ('error' in r) return invalid(keyword, r.error);
    options.push({ keyword, raw, value: r.value });
    if (MATCH_KEYWORDS.has(keyword)) matches.push(r.value as ContentMatch | PcreMatch);
  }
  if (meta.sid === null) return syntax('no sid');
  return {
    kind: 'rule',
    action: action as RuleAction,
    protocol: protocol as RuleProtocol,
    src: srcA,
    srcPorts: spP,
    bidirectional: dir === '<>',
    dst: dstA,
    dstPorts: dpP,
    ...meta,
    options,
    matches,
    text,
  };
}
