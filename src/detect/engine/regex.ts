/**
 * Safe regular expressions for `pcre`. JavaScript's regex engine backtracks, so a pattern such as
 * `(a+)+$` can take exponential time on a crafted payload and stall the pipeline. Two guards:
 *
 * 1. V8's linear-time engine as a fallback: with `--enable-experimental-regexp-engine-on-excessive-backtracks`
 *    a match that backtracks more than BACKTRACK_LIMIT times is re-run by an automaton-based engine
 *    (like RE2) in time linear in the input. This covers every pattern that engine supports, i.e.
 *    all but those with lookaround or backreferences.
 * 2. Patterns the linear engine cannot run (lookaround, backreferences) are refused when they nest
 *    unbounded quantifiers (the shape behind catastrophic backtracking); the rule is skipped with
 *    that reason instead of risking a stall.
 */
import v8 from 'node:v8';

/** Backtracks before V8 switches a match to the linear-time engine. */
export const BACKTRACK_LIMIT = 10_000;

let enabled = false;

/** Turn on V8's linear-time fallback for this process (flags are process-wide; idempotent). */
export function enableLinearFallback(): void {
  if (enabled) return;
  v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  v8.setFlagsFromString(`--regexp-backtracks-before-fallback=${BACKTRACK_LIMIT}`);
  enabled = true;
}

/** Scan a pattern for backreferences and lookaround (outside character classes). */
function scanFeatures(source: string): { backreference: boolean; lookaround: boolean } {
  const out = { backreference: false, lookaround: false };
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const n = source[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(n) || n === 'k')) out.backreference = true;
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') inClass = true;
    else if (c === '(' && source[i + 1] === '?') {
      const n = source[i + 2];
      if (n === '=' || n === '!' || (n === '<' && (source[i + 3] === '=' || source[i + 3] === '!')))
        out.lookaround = true;
    }
  }
  return out;
}

/** True when the pattern uses lookaround or backreferences (unsupported by the linear engine). */
export function needsBacktracking(source: string): boolean {
  const f = scanFeatures(source);
  return f.backreference || f.lookaround;
}

/** True when the pattern has backreferences (whose case-insensitivity folding cannot express). */
export function hasBackreference(source: string): boolean {
  return scanFeatures(source).backreference;
}

/**
 * True when a group that contains an unbounded quantifier (`*`, `+`, `{n,}`) is itself repeated
 * without bound: `(a+)+`, `(?:x*y*)*`, `(a|b+){2,}`.
 */
export function hasNestedUnboundedQuantifier(source: string): boolean {
  // Per open group: whether it holds an unbounded quantifier.
  const stack: boolean[] = [];
  let inner = false;
  let inClass = false;
  let lastGroupHadUnbounded = false;
  let lastWasGroup = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      i++;
      lastWasGroup = false;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      lastWasGroup = false;
      continue;
    }
    if (c === '(') {
      stack.push(inner);
      inner = false;
      lastWasGroup = false;
      continue;
    }
    if (c === ')') {
      lastGroupHadUnbounded = inner;
      inner = (stack.pop() ?? false) || inner;
      lastWasGroup = true;
      continue;
    }
    const unbounded = c === '*' || c === '+' || (c === '{' && /^\{\d*,\}/.test(source.slice(i)));
    if (unbounded) {
      if (lastWasGroup && lastGroupHadUnbounded) return true;
      inner = true;
    }
    lastWasGroup = false;
  }
  return false;
}

const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const swapCase = (c: number): number => (c >= 97 ? c - 32 : c + 32);
const esc = (c: number): string => '\\x' + c.toString(16).padStart(2, '0');

/** The case-swapped counterpart of the letters in [lo, hi], as class ranges. */
function swappedRanges(lo: number, hi: number): string {
  let out = '';
  for (const [a, z, d] of [
    [65, 90, 32],
    [97, 122, -32],
  ] as const) {
    const l = Math.max(lo, a);
    const h = Math.min(hi, z);
    if (l <= h) out += l === h ? esc(l + d) : `${esc(l + d)}-${esc(h + d)}`;
  }
  return out;
}

