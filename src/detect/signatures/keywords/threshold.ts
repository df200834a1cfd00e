/** Rate keywords: threshold and detection_filter. */
import { fail, ok, parseUint, splitArgs } from './common.js';
import type { KeywordDef, KwResult } from './common.js';

const TRACKS = new Set(['by_src', 'by_dst', 'by_rule', 'by_both', 'by_flow']);

/** Parse `key value` pairs in any order; `need` lists required keys. */
function pairs(v: string, need: string[], allowed: string[]): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const p of splitArgs(v)) {
    const m = /^(\S+)\s+(\S+)$/.exec(p);
    if (!m) return `expected "key value", got "${p}"`;
    if (!allowed.includes(m[1]!)) return `unknown field "${m[1]}"`;
    if (out[m[1]!] !== undefined) return `${m[1]} given twice`;
    out[m[1]!] = m[2]!;
  }
  for (const k of need) if (out[k] === undefined) return `missing ${k}`;
  return out;
}

function common(f: Record<string, string>): { track: string; count: number; seconds: number } | string {
  const track = f['track']!;
  if (!TRACKS.has(track)) return `bad track "${track}"`;
  const count = parseUint(f['count']!);
  if (count === null || count === 0) return 'count must be a positive integer';
  const seconds = parseUint(f['seconds']!);
  if (seconds === null || seconds === 0) return 'seconds must be a positive integer';
  return { track, count, seconds };
}

// threshold:type <limit|threshold|both|backoff>,track <by_src|by_dst|...>,count N,seconds N (backoff: multiplier N)
function threshold(v: string | null): KwResult {
  const f = pairs(v!, ['type', 'track', 'count'], ['type', 'track', 'count', 'seconds', 'multiplier']);
  if (typeof f === 'string') return fail(f);
  const type = f['type']!;
  if (!['limit', 'threshold', 'both', 'backoff'].includes(type)) return fail(`bad type "${type}"`);
  if (type === 'backoff') {
    const mult = parseUint(f['multiplier'] ?? '');
    if (mult === null || mult < 2) return fail('backoff needs multiplier >= 2');
    const c = common({ ...f, seconds: '1' });
    return typeof c === 'string' ? fail(c) : ok({ type, ...c, seconds: 0, multiplier: mult });
  }
  if (f['seconds'] === undefined) return fail('missing seconds');
  if (f['multiplier'] !== undefined) return fail('multiplier only applies to backoff');
  const c = common(f);
  return typeof c === 'string' ? fail(c) : ok({ type, ...c, multiplier: null });
}

// detection_filter:track <by_src|by_dst|by_rule|by_both>,count N,seconds N[,unique_on src_port|dst_port]
function detectionFilter(v: string | null): KwResult {
  const f = pairs(v!, ['track', 'count', 'seconds'], ['track', 'count', 'seconds', 'unique_on']);
  if (typeof f === 'string') return fail(f);
  const c = common(f);
  if (typeof c === 'string') return fail(c);
  // Suricata 8: count distinct source or destination ports instead of matches.
  const u = f['unique_on'] ?? null;
  if (u !== null && u !== 'src_port' && u !== 'dst_port') return fail(`bad unique_on "${u}"`);
  return ok({ ...c, uniqueOn: u });
}

export const THRESHOLD_KEYWORDS: KeywordDef[] = [
  { name: 'threshold', kind: 'standalone', value: 'required', parse: threshold },
  { name: 'detection_filter', kind: 'standalone', value: 'required', parse: detectionFilter },
];
