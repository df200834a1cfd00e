/**
 * `pcre:"[!]/pattern/flags"`. The pattern is translated to a JavaScript RegExp where PCRE syntax
 * has a direct equivalent (leading inline flags, \A, \z, \Z, \h, (?P<n>, \x{HH}); anything that
 * still does not compile (possessive quantifiers, atomic groups, ...) is a skip reason
 * `pcre not supported: ...` rather than a silently different match.
 */
import { fail, ok } from './common.js';
import type { KeywordDef, KwResult, ParseCtx, PcreCapture } from './common.js';

/** Suricata pcre flags -> the buffer they select (legacy form of sticky buffers). */
const BUFFER_FLAGS: Record<string, string> = {
  U: 'http.uri',
  I: 'http.uri.raw',
  P: 'http.request_body',
  // Suricata treats Q (server body) as file.data.
  Q: 'file.data',
  H: 'http.header',
  D: 'http.header.raw',
  M: 'http.method',
  C: 'http.cookie',
  S: 'http.stat_code',
  Y: 'http.stat_msg',
  V: 'http.user_agent',
  W: 'http.host',
  Z: 'http.host.raw',
};

/** Flags with no effect on matching here: O (match-limit override), B (rawbytes), E handled below. */
const ACCEPTED = new Set(['i', 's', 'm', 'x', 'A', 'E', 'R', 'O', 'B', 'G', ...Object.keys(BUFFER_FLAGS)]);

/**
 * End (index of the closing parenthesis) of a `(?i:...)` group whose body is plain text and simple
 * escapes, which can be made caseless by hand; -1 when the body has groups or classes.
 */
function caselessGroupEnd(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === ')') return i;
    else if (c === '(' || c === '[' || c === ']') return -1;
  }
  return -1;
}

/** Replace each unescaped ASCII letter by a two-letter class: `ab` -> `[aA][bB]`. */
function caseless(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const n = body[i + 1] ?? '';
      // \xHH keeps its hex digits; other escapes (\s, \d, \/) are unaffected by case.
      const len = n === 'x' ? 4 : 2;
      out += body.slice(i, i + len);
      i += len - 1;
    } else if (/[A-Za-z]/.test(c)) out += `[${c.toLowerCase()}${c.toUpperCase()}]`;
    else out += c;
  }
  return out;
}

/** The result of translating a PCRE pattern: JS source and flags, or why not. */
export function translatePcre(pattern: string, flags: string): { source: string; flags: string } | { error: string } {
  let src = pattern;
  let js = '';
  const want = new Set<string>();
  for (const f of flags) {
    if (!ACCEPTED.has(f)) return { error: `unknown pcre flag ${f}` };
    if (f === 'i' || f === 's' || f === 'm') want.add(f);
  }
  // G (PCRE_UNGREEDY) swaps greedy and lazy quantifiers: rewritten quantifier by quantifier below.
  const ungreedy = flags.includes('G');
  // Leading inline option groups such as (?i) or (?si) apply to the whole pattern.
  let m: RegExpExecArray | null;
  while ((m = /^\(\?([imsx]+)\)/.exec(src))) {
    for (const f of m[1]!)
      if (f === 'x') flags += 'x';
      else want.add(f);
    src = src.slice(m[0].length);
  }
  const extended = flags.includes('x');
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) return { error: 'trailing backslash' };
      i++;
      if (!inClass && n === 'A') js += '(?<![\\s\\S])';
      else if (!inClass && n === 'z') js += '(?![\\s\\S])';
      else if (!inClass && n === 'Z') js += '(?=\\n?(?![\\s\\S]))';
      else if (n === 'h') js += inClass ? ' \\t' : '[ \\t]';
      else if (n === 'x' && src[i + 1] === '{') {
        const close = src.indexOf('}', i);
        const hex = close < 0 ? '' : src.slice(i + 2, close);
        if (!/^[0-9a-fA-F]{1,2}$/.test(hex)) return { error: `\\x{${hex}} beyond one byte` };
        js += '\\x' + hex.padStart(2, '0');
        i = close;
      } else if (n === 'Q' || n === 'E' || n === 'G' || n === 'K' || n === 'R' || n === 'X' || n === 'C')
        return { error: `\\${n}` };
      else if (n === 'p' || n === 'P') return { error: 'unicode property escapes' };
      else js += '\\' + n;
      continue;
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') return { error: 'POSIX character classes' };
      if (c === ']') inClass = false;
      js += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      js += c;
      if (src[i + 1] === '^') js += src[++i];
      if (src[i + 1] === ']') js += '\\' + src[++i];
      continue;
    }
    if (extended && /\s/.test(c)) continue;
    if (extended && c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '(' && src[i + 1] === '?') {
      const rest = src.slice(i + 2);
      if (rest.startsWith('>')) return { error: 'atomic group (?>' };
      if (rest.startsWith('P<')) {
        js += '(?<';
        i += 3;
        continue;
      }
      // (?P=name) is a named back-reference.
      const back = /^P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(rest);
      if (back) {
        js += `\\k<${back[1]}>`;
        i += 2 + back[0].length - 1;
        continue;
      }
      if (rest.startsWith('i:')) {
        const close = caselessGroupEnd(src, i + 4);
        if (close < 0) return { error: 'inline option group inside the pattern' };
        js += '(?:' + (want.has('i') ? src.slice(i + 4, close) : caseless(src.slice(i + 4, close))) + ')';
        i = close;
        continue;
      }
      if (rest.startsWith('#')) {
        const close = src.indexOf(')', i);
        if (close < 0) return { error: 'unterminated comment' };
        i = close;
        continue;
      }
      if (/^[imsx-]+[):]/.test(rest)) return { error: 'inline option group inside the pattern' };
      if (rest.startsWith('|') || rest.startsWith('R') || /^\d/.test(rest) || rest.startsWith('&'))
        return { error: 'branch reset or recursion' };
      // Any other group opener ((?:, (?=, (?<name>, ...) is the same in JavaScript; its ? is no quantifier.
      js += '(?';
      i++;
      continue;
    }
    if (ungreedy) {
      const q = c === '{' ? /^\{\d+(?:,\d*)?\}/.exec(src.slice(i))?.[0] : '*+?'.includes(c) ? c : undefined;
      if (q !== undefined) {
        js += q;
        i += q.length - 1;
        if (src[i + 1] === '+') return { error: 'possessive quantifier' };
        // A lazy quantifier under G is greedy; a plain one is lazy.
        if (src[i + 1] === '?') i++;
        else js += '?';
        continue;
      }
    }
    if ((c === '+' || c === '?') && i > 0 && /[*+?}]/.test(src[i - 1]!) && src[i - 2] !== '\\') {
      if (c === '+') return { error: 'possessive quantifier' };
    }
    // PCRE's $ (without m or E) also matches before a final newline; JavaScript's does not.
    if (c === '$' && !want.has('m') && !flags.includes('E')) {
      js += '(?=\\n?(?![\\s\\S]))';
      continue;
    }
    js += c;
  }
  let outFlags = '';
  for (const f of ['i', 'm', 's']) if (want.has(f)) outFlags += f;
  // A: anchored at the start of the inspected data (or of the relative position).
  if (flags.includes('A')) {
    js = `(?:${js})`;
    outFlags += 'y';
  }
  return { source: js, flags: outFlags };
}

