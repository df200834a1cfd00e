/** Byte keywords: byte_test, byte_jump, byte_extract, byte_math, base64_decode. */
import { VAR_NAME, fail, ok, parseInt32, parseUint, splitArgs } from './common.js';
import type { KeywordDef, KwResult, ParseCtx } from './common.js';

/** Common trailing options of byte_test / byte_jump / byte_extract. */
interface ByteOpts {
  relative: boolean;
  endian: 'big' | 'little' | 'dce';
  string: 'hex' | 'dec' | 'oct' | null;
  bitmask: number | null;
  multiplier: number | null;
  align: number | null;
  fromBeginning: boolean;
  fromEnd: boolean;
  postOffset: number | null;
}

function parseOpts(args: string[], allowed: Set<string>): ByteOpts | string {
  const o: ByteOpts = {
    relative: false,
    endian: 'big',
    string: null,
    bitmask: null,
    multiplier: null,
    align: null,
    fromBeginning: false,
    fromEnd: false,
    postOffset: null,
  };
  for (const raw of args) {
    const [k, val, extra] = raw.split(/\s+/);
    if (k === undefined || extra !== undefined || !allowed.has(k)) return `unknown option "${raw}"`;
    switch (k) {
      case 'relative':
        o.relative = true;
        break;
      case 'big':
      case 'little':
      case 'dce':
        o.endian = k;
        break;
      case 'string':
        o.string = (val as ByteOpts['string']) ?? 'dec';
        if (o.string !== 'hex' && o.string !== 'dec' && o.string !== 'oct') return `bad string base "${val}"`;
        break;
      case 'hex':
      case 'dec':
      case 'oct':
        // Snort-style: `string,hex` as separate options.
        if (o.string === null) return `${k} needs string`;
        o.string = k;
        break;
      case 'bitmask':
        o.bitmask = val === undefined ? null : parseUint(val);
        if (o.bitmask === null) return 'bitmask needs a value';
        break;
      case 'multiplier':
        o.multiplier = val === undefined ? null : parseUint(val, 65535);
        if (o.multiplier === null) return 'multiplier needs a value';
        break;
      case 'align':
        o.align = val === undefined ? 4 : parseUint(val, 4);
        if (o.align === null) return 'bad align';
        break;
      case 'from_beginning':
        o.fromBeginning = true;
        break;
      case 'from_end':
        o.fromEnd = true;
        break;
      case 'post_offset':
        o.postOffset = val === undefined ? null : parseInt32(val);
        if (o.postOffset === null) return 'post_offset needs a value';
        break;
    }
    if (
      k !== 'string' &&
      k !== 'bitmask' &&
      k !== 'multiplier' &&
      k !== 'post_offset' &&
      k !== 'align' &&
      val !== undefined
    )
      return `option ${k} takes no value`;
  }
  return o;
}

/**
 * Byte count: at most 8 bytes as a binary number, 23 as a string (the longest octal string that fits
 * 64 bits, Suricata's limit), or a byte variable (checked when matching). 0 is only meaningful with
 * `string` (the number runs to the first non-digit), so callers decide about it.
 */
function nBytes(s: string | undefined, str: boolean, ctx: ParseCtx): number | string | null {
  if (s === undefined) return null;
  if (VAR_NAME.test(s)) return ctx.byteVars.has(s) ? s : null;
  return parseUint(s, str ? 23 : 8);
}

function offsetOrVar(s: string | undefined, ctx: ParseCtx, min = -65535, max = 65535): number | string | null {
  if (s === undefined) return null;
  if (VAR_NAME.test(s)) return ctx.byteVars.has(s) ? s : null;
  return parseInt32(s, min, max);
}

const TEST_OPTS = new Set(['relative', 'big', 'little', 'dce', 'string', 'hex', 'dec', 'oct', 'bitmask']);
const JUMP_OPTS = new Set([...TEST_OPTS, 'multiplier', 'align', 'from_beginning', 'from_end', 'post_offset']);
const EXTRACT_OPTS = new Set([...TEST_OPTS, 'multiplier', 'align']);

