/**
 * Content inspection of one buffer: the ordered content / pcre / byte_* / isdataat / bsize
 * operations a rule applies to a buffer, with Suricata's semantics for absolute (offset, depth) and
 * relative (distance, within, `R`, `relative`) positions. When a later relative operation fails, an
 * earlier content or pcre is retried at its next occurrence (as Suricata's recursive inspection
 * does), bounded by RECURSION_LIMIT steps per inspection.
 */

/** A number, or the name of a byte_extract / byte_math variable. */
export type NumOrVar = number | string;

export interface ContentOp {
  k: 'content';
  /** Pattern bytes (lowercased when nocase). */
  pat: Buffer;
  nocase: boolean;
  negated: boolean;
  offset: NumOrVar | null;
  depth: NumOrVar | null;
  distance: NumOrVar | null;
  within: NumOrVar | null;
  /** Relative to the previous match (distance or within given). */
  relative: boolean;
  startswith: boolean;
  endswith: boolean;
}

export interface PcreOp {
  k: 'pcre';
  /** Captures logged with the alert: group (number or name) -> key, by scope (alert context, flowvar, pktvar). */
  alertCaps: { group: number | string; key: string; scope: 'alert' | 'flow' | 'pkt' }[];
  /** Compiled with the `g` flag so lastIndex selects the start. */
  re: RegExp;
  negated: boolean;
  relative: boolean;
}

export interface ByteTestOp {
  k: 'byte_test';
  bytes: NumOrVar;
  negated: boolean;
  op: string;
  value: NumOrVar;
  offset: NumOrVar;
  relative: boolean;
  little: boolean;
  string: 'hex' | 'dec' | 'oct' | null;
  bitmask: number | null;
}

export interface ByteJumpOp {
  k: 'byte_jump';
  bytes: NumOrVar;
  offset: NumOrVar;
  relative: boolean;
  little: boolean;
  string: 'hex' | 'dec' | 'oct' | null;
  bitmask: number | null;
  multiplier: number;
  align: boolean;
  fromBeginning: boolean;
  fromEnd: boolean;
  postOffset: number;
}

export interface ByteExtractOp {
  k: 'byte_extract';
  bytes: number;
  offset: number;
  name: string;
  relative: boolean;
  little: boolean;
  string: 'hex' | 'dec' | 'oct' | null;
  bitmask: number | null;
  multiplier: number;
  align: boolean;
}

export interface ByteMathOp {
  k: 'byte_math';
  bytes: NumOrVar;
  offset: number;
  oper: string;
  rvalue: NumOrVar;
  result: string;
  relative: boolean;
  little: boolean;
  string: 'hex' | 'dec' | 'oct' | null;
  bitmask: number | null;
}

export interface IsDataAtOp {
  k: 'isdataat';
  value: NumOrVar;
  negated: boolean;
  relative: boolean;
}

export interface SizeOp {
  k: 'bsize';
  op: string;
  a: number;
  b: number;
}

export interface Base64DecodeOp {
  k: 'base64_decode';
  bytes: number | null;
  offset: number;
  relative: boolean;
}

export type InspectOp =
  | ContentOp
  | PcreOp
  | ByteTestOp
  | ByteJumpOp
  | ByteExtractOp
  | ByteMathOp
  | IsDataAtOp
  | SizeOp
  | Base64DecodeOp
  | DatasetOp;

/** `dataset`: the whole buffer looked up in (or added to) a named set (src/detect/engine/datasets.ts). */
export interface DatasetOp {
  k: 'dataset';
  cmd: 'isset' | 'isnotset' | 'set' | 'unset';
  set: { has(hex: string): boolean; add(hex: string): boolean; remove(hex: string): boolean };
}

/** Steps (content/pcre attempts) allowed per inspection before giving up (Suricata: inspection-recursion-limit 3000). */
export const RECURSION_LIMIT = 3000;

