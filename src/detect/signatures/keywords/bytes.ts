/** Byte keywords: byte_test, byte_jump, byte_extract, base64_decode. */
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

function nBytes(s: string | undefined, str: boolean): number | null {
  return s === undefined ? null : parseUint(s, str ? 10 : 8);
}

function offsetOrVar(s: string | undefined, ctx: ParseCtx): number | string | null {
  if (s === undefined) return null;
  if (VAR_NAME.test(s)) return ctx.byteVars.has(s) ? s : null;
  return parseInt32(s, -65535, 65535);
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
  const bytes = nBytes(a[0], opts.string !== null);
  // 0 bytes with `string`: the whole remaining buffer is the number (ET Open uses it).
  if (bytes === null || (bytes === 0 && opts.string === null)) return fail(`bad byte count "${a[0]}"`);
  const m = /^(!?)\s*(<=|>=|<|>|=|&|\^)$/.exec(a[1]!);
  if (!m) return fail(`bad operator "${a[1]}"`);
  const value = VAR_NAME.test(a[2]!)
    ? ctx.byteVars.has(a[2]!)
      ? a[2]!
      : null
    : parseUint(a[2]!, Number.MAX_SAFE_INTEGER);
  if (value === null) return fail(`bad value "${a[2]}"`);
  const offset = offsetOrVar(a[3], ctx);
  if (offset === null) return fail(`bad offset "${a[3]}"`);
  return ok({ bytes, negated: m[1] === '!', op: m[2], value, offset, ...opts, buffer: ctx.buffer });
}

// byte_jump:<bytes>,<offset>[,options]
function byteJump(v: string | null, ctx: ParseCtx): KwResult {
  const a = splitArgs(v!);
  if (a.length < 2) return fail('expected <bytes>,<offset>[,...]');
  const opts = parseOpts(a.slice(2), JUMP_OPTS);
  if (typeof opts === 'string') return fail(opts);
  const bytes = nBytes(a[0], opts.string !== null);
  if (bytes === null || bytes === 0) return fail(`bad byte count "${a[0]}"`);
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
  const bytes = nBytes(a[0], opts.string !== null);
  if (bytes === null || bytes === 0) return fail(`bad byte count "${a[0]}"`);
  const offset = parseInt32(a[1]!, -65535, 65535);
  if (offset === null) return fail(`bad offset "${a[1]}"`);
  const name = a[2]!;
  if (!VAR_NAME.test(name)) return fail(`bad variable name "${name}"`);
  ctx.byteVars.add(name);
  return ok({ bytes, offset, name, ...opts, buffer: ctx.buffer });
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
  { name: 'base64_decode', kind: 'standalone', value: 'optional', parse: base64Decode },
];