// byte_test:<bytes>,[!]<op>,<value>,<offset>[,options]
function byteTest(v: string | null, ctx: ParseCtx): KwResult {
  const a = splitArgs(v!);
  if (a.length < 4) return fail('expected <bytes>,<op>,<value>,<offset>[,...]');
  const opts = parseOpts(a.slice(4), TEST_OPTS);
  if (typeof opts === 'string') return fail(opts);
  const bytes = nBytes(a[0], opts.string !== null, ctx);
  // 0 bytes with `string`: the whole remaining buffer is the number (ET Open uses it).
  if (bytes === null || (bytes === 0 && opts.string === null)) return fail(`bad byte count "${a[0]}"`);
  // A lone `!` means "not equal" (Suricata and Snort).
  const m = /^(!?)\s*(<=|>=|<|>|=|&|\^)$/.exec(a[1] === '!' ? '!=' : a[1]!);
  if (!m) return fail(`bad operator "${a[1]}"`);
  const value = VAR_NAME.test(a[2]!)
    ? ctx.byteVars.has(a[2]!)
      ? a[2]!
      : null
    : parseUint(a[2]!, Number.MAX_SAFE_INTEGER);
  if (value === null) return fail(`bad value "${a[2]}"`);
  // Suricata reads byte_test's offset as any int32 (an offset past the data simply never matches).
  const offset = offsetOrVar(a[3], ctx, -0x80000000, 0x7fffffff);
  if (offset === null) return fail(`bad offset "${a[3]}"`);
  return ok({ bytes, negated: m[1] === '!', op: m[2], value, offset, ...opts, buffer: ctx.buffer });
}

// byte_jump:<bytes>,<offset>[,options]
function byteJump(v: string | null, ctx: ParseCtx): KwResult {
  const a = splitArgs(v!);
  if (a.length < 2) return fail('expected <bytes>,<offset>[,...]');
  const opts = parseOpts(a.slice(2), JUMP_OPTS);
  if (typeof opts === 'string') return fail(opts);
  const bytes = nBytes(a[0], opts.string !== null, ctx);
  // As for byte_test, 0 with `string` reads the digits up to the first non-digit.
  if (bytes === null || (bytes === 0 && opts.string === null)) return fail(`bad byte count "${a[0]}"`);
  const offset = offsetOrVar(a[1], ctx);
  if (offset === null) return fail(`bad offset "${a[1]}"`);
  if (opts.fromBeginning && opts.fromEnd) return fail('from_beginning conflicts with from_end');
  return ok({ bytes, offset, ...opts, buffer: ctx.buffer });
}

// byte_extract:<bytes>,<offset>,<name>[,options]
function byteExtract(v: string | null, ctx: ParseCtx): KwResult {
  const a = splitArgs(v!);
  if (a.length < 3) return fail('expected <bytes>,<offset>,<name>[,...]');
  const opts = parseOpts(a.slice(3), EXTRACT_OPTS);
  if (typeof opts === 'string') return fail(opts);
  const bytes = nBytes(a[0], opts.string !== null, ctx);
  if (bytes === null || bytes === 0 || typeof bytes === 'string') return fail(`bad byte count "${a[0]}"`);
  const offset = parseInt32(a[1]!, -65535, 65535);
  if (offset === null) return fail(`bad offset "${a[1]}"`);
  const name = a[2]!;
  if (!VAR_NAME.test(name)) return fail(`bad variable name "${name}"`);
  ctx.byteVars.add(name);
  return ok({ bytes, offset, name, ...opts, buffer: ctx.buffer });
}

/** byte_math operators. */
const MATH_OPS = new Set(['+', '-', '*', '/', '<<', '>>']);

/**
 * byte_math:bytes N, offset N, oper OP, rvalue N|var, result var[, relative][, endian big|little|dce]
 * [, dce][, string hex|dec|oct][, bitmask N]. Named fields in any order (Suricata's parser). `result`
 * defines a byte variable for the options after it.
 */