/** Per-inspection state: byte variables and the step budget. */
export class InspectState {
  vars = new Map<string, number>();
  steps = 0;
  /** Output of base64_decode, for base64_data. */
  b64: Buffer | null = null;
  /** pcre captures for the alert's `context` (set by the last matching pcre). */
  context: Record<string, string> | null = null;
  /** pcre captures stored as flow / packet variables (EVE alert metadata.flowvars / pktvars). */
  flowvars: Record<string, string>[] | null = null;
  pktvars: Record<string, string>[] | null = null;
  /** The latin1 text of the buffer (for pcre), built on first use. */
  private text: string | null = null;
  private textOf: Buffer | null = null;
  /** Lowercased copy of the buffer (for nocase contents), built on first use. */
  private lower: Buffer | null = null;
  private lowerOf: Buffer | null = null;

  reset(): void {
    // Map.clear allocates a fresh table even when empty; this runs for every rule evaluated.
    if (this.vars.size !== 0) this.vars.clear();
    this.steps = 0;
    this.b64 = null;
    this.context = null;
    this.flowvars = null;
    this.pktvars = null;
    this.text = null;
    this.textOf = null;
    this.lower = null;
    this.lowerOf = null;
  }

  textFor(buf: Buffer): string {
    if (this.textOf !== buf) {
      this.text = buf.toString('latin1', 0, buf.length);
      this.textOf = buf;
    }
    return this.text!;
  }

  lowerFor(buf: Buffer): Buffer {
    if (this.lowerOf !== buf) {
      this.lower = toLower(buf);
      this.lowerOf = buf;
    }
    return this.lower!;
  }
}

const LOWER = new Uint8Array(256);
for (let i = 0; i < 256; i++) LOWER[i] = i >= 65 && i <= 90 ? i + 32 : i;

export function toLower(b: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(b.length);
  for (let i = 0; i < b.length; i++) out[i] = LOWER[b[i]!]!;
  return out;
}

function num(v: NumOrVar | null, st: InspectState): number | null {
  if (v === null) return null;
  if (typeof v === 'number') return v;
  return st.vars.get(v) ?? null;
}

function compareU(op: string, x: number, a: number, b: number): boolean {
  switch (op) {
    case '=':
      return x === a;
    case '!=':
      return x !== a;
    case '<':
      return x < a;
    case '>':
      return x > a;
    case '<=':
      return x <= a;
    case '>=':
      return x >= a;
    case '<>':
      return x > a && x < b;
    default:
      return false;
  }
}
export { compareU };

/** Read `bytes` at `pos` as a number (binary or ASCII), or null when out of bounds / not a number. */
function readValue(
  buf: Buffer,
  pos: number,
  bytes: number,
  little: boolean,
  str: 'hex' | 'dec' | 'oct' | null,
  bitmask: number | null,
): number | null {
  if (pos < 0) return null;
  let n: number;
  if (str !== null) {
    // bytes 0 (byte_test with string): the rest of the buffer.
    const end = bytes === 0 ? buf.length : pos + bytes;
    if (end > buf.length || end <= pos) return null;
    const s = buf.toString('latin1', pos, end);
    const re = str === 'dec' ? /^[0-9]+/ : str === 'hex' ? /^[0-9a-fA-F]+/ : /^[0-7]+/;
    const m = re.exec(s);
    if (!m) return null;
    n = parseInt(m[0], str === 'dec' ? 10 : str === 'hex' ? 16 : 8);
    if (!Number.isFinite(n)) return null;
  } else {
    if (pos + bytes > buf.length) return null;
    n = 0;
    if (little) for (let i = bytes - 1; i >= 0; i--) n = n * 256 + buf[pos + i]!;
    else for (let i = 0; i < bytes; i++) n = n * 256 + buf[pos + i]!;
  }
  if (bitmask !== null && bitmask !== 0) {
    n = Number(BigInt(n) & BigInt(bitmask));
    // Suricata shifts the masked value right by the mask's trailing zero bits.
    let m = bitmask;
    while ((m & 1) === 0 && m > 0) {
      n = Math.floor(n / 2);
      m = Math.floor(m / 2);
    }
  }
  return n;
}