function parsePcre(v: string | null, ctx: ParseCtx): KwResult {
  let s = v!;
  let negated = false;
  if (s.startsWith('!')) {
    negated = true;
    s = s.slice(1).trim();
  }
  if (s.length < 2 || s[0] !== '"' || s[s.length - 1] !== '"') return fail('expected "/pattern/flags"');
  s = s.slice(1, -1);
  const last = s.lastIndexOf('/');
  if (s[0] !== '/' || last <= 0) return fail('expected /pattern/flags');
  const pattern = s.slice(1, last);
  // Suricata: `/re/flags,pkt:name, flow:name, alert:name` stores the capture groups, in order, in
  // packet/flow/alert variables.
  const [flags, ...specs] = s.slice(last + 1).split(',');
  if (!/^[A-Za-z]*$/.test(flags!)) return fail(`bad flags "${flags}"`);
  const captures: PcreCapture[] = [];
  for (const spec of specs) {
    const c = /^\s*(pkt|flow|alert):([A-Za-z_][A-Za-z0-9_.-]*)\s*$/.exec(spec);
    if (!c) return fail(`bad capture "${spec.trim()}" (expected pkt|flow|alert:<name>)`);
    captures.push({ scope: c[1] as PcreCapture['scope'], name: c[2]! });
  }
  const tr = translatePcre(pattern, flags!);
  if ('error' in tr) return { error: `pcre not supported: ${tr.error}` };
  let regex: RegExp;
  try {
    regex = new RegExp(tr.source, tr.flags);
  } catch (e) {
    const why = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return { error: `pcre not supported: does not compile in JavaScript (${why})` };
  }
  let buffer = ctx.buffer;
  for (const f of flags!) {
    const b = BUFFER_FLAGS[f];
    if (b === undefined) continue;
    if (b === 'file.data' && buffer === 'http.response_body') continue;
    if (buffer !== null && buffer !== b) return fail(`flag ${f} conflicts with sticky buffer ${buffer}`);
    buffer = b;
  }
  const m = {
    kind: 'pcre' as const,
    pattern,
    flags: flags!,
    negated,
    relative: flags!.includes('R'),
    regex,
    buffer,
    transforms: ctx.transforms.slice(),
    captures,
  };
  ctx.last = m;
  return ok(m);
}

export const PCRE_KEYWORDS: KeywordDef[] = [{ name: 'pcre', kind: 'standalone', value: 'required', parse: parsePcre }];
