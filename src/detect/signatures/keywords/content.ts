/**
 * `content` (and the legacy `uricontent`) and its modifiers: nocase, offset, depth, distance, within, startswith, endswith,
 * fast_pattern, rawbytes. Modifiers apply to the content just before them.
 */
import { VAR_NAME, fail, ok, parseInt32, parseUint } from './common.js';
import type { ContentMatch, KeywordDef, KwResult, ParseCtx } from './common.js';

const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * Decode a content pattern: text with `|41 42|` hex sections; `\"`, `\;`, `\\`, `\:` escapes.
 * Returns the bytes or a reason.
 */
export function decodeContent(s: string): Uint8Array | string {
  const out: number[] = [];
  let hex = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '|') {
      hex = !hex;
      i++;
      continue;
    }
    if (hex) {
      if (c === ' ' || c === '\t') {
        i++;
        continue;
      }
      const pair = s.slice(i, i + 2);
      if (!HEX.test(pair)) return `bad hex byte "${pair}"`;
      out.push(parseInt(pair, 16));
      i += 2;
      continue;
    }
    if (c === '\\') {
      const n = s[i + 1];
      if (n !== '"' && n !== ';' && n !== '\\' && n !== ':') return `invalid escape "\\${n ?? ''}"`;
      out.push(n.charCodeAt(0));
      i += 2;
      continue;
    }
    if (c === '"') return 'unescaped double quote';
    if (c === ';') return 'unescaped ;';
    const code = s.charCodeAt(i);
    // Rules are read as UTF-8; a non-ASCII character stands for its UTF-8 bytes (as in Suricata).
    if (code < 0x80) out.push(code);
    else for (const b of Buffer.from(c, 'utf8')) out.push(b);
    i++;
  }
  if (hex) return 'unterminated hex section (missing |)';
  if (out.length === 0) return 'empty pattern';
  return Uint8Array.from(out);
}

/** Parse `[!]"pattern"` into a ContentMatch in `buffer` (ctx.last becomes it, for the modifiers after it). */
function contentIn(
  v: string | null,
  ctx: ParseCtx,
  buffer: string | null,
  transforms: ContentMatch['transforms'],
): KwResult {
  let s = v!;
  let negated = false;
  if (s.startsWith('!')) {
    negated = true;
    s = s.slice(1).trim();
  }
  if (s.length < 2 || s[0] !== '"' || s[s.length - 1] !== '"') return fail('expected a double-quoted pattern');
  const bytes = decodeContent(s.slice(1, -1));
  if (typeof bytes === 'string') return fail(bytes);
  const m: ContentMatch = {
    kind: 'content',
    bytes,
    negated,
    nocase: false,
    offset: null,
    depth: null,
    distance: null,
    within: null,
    startswith: false,
    endswith: false,
    fastPattern: false,
    rawbytes: false,
    buffer,
    transforms,
  };
  ctx.last = m;
  return ok(m);
}

function parseContent(v: string | null, ctx: ParseCtx): KwResult {
  return contentIn(v, ctx, ctx.buffer, ctx.transforms.slice());
}

/**
 * `uricontent:"x"` is the old spelling of `content:"x"; http_uri;`: the content goes to http.uri
 * whatever the sticky buffer (whose transforms therefore do not apply), and later modifiers apply to it.
 */
function parseUricontent(v: string | null, ctx: ParseCtx): KwResult {
  return contentIn(v, ctx, 'http.uri', []);
}

/** The content a modifier applies to, or a reason. */
function lastContent(ctx: ParseCtx, name: string): ContentMatch | string {
  if (ctx.last === null || ctx.last.kind !== 'content') return `${name} needs a preceding content`;
  return ctx.last;
}

/** An offset-like value: integer (signed for distance) or a byte_extract variable. */
function numOrVar(v: string, ctx: ParseCtx, signed: boolean): number | string | null {
  const t = v.trim();
  if (VAR_NAME.test(t)) return ctx.byteVars.has(t) ? t : null;
  return signed ? parseInt32(t, -65535, 65535) : parseUint(t, 65535);
}

type Field = 'offset' | 'depth' | 'distance' | 'within';

function positional(name: Field, signed: boolean): KeywordDef {
  return {
    name,
    kind: 'modifier',
    value: 'required',
    parse(v, ctx) {
      const c = lastContent(ctx, name);
      if (typeof c === 'string') return fail(c);
      const n = numOrVar(v!, ctx, signed);
      if (n === null)
        return fail(
          signed ? 'expected an integer or byte_extract variable' : 'expected 0..65535 or a byte_extract variable',
        );
      if (c[name] !== null) return fail(`${name} given twice for one content`);
      const absolute = name === 'offset' || name === 'depth';
      if (absolute && (c.distance !== null || c.within !== null))
        return fail(`${name} cannot be combined with distance/within`);
      if (!absolute && (c.offset !== null || c.depth !== null))
        return fail(`${name} cannot be combined with offset/depth`);
      if ((name === 'depth' || name === 'within') && typeof n === 'number' && n < c.bytes.length)
        return fail(`${name} ${n} is shorter than the pattern (${c.bytes.length} bytes)`);
      if (c.startswith && (name === 'depth' || name === 'offset')) return fail(`${name} cannot follow startswith`);
      c[name] = n;
      return ok(n);
    },
  };
}

function flag(name: 'nocase' | 'startswith' | 'endswith' | 'rawbytes'): KeywordDef {
  return {
    name,
    kind: 'modifier',
    value: 'none',
    parse(_v, ctx) {
      const c = lastContent(ctx, name);
      if (typeof c === 'string') return fail(c);
      if (name === 'startswith' && (c.offset !== null || c.depth !== null || c.distance !== null))
        return fail('startswith cannot be combined with offset/depth/distance');
      c[name] = true;
      return ok(true);
    },
  };
}

export const CONTENT_KEYWORDS: KeywordDef[] = [
  { name: 'content', kind: 'standalone', value: 'required', parse: parseContent },
  { name: 'uricontent', kind: 'standalone', value: 'required', parse: parseUricontent },
  flag('nocase'),
  flag('startswith'),
  flag('endswith'),
  flag('rawbytes'),
  positional('offset', false),
  positional('depth', false),
  positional('distance', true),
  positional('within', false),
  {
    // fast_pattern; fast_pattern:only; fast_pattern:<offset>,<length>
    name: 'fast_pattern',
    kind: 'modifier',
    value: 'optional',
    parse(v, ctx) {
      const c = lastContent(ctx, 'fast_pattern');
      if (typeof c === 'string') return fail(c);
      if (v === null) c.fastPattern = true;
      else if (v === 'only') c.fastPattern = 'only';
      else {
        const m = /^(\d+)\s*,\s*(\d+)$/.exec(v);
        if (!m) return fail('expected only or <offset>,<length>');
        const off = Number(m[1]);
        const len = Number(m[2]);
        if (len === 0 || off + len > c.bytes.length) return fail('chunk outside the pattern');
        c.fastPattern = [off, len];
      }
      return ok(c.fastPattern);
    },
  },
];
