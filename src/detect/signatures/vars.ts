/** Rule variables ($HOME_NET, $HTTP_PORTS, ...). */

/** Address and port groups, by name without the `$`. */
export interface RuleVars {
  addressGroups: Record<string, string>;
  portGroups: Record<string, string>;
}

/**
 * Suricata's default variables (suricata.yaml `vars`, Suricata 7), used under whatever the engine
 * configuration sets: ET Open refers to the server groups ($HTTP_SERVERS, $SQL_SERVERS, ...) too.
 */
export const SURICATA_DEFAULT_VARS: RuleVars = {
  addressGroups: {
    HOME_NET: '[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]',
    EXTERNAL_NET: '!$HOME_NET',
    HTTP_SERVERS: '$HOME_NET',
    SMTP_SERVERS: '$HOME_NET',
    SQL_SERVERS: '$HOME_NET',
    DNS_SERVERS: '$HOME_NET',
    TELNET_SERVERS: '$HOME_NET',
    AIM_SERVERS: '$EXTERNAL_NET',
    DC_SERVERS: '$HOME_NET',
    DNP3_SERVER: '$HOME_NET',
    DNP3_CLIENT: '$HOME_NET',
    MODBUS_CLIENT: '$HOME_NET',
    MODBUS_SERVER: '$HOME_NET',
    ENIP_CLIENT: '$HOME_NET',
    ENIP_SERVER: '$HOME_NET',
    // Snort 3's snort_defaults.lua (the Snort 3 community rules use it).
    SIP_SERVERS: '$HOME_NET',
  },
  portGroups: {
    HTTP_PORTS: '80',
    SHELLCODE_PORTS: '!80',
    ORACLE_PORTS: '1521',
    SSH_PORTS: '22',
    DNP3_PORTS: '20000',
    MODBUS_PORTS: '502',
    FILE_DATA_PORTS: '[$HTTP_PORTS,110,143]',
    FTP_PORTS: '21',
    GENEVE_PORTS: '6081',
    VXLAN_PORTS: '4789',
    TEREDO_PORTS: '3544',
    SIP_PORTS: '[5060,5061,5600]',
  },
};

/** Suricata's defaults overlaid with `vars` (the engine configuration's groups win). */
export function withDefaultVars(vars?: RuleVars): RuleVars {
  return {
    addressGroups: { ...SURICATA_DEFAULT_VARS.addressGroups, ...vars?.addressGroups },
    portGroups: { ...SURICATA_DEFAULT_VARS.portGroups, ...vars?.portGroups },
  };
}

/**
 * Split a `[a, b, [c, d]]` list body on top-level commas. Returns null on unbalanced brackets.
 */
export function splitList(s: string): string[] | null {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '[') depth++;
    else if (c === ']') {
      if (--depth < 0) return null;
    } else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (depth !== 0) return null;
  out.push(s.slice(start).trim());
  return out;
}

/** Nesting cap for lists and variables (a rule is an untrusted input). */
export const MAX_NESTING = 32;

/** The structure address and port expressions share; leaves differ. */
export type GroupExpr<L> =
  { kind: 'any' } | { kind: 'not'; expr: GroupExpr<L> } | { kind: 'list'; items: GroupExpr<L>[] } | L;

/**
 * Parse `!x`, `[a, b, ...]`, `$VAR` (resolved from `groups`, cycles reported) and `any`, handing
 * every other token to `leaf`. Returns the expression or a one-line reason. `what` names the
 * expression in messages ("address", "port").
 */
export function parseGroupExpr<L extends { kind: string }>(
  s: string,
  groups: Record<string, string>,
  what: string,
  leaf: (t: string) => L | string,
  seen: string[] = [],
): GroupExpr<L> | string {
  if (seen.length > MAX_NESTING) return `${what} expression nested too deeply`;
  const t = s.trim();
  if (t === '') return `empty ${what}`;
  if (t.startsWith('!')) {
    const inner = parseGroupExpr(t.slice(1), groups, what, leaf, [...seen, '!']);
    if (typeof inner === 'string') return inner;
    if (inner.kind === 'any') return '!any matches nothing';
    return { kind: 'not', expr: inner };
  }
  if (t.startsWith('[')) {
    if (!t.endsWith(']')) return `unbalanced brackets in "${t}"`;
    const parts = splitList(t.slice(1, -1));
    if (parts === null) return `unbalanced brackets in "${t}"`;
    const items: GroupExpr<L>[] = [];
    for (const p of parts) {
      const e = parseGroupExpr(p, groups, what, leaf, [...seen, '[']);
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
    if (val === undefined) return `unknown ${what} variable $${name}`;
    return parseGroupExpr(val, groups, what, leaf, [...seen, name]);
  }
  if (t === 'any') return { kind: 'any' };
  return leaf(t);
}