function byteCompare(op: string, x: number, v: number): boolean {
  switch (op) {
    case '=':
      return x === v;
    case '<':
      return x < v;
    case '>':
      return x > v;
    case '<=':
      return x <= v;
    case '>=':
      return x >= v;
    case '&':
      return Number(BigInt(x) & BigInt(v)) !== 0;
    case '^':
      return Number(BigInt(x) ^ BigInt(v)) !== 0;
    default:
      return false;
  }
}

/** Find `pat` in hay[from, to) (the whole match inside), -1 when absent. */
function find(hay: Buffer, pat: Buffer, from: number, to: number): number {
  if (from < 0) from = 0;
  if (to > hay.length) to = hay.length;
  if (to - from < pat.length) return -1;
  if (pat.length === 0) return from;
  return (to === hay.length ? hay : hay.subarray(0, to)).indexOf(pat, from);
}

/** Does every later op need this one's position (so retrying it at the next occurrence can help)? */
export function hasRelativeAfter(ops: readonly InspectOp[], i: number): boolean {
  for (let j = i + 1; j < ops.length; j++) {
    const o = ops[j]!;
    if ('relative' in o && o.relative) return true;
  }
  return false;
}

/**
 * Run ops[i..] over `buf`, `prev` being the end of the previous match (the anchor of relative
 * operations). True when all hold.
 */
