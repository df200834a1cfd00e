/**
 * Port expressions of a rule header: `any`, `N`, ranges `a:b`, `:b`, `a:`, `!` negation, `[...]`
 * lists (nested), and `$VARIABLES` from the port groups with cycle detection.
 */
import { MAX_NESTING, splitList } from './vars.js';

/** A parsed port expression; a single port is a range with lo === hi. */
export type PortExpr =
  | { kind: 'any' }
  | { kind: 'range'; lo: number; hi: number }
  | { kind: 'not'; expr: PortExpr }
  | { kind: 'list'; items: PortExpr[] };

function port(s: string): number | null {
  if (!/^\d{1,5}$/.test(s)) return null;
  const n = Number(s);
  return n <= 65535 ? n : null;
}

function parseOne(s: string, groups: Record<string, string>, seen: string[]): PortExpr | string {
  if (seen.length > MAX_NESTING) return 'port expression nested too deeply';
  const t = s.trim();
  if (t === '') return 'empty port';
  if (t.startsWith('!')) {
    const inner = parseOne(t.slice(1), groups, [...seen, '!']);
    if (typeof inner === 'string') return inner;
    if (inner.kind === 'any') return '!any matches nothing';
    return { kind: 'not', expr: inner };
  }
  if (t.startsWith('[')) {
    if (!t.endsWith(']')) return `unbalanced brackets in "${t}"`;
    const parts = splitList(t.slice(1, -1));
    if (parts === null) return `unbalanced brackets in "${t}"`;
    const items: PortExpr[] = [];
    for (const p of parts) {
      const e = parseOne(p, groups, [...seen, '[']);
      if (typeof e === 'string') return e;
      items.push(e);
    }
    return { kind: 'list', items };
  }
  if (t.startsWith('$')) {
    const name = t.slice(1);
    if (seen.includes(name))
      return `variable cycle: $${[...seen.filter((x) => x !== '[' && x !== '!'), name].join(' -> $')}`;
    const val = groups[name];
    if (val === undefined) return `unknown port variable $${name}`;
    return parseOne(val, groups, [...seen, name]);
  }
  if (t === 'any') return { kind: 'any' };
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
  return parseOne(expr, groups, []);
}
