/**
 * Address expressions of a rule header: `any`, IPv4/IPv6 addresses and CIDR blocks, IPv4 ranges
 * (`a-b`), `!` negation, `[...]` lists (nested), and `$VARIABLES` resolved from the address groups
 * with cycle detection.
 */
import { parseGroupExpr } from './vars.js';
import type { GroupExpr } from './vars.js';

/** A parsed address expression. IPv4 values are unsigned 32-bit numbers. */
type AddressLeaf =
  | { kind: 'ipv4'; net: number; prefix: number }
  | { kind: 'ipv4-range'; lo: number; hi: number }
  | { kind: 'ipv6'; words: [number, number, number, number]; prefix: number };

export type AddressExpr = GroupExpr<AddressLeaf>;

/** An IPv4 dotted quad as an unsigned number, else null. */
export function parseIpv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return null;
    n = n * 256 + o;
  }
  return n;
}

/** An IPv6 address (with `::` and an optional IPv4 tail) as four 32-bit words, else null. */
export function parseIpv6(s: string): [number, number, number, number] | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length < 2) return null;
  let text = s;
  const groups: number[] = [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes its two 16-bit groups.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const v4 = parseIpv4(tail[1]!);
    if (v4 === null) return null;
    text = text.slice(0, -tail[1]!.length) + (v4 >>> 16).toString(16) + ':' + (v4 & 0xffff).toString(16);
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const a = parse(halves[0]!);
  const b = halves.length === 2 ? parse(halves[1]!) : [];
  if (a === null || b === null) return null;
  if (halves.length === 2) {
    const fill = 8 - a.length - b.length;
    if (fill < 1) return null;
    groups.push(...a, ...new Array<number>(fill).fill(0), ...b);
  } else {
    if (a.length !== 8) return null;
    groups.push(...a);
  }
  if (groups.length !== 8) return null;
  const w = (i: number): number => ((groups[i]! << 16) | groups[i + 1]!) >>> 0;
  return [w(0), w(2), w(4), w(6)];
}

/** An address token that is not `!`, a list, a variable or `any`. */
function addressLeaf(t: string): AddressLeaf | string {
  const range = /^([\d.]+)\s*-\s*([\d.]+)$/.exec(t);
  if (range) {
    const lo = parseIpv4(range[1]!);
    const hi = parseIpv4(range[2]!);
    if (lo === null || hi === null || lo > hi) return `bad address range "${t}"`;
    return { kind: 'ipv4-range', lo, hi };
  }
  const slash = t.indexOf('/');
  const addr = slash < 0 ? t : t.slice(0, slash);
  const pfx = slash < 0 ? null : t.slice(slash + 1);
  const v4 = parseIpv4(addr);
  if (v4 !== null) {
    let prefix = 32;
    if (pfx !== null) {
      if (/^\d{1,2}$/.test(pfx) && Number(pfx) <= 32) prefix = Number(pfx);
      else {
        // A dotted netmask (255.255.0.0) is accepted when its ones are contiguous.
        const mask = parseIpv4(pfx);
        const bits = mask === null ? '' : mask.toString(2).padStart(32, '0');
        if (mask === null || !/^1*0*$/.test(bits)) return `bad IPv4 prefix in "${t}"`;
        prefix = bits.indexOf('0') < 0 ? 32 : bits.indexOf('0');
      }
    }
    const net = prefix === 0 ? 0 : (v4 & (0xffffffff << (32 - prefix))) >>> 0;
    return { kind: 'ipv4', net, prefix };
  }
  const v6 = parseIpv6(addr);
  if (v6 !== null) {
    let prefix = 128;
    if (pfx !== null) {
      if (!/^\d{1,3}$/.test(pfx) || Number(pfx) > 128) return `bad IPv6 prefix in "${t}"`;
      prefix = Number(pfx);
    }
    const words = v6.map((w, i) => {
      const bits = Math.max(0, Math.min(32, prefix - i * 32));
      return bits === 0 ? 0 : bits === 32 ? w : (w & (0xffffffff << (32 - bits))) >>> 0;
    }) as [number, number, number, number];
    return { kind: 'ipv6', words, prefix };
  }
  return `bad address "${t}"`;
}

/**
 * Parse an address expression, resolving `$VARS` from `groups`. Returns the expression or a
 * one-line reason (unknown variable, cycle, bad address, unbalanced brackets).
 */
export function parseAddress(expr: string, groups: Record<string, string>): AddressExpr | string {
  return parseGroupExpr(expr, groups, 'address', addressLeaf);
}
