/**
 * Port expressions of a rule header: `any`, `N`, ranges `a:b`, `:b`, `a:`, `!` negation, `[...]`
 * lists (nested), and `$VARIABLES` from the port groups with cycle detection.
 */
import { parseGroupExpr } from './vars.js';
import type { GroupExpr } from './vars.js';

/** A parsed port expression; a single port is a range with lo === hi. */
type PortLeaf = { kind: 'range'; lo: number; hi: number };

export type PortExpr = GroupExpr<PortLeaf>;

function port(s: string): number | null {
  if (!/^\d{1,5}$/.test(s)) return null;
  const n = Number(s);
  return n <= 65535 ? n : null;
}

/** A port token that is not `!`, a list, a variable or `any`: `80`, `1024:`, `:1023`, `1:9`. */
function portLeaf(t: string): PortLeaf | string {
  const colon = t.indexOf(':');
  if (colon < 0) {
    const p = port(t);
    return p === null ? `bad port "${t}"` : { kind: 'range', lo: p, hi: p };
  }
  const a = t.slice(0, colon).trim();
  const b = t.slice(colon + 1).trim();
  const lo = a === '' ? 0 : port(a);
  const hi = b === '' ? 65535 : port(b);
  if (lo === null || hi === null || (a === '' && b === '')) return `bad port range "${t}"`;
  if (lo > hi) return `empty port range "${t}"`;
  return { kind: 'range', lo, hi };
}

/** Parse a port expression, resolving `$VARS` from `groups`; returns it or a one-line reason. */
export function parsePorts(expr: string, groups: Record<string, string>): PortExpr | string {
  return parseGroupExpr(expr, groups, 'port', portLeaf);
}