function byteMath(v: string | null, ctx: ParseCtx): KwResult {
  const f = new Map<string, string | null>();
  for (const p of splitArgs(v!)) {
    const m = /^([a-z_]+)(?:\s+(\S+))?$/.exec(p);
    if (!m) return fail(`bad option "${p}"`);
    if (f.has(m[1]!)) return fail(`${m[1]} given twice`);
    f.set(m[1]!, m[2] ?? null);
  }
  for (const k of f.keys())
    if (!['bytes', 'offset', 'oper', 'rvalue', 'result', 'relative', 'endian', 'dce', 'string', 'bitmask'].includes(k))
      return fail(`unknown option "${k}"`);
  for (const k of ['bytes', 'offset', 'oper', 'rvalue', 'result'])
    if (f.get(k) === undefined || f.get(k) === null) return fail(`missing ${k}`);
  for (const k of ['relative', 'dce'])
    if (f.get(k) !== undefined && f.get(k) !== null) return fail(`${k} takes no value`);
  const bv = f.get('bytes')!;
  const bytes = VAR_NAME.test(bv) ? (ctx.byteVars.has(bv) ? bv : null) : parseUint(bv, 10);
  if (bytes === null || bytes === 0) return fail(`bad byte count "${bv}" (1..10 or a byte variable)`);
  const offset = parseInt32(f.get('offset')!, -65535, 65535);
  if (offset === null) return fail(`bad offset "${f.get('offset')}"`);
  const oper = f.get('oper')!;
  if (!MATH_OPS.has(oper)) return fail(`bad operator "${oper}"`);
  if ((oper === '<<' || oper === '>>') && typeof bytes === 'number' && bytes > 4)
    return fail('shifts take at most 4 bytes');
  const rv = f.get('rvalue')!;
  const rvalue = VAR_NAME.test(rv) ? (ctx.byteVars.has(rv) ? rv : null) : parseUint(rv);
  if (rvalue === null) return fail(`bad rvalue "${rv}" (0..4294967295 or a byte variable)`);
  const result = f.get('result')!;
  if (!VAR_NAME.test(result)) return fail(`bad variable name "${result}"`);
  let endian: 'big' | 'little' | 'dce' = 'big';
  const e = f.get('endian');
  if (e !== undefined) {
    if (e !== 'big' && e !== 'little' && e !== 'dce') return fail(`bad endian "${e ?? ''}"`);
    endian = e;
  }
  if (f.has('dce')) {
    if (e !== undefined) return fail('dce conflicts with endian');
    endian = 'dce';
  }
  let string: 'hex' | 'dec' | 'oct' | null = null;
  if (f.has('string')) {
    const b = f.get('string');
    if (b !== 'hex' && b !== 'dec' && b !== 'oct') return fail(`bad string base "${b ?? ''}"`);
    string = b;
  }
  let bitmask: number | null = null;
  if (f.has('bitmask')) {
    // Suricata reads the mask as hex with or without 0x.
    const b = f.get('bitmask') ?? '';
    bitmask = /^(0x)?[0-9a-f]{1,8}$/i.test(b) ? parseInt(b.replace(/^0x/i, ''), 16) : null;
    if (bitmask === null) return fail(`bad bitmask "${b}"`);
  }
  ctx.byteVars.add(result);
  return ok({
    bytes,
    offset,
    oper,
    rvalue,
    result,
    relative: f.has('relative'),
    endian,
    string,
    bitmask,
    buffer: ctx.buffer,
  });
}

// base64_decode[:bytes N][,offset N][,relative]
function base64Decode(v: string | null, ctx: ParseCtx): KwResult {
  let bytes: number | null = null;
  let offset = 0;
  let relative = false;
  if (v !== null) {
    for (const o of splitArgs(v)) {
      const [k, val, extra] = o.split(/\s+/);
      if (extra !== undefined) return fail(`bad option "${o}"`);
      if (k === 'relative' && val === undefined) relative = true;
      else if ((k === 'bytes' || k === 'offset') && val !== undefined) {
        const n = parseUint(val, 65535);
        if (n === null) return fail(`bad ${k} value`);
        if (k === 'bytes') bytes = n;
        else offset = n;
      } else return fail(`unknown option "${o}"`);
    }
  }
  return ok({ bytes, offset, relative, buffer: ctx.buffer });
}

export const BYTE_KEYWORDS: KeywordDef[] = [
  { name: 'byte_test', kind: 'standalone', value: 'required', parse: byteTest },
  { name: 'byte_jump', kind: 'standalone', value: 'required', parse: byteJump },
  { name: 'byte_extract', kind: 'standalone', value: 'required', parse: byteExtract },
  { name: 'byte_math', kind: 'standalone', value: 'required', parse: byteMath },
  { name: 'base64_decode', kind: 'standalone', value: 'optional', parse: base64Decode },
];