export function inspect(ops: readonly InspectOp[], i: number, buf: Buffer, prev: number, st: InspectState): boolean {
  const len = buf.length;
  for (; i < ops.length; i++) {
    const op = ops[i]!;
    switch (op.k) {
      case 'content': {
        if (++st.steps > RECURSION_LIMIT) return false;
        let start: number;
        let end: number;
        if (op.startswith) {
          start = 0;
          end = op.pat.length;
        } else if (op.relative) {
          const dist = num(op.distance, st) ?? 0;
          const within = num(op.within, st);
          start = prev + dist;
          end = within === null ? len : prev + dist + within;
          if (start < 0) start = 0;
        } else {
          const off = num(op.offset, st) ?? 0;
          const depth = num(op.depth, st);
          start = off;
          end = depth === null ? len : off + depth;
        }
        if (end > len) end = len;
        const hay = op.nocase ? st.lowerFor(buf) : buf;
        if (op.endswith) {
          const at = len - op.pat.length;
          const hit =
            at >= start && at + op.pat.length <= end && at >= 0 && hay.compare(op.pat, 0, op.pat.length, at, len) === 0;
          if (op.negated) {
            if (hit) return false;
            continue;
          }
          if (!hit) return false;
          prev = len;
          continue;
        }
        if (op.negated) {
          if (find(hay, op.pat, start, end) >= 0) return false;
          continue;
        }
        const retry = hasRelativeAfter(ops, i);
        let from = start;
        for (;;) {
          const at = find(hay, op.pat, from, end);
          if (at < 0) return false;
          if (!retry) {
            prev = at + op.pat.length;
            break;
          }
          if (inspect(ops, i + 1, buf, at + op.pat.length, st)) return true;
          if (st.steps > RECURSION_LIMIT) return false;
          if (++st.steps > RECURSION_LIMIT) return false;
          from = at + 1;
        }
        continue;
      }
      case 'pcre': {
        if (++st.steps > RECURSION_LIMIT) return false;
        const text = st.textFor(buf);
        const base = op.relative ? Math.min(prev, len) : 0;
        const subject = base === 0 ? text : text.slice(base);
        const re = op.re;
        if (op.negated) {
          re.lastIndex = 0;
          if (re.test(subject)) return false;
          continue;
        }
        const retry = hasRelativeAfter(ops, i);
        let from = 0;
        for (;;) {
          re.lastIndex = from;
          const m = re.exec(subject);
          if (m === null) return false;
          const endAt = base + m.index + m[0].length;
          if (op.alertCaps.length > 0) {
            for (const c of op.alertCaps) {
              const v = typeof c.group === 'number' ? m[c.group] : m.groups?.[c.group];
              if (v === undefined) continue;
              if (c.scope === 'alert') (st.context ??= {})[c.key] = v;
              else if (c.scope === 'flow') (st.flowvars ??= []).push({ [c.key]: v });
              else (st.pktvars ??= []).push({ [c.key]: v });
            }
          }
          if (!retry) {
            prev = endAt;
            break;
          }
          if (inspect(ops, i + 1, buf, endAt, st)) return true;
          if (++st.steps > RECURSION_LIMIT) return false;
          from = m.index + 1;
          if (from > subject.length) return false;
        }
        continue;
      }
      case 'byte_test': {
        const off = num(op.offset, st);
        const v = num(op.value, st);
        const nb = num(op.bytes, st);
        if (off === null || v === null || nb === null || nb > 10) return false;
        const pos = (op.relative ? prev : 0) + off;
        const x = readValue(buf, pos, nb, op.little, op.string, op.bitmask);
        if (x === null) return false;
        if (byteCompare(op.op, x, v) === op.negated) return false;
        continue;
      }
      case 'byte_jump': {
        const off = num(op.offset, st);
        const nb = num(op.bytes, st);
        if (off === null || nb === null || nb > 10) return false;
        const pos = (op.relative ? prev : 0) + off;
        let x = readValue(buf, pos, nb, op.little, op.string, op.bitmask);
        if (x === null) return false;
        x *= op.multiplier;
        if (op.align && x % 4 !== 0) x += 4 - (x % 4);
        let to: number;
        if (op.fromBeginning) to = x;
        else if (op.fromEnd) to = len + x;
        else to = pos + nb + x;
        to += op.postOffset;
        if (to < 0 || to > len) return false;
        prev = to;
        continue;
      }
      case 'byte_extract': {
        const pos = (op.relative ? prev : 0) + op.offset;
        let x = readValue(buf, pos, op.bytes, op.little, op.string, op.bitmask);
        if (x === null) return false;
        x *= op.multiplier;
        if (op.align && x % 4 !== 0) x += 4 - (x % 4);
        st.vars.set(op.name, x);
        prev = pos + op.bytes;
        continue;
      }
      case 'byte_math': {
        const pos = (op.relative ? prev : 0) + op.offset;
        const nb = num(op.bytes, st);
        if (nb === null || nb > 10) return false;
        const x = readValue(buf, pos, nb, op.little, op.string, op.bitmask);
        const r = num(op.rvalue, st);
        if (x === null || r === null) return false;
        let v: number;
        switch (op.oper) {
          case '+':
            v = x + r;
            break;
          case '-':
            v = x - r;
            break;
          case '*':
            v = x * r;
            break;
          case '/':
            if (r === 0) return false;
            v = Math.floor(x / r);
            break;
          case '<<':
            v = Number((BigInt(x) << BigInt(r)) & 0xffffffffn);
            break;
          case '>>':
            v = Number(BigInt(x) >> BigInt(r));
            break;
          default:
            return false;
        }
        // Results are unsigned 32-bit, as in Suricata (0 - 1 wraps).
        st.vars.set(op.result, Number(BigInt.asUintN(32, BigInt(Math.trunc(v)))));
        continue;
      }
      case 'isdataat': {
        const n = num(op.value, st);
        if (n === null) return false;
        // Suricata: relative checks prev + N <= length, absolute checks N < length.
        const has = op.relative ? prev + n <= len : n < len;
        if (has === op.negated) return false;
        continue;
      }
      case 'bsize':
        if (!compareU(op.op, len, op.a, op.b)) return false;
        continue;
      case 'dataset': {
        const hex = buf.toString('hex');
        const hit =
          op.cmd === 'isset'
            ? op.set.has(hex)
            : op.cmd === 'isnotset'
              ? !op.set.has(hex)
              : op.cmd === 'set'
                ? op.set.add(hex)
                : op.set.remove(hex);
        if (!hit) return false;
        continue;
      }
      case 'base64_decode': {
        const from = (op.relative ? prev : 0) + op.offset;
        if (from >= len) return false;
        let end = op.bytes === null ? len : Math.min(len, from + op.bytes);
        // Decode up to the first byte outside the base64 alphabet (Suricata stops there too).
        let j = from;
        while (j < end && isB64(buf[j]!)) j++;
        end = j;
        st.b64 = Buffer.from(buf.toString('latin1', from, end), 'base64');
        continue;
      }
    }
  }
  return true;
}

function isB64(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 61;
}