/**
 * Rewrite a pattern meant for the `i` flag into an equivalent case-sensitive one (ASCII letters
 * become two-letter classes), because V8's linear-time engine cannot run `i` patterns: without
 * this, case-insensitive rules would get no protection from catastrophic backtracking.
 */
export function foldCase(source: string): string {
  let out = '';
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i]!;
    if (c === '\\') {
      // Escapes keep their meaning (\w, \d, \x41, \u0041, \cA, \k<name>, \p{..}).
      const next = source[i + 1] ?? '';
      let len = 2;
      if (next === 'x') len = 4;
      else if (next === 'u') len = source[i + 2] === '{' ? source.indexOf('}', i) - i + 1 : 6;
      else if (next === 'c') len = 3;
      else if ((next === 'k' || next === 'p' || next === 'P') && (source[i + 2] === '<' || source[i + 2] === '{'))
        len = source.indexOf(source[i + 2] === '<' ? '>' : '}', i) - i + 1;
      if (len <= 0) len = 2;
      out += source.slice(i, i + len);
      i += len;
      continue;
    }
    if (c === '(' && source[i + 1] === '?' && source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
      // Named group: the name is not pattern text.
      const end = source.indexOf('>', i);
      out += source.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    if (c === '[') {
      // A class: copy it, adding the other case of every letter and letter range.
      let j = i + 1;
      let body = '';
      let extra = '';
      let neg = '';
      if (source[j] === '^') {
        neg = '^';
        j++;
      }
      if (source[j] === ']') {
        body += '\\]';
        j++;
      }
      while (j < n && source[j] !== ']') {
        let lo: number;
        let tok: string;
        if (source[j] === '\\') {
          const nx = source[j + 1] ?? '';
          const len = nx === 'x' ? 4 : nx === 'u' ? 6 : nx === 'c' ? 3 : 2;
          tok = source.slice(j, j + len);
          lo =
            nx === 'x'
              ? parseInt(tok.slice(2), 16)
              : nx === 'u'
                ? parseInt(tok.slice(2), 16)
                : /[A-Za-z0-9]/.test(nx)
                  ? -1
                  : nx.charCodeAt(0);
          j += len;
        } else {
          tok = source[j]!;
          lo = tok.charCodeAt(0);
          j++;
        }
        if (source[j] === '-' && source[j + 1] !== ']' && j + 1 < n && lo >= 0) {
          let hiTok: string;
          let hi: number;
          if (source[j + 1] === '\\') {
            const nx = source[j + 2] ?? '';
            const len = nx === 'x' ? 4 : nx === 'u' ? 6 : 2;
            hiTok = source.slice(j + 1, j + 1 + len);
            hi = nx === 'x' || nx === 'u' ? parseInt(hiTok.slice(2), 16) : nx.charCodeAt(0);
            j += 1 + len;
          } else {
            hiTok = source[j + 1]!;
            hi = hiTok.charCodeAt(0);
            j += 2;
          }
          body += `${tok}-${hiTok}`;
          extra += swappedRanges(lo, hi);
          continue;
        }
        body += tok;
        if (lo >= 0 && isLetter(lo)) extra += esc(swapCase(lo));
      }
      // Added letters go first, so a trailing '-' of the original stays literal.
      out += `[${neg}${extra}${body}]`;
      i = j + 1;
      continue;
    }
    const code = c.charCodeAt(0);
    if (isLetter(code)) {
      // Quantifier braces hold digits only, so letters here are literals.
      out += `[${c}${String.fromCharCode(swapCase(code))}]`;
    } else out += c;
    i++;
  }
  return out;
}

/** Why `re` must not be run on untrusted input, or null when it is safe (given the fallback). */
export function unsafeRegexReason(re: RegExp): string | null {
  if (needsBacktracking(re.source) && hasNestedUnboundedQuantifier(re.source))
    return 'pcre not supported: nested unbounded quantifiers with lookaround or backreference (catastrophic backtracking risk)';
  return null;
}
